/*
 * The grid worker's task list (#/tasks), and how a task's category, deadline and state read.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { cfg, t, h, parseTime, clock, duration, S, queuedFor } = F;

  const STATE_ORDER = { dispatched: 0, handled: 2 }; // new tasks first, handled ones last

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

  Object.assign(F, { categoryName, countdown, stateChip, tasksView });
})();
