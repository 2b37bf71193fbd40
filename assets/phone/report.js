/*
 * The citizen's page (/report): report a problem with photos and a point on the map, follow
 * its status by ticket number and rate the result. Plain browser JS, no build step; the page
 * (dashboard/report_page.py) gives the strings and settings in #rp-config, Leaflet 1.9 comes
 * from /assets/vendor/leaflet. Server data is only ever put in the page as text, never HTML.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("rp-config").textContent);
  const STRINGS = config.strings;
  const MINE_KEY = "commandhall.report.mine";
  const MINE_MAX = 30;
  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
  const PHONE = /^\+?[0-9][0-9 -]{5,19}$/; // as dispatch/service/intake.py checks it
  const MAX_DESCRIPTION = 4000;
  const UPLOAD_TIMEOUT_MS = 5 * 60 * 1000; // six 10 MB photos over a slow phone network
  const LOCATED_ZOOM = 15; // a few grids around the point: enough to see where it is
  // Server field names → the block on this page that shows the error.
  const FIELD_BLOCK = {
    service_code: "category", lat: "location", long: "location", description: "description",
    photos: "photos", address: "address", address_string: "address", phone: "phone",
    name: "name", first_name: "name",
  };
  const BLOCK_INPUT = {
    category: "rp-category", description: "rp-description", photos: "rp-photos",
    address: "rp-address", name: "rp-name", phone: "rp-phone", ticket: "rp-ticket",
    location: "rp-locate", code: "rp-rate-code",
  };

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

  // -- views and tabs ------------------------------------------------------------------------

  let reportView = "form"; // "form" | "done": what the 我要上报 tab shows

  function showTab(tab, replace) {
    const status = tab === "status";
    $("rp-tab-report").setAttribute("aria-selected", String(!status));
    $("rp-tab-status").setAttribute("aria-selected", String(status));
    $("rp-view-report").hidden = status || reportView !== "form";
    $("rp-view-done").hidden = status || reportView !== "done";
    $("rp-view-status").hidden = !status;
    if (status) renderMine();
    if (!status && map) {
      map.invalidateSize(); // it may have been laid out while hidden
      fitCounty();
    }
    // The report tab keeps the plain address; the status tab can be bookmarked with its ticket.
    const hash = status ? (shownTicket ? `#status/${shownTicket}` : "#status") : "";
    if (location.hash !== hash) {
      const url = location.pathname + location.search + hash;
      history[replace ? "replaceState" : "pushState"](null, "", url);
    }
    const lang = $("rp-lang");
    lang.href = lang.href.split("#")[0] + hash;
  }

  // -- the report form: photos -------------------------------------------------------------

  const form = $("rp-form");
  let photos = []; // {file, url}
  let pendingKey = null; // the Idempotency-Key of the submission being tried, reused on retry

  /** Any change makes the next press of submit a new request with a new key. */
  function formChanged() {
    pendingKey = null;
  }

  function addPhotos(files) {
    clearError("photos");
    const problems = [];
    const mb = (n) => (n / 1048576).toFixed(1);
    for (const file of files) {
      if (photos.length >= config.maxPhotos) {
        problems.push(s("report.error.photo_count", { max: config.maxPhotos }));
        break;
      }
      if (file.type && !IMAGE_TYPES.includes(file.type)) {
        problems.push(s("report.error.photo_type", { name: file.name }));
      } else if (file.size > config.maxBytes) {
        problems.push(s("report.error.photo_size", {
          name: file.name, size: mb(file.size), mb: config.maxBytes / 1048576,
        }));
      } else {
        photos.push({ file, url: URL.createObjectURL(file) });
      }
    }
    renderPhotos();
    formChanged();
    if (problems.length) showError("photos", problems.join(" "));
  }

  function removePhoto(index) {
    const [gone] = photos.splice(index, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    clearError("photos");
    renderPhotos();
    formChanged();
  }

  function renderPhotos() {
    const list = $("rp-photo-list");
    list.replaceChildren(
      ...photos.map((photo, index) => {
        const item = el("li", "rp-photo");
        const img = el("img");
        img.alt = photo.file.name;
        img.src = photo.url;
        img.onerror = () => {
          item.classList.add("is-broken");
          const text = `${s("report.photos.unreadable")} · ${photo.file.name}`;
          item.prepend(el("span", "rp-photo-name", text));
          img.remove();
        };
        const remove = el("button", "rp-photo-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", `${s("report.photos.remove")}: ${photo.file.name}`);
        remove.addEventListener("click", () => removePhoto(index));
        item.append(img, remove);
        return item;
      }),
    );
    list.hidden = photos.length === 0;
    const full = photos.length >= config.maxPhotos;
    for (const id of ["rp-photos", "rp-photos-album"]) $(id).disabled = full;
    for (const id of ["rp-photos-camera", "rp-photos-album-button"]) {
      $(id).classList.toggle("is-disabled", full);
    }
  }

  for (const id of ["rp-photos", "rp-photos-album"]) {
    $(id).addEventListener("change", (event) => {
      addPhotos(Array.from(event.target.files || []));
      event.target.value = ""; // the same file may be picked again after removing it
    });
  }

  // -- the report form: the point, on an offline map -------------------------------------

  let map = null;
  let marker = null;
  let accuracyCircle = null;
  let point = null; // {lat, lng}
  let gridFeatures = null; // null until the grids have loaded

  function inRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  /** The grid under the point (its GeoJSON properties), null outside, undefined if unknown. */
  function gridAt(lat, lng) {
    if (!gridFeatures) return undefined;
    for (const feature of gridFeatures) {
      const g = feature.geometry || {};
      const polygons =
        g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const rings of polygons) {
        if (inRing(lng, lat, rings[0]) && !rings.slice(1).some((hole) => inRing(lng, lat, hole))) {
          return feature.properties || {};
        }
      }
    }
    return null;
  }

  function setPoint(lat, lng, accuracy) {
    point = { lat, lng };
    formChanged();
    clearError("location");
    if (accuracyCircle) accuracyCircle.remove();
    accuracyCircle = null;
    if (map && accuracy) {
      accuracyCircle = L.circle([lat, lng], {
        radius: accuracy, color: "#1459b8", weight: 1, fillOpacity: 0.12, interactive: false,
      }).addTo(map);
    }
    if (map) {
      if (marker) marker.setLatLng([lat, lng]);
      else {
        marker = L.marker([lat, lng], { draggable: true, keyboard: false, autoPan: true });
        marker.on("dragend", () => {
          const at = marker.getLatLng();
          setPoint(at.lat, at.lng);
        });
        marker.addTo(map);
      }
    }
    describePoint(accuracy);
  }

  function describePoint(accuracy) {
    if (!point) return;
    const status = $("rp-location-status");
    const grid = gridAt(point.lat, point.lng);
    const where = `${point.lat.toFixed(5)}, ${point.lng.toFixed(5)}`;
    if (grid === null) {
      status.textContent = where;
      showError("location", s("report.location.outside"));
      return;
    }
    const parts = [];
    if (accuracy) parts.push(s("report.location.found", { m: Math.round(accuracy) }));
    const named = grid && grid.name;
    const picked = named ? s("report.location.picked", { grid: grid.name }) : "";
    parts.push(picked || s("report.location.point"));
    status.textContent = `${parts.join(" · ")} (${where})`;
  }

  const BASE_STYLES = {
    boundary: { color: "#1459b8", weight: 2, fillColor: "#eaf2fc", fillOpacity: 1 },
    grids: { color: "#9fb8d8", weight: 0.7, fill: false },
    townships: { color: "#5d86bd", weight: 1.4, dashArray: "4 4", fill: false },
    roads: { color: "#e0a53b", weight: 2.5, opacity: 0.9 },
  };
  const BASE_ORDER = ["boundary", "grids", "townships", "roads"]; // painted bottom to top

  /** Hide the township names that would overlap one already shown (Leaflet does not). */
  function declutterLabels() {
    const shown = [];
    for (const label of document.querySelectorAll("#rp-map .rp-map-label")) {
      label.style.visibility = "";
      const box = label.getBoundingClientRect();
      const hits = shown.some(
        (b) => box.left < b.right && b.left < box.right && box.top < b.bottom && b.top < box.bottom,
      );
      if (hits) label.style.visibility = "hidden";
      else shown.push(box);
    }
  }

  let countyBounds = null;
  let fitted = false;

  /** Show the whole county, once the map is laid out (a hidden map has no size to fit). */
  function fitCounty() {
    if (!map || fitted || !countyBounds || !countyBounds.isValid()) return;
    if (!$("rp-map").offsetWidth) return; // hidden behind another tab: fitted when shown
    fitted = true;
    map.invalidateSize();
    if (!point) map.fitBounds(countyBounds, { padding: [8, 8] });
    map.setMaxBounds(countyBounds.pad(0.6));
    map.setMinZoom(Math.max(map.getBoundsZoom(countyBounds) - 1, 5));
    declutterLabels();
  }

  function initMap() {
    const box = $("rp-map");
    if (!window.L) {
      box.classList.add("is-failed");
      box.textContent = s("report.location.map_failed");
      return;
    }
    map = L.map(box, {
      attributionControl: false, preferCanvas: true, zoomSnap: 0.5, tapTolerance: 20,
    });
    map.setView([0, 0], 2); // replaced by the county once the boundary is here
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    map.on("click", (e) => setPoint(e.latlng.lat, e.latlng.lng));
    Promise.all(
      BASE_ORDER.map((name) =>
        fetch(`/api/geo/${name}.geojson`)
          .then((r) => (r.ok ? r.json() : null))
          .catch(() => null),
      ),
    ).then((layers) => {
      layers.forEach((data, i) => {
        if (!data) return;
        const name = BASE_ORDER[i];
        const layer = L.geoJSON(data, { style: BASE_STYLES[name], interactive: false });
        if (name === "townships") {
          layer.eachLayer((l) => {
            const label = (l.feature.properties || {}).name;
            if (label) {
              l.bindTooltip(label, {
                permanent: true, direction: "center", className: "rp-map-label", interactive: false,
              });
            }
          });
        }
        layer.addTo(map);
        if (name === "boundary") countyBounds = layer.getBounds();
        if (name === "grids") gridFeatures = data.features || [];
      });
      if (point) describePoint();
      if (!layers[0]) $("rp-location-status").textContent = s("report.location.map_failed");
      map.on("zoomend", declutterLabels);
      fitCounty();
      box.dataset.ready = "1";
    });
  }

  $("rp-locate").addEventListener("click", () => {
    const button = $("rp-locate");
    clearError("location");
    if (!navigator.geolocation) {
      showError("location", s("report.location.unsupported"));
      return;
    }
    button.disabled = true;
    $("rp-location-status").textContent = s("report.location.locating");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        button.disabled = false;
        const { latitude, longitude, accuracy } = position.coords;
        if (map) map.setView([latitude, longitude], Math.max(map.getZoom(), LOCATED_ZOOM));
        setPoint(latitude, longitude, accuracy);
      },
      (error) => {
        button.disabled = false;
        $("rp-location-status").textContent = s("report.location.hint");
        const denied = error.code === 1; // PERMISSION_DENIED
        showError("location", s(denied ? "report.location.denied" : "report.location.failed"));
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });

  // -- the report form: checking and sending --------------------------------------------

  const description = $("rp-description");
  description.addEventListener("input", () => {
    $("rp-description-count").textContent = `${description.value.length}/${MAX_DESCRIPTION}`;
  });
  form.addEventListener("input", formChanged);
  form.addEventListener("change", formChanged);
  for (const [id, block] of [["rp-category", "category"], ["rp-description", "description"],
    ["rp-address", "address"], ["rp-name", "name"], ["rp-phone", "phone"]]) {
    $(id).addEventListener("input", () => clearError(block));
    $(id).addEventListener("change", () => clearError(block));
  }

  /** The browser's own checks; the server checks everything again and has the last word. */
  function checkForm() {
    const errors = [];
    if (!$("rp-category").value) errors.push(["category", s("report.error.category")]);
    const text = description.value.trim();
    if (!text && photos.length === 0) errors.push(["description", s("report.error.description")]);
    if (text.length > MAX_DESCRIPTION) {
      const values = { max: MAX_DESCRIPTION, n: text.length };
      errors.push(["description", s("report.error.description_long", values)]);
    }
    if (!point) errors.push(["location", s("report.location.required")]);
    else if (gridAt(point.lat, point.lng) === null) {
      errors.push(["location", s("report.location.outside")]);
    }
    const phone = $("rp-phone").value.trim();
    if (phone && !PHONE.test(phone)) errors.push(["phone", s("report.error.phone")]);
    return errors;
  }

  /** The server's {code, message, field} in words the citizen reads, next to the field. */
  function serverError(status, body) {
    const field = body && body.field;
    const code = body && body.code;
    const detail = body && body.message;
    if (status === 413) return ["photos", s("report.error.too_big"), ""];
    if (code === "csrf_failed") return ["form", s("report.error.csrf"), ""];
    const block = FIELD_BLOCK[field];
    const lead = {
      category: s("report.error.category"),
      location: s("report.location.outside"),
      phone: s("report.error.phone"),
      description: s("report.error.description"),
      photos: code === "too_large"
        ? s("report.error.photo_too_large", { mb: config.maxBytes / 1048576 })
        : s("report.error.photo_server"),
    }[block];
    if (block) return [block, lead || detail || s("report.error.server"), lead ? detail : ""];
    if (status >= 500 || !detail) return ["form", s("report.error.server"), ""];
    return ["form", detail, ""];
  }

  function setSending(on, progress) {
    const button = $("rp-submit");
    button.disabled = on;
    button.classList.toggle("is-busy", on);
    if (!on) button.textContent = s("report.submit");
    else if (progress === undefined || progress >= 1) button.textContent = s("report.sending");
    else button.textContent = s("report.sending.progress", { pct: Math.round(progress * 100) });
  }

  function formData() {
    const data = new FormData();
    data.append("service_code", $("rp-category").value);
    data.append("lat", point.lat.toFixed(6));
    data.append("long", point.lng.toFixed(6));
    data.append("description", description.value.trim());
    const optional = [["address", "rp-address"], ["name", "rp-name"], ["phone", "rp-phone"]];
    for (const [name, id] of optional) {
      const value = $(id).value.trim();
      if (value) data.append(name, value);
    }
    for (const photo of photos) data.append("photos", photo.file, photo.file.name);
    return data;
  }

  let sending = false;

  async function submitReport(retriedCsrf) {
    const key = pendingKey;
    const headers = {
      "X-CSRFToken": csrfToken(), "Idempotency-Key": key, Accept: "application/json",
    };
    let answer;
    try {
      answer = await send("/api/reports", formData(), headers, (p) => setSending(true, p));
    } catch (_) {
      return showError("form", s("report.error.network"));
    }
    const { status, body } = answer;
    if (status === 403 && body && body.code === "csrf_failed" && !retriedCsrf) {
      await refreshCsrf();
      return submitReport(true);
    }
    if (status === 201 && body && body.ticket) return reported(body);
    if (status === 422 && body && body.code === "idempotency_key_reused") pendingKey = null;
    const [block, message, detail] = serverError(status, body);
    return showError(block, message, detail);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return; // a double tap: the first press is on its way
    const blocks = ["category", "description", "photos", "location", "address", "name", "phone"];
    for (const block of blocks.concat("form")) clearError(block);
    const errors = checkForm();
    if (errors.length) {
      const boxes = errors.map(([block, message]) => showError(block, message));
      if (errors.length > 1) showError("form", s("report.error.summary"));
      reveal(boxes[0]);
      return;
    }
    pendingKey = pendingKey || newKey();
    sending = true;
    setSending(true);
    try {
      const shown = await submitReport(false);
      if (shown instanceof HTMLElement) reveal(shown);
    } finally {
      sending = false;
      setSending(false);
    }
  });

  function reported(body) {
    const select = $("rp-category");
    const earlier = mineEntry(body.ticket);
    const entry = remember(body.ticket, {
      code: body.rating_code || (earlier && earlier.code) || "",
      at: (earlier && earlier.at) || new Date().toISOString(),
      category: select.options[select.selectedIndex].textContent,
      state: body.state,
    });
    $("rp-done-ticket").textContent = entry.ticket;
    $("rp-done-code").textContent = entry.code;
    $("rp-done-code-row").hidden = !entry.code;
    $("rp-done-keep").textContent = s(entry.code ? "report.done.keep" : "report.done.no_code");
    $("rp-done-replayed").hidden = !body.replayed;
    $("rp-done-track").dataset.ticket = entry.ticket;
    resetForm();
    reportView = "done";
    showTab("report");
    window.scrollTo(0, 0);
  }

  function resetForm() {
    form.reset();
    for (const photo of photos) URL.revokeObjectURL(photo.url);
    photos = [];
    renderPhotos();
    point = null;
    if (marker) marker.remove();
    if (accuracyCircle) accuracyCircle.remove();
    marker = accuracyCircle = null;
    $("rp-location-status").textContent = s("report.location.hint");
    $("rp-description-count").textContent = `0/${MAX_DESCRIPTION}`;
    pendingKey = null;
  }

  $("rp-done-again").addEventListener("click", () => {
    reportView = "form";
    showTab("report");
    window.scrollTo(0, 0);
  });
  $("rp-done-track").addEventListener("click", (event) => {
    showTab("status");
    lookup(event.currentTarget.dataset.ticket);
  });

  // -- status by ticket, and the rating ---------------------------------------------------

  let shownTicket = "";
  let justRated = null; // {ticket, rating} of the rating sent from this page

  function normalTicket(value) {
    return String(value || "")
      .replace(/[\s\u3000]+/g, "")
      .replace(/[－—–‐]/g, "-")
      .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  }

  async function lookup(raw) {
    const ticket = normalTicket(raw);
    $("rp-ticket").value = ticket;
    clearError("ticket");
    if (!ticket) return showError("ticket", s("report.status.required"));
    const button = $("rp-lookup-submit");
    button.disabled = true;
    button.textContent = s("report.status.looking");
    try {
      const response = await fetch(`/api/tickets/${encodeURIComponent(ticket)}`, {
        headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin",
      });
      if (response.status === 404) return showError("ticket", s("report.status.not_found"));
      if (!response.ok) return showError("ticket", s("report.status.failed"));
      const data = await response.json();
      if (mineEntry(data.ticket)) {
        remember(data.ticket, { state: data.state, category: categoryName(data) });
      }
      shownTicket = data.ticket;
      renderStatus(data);
      showTab("status", true);
    } catch (_) {
      showError("ticket", s("report.status.failed"));
    } finally {
      button.disabled = false;
      button.textContent = s("report.status.lookup");
    }
  }

  function categoryName(data) {
    const name = config.lang === "en" ? data.category_name_en : data.category_name;
    return name || data.category_name || "";
  }

  function stars(rating) {
    return "★".repeat(rating) + "☆".repeat(5 - rating);
  }

  function renderStatus(data) {
    const card = $("rp-status");
    const head = el("div", "rp-status-head");
    head.append(el("span", "rp-status-ticket", data.ticket));
    const state = el("span", `rp-state rp-state-${data.state}`, s(`state.${data.state}`));
    state.id = "rp-status-state";
    head.append(state);

    const facts = el("dl", "rp-facts");
    const fact = (label, value) => {
      const row = el("div");
      row.append(el("dt", "", s(label)), el("dd", "", value));
      facts.append(row);
    };
    fact("report.status.category", categoryName(data));
    fact("report.status.reported_at", when(data.reported_at));
    if (data.closed_at) fact("report.status.closed_at", when(data.closed_at));

    const parts = [head];
    if (justRated && justRated.ticket === data.ticket) parts.push(ratedBanner(justRated.rating));
    parts.push(facts);
    if (data.can_rate) parts.push(rateBlock(data.ticket));
    else if (data.rating) {
      const yours = el("p", "rp-yours");
      yours.append(
        el("span", "", s("report.rate.yours") + (config.lang === "en" ? ": " : "：")),
        el("span", "rp-yours-stars", stars(data.rating)),
        el("span", "", ` ${s(`report.rate.star.${data.rating}`)}`),
      );
      parts.push(yours);
    }
    parts.push(el("h3", "rp-subhead", s("report.status.steps")));
    const steps = el("ol", "rp-steps");
    steps.id = "rp-steps";
    for (const step of (data.steps || []).slice().reverse()) {
      const item = el("li", "rp-step");
      item.dataset.type = step.type;
      const key = `report.step.${step.type}`;
      item.append(el("span", "rp-step-label", key in STRINGS ? s(key) : step.type));
      const time = el("time", "rp-step-time", when(step.at));
      time.dateTime = step.at;
      item.append(time);
      steps.append(item);
    }
    parts.push(steps);
    const refresh = el("button", "rp-btn rp-btn-ghost rp-btn-wide", s("report.status.refresh"));
    refresh.type = "button";
    refresh.id = "rp-status-refresh";
    refresh.addEventListener("click", () => lookup(data.ticket));
    parts.push(refresh);
    card.replaceChildren(...parts);
    card.hidden = false;
  }

  function ratedBanner(rating) {
    const reopened = rating <= 2;
    const banner = el("p", `rp-result ${reopened ? "is-reopened" : "is-thanks"}`,
      s(reopened ? "report.rate.reopened" : "report.rate.thanks"));
    banner.id = "rp-rate-result";
    banner.setAttribute("role", "status");
    return banner;
  }

  function rateBlock(ticket) {
    const block = el("div", "rp-rate rp-field");
    block.id = "rp-field-rating";
    block.append(el("h3", "rp-subhead", s("report.rate.title")));
    let chosen = 0;
    const group = el("div", "rp-stars");
    group.setAttribute("role", "radiogroup");
    group.setAttribute("aria-label", s("report.rate.title"));
    const label = el("div", "rp-star-label", " ");
    const buttons = [1, 2, 3, 4, 5].map((value) => {
      const star = el("button", "rp-star", "★");
      star.type = "button";
      star.dataset.value = String(value);
      star.setAttribute("role", "radio");
      star.setAttribute("aria-checked", "false");
      star.setAttribute("aria-label", `${value} · ${s(`report.rate.star.${value}`)}`);
      star.addEventListener("click", () => {
        chosen = value;
        buttons.forEach((b, i) => {
          b.classList.toggle("is-on", i < value);
          b.setAttribute("aria-checked", String(i + 1 === value));
        });
        label.textContent = s(`report.rate.star.${value}`);
        clearError("rating");
      });
      return star;
    });
    group.append(...buttons);
    block.append(group, label);
    block.append(Object.assign(el("div", "rp-error"), { id: "rp-error-rating", hidden: true }));

    const known = (mineEntry(ticket) || {}).code || "";
    const codeField = el("div", "rp-field rp-rate-code");
    codeField.id = "rp-field-code";
    const codeLabel = el("label", "", s("report.rate.code"));
    codeLabel.htmlFor = "rp-rate-code";
    const code = el("input");
    Object.assign(code, { id: "rp-rate-code", maxLength: 6, autocomplete: "off", value: known });
    code.setAttribute("autocapitalize", "characters");
    code.addEventListener("input", () => clearError("code"));
    codeField.append(codeLabel, code, el("div", "rp-hint", s("report.rate.code.hint")));
    codeField.append(Object.assign(el("div", "rp-error"), { id: "rp-error-code", hidden: true }));
    codeField.hidden = Boolean(known); // kept from the report: nothing to type
    block.append(codeField);

    const submit = el("button", "rp-btn rp-btn-primary rp-btn-wide", s("report.rate.submit"));
    submit.type = "button";
    submit.id = "rp-rate-submit";
    submit.addEventListener("click", async () => {
      clearError("rating");
      clearError("code");
      if (!chosen) return showError("rating", s("report.rate.choose"));
      const value = code.value.trim().toUpperCase();
      if (!value) {
        codeField.hidden = false;
        return showError("code", s("report.rate.code_required"));
      }
      submit.disabled = true;
      try {
        await rate(ticket, chosen, value, codeField);
      } finally {
        submit.disabled = false;
      }
    });
    block.append(submit);
    return block;
  }

  async function rate(ticket, rating, code, codeField, retriedCsrf) {
    let response;
    let body = null;
    try {
      response = await fetch(`/api/tickets/${encodeURIComponent(ticket)}/rating`, {
        method: "POST", credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
          Accept: "application/json",
        },
        body: JSON.stringify({ rating, code }),
      });
      body = await response.json().catch(() => null);
    } catch (_) {
      return showError("rating", s("report.error.network"));
    }
    if (response.ok) {
      remember(ticket, { code, state: body.state, rating });
      justRated = { ticket, rating };
      return lookup(ticket);
    }
    if (response.status === 403 && body && body.code === "csrf_failed" && !retriedCsrf) {
      await refreshCsrf();
      return rate(ticket, rating, code, codeField, true);
    }
    if (response.status === 403 || (body && body.field === "code")) {
      codeField.hidden = false;
      return showError("code", s("report.rate.code_wrong"));
    }
    if (response.status === 409) return showError("rating", s("report.rate.not_closed"));
    return showError("rating", (body && body.message) || s("report.error.server"));
  }

  function renderMine() {
    const list = $("rp-mine");
    const mine = loadMine();
    if (!mine.length) {
      list.replaceChildren(el("li", "rp-mine-empty", s("report.status.mine.empty")));
      return;
    }
    list.replaceChildren(
      ...mine.map((entry) => {
        const item = el("li");
        const button = el("button", "rp-mine-item");
        button.type = "button";
        button.dataset.ticket = entry.ticket;
        const top = el("span", "rp-mine-top");
        top.append(el("span", "rp-mine-ticket", entry.ticket));
        if (entry.state) {
          top.append(el("span", `rp-state rp-state-${entry.state}`, s(`state.${entry.state}`)));
        }
        const meta = [entry.category, when(entry.at)].filter(Boolean).join(" · ");
        const bottom = el("span", "rp-mine-meta", meta);
        button.append(top, bottom);
        button.addEventListener("click", () => {
          lookup(entry.ticket);
          window.scrollTo(0, 0);
        });
        item.append(button);
        return item;
      }),
    );
  }

  $("rp-lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    justRated = null;
    lookup($("rp-ticket").value);
  });
  $("rp-ticket").addEventListener("input", () => clearError("ticket"));

  // -- start --------------------------------------------------------------------------------

  $("rp-tab-report").addEventListener("click", () => showTab("report"));
  $("rp-tab-status").addEventListener("click", () => showTab("status"));

  function fromHash() {
    const [tab, ticket] = location.hash.replace(/^#/, "").split("/");
    if (tab === "status") {
      showTab("status", true);
      if (ticket) lookup(decodeURIComponent(ticket));
    } else {
      showTab("report", true);
    }
  }
  window.addEventListener("popstate", fromHash);

  renderPhotos();
  initMap();
  fromHash();
  window.CommandHall = Object.assign(window.CommandHall || {}, { reportMap: map });
})();
