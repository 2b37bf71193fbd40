/*
 * The wall's case markers, changed in place: one circle per case the state holds, coloured by
 * its light, red on top. They are marks of one CommandHall.MarkLayer (wall_marks.js) in the
 * cases' pane, drawn by a board off the main thread (wall_draw.js): 10,000 SVG circles made
 * every repaint of the wall style, lay out and paint 10,000 elements, and 10,000 Leaflet
 * canvas markers took a quarter of a second to build and draw on the main thread
 * (docs/performance.md, the wall). A case reported in the last ten minutes is drawn larger,
 * ringed in white. A case that turned red in the last half hour is drawn so too and gets a
 * beacon above it: an HTML marker (`.wall-beacon`) in a pane of its own whose glow and ring
 * animate only `transform` and `opacity`, which the compositor runs without the page's main
 * thread (an animated SVG stroke restyled and repainted the page sixty times a second). The
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
  var ALERT_PANE = "wall-alerts-pane"; // made here, just above the cases' canvas: the beacons
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

  /** The sprite of a look (wall_draw.js spec): by light, and ringed when new. */
  function look(light, ringed) {
    var s = scale();
    var closed = light === "closed";
    return {
      shape: "dot",
      radius: (ringed && light !== "red" ? 9 : closed ? 3.5 : light === "red" ? 7.5 : 6) * s,
      weight: (ringed ? 2.5 : closed ? 0 : 1.5) * s,
      stroke: ringed ? "#ffffff" : closed ? COLOURS.closed : "#08111f",
      strokeOpacity: 0.9,
      fill: COLOURS[light] || COLOURS.green,
      fillOpacity: closed ? 0.55 : 0.95,
    };
  }

  // Every look a case can have, by key: the light, and "+" when ringed (new, or a new red).
  var LIGHTS = ["closed", "green", "yellow", "red"];
  var Z = { closed: 0, green: 1, yellow: 2, red: 4 }; // red on top; a new one above its light

  function styles() {
    var out = {};
    LIGHTS.forEach(function (light) {
      out[light] = look(light, false);
      out[light + "+"] = look(light, true);
    });
    return out;
  }

  function keyOf(d) {
    return d.light + (d.fresh || d.newRed ? "+" : "");
  }

  function zOf(d) {
    return Z[d.light] + (d.fresh || d.newRed ? 1 : 0);
  }

  /** The pane for the new reds' beacons, made once per map: dash-leaflet declares the others. */
  function alertPane(map) {
    var pane = map.getPane(ALERT_PANE);
    if (!pane) {
      pane = map.createPane(ALERT_PANE);
      pane.style.zIndex = String(ALERT_PANE_Z);
      pane.style.pointerEvents = "none";
    }
    return pane;
  }

  /** The beacon of a new red case: a glow and a ring the stylesheet animates (composited). */
  function beaconIcon(id) {
    return window.L.divIcon({
      className: "wall-beacon wall-beacon-" + id,
      iconSize: [0, 0],
      html: '<i class="wall-beacon-ring"></i><i class="wall-beacon-glow"></i>',
    });
  }

  var layer = {
    group: null, // the L.LayerGroup on the map, once dash-leaflet has added it
    wanted: null, // [state, now] last handed over (drawn when the group comes)
    drawn: {}, // id → {id, c, light, fresh, newRed, beacon}
    special: {}, // id → drawn entry, for the markers that are new or new red (tick looks here)
    marks: null, // the CommandHall.MarkLayer of every marker (one per map)
    redSince: {}, // id → when the case turned red, as far as the wall knows
    primed: false, // the first state has been seen: red cases after it turned red live

    attach: function (group) {
      if (group === this.group) {
        return;
      }
      this.group = group;
      this.drawn = {};
      this.special = {};
      this.marks = CH.MarkLayer({ pane: CASES_PANE, styles: styles() });
      group.addLayer(this.marks);
      alertPane(group._map);
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
      if (!group || !group._map || !this.marks) {
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
      this.marks.flush();
      return count;
    },

    /** Once a second: new reports and new reds stop being new with time alone. */
    tick: function (now) {
      var self = this;
      Object.keys(this.special).forEach(function (id) {
        var d = self.special[id];
        var next = self.want(d.c, now);
        if (next.fresh !== d.fresh || next.newRed !== d.newRed) {
          self.restyle(d, next);
        }
      });
      if (this.marks) {
        this.marks.flush();
      }
    },

    add: function (d) {
      this.drawn[d.id] = d;
      this.marks.place(d.id, d.c.lat, d.c.long, keyOf(d), zOf(d));
      this.mark(d);
    },

    restyle: function (d, next) {
      if (d.beacon && (d.c.lat !== next.c.lat || d.c.long !== next.c.long)) {
        d.beacon.setLatLng([next.c.lat, next.c.long]);
      }
      d.c = next.c;
      d.light = next.light;
      d.fresh = next.fresh;
      d.newRed = next.newRed;
      this.marks.place(d.id, d.c.lat, d.c.long, keyOf(d), zOf(d));
      this.mark(d);
    },

    /** The beacon of a new red (there while it is new, gone after), and the tick's list. */
    mark: function (d) {
      if (d.newRed && !d.beacon) {
        d.beacon = window.L.marker([d.c.lat, d.c.long], {
          pane: ALERT_PANE,
          icon: beaconIcon(d.id),
          interactive: false,
          keyboard: false,
        });
        this.group.addLayer(d.beacon);
      } else if (!d.newRed && d.beacon) {
        this.group.removeLayer(d.beacon);
        d.beacon = null;
      }
      if (d.fresh || d.newRed) {
        this.special[d.id] = d;
      } else {
        delete this.special[d.id];
      }
    },

    remove: function (id) {
      var d = this.drawn[id];
      this.marks.drop(id);
      if (d.beacon) {
        this.group.removeLayer(d.beacon);
      }
      delete this.drawn[id];
      delete this.special[id];
    },

    /** Whether a case's marker pulses now (for tests and whoever wants to look). */
    pulsing: function (id) {
      var d = this.drawn[id];
      return !!(d && d.newRed);
    },

    /** How many cases the map shows: what its board says it has drawn. */
    count: function () {
      return this.marks && this.marks.board ? this.marks.board.drawn.marks : 0;
    },

    /**
     * What the map shows, read-only, for tests and the benchmark (the canvas has no element
     * per marker to query): [{id, lat, long, light, fresh, newRed, beacon, colour, radius}]:
     * `beacon`, whether a new red has its animated beacon (`.wall-beacon-<id>`).
     */
    markers: function () {
      var drawn = this.drawn;
      var marks = this.marks ? this.marks.marks : {};
      var sprites = this.marks ? this.marks.styles : {};
      return Object.keys(drawn).map(function (id) {
        var d = drawn[id];
        var m = marks[id] || { lat: d.c.lat, long: d.c.long, key: keyOf(d) };
        var look = sprites[m.key] || {};
        return {
          id: id,
          lat: m.lat,
          long: m.long,
          light: d.light,
          fresh: d.fresh,
          newRed: d.newRed,
          beacon: !!d.beacon,
          colour: look.fill,
          radius: look.radius,
        };
      });
    },
  };
  CH.wallCases = layer;
})();
