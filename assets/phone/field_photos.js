/*
 * Photos on the grid worker's page: picked and scaled for a result or a report, and the
 * case's photos fetched with the device token.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { cfg, t, h, S } = F;

  const KEEP_PHOTO_BYTES = 1024 * 1024; // smaller photos go as taken; larger are scaled
  const PHOTO_MAX_SIDE = 1920;

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

  Object.assign(F, { photoPicker, clearPhotos, photoUrl, openPhoto });
})();
