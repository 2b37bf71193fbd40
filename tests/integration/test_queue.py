"""The duty console's queues and case search, on SQLite and PostgreSQL.

Each test builds the same small world through the real service (intake, actions, the SLA
clock) in a fresh database: a case in every queue-relevant state, a red and a yellow case, a
whistle with two departments, a closed case, and one case in another township.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.adapters.clock import FixedClock
from dispatch.bootstrap import App
from dispatch.domain.access import CaseScope
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import queue
from dispatch.service.actions import perform, tick
from dispatch.service.errors import ValidationError
from dispatch.service.intake import NewReport, submit_report
from dispatch.service.queries import ticket
from dispatch.service.queue import (
    BUCKETS,
    OFFICE_BUCKETS,
    QueueFilter,
    duty_queue,
    office_queue,
    parse_filter,
    search_cases,
)
from tests.support import build_app

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
EVERYTHING = CaseScope()


@dataclass
class World:
    app: App
    town_a: int
    town_b: int
    ids: dict[str, int]

    def names_of(self, items: list[dict[str, Any]]) -> list[str]:
        by_id = {case_id: name for name, case_id in self.ids.items()}
        return [by_id[item["id"]] for item in items]

    def duty(self, scope: CaseScope = EVERYTHING, **f: Any) -> dict[str, Any]:
        return duty_queue(self.app.core, self.app.names, scope=scope, f=QueueFilter(**f))

    def office(self, scope: CaseScope, **f: Any) -> dict[str, Any]:
        return office_queue(self.app.core, self.app.names, scope=scope, f=QueueFilter(**f))

    def search(self, text: str, scope: CaseScope = EVERYTHING, **kw: Any) -> list[str]:
        found = search_cases(self.app.core, self.app.names, scope=scope, text=text, **kw)
        return self.names_of(found)

    def buckets(self, result: dict[str, Any]) -> dict[str, list[str]]:
        return {
            name: self.names_of(bucket["items"])
            for name, bucket in result.items()
            if name != "server_time"
        }


def _point_per_township(app: App) -> dict[int, tuple[float, float]]:
    """(lat, long) of a grid centroid inside its own grid, one per township."""
    points: dict[int, tuple[float, float]] = {}
    for unit in sorted(app.names.units.values(), key=lambda u: u.id):
        if unit.kind is not UnitKind.GRID or not unit.polygon:
            continue
        long, lat = centroid(unit.polygon[0])
        where = app.core.grids.locate(long, lat)
        if where.grid_id == unit.id and where.township_id is not None:
            points.setdefault(where.township_id, (lat, long))
    return points


def build_world(app: App) -> World:
    core = app.core
    points = _point_per_township(app)
    town_a, town_b = sorted(points)[:2]
    ids: dict[str, int] = {}
    when: dict[str, datetime] = {}
    seconds = iter(range(1000))

    def report(name: str, at: datetime, *, township: int = town_a, **fields: Any) -> None:
        lat, long = points[township]
        # A second apart, so that "oldest first" and "newest first" have an answer.
        when[name] = at + timedelta(seconds=next(seconds))
        values: dict[str, Any] = {
            "service_code": "garbage",
            "description": f"{name}: 垃圾桶满溢",
            "address": "人民路8号",
        } | fields
        new = NewReport(lat=lat, long=long, submitted_by="test", **values)
        ids[name] = submit_report(core, new, now=when[name]).case_id

    def act(name: str, *steps: tuple[str, dict[str, Any]], at: datetime | None = None) -> None:
        for action, params in steps:
            perform(core, ids[name], action, params, actor="test", now=at or when[name])

    verify, register, dispatch = ("verify", {}), ("register", {}), ("dispatch", {})
    normal = ("register", {"urgency": "normal"})
    accept = ("accept", {})
    recent = NOW - timedelta(hours=2)  # every light still green
    report("reported", recent, channel="hotline", description="小区门口垃圾桶满溢，臭味很大")
    report("reported_b", recent, township=town_b, service_code="road", description="井盖破损")
    report("verified", recent, service_code="noise", description="广场舞噪音扰民 Lane ABC")
    act("verified", verify)
    report("registered", recent)
    act("registered", verify, register)
    report("dispatched", recent, address="建设路3号B栋")
    act("dispatched", verify, normal, dispatch)
    report("dispatched_later", recent)
    act("dispatched_later", verify, normal, dispatch)
    report("accepted", recent)
    act("accepted", verify, register, dispatch, accept)
    report("handling", recent)
    act("handling", verify, register, dispatch, accept, ("start_handling", {}))
    report("returned", recent)
    act("returned", verify, register, dispatch, ("return", {"reason": "不归我们管"}))
    # Urgent has 3 days: red by now. Emergency has 24 h and turns yellow after 16 h.
    report("red", NOW - timedelta(days=4))
    act("red", verify, ("register", {"urgency": "urgent"}), dispatch)
    report("yellow", NOW - timedelta(hours=18))
    act("yellow", verify, ("register", {"urgency": "emergency"}), dispatch)
    report("whistled", recent, description="垃圾桶旁有人焚烧垃圾")
    act("whistled", verify, register)
    whistle = ("whistle", {"lead": "police", "co": ["ecoenv"]})
    act("whistled", whistle, at=NOW - timedelta(minutes=5))
    report("closed", NOW - timedelta(days=30), description="垃圾桶满溢 已处理 abc")
    act(
        "closed", verify, register, dispatch, accept, ("report_handled", {"result": "已清运"}),
        ("close", {}),
    )  # fmt: skip
    tick(core, now=NOW)
    return World(app, town_a, town_b, ids)


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    app = build_app(tmp_path, db_url, clock=FixedClock(NOW), with_dashboard=False)
    try:
        yield build_world(app)
    finally:
        app.stop()
        app.core.db.dispose()


# -- duty queue -------------------------------------------------------------------------------


def test_each_duty_bucket_holds_exactly_its_cases(world: World) -> None:
    result = world.duty()
    assert result["server_time"] == NOW.isoformat()
    assert set(result) == {"server_time", *BUCKETS}
    got = world.buckets(result)
    assert sorted(got["verify"]) == ["reported", "reported_b"]
    assert sorted(got["dispatch"]) == ["registered", "verified"]
    assert got["overdue"] == ["red", "yellow"]
    assert got["returned"] == ["returned"]
    assert got["whistles"] == ["whistled"]
    for name, bucket in result.items():
        if name != "server_time":
            assert bucket["count"] == len(bucket["items"]), name


def test_the_whistles_bucket_lists_the_parties_still_to_acknowledge(world: World) -> None:
    (item,) = world.duty()["whistles"]["items"]
    parties = {p["department"]: p for p in item["parties"]}
    assert set(parties) == {"police", "ecoenv"}
    assert parties["police"]["role"] == "lead" and parties["ecoenv"]["role"] == "co"
    assert parties["police"]["ack_deadline"] == (NOW + timedelta(minutes=25)).isoformat()
    assert parties["police"]["late"] is False and parties["police"]["state"] == "waiting"

    core = world.app.core
    perform(core, world.ids["whistled"], "acknowledge", {"department": "police"}, now=NOW)
    (item,) = world.duty()["whistles"]["items"]
    assert [p["department"] for p in item["parties"]] == ["ecoenv"]
    perform(core, world.ids["whistled"], "acknowledge", {"department": "ecoenv"}, now=NOW)
    assert world.duty()["whistles"] == {"count": 0, "items": []}


def test_items_go_red_then_yellow_then_green_then_by_urgency_then_oldest(world: World) -> None:
    town_a = CaseScope(township_id=world.town_a)
    incoming = world.buckets(world.office(town_a))["incoming"]
    # red urgent before yellow emergency; among green, immediate before normal, then age
    assert incoming == ["red", "yellow", "whistled", "dispatched", "dispatched_later"]
    lights = [c["light"] for c in world.office(town_a)["incoming"]["items"]]
    assert lights == ["red", "yellow", "green", "green", "green"]


def test_the_limit_cuts_the_items_but_not_the_count(world: World) -> None:
    verify = world.duty(limit=1)["verify"]
    assert verify["count"] == 2 and len(verify["items"]) == 1


@pytest.mark.parametrize(
    ("narrow", "expected"),
    [
        pytest.param({"category": "noise"}, {"dispatch": ["verified"]}, id="category"),
        pytest.param({"category": "road"}, {"verify": ["reported_b"]}, id="category-unregistered"),
        pytest.param({"channel": "hotline"}, {"verify": ["reported"]}, id="channel"),
        pytest.param({"state": "returned"}, {"returned": ["returned"]}, id="state"),
        pytest.param(
            {"state": "dispatched"}, {"overdue": ["red", "yellow"], "whistles": ["whistled"]},
            id="state-across-buckets",
        ),
        pytest.param({"category": "road", "channel": "hotline"}, {}, id="both"),
    ],
)  # fmt: skip
def test_filters_narrow_every_bucket(
    world: World, narrow: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    got = world.buckets(world.duty(**narrow))
    assert {name: items for name, items in got.items() if items} == expected


def test_the_township_filter_narrows_every_bucket(world: World) -> None:
    got = world.buckets(world.duty(township_id=world.town_b))
    assert {name: items for name, items in got.items() if items} == {"verify": ["reported_b"]}


# -- office queue and scopes ----------------------------------------------------------------


def test_a_township_office_sees_only_its_own_cases_in_every_bucket(world: World) -> None:
    town_a, town_b = CaseScope(township_id=world.town_a), CaseScope(township_id=world.town_b)
    got = world.buckets(world.office(town_a))
    assert set(got) == set(OFFICE_BUCKETS)
    assert sorted(got["handling"]) == ["accepted", "handling"]
    assert got["overdue"] == ["red", "yellow"]
    assert got["whistles"] == []  # a township is never a whistle party
    assert world.buckets(world.duty(town_a))["verify"] == ["reported"]
    for result in (world.duty(town_b), world.office(town_b)):
        for name, items in world.buckets(result).items():
            assert set(items) <= {"reported_b"}, name
    # A township filter cannot widen a scope.
    assert not any(world.buckets(world.duty(town_a, township_id=world.town_b)).values())


def test_a_department_sees_its_dispatched_cases_and_its_whistles(world: World) -> None:
    urban = world.buckets(world.office(CaseScope(department="urbanmgmt")))
    assert urban["incoming"] == ["red", "yellow", "dispatched", "dispatched_later"]
    assert sorted(urban["handling"]) == ["accepted", "handling"]
    assert urban["whistles"] == []

    police = world.office(CaseScope(department="police"))
    assert world.buckets(police)["incoming"] == ["whistled"]  # the lead handles it
    assert world.buckets(police)["whistles"] == ["whistled"]
    ecoenv = world.office(CaseScope(department="ecoenv"))
    got = world.buckets(ecoenv)
    assert got == {"incoming": [], "whistles": ["whistled"], "handling": [], "overdue": []}
    (party,) = ecoenv["whistles"]["items"][0]["parties"]
    assert (party["department"], party["state"]) == ("ecoenv", "waiting")


def test_a_whistle_stays_with_the_department_until_it_has_reported(world: World) -> None:
    core, case_id = world.app.core, world.ids["whistled"]
    ecoenv = CaseScope(department="ecoenv")
    perform(core, case_id, "acknowledge", {"department": "ecoenv"}, now=NOW)
    (item,) = world.office(ecoenv)["whistles"]["items"]
    assert [p["state"] for p in item["parties"]] == ["acknowledged"]
    perform(core, case_id, "report_part", {"department": "ecoenv", "result": "已到场"}, now=NOW)
    assert world.office(ecoenv)["whistles"]["count"] == 0
    assert world.search("焚烧", ecoenv) == ["whistled"]  # still in its jurisdiction


# -- search -----------------------------------------------------------------------------------


def test_search_finds_a_case_by_its_ticket_or_its_id(world: World) -> None:
    case_id = world.ids["reported"]
    number = ticket(case_id, NOW - timedelta(hours=2))
    assert world.search(number) == ["reported"]
    assert world.search(f"{int(number[:6]) - 1:06d}-{case_id}") == []  # another day's
    assert world.search(str(case_id)) == ["reported"]
    assert world.search("99999999999") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("臭味", ["reported"], id="two-characters"),
        pytest.param("广场舞", ["verified"], id="three-characters"),
        pytest.param("建设路3号", ["dispatched"], id="in-the-address"),
        pytest.param("b栋", ["dispatched"], id="any-case-two"),
        pytest.param("lane abc", ["verified"], id="any-case-words"),
        pytest.param("臭味 人民路", ["reported"], id="every-word"),
        pytest.param("臭味 建设路", [], id="not-every-word"),
        pytest.param("a_c", [], id="underscore-is-no-wildcard"),
        pytest.param("已处理", ["closed"], id="closed-cases-too"),
    ],
)  # fmt: skip
def test_search_finds_words_in_the_description_or_address(
    world: World, text: str, expected: list[str]
) -> None:
    assert world.search(text) == expected


def test_search_answers_newest_first_within_the_limit(world: World) -> None:
    found = world.search("垃圾桶")
    assert len(found) == 11
    assert found[:2] == ["whistled", "returned"]
    assert found[-3:] == ["yellow", "red", "closed"]
    assert world.search("垃圾桶", limit=2) == found[:2]


@pytest.mark.parametrize("newest", [1, 4, 100])
def test_search_answers_the_same_whether_the_newest_cases_hold_the_page_or_not(
    world: World, newest: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {text: world.search(text, limit=3) for text in ("垃圾桶", "井盖", "广场舞", "满溢")}
    monkeypatch.setattr(queue, "NEWEST", newest)
    for text, found in expected.items():
        assert world.search(text, limit=3) == found, text
    assert world.search("垃圾桶 臭味", CaseScope(township_id=world.town_a)) == ["reported"]


def test_search_keeps_to_the_scope(world: World) -> None:
    town_a, town_b = CaseScope(township_id=world.town_a), CaseScope(township_id=world.town_b)
    b_id = world.ids["reported_b"]
    assert world.search("井盖") == ["reported_b"]
    assert world.search("井盖", town_a) == []
    assert world.search(str(b_id), town_a) == []
    assert world.search(str(b_id), town_b) == ["reported_b"]
    assert world.search("垃圾桶", town_b) == []
    assert world.search("焚烧", CaseScope(department="urbanmgmt")) == []


@pytest.mark.parametrize("text", ["", "   ", "垃", "a b c"])
def test_search_refuses_text_it_cannot_search_for(world: World, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        world.search(text)
    assert caught.value.field == "q"


# -- filters from the query string ------------------------------------------------------------


def test_parse_filter_reads_the_query_string() -> None:
    args = {"township_id": " 12 ", "category": "road", "channel": "", "state": "handling"}
    assert parse_filter(args) == QueueFilter(township_id=12, category="road", state="handling")
    assert parse_filter({"limit": "5", "lang": "en"}) == QueueFilter(limit=5)


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        pytest.param({"state": "lost"}, "state", ["'lost'", "reported"], id="unknown-state"),
        pytest.param({"state": "closed"}, "state", ["open cases only"], id="closed-state"),
        pytest.param({"category": "pothole"}, "category", ["'pothole'", "garbage"], id="category"),
        pytest.param({"channel": "fax"}, "channel", ["'fax'", "hotline"], id="channel"),
        pytest.param({"township_id": "A"}, "township_id", ["'A'", "whole number"], id="township"),
        pytest.param({"limit": "0"}, "limit", ["1 to 200"], id="limit"),
    ],
)  # fmt: skip
def test_parse_filter_names_the_bad_field(
    args: dict[str, str], field: str, words: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter(args)
    assert caught.value.field == field
    for word in words:
        assert word in caught.value.message
