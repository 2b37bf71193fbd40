"""Who may do what and see which cases: role actions, principals, scopes, realtime rooms."""

from __future__ import annotations

import itertools

import pytest

from dispatch.domain.access import (
    ROLE_ACTIONS,
    CaseScope,
    CaseView,
    Principal,
    Role,
    audience,
)
from dispatch.domain.errors import InvalidValue
from dispatch.domain.lifecycle import Action

A = Action
R = Role

# -- what each role may do, written by hand ---------------------------------------------------

HANDLER = {A.ACCEPT, A.RETURN, A.START_HANDLING, A.REPORT_HANDLED, A.REQUEST_EXTENSION}
WHISTLE_PARTY = {A.ACKNOWLEDGE, A.REPORT_PART}
EXPECTED_ACTIONS: dict[Role, set[Action]] = {
    R.ADMIN: set(Action),
    R.DUTY: set(Action),
    R.SYSTEM: set(Action),
    R.LEADER: {A.URGE, A.SUPERVISE, A.APPROVE_EXTENSION, A.DENY_EXTENSION, A.ESCALATE, A.SEND_DOWN},
    # A township office also hands its cases to its own grid workers.
    R.TOWNSHIP: HANDLER | WHISTLE_PARTY | {A.DISPATCH},
    R.DEPARTMENT: HANDLER | WHISTLE_PARTY,
    R.GRID_WORKER: HANDLER,
    R.KIOSK: set(),
}


def test_every_role_has_exactly_its_hand_written_actions() -> None:
    assert set(ROLE_ACTIONS) == set(Role)
    for role, expected in EXPECTED_ACTIONS.items():
        assert set(ROLE_ACTIONS[role]) == expected, role


def test_only_the_centre_may_blow_a_whistle_or_close_a_case() -> None:
    for action in (A.WHISTLE, A.CLOSE, A.REGISTER, A.CANCEL):
        assert {r for r in Role if action in ROLE_ACTIONS[r]} == {R.ADMIN, R.DUTY, R.SYSTEM}


# -- principals ----------------------------------------------------------------------------

DUTY = Principal(name="duty:zhangwei", role=R.DUTY)
LEADER = Principal(name="leader:wang", role=R.LEADER)
KIOSK = Principal(name="kiosk:hall", role=R.KIOSK)
TOWNSHIP_3 = Principal(name="township:3:liu", role=R.TOWNSHIP, township_id=3)
POLICE = Principal(name="department:police:li", role=R.DEPARTMENT, department="police")
WORKER_70 = Principal(name="worker:70", role=R.GRID_WORKER, worker_id=70)


@pytest.mark.parametrize(
    ("role", "missing"),
    [
        (R.TOWNSHIP, {"township_id": None}),
        (R.DEPARTMENT, {"department": None}),
        (R.DEPARTMENT, {"department": ""}),
        (R.GRID_WORKER, {"worker_id": None}),
    ],
)
def test_principal_without_its_jurisdiction_is_refused(
    role: Role, missing: dict[str, object]
) -> None:
    with pytest.raises(InvalidValue) as raised:
        Principal(name="someone", role=role, **missing)  # type: ignore[arg-type]
    assert raised.value.field == next(iter(missing))


@pytest.mark.parametrize("role", [R.ADMIN, R.LEADER, R.DUTY, R.KIOSK, R.SYSTEM])
def test_county_roles_need_no_jurisdiction(role: Role) -> None:
    assert Principal(name="someone", role=role).scope.everything


def test_principal_may_exactly_the_actions_of_its_role() -> None:
    assert LEADER.may(A.URGE)
    assert not LEADER.may(A.CLOSE)
    assert POLICE.may(A.ACKNOWLEDGE)
    assert not WORKER_70.may(A.ACKNOWLEDGE)
    assert not KIOSK.may(A.URGE)


def test_only_admin_duty_and_leader_see_personal_data() -> None:
    every_role = [
        Principal(name="x", role=r, township_id=3, department="police", worker_id=70) for r in Role
    ]
    seeing = {p.role for p in every_role if p.sees_personal_data}
    assert seeing == {R.ADMIN, R.DUTY, R.LEADER}


# -- scopes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "scope", "room"),
    [
        (DUTY, CaseScope(), "all"),
        (LEADER, CaseScope(), "all"),
        (KIOSK, CaseScope(), "all"),
        (TOWNSHIP_3, CaseScope(township_id=3), "township:3"),
        (POLICE, CaseScope(department="police"), "department:police"),
        (WORKER_70, CaseScope(worker_id=70), "worker:70"),
    ],
    ids=["duty", "leader", "kiosk", "township", "department", "grid-worker"],
)
def test_scope_of_each_role_and_its_room(principal: Principal, scope: CaseScope, room: str) -> None:
    assert CaseScope.of(principal) == scope
    assert principal.scope == scope
    assert scope.room == room
    assert scope.everything is (room == "all")


@pytest.mark.parametrize("role", [R.LEADER, R.KIOSK, R.DUTY])
def test_watching_one_township_narrows_a_county_role_to_it(role: Role) -> None:
    scope = Principal(name="watcher", role=role, watch_township_id=3).scope
    assert scope == CaseScope(township_id=3)
    assert not scope.everything
    assert scope.room == "township:3"
    assert scope.allows(CaseView(township_id=3, department=None, worker_id=None))
    assert not scope.allows(CaseView(township_id=4, department=None, worker_id=None))


def test_watching_does_not_move_a_township_officer_out_of_its_township() -> None:
    officer = Principal(name="township:3:liu", role=R.TOWNSHIP, township_id=3, watch_township_id=4)
    assert officer.scope == CaseScope(township_id=3)


def view(
    township_id: int | None = 3,
    department: str | None = "urbanmgmt",
    worker_id: int | None = 70,
    whistle: tuple[str, ...] = (),
) -> CaseView:
    return CaseView(township_id, department, worker_id, frozenset(whistle))


def test_township_sees_only_cases_in_its_township() -> None:
    scope = TOWNSHIP_3.scope
    assert scope.allows(view(township_id=3))
    assert not scope.allows(view(township_id=4))
    assert not scope.allows(view(township_id=None))


def test_department_sees_its_own_cases_and_those_it_is_called_to() -> None:
    scope = POLICE.scope
    assert scope.allows(view(department="police"))
    assert scope.allows(view(department="urbanmgmt", whistle=("urbanmgmt", "police")))
    assert not scope.allows(view(department="urbanmgmt", whistle=("urbanmgmt", "ecoenv")))
    assert not scope.allows(view(department="urbanmgmt"))
    assert not scope.allows(view(department=None))


def test_grid_worker_sees_only_cases_assigned_to_it() -> None:
    scope = WORKER_70.scope
    assert scope.allows(view(worker_id=70))
    assert not scope.allows(view(worker_id=71))
    assert not scope.allows(view(worker_id=None, department="urbanmgmt", township_id=3))


@pytest.mark.parametrize("principal", [DUTY, LEADER, KIOSK], ids=["duty", "leader", "kiosk"])
def test_county_roles_see_every_case(principal: Principal) -> None:
    scope = principal.scope
    assert scope.allows(view())
    assert scope.allows(view(township_id=9, department="police", worker_id=71))
    assert scope.allows(CaseView(township_id=None, department=None, worker_id=None))


# -- realtime rooms ------------------------------------------------------------------------


def test_audience_names_the_township_each_department_and_the_worker() -> None:
    case = view(township_id=3, department="urbanmgmt", worker_id=70, whistle=("police", "ecoenv"))
    assert audience(case) == [
        "township:3",
        "department:ecoenv",
        "department:police",
        "department:urbanmgmt",
        "worker:70",
    ]


def test_audience_names_a_department_that_is_also_called_once() -> None:
    case = view(worker_id=None, department="urbanmgmt", whistle=("urbanmgmt", "police"))
    assert audience(case) == ["township:3", "department:police", "department:urbanmgmt"]


def test_audience_of_a_case_with_no_jurisdiction_yet_is_empty() -> None:
    assert audience(CaseView(township_id=None, department=None, worker_id=None)) == []


SCOPES = [
    CaseScope(),
    CaseScope(township_id=3),
    CaseScope(township_id=4),
    CaseScope(department="police"),
    CaseScope(department="urbanmgmt"),
    CaseScope(department="ecoenv"),
    CaseScope(worker_id=70),
    CaseScope(worker_id=71),
]
VIEWS = [
    view(township_id=t, department=d, worker_id=w, whistle=called)
    for t, d, w, called in itertools.product(
        (3, 4, None), ("urbanmgmt", "police", None), (70, None), ((), ("police", "ecoenv"))
    )
]


@pytest.mark.parametrize("scope", SCOPES, ids=[s.room for s in SCOPES])
def test_a_scope_receives_a_case_events_exactly_when_it_may_see_the_case(scope: CaseScope) -> None:
    # The realtime fan-out and the read side must agree, or a screen shows what it may not
    # open (or misses what it may).
    for case in VIEWS:
        receives = scope.room in ["all", *audience(case)]
        assert receives == scope.allows(case), (scope, case)
