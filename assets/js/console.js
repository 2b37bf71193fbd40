/*
 * The office pages' browser glue: the duty console (/console) and the case page (/cases/<id>).
 *
 * - Bridge views `console` and `case` (see assets/js/bridge.js): the socket keeps the cases
 *   of this user's scope in sync; these views only tell the page WHEN something changed, by
 *   setting a small store (`console-live` / `case-live`) at most once a second. The page's
 *   server callbacks then re-read the queue or the case as the signed-in user; not while a
 *   call placed or answered here is connecting (the redraw waits for its first picture).
 * - Deadline clocks: every `[data-deadline]` and `[data-since]` ticks once a second, in the
 *   same words as dashboard/console_layout.py writes them.
 * - dash_clientside.console: the tab picker; CommandHall.caseMap: the case map's styles.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  CH.views = CH.views || {};

  function parseTime(iso) {
    return iso ? Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")) : NaN;
  }

  /* ---- clocks ---- */

  /** 12分 / 3时05分 / 2天3时 (12m / 3h05m / 2d3h): console_layout.span_text. */
  function spanText(ms, s) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 60) {
      return minutes + s["console.clock.m"];
    }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) {
      return hours + s["console.clock.h"] + (minutes < 10 ? "0" : "") + minutes + s["console.clock.m"];
    }
    return Math.floor(hours / 24) + s["console.clock.d"] + (hours % 24) + s["console.clock.h"];
  }

  function fill(template, text) {
    return String(template || "{t}").replace("{t}", text);
  }

  /** Re-write every clock on the page for `now` (server time, in ms). */
  function tickClocks(now, s) {
    var i, el, at, left, text;
    var clocks = document.querySelectorAll(".ch-office [data-deadline]");
    for (i = 0; i < clocks.length; i++) {
      el = clocks[i];
      at = parseTime(el.getAttribute("data-deadline"));
      if (isNaN(at)) {
        continue;
      }
      left = at - now;
      text = fill(s[left >= 0 ? "console.clock.left" : "console.clock.over"], spanText(left, s));
      if (el.textContent !== text) {
        el.textContent = text;
      }
      el.classList.toggle("is-over", left < 0);
    }
    var ages = document.querySelectorAll(".ch-office [data-since]");
    for (i = 0; i < ages.length; i++) {
      el = ages[i];
      at = parseTime(el.getAttribute("data-since"));
      if (isNaN(at)) {
        continue;
      }
      text = now - at < 60000 ? s["console.clock.now"] : fill(s["console.clock.ago"], spanText(now - at, s));
      if (el.textContent !== text) {
        el.textContent = text;
      }
    }
  }

  /* ---- change signals ---- */

  /**
   * Which cases changed since the last look, or null when nothing did. The reducer replaces
   * a case's summary object whenever an event about it arrives, so comparing objects is
   * enough. On a page's first look, `data-seq` (the head of the log when the server drew the
   * page) tells whether anything happened in between: then "all" changed.
   */
  function Watcher() {
    this.el = null;
    this.cases = null;
  }

  Watcher.prototype.changes = function (el, state) {
    if (!state) {
      return null;
    }
    if (this.el !== el || this.cases === null) {
      this.el = el;
      this.cases = state.cases;
      var drawnAt = parseInt(el.getAttribute("data-seq") || "0", 10);
      return state.seq > drawnAt ? { all: true, ids: [] } : null;
    }
    if (state.cases === this.cases) {
      return null;
    }
    var before = this.cases;
    var ids = [];
    Object.keys(state.cases).forEach(function (id) {
      if (before[id] !== state.cases[id]) {
        ids.push(Number(id));
      }
    });
    Object.keys(before).forEach(function (id) {
      if (!(id in state.cases)) {
        ids.push(Number(id));
      }
    });
    this.cases = state.cases;
    return ids.length ? { all: false, ids: ids } : null;
  };

  var counter = 0;

  function connection(ctx, prefix, out) {
    if (ctx.statusChanged || ctx.fresh) {
      out[prefix + "-conn"] = {
        children: ctx.strings["conn." + ctx.status] || ctx.status,
        className: "ch-conn is-" + ctx.status,
      };
    }
  }

  /** A call placed or answered on this page is connecting (assets/js/call.js). The page's
   *  redraw then waits: it is hundreds of milliseconds of Dash work on the main thread (over
   *  a second on a busy machine), and the call's answer and first picture would wait behind
   *  it. The call's own events (started, answered) would otherwise redraw the page right
   *  then. call.js says "connecting" for a few seconds at most. */
  function callConnecting() {
    return !!(CH.calls && CH.calls.settingUp && CH.calls.settingUp());
  }

  var consoleWatch = new Watcher();
  var consoleHeld = null; // {ids, all}: changes not yet told to the page

  CH.views.console = function (ctx) {
    var out = {};
    var el = document.querySelector("[data-ch-view='console']");
    connection(ctx, "console", out);
    tickClocks(ctx.now, ctx.strings);
    var changed = el && consoleWatch.changes(el, ctx.state);
    if (changed) {
      consoleHeld = consoleHeld
        ? { ids: consoleHeld.ids.concat(changed.ids), all: consoleHeld.all || changed.all }
        : changed;
    }
    if (consoleHeld && !callConnecting()) {
      counter += 1;
      var all = consoleHeld.all || consoleHeld.ids.length > 200;
      out["console-live"] = { data: { n: counter, ids: consoleHeld.ids.slice(0, 200), all: all } };
      consoleHeld = null;
    }
    return out;
  };

  var caseWatch = new Watcher();
  var caseHeld = false; // the case changed; the page has not been told yet

  CH.views.case = function (ctx) {
    var out = {};
    var el = document.querySelector("[data-ch-view='case']");
    connection(ctx, "case", out);
    tickClocks(ctx.now, ctx.strings);
    var changed = el && caseWatch.changes(el, ctx.state);
    var mine = el && Number(el.getAttribute("data-case-id"));
    if (changed && (changed.all || changed.ids.indexOf(mine) >= 0)) {
      caseHeld = true;
    }
    if (caseHeld && !callConnecting()) {
      counter += 1;
      out["case-live"] = { data: { n: counter } };
      caseHeld = false;
    }
    return out;
  };

  /* ---- clientside callbacks ---- */

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.console = {
    /** A page for somebody whose place is elsewhere (a kiosk, a grid worker): go there. */
    leave: function (href) {
      if (href && href.charAt(0) === "/" && href.charAt(1) !== "/") {
        window.location.replace(href);
      }
      return window.dash_clientside.no_update;
    },

    /** A tab was clicked: its bucket becomes the one shown (the server draws it). */
    pickTab: function (clicks, current) {
      var ctx = window.dash_clientside.callback_context;
      var picked = ctx && ctx.triggered_id;
      var clicked = (ctx.triggered || []).some(function (t) {
        return t.value;
      });
      if (!picked || !clicked || picked.bucket === current) {
        return window.dash_clientside.no_update;
      }
      return picked.bucket;
    },
  };

  /* ---- the case page's map (referenced as {"variable": "CommandHall.caseMap.*"}) ---- */

  CH.caseMap = {
    townships: function () {
      return { color: "#5b7db1", weight: 2, opacity: 0.8, fillColor: "#dfe8f5", fillOpacity: 0.35, interactive: false };
    },
    grids: function () {
      return { color: "#8aa4c8", weight: 1, opacity: 0.7, dashArray: "4 3", fill: false, interactive: false };
    },
    roads: function () {
      return { color: "#d39a3c", weight: 3, opacity: 0.8, interactive: false };
    },
  };
})();
