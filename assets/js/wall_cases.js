/*
 * The wall's case markers, changed in place: one circle per case the state holds, coloured by
 * its light, red on top. The bulk is drawn on one canvas (a Leaflet canvas renderer in the
 * cases' pane): 10,000 SVG circles made every repaint of the wall style, lay out and paint
 * 10,000 elements (docs/performance.md, the wall). A case that turned red in the last half
 * hour is the exception: it is an SVG circle that pulses, with a ring around it
 * (wall-case-halo), in a pane of its own above the canvas, so only those few animate. The
 * layer group comes from dashboard/wall_map.py live_layer("cases"), handed over by
 * CommandHall.wallMap.casesAdded.
 *
 * Markers are moved and restyled rather than rebuilt, as the worker markers are
 * (wall_workers.js): a dash-leaflet GeoJSON whose data changes rebuilds every layer, restarts
 * every animation and costs time with every case of a county.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var CASES_PANE = "wall-cases-pane"; // dashboard/wall_map.py
  var ALERT_PANE = "wall-alerts-pane"; // made here, just above the cases' canvas
  var ALERT_PANE_Z = 455; // dashboard/wall_map.py CASES_PANE_Z + 5
  var NEW_FOR_MS = 10 * 60 * 1000; // reported in the last ten minutes: drawn larger, ringed
  var NEW_RED_MS = 30 * 60 * 1000; // turned red in the last half hour: pulses
  var COLOURS = { green: "#2fd67b", yellow: "#ffc53d", red: "#ff4d4f", closed: "#5d7189" };

  function scale() {
    return CH.wallFmt ? CH.wallFmt.scale() : 1;
  }

  function lightOf(c) {
    return CH.isOpen(c) ? c.light || "green" : "closed";
  }

  function located(c) {
    return typeof c.lat === "number" && typeof c.long === "number";
  }

  function look(d) {
    var s = scale();
    var closed = d.light === "closed";
    return {
      radius: (d.fresh ? 9 : closed ? 3.5 : d.light === "red" ? 7.5 : 6) * s,
      weight: (d.fresh || d.newRed ? 2.5 : closed ? 0 : 1.5) * s,
      color: d.fresh || d.newRed ? "#ffffff" : closed ? COLOURS.closed : "#08111f",
      opacity: 0.9,
      fillColor: COLOURS[d.light] || COLOURS.green,
      fillOpacity: closed ? 0.55 : 0.95,
    };
  }

  /** The pane for the new reds' SVG, made once per map: dash-leaflet declares the others. */
  function alertPane(map) {
    var pane = map.getPane(ALERT_PANE);
    if (!pane) {
      pane = map.createPane(ALERT_PANE);
      pane.style.zIndex = String(ALERT_PANE_Z);
      pane.style.pointerEvents = "none";
    }
    return pane;
  }

  function className(d) {
    return (
      "wall-case is-" + d.light + (d.fresh ? " is-new" : "") + (d.newRed ? " is-new-red" : "") +
      " wall-case-" + d.id
    );
  }

  var layer = {
    group: null, // the L.LayerGroup on the map, once dash-leaflet has added it
    wanted: null, // [state, now] last handed over (drawn when the group comes)
    drawn: {}, // id → {id, c, light, fresh, newRed, marker, halo}
    canvas: null, // the renderer of the bulk (one per map)
    svg: null, // the renderer of the new reds, above it
    redSince: {}, // id → when the case turned red, as far as the wall knows
    primed: false, // the first state has been seen: red cases after it turned red live

    attach: function (group) {
      if (group === this.group) {
        return;
      }
      this.group = group;
      this.drawn = {};
      this.canvas = window.L.canvas({ pane: CASES_PANE });
      // Nothing on it takes a click; the workers' canvas below does.
      this.canvas.once("add", function () {
        this._container.style.pointerEvents = "none";
      });
      alertPane(group._map);
      this.svg = window.L.svg({ pane: ALERT_PANE });
      if (this.wanted) {
        this.sync(this.wanted[0], this.wanted[1]);
      }
    },

    /** When `c` turned red: now for a case seen turning, else its deadline (the moment). */
    turnedRed: function (c, now) {
      var since = this.redSince[c.id];
      if (since === undefined) {
        var deadline = CH.parseTime(c.deadline);
        if (this.primed) {
          since = now;
        } else {
          since = isNaN(deadline) ? -Infinity : Math.min(deadline, now);
        }
        this.redSince[c.id] = since;
      }
      return since;
    },

    /** What a case's marker should look like now (after sync has looked at its light). */
    want: function (c, now) {
      var light = lightOf(c);
      return {
        id: c.id,
        c: c,
        light: light,
        fresh: now - CH.parseTime(c.reported_at) < NEW_FOR_MS,
        newRed: light === "red" && now - this.redSince[c.id] < NEW_RED_MS,
      };
    },

    /** Make the map show the state's cases; touches only the markers that changed. */
    sync: function (state, now) {
      this.wanted = [state, now];
      var self = this;
      var group = this.group;
      var cases = state.cases;
      // When each red case turned red is settled with the state, map or no map: the first
      // state's red cases are not news, those that turn red after it are.
      Object.keys(cases).forEach(function (id) {
        if (lightOf(cases[id]) === "red") {
          self.turnedRed(cases[id], now);
        }
      });
      Object.keys(this.redSince).forEach(function (id) {
        if (!cases[id] || lightOf(cases[id]) !== "red") {
          delete self.redSince[id];
        }
      });
      this.primed = true;
      if (!group || !group._map) {
        return null;
      }
      var count = { added: 0, restyled: 0, removed: 0 };
      Object.keys(cases).forEach(function (id) {
        var c = cases[id];
        if (!located(c)) {
          return;
        }
        var d = self.drawn[id];
        if (d && d.c === c) {
          return; // the reducer replaces a summary only when an event changed the case
        }
        var next = self.want(c, now);
        if (!d) {
          self.add(next);
          count.added += 1;
        } else {
          self.restyle(d, next);
          count.restyled += 1;
        }
      });
      Object.keys(this.drawn).forEach(function (id) {
        if (!cases[id] || !located(cases[id])) {
          self.remove(id);
          count.removed += 1;
        }
      });
      return count;
    },

    /** Once a second: new reports and new reds stop being new with time alone. */
    tick: function (now) {
      var self = this;
      Object.keys(this.drawn).forEach(function (id) {
        var d = self.drawn[id];
        if (d.fresh || d.newRed) {
          var next = self.want(d.c, now);
          if (next.fresh !== d.fresh || next.newRed !== d.newRed) {
            self.restyle(d, next);
          }
        }
      });
    },

    add: function (d) {
      var marker = window.L.circleMarker(
        [d.c.lat, d.c.long],
        Object.assign(look(d), {
          pane: d.newRed ? ALERT_PANE : CASES_PANE,
          renderer: d.newRed ? this.svg : this.canvas,
          interactive: false,
          className: className(d),
        })
      );
      d.marker = marker;
      this.group.addLayer(marker);
      this.drawn[d.id] = d;
      this.halo(d);
      this.stack(d);
    },

    restyle: function (d, next) {
      var marker = d.marker;
      if (d.c.lat !== next.c.lat || d.c.long !== next.c.long) {
        marker.setLatLng([next.c.lat, next.c.long]);
        if (d.halo) {
          d.halo.setLatLng([next.c.lat, next.c.long]);
        }
      }
      var changed = d.light !== next.light || d.fresh !== next.fresh || d.newRed !== next.newRed;
      d.c = next.c;
      if (!changed) {
        return;
      }
      var moves = d.newRed !== next.newRed; // between the canvas and the SVG above it
      d.light = next.light;
      d.fresh = next.fresh;
      d.newRed = next.newRed;
      if (moves) {
        this.group.removeLayer(marker);
        this.add(d);
        return;
      }
      var style = look(d);
      marker.setStyle(style);
      marker.setRadius(style.radius);
      marker.options.className = className(d);
      if (marker.getElement()) {
        window.L.DomUtil.setClass(marker.getElement(), className(d));
      }
      this.halo(d);
      this.stack(d);
    },

    /** The pulsing ring of a new red case: there while it is new, gone after. */
    halo: function (d) {
      if (d.newRed && !d.halo) {
        d.halo = window.L.circleMarker([d.c.lat, d.c.long], {
          pane: ALERT_PANE,
          renderer: this.svg,
          radius: 16 * scale(),
          weight: 3 * scale(),
          color: COLOURS.red,
          fill: false,
          interactive: false,
          className: "wall-case-halo wall-case-halo-" + d.id,
        });
        this.group.addLayer(d.halo);
      } else if (!d.newRed && d.halo) {
        this.group.removeLayer(d.halo);
        d.halo = null;
      }
    },

    /** Red on top, closed at the back (canvas and SVG paint in layer order). */
    stack: function (d) {
      if (d.light === "closed") {
        d.marker.bringToBack();
      } else if (d.light === "red") {
        if (d.halo) {
          d.halo.bringToFront();
        }
        d.marker.bringToFront();
      }
    },

    remove: function (id) {
      var d = this.drawn[id];
      this.group.removeLayer(d.marker);
      if (d.halo) {
        this.group.removeLayer(d.halo);
      }
      delete this.drawn[id];
    },

    /** Whether a case's marker pulses now (for tests and whoever wants to look). */
    pulsing: function (id) {
      var d = this.drawn[id];
      return !!(d && d.newRed);
    },

    /** How many cases the map shows. */
    count: function () {
      return Object.keys(this.drawn).length;
    },

    /**
     * What the map shows, read-only, for tests and the benchmark (the canvas has no element
     * per marker to query): [{id, lat, long, light, fresh, newRed, svg, colour, radius}].
     */
    markers: function () {
      var drawn = this.drawn;
      var svg = this.svg;
      return Object.keys(drawn).map(function (id) {
        var d = drawn[id];
        var m = d.marker;
        var at = m.getLatLng();
        return {
          id: id,
          lat: at.lat,
          long: at.lng,
          light: d.light,
          fresh: d.fresh,
          newRed: d.newRed,
          svg: m.options.renderer === svg,
          colour: m.options.fillColor,
          radius: m.getRadius(),
        };
      });
    },
  };
  CH.wallCases = layer;
})();
