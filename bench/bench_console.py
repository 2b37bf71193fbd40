"""The duty console's read side at a million cases: queue buckets and case search on PostgreSQL.

A fresh schema `bench_console_<pid>` is migrated and given the demo county's organisation. N
generated cases (default 1,000,000: three years of history, ~97 % finished, a few thousand
open over every open state and light) and a few hundred whistle parties are bulk-loaded with
COPY; the cases' indexes (exactly as the migrations made them) are dropped for the load and
built again after it, and the tables are analysed. Then each operation is called in process,
as a page would call it, `--calls` times after a warm-up. Goal: p95 under 100 ms each.

    .venv/bin/python bench/bench_console.py [--cases 1000000] [--calls 200] [--explain] [--keep]

--explain prints EXPLAIN (ANALYZE, BUFFERS) of every statement one call of each operation runs.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import DEFAULT_PG_URL, PG_URL_ENV, Out, quiet_logs, summarize_ms

from dispatch.bootstrap import App
from dispatch.demo.county import build_demo_county
from dispatch.demo.seed import CATEGORY_WEIGHTS, CHANNEL_WEIGHTS
from dispatch.demo.texts import ADDRESS_STREETS, report_text
from dispatch.domain.access import CaseScope
from dispatch.domain.categories import CATEGORY_BY_CODE, DEPARTMENTS
from dispatch.domain.lifecycle import CLOCK_RUNS, CaseState
from dispatch.domain.sla import SlaPolicy, Urgency
from dispatch.service.queries import OPEN_STATES, ticket
from dispatch.service.queue import QueueFilter, duty_queue, office_queue, search_cases
from tests.support import build_app

GOAL_P95_MS = 100.0
YEARS = 3
S = CaseState
# The finished ones: what 97 % of three years' cases have become.
CLOSED_MIX = {S.REVIEWED: 90, S.CLOSED: 4, S.REJECTED: 3, S.MERGED: 2, S.CANCELLED: 1}
# Where open cases stand on a working day.
OPEN_MIX = {
    S.REPORTED: 8, S.VERIFIED: 4, S.REGISTERED: 6, S.DISPATCHED: 15, S.ACCEPTED: 12,
    S.HANDLING: 30, S.HANDLED: 10, S.RETURNED: 3, S.SUSPENDED: 4, S.ESCALATED: 4,
    S.REOPENED: 4,
}  # fmt: skip
UNCLASSIFIED = frozenset({S.REPORTED, S.VERIFIED, S.REJECTED})
# Words of the generated texts, 0.8-5 % of cases each, and words in few cases or none.
WORDS = ("垃圾桶", "井盖", "广场舞", "停车费", "漏水", "电梯", "油烟", "一直没有处理")
RARE_WORDS = ("马蜂", "燃气", "火星基地", "活禽", "飞线", "量子", "潜水艇码头")
COLUMNS = (
    "id", "channel", "service_code", "category", "description", "address", "lat", "long",
    "township_id", "community_id", "grid_id", "level", "state", "urgency", "light", "unit_id",
    "department", "worker_id", "sla_started_at", "sla_budget_s", "sla_paused_total_s",
    "deadline", "light_due_at", "rating", "on_time", "reopen_count", "reported_at",
    "updated_at", "closed_at", "media_url", "reporter_first_name", "reporter_last_name",
    "reporter_email", "reporter_phone", "reporter_device_id", "submitted_by", "attributes",
)  # fmt: skip
PARTY_COLUMNS = (
    "case_id",
    "department",
    "role",
    "ack_deadline",
    "acknowledged_at",
    "reported_at",
    "report",
    "late",
)
NULL = "\\N"


# -- the schema -------------------------------------------------------------------------------


def schema_url(name: str) -> tuple[sa.Engine, str]:
    """An autocommit admin engine, and the URL of schema `name` (created here)."""
    url = sa.make_url(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    scoped = url.update_query_dict({"options": f"-csearch_path={name}"})
    return admin, scoped.render_as_string(hide_password=False)


# -- generated cases --------------------------------------------------------------------------


@dataclass
class Place:
    lat: float
    long: float
    grid_id: int
    community_id: int | None
    township_id: int
    township: str


@dataclass
class Loaded:
    """What the timed operations need to know about the generated data."""

    cases: int = 0
    open_cases: int = 0
    parties: int = 0
    samples: list[tuple[int, datetime]] = field(default_factory=list)  # (id, reported_at)
    addresses: list[str] = field(default_factory=list)  # rare searches: one house each
    townships: list[int] = field(default_factory=list)
    # (case id, its department, reported at, still open): the cases that get whistle parties
    whistled: list[tuple[int, str, datetime, bool]] = field(default_factory=list)


def places(app: App, per_grid: int = 12, seed: int = 2024) -> list[Place]:
    """A few points inside every grid, located once (locating a million would take long)."""
    county = build_demo_county(seed)
    rng = random.Random(seed)
    out = []
    for grid in county.grids():
        for _ in range(per_grid):
            long, lat = county.random_point_in(grid.id, rng)
            where = app.core.grids.locate(long, lat)
            if where.grid_id is not None and where.township_id is not None:
                township = app.names.unit_name(where.township_id)
                out.append(
                    Place(lat, long, where.grid_id, where.community_id, where.township_id, township)
                )
    return out


def _ts(value: datetime | None) -> str:
    return value.isoformat() if value is not None else NULL


def _weighted(rng: random.Random, mix: dict[Any, int], k: int) -> list[Any]:
    return rng.choices(list(mix), weights=list(mix.values()), k=k)


class CaseMaker:
    """Rows of the cases table as COPY text: one case per call, ids in order of report."""

    def __init__(self, app: App, n: int, now: datetime, rng: random.Random) -> None:
        self.rng, self.now = rng, now
        self.places = places(app)
        self.workers = {
            p.grid_id: [w.id for w in app.names.workers_in_grid(p.grid_id)] for p in self.places
        }
        self.policy = SlaPolicy()
        self.start = now - timedelta(days=365 * YEARS)
        self.step = (now - self.start).total_seconds() / n
        # Open cases are mostly of the last weeks; a few old ones hang on (suspended, stuck).
        n_open = max(60, n // 200)
        recent = range(int(n * 0.98), n)
        self.open = set(rng.sample(recent, min(len(recent), n_open * 95 // 100)))
        self.open |= set(rng.sample(range(int(n * 0.98)), n_open - len(self.open)))
        self.codes = _weighted(rng, CATEGORY_WEIGHTS, n)
        self.channels = _weighted(rng, CHANNEL_WEIGHTS, n)
        self.closed_states = _weighted(rng, CLOSED_MIX, n)
        self.open_states = _weighted(rng, OPEN_MIX, len(self.open))
        self.urgencies = list(Urgency)

    def row(self, i: int, loaded: Loaded) -> str:
        rng, now = self.rng, self.now
        case_id = i + 1
        reported = self.start + timedelta(seconds=i * self.step)
        code = self.codes[i]
        category = CATEGORY_BY_CODE[code]
        place = rng.choice(self.places)
        street = rng.choice(ADDRESS_STREETS)
        address = f"{place.township}{street}{rng.randint(1, 300)}号"
        description = report_text(code, f"{place.township}{street}", rng)
        is_open = i in self.open
        state = self.open_states.pop() if is_open else self.closed_states[i]
        classified = state not in UNCLASSIFIED
        urgency = category.default_urgency if rng.random() < 0.85 else rng.choice(self.urgencies)
        budget = self.policy.budgets[Urgency(urgency)]
        started = reported + timedelta(minutes=rng.uniform(5, 90)) if classified else None
        deadline = started + budget if started is not None else None
        light, light_due, worker = "green", None, None
        closed_at, on_time, rating = None, None, None
        updated = reported + timedelta(minutes=rng.uniform(1, 60))
        if is_open and started is not None:
            # The light the clock would show now: red past the deadline, yellow after 2/3.
            roll = rng.random()
            if roll < 0.10:
                light, deadline = "red", now - timedelta(hours=rng.uniform(0.5, 72))
            elif roll < 0.25:
                light, deadline = "yellow", now + budget * rng.uniform(0.02, 0.3)
            else:
                deadline = max(deadline, now + budget * rng.uniform(0.35, 1.0))
            if state in CLOCK_RUNS:
                light_due = deadline if light == "yellow" else deadline - budget / 3
                light_due = None if light == "red" else light_due
            if state in (S.ACCEPTED, S.HANDLING, S.HANDLED) and self.workers[place.grid_id]:
                worker = rng.choice(self.workers[place.grid_id])
        elif not is_open:
            closed_at = reported + timedelta(hours=rng.expovariate(1 / 30))
            updated = closed_at
            if started is not None and deadline is not None:
                on_time = closed_at <= deadline
                light = "green" if on_time else "red"
            if state == S.REVIEWED:
                rating = rng.choices((5, 4, 3, 2, 1), weights=(70, 18, 6, 4, 2))[0]
        if updated > now:
            updated = now
        department = category.department if classified and state != S.REGISTERED else None
        if is_open:
            loaded.open_cases += 1
            if state in CLOCK_RUNS and department and rng.random() < 0.04:
                loaded.whistled.append((case_id, department, reported, True))
        elif state == S.REVIEWED and rng.random() < 0.0001:
            loaded.whistled.append((case_id, category.department, reported, False))
        if rng.random() < 0.002:
            loaded.samples.append((case_id, reported))
        if rng.random() < 0.0002:
            loaded.addresses.append(address)
        fields = (
            str(case_id), self.channels[i], code, code if classified else NULL, description,
            address, f"{place.lat:.6f}", f"{place.long:.6f}", str(place.township_id),
            str(place.community_id) if place.community_id is not None else NULL,
            str(place.grid_id), "township", state.value,
            urgency if classified else NULL, light,
            str(place.township_id) if department else NULL, department or NULL,
            str(worker) if worker else NULL, _ts(started),
            f"{budget.total_seconds():.0f}" if started else NULL, "0", _ts(deadline),
            _ts(light_due), str(rating) if rating else NULL,
            NULL if on_time is None else ("t" if on_time else "f"), "0", _ts(reported),
            _ts(updated), _ts(closed_at), "", "", "", "", "", "", "bench", "{}",
        )  # fmt: skip
        return "\t".join(fields) + "\n"


def party_rows(loaded: Loaded, now: datetime, rng: random.Random) -> Iterator[str]:
    """2-4 departments per whistled case; open cases' parties in every state."""
    codes = [d.code for d in DEPARTMENTS]
    for case_id, lead, reported, still_open in loaded.whistled:
        co = rng.sample([c for c in codes if c != lead], rng.randint(1, 3))
        blown = (
            max(reported, now - timedelta(hours=rng.uniform(0.1, 48))) if still_open else reported
        )
        deadline = blown + timedelta(minutes=30)
        for role, dept in [("lead", lead)] + [("co", c) for c in co]:
            stage = (
                rng.choice(("waiting", "acknowledged", "reported")) if still_open else "reported"
            )
            acked = deadline - timedelta(minutes=rng.uniform(1, 29)) if stage != "waiting" else None
            done = acked + timedelta(hours=rng.uniform(1, 20)) if stage == "reported" else None
            late = stage == "waiting" and deadline < now
            yield "\t".join(
                (str(case_id), dept, role, _ts(deadline), _ts(acked), _ts(done),
                 "已处理" if done else NULL, "t" if late else "f")
            ) + "\n"  # fmt: skip
            loaded.parties += 1


@dataclass(frozen=True)
class IndexDef:
    name: str
    definition: str
    statistics: tuple[tuple[int, int], ...]  # (column, target) set by a migration


def drop_indexes(conn: sa.Connection) -> list[IndexDef]:
    """Drop the cases' secondary indexes; what it takes to make them again, exactly."""
    rows = conn.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),"
        " array(SELECT array[a.attnum::int, a.attstattarget::int] FROM pg_attribute a"
        "       WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0)"
        " FROM pg_index i WHERE i.indrelid = 'cases'::regclass AND NOT i.indisprimary"
    ).all()
    indexes = [IndexDef(name, sql, tuple((c, t) for c, t in stats)) for name, sql, stats in rows]
    for index in indexes:
        conn.exec_driver_sql(f"DROP INDEX {index.name}")
    conn.commit()
    return indexes


def build_indexes(engine: sa.Engine, indexes: list[IndexDef], out: Out) -> None:
    """Build them on two connections at once (the GIN ones take most of the time)."""

    def build(index: IndexDef) -> None:
        with engine.connect() as conn:
            began = time.monotonic()
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            conn.exec_driver_sql(index.definition)
            for column, target in index.statistics:
                conn.exec_driver_sql(
                    f"ALTER INDEX {index.name} ALTER COLUMN {column} SET STATISTICS {target}"
                )
            conn.commit()
            out.say(f"  index {index.name}: {time.monotonic() - began:.1f} s")

    slowest_first = sorted(indexes, key=lambda i: "gin" not in i.definition)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(build, slowest_first))


def load(app: App, engine: sa.Engine, n: int, out: Out) -> tuple[Loaded, dict[str, float]]:
    """COPY n cases and their whistle parties, indexes off during the load and rebuilt after."""
    rng = random.Random(42)
    now = app.core.clock.now()
    loaded = Loaded(cases=n, townships=[t.id for t in app.names.townships()])
    timings: dict[str, float] = {}
    began = time.monotonic()
    maker = CaseMaker(app, n, now, rng)
    with engine.connect() as conn:
        indexes = drop_indexes(conn)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            chunk: list[str] = []
            for i in range(n):
                chunk.append(maker.row(i, loaded))
                if len(chunk) == 20_000:
                    copy.write("".join(chunk))
                    chunk.clear()
                    if (i + 1) % 200_000 == 0:
                        out.say(f"  {i + 1:,} cases written ({time.monotonic() - began:.0f} s)")
            copy.write("".join(chunk))
        with cursor.copy(f"COPY whistle_parties ({', '.join(PARTY_COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join(party_rows(loaded, now, rng)))
        conn.exec_driver_sql("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
        conn.commit()
    timings["copy_s"] = time.monotonic() - began
    began = time.monotonic()
    build_indexes(engine, indexes, out)
    timings["index_s"] = time.monotonic() - began
    began = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) cases")
        conn.exec_driver_sql("VACUUM (ANALYZE) whistle_parties")
    timings["analyze_s"] = time.monotonic() - began
    return loaded, {k: round(v, 1) for k, v in timings.items()}


# -- the operations ---------------------------------------------------------------------------

Call = Callable[[], object]


def operations(app: App, loaded: Loaded) -> dict[str, Call]:
    """Each operation, as a callable that varies its arguments from call to call."""
    core, names = app.core, app.names
    everything = CaseScope()
    township = itertools.cycle(loaded.townships)
    category = itertools.cycle(sorted(CATEGORY_BY_CODE))
    state = itertools.cycle(OPEN_STATES)
    departments = itertools.cycle(sorted({w[1] for w in loaded.whistled} or {"police"}))
    samples = itertools.cycle(loaded.samples)
    words = itertools.cycle(WORDS)
    addresses = itertools.cycle(loaded.addresses or ["人民路1号"])
    rare = itertools.cycle(RARE_WORDS)

    def duty(narrow: Callable[[], dict[str, Any]]) -> Call:
        return lambda: duty_queue(core, names, scope=everything, f=QueueFilter(**narrow()))

    def search(
        text: Callable[[], str], scope: Callable[[], CaseScope] = lambda: everything
    ) -> Call:
        return lambda: search_cases(core, names, scope=scope(), text=text())

    def ticket_of() -> str:
        case_id, reported = next(samples)
        return ticket(case_id, reported)

    return {
        "duty_queue": lambda: duty_queue(core, names, scope=everything, f=QueueFilter()),
        "duty_queue township": duty(lambda: {"township_id": next(township)}),
        "duty_queue category": duty(lambda: {"category": next(category)}),
        "duty_queue state": duty(lambda: {"state": next(state)}),
        "office_queue township": lambda: office_queue(
            core, names, scope=CaseScope(township_id=next(township)), f=QueueFilter()
        ),
        "office_queue department": lambda: office_queue(
            core, names, scope=CaseScope(department=next(departments)), f=QueueFilter()
        ),
        "search ticket": search(ticket_of),
        "search id": search(lambda: str(next(samples)[0])),
        "search word": search(lambda: next(words)),
        "search address": search(lambda: next(addresses)),
        "search rare word": search(lambda: next(rare)),
        "search word township": search(
            lambda: next(words), lambda: CaseScope(township_id=next(township))
        ),
        "search rare word township": search(
            lambda: next(rare), lambda: CaseScope(township_id=next(township))
        ),
    }


def time_calls(call: Call, *, calls: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(calls):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return seconds


def explain(app: App, name: str, call: Call, out: Out) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one call runs."""
    engine = app.core.db.read_engine
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    out.say(f"\n=== {name}: {len(captured)} statements")
    with engine.connect() as conn:
        for statement, params in captured:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue  # SET LOCAL plan_cache_mode
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            lines = [row[0] for row in plan]
            out.say(" ".join(statement.split())[:160])
            for line in lines:
                out.say("    " + line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to load")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--keep", action="store_true", help="leave the schema in place")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    if args.cases < 1000:
        parser.error("--cases must be at least 1000")
    quiet_logs()
    out = Out(args.quiet)
    name = f"bench_console_{os.getpid()}"
    admin, url = schema_url(name)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ch-bench-") as tmp:
            app = build_app(Path(tmp), url, with_dashboard=False)
            try:
                out.say(f"schema {name}: loading {args.cases:,} cases")
                loaded, load_times = load(app, app.core.db.write_engine, args.cases, out)
                out.say(
                    f"loaded {loaded.cases:,} cases ({loaded.open_cases:,} open) and "
                    f"{loaded.parties} whistle parties: COPY {load_times['copy_s']} s, "
                    f"indexes {load_times['index_s']} s, VACUUM ANALYZE {load_times['analyze_s']} s"
                )
                ops = operations(app, loaded)
                if args.explain:
                    for op_name, call in ops.items():
                        explain(app, op_name, call, out)
                for op_name, call in ops.items():
                    stats = summarize_ms(time_calls(call, calls=args.calls, warmup=args.warmup))
                    stats["verdict"] = "PASS" if stats["p95_ms"] < GOAL_P95_MS else "FAIL"
                    results[op_name] = stats
            finally:
                app.core.db.dispose()
    finally:
        if args.keep:
            out.say(f"kept schema {name}: {url}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        admin.dispose()
    out.say("")
    out.stats(
        f"{args.cases:,} cases", results, ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "verdict")
    )
    failed = [op for op, r in results.items() if r["verdict"] != "PASS"]
    for op in failed:
        print(f"bench_console: FAILED {op}: p95 {results[op]['p95_ms']} ms", file=sys.stderr)
    out.result(
        {
            "bench": "console", "ok": not failed, "cases": args.cases,
            "open_cases": loaded.open_cases, "whistle_parties": loaded.parties,
            "goal_p95_ms": GOAL_P95_MS, "load": load_times, **results,
        }
    )  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
