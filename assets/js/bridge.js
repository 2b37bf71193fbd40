/*
 * The socket bridge: one /live connection per browser tab, kept in sync with the event log,
 * and pushed into the Dash page at most once a second.
 *
 * A page opts in with an element carrying data-ch-view="<name>" (and optionally
 * data-township, data-strings, data-tz-offset). CommandHall.views[<name>] turns the synced
 * state into {componentId: props}, which the bridge hands to dash_clientside.set_props:
 * changed state at most once a second, the clock on each second boundary.
 * Protocol: docs/realtime.md, realtime/socket.py and realtime/fanout.py.
 *
 * Grid workers are state, not events: `positions` frames carry no seq and are upserted by
 * the reducer whenever they come. A frame lost while the link was down is not replayed, so
 * after a reconnect the workers are taken again from a snapshot (see refreshWorkers).
 *
 * A screen the server refuses (a revoked device token, or no token where one is needed) is
 * told why: the refusal on the socket carries no reason a browser can read, so the bridge
 * asks GET /api/kpis with the same token and keeps the answer's message in `refusal`
 * (status "refused"), trying again every 30 s.
 *
 * Files load alphabetically (bridge.js before reducer.js and vendor/socket.io.min.js), so
 * nothing here touches `io` or the reducer before DOMContentLoaded.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  CH.views = CH.views || {};

  var TICK_MS = 200; // how often we look for something to push
  var DATA_PUSH_MS = 1000; // state reaches the page at most once a second
  var REQUEST_TIMEOUT_MS = 15000;
  var RETRY_MS = 2000;
  var SILENCE_MS = 60000; // heartbeats come every 15 s; a minute of nothing means a dead link
  var OFFLINE_AFTER_MS = 20000; // reconnecting for this long is shown as offline
  var ACCESS_CHECK_AFTER_MS = 4000; // not connected for this long: ask whether we may
  var REFUSED_RETRY_MS = 30000; // a refused screen tries again this often
  // After midnight the state folds the day into its history by itself; a fresh snapshot a
  // few minutes later repairs what events alone cannot tell (a case of an earlier day
  // reopened), spread over a few minutes so the walls of a city do not all ask at once.
  var RESYNC_AFTER_MIDNIGHT_MS = [60000, 300000];

  function now() {
    return Date.now();
  }

  function since() {
    return Math.round(window.performance.now());
  }

  /** Note the first time of `name` in the link's timing. */
  function first(link, name) {
    if (link.timing[name] === null) {
      link.timing[name] = since();
    }
  }

  var TOKEN_KEY = "commandhall.screenToken";

  /**
   * The screen token (see docs/realtime.md): given once in the URL (?token=...), then kept in
   * localStorage so the screen survives restarts without anybody touching it.
   */
  function screenToken() {
    var fromUrl = new URLSearchParams(window.location.search).get("token");
    try {
      if (fromUrl) {
        window.localStorage.setItem(TOKEN_KEY, fromUrl);
        return fromUrl;
      }
      return window.localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return fromUrl; // storage disabled: the URL is all we have
    }
  }

  /** One connection to /live and the state it keeps (optionally scoped to a township). */
  function LiveLink(townshipId) {
    this.townshipId = townshipId;
    this.state = null;
    this.queue = []; // batches that arrived while a request was in flight
    this.busy = false;
    this.ready = false; // synced since the current connection was made
    this.dirty = true; // the cases (or anything but the workers' positions) changed
    this.moved = false; // a positions frame moved workers
    this.lastHeard = now();
    this.lostAt = now();
    this.everConnected = false;
    this.stopped = false;
    this.generation = 0; // bumped on disconnect: answers to older requests are ignored
    this.workersStale = false; // frames may have been missed while the link was down
    // {reason, message} when the server will not have this screen: reason "token" (a device
    // token it refuses), "signin" (none where one is needed), "screen_token" or "unknown";
    // message, the server's own words when it gave some.
    this.refusal = null;
    this.lastAccessCheck = 0;
    this.lastRetry = now();
    this.resyncAt = 0; // when to take a fresh snapshot (after midnight)
    this.stats = { batches: 0, catchups: 0, snapshots: 0, gaps: 0, frames: 0, refreshes: 0 };
    // When the first connection, snapshot and readiness came (performance.now(), ms since the
    // page started loading): where a screen's start-up time goes, for the benchmark and whoever
    // looks at a slow wall.
    this.timing = { created: since(), connected: null, asked: null, answered: null, ready: null };
    this.connect();
  }

  LiveLink.prototype.connect = function () {
    var self = this;
    var socket = (this.socket = window.io("/live", {
      // A function, so every reconnect sends the seq we have reached by then.
      auth: function (cb) {
        var auth = {};
        var token = page && page.session ? null : screenToken();
        if (token) {
          auth.token = token;
        }
        if (self.state) {
          auth.last_seq = self.state.seq;
        }
        if (self.townshipId !== null) {
          auth.township_id = self.townshipId;
        }
        cb(auth);
      },
      // One wall per screen, so a short back-off costs the server little.
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      // A websocket at once, not long-polling first and an upgrade after: that took three
      // more round trips to a busy server before the snapshot could be asked for. Where a
      // proxy refuses websockets, the link falls back to long-polling by itself.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    }));
    // The server emits `hello` and the replay from its connect handler, before it accepts
    // the connection, and socket.io hands those to us before "connect": by now the replay
    // may be applied and the link ready. "disconnect" is where readiness is lost.
    socket.on("connect", function () {
      first(self, "connected");
      self.heard();
      self.everConnected = true;
      self.refusal = null;
      self.dirty = true;
    });
    socket.on("connect_error", function () {
      // A refusal by the server leaves the socket inactive: socket.io will not retry it.
      if (!socket.active) {
        self.checkAccess(true);
      }
    });
    socket.on("disconnect", function (reason) {
      // A request in flight will not be answered on this connection; the server replays
      // from our seq when we are back, so forget it instead of waiting for its timeout.
      self.generation += 1;
      self.busy = false;
      self.ready = false;
      self.lostAt = now();
      self.dirty = true;
      // Positions sent while we are away are gone (a frame only carries what moved since
      // the one before): a worker who goes offline meanwhile would never be told again.
      self.workersStale = self.state !== null;
      if (reason === "io server disconnect" && !self.stopped) {
        socket.connect(); // the server hung up on purpose; socket.io would not retry
      }
    });
    socket.on("hello", function () {
      self.heard();
    });
    socket.on("resync", function () {
      self.heard();
      self.snapshot();
    });
    socket.on("events", function (batch) {
      self.heard();
      self.stats.batches += 1;
      self.queue.push(batch);
      self.drain();
    });
    socket.on("positions", function (frame) {
      self.heard();
      self.stats.frames += 1;
      // Before the first snapshot there is nothing to move; the snapshot will hold it.
      if (self.state) {
        var next = CH.applyPositions(self.state, frame);
        if (next !== self.state) {
          self.state = next;
          self.moved = true; // drawn with the next second's clock, not on a push of its own
        }
      }
    });
    socket.on("heartbeat", function (beat) {
      self.heard();
      if (self.state && beat.seq > self.state.seq && !self.busy) {
        self.catchup();
      } else if (self.state && !self.busy && !self.queue.length) {
        self.markReady();
      }
    });
    socket.on("error", function (err) {
      if (window.console) {
        console.warn("CommandHall /live refused the connection", err);
      }
    });
  };

  LiveLink.prototype.heard = function () {
    this.lastHeard = now();
  };

  LiveLink.prototype.markReady = function () {
    if (!this.ready) {
      first(this, "ready");
      this.ready = true;
      this.dirty = true;
    }
    if (this.workersStale && !this.busy) {
      this.refreshWorkers();
    }
  };

  /**
   * After a reconnect the cases were replayed from the log; the workers are taken from a
   * snapshot (the protocol has no smaller request for them), applied like a frame as of the
   * snapshot's server time, so frames that arrive meanwhile are not undone.
   */
  LiveLink.prototype.refreshWorkers = function () {
    var self = this;
    this.stats.refreshes += 1;
    this.request("snapshot", {}, function (snap) {
      self.busy = false;
      self.workersStale = false; // only now: a failed request is retried after a catch-up
      var next = CH.applyPositions(self.state, { t: snap.server_time, workers: snap.workers });
      if (next !== self.state) {
        self.state = next;
        self.dirty = true;
      }
      self.drain();
    });
  };

  /**
   * Ask the server whether it takes this screen's token (GET /api/kpis answers 401 or 403
   * with a message when it does not). `refused`: the socket was refused outright.
   */
  LiveLink.prototype.checkAccess = function (refused) {
    var self = this;
    var token = screenToken();
    this.lastAccessCheck = now();
    if (token && !/^(dev_|ch_)/.test(token)) {
      // A signed screen token means nothing to the HTTP API: only the refusal tells.
      if (refused) {
        this.refusal = { message: null, reason: "screen_token" };
        this.dirty = true;
      }
      return;
    }
    var headers = token ? { Authorization: "Bearer " + token } : {};
    window
      .fetch("/api/kpis", { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status !== 401 && answer.status !== 403) {
          if (answer.ok) {
            self.refusal = null; // we may: the link is only slow or down
          }
          return null;
        }
        return answer.json().then(function (body) {
          self.refusal = {
            message: (body && body.message) || null,
            reason: answer.status === 401 ? "signin" : "token",
          };
          self.dirty = true;
        });
      })
      .catch(function () {
        if (refused && !self.refusal) {
          self.refusal = { message: null, reason: "unknown" };
          self.dirty = true;
        }
      });
  };

  LiveLink.prototype.status = function () {
    if (this.refusal && !(this.socket && this.socket.connected)) {
      return "refused";
    }
    if (this.socket && this.socket.connected) {
      return this.ready ? "connected" : this.everConnected ? "reconnecting" : "connecting";
    }
    if (navigator.onLine === false || now() - this.lostAt > OFFLINE_AFTER_MS) {
      return "offline";
    }
    return this.everConnected ? "reconnecting" : "connecting";
  };

  /** An acknowledged request; `done(null, answer)` or `done(error)` after a timeout. */
  LiveLink.prototype.request = function (name, data, done) {
    var self = this;
    var generation = this.generation;
    this.busy = true;
    this.socket.timeout(REQUEST_TIMEOUT_MS).emit(name, data, function (err, answer) {
      if (generation !== self.generation) {
        return; // asked on a connection that has since dropped
      }
      self.heard();
      if (err || !answer || answer.error) {
        self.busy = false;
        if (window.console) {
          console.warn("CommandHall /live " + name + " failed", err || (answer && answer.error));
        }
        window.setTimeout(function () {
          if (!self.busy && self.socket.connected) {
            return self.state ? self.catchup() : self.snapshot();
          }
        }, RETRY_MS);
        return;
      }
      done(answer);
    });
  };

  LiveLink.prototype.snapshot = function () {
    var self = this;
    this.stats.snapshots += 1;
    first(this, "asked");
    this.request("snapshot", { compact: true }, function (snap) {
      first(self, "answered");
      self.state = CH.fromSnapshot(snap);
      self.workersStale = false; // the snapshot brought every worker
      self.dirty = true;
      self.busy = false;
      // The batches that came meanwhile, in order; one that starts after the snapshot's seq
      // is a gap and asks for a catch-up, as would the next heartbeat. No round trip of its
      // own: on a busy server that was most of a second before the wall counted as synced.
      self.drain();
      if (!self.busy) {
        self.markReady();
      }
    });
  };

  /** Ask for what came after our seq, repeating until we reach the head of the log. */
  LiveLink.prototype.catchup = function () {
    var self = this;
    if (!this.state) {
      return this.snapshot();
    }
    this.stats.catchups += 1;
    this.request("catchup", { after: this.state.seq }, function (answer) {
      if (answer.resync) {
        return self.snapshot();
      }
      self.apply(answer);
      if (answer.to < answer.head) {
        return self.catchup();
      }
      self.busy = false;
      self.markReady();
      self.drain();
    });
  };

  LiveLink.prototype.apply = function (batch) {
    var result = CH.applyBatch(this.state, batch);
    if (result.state !== this.state) {
      this.state = result.state;
      this.dirty = true;
    }
    return result;
  };

  /** Apply queued batches in order; a gap or a partial replay turns into a catch-up. */
  LiveLink.prototype.drain = function () {
    while (!this.busy && this.state && this.queue.length) {
      var batch = this.queue.shift();
      var result = this.apply(batch);
      if (result.gap) {
        this.stats.gaps += 1;
        return this.catchup(); // later queued batches wait; their events are seq-filtered
      }
      if (batch.head !== undefined && this.state.seq < batch.head) {
        return this.catchup();
      }
      this.markReady();
    }
  };

  /** Called every tick: day rollover and the silence watchdog. */
  LiveLink.prototype.tick = function (t) {
    if (this.state) {
      var rolled = CH.rollDay(this.state, t + this.state.skew);
      if (rolled !== this.state) {
        this.state = rolled;
        this.dirty = true;
        var spread = RESYNC_AFTER_MIDNIGHT_MS;
        this.resyncAt = t + spread[0] + Math.random() * (spread[1] - spread[0]);
      }
      if (this.resyncAt && t >= this.resyncAt && this.ready && !this.busy) {
        this.resyncAt = 0;
        this.snapshot();
      }
    }
    if (!this.socket.connected && !(page && page.session)) {
      // Asked once soon after the link is lost, then every 30 s while it stays away.
      var asked = this.lastAccessCheck > this.lostAt;
      var waiting = t - Math.max(this.lostAt, this.lastAccessCheck);
      if (waiting > (asked ? REFUSED_RETRY_MS : ACCESS_CHECK_AFTER_MS)) {
        this.checkAccess(false);
      }
      // A refused connection is not retried by socket.io, and one whose connect handler
      // failed is never answered: start it again now and then.
      if ((this.refusal || !this.socket.active) && t - this.lastRetry > REFUSED_RETRY_MS) {
        this.lastRetry = t;
        this.socket.disconnect();
        this.socket.connect();
      }
    }
    if (this.socket.connected && t - this.lastHeard > SILENCE_MS) {
      this.lastHeard = t;
      this.socket.disconnect();
      this.lostAt = t;
      this.socket.connect();
    }
  };

  LiveLink.prototype.stop = function () {
    this.stopped = true;
    this.socket.disconnect();
  };

  /* ---- the page side ---- */

  /** The UI strings a page element carries as JSON in data-strings ({} when none). */
  function readStrings(el) {
    try {
      return JSON.parse((el && el.getAttribute("data-strings")) || "{}");
    } catch (e) {
      return {};
    }
  }

  function readPage(el) {
    var strings = readStrings(el);
    var township = el.getAttribute("data-township");
    var offset = parseInt(el.getAttribute("data-tz-offset") || "", 10);
    return {
      el: el,
      view: el.getAttribute("data-ch-view"),
      session: el.getAttribute("data-ch-auth") === "session",
      township: township === null || township === "" ? null : parseInt(township, 10),
      strings: strings,
      tzOffset: isNaN(offset) ? -new Date().getTimezoneOffset() : offset,
    };
  }

  var page = null;
  var lastSecond = 0;
  var lastDataPush = 0;
  var lastStatus = null;

  /** Hand the view's updates to Dash; `withData` false means the clock and status only. */
  function push(t, withData) {
    var link = CH.live;
    var view = CH.views[page.view];
    if (!view || !window.dash_clientside || !window.dash_clientside.set_props) {
      return;
    }
    var status = link.status();
    var ctx = {
      now: t + (link.state ? link.state.skew : 0),
      state: link.state,
      status: status,
      refusal: status === "refused" ? link.refusal : null,
      statusChanged: status !== lastStatus,
      dirty: withData && (link.dirty || link.moved),
      fresh: page.fresh,
      strings: page.strings,
      tzOffset: link.state && link.state.tzOffset !== null ? link.state.tzOffset : page.tzOffset,
    };
    var updates = view(ctx) || {};
    Object.keys(updates).forEach(function (id) {
      window.dash_clientside.set_props(id, updates[id]);
    });
    if (withData) {
      link.dirty = false;
      link.moved = false;
      page.drawnState = page.drawnState || !!link.state;
    }
    page.fresh = false;
    lastStatus = status;
    page.el.setAttribute("data-status", status);
  }

  // Pages whose link can start before Dash has rendered them (their scope is the whole of the
  // signed-in screen's): the wall asks for its snapshot while the renderer is still loading,
  // which takes about half a second off its first full picture (docs/performance.md).
  var EARLY = /\/wall\/?$/;

  function tick() {
    var el = document.querySelector("[data-ch-view]");
    if (!el) {
      page = null;
      if (!CH.live && window.io && CH.applyBatch && EARLY.test(window.location.pathname)) {
        CH.live = new LiveLink(null);
      }
      return;
    }
    if (!page || page.el !== el) {
      page = readPage(el);
      page.fresh = true;
    }
    if (!window.io || !CH.applyBatch) {
      return; // still loading
    }
    if (CH.live && CH.live.townshipId !== page.township) {
      CH.live.stop();
      CH.live = null;
    }
    if (!CH.live) {
      CH.live = new LiveLink(page.township);
    }
    var t = now();
    CH.live.tick(t);
    // Changed state goes out at once if the last data push is a second old, else it waits
    // for that second to pass: at most one data push a second, however busy the log is,
    // and a lone new case shows within a tick. The clock ticks on each second boundary, and
    // moved workers go with it: positions come once a second anyway, and drawn with the
    // clock they cost the page one rendering update a second instead of two.
    var second = Math.floor(t / 1000);
    var newSecond = second !== lastSecond;
    // The first state (a snapshot) goes out on the next tick: the one-second pace is for a
    // busy log, not for a screen still waiting to show anything.
    var paced = t - lastDataPush >= DATA_PUSH_MS || !page.drawnState;
    var dataDue = page.fresh || (CH.live.dirty && paced) || (CH.live.moved && newSecond);
    if (dataDue || newSecond) {
      lastSecond = second;
      if (dataDue) {
        lastDataPush = t;
      }
      push(t, dataDue);
    }
  }

  function start() {
    tick();
    window.setInterval(tick, TICK_MS);
  }

  /*
   * On the wall, the link starts the moment socket.io has loaded: the scripts after it (Dash's
   * renderer and components, 1 MB) take a few hundred milliseconds to run before the page's
   * DOMContentLoaded, and the snapshot can be on its way meanwhile. socket.io sets window.io
   * as it loads; a setter hears it and starts the link once that script has finished.
   */
  function startWhenSocketIoLoads() {
    if (window.io || !EARLY.test(window.location.pathname)) {
      return;
    }
    try {
      Object.defineProperty(window, "io", {
        configurable: true,
        set: function (io) {
          Object.defineProperty(window, "io", { value: io, writable: true, configurable: true });
          Promise.resolve().then(function () {
            if (!CH.live && CH.applyBatch) {
              CH.live = new LiveLink(null);
            }
          });
        },
        get: function () {
          return undefined;
        },
      });
    } catch (e) {
      // a browser that will not have it: the link starts at DOMContentLoaded
    }
  }

  CH.LiveLink = LiveLink;
  CH.screenToken = screenToken; // the camera player signs in to /media the same way
  CH.readStrings = readStrings;
  startWhenSocketIoLoads();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
