"""The event log as screens read it: replay after a `seq`, scoped to what a screen may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow, EventCounterRow, EventRow
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.queries import summary


def events_after(
    core: Core,
    names: Directory,
    after: int,
    *,
    limit: int,
    township_id: int | None = None,
    audience: str | None = None,
    until: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Events with seq > after (and <= until), in order, each with its case's summary.

    Returns the events and the seq they cover up to. At most `limit` events are read; the
    covered seq then stops at the last one returned.
    """
    with core.db.read() as session:
        head = int(session.scalar(select(EventCounterRow.last_seq)) or 0)
        upto = head if until is None else min(until, head)
        q = (
            select(EventRow, CaseRow)
            .outerjoin(CaseRow, CaseRow.id == EventRow.case_id)
            .where(EventRow.seq > after, EventRow.seq <= upto)
            .order_by(EventRow.seq)
        )
        q = _scoped(q, township_id, audience)
        pairs = session.execute(q.limit(limit + 1)).all()
        if len(pairs) > limit:
            pairs = pairs[:limit]
            upto = pairs[-1][0].seq
        out = []
        for event, case in pairs:
            wire = _event_wire(event)
            wire["case"] = summary(case, names) if case is not None else None
            out.append(wire)
    return out, upto


def _scoped(q: Any, township_id: int | None, audience: str | None) -> Any:
    """Only the events a room may see: a township by its column, a department or a grid
    worker by the event's audience tags (" department:env worker:17 ")."""
    if township_id is not None:
        q = q.where(EventRow.township_id == township_id)
    if audience is not None:
        q = q.where(EventRow.audience.contains(f" {audience} ", autoescape=True))
    return q


def _event_wire(row: EventRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "type": row.type,
        "case_id": row.case_id,
        "township_id": row.township_id,
        "actor": row.actor,
        "at": row.occurred_at.isoformat(),
        "data": row.payload,
        "audience": row.audience.split(),
    }


def count_events_after(
    core: Core, after: int, *, township_id: int | None = None, audience: str | None = None
) -> int:
    with core.db.read() as session:
        q = select(func.count()).select_from(EventRow).where(EventRow.seq > after)
        return int(session.scalar(_scoped(q, township_id, audience)) or 0)
