/*
 * Camera, microphone and ringing for calls (assets/js/call.js draws and drives the call):
 * getUserMedia with the audio-only fallback, device lists, switching a device inside a call
 * without a new offer, waiting for ICE gathering (the offer goes whole, no trickle), and the
 * ringtone (a WebAudio oscillator) with vibration where the browser allows it.
 * Failures come back as string keys of assets/js/call_strings.js ("media.denied", …).
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var GATHER_MS = 5000; // a STUN/TURN server that does not answer: go with what we have
  var HOST_QUIET_MS = 40; // host candidates only: this long after the last, the offer goes

  /** Which message a getUserMedia failure deserves. */
  function errorKey(err) {
    var name = (err && err.name) || "";
    if (name === "NotAllowedError" || name === "SecurityError") return "media.denied";
    if (name === "NotReadableError" || name === "AbortError") return "media.busy";
    return "media.nothing";
  }

  /** Camera and microphone, or the microphone only, or nothing: {stream, note}, the note
   *  saying what is missing (null when all is there). `prefs`: {cameraId, micId}. */
  function open(prefs) {
    prefs = prefs || {};
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve({ stream: null, note: "media.insecure" });
    }
    // The MCU composes 15 pictures a second: a faster camera only costs this browser's
    // encoder and the server's decoder frames that are never shown.
    var size = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } };
    var constraints = {
      audio: prefs.micId ? { deviceId: { exact: prefs.micId } } : true,
      video: prefs.cameraId ? Object.assign({ deviceId: { exact: prefs.cameraId } }, size) : size,
    };
    return navigator.mediaDevices.getUserMedia(constraints).then(
      function (stream) {
        return { stream: stream, note: null };
      },
      function (err) {
        var note = errorKey(err);
        if (note === "media.denied" || note === "media.busy") {
          return { stream: null, note: note };
        }
        return navigator.mediaDevices.getUserMedia({ audio: true }).then(
          function (stream) {
            return { stream: stream, note: "media.no_camera" };
          },
          function (err2) {
            return { stream: null, note: errorKey(err2) };
          }
        );
      }
    );
  }

  /** {videoinput: [device], audioinput: [device]} (labels only once access was given). */
  function devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) {
      return Promise.resolve({ videoinput: [], audioinput: [] });
    }
    return navigator.mediaDevices.enumerateDevices().then(function (list) {
      var out = { videoinput: [], audioinput: [] };
      list.forEach(function (d) {
        if (out[d.kind]) out[d.kind].push(d);
      });
      return out;
    });
  }

  /** The stream's track of `kind`, or null (no stream, or none of that kind). */
  function trackOf(stream, kind) {
    return stream ? stream.getTracks().filter(function (tr) {
      return tr.kind === kind;
    })[0] || null : null; // prettier-ignore
  }

  /** The device id a stream's track of `kind` comes from, or null. */
  function deviceOf(stream, kind) {
    var track = trackOf(stream, kind);
    return track && track.getSettings ? track.getSettings().deviceId : null;
  }

  /** Send another camera or microphone in the call (replaceTrack: no new offer); `stream`
   *  (ours, shown in the self view) swaps its track too. Resolves the new track. */
  function swap(pc, stream, kind, deviceId, enabled) {
    var constraints = {};
    constraints[kind] = { deviceId: { exact: deviceId } };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (fresh) {
      var track = fresh.getTracks()[0];
      var sender = pc && pc.getSenders().filter(function (s) {
        return s.track ? s.track.kind === kind : false;
      })[0];
      var transceiver = !sender && pc && pc.getTransceivers().filter(function (tr) {
        return tr.receiver.track && tr.receiver.track.kind === kind;
      })[0];
      var target = sender || (transceiver && transceiver.sender);
      if (target) target.replaceTrack(track);
      var old = trackOf(stream, kind);
      if (old) {
        old.stop();
        stream.removeTrack(old);
      }
      if (stream) stream.addTrack(track);
      track.enabled = enabled;
      return track;
    });
  }

  /** Resolves when `pc` has gathered its ICE candidates (or after 5 s); call it before
   *  setLocalDescription, so no candidate goes by unseen. With no STUN or TURN server
   *  (`hostOnly`) only host candidates can come, and they come together, within a few
   *  milliseconds; Chrome calls the gathering complete only some 120 ms later, so the offer
   *  goes once no new candidate has come for HOST_QUIET_MS. */
  function gathered(pc, hostOnly) {
    return new Promise(function (resolve) {
      var quiet = null;
      var done = function () {
        if (pc.iceGatheringState === "complete") resolve();
      };
      pc.addEventListener("icegatheringstatechange", done);
      if (hostOnly) {
        pc.addEventListener("icecandidate", function (e) {
          if (!e.candidate) return;
          clearTimeout(quiet);
          quiet = setTimeout(resolve, HOST_QUIET_MS);
        });
      }
      setTimeout(resolve, GATHER_MS);
    });
  }

  /* ---------- the ringtone ---------- */

  var tone = null;

  /** Beep (880 Hz, 0.4 s) and vibrate every 1.5 s until stopTone(). An AudioContext made
   *  before the user touched the page may stay silent: browsers allow what they allow. */
  function startTone() {
    if (tone) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    var ctx = null;
    try {
      ctx = Ctx ? new Ctx() : null;
    } catch (e) {
      ctx = null;
    }
    var beep = function () {
      if (ctx) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(ctx.destination);
        osc.start();
        osc.stop(ctx.currentTime + 0.4);
      }
      if (navigator.vibrate) {
        try {
          navigator.vibrate([400, 200, 400]);
        } catch (e) {
          /* not allowed before the user touched the page */
        }
      }
    };
    beep();
    tone = { ctx: ctx, timer: setInterval(beep, 1500) };
  }

  function stopTone() {
    if (!tone) return;
    clearInterval(tone.timer);
    if (tone.ctx && tone.ctx.close) tone.ctx.close();
    if (navigator.vibrate) navigator.vibrate(0);
    tone = null;
  }

  CH.callMedia = {
    errorKey: errorKey,
    open: open,
    devices: devices,
    deviceOf: deviceOf,
    trackOf: trackOf,
    swap: swap,
    gathered: gathered,
    startTone: startTone,
    stopTone: stopTone,
  };
})();
