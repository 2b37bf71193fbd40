/*
 * Live camera video in the browser: WebRTC from the camera gateway's `/media` namespace.
 *
 *   var player = CommandHall.cameraPlayer.play(video, cameraId, {onStatus, strings});
 *   player.stop();
 *
 * `onStatus(kind, text)` hears every change: kind "connecting", "playing", "offline" or
 * "error", text a sentence ready to show (from `strings`, the page's bundle with the
 * `camera.player.*` keys, else Chinese). The video is H.264 as the camera sends it: the
 * gateway never re-encodes, so the offer asks for H.264 only.
 *
 * A player recovers by itself. It watches again, after 2, 4, 8 ... at most 30 s, when the
 * connection fails, when the gateway says the camera went offline, when no frame has arrived
 * for STALL_MS, and after the socket reconnects (a restarted server forgot every viewer).
 * All players of a page share one socket; the socket opens with the first player.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var NAMESPACE = "/media";
  var ACK_MS = 35000; // the gateway gathers ICE before it answers (up to 30 s with TURN)
  var STALL_MS = 10000;
  var CHECK_MS = 2000;
  var RETRY_MS = [2000, 4000, 8000, 16000, 30000];
  var DISCONNECTED_GRACE_MS = 5000; // ICE "disconnected" often heals by itself

  var DEFAULT_STRINGS = {
    "camera.player.connecting": "正在连接视频…",
    "camera.player.playing": "实时",
    "camera.player.offline": "视频中断，{s} 秒后重连",
    "camera.player.stalled": "画面停止，正在重连",
    "camera.player.error": "无法播放：{message}",
    "camera.player.unsupported": "此浏览器不支持 WebRTC 视频",
    "camera.player.nosocket": "视频服务未连接",
  };

  function text(strings, key, values) {
    var s = (strings && strings[key]) || DEFAULT_STRINGS[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      s = s.split("{" + name + "}").join(String(values[name]));
    });
    return s;
  }

  /* ---- the shared socket ---- */

  var link = {
    socket: null,
    players: [],

    open: function () {
      if (this.socket) {
        return this.socket;
      }
      var token = CH.screenToken ? CH.screenToken() : null;
      var self = this;
      var socket = window.io(NAMESPACE, {
        transports: ["websocket"],
        auth: function (cb) {
          cb(token ? { token: token } : {});
        },
      });
      var connectedBefore = false;
      socket.on("connect", function () {
        // A reconnect means a server that may have forgotten this page's viewers; on the
        // first connect only the players that found no socket yet have to start over.
        self.players.forEach(function (p) {
          if (connectedBefore || p.waitingSocket) {
            p.restart(0);
          }
        });
        connectedBefore = true;
      });
      socket.on("status", function (msg) {
        (msg && msg.cameras ? msg.cameras : []).forEach(function (s) {
          self.players.forEach(function (p) {
            if (p.cameraId === s.camera_id) {
              p.cameraState(s);
            }
          });
        });
      });
      // The namespace says why it refuses a connection ({code, message}) before it does.
      socket.on("error", function (err) {
        self.refused(err && err.message);
      });
      socket.on("connect_error", function (err) {
        self.refused(err && err.message);
      });
      this.socket = socket;
      return socket;
    },

    refused: function (message) {
      this.players.forEach(function (p) {
        p.report("error", text(p.strings, "camera.player.error", { message: message || "?" }));
      });
    },

    add: function (player) {
      this.players.push(player);
      return this.open();
    },

    remove: function (player) {
      this.players = this.players.filter(function (p) {
        return p !== player;
      });
      if (!this.players.length && this.socket) {
        this.socket.close();
        this.socket = null;
      }
    },
  };

  /* ---- one player ---- */

  function Player(video, cameraId, options) {
    this.video = video;
    this.cameraId = Number(cameraId);
    this.onStatus = options.onStatus || function () {};
    this.strings = options.strings || null;
    this.pc = null;
    this.viewerId = null;
    this.attempt = 0; // consecutive failures, for the back-off
    this.retryTimer = null;
    this.checkTimer = null;
    this.lastFrameAt = 0;
    this.frames = 0; // frames shown over every watch of this player
    this.shown = 0; // of those, frames the current stream has shown
    this.kind = null;
    this.stopped = false;
    this.waitingSocket = false; // its offer was ready before the socket was
    this.generation = 0; // which watch a callback belongs to
    this.socket = link.add(this);
    var self = this;
    this.checkTimer = window.setInterval(function () {
      self.check();
    }, CHECK_MS);
    this.watch();
  }

  Player.prototype.report = function (kind, message) {
    if (this.stopped) {
      return;
    }
    this.kind = kind;
    this.video.setAttribute("data-player", kind);
    try {
      this.onStatus(kind, message);
    } catch (e) {
      if (window.console) {
        console.error("CommandHall camera player: onStatus failed", e);
      }
    }
  };

  Player.prototype.watch = function () {
    if (this.stopped) {
      return;
    }
    if (!window.RTCPeerConnection) {
      this.report("error", text(this.strings, "camera.player.unsupported"));
      return;
    }
    var self = this;
    var generation = ++this.generation;
    this.hangUp();
    this.report("connecting", text(this.strings, "camera.player.connecting"));
    var pc = (this.pc = new window.RTCPeerConnection());
    var transceiver = pc.addTransceiver("video", { direction: "recvonly" });
    preferH264(transceiver);
    pc.ontrack = function (event) {
      if (generation === self.generation) {
        self.video.srcObject = new window.MediaStream([event.track]);
        self.shown = 0; // a new stream counts from nothing
        self.countFrames(generation);
      }
    };
    pc.onconnectionstatechange = function () {
      if (generation !== self.generation) {
        return;
      }
      if (pc.connectionState === "failed") {
        self.restart();
      } else if (pc.connectionState === "disconnected") {
        window.setTimeout(function () {
          if (generation === self.generation && pc.connectionState === "disconnected") {
            self.restart();
          }
        }, DISCONNECTED_GRACE_MS);
      }
    };
    pc.createOffer()
      .then(function (offer) {
        return pc.setLocalDescription(offer);
      })
      .then(function () {
        return iceGathered(pc);
      })
      .then(function () {
        if (generation !== self.generation) {
          return null;
        }
        if (!self.socket.connected) {
          // The socket's "connect" handler watches again once it is up.
          self.waitingSocket = true;
          self.report("offline", text(self.strings, "camera.player.nosocket"));
          return null;
        }
        self.waitingSocket = false;
        return self.socket
          .timeout(ACK_MS)
          .emitWithAck("watch", {
            camera_id: self.cameraId,
            sdp: pc.localDescription.sdp,
            type: "offer",
          });
      })
      .then(function (answer) {
        if (!answer || generation !== self.generation) {
          return null;
        }
        if (answer.error) {
          self.failed(answer.error.message || answer.error.code);
          return null;
        }
        self.viewerId = answer.viewer_id;
        return pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
      })
      .catch(function (err) {
        if (generation === self.generation) {
          self.failed(err && err.message ? err.message : String(err));
        }
      });
  };

  /**
   * The first decoded frame means the tile is live; after it, frames are counted from the
   * video's playback quality on each check. A requestVideoFrameCallback for every frame would
   * wake the page's main thread for a rendering update per picture (16 tiles at 15 fps: 240 a
   * second), and a wall that runs all day has better use for it (docs/performance.md).
   */
  Player.prototype.countFrames = function (generation) {
    var self = this;
    var video = this.video;
    function first() {
      if (self.stopped || generation !== self.generation) {
        return;
      }
      self.seen(Math.max(1, presented(video)));
    }
    if (video.requestVideoFrameCallback) {
      video.requestVideoFrameCallback(first);
    } else {
      video.onplaying = first;
    }
    var playing = video.play && video.play();
    if (playing && playing.catch) {
      playing.catch(function () {}); // autoplay of a muted video is allowed; a race is not an error
    }
  };

  /** The current stream has shown `count` frames: more than last time means it plays. */
  Player.prototype.seen = function (count) {
    if (count < this.shown) {
      this.shown = 0; // the element started over (a new source)
    }
    if (count > this.shown) {
      this.frames += count - this.shown;
      this.shown = count;
      this.lastFrameAt = Date.now();
      if (this.kind !== "playing") {
        this.attempt = 0;
        this.report("playing", text(this.strings, "camera.player.playing"));
      }
    }
  };

  /** Every CHECK_MS: a live tile whose frames stopped coming is watched again. */
  Player.prototype.check = function () {
    if (this.stopped || !this.video.srcObject) {
      return;
    }
    this.seen(presented(this.video)); // frames back after "offline" report "playing" again
    if (this.kind !== "playing") {
      return; // an offline camera is the gateway's to reconnect; errors retry on their own
    }
    var quiet = Date.now() - this.lastFrameAt;
    if (quiet > STALL_MS && !document.hidden) {
      this.report("offline", text(this.strings, "camera.player.stalled"));
      this.restart(0);
    }
  };

  /**
   * The gateway pushed the camera's state. Offline: the camera itself has lost its stream;
   * the gateway keeps this viewer and reconnects the camera with back-off, so the tile says
   * so and waits for frames (the first one reports "playing" again).
   */
  Player.prototype.cameraState = function (status) {
    if (status.state === "offline" && this.kind !== "error") {
      var wait = status.retry_in ? Math.max(1, Math.round(status.retry_in)) : 1;
      this.report("offline", text(this.strings, "camera.player.offline", { s: wait }));
    }
  };

  Player.prototype.failed = function (message) {
    this.report("error", text(this.strings, "camera.player.error", { message: message }));
    this.restart();
  };

  /** Hang up and watch again after the back-off (or `delay` ms). */
  Player.prototype.restart = function (delay) {
    if (this.stopped) {
      return;
    }
    var self = this;
    var wait = delay !== undefined ? delay : RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    this.generation += 1; // whatever is still in flight belongs to the old watch
    this.hangUp();
    if (wait > 0) {
      this.report("offline", text(this.strings, "camera.player.offline", { s: Math.round(wait / 1000) }));
    }
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(function () {
      self.watch();
    }, wait);
  };

  Player.prototype.hangUp = function () {
    if (this.viewerId && this.socket && this.socket.connected) {
      this.socket.emit("unwatch", { viewer_id: this.viewerId });
    }
    this.viewerId = null;
    if (this.pc) {
      this.pc.ontrack = null;
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
  };

  Player.prototype.stop = function () {
    if (this.stopped) {
      return;
    }
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.checkTimer);
    this.generation += 1;
    this.hangUp();
    this.stopped = true;
    this.video.removeAttribute("data-player");
    this.video.srcObject = null;
    link.remove(this);
  };

  /** The inbound video's statistics, for the tests: {framesDecoded, keyFramesDecoded}. */
  Player.prototype.stats = function () {
    if (!this.pc) {
      return Promise.resolve(null);
    }
    return this.pc.getStats().then(function (report) {
      var found = null;
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && s.kind === "video") {
          found = { framesDecoded: s.framesDecoded, keyFramesDecoded: s.keyFramesDecoded };
        }
      });
      return found;
    });
  };

  /** Frames the video element has decoded for display since its stream started. */
  function presented(video) {
    if (video.getVideoPlaybackQuality) {
      return video.getVideoPlaybackQuality().totalVideoFrames;
    }
    return video.webkitDecodedFrameCount || 0;
  }

  function preferH264(transceiver) {
    var caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video");
    if (!caps || !transceiver.setCodecPreferences) {
      return;
    }
    var h264 = caps.codecs.filter(function (c) {
      return /h264|rtx/i.test(c.mimeType);
    });
    if (h264.length) {
      transceiver.setCodecPreferences(h264);
    }
  }

  /** Resolve when ICE gathering is complete: the gateway does not trickle. */
  function iceGathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") {
        resolve();
        return;
      }
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") {
          resolve();
        }
      });
    });
  }

  CH.cameraPlayer = {
    play: function (video, cameraId, options) {
      return new Player(video, cameraId, options || {});
    },
    players: function () {
      return link.players.slice();
    },
  };
})();
