"""Idempotency-Key on Open311 POST requests and POST /api/cases, on SQLite and PostgreSQL.

A retry gets the first answer and stores nothing new; the same key with another body is
refused; two submissions racing with one key make one case.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

import pytest
import requests

from dispatch.api import open311_format
from tests.integration.conftest import Seeded
from tests.support import LiveServer, api_key

BASE = "/open311/v2"


def key() -> str:
    return f"retry-{secrets.token_hex(8)}"


def form(seeded: Seeded, **changes: Any) -> dict[str, Any]:
    return {
        "api_key": seeded.api_key,
        "service_code": "garbage",
        "lat": seeded.lat,
        "long": seeded.long,
        "description": "垃圾桶满了三天没人清运",
        "email": "li@example.cn",
    } | changes


def created_id(body: bytes, fmt: str) -> str:
    if fmt == "json":
        return str(json.loads(body)[0]["service_request_id"])
    return body.split(b"<service_request_id>")[1].split(b"<")[0].decode()


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(seeded: Seeded, fmt: str) -> None:
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    cases, events, keys = seeded.counts()
    first = client.post(f"{BASE}/requests.{fmt}", data=form(seeded), headers=headers)
    again = client.post(f"{BASE}/requests.{fmt}", data=form(seeded), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.data == first.data
    assert again.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert seeded.counts() == (cases + 1, events + 1, keys + 1)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_same_key_with_another_body_is_422_and_stores_nothing(seeded: Seeded, fmt: str) -> None:
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    first = client.post(f"{BASE}/requests.{fmt}", data=form(seeded), headers=headers)
    assert first.status_code == 201
    before = seeded.counts()
    other = client.post(
        f"{BASE}/requests.{fmt}", data=form(seeded, description="另一件事"), headers=headers
    )
    assert other.status_code == 422
    assert other.content_type == open311_format.CONTENT_TYPES[fmt]
    if fmt == "json":
        [error] = json.loads(other.data)
        code, description = error["code"], error["description"]
    else:
        assert other.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        code = int(other.data.split(b"<code>")[1].split(b"<")[0])
        description = other.data.split(b"<description>")[1].split(b"<")[0].decode()
    assert code == 422
    assert "Idempotency-Key" in description and "new key" in description
    assert seeded.counts() == before


def test_different_keys_make_different_cases(seeded: Seeded) -> None:
    client = seeded.client()
    cases = seeded.counts()[0]
    ids = {
        created_id(
            client.post(
                f"{BASE}/requests.json", data=form(seeded), headers={"Idempotency-Key": key()}
            ).data,
            "json",
        )
        for _ in range(2)
    }
    assert len(ids) == 2
    assert seeded.counts()[0] == cases + 2


def test_keys_belong_to_their_api_key(seeded: Seeded) -> None:
    """Two apps that happen to pick the same key do not see each other's answers."""
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    other_app = api_key(seeded.app, "another-app")
    mine = client.post(f"{BASE}/requests.json", data=form(seeded), headers=headers)
    theirs = client.post(
        f"{BASE}/requests.json", data=form(seeded, api_key=other_app), headers=headers
    )
    assert mine.status_code == theirs.status_code == 201
    assert created_id(mine.data, "json") != created_id(theirs.data, "json")
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_refused_first_attempt_does_not_burn_the_key(seeded: Seeded) -> None:
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    before = seeded.counts()
    refused = client.post(f"{BASE}/requests.json", data=form(seeded, lat="91"), headers=headers)
    assert refused.status_code == 400
    assert seeded.counts() == before
    fixed = client.post(f"{BASE}/requests.json", data=form(seeded), headers=headers)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_an_empty_or_overlong_key_is_400(seeded: Seeded) -> None:
    client = seeded.client()
    with_key = {"Idempotency-Key": "k" * 201}
    before = seeded.counts()
    response = client.post(f"{BASE}/requests.json", data=form(seeded), headers=with_key)
    assert response.status_code == 400
    assert "Idempotency-Key" in json.loads(response.data)[0]["description"]
    assert seeded.counts() == before


def test_concurrent_submissions_with_one_key_make_one_case(
    seeded: Seeded, live: LiveServer
) -> None:
    threads, headers = 4, {"Idempotency-Key": key()}
    barrier = threading.Barrier(threads)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def submit() -> None:
        with requests.Session() as session:
            barrier.wait()
            response = session.post(
                f"{live.url}{BASE}/requests.json", data=form(seeded), headers=headers, timeout=30
            )
        with lock:
            answers.append(response)

    cases, events, keys = seeded.counts()
    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [r.status_code for r in answers] == [201] * threads, [r.text for r in answers]
    assert len({created_id(r.content, "json") for r in answers}) == 1
    assert sum(1 for r in answers if "Idempotent-Replayed" not in r.headers) <= 1
    assert seeded.counts() == (cases + 1, events + 1, keys + 1)


# -- the internal API -----------------------------------------------------------------


def hotline(seeded: Seeded, **changes: Any) -> dict[str, Any]:
    return {
        "service_code": "noise",
        "lat": seeded.lat,
        "long": seeded.long,
        "description": "楼下KTV营业到凌晨两点",
        "phone": "13912345678",
    } | changes


def test_api_cases_retry_returns_the_same_case_and_another_body_is_422(seeded: Seeded) -> None:
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    cases = seeded.counts()[0]
    first = client.post("/api/cases", json=hotline(seeded), headers=headers)
    again = client.post("/api/cases", json=hotline(seeded), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert seeded.counts()[0] == cases + 1
    other = client.post("/api/cases", json=hotline(seeded, description="别的"), headers=headers)
    assert other.status_code == 422
    assert other.get_json() == {
        "code": "idempotency_key_reused",
        "message": other.get_json()["message"],
        "field": "Idempotency-Key",
    }
    assert seeded.counts()[0] == cases + 1


def test_api_cases_and_open311_keys_live_in_separate_scopes(seeded: Seeded) -> None:
    client, headers = seeded.client(), {"Idempotency-Key": key()}
    api = client.post("/api/cases", json=hotline(seeded), headers=headers)
    open311 = client.post(f"{BASE}/requests.json", data=form(seeded), headers=headers)
    assert api.status_code == open311.status_code == 201
    assert str(api.get_json()["id"]) != created_id(open311.data, "json")
