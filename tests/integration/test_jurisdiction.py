"""Jurisdiction (属地管理) over HTTP and the /live socket: each principal sees and acts on its own
cases only, and a case outside its jurisdiction looks exactly like a case that does not exist.

One application per database serves the module; `world` makes the cases the tests read, and
tests that change a case make their own.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import requests
import socketio
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from dispatch.adapters.orm import EventRow
from dispatch.api import openapi
from dispatch.bootstrap import App
from dispatch.demo.users import DEMO_PASSWORD
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions, photos
from dispatch.service.intake import NewReport, submit_report
from dispatch.service.queries import head_seq
from tests.integration.conftest import app_per_database
from tests.screens import LiveScreen
from tests.support import LiveServer, SocketClient, api_client, device_token, signed_in, with_users

MISSING = 99_999_999  # no case or photo has this id
CENTRE = "duty:test"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with app_per_database(request, tmp_path_factory, "jurisdiction") as built:
        with_users(built)
        built.fanout.poll_interval = 0.2
        yield built


@pytest.fixture(scope="module")
def live(app: App) -> Iterator[LiveServer]:
    server = LiveServer(app).start()  # one per app: stopping the app stops its fan-out
    yield server
    server.server.shutdown()


# -- making cases ------------------------------------------------------------------------------


def point_in(app: App, township_id: int, index: int = 0) -> tuple[float, float]:
    """(lat, long) of the centroid of one of the township's grids, inside that grid."""
    found = []
    for unit in sorted(app.names.units.values(), key=lambda u: u.id):
        if unit.kind is not UnitKind.GRID or not unit.polygon:
            continue
        long, lat = centroid(unit.polygon[0])
        where = app.core.grids.locate(long, lat)
        if where.grid_id == unit.id and where.township_id == township_id:
            found.append((lat, long))
    assert found, f"no grid of township {township_id} contains its own centroid"
    return found[index % len(found)]


def jpeg() -> photos.CheckedPhoto:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(data, "JPEG")
    return photos.check_photo(photos.Upload("scene.jpg", data.getvalue()))


def report(
    app: App, township_id: int, text: str, *, code: str = "garbage", photo: bool = False
) -> int:
    lat, long = point_in(app, township_id)
    new = NewReport(service_code=code, lat=lat, long=long, description=text)
    return submit_report(app.core, new, photos=[jpeg()] if photo else []).case_id


def act(app: App, case_id: int, *steps: str | tuple[str, dict[str, Any]]) -> None:
    """Take the steps as the centre (no principal: the service trusts the caller)."""
    for step in steps:
        name, params = (step, {}) if isinstance(step, str) else step
        actions.perform(app.core, case_id, name, params, actor=CENTRE)


def dispatched(app: App, township_id: int, text: str, **dispatch: Any) -> int:
    case_id = report(app, township_id, text, code=dispatch.pop("code", "garbage"))
    act(app, case_id, "verify", "register", ("dispatch", dispatch))
    return case_id


def events(app: App) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


def county(app: App) -> FlaskClient:
    return api_client(app)


def device(app: App, worker_id: int) -> FlaskClient:
    client = app.flask.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {device_token(app, worker_id)}"
    return client


@dataclass
class World:
    t1: int  # town-t01's township
    t2: int
    own: int  # dispatched to the township of t1 (and to urbanmgmt), with a photo
    other: int  # the same in t2
    own_photo: int
    other_photo: int
    police: int  # a parking case in t1: department police
    whistled: int  # police leads, urbanmgmt co-handles; in t2

    def ids(self) -> set[int]:
        return {self.own, self.other, self.police, self.whistled}


def _with_photo(app: App, township_id: int, text: str) -> tuple[int, int]:
    case_id = report(app, township_id, text, photo=True)
    act(app, case_id, "verify", "register", "dispatch")
    [photo] = county(app).get(f"/api/cases/{case_id}/detail").get_json()["photos"]
    return case_id, photo["id"]


@pytest.fixture(scope="module")
def world(app: App) -> World:
    t1, t2 = (u.id for u in app.names.townships()[:2])
    own, own_photo = _with_photo(app, t1, "甲街道垃圾桶满溢")
    other, other_photo = _with_photo(app, t2, "乙街道独有的垃圾堆")
    police = dispatched(app, t1, "小区门口乱停车", code="parking")
    whistled = report(app, t2, "多部门联合处置")
    act(app, whistled, "verify", "register",
        ("whistle", {"lead": "police", "co": ["urbanmgmt"]}))  # fmt: skip
    return World(t1, t2, own, other, own_photo, other_photo, police, whistled)


def same_as_missing(answer: Any, hidden_id: int, missing: Any) -> None:
    """The answer about `hidden_id` is the answer about a missing id, with the id changed."""
    assert answer.status_code == missing.status_code == 404
    expected = json.loads(json.dumps(missing.get_json()).replace(str(MISSING), str(hidden_id)))
    assert answer.get_json() == expected


# -- a township officer --------------------------------------------------------------------


def test_a_township_officer_reads_its_own_case_and_another_townships_looks_missing(
    app: App, world: World
) -> None:
    town = signed_in(app, "town-t01")
    assert town.get(f"/api/cases/{world.own}").get_json()["township_id"] == world.t1
    assert town.get(f"/api/cases/{world.own}/detail").status_code == 200
    for path in ("/api/cases/{}", "/api/cases/{}/detail"):
        same_as_missing(
            town.get(path.format(world.other)), world.other, town.get(path.format(MISSING))
        )


def test_a_township_officer_cannot_act_on_another_townships_case(app: App, world: World) -> None:
    town = signed_in(app, "town-t01")
    before = events(app)
    for name in ("accept", "return", "urge"):
        path = "/api/cases/{}/actions/" + name
        body = {"reason": "不归我们管", "message": "快"}
        same_as_missing(
            town.post(path.format(world.other), json=body),
            world.other,
            town.post(path.format(MISSING), json=body),
        )
    assert events(app) == before
    assert county(app).get(f"/api/cases/{world.other}").get_json()["state"] == "dispatched"


def test_a_township_officer_lists_and_finds_only_its_own_townships_cases(
    app: App, world: World
) -> None:
    town = signed_in(app, "town-t01")
    cases = town.get("/api/cases?limit=1000").get_json()["cases"]
    assert {c["township_id"] for c in cases} == {world.t1}
    assert {world.own, world.police} <= {c["id"] for c in cases}
    assert town.get(f"/api/cases?township_id={world.t2}").get_json() == {"cases": []}

    queue = town.get("/api/queue").get_json()
    assert queue["kind"] == "office"
    listed = [item for bucket in queue["buckets"].values() for item in bucket["items"]]
    assert {c["township_id"] for c in listed} == {world.t1}
    assert world.own in [c["id"] for c in queue["buckets"]["incoming"]["items"]]
    assert (
        town.get(f"/api/queue?township_id={world.t2}").get_json()["buckets"]["incoming"]["count"]
        == 0
    )

    other = county(app).get(f"/api/cases/{world.other}").get_json()
    for q in (other["ticket"], str(world.other), "乙街道独有的垃圾堆"):
        assert [c["id"] for c in county(app).get(f"/api/search?q={q}").get_json()["cases"]] == [
            world.other
        ], q  # the case is there to be found
        assert town.get(f"/api/search?q={q}").get_json() == {"cases": []}, q

    snapshot = town.get("/api/snapshot").get_json()
    assert {c["township_id"] for c in snapshot["cases"]} == {world.t1}
    for path in ("/api/snapshot", "/api/kpis"):
        assert town.get(f"{path}?township_id={world.t2}").status_code == 404


def test_a_township_officer_sees_the_photos_of_its_own_cases_only(app: App, world: World) -> None:
    town = signed_in(app, "town-t01")
    for suffix in ("", "/thumb"):
        mine = town.get(f"/api/photos/{world.own_photo}{suffix}")
        assert mine.status_code == 200 and mine.mimetype == "image/jpeg"
        same_as_missing(
            town.get(f"/api/photos/{world.other_photo}{suffix}"),
            world.other_photo,
            town.get(f"/api/photos/{MISSING}{suffix}"),
        )


def test_a_township_officer_accepts_and_handles_a_case_dispatched_to_its_township(
    app: App, world: World
) -> None:
    case_id = dispatched(app, world.t1, "甲街道路灯不亮", code="road")
    town = signed_in(app, "town-t01")
    assert "accept" in town.get(f"/api/cases/{case_id}/detail").get_json()["actions"]
    for name, state in (("accept", "accepted"), ("start_handling", "handling")):
        answer = town.post(f"/api/cases/{case_id}/actions/{name}")
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["case"]["state"] == state and body["replayed"] is False
        assert body["events"][0]["actor"] == "township:town-t01"
    answer = town.post(f"/api/cases/{case_id}/actions/report_handled", json={"result": "已修复"})
    assert answer.get_json()["case"]["state"] == "handled"


def test_a_township_officer_may_not_blow_a_whistle(app: App, world: World) -> None:
    town = signed_in(app, "town-t01")
    answer = town.post(f"/api/cases/{world.own}/actions/whistle", json={"lead": "police"})
    assert answer.status_code == 403
    assert answer.get_json()["message"] == "a township user may not whistle a case"


# -- a department officer ------------------------------------------------------------------


def test_a_department_sees_its_own_cases_and_those_it_is_called_to_and_nothing_else(
    app: App, world: World
) -> None:
    urban = signed_in(app, "dept-urbanmgmt")
    listed = {c["id"] for c in urban.get("/api/cases?limit=1000").get_json()["cases"]}
    assert {world.own, world.other, world.whistled} <= listed  # two townships, and a whistle
    assert world.police not in listed
    same_as_missing(
        urban.get(f"/api/cases/{world.police}"), world.police, urban.get(f"/api/cases/{MISSING}")
    )
    detail = urban.get(f"/api/cases/{world.whistled}/detail").get_json()
    assert [(p["department"], p["role"]) for p in detail["whistle"]] == [
        ("police", "lead"),
        ("urbanmgmt", "co"),
    ]
    called = {
        item["id"]: [(p["department"], p["state"]) for p in item["parties"]]
        for item in urban.get("/api/queue").get_json()["buckets"]["whistles"]["items"]
    }
    assert called[world.whistled] == [("urbanmgmt", "waiting")]  # its own party only
    assert {d for parties in called.values() for d, _ in parties} == {"urbanmgmt"}

    fire = signed_in(app, "dept-fire")
    assert not world.ids() & {
        c["id"] for c in fire.get("/api/cases?limit=1000").get_json()["cases"]
    }
    police = signed_in(app, "dept-police")
    listed = {c["id"] for c in police.get("/api/cases?limit=1000").get_json()["cases"]}
    assert {world.police, world.whistled} <= listed
    assert not {world.own, world.other} & listed


# -- a grid worker's phone -----------------------------------------------------------------


def test_a_grid_workers_device_sees_only_the_cases_assigned_to_it(app: App, world: World) -> None:
    me, colleague = sorted(app.names.workers)[:2]
    mine = dispatched(app, world.t1, "井盖缺失", worker_id=me)
    theirs = dispatched(app, world.t1, "井盖松动", worker_id=colleague)
    phone = device(app, me)
    cases = phone.get("/api/cases?limit=1000").get_json()["cases"]
    assert mine in {c["id"] for c in cases}
    assert {c["worker_id"] for c in cases} == {me}
    listed = phone.get("/api/field/tasks").get_json()
    schema = {
        "$ref": "#/components/schemas/FieldTasks",
        "components": openapi.document()["components"],
    }
    jsonschema.Draft202012Validator(schema).validate(listed)  # as documented
    tasks = listed["tasks"]
    assert mine in {t["id"] for t in tasks} and {t["worker_id"] for t in tasks} == {me}
    same_as_missing(phone.get(f"/api/cases/{theirs}"), theirs, phone.get(f"/api/cases/{MISSING}"))
    answer = phone.post(f"/api/cases/{theirs}/actions/accept")
    assert answer.status_code == 404
    assert phone.post(f"/api/cases/{mine}/actions/accept").get_json()["case"]["state"] == "accepted"


def test_a_grid_worker_that_returns_its_task_is_told_it_worked(app: App, world: World) -> None:
    worker = sorted(app.names.workers)[2]
    case_id = dispatched(app, world.t1, "不是本网格的事", worker_id=worker)
    answer = device(app, worker).post(
        f"/api/cases/{case_id}/actions/return", json={"reason": "不在本网格"}
    )
    assert county(app).get(f"/api/cases/{case_id}").get_json()["state"] == "returned"
    assert answer.status_code == 200


# -- a leader ------------------------------------------------------------------------------


def test_a_leader_may_urge_but_not_dispatch(app: App, world: World) -> None:
    leader = signed_in(app, "leader")
    case_id = report(app, world.t1, "领导督办的案件")
    act(app, case_id, "verify", "register")
    before = events(app)
    answer = leader.post(f"/api/cases/{case_id}/actions/dispatch")
    assert answer.status_code == 403
    error = answer.get_json()
    assert error["code"] == "forbidden" and "leader" in error["message"]
    assert events(app) == before
    answer = leader.post(f"/api/cases/{case_id}/actions/urge", json={"message": "请尽快派遣"})
    assert answer.status_code == 200
    assert [e["type"] for e in answer.get_json()["events"]] == ["case.urged"]


# -- the /live socket ------------------------------------------------------------------------


def browser(url: str, username: str) -> requests.Session:
    """A requests session signed in through the /login form, as a browser would be."""
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]}
    answer = session.post(f"{url}/login", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    return session


def test_a_township_officers_socket_gets_its_own_townships_events_only(
    app: App, live: LiveServer, world: World
) -> None:
    start = head_seq(app.core)
    screen = LiveScreen(None, last_seq=start)  # type: ignore[arg-type]  # no screen token
    screen.connect(live.url, http_session=browser(live.url, "town-t01"))
    try:
        theirs = report(app, world.t2, "乙街道新上报")
        mine = report(app, world.t1, "甲街道新上报")
        screen.wait_for(lambda s: mine in s.cases, 10, "its own township's report")
        # The other report was committed first, so the batches up to ours covered it.
        assert theirs not in {e["case_id"] for e in screen.applied}
        assert {e["township_id"] for e in screen.applied} == {world.t1}
        assert screen.errors == []

        assert screen.sio is not None
        caught = screen.sio.call("catchup", {"after": start}, namespace="/live", timeout=10)
        assert mine in {e["case_id"] for e in caught["events"]}
        assert {e["township_id"] for e in caught["events"]} == {world.t1}
        snapshot = screen.sio.call("snapshot", namespace="/live", timeout=10)
        assert {c["township_id"] for c in snapshot["cases"]} == {world.t1}
        assert world.own in {c["id"] for c in snapshot["cases"]}
    finally:
        screen.disconnect()


def test_a_township_officers_socket_may_not_ask_for_another_township(
    app: App, live: LiveServer, world: World
) -> None:
    sio = SocketClient(reconnection=False, http_session=browser(live.url, "town-t01"))
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(
            live.url, namespaces=["/live"], transports=["websocket"], wait_timeout=10,
            auth={"township_id": world.t2},
        )  # fmt: skip
    sio.disconnect()


def test_a_grid_workers_socket_gets_the_events_of_its_own_cases_only(
    app: App, live: LiveServer, world: World
) -> None:
    me, colleague = sorted(app.names.workers)[3:5]
    start = head_seq(app.core)
    screen = LiveScreen(device_token(app, me), last_seq=start).connect(live.url)
    try:
        theirs = dispatched(app, world.t1, "同事的任务", worker_id=colleague)
        mine = dispatched(app, world.t1, "我的任务", worker_id=me)
        screen.wait_for(lambda s: mine in s.cases, 10, "its own task")
        assert [e["type"] for e in screen.applied] == ["case.dispatched"]
        assert screen.cases[mine]["worker_id"] == me
        assert theirs not in screen.cases
        assert screen.sio is not None
        caught = screen.sio.call("catchup", {"after": start}, namespace="/live", timeout=10)
        assert [e["case_id"] for e in caught["events"]] == [mine]
        snapshot = screen.sio.call("snapshot", namespace="/live", timeout=10)
        assert {c["worker_id"] for c in snapshot["cases"]} == {me}
    finally:
        screen.disconnect()
