/*
 * The wall's warnings panel, changed in place: one row per red or yellow case and per called
 * department that has not acknowledged (吹哨报到), newest red first, each with a live overrun
 * or countdown that ticks every second. Also the incoming-call banner and the notice shown
 * when the server refuses the screen. Layout: dashboard/wall_panels.py, wall_map.py.
 *
 * Rows are plain DOM in containers Dash renders empty and never touches again, so a second's
 * tick writes a dozen text nodes and nothing else.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var NEW_RED_MS = 30 * 60 * 1000;

  function byId(id) {
    return document.getElementById(id);
  }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) {
      el.className = className;
    }
    if (text !== undefined) {
      el.textContent = text;
    }
    return el;
  }

  function setText(el, text) {
    if (el.textContent !== text) {
      el.textContent = text;
    }
  }

  /**
   * Make `container` hold one element per row, in order, keyed by `key(row)`: existing
   * elements are kept (and updated when their row changed), new ones made, others removed.
   * Returns the element of each row. Shared by the wall's panels (CommandHall.wallDom).
   */
  function keyedList(container, rows, key, make, update) {
    var old = {};
    Array.prototype.forEach.call(container.children, function (el) {
      old[el.getAttribute("data-key")] = el;
    });
    var els = rows.map(function (row, i) {
      var k = String(key(row));
      var el = old[k];
      delete old[k];
      var signature = JSON.stringify(row);
      if (!el) {
        el = make(row);
        el.setAttribute("data-key", k);
      }
      if (el.__signature !== signature) {
        update(el, row);
        el.__signature = signature;
      }
      if (container.children[i] !== el) {
        container.insertBefore(el, container.children[i] || null);
      }
      return el;
    });
    Object.keys(old).forEach(function (k) {
      container.removeChild(old[k]);
    });
    return els;
  }
  CH.wallDom = { node: node, setText: setText, keyedList: keyedList };

  /* ---- overdue warnings ---- */

  function makeRow() {
    var li = node("li", "wall-warn");
    li.appendChild(node("span", "wall-warn-badge"));
    var main = li.appendChild(node("div", "wall-warn-main"));
    var what = main.appendChild(node("div", "wall-warn-what"));
    what.appendChild(node("span", "wall-warn-name"));
    what.appendChild(node("span", "wall-warn-tag"));
    main.appendChild(node("div", "wall-warn-where"));
    var clock = li.appendChild(node("div", "wall-warn-clock"));
    clock.appendChild(node("span", "wall-warn-clock-label"));
    clock.appendChild(node("b", "wall-warn-clock-time"));
    return li;
  }

  function badge(row, strings) {
    if (row.kind === "whistle") {
      return strings["wall.warn.report"] || "报到";
    }
    return strings["wall.warnings." + row.level] || row.level;
  }

  function updateRow(li, row, strings) {
    var category = CH.wallFmt.categoryName(row.category, row, strings);
    li.className = "wall-warn is-" + row.level + " is-" + row.kind + (row.fresh ? " is-new" : "");
    li.setAttribute("data-case-id", String(row.id));
    li.setAttribute("data-deadline", isNaN(row.deadline) ? "" : String(row.deadline));
    setText(li.querySelector(".wall-warn-badge"), badge(row, strings));
    var name = li.querySelector(".wall-warn-name");
    var tag = li.querySelector(".wall-warn-tag");
    if (row.kind === "whistle") {
      setText(name, strings["dept." + row.department] || row.department);
      setText(tag, strings["wall.warn." + row.role] || row.role);
      setText(li.querySelector(".wall-warn-where"), [row.township, category].join(" · "));
    } else {
      setText(name, category);
      setText(tag, strings["state." + row.state] || row.state);
      setText(li.querySelector(".wall-warn-where"), [row.township, row.ticket].join(" · "));
    }
  }

  /** The overrun of a late row, or what is left of a waiting one, at `now`. */
  function clockOf(row, now, strings) {
    var deadline = row.deadline;
    if (isNaN(deadline)) {
      return { label: "", time: "" };
    }
    var fmt = CH.wallFmt;
    if (now >= deadline) {
      var over = fmt.duration(now - deadline, strings);
      return { label: strings["wall.warn.over"] || "", time: over };
    }
    if (row.level === "red") {
      // Red before the browser's clock says so (its clock lags the server's): no countdown.
      return { label: "", time: strings["wall.warn.overdue"] || "" };
    }
    return { label: strings["wall.warn.left"] || "", time: fmt.duration(deadline - now, strings) };
  }

  var warnings = {
    rows: [], // what the panel shows now
    els: [],

    /** Show `result` ({rows, counts}) from wall_stats.warnings. */
    update: function (result, ctx, strings) {
      var list = byId("wall-warnings");
      if (!list) {
        return;
      }
      var now = ctx.now;
      var rows = result.rows.map(function (r) {
        var fresh =
          r.level === "red" &&
          (r.kind === "case" ? CH.wallCases.pulsing(r.id) : now - r.deadline < NEW_RED_MS);
        return Object.assign({ fresh: fresh }, r);
      });
      this.els = keyedList(
        list,
        rows,
        function (r) {
          return r.key;
        },
        makeRow,
        function (li, r) {
          updateRow(li, r, strings);
        }
      );
      this.rows = rows;
      byId("wall-warnings-empty").hidden = rows.length > 0;
      var counts = result.counts;
      setText(byId("wall-warn-count-red"), String(counts.red));
      setText(byId("wall-warn-count-yellow"), String(counts.yellow));
      setText(byId("wall-warn-count-whistle"), String(counts.whistle + counts.late));
      this.tick(now, strings);
    },

    /** Every second: the overruns and countdowns. */
    tick: function (now, strings) {
      var els = this.els;
      this.rows.forEach(function (row, i) {
        var el = els[i];
        if (!el) {
          return;
        }
        var c = clockOf(row, now, strings);
        setText(el.querySelector(".wall-warn-clock-label"), c.label);
        setText(el.querySelector(".wall-warn-clock-time"), c.time);
      });
    },
  };
  CH.wallWarnings = warnings;

  /* ---- the incoming-call banner (the calls issue fills state.calls, or calls show) ---- */

  CH.wallBanner = {
    shown: null,
    fromCalls: false, // whether what is shown came from state.calls (which may take it away)

    /** Show a call {caller, township, text}; null hides the banner. */
    show: function (call) {
      var banner = byId("wall-call-banner");
      this.shown = call || null;
      this.fromCalls = false;
      if (!banner) {
        return;
      }
      banner.hidden = !call;
      if (call) {
        var text = call.text || [call.caller, call.township].filter(Boolean).join(" · ");
        setText(byId("wall-call-text"), text);
      }
    },

    hide: function () {
      this.show(null);
    },

    /** The newest ringing call of the state, if any. */
    fromState: function (state) {
      var ringing = null;
      Object.keys(state.calls || {}).forEach(function (id) {
        var call = state.calls[id];
        var newer = !ringing || String(call.started_at) > String(ringing.started_at);
        if (call.status === "ringing" && newer) {
          ringing = call;
        }
      });
      if (ringing) {
        this.show(ringing);
        this.fromCalls = true;
      } else if (this.fromCalls) {
        this.hide();
      }
    },
  };

  /* ---- the notice when the server refuses this screen ---- */

  CH.wallAlert = {
    /** Show why the server refuses this screen (the bridge's `refusal`); null hides it. */
    show: function (refusal, strings) {
      var alert = byId("wall-alert");
      if (!alert) {
        return;
      }
      if (!refusal) {
        if (!alert.hidden) {
          alert.hidden = true;
        }
        return;
      }
      var reason = strings["wall.auth." + refusal.reason] || strings["wall.auth.unknown"] || "";
      setText(byId("wall-alert-message"), reason);
      setText(byId("wall-alert-detail"), refusal.message || "");
      alert.hidden = false;
    },
  };
})();
