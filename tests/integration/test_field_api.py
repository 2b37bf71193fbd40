"""The API the grid worker's phone (/field) uses, with real device tokens, on SQLite and
PostgreSQL: its own tasks only, its own positions only, retries made harmless by the
Idempotency-Key, and reports from patrol that become grid cases with their photos.

The shared `seeded` apps are used by other modules too: these tests use the workers with the
highest ids (nobody else moves them) and count only their own cases' rows.
"""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow, EventRow, PhotoRow
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid, point_in_polygon
from dispatch.service import actions
from dispatch.service.intake import NewReport, submit_report
from tests.integration.conftest import Seeded
from tests.support import device_token, with_users


def home(app: App, worker_id: int) -> tuple[float, float]:
    """(lat, long) inside the worker's own grid."""
    grid = app.names.units[app.names.workers[worker_id].grid_id]
    long, lat = centroid(grid.polygon[0])
    if not point_in_polygon(long, lat, grid.polygon):
        long, lat = grid.polygon[0][0]
    return lat, long


def workers(app: App) -> tuple[int, int]:
    """Two grid workers of different grids, from the end of the list."""
    ordered = sorted(app.names.workers.values(), key=lambda w: w.id, reverse=True)
    first = ordered[0]
    second = next(w for w in ordered if w.grid_id != first.grid_id)
    return first.id, second.id


def phone(app: App, worker_id: int) -> FlaskClient:
    """A test client that signs every request with a new device token of the worker."""
    with_users(app)  # idempotent: only accounts that do not exist yet are made
    client = app.flask.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {device_token(app, worker_id)}"
    return client


def dispatched(app: App, worker_id: int, text: str = "井盖缺失，需要处置") -> int:
    """A case in the worker's grid, verified, registered and dispatched to the worker."""
    lat, long = home(app, worker_id)
    report = NewReport(service_code="road", lat=lat, long=long, description=text)
    case_id = submit_report(app.core, report).case_id
    for action in ("verify", "register"):
        actions.perform(app.core, case_id, action, {}, actor="duty:test")
    actions.perform(app.core, case_id, "dispatch", {"worker_id": worker_id}, actor="duty:test")
    return case_id


def jpeg(colour: str = "olive") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def count(app: App, model: Any, *where: Any) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_device_token_lists_its_own_workers_tasks_and_nobody_elses(seeded: Seeded) -> None:
    app = seeded.app
    mine, other = workers(app)
    own_case, other_case = dispatched(app, mine), dispatched(app, other)
    answer = phone(app, mine).get("/api/field/tasks")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["worker"] == {
        "id": mine,
        "name": app.names.workers[mine].name,
        "grid_id": app.names.workers[mine].grid_id,
        "grid": app.names.unit_name(app.names.workers[mine].grid_id),
    }
    ids = [t["id"] for t in body["tasks"]]
    assert own_case in ids and other_case not in ids
    assert {t["worker_id"] for t in body["tasks"]} == {mine}
    task = next(t for t in body["tasks"] if t["id"] == own_case)
    assert (task["state"], task["actions"]) == (
        "dispatched", ["accept", "return", "request_extension"],
    )  # fmt: skip
    assert body["server_time"]


def test_a_bad_or_revoked_device_token_is_refused_with_a_message(seeded: Seeded) -> None:
    from dispatch.service import accounts

    app = seeded.app
    mine, _ = workers(app)
    bogus = app.flask.test_client().get(
        "/api/field/tasks", headers={"Authorization": "Bearer dev_not-a-real-token"}
    )
    assert bogus.status_code == 403
    assert bogus.get_json() == {
        "code": "forbidden", "field": "token", "message": "the device token is not valid (unknown)",
    }  # fmt: skip
    client = phone(app, mine)
    assert client.get("/api/field/tasks").status_code == 200
    accounts.revoke_device_tokens(app.core, accounts.worker_user(app.core, mine) or -1)
    revoked = client.get("/api/field/tasks")
    assert revoked.status_code == 403
    assert "revoked" in revoked.get_json()["message"]


def test_another_workers_case_is_missing_for_every_action(seeded: Seeded) -> None:
    app = seeded.app
    mine, other = workers(app)
    theirs = dispatched(app, other)
    client = phone(app, mine)
    for name, params in (("accept", {}), ("report_handled", {"result": "处理完毕"})):
        answer = client.post(f"/api/cases/{theirs}/actions/{name}", json=params)
        assert answer.status_code == 404, name
        assert answer.get_json()["code"] == "not_found"
    assert client.get(f"/api/cases/{theirs}/detail").status_code == 404
    with app.core.db.read() as session:
        assert session.get(CaseRow, theirs).state == "dispatched"  # type: ignore[union-attr]


def test_a_device_sends_its_own_positions_and_not_another_workers(seeded: Seeded) -> None:
    app = seeded.app
    mine, other = workers(app)
    lat, long = home(app, mine)
    # An hour old, so the worker does not show up as online in other tests' suggestions.
    when = app.core.clock.now() - timedelta(hours=1, milliseconds=secrets.randbelow(100_000))
    own = {"time": when.isoformat(timespec="milliseconds"), "lat": lat, "long": long}
    client = phone(app, mine)
    forged = client.post("/api/positions", json={"fixes": [own, {**own, "worker_id": other}]})
    assert forged.status_code == 403
    assert forged.get_json()["field"] == "fixes[1].worker_id"
    kept = client.post("/api/positions", json={"fixes": [{**own, "worker_id": mine}]})
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["accepted"] == 1
    again = client.post("/api/positions", json={"fixes": [own]})  # a resent batch: no harm
    assert again.status_code == 200
    assert again.get_json()["accepted"] == 0 and again.get_json()["duplicates"] == 1


def test_a_result_sent_again_with_the_same_key_is_done_once(seeded: Seeded) -> None:
    app = seeded.app
    mine, _ = workers(app)
    case_id = dispatched(app, mine)
    client = phone(app, mine)
    accepted = client.post(f"/api/cases/{case_id}/actions/accept", json={})
    assert accepted.status_code == 200 and accepted.get_json()["case"]["state"] == "accepted"
    key = secrets.token_hex(16)

    def send(result: str = "已清理完毕，恢复通行") -> Any:
        return client.post(
            f"/api/cases/{case_id}/actions/report_handled",
            data={"result": result, "photos": (io.BytesIO(jpeg()), "result.jpg")},
            headers={"Idempotency-Key": key},
            content_type="multipart/form-data",
        )

    first, retry = send(), send()
    assert first.status_code == retry.status_code == 200
    assert first.get_json()["replayed"] is False and retry.get_json()["replayed"] is True
    assert retry.get_json()["case"]["state"] == "handled"
    assert count(app, EventRow, EventRow.case_id == case_id, EventRow.type == "case.handled") == 1
    assert count(app, PhotoRow, PhotoRow.case_id == case_id, PhotoRow.kind == "result") == 1
    other = send("另一个结果")
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


def test_a_report_from_patrol_is_a_grid_case_with_its_photo(seeded: Seeded) -> None:
    app = seeded.app
    mine, _ = workers(app)
    lat, long = home(app, mine)
    client = phone(app, mine)
    key = secrets.token_hex(16)

    def send() -> Any:
        return client.post(
            "/api/reports",
            data={
                "service_code": "garbage", "lat": f"{lat:.6f}", "long": f"{long:.6f}",
                "description": "巡查发现垃圾桶满溢", "address": "金龙路口",
                "photos": (io.BytesIO(jpeg("teal")), "patrol.jpg"),
            },
            headers={"Idempotency-Key": key},
            content_type="multipart/form-data",
        )  # fmt: skip

    first, retry = send(), send()
    assert first.status_code == retry.status_code == 201, first.get_json()
    assert retry.get_json()["id"] == first.get_json()["id"] and retry.get_json()["replayed"]
    assert "rating_code" not in first.get_json()  # only citizens rate their reports
    case_id = first.get_json()["id"]
    with app.core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None
        assert (row.channel, row.state, row.address) == ("grid", "reported", "金龙路口")
        assert row.submitted_by == f"grid_worker:worker-{mine}"
    assert count(app, PhotoRow, PhotoRow.case_id == case_id, PhotoRow.kind == "report") == 1


def test_a_grid_worker_who_returns_a_task_is_told_it_was_done(seeded: Seeded) -> None:
    app = seeded.app
    mine, _ = workers(app)
    case_id = dispatched(app, mine)
    answer = phone(app, mine).post(
        f"/api/cases/{case_id}/actions/return", json={"reason": "不属于本网格"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["case"]["state"] == "returned"
    assert case_id not in [t["id"] for t in phone(app, mine).get("/api/field/tasks").json["tasks"]]


def test_a_return_sent_again_with_the_same_key_is_a_replay(seeded: Seeded) -> None:
    app = seeded.app
    mine, _ = workers(app)
    case_id = dispatched(app, mine)
    client = phone(app, mine)
    url, headers = f"/api/cases/{case_id}/actions/return", {"Idempotency-Key": secrets.token_hex(8)}
    first = client.post(url, json={"reason": "不属于本网格"}, headers=headers)
    assert first.status_code == 200
    retry = client.post(url, json={"reason": "不属于本网格"}, headers=headers)
    assert retry.status_code == 200, retry.get_json()
    assert retry.get_json()["replayed"] is True
