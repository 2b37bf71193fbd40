"""The camera registry over /api/cameras, on SQLite and PostgreSQL: admins keep it, the centre
and offices read it (a township office its own township only, grid workers' devices not at
all), every refusal names its field, and an import stores everything or nothing.

One seeded application per database for the module: tests use codes of their own (T<n>-...)
and count only their own cameras, except the demo county's 60, which nobody here changes.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch.adapters.orm import CameraRow
from dispatch.api import openapi
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid, point_in_polygon
from dispatch.domain.org import UnitKind
from dispatch.service import camera_import, cameras
from tests.integration.conftest import app_per_database
from tests.support import device_token, signed_in, with_users

DEMO_CODE = re.compile(r"CAM\d{3}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with app_per_database(request, tmp_path_factory, "cameras") as built:
        yield with_users(built)


@pytest.fixture(scope="module")
def admin(app: App) -> FlaskClient:
    return signed_in(app, "admin")


@pytest.fixture(scope="module")
def duty(app: App) -> FlaskClient:
    return signed_in(app, "duty")


def tag() -> str:
    """A code prefix no other test uses."""
    return f"T{secrets.token_hex(3).upper()}"


def points(app: App, township_index: int = 0, n: int = 3) -> list[tuple[float, float]]:
    """(lat, long) of the centres of n grids of the township (each inside its grid)."""
    township = app.names.townships()[township_index]
    found = []
    for grid in sorted(app.names.units.values(), key=lambda u: u.id):
        if grid.kind is not UnitKind.GRID or not grid.polygon:
            continue
        long, lat = centroid(grid.polygon[0])
        where = app.core.grids.locate(long, lat)
        if where.township_id == township.id and point_in_polygon(long, lat, grid.polygon):
            found.append((round(lat, 6), round(long, 6)))
        if len(found) == n:
            return found
    raise AssertionError(f"{township.name} has fewer than {n} grids with their centre inside")


def new_camera(app: App, **changes: Any) -> dict[str, Any]:
    lat, long = points(app)[0]
    data = {"name": "建设路口东北角", "lat": lat, "long": long, "source": "rtsp://10.1.2.3/live"}
    return data | changes


def mine(app: App, prefix: str) -> list[CameraRow]:
    with app.core.db.read() as session:
        return list(
            session.scalars(
                select(CameraRow).where(CameraRow.code.like(f"{prefix}%")).order_by(CameraRow.code)
            )
        )


def camera_count(app: App) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CameraRow)) or 0)


def upload(client: FlaskClient, name: str, data: bytes) -> Any:
    body = {"file": (io.BytesIO(data), name)}
    return client.post("/api/cameras/import", data=body, content_type="multipart/form-data")


# -- reading ------------------------------------------------------------------------------------


def test_the_demo_countys_60_cameras_are_listed_with_township_and_grid(duty: FlaskClient) -> None:
    answer = duty.get("/api/cameras")
    assert answer.status_code == 200
    demo = [c for c in answer.get_json()["cameras"] if DEMO_CODE.fullmatch(c["code"])]
    assert len(demo) == 60
    assert all(c["township"] and c["grid"] and c["source_kind"] == "demo" for c in demo)
    assert {c["status"] for c in demo} <= set(cameras.STATUSES)
    schema = openapi.document()["components"]["schemas"]["Camera"]
    for camera in demo[:5]:
        jsonschema.Draft202012Validator(schema).validate(camera)


def test_admin_creates_reads_changes_disables_and_deletes_a_camera(
    app: App, admin: FlaskClient
) -> None:
    code = f"{tag()}-1"
    created = admin.post("/api/cameras", json=new_camera(app, code=code, address="建设路8号"))
    assert created.status_code == 201, created.get_json()
    camera = created.get_json()
    assert created.headers["Location"] == f"/api/cameras/{camera['id']}"
    assert (camera["code"], camera["status"], camera["source_kind"]) == (code, "unknown", "rtsp")
    assert camera["township_id"] == app.names.townships()[0].id and camera["grid_id"]
    assert admin.get(f"/api/cameras/{camera['id']}").get_json() == camera

    changed = admin.patch(f"/api/cameras/{camera['id']}", json={"name": "建设路口西南角"})
    assert changed.status_code == 200
    assert changed.get_json()["name"] == "建设路口西南角"
    assert changed.get_json()["address"] == "建设路8号"  # what was not sent is kept

    assert cameras.set_status(app.core, camera["id"], "online") is True
    disabled = admin.post(f"/api/cameras/{camera['id']}/disable").get_json()
    assert disabled["status"] == "disabled"
    assert cameras.set_status(app.core, camera["id"], "online") is False  # the gateway is ignored
    assert admin.get(f"/api/cameras/{camera['id']}").get_json()["status"] == "disabled"
    assert admin.post(f"/api/cameras/{camera['id']}/enable").get_json()["status"] == "unknown"

    assert admin.delete(f"/api/cameras/{camera['id']}").status_code == 204
    assert cameras.set_status(app.core, camera["id"], "offline") is False  # a late report
    gone = admin.get(f"/api/cameras/{camera['id']}")
    assert gone.status_code == 404 and gone.get_json()["field"] == "camera_id"


def test_the_map_layer_follows_the_registry_and_never_shows_a_source(
    app: App, admin: FlaskClient
) -> None:
    def layer() -> dict[int, dict[str, Any]]:
        answer = app.flask.test_client().get("/api/geo/cameras.geojson")  # the wall: no session
        assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
        return {f["properties"]["id"]: f for f in answer.get_json()["features"]}

    secret = "rtsp://admin:hunter2@10.1.2.3/live"
    camera = admin.post("/api/cameras", json=new_camera(app, code=f"{tag()}-M", source=secret))
    camera = camera.get_json()
    shown = layer()[camera["id"]]
    assert shown["geometry"]["coordinates"] == [camera["long"], camera["lat"]]
    assert shown["properties"]["name"] == camera["name"]
    assert shown["properties"]["township_id"] == camera["township_id"]
    assert "hunter2" not in json.dumps(shown) and "source" not in shown["properties"]
    assert len([i for i in layer() if i != camera["id"]]) >= 60  # the demo county's too

    admin.post(f"/api/cameras/{camera['id']}/disable")
    assert camera["id"] not in layer()  # a disabled camera leaves the wall's map and tiles
    admin.delete(f"/api/cameras/{camera['id']}")


def test_a_camera_without_a_code_gets_the_next_cam_number(app: App, admin: FlaskClient) -> None:
    first = admin.post("/api/cameras", json=new_camera(app)).get_json()
    second = admin.post("/api/cameras", json=new_camera(app, code="")).get_json()
    assert first["code"] == f"CAM-{first['id']}"
    assert second["code"] == f"CAM-{second['id']}" and second["id"] == first["id"] + 1
    for camera in (first, second):
        admin.delete(f"/api/cameras/{camera['id']}")


def test_a_new_source_sends_the_status_back_to_unknown(app: App, admin: FlaskClient) -> None:
    camera = admin.post("/api/cameras", json=new_camera(app, code=f"{tag()}-1")).get_json()
    cameras.set_status(app.core, camera["id"], "online")
    same = admin.patch(f"/api/cameras/{camera['id']}", json={"name": "改名"}).get_json()
    assert same["status"] == "online"
    moved = admin.patch(f"/api/cameras/{camera['id']}", json={"source": "demo:other"}).get_json()
    assert moved["status"] == "unknown"


@pytest.mark.parametrize(
    "source,kind",
    [
        ("rtsp://admin:pw@192.168.1.64:554/Streaming/Channels/101", "rtsp"),
        ("/srv/video/gate.ts", "file"),
        ("recordings/gate.h264", "file"),
        ("gate.264", "file"),
        ("/srv/video/gate.MP4", "mp4"),
        ("demo:CAM999", "demo"),
    ],
)
def test_every_allowed_kind_of_source_is_taken(
    app: App, admin: FlaskClient, source: str, kind: str
) -> None:
    answer = admin.post("/api/cameras", json=new_camera(app, code=f"{tag()}-1", source=source))
    assert answer.status_code == 201, answer.get_json()
    assert (answer.get_json()["source"], answer.get_json()["source_kind"]) == (source, kind)


REFUSALS = [
    pytest.param({"name": ""}, "name", id="no-name"),
    pytest.param({"name": "名" * 121}, "name", id="name-too-long"),
    pytest.param({"lat": "north"}, "lat", id="lat-not-a-number"),
    pytest.param({"lat": True}, "lat", id="lat-a-boolean"),
    pytest.param({"long": 200}, "long", id="long-out-of-range"),
    pytest.param({"lat": 0, "long": 0}, "lat", id="outside-the-grids"),
    pytest.param({"source": "http://10.1.2.3/live.flv"}, "source", id="http"),
    pytest.param({"source": "file:///srv/video/gate.ts"}, "source", id="file-url"),
    pytest.param({"source": "/srv/video/gate.avi"}, "source", id="avi"),
    pytest.param({"source": "../../etc/gate.ts"}, "source", id="outside-data-dir"),
    pytest.param({"source": "rtsp://"}, "source", id="rtsp-without-host"),
    pytest.param({"source": "demo:"}, "source", id="demo-without-name"),
    pytest.param({"source": ""}, "source", id="no-source"),
    pytest.param({"code": "CAM 1"}, "code", id="code-with-space"),
    pytest.param({"colour": "red"}, "colour", id="unknown-field"),
]


@pytest.mark.parametrize(("changes", "field"), REFUSALS)
def test_a_bad_camera_is_refused_naming_the_field_and_nothing_is_stored(
    app: App, admin: FlaskClient, changes: dict[str, Any], field: str
) -> None:
    before = camera_count(app)
    answer = admin.post("/api/cameras", json=new_camera(app) | changes)
    assert answer.status_code == 400
    error = answer.get_json()
    assert set(error) == {"code", "message", "field"}
    assert (error["code"], error["field"]) == ("invalid", field)
    assert field in error["message"]
    assert camera_count(app) == before


def test_refusals_say_what_is_allowed(app: App, admin: FlaskClient) -> None:
    outside = admin.post("/api/cameras", json=new_camera(app, lat=0, long=0)).get_json()
    assert "lat=0" in outside["message"] and "long=0" in outside["message"]
    source = admin.post("/api/cameras", json=new_camera(app, source="http://x/y")).get_json()
    for allowed in ("rtsp://", "demo:", ".ts", ".h264", ".264", ".mp4"):
        assert allowed in source["message"]


def test_a_code_that_is_taken_is_a_conflict_on_code(app: App, admin: FlaskClient) -> None:
    answer = admin.post("/api/cameras", json=new_camera(app, code="CAM001"))
    assert answer.status_code == 409
    assert answer.get_json()["field"] == "code" and "CAM001" in answer.get_json()["message"]


# -- who may -----------------------------------------------------------------------------------


def test_a_duty_officer_lists_but_may_not_change_the_registry(
    app: App, admin: FlaskClient, duty: FlaskClient
) -> None:
    secret = admin.post(
        "/api/cameras", json=new_camera(app, code=f"{tag()}-1", source="rtsp://op:s3cret@h/1")
    ).get_json()
    assert duty.get("/api/cameras").status_code == 200
    seen = duty.get(f"/api/cameras/{secret['id']}").get_json()
    assert seen["source"] == "rtsp://op:***@h/1"  # only admins see the password
    before = camera_count(app)
    for answer in (
        duty.post("/api/cameras", json=new_camera(app)),
        duty.patch(f"/api/cameras/{secret['id']}", json={"name": "x"}),
        duty.delete(f"/api/cameras/{secret['id']}"),
        duty.post(f"/api/cameras/{secret['id']}/disable"),
        upload(duty, "c.csv", b"name,lat,long,source\n"),
    ):
        assert answer.status_code == 403
        assert answer.get_json()["field"] == "authorization"
    assert camera_count(app) == before


def test_a_township_office_lists_only_its_own_townships_cameras(app: App) -> None:
    townships = app.names.townships()
    with app.core.db.read() as session:
        per_township = dict(
            session.execute(
                select(CameraRow.township_id, func.count()).group_by(CameraRow.township_id)
            ).all()
        )
    own = next(u for u in townships if per_township.get(u.id))
    other = next(u for u in townships if u.id != own.id and per_township.get(u.id))
    office = signed_in(app, f"town-{own.code.lower()}")
    listed = office.get("/api/cameras").get_json()
    assert listed["total"] == per_township[own.id] == len(listed["cameras"])
    assert {c["township_id"] for c in listed["cameras"]} == {own.id}
    assert office.get(f"/api/cameras?township_id={other.id}").status_code == 404
    theirs = signed_in(app, "admin").get(f"/api/cameras?township_id={other.id}&limit=1")
    assert office.get(f"/api/cameras/{theirs.get_json()['cameras'][0]['id']}").status_code == 404
    assert office.post("/api/cameras", json=new_camera(app)).status_code == 403


def test_a_grid_workers_device_may_not_read_the_registry(app: App) -> None:
    worker = min(app.names.workers)
    phone = app.flask.test_client()
    phone.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {device_token(app, worker)}"
    answer = phone.get("/api/cameras")
    assert answer.status_code == 403 and answer.get_json()["field"] == "authorization"
    assert phone.get("/api/cameras/1").status_code == 403


def test_nobody_signed_in_gets_401_and_the_page_sends_them_to_sign_in(app: App) -> None:
    anonymous = app.flask.test_client()
    assert anonymous.get("/api/cameras").status_code == 401
    page = anonymous.get("/admin/cameras?lang=en")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")


def test_search_and_status_narrow_the_list(app: App, admin: FlaskClient) -> None:
    prefix = tag()
    for n, name in enumerate(("菜市场北门", "菜市场南门", "人民公园")):
        admin.post("/api/cameras", json=new_camera(app, code=f"{prefix}-{n}", name=name))
    found = admin.get(f"/api/cameras?q={prefix} 菜市场").get_json()
    assert [c["name"] for c in found["cameras"]] == ["菜市场北门", "菜市场南门"]
    assert found["total"] == 2
    assert admin.get("/api/cameras?q=%25").get_json()["total"] == 0  # a word, not a wildcard
    disabled = mine(app, prefix)[0]
    admin.post(f"/api/cameras/{disabled.id}/disable")
    only = admin.get(f"/api/cameras?q={prefix}&status=disabled").get_json()["cameras"]
    assert [c["id"] for c in only] == [disabled.id]
    bad = admin.get("/api/cameras?status=broken")
    assert bad.status_code == 400 and bad.get_json()["field"] == "status"


# -- import ------------------------------------------------------------------------------------


def csv_rows(app: App, prefix: str, names: list[str], township_index: int = 0) -> list[str]:
    where = points(app, township_index, len(names))
    return [
        f"{prefix}-{n},{name},{lat},{long},demo:{prefix}-{n},路口{n}"
        for n, (name, (lat, long)) in enumerate(zip(names, where, strict=True))
    ]


@pytest.mark.parametrize(
    "header,bom",
    [
        ("code,name,lat,long,source,address", False),
        ("code,name,lat,long,source,address", True),
        ("编号,名称,纬度,经度,视频源,地址", True),
        ("编号,名称,纬度,经度,视频源,地址", False),
    ],
)
def test_a_csv_import_creates_then_updates_by_code(
    app: App, admin: FlaskClient, header: str, bom: bool
) -> None:
    prefix = tag()
    lines = [header, *csv_rows(app, prefix, ["北门", "南门", "东门"])]
    text = ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n"
    first = upload(admin, "cameras.csv", text.encode())
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"ok": True, "rows": 3, "created": 3, "updated": 0, "errors": []}
    assert [r.name for r in mine(app, prefix)] == ["北门", "南门", "东门"]
    assert all(r.address.startswith("路口") and r.grid_id for r in mine(app, prefix))

    renamed = "\n".join([header, *csv_rows(app, prefix, ["北门A", "南门A"])])
    second = upload(admin, "cameras.csv", renamed.encode()).get_json()
    assert (second["created"], second["updated"]) == (0, 2)
    assert [r.name for r in mine(app, prefix)] == ["北门A", "南门A", "东门"]


def test_a_csv_with_one_bad_row_stores_nothing_and_names_the_row_and_field(
    app: App, admin: FlaskClient
) -> None:
    prefix = tag()
    good = csv_rows(app, prefix, ["甲", "乙", "丙", "丁"])
    bad_point = good[2].split(",")
    bad_point[2], bad_point[3] = "0", "0"
    lines = ["code,name,lat,long,source,address", good[0], good[1], ",".join(bad_point), good[3]]
    before = camera_count(app)
    answer = upload(admin, "cameras.csv", "\n".join(lines).encode())
    assert answer.status_code == 400
    report = answer.get_json()
    assert (report["code"], report["field"], report["ok"]) == ("invalid_rows", "file", False)
    assert (report["created"], report["updated"], report["rows"]) == (0, 0, 4)
    assert report["errors"] == [
        {"row": 4, "field": "lat", "message": "the point lat=0.0, long=0.0 is outside this "
         "jurisdiction's grids"}
    ]  # fmt: skip
    assert camera_count(app) == before and mine(app, prefix) == []


def test_an_import_lists_every_bad_row_by_its_line(app: App) -> None:
    prefix = tag()
    good = csv_rows(app, prefix, ["甲", "乙"])
    lat, long = good[1].split(",")[2:4]
    text = "\n".join(
        [
            "code,name,lat,long,source,address",
            good[0],
            f"{prefix}-x,,25.6,103.7,demo:x",  # line 3: no name
            '"multi',  # lines 4-5: one quoted cell across two lines, then too many cells
            'line",a,1,2,3,4,5',
            f"{prefix}-0,重复,{lat},{long},demo:y",  # line 6: the code of line 2
            f"{prefix}-y,乙,{lat},{long},http://x",  # line 7
        ]
    )
    report = camera_import.import_csv(app.core, text)
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "name"), (4, None), (6, "code"), (7, "source"),
    ]  # fmt: skip
    assert "row 2 too" in report.errors[2].message
    assert mine(app, prefix) == []


def test_a_csv_header_must_name_the_columns(app: App, admin: FlaskClient) -> None:
    report = upload(admin, "c.csv", "名称,纬度,经度,备注\n甲,1,2,x\n".encode()).get_json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(1, "备注"), (1, "source")]


def test_a_geojson_import_creates_cameras_and_names_a_bad_feature(
    app: App, admin: FlaskClient
) -> None:
    prefix = tag()
    where = points(app, 1, 2)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [long, lat]},
            "properties": {
                "code": f"{prefix}-{n}",
                "name": f"摄像头{n}",
                "source": f"/srv/video/{n}.ts",
                "address": "",
                "kind": "camera",
            },
        }
        for n, (lat, long) in enumerate(where)
    ]
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    not_a_point = {**features[0], "geometry": polygon}
    bad = {"type": "FeatureCollection", "features": [*features, not_a_point]}
    refused = admin.post("/api/cameras/import", json=bad)
    assert refused.status_code == 400
    assert [(e["row"], e["field"]) for e in refused.get_json()["errors"]] == [(3, "geometry")]
    assert mine(app, prefix) == []

    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    done = upload(admin, "cameras.geojson", text.encode())
    assert done.status_code == 200 and done.get_json()["created"] == 2
    rows = mine(app, prefix)
    assert [r.township_id for r in rows] == [app.names.townships()[1].id] * 2


def test_the_demo_camera_layer_imports_back_as_updates(app: App, admin: FlaskClient) -> None:
    layer = (app.settings.data_dir / "basemap" / "cameras.geojson").read_bytes()
    report = upload(admin, "cameras.geojson", layer).get_json()
    assert (report["created"], report["updated"]) == (0, 60)


def test_a_file_that_cannot_be_imported_is_refused_as_a_whole(app: App, admin: FlaskClient) -> None:
    header = "code,name,lat,long,source\n"
    too_many = header + "".join(f"X{n},n,1,1,demo:x\n" for n in range(cameras.MAX_IMPORT_ROWS + 1))
    cases = [
        ("c.csv", "编号,名称\n甲,乙\n".encode("gbk")),  # Excel's default in China
        ("c.csv", too_many.encode()),
        ("c.csv", b"x" * (cameras.MAX_IMPORT_BYTES + 1)),
        ("c.xlsx", b"PK\x03\x04"),
        ("c.geojson", b"{not json"),
        ("c.geojson", b'{"type": "Feature"}'),
        ("c.csv", header.encode()),
    ]
    before = camera_count(app)
    for name, data in cases:
        answer = upload(admin, name, data)
        assert answer.status_code == 400, (name, answer.get_json())
        assert answer.get_json()["field"] == "file" and answer.get_json()["code"] == "invalid"
    assert camera_count(app) == before


def test_an_import_without_codes_numbers_the_new_cameras(app: App, admin: FlaskClient) -> None:
    lines = ["name,lat,long,source"]
    lines += [f"无编号{n},{lat},{long},demo:x" for n, (lat, long) in enumerate(points(app, 0, 2))]
    answer = upload(admin, "c.csv", "\n".join(lines).encode()).get_json()
    assert answer["created"] == 2
    made = admin.get("/api/cameras?q=无编号").get_json()["cameras"]
    assert all(re.fullmatch(r"CAM-\d+", c["code"]) for c in made)
    assert len({c["code"] for c in made}) == len(made)
