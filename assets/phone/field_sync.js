/*
 * The grid worker's page, in step with the server: the API with the device token, the task
 * list fetched again on socket events, and the outbox every submission goes through.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { cfg, CACHE_KEY, FAILURES_KEY, t, parseTime, writeJson, S } = F;

  const Outbox = window.CommandHallOutbox;
  const FALLBACK_REFRESH_MS = 30000; // polling only while the socket is down
  const REQUEST_TIMEOUT_MS = 15000;
  const ACTION_ORDER = [
    "accept", "start_handling", "report_handled", "request_extension", "return",
  ];

  // ---------- the API ----------

  /** GET (or any request) with the token; resolves {status, ok, body}, rejects offline. */
  async function api(method, url) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const resp = await fetch(url, {
        method,
        headers: { Authorization: "Bearer " + S.token },
        signal: controller.signal,
      });
      const text = await resp.text();
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch (e) {
        body = { message: text.slice(0, 200) };
      }
      return { status: resp.status, ok: resp.ok, body };
    } finally {
      clearTimeout(timer);
    }
  }

  function refused(r) {
    return r.status === 401 || r.status === 403;
  }

  let refreshing = false;
  let refreshAgain = false;

  async function refresh() {
    if (!S.token) return;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    try {
      const r = await api("GET", "/api/field/tasks");
      if (refused(r)) {
        F.signOut((r.body && r.body.message) || "HTTP " + r.status);
        return;
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      S.worker = r.body.worker;
      S.tasks = r.body.tasks;
      S.fetchedAt = Date.now();
      S.skew = parseTime(r.body.server_time) - S.fetchedAt || 0;
      S.cached = false;
      S.lastFetchOk = true;
      const cache = { token: S.token.slice(-8), worker: S.worker, tasks: S.tasks, at: S.fetchedAt };
      writeJson(CACHE_KEY, cache);
      connectSocket();
    } catch (e) {
      S.lastFetchOk = false;
    } finally {
      refreshing = false;
      if (refreshAgain && S.token) {
        refreshAgain = false;
        refresh();
      }
      F.updateAll();
    }
  }

  let refreshTimer = null;

  // Events come in batches already, and refresh() folds a call made while one is in flight
  // into one more: a short wait only gathers what arrives in the same moment.
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 20);
  }

  // ---------- realtime ----------

  let socket = null;

  function connectSocket() {
    if (socket || !window.io || !S.token) return;
    socket = window.io("/live", {
      auth: (cb) => cb({ token: S.token }),
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", () => {
      S.socketUp = true;
      F.outbox.kick(); // the network is back: do not wait out the back-off
      refreshSoon();
      F.updateHeader();
    });
    socket.on("disconnect", (reason) => {
      S.socketUp = false;
      F.updateHeader();
      if (reason === "io server disconnect" && S.token) socket.connect();
    });
    socket.on("connect_error", () => {
      S.socketUp = false;
      F.updateHeader();
    });
    // With a device token /live carries only this worker's cases: any batch is news.
    socket.on("events", refreshSoon);
    socket.on("resync", refreshSoon);
  }

  function disconnectSocket() {
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
      socket = null;
    }
    S.socketUp = false;
  }

  // A dead link is found by Engine.IO's own ping (every 20 s, 20 s to answer), not by the
  // /live heartbeat, which reaches a worker's room only once it has had an event.
  setInterval(() => {
    if (S.token && !S.socketUp) refresh();
  }, FALLBACK_REFRESH_MS);

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && S.token) {
      F.outbox.kick();
      refresh();
    }
  });
  window.addEventListener("online", () => {
    F.outbox.kick();
    refresh();
  });
  window.addEventListener("offline", () => F.updateHeader());

  // ---------- the outbox ----------

  function startOutbox() {
    F.outbox = Outbox.create({
      store: Outbox.indexedDbStore("commandhall-field"),
      fetch: (url, init) => fetch(url, init),
      token: () => S.token,
      onChange: (items) => {
        S.queue = items;
        F.updateAll();
      },
      onSent: (item, body) => {
        if (item.kind === "action") {
          F.toast(t("field.done." + item.meta.action) + " · " + (item.meta.ticket || ""));
          delete S.details[item.meta.caseId];
          refresh();
        } else if (item.kind === "report") {
          F.toast(t("field.report.sent", { ticket: (body && body.ticket) || "" }));
        }
      },
      onFailed: (item, error) => {
        if (item.kind === "positions") return; // stale fixes: nothing anybody can do
        // 回退 takes the case out of this worker's hands. A retry of a return whose answer was
        // lost is answered as a replay; a 404 means the office took the case back meanwhile.
        // Either way the case is no longer ours and there is nothing left to send.
        if (item.meta.action === "return" && error.status === 404) {
          F.toast(t("field.done.return") + " · " + (item.meta.ticket || ""));
          refresh();
          return;
        }
        const message = error.message || error.code;
        const label = itemLabel(item);
        S.failures = [{ label, message, at: Date.now() }].concat(S.failures).slice(0, 20);
        writeJson(FAILURES_KEY, S.failures);
        F.toast(t("field.failed", { label, message }), true);
        refresh();
        F.updateAll();
      },
      onAuth: (error) => F.signOut(error.message),
    });
    F.outbox.start();
  }

  /** Queue a submission; tells the user it is saved if it has not gone through in 1.5 s. */
  async function submit(spec) {
    const item = await F.outbox.add(spec);
    setTimeout(() => {
      if (S.queue.some((q) => q.id === item.id)) F.toast(t("field.queued"));
    }, 1500);
    return item;
  }

  /** What an outbox item is called, in today's language (it may have been queued in another). */
  function itemLabel(item) {
    const m = item.meta || {};
    if (item.kind === "action") {
      return t("field.action." + m.action) + " · " + (m.ticket || "#" + m.caseId);
    }
    if (item.kind === "positions") return t("field.kind.positions", { n: m.count });
    if (item.kind === "report") {
      const category = cfg.categories.find((c) => c.code === m.category);
      return t("field.kind.report", { category: category ? category.name : m.category });
    }
    return item.label;
  }

  function userQueue() {
    return S.queue.filter((q) => q.kind !== "positions");
  }

  function queuedFor(caseId) {
    return S.queue.filter((q) => q.kind === "action" && q.meta.caseId === caseId);
  }

  /** The state a case will be in once its queued actions are through. */
  function projectedState(task) {
    let state = task.state;
    for (const q of queuedFor(task.id)) {
      const tr = cfg.transitions[q.meta.action];
      if (tr && tr.to) state = tr.to;
    }
    return state;
  }

  function allowedActions(task) {
    const queued = queuedFor(task.id);
    let names = task.actions || [];
    if (queued.length) {
      const state = projectedState(task);
      names = Object.keys(cfg.transitions).filter((a) => cfg.transitions[a].from.includes(state));
      // Asked once is enough while the first request is still on its way.
      const asked = (a) => queued.some((q) => q.meta.action === a && !cfg.transitions[a].to);
      names = names.filter((a) => !asked(a));
    }
    return ACTION_ORDER.filter((a) => names.includes(a));
  }

  Object.assign(F, {
    api, refused, refresh, disconnectSocket, startOutbox, submit, itemLabel, userQueue,
    queuedFor, projectedState, allowedActions,
  });
})();
