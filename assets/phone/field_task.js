/*
 * One task on the grid worker's page (#/task/<id>): its map, details, photos, what is
 * waiting to be sent for it, and the actions with their forms.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const {
    t, h, append, dateTime, S, drafts, api, submit, queuedFor, allowedActions, photoPicker,
    clearPhotos, photoUrl, openPhoto, makeMap, ownMarker, categoryName, countdown, stateChip,
    pendingLine,
  } = F;

  const FORM_ACTIONS = { report_handled: true, return: true, request_extension: true };

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
        if (F.view && F.view.el === el) update();
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

  Object.assign(F, { taskView });
})();
