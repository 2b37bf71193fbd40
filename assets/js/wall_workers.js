/*
 * The wall's grid-worker layer: markers moved in place as position frames arrive.
 * Used through CommandHall.wallWorkers by the wall view (assets/js/wall.js) and by
 * CommandHall.wallMap.workersAdded (wall_map.js).
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var WORKERS_PANE = "wall-workers-pane"; // dashboard/wall_map.py live_layer("workers")

  function scale() {
    return CH.wallScale ? CH.wallScale() : 1;
  }

  /* ---- the grid-worker layer ---- */

  /*
   * Workers are moved in place rather than sent through Dash: a dash-leaflet GeoJSON whose
   * data changes clears every layer and builds them all again, while a frame usually moves a
   * tenth of the workers. Each worker is one SVG path in the pane's renderer, drawn as a ring
   * with a person in it (WorkerGlyph); a move is marker.setLatLng (one path's `d`), a presence
   * change swaps its class (the stylesheet colours it). SVG rather than HTML (DivIcon)
   * markers: with 2,500 workers on the demo wall in headless Chromium, DivIcons took 2 s to
   * add and 0.3-0.7 s to repaint after all moved, these paths 0.6 s and 0.25-0.37 s; with 150
   * either repaints in the 40-60 ms the page takes anyway (tests/e2e/test_wall_workers.py
   * prints its own numbers). The layer group comes from dashboard/wall_map.py
   * live_layer("workers"), handed over by its "add" event (CommandHall.wallMap.workersAdded).
   */
  var PRESENCES_KNOWN = { online: 1, idle: 1, offline: 1 };
  var WORKER_RADIUS = 9; // px at 1080 lines
  var WorkerGlyph = null; // the L.CircleMarker subclass, made once Leaflet is there

  /** The glyph as one SVG path: an outer ring, and a head and shoulders inside it. Filled
   *  even-odd, the ring's inner circle cuts the disc open and the person inside fills again. */
  function glyphPath(p, r) {
    function circle(cx, cy, cr) {
      return (
        "M" + (cx - cr).toFixed(1) + "," + cy.toFixed(1) + "a" + cr.toFixed(1) + "," +
        cr.toFixed(1) + " 0 1,0 " + (2 * cr).toFixed(1) + ",0a" + cr.toFixed(1) + "," +
        cr.toFixed(1) + " 0 1,0 " + (-2 * cr).toFixed(1) + ",0z"
      );
    }
    function at(dx, dy) {
      return (p.x + dx * r).toFixed(1) + "," + (p.y + dy * r).toFixed(1);
    }
    return (
      circle(p.x, p.y, r) +
      circle(p.x, p.y, r * 0.74) +
      circle(p.x, p.y - r * 0.26, r * 0.2) +
      "M" + at(-0.4, 0.5) + "C" + at(-0.4, 0.14) + " " + at(-0.22, 0.02) + " " + at(0, 0.02) +
      "S" + at(0.4, 0.14) + " " + at(0.4, 0.5) + "z"
    );
  }

  function glyphClass() {
    if (!WorkerGlyph) {
      WorkerGlyph = window.L.CircleMarker.extend({
        _updatePath: function () {
          this._renderer._setPath(
            this,
            this._empty() ? "M0 0" : glyphPath(this._point.round(), this._radius)
          );
        },
      });
    }
    return WorkerGlyph;
  }

  function presenceOf(w) {
    return PRESENCES_KNOWN[w.presence] ? w.presence : "offline";
  }

  function located(w) {
    return typeof w.lat === "number" && typeof w.long === "number";
  }

  /** Offline workers at the back, working ones in front (SVG paints in document order). */
  function restack(marker, presence) {
    if (presence === "offline") {
      marker.bringToBack();
    } else if (presence === "online") {
      marker.bringToFront();
    }
  }

  var workerLayer = {
    group: null, // the L.LayerGroup on the map, once dash-leaflet has added it
    wanted: null, // the state's workers map last handed over (drawn when the group comes)
    drawn: {}, // id → {worker, marker}: what the map shows now
    stats: { syncs: 0, lastMs: 0, maxMs: 0, totalMs: 0, last: null },

    attach: function (group) {
      if (group === this.group) {
        return;
      }
      this.group = group;
      this.drawn = {}; // a new map (the page was left and opened again)
      if (this.wanted) {
        this.sync(this.wanted);
      }
    },

    /** Make the map show `workers` ({id: worker}); touches only the workers that changed. */
    sync: function (workers) {
      this.wanted = workers || {};
      var group = this.group;
      if (!group || !group._map) {
        return null;
      }
      var started = window.performance.now();
      var drawn = this.drawn;
      var wanted = this.wanted;
      var count = { moved: 0, restyled: 0, added: 0, removed: 0, total: 0 };
      var Glyph = glyphClass();
      var radius = WORKER_RADIUS * scale();
      Object.keys(wanted).forEach(function (id) {
        var w = wanted[id];
        var d = drawn[id];
        if (d && d.worker === w) {
          count.total += 1;
          return; // the reducer replaces a worker only when a frame changed it
        }
        if (!located(w)) {
          if (d) {
            group.removeLayer(d.marker);
            delete drawn[id];
            count.removed += 1;
          }
          return;
        }
        count.total += 1;
        var presence = presenceOf(w);
        if (!d) {
          var marker = new Glyph([w.lat, w.long], {
            pane: WORKERS_PANE,
            radius: radius,
            weight: 3 * scale(), // the dark edge under the fill; the stylesheet gives colours
            interactive: false,
            className: "wall-worker is-" + presence,
          });
          group.addLayer(marker);
          restack(marker, presence);
          drawn[id] = { worker: w, marker: marker };
          count.added += 1;
          return;
        }
        if (d.worker.lat !== w.lat || d.worker.long !== w.long) {
          d.marker.setLatLng([w.lat, w.long]);
          count.moved += 1;
        }
        var was = presenceOf(d.worker);
        if (was !== presence) {
          var el = d.marker.getElement();
          window.L.DomUtil.removeClass(el, "is-" + was);
          window.L.DomUtil.addClass(el, "is-" + presence);
          d.marker.options.className = "wall-worker is-" + presence;
          restack(d.marker, presence);
          count.restyled += 1;
        }
        d.worker = w;
      });
      Object.keys(drawn).forEach(function (id) {
        if (!wanted[id]) {
          group.removeLayer(drawn[id].marker);
          delete drawn[id];
          count.removed += 1;
        }
      });
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
      var d = this.drawn[id];
      return d ? d.marker.getLatLng() : null;
    },
  };
  CH.wallWorkers = workerLayer;
})();
