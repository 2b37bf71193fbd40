"""A camera's snapshot as case evidence: the real gateway, real demo cameras, a real database.

The picture is the camera's own keyframe decoded once (media/snapshot.py): taken from the
upstream a viewer keeps running, or by opening the camera briefly when nobody watches it.
Over HTTP it is saved with the case as an evidence photo and the timeline says so; the
usual rules apply: jurisdiction (404 like a missing case), roles (403), CSRF, bad input
(400 naming camera_id), a disabled camera (409), an offline one (503).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import select

from dispatch.adapters.orm import CameraRow, EventRow
from dispatch.api import openapi
from dispatch.bootstrap import App
from dispatch.domain import events as ev
from dispatch.service.intake import NewReport, submit_report
from media.annexb import AccessUnit
from media.config import Camera, GatewayConfig
from media.gateway import Gateway, WatchError
from media.snapshot import snapshot, to_jpeg
from media.upstream import State
from tests.integration.conftest import app_per_database
from tests.integration.test_camera_gateway import Client, CountingSources, run, until
from tests.integration.test_jurisdiction import point_in
from tests.support import LiveServer, device_token, signed_in, with_users

DESCRIPTION = 0x010E
EXIF_IFD, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    image.load()
    return image


def description(image: Image.Image) -> str:
    """ImageDescription as written (UTF-8; Pillow reads EXIF ASCII as Latin-1)."""
    raw = image.getexif()[DESCRIPTION]
    return raw.encode("latin-1").decode() if isinstance(raw, str) else raw.decode()


# -- the snapshot itself, on the gateway -------------------------------------------------------


def test_nobody_watching_opens_the_camera_for_one_keyframe_and_closes_it_again() -> None:
    camera = Camera(31, "东门路口", "demo:CAM031")
    taken = datetime(2026, 11, 22, 8, 30, 5, tzinfo=UTC)

    async def scenario() -> tuple[bytes, int, int]:
        config = GatewayConfig()
        sources = CountingSources(config)
        gateway = Gateway(config, sources=sources)
        jpeg = await snapshot(gateway, camera, taken_at=taken)
        # Released like a viewer that left: with linger 0 the upstream closes at once.
        # (the gateway forgets it first, then its reader's thread closes the source)
        await until(lambda: not gateway.upstreams and sources.closed, 5, "the upstream to close")
        assert sources.closed == 1
        await gateway.close()
        return jpeg, sources.opened, len(gateway.viewers)

    jpeg, opened, viewers = run(scenario)
    assert (opened, viewers) == (1, 0)
    image = decoded(jpeg)
    assert image.size == (640, 360)  # the demo camera's own size: decoded, not resized
    assert description(image) == "东门路口 (camera 31)"
    sub = image.getexif().get_ifd(EXIF_IFD)
    assert sub[DATE_TIME_ORIGINAL] == "2026:11:22 08:30:05"
    assert sub[OFFSET_TIME_ORIGINAL] == "+00:00"
    # A street, not a grey frame: the sky is lighter than the road.
    grey = image.convert("L")
    top = ImageStat.Stat(grey.crop((0, 0, 640, 60))).mean[0]
    spread = ImageStat.Stat(grey).stddev[0]
    assert spread > 20 and top > 60


def test_a_watched_camera_gives_its_cached_keyframe_without_opening_again() -> None:
    camera = Camera(32, "人民广场", "demo:CAM032")
    taken = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    async def scenario() -> tuple[bytes, bytes, int]:
        config = GatewayConfig()
        sources = CountingSources(config)
        gateway = Gateway(config, sources=sources)
        viewer = Client()
        await viewer.watch(gateway, camera)
        await viewer.frames_at_least(3)
        upstream = gateway.upstream(camera.id)
        assert upstream is not None and upstream.state == State.ONLINE
        assert upstream.last_keyframe is not None
        cached = upstream.last_keyframe.data
        jpeg = await snapshot(gateway, camera, taken_at=taken)
        assert gateway.upstream(camera.id) is upstream and len(upstream.sinks) == 1
        opened = sources.opened
        await viewer.close()
        await gateway.close()
        return jpeg, cached, opened

    jpeg, cached, opened = run(scenario)
    assert opened == 1  # the viewer's upstream served the snapshot too
    # Exactly the cached IDR, decoded: the same picture as decoding it here.
    expected = decoded(to_jpeg(cached, camera, taken))
    image = decoded(jpeg)
    assert image.size == (640, 360)
    diff = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), expected.convert("RGB")))
    assert max(diff.mean) < 0.5


def test_an_offline_camera_is_refused_by_name_and_not_left_open(tmp_path: Any) -> None:
    camera = Camera(33, "西街菜市场", "gone.ts")  # a file source that does not exist

    async def scenario() -> WatchError:
        gateway = Gateway(GatewayConfig(data_dir=tmp_path))
        started = time.monotonic()
        with pytest.raises(WatchError) as caught:
            await snapshot(gateway, camera, timeout=10)
        assert time.monotonic() - started < 5  # told as soon as the source failed
        await until(lambda: not gateway.upstreams, 5, "the upstream to close")
        await gateway.close()
        return caught.value

    error = run(scenario)
    assert error.code == "offline" and error.field == "camera_id"
    assert "西街菜市场" in error.message and "gone.ts" in error.message


class SilentSource:
    """A camera that connects and then sends nothing (a dead encoder behind a live socket)."""

    description, paced = "a silent camera", True

    def open(self) -> None:
        pass

    def read(self) -> AccessUnit | None:
        time.sleep(0.2)
        return AccessUnit(b"\x00\x00\x00\x01\x41\x9a", 0, False)  # a P slice, never an IDR

    def request_keyframe(self) -> bool:
        return False

    def close(self) -> None:
        pass


def test_a_camera_without_a_keyframe_in_time_is_a_timeout() -> None:
    async def scenario() -> WatchError:
        gateway = Gateway(GatewayConfig(), sources=lambda camera: SilentSource())
        with pytest.raises(WatchError) as caught:
            await snapshot(gateway, Camera(34, "北门", "demo:x"), timeout=0.8)
        await until(lambda: not gateway.upstreams, 5, "the upstream to close")
        await gateway.close()
        return caught.value

    error = run(scenario)
    assert error.code == "timeout" and "0.8 s" in error.message


def test_a_keyframe_that_does_not_decode_is_an_error_not_a_black_picture() -> None:
    with pytest.raises(WatchError) as caught:
        to_jpeg(b"\x00\x00\x00\x01\x65\x88\x84\x00", Camera(35, "南门", "demo:x"),
                datetime.now(UTC))  # fmt: skip
    assert caught.value.code == "undecodable"


# -- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with app_per_database(request, tmp_path_factory, "snapshot") as built:
        with_users(built)
        server = LiveServer(built).start()  # starts the media loop with the app
        yield built
        server.server.shutdown()


def township_user(app: App, township_id: int) -> str:
    return f"town-{app.names.units[township_id].code.lower()}"


def new_case(app: App, township_id: int, text: str) -> int:
    lat, long = point_in(app, township_id)
    report = NewReport(service_code="garbage", lat=lat, long=long, description=text)
    return submit_report(app.core, report).case_id


@pytest.fixture(scope="module")
def towns(app: App) -> tuple[int, int]:
    t1, t2 = (u.id for u in app.names.townships()[:2])
    return t1, t2


def nearest_demo_camera(client: FlaskClient, case_id: int) -> dict[str, Any]:
    cameras = client.get(f"/api/cases/{case_id}/detail").get_json()["cameras"]
    assert cameras, "the demo county has cameras near every grid"
    return cameras[0]


def take(client: FlaskClient, case_id: int, body: Any) -> Any:
    return client.post(f"/api/cases/{case_id}/evidence/camera-snapshot", json=body)


def test_duty_saves_a_snapshot_as_evidence_and_the_timeline_says_so(
    app: App, towns: tuple[int, int]
) -> None:
    case_id = new_case(app, towns[0], "路口垃圾堆放，需调取视频")
    duty = signed_in(app, "duty")
    camera = nearest_demo_camera(duty, case_id)
    answer = take(duty, case_id, {"camera_id": camera["id"]})
    assert answer.status_code == 201, answer.get_json()
    photo = answer.get_json()
    path = "~1api~1cases~1{case_id}~1evidence~1camera-snapshot"
    where = f"#/paths/{path}/post/responses/201/content/application~1json/schema"
    documented = {"$ref": where, **openapi.document()}
    jsonschema.Draft202012Validator(documented).validate(photo)
    assert photo["kind"] == "evidence" and photo["camera_id"] == camera["id"]
    assert (photo["width"], photo["height"]) == (640, 360)
    served = duty.get(photo["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = decoded(served.get_data())
    assert image.size == (640, 360)
    assert description(image) == f"{camera['name']} (camera {camera['id']})"

    detail = duty.get(f"/api/cases/{case_id}/detail").get_json()
    assert detail["may_add_evidence"] is True
    assert [p["id"] for p in detail["photos"] if p["kind"] == "evidence"] == [photo["id"]]
    last = detail["timeline"][-1]
    assert last["type"] == "case.evidence_added" and last["actor"] == "duty:duty"
    assert last["data"] == {"actor": "duty:duty", "photo_id": photo["id"],
                            "camera_id": camera["id"], "camera": camera["name"]}  # fmt: skip
    assert detail["case"]["state"] == "reported"  # a note, not a transition
    with app.core.db.read() as session:
        row = session.scalars(select(EventRow).where(EventRow.seq == last["seq"])).one()
        # Told to the township's screens too, as every event of the case is.
        assert f" township:{towns[0]} " in row.audience
        back = ev.from_payload(row.type, case_id, row.occurred_at, row.payload)
    assert isinstance(back, ev.EvidenceAdded) and back.photo_id == photo["id"]


def test_the_township_of_the_case_may_and_another_township_sees_no_such_case(
    app: App, towns: tuple[int, int]
) -> None:
    mine, theirs = towns
    case_id = new_case(app, mine, "本镇案件，本镇调取截图")
    camera = nearest_demo_camera(signed_in(app, "duty"), case_id)
    own = signed_in(app, township_user(app, mine))
    assert take(own, case_id, {"camera_id": camera["id"]}).status_code == 201
    other = signed_in(app, township_user(app, theirs))
    hidden = take(other, case_id, {"camera_id": camera["id"]})
    missing = take(other, 99_999_999, {"camera_id": camera["id"]})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == {**missing.get_json(),
                                 "message": f"case {case_id} does not exist"}  # fmt: skip
    assert hidden.get_json()["field"] == "case_id"


def test_roles_that_may_not_add_evidence_are_refused(app: App, towns: tuple[int, int]) -> None:
    case_id = new_case(app, towns[0], "大屏与网格员不能添加证据")
    camera_id = nearest_demo_camera(signed_in(app, "duty"), case_id)["id"]
    wall = signed_in(app, "wall")  # a kiosk sees every case but adds nothing
    refused = take(wall, case_id, {"camera_id": camera_id})
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert wall.get(f"/api/cases/{case_id}/detail").get_json()["may_add_evidence"] is False
    worker = next(iter(sorted(app.names.workers)))
    phone = app.flask.test_client()
    phone.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {device_token(app, worker)}"
    assert take(phone, case_id, {"camera_id": camera_id}).status_code == 404  # not its task
    evidence = [p for p in signed_in(app, "duty").get(f"/api/cases/{case_id}/detail")
                .get_json()["photos"] if p["kind"] == "evidence"]  # fmt: skip
    assert evidence == []


@pytest.mark.parametrize(
    ("body", "code", "field", "words"),
    [
        ({}, "invalid", "camera_id", "camera_id is required"),
        ({"camera_id": "one"}, "invalid", "camera_id", "whole number, got 'one'"),
        ({"camera_id": 0}, "invalid", "camera_id", "positive"),
        ({"camera_id": True}, "invalid", "camera_id", "whole number"),
        ({"camera_id": 99_999}, "unknown_camera", "camera_id", "99999 is not a registered"),
        ({"camera_id": 1, "note": "x"}, "invalid", "note", "unknown field 'note'"),
        ([1], "invalid", "body", "JSON object"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    app: App, towns: tuple[int, int], body: Any, code: str, field: str, words: str
) -> None:
    case_id = new_case(app, towns[0], "错误的请求")
    answer = take(signed_in(app, "duty"), case_id, body)
    assert answer.status_code == 400
    got = answer.get_json()
    assert (got["code"], got["field"]) == (code, field) and words in got["message"], got


def test_a_body_that_is_not_json_is_415(app: App, towns: tuple[int, int]) -> None:
    case_id = new_case(app, towns[0], "表单提交")
    duty = signed_in(app, "duty")
    answer = duty.post(f"/api/cases/{case_id}/evidence/camera-snapshot", data={"camera_id": "1"})
    assert answer.status_code == 415


def test_without_the_csrf_token_the_cookie_may_not_save(app: App, towns: tuple[int, int]) -> None:
    case_id = new_case(app, towns[0], "跨站请求")
    duty = signed_in(app, "duty")
    camera_id = nearest_demo_camera(duty, case_id)["id"]
    del duty.environ_base["HTTP_X_CSRFTOKEN"]
    answer = take(duty, case_id, {"camera_id": camera_id})
    assert answer.status_code == 403 and answer.get_json()["code"] == "csrf_failed"


def _set_camera(app: App, camera_id: int, **values: Any) -> dict[str, Any]:
    with app.core.db.writer() as session:
        row = session.get(CameraRow, camera_id)
        assert row is not None
        before = {k: getattr(row, k) for k in values}
        for k, v in values.items():
            setattr(row, k, v)
        session.commit()
    return before


def test_a_disabled_camera_is_409_and_an_offline_one_503(app: App, towns: tuple[int, int]) -> None:
    case_id = new_case(app, towns[0], "停用与离线的摄像头")
    duty = signed_in(app, "duty")
    cameras = duty.get(f"/api/cases/{case_id}/detail").get_json()["cameras"]
    disabled, offline = cameras[0], cameras[1]
    before = _set_camera(app, disabled["id"], status="disabled")
    try:
        answer = take(duty, case_id, {"camera_id": disabled["id"]})
    finally:
        _set_camera(app, disabled["id"], **before)
    assert answer.status_code == 409
    refused = answer.get_json()
    assert refused["code"] == "camera_disabled" and disabled["name"] in refused["message"]
    before = _set_camera(app, offline["id"], source="cameras/not-there.ts")
    try:
        started = time.monotonic()
        answer = take(duty, case_id, {"camera_id": offline["id"]})
        elapsed = time.monotonic() - started
    finally:
        _set_camera(app, offline["id"], **before)
    assert answer.status_code == 503, answer.get_json()
    got = answer.get_json()
    assert got["code"] == "camera_unavailable" and got["field"] == "camera_id"
    assert "offline" in got["message"] and "not-there.ts" in got["message"]
    assert elapsed < 8
    photos = duty.get(f"/api/cases/{case_id}/detail").get_json()["photos"]
    assert [p for p in photos if p["kind"] == "evidence"] == []


def test_the_snapshot_is_a_picture_of_the_camera_not_of_another(app: App) -> None:
    """Two demo cameras give two different streets (each has its own scene and name)."""
    media = app.media
    assert media is not None
    first, second = (decoded(media.snapshot(i)).convert("L") for i in (1, 2))
    assert ImageStat.Stat(ImageChops.difference(first, second)).mean[0] > 5


# -- the page's tiles (pure layout) --------------------------------------------------------------


def _ids(tree: Any, found: list[str] | None = None) -> list[str]:
    """Every component id under `tree`, depth first."""
    found = [] if found is None else found
    if isinstance(tree, list | tuple):
        for child in tree:
            _ids(child, found)
    elif hasattr(tree, "to_plotly_json"):
        if isinstance(getattr(tree, "id", None), str):
            found.append(tree.id)
        _ids(getattr(tree, "children", None), found)
    return found


def _detail(cameras: int, *, may: bool) -> dict[str, Any]:
    return {
        "case": {"id": 7},
        "may_add_evidence": may,
        "cameras": [{"id": 100 + n, "code": f"C{n}", "name": f"摄像头{n}", "status": "online",
                     "distance_m": 50 * n} for n in range(cameras)],
    }  # fmt: skip


@pytest.mark.parametrize(("nearby", "tiles"), [(0, 0), (2, 2), (4, 4), (6, 4)])
def test_the_case_page_shows_up_to_four_tiles_nearest_first(nearby: int, tiles: int) -> None:
    from dashboard.case_side_layout import camera_tiles

    ids = _ids(camera_tiles(_detail(nearby, may=True), "zh-CN"))
    assert [i for i in ids if i.startswith("case-tile-video-")] == [
        f"case-tile-video-{n}" for n in range(1, tiles + 1)
    ]
    assert len([i for i in ids if i.startswith("case-tile-save-")]) == tiles
    assert ("case-cameras-none" in ids) == (tiles == 0)


def test_a_role_that_may_not_add_evidence_gets_tiles_without_the_button() -> None:
    from dashboard.case_side_layout import camera_tiles

    ids = _ids(camera_tiles(_detail(3, may=False), "en"))
    assert len([i for i in ids if i.startswith("case-tile-video-")]) == 3
    assert not [i for i in ids if i.startswith("case-tile-save-")]
