"""Case actions: parse the parameters, load the case, call the domain, commit.

Every action of the transition table is reachable here by name, so the console, the API,
the simulator and the worker share one path to the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dispatch.adapters.repository import CaseNotFound
from dispatch.domain.categories import CATEGORY_BY_CODE, DEPARTMENT_BY_CODE
from dispatch.domain.errors import DomainError, IllegalTransition
from dispatch.domain.events import Event
from dispatch.domain.lifecycle import Action, Case
from dispatch.domain.sla import Urgency
from dispatch.service.core import Core
from dispatch.service.errors import Conflict, NotFound, ValidationError
from dispatch.service.unit_of_work import StoredEvent, UnitOfWork

Params = Mapping[str, Any]
Handler = Callable[[Case, Params, "Ctx"], list[Event]]


class Ctx:
    def __init__(self, core: Core, uow: UnitOfWork, now: datetime, actor: str | None) -> None:
        self.core, self.uow, self.now, self.actor = core, uow, now, actor


def _text(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} is required and must be text", field=name)
    return value


def _int(params: Params, name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise ValidationError(f"{name} is required", field=name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a whole number, got {value!r}", field=name) from None


def _register(case: Case, p: Params, c: Ctx) -> list[Event]:
    category = p.get("category") or case.service_code
    if category not in CATEGORY_BY_CODE:
        raise ValidationError(f"unknown category {category!r}", field="category")
    urgency = p.get("urgency") or CATEGORY_BY_CODE[category].default_urgency
    if urgency not in {u.value for u in Urgency}:
        raise ValidationError(
            f"urgency must be one of {', '.join(u.value for u in Urgency)}, got {urgency!r}",
            field="urgency",
        )
    return case.register(
        category=category, urgency=Urgency(urgency), policy=c.core.policy, now=c.now,
        actor=c.actor,
    )  # fmt: skip


def _dispatch(case: Case, p: Params, c: Ctx) -> list[Event]:
    department = p.get("department")
    if department is None and case.category:
        department = CATEGORY_BY_CODE[case.category].department
    if department is not None and department not in DEPARTMENT_BY_CODE:
        raise ValidationError(f"unknown department {department!r}", field="department")
    unit_id = _int(p, "unit_id", required=False)
    return case.dispatch(
        unit_id=unit_id if unit_id is not None else case.township_id,
        department=department,
        worker_id=_int(p, "worker_id", required=False),
        now=c.now,
        actor=c.actor,
    )


def _merge(case: Case, p: Params, c: Ctx) -> list[Event]:
    master_id = _int(p, "master_id")
    assert master_id is not None
    master = c.uow.cases.get(master_id)
    return case.merge_into(master=master, now=c.now, actor=c.actor)


def _hours(p: Params) -> float:
    try:
        return float(p.get("hours", ""))
    except (TypeError, ValueError):
        raise ValidationError(
            f"hours must be a number, got {p.get('hours')!r}", field="hours"
        ) from None


def _rating(p: Params) -> int:
    value = _int(p, "rating")
    assert value is not None
    return value


HANDLERS: dict[Action, Handler] = {
    Action.VERIFY: lambda case, p, c: case.verify(now=c.now, actor=c.actor),
    Action.REJECT: lambda case, p, c: case.reject(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.REGISTER: _register,
    Action.DISPATCH: _dispatch,
    Action.ACCEPT: lambda case, p, c: case.accept(now=c.now, actor=c.actor),
    Action.RETURN: lambda case, p, c: case.return_(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.START_HANDLING: lambda case, p, c: case.start_handling(now=c.now, actor=c.actor),
    Action.REPORT_HANDLED: lambda case, p, c: case.report_handled(
        result=_text(p, "result"), now=c.now, actor=c.actor
    ),
    Action.REWORK: lambda case, p, c: case.rework(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.CLOSE: lambda case, p, c: case.close(now=c.now, actor=c.actor),
    Action.REVIEW: lambda case, p, c: case.record_callback(
        rating=_rating(p), now=c.now, actor=c.actor, policy=c.core.policy
    ),
    Action.REOPEN: lambda case, p, c: case.reopen(
        reason=_text(p, "reason"), now=c.now, actor=c.actor, policy=c.core.policy
    ),
    Action.SUSPEND: lambda case, p, c: case.suspend(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.RESUME: lambda case, p, c: case.resume(now=c.now, actor=c.actor),
    Action.REQUEST_EXTENSION: lambda case, p, c: case.request_extension(
        hours=_hours(p), reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.APPROVE_EXTENSION: lambda case, p, c: case.approve_extension(now=c.now, actor=c.actor),
    Action.DENY_EXTENSION: lambda case, p, c: case.deny_extension(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.ESCALATE: lambda case, p, c: case.escalate(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.SEND_DOWN: lambda case, p, c: case.send_down(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.MERGE: _merge,
    Action.CANCEL: lambda case, p, c: case.cancel(
        reason=_text(p, "reason"), now=c.now, actor=c.actor
    ),
    Action.URGE: lambda case, p, c: case.urge(
        message=_text(p, "message"), now=c.now, actor=c.actor
    ),
    Action.SUPERVISE: lambda case, p, c: case.supervise(
        message=_text(p, "message"), now=c.now, actor=c.actor
    ),
}


def parse_action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise ValidationError(
            f"unknown action {name!r}; one of: {', '.join(a.value for a in Action)}",
            field="action",
        ) from None


def perform(
    core: Core,
    case_id: int,
    action: Action | str,
    params: Params | None = None,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> list[StoredEvent]:
    """Apply one action to one case in its own transaction; returns the stored events."""
    action = parse_action(action) if isinstance(action, str) else action
    now = now or core.clock.now()
    with core.uow() as uow:
        try:
            case = uow.cases.get(case_id)
            HANDLERS[action](case, params or {}, Ctx(core, uow, now, actor))
        except CaseNotFound as exc:
            raise NotFound(str(exc), field="case_id") from exc
        except IllegalTransition as exc:
            raise Conflict(exc.message, field=exc.field, code=exc.code) from exc
        except DomainError as exc:
            raise ValidationError(exc.message, field=exc.field, code=exc.code) from exc
        return uow.commit(now)


def tick(core: Core, *, now: datetime | None = None) -> list[StoredEvent]:
    """The SLA clock: turn lights yellow and red for every case whose time has come."""
    now = now or core.clock.now()
    with core.uow() as uow:
        for case in uow.cases.due_for_tick(now):
            case.tick(now=now)
        return uow.commit(now)
