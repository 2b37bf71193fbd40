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
   * tenth of the workers. All workers are drawn on one canvas (a Leaflet canvas renderer in
   * the workers' pane), each as a ring with a person in it, stamped from a sprite made once
   * per presence and radius (WorkerGlyph); a move is marker.setLatLng and a presence change
   * a redraw. As SVG paths, 2,500 workers made the browser style, lay out and paint 2,500
   * elements on every repaint (docs/performance.md, the wall); on a canvas a frame costs one
   * redraw of the rectangle the moved workers cover. Canvas paths still take clicks: the
   * renderer hit-tests them, so a click on a worker offers a call (offerCall). The layer
   * group comes from dashboard/wall_map.py live_layer("workers"), handed over by its "add"
   * event (CommandHall.wallMap.workersAdded).
   */
  var PRESENCES_KNOWN = { online: 1, idle: 1, offline: 1 };
  // The stylesheet's colours (--ch-online ...) if it has them, these if not.
  var PRESENCE_COLOURS = { online: "#34e3c6", idle: "#f0a23a", offline: "#6d8098" };
  var EDGE_COLOUR = "#031222"; // the dark edge under the fill, on bright towns as on country
  var WORKER_RADIUS = 9; // px at 1080 lines
  var WorkerGlyph = null; // the L.CircleMarker subclass, made once Leaflet is there

  var tails = {}; // radius → the glyph after its centre, in relative commands
  var sprites = {}; // presence + radius + weight → {canvas, half}

  /** The glyph as SVG path data around (0, 0): the sprite's Path2D reads it. */
  function glyphPath(r) {
    if (tails[r] === undefined) {
      tails[r] = glyphTail(r);
    }
    return "M0,0" + tails[r];
  }

  /**
   * An outer ring, and a head and shoulders inside it, in relative commands after the centre.
   * Filled even-odd, the ring's inner circle cuts the disc open and the person fills again.
   */
  function glyphTail(r) {
    var out = "";
    var pen = [0, 0]; // where the pen is, from the centre, rounded to 0.1 px
    function round(v) {
      return Math.round(v * 10) / 10;
    }
    function num(v) {
      return round(v).toFixed(1);
    }
    function from(origin, x, y) {
      return num(round(x) - origin[0]) + "," + num(round(y) - origin[1]);
    }
    function move(x, y) {
      out += "m" + from(pen, x, y);
      pen = [round(x), round(y)];
    }
    function circle(cx, cy, cr) {
      move(cx - cr, cy); // after "z" the pen is back here
      var c = num(cr);
      out += "a" + c + "," + c + " 0 1,0 " + num(2 * cr) + ",0a" + c + "," + c + " 0 1,0 " +
        num(-2 * cr) + ",0z";
    }
    circle(0, 0, r);
    circle(0, 0, r * 0.74);
    circle(0, -r * 0.26, r * 0.2);
    move(-0.4 * r, 0.5 * r);
    var shoulder = pen;
    out += "c" + from(shoulder, -0.4 * r, 0.14 * r) + " " + from(shoulder, -0.22 * r, 0.02 * r) +
      " " + from(shoulder, 0, 0.02 * r);
    var neck = [0, round(0.02 * r)];
    out += "s" + from(neck, 0.4 * r, 0.14 * r) + " " + from(neck, 0.4 * r, 0.5 * r) + "z";
    return out;
  }

  function presenceColour(presence) {
    var css = window.getComputedStyle(document.documentElement);
    var value = css.getPropertyValue("--ch-" + presence).trim();
    return value || PRESENCE_COLOURS[presence];
  }

  /**
   * The glyph of one presence and size, drawn once into a small canvas at the screen's pixel
   * ratio: the dark edge stroked under the fill (it fills the gap between ring and person),
   * then the ring and the person filled even-odd. Stamping it is one drawImage a worker,
   * where tracing the path would be four arcs and two curves.
   */
  function sprite(presence, r, weight) {
    var key = presence + ":" + r + ":" + weight;
    if (sprites[key]) {
      return sprites[key];
    }
    var ratio = window.devicePixelRatio || 1;
    var half = Math.ceil(r + weight / 2 + 1);
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = 2 * half * ratio;
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.translate(half, half);
    var path = new window.Path2D(glyphPath(r));
    var offline = presence === "offline";
    ctx.lineJoin = "round";
    ctx.lineWidth = weight;
    ctx.strokeStyle = EDGE_COLOUR;
    ctx.globalAlpha = offline ? 0.3 : 0.9;
    ctx.stroke(path);
    ctx.fillStyle = presenceColour(presence);
    ctx.globalAlpha = offline ? 0.5 : 1;
    ctx.fill(path, "evenodd");
    sprites[key] = { canvas: canvas, half: half };
    return sprites[key];
  }

  /** A circle marker that the canvas renderer draws as the worker's sprite. */
  function glyphClass() {
    if (!WorkerGlyph) {
      WorkerGlyph = window.L.CircleMarker.extend({
        _updatePath: function () {
          var renderer = this._renderer;
          if (!renderer._drawing || this._empty()) {
            return;
          }
          var s = sprite(this.options.presence, this._radius, this.options.weight);
          var p = this._point;
          renderer._ctx.drawImage(s.canvas, p.x - s.half, p.y - s.half, 2 * s.half, 2 * s.half);
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

  /**
   * Whether moving `marker` to the worker's position changes a pixel. At the 1080-line wall's
   * zoom a pixel is about 56 m: a walker's fix a second later is usually in the same one, and
   * redrawing it would clear and repaint its patch of the canvas for nothing.
   * A move that stays in its pixel only updates the LatLng (getLatLng and a later zoom see it);
   * the point is compared with where it is drawn, so small moves add up to a redraw.
   */
  function movesOnScreen(marker, w) {
    var map = marker._map;
    if (!map || !marker._point) {
      return true;
    }
    var next = map.latLngToLayerPoint([w.lat, w.long]).round();
    var drawn = marker._point.round();
    return next.x !== drawn.x || next.y !== drawn.y;
  }

  /** Offline workers at the back, working ones in front (the canvas draws in layer order). */
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
    renderer: null, // the canvas all the markers are drawn on (one per map)
    stats: { syncs: 0, lastMs: 0, maxMs: 0, totalMs: 0, last: null },

    attach: function (group) {
      if (group === this.group) {
        return;
      }
      this.group = group;
      this.drawn = {}; // a new map (the page was left and opened again)
      this.renderer = window.L.canvas({ pane: WORKERS_PANE });
      if (this.wanted) {
        this.sync(this.wanted);
      }
    },

    /** An officer at the wall may call a worker from its marker (assets/js/call.js acts on
     *  the button's data-call-worker); a kiosk nobody touches never opens it. */
    offerCall: function (event) {
      var id = event.target && event.target.workerId;
      var d = id !== undefined ? this.drawn[id] : null;
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
      event.target.bindPopup(box).openPopup();
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
      var offerCall = this.offerCall.bind(this);
      var count = { moved: 0, redrawn: 0, restyled: 0, added: 0, removed: 0, total: 0 };
      var Glyph = glyphClass();
      var renderer = this.renderer;
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
            renderer: renderer,
            radius: radius,
            weight: 3 * scale(), // the dark edge under the fill (the sprite draws it)
            presence: presence,
            interactive: true, // a click offers a call (offerCall)
          });
          marker.workerId = id;
          marker.on("click", offerCall);
          group.addLayer(marker);
          restack(marker, presence);
          drawn[id] = { worker: w, marker: marker };
          count.added += 1;
          return;
        }
        if (d.worker.lat !== w.lat || d.worker.long !== w.long) {
          if (movesOnScreen(d.marker, w)) {
            d.marker.setLatLng([w.lat, w.long]);
            count.redrawn += 1;
          } else {
            d.marker._latlng = window.L.latLng(w.lat, w.long); // a zoom will project it
          }
          count.moved += 1;
        }
        var was = presenceOf(d.worker);
        if (was !== presence) {
          d.marker.options.presence = presence;
          d.marker.redraw();
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

    /** How many workers the map shows. */
    count: function () {
      return Object.keys(this.drawn).length;
    },

    /**
     * What the canvas shows, read-only, for tests and the benchmark (a canvas has no element
     * per marker to query): [{id, lat, long, presence, x, y}], x and y in the map's container
     * pixels, where a click lands on the marker.
     */
    markers: function () {
      var drawn = this.drawn;
      return Object.keys(drawn).map(function (id) {
        var m = drawn[id].marker;
        var at = m.getLatLng();
        var p = m._map ? m._map.latLngToContainerPoint(at) : { x: NaN, y: NaN };
        return { id: id, lat: at.lat, long: at.lng, presence: m.options.presence, x: p.x, y: p.y };
      });
    },
  };
  CH.wallWorkers = workerLayer;
})();
