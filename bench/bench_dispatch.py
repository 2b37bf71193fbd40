"""One-click dispatch → the task on the grid worker's phone: p50 / p95 / p99.

One server (demo county, SQLite or PostgreSQL) on a real port in this process. A duty officer
signed in through the real /login form dispatches registered cases one at a time with
`POST /api/cases/<id>/actions/dispatch` and no parameters (what the console's one-click 派遣
sends: unit, department and worker come from the suggestion). The grid worker is measured
twice, side by side:

- `phone` — what the /field page does: a Socket.IO client on `/live` signed in with the
  worker's device token; on each batch naming one of its cases it fetches
  `GET /api/field/tasks` and the clock stops when the task is in the list;
- `page` (unless --no-browser) — the real /field page in headless Chromium; the clock stops
  when the task's element is in the DOM (a MutationObserver stamps `performance.now()`,
  read back against the dispatch time taken in the same browser).

    .venv/bin/python bench/bench_dispatch.py [--cases 100] [--postgres] [--no-browser]
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

import requests
import socketio
from common import Out, quiet_logs, serve_county, summarize_ms

from dispatch.demo.users import DEMO_PASSWORD
from dispatch.domain.geometry import centroid
from dispatch.service import actions, intake
from tests.support import device_token, with_users


class Phone:
    """The field page's protocol: events for my cases → fetch my tasks."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.seen: dict[int, float] = {}  # case id → when the task list first held it
        self.lock = threading.Lock()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.sio = socketio.Client(reconnection=True)
        self.sio.on("events", self._on_events, namespace="/live")

    def connect(self, head: int) -> None:
        self.sio.connect(
            self.url, namespaces=["/live"], transports=["websocket"],
            auth={"token": self.token, "last_seq": head},
        )  # fmt: skip

    def _on_events(self, batch: dict[str, Any]) -> None:
        wanted = {e["case_id"] for e in batch.get("events", []) if e["type"] == "case.dispatched"}
        if not wanted:
            return
        tasks = self.session.get(f"{self.url}/api/field/tasks", timeout=30).json()["tasks"]
        now = time.monotonic()
        with self.lock:
            for task in tasks:
                if task["id"] in wanted and task["id"] not in self.seen:
                    self.seen[task["id"]] = now

    def close(self) -> None:
        self.sio.disconnect()


def officer_session(url: str, username: str = "duty") -> requests.Session:
    """A browser-like session signed in through /login, sending the CSRF header."""
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if csrf is None:
        raise SystemExit("bench_dispatch: the sign-in form has no CSRF field")
    form = {"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf[1]}
    answer = session.post(f"{url}/login", data=form, allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise SystemExit(f"bench_dispatch: sign-in failed: HTTP {answer.status_code}")
    session.headers["X-CSRFToken"] = session.get(f"{url}/api/me", timeout=30).json()["csrf_token"]
    return session


def registered_cases(app: Any, grid_id: int, n: int) -> list[int]:
    """n cases in the worker's grid, verified and registered, waiting for dispatch."""
    long, lat = centroid(app.names.units[grid_id].polygon[0])
    ids = []
    for i in range(n):
        report = intake.NewReport(
            service_code="garbage", lat=lat, long=long, description=f"派遣基准 #{i}",
            channel="hotline",
        )  # fmt: skip
        case_id = intake.submit_report(app.core, report).case_id
        actions.perform(app.core, case_id, "verify")
        actions.perform(app.core, case_id, "register")
        ids.append(case_id)
    return ids


PAGE_WATCH = """
window.__seen = {};
new MutationObserver(() => {
  document.querySelectorAll('[data-case-id]').forEach(el => {
    const id = el.getAttribute('data-case-id');
    if (!(id in window.__seen)) window.__seen[id] = performance.now();
  });
}).observe(document.body, {childList: true, subtree: true});
"""


def run_page(server: Any, token: str, ids: list[int], officer: requests.Session) -> list[float]:
    """Dispatch from inside the browser (fetch with the officer's cookies is not possible
    across sessions), so the clock is the browser's: time the POST from Python, read the
    page's own timestamps relative to a shared zero taken just before each POST."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=412,915")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    times = []
    try:
        driver.get(f"{server.url}/field?token={token}")
        time.sleep(3)  # the page signs in, connects and lists its tasks
        driver.execute_script(PAGE_WATCH)
        for case_id in ids:
            zero = driver.execute_script("return performance.now()")
            started = time.monotonic()
            answer = officer.post(f"{server.url}/api/cases/{case_id}/actions/dispatch", json={})
            answer.raise_for_status()
            post_ms = (time.monotonic() - started) * 1000
            deadline = time.monotonic() + 10
            seen = None
            while time.monotonic() < deadline:
                seen = driver.execute_script(f"return window.__seen['{case_id}']")
                if seen is not None:
                    break
                time.sleep(0.005)
            if seen is None:
                raise SystemExit(f"bench_dispatch: case {case_id} never showed on /field")
            # Browser time from just before the POST to the task in the DOM; the POST itself
            # is part of the click, so it stays in.
            times.append(max(float(seen) - float(zero), post_ms) / 1000)
    finally:
        driver.quit()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    quiet_logs()
    out = Out(args.quiet)
    with ExitStack() as stack:
        server = serve_county(stack, postgres=args.postgres, dashboard=True)
        app = with_users(server.app)
        worker = min(app.names.workers.values(), key=lambda w: w.id)
        token = device_token(app, worker.id)
        officer = officer_session(server.url)
        result: dict[str, Any] = {"cases": args.cases, "postgres": args.postgres}

        ids = registered_cases(app, worker.grid_id, args.cases)
        phone = Phone(server.url, token)
        head = requests.get(f"{server.url}/api/snapshot", timeout=30).json()["seq"]
        phone.connect(head)
        stack.callback(phone.close)
        time.sleep(0.5)
        out.say(f"one-click dispatch of {args.cases} cases to {worker.name}, phone protocol …")
        times = []
        for case_id in ids:
            started = time.monotonic()
            answer = officer.post(f"{server.url}/api/cases/{case_id}/actions/dispatch", json={})
            answer.raise_for_status()
            if answer.json()["case"]["worker_id"] != worker.id:
                raise SystemExit(f"bench_dispatch: case {case_id} went to another worker")
            deadline = started + 10
            while case_id not in phone.seen and time.monotonic() < deadline:
                time.sleep(0.002)
            if case_id not in phone.seen:
                raise SystemExit(f"bench_dispatch: case {case_id} never reached the phone")
            times.append(phone.seen[case_id] - started)
        result["phone"] = summarize_ms(times)

        if not args.no_browser:
            out.say("the same through the real /field page in Chromium …")
            page_ids = registered_cases(app, worker.grid_id, args.cases)
            result["page"] = summarize_ms(run_page(server, token, page_ids, officer))
        out.stats("dispatch → worker", {k: result[k] for k in ("phone", "page") if k in result},
                  ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms"))  # fmt: skip
        out.result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
