/*
 * The case page's nearest cameras, live (dashboard/case_side_layout.py `camera_tiles`).
 *
 * Every <video data-camera-id> inside #case-tiles gets a CommandHall.cameraPlayer (from
 * assets/js/camera_player.js); its status line (.case-tile-status) shows what the player
 * says. The page is Dash: tiles come and go without a page load (another case opened from
 * the duplicates list, another page), so a MutationObserver keeps the players in step with
 * the tiles in the document, and a player whose video left is stopped at once: the gateway
 * hears `unwatch` and its viewer count drops back. The tiles sit outside what the page's
 * refresh re-draws, so a case update does not restart the video.
 *
 * "Save snapshot as evidence" (.case-tile-save) posts to
 * /api/cases/<id>/evidence/camera-snapshot with the session's CSRF token; the answer is
 * written under the tile, and the page re-reads the case (`case-bump`) so the photo and the
 * timeline event show at once (the socket would tell it too, a moment later).
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var CSRF_COOKIE = "_csrf_token";
  var live = []; // [{video, cameraId, player}]
  var queued = false;

  function strings() {
    return CH.readStrings(document.getElementById("case-tiles"));
  }

  function say(key, values) {
    var s = strings()[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      s = s.split("{" + name + "}").join(String(values[name]));
    });
    return s;
  }

  /* ---- players follow the tiles ---- */

  function sync() {
    queued = false;
    live = live.filter(function (p) {
      var kept = document.contains(p.video) && p.video.getAttribute("data-camera-id") === p.cameraId;
      if (!kept) {
        p.player.stop();
      }
      return kept;
    });
    var root = document.getElementById("case-tiles");
    if (!root || !CH.cameraPlayer) {
      return;
    }
    var videos = root.querySelectorAll("video[data-camera-id]");
    for (var i = 0; i < videos.length; i++) {
      if (!playing(videos[i])) {
        start(videos[i]);
      }
    }
  }

  function playing(video) {
    return live.some(function (p) {
      return p.video === video;
    });
  }

  function start(video) {
    var cameraId = video.getAttribute("data-camera-id");
    var tile = video.closest(".case-tile");
    var status = tile && tile.querySelector(".case-tile-status");
    video.muted = true; // autoplay without a click needs a muted video
    var player = CH.cameraPlayer.play(video, Number(cameraId), {
      strings: strings(),
      onStatus: function (kind, text) {
        if (status) {
          status.textContent = text;
          status.className = "case-tile-status is-" + kind;
        }
      },
    });
    live.push({ video: video, cameraId: cameraId, player: player });
  }

  function later() {
    // Every Dash page loads this; only a case page with tiles (or players to stop) has work.
    if (!queued && (live.length || document.getElementById("case-tiles"))) {
      queued = true;
      window.setTimeout(sync, 0);
    }
  }

  function stopAll() {
    live.forEach(function (p) {
      p.player.stop();
    });
    live = [];
  }

  /* ---- save a snapshot as evidence ---- */

  function csrf() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + CSRF_COOKIE + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(msg, text, kind, title) {
    msg.textContent = text;
    msg.className = "case-tile-msg" + (kind ? " is-" + kind : "");
    msg.title = title || "";
  }

  /** The page's words for a refusal the API names by code, else the API's own message. */
  function failure(status, body) {
    var code = body && body.code;
    var known = code && strings()["console.snap." + code];
    var message = known || (body && body.message) || "HTTP " + status;
    return say("console.snap.failed", { message: message });
  }

  function refreshCase() {
    var clientside = window.dash_clientside;
    if (clientside && clientside.set_props) {
      clientside.set_props("case-bump", { data: Date.now() });
    }
  }

  function save(button) {
    var tile = button.closest(".case-tile");
    var msg = tile.querySelector(".case-tile-msg");
    var caseId = tile.getAttribute("data-case-id");
    button.disabled = true;
    show(msg, say("console.snap.saving"), "");
    window
      .fetch("/api/cases/" + encodeURIComponent(caseId) + "/evidence/camera-snapshot", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify({ camera_id: Number(button.getAttribute("data-camera-id")) }),
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            if (response.ok && body) {
              show(msg, say("console.snap.saved"), "ok");
              msg.setAttribute("data-photo-id", String(body.id));
              refreshCase();
            } else {
              show(msg, failure(response.status, body), "error", body && body.message);
            }
          });
      })
      .catch(function (err) {
        show(msg, say("console.snap.failed", { message: say("console.snap.network") }), "error", String(err));
      })
      .then(function () {
        button.disabled = false;
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest && event.target.closest(".case-tile-save");
    if (button && !button.disabled) {
      save(button);
    }
  });

  function begin() {
    // Attributes too: Dash may keep a <video> for another case's tile and only change its
    // camera id.
    new MutationObserver(later).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["data-camera-id"],
    });
    window.addEventListener("pagehide", stopAll);
    sync();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", begin);
  } else {
    begin();
  }

  /** For tests and the console: the players of the tiles now on the page. */
  CH.caseCameras = {
    players: function () {
      return live.map(function (p) {
        return p.player;
      });
    },
  };
})();
