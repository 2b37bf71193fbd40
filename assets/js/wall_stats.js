/*
 * What the wall shows, derived from the reducer's state (assets/js/reducer.js): the KPI
 * strip, the overdue warnings, the charts, the grid shading and the hotspots. Pure functions
 * of (state, now); nothing here keeps anything. Today comes from `state.cases` (every case
 * reported, changed or closed today), the days before from `state.history`
 * (dispatch/service/wall_stats.py).
 *
 * Loads as a browser global (CommandHall.wallStats) and as a Node module (the unit tests).
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./reducer.js"));
  } else {
    var CH = (root.CommandHall = root.CommandHall || {});
    CH.wallStats = factory(CH);
  }
})(typeof self !== "undefined" ? self : this, function (R) {
  "use strict";

  var CHANNELS = ["citizen", "hotline", "grid", "camera", "app"]; // dispatch/service/intake.py
  var LEVEL_ORDER = { red: 0, yellow: 1, whistle: 2 };

  function each(map, fn) {
    Object.keys(map || {}).forEach(function (k) {
      fn(map[k], k);
    });
  }

  function add(counts, key, by) {
    if (key !== null && key !== undefined && by) {
      counts[key] = (counts[key] || 0) + by;
    }
  }

  function rated(c) {
    return c.rating !== null && c.rating !== undefined;
  }

  // Every chart starts from today's row; a push asks for it half a dozen times. The reducer
  // never changes a cases map in place, so the map and the day are a safe key.
  var last = { cases: null, dayStart: null, row: null };

  /** Today's row, in the shape of a history row, from the cases the state holds. Shared:
   *  callers must not change it. */
  function today(state) {
    if (last.cases === state.cases && last.dayStart === state.dayStart) {
      return last.row;
    }
    var row = countToday(state);
    last = { cases: state.cases, dayStart: state.dayStart, row: row };
    return row;
  }

  function countToday(state) {
    var start = state.dayStart;
    var row = { day: R.localDay(start, state.tzOffset), reported: {}, categories: {}, grids: {},
      rated: [0, 0], closed: {} };
    each(state.cases, function (c) {
      if (R.parseTime(c.reported_at) >= start) {
        add(row.reported, c.channel, 1);
        add(row.categories, c.category, 1);
        add(row.grids, c.grid_id, 1);
        if (rated(c)) {
          row.rated[0] += 1;
          row.rated[1] += c.rating >= R.SATISFIED ? 1 : 0;
        }
      }
      if (R.parseTime(c.closed_at) >= start && c.township_id !== null &&
          c.township_id !== undefined) {
        var pair = (row.closed[c.township_id] = row.closed[c.township_id] || [0, 0]);
        pair[0] += 1;
        pair[1] += c.on_time ? 1 : 0;
      }
    });
    return row;
  }

  /** The window's rows, oldest first, today last. */
  function rows(state) {
    return (state.history || []).concat([today(state)]);
  }

  /** Sums over the window: reported per channel, categories, rated, closed per township. */
  function totals(all) {
    var t = { reported: {}, categories: {}, rated: [0, 0], closed: {} };
    all.forEach(function (row) {
      each(row.reported, function (n, k) {
        add(t.reported, k, n);
      });
      each(row.categories, function (n, k) {
        add(t.categories, k, n);
      });
      t.rated[0] += row.rated[0];
      t.rated[1] += row.rated[1];
      each(row.closed, function (pair, k) {
        var sum = (t.closed[k] = t.closed[k] || [0, 0]);
        sum[0] += pair[0];
        sum[1] += pair[1];
      });
    });
    return t;
  }

  function sum(counts) {
    var n = 0;
    each(counts, function (v) {
      n += v;
    });
    return n;
  }

  function ratio(part, whole) {
    return whole > 0 ? part / whole : null;
  }

  /** Calls in progress: the calls issue keeps them in state.calls until they end. */
  function callsNow(state) {
    var n = 0;
    each(state.calls, function (call) {
      if (!call.ended_at && call.status !== "ended") {
        n += 1;
      }
    });
    return n;
  }

  /**
   * The KPI strip: today's counts (the server's kpis() for the first five), and over the
   * window: closure rate (share of the window's reports no longer open), on-time rate (of
   * the cases closed in it), satisfaction (share of ratings of 3 or more, by day reported).
   */
  function kpis(state, now) {
    var out = R.kpis(state, now);
    var midnight = state.dayStart;
    var all = rows(state);
    var t = totals(all);
    var windowStart = midnight - (all.length - 1) * R.DAY_MS;
    var openInWindow = 0;
    var registered = 0;
    each(state.cases, function (c) {
      var reported = R.parseTime(c.reported_at);
      if (R.isOpen(c) && reported >= windowStart) {
        openInWindow += 1;
      }
      if (reported >= midnight && c.urgency) {
        registered += 1; // an urgency is given when a case is registered (立案)
      }
    });
    var reportedInWindow = sum(t.reported);
    var closed = 0;
    var onTime = 0;
    each(t.closed, function (pair) {
      closed += pair[0];
      onTime += pair[1];
    });
    var workers = R.workerCounts(state);
    out.registered_today = registered;
    out.closure_rate = ratio(reportedInWindow - openInWindow, reportedInWindow);
    out.on_time_rate = ratio(onTime, closed);
    out.satisfaction = ratio(t.rated[1], t.rated[0]);
    out.workers_online = workers.workers_online;
    out.workers_total = workers.total;
    out.calls = callsNow(state);
    return out;
  }

  /** Categories over the window, most first: [{code, n}]. */
  function categories(state) {
    var t = totals(rows(state)).categories;
    return Object.keys(t)
      .map(function (code) {
        return { code: code, n: t[code] };
      })
      .sort(function (a, b) {
        return b.n - a.n || (a.code < b.code ? -1 : 1);
      });
  }

  /** Every township of the scope by on-time rate over the window, best first; one without
   *  closed cases last. [{id, name, closed, onTime, rate}] */
  function townships(state) {
    var t = totals(rows(state)).closed;
    var ids = Object.keys(Object.assign({}, state.townships, t));
    return ids
      .map(function (id) {
        var pair = t[id] || [0, 0];
        return { id: id, name: (state.townships || {})[id] || "—", closed: pair[0],
          onTime: pair[1], rate: ratio(pair[1], pair[0]) };
      })
      .sort(function (a, b) {
        var ra = a.rate === null ? -1 : a.rate;
        var rb = b.rate === null ? -1 : b.rate;
        return rb - ra || b.closed - a.closed || Number(a.id) - Number(b.id);
      });
  }

  /** The trend: per day of the window, how many were reported and how many closed. */
  function trend(state) {
    var all = rows(state);
    return {
      days: all.map(function (r) {
        return r.day;
      }),
      reported: all.map(function (r) {
        return sum(r.reported);
      }),
      closed: all.map(function (r) {
        var n = 0;
        each(r.closed, function (pair) {
          n += pair[0];
        });
        return n;
      }),
    };
  }

  /** Intake by channel: over the window and today, in a fixed order. */
  function channels(state) {
    var day = today(state).reported;
    var t = totals(rows(state)).reported;
    var names = CHANNELS.concat(
      Object.keys(t).filter(function (k) {
        return CHANNELS.indexOf(k) < 0;
      })
    );
    return names.map(function (channel) {
      return { channel: channel, n: t[channel] || 0, today: day[channel] || 0 };
    });
  }

  function caseRow(c, level) {
    return {
      key: "case-" + c.id,
      kind: "case",
      level: level,
      id: c.id,
      ticket: c.ticket || "#" + c.id,
      deadline: R.parseTime(c.deadline),
      township: c.township || "",
      category: c.category,
      state: c.state,
    };
  }

  /**
   * The overdue warnings: red cases and called departments late to acknowledge, the newest
   * overdue first; then yellow cases, the nearest to red first; then departments still
   * within their time, the nearest deadline first. At most `limit` rows, and the counts.
   */
  function warnings(state, now, limit) {
    var out = [];
    var counts = { red: 0, yellow: 0, whistle: 0, late: 0 };
    each(state.cases, function (c) {
      if (!R.isOpen(c)) {
        return;
      }
      if (c.light === "red" || c.light === "yellow") {
        counts[c.light] += 1;
        out.push(caseRow(c, c.light));
      }
      (state.whistles[c.id] || []).forEach(function (p) {
        if (p.acked !== null) {
          return;
        }
        var late = p.late || now >= p.deadline;
        counts[late ? "late" : "whistle"] += 1;
        var row = caseRow(c, late ? "red" : "whistle");
        row.key = "whistle-" + c.id + "-" + p.department;
        row.kind = "whistle";
        row.department = p.department;
        row.role = p.role;
        row.deadline = p.deadline;
        out.push(row);
      });
    });
    out.sort(function (a, b) {
      var byLevel = LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level];
      if (byLevel) {
        return byLevel;
      }
      var da = isNaN(a.deadline) ? 0 : a.deadline;
      var db = isNaN(b.deadline) ? 0 : b.deadline;
      var byTime = a.level === "red" ? db - da : da - db;
      return byTime || b.id - a.id || (a.key < b.key ? -1 : 1);
    });
    return { rows: limit ? out.slice(0, limit) : out, counts: counts };
  }

  /** The red case that went red last (its deadline is when it did), or null. */
  function newestRed(state) {
    var best = null;
    each(state.cases, function (c) {
      if (R.isOpen(c) && c.light === "red" && typeof c.lat === "number") {
        var d = R.parseTime(c.deadline) || 0;
        var bd = best ? R.parseTime(best.deadline) || 0 : -Infinity;
        if (!best || d > bd || (d === bd && c.id > best.id)) {
          best = c;
        }
      }
    });
    return best;
  }

  /** Open cases per grid (the map's shading). */
  function openByGrid(state) {
    var out = {};
    each(state.cases, function (c) {
      if (R.isOpen(c)) {
        add(out, c.grid_id, 1);
      }
    });
    return out;
  }

  /** Cases reported per grid in the last HOT_DAYS days, today included (the hotspots). */
  function hotspots(state) {
    var out = {};
    var recent = (state.history || []).slice(-(R.HOT_DAYS - 1)).concat([today(state)]);
    recent.forEach(function (row) {
      each(row.grids, function (n, grid) {
        add(out, grid, n);
      });
    });
    return out;
  }

  return {
    CHANNELS: CHANNELS,
    today: today,
    kpis: kpis,
    categories: categories,
    townships: townships,
    trend: trend,
    channels: channels,
    warnings: warnings,
    newestRed: newestRed,
    openByGrid: openByGrid,
    hotspots: hotspots,
  };
});
