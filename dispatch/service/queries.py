"""The read side: case summaries for pages, the public API, the socket and replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import Select, func, select

from dispatch.adapters.orm import CaseRow, EventCounterRow
from dispatch.domain.access import CaseScope
from dispatch.domain.categories import CATEGORY_BY_CODE
from dispatch.domain.lifecycle import OPEN, CaseState
from dispatch.service import wall_stats
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import NotFound, ValidationError
from dispatch.service.scope import kept_since, scoped

OPEN_STATES = sorted(s.value for s in OPEN)
CLOSED_STATES = sorted(s.value for s in CaseState if s not in OPEN)


def ticket(case_id: int, reported_at: datetime) -> str:
    """The number a citizen is given: date of report and case id, e.g. 261122-00042."""
    return f"{reported_at:%y%m%d}-{case_id:05d}"


def case_id_from_ticket(value: str) -> int:
    try:
        return int(value.strip().rsplit("-", 1)[-1])
    except ValueError:
        raise ValidationError(
            f"ticket {value!r} is not a ticket number like 261122-00042", field="ticket"
        ) from None


def open311_status(state: str) -> str:
    return "open" if state in OPEN_STATES else "closed"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary(row: CaseRow, names: Directory) -> dict[str, Any]:
    """A case as screens see it: no personal data, names resolved, times in ISO 8601."""
    category = CATEGORY_BY_CODE.get(row.category or row.service_code)
    return {
        **screen_case(row, names),
        "service_code": row.service_code,
        "category_name": category.name if category else row.service_code,
        "category_name_en": category.name_en if category else row.service_code,
        "description": row.description,
        "address": row.address,
        "grid": names.unit_name(row.grid_id),
        "media_url": row.media_url,
    }


# A case as a live screen keeps it (snapshot.cases; the browser's reducer keeps these fields
# of the summaries events carry, assets/js/reducer.js SCREEN_FIELDS): what the wall counts,
# colours and lists. No description, address or names the screen has already (categories
# from its strings, townships from stats.townships): 10,000 open cases were 11 MB of
# snapshot as summaries and are about a third of that as this (docs/performance.md).
SCREEN_FIELDS = (
    "id", "ticket", "state", "status", "category", "lat", "long", "channel", "township_id",
    "township", "grid_id", "level", "urgency", "light", "department", "worker_id",
    "deadline", "reported_at", "updated_at", "closed_at", "on_time", "rating", "master_id",
)  # fmt: skip
SCREEN_COLUMNS = (
    CaseRow.id, CaseRow.reported_at, CaseRow.state, CaseRow.category, CaseRow.service_code,
    CaseRow.lat, CaseRow.long, CaseRow.channel, CaseRow.township_id, CaseRow.grid_id,
    CaseRow.level, CaseRow.urgency, CaseRow.light, CaseRow.department, CaseRow.worker_id,
    CaseRow.deadline, CaseRow.updated_at, CaseRow.closed_at, CaseRow.on_time, CaseRow.rating,
    CaseRow.master_id,
)  # fmt: skip


def screen_case(row: Any, names: Directory) -> dict[str, Any]:
    """`summary` cut to SCREEN_FIELDS, from a row of SCREEN_COLUMNS (or a CaseRow): the
    snapshot reads only these columns, as plain rows, not ORM objects."""
    return {
        "id": row.id,
        "ticket": ticket(row.id, row.reported_at),
        "state": row.state,
        "status": open311_status(row.state),
        "category": row.category or row.service_code,
        "lat": row.lat,
        "long": row.long,
        "channel": row.channel,
        "township_id": row.township_id,
        "township": names.unit_name(row.township_id),
        "grid_id": row.grid_id,
        "level": row.level,
        "urgency": row.urgency,
        "light": row.light,
        "department": row.department,
        "worker_id": row.worker_id,
        "deadline": _iso(row.deadline),
        "reported_at": _iso(row.reported_at),
        "updated_at": _iso(row.updated_at),
        "closed_at": _iso(row.closed_at),
        "on_time": row.on_time,
        "rating": row.rating,
        "master_id": row.master_id,
    }


def get_case(core: Core, names: Directory, case_id: int) -> dict[str, Any]:
    with core.db.read() as session:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise NotFound(f"case {case_id} does not exist", field="id")
        return summary(row, names)


@dataclass(frozen=True)
class CaseFilter:
    ids: Sequence[int] = ()
    service_code: Sequence[str] = ()
    status: str | None = None  # "open" | "closed"
    states: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    township_id: int | None = None
    scope: CaseScope | None = None  # a principal's jurisdiction (None: the caller checked)
    limit: int = 1000
    offset: int = 0


def _filtered(f: CaseFilter) -> Select[CaseRow]:
    q = select(CaseRow)
    if f.ids:
        q = q.where(CaseRow.id.in_(list(f.ids)))
    if f.service_code:
        q = q.where(CaseRow.service_code.in_(list(f.service_code)))
    if f.status == "open":
        q = q.where(CaseRow.state.in_(OPEN_STATES))
    elif f.status == "closed":
        q = q.where(CaseRow.state.in_(CLOSED_STATES))
    if f.states:
        q = q.where(CaseRow.state.in_(list(f.states)))
    if f.start:
        q = q.where(CaseRow.reported_at >= f.start)
    if f.end:
        q = q.where(CaseRow.reported_at <= f.end)
    return scoped(q, f.township_id, f.scope)


def list_cases(core: Core, names: Directory, f: CaseFilter) -> list[dict[str, Any]]:
    q = _filtered(f).order_by(CaseRow.reported_at.desc(), CaseRow.id.desc())
    with core.db.read() as session:
        rows = session.scalars(q.limit(f.limit).offset(f.offset)).all()
        return [summary(r, names) for r in rows]


def head_seq(core: Core) -> int:
    with core.db.read() as session:
        return int(session.scalar(select(EventCounterRow.last_seq)) or 0)


def local_midnight(core: Core, now: datetime) -> datetime:
    local = now.astimezone(core.timezone)
    return datetime.combine(local.date(), time(0), tzinfo=core.timezone)


def snapshot(
    core: Core,
    names: Directory,
    *,
    township_id: int | None = None,
    scope: CaseScope | None = None,
    compact: bool = False,
) -> dict[str, Any]:
    """What a screen starts from: the head seq, every open case and today's others (as
    `screen_case`), and every grid worker with its latest position and presence.

    `compact`: the cases as `case_fields` (SCREEN_FIELDS) and `case_rows` (one list of values
    a case, in that order) instead of `cases`: the field names are most of a screen case, and
    10,000 of them are half the JSON to write, send and parse.

    The head is read first, in the same read transaction: events after it are replayed on
    top, and applying an event twice is harmless, so nothing falls between the two. A
    county-wide or township screen's cases come from core.screen_cases (kept in memory and
    brought up to date from the log); a department's or a worker's from the database.
    """
    now = core.clock.now()
    midnight = local_midnight(core, now)
    # The cases in memory serve a screen whose scope is at most one township.
    of_scope = scope.township_id if scope is not None else None
    townships = {t for t in (township_id, of_scope) if t is not None}
    by_township = scope is None or (scope.department is None and scope.worker_id is None)
    if core.screen_cases is not None and by_township and len(townships) <= 1:
        township = next(iter(townships), None)
        head, cases = core.screen_cases.current(core, names, midnight, township)
    else:
        head, cases = read_screen_cases(core, names, midnight, township_id=township_id,
                                        scope=scope)  # fmt: skip
    shape: dict[str, Any] = {"cases": cases}
    if compact:
        shape = {
            "case_fields": list(SCREEN_FIELDS),
            "case_rows": [[c[k] for k in SCREEN_FIELDS] for c in cases],
        }
    return {
        "seq": head,
        "server_time": now.isoformat(),
        "day_start": midnight.isoformat(),
        "township_id": township_id,
        **shape,
        # Positions are state, not events: screens start from these and apply frames on top.
        "workers": (
            core.positions.workers(township_id=township_id, strict=False)
            if core.positions is not None and (scope is None or scope.worker_id is None)
            else []
        ),
        "stats": wall_stats.stats(core, names, now, township_id=township_id, scope=scope),
    }


def read_screen_cases(
    core: Core,
    names: Directory,
    midnight: datetime,
    *,
    township_id: int | None = None,
    scope: CaseScope | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(head seq, the cases a screen of this scope keeps, by id), read from the database."""
    with core.db.read() as session:
        head = int(session.scalar(select(EventCounterRow.last_seq)) or 0)
        q = scoped(select(*SCREEN_COLUMNS).where(kept_since(midnight)), township_id, scope)
        rows = session.execute(q.order_by(CaseRow.id)).all()
        return head, [screen_case(r, names) for r in rows]


def kpis(core: Core, *, township_id: int | None = None) -> dict[str, int]:
    """The wall's KPI strip computed on the server (the browser derives the same numbers)."""
    now = core.clock.now()
    midnight = local_midnight(core, now)
    with core.db.read() as session:

        def count(*conds: Any) -> int:
            q = select(func.count()).select_from(CaseRow).where(*conds)
            if township_id is not None:
                q = q.where(CaseRow.township_id == township_id)
            return int(session.scalar(q) or 0)

        return {
            "reported_today": count(CaseRow.reported_at >= midnight),
            "open": count(CaseRow.state.in_(OPEN_STATES)),
            "closed_today": count(CaseRow.closed_at >= midnight),
            "overdue": count(CaseRow.state.in_(OPEN_STATES), CaseRow.light == "red"),
            "yellow": count(CaseRow.state.in_(OPEN_STATES), CaseRow.light == "yellow"),
        }
