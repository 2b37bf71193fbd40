"""The wall's thirty days (dispatch/service/wall_stats.py) on a real database, and the browser
reducer folding a day into them at midnight exactly as the server counts it the next morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.orm import CaseRow
from dispatch.bootstrap import App
from dispatch.domain.access import CaseScope
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions, queries, wall_stats
from dispatch.service.intake import NewReport, submit_report
from realtime.log import events_after
from tests.support import build_app
from tests.unit.test_reducer import run_wall

# 23:40 in the county (UTC+8): the test crosses midnight twenty minutes later.
EVENING = datetime(2026, 11, 21, 15, 40, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir: Path = tmp_path_factory.mktemp("wall-stats")
    yield build_app(
        data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", history=True,
        clock=FixedClock(EVENING),
    )  # fmt: skip


def clock(app: App) -> FixedClock:
    fixed = app.core.clock
    assert isinstance(fixed, FixedClock)
    return fixed


def local_day(app: App, when: datetime) -> date:
    return when.astimezone(app.core.timezone).date()


def expected_history(app: App, township_id: int | None = None) -> list[dict[str, Any]]:
    """The rows counted the plain way: every case, one at a time."""
    today = local_day(app, clock(app).now())
    days = [today - timedelta(days=n) for n in range(29, 0, -1)]
    rows: dict[date, dict[str, Any]] = {
        d: {"day": d.isoformat(), "reported": {}, "categories": {}, "rated": [0, 0], "closed": {}}
        | ({"grids": {}} if (today - d).days < 7 else {})
        for d in days
    }

    def bump(counts: dict[str, int], key: object) -> None:
        counts[str(key)] = counts.get(str(key), 0) + 1

    with app.core.db.read() as session:
        for c in session.scalars(select(CaseRow)):
            if township_id is not None and c.township_id != township_id:
                continue
            row = rows.get(local_day(app, c.reported_at))
            if row is not None:
                bump(row["reported"], c.channel)
                bump(row["categories"], c.category or c.service_code)
                if "grids" in row and c.grid_id is not None:
                    bump(row["grids"], c.grid_id)
                if c.rating is not None:
                    row["rated"][0] += 1
                    row["rated"][1] += c.rating >= 3
            closed = rows.get(local_day(app, c.closed_at)) if c.closed_at else None
            if closed is not None and c.township_id is not None:
                pair = closed["closed"].setdefault(str(c.township_id), [0, 0])
                pair[0] += 1
                pair[1] += bool(c.on_time)
    return [rows[d] for d in days]


def test_history_counts_each_day_by_report_and_by_closing(app: App) -> None:
    rows = wall_stats.history(app.core, clock(app).now())
    assert rows == expected_history(app)
    assert sum(sum(r["reported"].values()) for r in rows) > 500  # three weeks of history
    assert any(r["closed"] for r in rows) and any(r["rated"][0] for r in rows)
    township = next(u.id for u in app.names.townships())
    assert wall_stats.history(app.core, clock(app).now(), township_id=township) == (
        expected_history(app, township)
    )


def test_the_snapshot_carries_the_stats_with_the_scopes_townships(app: App) -> None:
    snap = queries.snapshot(app.core, app.names)
    stats = snap["stats"]
    assert (stats["window_days"], stats["hot_days"]) == (30, 7)
    assert stats["townships"] == {str(u.id): u.name for u in app.names.townships()}
    township = next(u.id for u in app.names.townships())
    narrow = queries.snapshot(app.core, app.names, township_id=township)["stats"]
    assert list(narrow["townships"]) == [str(township)]
    phone = queries.snapshot(app.core, app.names, scope=CaseScope(worker_id=1))
    assert phone["stats"] is None  # a grid worker's phone draws no charts


def test_whistles_of_the_snapshots_cases_come_in_call_order(app: App) -> None:
    grid = min((u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id)
    long, lat = centroid(grid.polygon[0])
    case_id = submit_report(
        app.core, NewReport(service_code="road", lat=lat, long=long, description="路面塌陷")
    ).case_id
    actions.perform(app.core, case_id, "verify", {}, actor="test")
    actions.perform(app.core, case_id, "register", {}, actor="test")
    actions.perform(app.core, case_id, "whistle", {"lead": "transport", "co": ["urbanmgmt",
                    "emergency"], "ack_minutes": 15}, actor="test")  # fmt: skip
    actions.perform(app.core, case_id, "acknowledge", {"department": "emergency"}, actor="test")
    parties = [w for w in queries.snapshot(app.core, app.names)["stats"]["whistles"]
               if w["case_id"] == case_id]  # fmt: skip
    assert [(p["department"], p["role"]) for p in parties] == [
        ("transport", "lead"), ("urbanmgmt", "co"), ("emergency", "co"),
    ]  # fmt: skip
    deadline = clock(app).now() + timedelta(minutes=15)
    assert {datetime.fromisoformat(p["ack_deadline"]) for p in parties} == {deadline}
    assert [p["acknowledged_at"] is not None for p in parties] == [False, False, True]
    township = queries.get_case(app.core, app.names, case_id)["township_id"]
    elsewhere = next(u.id for u in app.names.townships() if u.id != township)
    other = queries.snapshot(app.core, app.names, township_id=elsewhere)["stats"]["whistles"]
    assert all(w["case_id"] != case_id for w in other)


def test_the_reducer_folds_the_day_at_midnight_as_the_server_counts_it_next_morning(
    app: App,
) -> None:
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id
    )
    old = queries.snapshot(app.core, app.names)
    # Before midnight: two reports (one registered and rated later), a closing.
    for n, grid in enumerate(grids[:2]):
        long, lat = centroid(grid.polygon[0])
        report = NewReport(
            service_code="garbage", lat=lat, long=long, description=f"垃圾满溢 {n}",
            channel="hotline",
        )  # fmt: skip
        submit_report(app.core, report)
    handled = next(c for c in old["cases"] if c["state"] == "handled")
    actions.perform(app.core, handled["id"], "close", {}, actor="test")
    before = events_after(app.core, app.names, old["seq"], limit=100_000)
    clock(app).advance(timedelta(minutes=30))  # 00:10 the next day
    # After midnight: the closed case is rated, another report comes in.
    actions.perform(app.core, handled["id"], "review", {"rating": 5}, actor="test")
    long, lat = centroid(grids[3].polygon[0])
    submit_report(app.core, NewReport(service_code="noise", lat=lat, long=long, description="噪音"))
    after = events_after(app.core, app.names, before[1], limit=100_000)
    fresh = queries.snapshot(app.core, app.names)
    assert fresh["day_start"] != old["day_start"]

    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": old},
            {"op": "applyBatch", "batch": {"from": old["seq"], "to": before[1],
                                           "events": before[0]}},
            # The browser's tick turns the day after the first events of the new one arrived.
            {"op": "applyBatch", "batch": {"from": before[1], "to": after[1], "events": after[0]}},
            {"op": "rollDay", "now": fresh["server_time"]},
        ]
    )  # fmt: skip
    state = out["state"]
    assert state["history"] == fresh["stats"]["history"]
    assert state["history"][-1]["day"] == "2026-11-21"
    assert state["history"][-1]["reported"]["hotline"] >= 2
    assert state["cases"] == {str(c["id"]): c for c in fresh["cases"]}
    fresh_state = run_wall([{"op": "fromSnapshot", "snapshot": fresh}])["state"]
    assert state["whistles"] == fresh_state["whistles"]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def histories(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    from tests.integration.conftest import app_per_database

    with app_per_database(request, tmp_path_factory, "histories", history=True) as app:
        yield app


def test_the_database_counts_the_days_as_the_cases_one_by_one_do(histories: App) -> None:
    """With one UTC offset over the window the database groups by local day; the rows equal
    the ones counted case by case, on SQLite and on PostgreSQL, county-wide and scoped."""
    core, now = histories.core, histories.core.clock.now()
    township = next(iter(histories.names.townships())).id
    for scoped in ({}, {"township_id": township}, {"scope": CaseScope(township_id=township)}):
        grouped = wall_stats.history(core, now, **scoped)
        one_by_one = wall_stats.history(core, now, by_database=False, **scoped)
        assert grouped == one_by_one, scoped
        assert sum(sum(r["reported"].values()) for r in grouped) > 100
