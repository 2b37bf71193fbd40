/*
 * A Leaflet layer of many marks on one canvas (CommandHall.MarkLayer): the wall's cases and
 * grid workers. It keeps each mark's place and look, projects them to the map's pixels, and
 * tells its board (assets/js/wall_draw.js) what changed; the board draws them, off the main
 * thread where the browser can. A mark that moves within its pixel is not sent at all (at
 * the 1080-line wall's zoom a pixel is about 56 m, and a walker's fix a second later is
 * usually in the same one).
 *
 *   var layer = new CommandHall.MarkLayer({pane: "wall-workers-pane", styles: {key: spec}});
 *   group.addLayer(layer);
 *   layer.place(id, lat, long, key, z);  layer.drop(id);  layer.flush();
 *
 * Marks take no pointer events: layer.nearest(containerPoint, px) finds the mark under a
 * click for whoever listens to the map's.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var R = 6378137; // Leaflet's L.Projection.SphericalMercator
  var MAX_LATITUDE = 85.0511287798;
  var DEG = Math.PI / 180;

  function ratio() {
    return window.devicePixelRatio || 1;
  }

  function makeClass() {
    return window.L.Layer.extend({
      initialize: function (options) {
        window.L.setOptions(this, options);
        this.marks = {}; // id → {lat, long, key, z, x, y}: x, y where the board draws it
        this.pending = {}; // id → true: placed or moved since the last flush
        this.dropped = {}; // id → true
        this.styles = options.styles || {};
        this.keys = Object.keys(this.styles); // the board's names for them, by number
        this.keyNumber = {};
        this.numberKeys();
        this.board = null;
        this.origin = null; // the canvas's top left, in the map's layer pixels
        this.sent = 0; // marks sent to the board, over its life (for the benchmark)
      },

      numberKeys: function () {
        var numbers = (this.keyNumber = {});
        this.keys.forEach(function (key, i) {
          numbers[key] = i;
        });
      },

      /** Marks as the board takes them: [id, x, y, key number, z] each, in one buffer. */
      pack: function (ids) {
        var out = new Int32Array(5 * ids.length);
        for (var i = 0, j = 0; i < ids.length; i++, j += 5) {
          var m = this.marks[ids[i]];
          out[j] = m.id;
          out[j + 1] = m.x;
          out[j + 2] = m.y;
          out[j + 3] = this.keyNumber[m.key];
          out[j + 4] = m.z;
        }
        return out;
      },

      onAdd: function (map) {
        if (!this.canvas) {
          this.renew();
        }
        this.getPane().appendChild(this.canvas);
        this.reset();
      },

      /** A new canvas and board (the first, or after the drawing worker died). */
      renew: function () {
        var old = this.canvas;
        this.canvas = window.L.DomUtil.create("canvas", "wall-marks");
        this.canvas.style.pointerEvents = "none";
        this.board = CH.wallDraw.board(this.canvas);
        if (old && old.parentNode) {
          old.parentNode.replaceChild(this.canvas, old);
        }
      },

      onRemove: function () {
        window.L.DomUtil.remove(this.canvas);
      },

      getEvents: function () {
        return { viewreset: this.reset, zoomend: this.reset, moveend: this.reset,
          resize: this.reset, zoomstart: this.hide };
      },

      hide: function () {
        this.canvas.style.visibility = "hidden"; // until zoomend draws it at the new zoom
      },

      /** The map moved, zoomed or changed size: place the canvas over it and draw again. */
      reset: function () {
        var map = this._map;
        if (!map) {
          return;
        }
        var size = map.getSize();
        this.origin = map.containerPointToLayerPoint([0, 0]).round();
        this.measure();
        window.L.DomUtil.setPosition(this.canvas, this.origin);
        this.canvas.style.width = size.x + "px";
        this.canvas.style.height = size.y + "px";
        this.canvas.style.visibility = "";
        var self = this;
        var ids = Object.keys(this.marks);
        ids.forEach(function (id) {
          self.project(self.marks[id]);
        });
        this.pending = {};
        this.dropped = {};
        this.board.post({ size: [size.x, size.y, ratio()], styles: this.styles, keys: this.keys,
          clear: true, set: this.pack(ids) });
        this.sent += ids.length;
      },

      project: function (m) {
        var f = this.mercator;
        if (f) {
          // Leaflet's latLngToLayerPoint for the web Mercator map, without its three
          // objects a call: 2,500 workers a second add up (docs/performance.md, the wall).
          var lat = Math.max(Math.min(MAX_LATITUDE, m.lat), -MAX_LATITUDE);
          var sin = Math.sin(lat * DEG);
          var y = (R * Math.log((1 + sin) / (1 - sin))) / 2;
          m.x = Math.round(f.scale * (f.k * R * m.long * DEG + 0.5)) - f.originX;
          m.y = Math.round(f.scale * (-f.k * y + 0.5)) - f.originY;
          return;
        }
        var p = this._map.latLngToLayerPoint([m.lat, m.long]);
        m.x = Math.round(p.x - this.origin.x);
        m.y = Math.round(p.y - this.origin.y);
      },

      /** The constants of project() for the map's zoom and origin, on a web Mercator map. */
      measure: function () {
        var map = this._map;
        var crs = map.options.crs;
        this.mercator = null;
        if (crs === window.L.CRS.EPSG3857 && crs.projection.R === R) {
          var pixelOrigin = map.getPixelOrigin();
          this.mercator = {
            scale: crs.scale(map.getZoom()),
            k: 0.5 / (Math.PI * R),
            originX: pixelOrigin.x + this.origin.x,
            originY: pixelOrigin.y + this.origin.y,
          };
        }
      },

      /** Where the board draws mark `id`, in its canvas's pixels (for tests). */
      drawnAt: function (id) {
        var m = this.marks[id];
        return m ? { x: m.x, y: m.y } : null;
      },

      /** Sprites by key (wall_draw.js sprite specs), added or replaced. */
      setStyles: function (styles) {
        var self = this;
        Object.keys(styles).forEach(function (key) {
          if (!(key in self.styles)) {
            self.keys.push(key);
          }
          self.styles[key] = styles[key];
        });
        this.numberKeys();
        if (this.board && this._map) {
          this.board.post({ styles: styles, keys: this.keys });
        }
      },

      /**
       * Put mark `id` at (lat, long) looking like `key`, drawn at level `z`. Returns whether
       * the picture changes (a new mark, another look, or another pixel).
       */
      place: function (id, lat, long, key, z) {
        var m = this.marks[id];
        if (!m) {
          m = this.marks[id] = { id: Number(id), lat: lat, long: long, key: key, z: z };
          delete this.dropped[id];
          if (this._map) {
            this.project(m);
          }
          this.pending[id] = true;
          return true;
        }
        var x = m.x;
        var y = m.y;
        m.lat = lat;
        m.long = long;
        var changed = m.key !== key || m.z !== z;
        m.key = key;
        m.z = z;
        if (this._map) {
          this.project(m);
          changed = changed || m.x !== x || m.y !== y;
        }
        if (changed) {
          this.pending[id] = true;
        }
        return changed;
      },

      drop: function (id) {
        if (this.marks[id]) {
          delete this.marks[id];
          delete this.pending[id];
          this.dropped[id] = true;
        }
      },

      /** Tell the board what changed since the last flush (one message, one redraw). */
      flush: function () {
        if (!this._map || !this.board) {
          return 0;
        }
        if (this.board.lost) {
          this.renew();
          this.reset(); // every mark, on the new board
          return Object.keys(this.marks).length;
        }
        var ids = Object.keys(this.pending);
        var drop = Object.keys(this.dropped).map(Number);
        this.pending = {};
        this.dropped = {};
        if (ids.length || drop.length) {
          this.board.post({ set: this.pack(ids), drop: drop });
          this.sent += ids.length;
        }
        return ids.length + drop.length;
      },

      /** The mark nearest to a container point, within `px` pixels; null if none. */
      nearest: function (point, px) {
        var best = null;
        var bestD = px * px;
        var o = this._map.containerPointToLayerPoint([0, 0]).subtract(this.origin);
        var x = point.x + o.x;
        var y = point.y + o.y;
        var marks = this.marks;
        Object.keys(marks).forEach(function (id) {
          var m = marks[id];
          var d = (m.x - x) * (m.x - x) + (m.y - y) * (m.y - y);
          if (d <= bestD) {
            bestD = d;
            best = m;
          }
        });
        return best;
      },

      /** Where mark `id` is drawn, in the map container's pixels (null if not placed). */
      containerPoint: function (id) {
        var m = this.marks[id];
        return m && this._map ? this._map.latLngToContainerPoint([m.lat, m.long]) : null;
      },
    });
  }

  var MarkLayer = null;
  CH.MarkLayer = function (options) {
    MarkLayer = MarkLayer || makeClass();
    return new MarkLayer(options);
  };
})();
