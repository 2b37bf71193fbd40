/*
 * The grid worker's phone page (/field): tasks, accept, results with photos, new reports,
 * GPS, on a bad network.
 *
 * Everything renders from the JSON API with the device token (Authorization: Bearer dev_...).
 * Every submission goes through the outbox (outbox.js): stored on the phone first, sent with
 * its own Idempotency-Key, retried until the server confirms. The page never says something
 * is done before the server did; while it waits, the item shows as 待发送.
 *
 * The task list is fetched again on every event of the /live socket (which, with a device
 * token, carries only this worker's cases), on reconnect, when the page becomes visible,
 * and every 30 s while the socket is down.
 *
 * Views are #/tasks, #/task/<id>, #/report and #/queue. Each has update(), called whenever
 * the data changes; a view keeps what the user is typing (drafts live in `drafts`, and a form
 * is rebuilt only when the actions it belongs to change).
 *
 * One idea per file, all sharing window.CommandHall.field (here `F`): field_core.js (this
 * one: settings, helpers, state), field_sync.js (API, socket, outbox), field_photos.js,
 * field_map.js, field_gps.js, field_shell.js (header, GPS bar, notices), one file per view
 * (field_tasks.js, field_queue.js, field_task.js, field_report.js) and field.js, loaded
 * last, which routes, signs in and starts the page. dashboard/field_page.py loads them in
 * that order; a file uses what an earlier one put in F directly, and what a later one
 * will put there only as F.name, when it runs.
 */
(function () {
  "use strict";

  window.CommandHall = window.CommandHall || {};
  const F = (window.CommandHall.field = {});

  const cfg = JSON.parse(document.getElementById("field-config").textContent);
  const root = document.getElementById("field-app");

  const TOKEN_KEY = "commandhall.deviceToken";
  const CACHE_KEY = "commandhall.field.tasks";
  const GPS_KEY = "commandhall.field.gps";
  const FAILURES_KEY = "commandhall.field.failures";

  // ---------- small helpers ----------

  function t(key, vars) {
    const text = cfg.strings[key] || key;
    return vars ? text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : text;
  }

  /** An element: h("div", {class: "x", onclick: fn}, child, [children], "text"). */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "value") el.value = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
  }

  /** Python writes microseconds; keep milliseconds so every engine parses the time. */
  function parseTime(iso) {
    return iso ? Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")) : NaN;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString(cfg.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function dateTime(iso) {
    const ms = parseTime(iso);
    if (isNaN(ms)) return "";
    return new Date(ms).toLocaleString(cfg.lang, {
      month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  function duration(ms) {
    const minutes = Math.floor(ms / 60000);
    const d = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    if (d) return t("field.dur.dh", { d, h: hours });
    if (hours) return t("field.dur.hm", { h: hours, m });
    return t("field.dur.m", { m });
  }

  function readJson(key, fallback) {
    try {
      const raw = localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full or disabled: the page still works, it just forgets on reload */
    }
  }

  // ---------- state ----------

  const S = {
    token: null,
    worker: null,
    tasks: [],
    fetchedAt: null, // when the task list was last fetched (client clock), or cached
    cached: false,
    skew: 0, // server clock minus ours, ms
    lastFetchOk: null,
    socketUp: false,
    queue: [], // outbox views
    failures: readJson(FAILURES_KEY, []),
    fix: null, // {lat, long, accuracy, at}
    gps: { on: readJson(GPS_KEY, true), status: "off" },
    details: {}, // case id → {updatedAt, data}
  };
  const drafts = { form: null, report: { category: "", description: "", address: "", photos: [] } };
  // The outbox, the view on screen and the page's frame: set in one file, read in many.
  F.outbox = null;
  F.view = null;
  F.shell = null;

  function tokenFromStorage() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return null;
    }
  }

  function storeToken(token) {
    S.token = token;
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* kept in memory only */
    }
  }

  Object.assign(F, {
    cfg, root, CACHE_KEY, GPS_KEY, FAILURES_KEY,
    t, h, append, parseTime, clock, dateTime, duration, readJson, writeJson,
    S, drafts, tokenFromStorage, storeToken,
  });
})();
