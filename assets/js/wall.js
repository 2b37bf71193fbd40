/*
 * The live wall (/wall): the view the bridge calls (at most one data push a second, and the
 * clock each second). Layout and ids: dashboard/wall_layout.py. Dash renders the page once;
 * everything live is then written in place, outside Dash: the clock, the connection state,
 * the KPI strip, the latest reports and the presence counts here; the map's live layers
 * (wall_map.js shading, hotspots and cameras; wall_cases.js, wall_workers.js), the warnings,
 * call banner and refusal (wall_panels.js), the charts (wall_charts.js) and the camera tiles
 * (wall_tiles.js). The numbers all come from wall_stats.js.
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

  /** Show `value` with `show` unless the page already shows exactly that. */
  function offer(name, value, fresh, show) {
    var signature = JSON.stringify(value);
    if (fresh || signature !== memo[name]) {
      memo[name] = signature;
      show(value);
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
    // The KPI strip, the latest reports and the presence counts are written in place too,
    // and only the parts that changed. Through Dash (a store and a clientside callback) each
    // change re-rendered the wall's component tree: 100 ms and more of the main thread on a
    // wall with 10,000 cases, for a dozen numbers (docs/performance.md, the wall).
    var recount = moved || minute;
    safely("kpis", function () {
      offer("kpis", kpisNow(state, ctx.now, recount), ctx.fresh, showKpis);
      offer("workers", workerCounts(state), ctx.fresh, showPresence);
      if (recount) {
        var rows = latestRows(state, ctx.now, ctx.tzOffset, strings);
        offer("latest", rows, ctx.fresh, function (list) {
          showLatest(list, strings);
        });
      }
    });
    return out;
  };

  /* ---- the KPI strip, the latest reports, the presence counts ---- */

  // dashboard/wall_layout.py KPIS and PRESENCES, in their order.
  var KPI_KEYS = [
    "reported_today", "registered_today", "closed_today", "open", "closure_rate",
    "on_time_rate", "satisfaction", "yellow", "overdue", "workers_online", "calls",
  ];
  var RATES = { closure_rate: 1, on_time_rate: 1, satisfaction: 1 };
  var PRESENCES = ["online", "idle", "offline"];

  /** Set an element's content to `text` and, when given, a trailing <span class=...>. */
  function setValue(el, text, unitClass, unit) {
    var first = el.firstChild;
    var tail = el.lastChild;
    var fits =
      first && first.nodeType === 3 && (unitClass
        ? el.childNodes.length === 2 && tail.className === unitClass
        : el.childNodes.length === 1);
    if (!fits) {
      el.textContent = "";
      el.appendChild(document.createTextNode(text));
      if (unitClass) {
        el.appendChild(CH.wallDom.node("span", unitClass, unit));
      }
      return;
    }
    if (first.nodeValue !== text) {
      first.nodeValue = text;
    }
    if (unitClass && tail.textContent !== unit) {
      tail.textContent = unit;
    }
  }

  function showKpis(kpis) {
    KPI_KEYS.forEach(function (key) {
      var el = document.getElementById("wall-kpi-" + key);
      if (!el) {
        return;
      }
      var v = kpis[key];
      if (RATES[key]) {
        if (v === null || v === undefined) {
          setValue(el, "–");
        } else {
          var pct = v * 100;
          setValue(el, pct >= 99.95 ? "100" : pct.toFixed(1), "wall-kpi-unit", "%");
        }
      } else if (key === "workers_online") {
        setValue(el, String(v), "wall-kpi-of", "/" + kpis.workers_total);
      } else {
        setValue(el, String(v));
      }
    });
  }

  function showPresence(counts) {
    PRESENCES.forEach(function (p) {
      setText("wall-presence-" + p, String(counts[p]));
    });
  }

  function showLatest(rows, strings) {
    var list = document.getElementById("wall-latest-list");
    if (!list) {
      return;
    }
    var D = CH.wallDom;
    if (!rows.length) {
      list.textContent = "";
      list.appendChild(D.node("li", "wall-latest-empty", strings["wall.latest.empty"] || ""));
      return;
    }
    var empty = list.querySelector(".wall-latest-empty");
    if (empty) {
      list.removeChild(empty);
    }
    D.keyedList(
      list,
      rows,
      function (r) {
        return r.id;
      },
      function () {
        var li = D.node("li");
        ["time", "category", "township", "state"].forEach(function (part) {
          li.appendChild(D.node("span", "wall-row-" + part));
        });
        return li;
      },
      function (li, r) {
        li.className = "wall-row is-" + r.light + (r.fresh ? " is-new" : "");
        li.setAttribute("data-case-id", String(r.id));
        var parts = li.children;
        D.setText(parts[0], r.time);
        D.setText(parts[1], r.category);
        D.setText(parts[2], r.township);
        parts[3].className = "wall-row-state state-" + r.state;
        D.setText(parts[3], r.state_label);
      }
    );
  }
})();
