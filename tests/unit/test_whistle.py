"""Whistle-and-report (吹哨报到): calling departments, their 报到 deadlines, parts and closing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain import events as ev
from dispatch.domain.categories import DEPARTMENTS
from dispatch.domain.errors import InvalidValue
from dispatch.domain.lifecycle import Case, CaseState
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, SlaPolicy, Urgency
from dispatch.domain.whistle import PartyRole, PartyState

S = CaseState
T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)
TINY = timedelta(microseconds=1)
REGISTERED_AT = T0 + 2 * STEP
WHISTLE_AT = T0 + timedelta(hours=1)
ACK_DEADLINE = WHISTLE_AT + timedelta(minutes=30)  # the default, written out
NORMAL_YELLOW_AT = REGISTERED_AT + timedelta(hours=112)  # 2/3 of 7 days
KNOWN = frozenset(d.code for d in DEPARTMENTS)
LEAD, CO = "urbanmgmt", ["police", "ecoenv"]
POLICY = SlaPolicy()


def registered(urgency: Urgency = Urgency.NORMAL) -> Case:
    case = Case.report(
        case_id=1, channel="citizen", service_code="cityscape",
        description="夜市摊点占道经营，车辆乱停", lat=25.60, long=103.80, now=T0,
        township_id=3, grid_id=31,
    )  # fmt: skip
    case.verify(now=T0 + STEP)
    case.register(category="cityscape", urgency=urgency, policy=POLICY, now=REGISTERED_AT)
    return case


def whistled(
    *, ack_within: timedelta = timedelta(minutes=30), urgency: Urgency = Urgency.NORMAL
) -> Case:
    case = registered(urgency)
    case.blow_whistle(
        lead=LEAD, co=list(CO), ack_within=ack_within, known_departments=KNOWN, now=WHISTLE_AT
    )
    return case


def snapshot(case: Case) -> dict[str, object]:
    return copy.deepcopy(vars(case))


def acknowledge_all(case: Case, now: datetime) -> None:
    for department in (LEAD, *CO):
        case.acknowledge(department=department, now=now)


def report_all(case: Case, now: datetime) -> None:
    for department in (LEAD, *CO):
        case.report_part(department=department, result=f"{department} did its part", now=now)


# -- blowing the whistle ------------------------------------------------------------------


def test_whistle_dispatches_to_the_lead_and_clears_the_previous_assignment() -> None:
    case = registered()
    case.dispatch(unit_id=7, department="justice", worker_id=70, now=WHISTLE_AT - 2 * STEP)
    case.escalate(reason="several departments are needed", now=WHISTLE_AT - STEP)

    out = case.blow_whistle(
        lead=LEAD, co=list(CO), ack_within=timedelta(minutes=30), known_departments=KNOWN,
        now=WHISTLE_AT, actor="duty:zhangwei",
    )  # fmt: skip

    assert case.state == S.DISPATCHED
    assert (case.unit_id, case.department, case.worker_id) == (None, LEAD, None)
    assert case.lead_department == LEAD
    assert out == [
        ev.WhistleBlown(
            case_id=1, at=WHISTLE_AT, actor="duty:zhangwei", lead=LEAD, co=CO,
            ack_deadline=ACK_DEADLINE,
        )
    ]  # fmt: skip
    assert case.events[-1] == out[0]


def test_whistle_gives_the_lead_and_each_co_department_30_minutes_to_acknowledge() -> None:
    case = whistled()
    assert [(p.department, p.role) for p in case.whistle] == [
        ("urbanmgmt", PartyRole.LEAD),
        ("police", PartyRole.CO),
        ("ecoenv", PartyRole.CO),
    ]
    assert all(p.ack_deadline == ACK_DEADLINE for p in case.whistle)
    assert all(p.state == PartyState.WAITING and not p.late for p in case.whistle)


@pytest.mark.parametrize(
    "ack_within", [timedelta(minutes=1), timedelta(hours=2), timedelta(days=3)]
)
def test_whistle_takes_a_custom_acknowledgement_time_from_1_minute_to_3_days(
    ack_within: timedelta,
) -> None:
    case = whistled(ack_within=ack_within)
    assert [p.ack_deadline for p in case.whistle] == [WHISTLE_AT + ack_within] * 3
    assert case.events[-1].ack_deadline == WHISTLE_AT + ack_within  # type: ignore[attr-defined]


def test_whistle_may_call_twelve_departments() -> None:
    codes = [d.code for d in DEPARTMENTS][:12]
    case = registered()
    case.blow_whistle(
        lead=codes[0], co=codes[1:], ack_within=timedelta(minutes=30), known_departments=KNOWN,
        now=WHISTLE_AT,
    )  # fmt: skip
    assert [p.department for p in case.whistle] == codes


THIRTEEN = [d.code for d in DEPARTMENTS][:13]
HALF_HOUR = timedelta(minutes=30)
REFUSED_WHISTLES = [
    pytest.param("nosuch", ["police"], HALF_HOUR, "lead", "nosuch", id="unknown-lead"),
    pytest.param(LEAD, ["police", "nosuch"], HALF_HOUR, "co", "nosuch", id="unknown-co"),
    pytest.param(LEAD, ["police", "police"], HALF_HOUR, "co", "only once", id="duplicate-co"),
    pytest.param(LEAD, ["police", LEAD], HALF_HOUR, "co", "only once", id="lead-also-co"),
    pytest.param("", ["police"], HALF_HOUR, "lead", "lead", id="no-lead"),
    pytest.param(THIRTEEN[0], THIRTEEN[1:], HALF_HOUR, "co", "at most 12", id="thirteen"),
    pytest.param(LEAD, CO, timedelta(seconds=59), "ack_minutes", "1 minute", id="too-short"),
    pytest.param(LEAD, CO, timedelta(0), "ack_minutes", "1 minute", id="zero"),
    pytest.param(LEAD, CO, timedelta(days=3, seconds=1), "ack_minutes", "3 days", id="too-long"),
]


@pytest.mark.parametrize(("lead", "co", "ack_within", "field", "named"), REFUSED_WHISTLES)
def test_refused_whistle_names_the_field_and_leaves_the_case_unchanged(
    lead: str, co: list[str], ack_within: timedelta, field: str, named: str
) -> None:
    case = registered()
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.blow_whistle(
            lead=lead, co=co, ack_within=ack_within, known_departments=KNOWN, now=WHISTLE_AT
        )
    assert raised.value.field == field
    assert named in raised.value.message
    assert vars(case) == before


# -- 报到 and parts --------------------------------------------------------------------------


def test_acknowledging_before_the_deadline_is_on_time() -> None:
    case = whistled()
    out = case.acknowledge(department="police", now=ACK_DEADLINE - STEP, actor="police:li")
    assert out == [
        ev.WhistleAcknowledged(
            case_id=1, at=ACK_DEADLINE - STEP, actor="police:li", department="police", late=False
        )
    ]
    police = case.whistle[1]
    assert (police.acknowledged_at, police.state) == (ACK_DEADLINE - STEP, PartyState.ACKNOWLEDGED)
    assert case.state == S.DISPATCHED


def test_acknowledging_after_the_deadline_is_recorded_as_late() -> None:
    case = whistled()
    case.tick(now=ACK_DEADLINE)
    out = case.acknowledge(department="police", now=ACK_DEADLINE + STEP)
    assert [type(e) for e in out] == [ev.WhistleAcknowledged]
    assert out[0].late is True  # type: ignore[attr-defined]
    assert case.whistle[1].state == PartyState.ACKNOWLEDGED


def test_acknowledging_twice_is_refused() -> None:
    case = whistled()
    case.acknowledge(department="police", now=WHISTLE_AT + STEP)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.acknowledge(department="police", now=WHISTLE_AT + 2 * STEP)
    assert raised.value.field == "department"
    assert "police acknowledged already" in raised.value.message
    assert vars(case) == before


@pytest.mark.parametrize("department", ["justice", None])
def test_acknowledging_for_a_department_not_called_is_refused_naming_the_called_ones(
    department: str | None,
) -> None:
    case = whistled()
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.acknowledge(department=department, now=WHISTLE_AT + STEP)
    assert raised.value.field == "department"
    assert repr(department) in raised.value.message
    assert "called: urbanmgmt, police, ecoenv" in raised.value.message
    assert vars(case) == before


def test_acknowledging_a_case_without_a_whistle_is_refused() -> None:
    case = registered()
    with pytest.raises(InvalidValue) as raised:
        case.acknowledge(department="police", now=WHISTLE_AT)
    assert raised.value.field == "department"
    assert "called: none" in raised.value.message


def test_reporting_a_part_before_acknowledging_is_refused() -> None:
    case = whistled()
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.report_part(department="police", result="cars towed", now=WHISTLE_AT + STEP)
    assert raised.value.field == "department"
    assert "police must acknowledge" in raised.value.message
    assert vars(case) == before


def test_reported_part_is_kept_with_its_time_and_cannot_be_reported_again() -> None:
    case = whistled()
    case.acknowledge(department="police", now=WHISTLE_AT + STEP)
    out = case.report_part(department="police", result="  cars towed  ", now=WHISTLE_AT + 2 * STEP)
    assert [type(e) for e in out] == [ev.WhistlePartReported]
    assert out[0].result == "cars towed"  # type: ignore[attr-defined]
    police = case.whistle[1]
    assert (police.reported_at, police.report) == (WHISTLE_AT + 2 * STEP, "cars towed")
    assert police.state == PartyState.REPORTED

    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.report_part(department="police", result="more", now=WHISTLE_AT + 3 * STEP)
    assert raised.value.field == "department"
    assert "reported already" in raised.value.message
    assert vars(case) == before


def test_an_empty_part_report_is_refused() -> None:
    case = whistled()
    case.acknowledge(department="police", now=WHISTLE_AT + STEP)
    before = snapshot(case)
    with pytest.raises(InvalidValue) as raised:
        case.report_part(department="police", result="  ", now=WHISTLE_AT + 2 * STEP)
    assert raised.value.field == "result"
    assert vars(case) == before


# -- closing -------------------------------------------------------------------------------


def handled_with_whistle() -> Case:
    case = whistled()
    case.accept(now=WHISTLE_AT + STEP)
    case.report_handled(result="stalls moved, cars towed", now=WHISTLE_AT + 2 * STEP)
    assert case.state == S.HANDLED
    return case


def test_close_is_refused_while_a_called_department_has_not_reported() -> None:
    case = handled_with_whistle()
    now = WHISTLE_AT + 3 * STEP
    case.acknowledge(department=LEAD, now=now)
    case.report_part(department=LEAD, result="stalls moved", now=now)
    case.acknowledge(department="police", now=now)  # acknowledged, not reported
    before = snapshot(case)

    with pytest.raises(InvalidValue) as raised:
        case.close(now=now + STEP)

    assert raised.value.field == "whistle"
    assert raised.value.message.endswith("waiting for police, ecoenv")
    assert LEAD not in raised.value.message
    assert vars(case) == before


def test_close_is_allowed_once_every_called_department_has_reported() -> None:
    case = handled_with_whistle()
    now = WHISTLE_AT + 3 * STEP
    acknowledge_all(case, now)
    report_all(case, now)
    out = case.close(now=now + STEP)
    assert [type(e) for e in out] == [ev.CaseClosed]
    assert case.state == S.CLOSED


# -- the clock: 报到 deadlines --------------------------------------------------------------


def test_tick_before_the_acknowledgement_deadline_does_nothing() -> None:
    case = whistled()
    before = snapshot(case)
    assert case.tick(now=ACK_DEADLINE - TINY) == []
    assert vars(case) == before


def test_tick_at_the_deadline_marks_each_waiting_party_late_and_escalates_once() -> None:
    case = whistled()
    case.acknowledge(department="police", now=WHISTLE_AT + STEP)
    assert case.level == Level.TOWNSHIP

    out = case.tick(now=ACK_DEADLINE)

    assert out == [
        ev.WhistleAckOverdue(case_id=1, at=ACK_DEADLINE, department=LEAD, deadline=ACK_DEADLINE),
        ev.WhistleAckOverdue(
            case_id=1, at=ACK_DEADLINE, department="ecoenv", deadline=ACK_DEADLINE
        ),
        ev.CaseEscalated(
            case_id=1, at=ACK_DEADLINE, level="county",
            reason="城市管理局、生态环境分局 未按时报到", automatic=True,
        ),
    ]  # fmt: skip
    assert [p.late for p in case.whistle] == [True, False, True]
    assert (case.level, case.state) == (Level.COUNTY, S.DISPATCHED)
    assert case.tick(now=ACK_DEADLINE + timedelta(hours=1)) == []


def test_acknowledging_exactly_at_the_deadline_is_late_like_the_clock_says() -> None:
    case = whistled()
    out = case.acknowledge(department="police", now=ACK_DEADLINE)
    assert out[0].late is True  # type: ignore[attr-defined]


def test_a_plain_dispatch_after_a_return_drops_the_earlier_whistle() -> None:
    case = whistled()
    case.return_(reason="not ours", now=WHISTLE_AT + STEP)
    case.dispatch(unit_id=7, department="justice", now=WHISTLE_AT + 2 * STEP)
    assert case.whistle == []
    assert case.tick(now=ACK_DEADLINE) == []


def test_overdue_parties_at_city_level_escalate_no_further() -> None:
    fresh = whistled()
    fresh.level = Level.CITY
    out = fresh.tick(now=ACK_DEADLINE)
    assert [type(e) for e in out] == [ev.WhistleAckOverdue] * 3
    assert fresh.level == Level.CITY


def test_an_acknowledged_party_never_goes_overdue() -> None:
    case = whistled()
    acknowledge_all(case, ACK_DEADLINE - STEP)
    before_yellow = NORMAL_YELLOW_AT - TINY
    assert case.tick(now=before_yellow) == []
    assert not any(p.late for p in case.whistle)
    assert case.level == Level.TOWNSHIP


# -- next_due ------------------------------------------------------------------------------


def test_next_due_is_the_acknowledgement_deadline_while_a_party_waits() -> None:
    case = whistled()
    assert case.next_due(WHISTLE_AT) == ACK_DEADLINE


def test_next_due_is_the_yellow_time_once_every_party_acknowledged() -> None:
    case = whistled()
    acknowledge_all(case, WHISTLE_AT + STEP)
    assert case.next_due(WHISTLE_AT + STEP) == NORMAL_YELLOW_AT


def test_next_due_is_the_yellow_time_when_it_comes_before_the_acknowledgement_deadline() -> None:
    # 24 h budget: yellow after 16 h, long before a 3-day acknowledgement deadline.
    case = whistled(ack_within=timedelta(days=3), urgency=Urgency.IMMEDIATE)
    assert case.next_due(WHISTLE_AT) == REGISTERED_AT + timedelta(hours=16)


def test_next_due_skips_late_parties_and_after_yellow_is_the_deadline() -> None:
    case = whistled()
    case.tick(now=ACK_DEADLINE)
    assert case.next_due(ACK_DEADLINE) == NORMAL_YELLOW_AT
    case.tick(now=NORMAL_YELLOW_AT)
    assert case.light == Light.YELLOW
    assert case.next_due(NORMAL_YELLOW_AT) == REGISTERED_AT + timedelta(days=7)


def test_next_due_is_none_for_a_closed_case() -> None:
    case = handled_with_whistle()
    now = WHISTLE_AT + 3 * STEP
    acknowledge_all(case, now)
    report_all(case, now)
    case.close(now=now)
    assert case.next_due(now) is None


# -- events on the wire --------------------------------------------------------------------


def test_whistle_events_round_trip_through_the_payload() -> None:
    case = whistled()
    case.acknowledge(department="police", now=WHISTLE_AT + STEP)
    case.report_part(department="police", result="cars towed", now=WHISTLE_AT + 2 * STEP)
    case.tick(now=ACK_DEADLINE)
    case.acknowledge(department="ecoenv", now=ACK_DEADLINE + STEP)
    kinds = {type(e) for e in case.events}
    assert kinds >= {
        ev.WhistleBlown, ev.WhistleAcknowledged, ev.WhistlePartReported, ev.WhistleAckOverdue,
        ev.CaseEscalated,
    }  # fmt: skip

    for event in case.events:
        payload = json.loads(json.dumps(ev.to_payload(event)))
        back = ev.from_payload(event.type, event.case_id, event.at, payload)
        assert back == event
        assert type(back) is type(event)

    blown = next(e for e in case.events if isinstance(e, ev.WhistleBlown))
    payload = ev.to_payload(blown)
    assert payload["co"] == ["police", "ecoenv"]
    assert payload["ack_deadline"] == "2024-05-06T09:30:00+00:00"


def test_an_escalation_logged_before_the_automatic_flag_reads_back_as_manual() -> None:
    back = ev.from_payload("case.escalated", 1, T0, {"level": "county", "reason": "too hard"})
    assert isinstance(back, ev.CaseEscalated)
    assert back.automatic is False
    assert back == ev.CaseEscalated(case_id=1, at=T0, level="county", reason="too hard")
