"""Calls and conferences as pure rules: parties, who may call, who may join, the limit."""

from __future__ import annotations

import pytest

from dispatch.domain.access import CaseView, Principal, Role
from dispatch.domain.calls import (
    CENTRE,
    MAX_PARTICIPANTS,
    Party,
    answers_for,
    check_caller,
    check_invitees,
    may_join,
    participant_id,
)
from dispatch.domain.errors import InvalidValue

DUTY = Principal("duty:li", Role.DUTY, user_id=1, display_name="值班员 李明")
TOWN_3 = Principal("township:t3", Role.TOWNSHIP, user_id=2, township_id=3)
TOWN_4 = Principal("township:t4", Role.TOWNSHIP, user_id=3, township_id=4)
ENV = Principal("department:env", Role.DEPARTMENT, user_id=4, department="env")
WORKER = Principal("worker:17", Role.GRID_WORKER, user_id=5, worker_id=17, township_id=3)
KIOSK = Principal("kiosk:wall", Role.KIOSK, user_id=6)
CASE_IN_3 = CaseView(township_id=3, department="env", worker_id=17)


def test_a_party_key_round_trips_and_bad_keys_name_what_is_allowed() -> None:
    for key in ("worker:17", "township:3", "department:env", "user:5", CENTRE):
        assert Party.parse(key).key == key
    for bad in ("worker", "worker:", "mayor:1", "worker:abc", "township:x"):
        with pytest.raises(InvalidValue) as caught:
            Party.parse(bad)
        assert bad in caught.value.message and caught.value.field == "invite"


def test_a_grid_worker_is_the_same_participant_on_any_device() -> None:
    assert participant_id(WORKER) == "worker:17"
    assert participant_id(DUTY) == "user:1"


def test_offices_answer_for_their_office_and_officers_for_the_centre() -> None:
    assert answers_for(TOWN_3) == {"user:2", "township:3"}
    assert answers_for(ENV) == {"user:4", "department:env"}
    assert answers_for(DUTY) == {"user:1", CENTRE}
    assert answers_for(WORKER) == {"worker:17"}


def test_grid_workers_and_kiosks_may_not_start_calls_but_offices_may() -> None:
    for principal in (DUTY, TOWN_3, ENV):
        check_caller(principal)
    for principal in (WORKER, KIOSK):
        with pytest.raises(InvalidValue, match="may not start calls"):
            check_caller(principal)


def test_invitees_are_deduplicated_and_the_limit_counts_the_convener() -> None:
    parties = check_invitees(["worker:17", "township:3", "worker:17"])
    assert [p.key for p in parties] == ["worker:17", "township:3"]
    eight = [f"worker:{i}" for i in range(MAX_PARTICIPANTS - 1)]
    assert len(check_invitees(eight)) == 8
    with pytest.raises(InvalidValue, match="10 participants; a room holds at most 9"):
        check_invitees([*eight, "worker:99"])
    with pytest.raises(InvalidValue, match="at least one"):
        check_invitees([])


def test_only_invited_offices_in_their_jurisdiction_may_join() -> None:
    assert may_join(TOWN_3, ["township:3"], CASE_IN_3, 3) is None
    assert may_join(ENV, ["department:env"], CASE_IN_3, 3) is None
    assert may_join(WORKER, ["worker:17"], CASE_IN_3, 3) is None
    # Another township, even invited by mistake: the jurisdiction answer comes first.
    assert may_join(TOWN_4, ["township:4"], CASE_IN_3, 3) == (
        "this room belongs to a case outside your jurisdiction"
    )
    assert may_join(TOWN_4, ["centre"], None, 3) == "this room belongs to another township"
    assert may_join(TOWN_3, ["worker:17"], CASE_IN_3, 3) == "you were not invited to this room"


def test_an_invited_grid_worker_joins_a_conference_on_somebody_elses_case() -> None:
    other_case = CaseView(township_id=3, department="env", worker_id=99)
    assert may_join(WORKER, ["worker:17"], other_case, 3) is None
    assert may_join(WORKER, ["worker:99"], other_case, 3) == "you were not invited to this room"


def test_the_centre_may_join_any_room_but_a_wall_screen_may_not() -> None:
    assert may_join(DUTY, ["worker:17"], CASE_IN_3, 3) is None
    assert may_join(KIOSK, ["worker:17"], CASE_IN_3, 3) == "you were not invited to this room"
