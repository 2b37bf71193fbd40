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
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("field-config").textContent);
  const root = document.getElementById("field-app");
  const Outbox = window.CommandHallOutbox;

  const TOKEN_KEY = "commandhall.deviceToken";
  const CACHE_KEY = "commandhall.field.tasks";
  const GPS_KEY = "commandhall.field.gps";
  const FAILURES_KEY = "commandhall.field.failures";
  const FALLBACK_REFRESH_MS = 30000; // polling only while the socket is down
  const REQUEST_TIMEOUT_MS = 15000;
  const FIX_EVERY_MS = 5000; // keep one GPS fix per 5 s…
  const SEND_FIXES_MS = 10000; // …and send them every 10 s
  const FRESH_FIX_MS = 120000; // a fix older than this is not "where I am"
  const KEEP_PHOTO_BYTES = 1024 * 1024; // smaller photos go as taken; larger are scaled
  const PHOTO_MAX_SIDE = 1920;
  const ACTION_ORDER = [
    "accept", "start_handling", "report_handled", "request_extension", "return",
  ];
  const FORM_ACTIONS = { report_handled: true, return: true, request_extension: true };
  const STATE_ORDER = { dispatched: 0, handled: 2 }; // new tasks first, handled ones last

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
  let outbox = null;
  let socket = null;
  let view = null;
  let shell = null;

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
        signOut((r.body && r.body.message) || "HTTP " + r.status);
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
      updateAll();
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

  function connectSocket() {
    if (socket || !window.io || !S.token) return;
    socket = window.io("/live", {
      auth: (cb) => cb({ token: S.token }),
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", () => {
      S.socketUp = true;
      outbox.kick(); // the network is back: do not wait out the back-off
      refreshSoon();
      updateHeader();
    });
    socket.on("disconnect", (reason) => {
      S.socketUp = false;
      updateHeader();
      if (reason === "io server disconnect" && S.token) socket.connect();
    });
    socket.on("connect_error", () => {
      S.socketUp = false;
      updateHeader();
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
      outbox.kick();
      refresh();
    }
  });
  window.addEventListener("online", () => {
    outbox.kick();
    refresh();
  });
  window.addEventListener("offline", () => updateHeader());

  // ---------- the outbox ----------

  function startOutbox() {
    outbox = Outbox.create({
      store: Outbox.indexedDbStore("commandhall-field"),
      fetch: (url, init) => fetch(url, init),
      token: () => S.token,
      onChange: (items) => {
        S.queue = items;
        updateAll();
      },
      onSent: (item, body) => {
        if (item.kind === "action") {
          toast(t("field.done." + item.meta.action) + " · " + (item.meta.ticket || ""));
          delete S.details[item.meta.caseId];
          refresh();
        } else if (item.kind === "report") {
          toast(t("field.report.sent", { ticket: (body && body.ticket) || "" }));
        }
      },
      onFailed: (item, error) => {
        if (item.kind === "positions") return; // stale fixes: nothing anybody can do
        // 回退 takes the case out of this worker's hands. A retry of a return whose answer was
        // lost is answered as a replay; a 404 means the office took the case back meanwhile.
        // Either way the case is no longer ours and there is nothing left to send.
        if (item.meta.action === "return" && error.status === 404) {
          toast(t("field.done.return") + " · " + (item.meta.ticket || ""));
          refresh();
          return;
        }
        const message = error.message || error.code;
        const label = itemLabel(item);
        S.failures = [{ label, message, at: Date.now() }].concat(S.failures).slice(0, 20);
        writeJson(FAILURES_KEY, S.failures);
        toast(t("field.failed", { label, message }), true);
        refresh();
        updateAll();
      },
      onAuth: (error) => signOut(error.message),
    });
    outbox.start();
  }

  /** Queue a submission; tells the user it is saved if it has not gone through in 1.5 s. */
  async function submit(spec) {
    const item = await outbox.add(spec);
    setTimeout(() => {
      if (S.queue.some((q) => q.id === item.id)) toast(t("field.queued"));
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

  // ---------- photos ----------

  /** A photo ready to queue: as taken when small, else scaled to 1920 px as JPEG. */
  async function preparePhoto(file) {
    const accepted = /^image\/(jpeg|png|webp)$/.test(file.type);
    if (file.type && !file.type.startsWith("image/")) throw new Error(t("field.form.photo_type"));
    if (accepted && file.size <= KEEP_PHOTO_BYTES) {
      return { blob: file, name: file.name || "photo.jpg" };
    }
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      if (blob && (!accepted || blob.size < file.size)) {
        return { blob, name: (file.name || "photo").replace(/\.\w+$/, "") + ".jpg" };
      }
    } catch (e) {
      /* the browser cannot decode it: send it as it is if the server can */
    }
    if (accepted && file.size <= cfg.max_photo_bytes) return { blob: file, name: file.name };
    const tooBig = file.size > cfg.max_photo_bytes;
    throw new Error(t(tooBig ? "field.form.photo_big" : "field.form.photo_type"));
  }

  /** A photo picker (camera and gallery) over `list`, a draft array of {blob, name, url}. */
  function photoPicker(idPrefix, list, onChange) {
    const previews = h("div", { class: "phone-photos", id: idPrefix + "-previews" });
    const error = h("p", { class: "phone-error", id: idPrefix + "-photo-error" });
    const count = h("span", { class: "phone-hint" });
    function redraw() {
      previews.textContent = "";
      list.forEach((p, i) =>
        previews.appendChild(
          h("div", { class: "phone-thumb" },
            h("img", { src: p.url, alt: p.name }),
            h("button", {
              type: "button",
              class: "phone-thumb-remove",
              "aria-label": t("field.form.remove_photo"),
              onclick: () => {
                URL.revokeObjectURL(p.url);
                list.splice(i, 1);
                redraw();
              },
            }, "×"))
        )
      );
      count.textContent = t("field.form.photo_count", { n: list.length, max: cfg.max_photos });
      if (onChange) onChange();
    }
    async function picked(ev) {
      const files = Array.from(ev.target.files || []);
      ev.target.value = "";
      error.textContent = "";
      for (const file of files) {
        if (list.length >= cfg.max_photos) {
          error.textContent = t("field.form.too_many", { n: cfg.max_photos });
          break;
        }
        try {
          const p = await preparePhoto(file);
          p.url = URL.createObjectURL(p.blob);
          list.push(p);
        } catch (e) {
          error.textContent = t("field.form.photo_bad", { name: file.name, message: e.message });
        }
      }
      redraw();
    }
    const input = (id, capture) =>
      h("input", { type: "file", id, accept: "image/*", capture: capture ? "environment" : null,
                   multiple: true, onchange: picked });
    const el = h("div", { class: "phone-field" },
      h("div", { class: "phone-actions" },
        h("label", { class: "phone-btn phone-photo-pick" }, t("field.form.camera"),
          input(idPrefix + "-camera", true)),
        h("label", { class: "phone-btn phone-photo-pick" }, t("field.form.gallery"),
          input(idPrefix + "-gallery", false))),
      h("div", { style: "margin:6px 2px" }, count),
      previews, error);
    redraw();
    return el;
  }

  function clearPhotos(list) {
    list.forEach((p) => URL.revokeObjectURL(p.url));
    list.length = 0;
  }

  const photoUrls = {}; // photo id + variant → object URL (the bearer header needs fetch)

  async function photoUrl(id, thumb) {
    const key = id + (thumb ? "t" : "");
    if (!photoUrls[key]) {
      const resp = await fetch("/api/photos/" + id + (thumb ? "/thumb" : ""), {
        headers: { Authorization: "Bearer " + S.token },
      });
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      photoUrls[key] = URL.createObjectURL(await resp.blob());
    }
    return photoUrls[key];
  }

  function openPhoto(id) {
    const img = h("img", { alt: "" });
    const close = () => viewer.remove();
    const viewer = h("div", { class: "phone-viewer", id: "field-viewer", onclick: close },
      img, h("button", { type: "button", class: "phone-btn is-small" }, t("field.photo.close")));
    document.body.appendChild(viewer);
    photoUrl(id, false).then((url) => (img.src = url), close);
  }

  // ---------- maps ----------

  let basemapPromise = null;

  function basemap() {
    basemapPromise =
      basemapPromise ||
      Promise.all(
        ["grids", "roads"].map((n) => fetch("/api/geo/" + n + ".geojson").then((r) => r.json()))
      )
        .catch((e) => {
          basemapPromise = null; // offline: try again next time a map opens
          throw e;
        });
    return basemapPromise;
  }

  /** A Leaflet map on the project's own vector base map (or tiles when configured); markers
   *  go in a pane above it, whatever order the layers arrive in. */
  function makeMap(el, onBasemap) {
    const L = window.L;
    const map = L.map(el, { attributionControl: !!cfg.tile_url, zoomSnap: 0.5 });
    map.createPane("field-markers").style.zIndex = 650;
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19 }).addTo(map);
    let grids = null;
    let styledFor;
    const style = (f) => {
      const own = S.worker && f.id === S.worker.grid_id;
      return {
        color: own ? "#0b4f9c" : "#8aa0bb",
        weight: own ? 3 : 1,
        fillColor: own ? "#0b4f9c" : "#ffffff",
        fillOpacity: own ? 0.06 : cfg.tile_url ? 0 : 0.55,
      };
    };
    /** Own grid outlined: again once the worker is known (the layers may come first). */
    map.fieldStyleGrids = () => {
      const own = S.worker && S.worker.grid_id;
      if (grids && own !== styledFor) {
        styledFor = own;
        grids.setStyle(style);
      }
    };
    basemap().then(([gridData, roads]) => {
      if (!el.isConnected) return; // the view was left before the layers came
      grids = L.geoJSON(gridData, { interactive: false, style }).addTo(map);
      styledFor = S.worker && S.worker.grid_id;
      const road = { color: "#e2a33b", weight: 3, opacity: 0.9 };
      L.geoJSON(roads, { interactive: false, style: road }).addTo(map);
      if (onBasemap) onBasemap(gridData);
    }, () => {});
    return map;
  }

  function ownMarker(map, marker) {
    if (map.fieldStyleGrids) map.fieldStyleGrids();
    if (!S.fix) return marker;
    const at = [S.fix.lat, S.fix.long];
    if (!marker) {
      marker = window.L.circleMarker(at, {
        pane: "field-markers", radius: 7, color: "#ffffff", weight: 3,
        fillColor: "#1a73e8", fillOpacity: 1,
      }).addTo(map);
    } else {
      marker.setLatLng(at);
    }
    return marker;
  }

  // ---------- the shell: header, GPS bar, notices, navigation ----------

  function connState() {
    const offline = !navigator.onLine || (S.lastFetchOk === false && !S.socketUp);
    if (offline) return "offline";
    return userQueue().length ? "syncing" : "online";
  }

  function buildShell() {
    const langLink = root.dataset.langSwitch;
    shell = {
      name: h("div", { class: "phone-header-name", id: "field-worker" }),
      grid: h("div", { class: "phone-header-sub", id: "field-grid" }),
      conn: h("a", { class: "phone-pill", id: "field-conn", href: "#/queue" }),
      gpsText: h("span", { class: "phone-bar-status", id: "field-gps-text" }),
      gpsButton: h("button", {
        type: "button", class: "phone-btn is-small", id: "field-gps-toggle", onclick: toggleGps,
      }),
      notices: h("div", { id: "field-notices" }),
      main: h("main", { class: "phone-main", id: "field-main" }),
      toast: h("div", { class: "phone-toast", id: "field-toast", role: "status", hidden: true }),
      navBadges: {},
    };
    shell.gps = h("div", { class: "phone-bar", id: "field-gps" }, shell.gpsText, shell.gpsButton);
    const tabs = [
      ["tasks", "field.tab.tasks"], ["report", "field.tab.report"], ["queue", "field.tab.queue"],
    ];
    shell.nav = h("nav", { class: "phone-nav" },
      tabs.map(([name, key]) => {
        const badge = "phone-badge" + (name === "queue" ? " is-amber" : "");
        shell.navBadges[name] = h("span", { class: badge });
        return h("a", { class: "phone-nav-item", id: "field-nav-" + name, href: "#/" + name },
          t(key), shell.navBadges[name]);
      }));
    root.textContent = "";
    append(root, [
      h("header", { class: "phone-header" },
        h("div", { class: "phone-header-title" }, shell.name, shell.grid),
        h("div", { class: "phone-header-tools" },
          shell.conn,
          h("a", { class: "phone-header-link", id: "field-lang", href: langLink + location.hash,
                   title: t("lang.switch") }, t("field.lang_short")),
          h("button", {
            type: "button", class: "phone-header-link", id: "field-signout",
            onclick: confirmSignOut,
          }, t("field.signout")))),
      shell.gps, shell.main, shell.nav, shell.toast,
    ]);
    shell.main.prepend(shell.notices);
  }

  function updateHeader() {
    if (!shell) return;
    shell.name.textContent = (S.worker && S.worker.name) || "…";
    shell.grid.textContent = (S.worker && S.worker.grid) || "";
    const state = connState();
    const n = userQueue().length;
    shell.conn.className = "phone-pill is-" + state;
    shell.conn.dataset.state = state;
    shell.conn.dataset.queued = String(n);
    shell.conn.title = n ? t("field.queue.count", { n }) : "";
    shell.conn.textContent = t("field.conn." + state);
    if (n) {
      // The whole count where there is room; a small badge on the narrowest phones.
      append(shell.conn, [
        h("span", { class: "phone-pill-detail" }, " · " + t("field.queue.count", { n })),
        h("span", { class: "phone-pill-count" }, String(n)),
      ]);
    }
  }

  function updateNav() {
    if (!shell) return;
    const name = currentRoute().name;
    for (const tab of ["tasks", "report", "queue"]) {
      shell.nav.querySelector("#field-nav-" + tab).classList.toggle("is-active", tab === name);
    }
    const fresh = S.tasks.filter((x) => projectedState(x) === "dispatched").length;
    shell.navBadges.tasks.textContent = String(fresh || "");
    shell.navBadges.queue.textContent = String(userQueue().length || "");
  }

  function renderNotices() {
    if (!shell) return;
    shell.notices.textContent = "";
    S.failures.forEach((f, i) =>
      shell.notices.appendChild(
        h("div", { class: "phone-notice", dataset: { failure: String(i) } },
          h("div", null, t("field.failed", { label: f.label, message: f.message })),
          h("button", {
            type: "button", class: "phone-btn is-small",
            onclick: () => {
              S.failures.splice(i, 1);
              writeJson(FAILURES_KEY, S.failures);
              renderNotices();
            },
          }, t("field.queue.dismiss")))
      )
    );
  }

  let toastTimer = null;

  function toast(text, isError) {
    if (!shell) return;
    shell.toast.textContent = text;
    shell.toast.className = "phone-toast" + (isError ? " is-error" : "");
    shell.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (shell.toast.hidden = true), isError ? 7000 : 3500);
  }

  function updateAll() {
    updateHeader();
    updateGpsBar();
    updateNav();
    if (view) view.update();
  }

  // ---------- GPS ----------

  let watchId = null;
  let fixTimer = null;
  let lastKept = 0;
  let sentFirst = false;
  let pendingFixes = [];
  let battery = null;

  function startGps() {
    if (watchId !== null || !S.token) return;
    if (!navigator.geolocation) {
      S.gps.status = "unavailable";
      return;
    }
    S.gps.status = S.fix ? "ok" : "waiting";
    watchId = navigator.geolocation.watchPosition(onFix, onGpsError, {
      enableHighAccuracy: true, maximumAge: 5000, timeout: 30000,
    });
    if (navigator.getBattery) navigator.getBattery().then((b) => (battery = b), () => {});
    fixTimer = setInterval(flushFixes, SEND_FIXES_MS);
  }

  function stopGps() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    clearInterval(fixTimer);
    flushFixes();
    S.gps.status = "off";
  }

  function onFix(pos) {
    const c = pos.coords;
    const at = pos.timestamp || Date.now();
    S.fix = { lat: c.latitude, long: c.longitude, accuracy: c.accuracy, at };
    S.gps.status = "ok";
    if (at - lastKept >= FIX_EVERY_MS) {
      lastKept = at;
      pendingFixes.push({
        worker_id: S.worker ? S.worker.id : undefined,
        // A phone whose clock is far off would have every fix refused as future or stale.
        time: Math.round(Math.abs(S.skew) > 10000 ? at + S.skew : at),
        lat: c.latitude,
        long: c.longitude,
        accuracy: c.accuracy !== null ? Math.round(c.accuracy * 10) / 10 : null,
        speed: c.speed !== null && c.speed >= 0 ? c.speed : null,
        battery: battery ? Math.round(battery.level * 100) : null,
      });
      if (!sentFirst) {
        sentFirst = true; // the centre sees the worker at once, not 10 s later
        flushFixes();
      }
    }
    updateGpsBar();
    if (view && view.onFix) view.onFix();
  }

  function onGpsError(err) {
    if (err.code === 1) stopGps(); // denied: watching on would only fail again
    S.gps.status = err.code === 1 ? "denied" : "unavailable";
    updateGpsBar();
  }

  function flushFixes() {
    if (!pendingFixes.length || !S.token) return;
    outbox.addPositions("/api/positions", pendingFixes.splice(0));
  }

  function toggleGps() {
    S.gps.on = !S.gps.on;
    writeJson(GPS_KEY, S.gps.on);
    if (S.gps.on) startGps();
    else stopGps();
    updateGpsBar();
  }

  function freshFix() {
    return S.fix && Date.now() - S.fix.at < FRESH_FIX_MS ? S.fix : null;
  }

  function updateGpsBar() {
    if (!shell) return;
    const status = S.gps.on ? S.gps.status : "off";
    let text = t("field.gps.off");
    if (status === "ok") {
      const m = Math.round(S.fix.accuracy || 0);
      text = t("field.gps.on") + " " + t("field.gps.accuracy", { m });
    } else if (status === "waiting") text = t("field.gps.waiting");
    else if (status === "denied") text = t("field.gps.denied");
    else if (status === "unavailable") text = t("field.gps.unavailable");
    shell.gpsText.textContent = text;
    const fine = status === "ok" || status === "waiting";
    shell.gps.className = "phone-bar" + (status === "off" ? " is-off" : fine ? "" : " is-problem");
    shell.gps.dataset.status = status;
    shell.gpsButton.textContent = S.gps.on ? t("field.gps.turn_off") : t("field.gps.turn_on");
  }

  // ---------- views ----------

  function currentRoute() {
    const m = /^#\/(\w+)(?:\/(\d+))?/.exec(location.hash);
    return m ? { name: m[1], id: m[2] ? Number(m[2]) : null } : { name: "tasks", id: null };
  }

  function show() {
    if (!S.token || !shell) return;
    if (view && view.destroy) view.destroy();
    const r = currentRoute();
    const views = { tasks: tasksView, task: taskView, report: reportView, queue: queueView };
    const make = views[r.name] || tasksView;
    shell.main.querySelectorAll(":scope > :not(#field-notices)").forEach((el) => el.remove());
    view = make(r);
    shell.main.appendChild(view.el);
    if (view.mount) view.mount();
    window.scrollTo(0, 0);
    document.getElementById("field-lang").href = root.dataset.langSwitch + location.hash;
    updateAll();
  }

  function categoryName(task) {
    return (cfg.lang === "en" ? task.category_name_en : task.category_name) || task.category;
  }

  function countdown(task) {
    if (!task.deadline) return { text: t("field.deadline.none"), cls: "" };
    const left = parseTime(task.deadline) - (Date.now() + S.skew);
    if (left < 0) return { text: t("field.deadline.over", { d: duration(-left) }), cls: "is-red" };
    const cls = "is-" + (task.light || "green");
    return { text: t("field.deadline.left", { d: duration(left) }), cls };
  }

  function stateChip(task) {
    const state = task.state;
    const cls = state === "dispatched" ? "is-blue" : state === "handled" ? "is-green" : "";
    return h("span", { class: "phone-chip " + cls, dataset: { state } }, t("state." + state));
  }

  function sortedTasks() {
    return S.tasks.slice().sort((a, b) =>
      (STATE_ORDER[a.state] ?? 1) - (STATE_ORDER[b.state] ?? 1) ||
      parseTime(b.updated_at) - parseTime(a.updated_at) || b.id - a.id);
  }

  function tasksView() {
    const list = h("ul", { class: "phone-list", id: "field-tasks" });
    const stamp = h("span", { class: "phone-hint", id: "field-tasks-stamp" });
    const title = h("h1", null);
    const el = h("section", null, h("div", { class: "phone-heading" }, title, stamp), list);
    let shown = null; // what the list was built from: rebuilt only when that changes, so a
    let clocks = []; // tap is never lost to a row replaced under the finger
    return {
      el,
      update() {
        const n = S.tasks.length;
        title.textContent = t("field.tasks.heading") + (n ? " (" + n + ")" : "");
        const stale = S.cached || S.lastFetchOk === false;
        stamp.textContent = S.fetchedAt
          ? t(stale ? "field.tasks.cached" : "field.tasks.updated", { time: clock(S.fetchedAt) })
          : "";
        const tasks = sortedTasks();
        const rows = tasks.map((x) => [x.id, x.updated_at, x.light, queuedFor(x.id).length]);
        const key = JSON.stringify([!!S.fetchedAt, rows]);
        if (key !== shown) {
          shown = key;
          clocks = [];
          list.textContent = "";
          if (!tasks.length) {
            const empty = S.fetchedAt ? "field.tasks.empty" : "field.tasks.loading";
            list.appendChild(h("li", { class: "phone-empty" }, t(empty)));
          }
          for (const task of tasks) {
            const queued = queuedFor(task.id);
            const light = task.state === "handled" ? "is-done" : "is-" + (task.light || "green");
            const due = h("span", { class: "phone-countdown" });
            clocks.push([due, task]);
            list.appendChild(
              h("li", null,
                h("a", {
                  class: "phone-item " + light,
                  href: "#/task/" + task.id,
                  dataset: { caseId: String(task.id) },
                },
                  h("div", { class: "phone-item-head" },
                    h("span", { class: "phone-mono" }, task.ticket),
                    h("span", { class: "phone-chips" },
                      queued.length
                        ? h("span", { class: "phone-chip is-amber" },
                          t("field.pending") + " " + queued.length)
                        : null,
                      stateChip(task))),
                  h("div", { class: "phone-item-title" }, categoryName(task)),
                  h("div", { class: "phone-item-text" }, task.description),
                  task.address ? h("div", { class: "phone-hint" }, task.address) : null,
                  h("div", { class: "phone-item-foot" },
                    due,
                    task.urgency
                      ? h("span", { class: "phone-hint" }, t("field.urgency." + task.urgency))
                      : null)))
            );
          }
        }
        for (const [span, task] of clocks) {
          const due = countdown(task);
          span.textContent = due.text;
          span.className = "phone-countdown " + due.cls;
        }
      },
    };
  }

  /** Why the last try failed, in words a worker can act on (not "Failed to fetch"). */
  function errorText(error) {
    if (!error) return "";
    if (error.code === "network" || error.code === "timeout") {
      return " · " + t("field.pending." + error.code);
    }
    return " · " + (error.message || "HTTP " + error.status);
  }

  function pendingLine(q) {
    if (q.sending) return t("field.pending.sending");
    if (outbox.paused) return t("field.pending.auth");
    if (q.attempts && q.nextAt) {
      const s = Math.max(0, Math.ceil((q.nextAt - Date.now()) / 1000));
      return t("field.pending.retry", { n: q.attempts, s });
    }
    return t("field.pending.waiting");
  }

  function taskView(r) {
    const caseId = r.id;
    const mapEl = h("div", { class: "phone-map", id: "field-task-map" });
    const info = h("div", { class: "phone-card", id: "field-task-info" });
    const pending = h("div", { id: "field-task-pending" });
    const actions = h("div", { class: "phone-card", id: "field-task-actions" });
    const photos = h("div", { class: "phone-card", id: "field-task-photos" });
    const el = h("section", { id: "field-task", dataset: { caseId: String(caseId) } },
      h("div", { class: "phone-heading" },
        h("a", { class: "phone-btn is-small", href: "#/tasks", id: "field-back" },
          t("field.task.back")),
        h("span", { class: "phone-mono", id: "field-task-ticket" })),
      h("div", { class: "phone-map-wrap" }, mapEl), info, pending, actions, photos);
    let map = null;
    let caseMarker = null;
    let me = null;
    let actionsKey = null;
    let photosKey = null;

    function task() {
      return S.tasks.find((x) => x.id === caseId) || null;
    }

    function loadDetail(tk) {
      const known = S.details[caseId];
      if (known && known.updatedAt === tk.updated_at) return;
      const entry = { updatedAt: tk.updated_at, data: known ? known.data : null };
      S.details[caseId] = entry;
      api("GET", "/api/cases/" + caseId + "/detail").then((resp) => {
        if (resp.ok) entry.data = resp.body;
        else if (S.details[caseId] === entry) delete S.details[caseId];
        if (view && view.el === el) update();
      }, () => {
        if (S.details[caseId] === entry) delete S.details[caseId]; // offline: try again later
      });
    }

    let infoKey = null;
    const due = h("span", { class: "phone-countdown", id: "field-task-due" });

    function drawInfo(tk) {
      const left = countdown(tk);
      due.textContent = left.text;
      due.className = "phone-countdown " + left.cls;
      if (infoKey === tk.updated_at + tk.light) return;
      infoKey = tk.updated_at + tk.light;
      info.textContent = "";
      append(info, [
        h("div", { class: "phone-item-head" },
          h("strong", { style: "font-size:18px" }, categoryName(tk)),
          h("span", { class: "phone-chips", id: "field-task-state" }, stateChip(tk))),
        h("div", { class: "phone-item-foot" },
          due,
          tk.urgency ? h("span", { class: "phone-chip" }, t("field.urgency." + tk.urgency)) : null),
        h("dl", { class: "phone-kv" },
          tk.address ? [h("dt", null, t("field.task.address")), h("dd", null, tk.address)] : null,
          h("dt", null, t("field.task.description")), h("dd", null, tk.description || "—"),
          h("dt", null, t("field.task.reported")), h("dd", null, dateTime(tk.reported_at)),
          tk.deadline
            ? [h("dt", null, t("field.task.deadline")), h("dd", null, dateTime(tk.deadline))]
            : null),
      ]);
    }

    function drawPending() {
      const queued = queuedFor(caseId);
      pending.textContent = "";
      if (!queued.length) return;
      pending.appendChild(
        h("div", { class: "phone-notice is-info" },
          h("div", null, queued.map((q) =>
            h("div", { class: "field-pending-item" },
              h("strong", null, t("field.pending") + "：" + t("field.action." + q.meta.action)),
              " · ", pendingLine(q))))));
    }

    function drawPhotos() {
      const detail = S.details[caseId] && S.details[caseId].data;
      const key = detail
        ? detail.photos.map((p) => p.id).join(",") + "|" + (detail.result || "")
        : navigator.onLine;
      if (key === photosKey) return;
      photosKey = key;
      photos.textContent = "";
      photos.appendChild(h("h2", { class: "phone-section-title" }, t("field.task.photos")));
      if (!detail) {
        const note = navigator.onLine ? "…" : t("field.task.photos_offline");
        photos.appendChild(h("p", { class: "phone-hint" }, note));
        return;
      }
      if (!detail.photos.length) {
        photos.appendChild(h("p", { class: "phone-hint" }, t("field.task.no_photos")));
      }
      const grid = h("div", { class: "phone-photos" });
      for (const p of detail.photos) {
        const img = h("img", { alt: "" });
        grid.appendChild(
          h("button", {
            type: "button",
            class: "phone-thumb",
            dataset: { photoId: String(p.id), kind: p.kind },
            onclick: () => openPhoto(p.id),
          },
          img,
          p.kind === "result"
            ? h("span", { class: "phone-thumb-label" }, t("field.task.result"))
            : null));
        photoUrl(p.id, true).then((url) => (img.src = url), () => {});
      }
      photos.appendChild(grid);
      if (detail.result) {
        append(photos, [
          h("h2", { class: "phone-section-title", style: "margin-top:12px" },
            t("field.task.result")),
          h("p", { style: "margin:0" }, detail.result),
        ]);
      }
    }

    function drawActions(tk) {
      const names = allowedActions(tk);
      const detail = S.details[caseId] && S.details[caseId].data;
      const extPending = detail && detail.pending_extension_hours;
      const usable = names.filter((a) => !(a === "request_extension" && extPending));
      const f = drafts.form;
      const open = f && f.caseId === caseId && usable.includes(f.action) ? f.action : null;
      const key = [usable.join(","), open, tk.state, queuedFor(caseId).length].join("|");
      if (key === actionsKey) return;
      actionsKey = key;
      actions.textContent = "";
      actions.hidden = false;
      if (open) {
        actions.appendChild(actionForm(tk, open));
        return;
      }
      if (!usable.length) {
        // Said only once the server has it; what is queued shows as queued above.
        actions.hidden = queuedFor(caseId).length > 0;
        const note = tk.state === "handled" ? "field.task.waiting_close" : "field.task.no_actions";
        actions.appendChild(
          h("p", { class: "phone-hint", style: "margin:0", id: "field-task-note" }, t(note)));
        return;
      }
      actions.appendChild(
        h("div", { class: "phone-actions" },
          usable.map((a, i) =>
            h("button", {
              type: "button",
              id: "field-action-" + a,
              dataset: { action: a },
              class: "phone-btn" + (
                i === 0 ? " is-primary is-wide" : a === "return" ? " is-danger" : ""
              ),
              onclick: () => {
                if (FORM_ACTIONS[a]) {
                  if (drafts.form) clearPhotos(drafts.form.photos); // a form left on another task
                  drafts.form = { caseId, action: a, text: "", hours: "24", photos: [] };
                  update();
                } else {
                  submit(actionSpec(tk, a, {}, []));
                }
              },
            }, t("field.action." + a)))));
    }

    function actionForm(tk, action) {
      const f = drafts.form;
      const error = h("p", { class: "phone-error", id: "field-form-error" });
      const textKey = {
        report_handled: "field.form.result", return: "field.form.reason",
        request_extension: "field.form.ext_reason",
      }[action];
      const text = h("textarea", {
        class: "phone-textarea", id: "field-form-text", value: f.text,
        placeholder: action === "report_handled" ? t("field.form.result_hint") : "",
        oninput: (e) => (f.text = e.target.value),
      });
      const hours = action === "request_extension"
        ? h("div", { class: "phone-field" },
            h("label", { class: "phone-label", for: "field-form-hours" }, t("field.form.hours")),
            h("input", {
              class: "phone-input", id: "field-form-hours", type: "number", min: "1", max: "720",
              inputmode: "numeric", value: f.hours, oninput: (e) => (f.hours = e.target.value),
            }))
        : null;
      return h("form", {
        id: "field-form", dataset: { action }, novalidate: true,
        onsubmit: (e) => {
          e.preventDefault();
          if (!f.text.trim()) {
            error.textContent = t("field.form.required", { field: t(textKey) });
            return;
          }
          const text = f.text.trim();
          const params = action === "report_handled" ? { result: text }
            : action === "return" ? { reason: text } : { hours: f.hours, reason: text };
          const files = f.photos.map((p) => ({ field: "photos", blob: p.blob, name: p.name }));
          submit(actionSpec(tk, action, params, files));
          clearPhotos(f.photos);
          drafts.form = null;
          update();
        },
      },
      h("h2", { class: "phone-section-title" }, t("field.action." + action)),
      hours,
      h("div", { class: "phone-field" },
        h("label", { class: "phone-label", for: "field-form-text" }, t(textKey)), text),
      action === "report_handled" ? photoPicker("field-result", f.photos) : null,
      error,
      h("div", { class: "phone-actions" },
        h("button", {
          type: "button", class: "phone-btn", id: "field-form-cancel",
          onclick: () => {
            clearPhotos(f.photos);
            drafts.form = null;
            update();
          },
        }, t("field.form.cancel")),
        h("button", { type: "submit", class: "phone-btn is-primary", id: "field-form-submit" },
          t("field.form.submit"))));
    }

    function update() {
      const tk = task();
      if (!tk) {
        el.querySelector("#field-task-ticket").textContent = "";
        infoKey = null;
        info.textContent = "";
        info.appendChild(h("p", { class: "phone-empty", id: "field-task-missing" },
          S.fetchedAt ? t("field.task.missing") : t("field.tasks.loading")));
        actions.hidden = photos.hidden = true;
        actionsKey = null;
        return;
      }
      photos.hidden = false;
      el.querySelector("#field-task-ticket").textContent = tk.ticket;
      drawInfo(tk);
      drawPending();
      drawActions(tk);
      loadDetail(tk);
      drawPhotos();
      if (map && tk.lat !== null) {
        const at = [tk.lat, tk.long];
        if (!caseMarker) {
          caseMarker = window.L.circleMarker(at, {
            pane: "field-markers", radius: 13, color: "#ffffff", weight: 3, fillOpacity: 1,
            fillColor: { red: "#d93025", yellow: "#e0a100" }[tk.light] || "#1a9c55",
          }).addTo(map);
          map.setView(at, 15);
          if (me) me.bringToFront(); // the worker's dot stays visible on the case
        } else caseMarker.setLatLng(at);
      }
      if (map) me = ownMarker(map, me);
    }

    return {
      el,
      update,
      mount() {
        if (!window.L) return;
        map = makeMap(mapEl);
        const tk = task();
        map.setView(tk ? [tk.lat, tk.long] : [0, 0], tk ? 15 : 2);
      },
      onFix() {
        if (map) me = ownMarker(map, me);
      },
      destroy() {
        if (map) map.remove();
      },
    };
  }

  function actionSpec(task, action, params, files) {
    const spec = {
      kind: "action",
      group: "case:" + task.id,
      url: "/api/cases/" + task.id + "/actions/" + action,
      label: t("field.action." + action) + " · " + task.ticket,
      meta: { caseId: task.id, action, ticket: task.ticket },
    };
    if (files.length) spec.form = { fields: params, files };
    else spec.json = params;
    return spec;
  }

  function reportView() {
    const d = drafts.report;
    const error = h("p", { class: "phone-error", id: "field-report-error" });
    const locText = h("span", { id: "field-report-loc" });
    const mapEl = h("div", { class: "phone-map is-tall", id: "field-report-map" });
    let map = null;
    let me = null;
    let gridData = null;
    // The report is placed where the worker stands (the map follows the GPS) until the user
    // drags the map: then at its centre, under the pin.
    let userMoved = false;
    let placed = null; // what the map was last centred on: "fix", "grid" or "county"
    const category = h("select", {
      class: "phone-select", id: "field-report-category",
      onchange: (e) => (d.category = e.target.value),
    },
    h("option", { value: "" }, t("field.report.choose")),
    cfg.categories.map((c) =>
      h("option", { value: c.code, selected: c.code === d.category }, c.name)));
    const label = (id, key) => h("label", { class: "phone-label", for: id }, t(key));
    const el = h("form", { id: "field-report", novalidate: true, onsubmit: send },
      h("div", { class: "phone-heading" }, h("h1", null, t("field.report.heading"))),
      h("div", { class: "phone-card" },
        h("div", { class: "phone-field" },
          label("field-report-category", "field.report.category"), category),
        h("div", { class: "phone-field" },
          label("field-report-description", "field.report.description"),
          h("textarea", {
            class: "phone-textarea", id: "field-report-description", value: d.description,
            placeholder: t("field.report.description_hint"),
            oninput: (e) => (d.description = e.target.value),
          })),
        photoPicker("field-report", d.photos),
        h("div", { class: "phone-field" },
          label("field-report-address", "field.report.address"),
          h("input", {
            class: "phone-input", id: "field-report-address", value: d.address,
            oninput: (e) => (d.address = e.target.value),
          }))),
      h("div", { class: "phone-card" },
        h("div", { class: "phone-heading", style: "margin:0 0 8px;align-items:center" },
          h("span", { class: "phone-label", style: "margin:0" }, t("field.report.location")),
          h("button", {
            type: "button", class: "phone-btn is-small", id: "field-report-locate", onclick: locate,
          }, t("field.report.locate"))),
        h("div", { class: "phone-map-wrap" }, mapEl, h("div", { class: "phone-map-crosshair" })),
        h("p", { class: "phone-hint", style: "margin:0" }, locText)),
      error,
      h("button", {
        type: "submit", class: "phone-btn is-primary is-block", id: "field-report-submit",
      }, t("field.report.submit")));

    function locate() {
      userMoved = false;
      placed = null;
      update();
    }

    /** Centre the map on the fix, else on the worker's grid, else on the county. */
    function place() {
      if (!map || userMoved) return;
      const fix = freshFix();
      if (fix) {
        if (placed !== "fix") map.setView([fix.lat, fix.long], 17);
        else map.panTo([fix.lat, fix.long], { animate: false });
        placed = "fix";
        return;
      }
      if (placed === "fix") return; // the fix went stale: stay put, the centre is the spot
      const own = gridData && S.worker && gridData.features.find((f) => f.id === S.worker.grid_id);
      if (own && placed !== "grid") {
        map.fitBounds(window.L.geoJSON(own).getBounds());
        placed = "grid";
      } else if (gridData && !placed) {
        map.fitBounds(window.L.geoJSON(gridData).getBounds());
        placed = "county";
      }
    }

    function where() {
      const fix = freshFix();
      if (!userMoved && fix) return { lat: fix.lat, long: fix.long };
      if (map) {
        const c = map.getCenter();
        return { lat: c.lat, long: c.lng };
      }
      return null;
    }

    function send(e) {
      e.preventDefault();
      error.textContent = "";
      if (!d.category) {
        error.textContent = t("field.form.required", { field: t("field.report.category") });
        return;
      }
      if (!d.description.trim() && !d.photos.length) {
        error.textContent = t("field.report.need_text");
        return;
      }
      const at = where();
      if (!at) {
        error.textContent = t("field.form.required", { field: t("field.report.location") });
        return;
      }
      const name = (cfg.categories.find((c) => c.code === d.category) || {}).name || d.category;
      submit({
        kind: "report",
        group: "report:" + Date.now(),
        url: "/api/reports",
        label: t("field.kind.report", { category: name }),
        meta: { category: d.category },
        form: {
          fields: { service_code: d.category, lat: at.lat.toFixed(6), long: at.long.toFixed(6),
                    description: d.description.trim(), address: d.address.trim() },
          files: d.photos.map((p) => ({ field: "photos", blob: p.blob, name: p.name })),
        },
      });
      clearPhotos(d.photos);
      drafts.report = { category: "", description: "", address: "", photos: [] };
      show(); // a fresh, empty form
    }

    function update() {
      const fix = freshFix();
      place();
      locText.textContent = !userMoved && fix
        ? t("field.report.loc_gps", {
          acc: t("field.gps.accuracy", { m: Math.round(fix.accuracy || 0) }),
        })
        : t("field.report.loc_centre");
      if (map) me = ownMarker(map, me);
    }

    return {
      el,
      update,
      mount() {
        if (!window.L) return;
        map = makeMap(mapEl, (grids) => {
          gridData = grids;
          update();
        });
        const first = S.tasks[0];
        map.setView(first ? [first.lat, first.long] : [0, 0], first ? 15 : 2);
        map.on("dragstart", () => {
          userMoved = true;
          update();
        });
      },
      onFix() {
        if (map) me = ownMarker(map, me);
        update();
      },
      destroy() {
        if (map) map.remove();
      },
    };
  }

  function queueView() {
    const list = h("div", { class: "phone-card", id: "field-queue" });
    const el = h("section", null,
      h("div", { class: "phone-heading" },
        h("h1", null, t("field.queue.heading")),
        h("button", {
          type: "button", class: "phone-btn is-small", id: "field-queue-retry",
          onclick: () => outbox.kick(),
        }, t("field.queue.retry_now"))),
      h("p", { class: "phone-hint" }, t("field.queue.note")),
      list);
    let shown = null;
    let lines = [];
    return {
      el,
      update() {
        const key = JSON.stringify(S.queue.map((q) => [q.key, q.sending, q.meta.count]));
        if (key !== shown) {
          shown = key;
          lines = [];
          list.textContent = "";
          if (!S.queue.length) {
            list.appendChild(
              h("p", { class: "phone-empty", style: "padding:16px" }, t("field.queue.empty")));
          }
          for (const q of S.queue) {
            const line = h("div", { class: "phone-hint" });
            lines.push([line, q.id]);
            const label = itemLabel(q);
            list.appendChild(
              h("div", { class: "phone-queue-item", dataset: { key: q.key, kind: q.kind } },
                h("div", null, h("div", null, label), line),
                q.sending ? null : h("button", {
                  type: "button", class: "phone-btn is-small is-danger",
                  onclick: () => {
                    if (window.confirm(t("field.queue.discard_confirm"))) outbox.discard(q.id);
                  },
                }, t("field.queue.discard"))));
          }
        }
        for (const [line, id] of lines) {
          const q = S.queue.find((x) => x.id === id);
          if (q) line.textContent = pendingLine(q) + errorText(q.lastError);
        }
      },
    };
  }

  // Retry countdowns and deadlines move with time, not only with data.
  setInterval(() => {
    if (view && S.token) view.update();
  }, 1000);

  // ---------- signing in and out ----------

  function renderSignIn(message) {
    if (view && view.destroy) view.destroy();
    view = null;
    shell = null;
    const input = h("input", {
      class: "phone-input", id: "field-token-input", autocomplete: "off", autocapitalize: "off",
      spellcheck: "false", placeholder: "dev_…",
    });
    const error = h("p", { class: "phone-error", id: "field-signin-error", role: "alert" },
      message || "");
    const button = h("button", {
      type: "submit", class: "phone-btn is-primary is-block", id: "field-signin-submit",
    }, t("field.signin.submit"));
    root.textContent = "";
    root.appendChild(
      h("div", { class: "phone-signin", id: "field-signin" },
        h("h1", null, t("field.signin.heading")),
        h("p", { class: "phone-hint" }, t("field.signin.hint")),
        h("form", {
          class: "phone-card", novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            const token = input.value.trim();
            if (!token.startsWith("dev_")) {
              error.textContent = t("field.signin.format");
              return;
            }
            button.disabled = true;
            button.textContent = t("field.signin.checking");
            error.textContent = "";
            S.token = token;
            try {
              const r = await api("GET", "/api/field/tasks");
              if (refused(r)) {
                const refusal = (r.body && r.body.message) || "HTTP " + r.status;
                throw Object.assign(new Error(refusal), { refusal });
              }
              storeToken(token);
              startApp();
            } catch (err) {
              S.token = null;
              error.textContent = err.refusal
                ? t("field.signin.refused", { message: err.refusal })
                : t("field.signin.offline");
              button.disabled = false;
              button.textContent = t("field.signin.submit");
            }
          },
        },
        h("label", { class: "phone-label", for: "field-token-input" }, t("field.signin.label")),
        input, error, h("div", { style: "height:12px" }), button),
        h("p", { style: "text-align:center" },
          h("a", { class: "phone-btn is-small", id: "field-lang", href: root.dataset.langSwitch },
            t("lang.switch"))))
    );
  }

  function signOut(message) {
    storeToken(null);
    S.worker = null;
    S.tasks = [];
    S.details = {};
    S.fetchedAt = null;
    disconnectSocket();
    stopGps();
    outbox.pause();
    renderSignIn(message ? t("field.signin.refused", { message }) : "");
  }

  function confirmSignOut() {
    if (window.confirm(t("field.signout.confirm", { n: userQueue().length }))) {
      writeJson(CACHE_KEY, null);
      signOut("");
    }
  }

  function startApp() {
    const cache = readJson(CACHE_KEY, null);
    if (cache && cache.token === S.token.slice(-8) && !S.fetchedAt) {
      S.worker = cache.worker;
      S.tasks = cache.tasks || [];
      S.fetchedAt = cache.at;
      S.cached = true;
    }
    buildShell();
    renderNotices();
    outbox.resume();
    if (S.gps.on) startGps();
    show();
    refresh();
  }

  function boot() {
    const params = new URLSearchParams(location.search);
    const fromUrl = params.get("token");
    if (fromUrl) {
      storeToken(fromUrl.trim());
      params.delete("token"); // keep it out of the history and of screenshots
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    } else {
      S.token = tokenFromStorage();
    }
    startOutbox();
    window.addEventListener("hashchange", show);
    if (S.token) startApp();
    else renderSignIn("");
  }

  boot();
})();
