/*
 * The phone's outbox: every submission is stored first and sent after, so nothing typed or
 * photographed on a bad network is lost.
 *
 * - An item is persisted (IndexedDB in the browser, photos as Blobs) with its own
 *   Idempotency-Key before the first attempt; every retry sends the same key, so a request
 *   whose answer was lost can be sent again without doing the work twice (the server answers
 *   the repeat with `replayed: true`).
 * - Network errors, timeouts, 408, 429 and 5xx keep the item and retry it after 1, 2, 5, 10,
 *   then every 30 s (Retry-After is honoured); `kick()` (the browser went online) retries
 *   everything now.
 * - Any other 4xx will never succeed: the item is dropped and `onFailed` tells the page why.
 *   A refused token (401, or 403 on the token) is not the item's fault: the outbox keeps
 *   everything and pauses until `resume()` (signed in again).
 * - Items of one group (one case) go one at a time, in the order they were added; different
 *   groups do not wait for each other. At most two requests are in flight.
 *
 * The clock, fetch, storage and randomness are injected, so tests drive it under Node with
 * a fake clock and a fake fetch (tests/unit/test_outbox.py). Loads as a browser global
 * (window.CommandHallOutbox) and as a Node module.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.CommandHallOutbox = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];
  var MAX_RETRY_AFTER_MS = 5 * 60 * 1000;
  var MAX_IN_FLIGHT = 2;
  // A request may take 20 s plus the time to upload its body at 20 kB/s (slow 2G), so a
  // photo on a poor link is not cut off while it is still moving.
  var BASE_TIMEOUT_MS = 20000;
  var SLOW_LINK_BYTES_PER_MS = 20;
  var POSITIONS_CAP = 500; // fixes kept while offline (the server takes up to 500 a batch)

  /** The wait before retry number `attempts` (1 = after the first failure), ±20 % jitter
   *  so a thousand phones back from a dead cell do not knock all at once. */
  function backoffDelay(attempts, random) {
    var base = BACKOFF_MS[Math.min(Math.max(attempts, 1), BACKOFF_MS.length) - 1];
    var r = typeof random === "function" ? random() : 0.5;
    return Math.round(base * (0.8 + 0.4 * r));
  }

  /** What an HTTP answer means for the item: done, retry, auth (pause) or fail (drop). */
  function classify(status, error) {
    if (status >= 200 && status < 300) {
      return "done";
    }
    if (status === 408 || status === 429 || status >= 500) {
      return "retry";
    }
    if (status === 401) {
      return "auth";
    }
    if (status === 403 && error && (error.field === "token" || error.field === "authorization")) {
      return "auth";
    }
    return "fail";
  }

  /** A random UUID v4; crypto.randomUUID exists only on HTTPS pages, getRandomValues always. */
  function uuid(cryptoObj) {
    var c = cryptoObj || (typeof crypto !== "undefined" ? crypto : null);
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* not a secure context: fall through */
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    var parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20)];
    return parts.concat(hex.slice(20)).join("-");
  }

  function retryAfterMs(value, now) {
    if (!value) {
      return null;
    }
    var seconds = Number(value);
    var ms = isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
    return isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : null;
  }

  function bodySize(item) {
    if (item.json !== undefined) {
      return JSON.stringify(item.json).length;
    }
    return (item.form && item.form.files ? item.form.files : []).reduce(function (n, f) {
      return n + (f.blob && f.blob.size ? f.blob.size : 0);
    }, 0);
  }

  /** Storage that forgets on reload (tests, and browsers without IndexedDB). */
  function memoryStore() {
    var rows = {};
    return {
      persistent: false,
      load: function () {
        return Promise.resolve(
          Object.keys(rows).map(function (k) {
            return rows[k];
          })
        );
      },
      put: function (item) {
        rows[item.id] = item;
        return Promise.resolve();
      },
      remove: function (id) {
        delete rows[id];
        return Promise.resolve();
      },
    };
  }

  /** IndexedDB storage: one object store, items keyed by id, Blobs stored as they are. */
  function indexedDbStore(name, idb) {
    var factory = idb || (typeof indexedDB !== "undefined" ? indexedDB : null);
    if (!factory) {
      return memoryStore();
    }
    var opened = null;
    function db() {
      opened =
        opened ||
        new Promise(function (resolve, reject) {
          var req = factory.open(name, 1);
          req.onupgradeneeded = function () {
            req.result.createObjectStore("outbox", { keyPath: "id" });
          };
          req.onsuccess = function () {
            resolve(req.result);
          };
          req.onerror = function () {
            opened = null;
            reject(req.error);
          };
        });
      return opened;
    }
    function run(mode, fn) {
      return db().then(function (d) {
        return new Promise(function (resolve, reject) {
          var tx = d.transaction("outbox", mode);
          var result = fn(tx.objectStore("outbox"));
          tx.oncomplete = function () {
            resolve(result && "result" in result ? result.result : undefined);
          };
          tx.onerror = tx.onabort = function () {
            reject(tx.error);
          };
        });
      });
    }
    return {
      persistent: true,
      load: function () {
        return run("readonly", function (s) {
          return s.getAll();
        });
      },
      put: function (item) {
        return run("readwrite", function (s) {
          s.put(item);
        });
      },
      remove: function (id) {
        return run("readwrite", function (s) {
          s["delete"](id);
        });
      },
    };
  }

  /** What the page is told about an item (no Blobs, nothing it could mutate). */
  function view(item, sending) {
    return {
      id: item.id,
      key: item.key,
      kind: item.kind,
      group: item.group,
      label: item.label,
      meta: item.meta || {},
      createdAt: item.createdAt,
      attempts: item.attempts,
      nextAt: item.nextAt,
      lastError: item.lastError,
      sending: !!sending,
    };
  }

  /**
   * opts: {store, fetch, token(): string|null, now(), setTimeout, clearTimeout, random(),
   *        uuid(), baseUrl, onChange(views), onSent(view, body), onFailed(view, error),
   *        onAuth(error)}
   */
  function create(opts) {
    var store = opts.store || memoryStore();
    var fetchImpl = opts.fetch;
    var now = opts.now || Date.now;
    var setT = opts.setTimeout || setTimeout;
    var clearT = opts.clearTimeout || clearTimeout;
    var makeKey = opts.uuid || uuid;
    var baseUrl = opts.baseUrl || "";
    var noop = function () {};
    var onChange = opts.onChange || noop;
    var onSent = opts.onSent || noop;
    var onFailed = opts.onFailed || noop;
    var onAuth = opts.onAuth || noop;

    var items = []; // in the order they were added (ids increase)
    var inFlight = {}; // id → true
    var lastId = 0;
    var timer = null;
    var paused = false;
    var loaded = null;

    function changed() {
      onChange(
        items.map(function (it) {
          return view(it, inFlight[it.id]);
        })
      );
    }

    function start() {
      loaded =
        loaded ||
        store
          .load()
          .catch(function () {
            return [];
          })
          .then(function (rows) {
            rows.sort(function (a, b) {
              return a.id - b.id;
            });
            rows.forEach(function (row) {
              // Attempts made before a reload do not count: send again now.
              row.attempts = 0;
              row.nextAt = 0;
              items.push(row);
              lastId = Math.max(lastId, row.id);
            });
            changed();
            pump();
          });
      return loaded;
    }

    /**
     * Queue a request: {kind, group, url, method?, json? | form?: {fields, files: [{field,
     * blob, name}]}, label?, meta?}. Resolves with its view once it is stored.
     */
    function add(spec) {
      return start().then(function () {
        var item = {
          id: Math.max(lastId + 1, now()),
          key: makeKey(),
          kind: spec.kind || "request",
          group: spec.group || "default",
          method: spec.method || "POST",
          url: spec.url,
          json: spec.json,
          form: spec.form,
          label: spec.label || "",
          meta: spec.meta || {},
          createdAt: now(),
          attempts: 0,
          nextAt: 0,
          lastError: null,
        };
        lastId = item.id;
        return store.put(item).then(function () {
          items.push(item);
          changed();
          pump();
          return view(item, false);
        });
      });
    }

    /** Position fixes join the queued batch (not one in flight), keeping the newest `cap`. */
    function addPositions(url, fixes, cap) {
      cap = cap || POSITIONS_CAP;
      return start().then(function () {
        var queued = items.filter(function (it) {
          return it.kind === "positions" && !inFlight[it.id];
        })[0];
        if (!queued) {
          return add({
            kind: "positions",
            group: "positions",
            url: url,
            json: { fixes: fixes.slice(-cap) },
            meta: { count: Math.min(fixes.length, cap) },
          });
        }
        var all = queued.json.fixes.concat(fixes).slice(-cap);
        queued.json = { fixes: all };
        queued.meta = { count: all.length };
        queued.key = makeKey(); // another body: another request
        return store.put(queued).then(function () {
          changed();
          return view(queued, false);
        });
      });
    }

    function remove(item) {
      items = items.filter(function (it) {
        return it !== item;
      });
      delete inFlight[item.id];
      return store.remove(item.id)["catch"](noop);
    }

    function request(item) {
      var headers = { "Idempotency-Key": item.key };
      var token = opts.token ? opts.token() : null;
      if (token) {
        headers.Authorization = "Bearer " + token;
      }
      var body;
      if (item.json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(item.json);
      } else if (item.form) {
        body = new FormData();
        var fields = item.form.fields || {};
        Object.keys(fields).forEach(function (k) {
          body.append(k, fields[k]);
        });
        (item.form.files || []).forEach(function (f) {
          body.append(f.field || "photos", f.blob, f.name || "photo.jpg");
        });
      }
      return { method: item.method, headers: headers, body: body };
    }

    function send(item) {
      inFlight[item.id] = true;
      item.attempts += 1;
      changed();
      var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
      var init = request(item);
      if (controller) {
        init.signal = controller.signal;
      }
      var timedOut = false;
      var deadline = setT(function () {
        timedOut = true;
        if (controller) {
          controller.abort();
        }
      }, Math.round(BASE_TIMEOUT_MS + bodySize(item) / SLOW_LINK_BYTES_PER_MS));
      var status = 0;
      var retryAfter = null;
      Promise.resolve()
        .then(function () {
          return fetchImpl(baseUrl + item.url, init);
        })
        .then(function (resp) {
          status = resp.status;
          retryAfter = resp.headers && resp.headers.get ? resp.headers.get("Retry-After") : null;
          // Reading the body can fail too (the link died mid-answer): that is a network
          // error, even after a 200, and the retry is made harmless by the key.
          return resp.text();
        })
        .then(
          function (text) {
            clearT(deadline);
            var body = null;
            try {
              body = text ? JSON.parse(text) : null;
            } catch (e) {
              body = { message: text.slice(0, 300) };
            }
            settle(item, classify(status, body), status, body, retryAfter);
          },
          function (err) {
            clearT(deadline);
            var message = timedOut ? "timeout" : String((err && err.message) || err);
            settle(item, "retry", 0, { code: timedOut ? "timeout" : "network", message: message });
          }
        );
    }

    function settle(item, outcome, status, body, retryAfter) {
      delete inFlight[item.id];
      if (items.indexOf(item) < 0) {
        pump(); // discarded while in flight
        return;
      }
      var error = {
        status: status,
        code: (body && body.code) || (status ? "http_" + status : "network"),
        message: (body && body.message) || "",
        field: (body && body.field) || null,
      };
      if (outcome === "done") {
        remove(item).then(function () {
          changed();
          onSent(view(item, false), body);
          pump();
        });
        return;
      }
      if (outcome === "fail") {
        remove(item).then(function () {
          changed();
          onFailed(view(item, false), error);
          pump();
        });
        return;
      }
      item.lastError = error;
      if (outcome === "auth") {
        item.attempts -= 1; // not this item's fault
        paused = true;
        changed();
        onAuth(error);
        return;
      }
      var wait = retryAfterMs(retryAfter, now());
      item.nextAt = now() + (wait !== null ? wait : backoffDelay(item.attempts, opts.random));
      changed();
      pump();
    }

    /** Send whatever may go now; set one timer for the next item that has to wait. */
    function pump() {
      if (timer !== null) {
        clearT(timer);
        timer = null;
      }
      if (paused || loaded === null) {
        return;
      }
      if (opts.token && !opts.token()) {
        return; // signed out: keep everything until somebody signs in
      }
      var t = now();
      var seen = {};
      var busy = Object.keys(inFlight).length;
      var next = Infinity;
      for (var i = 0; i < items.length; i++) {
        var item = items[i];
        if (seen[item.group]) {
          continue; // a group goes in order: only its first item may be sent
        }
        seen[item.group] = true;
        if (inFlight[item.id]) {
          continue;
        }
        if (item.nextAt > t) {
          next = Math.min(next, item.nextAt);
        } else if (busy < MAX_IN_FLIGHT) {
          busy += 1;
          send(item);
        }
      }
      if (next < Infinity) {
        timer = setT(pump, next - t);
      }
    }

    /** Retry everything now (the browser says it is online again, or the user asked). */
    function kick() {
      items.forEach(function (it) {
        it.nextAt = 0;
      });
      changed();
      pump();
    }

    /** Forget an item the user gave up on (not while it is being sent). */
    function discard(id) {
      var item = items.filter(function (it) {
        return it.id === id;
      })[0];
      if (!item || inFlight[id]) {
        return Promise.resolve(false);
      }
      return remove(item).then(function () {
        changed();
        return true;
      });
    }

    return {
      start: start,
      add: add,
      addPositions: addPositions,
      kick: kick,
      discard: discard,
      pause: function () {
        paused = true;
        pump();
      },
      resume: function () {
        paused = false;
        kick();
      },
      pump: pump,
      items: function () {
        return items.map(function (it) {
          return view(it, inFlight[it.id]);
        });
      },
      get paused() {
        return paused;
      },
    };
  }

  return {
    BACKOFF_MS: BACKOFF_MS,
    POSITIONS_CAP: POSITIONS_CAP,
    backoffDelay: backoffDelay,
    classify: classify,
    uuid: uuid,
    memoryStore: memoryStore,
    indexedDbStore: indexedDbStore,
    create: create,
  };
});
