"""Whistle-and-report (吹哨报到) and the SLA clock, over HTTP and the /live socket, on a clock
the test moves (FixedClock) and that `actions.tick` reads, as the worker process does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.orm import EventRow
from dispatch.api import openapi
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions
from dispatch.service.intake import NewReport, submit_report
from dispatch.service.queries import head_seq
from tests.screens import LiveScreen, screen_token
from tests.support import LiveServer, build_app, signed_in, with_users

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in the county
LEAD, CO = "urbanmgmt", ["police", "market"]


@dataclass
class Hall:
    """A served application on a test clock, a county wall screen and the duty officer."""

    app: App
    clock: FixedClock
    screen: LiveScreen
    duty: FlaskClient

    def now(self) -> datetime:
        return self.clock.now()

    def officer(self, username: str) -> FlaskClient:
        return signed_in(self.app, username)

    def act(self, client: FlaskClient, case_id: int, name: str, **params: Any) -> Any:
        return client.post(f"/api/cases/{case_id}/actions/{name}", json=params)

    def ok(self, client: FlaskClient, case_id: int, name: str, **params: Any) -> dict[str, Any]:
        answer = self.act(client, case_id, name, **params)
        assert answer.status_code == 200, (name, answer.get_json())
        body: dict[str, Any] = answer.get_json()
        conforms("ActionResult", body)
        return body

    def detail(self, case_id: int) -> dict[str, Any]:
        answer = self.duty.get(f"/api/cases/{case_id}/detail")
        assert answer.status_code == 200
        body: dict[str, Any] = answer.get_json()
        conforms("CaseDetail", body)
        return body

    def log(self, case_id: int) -> list[tuple[int, str]]:
        with self.app.core.db.read() as session:
            rows = session.execute(
                select(EventRow.seq, EventRow.type)
                .where(EventRow.case_id == case_id)
                .order_by(EventRow.seq)
            )
            return [(seq, kind) for seq, kind in rows]


@pytest.fixture
def hall(tmp_path: Path, db_url: str) -> Iterator[Hall]:
    clock = FixedClock(START)
    app = with_users(build_app(tmp_path, db_url, clock=clock))
    app.fanout.poll_interval = 0.2
    server = LiveServer(app).start()
    wall = LiveScreen(screen_token(app.settings.secret_key), last_seq=head_seq(app.core))
    try:
        wall.connect(server.url)
        yield Hall(app, clock, wall, signed_in(app, "duty"))
    finally:
        wall.disconnect()
        server.stop()
        app.core.db.dispose()


def conforms(schema: str, body: Any) -> None:
    """The body matches its schema in the OpenAPI document."""
    components = openapi.document()["components"]
    ref = {"$ref": f"#/components/schemas/{schema}", "components": components}
    jsonschema.Draft202012Validator(ref).validate(body)


def registered(hall: Hall, text: str = "老旧小区垃圾长期无人清运，多部门推诿") -> int:
    """A garbage report (immediate: 24 h) in a grid of the county, verified and registered."""
    grid = min(
        (u for u in hall.app.names.units.values() if u.kind is UnitKind.GRID and u.polygon),
        key=lambda u: u.id,
    )
    long, lat = centroid(grid.polygon[0])
    report = NewReport(service_code="garbage", lat=lat, long=long, description=text)
    case_id = submit_report(hall.app.core, report).case_id
    hall.ok(hall.duty, case_id, "verify")
    assert hall.ok(hall.duty, case_id, "register")["case"]["urgency"] == "immediate"
    return case_id


def whistled(hall: Hall) -> int:
    case_id = registered(hall)
    body = hall.ok(hall.duty, case_id, "whistle", lead=LEAD, co=CO, ack_minutes=30)
    assert body["case"]["state"] == "dispatched" and body["case"]["department"] == LEAD
    [blown] = body["events"]
    assert (blown["type"], blown["actor"]) == ("whistle.blown", "duty:duty")
    assert (blown["data"]["lead"], blown["data"]["co"]) == (LEAD, CO)
    return case_id


def parties(hall: Hall, case_id: int) -> list[tuple[str, str, str, bool]]:
    return [
        (p["department"], p["role"], p["state"], p["late"]) for p in hall.detail(case_id)["whistle"]
    ]


def answered(event: dict[str, Any]) -> tuple[str, bool]:
    """Who acknowledged, and whether late, from a whistle.acknowledged event."""
    return event["data"]["department"], event["data"]["late"]


def jpeg() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 60)).save(data, "JPEG")
    return data.getvalue()


# -- whistle-and-report --------------------------------------------------------------------


def test_a_whistle_from_the_call_to_the_close_over_http_and_the_wall(hall: Hall) -> None:
    case_id = whistled(hall)
    deadline = START + timedelta(minutes=30)
    detail = hall.detail(case_id)
    assert [(p["department"], p["role"], p["state"]) for p in detail["whistle"]] == [
        (LEAD, "lead", "waiting"), (CO[0], "co", "waiting"), (CO[1], "co", "waiting"),
    ]  # fmt: skip
    assert {datetime.fromisoformat(p["ack_deadline"]) for p in detail["whistle"]} == {deadline}
    queue = hall.duty.get("/api/queue").get_json()
    conforms("Queue", queue)
    [item] = [i for i in queue["buckets"]["whistles"]["items"] if i["id"] == case_id]
    assert [p["department"] for p in item["parties"]] == [LEAD, *CO]

    # Two departments acknowledge in time, each for itself whatever the form says.
    hall.clock.advance(timedelta(minutes=10))
    lead = hall.officer(f"dept-{LEAD}")
    [ack] = hall.ok(lead, case_id, "acknowledge", department=CO[0])["events"]
    assert (ack["type"], answered(ack)) == ("whistle.acknowledged", (LEAD, False))
    [ack] = hall.ok(hall.officer(f"dept-{CO[0]}"), case_id, "acknowledge")["events"]
    assert answered(ack) == (CO[0], False)
    assert [state for _, _, state, _ in parties(hall, case_id)] == [
        "acknowledged", "acknowledged", "waiting",
    ]  # fmt: skip

    # The third misses its deadline: the clock marks it red and the case goes up a level.
    hall.clock.advance(timedelta(minutes=21))
    ticked = actions.tick(hall.app.core)
    assert [(e.type, e.case_id) for e in ticked] == [
        ("whistle.overdue", case_id), ("case.escalated", case_id),
    ]  # fmt: skip
    assert ticked[0].payload["department"] == CO[1]
    assert ticked[1].payload["automatic"] is True and ticked[1].payload["level"] == "county"
    assert actions.tick(hall.app.core) == []  # red once
    assert parties(hall, case_id)[2] == (CO[1], "co", "waiting", True)
    assert hall.detail(case_id)["case"]["level"] == "county"
    late = hall.officer(f"dept-{CO[1]}")
    [ack] = hall.ok(late, case_id, "acknowledge")["events"]
    assert answered(ack) == (CO[1], True)

    # The case closes only when it is handled and every department has reported its part.
    refused = hall.act(hall.duty, case_id, "close")
    assert refused.status_code == 409 and "dispatched" in refused.get_json()["message"]
    hall.ok(lead, case_id, "accept")
    hall.ok(lead, case_id, "report_handled", result="垃圾已清运，建立长效保洁机制")
    waiting = [LEAD, *CO]
    for department, client in ((LEAD, lead), (CO[0], hall.officer(f"dept-{CO[0]}"))):
        refused = hall.act(hall.duty, case_id, "close")
        assert refused.status_code == 400
        error = refused.get_json()
        assert error["field"] == "whistle"
        assert [d for d in [LEAD, *CO] if d in error["message"]] == waiting
        hall.ok(client, case_id, "report_part", result=f"{department} 已完成本部门工作")
        waiting.remove(department)
    assert "market" in hall.act(hall.duty, case_id, "close").get_json()["message"]
    answer = late.post(
        f"/api/cases/{case_id}/actions/report_part",
        data={"result": "已查处无照经营", "photos": (io.BytesIO(jpeg()), "part.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_json()
    closed = hall.ok(hall.duty, case_id, "close")
    assert closed["case"]["state"] == "closed"
    detail = hall.detail(case_id)
    assert {p["state"] for p in detail["whistle"]} == {"reported"}
    assert [p["kind"] for p in detail["photos"]] == ["result"]

    # The wall saw every step, in the order of the log.
    log = hall.log(case_id)
    hall.screen.wait_for(lambda s: s.seq is not None and s.seq >= log[-1][0], 10, "the close")
    seen = [(e["seq"], e["type"]) for e in hall.screen.applied if e["case_id"] == case_id]
    assert seen == log
    assert [kind for _, kind in log] == [
        "case.reported", "case.verified", "case.registered", "whistle.blown",
        "whistle.acknowledged", "whistle.acknowledged", "whistle.overdue", "case.escalated",
        "whistle.acknowledged", "case.accepted", "case.handled", "whistle.reported",
        "whistle.reported", "whistle.reported", "case.closed",
    ]  # fmt: skip
    assert hall.screen.cases[case_id]["state"] == "closed"
    assert hall.screen.cases[case_id]["level"] == "county"


def test_only_a_called_department_answers_and_only_once_and_in_order(hall: Hall) -> None:
    case_id = whistled(hall)
    fire = hall.officer("dept-fire")
    answer = hall.act(fire, case_id, "acknowledge", department=LEAD)
    assert answer.status_code == 404
    assert answer.get_json()["message"] == f"case {case_id} does not exist"
    co = hall.officer(f"dept-{CO[0]}")
    premature = hall.act(co, case_id, "report_part", result="先报结果")
    assert premature.status_code == 400 and "acknowledge" in premature.get_json()["message"]
    hall.ok(co, case_id, "acknowledge")
    again = hall.act(co, case_id, "acknowledge")
    assert again.status_code == 400
    assert f"{CO[0]} acknowledged already" in again.get_json()["message"]
    # The centre may answer for a department it names (a phone call to the duty desk).
    [ack] = hall.ok(hall.duty, case_id, "acknowledge", department=CO[1])["events"]
    assert ack["data"]["department"] == CO[1] and ack["actor"] == "duty:duty"
    assert [state for _, _, state, _ in parties(hall, case_id)] == [
        "waiting", "acknowledged", "acknowledged",
    ]  # fmt: skip


def test_a_whistle_names_known_departments_once_with_a_sane_deadline(hall: Hall) -> None:
    case_id = registered(hall)
    for params, field in (
        ({"co": CO}, "lead"),
        ({"lead": "nosuch"}, "lead"),
        ({"lead": LEAD, "co": ["nosuch"]}, "co"),
        ({"lead": LEAD, "co": [LEAD]}, "co"),
        ({"lead": LEAD, "ack_minutes": 0}, "ack_minutes"),
        ({"lead": LEAD, "ack_minutes": "soon"}, "ack_minutes"),
    ):
        answer = hall.act(hall.duty, case_id, "whistle", **params)
        assert answer.status_code == 400, params
        assert answer.get_json()["field"] == field, params
    assert hall.detail(case_id)["case"]["state"] == "registered"


def test_a_co_handling_department_may_not_take_over_the_lead_departments_case(
    hall: Hall,
) -> None:
    case_id = whistled(hall)
    co = hall.officer(f"dept-{CO[0]}")
    hall.ok(co, case_id, "acknowledge")
    for name, params in (("accept", {}), ("return", {"reason": "不归我们"})):
        answer = hall.act(co, case_id, name, **params)
        assert answer.status_code == 403, (name, answer.get_json())
    assert hall.detail(case_id)["case"]["state"] == "dispatched"


# -- the SLA clock -------------------------------------------------------------------------


def test_an_immediate_case_past_its_deadline_turns_red_and_escalates_on_the_wall(
    hall: Hall,
) -> None:
    case_id = registered(hall, "垃圾满溢，气味很大")
    hall.ok(hall.duty, case_id, "dispatch")  # one click: the suggested unit and department
    detail = hall.detail(case_id)
    assert datetime.fromisoformat(detail["case"]["deadline"]) == START + timedelta(hours=24)
    hall.clock.advance(timedelta(hours=23, minutes=59))
    assert [e.type for e in actions.tick(hall.app.core)] == ["sla.yellow"]
    hall.clock.advance(timedelta(minutes=2))
    ticked = actions.tick(hall.app.core)
    assert [(e.type, e.case_id) for e in ticked] == [
        ("sla.red", case_id), ("case.escalated", case_id),
    ]  # fmt: skip
    assert ticked[1].payload["automatic"] is True
    assert ticked[1].payload["level"] == "county"
    assert actions.tick(hall.app.core) == []
    case = hall.detail(case_id)["case"]
    assert (case["light"], case["level"], case["state"]) == ("red", "county", "dispatched")
    overdue = hall.duty.get("/api/queue").get_json()["buckets"]["overdue"]["items"]
    assert case_id in [c["id"] for c in overdue]
    last = ticked[-1].seq
    hall.screen.wait_for(lambda s: s.seq is not None and s.seq >= last, 10, "the escalation")
    assert [e["type"] for e in hall.screen.applied if e["case_id"] == case_id][-3:] == [
        "sla.yellow", "sla.red", "case.escalated",
    ]  # fmt: skip
    assert hall.screen.cases[case_id]["light"] == "red"
