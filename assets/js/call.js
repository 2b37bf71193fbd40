/*
 * Video calls and conferences in the browser (realtime/calls.py is the other end).
 *
 * One overlay for every page: the Dash pages (console, case, wall) load this file with the
 * other assets; the plain /field page loads it and calls CommandHall.calls.start({token}).
 * Buttons anywhere on a page start calls through data attributes (a delegated click):
 *   data-call-worker="17" [data-call-case="42"]    call a grid worker (about a case)
 *   data-call-conference="42" data-call-invite='[{"key":"township:3","name":"…","on":true}]'
 *   data-call-centre                                 a grid worker's phone calls the centre
 *
 * Media: one RTCPeerConnection per room with sendrecv audio + video and the whole offer
 * (ICE gathered, no trickle); back comes the MCU's one composite video and one audio mix.
 * The connection and its offer start at the click, while the camera opens and the server
 * places the call. A failed connection rejoins the room with a new offer (the MCU replaces
 * the old one). While a call connects the page holds back its own redraws (settingUp).
 * Its words are in call_strings.js; camera, microphone and ringtone in call_media.js.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var M = function () {
    return CH.callMedia; // assets/js/call_media.js (loaded after this file on Dash pages)
  };
  var RING_MS = 45000; // an unanswered ring stops on its own
  var SETUP_MS = 4000; // how long a call counts as connecting, for the page's redraws
  var REJOIN_TRIES = 3;

  var S = {
    socket: null,
    token: null,
    lang: "zh",
    iceServers: [],
    me: null,
    call: null, // the call we are in (or placing)
    roomId: null,
    pc: null,
    local: null, // our MediaStream
    audioOn: true,
    videoOn: true,
    ringing: {}, // call id → call
    rejoins: 0,
    attempt: 0, // which call setup is the current one (see enter)
    timings: [], // {callId, clicked, firstFrame, clickToFrame} per call, for tests and the bench
    rings: [], // {callId, at}: when each ring arrived
    together: [], // {callId, at}: when the room first held somebody besides us
    el: null,
  };

  function lang() {
    if (S.langFixed) return S.lang;
    var q = new URLSearchParams(location.search).get("lang");
    var page = document.querySelector(".ch-office[lang], #field-app, [lang='en']");
    if (q === "en" || (page && page.getAttribute("lang") === "en")) return "en";
    return "zh";
  }

  function t(key, values) {
    return CH.callStrings.t(key, values, lang()); // assets/js/call_strings.js
  }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") el.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
        el.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
      }
    });
    for (var i = 2; i < arguments.length; i++) {
      if (arguments[i]) el.appendChild(arguments[i]);
    }
    return el;
  }

  /* ---------- the socket ---------- */

  function connect() {
    if (S.socket || typeof io !== "function") return S.socket;
    var options = { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 };
    if (S.token) options.auth = { token: S.token };
    var socket = (S.socket = io("/calls", options));
    socket.on("hello", function (data) {
      S.iceServers = data.ice_servers || [];
      S.me = data.me;
      socket.emit("invitations", {}, function (answer) {
        (answer.calls || []).forEach(ring);
      });
      if (S.roomId && S.pc) rejoin(); // the server let go of us while the socket was away
    });
    socket.on("ring", function (data) {
      ring(data.call);
    });
    socket.on("answered", function (data) {
      var call = data.call;
      if (S.ringing[call.id] && (!S.call || S.call.id !== call.id)) {
        stopRing(call.id); // another screen of ours answered
      }
      if (S.call && S.call.id === call.id) {
        S.call = call;
        if (!S.answeredAt) S.answeredAt = Date.now();
        render();
      }
    });
    socket.on("declined", function (data) {
      flash(t("declined.by", { who: data.by }));
    });
    socket.on("state", function (state) {
      if (S.roomId === state.room_id) {
        if (state.participants.length > 1 && !(S.state && S.state.participants.length > 1)) {
          S.together.push({ callId: S.call && S.call.id, at: Date.now() });
        }
        S.state = state;
        render();
        if (droppedByTheRoom(state)) rejoin();
      }
    });
    socket.on("ended", function (data) {
      stopRing(data.call_id);
      if (S.call && S.call.id === data.call_id) {
        hangUpLocally(t("ended." + data.reason) || data.message);
      }
    });
    socket.on("error", function (e) {
      if (e && e.message) flash(t("error", { message: e.message }), true);
    });
    return socket;
  }

  function request(event, data) {
    return new Promise(function (resolve, reject) {
      var socket = connect();
      if (!socket) return reject(new Error(t("error.offline")));
      var timer = setTimeout(function () {
        reject(new Error(t("error.offline")));
      }, 40000);
      socket.emit(event, data, function (answer) {
        clearTimeout(timer);
        if (answer && answer.error) {
          var err = new Error(answer.error.message);
          err.code = answer.error.code;
          err.field = answer.error.field;
          return reject(err);
        }
        resolve(answer);
      });
    });
  }

  /* ---------- camera and microphone (assets/js/call_media.js) ---------- */

  function fillDevices() {
    if (!S.el) return;
    M().devices().then(function (found) {
      [["videoinput", S.el.camera, S.cameraId, "video"], ["audioinput", S.el.mic, S.micId, "audio"]]
        .forEach(function (spec) {
          var select = spec[1];
          var current = spec[2] || M().deviceOf(S.local, spec[3]);
          select.textContent = "";
          found[spec[0]].forEach(function (d, i) {
            var label = d.label || t(spec[3] === "video" ? "device.camera" : "device.mic") +
              " " + (i + 1);
            var option = h("option", { value: d.deviceId, text: label });
            if (d.deviceId === current) option.selected = true;
            select.appendChild(option);
          });
          select.disabled = select.options.length < 2 || missing(spec[3]);
        });
    });
  }

  function switchDevice(kind, deviceId) {
    if (kind === "video") S.cameraId = deviceId;
    else S.micId = deviceId;
    M().swap(S.pc, S.local, kind, deviceId, kind === "video" ? S.videoOn : S.audioOn)
      .catch(function (err) {
        flash(t(M().errorKey(err)), true);
      });
  }

  /* ---------- WebRTC ---------- */

  /** A peer connection for the room, its whole offer on the way at once: audio and video
   *  sendrecv, our tracks when we have them (else they come later by replaceTrack, which
   *  needs no new offer). {pc, offered}: `offered` resolves once ICE gathering is done. */
  function connection() {
    if (S.pc) S.pc.close();
    var pc = (S.pc = new RTCPeerConnection({ iceServers: S.iceServers }));
    ["audio", "video"].forEach(function (kind) {
      var track = M().trackOf(S.local, kind);
      if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [S.local] });
      else pc.addTransceiver(kind, { direction: "sendrecv" }); // nothing to send yet, still receive
    });
    pc.ontrack = function (e) {
      mark(e.track.kind);
      var stream = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
      if (e.track.kind === "video") {
        S.el.video.srcObject = stream;
      } else {
        S.el.audio.srcObject = stream;
      }
    };
    pc.onconnectionstatechange = function () {
      if (pc !== S.pc) return;
      if (pc.connectionState === "connected") {
        mark("connected");
        S.rejoins = 0;
        S.reconnecting = false;
        render();
      } else if (pc.connectionState === "failed") {
        rejoin();
      }
    };
    var gathered = M().gathered(pc, !S.iceServers.length);
    var offered = pc.createOffer()
      .then(function (offer) {
        return pc.setLocalDescription(offer);
      })
      .then(function () {
        return gathered;
      })
      .then(function () {
        mark("offer");
        return pc;
      });
    return { pc: pc, offered: offered };
  }

  /** Send the camera and microphone that opened after the offer was made. */
  function sendTracks(pc, stream) {
    if (pc.signalingState === "closed") return;
    pc.getTransceivers().forEach(function (transceiver) {
      var kind = transceiver.receiver.track.kind;
      var track = M().trackOf(stream, kind);
      if (track && !transceiver.sender.track) transceiver.sender.replaceTrack(track);
    });
  }

  /** Offer (`prepared`, or a new connection) to the room and apply its answer. */
  function join(roomId, prepared) {
    S.roomId = roomId;
    var ready = prepared || connection();
    var pc = ready.pc;
    return ready.offered
      .then(function () {
        if (pc !== S.pc) return null; // hung up, or superseded by a rejoin, meanwhile
        return request("join", {
          room_id: roomId, sdp: pc.localDescription.sdp, type: pc.localDescription.type,
        });
      })
      .then(function (answer) {
        if (!answer || pc !== S.pc) return;
        mark("answer");
        if (answer.call) S.call = answer.call;
        S.participantId = answer.participant_id;
        return pc.setRemoteDescription({ type: answer.type, sdp: answer.sdp });
      });
  }

  /** The room says we are not in it while our connection still thinks it is up (the
   *  server's side of it failed or timed out): waiting for the browser to notice would take
   *  its ICE consent check, 15–30 s. */
  function droppedByTheRoom(state) {
    var pc = S.pc;
    return !!(S.participantId && pc && !S.reconnecting && pc.connectionState === "connected" &&
      !state.participants.some(function (p) {
        return p.id === S.participantId;
      }));
  }

  function rejoin() {
    if (!S.roomId || S.rejoins >= REJOIN_TRIES) {
      if (S.roomId) hangUpLocally(t("ended.failed"));
      return;
    }
    S.rejoins += 1;
    S.reconnecting = true;
    render();
    setTimeout(function () {
      if (S.roomId) join(S.roomId).catch(function (err) {
        if (err.code === "ended" || err.code === "not_found" || err.code === "forbidden") {
          hangUpLocally(err.message);
        } else {
          rejoin();
        }
      });
    }, 1000 * S.rejoins);
  }

  /** Open the overlay; then, at once and none waiting for another: `place` (the server
   *  sets the call up and resolves it), the camera and microphone, and the connection's
   *  offer (ICE gathering). The offer goes to the room as soon as it and the room are
   *  known (`known`: a call rung to us names its room already); the camera's tracks join
   *  the connection whenever they come, without a new offer. */
  function enter(place, title, known) {
    if (S.call || S.preparing) {
      flash(t("status.active"), true);
      return Promise.resolve(null);
    }
    var attempt = (S.attempt += 1); // hanging up makes every step still running stale
    S.preparing = true;
    S.clickedAt = Date.now(); // wall clock: the bench compares two browsers' times
    S.marks = {}; // when each step of the setup finished (ms after the click)
    S.answeredAt = null;
    S.firstFrameAt = null;
    S.title = title;
    S.state = null;
    S.audioOn = true;
    S.videoOn = true;
    S.rejoins = 0;
    show();
    S.status = "status.preparing";
    render();
    var placed = place().then(function (call) {
      mark("placed");
      if (attempt === S.attempt) {
        S.call = call;
        render();
      }
      return call;
    });
    var prepared = connection();
    prepared.offered.catch(function () {}); // reported by join, once
    var media = M().open({ cameraId: S.cameraId, micId: S.micId }).then(function (got) {
      mark("media");
      if (attempt !== S.attempt) return stopTracks(got.stream); // hung up meanwhile
      S.local = got.stream;
      S.note = got.note;
      if (S.local) S.el.self.srcObject = S.local;
      if (S.pc) sendTracks(S.pc, S.local);
      S.status = "status.connecting";
      render();
      fillDevices();
    });
    var joined = (known ? Promise.resolve(known) : placed).then(function (call) {
      return attempt === S.attempt ? join(call.room_id, prepared) : null;
    });
    return Promise.all([placed, media, joined])
      .then(function (done) {
        return done[0];
      })
      .catch(function (err) {
        if (attempt !== S.attempt) return null; // already hung up: nothing more to say
        var message = t("error", { message: err.message });
        var roomId = S.roomId || (S.call && S.call.room_id);
        if (roomId) request("leave", { room_id: roomId }).catch(function () {});
        hangUpLocally(message, true);
        return null;
      })
      .then(function (call) {
        S.preparing = false;
        return call;
      });
  }

  function callWorker(workerId, caseId) {
    return enter(function () {
      var body = { worker_id: Number(workerId) };
      if (caseId) body.case_id = Number(caseId);
      return request("call", body).then(function (a) {
        return a.call;
      });
    }, "title.call");
  }

  function convene(caseId, invite) {
    return enter(function () {
      return request("convene", { case_id: Number(caseId), invite: invite }).then(function (a) {
        return a.call;
      });
    }, "title.conference");
  }

  function callCentre() {
    return enter(function () {
      return request("call_centre", {}).then(function (a) {
        return a.call;
      });
    }, "title.call");
  }

  function accept(call) {
    stopRing(call.id);
    var accepted = Date.now();
    var title = call.kind === "conference" ? "title.conference" : "title.call";
    return enter(function () {
      S.answeredAt = accepted;
      return request("accept", { call_id: call.id }).then(function (a) {
        return a.call;
      });
    }, title, call); // the ring named the room: the offer need not wait for the accept
  }

  function decline(call) {
    stopRing(call.id);
    request("decline", { call_id: call.id }).catch(function (err) {
      flash(t("error", { message: err.message }), true);
    });
  }

  function leave() {
    var roomId = S.roomId || (S.call && S.call.room_id);
    if (roomId) request("leave", { room_id: roomId }).catch(function () {});
    hangUpLocally(t("ended.hung_up"));
  }

  function endForAll() {
    var roomId = S.roomId || (S.call && S.call.room_id);
    if (!roomId) return hangUpLocally("");
    request("end", { room_id: roomId }).catch(function (err) {
      flash(t("error", { message: err.message }), true);
    });
  }

  function toggle(kind) {
    var on = kind === "audio" ? (S.audioOn = !S.audioOn) : (S.videoOn = !S.videoOn);
    if (S.local) {
      S.local.getTracks().forEach(function (tr) {
        if (tr.kind === kind) tr.enabled = on;
      });
    }
    if (S.roomId) {
      var body = { room_id: S.roomId };
      body[kind] = on;
      request("mute", body).catch(function () {});
    }
    render();
  }

  function stopTracks(stream) {
    if (stream) stream.getTracks().forEach(function (tr) {
      tr.stop();
    });
  }

  /** Close media and the overlay; `message` stays on screen for a moment. */
  function hangUpLocally(message, isError) {
    S.attempt += 1;
    if (S.pc) S.pc.close();
    stopTracks(S.local);
    S.pc = null;
    S.local = null;
    S.call = null;
    S.roomId = null;
    S.state = null;
    S.participantId = null;
    S.note = null;
    S.reconnecting = false;
    if (S.el) {
      S.el.video.srcObject = null;
      S.el.audio.srcObject = null;
      S.el.self.srcObject = null;
      S.el.box.hidden = true;
    }
    if (message) flash(message, isError);
  }

  /* ---------- ringing ---------- */

  function ring(call) {
    if (!call || S.ringing[call.id] || (S.call && S.call.id === call.id)) return;
    S.ringing[call.id] = call;
    S.rings.push({ callId: call.id, at: Date.now() });
    ensureDom();
    var key = call.kind === "conference" ? "ring.conference"
      : call.parties.indexOf("centre") >= 0 ? "ring.centre" : "ring.incoming";
    var item = h("div", { class: "ch-call-ring-item", "data-call-id": call.id },
      h("div", { class: "ch-call-ring-text", text: t(key, { who: call.caller }) }),
      h("div", { class: "ch-call-ring-buttons" },
        h("button", {
          type: "button", class: "ch-call-btn is-accept", id: "ch-call-accept-" + call.id,
          text: t(call.kind === "conference" ? "ring.join" : "ring.accept"),
          onclick: function () {
            accept(call);
          },
        }),
        h("button", {
          type: "button", class: "ch-call-btn is-decline", id: "ch-call-decline-" + call.id,
          text: t("ring.decline"),
          onclick: function () {
            decline(call);
          },
        })));
    S.el.ring.appendChild(item);
    S.el.ring.hidden = false;
    // The tone a task later: a page's first AudioContext takes Chrome ~130 ms to make, and
    // the ring (and an answer to it) should not wait for that.
    setTimeout(function () {
      if (S.ringing[call.id]) M().startTone();
    }, 0);
    setTimeout(function () {
      stopRing(call.id);
    }, RING_MS);
  }

  function stopRing(callId) {
    if (!S.ringing[callId]) return;
    delete S.ringing[callId];
    if (!S.el) return;
    var item = S.el.ring.querySelector('[data-call-id="' + callId + '"]');
    if (item) item.remove();
    if (!Object.keys(S.ringing).length) {
      S.el.ring.hidden = true;
      M().stopTone();
    }
  }

  /* ---------- the overlay ---------- */

  function ensureDom() {
    if (S.el) return S.el;
    var el = (S.el = {});
    el.title = h("div", { class: "ch-call-title", id: "ch-call-title" });
    el.status = h("div", { class: "ch-call-status", id: "ch-call-status", role: "status" });
    el.note = h("div", { class: "ch-call-note", id: "ch-call-note", role: "alert", hidden: true });
    el.video = h("video", { id: "ch-call-video", class: "ch-call-video", autoplay: true,
                            playsinline: true, muted: true });
    el.video.muted = true; // the MCU's audio comes on its own element
    el.audio = h("audio", { id: "ch-call-audio", autoplay: true });
    el.self = h("video", { id: "ch-call-self", class: "ch-call-self", autoplay: true,
                           playsinline: true, muted: true });
    el.self.muted = true;
    el.people = h("ul", { class: "ch-call-people", id: "ch-call-people" });
    el.peopleTitle = h("div", { class: "ch-call-people-title", id: "ch-call-people-title" });
    el.mute = h("button", { type: "button", class: "ch-call-btn", id: "ch-call-mute",
                            onclick: function () { toggle("audio"); } }); // prettier-ignore
    el.cam = h("button", { type: "button", class: "ch-call-btn", id: "ch-call-camera",
                           onclick: function () { toggle("video"); } }); // prettier-ignore
    el.leave = h("button", { type: "button", class: "ch-call-btn is-decline", id: "ch-call-leave",
                             onclick: leave });
    el.end = h("button", { type: "button", class: "ch-call-btn is-end", id: "ch-call-end",
                           onclick: endForAll });
    el.camera = h("select", { class: "ch-call-select", id: "ch-call-camera-select",
                              onchange: function (e) { switchDevice("video", e.target.value); } }); // prettier-ignore
    el.mic = h("select", { class: "ch-call-select", id: "ch-call-mic-select",
                           onchange: function (e) { switchDevice("audio", e.target.value); } }); // prettier-ignore
    el.cameraLabel = h("label", { class: "ch-call-device" }, h("span"), el.camera);
    el.micLabel = h("label", { class: "ch-call-device" }, h("span"), el.mic);
    el.box = h("div", { class: "ch-call", id: "ch-call", hidden: true, role: "dialog" },
      h("div", { class: "ch-call-head" }, el.title, el.status),
      el.note,
      h("div", { class: "ch-call-stage" }, el.video, el.self, el.audio),
      h("div", { class: "ch-call-side" }, el.peopleTitle, el.people),
      h("div", { class: "ch-call-devices" }, el.cameraLabel, el.micLabel),
      h("div", { class: "ch-call-controls" }, el.mute, el.cam, el.leave, el.end));
    el.ring = h("div", { class: "ch-call-ring", id: "ch-call-ring", hidden: true,
                         role: "alertdialog" });
    el.flash = h("div", { class: "ch-call-flash", id: "ch-call-flash", role: "status",
                          hidden: true });
    el.picker = h("div", { class: "ch-call-picker", id: "ch-call-picker", hidden: true,
                           role: "dialog" });
    document.body.appendChild(el.box);
    document.body.appendChild(el.ring);
    document.body.appendChild(el.flash);
    document.body.appendChild(el.picker);
    el.video.addEventListener("resize", firstFrame);
    el.video.addEventListener("playing", firstFrame);
    return el;
  }

  function firstFrame() {
    if (!S.firstFrameAt && S.el.video.videoWidth > 0 && S.clickedAt) {
      S.firstFrameAt = Date.now();
      S.timings.push({
        callId: S.call && S.call.id, clicked: S.clickedAt, firstFrame: S.firstFrameAt,
        clickToFrame: S.firstFrameAt - S.clickedAt, marks: Object.assign({}, S.marks),
      });
    }
  }

  function mark(step) {
    if (S.marks && S.clickedAt && !(step in S.marks)) S.marks[step] = Date.now() - S.clickedAt;
  }

  function show() {
    ensureDom();
    S.el.box.hidden = false;
  }

  /** True when the camera or microphone (`kind`) was asked for and is not there. */
  function missing(kind) {
    return !!S.note && !M().trackOf(S.local, kind);
  }

  function render() {
    var el = S.el;
    if (!el) return;
    el.title.textContent = t(S.title || "title.call");
    var status = S.status;
    if (S.reconnecting) status = "status.reconnecting";
    else if (S.call && S.call.status === "active") status = "status.active";
    else if (S.call && S.state && S.state.participants.length > 1) status = "status.active";
    else if (S.call) status = "status.calling";
    el.status.textContent = t(status, { who: S.call ? S.call.callee || t("centre") : "" });
    el.note.hidden = !S.note;
    el.note.textContent = S.note ? t(S.note) : "";
    el.mute.textContent = t(S.audioOn ? "btn.mute" : "btn.unmute");
    el.mute.classList.toggle("is-off", !S.audioOn);
    el.cam.textContent = t(S.videoOn ? "btn.camera_off" : "btn.camera_on");
    el.cam.classList.toggle("is-off", !S.videoOn);
    // Once the browser said what it has (a note): nothing to mute or show without the track.
    el.mute.disabled = missing("audio");
    el.cam.disabled = missing("video");
    el.self.hidden = missing("video");
    el.leave.textContent = t("btn.leave");
    el.end.textContent = t("btn.end");
    el.end.hidden = !S.call;
    el.cameraLabel.firstChild.textContent = t("device.camera");
    el.micLabel.firstChild.textContent = t("device.mic");
    var people = (S.state && S.state.participants) || [];
    el.peopleTitle.textContent = t("people", { n: people.length });
    el.people.textContent = "";
    people.forEach(function (p) {
      var notes = [];
      if (!p.audio) notes.push(t("person.muted"));
      if (!p.video) notes.push(t("person.no_video"));
      el.people.appendChild(h("li", {
        class: "ch-call-person" + (S.state.speaker === p.id ? " is-speaking" : ""),
        "data-participant": p.id,
        text: p.name + (notes.length ? " · " + notes.join(" · ") : ""),
      }));
    });
  }

  var flashTimer = null;

  function flash(text, isError) {
    ensureDom();
    S.el.flash.textContent = text;
    S.el.flash.className = "ch-call-flash" + (isError ? " is-error" : "");
    S.el.flash.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () {
      S.el.flash.hidden = true;
    }, 8000);
  }

  /** The conference picker: offices and workers, the case's own ticked, at most 8 guests. */
  function pick(caseId, options) {
    ensureDom();
    var box = S.el.picker;
    var limit = 8;
    box.textContent = "";
    var error = h("div", { class: "ch-call-picker-error", role: "alert" });
    var list = h("ul", { class: "ch-call-picker-list" });
    options.forEach(function (o) {
      var input = h("input", { type: "checkbox", value: o.key, "data-invite": o.key });
      input.checked = !!o.on;
      list.appendChild(h("li", null, h("label", null, input, h("span", { text: " " + o.name }))));
    });
    var start = h("button", {
      type: "button", class: "ch-call-btn is-accept", id: "ch-call-picker-start",
      text: t("btn.start"),
      onclick: function () {
        var invite = Array.prototype.map.call(
          list.querySelectorAll("input:checked"), function (i) { return i.value; }); // prettier-ignore
        if (!invite.length) return (error.textContent = t("pick.none"));
        if (invite.length > limit) return (error.textContent = t("pick.too_many", { n: limit }));
        box.hidden = true;
        convene(caseId, invite);
      },
    });
    var cancel = h("button", {
      type: "button", class: "ch-call-btn", text: t("btn.cancel"),
      onclick: function () {
        box.hidden = true;
      },
    });
    box.appendChild(h("div", { class: "ch-call-picker-title",
                               text: t("pick.heading", { n: limit + 1 }) }));
    box.appendChild(list);
    box.appendChild(error);
    box.appendChild(h("div", { class: "ch-call-controls" }, start, cancel));
    box.hidden = false;
  }

  /* ---------- buttons anywhere on the page ---------- */

  document.addEventListener("click", function (e) {
    var target = e.target && e.target.closest ? e.target.closest(
      "[data-call-worker], [data-call-conference], [data-call-centre]") : null;
    if (!target || target.disabled) return;
    e.preventDefault();
    connect();
    if (target.hasAttribute("data-call-worker")) {
      callWorker(target.getAttribute("data-call-worker"), target.getAttribute("data-call-case"));
    } else if (target.hasAttribute("data-call-conference")) {
      var options = [];
      try {
        options = JSON.parse(target.getAttribute("data-call-invite") || "[]");
      } catch (err) {
        options = [];
      }
      pick(target.getAttribute("data-call-conference"), options);
    } else {
      callCentre();
    }
  });

  /** Pages of officers ring (an office's console hears its invitations). */
  function autostart() {
    if (/^\/(console|cases)(\/|$)/.test(location.pathname)) connect();
  }

  /** From the click until the first picture (SETUP_MS at most): the page holds back its
   *  own redraws meanwhile (assets/js/console.js). */
  function settingUp() {
    var live = S.preparing || !!S.call;
    return live && !!S.clickedAt && !S.firstFrameAt && Date.now() - S.clickedAt < SETUP_MS;
  }

  /** How a test or the bench reads the call: remote video and frames decoded so far. */
  function stats() {
    var video = S.el && S.el.video;
    var out = {
      inCall: !!S.call, roomId: S.roomId, callId: S.call && S.call.id,
      videoWidth: video ? video.videoWidth : 0, framesDecoded: 0,
      participants: ((S.state && S.state.participants) || []).map(function (p) { return p.id; }), // prettier-ignore
      connection: S.pc ? S.pc.connectionState : null, timings: S.timings.slice(),
      rings: S.rings.slice(), together: S.together.slice(),
    };
    if (!S.pc) return Promise.resolve(out);
    return S.pc.getStats().then(function (report) {
      report.forEach(function (r) {
        if (r.type === "inbound-rtp" && r.kind === "video") out.framesDecoded = r.framesDecoded || 0;
      });
      return out;
    });
  }

  CH.calls = {
    start: function (options) {
      options = options || {};
      S.token = options.token || null;
      if (options.lang) {
        S.lang = options.lang;
        S.langFixed = true;
      }
      if (S.socket && S.token) {
        S.socket.auth = { token: S.token };
      }
      ensureDom();
      return connect();
    },
    stop: function () {
      if (S.call) leave();
      if (S.socket) S.socket.disconnect();
      S.socket = null;
    },
    callWorker: callWorker,
    callCentre: callCentre,
    convene: convene,
    leave: leave,
    end: endForAll,
    stats: stats,
    settingUp: settingUp,
    _state: S,
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", autostart);
  } else {
    autostart();
  }
})();
