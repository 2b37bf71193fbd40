"""The case lifecycle: one transition table, one guard, methods that return events.

A move that the table does not allow raises `IllegalTransition`, naming the current state and
the states the move is allowed from. Side effects (notifications, escalation at red, screens)
belong to the handlers that receive the returned events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.domain import events as ev
from dispatch.domain.categories import DEPARTMENT_BY_CODE
from dispatch.domain.errors import IllegalTransition, InvalidValue
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, SlaClock, SlaPolicy, Urgency
from dispatch.domain.whistle import (
    PartyRole,
    WhistleParty,
    find_party,
    plan_parties,
)


class CaseState(enum.StrEnum):
    REPORTED = "reported"  # 上报
    VERIFIED = "verified"  # 核实
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    ACCEPTED = "accepted"  # 签收
    HANDLING = "handling"  # 处置中
    HANDLED = "handled"  # 已处置
    CLOSED = "closed"  # 结案
    REVIEWED = "reviewed"  # 已回访
    REJECTED = "rejected"  # 不予受理
    RETURNED = "returned"  # 回退
    SUSPENDED = "suspended"  # 挂起
    ESCALATED = "escalated"  # 上报上级
    REOPENED = "reopened"  # 重办
    MERGED = "merged"  # 合并
    CANCELLED = "cancelled"  # 撤销


class Action(enum.StrEnum):
    VERIFY = "verify"
    REJECT = "reject"
    REGISTER = "register"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    START_HANDLING = "start_handling"
    REPORT_HANDLED = "report_handled"
    REWORK = "rework"
    CLOSE = "close"
    REVIEW = "review"
    REOPEN = "reopen"
    SUSPEND = "suspend"
    RESUME = "resume"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    ESCALATE = "escalate"
    SEND_DOWN = "send_down"
    MERGE = "merge"
    CANCEL = "cancel"
    URGE = "urge"
    SUPERVISE = "supervise"
    WHISTLE = "whistle"  # 吹哨: call a lead and co-handling departments
    ACKNOWLEDGE = "acknowledge"  # 报到: a called department answers
    REPORT_PART = "report_part"  # a called department reports its part


S = CaseState
TERMINAL: frozenset[CaseState] = frozenset({S.REVIEWED, S.REJECTED, S.MERGED, S.CANCELLED})
# States in which somebody is working on the case and the SLA clock runs.
IN_PROGRESS: frozenset[CaseState] = frozenset(
    {S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.HANDLING, S.RETURNED, S.ESCALATED, S.REOPENED}
)
OPEN: frozenset[CaseState] = frozenset(S) - TERMINAL - {S.CLOSED}
# States in which the SLA clock runs: until the centre closes the case.
CLOCK_RUNS: frozenset[CaseState] = IN_PROGRESS | {S.HANDLED}


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseState]
    # None: the state does not change (urge, extension) or is restored (resume).
    target: CaseState | None


TRANSITIONS: dict[Action, Transition] = {
    Action.VERIFY: Transition(frozenset({S.REPORTED}), S.VERIFIED),
    Action.REJECT: Transition(frozenset({S.REPORTED, S.VERIFIED}), S.REJECTED),
    Action.REGISTER: Transition(frozenset({S.VERIFIED}), S.REGISTERED),
    Action.DISPATCH: Transition(
        frozenset({S.REGISTERED, S.RETURNED, S.REOPENED, S.ESCALATED}), S.DISPATCHED
    ),
    Action.ACCEPT: Transition(frozenset({S.DISPATCHED}), S.ACCEPTED),
    Action.RETURN: Transition(frozenset({S.DISPATCHED, S.ACCEPTED}), S.RETURNED),
    Action.START_HANDLING: Transition(frozenset({S.ACCEPTED}), S.HANDLING),
    Action.REPORT_HANDLED: Transition(frozenset({S.ACCEPTED, S.HANDLING}), S.HANDLED),
    Action.REWORK: Transition(frozenset({S.HANDLED}), S.HANDLING),
    Action.CLOSE: Transition(frozenset({S.HANDLED}), S.CLOSED),
    Action.REVIEW: Transition(frozenset({S.CLOSED}), S.REVIEWED),
    Action.REOPEN: Transition(frozenset({S.CLOSED}), S.REOPENED),
    Action.SUSPEND: Transition(IN_PROGRESS, S.SUSPENDED),
    Action.RESUME: Transition(frozenset({S.SUSPENDED}), None),
    Action.REQUEST_EXTENSION: Transition(frozenset({S.DISPATCHED, S.ACCEPTED, S.HANDLING}), None),
    Action.APPROVE_EXTENSION: Transition(frozenset({S.DISPATCHED, S.ACCEPTED, S.HANDLING}), None),
    Action.DENY_EXTENSION: Transition(frozenset({S.DISPATCHED, S.ACCEPTED, S.HANDLING}), None),
    Action.ESCALATE: Transition(IN_PROGRESS - {S.ESCALATED}, S.ESCALATED),
    Action.SEND_DOWN: Transition(frozenset({S.REGISTERED, S.ESCALATED, S.RETURNED}), S.REGISTERED),
    Action.MERGE: Transition(frozenset({S.REPORTED, S.VERIFIED, S.REGISTERED}), S.MERGED),
    Action.CANCEL: Transition(OPEN - {S.HANDLED}, S.CANCELLED),
    Action.URGE: Transition(IN_PROGRESS, None),
    Action.SUPERVISE: Transition(IN_PROGRESS, None),
    Action.WHISTLE: Transition(
        frozenset({S.REGISTERED, S.RETURNED, S.REOPENED, S.ESCALATED}), S.DISPATCHED
    ),
    Action.ACKNOWLEDGE: Transition(CLOCK_RUNS, None),
    Action.REPORT_PART: Transition(CLOCK_RUNS, None),
}


def _department_name(code: str) -> str:
    department = DEPARTMENT_BY_CODE.get(code)
    return department.name if department else code


def allowed_actions(state: CaseState) -> list[Action]:
    """Every action the table allows from `state`, in table order (for buttons and docs)."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def _text(value: str, name: str, *, limit: int = 2000) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidValue(f"{name} must not be empty", field=name)
    if len(value) > limit:
        raise InvalidValue(f"{name} is {len(value)} characters; at most {limit}", field=name)
    return value


@dataclass
class Case:
    """A case (案件) as the domain sees it; persistence maps it to and from rows."""

    id: int
    channel: str
    service_code: str
    description: str
    lat: float
    long: float
    reported_at: datetime
    state: CaseState = CaseState.REPORTED
    township_id: int | None = None
    grid_id: int | None = None
    level: Level = Level.TOWNSHIP
    category: str | None = None
    urgency: Urgency | None = None
    sla: SlaClock | None = None
    light: Light = Light.GREEN
    unit_id: int | None = None
    department: str | None = None
    worker_id: int | None = None
    state_before_suspend: CaseState | None = None
    pending_extension_hours: float | None = None
    master_id: int | None = None
    rating: int | None = None
    result: str | None = None
    on_time: bool | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    reopen_count: int = 0
    whistle: list[WhistleParty] = field(default_factory=list)
    events: list[ev.Event] = field(default_factory=list, repr=False, compare=False)

    # -- the guard -----------------------------------------------------------------------

    def _guard(self, action: Action) -> Transition:
        """Raise `IllegalTransition` unless the table allows `action` from the current state."""
        transition = TRANSITIONS[action]
        if self.state not in transition.sources:
            allowed = tuple(sorted(s.value for s in transition.sources))
            raise IllegalTransition(action.value, self.state.value, allowed)
        return transition

    def _move(self, action: Action, now: datetime) -> CaseState:
        """Check the table and move; returns the state the case was in."""
        transition = self._guard(action)
        before = self.state
        if transition.target is not None:
            self.state = transition.target
        self.updated_at = now
        return before

    def _emit(self, event: ev.Event) -> list[ev.Event]:
        self.events.append(event)
        return [event]

    def can(self, action: Action) -> bool:
        return self.state in TRANSITIONS[action].sources

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def report(
        cls,
        *,
        case_id: int,
        channel: str,
        service_code: str,
        description: str,
        lat: float,
        long: float,
        now: datetime,
        township_id: int | None = None,
        grid_id: int | None = None,
        actor: str | None = None,
    ) -> Case:
        case = cls(
            id=case_id,
            channel=channel,
            service_code=service_code,
            description=description,
            lat=lat,
            long=long,
            reported_at=now,
            updated_at=now,
            township_id=township_id,
            grid_id=grid_id,
        )
        case._emit(
            ev.CaseReported(
                case_id=case_id, at=now, actor=actor, channel=channel,
                service_code=service_code, lat=lat, long=long,
                township_id=township_id, grid_id=grid_id,
            )
        )  # fmt: skip
        return case

    # -- the main line ---------------------------------------------------------------------

    def verify(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        self._move(Action.VERIFY, now)
        return self._emit(ev.CaseVerified(case_id=self.id, at=now, actor=actor))

    def reject(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        reason = _text(reason, "reason")
        self._move(Action.REJECT, now)
        return self._emit(ev.CaseRejected(case_id=self.id, at=now, actor=actor, reason=reason))

    def register(
        self,
        *,
        category: str,
        urgency: Urgency,
        policy: SlaPolicy,
        now: datetime,
        actor: str | None = None,
    ) -> list[ev.Event]:
        self._move(Action.REGISTER, now)
        self.category = category
        self.urgency = Urgency(urgency)
        self.sla = policy.start(self.urgency, now)
        self.light = Light.GREEN
        return self._emit(
            ev.CaseRegistered(
                case_id=self.id, at=now, actor=actor, category=category,
                urgency=self.urgency.value, deadline=self.sla.deadline(now),
            )
        )  # fmt: skip

    def dispatch(
        self,
        *,
        unit_id: int | None,
        department: str | None,
        worker_id: int | None = None,
        now: datetime,
        actor: str | None = None,
    ) -> list[ev.Event]:
        if unit_id is None and department is None:
            raise InvalidValue("dispatch needs a unit or a department", field="unit_id")
        before = self._move(Action.DISPATCH, now)
        if before == CaseState.REOPENED and self.sla is None:  # pragma: no cover - defensive
            raise InvalidValue("a reopened case has no SLA clock", field="sla")
        self.unit_id, self.department, self.worker_id = unit_id, department, worker_id
        self.whistle = []  # an ordinary dispatch replaces any earlier whistle
        return self._emit(
            ev.CaseDispatched(
                case_id=self.id, at=now, actor=actor, unit_id=unit_id,
                department=department, worker_id=worker_id,
            )
        )  # fmt: skip

    def accept(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        self._move(Action.ACCEPT, now)
        return self._emit(ev.CaseAccepted(case_id=self.id, at=now, actor=actor))

    def return_(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        """Send a wrong assignment back to the centre (回退), with a reason."""
        reason = _text(reason, "reason")
        self._move(Action.RETURN, now)
        self.worker_id = None
        return self._emit(ev.CaseReturned(case_id=self.id, at=now, actor=actor, reason=reason))

    def start_handling(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        self._move(Action.START_HANDLING, now)
        return self._emit(ev.HandlingStarted(case_id=self.id, at=now, actor=actor))

    def report_handled(
        self, *, result: str, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        result = _text(result, "result", limit=4000)
        self._move(Action.REPORT_HANDLED, now)
        self.result = result
        return self._emit(ev.CaseHandled(case_id=self.id, at=now, actor=actor, result=result))

    def rework(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        """The centre checked the result and sends it back for more work."""
        reason = _text(reason, "reason")
        self._move(Action.REWORK, now)
        return self._emit(ev.CaseReworked(case_id=self.id, at=now, actor=actor, reason=reason))

    def close(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        self._guard(Action.CLOSE)
        missing = [p.department for p in self.whistle if p.reported_at is None]
        if missing:
            raise InvalidValue(
                f"the case cannot close before every called department has reported; "
                f"waiting for {', '.join(missing)}",
                field="whistle",
            )
        self._move(Action.CLOSE, now)
        self.closed_at = now
        self.on_time = self.sla is None or self.sla.light(now) != Light.RED
        return self._emit(ev.CaseClosed(case_id=self.id, at=now, actor=actor, on_time=self.on_time))

    def record_callback(
        self, *, rating: int, now: datetime, actor: str | None = None, policy: SlaPolicy
    ) -> list[ev.Event]:
        """回访: 3–5 completes the loop; 1–2 (unsatisfied) reopens the case for handling."""
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise InvalidValue(f"rating must be a whole number 1–5, got {rating!r}", field="rating")
        if rating >= 3:
            self._move(Action.REVIEW, now)
            previous, self.rating = self.rating, rating
            return self._emit(
                ev.CaseReviewed(
                    case_id=self.id, at=now, actor=actor, rating=rating, previous_rating=previous
                )
            )
        return self.reopen(
            reason=f"群众回访不满意（评分 {rating}）", rating=rating, now=now,
            actor=actor, policy=policy,
        )  # fmt: skip

    def reopen(
        self,
        *,
        reason: str,
        now: datetime,
        policy: SlaPolicy,
        rating: int | None = None,
        actor: str | None = None,
    ) -> list[ev.Event]:
        reason = _text(reason, "reason")
        self._move(Action.REOPEN, now)
        reopened = ev.CaseReopened(
            case_id=self.id, at=now, actor=actor, reason=reason, rating=rating,
            previous_rating=self.rating, previous_closed_at=self.closed_at,
            previous_on_time=self.on_time,
        )  # fmt: skip
        self.rating = rating
        self.reopen_count += 1
        self.closed_at, self.on_time, self.result = None, None, None
        # Handling starts over: a fresh clock of the same urgency.
        self.sla = policy.start(self.urgency or Urgency.NORMAL, now)
        self.light = Light.GREEN
        return self._emit(reopened)

    # -- side paths ------------------------------------------------------------------------

    def suspend(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        reason = _text(reason, "reason")
        before = self._move(Action.SUSPEND, now)
        self.state_before_suspend = before
        if self.sla is not None:
            self.sla = self.sla.pause(now)
        return self._emit(ev.CaseSuspended(case_id=self.id, at=now, actor=actor, reason=reason))

    def resume(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        self._move(Action.RESUME, now)
        self.state = self.state_before_suspend or CaseState.REGISTERED
        self.state_before_suspend = None
        deadline = None
        if self.sla is not None:
            self.sla = self.sla.resume(now)
            deadline = self.sla.deadline(now)
        return self._emit(ev.CaseResumed(case_id=self.id, at=now, actor=actor, deadline=deadline))

    def request_extension(
        self, *, hours: float, reason: str, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        reason = _text(reason, "reason")
        if not 0 < hours <= 24 * 30:
            raise InvalidValue(f"extension must be 0–720 hours, got {hours}", field="hours")
        if self.pending_extension_hours is not None:
            raise InvalidValue(
                f"an extension of {self.pending_extension_hours} h is already waiting for a "
                "decision",
                field="hours",
            )
        self._move(Action.REQUEST_EXTENSION, now)
        self.pending_extension_hours = hours
        return self._emit(
            ev.ExtensionRequested(case_id=self.id, at=now, actor=actor, hours=hours, reason=reason)
        )

    def _take_pending_extension(self) -> float:
        if self.pending_extension_hours is None:
            raise InvalidValue("no extension request is waiting for a decision", field="hours")
        hours, self.pending_extension_hours = self.pending_extension_hours, None
        return hours

    def approve_extension(self, *, now: datetime, actor: str | None = None) -> list[ev.Event]:
        # Guard, then check the request, then move: a refused command leaves the case as it was.
        self._guard(Action.APPROVE_EXTENSION)
        hours = self._take_pending_extension()
        self._move(Action.APPROVE_EXTENSION, now)
        if self.sla is None:  # pragma: no cover - a dispatched case is always registered
            raise InvalidValue("the case has no SLA clock to extend", field="sla")
        self.sla = self.sla.extend(timedelta(hours=hours))
        self.light = self.sla.light(now)
        return self._emit(
            ev.ExtensionApproved(
                case_id=self.id, at=now, actor=actor, hours=hours, deadline=self.sla.deadline(now)
            )
        )

    def deny_extension(
        self, *, reason: str, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        reason = _text(reason, "reason")
        self._guard(Action.DENY_EXTENSION)
        self._take_pending_extension()
        self._move(Action.DENY_EXTENSION, now)
        return self._emit(ev.ExtensionDenied(case_id=self.id, at=now, actor=actor, reason=reason))

    def escalate(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        reason = _text(reason, "reason")
        up = self.level.up()
        if up is None:
            raise InvalidValue(
                f"a case at {self.level.value} level cannot go higher", field="level"
            )
        self._move(Action.ESCALATE, now)
        self.level = up
        return self._emit(
            ev.CaseEscalated(case_id=self.id, at=now, actor=actor, level=up.value, reason=reason)
        )

    def send_down(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        reason = _text(reason, "reason")
        down = self.level.down()
        if down is None:
            raise InvalidValue(f"a case at {self.level.value} level cannot go lower", field="level")
        self._move(Action.SEND_DOWN, now)
        self.level = down
        self.whistle = []  # the lower level dispatches afresh
        return self._emit(
            ev.CaseSentDown(case_id=self.id, at=now, actor=actor, level=down.value, reason=reason)
        )

    def merge_into(
        self, *, master: Case, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        if master.id == self.id:
            raise InvalidValue("a case cannot be merged into itself", field="master_id")
        if not master.is_open:
            raise InvalidValue(
                f"master case {master.id} is {master.state.value}; merge into an open case",
                field="master_id",
            )
        if master.master_id is not None:
            raise InvalidValue(f"case {master.id} is itself merged", field="master_id")
        self._move(Action.MERGE, now)
        self.master_id = master.id
        return self._emit(ev.CaseMerged(case_id=self.id, at=now, actor=actor, master_id=master.id))

    def cancel(self, *, reason: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        reason = _text(reason, "reason")
        self._move(Action.CANCEL, now)
        return self._emit(ev.CaseCancelled(case_id=self.id, at=now, actor=actor, reason=reason))

    def urge(self, *, message: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        message = _text(message, "message")
        self._move(Action.URGE, now)
        return self._emit(ev.CaseUrged(case_id=self.id, at=now, actor=actor, message=message))

    def supervise(self, *, message: str, now: datetime, actor: str | None = None) -> list[ev.Event]:
        message = _text(message, "message")
        self._move(Action.SUPERVISE, now)
        return self._emit(ev.CaseSupervised(case_id=self.id, at=now, actor=actor, message=message))

    # -- whistle-and-report (吹哨报到) ------------------------------------------------------

    def blow_whistle(
        self,
        *,
        lead: str,
        co: list[str],
        ack_within: timedelta,
        known_departments: frozenset[str],
        now: datetime,
        actor: str | None = None,
    ) -> list[ev.Event]:
        """Dispatch to a lead department with co-handling ones, each to acknowledge in time."""
        self._guard(Action.WHISTLE)
        parties = plan_parties(
            lead=lead, co=co, ack_within=ack_within, now=now, known=known_departments
        )
        self._move(Action.WHISTLE, now)
        self.whistle = parties
        self.unit_id, self.department, self.worker_id = None, lead, None
        return self._emit(
            ev.WhistleBlown(
                case_id=self.id, at=now, actor=actor, lead=lead, co=list(co),
                ack_deadline=parties[0].ack_deadline,
            )
        )  # fmt: skip

    def acknowledge(
        self, *, department: str | None, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        """报到: a called department answers; after its deadline it is recorded as late."""
        self._guard(Action.ACKNOWLEDGE)
        party = find_party(self.whistle, department)
        if party.acknowledged_at is not None:
            raise InvalidValue(
                f"{party.department} acknowledged already at {party.acknowledged_at.isoformat()}",
                field="department",
            )
        self._move(Action.ACKNOWLEDGE, now)
        party.acknowledged_at = now
        return self._emit(
            ev.WhistleAcknowledged(
                case_id=self.id, at=now, actor=actor, department=party.department,
                late=party.late or now >= party.ack_deadline,
            )
        )  # fmt: skip

    def report_part(
        self, *, department: str | None, result: str, now: datetime, actor: str | None = None
    ) -> list[ev.Event]:
        result = _text(result, "result", limit=4000)
        self._guard(Action.REPORT_PART)
        party = find_party(self.whistle, department)
        if party.acknowledged_at is None:
            raise InvalidValue(
                f"{party.department} must acknowledge (报到) before reporting its part",
                field="department",
            )
        if party.reported_at is not None:
            raise InvalidValue(f"{party.department} has reported already", field="department")
        self._move(Action.REPORT_PART, now)
        party.reported_at, party.report = now, result
        return self._emit(
            ev.WhistlePartReported(
                case_id=self.id, at=now, actor=actor, department=party.department, result=result
            )
        )

    @property
    def lead_department(self) -> str | None:
        return next((p.department for p in self.whistle if p.role == PartyRole.LEAD), None)

    # -- the clock -------------------------------------------------------------------------

    def next_due(self, now: datetime) -> datetime | None:
        """When `tick` next has something to do if nothing else happens (None: never)."""
        due: list[datetime] = []
        if self.state in CLOCK_RUNS:
            due += [p.ack_deadline for p in self.whistle if not p.late and not p.acknowledged_at]
            if self.sla is not None and not self.sla.paused:
                if self.light == Light.GREEN:
                    due.append(self.sla.yellow_at(now))
                elif self.light == Light.YELLOW:
                    due.append(self.sla.deadline(now))
        return min(due) if due else None

    def tick(self, *, now: datetime) -> list[ev.Event]:
        """Lights and whistle deadlines: an event for each newly reached, and at red the
        case escalates one level (the supervising level goes up; the handler keeps it)."""
        if self.state not in CLOCK_RUNS:
            return []
        out: list[ev.Event] = []
        overdue = [party for party in self.whistle if party.overdue(now)]
        for party in overdue:
            party.late = True
            out += self._emit(
                ev.WhistleAckOverdue(
                    case_id=self.id, at=now, department=party.department,
                    deadline=party.ack_deadline,
                )
            )  # fmt: skip
        # Reasons the domain writes itself are in Chinese, the language the centre works in
        # (officers' own reasons are whatever they type).
        if overdue:  # one step up for the lot: they were late together
            names = "、".join(_department_name(p.department) for p in overdue)
            out += self._auto_escalate(f"{names} 未按时报到", now)
        if self.sla is None:
            return out
        light = self.sla.light(now)
        order = [Light.GREEN, Light.YELLOW, Light.RED]
        if order.index(light) <= order.index(self.light):
            return out
        deadline = self.sla.deadline(now)
        if self.light == Light.GREEN:
            out += self._emit(ev.SlaTurnedYellow(case_id=self.id, at=now, deadline=deadline))
        if light == Light.RED:
            out += self._emit(ev.SlaTurnedRed(case_id=self.id, at=now, deadline=deadline))
        self.light = light
        if light == Light.RED:
            out += self._auto_escalate("超期未办结，自动升级", now)
        return out

    def _auto_escalate(self, reason: str, now: datetime) -> list[ev.Event]:
        """Raise the level that supervises the case; at the top level nothing more happens."""
        up = self.level.up()
        if up is None:
            return []
        self.level = up
        self.updated_at = now
        return self._emit(
            ev.CaseEscalated(case_id=self.id, at=now, level=up.value, reason=reason, automatic=True)
        )

    def current_light(self, now: datetime) -> Light:
        if self.sla is None or self.state not in CLOCK_RUNS | {CaseState.SUSPENDED}:
            return self.light
        return self.sla.light(now)
