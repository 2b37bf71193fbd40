"""The citizen's side of the API as the /report page uses it, on SQLite and PostgreSQL.

Every client first opens /report, the real page, to get its CSRF cookie, and sends the
token back in the X-CSRFToken header, as assets/phone/report.js does.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from dashboard.i18n import table
from dispatch.adapters.orm import CaseRow, EventRow, PhotoRow
from dispatch.api.casework import PUBLIC_EVENTS
from dispatch.bootstrap import App
from dispatch.domain.categories import CATEGORIES
from dispatch.service import actions, intake, queries
from dispatch.service.photos import MAX_BYTES
from tests.integration.conftest import app_per_database, inside_a_grid

TICKET = re.compile(r"^\d{6}-\d{5}$")
RATING_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")  # no 0/O, 1/I
TO_CLOSED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("verify", {}), ("register", {}), ("dispatch", {}), ("accept", {}),
    ("report_handled", {"result": "已清运"}), ("close", {}),
)  # fmt: skip


@dataclass
class Citizen:
    """The application with its pages, and a point inside one of its grids."""

    app: App
    lat: float
    long: float

    def phone(self) -> FlaskClient:
        """A browser that has opened /report: it holds the session and the CSRF cookie."""
        client = self.app.flask.test_client()
        page = client.get("/report")
        assert page.status_code == 200 and page.mimetype == "text/html"
        return client

    def fields(self, **overrides: Any) -> dict[str, Any]:
        fields = {
            "service_code": "garbage", "lat": f"{self.lat:.6f}", "long": f"{self.long:.6f}",
            "description": "小区门口垃圾桶满溢三天没人清运", "address": "文昌路12号",
        }  # fmt: skip
        return fields | overrides

    def counts(self) -> tuple[int, int, int]:
        """(cases, photo rows, events) stored so far."""
        with self.app.core.db.read() as session:
            return tuple(  # type: ignore[return-value]
                int(session.scalar(select(func.count()).select_from(t)) or 0)
                for t in (CaseRow, PhotoRow, EventRow)
            )

    def photo_files(self) -> set[Path]:
        root = Path(self.app.settings.data_dir) / "photos"
        return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def citizen(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Citizen]:
    """One seeded application with the pages (the shared `seeded` one has none)."""
    with app_per_database(request, tmp_path_factory, "citizen") as app:
        lat, long = inside_a_grid(app)
        yield Citizen(app, lat, long)


def csrf(client: FlaskClient) -> dict[str, str]:
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None, "the page set no _csrf_token cookie"
    return {"X-CSRFToken": cookie.value}


def image_bytes(fmt: str, size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#5a7d9a").save(buffer, fmt)
    return buffer.getvalue()


def post_report(
    client: FlaskClient,
    fields: dict[str, Any],
    photos: Sequence[tuple[bytes, str]] = (),
    headers: dict[str, str] | None = None,
) -> Any:
    data = dict(fields)
    if photos:
        data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post(
        "/api/reports", data=data, headers=headers or {}, content_type="multipart/form-data"
    )


def report(citizen: Citizen, **overrides: Any) -> tuple[FlaskClient, dict[str, Any]]:
    """A report from a fresh phone, with one JPEG; its client and its answer."""
    client = citizen.phone()
    answer = post_report(
        client, citizen.fields(**overrides), [(image_bytes("JPEG"), "scene.jpg")], csrf(client)
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return client, answer.get_json()


def drive(citizen: Citizen, case_id: int, steps: tuple[tuple[str, dict[str, Any]], ...]) -> None:
    for action, params in steps:
        actions.perform(citizen.app.core, case_id, action, params, actor="test")


# -- the page -----------------------------------------------------------------------------


def test_the_page_speaks_chinese_by_default_english_on_request_and_sets_the_csrf_cookie(
    citizen: Citizen,
) -> None:
    client = citizen.app.flask.test_client()
    page = client.get("/report")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html
    for words in ("随手拍", "我要上报", "查询进度", "使用我的位置", "提交上报", "云岭县综治中心"):
        assert words in html, words
    assert client.get_cookie("_csrf_token") is not None
    # Every category once, "let the centre decide" standing in for 其他 (other).
    codes = re.findall(r'<option value="([a-z]+)"', html)
    assert sorted(codes) == sorted(c.code for c in CATEGORIES)
    assert '<option value="other">不确定，由中心判断</option>' in html
    assert re.search(r'<input type="file" id="rp-photos"[^>]*accept="image/\*" multiple\s+'
                     r'capture="environment"', html)  # fmt: skip
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset

    english = client.get("/report?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Snap and report" in english
    assert "Not sure: let the centre decide" in english and "随手拍" not in english


def test_every_step_a_citizen_can_see_has_a_label_in_both_languages() -> None:
    strings = table()
    for event in PUBLIC_EVENTS:
        zh, en = strings[f"report.step.{event}"]
        assert zh and en and zh != en, event


# -- reporting ----------------------------------------------------------------------------


def test_a_report_without_the_csrf_token_is_refused_and_stores_nothing(citizen: Citizen) -> None:
    before = citizen.counts()
    stranger = citizen.app.flask.test_client()  # never opened the page
    answer = post_report(stranger, citizen.fields(), [(image_bytes("JPEG"), "a.jpg")])
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "csrf_failed"
    # With the cookie but without echoing the token (a forged cross-site form).
    answer = post_report(citizen.phone(), citizen.fields())
    assert (answer.status_code, answer.get_json()["field"]) == (403, "csrf_token")
    assert citizen.counts() == before


def test_a_report_with_a_jpeg_gets_a_ticket_and_a_rating_code_and_is_a_citizen_case(
    citizen: Citizen,
) -> None:
    before = citizen.counts()
    files_before = citizen.photo_files()
    _, body = report(citizen, name="张女士", phone="138 0000 1234")
    assert TICKET.match(body["ticket"]) and RATING_CODE.match(body["rating_code"]), body
    assert (body["state"], body["replayed"]) == ("reported", False)
    assert queries.case_id_from_ticket(body["ticket"]) == body["id"]
    with citizen.app.core.db.read() as session:
        case = session.get(CaseRow, body["id"])
        assert case is not None
        assert (case.channel, case.service_code) == ("citizen", "garbage")
        assert (case.reporter_first_name, case.reporter_phone) == ("张女士", "138 0000 1234")
        assert case.grid_id is not None and case.address == "文昌路12号"
        # Only a hash of the rating code is kept.
        assert case.attributes[intake.RATING_CODE_KEY] == intake.code_hash(body["rating_code"])
        assert body["rating_code"] not in str(case.attributes)
        photos = session.scalars(select(PhotoRow).where(PhotoRow.case_id == body["id"])).all()
    assert [(p.kind, p.content_type, p.original_name) for p in photos] == [
        ("report", "image/jpeg", "scene.jpg")
    ]
    assert citizen.counts()[:2] == (before[0] + 1, before[1] + 1)
    assert len(citizen.photo_files() - files_before) in (1, 2)  # original (+ new thumbnail)


def test_a_photo_without_a_description_is_enough(citizen: Citizen) -> None:
    client = citizen.phone()
    answer = post_report(
        client, citizen.fields(description=""), [(image_bytes("JPEG"), "a.jpg")], csrf(client)
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_a_report_with_neither_words_nor_a_photo_is_refused_on_the_description(
    citizen: Citizen,
) -> None:
    client = citizen.phone()
    answer = post_report(client, citizen.fields(description="  "), headers=csrf(client))
    assert (answer.status_code, answer.get_json()["field"]) == (400, "description")


def test_a_png_named_jpg_is_taken_for_what_it_is(citizen: Citizen) -> None:
    client = citizen.phone()
    answer = post_report(
        client, citizen.fields(), [(image_bytes("PNG"), "IMG_0001.jpg")], csrf(client)
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    with citizen.app.core.db.read() as session:
        photo = session.scalars(
            select(PhotoRow).where(PhotoRow.case_id == answer.get_json()["id"])
        ).one()
    assert (photo.content_type, photo.path.endswith(".png")) == ("image/png", True)


@pytest.mark.parametrize(
    ("content", "name", "codes"),
    [
        (b"meeting notes, not a picture\n" * 20, "photo.jpg", ("unsupported_image",)),
        (image_bytes("JPEG") + b"\0" * (11 * 1024 * 1024), "huge.jpg", ("too_large",)),
    ],
    ids=["text-named-jpg", "11-MB"],
)
def test_a_refused_photo_is_named_next_to_the_photos_and_nothing_is_stored(
    citizen: Citizen, content: bytes, name: str, codes: tuple[str, ...]
) -> None:
    before, files_before = citizen.counts(), citizen.photo_files()
    client = citizen.phone()
    good = (image_bytes("JPEG"), "good.jpg")  # a good photo first: it must not be kept either
    answer = post_report(client, citizen.fields(), [good, (content, name)], csrf(client))
    body = answer.get_json(silent=True)
    if answer.status_code == 413:  # a proxy or the body limit: refused before reading
        assert citizen.counts() == before
        return
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert body["field"] == "photos" and body["code"] in codes, body
    assert f"photo 2 ({name})" in body["message"], body["message"]
    if "too_large" in codes:
        assert f"at most {MAX_BYTES:,} bytes (10 MB)" in body["message"], body["message"]
    assert citizen.counts() == before
    assert citizen.photo_files() == files_before


def test_the_same_idempotency_key_twice_makes_one_case(citizen: Citizen) -> None:
    client = citizen.phone()
    headers = csrf(client) | {"Idempotency-Key": "0f8e7d6c-5b4a-4321-8765-43210fedcba9"}
    fields = citizen.fields(description=f"double tap {citizen.app.core.clock.now()}")
    photo = [(image_bytes("JPEG"), "a.jpg")]
    before = citizen.counts()
    first = post_report(client, fields, photo, headers)
    again = post_report(client, fields, photo, headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["replayed"] is True
    # A retry whose first answer was lost gets the same rating code, so it can still rate.
    assert again.get_json()["rating_code"] == first.get_json()["rating_code"]
    assert citizen.counts()[:2] == (before[0] + 1, before[1] + 1)
    # The key with another report is a mistake the page must hear about, not a replay.
    other = post_report(client, fields | {"description": "另一件事"}, photo, headers)
    assert other.status_code == 422 and other.get_json()["field"] == "Idempotency-Key"


def test_a_point_outside_the_grids_is_refused_on_the_lat_field(citizen: Citizen) -> None:
    client = citizen.phone()
    answer = post_report(client, citizen.fields(lat="0.0", long="0.0"), headers=csrf(client))
    assert (answer.status_code, answer.get_json()["field"]) == (400, "lat")


# -- following the case and rating it ---------------------------------------------------


def test_the_ticket_shows_the_state_and_the_steps_but_not_who_handles_it(
    citizen: Citizen,
) -> None:
    client, body = report(citizen)
    drive(citizen, body["id"], TO_CLOSED[:3])
    status = client.get(f"/api/tickets/{body['ticket']}")
    assert status.status_code == 200
    data = status.get_json()
    assert set(data) == {
        "ticket", "state", "status", "category_name", "category_name_en", "reported_at",
        "closed_at", "rating", "can_rate", "steps",
    }  # fmt: skip
    assert (data["state"], data["category_name"], data["can_rate"]) == (
        "dispatched",
        "垃圾满溢",
        False,
    )
    assert [s["type"] for s in data["steps"]] == [
        "case.reported", "case.verified", "case.registered", "case.dispatched",
    ]  # fmt: skip
    assert all(s["at"].endswith("+00:00") for s in data["steps"])

    missing = client.get("/api/tickets/200101-99999")
    assert (missing.status_code, missing.get_json()["field"]) == (404, "ticket")
    # The id alone (or with the wrong date) does not open somebody's case.
    wrong_day = "000101-" + body["ticket"].split("-")[1]
    assert client.get(f"/api/tickets/{wrong_day}").status_code == 404


def test_rating_needs_the_right_code_a_closed_case_and_the_csrf_token(citizen: Citizen) -> None:
    client, body = report(citizen)
    url = f"/api/tickets/{body['ticket']}/rating"
    right = {"rating": 5, "code": body["rating_code"]}
    wrong = {"rating": 5, "code": "AAAAAA" if body["rating_code"] != "AAAAAA" else "BBBBBB"}

    early = client.post(url, json=right, headers=csrf(client))
    assert (early.status_code, early.get_json()["code"]) == (409, "illegal_transition")
    drive(citizen, body["id"], TO_CLOSED)
    refused = client.post(url, json=wrong, headers=csrf(client))
    assert (refused.status_code, refused.get_json()["field"]) == (403, "code")
    no_token = client.post(url, json=right)
    assert (no_token.status_code, no_token.get_json()["code"]) == (403, "csrf_failed")
    with citizen.app.core.db.read() as session:
        case = session.get(CaseRow, body["id"])
        assert case is not None and (case.state, case.rating) == ("closed", None)
    status = client.get(f"/api/tickets/{body['ticket']}").get_json()
    assert status["can_rate"] is True and status["closed_at"]


def test_a_rating_without_a_code_or_with_a_word_for_a_number_is_a_400_naming_the_field(
    citizen: Citizen,
) -> None:
    client, body = report(citizen)
    url = f"/api/tickets/{body['ticket']}/rating"
    no_code = client.post(url, json={"rating": 3}, headers=csrf(client))
    assert (no_code.status_code, no_code.get_json()["field"]) == (400, "code")
    word = client.post(
        url, json={"rating": "好", "code": body["rating_code"]}, headers=csrf(client)
    )
    assert (word.status_code, word.get_json()["field"]) == (400, "rating")


@pytest.mark.parametrize(
    ("rating", "state", "last_step"),
    [(2, "reopened", "case.reopened"), (4, "reviewed", "case.reviewed")],
    ids=["unsatisfied-reopens", "satisfied-reviewed"],
)
def test_a_rating_after_closing_reopens_or_closes_the_loop(
    citizen: Citizen, rating: int, state: str, last_step: str
) -> None:
    client, body = report(citizen)
    drive(citizen, body["id"], TO_CLOSED)
    code = body["rating_code"].lower()  # as typed on a phone keyboard
    answer = client.post(
        f"/api/tickets/{body['ticket']}/rating",
        json={"rating": rating, "code": code},
        headers=csrf(client),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"ticket": body["ticket"], "state": state, "rating": rating}
    with citizen.app.core.db.read() as session:
        case = session.get(CaseRow, body["id"])
        assert case is not None and (case.state, case.rating) == (state, rating)
    status = client.get(f"/api/tickets/{body['ticket']}").get_json()
    assert (status["state"], status["can_rate"], status["rating"]) == (state, False, rating)
    assert status["steps"][-1]["type"] == last_step
