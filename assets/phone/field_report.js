/*
 * A new report from the grid worker (#/report): category, text, photos, and the point where
 * the worker stands or where the map is dragged.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const {
    cfg, t, h, S, drafts, submit, photoPicker, clearPhotos, makeMap, ownMarker, freshFix,
  } = F;

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
      F.show(); // a fresh, empty form
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

  Object.assign(F, { reportView });
})();
