"""The internal JSON API: POST/GET /api/cases, actions, errors and its OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from dispatch.api import openapi
from dispatch.domain.lifecycle import Action
from tests.integration.conftest import Seeded


def hotline(seeded: Seeded, **changes: Any) -> dict[str, Any]:
    data = {
        "service_code": "utilities",
        "lat": seeded.lat,
        "long": seeded.long,
        "description": "整栋楼停水一天了",
        "address": "龙华街道建设路8号",
        "phone": "13812345678",
        "first_name": "秀英",
        "last_name": "王",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def new_case(seeded: Seeded, **changes: Any) -> dict[str, Any]:
    response = seeded.client().post("/api/cases", json=hotline(seeded, **changes))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_post_cases_answers_201_with_the_summary_and_hides_personal_data(seeded: Seeded) -> None:
    client = seeded.client()
    before = seeded.counts()
    response = client.post("/api/cases", json=hotline(seeded))
    assert response.status_code == 201
    case = response.get_json()
    assert response.headers["Location"] == f"/api/cases/{case['id']}"
    assert case["state"] == "reported" and case["status"] == "open"
    assert case["channel"] == "hotline"  # the default of this API
    assert case["description"] == "整栋楼停水一天了"
    assert case["category_name"] == "水电暖" and case["grid"] and case["township"]
    assert seeded.counts()[:2] == (before[0] + 1, before[1] + 1)
    assert client.get(f"/api/cases/{case['id']}").get_json() == case
    listed = client.get("/api/cases?state=reported&limit=1000").get_json()["cases"]
    assert case["id"] in [c["id"] for c in listed]
    for response_body in (response.data, client.get(f"/api/cases/{case['id']}").data):
        for personal in (b"13812345678", "秀英".encode(), b'"last_name"', b"phone"):
            assert personal not in response_body


def test_post_cases_takes_the_channel_and_numbers_as_strings(seeded: Seeded) -> None:
    case = new_case(seeded, channel="citizen", lat=str(seeded.lat), long=str(seeded.long))
    assert case["channel"] == "citizen"
    assert case["lat"] == pytest.approx(seeded.lat)


REFUSALS = [
    pytest.param({"lat": 91}, 400, "lat", "invalid", id="lat-out-of-range"),
    pytest.param({"lat": [25.6]}, 400, "lat", "invalid", id="lat-a-list"),
    pytest.param({"lat": True}, 400, "lat", "invalid", id="lat-a-boolean"),
    pytest.param({"long": "east"}, 400, "long", "invalid", id="long-not-a-number"),
    pytest.param({"lat": 0, "long": 0}, 400, "lat", "invalid", id="outside-the-county"),
    pytest.param({"service_code": "pothole"}, 404, "service_code", "not_found", id="unknown-code"),
    pytest.param({"description": "水" * 4001}, 400, "description", "invalid", id="too-long"),
    pytest.param({"description": 42}, 400, "description", "invalid", id="not-text"),
    pytest.param({"channel": "fax"}, 400, "channel", "invalid", id="bad-channel"),
    pytest.param({"colour": "red"}, 400, "colour", "invalid", id="unknown-field"),
    pytest.param({"address": "路" * 401}, 400, "address", "invalid", id="address-too-long"),
    pytest.param({"description": "\ud800"}, 400, "description", "invalid", id="lone-surrogate"),
    pytest.param({"phone": "call me"}, 400, "phone", "invalid", id="bad-phone"),
]


@pytest.mark.parametrize(("changes", "status", "field", "code"), REFUSALS)
def test_post_cases_refuses_naming_the_field_and_stores_nothing(
    seeded: Seeded, changes: dict[str, Any], status: int, field: str, code: str
) -> None:
    before = seeded.counts()
    # ASCII JSON, so that a lone surrogate travels as the escape a broken client would send
    body = json.dumps(hotline(seeded, **changes))
    response = seeded.client().post("/api/cases", data=body, content_type="application/json")
    assert response.status_code == status
    error = response.get_json()
    assert set(error) == {"code", "message", "field"}
    assert (error["code"], error["field"]) == (code, field)
    assert field in error["message"]
    assert seeded.counts() == before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        pytest.param(b"service_code=road", "application/x-www-form-urlencoded", 415,
                     ["application/json", "application/x-www-form-urlencoded"], id="form"),
        pytest.param(b"{}", None, 415, ["application/json", "no Content-Type"], id="none"),
        pytest.param(b'{"service_code": ', "application/json", 400, ["JSON"], id="broken-json"),
        pytest.param(b"\xff\xfe{}", "application/json", 400, ["JSON"], id="garbage-bytes"),
        pytest.param(b"[1, 2]", "application/json", 400, ["object"], id="an-array"),
    ],
)  # fmt: skip
def test_post_cases_refuses_a_body_that_is_not_a_json_object(
    seeded: Seeded, data: bytes, content_type: str | None, status: int, words: list[str]
) -> None:
    before = seeded.counts()
    headers = {"Content-Type": content_type} if content_type else {}
    response = seeded.client().post("/api/cases", data=data, headers=headers)
    assert response.status_code == status
    error = response.get_json()
    assert set(error) == {"code", "message", "field"}
    for word in words:
        assert word in error["message"]
    assert seeded.counts() == before


# -- actions ---------------------------------------------------------------------------


def test_an_action_moves_the_case_and_returns_its_events(seeded: Seeded) -> None:
    case = new_case(seeded)
    response = seeded.client().post(f"/api/cases/{case['id']}/actions/verify")
    assert response.status_code == 200
    body = response.get_json()
    assert body["case"]["state"] == "verified"
    assert [e["type"] for e in body["events"]] == ["case.verified"]
    assert body["events"][0]["case_id"] == case["id"] and body["events"][0]["seq"] > 0


def test_an_illegal_transition_is_409_naming_the_state(seeded: Seeded) -> None:
    case = new_case(seeded)
    client = seeded.client()
    before = seeded.counts()
    response = client.post(f"/api/cases/{case['id']}/actions/close")
    assert response.status_code == 409
    error = response.get_json()
    assert error["code"] == "illegal_transition" and error["field"] == "state"
    assert "reported" in error["message"] and "handled" in error["message"]
    assert seeded.counts() == before
    assert client.get(f"/api/cases/{case['id']}").get_json()["state"] == "reported"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/cases/{id}/actions/teleport", None, 400, "action"),
        ("/api/cases/99999999/actions/verify", None, 404, "case_id"),
        ("/api/cases/{id}/actions/reject", {}, 400, "reason"),
        ("/api/cases/{id}/actions/reject", [1], 400, "body"),
    ],
)
def test_a_bad_action_request_names_what_is_wrong(
    seeded: Seeded, path: str, body: Any, status: int, field: str
) -> None:
    case = new_case(seeded)
    before = seeded.counts()
    response = seeded.client().post(path.format(id=case["id"]), json=body)
    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert seeded.counts() == before


# -- the OpenAPI document ----------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_documents_every_api_route_and_nothing_else(seeded: Seeded) -> None:
    served = seeded.client().get("/api/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in seeded.app.flask.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    assert ("/api/cases/{case_id}/actions/{name}", "post") in routes


def test_openapi_document_is_valid_openapi_3_1(seeded: Seeded) -> None:
    from openapi_spec_validator import validate

    document = seeded.client().get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_enumerates_the_actions_and_describes_real_summaries(seeded: Seeded) -> None:
    document = openapi.document()
    action = document["paths"]["/api/cases/{case_id}/actions/{name}"]["post"]
    [name] = [p for p in action["parameters"] if p["name"] == "name"]
    assert name["schema"]["enum"] == [a.value for a in Action]
    summary = new_case(seeded)
    schema = document["components"]["schemas"]["CaseSummary"]
    assert set(schema["properties"]) == set(summary)
    jsonschema.Draft202012Validator(schema).validate(summary)
    error = seeded.client().get("/api/cases/99999999").get_json()
    jsonschema.Draft202012Validator(document["components"]["schemas"]["Error"]).validate(error)


def test_the_snapshots_cases_are_screen_cases_as_documented(seeded: Seeded) -> None:
    new_case(seeded)
    cases = seeded.client().get("/api/snapshot").get_json()["cases"]
    schema = openapi.document()["components"]["schemas"]["ScreenCase"]
    assert cases and all(set(c) == set(schema["properties"]) for c in cases)
    for case in cases:
        jsonschema.Draft202012Validator(schema).validate(case)
