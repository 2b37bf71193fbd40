/*
 * The citizen's page (/report), started: the two tabs (report, status) and the address that
 * says which one shows. Loaded last, after the report_*.js files it uses (see report_core.js).
 */
(function () {
  "use strict";

  const R = window.CommandHall.report;
  const { $, renderMine, fitCounty, renderPhotos, initMap, lookup } = R;

  // -- views and tabs ------------------------------------------------------------------------

  function showTab(tab, replace) {
    const status = tab === "status";
    $("rp-tab-report").setAttribute("aria-selected", String(!status));
    $("rp-tab-status").setAttribute("aria-selected", String(status));
    $("rp-view-report").hidden = status || R.reportView !== "form";
    $("rp-view-done").hidden = status || R.reportView !== "done";
    $("rp-view-status").hidden = !status;
    if (status) renderMine();
    if (!status && R.map) {
      R.map.invalidateSize(); // it may have been laid out while hidden
      fitCounty();
    }
    // The report tab keeps the plain address; the status tab can be bookmarked with its ticket.
    const hash = status ? (R.shownTicket ? `#status/${R.shownTicket}` : "#status") : "";
    if (location.hash !== hash) {
      const url = location.pathname + location.search + hash;
      history[replace ? "replaceState" : "pushState"](null, "", url);
    }
    const lang = $("rp-lang");
    lang.href = lang.href.split("#")[0] + hash;
  }

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

  Object.assign(R, { showTab });

  renderPhotos();
  initMap();
  fromHash();
  window.CommandHall = Object.assign(window.CommandHall || {}, { reportMap: R.map });
})();
