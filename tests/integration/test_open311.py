"""Open311 GeoReport v2 conformance, in XML and JSON, on SQLite and PostgreSQL.

Every document is checked as a client sees it: the content type, the XML declaration, the
root element, the fields of the spec. Every refusal is checked for its status, the spec's
error document in the URL's format, a description naming the parameter, and that nothing
was stored.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import TestResponse

from dispatch.adapters.orm import CaseRow
from dispatch.api import open311_params
from dispatch.domain.categories import CATEGORIES
from dispatch.service import actions, intake
from tests.integration.conftest import Seeded

BASE = "/open311/v2"
FORMATS = ("xml", "json")
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


# -- reading responses as a client would -----------------------------------------------


def xml_of(response: TestResponse) -> ET.Element:
    assert response.content_type == CONTENT_TYPES["xml"]
    assert response.data.startswith(XML_DECLARATION)
    return ET.fromstring(response.data)


def json_of(response: TestResponse) -> Any:
    assert response.content_type == CONTENT_TYPES["json"]
    return json.loads(response.data.decode("utf-8"))


def fields(element: ET.Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def children(element: ET.Element, path: str) -> list[ET.Element]:
    found = element.find(path)
    assert found is not None, f"no <{path}> in <{element.tag}>"
    return list(found)


def requests_of(response: TestResponse, fmt: str) -> list[dict[str, Any]]:
    """The `request` documents of a service_requests answer, as flat dicts."""
    if fmt == "json":
        data = json_of(response)
        assert isinstance(data, list)
        return data
    root = xml_of(response)
    assert root.tag == "service_requests"
    assert all(child.tag == "request" for child in root)
    found = []
    for request in root:
        document: dict[str, Any] = fields(request)
        extended = request.find("extended_attributes")
        if extended is not None:
            document["extended_attributes"] = fields(extended)
        found.append(document)
    return found


def error_of(response: TestResponse, fmt: str, status: int) -> str:
    """The one error's description, after checking the spec's error document."""
    assert response.status_code == status, response.data
    if fmt == "json":
        data = json_of(response)
        assert isinstance(data, list) and len(data) == 1
        assert set(data[0]) == {"code", "description"}
        code, description = data[0]["code"], data[0]["description"]
    else:
        root = xml_of(response)
        assert root.tag == "errors"
        [error] = list(root)
        assert error.tag == "error" and [c.tag for c in error] == ["code", "description"]
        code, description = int(error.findtext("code") or 0), error.findtext("description")
    assert code == status
    assert isinstance(description, str) and description
    return description


@contextmanager
def nothing_stored(seeded: Seeded) -> Iterator[None]:
    before = seeded.counts()
    yield
    assert seeded.counts() == before


def form(seeded: Seeded, **changes: Any) -> dict[str, Any]:
    data = {
        "api_key": seeded.api_key,
        "service_code": "road",
        "lat": seeded.lat,
        "long": seeded.long,
        "description": "人行道井盖缺失，夜里很危险",
        "address_string": "金龙街道文昌路12号",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def submit(seeded: Seeded, fmt: str = "json", **changes: Any) -> str:
    response = seeded.client().post(f"{BASE}/requests.{fmt}", data=form(seeded, **changes))
    assert response.status_code == 201, response.data
    [created] = requests_of(response, fmt)
    return str(created["service_request_id"])


def get_one(seeded: Seeded, fmt: str, rid: str, query: str = "") -> dict[str, Any]:
    response = seeded.client().get(f"{BASE}/requests/{rid}.{fmt}{query}")
    assert response.status_code == 200, response.data
    [document] = requests_of(response, fmt)
    return document


# -- discovery, services, definitions ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_georeport_v2_endpoint_and_its_formats(
    seeded: Seeded, fmt: str
) -> None:
    response = seeded.client().get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = json_of(response)
        endpoint = data["endpoints"][0]
        formats = endpoint["formats"]
    else:
        root = xml_of(response)
        assert root.tag == "discovery"
        data = fields(root)
        [element] = children(root, "endpoints")
        assert element.tag == "endpoint"
        endpoint = fields(element)
        formats = [f.text for f in children(element, "formats") if f.tag == "format"]
    assert data["changeset"] and data["contact"] and data["key_service"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["type"] == "production" and endpoint["changeset"]
    assert formats == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_every_category_with_chinese_names(seeded: Seeded, fmt: str) -> None:
    response = seeded.client().get(f"{BASE}/services.{fmt}?jurisdiction_id=yunling.gov.cn")
    assert response.status_code == 200
    if fmt == "json":
        services = json_of(response)
    else:
        root = xml_of(response)
        assert root.tag == "services" and {c.tag for c in root} == {"service"}
        services = [fields(s) for s in root]
    assert [s["service_code"] for s in services] == [c.code for c in CATEGORIES]
    road = next(s for s in services if s["service_code"] == "road")
    assert road["service_name"] == "道路设施损坏"
    assert road["group"] == "交通运输局"
    assert "井盖" in road["keywords"]
    assert road["metadata"] in (True, "true") and road["type"] == "realtime"
    assert set(road) == {
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
    }  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_offers_the_channel_attribute(seeded: Seeded, fmt: str) -> None:
    response = seeded.client().get(f"{BASE}/services/noise.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = json_of(response)
        [attribute] = data["attributes"]
        keys = [v["key"] for v in attribute["values"]]
    else:
        root = xml_of(response)
        assert root.tag == "service_definition"
        data = fields(root)
        [element] = children(root, "attributes")
        attribute = fields(element)
        keys = [v.findtext("key") for v in children(element, "values")]
    assert data["service_code"] == "noise"
    assert attribute["code"] == "channel"
    assert attribute["datatype"] == "singlevaluelist"
    assert attribute["variable"] in (True, "true") and attribute["required"] in (False, "false")
    assert str(attribute["order"]) == "1"
    assert keys == ["citizen", "hotline", "grid", "camera", "app"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_code_is_404_naming_it(seeded: Seeded, fmt: str) -> None:
    description = error_of(seeded.client().get(f"{BASE}/services/pothole.{fmt}"), fmt, 404)
    assert "service_code" in description and "pothole" in description


# -- POST requests and reading them back -------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_answers_201_and_reads_back_in_both_formats(
    seeded: Seeded, fmt: str
) -> None:
    before = seeded.counts()
    response = seeded.client().post(
        f"{BASE}/requests.{fmt}",
        data=form(seeded, **{"attribute[channel]": "citizen", "jurisdiction_id": "yunling.gov.cn"}),
    )
    assert response.status_code == 201
    [created] = requests_of(response, fmt)
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert "交通运输局" in created["service_notice"]
    rid = str(created["service_request_id"])
    assert response.headers["Location"] == f"{BASE}/requests/{rid}.{fmt}"
    assert seeded.counts()[0] == before[0] + 1
    for read_fmt in FORMATS:
        document = get_one(seeded, read_fmt, rid)
        assert document["service_request_id"] in (rid, int(rid))
        assert document["status"] == "open"
        assert document["status_notes"] == "上报"
        assert document["service_code"] == "road"
        assert document["service_name"] == "道路设施损坏"
        assert document["description"] == "人行道井盖缺失，夜里很危险"
        assert document["address"] == "金龙街道文昌路12号"
        assert document["agency_responsible"] == "交通运输局"
        assert float(document["lat"]) == pytest.approx(seeded.lat)
        assert float(document["long"]) == pytest.approx(seeded.long)
        requested = datetime.fromisoformat(document["requested_datetime"])
        assert requested.utcoffset() == timedelta(hours=8)  # local time, w3 with its offset
        assert abs(datetime.now(UTC) - requested) < timedelta(minutes=5)
        assert document["expected_datetime"] in (None, "")  # no deadline before registration
        assert "extended_attributes" not in document  # only with extensions=true


@pytest.mark.parametrize("fmt", FORMATS)
def test_extended_attributes_carry_our_state_once_dispatched(seeded: Seeded, fmt: str) -> None:
    rid = submit(seeded, **{"attribute[channel]": "grid", "service_code": "garbage"})
    core = seeded.app.core
    for action, params in (("verify", {}), ("register", {}), ("dispatch", {})):
        actions.perform(core, int(rid), action, params, actor="test")
    document = get_one(seeded, fmt, rid, "?extensions=true")
    extended = document["extended_attributes"]
    assert extended["state"] == "dispatched" and extended["state_label"] == "派遣"
    assert extended["channel"] == "grid" and extended["urgency"] == "immediate"
    assert extended["light"] == "green" and extended["level"] == "township"
    assert extended["grid"] and extended["township"]
    assert int(extended["grid_id"]) > 0 and int(extended["township_id"]) > 0
    assert extended["ticket"].endswith(f"-{int(rid):05d}")
    assert document["status"] == "open" and document["status_notes"] == "派遣"
    assert document["agency_responsible"] == "城市管理局"
    expected = datetime.fromisoformat(document["expected_datetime"])
    assert timedelta(hours=23) < expected - datetime.now(UTC) <= timedelta(hours=24)


@pytest.mark.parametrize("fmt", FORMATS)
def test_personal_fields_are_stored_but_never_returned(seeded: Seeded, fmt: str) -> None:
    tag = secrets.token_hex(4)
    personal = {
        "email": f"zhang{tag}@example.cn",
        "phone": f"139{int(tag, 16) % 10**8:08d}",
        "first_name": f"伟{tag}",
        "last_name": f"张{tag}",
        "device_id": f"device-{tag}",
        "account_id": f"account-{tag}",
    }
    client = seeded.client()
    posted = client.post(f"{BASE}/requests.{fmt}", data=form(seeded, **personal))
    assert posted.status_code == 201
    [created] = requests_of(posted, fmt)
    rid = str(created["service_request_id"])
    bodies = [posted.data]
    for read_fmt in FORMATS:
        for path in (f"requests/{rid}", "requests"):
            for query in ("", "?extensions=true", f"?service_request_id={rid}&extensions=true"):
                response = client.get(f"{BASE}/{path}.{read_fmt}{query}")
                assert response.status_code == 200
                bodies.append(response.data)
    for path in (f"/api/cases/{rid}", "/api/cases", "/api/snapshot"):
        bodies.append(client.get(path).data)
    assert any(rid.encode() in body for body in bodies[1:])
    for body in bodies:
        for value in personal.values():
            assert value.encode() not in body
    with seeded.app.core.db.read() as session:
        row = session.get(CaseRow, int(rid))
        assert row is not None
        assert (row.reporter_email, row.reporter_phone) == (personal["email"], personal["phone"])
        assert (row.reporter_first_name, row.reporter_last_name) == (
            personal["first_name"],
            personal["last_name"],
        )
        assert row.reporter_device_id == personal["device_id"]
        assert row.attributes["account_id"] == personal["account_id"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_chinese_text_round_trips_in_both_formats(seeded: Seeded, fmt: str) -> None:
    text = "垃圾桶满溢，臭味很大 🗑️\n请尽快清运 <不是标签> & “引号”"
    rid = submit(seeded, fmt, service_code="garbage", description=text, address_string="西平街道")
    for read_fmt in FORMATS:
        document = get_one(seeded, read_fmt, rid)
        assert document["description"] == text
        assert document["address"] == "西平街道"
        assert document["service_name"] == "垃圾满溢"


def test_a_control_character_from_another_channel_cannot_break_the_xml(seeded: Seeded) -> None:
    hotline = {"service_code": "noise", "lat": seeded.lat, "long": seeded.long}
    response = seeded.client().post("/api/cases", json=hotline | {"description": "铃声\x07不停"})
    assert response.status_code == 201
    rid = str(response.get_json()["id"])
    assert get_one(seeded, "xml", rid)["description"] == "铃声\ufffd不停"
    assert get_one(seeded, "json", rid)["description"] == "铃声\x07不停"


def test_multipart_form_fields_are_accepted(seeded: Seeded) -> None:
    response = seeded.client().post(
        f"{BASE}/requests.json", data=form(seeded), content_type="multipart/form-data"
    )
    assert response.status_code == 201
    assert json_of(response)[0]["service_request_id"]


def test_empty_optional_parameters_count_as_not_sent(seeded: Seeded) -> None:
    rid = submit(seeded, jurisdiction_id="", **{"attribute[channel]": ""})
    document = get_one(seeded, "json", rid, "?extensions=true&jurisdiction_id=")
    assert document["extended_attributes"]["channel"] == "app"


# -- GET requests filters ---------------------------------------------------------------


def ids_of(seeded: Seeded, fmt: str, query: str) -> list[str]:
    response = seeded.client().get(f"{BASE}/requests.{fmt}?{query}")
    assert response.status_code == 200, response.data
    return [str(r["service_request_id"]) for r in requests_of(response, fmt)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters_by_id_code_status_and_dates(seeded: Seeded, fmt: str) -> None:
    first = submit(seeded, service_code="noise", description="广场舞噪音")
    second = submit(seeded, service_code="parking", description="乱停车堵路")
    closed = submit(seeded, service_code="noise", description="施工噪音")
    for action, params in (
        ("verify", {}), ("register", {}), ("dispatch", {}), ("accept", {}),
        ("report_handled", {"result": "已协调停工"}), ("close", {}),
    ):  # fmt: skip
        actions.perform(seeded.app.core, int(closed), action, params, actor="test")

    assert sorted(ids_of(seeded, fmt, f"service_request_id={first},{second}")) == sorted(
        [first, second]
    )
    # service_request_id overrides every other argument
    assert ids_of(seeded, fmt, f"service_request_id={first}&status=closed") == [first]
    noise = ids_of(seeded, fmt, "service_code=noise")
    assert first in noise and closed in noise and second not in noise
    both = ids_of(seeded, fmt, "service_code=noise,parking")
    assert {first, second, closed} <= set(both)
    assert closed in ids_of(seeded, fmt, "status=closed")
    assert closed not in ids_of(seeded, fmt, "status=open")
    assert first in ids_of(seeded, fmt, "status=open") and first not in ids_of(
        seeded, fmt, "status=closed"
    )
    assert {first, closed} <= set(ids_of(seeded, fmt, "status=open,closed&service_code=noise"))
    now = datetime.now(UTC)
    window = f"start_date={(now - timedelta(hours=1)):%Y-%m-%dT%H:%M:%SZ}"
    window += f"&end_date={(now + timedelta(hours=1)).isoformat()}".replace("+", "%2B")
    assert {first, second, closed} <= set(ids_of(seeded, fmt, window))
    old = "start_date=2020-01-01T00:00:00%2B08:00&end_date=2020-02-01T00:00:00Z"
    assert ids_of(seeded, fmt, old) == []
    # a `+` sent unencoded arrives as a space: still the offset it was meant to be
    plus_as_space = f"start_date={(now - timedelta(hours=1)).astimezone().isoformat()}"
    assert first in ids_of(seeded, fmt, plus_as_space)


def test_get_requests_defaults_to_the_last_90_days(seeded: Seeded) -> None:
    now = seeded.app.core.clock.now()
    report = intake.NewReport(
        service_code="road", lat=seeded.lat, long=seeded.long, description="旧的路面塌陷"
    )
    old = intake.submit_report(seeded.app.core, report, now=now - timedelta(days=100))
    recent = submit(seeded)
    default = ids_of(seeded, "json", "")
    assert recent in default and str(old.case_id) not in default
    then = now - timedelta(days=100)
    window = f"start_date={(then - timedelta(days=1)):%Y-%m-%dT%H:%M:%SZ}"
    assert str(old.case_id) in ids_of(seeded, "json", window)
    assert str(old.case_id) in ids_of(seeded, "json", f"service_request_id={old.case_id}")


def test_the_default_query_is_90_days_and_1000_requests() -> None:
    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    query = open311_params.request_filter({}, now)
    assert (query.start, query.end, query.limit) == (now - timedelta(days=90), None, 1000)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    query = open311_params.request_filter({"start_date": "2026-01-01T00:00:00Z"}, now)
    assert (query.start, query.end) == (start, start + timedelta(days=90))


# -- refusals: status, error document, description, nothing stored ------------------------

POST_REFUSALS = [
    pytest.param({"lat": "91"}, 400, ["lat", "-90", "90"], id="lat-out-of-range"),
    pytest.param({"long": "-181"}, 400, ["long", "180"], id="long-out-of-range"),
    pytest.param({"lat": "abc"}, 400, ["lat", "number"], id="lat-not-a-number"),
    pytest.param({"lat": "0", "long": "0"}, 400, ["lat", "outside"], id="outside-the-county"),
    pytest.param({"long": None}, 400, ["long", "required"], id="long-missing"),
    pytest.param({"service_code": "pothole"}, 404, ["service_code", "pothole"], id="unknown-code"),
    pytest.param({"service_code": None}, 400, ["service_code", "required"], id="no-code"),
    pytest.param({"description": "坑" * 4001}, 400, ["description", "4000"], id="too-long"),
    pytest.param({"api_key": None}, 403, ["api_key", "required"], id="missing-api-key"),
    pytest.param({"api_key": "ch_wrong"}, 403, ["api_key", "not valid"], id="wrong-api-key"),
    pytest.param(
        {"jurisdiction_id": "sfgov.org"},
        404,
        ["jurisdiction_id", "sfgov.org", "yunling.gov.cn"],
        id="jurisdiction",
    ),
    pytest.param(
        {"lat": None, "long": None}, 400, ["lat", "geocode", "address_string"], id="address-only"
    ),
    pytest.param(
        {"attribute[colour]": "red"},
        400,
        ["attribute[colour]", "attribute[channel]"],
        id="unknown-attribute",
    ),
    pytest.param(
        {"attribute[channel]": "fax"}, 400, ["attribute[channel]", "hotline"], id="bad-channel"
    ),
    pytest.param({"media_url": "ftp://x/y.jpg"}, 400, ["media_url", "http"], id="bad-media-url"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("changes", "status", "words"), POST_REFUSALS)
def test_a_refused_post_answers_the_spec_error_and_stores_nothing(
    seeded: Seeded, fmt: str, changes: dict[str, Any], status: int, words: list[str]
) -> None:
    with nothing_stored(seeded):
        response = seeded.client().post(f"{BASE}/requests.{fmt}", data=form(seeded, **changes))
        description = error_of(response, fmt, status)
    for word in words:
        assert word in description


MALFORMED_BODIES = [
    pytest.param(
        b'{"service_code": "road"}',
        "application/json",
        ["Content-Type", "application/json"],
        id="json-body",
    ),
    pytest.param(
        b"\xff\xfe\x00\x81garbage=\xc3",
        "application/x-www-form-urlencoded",
        ["UTF-8"],
        id="garbage-bytes",
    ),
    pytest.param(
        b"description=%FF%FE",
        "application/x-www-form-urlencoded",
        ["UTF-8"],
        id="bad-percent-escape",
    ),
    pytest.param(
        b"service_code=road", "text/plain", ["Content-Type", "text/plain"], id="text-plain"
    ),
    pytest.param(
        b"service_code=road", None, ["Content-Type", "no Content-Type"], id="no-content-type"
    ),
    pytest.param(
        b"service_code=road",
        "application/x-www-form-urlencoded; charset=gbk",
        ["UTF-8", "gbk"],
        id="gbk",
    ),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("body", "content_type", "words"), MALFORMED_BODIES)
def test_a_malformed_body_is_400_naming_what_is_accepted(
    seeded: Seeded, fmt: str, body: bytes, content_type: str | None, words: list[str]
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with nothing_stored(seeded):
        response = seeded.client().post(f"{BASE}/requests.{fmt}", data=body, headers=headers)
        description = error_of(response, fmt, 400)
    for word in words:
        assert word in description


def test_an_oversized_body_is_413_before_it_is_read(seeded: Seeded) -> None:
    body = b"description=" + b"x" * (300 * 1024)
    with nothing_stored(seeded):
        response = seeded.client().post(
            f"{BASE}/requests.json",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        assert error_of(response, "json", 413)


def test_a_file_upload_is_refused_naming_media_url(seeded: Seeded) -> None:
    import io

    data = form(seeded) | {"media": (io.BytesIO(b"\x89PNG..."), "photo.png")}
    with nothing_stored(seeded):
        response = seeded.client().post(
            f"{BASE}/requests.xml", data=data, content_type="multipart/form-data"
        )
        description = error_of(response, "xml", 400)
    assert "media" in description and "media_url" in description


GET_REFUSALS = [
    pytest.param("start_date=2020-01-01", 400, ["start_date", "timezone"], id="date-without-time"),
    pytest.param(
        "start_date=2020-01-01T00:00:00", 400, ["start_date", "timezone"], id="no-timezone"
    ),
    pytest.param("end_date=yesterday", 400, ["end_date", "2010-01-01T00:00:00Z"], id="not-a-date"),
    pytest.param(
        "start_date=2020-13-01T00:00:00Z", 400, ["start_date", "no such date"], id="month-13"
    ),
    pytest.param(
        "start_date=2020-03-01T00:00:00Z&end_date=2020-02-01T00:00:00Z",
        400,
        ["end_date", "before"],
        id="end-before-start",
    ),
    pytest.param(
        "start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z",
        400,
        ["end_date", "90"],
        id="over-90-days",
    ),
    pytest.param("status=pending", 400, ["status", "open", "closed"], id="bad-status"),
    pytest.param("service_request_id=1,abc", 400, ["service_request_id", "abc"], id="bad-id"),
    pytest.param("service_code=road,pothole", 404, ["service_code", "pothole"], id="unknown-code"),
    pytest.param(
        "jurisdiction_id=sfgov.org", 404, ["jurisdiction_id", "sfgov.org"], id="jurisdiction"
    ),
    pytest.param("extensions=maybe", 400, ["extensions", "true"], id="bad-extensions"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("query", "status", "words"), GET_REFUSALS)
def test_a_bad_query_answers_the_spec_error_naming_the_parameter(
    seeded: Seeded, fmt: str, query: str, status: int, words: list[str]
) -> None:
    description = error_of(seeded.client().get(f"{BASE}/requests.{fmt}?{query}"), fmt, status)
    for word in words:
        assert word in description


@pytest.mark.parametrize("path", ["services.json", "services/road.xml", "requests/1.json"])
def test_another_jurisdiction_is_404_on_every_resource(seeded: Seeded, path: str) -> None:
    client = seeded.client()
    fmt = path.rsplit(".", 1)[-1]
    response = client.get(f"{BASE}/{path}?jurisdiction_id=sfgov.org")
    assert "jurisdiction_id" in error_of(response, fmt, 404)
    ours = client.get(f"{BASE}/services.{fmt}?jurisdiction_id=yunling.gov.cn")
    assert ours.status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rid", ["99999999", "abc", "-1", "99999999999"])
def test_an_unknown_request_is_404(seeded: Seeded, fmt: str, rid: str) -> None:
    description = error_of(seeded.client().get(f"{BASE}/requests/{rid}.{fmt}"), fmt, 404)
    assert "service_request_id" in description and rid in description


@pytest.mark.parametrize(
    ("path", "fmt", "words"),
    [
        ("services.yaml", "xml", ["yaml", ".xml or .json"]),
        ("requests/1.html", "xml", ["html", ".xml or .json"]),
        ("services", "xml", ["needs a format", ".xml or .json"]),
        ("tokens/12.json", "json", ["no Open311 resource", "services"]),
        ("", "xml", ["no Open311 resource", "discovery"]),
    ],
)
def test_an_unknown_format_or_resource_is_404_in_the_format_asked(
    seeded: Seeded, path: str, fmt: str, words: list[str]
) -> None:
    description = error_of(seeded.client().get(f"{BASE}/{path}"), fmt, 404)
    for word in words:
        assert word in description


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("put", "requests.json", "GET, POST"), ("post", "services.xml", "GET"),
     ("delete", "requests/1.json", "GET")],
)  # fmt: skip
def test_a_wrong_method_is_405_with_allow(
    seeded: Seeded, method: str, path: str, allow: str
) -> None:
    response = getattr(seeded.client(), method)(f"{BASE}/{path}")
    fmt = path.rsplit(".", 1)[-1]
    description = error_of(response, fmt, 405)
    assert response.headers["Allow"] == allow
    assert method.upper() in description


def test_an_internal_failure_is_500_in_the_format_asked(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("dispatch.service.queries.list_cases", broken)
    description = error_of(seeded.client().get(f"{BASE}/requests.xml"), "xml", 500)
    assert "fire" not in description  # internals stay in the log
