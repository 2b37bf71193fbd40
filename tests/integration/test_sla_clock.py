"""The SLA clock over the database: lights change on time, once, and never while suspended."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.orm import CaseRow
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions
from dispatch.service.intake import NewReport, submit_report
from tests.integration.test_event_log import T0
from tests.support import build_app


def registered_case(app, urgency: str) -> int:
    grid = next(u for u in app.names.units.values() if u.kind == UnitKind.GRID)
    long, lat = centroid(grid.polygon[0])
    case_id = submit_report(
        app.core, NewReport(service_code="road", lat=lat, long=long, description="路灯不亮")
    ).case_id
    actions.perform(app.core, case_id, "verify")
    actions.perform(app.core, case_id, "register", {"urgency": urgency})
    return case_id


def light_of(app, case_id: int) -> tuple[str, object]:
    with app.core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None
        return row.light, row.light_due_at


def test_lights_turn_yellow_at_two_thirds_and_red_at_the_deadline_once(
    tmp_path: Path, db_url: str
) -> None:
    clock = FixedClock(T0)
    app = build_app(tmp_path, db_url, clock=clock, with_dashboard=False)
    case_id = registered_case(app, "urgent")  # 3 days
    assert light_of(app, case_id) == ("green", T0 + timedelta(days=2))
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert actions.tick(app.core) == []
    clock.advance(timedelta(seconds=1))
    [yellow] = actions.tick(app.core)
    assert yellow.type == "sla.yellow" and yellow.case_id == case_id
    assert light_of(app, case_id) == ("yellow", T0 + timedelta(days=3))
    assert actions.tick(app.core) == []
    clock.advance(timedelta(days=1))
    # At red the case escalates one level by itself (the handler keeps it).
    [red, escalated] = actions.tick(app.core)
    assert (red.type, escalated.type) == ("sla.red", "case.escalated")
    assert escalated.payload["automatic"] is True and escalated.payload["level"] == "county"
    assert light_of(app, case_id) == ("red", None)
    clock.advance(timedelta(days=5))
    assert actions.tick(app.core) == []


def test_a_suspended_case_keeps_its_light_and_resumes_with_the_time_it_had(
    tmp_path: Path, db_url: str
) -> None:
    clock = FixedClock(T0)
    app = build_app(tmp_path, db_url, clock=clock, with_dashboard=False)
    case_id = registered_case(app, "immediate")  # 24 h, yellow at 16 h
    clock.advance(timedelta(hours=10))
    actions.perform(app.core, case_id, "suspend", {"reason": "等待天晴施工"})
    assert light_of(app, case_id) == ("green", None)
    clock.advance(timedelta(days=3))
    assert actions.tick(app.core) == []
    actions.perform(app.core, case_id, "resume")
    assert light_of(app, case_id) == ("green", clock.now() + timedelta(hours=6))
    clock.advance(timedelta(hours=6))
    assert [e.type for e in actions.tick(app.core)] == ["sla.yellow"]


def test_jumping_past_the_deadline_gives_yellow_then_red_in_order(
    tmp_path: Path, db_url: str
) -> None:
    clock = FixedClock(T0)
    app = build_app(tmp_path, db_url, clock=clock, with_dashboard=False)
    ids = [registered_case(app, "immediate") for _ in range(3)]
    clock.advance(timedelta(days=2))
    events = actions.tick(app.core)
    assert [e.type for e in events] == ["sla.yellow", "sla.red", "case.escalated"] * 3
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    with app.core.db.read() as session:
        lights = session.scalars(select(CaseRow.light).where(CaseRow.id.in_(ids))).all()
    assert lights == ["red"] * 3
