"""The cases screens start from, kept in memory (dispatch/service/screen_cases.py): always the
same as reading them from the database, while reading only what the log says changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.adapters.clock import FixedClock
from dispatch.bootstrap import App
from dispatch.domain.access import CaseScope
from dispatch.service import queries, screen_cases
from dispatch.service.screen_cases import ScreenCases
from tests.integration.test_reducer_vs_server import change_things, grid_points
from tests.support import build_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    clock = FixedClock(datetime(2026, 11, 22, 14, 0, tzinfo=UTC))  # 22:00 in the county
    yield build_app(tmp_path, f"sqlite:///{tmp_path / 'commandhall.db'}", history=True,
                    clock=clock)  # fmt: skip


def from_database(app: App, township_id: int | None = None) -> tuple[int, list[dict]]:
    midnight = queries.local_midnight(app.core, app.core.clock.now())
    return queries.read_screen_cases(app.core, app.names, midnight, township_id=township_id)


def test_the_kept_cases_follow_every_change_reading_only_what_the_log_touched(app: App) -> None:
    cache = app.core.screen_cases
    assert isinstance(cache, ScreenCases)
    first = queries.snapshot(app.core, app.names)
    assert (first["seq"], first["cases"]) == from_database(app) and len(first["cases"]) > 50
    change_things(app, first)
    later = queries.snapshot(app.core, app.names)
    assert later["seq"] > first["seq"]
    assert (later["seq"], later["cases"]) == from_database(app)
    assert (cache.rebuilds, cache.tails) == (1, 1)
    township = first["cases"][0]["township_id"]
    scoped = queries.snapshot(app.core, app.names, township_id=township)
    assert (scoped["seq"], scoped["cases"]) == from_database(app, township)
    town_screen = queries.snapshot(app.core, app.names, scope=CaseScope(township_id=township))
    assert town_screen["cases"] == scoped["cases"]
    assert cache.rebuilds == 1, "a township's screen read every case again"


def test_cases_closed_on_an_earlier_day_leave_after_midnight(app: App) -> None:
    from dispatch.service import actions

    snap = queries.snapshot(app.core, app.names)
    handled = next(c for c in snap["cases"] if c["state"] == "handled")
    actions.perform(app.core, handled["id"], "close", {}, actor="test")
    closed_today = queries.snapshot(app.core, app.names)["cases"]
    assert any(c["id"] == handled["id"] and c["state"] == "closed" for c in closed_today)
    clock = app.core.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=3))  # past the county's midnight
    after = queries.snapshot(app.core, app.names)
    assert handled["id"] not in {c["id"] for c in after["cases"]}
    assert (after["seq"], after["cases"]) == from_database(app)


def test_a_cache_far_behind_the_log_reads_every_case_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dispatch.service.intake import NewReport, submit_report

    cache = app.core.screen_cases
    assert cache is not None
    queries.snapshot(app.core, app.names)
    monkeypatch.setattr(screen_cases, "MAX_TAIL", 2)
    for long, lat in grid_points(app, 3):
        submit_report(
            app.core, NewReport(service_code="garbage", lat=lat, long=long, description="满溢")
        )
    snap = queries.snapshot(app.core, app.names)
    assert (cache.rebuilds, cache.tails) == (2, 0)
    assert (snap["seq"], snap["cases"]) == from_database(app)


def test_a_departments_screen_reads_its_cases_from_the_database(app: App) -> None:
    cache = app.core.screen_cases
    assert cache is not None
    department = next(c["department"] for c in from_database(app)[1] if c["department"])
    snap = queries.snapshot(app.core, app.names, scope=CaseScope(department=department))
    assert snap["cases"]
    midnight = queries.local_midnight(app.core, app.core.clock.now())
    expected = queries.read_screen_cases(
        app.core, app.names, midnight, scope=CaseScope(department=department)
    )
    assert snap["cases"] == expected[1]
    assert cache.seq == -1, "the county-wide cache was read for a department"
