/*
 * The camera tile wall: 4, 9 or 16 tiles (`?tiles=`; by default 4 at 1080 lines, 9 at 4K),
 * each an empty <video id="wall-tile-<n>" data-camera-id="..."> with the camera's name and a
 * status line. While a case is red the tiles show the cameras nearest the case that turned
 * red last; otherwise they patrol every camera, a page every 30 s.
 *
 * Playing video is not done here. Whoever plays it (the camera gateway's browser side) reads
 * the assignment, and hears of every change, in any of three ways:
 *   - CommandHall.wallTiles.assign() returns it: [{tile, id, video, cameraId, camera}];
 *   - the document gets a `commandhall:wall-tiles` event whose detail is the same list;
 *   - CommandHall.cameraTiles, when defined, is called with it (a function, or an object
 *     with an `assign` method).
 * CommandHall.wallTiles.setStatus(tile, text, kind) writes a tile's status line.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var PATROL_MS = 30 * 1000;
  var COUNTS = [4, 9, 16];
  var EVENT = "commandhall:wall-tiles";

  function metres(a, b) {
    var rad = Math.PI / 180;
    var x = (b.long - a.long) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
    var y = (b.lat - a.lat) * rad;
    return Math.sqrt(x * x + y * y) * 6371000;
  }

  /** How far a camera is from the case: "640 m", "1.2 km". */
  function distanceText(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1) + " km";
  }

  /** How many tiles: the page's `?tiles=`, else what the screen is tall enough for. */
  function tileCount(root) {
    var asked = parseInt(root.getAttribute("data-tiles"), 10);
    if (COUNTS.indexOf(asked) >= 0) {
      return asked;
    }
    return window.innerHeight >= 1600 || window.innerWidth >= 2880 ? 9 : 4;
  }

  function cameraList() {
    var all = (CH.wallMap && CH.wallMap.cameras) || {};
    return Object.keys(all)
      .map(function (id) {
        return all[id];
      })
      .sort(function (a, b) {
        return a.id - b.id;
      });
  }

  /*
   * A playing video fires `timeupdate` four times a second, and React (Dash's renderer) listens
   * for media events at its root in the capture phase, so each one went through React's event
   * dispatch although nothing here wants it: with 16 tiles, 64 main-thread tasks a second.
   * Stopped above React's root (window, capture phase) for the tiles' videos only.
   */
  function quietTiles(event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("wall-tile-video")) {
      event.stopPropagation();
    }
  }
  window.addEventListener("timeupdate", quietTiles, true);
  window.addEventListener("progress", quietTiles, true);

  var tiles = {
    root: null,
    boxes: [], // one per tile: {figure, video, name, where, status}
    current: [], // [{tile, id, video, cameraId, camera, where}]
    mode: null, // "near" | "patrol"
    focus: null, // the red case the tiles are around
    patrolPage: 0,
    patrolAt: 0,
    strings: {},

    build: function (root, strings) {
      var D = CH.wallDom;
      var n = tileCount(root);
      root.textContent = "";
      root.setAttribute("data-count", String(n));
      root.className = "wall-tiles is-" + n;
      this.boxes = [];
      for (var i = 1; i <= n; i++) {
        var figure = root.appendChild(D.node("figure", "wall-tile"));
        figure.id = "wall-tile-box-" + i;
        var video = figure.appendChild(document.createElement("video"));
        video.id = "wall-tile-" + i;
        video.className = "wall-tile-video";
        video.muted = true;
        video.autoplay = true;
        video.setAttribute("muted", "");
        video.setAttribute("playsinline", "");
        figure.appendChild(D.node("span", "wall-tile-index", CH.wallFmt.pad(i)));
        var caption = figure.appendChild(D.node("figcaption", "wall-tile-caption"));
        var name = caption.appendChild(D.node("span", "wall-tile-name"));
        var line = caption.appendChild(D.node("span", "wall-tile-line"));
        var where = line.appendChild(D.node("span", "wall-tile-where"));
        var status = line.appendChild(D.node("span", "wall-tile-status is-waiting"));
        status.textContent = strings["wall.tiles.waiting"] || "";
        this.boxes.push({ figure: figure, video: video, name: name, where: where, status: status });
      }
      this.root = root;
      this.current = [];
      this.mode = null;
      this.focus = null;
    },

    /** Look at the state: is there a red case to show, and has it changed? */
    update: function (state, now, strings) {
      var root = document.getElementById("wall-tiles");
      if (!root) {
        return;
      }
      this.strings = strings;
      if (this.root !== root) {
        this.build(root, strings);
      }
      var red = CH.wallStats.newestRed(state);
      if (red) {
        var same = this.mode === "near" && this.focus && this.focus.id === red.id;
        if (!same || !this.filled()) {
          this.near(red);
        } else {
          this.focus = red;
        }
      } else if (this.mode !== "patrol") {
        this.patrolPage = 0;
        this.patrol(now);
      }
    },

    /** Every second: the patrol turns its page; cameras that arrived late get their tiles. */
    tick: function (now, strings) {
      if (!this.root) {
        return;
      }
      this.strings = strings;
      if (this.mode === "patrol" && now - this.patrolAt >= PATROL_MS) {
        this.patrolPage += 1;
        this.patrol(now);
      } else if (!this.filled() && cameraList().length) {
        if (this.mode === "near" && this.focus) {
          this.near(this.focus);
        } else {
          this.patrol(now);
        }
      }
    },

    near: function (red) {
      var at = { lat: red.lat, long: red.long };
      var ranked = cameraList()
        .map(function (c) {
          return { camera: c, m: metres(at, c) };
        })
        .sort(function (a, b) {
          return a.m - b.m || a.camera.id - b.camera.id;
        })
        .slice(0, this.boxes.length);
      var strings = this.strings;
      this.mode = "near";
      this.focus = red;
      var category = CH.wallFmt.categoryName(red.category, red, strings);
      this.setMode(
        (strings["wall.tiles.near"] || "") + " · " + (red.township || "") + " " + category
      );
      this.show(
        ranked.map(function (r) {
          return { camera: r.camera, where: distanceText(r.m) };
        })
      );
    },

    patrol: function (now) {
      var all = cameraList();
      var per = this.boxes.length;
      var pages = Math.max(1, Math.ceil(all.length / per));
      var page = this.patrolPage % pages;
      var names = (CH.live && CH.live.state && CH.live.state.townships) || {};
      this.mode = "patrol";
      this.focus = null;
      this.patrolAt = now;
      this.setMode((this.strings["wall.tiles.patrol"] || "") + " " + (page + 1) + "/" + pages);
      this.show(
        all.slice(page * per, page * per + per).map(function (c) {
          return { camera: c, where: names[c.township_id] || "" };
        })
      );
    },

    setMode: function (text) {
      var el = document.getElementById("wall-tiles-mode");
      if (el) {
        CH.wallDom.setText(el, text);
      }
    },

    /** Whether any tile has a camera (the state can come before the map's cameras do). */
    filled: function () {
      return this.current.some(function (a) {
        return a.cameraId !== null;
      });
    },

    /** Put `picks` ([{camera, where}]) on the tiles, and tell whoever plays the video. */
    show: function (picks) {
      var D = CH.wallDom;
      var strings = this.strings;
      var before = this.current
        .map(function (a) {
          return a.cameraId;
        })
        .join(",");
      this.current = this.boxes.map(function (box, i) {
        var pick = picks[i];
        var id = pick ? String(pick.camera.id) : "";
        if (box.video.getAttribute("data-camera-id") !== id) {
          box.video.setAttribute("data-camera-id", id);
          D.setText(box.status, pick ? strings["wall.tiles.waiting"] || "" : "");
          box.status.className = "wall-tile-status is-waiting";
        }
        box.figure.className = "wall-tile" + (pick ? "" : " is-empty");
        D.setText(box.name, pick ? pick.camera.name : strings["wall.tiles.none"] || "");
        D.setText(box.where, pick ? pick.where : "");
        return {
          tile: i + 1,
          id: box.video.id,
          video: box.video,
          cameraId: pick ? pick.camera.id : null,
          camera: pick ? pick.camera : null,
        };
      });
      var ids = this.current
        .map(function (a) {
          return a.cameraId;
        })
        .filter(function (id) {
          return id !== null;
        });
      if (CH.wallMap && CH.wallMap.markCameras) {
        CH.wallMap.markCameras(ids);
      }
      if (ids.join(",") !== before) {
        this.announce();
      }
    },

    announce: function () {
      var list = this.current.slice();
      try {
        document.dispatchEvent(new window.CustomEvent(EVENT, { detail: list }));
        var hook = CH.cameraTiles;
        if (typeof hook === "function") {
          hook(list);
        } else if (hook && typeof hook.assign === "function") {
          hook.assign(list);
        }
      } catch (e) {
        if (window.console) {
          console.error("CommandHall camera tiles: the playback hook failed", e);
        }
      }
    },

    /** The tiles and the camera each should play; tells the listeners again. */
    assign: function () {
      this.announce();
      return this.current.slice();
    },

    /** Write the status line of tile `n` (1-based): kind "playing", "waiting", "error". */
    setStatus: function (n, text, kind) {
      var box = this.boxes[n - 1];
      if (box) {
        CH.wallDom.setText(box.status, text);
        box.status.className = "wall-tile-status is-" + (kind || "waiting");
      }
    },
  };
  CH.wallTiles = tiles;
})();
