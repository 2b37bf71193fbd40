"""What the benchmarks share: the served county, a throwaway PostgreSQL database, percentiles,
report points and output.

The benchmarks run as scripts (`make bench` runs `python bench/bench_x.py`), so this module
puts the repository root on `sys.path`: `tests.support` builds the application they measure.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import multiprocessing
import os
import secrets
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service.queries import case_id_from_ticket

# `dispatch` is installed (editable); `tests` is not, and only the repository root holds it.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import LiveServer, build_app  # noqa: E402

# The same variable the test suite reads; unset means the local trust-auth server.
PG_URL_ENV = "COMMANDHALL_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CODES = ("garbage", "road", "parking", "noise")  # service codes the reports cycle through


def quiet_logs() -> None:
    """Only the application's warnings. Werkzeug's own log is off: it logs every request,
    and each websocket closed against its server leaves a spurious "400 Bad request" line
    (the client's close frame read as a new request). A failed request shows in the figures."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)


@contextmanager
def temp_postgres() -> Iterator[str]:
    """URL of a fresh database `ch_bench_<hex>`, dropped (even with open sessions) afterwards."""
    url = sa.make_url(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)
    if url.drivername == "postgresql":  # psycopg2 is not installed; psycopg 3 is
        url = url.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"ch_bench_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def serve_county(
    stack: ExitStack, *, postgres: bool, history: bool = False, dashboard: bool = False
) -> LiveServer:
    """The seeded demo county on a real port, on a temporary SQLite file or a throwaway
    PostgreSQL database; `stack` stops the server and removes the database when it closes."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ch-bench-")))
    url = stack.enter_context(temp_postgres()) if postgres else f"sqlite:///{tmp}/bench.db"
    app = build_app(tmp, url, history=history, with_dashboard=dashboard)
    stack.callback(app.core.db.dispose)
    server = LiveServer(app).start()
    stack.callback(server.server.server_close)
    stack.callback(server.stop)
    return server


class ServerProcess:
    """A benchmark's server in a process of its own (spawned), so its CPU time is its own:
    `target(conn, *args)` answers each message sent down the pipe; "quit" ends it."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        self._lock = asyncio.Lock()

    async def ask(self, *message: Any) -> Any:
        async with self._lock:
            return await asyncio.to_thread(self._ask, message)

    def _ask(self, message: tuple[Any, ...]) -> Any:
        self.conn.send(message)
        return self.conn.recv()

    async def stop(self) -> None:
        await self.ask("quit")
        self.process.join(10)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile of sorted values, interpolating linearly between ranks."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """Count, p50/p95/p99 and max of durations given in seconds, reported in milliseconds."""
    ordered = sorted(seconds)
    stats: dict[str, float | int] = {"n": len(ordered)}
    for p in (50, 95, 99):
        stats[f"p{p}_ms"] = round(percentile(ordered, p) * 1000, 2)
    stats["max_ms"] = round(ordered[-1] * 1000, 2) if ordered else math.nan
    return stats


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else math.nan


def report_stream(app: App) -> Callable[[], dict[str, str]]:
    """An endless, thread-safe stream of valid Open311 report fields spread over every grid."""
    points = []  # (lat, long) of one point inside each grid
    for unit in sorted(app.names.units.values(), key=lambda u: u.id):
        long, lat = centroid(unit.polygon[0]) if unit.kind == UnitKind.GRID else (0.0, 0.0)
        if unit.kind == UnitKind.GRID and app.core.grids.locate(long, lat).grid_id is not None:
            points.append((lat, long))
    if not points:
        raise SystemExit("bench: the seeded county has no grid whose centroid lies inside it")
    counter = itertools.count()

    def next_report() -> dict[str, str]:
        n = next(counter)
        lat, long = points[n % len(points)]
        return {
            "service_code": CODES[n % len(CODES)],
            "lat": f"{lat:.6f}",
            "long": f"{long:.6f}",
            "description": f"基准测试 #{n}：小区门口垃圾桶满溢",
        }

    return next_report


def post_report(session: requests.Session, base_url: str, key: str, fields: dict[str, str]) -> int:
    """POST one Open311 request with a fresh Idempotency-Key; the new case's id, or raise."""
    response = session.post(
        f"{base_url}/open311/v2/requests.json",
        data={**fields, "api_key": key},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    if response.status_code != 201:
        raise RuntimeError(f"POST requests: HTTP {response.status_code} {response.text[:200]}")
    return case_id_from_ticket(str(response.json()[0]["service_request_id"]))


class Out:
    """Progress and tables for people (silenced by --quiet); one JSON line for machines."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    def stats(self, title: str, rows: dict[str, dict[str, Any]], columns: Sequence[str]) -> None:
        """A table of one row per name and one column per figure ("" where a row has none)."""
        header = [title, *(c.replace("_ms", " ms").replace("_", " ") for c in columns)]
        cells = [header]
        for name, figures in rows.items():
            cells.append([name, *(_cell(figures.get(c, "")) for c in columns)])
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        for i, row in enumerate(cells):
            self.say(
                "  ".join(
                    [row[0].ljust(widths[0])]
                    + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
                )
            )
            if i == 0:
                self.say("  ".join("-" * w for w in widths))

    def result(self, payload: dict[str, Any]) -> None:
        """The last line of output: the figures as JSON, NaN written as null."""
        print(json.dumps(_finite(payload), ensure_ascii=False, allow_nan=False), flush=True)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:,.2f}"
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
