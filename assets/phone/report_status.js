/*
 * A report's status by ticket number, the citizen's own reports kept on the phone, and the
 * rating of a closed case with its code.
 */
(function () {
  "use strict";

  const R = window.CommandHall.report;
  const {
    config, STRINGS, $, s, el, csrfToken, refreshCsrf, loadMine, remember, mineEntry, when,
    showError, clearError,
  } = R;

  // -- status by ticket, and the rating ---------------------------------------------------

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
      R.shownTicket = data.ticket;
      renderStatus(data);
      R.showTab("status", true);
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

  Object.assign(R, { lookup, renderMine });
})();
