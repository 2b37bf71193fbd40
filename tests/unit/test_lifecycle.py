"""The case lifecycle: every (action, state) pair, the table itself, and the closed loop's rules."""

from __future__ import annotations

import copy
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain import events as ev
from dispatch.domain.categories import DEPARTMENTS
from dispatch.domain.errors import IllegalTransition, InvalidValue
from dispatch.domain.lifecycle import TRANSITIONS, Action, Case, CaseState, allowed_actions
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, SlaPolicy, Urgency
from dispatch.domain.whistle import PartyRole, WhistleParty

A = Action
S = CaseState
T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)
ACT_AT = T0 + timedelta(hours=1)  # after every builder step, well inside a green clock
POLICY = SlaPolicy()
NORMAL_BUDGET = timedelta(days=7)
NORMAL_YELLOW = timedelta(hours=112)  # 2/3 of 7 days
KNOWN_DEPARTMENTS = frozenset(d.code for d in DEPARTMENTS)
ACK_WITHIN = timedelta(minutes=30)


# -- the expected table, written by hand from DESIGN.md "The closed loop" -------------------


class Keep(enum.Enum):
    SAME = "same"  # urge, supervise, extensions, 报到: the state does not change
    RESTORED = "restored"  # resume: back to the state before the suspension


@dataclass(frozen=True)
class Expected:
    sources: frozenset[CaseState]
    target: CaseState | Keep


def _states(*states: CaseState) -> frozenset[CaseState]:
    return frozenset(states)


# Somebody is working on the case: the states that can be urged, supervised, suspended.
WORKING = _states(
    S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.HANDLING, S.RETURNED, S.ESCALATED, S.REOPENED
)
WITH_A_UNIT = _states(S.DISPATCHED, S.ACCEPTED, S.HANDLING)

# Cancel: any open case, except one already handled (close or rework it instead).
OPEN_BUT_NOT_HANDLED = _states(
    S.REPORTED, S.VERIFIED, S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.HANDLING,
    S.RETURNED, S.SUSPENDED, S.ESCALATED, S.REOPENED,
)  # fmt: skip

# 报到 and a called department's part: while the SLA clock runs, a handled case included
# (the lead may have reported before a co-handling department).
CLOCK_RUNNING = _states(
    S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.HANDLING, S.RETURNED, S.ESCALATED,
    S.REOPENED, S.HANDLED,
)  # fmt: skip

EXPECTED: dict[Action, Expected] = {
    A.VERIFY: Expected(_states(S.REPORTED), S.VERIFIED),
    # 不予受理 is decided before 立案: from a fresh report or after verification.
    A.REJECT: Expected(_states(S.REPORTED, S.VERIFIED), S.REJECTED),
    A.REGISTER: Expected(_states(S.VERIFIED), S.REGISTERED),
    A.DISPATCH: Expected(_states(S.REGISTERED, S.RETURNED, S.REOPENED, S.ESCALATED), S.DISPATCHED),
    A.ACCEPT: Expected(_states(S.DISPATCHED), S.ACCEPTED),
    A.RETURN: Expected(_states(S.DISPATCHED, S.ACCEPTED), S.RETURNED),
    A.START_HANDLING: Expected(_states(S.ACCEPTED), S.HANDLING),
    A.REPORT_HANDLED: Expected(_states(S.ACCEPTED, S.HANDLING), S.HANDLED),
    A.REWORK: Expected(_states(S.HANDLED), S.HANDLING),
    A.CLOSE: Expected(_states(S.HANDLED), S.CLOSED),
    A.REVIEW: Expected(_states(S.CLOSED), S.REVIEWED),
    A.REOPEN: Expected(_states(S.CLOSED), S.REOPENED),
    A.SUSPEND: Expected(WORKING, S.SUSPENDED),
    A.RESUME: Expected(_states(S.SUSPENDED), Keep.RESTORED),
    A.REQUEST_EXTENSION: Expected(WITH_A_UNIT, Keep.SAME),
    A.APPROVE_EXTENSION: Expected(WITH_A_UNIT, Keep.SAME),
    A.DENY_EXTENSION: Expected(WITH_A_UNIT, Keep.SAME),
    A.ESCALATE: Expected(WORKING - {S.ESCALATED}, S.ESCALATED),
    A.SEND_DOWN: Expected(_states(S.REGISTERED, S.ESCALATED, S.RETURNED), S.REGISTERED),
    A.MERGE: Expected(_states(S.REPORTED, S.VERIFIED, S.REGISTERED), S.MERGED),
    A.CANCEL: Expected(OPEN_BUT_NOT_HANDLED, S.CANCELLED),
    A.URGE: Expected(WORKING, Keep.SAME),
    A.SUPERVISE: Expected(WORKING, Keep.SAME),
    # 吹哨 is a dispatch to several departments: it starts from where a dispatch starts.
    A.WHISTLE: Expected(_states(S.REGISTERED, S.RETURNED, S.REOPENED, S.ESCALATED), S.DISPATCHED),
    A.ACKNOWLEDGE: Expected(CLOCK_RUNNING, Keep.SAME),
    A.REPORT_PART: Expected(CLOCK_RUNNING, Keep.SAME),
}

EXPECTED_EVENTS: dict[Action, tuple[type[ev.Event], ...]] = {
    A.VERIFY: (ev.CaseVerified,),
    A.REJECT: (ev.CaseRejected,),
    A.REGISTER: (ev.CaseRegistered,),
    A.DISPATCH: (ev.CaseDispatched,),
    A.ACCEPT: (ev.CaseAccepted,),
    A.RETURN: (ev.CaseReturned,),
    A.START_HANDLING: (ev.HandlingStarted,),
    A.REPORT_HANDLED: (ev.CaseHandled,),
    A.REWORK: (ev.CaseReworked,),
    A.CLOSE: (ev.CaseClosed,),
    A.REVIEW: (ev.CaseReviewed,),
    A.REOPEN: (ev.CaseReopened,),
    A.SUSPEND: (ev.CaseSuspended,),
    A.RESUME: (ev.CaseResumed,),
    A.REQUEST_EXTENSION: (ev.ExtensionRequested,),
    A.APPROVE_EXTENSION: (ev.ExtensionApproved,),
    A.DENY_EXTENSION: (ev.ExtensionDenied,),
    A.ESCALATE: (ev.CaseEscalated,),
    A.SEND_DOWN: (ev.CaseSentDown,),
    A.MERGE: (ev.CaseMerged,),
    A.CANCEL: (ev.CaseCancelled,),
    A.URGE: (ev.CaseUrged,),
    A.SUPERVISE: (ev.CaseSupervised,),
    A.WHISTLE: (ev.WhistleBlown,),
    A.ACKNOWLEDGE: (ev.WhistleAcknowledged,),
    A.REPORT_PART: (ev.WhistlePartReported,),
}


# -- doing each action with valid arguments ------------------------------------------------

MASTER_ID = 99

DO: dict[Action, Callable[[Case, datetime], list[ev.Event]]] = {
    A.VERIFY: lambda c, now: c.verify(now=now, actor="duty-1"),
    A.REJECT: lambda c, now: c.reject(reason="not a governance matter", now=now),
    A.REGISTER: lambda c, now: c.register(
        category="garbage", urgency=Urgency.NORMAL, policy=POLICY, now=now
    ),
    A.DISPATCH: lambda c, now: c.dispatch(unit_id=7, department="urbanmgmt", worker_id=70, now=now),
    A.ACCEPT: lambda c, now: c.accept(now=now),
    A.RETURN: lambda c, now: c.return_(reason="the street is not ours", now=now),
    A.START_HANDLING: lambda c, now: c.start_handling(now=now),
    A.REPORT_HANDLED: lambda c, now: c.report_handled(result="bins emptied", now=now),
    A.REWORK: lambda c, now: c.rework(reason="photo still shows full bins", now=now),
    A.CLOSE: lambda c, now: c.close(now=now),
    A.REVIEW: lambda c, now: c.record_callback(rating=4, policy=POLICY, now=now),
    A.REOPEN: lambda c, now: c.reopen(reason="the bins are full again", policy=POLICY, now=now),
    A.SUSPEND: lambda c, now: c.suspend(reason="waiting for the owner to return", now=now),
    A.RESUME: lambda c, now: c.resume(now=now),
    A.REQUEST_EXTENSION: lambda c, now: c.request_extension(
        hours=24, reason="needs a crane", now=now
    ),
    A.APPROVE_EXTENSION: lambda c, now: c.approve_extension(now=now),
    A.DENY_EXTENSION: lambda c, now: c.deny_extension(reason="a crane is not needed", now=now),
    A.ESCALATE: lambda c, now: c.escalate(reason="beyond the township's powers", now=now),
    A.SEND_DOWN: lambda c, now: c.send_down(reason="a local matter", now=now),
    A.MERGE: lambda c, now: c.merge_into(master=new_case(case_id=MASTER_ID), now=now),
    A.CANCEL: lambda c, now: c.cancel(reason="reporter withdrew", now=now),
    A.URGE: lambda c, now: c.urge(message="please hurry", now=now),
    A.SUPERVISE: lambda c, now: c.supervise(message="overdue: report today", now=now),
    A.WHISTLE: lambda c, now: c.blow_whistle(
        lead="urbanmgmt",
        co=["police", "ecoenv"],
        ack_within=ACK_WITHIN,
        known_departments=KNOWN_DEPARTMENTS,
        now=now,
    ),
    A.ACKNOWLEDGE: lambda c, now: c.acknowledge(department="police", now=now),
    A.REPORT_PART: lambda c, now: c.report_part(
        department="police", result="the parked cars were towed", now=now
    ),
}

MAIN_LINE = (A.VERIFY, A.REGISTER, A.DISPATCH, A.ACCEPT, A.START_HANDLING, A.REPORT_HANDLED)

# How the builder reaches each state through real domain methods, one step a minute.
PATHS: dict[CaseState, tuple[Action, ...]] = {
    S.REPORTED: (),
    S.VERIFIED: MAIN_LINE[:1],
    S.REGISTERED: MAIN_LINE[:2],
    S.DISPATCHED: MAIN_LINE[:3],
    S.ACCEPTED: MAIN_LINE[:4],
    S.HANDLING: MAIN_LINE[:5],
    S.HANDLED: MAIN_LINE,
    S.CLOSED: (*MAIN_LINE, A.CLOSE),
    S.REVIEWED: (*MAIN_LINE, A.CLOSE, A.REVIEW),
    S.REJECTED: (A.REJECT,),
    S.RETURNED: (*MAIN_LINE[:3], A.RETURN),
    S.SUSPENDED: (*MAIN_LINE[:5], A.SUSPEND),
    S.ESCALATED: (*MAIN_LINE[:2], A.ESCALATE),
    S.REOPENED: (*MAIN_LINE, A.CLOSE, A.REOPEN),
    S.MERGED: (A.MERGE,),
    S.CANCELLED: (*MAIN_LINE[:2], A.CANCEL),
}
REGISTERED_AT = T0 + 2 * STEP  # verify at +1 min, register at +2 min


def new_case(*, case_id: int = 1, now: datetime = T0) -> Case:
    return Case.report(
        case_id=case_id, channel="citizen", service_code="garbage",
        description="小区门口垃圾桶满溢了", lat=25.60, long=103.80, now=now,
        township_id=3, grid_id=31,
    )  # fmt: skip


def case_in(state: CaseState, *, case_id: int = 1) -> Case:
    case = new_case(case_id=case_id)
    now = T0
    for action in PATHS[state]:
        now += STEP
        DO[action](case, now)
    assert case.state == state, f"builder reached {case.state}, wanted {state}"
    return case


def snapshot(case: Case) -> dict[str, object]:
    """Every field of the case, events included, deep-copied for an unchanged-check."""
    return copy.deepcopy(vars(case))


def called_parties(*, acknowledged: bool) -> list[WhistleParty]:
    """A lead and a co-handling department, as a whistle blown just before ACT_AT leaves them."""
    deadline = ACT_AT + ACK_WITHIN
    at = ACT_AT - STEP if acknowledged else None
    return [
        WhistleParty("urbanmgmt", PartyRole.LEAD, deadline, acknowledged_at=at),
        WhistleParty("police", PartyRole.CO, deadline, acknowledged_at=at),
    ]


def prepared(action: Action, state: CaseState) -> Case:
    """A case in `state`, with an extension waiting when the action decides one, and called
    departments when the action is theirs to take (acknowledged ones to report a part)."""
    case = case_in(state)
    deciding = action in (A.APPROVE_EXTENSION, A.DENY_EXTENSION)
    if deciding and state in EXPECTED[A.REQUEST_EXTENSION].sources:
        DO[A.REQUEST_EXTENSION](case, ACT_AT - STEP)
    if action in (A.ACKNOWLEDGE, A.REPORT_PART):
        case.whistle = called_parties(acknowledged=action is A.REPORT_PART)
    return case


LEGAL = [(a, s) for a in Action for s in CaseState if s in EXPECTED[a].sources]
ILLEGAL = [(a, s) for a in Action for s in CaseState if s not in EXPECTED[a].sources]


# -- the table -------------------------------------------------------------------------------


def test_there_are_26_actions_and_16_states() -> None:
    assert len(Action) == 26
    assert len(CaseState) == 16
    assert len(LEGAL) + len(ILLEGAL) == 26 * 16


def test_transition_table_matches_the_hand_written_table_from_the_design() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)
    for action, expected in EXPECTED.items():
        actual = TRANSITIONS[action]
        assert actual.sources == expected.sources, action
        wanted_target = None if isinstance(expected.target, Keep) else expected.target
        assert actual.target == wanted_target, action


@pytest.mark.parametrize("state", list(CaseState))
def test_allowed_actions_lists_exactly_the_expected_actions(state: CaseState) -> None:
    assert set(allowed_actions(state)) == {a for a in Action if state in EXPECTED[a].sources}


@pytest.mark.parametrize("state", [S.REVIEWED, S.REJECTED, S.MERGED, S.CANCELLED])
def test_terminal_states_allow_no_action(state: CaseState) -> None:
    assert allowed_actions(state) == []
    assert not case_in(state).is_open


# -- every (action, state) pair ----------------------------------------------------------------


@pytest.mark.parametrize(("action", "state"), LEGAL, ids=[f"{a}-from-{s}" for a, s in LEGAL])
def test_legal_action_moves_to_the_table_target_and_returns_its_events(
    action: Action, state: CaseState
) -> None:
    case = prepared(action, state)
    assert case.can(action)
    already = len(case.events)

    out = DO[action](case, ACT_AT)

    target = EXPECTED[action].target
    if target is Keep.SAME:
        assert case.state == state
    elif target is Keep.RESTORED:
        assert case.state == S.HANDLING  # the builder suspends a case in handling
    else:
        assert case.state == target
    assert [type(e) for e in out] == list(EXPECTED_EVENTS[action])
    assert all(e.case_id == case.id and e.at == ACT_AT for e in out)
    assert case.events[already:] == out
    assert case.updated_at == ACT_AT


@pytest.mark.parametrize(("action", "state"), ILLEGAL, ids=[f"{a}-from-{s}" for a, s in ILLEGAL])
def test_illegal_action_raises_naming_state_and_action_and_leaves_the_case_unchanged(
    action: Action, state: CaseState
) -> None:
    case = prepared(action, state)
    assert not case.can(action)
    before = snapshot(case)

    with pytest.raises(IllegalTransition) as raised:
        DO[action](case, ACT_AT)

    err = raised.value
    assert f"cannot {action.value} a case that is {state.value}" in str(err)
    assert (err.action, err.state, err.field) == (action.value, state.value, "state")
    assert set(err.allowed_from) == {s.value for s in EXPECTED[action].sources}
    assert vars(case) == before


# -- the callback (回访) --------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2])
def test_unsatisfied_callback_reopens_with_the_rating_and_a_fresh_clock(rating: int) -> None:
    case = case_in(S.CLOSED)
    old_clock = case.sla
    closed_at, on_time = case.closed_at, case.on_time
    assert closed_at is not None and on_time is not None

    out = case.record_callback(rating=rating, policy=POLICY, now=ACT_AT)

    assert [type(e) for e in out] == [ev.CaseReopened]
    assert out[0].rating == rating  # type: ignore[attr-defined]
    # What it undoes, for readers that no longer hold the case (the wall's history).
    reopened = out[0]
    assert isinstance(reopened, ev.CaseReopened)
    assert reopened.previous_rating is None
    assert (reopened.previous_closed_at, reopened.previous_on_time) == (closed_at, on_time)
    assert case.state == S.REOPENED
    assert case.reopen_count == 1
    assert case.rating == rating
    assert case.sla is not None and case.sla != old_clock
    assert case.sla.started_at == ACT_AT
    assert case.sla.budget == NORMAL_BUDGET  # same urgency as before
    assert case.sla.elapsed(ACT_AT) == timedelta(0)
    assert case.light == Light.GREEN
    assert (case.closed_at, case.on_time, case.result) == (None, None, None)


def test_every_unsatisfied_callback_counts_one_more_reopen() -> None:
    case = case_in(S.CLOSED)
    now = ACT_AT
    for expected_count in (1, 2, 3):
        case.record_callback(rating=1, policy=POLICY, now=now)
        assert case.reopen_count == expected_count
        for action in (A.DISPATCH, A.ACCEPT, A.REPORT_HANDLED, A.CLOSE):
            now += STEP
            DO[action](case, now)
    assert case.state == S.CLOSED


@pytest.mark.parametrize("rating", [3, 4, 5])
def test_satisfied_callback_completes_the_loop(rating: int) -> None:
    case = case_in(S.CLOSED)
    out = case.record_callback(rating=rating, policy=POLICY, now=ACT_AT)
    assert [type(e) for e in out] == [ev.CaseReviewed]
    assert out[0].rating == rating  # type: ignore[attr-defined]
    assert (case.state, case.rating, case.reopen_count) == (S.REVIEWED, rating, 0)
    assert out[0].previous_rating is None  # type: ignore[attr-defined]


def closed_again_after_an_unhappy_callback() -> tuple[Case, datetime]:
    """A case rated 2, reopened, handled and closed again; and when it closed."""
    case, now = case_in(S.CLOSED), ACT_AT
    case.record_callback(rating=2, policy=POLICY, now=now)
    for action in (A.DISPATCH, A.ACCEPT, A.REPORT_HANDLED, A.CLOSE):
        now += STEP
        DO[action](case, now)
    return case, now


def test_the_callback_after_a_reopening_names_the_unhappy_rating_it_replaces() -> None:
    case, closed_at = closed_again_after_an_unhappy_callback()
    assert (case.state, case.rating) == (S.CLOSED, 2)  # kept through the second handling

    (out,) = case.record_callback(rating=4, policy=POLICY, now=closed_at + STEP)

    assert isinstance(out, ev.CaseReviewed)
    assert (out.rating, out.previous_rating) == (4, 2)


def test_a_second_reopening_names_the_rating_and_the_closing_it_undoes() -> None:
    case, closed_at = closed_again_after_an_unhappy_callback()

    (out,) = case.record_callback(rating=1, policy=POLICY, now=closed_at + STEP)

    assert isinstance(out, ev.CaseReopened)
    assert (out.rating, out.previous_rating, out.previous_closed_at) == (1, 2, closed_at)
    assert out.previous_on_time is True


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, True, False, "3", None])
def test_callback_rating_outside_whole_1_to_5_is_refused(rating: object) -> None:
    case = case_in(S.CLOSED)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.record_callback(rating=rating, policy=POLICY, now=ACT_AT)  # type: ignore[arg-type]
    assert raised.value.field == "rating"
    assert "rating" in raised.value.message
    assert vars(case) == before


def test_rework_sends_a_handled_case_back_to_handling_without_counting_a_reopen() -> None:
    case = case_in(S.HANDLED)
    out = case.rework(reason="photo still shows full bins", now=ACT_AT)
    assert [type(e) for e in out] == [ev.CaseReworked]
    assert out[0].type == "case.reworked"
    assert (case.state, case.reopen_count) == (S.HANDLING, 0)


# -- reasons, resume, levels, merge, extensions, dispatch ----------------------------------

NEEDS_A_REASON = [
    (A.REJECT, S.REPORTED),
    (A.RETURN, S.DISPATCHED),
    (A.SUSPEND, S.HANDLING),
    (A.CANCEL, S.REGISTERED),
]
REASONED: dict[Action, Callable[[Case, str], list[ev.Event]]] = {
    A.REJECT: lambda c, r: c.reject(reason=r, now=ACT_AT),
    A.RETURN: lambda c, r: c.return_(reason=r, now=ACT_AT),
    A.SUSPEND: lambda c, r: c.suspend(reason=r, now=ACT_AT),
    A.CANCEL: lambda c, r: c.cancel(reason=r, now=ACT_AT),
}


@pytest.mark.parametrize("reason", ["", "   \n"])
@pytest.mark.parametrize(("action", "state"), NEEDS_A_REASON)
def test_empty_reason_is_refused(action: Action, state: CaseState, reason: str) -> None:
    case = case_in(state)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        REASONED[action](case, reason)
    assert raised.value.field == "reason"
    assert vars(case) == before


@pytest.mark.parametrize(("action", "state"), NEEDS_A_REASON)
def test_reason_is_recorded_without_surrounding_spaces(action: Action, state: CaseState) -> None:
    case = case_in(state)
    out = REASONED[action](case, "  wrong street  ")
    assert out[0].reason == "wrong street"  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", sorted(WORKING))
def test_resume_restores_the_exact_state_before_suspension(state: CaseState) -> None:
    case = case_in(state)
    assert case.sla is not None
    deadline = case.sla.deadline(ACT_AT)
    pause = timedelta(hours=5)

    case.suspend(reason="waiting for the owner", now=ACT_AT)
    assert case.state == S.SUSPENDED
    out = case.resume(now=ACT_AT + pause)

    assert case.state == state
    assert case.state_before_suspend is None
    assert not case.sla.paused
    assert out[0].deadline == deadline + pause  # type: ignore[attr-defined]


def test_escalate_climbs_township_county_city_then_refuses_at_city() -> None:
    case = case_in(S.REGISTERED)
    assert case.level == Level.TOWNSHIP
    now = ACT_AT
    reached = []
    for _ in range(2):
        out = case.escalate(reason="beyond this level's powers", now=now)
        reached.append(out[0].level)  # type: ignore[attr-defined]
        assert case.state == S.ESCALATED
        now += STEP
        case.dispatch(unit_id=None, department="urbanmgmt", now=now)
    assert reached == ["county", "city"]
    assert case.level == Level.CITY

    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.escalate(reason="even higher", now=now + STEP)
    assert raised.value.field == "level"
    assert "city" in raised.value.message
    assert vars(case) == before


def test_send_down_reaches_community_then_refuses() -> None:
    case = case_in(S.REGISTERED)
    out = case.send_down(reason="the community can do it", now=ACT_AT)
    assert out[0].level == "community"  # type: ignore[attr-defined]
    assert (case.level, case.state) == (Level.COMMUNITY, S.REGISTERED)

    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.send_down(reason="lower still", now=ACT_AT + STEP)
    assert raised.value.field == "level"
    assert vars(case) == before


def test_send_down_after_escalation_returns_the_case_to_its_level_registered() -> None:
    case = case_in(S.ESCALATED)
    assert case.level == Level.COUNTY
    case.send_down(reason="the township has the tools", now=ACT_AT)
    assert (case.level, case.state) == (Level.TOWNSHIP, S.REGISTERED)


def test_merge_folds_a_duplicate_into_its_open_master() -> None:
    duplicate = case_in(S.VERIFIED)
    master = case_in(S.DISPATCHED, case_id=2)
    out = duplicate.merge_into(master=master, now=ACT_AT)
    assert out[0].master_id == 2  # type: ignore[attr-defined]
    assert (duplicate.state, duplicate.master_id) == (S.MERGED, 2)
    assert master.state == S.DISPATCHED


def test_merge_into_itself_is_refused() -> None:
    case = case_in(S.REPORTED)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.merge_into(master=case, now=ACT_AT)
    assert raised.value.field == "master_id"
    assert vars(case) == before


@pytest.mark.parametrize("master_state", [S.CLOSED, S.MERGED, S.REVIEWED, S.REJECTED, S.CANCELLED])
def test_merge_into_a_closed_or_merged_case_is_refused(master_state: CaseState) -> None:
    case = case_in(S.REPORTED)
    master = case_in(master_state, case_id=2)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.merge_into(master=master, now=ACT_AT)
    assert raised.value.field == "master_id"
    assert master_state.value in raised.value.message
    assert vars(case) == before


def test_second_extension_request_before_a_decision_is_refused() -> None:
    case = case_in(S.HANDLING)
    case.request_extension(hours=24, reason="needs a crane", now=ACT_AT)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.request_extension(hours=48, reason="needs two cranes", now=ACT_AT + STEP)
    assert raised.value.field == "hours"
    assert vars(case) == before
    assert case.pending_extension_hours == 24

    case.deny_extension(reason="no crane needed", now=ACT_AT + 2 * STEP)
    case.request_extension(hours=48, reason="needs two cranes", now=ACT_AT + 3 * STEP)
    assert case.pending_extension_hours == 48


@pytest.mark.parametrize("hours", [0, -1, 721])
def test_extension_hours_outside_0_to_720_are_refused(hours: float) -> None:
    case = case_in(S.HANDLING)
    with pytest.raises(InvalidValue) as raised:
        case.request_extension(hours=hours, reason="needs a crane", now=ACT_AT)
    assert raised.value.field == "hours"
    assert case.pending_extension_hours is None


@pytest.mark.parametrize("action", [A.APPROVE_EXTENSION, A.DENY_EXTENSION])
def test_deciding_an_extension_nobody_requested_is_refused(action: Action) -> None:
    case = case_in(S.HANDLING)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        DO[action](case, ACT_AT)
    assert raised.value.field == "hours"
    assert vars(case) == before


def test_approved_extension_moves_the_deadline_and_can_turn_red_back_to_yellow() -> None:
    case = case_in(S.HANDLING)
    deadline = REGISTERED_AT + NORMAL_BUDGET
    late = deadline + timedelta(hours=1)
    case.tick(now=late)
    assert case.light == Light.RED

    case.request_extension(hours=48, reason="needs a crane", now=late)
    out = case.approve_extension(now=late + STEP)

    assert out[0].deadline == deadline + timedelta(hours=48)  # type: ignore[attr-defined]
    assert out[0].hours == 48  # type: ignore[attr-defined]
    assert case.light == Light.YELLOW
    assert case.pending_extension_hours is None
    assert case.state == S.HANDLING


def test_dispatch_without_unit_or_department_is_refused() -> None:
    case = case_in(S.REGISTERED)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.dispatch(unit_id=None, department=None, now=ACT_AT)
    assert raised.value.field == "unit_id"
    assert vars(case) == before


@pytest.mark.parametrize(("unit_id", "department"), [(7, None), (None, "urbanmgmt")])
def test_dispatch_needs_only_one_of_unit_or_department(
    unit_id: int | None, department: str | None
) -> None:
    case = case_in(S.REGISTERED)
    out = case.dispatch(unit_id=unit_id, department=department, now=ACT_AT)
    assert case.state == S.DISPATCHED
    assert (out[0].unit_id, out[0].department) == (unit_id, department)  # type: ignore[attr-defined]


def test_return_clears_the_worker_so_the_next_dispatch_chooses_again() -> None:
    case = case_in(S.ACCEPTED)
    assert case.worker_id == 70
    case.return_(reason="the street is not ours", now=ACT_AT)
    assert case.worker_id is None


# -- events on the wire ------------------------------------------------------------------


def every_event_the_domain_produces() -> list[ev.Event]:
    produced: list[ev.Event] = list(new_case().events)
    for action, state in LEGAL:
        produced += DO[action](prepared(action, state), ACT_AT)
    late = case_in(S.HANDLING)
    produced += late.tick(now=REGISTERED_AT + NORMAL_BUDGET + timedelta(days=1))
    unanswered = case_in(S.REGISTERED)
    DO[A.WHISTLE](unanswered, ACT_AT)
    produced += unanswered.tick(now=ACT_AT + ACK_WITHIN)
    return produced


def test_every_event_type_is_produced_and_round_trips_through_json() -> None:
    produced = every_event_the_domain_produces()
    # Evidence and calls are recorded by services (dispatch/service/evidence.py, calls.py),
    # not by a transition of the case: made here by hand, they must round-trip all the same.
    by_services = [
        ev.EvidenceAdded(case_id=7, at=REGISTERED_AT, actor="duty", photo_id=3, camera_id=12,
                         camera="环城西路与建设路交叉口"),
        ev.CallStarted(case_id=None, at=REGISTERED_AT, actor="worker-1", call_id=4, kind="call",
                       caller="网格员 张伟", callee="指挥中心", status="ringing"),
        ev.CallAnswered(case_id=7, at=REGISTERED_AT, actor="duty", call_id=4, kind="call",
                        by="值班员 李明"),
        ev.CallEnded(case_id=7, at=REGISTERED_AT, actor="duty", call_id=4, kind="conference",
                     end_reason="hung_up", seconds=12.5),
        ev.CallRecorded(case_id=7, at=REGISTERED_AT, actor="duty", call_id=4, kind="call",
                        recording="/api/calls/4/recording", seconds=12.0, size=640_000),
    ]  # fmt: skip
    assert {e.type for e in produced} == set(ev.EVENT_TYPES) - {e.type for e in by_services}
    for event in produced + by_services:
        payload = json.loads(json.dumps(ev.to_payload(event)))
        assert "case_id" not in payload and "at" not in payload
        back = ev.from_payload(event.type, event.case_id, event.at, payload)
        assert back == event
        assert type(back) is type(event)


def test_event_wire_types_are_unique_and_map_back_to_their_class() -> None:
    for wire_type, cls in ev.EVENT_TYPES.items():
        assert cls.type == wire_type
    assert len(ev.EVENT_TYPES) == len(set(ev.EVENT_TYPES.values()))


# -- the clock on the case -----------------------------------------------------------------

YELLOW_AT = REGISTERED_AT + NORMAL_YELLOW
DEADLINE = REGISTERED_AT + NORMAL_BUDGET
TINY = timedelta(microseconds=1)


def test_tick_turns_yellow_exactly_at_two_thirds_and_only_once() -> None:
    case = case_in(S.HANDLING)
    assert case.tick(now=YELLOW_AT - TINY) == []
    out = case.tick(now=YELLOW_AT)
    assert [type(e) for e in out] == [ev.SlaTurnedYellow]
    assert out[0].deadline == DEADLINE  # type: ignore[attr-defined]
    assert case.light == Light.YELLOW
    assert case.tick(now=YELLOW_AT + timedelta(hours=1)) == []


def test_tick_turns_red_exactly_at_the_deadline_escalates_automatically_and_only_once() -> None:
    case = case_in(S.HANDLING)
    case.tick(now=YELLOW_AT)
    assert case.tick(now=DEADLINE - TINY) == []
    out = case.tick(now=DEADLINE)
    assert [type(e) for e in out] == [ev.SlaTurnedRed, ev.CaseEscalated]
    escalated = out[1]
    assert isinstance(escalated, ev.CaseEscalated)
    assert (escalated.level, escalated.automatic, escalated.actor) == ("county", True, None)
    assert escalated.at == DEADLINE
    assert case.light == Light.RED
    assert case.level == Level.COUNTY
    assert case.state == S.HANDLING  # only the supervising level goes up
    assert case.tick(now=DEADLINE + timedelta(days=3)) == []
    assert [type(e) for e in case.events].count(ev.SlaTurnedRed) == 1
    assert [type(e) for e in case.events].count(ev.CaseEscalated) == 1
    assert case.level == Level.COUNTY


def test_tick_past_the_deadline_from_green_emits_yellow_red_and_escalation_in_one_call() -> None:
    case = case_in(S.HANDLING)
    out = case.tick(now=DEADLINE + timedelta(days=1))
    assert [type(e) for e in out] == [ev.SlaTurnedYellow, ev.SlaTurnedRed, ev.CaseEscalated]
    assert all(e.case_id == case.id for e in out)
    assert (case.level, case.state) == (Level.COUNTY, S.HANDLING)
    assert case.tick(now=DEADLINE + timedelta(days=2)) == []


@pytest.mark.parametrize("state", sorted(WORKING | {S.HANDLED}))
def test_tick_runs_in_every_state_where_somebody_owes_work(state: CaseState) -> None:
    case = case_in(state)
    level = case.level
    out = case.tick(now=DEADLINE + timedelta(days=1))
    assert [type(e) for e in out] == [ev.SlaTurnedYellow, ev.SlaTurnedRed, ev.CaseEscalated]
    assert out[2].automatic is True  # type: ignore[attr-defined]
    assert case.level == level.up()
    assert out[2].level == case.level.value  # type: ignore[attr-defined]
    assert case.state == state


def test_red_at_city_level_cannot_escalate_further_and_emits_only_the_red_light() -> None:
    case = case_in(S.HANDLING)
    case.level = Level.CITY
    out = case.tick(now=DEADLINE + timedelta(days=1))
    assert [type(e) for e in out] == [ev.SlaTurnedYellow, ev.SlaTurnedRed]
    assert (case.level, case.state, case.light) == (Level.CITY, S.HANDLING, Light.RED)


@pytest.mark.parametrize(
    "state",
    [S.REPORTED, S.VERIFIED, S.CLOSED, S.REVIEWED, S.REJECTED, S.MERGED, S.CANCELLED, S.SUSPENDED],
)
def test_tick_is_silent_when_the_clock_does_not_run(state: CaseState) -> None:
    case = case_in(state)
    before = snapshot(case)
    assert case.tick(now=T0 + timedelta(days=60)) == []
    assert vars(case) == before


def test_suspension_delays_the_yellow_light_by_the_pause() -> None:
    case = case_in(S.HANDLING)
    pause = timedelta(hours=10)
    case.suspend(reason="waiting for the owner", now=ACT_AT)
    case.resume(now=ACT_AT + pause)
    assert case.tick(now=YELLOW_AT + pause - TINY) == []
    assert [type(e) for e in case.tick(now=YELLOW_AT + pause)] == [ev.SlaTurnedYellow]


def test_close_before_the_deadline_is_on_time() -> None:
    case = case_in(S.HANDLED)
    out = case.close(now=DEADLINE - STEP)
    assert case.on_time is True
    assert out[0].on_time is True  # type: ignore[attr-defined]
    assert case.closed_at == DEADLINE - STEP


def test_close_after_the_deadline_is_late() -> None:
    case = case_in(S.HANDLED)
    out = case.close(now=DEADLINE + STEP)
    assert case.on_time is False
    assert out[0].on_time is False  # type: ignore[attr-defined]
