"""Intake throughput: Open311 submissions per second through HTTP, and the service call alone.

For each database (a temporary SQLite file, a throwaway PostgreSQL database) the demo county
is seeded and served on a real port in this process. N client threads post form-encoded
Open311 requests, each with its own Idempotency-Key; the same N threads also call
`submit_report` directly, so the cost of HTTP shows. The four phases take turns in short
rounds. Every accepted submission must be a case in the database; a difference fails the run.

    .venv/bin/python bench/bench_intake.py [--seconds 20] [--clients 4] [--backends sqlite]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import requests
from common import Out, post_report, quiet_logs, ratio, report_stream, serve_county, summarize_ms
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow
from dispatch.bootstrap import App
from dispatch.service.intake import Idempotency, NewReport, submit_report
from tests.support import LiveServer, api_key

Submit = Callable[[], object]  # one submission; raises when it was not accepted
PATHS = ("http", "in_process")


@dataclass
class Load:
    """What N threads achieved: every success counts for the database check, only the
    requests started inside the measured window count for the rate and the latencies."""

    seconds: float
    accepted: int = 0
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Load) -> None:
        self.seconds += other.seconds
        self.accepted += other.accepted
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.latencies += other.latencies

    def figures(self) -> dict[str, Any]:
        return {
            "per_s": round(len(self.latencies) / self.seconds, 1),
            **summarize_ms(self.latencies),
            "errors": self.errors,
            **({"first_error": self.first_error} if self.first_error else {}),
        }


MakeSubmit = Callable[[ExitStack], Submit]  # per thread; the stack closes its client


def run_load(make_submit: MakeSubmit, *, threads: int, warmup: float, seconds: float) -> Load:
    """Run `threads` loops of submissions for `warmup` + `seconds` and collect them."""
    load, lock = Load(seconds), threading.Lock()
    start = time.monotonic() + 0.2  # let every thread build its client first
    measure_from, until = start + warmup, start + warmup + seconds

    def loop() -> None:
        accepted, errors, first_error, latencies = 0, 0, "", []
        with ExitStack() as stack:
            submit = make_submit(stack)
            time.sleep(max(0.0, start - time.monotonic()))
            while (began := time.monotonic()) < until:
                try:
                    submit()
                except Exception as exc:  # counted and shown; the run then fails
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                    continue
                accepted += 1
                if began >= measure_from:
                    latencies.append(time.monotonic() - began)
        with lock:
            load.accepted += accepted
            load.errors += errors
            load.first_error = load.first_error or first_error
            load.latencies.extend(latencies)

    workers = [threading.Thread(target=loop, name=f"client-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return load


def over_http(
    base_url: str, key: str, next_report: Callable[[], dict[str, str]], stack: ExitStack
) -> Submit:
    session = stack.enter_context(requests.Session())
    return lambda: post_report(session, base_url, key, next_report())


def in_process(app: App, next_report: Callable[[], dict[str, str]]) -> Submit:
    def submit() -> None:
        f = next_report()
        report = NewReport(
            f["service_code"], f["lat"], f["long"], f["description"], submitted_by="bench"
        )
        submit_report(app.core, report, idempotency=Idempotency("bench", uuid.uuid4().hex))

    return submit


def count_cases(app: App) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CaseRow)) or 0)


@dataclass
class Target:
    """One database with the seeded county served on a real port."""

    app: App
    server: LiveServer
    key: str
    next_report: Callable[[], dict[str, str]]
    before: int  # cases seeded before the benchmark

    def submitter(self, path: str) -> MakeSubmit:
        if path == "http":
            return lambda stack: over_http(self.server.url, self.key, self.next_report, stack)
        return lambda stack: in_process(self.app, self.next_report)


def open_target(backend: str, stack: ExitStack) -> Target:
    server = serve_county(stack, postgres=backend == "postgres")
    app = server.app
    return Target(app, server, api_key(app, "bench"), report_stream(app), count_cases(app))


def measure(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    """Every (database, path) phase runs `--seconds` in all, in `--rounds` slices taken in
    turn, so that the ratios compare runs that shared the same minutes of a noisy machine."""
    with ExitStack() as stack:
        targets = {backend: open_target(backend, stack) for backend in args.backends}
        phases = [(backend, path) for backend in args.backends for path in PATHS]
        loads = {phase: Load(0.0) for phase in phases}
        for r in range(args.rounds):
            out.say(f"round {r + 1}/{args.rounds}")
            for backend, path in phases[r % len(phases) :] + phases[: r % len(phases)]:
                loads[backend, path].add(
                    run_load(
                        targets[backend].submitter(path),
                        threads=args.clients,
                        warmup=args.warmup if r == 0 else 0.0,
                        seconds=args.seconds / args.rounds,
                    )
                )
        results: dict[str, Any] = {}
        for backend, target in targets.items():
            accepted = sum(loads[backend, path].accepted for path in PATHS)
            stored = count_cases(target.app) - target.before
            results[backend] = {
                **{path: loads[backend, path].figures() for path in PATHS},
                "accepted": accepted,
                "stored": stored,
                "consistent": stored == accepted,
            }
    return results


def problems(result: dict[str, Any]) -> list[str]:
    found = []
    if not result["consistent"]:
        found.append(f"{result['accepted']} submissions accepted but {result['stored']} stored")
    for path in PATHS:
        if result[path]["errors"]:
            found.append(f"{path}: {result[path]['errors']} errors ({result[path]['first_error']})")
        if not result[path]["n"]:
            found.append(f"{path}: no samples")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per phase")
    parser.add_argument("--rounds", type=int, default=4, help="slices each phase is run in")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured start per phase")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(args.backends) - {"sqlite", "postgres"}:
        parser.error(f"unknown backend {sorted(unknown)[0]!r}; use sqlite and/or postgres")
    quiet_logs()
    out = Out(args.quiet)
    out.say(f"{args.clients} client threads; {args.seconds:g} s per phase in {args.rounds} rounds")
    results = measure(args, out)

    out.say("")
    rows = {f"{b} {path}": r[path] for b, r in results.items() for path in PATHS}
    out.stats("submissions", rows, ("per_s", "n", "p50_ms", "p95_ms", "p99_ms", "errors"))
    for backend, r in list(results.items()):
        verdict = "ok" if r["consistent"] else "MISMATCH"
        out.say(f"{backend}: {r['accepted']} accepted, {r['stored']} cases stored: {verdict}")
        http, direct = r["http"]["per_s"], r["in_process"]["per_s"]
        r["http_over_in_process"] = ratio(http, direct)
    if {"sqlite", "postgres"} <= results.keys():
        for path in PATHS:
            sqlite, pg = results["sqlite"][path]["per_s"], results["postgres"][path]["per_s"]
            results[f"sqlite_over_postgres_{path}"] = ratio(sqlite, pg)
        out.say(
            f"SQLite / PostgreSQL: HTTP ×{results['sqlite_over_postgres_http']}, "
            f"in-process ×{results['sqlite_over_postgres_in_process']}"
        )
    failures = [f"{b}: {problem}" for b in args.backends for problem in problems(results[b])]
    for failure in failures:
        print(f"bench_intake: FAILED {failure}", file=sys.stderr)
    settings = {k: getattr(args, k) for k in ("seconds", "rounds", "warmup", "clients")}
    out.result({"bench": "intake", "ok": not failures, **settings, **results})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
