/*
 * The wall's four charts, drawn once and changed in place (no chart library, no Dash):
 * the thirty-day trend (an SVG area and line), intake by channel (an SVG donut), on-time
 * closing by township and cases by category (bars of HTML). Numbers: wall_stats.js. Every
 * size follows the root font size, which follows the screen (assets/commandhall.css), so
 * the charts are as crisp at 4K as at 1080 lines.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var SVG = "http://www.w3.org/2000/svg";
  var CATEGORY_ROWS = 8;
  var CHANNEL_COLOURS = {
    citizen: "#49d3ff",
    hotline: "#ffc53d",
    grid: "#34e3c6",
    camera: "#b48cff",
    app: "#ff7eb6",
  };

  function svg(tag, attrs, parent) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      el.setAttribute(k, attrs[k]);
    });
    if (parent) {
      parent.appendChild(el);
    }
    return el;
  }

  function attr(el, name, value) {
    value = String(value);
    if (el.getAttribute(name) !== value) {
      el.setAttribute(name, value);
    }
  }

  function rem() {
    return parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;
  }

  function pct(part, whole) {
    return whole > 0 ? (100 * part) / whole : 0;
  }

  function pctText(rate) {
    if (rate === null || rate === undefined) {
      return "–";
    }
    var p = rate * 100;
    return (p >= 99.95 ? "100" : p.toFixed(1)) + "%";
  }

  function dom() {
    return CH.wallDom;
  }

  /* ---- the thirty-day trend ---- */

  var trend = {
    root: null,
    parts: null,
    data: null,
    size: "",
    observer: null,

    build: function (root, strings) {
      var D = dom();
      root.textContent = "";
      var legend = root.appendChild(D.node("div", "wall-trend-legend"));
      var parts = { legend: {} };
      ["reported", "closed"].forEach(function (k) {
        var item = legend.appendChild(D.node("span", "wall-trend-key is-" + k));
        item.appendChild(D.node("i"));
        item.appendChild(D.node("span", "", strings["wall.chart." + k] || k));
        item.appendChild(D.node("small", "", strings["wall.chart.today"] || ""));
        parts.legend[k] = item.appendChild(D.node("b"));
      });
      var box = root.appendChild(D.node("div", "wall-trend-plot"));
      var plot = svg("svg", { class: "wall-trend-svg" }, box);
      var defs = svg("defs", {}, plot);
      var grad = svg("linearGradient", { id: "wall-trend-fill", x1: 0, y1: 0, x2: 0, y2: 1 }, defs);
      svg("stop", { offset: "0%", "stop-color": "#49d3ff", "stop-opacity": 0.45 }, grad);
      svg("stop", { offset: "100%", "stop-color": "#49d3ff", "stop-opacity": 0.02 }, grad);
      parts.grid = svg("g", { class: "wall-trend-grid" }, plot);
      parts.area = svg("path", { class: "wall-trend-area", fill: "url(#wall-trend-fill)" }, plot);
      parts.reported = svg("path", { class: "wall-trend-line is-reported" }, plot);
      parts.closed = svg("path", { class: "wall-trend-line is-closed" }, plot);
      parts.dots = svg("g", { class: "wall-trend-dots" }, plot);
      parts.xlabels = svg("g", { class: "wall-trend-x" }, plot);
      parts.box = box;
      parts.svg = plot;
      this.root = root;
      this.parts = parts;
      this.size = "";
      var self = this;
      if (this.observer) {
        this.observer.disconnect(); // the page was opened again: the old plot is gone
      }
      this.box = null; // the plot's size, as the observer last measured it
      if (window.ResizeObserver) {
        this.observer = new window.ResizeObserver(function (entries) {
          var rect = entries[entries.length - 1].contentRect;
          self.box = { w: Math.round(rect.width), h: Math.round(rect.height) };
          self.draw(true);
        });
        this.observer.observe(box);
      }
    },

    update: function (state, strings) {
      var root = document.getElementById("wall-chart-trend");
      if (!root) {
        return;
      }
      if (this.root !== root) {
        this.build(root, strings);
      }
      this.data = CH.wallStats.trend(state);
      this.strings = strings;
      var last = this.data.reported.length - 1;
      dom().setText(this.parts.legend.reported, String(this.data.reported[last] || 0));
      dom().setText(this.parts.legend.closed, String(this.data.closed[last] || 0));
      this.draw(false);
    },

    /** Lay the data out in the plot's own pixels (text stays crisp and unstretched). */
    draw: function (resized) {
      var p = this.parts;
      var data = this.data;
      if (!p || !data) {
        return;
      }
      // The size the observer measured after a layout: reading clientWidth here would lay
      // out the whole wall in the middle of a push (100 ms and more on its first one). Before
      // the observer has spoken, nothing is drawn; it draws when it does.
      var size = this.observer ? this.box : { w: p.box.clientWidth, h: p.box.clientHeight };
      var w = size ? size.w : 0;
      var h = size ? size.h : 0;
      if (!w || !h) {
        return;
      }
      var signature = w + "x" + h + JSON.stringify(data);
      if (signature === this.size && !resized) {
        return;
      }
      this.size = signature;
      var r = rem();
      attr(p.svg, "viewBox", "0 0 " + w + " " + h);
      attr(p.svg, "width", w);
      attr(p.svg, "height", h);
      var left = 2.4 * r;
      var right = 0.8 * r;
      var top = 0.6 * r;
      var bottom = 1.6 * r;
      var n = data.days.length;
      var most = Math.max.apply(null, data.reported.concat(data.closed, [4]));
      var step = niceStep(most / 4);
      var ceiling = Math.ceil(most / step) * step;
      function x(i) {
        return left + (n > 1 ? (i * (w - left - right)) / (n - 1) : 0);
      }
      function y(v) {
        return top + (h - top - bottom) * (1 - v / ceiling);
      }
      function line(values) {
        return values
          .map(function (v, i) {
            return (i ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1);
          })
          .join("");
      }
      p.grid.textContent = "";
      for (var v = 0; v <= ceiling; v += step) {
        svg("line", { x1: left, x2: w - right, y1: y(v), y2: y(v) }, p.grid);
        var label = svg("text", { x: left - 0.45 * r, y: y(v) + 0.35 * r }, p.grid);
        label.setAttribute("text-anchor", "end");
        label.textContent = String(v);
      }
      attr(p.reported, "d", line(data.reported));
      attr(p.closed, "d", line(data.closed));
      var floor = "L" + x(n - 1) + "," + y(0) + "L" + x(0) + "," + y(0) + "Z";
      attr(p.area, "d", line(data.reported) + floor);
      p.dots.textContent = "";
      [["reported", data.reported], ["closed", data.closed]].forEach(function (s) {
        var dot = { class: "is-" + s[0], cx: x(n - 1), cy: y(s[1][n - 1]), r: 0.32 * r };
        svg("circle", dot, p.dots);
      });
      p.xlabels.textContent = "";
      var strings = this.strings || {};
      data.days.forEach(function (day, i) {
        var isLast = i === n - 1;
        if ((n - 1 - i) % 7 && !isLast) {
          return;
        }
        var text = svg("text", { x: x(i), y: h - 0.35 * r }, p.xlabels);
        text.setAttribute("text-anchor", isLast ? "end" : "middle");
        text.textContent = isLast ? strings["wall.chart.today"] || day.slice(5) : day.slice(5);
      });
    },
  };

  function niceStep(raw) {
    var pow = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    var f = raw / pow;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
  }

  /* ---- intake by channel: a donut and its legend ---- */

  var channels = {
    root: null,

    build: function (root, strings) {
      var D = dom();
      root.textContent = "";
      var ring = root.appendChild(D.node("div", "wall-donut"));
      var plot = svg("svg", { viewBox: "0 0 100 100", class: "wall-donut-svg" }, ring);
      svg("circle", { cx: 50, cy: 50, r: 38, class: "wall-donut-track" }, plot);
      this.arcs = {};
      var self = this;
      CH.wallStats.CHANNELS.forEach(function (ch) {
        var arc = { cx: 50, cy: 50, r: 38, class: "wall-donut-arc", pathLength: 100 };
        arc.stroke = CHANNEL_COLOURS[ch];
        arc.transform = "rotate(-90 50 50)";
        arc["stroke-dasharray"] = "0 100";
        self.arcs[ch] = svg("circle", arc, plot);
      });
      var centre = ring.appendChild(D.node("div", "wall-donut-centre"));
      this.total = centre.appendChild(D.node("b"));
      centre.appendChild(D.node("span", "", strings["wall.chart.total"] || ""));
      this.list = root.appendChild(D.node("ul", "wall-channel-list"));
      this.root = root;
    },

    update: function (state, strings) {
      var root = document.getElementById("wall-chart-channels");
      if (!root) {
        return;
      }
      if (this.root !== root) {
        this.build(root, strings);
      }
      var rows = CH.wallStats.channels(state);
      var total = rows.reduce(function (s, r) {
        return s + r.n;
      }, 0);
      var offset = 0;
      var arcs = this.arcs;
      rows.forEach(function (r) {
        var arc = arcs[r.channel];
        if (!arc) {
          return;
        }
        var share = pct(r.n, total);
        var gap = share > 1.5 ? 0.8 : 0; // a hairline between neighbours
        var dash = Math.max(0, share - gap).toFixed(2) + " " + (100 - share + gap).toFixed(2);
        attr(arc, "stroke-dasharray", dash);
        attr(arc, "stroke-dashoffset", (-offset).toFixed(2));
        offset += share;
      });
      dom().setText(this.total, String(total));
      var D = dom();
      D.keyedList(
        this.list,
        rows.filter(function (r) {
          return CHANNEL_COLOURS[r.channel];
        }),
        function (r) {
          return r.channel;
        },
        function () {
          var li = D.node("li", "wall-channel");
          li.appendChild(D.node("i"));
          li.appendChild(D.node("span", "wall-channel-name"));
          li.appendChild(D.node("b", "wall-channel-share"));
          li.appendChild(D.node("small", "wall-channel-today"));
          return li;
        },
        function (li, r) {
          li.querySelector("i").style.background = CHANNEL_COLOURS[r.channel];
          var name = strings["wall.channel." + r.channel] || r.channel;
          var share = total ? pct(r.n, total).toFixed(0) + "%" : "–";
          D.setText(li.querySelector(".wall-channel-name"), name);
          D.setText(li.querySelector(".wall-channel-share"), share);
          var today = (strings["wall.chart.today"] || "") + " " + r.today;
          D.setText(li.querySelector(".wall-channel-today"), today);
        }
      );
    },
  };

  /* ---- bars: on time by township, cases by category ---- */

  function barList(root, rows, key, fill) {
    var D = dom();
    var list = root.firstElementChild;
    if (!list || list.tagName !== "OL") {
      root.textContent = "";
      list = root.appendChild(D.node("ol", "wall-bars"));
    }
    D.keyedList(
      list,
      rows,
      key,
      function () {
        var li = D.node("li", "wall-bar");
        li.appendChild(D.node("span", "wall-bar-rank"));
        li.appendChild(D.node("span", "wall-bar-name"));
        var track = li.appendChild(D.node("span", "wall-bar-track"));
        track.appendChild(D.node("i", "wall-bar-fill"));
        li.appendChild(D.node("b", "wall-bar-value"));
        li.appendChild(D.node("small", "wall-bar-note"));
        return li;
      },
      fill
    );
    Array.prototype.forEach.call(list.children, function (li, i) {
      D.setText(li.querySelector(".wall-bar-rank"), String(i + 1));
    });
  }

  function rateClass(rate) {
    if (rate === null) {
      return "is-none";
    }
    return rate >= 0.95 ? "is-good" : rate >= 0.85 ? "is-fair" : "is-poor";
  }

  function townships(state, strings) {
    var root = document.getElementById("wall-chart-townships");
    if (!root) {
      return;
    }
    var D = dom();
    barList(
      root,
      CH.wallStats.townships(state),
      function (r) {
        return r.id;
      },
      function (li, r) {
        li.className = "wall-bar " + rateClass(r.rate);
        D.setText(li.querySelector(".wall-bar-name"), r.name);
        li.querySelector(".wall-bar-fill").style.width = (r.rate === null ? 0 : r.rate * 100) + "%";
        D.setText(li.querySelector(".wall-bar-value"), pctText(r.rate));
        D.setText(li.querySelector(".wall-bar-note"), r.onTime + "/" + r.closed);
      }
    );
  }

  function categories(state, strings) {
    var root = document.getElementById("wall-chart-categories");
    if (!root) {
      return;
    }
    var D = dom();
    var all = CH.wallStats.categories(state);
    var total = all.reduce(function (s, r) {
      return s + r.n;
    }, 0);
    var most = all.length ? all[0].n : 1;
    barList(
      root,
      all.slice(0, CATEGORY_ROWS),
      function (r) {
        return r.code;
      },
      function (li, r) {
        li.className = "wall-bar is-category";
        var name = CH.wallFmt.categoryName(r.code, null, strings);
        D.setText(li.querySelector(".wall-bar-name"), name);
        li.querySelector(".wall-bar-fill").style.width = pct(r.n, most) + "%";
        D.setText(li.querySelector(".wall-bar-value"), String(r.n));
        D.setText(li.querySelector(".wall-bar-note"), pct(r.n, total).toFixed(1) + "%");
      }
    );
  }

  CH.wallCharts = {
    trend: trend,
    channels: channels,

    /** Bring every chart to `state`; each only writes what changed. */
    update: function (state, strings) {
      trend.update(state, strings);
      channels.update(state, strings);
      townships(state, strings);
      categories(state, strings);
    },
  };
})();
