/*
 * The one reducer every CommandHall screen uses: live updates and replay alike.
 *
 * State is {seq, dayStart, tzOffset, skew, townshipId, cases: {id: summary},
 * workers: {id: worker}, workersSeen: {id: ms}}. `cases` holds every open case and every case
 * reported or updated today (the same set as /api/snapshot), so the KPI strip can be derived
 * from it with the server's definitions (dispatch/service/queries.py `kpis`). `workers` holds
 * every grid worker of the scope as the last `positions` frame (or the snapshot) told it:
 * workers are state, not events, so they have no seq (docs/realtime.md, "Grid workers on the
 * map"). Functions never mutate their arguments.
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
    };
    return applyPositions(state, { t: snapshot.server_time, workers: snapshot.workers });
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
      // Merged: frames leave out what does not move (the snapshot's on_duty).
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
    applyPositions: applyPositions,
    workerCounts: workerCounts,
  };
});
