/*
 * The wall's map (dashboard/wall_map.py): the Leaflet functions dash-leaflet calls by name
 * ({"variable": "CommandHall.wallMap.*"}), the grid shading (open cases per grid) and the
 * hotspot layer (cases of the last seven days per grid), both changed in place, and the
 * cameras, which the tile wall (wall_tiles.js) picks from.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var HOT_PANE = "wall-hot-pane"; // dashboard/wall_map.py
  var CAMERAS_PANE = "wall-cameras-pane";
  // Open cases in a grid → fill opacity of its shading (0 leaves it clear).
  var LOAD_STEPS = [0, 0.2, 0.3, 0.4, 0.48, 0.55];
  var LOAD_COLOUR = "#22c8ff";
  var HOT_COLOURS = ["#ff9f3a", "#ff7a33", "#ff5430", "#ff2d3d"]; // by cases in 7 days

  function scale() {
    return CH.wallFmt ? CH.wallFmt.scale() : 1;
  }

  var grids = {}; // grid id → its Leaflet layer (from the grids GeoJSON)
  var load = {}; // grid id → open cases drawn now
  var loadWanted = {}; // grid id → open cases, as the state said last
  var hot = { group: null, drawn: {}, wanted: {} }; // grid id → {n, marker}
  var cameras = {}; // camera id → {id, name, lat, long, township_id, layer}
  var onWall = {}; // camera ids shown in the tiles now

  function loadStyle(n) {
    var step = LOAD_STEPS[Math.min(n, LOAD_STEPS.length - 1)];
    return { fillColor: LOAD_COLOUR, fillOpacity: step };
  }

  function shadeGrid(id, n) {
    var layer = grids[id];
    if (layer && layer._map && load[id] !== n) {
      layer.setStyle(loadStyle(n));
      load[id] = n;
    }
  }

  function gridCentre(id) {
    var layer = grids[id];
    return layer && layer._map ? layer.getBounds().getCenter() : null;
  }

  function hotRadius(n) {
    return (4 + 5 * Math.sqrt(n)) * scale();
  }

  /** A grid with one case in a week barely glows; a busy one burns. */
  function hotOpacity(n) {
    return Math.min(0.7, 0.08 + 0.1 * n);
  }

  function hotColour(n) {
    return HOT_COLOURS[Math.min(HOT_COLOURS.length - 1, Math.floor((n - 1) / 2))];
  }

  /** Move the hotspot circles to `counts` ({grid: n}); only the grids that changed. */
  function syncHot(counts) {
    hot.wanted = counts;
    if (!hot.group || !hot.group._map) {
      return;
    }
    Object.keys(counts).forEach(function (id) {
      var n = counts[id];
      var d = hot.drawn[id];
      if (d && d.n === n) {
        return;
      }
      if (d) {
        d.marker.setRadius(hotRadius(n));
        d.marker.setStyle({ fillColor: hotColour(n), fillOpacity: hotOpacity(n) });
        d.n = n;
        return;
      }
      var centre = gridCentre(id);
      if (!centre) {
        return; // the grids are not drawn yet: the next sync places it
      }
      var marker = window.L.circleMarker(centre, {
        pane: HOT_PANE,
        radius: hotRadius(n),
        stroke: false,
        fillColor: hotColour(n),
        fillOpacity: hotOpacity(n),
        interactive: false,
        className: "wall-hot",
      });
      hot.group.addLayer(marker);
      hot.drawn[id] = { n: n, marker: marker };
    });
    Object.keys(hot.drawn).forEach(function (id) {
      if (!counts[id]) {
        hot.group.removeLayer(hot.drawn[id].marker);
        delete hot.drawn[id];
      }
    });
  }

  var CameraGlyph = null;

  /** A camera as one SVG path: a body with a lens, and a mount below it. */
  function cameraPath(p, r) {
    function at(dx, dy) {
      return (p.x + dx * r).toFixed(1) + "," + (p.y + dy * r).toFixed(1);
    }
    return (
      "M" + at(-1, -0.55) + "L" + at(0.45, -0.55) + "L" + at(0.45, -0.2) + "L" + at(1, -0.5) +
      "L" + at(1, 0.45) + "L" + at(0.45, 0.15) + "L" + at(0.45, 0.45) + "L" + at(-1, 0.45) +
      "z" + "M" + at(-0.35, 0.45) + "L" + at(-0.1, 0.45) + "L" + at(-0.1, 1) + "L" +
      at(-0.35, 1) + "z"
    );
  }

  function cameraClass() {
    if (!CameraGlyph) {
      CameraGlyph = window.L.CircleMarker.extend({
        _updatePath: function () {
          this._renderer._setPath(
            this,
            this._empty() ? "M0 0" : cameraPath(this._point.round(), this._radius)
          );
        },
      });
    }
    return CameraGlyph;
  }

  CH.wallMap = {
    grids: grids,
    cameras: cameras,

    /** Shade the grids by open cases and move the hotspots; only what changed. */
    shade: function (state) {
      var counts = (loadWanted = CH.wallStats.openByGrid(state));
      Object.keys(grids).forEach(function (id) {
        shadeGrid(id, counts[id] || 0);
      });
      syncHot(CH.wallStats.hotspots(state));
    },

    /** Light up the cameras the tiles show. */
    markCameras: function (ids) {
      var next = {};
      (ids || []).forEach(function (id) {
        next[id] = true;
      });
      Object.keys(cameras).forEach(function (id) {
        var el = cameras[id].layer && cameras[id].layer.getElement();
        if (el && !!next[id] !== !!onWall[id]) {
          window.L.DomUtil[next[id] ? "addClass" : "removeClass"](el, "is-on-wall");
          if (next[id]) {
            cameras[id].layer.bringToFront();
          }
        }
      });
      onWall = next;
    },

    /* ---- what the canvases show, read-only (tests, bench/bench_wall.py) ---- */

    /** [{id, lat, long, light, fresh, newRed, beacon, colour, radius}] (wall_cases.js). */
    caseMarkers: function () {
      return CH.wallCases.markers();
    },

    /** [{id, lat, long, presence, x, y}] (wall_workers.js). */
    workerMarkers: function () {
      return CH.wallWorkers.markers();
    },

    /* ---- live layers handed over by their "add" events ---- */

    workersAdded: function (event) {
      CH.wallWorkers.attach(event.target); // assets/js/wall_workers.js
    },

    casesAdded: function (event) {
      CH.wallCases.attach(event.target); // assets/js/wall_cases.js
    },

    hotAdded: function (event) {
      if (hot.group !== event.target) {
        hot.group = event.target;
        hot.drawn = {};
      }
      syncHot(hot.wanted);
    },

    /* ---- the static layers ---- */

    gridAdded: function (feature, layer) {
      var id = feature.properties && feature.properties.id;
      if (id !== undefined) {
        grids[id] = layer;
        delete load[id];
        layer.once("add", function () {
          shadeGrid(id, loadWanted[id] || 0);
          if (Object.keys(hot.wanted).length) {
            syncHot(hot.wanted);
          }
        });
      }
    },

    cameraMarker: function (feature, latlng) {
      var Glyph = cameraClass();
      return new Glyph(latlng, {
        pane: CAMERAS_PANE,
        radius: 6.5 * scale(),
        weight: 2 * scale(),
        interactive: false,
        className: "wall-camera wall-camera-" + feature.properties.id,
      });
    },

    cameraAdded: function (feature, layer) {
      var p = feature.properties || {};
      var xy = (feature.geometry && feature.geometry.coordinates) || [];
      cameras[p.id] = {
        id: p.id,
        name: p.name || p.code || String(p.id),
        code: p.code,
        township_id: p.township_id,
        long: xy[0],
        lat: xy[1],
        layer: layer,
      };
      if (onWall[p.id]) {
        layer.once("add", function () {
          window.L.DomUtil.addClass(layer.getElement(), "is-on-wall");
        });
      }
    },

    // Style functions also carry className and interactive: Leaflet applies a layer's style
    // before the layer is added, so these reach the SVG path (GeoJSON `options` would not).
    township: function (feature) {
      // A gentle tint per township so neighbours read apart without a legend.
      var id = (feature.properties && feature.properties.id) || 0;
      var hues = ["#173a63", "#1b4470", "#14365a", "#1e4a78", "#183f69", "#12304f"];
      return {
        className: "wall-townships",
        interactive: false,
        color: "#3a7fc0",
        weight: 1.4 * scale(),
        opacity: 0.75,
        fillColor: hues[id % hues.length],
        fillOpacity: 0.55,
      };
    },

    townshipLabel: function (feature, layer) {
      var name = feature.properties && feature.properties.name;
      if (name) {
        layer.bindTooltip(name, {
          permanent: true,
          direction: "center",
          className: "wall-township-label",
          interactive: false,
        });
      }
    },

    grid: function () {
      return {
        className: "wall-grids",
        interactive: false,
        color: "#4d8fd1",
        weight: 0.6 * scale(),
        opacity: 0.35,
        fillColor: LOAD_COLOUR,
        fillOpacity: 0,
      };
    },

    road: function () {
      return {
        className: "wall-roads",
        interactive: false,
        color: "#d9a75a",
        weight: 1.6 * scale(),
        opacity: 0.55,
      };
    },

    boundary: function () {
      return {
        className: "wall-boundary",
        interactive: false,
        color: "#49d3ff",
        weight: 3 * scale(),
        opacity: 1,
        fill: false,
      };
    },
  };
})();
