"""The phone's offline queue (assets/phone/outbox.js), run under Node with a fake clock and a
fake fetch: back-off, what is retried and what is dropped, one key per item, order per case.

Each test is a small async JavaScript scenario; `run` wraps it with the fakes below and
returns what the scenario passed to `out(...)`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.conftest import REPO_ROOT, require_service

OUTBOX = REPO_ROOT / "assets" / "phone" / "outbox.js"

PRELUDE = r"""
"use strict";
const Outbox = require(OUTBOX_PATH);

// Lets every promise chain started so far run to its end (fetch → text → settle → store).
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function fakeClock() {
  let t = 0;
  let seq = 0;
  const timers = new Map();
  return {
    now: () => t,
    setTimeout(fn, ms) {
      seq += 1;
      timers.set(seq, { at: t + Math.max(0, ms || 0), fn });
      return seq;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    async advance(ms) {
      const end = t + ms;
      await settle();
      for (;;) {
        let best = null;
        for (const [id, x] of timers) {
          if (x.at <= end && (!best || x.at < best[1].at)) best = [id, x];
        }
        if (!best) break;
        timers.delete(best[0]);
        t = best[1].at;
        best[1].fn();
        await settle();
      }
      t = end;
    },
  };
}

// `script` is a list of answers, one per call (the last one repeats), or a function of the
// call: {network}, {hang}, {brokenBody, status}, or {status, json, headers}.
function fakeFetch(clock, script) {
  const calls = [];
  const fetch = (url, init) => {
    const call = { url, method: init.method, headers: { ...init.headers }, at: clock.now() };
    if (init.body instanceof FormData) {
      call.fields = {};
      call.files = [];
      for (const [k, v] of init.body.entries()) {
        if (typeof v === "string") call.fields[k] = v;
        else call.files.push({ field: k, name: v.name, size: v.size });
      }
    } else if (init.body) {
      call.json = JSON.parse(init.body);
    }
    calls.push(call);
    const n = calls.length;
    const step =
      typeof script === "function" ? script(call, n) : script[Math.min(n, script.length) - 1];
    if (step.network) return Promise.reject(new TypeError("Failed to fetch"));
    if (step.hang) {
      const aborted = () => new DOMException("aborted", "AbortError");
      return new Promise((_, reject) =>
        init.signal.addEventListener("abort", () => reject(aborted())));
    }
    const headers = { get: (name) => (step.headers || {})[name] || null };
    if (step.brokenBody) {
      const text = () => Promise.reject(new TypeError("reset"));
      return Promise.resolve({ status: step.status, headers, text });
    }
    const text = step.json !== undefined ? JSON.stringify(step.json) : "";
    return Promise.resolve({ status: step.status, headers, text: () => Promise.resolve(text) });
  };
  fetch.calls = calls;
  return fetch;
}

// An outbox on the fakes; `log` collects what it told the page.
function make(clock, fetch, extra) {
  const log = { sent: [], failed: [], auth: [], changes: 0 };
  let keys = 0;
  const box = Outbox.create({
    store: (extra && extra.store) || Outbox.memoryStore(),
    fetch,
    token: (extra && extra.token) || (() => "dev_test"),
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    uuid: () => "key-" + ++keys + ((extra && extra.keySuffix) || ""),
    onChange: () => (log.changes += 1),
    onSent: (item, body) => log.sent.push({ label: item.label, key: item.key, body }),
    onFailed: (item, error) => log.failed.push({ label: item.label, key: item.key, error }),
    onAuth: (error) => log.auth.push(error),
  });
  return { box, log };
}

function action(caseId, name, label) {
  return {
    kind: "action",
    group: "case:" + caseId,
    url: "/api/cases/" + caseId + "/actions/" + name,
    json: {},
    label: label || name,
  };
}

const out = (value) => process.stdout.write(JSON.stringify(value));
"""


def run(scenario: str) -> Any:
    """Run `scenario` (the body of an async function) after PRELUDE; returns its out(...)."""
    node = shutil.which("node")
    if node is None:
        require_service("Node.js", "`node` is not on PATH (Debian: apt-get install nodejs)")
    source = PRELUDE.replace("OUTBOX_PATH", json.dumps(str(OUTBOX)))
    source += "\n(async () => {\n" + scenario + "\n})().catch((e) => {"
    source += " console.error(e && e.stack ? e.stack : e); process.exit(1); });\n"
    done = subprocess.run(
        [node, "-"], input=source, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"the outbox scenario failed:\n{done.stderr}")
    return json.loads(done.stdout)


def test_network_errors_and_5xx_are_retried_on_the_back_off_schedule_with_one_key() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [
          { network: true }, { status: 503 }, { status: 502 }, { network: true },
          { status: 500 }, { status: 504 }, { status: 200, json: { replayed: true } },
        ]);
        const { box, log } = make(clock, fetch);
        await box.add(action(7, "accept"));
        await clock.advance(120000);
        out({ times: fetch.calls.map((c) => c.at),
              keys: fetch.calls.map((c) => c.headers["Idempotency-Key"]),
              auth: fetch.calls.map((c) => c.headers.Authorization),
              left: box.items().length, log });
        """
    )
    # 1 s, 2 s, 5 s, 10 s, then every 30 s (the cap) after each failure.
    assert result["times"] == [0, 1000, 3000, 8000, 18000, 48000, 78000]
    assert set(result["keys"]) == {"key-1"}
    assert set(result["auth"]) == {"Bearer dev_test"}
    assert result["left"] == 0
    assert result["log"]["sent"] == [
        {"label": "accept", "key": "key-1", "body": {"replayed": True}}
    ]
    assert result["log"]["failed"] == []


def test_the_back_off_has_jitter_of_at_most_a_fifth() -> None:
    result = run(
        """
        const delay = (n, r) => Outbox.backoffDelay(n, () => r);
        out([1, 2, 3, 4, 5, 9].map((n) => [delay(n, 0), delay(n, 1)]));
        """
    )
    assert result == [
        [800, 1200], [1600, 2400], [4000, 6000], [8000, 12000], [24000, 36000], [24000, 36000],
    ]  # fmt: skip


def test_a_4xx_drops_the_item_reports_the_servers_message_and_lets_the_case_go_on() -> None:
    result = run(
        """
        const clock = fakeClock();
        const conflict = { code: "illegal_transition", message: "case 7 is handled, not dispatched",
                           field: "state" };
        const fetch = fakeFetch(clock, (call) =>
          call.url.endsWith("/accept") ? { status: 409, json: conflict }
                                       : { status: 200, json: {} });
        const { box, log } = make(clock, fetch);
        await box.add(action(7, "accept", "签收"));
        await box.add(action(7, "start_handling", "开始处置"));
        await clock.advance(60000);
        out({ urls: fetch.calls.map((c) => c.url), left: box.items().length, log });
        """
    )
    assert result["urls"] == ["/api/cases/7/actions/accept", "/api/cases/7/actions/start_handling"]
    assert result["left"] == 0
    assert result["log"]["failed"] == [
        {
            "label": "签收",
            "key": "key-1",
            "error": {
                "status": 409,
                "code": "illegal_transition",
                "message": "case 7 is handled, not dispatched",
                "field": "state",
            },
        }
    ]
    assert [s["label"] for s in result["log"]["sent"]] == ["开始处置"]


def test_408_and_429_are_retried_and_retry_after_is_honoured() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [
          { status: 429, headers: { "Retry-After": "7" } },
          { status: 408 },
          { status: 201, json: {} },
        ]);
        const { box, log } = make(clock, fetch);
        await box.add(action(3, "accept"));
        await clock.advance(60000);
        out({ times: fetch.calls.map((c) => c.at), failed: log.failed.length,
              sent: log.sent.length });
        """
    )
    assert result == {"times": [0, 7000, 9000], "failed": 0, "sent": 1}


def test_items_of_one_case_keep_their_order_and_other_cases_do_not_wait() -> None:
    result = run(
        """
        const clock = fakeClock();
        let acceptTries = 0;
        const fetch = fakeFetch(clock, (call) => {
          const accept = call.url === "/api/cases/1/actions/accept";
          if (accept && ++acceptTries <= 2) return { network: true };
          return { status: 200, json: {} };
        });
        const { box } = make(clock, fetch);
        await box.add(action(1, "accept"));
        await box.add(action(1, "report_handled"));
        await box.add(action(2, "accept"));
        await clock.advance(60000);
        out(fetch.calls.map((c) => [c.at, c.url.replace("/api/cases/", "")]));
        """
    )
    assert result == [
        [0, "1/actions/accept"],
        [0, "2/actions/accept"],  # case 2 does not wait for case 1
        [1000, "1/actions/accept"],
        [3000, "1/actions/accept"],
        [3000, "1/actions/report_handled"],  # only after the accept went through
    ]


def test_an_answer_lost_after_the_server_did_the_work_is_retried_with_the_same_key() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [
          { brokenBody: true, status: 200 },
          { status: 200, json: { replayed: true } },
        ]);
        const { box, log } = make(clock, fetch);
        await box.add(action(5, "report_handled"));
        await clock.advance(5000);
        out({ keys: fetch.calls.map((c) => c.headers["Idempotency-Key"]), sent: log.sent });
        """
    )
    assert result["keys"] == ["key-1", "key-1"]
    assert result["sent"] == [
        {"label": "report_handled", "key": "key-1", "body": {"replayed": True}}
    ]


def test_a_request_that_hangs_times_out_and_is_retried() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [{ hang: true }, { status: 200, json: {} }]);
        const { box, log } = make(clock, fetch);
        await box.add(action(5, "accept"));
        await clock.advance(19999);
        const before = { calls: fetch.calls.length, error: box.items()[0].lastError };
        await clock.advance(1000 + 1200);
        out({ before, times: fetch.calls.map((c) => c.at), sent: log.sent.length });
        """
    )
    assert result["before"] == {"calls": 1, "error": None}
    # A small JSON body: 20 s (+2 bytes at 20 kB/s), then the first back-off of 1 s.
    assert result["times"] == [0, 21000]
    assert result["sent"] == 1


def test_the_queue_survives_a_reload_and_resends_with_the_same_key() -> None:
    result = run(
        """
        const clock = fakeClock();
        const store = Outbox.memoryStore(); // shared by both "page loads"
        const offline = fakeFetch(clock, [{ network: true }]);
        const first = make(clock, offline, { store });
        await first.box.add(action(9, "accept"));
        await clock.advance(500);
        const queued = (await store.load()).map((it) => it.key);
        const online = fakeFetch(clock, [{ status: 200, json: {} }]);
        const second = make(clock, online, { store, keySuffix: "-reloaded" });
        await second.box.start();
        await clock.advance(0);
        out({ queued, resent: online.calls.map((c) => [c.at, c.headers["Idempotency-Key"]]),
              left: (await store.load()).length });
        """
    )
    assert result == {"queued": ["key-1"], "resent": [[500, "key-1"]], "left": 0}


def test_kick_retries_at_once_instead_of_waiting_out_the_back_off() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [{ network: true }, { network: true }, { network: true },
                                        { network: true }, { status: 200, json: {} }]);
        const { box } = make(clock, fetch);
        await box.add(action(4, "accept"));
        await clock.advance(8500); // failed at 0, 1 s, 3 s, 8 s: the next try waits 10 s
        box.kick(); // the browser's "online" event
        await clock.advance(0);
        out({ times: fetch.calls.map((c) => c.at), left: box.items().length });
        """
    )
    assert result == {"times": [0, 1000, 3000, 8000, 8500], "left": 0}


def test_a_refused_token_pauses_the_queue_and_keeps_every_item_until_resumed() -> None:
    result = run(
        """
        const clock = fakeClock();
        let revoked = true;
        const refusal = { code: "forbidden", field: "token",
                          message: "the device token has been revoked; ask for a new one" };
        const fetch = fakeFetch(clock, () =>
          revoked ? { status: 403, json: refusal } : { status: 200, json: {} });
        const { box, log } = make(clock, fetch);
        await box.add(action(1, "accept"));
        await settle(); // refused: paused before the second item comes
        await box.add(action(2, "accept"));
        await clock.advance(120000);
        const whilePaused = { calls: fetch.calls.length, left: box.items().length,
                              paused: box.paused };
        revoked = false;
        box.resume();
        await clock.advance(0);
        out({ whilePaused, auth: log.auth.map((e) => e.message), failed: log.failed.length,
              left: box.items().length,
              keys: fetch.calls.map((c) => c.headers["Idempotency-Key"]) });
        """
    )
    assert result["whilePaused"] == {"calls": 1, "left": 2, "paused": True}
    assert result["auth"] == ["the device token has been revoked; ask for a new one"]
    assert result["failed"] == 0 and result["left"] == 0
    assert result["keys"] == ["key-1", "key-1", "key-2"]


def test_nothing_is_sent_while_signed_out() -> None:
    result = run(
        """
        const clock = fakeClock();
        let token = null;
        const fetch = fakeFetch(clock, [{ status: 200, json: {} }]);
        const { box } = make(clock, fetch, { token: () => token });
        await box.add(action(1, "accept"));
        await clock.advance(60000);
        const before = fetch.calls.length;
        token = "dev_new";
        box.resume();
        await clock.advance(0);
        out({ before, after: fetch.calls.map((c) => c.headers.Authorization) });
        """
    )
    assert result == {"before": 0, "after": ["Bearer dev_new"]}


def test_photos_go_as_multipart_fields_and_files_under_one_key() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, [{ network: true }, { status: 200, json: {} }]);
        const { box } = make(clock, fetch);
        const blob = new Blob([new Uint8Array(1234)], { type: "image/jpeg" });
        const files = [{ field: "photos", blob, name: "a.jpg" }];
        await box.add({ kind: "action", group: "case:5", url: "/api/cases/5/actions/report_handled",
                        form: { fields: { result: "已清理" }, files } });
        await clock.advance(2000);
        out(fetch.calls.map((c) => ({ key: c.headers["Idempotency-Key"],
                                       type: c.headers["Content-Type"] || null,
                                       fields: c.fields, files: c.files })));
        """
    )
    sent = {
        "key": "key-1",
        "type": None,  # fetch sets multipart/form-data with its boundary itself
        "fields": {"result": "已清理"},
        "files": [{"field": "photos", "name": "a.jpg", "size": 1234}],
    }
    assert result == [sent, sent]


def test_position_fixes_wait_in_one_batch_that_keeps_the_newest_500() -> None:
    result = run(
        """
        const clock = fakeClock();
        const fetch = fakeFetch(clock, (call, n) =>
          n === 1 ? { hang: true } : { status: 200, json: {} });
        const { box } = make(clock, fetch);
        const fix = (i) => ({ time: i, lat: 25.6, long: 103.7 });
        await box.addPositions("/api/positions", [fix(0)]); // in flight (the link hangs)
        await settle();
        for (let i = 1; i <= 700; i += 100) {
          const fixes = Array.from({ length: 100 }, (_, j) => fix(i + j));
          await box.addPositions("/api/positions", fixes);
        }
        const queued = box.items().map((it) => [it.kind, it.meta.count, it.sending]);
        await clock.advance(60000);
        out({ queued, bodies: fetch.calls.map((c) => [c.json.fixes.length, c.json.fixes[0].time]),
              left: box.items().length });
        """
    )
    # The first fix was in flight when the others came, so it stays its own batch; the 700
    # later ones were merged into one waiting batch that keeps the newest 500 (201..700).
    assert result["queued"] == [["positions", 1, True], ["positions", 500, False]]
    assert result["bodies"] == [[1, 0], [1, 0], [500, 201]]
    assert result["left"] == 0


def test_keys_are_uuid_v4_even_without_crypto_random_uuid() -> None:
    result = run(
        """
        const noRandomUUID = { getRandomValues: (a) => require("crypto").getRandomValues(a) };
        out([Outbox.uuid(noRandomUUID), Outbox.uuid(noRandomUUID), Outbox.uuid()]);
        """
    )
    import re

    pattern = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(pattern.match(k) for k in result), result
    assert len(set(result)) == 3
