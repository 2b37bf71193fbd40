"""Calls: setup time in real Chromium on loopback, click to first remote frame.

Two headless Chromiums with fake camera and microphone against the demo county (SQLite):
the duty officer on the case page clicks 视频通话; the grid worker's /field page accepts the
moment it rings (a MutationObserver clicks 接听, so no human time is in the figures). For
each of `--calls` calls, from the officer's click (browser wall clocks, same machine):

- ring: the phone shows the ring;
- caller frame: the officer's first composite frame (it joins while the phone rings);
- callee frame: the worker's first composite frame: the call's setup as a person sees it;
- together: the officer's participant list first shows the worker.

Goal: caller frame and callee frame p95 < 1.5 s each. Each call's line lists the steps of
both sides in order (ms after that side's click, assets/js/call.js marks). The load average
goes with the result: on a shared machine the figures follow it.

    .venv/bin/python bench/bench_calls.py [--calls 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from common import Out, quiet_logs, summarize_ms

from tests.support import LiveServer, browser_sign_in, build_app, device_token, with_users

GOAL_S = 1.5
AUTO_ACCEPT = """
new MutationObserver(() => {
  const button = document.querySelector('#ch-call-ring .is-accept');
  if (button) button.click();
}).observe(document.body, {childList: true, subtree: true});
"""
STATS = (
    "const done = arguments[arguments.length - 1];"
    "CommandHall.calls.stats().then(done, (e) => done({error: String(e)}));"
)


def chromium(profile: Path, size: tuple[int, int]) -> Any:
    from tests.conftest import new_chromium

    return new_chromium(size, profile)


def until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench_calls: waited {timeout} s for {what}")
        time.sleep(0.05)


def steps(timing: dict[str, Any]) -> str:
    """'media 41, offer 105, …' in the order they happened."""
    marks = sorted(timing["marks"].items(), key=lambda mark: mark[1])
    return ", ".join(f"{name} {ms}" for name, ms in marks)


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    from tests.e2e.test_field import dispatched

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ch-bench-calls-")))
        app = with_users(build_app(tmp, f"sqlite:///{tmp}/bench.db"))
        stack.callback(app.core.db.dispose)
        server = LiveServer(app).start()
        stack.callback(server.stop)
        worker = max(app.names.workers)
        case_id = dispatched(app, worker, "基准测试：视频通话")
        officer = chromium(tmp / "officer", (1280, 800))
        stack.callback(officer.quit)
        phone = chromium(tmp / "phone", (412, 915))
        stack.callback(phone.quit)

        phone.get(f"{server.url}/field?token={device_token(app, worker)}")
        connected = "const s = CommandHall.calls && CommandHall.calls._state.socket;" \
                    "return !!(s && s.connected)"  # fmt: skip
        until(lambda: phone.execute_script(connected), 20, "the phone's /calls socket")
        phone.execute_script(AUTO_ACCEPT)
        browser_sign_in(officer, server.url, "duty")
        until(lambda: "/login" not in officer.current_url, 20, "the sign-in")
        officer.get(f"{server.url}/cases/{case_id}")
        until(lambda: officer.find_elements(By.ID, "case-call-worker"), 20, "the call button")
        until(lambda: officer.execute_script(connected), 20, "the officer's /calls socket")

        rows: dict[str, list[float]] = {"ring": [], "caller frame": [], "callee frame": [],
                                        "together": []}  # fmt: skip
        loads: list[float] = []  # the 1-minute load average as each call starts
        for n in range(args.calls):
            loads.append(os.getloadavg()[0])
            officer.find_element(By.ID, "case-call-worker").click()
            mine = until(lambda n=n: officer.execute_async_script(STATS)["timings"][n:],
                         20, f"call {n + 1}: the officer's first frame")[0]  # fmt: skip
            theirs = until(lambda n=n: phone.execute_async_script(STATS)["timings"][n:], 20,
                           f"call {n + 1}: the worker's first frame")[0]  # fmt: skip
            together = until(lambda n=n: officer.execute_async_script(STATS)["together"][n:],
                             20, f"call {n + 1}: both in the room")[0]  # fmt: skip
            ring = phone.execute_async_script(STATS)["rings"][n]
            clicked = mine["clicked"]
            rows["ring"].append((ring["at"] - clicked) / 1000)
            rows["caller frame"].append((mine["firstFrame"] - clicked) / 1000)
            rows["callee frame"].append((theirs["firstFrame"] - clicked) / 1000)
            rows["together"].append((together["at"] - clicked) / 1000)
            out.say(
                f"  call {n + 1}: caller frame {mine['clickToFrame']} ms, callee frame "
                f"{rows['callee frame'][-1] * 1000:.0f} ms; caller {steps(mine)}; "
                f"callee (its own click {theirs['clicked'] - clicked} ms in) {steps(theirs)}"
            )
            time.sleep(args.talk)
            officer.find_element(By.ID, "ch-call-end").click()
            for driver in (officer, phone):
                until(lambda d=driver: not d.find_element(By.ID, "ch-call").is_displayed(), 20,
                      "the call to close")  # fmt: skip
            time.sleep(0.5)
        load = {"min": min(loads), "mean": sum(loads) / len(loads), "max": max(loads)}
        return {"load": {k: round(v, 2) for k, v in load.items()},
                **{name: summarize_ms(values) for name, values in rows.items()}}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="calls placed one after another")
    parser.add_argument("--talk", type=float, default=1.0, help="seconds each call lasts")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    quiet_logs()
    out = Out(args.quiet)
    out.say(f"calls: {args.calls} calls in Chromium on loopback, {os.cpu_count()} cores")
    results = run(args, out)
    load = results.pop("load")
    out.say("")
    out.stats("from the click", results, ("n", "p50_ms", "p95_ms", "max_ms"))
    out.say(
        f"load average (1 min) as the calls started: {load['min']:.1f}-{load['max']:.1f}, "
        f"mean {load['mean']:.1f}"
    )
    ok = True
    for side in ("caller frame", "callee frame"):
        p95 = results[side]["p95_ms"] / 1000
        if p95 >= GOAL_S:
            ok = False
            print(f"bench_calls: FAILED {side} p95 {p95:.2f} s ≥ {GOAL_S} s", file=sys.stderr)
    out.result({"bench": "calls", "ok": ok, "browser": "chromium", "load": load, **results})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
