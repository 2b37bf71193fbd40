/*
 * The citizen's page (/report): report a problem with photos and a point on the map, follow
 * its status by ticket number and rate the result. Plain browser JS, no build step; the page
 * (dashboard/report_page.py) gives the strings and settings in #rp-config, Leaflet 1.9 comes
 * from /assets/vendor/leaflet. Server data is only ever put in the page as text, never HTML.
 *
 * One idea per file, all sharing window.CommandHall.report (here `R`): report_core.js (this
 * one: settings, strings, requests, errors next to their fields), report_map.js (the point
 * on the map), report_form.js (photos, checks, sending), report_status.js (status by ticket,
 * rating) and report.js, loaded last, which switches the tabs and starts the page.
 * dashboard/report_page.py loads them in that order; a file uses what an earlier one put in
 * R directly, and what a later one will put there only as R.name, when it runs.
 */
(function () {
  "use strict";

  window.CommandHall = window.CommandHall || {};
  const R = (window.CommandHall.report = {});

  const config = JSON.parse(document.getElementById("rp-config").textContent);
  const STRINGS = config.strings;
  const MINE_KEY = "commandhall.report.mine";
  const MINE_MAX = 30;
  const UPLOAD_TIMEOUT_MS = 5 * 60 * 1000; // six 10 MB photos over a slow phone network
  const BLOCK_INPUT = {
    category: "rp-category", description: "rp-description", photos: "rp-photos",
    address: "rp-address", name: "rp-name", phone: "rp-phone", ticket: "rp-ticket",
    location: "rp-locate", code: "rp-rate-code",
  };

  // What more than one file reads or changes.
  R.reportView = "form"; // "form" | "done": what the 我要上报 tab shows
  R.map = null;
  R.point = null; // {lat, lng}
  R.shownTicket = "";

  const $ = (id) => document.getElementById(id);

  function s(key, values) {
    let text = Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- plumbing: CSRF, keys, requests, local storage --------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /** A page response sets a fresh CSRF cookie (after an expired session, for instance). */
  function refreshCsrf() {
    return fetch("/report", { credentials: "same-origin", cache: "no-store" }).catch(() => null);
  }

  /** A v4 uuid; crypto.randomUUID exists only in secure contexts (https or localhost). */
  function newKey() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const part = (from, to) => h.slice(from, to);
    return [part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20)].join("-");
  }

  /** POST with upload progress (fetch has none); resolves {status, body} or rejects offline. */
  function send(url, body, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.timeout = UPLOAD_TIMEOUT_MS;
      xhr.withCredentials = true;
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      }
      xhr.onload = () => {
        let parsed = null;
        try {
          parsed = JSON.parse(xhr.responseText);
        } catch (_) {
          parsed = null; // a proxy's HTML error page, say
        }
        resolve({ status: xhr.status, body: parsed });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = () => reject(new Error("network"));
      xhr.send(body);
    });
  }

  function loadMine() {
    try {
      const list = JSON.parse(localStorage.getItem(MINE_KEY) || "[]");
      return Array.isArray(list) ? list.filter((r) => r && typeof r.ticket === "string") : [];
    } catch (_) {
      return [];
    }
  }

  function saveMine(list) {
    try {
      localStorage.setItem(MINE_KEY, JSON.stringify(list.slice(0, MINE_MAX)));
    } catch (_) {
      // private mode or full: the confirmation still shows both numbers to write down
    }
  }

  function remember(ticket, changes) {
    const list = loadMine();
    const found = list.find((r) => r.ticket === ticket);
    const entry = Object.assign(found || { ticket }, changes);
    saveMine([entry].concat(list.filter((r) => r !== found)));
    return entry;
  }

  function mineEntry(ticket) {
    return loadMine().find((r) => r.ticket === ticket) || null;
  }

  let formatter = null;
  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    if (!formatter) {
      const options = {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        hour12: false, timeZone: config.timezone,
      };
      const locale = config.lang === "en" ? "en-GB" : "zh-CN";
      try {
        formatter = new Intl.DateTimeFormat(locale, options);
      } catch (_) {
        delete options.timeZone; // an unknown zone: the phone's own
        formatter = new Intl.DateTimeFormat(locale, options);
      }
    }
    return formatter.format(date);
  }

  // -- errors next to their fields ----------------------------------------------------------

  function showError(block, message, detail) {
    const box = $("rp-error-" + block) || $("rp-error-form");
    box.textContent = message;
    if (detail && detail !== message) box.append(el("small", "rp-error-detail", detail));
    box.hidden = false;
    const field = $("rp-field-" + block);
    if (field) field.classList.add("is-invalid");
    const input = $(BLOCK_INPUT[block]);
    if (input) input.setAttribute("aria-invalid", "true");
    return box;
  }

  function clearError(block) {
    const box = $("rp-error-" + block);
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
    const field = $("rp-field-" + block);
    if (field) field.classList.remove("is-invalid");
    const input = $(BLOCK_INPUT[block]);
    if (input) input.removeAttribute("aria-invalid");
  }

  function reveal(box) {
    const field = box.closest(".rp-field") || box;
    field.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  Object.assign(R, {
    config, STRINGS, $, s, el, csrfToken, refreshCsrf, newKey, send, loadMine, remember,
    mineEntry, when, showError, clearError, reveal,
  });
})();
