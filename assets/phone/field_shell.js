/*
 * The frame of the grid worker's page: header with the connection pill, GPS bar, notices of
 * failed submissions, the tab bar and the toast.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { root, FAILURES_KEY, t, h, append, writeJson, S, userQueue, projectedState } = F;

  // ---------- the shell: header, GPS bar, notices, navigation ----------

  function connState() {
    const offline = !navigator.onLine || (S.lastFetchOk === false && !S.socketUp);
    if (offline) return "offline";
    return userQueue().length ? "syncing" : "online";
  }

  function buildShell() {
    const langLink = root.dataset.langSwitch;
    F.shell = {
      name: h("div", { class: "phone-header-name", id: "field-worker" }),
      grid: h("div", { class: "phone-header-sub", id: "field-grid" }),
      conn: h("a", { class: "phone-pill", id: "field-conn", href: "#/queue" }),
      gpsText: h("span", { class: "phone-bar-status", id: "field-gps-text" }),
      gpsButton: h("button", {
        type: "button", class: "phone-btn is-small", id: "field-gps-toggle", onclick: F.toggleGps,
      }),
      notices: h("div", { id: "field-notices" }),
      main: h("main", { class: "phone-main", id: "field-main" }),
      toast: h("div", { class: "phone-toast", id: "field-toast", role: "status", hidden: true }),
      navBadges: {},
    };
    const shell = F.shell;
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
          h("button", { type: "button", class: "phone-header-link", id: "field-call-centre",
                        "data-call-centre": "1" }, t("field.call.centre")),
          h("a", { class: "phone-header-link", id: "field-lang", href: langLink + location.hash,
                   title: t("lang.switch") }, t("field.lang_short")),
          h("button", {
            type: "button", class: "phone-header-link", id: "field-signout",
            onclick: F.confirmSignOut,
          }, t("field.signout")))),
      shell.gps, shell.main, shell.nav, shell.toast,
    ]);
    shell.main.prepend(shell.notices);
  }

  function updateHeader() {
    const shell = F.shell;
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
    const shell = F.shell;
    if (!shell) return;
    const name = F.currentRoute().name;
    for (const tab of ["tasks", "report", "queue"]) {
      shell.nav.querySelector("#field-nav-" + tab).classList.toggle("is-active", tab === name);
    }
    const fresh = S.tasks.filter((x) => projectedState(x) === "dispatched").length;
    shell.navBadges.tasks.textContent = String(fresh || "");
    shell.navBadges.queue.textContent = String(userQueue().length || "");
  }

  function renderNotices() {
    const shell = F.shell;
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
    if (!F.shell) return;
    F.shell.toast.textContent = text;
    F.shell.toast.className = "phone-toast" + (isError ? " is-error" : "");
    F.shell.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (F.shell.toast.hidden = true), isError ? 7000 : 3500);
  }

  function updateAll() {
    updateHeader();
    F.updateGpsBar();
    updateNav();
    if (F.view) F.view.update();
  }

  Object.assign(F, { buildShell, updateHeader, renderNotices, toast, updateAll });
})();
