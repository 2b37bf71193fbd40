"""Fan-out across processes: commit → screen latency, clients per web process, memory.

The production topology on this machine: a throwaway PostgreSQL database with the demo
county, a private redis-server, two `commandhall web` processes (gunicorn, one gthread
worker each). Screens are bare /live websocket clients (bench/rawscreen.py, one thread each)
in this process; every time is `time.monotonic()` here.

1. Fan-out: `--clients` screens split over both processes while cases are posted at `--rate`
   a second, alternately to each process (`POST /api/cases`), and positions at
   `--fixes` a second (`POST /api/positions`, batches of 50). For each (case, screen): the
   time from just before the POST to the screen holding its `case.reported`. That includes
   the POST itself, so it is an upper bound of commit → screen.
2. Ramp: screens are added to process A in `--ramp` steps while cases are posted to process
   B at `--ramp-rate`; the largest step whose p95 stays under 500 ms is the capacity of one
   web process (with the positions load still on).
3. Memory: VmRSS of each gunicorn worker with the phase-1 screens on it.

    .venv/bin/python bench/bench_fanout.py [--clients 200] [--seconds 30] [--rate 5]
        [--fixes 1000] [--ramp 100,200,300,400] [--step-seconds 10] [--threads 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
from common import Out, quiet_logs, summarize_ms, temp_postgres
from rawscreen import RawScreen

from tests.cluster import (
    SECRET,
    RedisServer,
    Web,
    cluster_env,
    grid_points,
    start_web,
    wait_healthy,
)
from tests.screens import screen_token

GOAL_P99_MS = 1000.0
CAPACITY_P95_MS = 500.0
FIX_BATCH = 50


AUTH: dict[str, str] = {}  # the api key the load generators sign with (seed_county sets it)


def seed_county(url: str, data_dir: Path) -> tuple[list[tuple[float, float, int]], list[int]]:
    from dispatch.bootstrap import build_core
    from dispatch.config import Settings
    from dispatch.demo.seed import seed_demo
    from dispatch.service.apikeys import create_api_key

    core, _ = build_core(Settings(data_dir=data_dir, database_url=url, secret_key=SECRET))
    try:
        names = seed_demo(core, data_dir, history=False)
        AUTH["Authorization"] = f"Bearer {create_api_key(core, 'bench-fanout')}"
        return grid_points(core, names), sorted(names.workers)
    finally:
        core.db.dispose()


# -- the processes ------------------------------------------------------------------------


def worker_pid(web: Web) -> int:
    """The gunicorn worker (the arbiter's one child), where the app lives."""
    children = Path(f"/proc/{web.proc.pid}/task/{web.proc.pid}/children").read_text().split()
    return int(children[0])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def head_seq(web: Web) -> int:
    return int(requests.get(f"{web.url}/api/snapshot", timeout=30).json()["seq"])


# -- load ---------------------------------------------------------------------------------


def connect_screens(web: Web, token: str, count: int, parallel: int = 16) -> list[RawScreen]:
    head = head_seq(web)
    screens = [RawScreen(web.url, token, head) for _ in range(count)]
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda s: s.open(), screens))
    return screens


def close_screens(screens: Sequence[RawScreen]) -> None:
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda s: s.close(), screens))


class CaseLoad:
    """POST /api/cases at `rate` a second for `seconds`, round-robin over `targets`."""

    def __init__(self, targets: Sequence[Web], points: list, rate: float, seconds: float):
        self.targets, self.points, self.rate, self.seconds = targets, points, rate, seconds
        self.posted: dict[int, float] = {}  # case id → monotonic time just before its POST
        self.answers: list[float] = []
        self.errors = 0

    def run(self) -> None:
        sessions = [requests.Session() for _ in self.targets]
        for session in sessions:
            session.headers.update(AUTH)
        start = time.monotonic()
        for n in range(round(self.rate * self.seconds)):
            time.sleep(max(0.0, start + n / self.rate - time.monotonic()))
            lat, long, _ = self.points[n % len(self.points)]
            body = {"service_code": "garbage", "lat": lat, "long": long,
                    "description": f"扇出测试 #{n}"}  # fmt: skip
            began = time.monotonic()
            try:
                response = sessions[n % len(self.targets)].post(
                    f"{self.targets[n % len(self.targets)].url}/api/cases", json=body, timeout=30
                )
                response.raise_for_status()
            except requests.RequestException:
                self.errors += 1
                continue
            self.answers.append(time.monotonic() - began)
            self.posted[int(response.json()["id"])] = began


class FixLoad(threading.Thread):
    """POST /api/positions: `rate` fixes a second in batches of 50, to one web process."""

    def __init__(self, web: Web, workers: list[int], points: list, rate: float) -> None:
        super().__init__(name="fix-load", daemon=True)
        self.web, self.workers, self.points, self.rate = web, workers, points, rate
        self.stop = threading.Event()
        self.sent = self.accepted = self.errors = 0
        self.answers: list[float] = []
        self.seconds = 0.0

    def run(self) -> None:
        session, interval = requests.Session(), FIX_BATCH / self.rate
        session.headers.update(AUTH)
        started = tick = time.monotonic()
        n = 0
        while not self.stop.wait(max(0.0, tick - time.monotonic())):
            now_ms = int(time.time() * 1000)
            fixes = []
            for _ in range(FIX_BATCH):
                worker = self.workers[n % len(self.workers)]
                lat, long, _ = self.points[worker % len(self.points)]
                wiggle = (n // len(self.workers)) % 20 * 1e-5  # a few metres, never a jump
                fixes.append({"worker_id": worker, "time": now_ms, "lat": lat + wiggle,
                              "long": long, "accuracy": 8.0})  # fmt: skip
                n += 1
            began = time.monotonic()
            try:
                response = session.post(
                    f"{self.web.url}/api/positions", json={"fixes": fixes}, timeout=30
                )
                self.accepted += int(response.json().get("accepted", 0))
                self.errors += response.status_code >= 400
            except (requests.RequestException, ValueError):
                self.errors += 1
            self.answers.append(time.monotonic() - began)
            self.sent += len(fixes)
            tick += interval
            if tick < time.monotonic() - 1:  # fell more than a second behind: do not burst
                tick = time.monotonic()
        self.seconds = time.monotonic() - started


def positions_available(web: Web, workers: list[int]) -> bool:
    fix = {"worker_id": workers[0], "time": int(time.time() * 1000), "lat": 25.6, "long": 103.8}
    response = requests.post(
        f"{web.url}/api/positions", json={"fixes": [fix]}, headers=AUTH, timeout=30
    )
    return response.status_code != 404


def measure(screens: Sequence[RawScreen], load: CaseLoad, settle: float = 5.0) -> dict[str, Any]:
    load.run()
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and any(
        case not in s.reported for s in screens for case in load.posted
    ):
        time.sleep(0.1)
    delays = [s.reported[c] - t for c, t in load.posted.items() for s in screens if c in s.reported]
    missing = len(load.posted) * len(screens) - len(delays)
    return {
        **summarize_ms(delays),
        "missing": missing,
        "cases": len(load.posted),
        "post_errors": load.errors,
        "post": summarize_ms(load.answers),
        "gaps": sum(s.gaps for s in screens),
        "failed_screens": sum(bool(s.failed) for s in screens),
    }


# -- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fanout-")))
        url = stack.enter_context(temp_postgres())
        out.say("seeding the demo county into a throwaway PostgreSQL database …")
        points, workers = seed_county(url, tmp)
        redis = RedisServer(tmp / "redis").start()
        stack.callback(redis.stop)
        env = cluster_env(database_url=url, redis_url=redis.url, prefix="bench:", data_dir=tmp)
        webs = [start_web(env, tmp, args=("--threads", str(args.threads))) for _ in range(2)]
        for web in webs:
            stack.callback(web.proc.stop)
        for web in webs:
            wait_healthy(web, 120)
        pids = [worker_pid(web) for web in webs]
        token = screen_token(SECRET)
        fixes = args.fixes > 0 and positions_available(webs[0], workers)
        result: dict[str, Any] = {"positions_endpoint": fixes, "threads": args.threads}
        idle = [rss_mb(pid) for pid in pids]

        # 1. fan-out at the production mix
        load = f"{args.rate:g} cases/s" + (f", {args.fixes:g} fixes/s" if fixes else "")
        out.say(f"phase 1: {args.clients} screens on 2 web processes, {load}, {args.seconds:g} s")
        screens: list[RawScreen] = []
        stack.callback(lambda: close_screens(screens))
        for i, web in enumerate(webs):
            share = args.clients // 2 + (i < args.clients % 2)
            screens += connect_screens(web, token, share)
        loaders = [FixLoad(web, workers, points, args.fixes / 2) for web in webs] if fixes else []
        for loader in loaders:
            loader.start()
        time.sleep(2)  # the positions load is on before the first case
        cpu0 = [cpu_seconds(pid) for pid in pids]
        me0 = cpu_seconds(os.getpid())
        started = time.monotonic()
        phase1 = measure(screens, CaseLoad(webs, points, args.rate, args.seconds))
        elapsed = time.monotonic() - started
        phase1["cpu_percent"] = [
            round(100 * (cpu_seconds(pid) - c) / elapsed, 1)
            for pid, c in zip(pids, cpu0, strict=True)
        ]
        phase1["bench_cpu_percent"] = round(100 * (cpu_seconds(os.getpid()) - me0) / elapsed, 1)
        phase1["rss_mb"] = [rss_mb(pid) for pid in pids]
        phase1["rss_idle_mb"] = idle
        phase1["threads_in_worker"] = [thread_count(pid) for pid in pids]
        if loaders:
            phase1["fixes_per_s"] = round(sum(f.sent for f in loaders) / (elapsed + 2), 1)
            phase1["fixes_accepted"] = sum(f.accepted for f in loaders)
            phase1["fix_post_errors"] = sum(f.errors for f in loaders)
            phase1["fix_post"] = summarize_ms([a for f in loaders for a in f.answers])
        result["fanout"] = phase1
        close_screens(screens)
        screens.clear()

        # 2. ramp the screens on process A; cases go through B
        steps = [int(s) for s in args.ramp.split(",") if s.strip()]
        out.say(f"phase 2: ramping screens on one process: {steps} …")
        ramp: list[dict[str, Any]] = []
        a, b = webs
        for step in steps:
            try:
                screens += connect_screens(a, token, step - len(screens))
            except Exception as exc:
                ramp.append({"clients": step, "error": f"connect failed: {exc}"})
                break
            time.sleep(2)
            cpu, me = cpu_seconds(pids[0]), cpu_seconds(os.getpid())
            began = time.monotonic()
            row = measure(screens, CaseLoad([b], points, args.ramp_rate, args.step_seconds))
            row["cpu_percent"] = round(
                100 * (cpu_seconds(pids[0]) - cpu) / (time.monotonic() - began), 1
            )
            took = time.monotonic() - began
            row["bench_cpu_percent"] = round(100 * (cpu_seconds(os.getpid()) - me) / took, 1)
            row["rss_mb"] = rss_mb(pids[0])
            row["threads_in_worker"] = thread_count(pids[0])
            ramp.append({"clients": step, **row})
            out.say(f"  {step:5d} screens: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                    f"p99 {row['p99_ms']} ms, missing {row['missing']}, "
                    f"cpu {row['cpu_percent']} % (bench {row['bench_cpu_percent']} %), "
                    f"rss {row['rss_mb']} MB, {row['threads_in_worker']} threads")  # fmt: skip
            if row["p95_ms"] > CAPACITY_P95_MS or row["missing"]:
                break
        for loader in loaders:
            loader.stop.set()
        result["ramp"] = ramp
        fine = [r["clients"] for r in ramp if r.get("p95_ms", 1e9) <= CAPACITY_P95_MS
                and not r.get("missing")]  # fmt: skip
        result["clients_per_process_p95_under_500ms"] = max(fine, default=0)
        result["ramp_exhausted"] = len(fine) == len(steps)
        return result


def report(r: dict[str, Any], args: argparse.Namespace, out: Out) -> list[str]:
    f = r["fanout"]
    out.say("")
    columns = ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "missing")
    out.stats("case → screen", {"POST → screen": f, "the POST alone": f["post"]}, columns)
    out.say(f"web workers: rss {f['rss_mb']} MB (idle {f['rss_idle_mb']} MB), "
            f"cpu {f['cpu_percent']} %, threads {f['threads_in_worker']}; "
            f"this process (the screens) {f['bench_cpu_percent']} % cpu")  # fmt: skip
    if r["positions_endpoint"]:
        out.say(f"positions: {f['fixes_per_s']} fixes/s sent, {f['fixes_accepted']} accepted, "
                f"POST p50 {f['fix_post']['p50_ms']} ms, p99 {f['fix_post']['p99_ms']} ms, "
                f"{f['fix_post_errors']} errors")  # fmt: skip
    else:
        out.say("positions: no POST /api/positions on this server (or --fixes 0)")
    out.say(f"clients per web process with p95 ≤ {CAPACITY_P95_MS:g} ms: "
            f"{r['clients_per_process_p95_under_500ms']}"
            f"{' (every step passed: raise --ramp)' if r['ramp_exhausted'] else ''}")  # fmt: skip
    failures = []
    if f["missing"] or f["failed_screens"]:
        failures.append(f"{f['missing']} deliveries missing, {f['failed_screens']} screens failed")
    if f["p99_ms"] > GOAL_P99_MS:
        failures.append(f"p99 {f['p99_ms']} ms is over the {GOAL_P99_MS:g} ms goal")
    if f["post_errors"]:
        failures.append(f"{f['post_errors']} case POSTs failed")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="screens in phase 1 (both)")
    parser.add_argument("--seconds", type=float, default=30.0, help="phase 1 duration")
    parser.add_argument("--rate", type=float, default=5.0, help="cases a second in phase 1")
    parser.add_argument("--fixes", type=float, default=1000.0, help="position fixes a second")
    parser.add_argument("--ramp", default="100,200,300,400", help="screens on one process")
    parser.add_argument("--ramp-rate", type=float, default=2.0, help="cases a second, phase 2")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="each ramp step")
    parser.add_argument("--threads", type=int, default=1000, help="gthread threads per process")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    if args.threads < max([args.clients, *map(int, args.ramp.split(","))]) + 50:
        parser.error("--threads must exceed the most screens on one process by 50 (HTTP)")
    quiet_logs()
    out = Out(args.quiet)
    result = run(args, out)
    failures = report(result, args, out)
    result["failures"] = failures
    out.result(result)
    for failure in failures:
        print(f"bench_fanout: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
