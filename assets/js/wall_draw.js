/*
 * Boards: canvases of many small marks (the wall's 10,000 cases and 2,500 grid workers), each
 * mark a sprite stamped at a pixel, drawn off the page's main thread where the browser can.
 *
 * This file is loaded twice. In the page (a Dash asset) it defines CommandHall.wallDraw and
 * its Board; CommandHall.wallDraw.board(canvas) hands the canvas to a Web Worker
 * (canvas.transferControlToOffscreen) that loads this same file and serves every board from
 * there, so clearing, stamping and handing the picture to the compositor cost the main thread
 * nothing (docs/performance.md, the wall). A browser without OffscreenCanvas or workers draws
 * on the main thread with the same Board. Nothing here touches the DOM when it loads.
 *
 * A board is told, in messages it applies in order:
 *   {size: [cssWidth, cssHeight, pixelRatio]}   the canvas's size (the map's, in CSS px)
 *   {styles: {key: spec}, keys: [key, ...]}     sprites by key (see sprite()), and the keys
 *                                               by number, as `set` names them
 *   {set: Int32Array [id, x, y, key, z, ...]}   marks placed or moved (x, y in CSS px; key
 *                                               the number of the key); sent transferred
 *   {drop: [id, ...]}, {clear: true}            marks removed
 * and redraws once after each message. Marks are drawn by z, lowest first (cases: closed, then
 * green, yellow, red; workers: offline behind online), in the order they were first set.
 */
(function (root) {
  "use strict";

  var CH = (root.CommandHall = root.CommandHall || {});
  var Z_LEVELS = 8;

  function newCanvas(w, h) {
    if (typeof OffscreenCanvas !== "undefined") {
      return new OffscreenCanvas(w, h);
    }
    var c = root.document.createElement("canvas");
    c.width = w;
    c.height = h;
    return c;
  }

  /** The glyph of a grid worker as SVG path data around (0, 0): a ring, and a head and
   *  shoulders inside it, filled even-odd (the ring's inner circle cuts the disc open). */
  function personPath(r) {
    function n(v) {
      return (Math.round(v * 10) / 10).toFixed(1);
    }
    function circle(cx, cy, cr) {
      return "M" + n(cx - cr) + "," + n(cy) + "a" + n(cr) + "," + n(cr) + " 0 1,0 " +
        n(2 * cr) + ",0a" + n(cr) + "," + n(cr) + " 0 1,0 " + n(-2 * cr) + ",0z";
    }
    return circle(0, 0, r) + circle(0, 0, r * 0.74) + circle(0, -r * 0.26, r * 0.2) +
      "M" + n(-0.4 * r) + "," + n(0.5 * r) +
      "C" + n(-0.4 * r) + "," + n(0.14 * r) + " " + n(-0.22 * r) + "," + n(0.02 * r) + " 0," +
      n(0.02 * r) + "S" + n(0.4 * r) + "," + n(0.14 * r) + " " + n(0.4 * r) + "," + n(0.5 * r) +
      "z";
  }

  /**
   * A sprite drawn once at the screen's pixel ratio: spec {shape: "dot" | "person", radius,
   * fill, fillOpacity, stroke, strokeOpacity, weight} (px at ratio 1).
   */
  function sprite(spec, ratio) {
    var r = spec.radius;
    var half = Math.ceil(r + (spec.weight || 0) / 2 + 1);
    var canvas = newCanvas(Math.ceil(2 * half * ratio), Math.ceil(2 * half * ratio));
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.translate(half, half);
    var path;
    if (spec.shape === "person") {
      path = new Path2D(personPath(r));
    } else {
      path = new Path2D();
      path.arc(0, 0, r, 0, 2 * Math.PI);
    }
    ctx.lineJoin = "round";
    var strokeFirst = spec.shape === "person"; // the dark edge under the glyph's fill
    function stroke() {
      if (spec.weight && spec.stroke) {
        ctx.lineWidth = spec.weight;
        ctx.strokeStyle = spec.stroke;
        ctx.globalAlpha = spec.strokeOpacity === undefined ? 1 : spec.strokeOpacity;
        ctx.stroke(path);
      }
    }
    if (strokeFirst) {
      stroke();
    }
    ctx.fillStyle = spec.fill;
    ctx.globalAlpha = spec.fillOpacity === undefined ? 1 : spec.fillOpacity;
    ctx.fill(path, "evenodd");
    if (!strokeFirst) {
      stroke();
    }
    // Stamped as an ImageBitmap where it can be: drawing an OffscreenCanvas onto another
    // takes a snapshot of it each time (10,000 cases took seconds instead of milliseconds).
    var image = canvas.transferToImageBitmap ? canvas.transferToImageBitmap() : canvas;
    return { canvas: image, half: half };
  }

  /** Fill, then stroke, a path of dots as a dot sprite would be drawn. */
  function paint(ctx, path, spec) {
    ctx.fillStyle = spec.fill;
    ctx.globalAlpha = spec.fillOpacity === undefined ? 1 : spec.fillOpacity;
    ctx.fill(path);
    if (spec.weight && spec.stroke) {
      ctx.lineWidth = spec.weight;
      ctx.strokeStyle = spec.stroke;
      ctx.globalAlpha = spec.strokeOpacity === undefined ? 1 : spec.strokeOpacity;
      ctx.stroke(path);
    }
    ctx.globalAlpha = 1;
  }

  /** What one canvas shows: marks by id, drawn by z. */
  function Board(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.size = [canvas.width, canvas.height, 1];
    this.styles = {}; // key → spec
    this.keys = []; // key number → key
    this.sprites = {}; // key → {canvas, half}
    this.marks = new Map(); // id → [x, y, key, z]
    this.layers = []; // z → Map(id → mark), so the draw is in z order without a sort
    for (var z = 0; z < Z_LEVELS; z++) {
      this.layers.push(new Map());
    }
    this.draws = 0;
    this.lastMs = 0;
  }

  Board.prototype.apply = function (msg) {
    var self = this;
    if (msg.size) {
      this.size = msg.size;
      this.canvas.width = Math.round(msg.size[0] * msg.size[2]);
      this.canvas.height = Math.round(msg.size[1] * msg.size[2]);
      this.sprites = {}; // the pixel ratio may have changed
    }
    if (msg.styles) {
      Object.keys(msg.styles).forEach(function (key) {
        self.styles[key] = msg.styles[key];
        delete self.sprites[key];
      });
    }
    if (msg.keys) {
      this.keys = msg.keys;
    }
    if (msg.clear) {
      this.marks.clear();
      this.layers.forEach(function (layer) {
        layer.clear();
      });
    }
    (msg.drop || []).forEach(function (id) {
      var mark = self.marks.get(id);
      if (mark) {
        self.layers[mark[3]].delete(id);
        self.marks.delete(id);
      }
    });
    var set = msg.set || [];
    for (var i = 0; i + 4 < set.length; i += 5) {
      this.put(set[i], set[i + 1], set[i + 2], this.keys[set[i + 3]], set[i + 4]);
    }
    this.draw();
  };

  Board.prototype.put = function (id, x, y, key, level) {
    var z = Math.max(0, Math.min(Z_LEVELS - 1, level | 0));
    var mark = this.marks.get(id);
    if (mark && mark[3] !== z) {
      this.layers[mark[3]].delete(id);
      mark = null;
    }
    if (!mark) {
      mark = [x, y, key, z];
      this.marks.set(id, mark);
      this.layers[z].set(id, mark);
    } else {
      mark[0] = x;
      mark[1] = y;
      mark[2] = key;
    }
  };

  Board.prototype.spriteOf = function (key) {
    var s = this.sprites[key];
    if (!s && this.styles[key]) {
      s = this.sprites[key] = sprite(this.styles[key], this.size[2]);
    }
    return s;
  };

  Board.prototype.draw = function () {
    var started = Date.now();
    var ctx = this.ctx;
    var ratio = this.size[2];
    var self = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.layers.forEach(function (layer) {
      var dots = {}; // key → Path2D of the layer's dots of that look
      layer.forEach(function (mark) {
        var style = self.styles[mark[2]];
        if (style && style.shape === "dot") {
          // Dots are traced into one path per look and filled once: 10,000 stamps took the
          // drawing worker a hundred milliseconds or more, the paths a few.
          var path = dots[mark[2]] || (dots[mark[2]] = new Path2D());
          path.moveTo(mark[0] + style.radius, mark[1]);
          path.arc(mark[0], mark[1], style.radius, 0, 2 * Math.PI);
          return;
        }
        var s = self.spriteOf(mark[2]);
        if (s) {
          var d = 2 * s.half;
          ctx.drawImage(s.canvas, mark[0] - s.half, mark[1] - s.half, d, d);
        }
      });
      Object.keys(dots).forEach(function (key) {
        paint(ctx, dots[key], self.styles[key]);
      });
    });
    this.draws += 1;
    this.lastMs = Date.now() - started;
  };

  /** What a board has drawn, as the page hears it: {marks, draws, ms}. */
  function drawnOf(board) {
    return { marks: board.marks.size, draws: board.draws, ms: board.lastMs };
  }

  /** In the worker: every board the page hands over, by its id; after each drawing it says
   *  what it drew, so the page knows when its picture is complete. */
  function serve(scope) {
    var boards = {};
    scope.onmessage = function (event) {
      var msg = event.data;
      if (msg.canvas) {
        boards[msg.board] = new Board(msg.canvas);
      }
      var board = boards[msg.board];
      if (board) {
        board.apply(msg);
        scope.postMessage({ board: msg.board, drawn: drawnOf(board) });
      }
    };
  }

  /* ---- the page side ---- */

  var worker = null; // the one drawing worker of the page, once made
  var boardsMade = 0;
  var handles = {}; // board id → the page's handle of it

  /** The script's own address, for the worker to load it again. */
  function ownUrl() {
    var scripts = root.document.getElementsByTagName("script");
    for (var i = 0; i < scripts.length; i++) {
      if (/\/wall_draw\.js(\?|$)/.test(scripts[i].src)) {
        return scripts[i].src;
      }
    }
    return null;
  }

  function drawingWorker() {
    if (worker === null) {
      worker = false;
      var url = ownUrl();
      if (url && typeof root.Worker === "function") {
        try {
          var boot = "importScripts(" + JSON.stringify(url) + ");" +
            "self.CommandHall.wallDraw.serve(self);";
          var blob = new root.Blob([boot], { type: "text/javascript" });
          worker = new root.Worker(root.URL.createObjectURL(blob));
          worker.onmessage = function (event) {
            var handle = handles[event.data.board];
            if (handle && event.data.drawn) {
              handle.drawn = event.data.drawn;
            }
          };
          // A worker that dies takes its canvases with it: their layers make new ones (and
          // a new worker) on their next change (wall_marks.js), a wall nobody touches heals.
          worker.onerror = function (event) {
            if (root.console) {
              root.console.error("CommandHall: the drawing worker failed", event.message);
            }
            Object.keys(handles).forEach(function (id) {
              if (handles[id].offscreen) {
                handles[id].lost = true;
                delete handles[id];
              }
            });
            worker = null;
          };
        } catch (e) {
          worker = false;
        }
      }
    }
    return worker;
  }

  /**
   * A board for `canvas` (an element in the page): {post(msg), offscreen, drawn}. Drawn by
   * the worker when the canvas can be handed over, else here, on the main thread. `drawn`
   * ({marks, draws, ms}) is what the board last said it drew.
   */
  function board(canvas) {
    var id = ++boardsMade;
    var handle = (handles[id] = {
      offscreen: false,
      lost: false, // its worker died: make a new canvas and board
      drawn: { marks: 0, draws: 0, ms: 0 },
    });
    var w = canvas.transferControlToOffscreen ? drawingWorker() : false;
    if (w) {
      try {
        var offscreen = canvas.transferControlToOffscreen();
        w.postMessage({ board: id, canvas: offscreen }, [offscreen]);
        handle.offscreen = true;
        handle.post = function (msg) {
          msg.board = id;
          w.postMessage(msg, msg.set ? [msg.set.buffer] : []);
        };
        return handle;
      } catch (e) {
        // fall through: draw here
      }
    }
    var here = new Board(canvas);
    handle.post = function (msg) {
      here.apply(msg);
      handle.drawn = drawnOf(here);
    };
    return handle;
  }

  CH.wallDraw = {
    Board: Board,
    serve: serve,
    board: board,
    personPath: personPath,
    /** The drawing worker, if the page has one (for tests). */
    worker: function () {
      return worker || null;
    },
  };
})(typeof self !== "undefined" ? self : this);
