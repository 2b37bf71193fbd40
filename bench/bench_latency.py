"""Case → screen latency: the /live socket against a 1-second poller, in the same run.

One server (demo county, SQLite or PostgreSQL) on a real port in this process. K socket
screens follow docs/realtime.md (resync → snapshot → catch-up → apply batches); P pollers do
what a Dash page with `dcc.Interval(interval=1000)` would do: GET /api/snapshot every second,
each starting at a random phase. Cases are then posted through Open311 at a steady rate, and
for each case and each screen or poller we note the time from just before the POST to the
moment it first holds the case. Every time is `time.monotonic()` in this one process, so there
is no clock to reconcile.

    .venv/bin/python bench/bench_latency.py [--seconds 30] [--rate 5] [--postgres]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import requests
from common import Out, post_report, quiet_logs, ratio, report_stream, serve_county, summarize_ms

from tests.screens import LiveScreen, screen_token
from tests.support import api_key


class Poller(threading.Thread):
    """GET /api/snapshot every `interval` from a random phase; notes when each case first
    shows. Like a browser timer it skips ticks it missed rather than firing them in a burst."""

    def __init__(self, url: str, interval: float, phase: float, stop: threading.Event) -> None:
        super().__init__(name="poller", daemon=True)
        self.url, self.interval, self.phase, self.stop = url, interval, phase, stop
        self.seen: dict[int, float] = {}  # case id → when a snapshot first held it
        self.fetches: list[float] = []
        self.size = 0
        self.errors = 0

    def run(self) -> None:
        with requests.Session() as session:
            tick = time.monotonic() + self.phase
            while not self.stop.wait(max(0.0, tick - time.monotonic())):
                began = time.monotonic()
                try:
                    response = session.get(f"{self.url}/api/snapshot", timeout=30)
                    response.raise_for_status()
                    cases = response.json()["cases"]
                except (requests.RequestException, ValueError, KeyError):
                    self.errors += 1
                    cases = []
                else:
                    self.size = len(response.content)
                done = time.monotonic()
                self.fetches.append(done - began)
                for case in cases:
                    self.seen.setdefault(case["id"], done)
                while tick <= done:
                    tick += self.interval


def submit_cases(
    url: str, key: str, args: argparse.Namespace, next_report: Callable[[], dict[str, str]]
) -> tuple[dict[int, float], list[float]]:
    """Post `rate` cases a second for `seconds`. Returns case id → monotonic time just before
    its POST, and each POST's own round trip."""
    posted: dict[int, float] = {}
    answered: list[float] = []
    with requests.Session() as session:
        start = time.monotonic()
        for n in range(round(args.rate * args.seconds)):
            time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
            fields = next_report()
            began = time.monotonic()
            posted[post_report(session, url, key, fields)] = began
            answered.append(time.monotonic() - began)
    return posted, answered


def disconnect_all(screens: list[LiveScreen]) -> None:
    """All at once: against Werkzeug's server each websocket client waits 3 s for a close
    handshake that never comes, so one by one would take a minute."""
    threads = [threading.Thread(target=s.disconnect) for s in screens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def latencies(posted: dict[int, float], seen: list[dict[int, float]]) -> tuple[list[float], int]:
    """Every (case, observer) delay, and how many pairs were never seen."""
    found = [s[case] - began for case, began in posted.items() for s in seen if case in s]
    return found, len(posted) * len(seen) - len(found)


def first_arrivals(posted: dict[int, float], seen: list[dict[int, float]]) -> list[float]:
    """Per case, the delay until the first observer held it."""
    return [
        min(s[case] for s in seen if case in s) - began
        for case, began in posted.items()
        if any(case in s for s in seen)
    ]


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    with ExitStack() as stack:
        out.say(f"seeding the demo county{' with history' if args.history else ''} …")
        server = serve_county(stack, postgres=args.postgres, history=args.history)
        key, next_report = api_key(server.app, "bench"), report_stream(server.app)
        token = screen_token(server.app.settings.secret_key)
        screens = [LiveScreen(token) for _ in range(args.screens)]
        stack.callback(disconnect_all, screens)
        for screen in screens:
            screen.connect(server.url)
        if not all(s.synced.wait(60) for s in screens):
            raise RuntimeError("a screen did not finish its snapshot within 60 s")
        stop, rng = threading.Event(), random.Random(args.seed)
        phases = [rng.uniform(0, args.interval) for _ in range(args.pollers)]
        pollers = [Poller(server.url, args.interval, phase, stop) for phase in phases]
        for poller in pollers:
            stack.callback(poller.join, 35)
        stack.callback(stop.set)  # runs first: the stack unwinds last-in, first-out
        for poller in pollers:
            poller.start()
        time.sleep(args.interval + 0.5)  # every poller has fetched once: the warm-up

        out.say(f"{args.screens} screens and {args.pollers} pollers; "
                f"posting {args.rate:g} cases/s for {args.seconds:g} s …")  # fmt: skip
        posted, answered = submit_cases(server.url, key, args, next_report)
        observers = [s.first_seen for s in screens] + [p.seen for p in pollers]
        deadline = time.monotonic() + 2 * args.interval + 10
        while time.monotonic() < deadline and latencies(posted, observers)[1]:
            time.sleep(0.1)  # let the stragglers arrive

        socket, socket_missing = latencies(posted, [s.first_seen for s in screens])
        polled, polled_missing = latencies(posted, [p.seen for p in pollers])
        first = first_arrivals(posted, [s.first_seen for s in screens])
        return {
            "database": "postgresql" if args.postgres else "sqlite",
            "cases": len(posted),
            "socket": {**summarize_ms(socket), "missing": socket_missing},
            "poller": {**summarize_ms(polled), "missing": polled_missing},
            "socket_first_screen": summarize_ms(first),
            "post": summarize_ms(answered),
            "snapshot_fetch": {
                **summarize_ms([f for p in pollers for f in p.fetches]),
                "bytes": max((p.size for p in pollers), default=0),
            },
            "catchups": sum(s.catchups for s in screens),  # one per screen after its snapshot
            "poll_errors": sum(p.errors for p in pollers),
        }


def report(r: dict[str, Any], args: argparse.Namespace, out: Out) -> list[str]:
    """Print the figures for people; return what failed."""
    s, p, f = r["socket"], r["poller"], r["snapshot_fetch"]
    out.say("")
    rows = {
        "socket /live": s,
        f"poll every {args.interval:g} s": p,
        "socket, first screen": r["socket_first_screen"],
        "the POST alone": r["post"],
    }
    out.stats("case → screen", rows, ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "missing"))
    out.say(
        f"poller / socket: p50 ×{r['poller_over_socket_p50']}, p99 ×{r['poller_over_socket_p99']}"
    )
    out.say(f"one snapshot fetch: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, {f['bytes']:,} bytes")
    failures = []
    if s["missing"]:
        failures.append(f"{s['missing']} socket deliveries never arrived")
    if p["missing"]:
        failures.append(f"{p['missing']} (case, poller) pairs never seen")
    if r["poll_errors"]:
        failures.append(f"{r['poll_errors']} snapshot polls failed")
    if (args.screens and not s["n"]) or (args.pollers and not p["n"]):
        failures.append("no samples")  # --pollers 0 or --screens 0 measures one side only
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long cases are posted")
    parser.add_argument("--rate", type=float, default=5.0, help="cases posted per second")
    parser.add_argument("--screens", type=int, default=20, help="socket clients on /live")
    parser.add_argument("--pollers", type=int, default=20, help="simulated 1 s Interval pages")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    parser.add_argument("--history", action="store_true", help="seed weeks of cases first")
    parser.add_argument("--seed", type=int, default=2, help="random seed for poller phases")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    quiet_logs()
    out = Out(args.quiet)
    r = run(args, out)
    r["poller_over_socket_p50"] = ratio(r["poller"]["p50_ms"], r["socket"]["p50_ms"])
    r["poller_over_socket_p99"] = ratio(r["poller"]["p99_ms"], r["socket"]["p99_ms"])
    failures = report(r, args, out)
    for failure in failures:
        print(f"bench_latency: FAILED {failure}", file=sys.stderr)
    names = ("seconds", "rate", "screens", "pollers", "interval", "history")
    settings = {name: getattr(args, name) for name in names}
    out.result({"bench": "latency", "ok": not failures, **settings, **r})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
