/*
 * The citizen's report form: photos, the browser's checks, sending with an Idempotency-Key
 * (the same one on retry), the server's errors next to their fields, and the confirmation.
 */
(function () {
  "use strict";

  const R = window.CommandHall.report;
  const {
    config, $, s, el, csrfToken, refreshCsrf, newKey, send, remember, mineEntry, showError,
    clearError, reveal, gridAt, clearPoint,
  } = R;

  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
  const PHONE = /^\+?[0-9][0-9 -]{5,19}$/; // as dispatch/service/intake.py checks it
  const MAX_DESCRIPTION = 4000;
  // Server field names → the block on this page that shows the error.
  const FIELD_BLOCK = {
    service_code: "category", lat: "location", long: "location", description: "description",
    photos: "photos", address: "address", address_string: "address", phone: "phone",
    name: "name", first_name: "name",
  };

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
    if (!R.point) errors.push(["location", s("report.location.required")]);
    else if (gridAt(R.point.lat, R.point.lng) === null) {
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
    data.append("lat", R.point.lat.toFixed(6));
    data.append("long", R.point.lng.toFixed(6));
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
    R.reportView = "done";
    R.showTab("report");
    window.scrollTo(0, 0);
  }

  function resetForm() {
    form.reset();
    for (const photo of photos) URL.revokeObjectURL(photo.url);
    photos = [];
    renderPhotos();
    clearPoint();
    $("rp-description-count").textContent = `0/${MAX_DESCRIPTION}`;
    pendingKey = null;
  }

  $("rp-done-again").addEventListener("click", () => {
    R.reportView = "form";
    R.showTab("report");
    window.scrollTo(0, 0);
  });
  $("rp-done-track").addEventListener("click", (event) => {
    R.showTab("status");
    R.lookup(event.currentTarget.dataset.ticket);
  });

  Object.assign(R, { formChanged, renderPhotos });
})();
