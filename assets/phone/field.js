/*
 * The grid worker's page (/field), started: routes between the views, signs in and out.
 * Loaded last, after the field_*.js files it uses (see field_core.js for the whole).
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const {
    root, CACHE_KEY, t, h, readJson, writeJson, S, tokenFromStorage, storeToken, api, refused,
    refresh, disconnectSocket, startOutbox, userQueue, buildShell, renderNotices, updateAll,
    startGps, stopGps, tasksView, queueView, taskView, reportView,
  } = F;

  // ---------- views ----------

  function currentRoute() {
    const m = /^#\/(\w+)(?:\/(\d+))?/.exec(location.hash);
    return m ? { name: m[1], id: m[2] ? Number(m[2]) : null } : { name: "tasks", id: null };
  }

  function show() {
    if (!S.token || !F.shell) return;
    if (F.view && F.view.destroy) F.view.destroy();
    const r = currentRoute();
    const views = { tasks: tasksView, task: taskView, report: reportView, queue: queueView };
    const make = views[r.name] || tasksView;
    F.shell.main.querySelectorAll(":scope > :not(#field-notices)").forEach((el) => el.remove());
    F.view = make(r);
    F.shell.main.appendChild(F.view.el);
    if (F.view.mount) F.view.mount();
    window.scrollTo(0, 0);
    document.getElementById("field-lang").href = root.dataset.langSwitch + location.hash;
    updateAll();
  }

  // Retry countdowns and deadlines move with time, not only with data.
  setInterval(() => {
    if (F.view && S.token) F.view.update();
  }, 1000);

  // ---------- signing in and out ----------

  function renderSignIn(message) {
    if (F.view && F.view.destroy) F.view.destroy();
    F.view = null;
    F.shell = null;
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
    if (window.CommandHall.calls) window.CommandHall.calls.stop();
    stopGps();
    F.outbox.pause();
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
    F.outbox.resume();
    if (S.gps.on) startGps();
    show();
    refresh();
    // Calls ring on this page while it is open (assets/js/call.js).
    const calls = window.CommandHall.calls;
    if (calls) calls.start({ token: S.token, lang: F.cfg.lang });
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

  Object.assign(F, { currentRoute, show, signOut, confirmSignOut });

  boot();
})();
