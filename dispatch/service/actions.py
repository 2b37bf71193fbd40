"""Case actions: parse the parameters, load the case, call the domain, commit.

Every action of the transition table is reachable here by name, so the console, the API,
the simulator and the worker share one path to the domain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dispatch.adapters.orm import IdempotencyRow
from dispatch.adapters.repository import CaseNotFound
from dispatch.domain.access import CaseView, Principal, Role, allowed
from dispatch.domain.categories import CATEGORY_BY_CODE, DEPARTMENT_BY_CODE
from dispatch.domain.errors import DomainError, IllegalTransition
from dispatch.domain.events import Event
from dispatch.domain.lifecycle import Action, Case
from dispatch.domain.sla import Urgency
from dispatch.domain.whistle import DEFAULT_ACK
from dispatch.service.core import Core
from dispatch.service.errors import (
    Conflict,
    Forbidden,
    IdempotencyMismatch,
    NotFound,
    ValidationError,
)
from dispatch.service.unit_of_work import StoredEvent, UnitOfWork

if TYPE_CHECKING:
    from dispatch.service.photos import CheckedPhoto

Params = Mapping[str, Any]
Handler = Callable[[Case, Params, "Ctx"], list[Event]]


class Ctx:
    def __init__(
        self,
        core: Core,
        uow: UnitOfWork,
        now: datetime,
        actor: str | None,
        principal: Principal | None = None,
    ) -> None:
        self.core, self.uow, self.now, self.actor = core, uow, now, actor
        self.principal = principal

    def own_department(self, p: Params) -> str | None:
        """A department officer acts for its own department, whatever the form says."""
        if self.principal is not None and self.principal.role == Role.DEPARTMENT:
            return self.principal.department
        value = p.get("department")
        return value if isinstance(value, str) else None


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
    """Parameters left out are filled from the suggestion: one click dispatches."""
    department = p.get("department") or None
    if department is None and case.category:
        department = CATEGORY_BY_CODE[case.category].department
    if department is not None and department not in DEPARTMENT_BY_CODE:
        raise ValidationError(f"unknown department {department!r}", field="department")
    unit_id = _int(p, "unit_id", required=False)
    worker_id = _int(p, "worker_id", required=False)
    if worker_id is None and p.get("suggest_worker", True) not in (False, "false", "0"):
        from dispatch.service.suggest import suggest_worker

        names = c.core.names
        if names is not None:
            found = suggest_worker(c.core, names, c.uow.cases.row(case.id))
            worker_id = found["id"] if found else None
    elif worker_id is not None and c.core.names and worker_id not in c.core.names.workers:
        raise ValidationError(f"grid worker {worker_id} does not exist", field="worker_id")
    if c.principal is not None and c.principal.role == Role.TOWNSHIP:
        unit_id = c.principal.township_id  # a township hands its cases to its own workers
        worker = c.core.names.workers.get(worker_id) if c.core.names and worker_id else None
        if worker is not None and worker.township_id != unit_id:
            raise ValidationError(
                f"grid worker {worker_id} works in another township; choose one of yours",
                field="worker_id",
            )
    return case.dispatch(
        unit_id=unit_id if unit_id is not None else case.township_id,
        department=department,
        worker_id=worker_id,
        now=c.now,
        actor=c.actor,
    )


def _whistle(case: Case, p: Params, c: Ctx) -> list[Event]:
    co = p.get("co") or []
    if isinstance(co, str):
        co = [part for part in co.replace("，", ",").split(",") if part.strip()]
    if not isinstance(co, list) or not all(isinstance(d, str) for d in co):
        raise ValidationError("co must be a list of department codes", field="co")
    minutes = p.get("ack_minutes")
    try:
        ack = DEFAULT_ACK if minutes in (None, "") else timedelta(minutes=float(minutes))
    except (TypeError, ValueError):
        raise ValidationError(
            f"ack_minutes must be a number of minutes, got {minutes!r}", field="ack_minutes"
        ) from None
    lead = p.get("lead")
    return case.blow_whistle(
        lead=lead if isinstance(lead, str) else "", co=[d.strip() for d in co],
        ack_within=ack, known_departments=frozenset(DEPARTMENT_BY_CODE), now=c.now,
        actor=c.actor,
    )  # fmt: skip


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
    Action.WHISTLE: _whistle,
    Action.ACKNOWLEDGE: lambda case, p, c: case.acknowledge(
        department=c.own_department(p), now=c.now, actor=c.actor
    ),
    Action.REPORT_PART: lambda case, p, c: case.report_part(
        department=c.own_department(p), result=_text(p, "result"), now=c.now, actor=c.actor
    ),
}
# Actions whose result a handler may prove with photos (kept as kind "result").
PHOTO_ACTIONS = frozenset({Action.REPORT_HANDLED, Action.REPORT_PART})


def parse_action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise ValidationError(
            f"unknown action {name!r}; one of: {', '.join(a.value for a in Action)}",
            field="action",
        ) from None


def _fingerprint(
    case_id: int, action: Action, params: Params | None, photos: Sequence[CheckedPhoto]
) -> str:
    data = [case_id, action.value, dict(params or {}), [p.sha256 for p in photos]]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _key_scope(actor: str | None) -> str:
    return f"action:{actor or ''}"[:80]


def _done_before(uow: UnitOfWork, actor: str | None, key: str, digest: str) -> bool:
    """True when this actor already did this (same key, same request).

    Asked before the jurisdiction check: a worker whose 回退 went through but whose answer
    was lost no longer has the case, and its retry must still be answered as done."""
    if not 1 <= len(key) <= 200:
        raise ValidationError("Idempotency-Key must be 1–200 characters", field="Idempotency-Key")
    row = uow.session.scalars(
        select(IdempotencyRow).where(
            IdempotencyRow.scope == _key_scope(actor), IdempotencyRow.key == key
        )
    ).first()
    if row is not None and row.request_hash != digest:
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was first used for a different action; use a new key",
            field="Idempotency-Key",
        )
    return row is not None


def case_view(case: Case) -> CaseView:
    return CaseView(
        township_id=case.township_id, department=case.department, worker_id=case.worker_id,
        whistle_departments=frozenset(p.department for p in case.whistle),
    )  # fmt: skip


def authorise(principal: Principal, case: Case, action: Action) -> None:
    """404 outside the principal's jurisdiction (as if the case did not exist), 403 when
    its role may not take this action."""
    view = case_view(case)
    if not principal.scope.allows(view):
        raise NotFound(f"case {case.id} does not exist", field="case_id")
    if not principal.may(action):
        raise Forbidden(
            f"a {principal.role.value} user may not {action.value} a case", field="action"
        )
    if not allowed(principal, action, view):
        raise Forbidden(
            f"{principal.department} is called to help on this case; it acknowledges and "
            f"reports its part, and {case.department} (the lead) may {action.value} it",
            field="action",
        )


def perform(
    core: Core,
    case_id: int,
    action: Action | str,
    params: Params | None = None,
    *,
    actor: str | None = None,
    principal: Principal | None = None,
    photos: Sequence[CheckedPhoto] = (),
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> list[StoredEvent]:
    """Apply one action to one case in its own transaction; returns the stored events.

    With a principal, the case must be in its jurisdiction and the action allowed to its
    role; its name becomes the actor. Photos (already checked) are kept with the case in
    the same transaction; when it fails their files are removed again. With an
    idempotency key a retry of an action already done returns [] instead of failing (a
    phone that lost the answer sends it again); the key with other parameters is 422.
    """
    action = parse_action(action) if isinstance(action, str) else action
    if photos and action not in PHOTO_ACTIONS:
        raise ValidationError(
            f"photos can be sent with {', '.join(sorted(a.value for a in PHOTO_ACTIONS))}, "
            f"not with {action.value}",
            field="photos",
        )
    now = now or core.clock.now()
    if principal is not None:
        actor = principal.name
    saved: list[Any] = []
    with core.uow() as uow:
        try:
            case = uow.cases.get(case_id)
            digest = _fingerprint(case_id, action, params, photos)
            if idempotency_key is not None and _done_before(uow, actor, idempotency_key, digest):
                return []
            if principal is not None:
                authorise(principal, case, action)
            if idempotency_key is not None:
                uow.session.add(
                    IdempotencyRow(
                        scope=_key_scope(actor), key=idempotency_key, request_hash=digest,
                        created_at=now,
                    )
                )  # fmt: skip
            HANDLERS[action](case, params or {}, Ctx(core, uow, now, actor, principal))
            if photos:
                from dispatch.service.photos import save_photos

                saved = save_photos(
                    uow.session, core.data_dir, photos, case_id=case.id, kind="result",
                    uploaded_by=actor or "", now=now,
                )  # fmt: skip
            return uow.commit(now)
        except CaseNotFound as exc:
            raise NotFound(str(exc), field="case_id") from exc
        except IllegalTransition as exc:
            raise Conflict(exc.message, field=exc.field, code=exc.code) from exc
        except DomainError as exc:
            raise ValidationError(exc.message, field=exc.field, code=exc.code) from exc
        finally:
            if saved and not uow.committed:
                from dispatch.service.photos import discard

                discard(core.data_dir, saved)


def tick(core: Core, *, now: datetime | None = None) -> list[StoredEvent]:
    """The SLA clock: turn lights yellow and red for every case whose time has come."""
    now = now or core.clock.now()
    with core.uow() as uow:
        for case in uow.cases.due_for_tick(now):
            case.tick(now=now)
        return uow.commit(now)
