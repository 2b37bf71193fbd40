/*
 * The live wall (/wall): the view the bridge calls (at most one data push a second, and the
 * clock each second), and the clientside callback that renders its store. Layout and ids:
 * dashboard/wall_layout.py. What goes through Dash is small (the KPI strip, the latest
 * reports, the presence counts); everything else is updated in place by the wall's other
 * scripts: wall_map.js (grid shading, hotspots, cameras), wall_cases.js (case markers),
 * wall_workers.js, wall_panels.js (warnings, call banner, refusal), wall_charts.js,
 * wall_tiles.js. The numbers all come from wall_stats.js.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  CH.views = CH.views || {};

  var LATEST_ROWS = 10; // what the panel shows at 16:9; rows Dash renders but nobody sees cost
  var NEW_FOR_MS = 10 * 60 * 1000; // a case reported in the last ten minutes is flagged new
  var WARNING_ROWS = 12;

  /* ---- formatting, shared by the wall's scripts (CommandHall.wallFmt) ---- */

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

  /** "02:13:45", or "3天 04:12" past a day: a countdown read from across the hall. */
  function duration(ms, strings) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var days = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    if (days) {
      return days + (strings["wall.warn.days"] || "d") + " " + pad(h) + ":" + pad(m);
    }
    return pad(h) + ":" + pad(m) + ":" + pad(s % 60);
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

  /** A category's name in the page's language: the page's strings have every category
   *  (cases on a screen carry only the code); a row that brings its own names may use them. */
  function categoryName(code, c, strings) {
    var named = strings["cat." + code];
    if (named) {
      return named;
    }
    if (c) {
      return (strings.lang === "en" ? c.category_name_en : c.category_name) || c.category || code;
    }
    return code;
  }

  CH.wallFmt = {
    pad: pad,
    local: local,
    duration: duration,
    categoryName: categoryName,
    /** How much bigger than a 1080-line screen this one is (markers grow with it). */
    scale: function () {
      return Math.max(1, Math.min(window.innerHeight / 1080, window.innerWidth / 1920));
    },
  };
  CH.wallScale = CH.wallFmt.scale;

  /* ---- the view ---- */

  function markerLight(c) {
    return CH.isOpen(c) ? c.light || "green" : "closed";
  }

  function latestRows(state, now, offsetMin, strings) {
    return CH.latest(state, LATEST_ROWS).map(function (c) {
      return {
        id: c.id,
        time: shortTime(c.reported_at, state.dayStart, offsetMin),
        township: c.township || "",
        category: categoryName(c.category, c, strings),
        state: c.state,
        state_label: strings["state." + c.state] || c.state,
        light: markerLight(c),
        fresh: now - CH.parseTime(c.reported_at) < NEW_FOR_MS,
      };
    });
  }

  var memo = {}; // part name → JSON of what was last pushed

  /*
   * What the case-derived parts (markers, shading, warnings, charts, tiles, banner, KPIs,
   * latest) were last drawn from. The reducer never changes these in place and a position
   * frame replaces only `workers`, so a push that brought nothing but positions finds them
   * all identical and skips those parts: with 10,000 open cases they cost a few hundred ms a
   * push (bench/bench_wall.py), while moving 2,500 workers is the one thing a frame needs.
   */
  var drawnFrom = { cases: null, whistles: null, history: null, calls: null, dayStart: null,
    townships: null };

  /** Whether anything but the workers changed since the last call (and remember it). */
  function casesMoved(state) {
    var moved = false;
    Object.keys(drawnFrom).forEach(function (k) {
      if (drawnFrom[k] !== state[k]) {
        drawnFrom[k] = state[k];
        moved = true;
      }
    });
    return moved;
  }

  var caseKpis = null; // the KPIs of the cases, counted when the cases last changed
  var counted = { workers: null, counts: null }; // workerCounts of the last workers map seen

  /** Workers by presence, counted once per workers map (the reducer replaces it on change). */
  function workerCounts(state) {
    if (counted.workers !== state.workers) {
      counted = { workers: state.workers, counts: CH.workerCounts(state) };
    }
    return counted.counts;
  }

  /** The KPI strip: the case counts recounted only when asked, the workers each time. */
  function kpisNow(state, now, recount) {
    if (recount || !caseKpis) {
      caseKpis = CH.wallStats.kpis(state, now);
    }
    var counts = workerCounts(state);
    return Object.assign({}, caseKpis, {
      workers_online: counts.workers_online,
      workers_total: counts.total,
    });
  }

  /** Put `value` into the view unless the page already shows exactly that. */
  function offer(view, name, value, fresh) {
    var signature = JSON.stringify(value);
    if (fresh || signature !== memo[name]) {
      memo[name] = signature;
      view[name] = value;
    }
  }

  /** Set an element's text when it differs (the element is Dash's, but only this writes it). */
  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  /** Each part on its own: one that throws must not stop the others or the clock. */
  function safely(name, fn) {
    try {
      fn();
    } catch (e) {
      if (window.console) {
        console.error("CommandHall wall: " + name + " failed", e);
      }
    }
  }

  /** The bridge calls this on each push (ctx.dirty: the state changed since the last
   *  one); returns {componentId: props} to set. */
  CH.views.wall = function (ctx) {
    var out = {};
    var strings = ctx.strings;
    var state = ctx.state;
    var clock = clockParts(ctx.now, ctx.tzOffset, strings);
    // Written straight into the page, not through Dash (so is the connection state above): a
    // set_props a second re-rendered the header through React and dash-renderer for two
    // strings (docs/performance.md, the wall).
    setText("wall-clock", clock.time);
    setText("wall-date", clock.date);
    if (ctx.statusChanged || ctx.fresh) {
      var status = ctx.refusal ? "refused" : ctx.status;
      setText("wall-conn", strings["wall.conn." + status] || strings["conn." + status] || status);
      var conn = document.getElementById("wall-conn");
      if (conn) {
        conn.className = "wall-conn is-" + status;
      }
    }
    safely("alert", function () {
      CH.wallAlert.show(ctx.refusal, strings);
    });
    // Cases stop being "new" with time alone, so the state is also looked at once a minute.
    var minute = clock.time.slice(-2) === "00";
    var moved = false; // the cases (or anything else but the workers) changed
    if (state && (ctx.dirty || ctx.fresh)) {
      moved = casesMoved(state) || ctx.fresh;
      safely("workers", function () {
        CH.wallWorkers.sync(state.workers); // straight onto the map, not through Dash
      });
    }
    if (state && (moved || minute)) {
      safely("cases", function () {
        CH.wallCases.sync(state, ctx.now);
      });
      safely("shading", function () {
        CH.wallMap.shade(state);
      });
      safely("warnings", function () {
        CH.wallWarnings.update(CH.wallStats.warnings(state, ctx.now, WARNING_ROWS), ctx, strings);
      });
      safely("charts", function () {
        CH.wallCharts.update(state, strings);
      });
      // In a task of its own: starting the tiles' players (a peer connection and an offer
      // each) need not hold up the rest of the wall's first picture.
      window.setTimeout(function () {
        safely("tiles", function () {
          CH.wallTiles.update(state, ctx.now, strings);
        });
      }, 0);
      safely("banner", function () {
        CH.wallBanner.fromState(state, strings);
      });
    }
    if (state) {
      safely("tick", function () {
        CH.wallWarnings.tick(ctx.now, strings);
        CH.wallTiles.tick(ctx.now, strings);
        CH.wallCases.tick(ctx.now);
      });
    }
    var look = ctx.dirty || ctx.fresh || minute;
    if (!state || !look) {
      return out;
    }
    // The parts Dash renders go into the one `wall-view` store (one callback, one render),
    // and only the parts that changed: Dash spends about 2 ms per component it is handed.
    var view = ctx.fresh ? { fresh: true } : {};
    var recount = moved || minute;
    offer(view, "kpis", kpisNow(state, ctx.now, recount), ctx.fresh);
    offer(view, "workers", workerCounts(state), ctx.fresh);
    if (recount) {
      offer(view, "latest", latestRows(state, ctx.now, ctx.tzOffset, strings), ctx.fresh);
    }
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

  // dashboard/wall_layout.py KPIS and PRESENCES, in their order.
  var KPI_KEYS = [
    "reported_today", "registered_today", "closed_today", "open", "closure_rate",
    "on_time_rate", "satisfaction", "yellow", "overdue", "workers_online", "calls",
  ];
  var RATES = { closure_rate: 1, on_time_rate: 1, satisfaction: 1 };
  var PRESENCES = ["online", "idle", "offline"];

  function kpiValue(key, kpis) {
    var v = kpis[key];
    if (RATES[key]) {
      if (v === null || v === undefined) {
        return "–";
      }
      var pct = v * 100;
      var unit = el("Span", { className: "wall-kpi-unit" }, "%");
      return [pct >= 99.95 ? "100" : pct.toFixed(1), unit];
    }
    if (key === "workers_online") {
      return [String(v), el("Span", { className: "wall-kpi-of" }, "/" + kpis.workers_total)];
    }
    return String(v);
  }

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
    /** wall-view → [11 KPIs, latest list, 3 presence counts]; a part missing from the view
     *  is left as it is. The order is dashboard/pages/wall.py's. */
    render: function (view, empty) {
      view = view || {};
      if (view.fresh) {
        shown = {};
      }
      var kpis = KPI_KEYS.map(function (k) {
        return view.kpis ? kpiValue(k, view.kpis) : NO();
      });
      var presence = PRESENCES.map(function (p) {
        return view.workers ? String(view.workers[p]) : NO();
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
      return kpis.concat([latest]).concat(presence);
    },
  };
})();
