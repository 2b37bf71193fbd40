"""The case file: everything the case page shows, for one principal.

Reads are scoped like actions: a case outside the principal's jurisdiction is reported as
missing, with the same message as a case that does not exist. The reporter's name and phone
are masked unless the role needs them (verification and the callback).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CaseRow, EventRow, PhotoRow, UserRow, WhistlePartyRow
from dispatch.domain.access import CaseScope, CaseView, Principal, Role, allowed
from dispatch.domain.lifecycle import Action, CaseState, allowed_actions
from dispatch.service import suggest
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import NotFound
from dispatch.service.queries import summary

# Who needs the officer's suggestions (the roles that register and dispatch).
PLANNERS = frozenset({Role.ADMIN, Role.DUTY, Role.SYSTEM})


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


def mask_name(name: str) -> str:
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def parties_of(session: Session, case_id: int) -> list[WhistlePartyRow]:
    return list(
        session.scalars(
            select(WhistlePartyRow)
            .where(WhistlePartyRow.case_id == case_id)
            .order_by(WhistlePartyRow.id)
        )
    )


def view_of(row: CaseRow, parties: list[WhistlePartyRow]) -> CaseView:
    return CaseView(
        township_id=row.township_id, department=row.department, worker_id=row.worker_id,
        whistle_departments=frozenset(p.department for p in parties),
    )  # fmt: skip


def visible_row(
    session: Session, case_id: int, scope: CaseScope
) -> tuple[CaseRow, list[WhistlePartyRow]]:
    """The case and its whistle parties if `scope` may see it; NotFound otherwise."""
    row = session.get(CaseRow, case_id)
    parties = parties_of(session, case_id) if row is not None else []
    if row is None or not scope.allows(view_of(row, parties)):
        raise NotFound(f"case {case_id} does not exist", field="id")
    return row, parties


def get_case(core: Core, names: Directory, case_id: int, principal: Principal) -> dict[str, Any]:
    with core.db.read() as session:
        row, _ = visible_row(session, case_id, principal.scope)
        return summary(row, names)


def actions_for(principal: Principal, state: str, view: CaseView | None = None) -> list[str]:
    """The actions of the table open in `state` that this principal may take (on this case,
    when its view is given: a co-handling department does not handle the lead's case)."""
    return [
        a.value
        for a in allowed_actions(CaseState(state))
        if (allowed(principal, a, view) if view is not None else principal.may(a))
    ]


def party_wire(p: WhistlePartyRow, names: Directory) -> dict[str, Any]:
    dept = names.departments.get(p.department)
    state = "reported" if p.reported_at else "acknowledged" if p.acknowledged_at else "waiting"
    return {
        "department": p.department,
        "department_name": dept.name if dept else p.department,
        "department_name_en": dept.name_en if dept else p.department,
        "role": p.role,
        "state": state,
        "late": p.late,
        "ack_deadline": p.ack_deadline.isoformat(),
        "acknowledged_at": p.acknowledged_at.isoformat() if p.acknowledged_at else None,
        "reported_at": p.reported_at.isoformat() if p.reported_at else None,
        "report": p.report,
    }


def timeline(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every event of the case, oldest first; `actor_name` is the display name of the
    account behind `actor` ("duty:duty" → "值班员 李明"), or null for the clock, citizens,
    integrations and accounts since removed."""
    rows = list(
        session.scalars(select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.seq))
    )
    names = actor_names(session, {e.actor for e in rows if e.actor})
    return [
        {"seq": e.seq, "type": e.type, "at": e.occurred_at.isoformat(), "actor": e.actor,
         "actor_name": names.get(e.actor or ""), "data": e.payload}
        for e in rows
    ]  # fmt: skip


def actor_names(session: Session, actors: set[str]) -> dict[str, str]:
    """{"role:username": display name} for the actors that are accounts (one query)."""
    usernames = {a.partition(":")[2] for a in actors if ":" in a}
    if not usernames:
        return {}
    rows = session.execute(
        select(UserRow.role, UserRow.username, UserRow.display_name).where(
            UserRow.username.in_(usernames)
        )
    )
    found = {f"{role}:{username}": name or username for role, username, name in rows}
    return {a: found[a] for a in actors if a in found}


def reporter(row: CaseRow, principal: Principal) -> dict[str, Any]:
    name = f"{row.reporter_last_name}{row.reporter_first_name}".strip()
    full = principal.sees_personal_data
    return {
        "name": name if full else mask_name(name),
        "phone": row.reporter_phone if full else mask_phone(row.reporter_phone),
        "email": row.reporter_email if full else ("***" if row.reporter_email else ""),
        "masked": not full,
        "channel": row.channel,
        "submitted_by": row.submitted_by,
    }


def case_detail(core: Core, names: Directory, case_id: int, principal: Principal) -> dict[str, Any]:
    """The whole case file as this principal may see it."""
    from dispatch.service.photos import photo_urls

    with core.db.read() as session:
        row, parties = visible_row(session, case_id, principal.scope)
        photos = session.scalars(
            select(PhotoRow).where(PhotoRow.case_id == case_id).order_by(PhotoRow.id)
        ).all()
        merged = session.scalars(select(CaseRow.id).where(CaseRow.master_id == case_id)).all()
        detail: dict[str, Any] = {
            "case": summary(row, names),
            "reporter": reporter(row, principal),
            "timeline": timeline(session, case_id),
            "whistle": [party_wire(p, names) for p in parties],
            "photos": [photo_urls(p) for p in photos],
            "merged_ids": list(merged),
            "actions": [
                a
                for a in actions_for(principal, row.state, view_of(row, parties))
                # deciding an extension only when one is waiting for a decision
                if row.pending_extension_hours is not None
                or a not in ("approve_extension", "deny_extension")
            ],
            "result": row.result,
            "reopen_count": row.reopen_count,
            "pending_extension_hours": row.pending_extension_hours,
        }
    if principal.role in PLANNERS:
        detail["suggestion"] = {
            "register": suggest.registration(row),
            "dispatch": suggest.dispatch_plan(core, names, row)
            if Action.DISPATCH.value in detail["actions"]
            else None,
        }
        detail["duplicates"] = suggest.duplicates(core, names, row)
    detail["cameras"] = suggest.nearest_cameras(core, row)
    from dispatch.service.evidence import may_add_evidence  # it reads the case file's rules

    detail["may_add_evidence"] = may_add_evidence(principal)
    return detail


def photo_row(core: Core, photo_id: int, principal: Principal) -> PhotoRow:
    """A photo the principal may see (its case is in scope); NotFound otherwise."""
    with core.db.read() as session:
        photo = session.get(PhotoRow, photo_id)
        if photo is None or photo.case_id is None:
            raise NotFound(f"photo {photo_id} does not exist", field="id")
        try:
            visible_row(session, photo.case_id, principal.scope)
        except NotFound:
            raise NotFound(f"photo {photo_id} does not exist", field="id") from None
        session.expunge(photo)
        return photo
