/*
 * What waits in the grid worker's outbox (#/queue), and how a waiting item's state reads.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { t, h, S, itemLabel } = F;

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
    if (F.outbox.paused) return t("field.pending.auth");
    if (q.attempts && q.nextAt) {
      const s = Math.max(0, Math.ceil((q.nextAt - Date.now()) / 1000));
      return t("field.pending.retry", { n: q.attempts, s });
    }
    return t("field.pending.waiting");
  }

  function queueView() {
    const list = h("div", { class: "phone-card", id: "field-queue" });
    const el = h("section", null,
      h("div", { class: "phone-heading" },
        h("h1", null, t("field.queue.heading")),
        h("button", {
          type: "button", class: "phone-btn is-small", id: "field-queue-retry",
          onclick: () => F.outbox.kick(),
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
                    if (window.confirm(t("field.queue.discard_confirm"))) F.outbox.discard(q.id);
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

  Object.assign(F, { pendingLine, queueView });
})();
