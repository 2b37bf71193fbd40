/*
 * The wall's grid-worker layer: every worker a glyph (a ring with a person in it) coloured by
 * presence, moved in place as position frames arrive. Used through CommandHall.wallWorkers by
 * the wall view (assets/js/wall.js) and by CommandHall.wallMap.workersAdded (wall_map.js).
 *
 * Workers are moved in place rather than sent through Dash: a dash-leaflet GeoJSON whose data
 * changes clears every layer and builds them all again, while a frame usually moves a tenth
 * of the workers on screen. They are marks of one CommandHall.MarkLayer (wall_marks.js), drawn
 * by a board off the main thread (wall_draw.js): a frame here costs the diff of the state's
 * workers and the projection of those that moved; clearing the canvas, stamping 2,500 glyphs
 * and handing the picture over are the drawing worker's (docs/performance.md, the wall). A
 * click on the map near a worker offers a call (offerCall); a kiosk nobody touches never
 * opens it.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var WORKERS_PANE = "wall-workers-pane"; // dashboard/wall_map.py live_layer("workers")
  var PRESENCES_KNOWN = { online: 1, idle: 1, offline: 1 };
  var Z = { offline: 0, idle: 1, online: 2 }; // working ones in front
  // The stylesheet's colours (--ch-online ...) if it has them, these if not.
  var PRESENCE_COLOURS = { online: "#34e3c6", idle: "#f0a23a", offline: "#6d8098" };
  var EDGE_COLOUR = "#031222"; // the dark edge under the fill, on bright towns as on country
  var WORKER_RADIUS = 9; // px at 1080 lines

  function scale() {
    return CH.wallScale ? CH.wallScale() : 1;
  }

  function presenceColour(presence) {
    var css = window.getComputedStyle(document.documentElement);
    var value = css.getPropertyValue("--ch-" + presence).trim();
    return value || PRESENCE_COLOURS[presence];
  }

  /** The glyph of each presence (wall_draw.js sprite specs). */
  function styles() {
    var out = {};
    Object.keys(PRESENCES_KNOWN).forEach(function (presence) {
      var offline = presence === "offline";
      out[presence] = {
        shape: "person",
        radius: WORKER_RADIUS * scale(),
        weight: 3 * scale(),
        fill: presenceColour(presence),
        fillOpacity: offline ? 0.5 : 1,
        stroke: EDGE_COLOUR,
        strokeOpacity: offline ? 0.3 : 0.9,
      };
    });
    return out;
  }

  function presenceOf(w) {
    return PRESENCES_KNOWN[w.presence] ? w.presence : "offline";
  }

  function located(w) {
    return typeof w.lat === "number" && typeof w.long === "number";
  }

  var workerLayer = {
    group: null, // the L.LayerGroup on the map, once dash-leaflet has added it
    marks: null, // the CommandHall.MarkLayer in it
    wanted: null, // the state's workers map last handed over (drawn when the group comes)
    drawn: {}, // id → {worker}: what the map shows now
    stats: { syncs: 0, lastMs: 0, maxMs: 0, totalMs: 0, last: null },

    attach: function (group) {
      if (group === this.group) {
        return;
      }
      this.group = group;
      this.drawn = {}; // a new map (the page was left and opened again)
      this.marks = CH.MarkLayer({ pane: WORKERS_PANE, styles: styles() });
      group.addLayer(this.marks);
      group._map.on("click", this.clicked, this);
      if (this.wanted) {
        this.sync(this.wanted);
      }
    },

    /** A click on the map: the worker under it, if any, offers a call. */
    clicked: function (event) {
      var radius = (WORKER_RADIUS + 3) * scale();
      var hit = this.marks && this.marks._map && this.marks.nearest(event.containerPoint, radius);
      if (hit) {
        this.offerCall(hit.id);
      }
    },

    /** An officer at the wall may call a worker (assets/js/call.js acts on the button's
     *  data-call-worker). */
    offerCall: function (id) {
      var d = this.drawn[id];
      if (!d) {
        return;
      }
      var en = /[?&]lang=en\b/.test(window.location.search);
      var box = document.createElement("div");
      box.className = "wall-worker-popup";
      var name = document.createElement("b");
      name.textContent = d.worker.name || String(id);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "ch-call-btn is-accept";
      button.setAttribute("data-call-worker", String(id));
      button.textContent = en ? "Video call" : "视频通话";
      box.appendChild(name);
      box.appendChild(button);
      window.L.popup({ offset: [0, -WORKER_RADIUS * scale()] })
        .setLatLng([d.worker.lat, d.worker.long])
        .setContent(box)
        .openOn(this.group._map);
    },

    /** Make the map show `workers` ({id: worker}); touches only the workers that changed. */
    sync: function (workers) {
      this.wanted = workers || {};
      var marks = this.marks;
      if (!marks || !marks._map) {
        return null;
      }
      var started = window.performance.now();
      var drawn = this.drawn;
      var wanted = this.wanted;
      var count = { moved: 0, redrawn: 0, restyled: 0, added: 0, removed: 0, total: 0 };
      Object.keys(wanted).forEach(function (id) {
        var w = wanted[id];
        var d = drawn[id];
        if (d && d.worker === w) {
          count.total += 1;
          return; // the reducer replaces a worker only when a frame changed it
        }
        if (!located(w)) {
          if (d) {
            marks.drop(id);
            delete drawn[id];
            count.removed += 1;
          }
          return;
        }
        count.total += 1;
        var presence = presenceOf(w);
        var changed = marks.place(id, w.lat, w.long, presence, Z[presence]);
        if (!d) {
          drawn[id] = { worker: w };
          count.added += 1;
          return;
        }
        if (d.worker.lat !== w.lat || d.worker.long !== w.long) {
          count.moved += 1;
        }
        if (presenceOf(d.worker) !== presence) {
          count.restyled += 1;
        } else if (changed) {
          count.redrawn += 1; // moved to another pixel
        }
        d.worker = w;
      });
      Object.keys(drawn).forEach(function (id) {
        if (!wanted[id]) {
          marks.drop(id);
          delete drawn[id];
          count.removed += 1;
        }
      });
      marks.flush();
      var ms = window.performance.now() - started;
      var stats = this.stats;
      stats.syncs += 1;
      stats.lastMs = ms;
      stats.maxMs = Math.max(stats.maxMs, ms);
      stats.totalMs += ms;
      stats.last = count;
      return count;
    },

    /** Where a worker's marker is now, for tests and for whoever wants to look. */
    latLng: function (id) {
      var m = this.marks && this.marks.marks[id];
      return m ? window.L.latLng(m.lat, m.long) : null;
    },

    /** How many workers the map shows: what its board says it has drawn. */
    count: function () {
      return this.marks && this.marks.board ? this.marks.board.drawn.marks : 0;
    },

    /**
     * What the canvas shows, read-only, for tests and the benchmark (a canvas has no element
     * per marker to query): [{id, lat, long, presence, x, y}], x and y in the map's container
     * pixels, where a click lands on the marker.
     */
    markers: function () {
      var marks = this.marks;
      if (!marks) {
        return [];
      }
      return Object.keys(marks.marks).map(function (id) {
        var m = marks.marks[id];
        var p = marks.containerPoint(id) || { x: NaN, y: NaN };
        return { id: id, lat: m.lat, long: m.long, presence: m.key, x: p.x, y: p.y };
      });
    },
  };
  CH.wallWorkers = workerLayer;
})();
