/*
 * The live wall (/wall): the view the bridge pushes, the clientside callback that turns its
 * store into components, and the Leaflet styling functions dash-leaflet calls by name. The
 * grid-worker layer is assets/js/wall_workers.js. Layout and ids: dashboard/wall_layout.py.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  CH.views = CH.views || {};

  var LATEST_ROWS = 18; // what the panel shows at 16:9; rows Dash renders but nobody sees cost
  var BOARD_ROWS = 8;
  var CASES_PANE = "wall-cases-pane"; // dashboard/wall_layout.py case_markers()
  var NEW_FOR_MS = 10 * 60 * 1000; // a case reported in the last ten minutes is flagged new
  var LIGHT_ORDER = { closed: 0, green: 1, yellow: 2, red: 3 };
  var COLOURS = {
    green: "#2fd67b",
    yellow: "#ffc53d",
    red: "#ff4d4f",
    closed: "#5d7189",
  };

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /** A Date whose UTC fields read as the county's local time. */
  function local(ms, offsetMin) {
    return new Date(ms + offsetMin * 60000);
  }

  /** "09:28" for today, "11-21" for an earlier day: five characters either way. */
  function shortTime(iso, dayStart, offsetMin) {
    var ms = CH.parseTime(iso);
    if (isNaN(ms)) {
      return "--:--";
    }
    var d = local(ms, offsetMin);
    if (ms < dayStart) {
      return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    }
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function clockParts(ms, offsetMin, strings) {
    var d = local(ms, offsetMin);
    return {
      time: pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()),
      date:
        d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
        "  " + (strings["week." + d.getUTCDay()] || ""),
    };
  }

  function markerLight(c) {
    return CH.isOpen(c) ? c.light || "green" : "closed";
  }

  function isNew(c, now) {
    return now - CH.parseTime(c.reported_at) < NEW_FOR_MS;
  }

  /** Compact marker rows [id, lat, long, light, new], closed first and red last (on top). */
  function markerRows(state, now) {
    var rows = [];
    Object.keys(state.cases).forEach(function (id) {
      var c = state.cases[id];
      if (typeof c.lat === "number" && typeof c.long === "number") {
        rows.push([c.id, c.lat, c.long, markerLight(c), isNew(c, now) ? 1 : 0]);
      }
    });
    rows.sort(function (a, b) {
      return a[4] - b[4] || LIGHT_ORDER[a[3]] - LIGHT_ORDER[b[3]] || a[0] - b[0];
    });
    return rows;
  }

  function latestRows(state, now, offsetMin, strings) {
    var en = strings.lang === "en";
    return CH.latest(state, LATEST_ROWS).map(function (c) {
      return {
        id: c.id,
        time: shortTime(c.reported_at, state.dayStart, offsetMin),
        township: c.township || "",
        category: (en ? c.category_name_en : c.category_name) || c.category || "",
        state: c.state,
        state_label: strings["state." + c.state] || c.state,
        light: markerLight(c),
        fresh: isNew(c, now),
      };
    });
  }

  /** Open and red counts of open cases grouped by `group(c)` → [key, name], busiest first. */
  function boardRows(state, group, limit) {
    var by = {};
    Object.keys(state.cases).forEach(function (id) {
      var c = state.cases[id];
      if (!CH.isOpen(c)) {
        return;
      }
      var g = group(c);
      var row = (by[g[0]] = by[g[0]] || { id: g[0], name: g[1] || "—", open: 0, red: 0 });
      row.open += 1;
      if (c.light === "red") {
        row.red += 1;
      }
    });
    var rows = Object.keys(by).map(function (k) {
      return by[k];
    });
    rows.sort(function (a, b) {
      return b.open - a.open || b.red - a.red || String(a.name).localeCompare(String(b.name));
    });
    return rows.slice(0, limit);
  }

  function byTownship(c) {
    return [String(c.township_id), c.township];
  }

  function byCategory(en) {
    return function (c) {
      return [c.category, (en ? c.category_name_en : c.category_name) || c.category];
    };
  }

  var memo = {}; // part name → JSON of what was last pushed

  /** Put `value` into the view unless the page already shows exactly that. */
  function offer(view, name, value, fresh) {
    var signature = JSON.stringify(value);
    if (fresh || signature !== memo[name]) {
      memo[name] = signature;
      view[name] = value;
    }
  }

  /** The bridge calls this on each push (ctx.dirty: the state changed since the last
   *  one); returns {componentId: props} to set. */
  CH.views.wall = function (ctx) {
    var out = {};
    var strings = ctx.strings;
    var clock = clockParts(ctx.now, ctx.tzOffset, strings);
    out["wall-clock"] = { children: clock.time };
    out["wall-date"] = { children: clock.date };
    if (ctx.statusChanged || ctx.fresh) {
      out["wall-conn"] = {
        children: strings["conn." + ctx.status] || ctx.status,
        className: "wall-conn is-" + ctx.status,
      };
    }
    if (ctx.state && (ctx.dirty || ctx.fresh)) {
      CH.wallWorkers.sync(ctx.state.workers); // straight onto the map, not through Dash
    }
    // Cases stop being "new" with time alone, so the state is also looked at once a minute.
    var look = ctx.dirty || ctx.fresh || clock.time.slice(-2) === "00";
    if (!ctx.state || !look) {
      return out;
    }
    // Every part goes into the one `wall-view` store (one callback, one render), and only
    // the parts that changed: Dash spends about 2 ms per component it is handed.
    var view = ctx.fresh ? { fresh: true } : {};
    offer(view, "kpis", CH.kpis(ctx.state, ctx.now), ctx.fresh);
    offer(view, "workers", CH.workerCounts(ctx.state), ctx.fresh);
    offer(view, "township", boardRows(ctx.state, byTownship, BOARD_ROWS), ctx.fresh);
    offer(
      view,
      "category",
      boardRows(ctx.state, byCategory(strings.lang === "en"), BOARD_ROWS),
      ctx.fresh
    );
    offer(view, "latest", latestRows(ctx.state, ctx.now, ctx.tzOffset, strings), ctx.fresh);
    offer(view, "markers", markerRows(ctx.state, ctx.now), ctx.fresh);
    if (Object.keys(view).length) {
      out["wall-view"] = { data: view };
    }
    return out;
  };

  /* ---- the clientside callback (dash_clientside.wall.render) ---- */

  function el(type, props, children) {
    var p = Object.assign({}, props);
    if (children !== undefined) {
      p.children = children;
    }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  var CASE_KPIS = ["reported_today", "open", "closed_today", "overdue", "yellow"];
  var PRESENCES = ["online", "idle", "offline"]; // dashboard/wall_layout.py PRESENCES

  function latestItem(r) {
    return el(
      "Li",
      {
        key: String(r.id),
        className: "wall-row is-" + r.light + (r.fresh ? " is-new" : ""),
        "data-case-id": String(r.id),
      },
      [
        el("Span", { className: "wall-row-time" }, r.time),
        el("Span", { className: "wall-row-category" }, r.category),
        el("Span", { className: "wall-row-township" }, r.township),
        el("Span", { className: "wall-row-state state-" + r.state }, r.state_label),
      ]
    );
  }

  /** Board rows with the bar lengths they are drawn with (relative to the busiest row). */
  function withBars(rows) {
    var most = rows.reduce(function (m, r) {
      return Math.max(m, r.open);
    }, 1);
    return rows.map(function (r) {
      return Object.assign({ pctOpen: (100 * r.open) / most, pctRed: (100 * r.red) / most }, r);
    });
  }

  function boardItem(r) {
    // One span for the bar, red over blue over the track, keeps the row at five components.
    var bar =
      "linear-gradient(90deg, var(--ch-red) 0 " + r.pctRed + "%, #4a90e2 " + r.pctRed +
      "% " + r.pctOpen + "%, rgba(90, 169, 255, 0.12) " + r.pctOpen + "%)";
    return el("Li", { key: String(r.id), className: "wall-board-row" }, [
      el("Span", { className: "wall-board-name" }, r.name),
      el("Span", { className: "wall-board-bar", style: { background: bar } }),
      el("Span", { className: "wall-board-open" }, String(r.open)),
      el("Span", { className: "wall-board-red" + (r.red ? "" : " is-zero") }, String(r.red)),
    ]);
  }

  var shown = {}; // list output → the rows it shows now

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  /**
   * The children of a list, as a Patch when that is smaller: rows arriving on top are
   * prepended and the overflow deleted; rows that changed in place are replaced. A full
   * list only when most rows changed (or on the first render).
   */
  function listUpdate(name, rows, item) {
    var old = shown[name];
    shown[name] = rows;
    if (!old || !old.length || !rows.length || !window.dash_clientside.Patch) {
      return rows.map(item);
    }
    var oldIds = old.map(function (r) {
      return r.id;
    });
    var shift = 0; // how many rows are new on top
    while (shift < rows.length && oldIds.indexOf(rows[shift].id) < 0) {
      shift += 1;
    }
    var patch = new window.dash_clientside.Patch();
    var ops = 0;
    for (var i = shift - 1; i >= 0; i--) {
      patch.prepend([], item(rows[i]));
      ops += 1;
    }
    for (var end = old.length + shift - 1; end >= rows.length; end--) {
      patch.delete([end]);
    }
    for (var j = shift; j < rows.length; j++) {
      if (j - shift >= old.length) {
        patch.append([], item(rows[j]));
        ops += 1;
      } else if (!same(rows[j], old[j - shift])) {
        patch.assign([j], item(rows[j]));
        ops += 1;
      }
    }
    return ops > rows.length / 2 ? rows.map(item) : patch.build();
  }

  function NO() {
    return window.dash_clientside.no_update;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.wall = {
    /** wall-view → [5 case KPIs, workers online, latest list, township board, category
     *  board, case markers, 3 presence counts]; a part missing from the view is left as it
     *  is. The order is dashboard/pages/wall.py's. */
    render: function (view, empty) {
      view = view || {};
      if (view.fresh) {
        shown = {};
      }
      var workers = view.workers;
      var kpis = CASE_KPIS.map(function (k) {
        return view.kpis ? String(view.kpis[k]) : NO();
      });
      kpis.push(
        workers
          ? [
              String(workers.workers_online),
              el("Span", { className: "wall-kpi-of" }, "/" + workers.total),
            ]
          : NO()
      );
      var presence = PRESENCES.map(function (p) {
        return workers ? String(workers[p]) : NO();
      });
      var latest = NO();
      if (view.latest) {
        latest = view.latest.length
          ? listUpdate("latest", view.latest, latestItem)
          : [el("Li", { className: "wall-latest-empty" }, empty)];
        if (!view.latest.length) {
          shown.latest = [];
        }
      }
      return kpis.concat([
        latest,
        view.township ? listUpdate("township", withBars(view.township), boardItem) : NO(),
        view.category ? listUpdate("category", withBars(view.category), boardItem) : NO(),
        view.markers ? markerCollection(view.markers) : NO(),
      ]).concat(presence);
    },
  };

  function markerCollection(rows) {
    return {
      type: "FeatureCollection",
      features: rows.map(function (r) {
        return {
          type: "Feature",
          id: r[0],
          properties: { id: r[0], light: r[3], fresh: r[4] === 1 },
          geometry: { type: "Point", coordinates: [r[2], r[1]] },
        };
      }),
    };
  }


  /* ---- Leaflet functions, referenced from Python as {"variable": "CommandHall.wallMap.*"} ---- */

  /** How much bigger than a 1080-line screen this one is (markers grow with the screen). */
  function scale() {
    return Math.max(1, window.innerHeight / 1080);
  }
  CH.wallScale = scale;

  CH.wallMap = {
    /** eventHandlers.add of the `wall-workers` layer group: the map is ready for workers. */
    workersAdded: function (event) {
      CH.wallWorkers.attach(event.target); // assets/js/wall_workers.js
    },

    pointToLayer: function (feature, latlng) {
      var light = feature.properties.light;
      var fresh = feature.properties.fresh;
      var closed = light === "closed";
      var s = scale();
      return window.L.circleMarker(latlng, {
        radius: (fresh ? 9 : closed ? 3.5 : light === "red" ? 7.5 : 6) * s,
        weight: (fresh ? 2.5 : closed ? 0 : 1.5) * s,
        color: fresh ? "#ffffff" : closed ? COLOURS.closed : "#08111f",
        opacity: 0.9,
        fillColor: COLOURS[light] || COLOURS.green,
        fillOpacity: closed ? 0.55 : 0.95,
        interactive: false,
        pane: CASES_PANE,
        className:
          "wall-case is-" + light + (fresh ? " is-new" : "") + " wall-case-" + feature.properties.id,
      });
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
        fill: false,
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
