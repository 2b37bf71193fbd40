/*
 * The one reducer every CommandHall screen uses: live updates and replay alike.
 *
 * State is {seq, dayStart, tzOffset, skew, townshipId, cases: {id: summary},
 * workers: {id: worker}, workersSeen: {id: ms}, whistles: {caseId: [party]}, history: [row],
 * townships: {id: name}, calls: {id: call}}. `cases` holds every open case and every case
 * reported or updated today (the same set as /api/snapshot), so the KPI strip can be derived
 * from it with the server's definitions (dispatch/service/queries.py `kpis`). `workers` holds
 * every grid worker of the scope as the last `positions` frame (or the snapshot) told it:
 * workers are state, not events, so they have no seq (docs/realtime.md, "Grid workers on the
 * map"). `whistles` are the called departments (吹哨报到) of those cases, times in ms.
 * `history` is the wall's thirty days before today (dispatch/service/wall_stats.py): today is
 * derived from `cases`, and folded into `history` at midnight. `calls` is what the calls
 * issue fills (calls in progress, by id: the snapshot's stats.calls, then the call.* events;
 * see applyCall). Functions never mutate their
 * arguments.
 *
 * Loads as a browser global (window.CommandHall) and as a Node module (tests/reducer_node.py).
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.CommandHall = Object.assign(root.CommandHall || {}, api);
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var DAY_MS = 24 * 60 * 60 * 1000;
  var WINDOW_DAYS = 30; // dispatch/service/wall_stats.py: the charts' window, today included
  var HOT_DAYS = 7; // the hotspot layer's window, today included
  var SATISFIED = 3; // a rating below this reopens the case

  /** Milliseconds since the epoch of an ISO 8601 time; NaN for null or garbage.
   *  The times the server writes ("2026-11-22T09:28:05.123456+08:00", "...Z", with or
   *  without the fraction) are read digit by digit: a wall reads tens of thousands of them a
   *  second when its cases change, and the regular expression and Date.parse cost ten times
   *  as much (docs/performance.md, the wall). Anything else goes to Date.parse. */
  function parseTime(iso) {
    if (!iso) {
      return NaN;
    }
    var s = String(iso);
    var known = parsed.get(s);
    if (known !== undefined) {
      return known;
    }
    var fast = parseServerTime(s);
    var t = fast === null ? slowParseTime(s) : fast;
    if (parsed.size >= PARSED_MAX) {
      parsed.clear(); // a wall that runs for weeks sees new times all day
    }
    parsed.set(s, t);
    return t;
  }

  // Times already read: the wall reads each case's times in every pass over 10,000 cases
  // (kpis, warnings, charts, ...), and a look-up is a tenth of a parse. The strings are the
  // cases' own, so the map costs its entries only.
  var PARSED_MAX = 60000;
  var parsed = new Map();

  /** Python writes microseconds (6 digits); keep three so every engine parses it. */
  function slowParseTime(s) {
    return Date.parse(s.replace(/(\.\d{3})\d+/, "$1"));
  }

  function digits(s, at, n) {
    var v = 0;
    for (var i = at; i < at + n; i++) {
      var d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        return NaN;
      }
      v = v * 10 + d;
    }
    return v;
  }

  /** YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM) in ms, or null for any other shape. */
  function parseServerTime(s) {
    var n = s.length;
    if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
        s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
      return null;
    }
    var i = 19;
    var ms = 0;
    if (s.charCodeAt(i) === 46) { // "." and the fraction, to the millisecond
      i += 1;
      var scale = 100;
      while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
        ms += (s.charCodeAt(i) - 48) * scale;
        scale = scale / 10;
        i += 1;
      }
      ms = Math.floor(ms);
    }
    var offset;
    var sign = s.charCodeAt(i);
    if (sign === 90 && i === n - 1) { // "Z"
      offset = 0;
    } else if ((sign === 43 || sign === 45) && n - i === 6 && s.charCodeAt(i + 3) === 58) {
      offset = digits(s, i + 1, 2) * 60 + digits(s, i + 4, 2);
      offset = sign === 45 ? -offset : offset;
    } else {
      return null;
    }
    var month = digits(s, 5, 2);
    var day = digits(s, 8, 2);
    var hour = digits(s, 11, 2);
    var minute = digits(s, 14, 2);
    var second = digits(s, 17, 2);
    if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
          second <= 59)) {
      return null; // out of range (or not digits): Date.parse decides
    }
    var t = Date.UTC(digits(s, 0, 4), month - 1, day, hour, minute, second, ms) - offset * 60000;
    return isNaN(t) ? null : t;
  }

  /** The UTC offset, in minutes, written at the end of an ISO time ("+08:00" → 480). */
  function tzOffsetMinutes(iso) {
    var m = /([+-])(\d{2}):?(\d{2})$/.exec(String(iso || ""));
    if (!m) {
      return /Z$/.test(String(iso || "")) ? 0 : null;
    }
    var minutes = parseInt(m[2], 10) * 60 + parseInt(m[3], 10);
    return m[1] === "-" ? -minutes : minutes;
  }

  // A case as a screen keeps it: dispatch/service/queries.py SCREEN_FIELDS, the shape of the
  // snapshot's cases. Events carry the whole summary (description, address, names); a screen
  // keeps only these, so its memory does not grow with what it never shows, and a case
  // replayed from events equals the same case in a fresh snapshot.
  var SCREEN_FIELDS = [
    "id", "ticket", "state", "status", "category", "lat", "long", "channel", "township_id",
    "township", "grid_id", "level", "urgency", "light", "department", "worker_id",
    "deadline", "reported_at", "updated_at", "closed_at", "on_time", "rating", "master_id",
  ];

  /** The SCREEN_FIELDS a summary has (a screen case is returned as it is). */
  function screenCase(c) {
    var out = {};
    var extra = false;
    for (var k in c) {
      if (SCREEN_INDEX[k] === undefined) {
        extra = true;
      } else {
        out[k] = c[k];
      }
    }
    return extra ? out : c;
  }
  var SCREEN_INDEX = {};
  SCREEN_FIELDS.forEach(function (k, i) {
    SCREEN_INDEX[k] = i;
  });

  function isOpen(c) {
    return c.status === "open";
  }

  /** Today's case in the snapshot's sense: reported or touched since local midnight. */
  function isToday(c, dayStart) {
    return parseTime(c.reported_at) >= dayStart || parseTime(c.updated_at) >= dayStart;
  }

  /** Whether a screen keeps a case: open ones, and closed ones only on the day they moved. */
  function keeps(c, dayStart) {
    return isOpen(c) || isToday(c, dayStart);
  }

  /** A compact snapshot's cases (case_fields + case_rows) as objects; else its cases. */
  function snapshotCases(snapshot) {
    var fields = snapshot.case_fields;
    if (!fields || !snapshot.case_rows) {
      return snapshot.cases || [];
    }
    return snapshot.case_rows.map(function (row) {
      var c = {};
      for (var i = 0; i < fields.length; i++) {
        c[fields[i]] = row[i];
      }
      return c;
    });
  }

  function fromSnapshot(snapshot) {
    var dayStart = parseTime(snapshot.day_start);
    var serverTime = parseTime(snapshot.server_time);
    var cases = {};
    snapshotCases(snapshot).forEach(function (c) {
      if (keeps(c, dayStart)) {
        cases[c.id] = c;
      }
    });
    var stats = snapshot.stats || {};
    var whistles = {};
    (stats.whistles || []).forEach(function (p) {
      if (cases[p.case_id]) {
        (whistles[p.case_id] = whistles[p.case_id] || []).push({
          department: p.department,
          role: p.role,
          deadline: parseTime(p.ack_deadline),
          acked: nullableTime(p.acknowledged_at),
          reported: nullableTime(p.reported_at),
          late: !!p.late,
        });
      }
    });
    var calls = {};
    (snapshot.calls || stats.calls || []).forEach(function (call) {
      calls[call.id] = call;
    });
    var state = {
      seq: snapshot.seq,
      dayStart: dayStart,
      tzOffset: tzOffsetMinutes(snapshot.day_start),
      // server clock minus browser clock, so "today" is the county's today
      skew: isNaN(serverTime) ? 0 : serverTime - Date.now(),
      townshipId: snapshot.township_id === undefined ? null : snapshot.township_id,
      cases: cases,
      workers: {},
      workersSeen: {},
      whistles: whistles,
      history: JSON.parse(JSON.stringify(stats.history || [])),
      townships: Object.assign({}, stats.townships || {}),
      calls: calls,
    };
    return applyPositions(state, { t: snapshot.server_time, workers: snapshot.workers });
  }

  function nullableTime(iso) {
    return iso ? parseTime(iso) : null;
  }

  /** A copy the caller may change: maps are copied now, their values when written. */
  function copy(state) {
    return Object.assign({}, state, {
      cases: Object.assign({}, state.cases),
      whistles: Object.assign({}, state.whistles),
      history: (state.history || []).slice(),
      calls: Object.assign({}, state.calls),
    });
  }

  /* ---- calls in progress (dispatch/service/calls.py): by call id, idempotent ---- */

  function applyCall(draft, event) {
    var data = event.data || {};
    var id = data.call_id;
    if (event.type === "call.started") {
      draft.calls[id] = {
        id: id, kind: data.kind, case_id: event.case_id, township_id: event.township_id,
        township: (draft.townships || {})[event.township_id] || "", caller: data.caller,
        callee: data.callee, status: data.status, started_at: event.at,
      };
    } else if (event.type === "call.answered" && draft.calls[id]) {
      draft.calls[id] = Object.assign({}, draft.calls[id], { status: "active" });
    } else if (event.type === "call.ended") {
      delete draft.calls[id];
    }
  }

  /* ---- whistle-and-report (吹哨报到): the parties of each case, from the events ---- */

  function applyWhistle(draft, event) {
    var id = event.case_id;
    var data = event.data || {};
    if (event.type === "whistle.blown") {
      var deadline = parseTime(data.ack_deadline);
      draft.whistles[id] = [data.lead].concat(data.co || []).map(function (dept, i) {
        return {
          department: dept,
          role: i === 0 ? "lead" : "co",
          deadline: deadline,
          acked: null,
          reported: null,
          late: false,
        };
      });
    } else if (event.type === "case.dispatched" || event.type === "case.sent_down") {
      delete draft.whistles[id]; // an ordinary dispatch replaces any earlier whistle
    } else if (draft.whistles[id] && /^whistle\./.test(event.type)) {
      var at = parseTime(event.at);
      draft.whistles[id] = draft.whistles[id].map(function (p) {
        if (p.department !== data.department) {
          return p;
        }
        var next = Object.assign({}, p);
        if (event.type === "whistle.acknowledged") {
          next.acked = at;
        } else if (event.type === "whistle.reported") {
          next.reported = at;
        } else if (event.type === "whistle.overdue") {
          next.late = true;
        }
        return next;
      });
    }
  }

  /* ---- the thirty days before today (dispatch/service/wall_stats.py) ---- */

  /** "2026-11-22": the county's date of a time, given the offset of its day_start. */
  function localDay(ms, tzOffset) {
    return new Date(ms + (tzOffset || 0) * 60000).toISOString().slice(0, 10);
  }

  /** The history row of the local day of `ms`, when that day is before today and in it. */
  function rowIndex(state, ms) {
    if (isNaN(ms) || ms >= state.dayStart) {
      return -1;
    }
    // 1 = yesterday, its first instant (exactly one day before dayStart) included
    var back = Math.ceil((state.dayStart - ms) / DAY_MS);
    var index = state.history.length - back;
    return index >= 0 && state.history[index].day === localDay(ms, state.tzOffset) ? index : -1;
  }

  function bump(counts, key, by) {
    if (key === null || key === undefined || !by) {
      return;
    }
    var n = (counts[key] || 0) + by;
    if (n) {
      counts[key] = n;
    } else {
      delete counts[key];
    }
  }

  /** What a case adds to history that can change after its day: its category and rating
   *  (by the day it was reported), its closing (by the day it closed). */
  function addToHistory(draft, c, sign, written) {
    function row(index) {
      if (!written[index]) {
        var old = draft.history[index];
        draft.history[index] = Object.assign({}, old, {
          categories: Object.assign({}, old.categories),
          rated: old.rated.slice(),
          closed: Object.assign({}, old.closed),
        });
        written[index] = true;
      }
      return draft.history[index];
    }
    var cohort = rowIndex(draft, parseTime(c.reported_at));
    if (cohort >= 0) {
      var r = row(cohort);
      bump(r.categories, c.category, sign);
      if (c.rating !== null && c.rating !== undefined) {
        r.rated[0] += sign;
        r.rated[1] += c.rating >= SATISFIED ? sign : 0;
      }
    }
    var closedOn = rowIndex(draft, parseTime(c.closed_at));
    if (closedOn >= 0 && c.township_id !== null && c.township_id !== undefined) {
      var closed = row(closedOn).closed;
      var pair = (closed[c.township_id] || [0, 0]).slice();
      pair[0] += sign;
      pair[1] += c.on_time ? sign : 0;
      if (pair[0]) {
        closed[c.township_id] = pair;
      } else {
        delete closed[c.township_id];
      }
    }
  }

  /**
   * Keep history true when an event changes a case of an earlier day. A case the state holds
   * is counted in history as we hold it. One we do not hold was closed on an earlier day and
   * not touched since, and only a callback changes what history counts of it (review and
   * reopen are the only ways out of `closed`): see caseBefore.
   */
  function applyHistoryDelta(draft, event, current, written) {
    var incoming = event.case;
    var before = current || caseBefore(incoming, event);
    if (before !== incoming) {
      addToHistory(draft, before, -1, written);
      addToHistory(draft, incoming, 1, written);
    }
  }

  // The summary's fields a callback replaces; its event carries each as `previous_<field>`
  // (dispatch/domain/events.py CaseReviewed, CaseReopened).
  var CALLBACK_REPLACES = {
    "case.reviewed": ["rating"],
    "case.reopened": ["rating", "closed_at", "on_time"],
  };

  /** A case we do not hold as it was before `event`: the event's summary with what the
   *  callback replaced put back (a rating from an earlier unhappy callback, the closing a
   *  reopening undoes). An event logged before it carried them counts as a first rating. */
  function caseBefore(incoming, event) {
    var fields = CALLBACK_REPLACES[event.type];
    if (!fields) {
      return incoming;
    }
    var data = event.data || {};
    var before = Object.assign({}, incoming);
    fields.forEach(function (field) {
      var previous = data["previous_" + field];
      before[field] = previous === undefined ? null : previous;
    });
    return before;
  }

  /** The history row of one day that has ended, from the cases the state holds. */
  function dayRow(state, start, hot) {
    var end = start + DAY_MS;
    var row = { day: localDay(start, state.tzOffset), reported: {}, categories: {},
      rated: [0, 0], closed: {} };
    if (hot) {
      row.grids = {};
    }
    Object.keys(state.cases).forEach(function (id) {
      var c = state.cases[id];
      var reported = parseTime(c.reported_at);
      if (reported >= start && reported < end) {
        bump(row.reported, c.channel, 1);
        bump(row.categories, c.category, 1);
        if (hot) {
          bump(row.grids, c.grid_id, 1);
        }
        if (c.rating !== null && c.rating !== undefined) {
          row.rated[0] += 1;
          row.rated[1] += c.rating >= SATISFIED ? 1 : 0;
        }
      }
      var closedAt = parseTime(c.closed_at);
      if (closedAt >= start && closedAt < end && c.township_id !== null &&
          c.township_id !== undefined) {
        var pair = (row.closed[c.township_id] = row.closed[c.township_id] || [0, 0]);
        pair[0] += 1;
        pair[1] += c.on_time ? 1 : 0;
      }
    });
    return row;
  }

  /** Apply one event to a state copy the caller owns (`written`: history rows copied). */
  function applyInto(draft, event, written) {
    if (event.case) {
      event = Object.assign({}, event, { case: screenCase(event.case) });
    }
    var incoming = event.case;
    if (incoming) {
      var current = draft.cases[incoming.id];
      // Summaries are read when an event is sent, not when it happened: an event replayed
      // late may carry an older summary than one already applied. Never go back in time.
      var stale = current && parseTime(current.updated_at) > parseTime(incoming.updated_at);
      if (!stale) {
        applyHistoryDelta(draft, event, current, written);
        if (keeps(incoming, draft.dayStart)) {
          draft.cases[incoming.id] = incoming;
        } else {
          delete draft.cases[incoming.id];
        }
      }
    }
    if (event.case_id !== null && event.case_id !== undefined) {
      if (draft.cases[event.case_id]) {
        applyWhistle(draft, event);
      } else {
        delete draft.whistles[event.case_id];
      }
    }
    if (/^call\./.test(event.type)) {
      applyCall(draft, event);
    }
    draft.seq = Math.max(draft.seq, event.seq);
  }

  /** The state after one event; an event already applied (seq <= state.seq) changes nothing. */
  function reduce(state, event) {
    if (event.seq <= state.seq) {
      return state;
    }
    var draft = copy(state);
    applyInto(draft, event, {});
    return draft;
  }

  /**
   * Apply a batch {from, to, events}: it covers the log from `from` (exclusive) to `to`.
   * Returns {state, gap, applied}. gap is true when the batch starts after our seq: something
   * was missed, the state is returned unchanged and the caller must catch up first.
   */
  function applyBatch(state, batch) {
    if (batch.from > state.seq) {
      return { state: state, gap: true, applied: 0 };
    }
    var fresh = (batch.events || []).filter(function (e) {
      return e.seq > state.seq;
    });
    if (!fresh.length && batch.to <= state.seq) {
      return { state: state, gap: false, applied: 0 };
    }
    var draft = copy(state);
    var written = {};
    fresh.forEach(function (e) {
      applyInto(draft, e, written);
    });
    draft.seq = Math.max(draft.seq, batch.to);
    return { state: draft, gap: false, applied: fresh.length };
  }

  /** Local midnight of `now` given the state's last known midnight (China has no DST). */
  function midnightAt(state, now) {
    if (now === undefined || now === null || isNaN(now) || now < state.dayStart) {
      return state.dayStart;
    }
    return state.dayStart + Math.floor((now - state.dayStart) / DAY_MS) * DAY_MS;
  }

  /**
   * After midnight: fold the day (or days) that ended into history, keep its last
   * WINDOW_DAYS - 1 rows (the hotspot grids in the last HOT_DAYS - 1), and forget cases that
   * were closed on earlier days, with their whistles.
   */
  function rollDay(state, now) {
    var midnight = midnightAt(state, now);
    if (midnight === state.dayStart) {
      return state;
    }
    var history = (state.history || []).slice();
    var first = Math.max(state.dayStart, midnight - (WINDOW_DAYS - 1) * DAY_MS);
    for (var day = first; day < midnight; day += DAY_MS) {
      history.push(dayRow(state, day, true));
    }
    history = history.slice(-(WINDOW_DAYS - 1)).map(function (row, i, rows) {
      if (row.grids && i < rows.length - (HOT_DAYS - 1)) {
        row = Object.assign({}, row);
        delete row.grids;
      }
      return row;
    });
    var next = Object.assign({}, state, {
      dayStart: midnight,
      cases: {},
      whistles: {},
      history: history,
    });
    Object.keys(state.cases).forEach(function (id) {
      if (keeps(state.cases[id], midnight)) {
        next.cases[id] = state.cases[id];
        if (state.whistles && state.whistles[id]) {
          next.whistles[id] = state.whistles[id];
        }
      }
    });
    return next;
  }

  /** The KPI strip, with the same definitions as the server's kpis(). */
  function kpis(state, now) {
    var midnight = midnightAt(state, now);
    var out = { reported_today: 0, open: 0, closed_today: 0, overdue: 0, yellow: 0 };
    Object.keys(state.cases).forEach(function (id) {
      var c = state.cases[id];
      if (parseTime(c.reported_at) >= midnight) {
        out.reported_today += 1;
      }
      if (parseTime(c.closed_at) >= midnight) {
        out.closed_today += 1;
      }
      if (isOpen(c)) {
        out.open += 1;
        if (c.light === "red") {
          out.overdue += 1;
        } else if (c.light === "yellow") {
          out.yellow += 1;
        }
      }
    });
    return out;
  }

  /* ---- grid workers: positions are state, not events ---- */

  /**
   * Whether `item`, seen at `seenAt`, is news for a worker we hold as `current`, seen at
   * `currentSeen`. A newer fix (`at`) always is; an older one never (a frame can be overtaken
   * by the snapshot it raced). For the same fix, presence only moves on with time (online →
   * idle → offline), so the later look at it wins: a sweep's "offline" beats the "online" of
   * a snapshot read before it, and not the other way round.
   */
  function isNews(item, seenAt, current, currentSeen) {
    if (!current) {
      return true;
    }
    var order = compareFixTimes(item.at, current.at);
    if (order !== null) {
      return order > 0 || (order === 0 && !(seenAt < currentSeen));
    }
    var at = parseTime(item.at);
    var held = parseTime(current.at);
    if (isNaN(at)) {
      // No fix at all: only news to a worker we know nothing better about.
      return isNaN(held) && !(seenAt < currentSeen);
    }
    if (isNaN(held) || at > held) {
      return true;
    }
    return at === held && !(seenAt < currentSeen);
  }

  /**
   * How two fix times compare (-1, 0, 1) when their text tells it: the server writes every
   * `at` in UTC to the millisecond (realtime/frames.py iso_ms), so two of the same length
   * and zone compare as strings, without parsing 5,000 dates a frame. null: parse them.
   */
  function compareFixTimes(a, b) {
    if (typeof a !== "string" || typeof b !== "string" || a.length !== b.length ||
        a.slice(-6) !== b.slice(-6) || a.charAt(a.length - 6) !== "+") {
      return null;
    }
    return a === b ? 0 : a > b ? 1 : -1;
  }

  /**
   * Apply a `positions` frame {t, workers: [worker…]}: upsert each worker by id, unless we
   * already hold a newer look at it. Returns the same state when nothing changed, so the
   * caller can tell a frame that only repeated what we knew.
   */
  function applyPositions(state, frame) {
    var items = (frame && frame.workers) || [];
    var seenAt = parseTime(frame && frame.t);
    var workers = null;
    var seen = null;
    items.forEach(function (item) {
      var current = (workers || state.workers)[item.id];
      var currentSeen = (seen || state.workersSeen)[item.id];
      if (!isNews(item, seenAt, current, currentSeen)) {
        return;
      }
      workers = workers || Object.assign({}, state.workers);
      seen = seen || Object.assign({}, state.workersSeen);
      // Merged: frames leave out what does not move (name, grid, township, on_duty).
      workers[item.id] = current ? Object.assign({}, current, item) : item;
      seen[item.id] = isNaN(seenAt) ? currentSeen : seenAt;
    });
    if (!workers) {
      return state;
    }
    return Object.assign({}, state, { workers: workers, workersSeen: seen });
  }

  /**
   * Workers by presence. `workers_online` is what the hall calls 在线: online and idle alike,
   * since an idle worker's phone is on and reaching us (it is standing still, perhaps at a
   * case); offline includes workers who never sent a fix.
   */
  function workerCounts(state) {
    var out = { online: 0, idle: 0, offline: 0, total: 0, workers_online: 0 };
    var workers = state.workers || {};
    Object.keys(workers).forEach(function (id) {
      var presence = workers[id].presence;
      out[presence === "online" || presence === "idle" ? presence : "offline"] += 1;
      out.total += 1;
    });
    out.workers_online = out.online + out.idle;
    return out;
  }

  /** Cases newest first (by time reported, then id), at most `limit`. */
  function latest(state, limit) {
    var list = Object.keys(state.cases).map(function (id) {
      var c = state.cases[id];
      return { c: c, t: parseTime(c.reported_at) }; // each time read once, not per comparison
    });
    list.sort(function (a, b) {
      return b.t - a.t || b.c.id - a.c.id;
    });
    if (limit) {
      list = list.slice(0, limit);
    }
    return list.map(function (x) {
      return x.c;
    });
  }

  return {
    DAY_MS: DAY_MS,
    WINDOW_DAYS: WINDOW_DAYS,
    HOT_DAYS: HOT_DAYS,
    SATISFIED: SATISFIED,
    localDay: localDay,
    parseTime: parseTime,
    slowParseTime: slowParseTime,
    tzOffsetMinutes: tzOffsetMinutes,
    isOpen: isOpen,
    keeps: keeps,
    SCREEN_FIELDS: SCREEN_FIELDS,
    screenCase: screenCase,
    fromSnapshot: fromSnapshot,
    reduce: reduce,
    applyBatch: applyBatch,
    rollDay: rollDay,
    kpis: kpis,
    latest: latest,
    applyPositions: applyPositions,
    workerCounts: workerCounts,
  };
});
