/*
 * The one reducer every CommandHall screen uses: live updates and replay alike.
 *
 * State is {seq, dayStart, tzOffset, skew, townshipId, cases: {id: summary}}. It holds every
 * open case and every case reported or updated today (the same set as /api/snapshot), so the
 * KPI strip can be derived from it with the server's definitions (dispatch/service/queries.py
 * `kpis`). Functions never mutate their arguments.
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

  /** Milliseconds since the epoch of an ISO 8601 time; NaN for null or garbage.
   *  Python writes microseconds (6 digits); keep three so every engine parses it. */
  function parseTime(iso) {
    if (!iso) {
      return NaN;
    }
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
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

  function fromSnapshot(snapshot) {
    var dayStart = parseTime(snapshot.day_start);
    var serverTime = parseTime(snapshot.server_time);
    var cases = {};
    (snapshot.cases || []).forEach(function (c) {
      if (keeps(c, dayStart)) {
        cases[c.id] = c;
      }
    });
    return {
      seq: snapshot.seq,
      dayStart: dayStart,
      tzOffset: tzOffsetMinutes(snapshot.day_start),
      // server clock minus browser clock, so "today" is the county's today
      skew: isNaN(serverTime) ? 0 : serverTime - Date.now(),
      townshipId: snapshot.township_id === undefined ? null : snapshot.township_id,
      cases: cases,
    };
  }

  function copy(state) {
    return Object.assign({}, state, { cases: Object.assign({}, state.cases) });
  }

  /** Apply one event to a state copy the caller owns. */
  function applyInto(draft, event) {
    var incoming = event.case;
    if (incoming) {
      var current = draft.cases[incoming.id];
      // Summaries are read when an event is sent, not when it happened: an event replayed
      // late may carry an older summary than one already applied. Never go back in time.
      var stale = current && parseTime(current.updated_at) > parseTime(incoming.updated_at);
      if (!stale) {
        if (keeps(incoming, draft.dayStart)) {
          draft.cases[incoming.id] = incoming;
        } else {
          delete draft.cases[incoming.id];
        }
      }
    }
    draft.seq = Math.max(draft.seq, event.seq);
  }

  /** The state after one event; an event already applied (seq <= state.seq) changes nothing. */
  function reduce(state, event) {
    if (event.seq <= state.seq) {
      return state;
    }
    var draft = copy(state);
    applyInto(draft, event);
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
    fresh.forEach(function (e) {
      applyInto(draft, e);
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

  /** After midnight: move the day on and forget cases that were closed on earlier days. */
  function rollDay(state, now) {
    var midnight = midnightAt(state, now);
    if (midnight === state.dayStart) {
      return state;
    }
    var next = Object.assign({}, state, { dayStart: midnight, cases: {} });
    Object.keys(state.cases).forEach(function (id) {
      if (keeps(state.cases[id], midnight)) {
        next.cases[id] = state.cases[id];
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

  /** Cases newest first (by time reported, then id), at most `limit`. */
  function latest(state, limit) {
    var list = Object.keys(state.cases).map(function (id) {
      return state.cases[id];
    });
    list.sort(function (a, b) {
      return parseTime(b.reported_at) - parseTime(a.reported_at) || b.id - a.id;
    });
    return limit ? list.slice(0, limit) : list;
  }

  return {
    DAY_MS: DAY_MS,
    parseTime: parseTime,
    tzOffsetMinutes: tzOffsetMinutes,
    isOpen: isOpen,
    keeps: keeps,
    fromSnapshot: fromSnapshot,
    reduce: reduce,
    applyBatch: applyBatch,
    rollDay: rollDay,
    kpis: kpis,
    latest: latest,
  };
});
