"""Position ingest: fixes per second through POST /api/positions, with PostgreSQL and Redis.

The demo county is seeded into a throwaway PostgreSQL database and topped up with synthetic
grid workers (2,500 by default, a Wuwei-sized city); the app runs on a real port in this
process with the Redis store under a key prefix of its own. N client threads post batches
of 50 fixes (each thread walks its own workers, 2 m and 0.5 s per fix, so nothing is
flagged or a duplicate) for `--seconds`. Every fix accepted must be a row of `positions`:
the count is checked in the table. In the same run the same fixes are then sent straight to
Redis as pipelined GEOADDs of 50, the floor of what the live map costs, and the ratio printed.

    .venv/bin/python bench/bench_positions.py [--seconds 60] [--clients 6] [--workers 2500]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import requests
from common import Out, quiet_logs, ratio, summarize_ms, temp_postgres
from sqlalchemy import func, select

from dispatch.adapters.orm import GridWorkerRow, PositionRow
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service.apikeys import create_api_key
from realtime.positions import positions_of
from tests.support import LiveServer

GOAL = 2000  # fixes per second on the 2-core reference machine
M_PER_DEG = 111_195.0
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def add_workers(app: App, total: int, rng: random.Random) -> None:
    """Synthetic grid workers in random grids until there are `total`."""
    grids = [u for u in app.names.units.values() if u.kind == UnitKind.GRID and u.polygon]
    township = {g.id: app.core.grids.locate(*centroid(g.polygon[0])).township_id for g in grids}
    missing = total - len(app.names.workers)
    with app.core.db.writer() as session:
        for n in range(max(0, missing)):
            grid = rng.choice(grids)
            session.add(
                GridWorkerRow(
                    id=100_000 + n,
                    name=f"压测{n:04d}",
                    grid_id=grid.id,
                    township_id=township[grid.id],
                    phone="",
                    on_duty=True,
                )
            )
        session.commit()
    app.reload_directory()


@dataclass
class Walk:
    """One client thread's workers: where each is and the time of its next fix."""

    workers: list[tuple[int, float, float]]  # (id, lat, long) at the start
    start_ms: int
    n: int = 0

    def batch(self, size: int) -> list[dict[str, Any]]:
        fixes = []
        for _ in range(size):
            worker_id, lat, long = self.workers[self.n % len(self.workers)]
            step = self.n // len(self.workers)  # fixes this worker has sent before
            fixes.append(
                {
                    "worker_id": worker_id,
                    "time": self.start_ms + step * 500,
                    "lat": round(lat + 2 * step / M_PER_DEG, 7),
                    "long": long,
                    "accuracy": 8.0,
                    "speed": 4.0,
                    "battery": 80,
                }
            )
            self.n += 1
        return fixes


@dataclass
class Load:
    accepted: int = 0  # every fix accepted, for the table check
    measured: int = 0  # fixes accepted by requests started in the measured window
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list)
    sent: list[list[dict[str, Any]]] = field(default_factory=list)  # every batch, for Redis


def run_load(url: str, walks: list[Walk], args: argparse.Namespace, key: str) -> tuple[Load, float]:
    load, lock = Load(), threading.Lock()
    start = time.monotonic() + 0.2
    measure_from, until = start + args.warmup, start + args.warmup + args.seconds

    def client(walk: Walk) -> None:
        session, mine = requests.Session(), Load()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        time.sleep(max(0.0, start - time.monotonic()))
        while (began := time.monotonic()) < until:
            fixes = walk.batch(args.batch)
            try:
                response = session.post(
                    url, data=json.dumps({"fixes": fixes}), headers=headers, timeout=30
                )
                answer = response.json()
                if response.status_code != 200 or answer["accepted"] != len(fixes):
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                if not answer["live"]:
                    raise RuntimeError(f"live map not updated: {answer.get('warning')}")
            except Exception as exc:
                mine.errors += 1
                mine.first_error = mine.first_error or f"{type(exc).__name__}: {exc}"[:300]
                continue
            mine.accepted += len(fixes)
            mine.sent.append(fixes)
            if began >= measure_from:
                mine.measured += len(fixes)
                mine.latencies.append(time.monotonic() - began)
        with lock:
            load.accepted += mine.accepted
            load.measured += mine.measured
            load.errors += mine.errors
            load.first_error = load.first_error or mine.first_error
            load.latencies += mine.latencies
            load.sent += mine.sent

    threads = [threading.Thread(target=client, args=(w,)) for w in walks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load, start


def raw_geoadd(client: redis.Redis, key: str, batches: list[list[dict[str, Any]]]) -> float:
    """Fixes per second of pipelined GEOADDs, one round trip per batch, as ingest sends them."""
    started = time.perf_counter()
    for fixes in batches:
        members: list[Any] = []
        for f in fixes:
            members += (f["long"], f["lat"], f["worker_id"])
        pipe = client.pipeline(transaction=False)
        pipe.geoadd(key, members)
        pipe.execute()
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def measure(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    rng = random.Random(7)
    prefix = f"chbench:{secrets.token_hex(4)}:"
    r = redis.Redis.from_url(args.redis_url)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ch-bench-")))
        pg_url = stack.enter_context(temp_postgres())
        stack.callback(lambda: [r.delete(k) for k in r.scan_iter(match=f"{prefix}*")])
        settings = Settings(
            data_dir=tmp,
            database_url=pg_url,
            redis_url=args.redis_url,
            redis_prefix=prefix,
            secret_key="bench",
            simulator=False,
        )
        app = create_app(settings, with_dashboard=False)
        app.reload_directory(seed_demo(app.core, tmp, history=False))
        stack.callback(app.core.db.dispose)
        add_workers(app, args.workers, rng)
        server = LiveServer(app).start()
        stack.callback(server.stop)
        out.say(
            f"{len(app.names.workers)} workers; {args.clients} client threads, batches of "
            f"{args.batch}, {args.seconds:g} s measured after {args.warmup:g} s warm-up"
        )

        ids = sorted(app.names.workers)
        start_ms = int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1000)
        walks = []
        for c in range(args.clients):
            mine = []
            for worker_id in ids[c :: args.clients]:
                grid = app.names.units[app.names.workers[worker_id].grid_id]
                long, lat = centroid(grid.polygon[0])
                mine.append((worker_id, lat, long))
            walks.append(Walk(mine, start_ms))
        key = create_api_key(app.core, "bench-positions")
        load, started = run_load(f"{server.url}/api/positions", walks, args, key)
        load_done = time.monotonic()
        writer = positions_of(app.core).history
        if not writer.flush(120):
            raise SystemExit("bench_positions: the history writer did not catch up in 120 s")
        written_at = time.monotonic()
        with app.core.db.read() as session:
            rows = int(session.scalar(select(func.count()).select_from(PositionRow)) or 0)
        out.say(f"history caught up {written_at - load_done:.2f} s after the load ended")

        geoadd = raw_geoadd(r, f"{prefix}bench:geo", load.sent)

    http_rate = load.measured / args.seconds
    written_rate = rows / (written_at - started)
    return {
        "workers": len(ids),
        "http_fixes_per_s": round(http_rate, 1),
        "requests": summarize_ms(load.latencies),
        "history_rows": rows,
        "accepted": load.accepted,
        "consistent": rows == load.accepted,
        "history_fixes_per_s": round(written_rate, 1),
        "history_lag_s": round(written_at - load_done, 2),
        "raw_geoadd_fixes_per_s": round(geoadd, 1),
        "http_over_raw_geoadd": ratio(http_rate, geoadd),
        "errors": load.errors,
        **({"first_error": load.first_error} if load.first_error else {}),
        "goal_fixes_per_s": GOAL,
        "goal_met": http_rate >= GOAL and written_rate >= GOAL,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time (60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured start (3)")
    parser.add_argument("--clients", type=int, default=6, help="client threads (6)")
    parser.add_argument("--batch", type=int, default=50, help="fixes per request (50)")
    parser.add_argument("--workers", type=int, default=2500, help="grid workers (2500)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    quiet_logs()
    out = Out(args.quiet)
    r = measure(args, out)
    out.say("")
    out.stats(
        "fixes per second",
        {
            "HTTP ingest (accepted)": {"per_s": r["http_fixes_per_s"]},
            "history (rows in the table)": {"per_s": r["history_fixes_per_s"]},
            "raw Redis GEOADD pipeline": {"per_s": r["raw_geoadd_fixes_per_s"]},
        },
        ("per_s",),
    )
    q = r["requests"]
    out.say(
        f"requests of {args.batch}: p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms, "
        f"p99 {q['p99_ms']} ms; HTTP / raw GEOADD = {r['http_over_raw_geoadd']}"
    )
    out.say(
        f"{r['accepted']} fixes accepted, {r['history_rows']} rows in positions: "
        f"{'ok' if r['consistent'] else 'MISMATCH'}; goal {GOAL}/s "
        f"{'met' if r['goal_met'] else 'NOT met'}"
    )
    failures = []
    if not r["consistent"]:
        failures.append(f"{r['accepted']} fixes accepted but {r['history_rows']} rows stored")
    if r["errors"]:
        failures.append(f"{r['errors']} failed requests ({r.get('first_error')})")
    for failure in failures:
        print(f"bench_positions: FAILED {failure}", file=sys.stderr)
    settings = {k: getattr(args, k) for k in ("seconds", "warmup", "clients", "batch")}
    out.result({"bench": "positions", "ok": not failures, **settings, **r})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
