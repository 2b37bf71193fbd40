"""What the wall's charts start from: thirty days of history, and the whistles it counts down.

The snapshot carries these under `stats`; the browser reducer (assets/js/reducer.js) keeps
them current. Today is never in `history`: the browser derives it from the snapshot's cases,
which hold every case reported, changed or closed today, and folds it into `history` at
midnight. So the rows here only change when an older case changes, and the reducer applies
those changes from the events (see `applyHistoryDelta` there).

Each row is one local day, oldest first, the WINDOW_DAYS - 1 days before today:
- by the day a case was reported (the day's intake, a cohort): `reported` per channel,
  `categories` per category, `grids` per grid (only the HOT_DAYS - 1 latest rows: the
  hotspot layer), and `rated` = [cases with a rating, of which satisfied (3 or more)];
- by the day a case was closed: `closed` per township = [closed, of which on time].
Counts of zero are left out. Keys are strings (JSON objects).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from dispatch.adapters.orm import CaseRow, WhistlePartyRow
from dispatch.domain.access import CaseScope
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.scope import kept_since, scoped

WINDOW_DAYS = 30  # the charts' window, today included
HOT_DAYS = 7  # the hotspot layer's window, today included
SATISFIED = 3  # a rating below this reopens the case (dispatch/domain/lifecycle.py review)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _empty_row(day: date, hot: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "day": day.isoformat(),
        "reported": {},
        "categories": {},
        "rated": [0, 0],
        "closed": {},
    }
    if hot:
        row["grids"] = {}
    return row


def _bump(counts: dict[str, int], key: object, n: int = 1) -> None:
    if key is not None:
        counts[str(key)] = counts.get(str(key), 0) + int(n)


def history(
    core: Core,
    now: datetime,
    *,
    township_id: int | None = None,
    scope: CaseScope | None = None,
    by_database: bool = True,
) -> list[dict[str, Any]]:
    """The WINDOW_DAYS - 1 days before today, oldest first (see the module docstring).
    `by_database`: let the database count by day when it can (False: always here)."""
    today = now.astimezone(core.timezone).date()
    days = [today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, 0, -1)]
    rows = {d: _empty_row(d, hot=(today - d).days < HOT_DAYS) for d in days}
    start = datetime.combine(days[0], time(0), tzinfo=core.timezone)
    midnight = datetime.combine(today, time(0), tzinfo=core.timezone)
    offset = now.astimezone(core.timezone).utcoffset()
    if by_database and offset is not None and start.utcoffset() == offset:
        # One offset over the whole window (no daylight saving in it, as in China): the
        # database counts by local day, and only the counts come back, not every case.
        minutes = int(offset.total_seconds() // 60)
        _count_by_day(core, rows, start, midnight, minutes, township_id, scope)
    else:
        _count_in_python(core, rows, start, midnight, township_id, scope)
    return [rows[d] for d in days]


def _count_in_python(
    core: Core,
    rows: dict[date, dict[str, Any]],
    start: datetime,
    midnight: datetime,
    township_id: int | None,
    scope: CaseScope | None,
) -> None:
    """`history`'s counts from every case of the window, by its local day here."""
    intake = select(
        CaseRow.reported_at, CaseRow.channel, CaseRow.category, CaseRow.service_code,
        CaseRow.grid_id, CaseRow.rating,
    ).where(CaseRow.reported_at >= start, CaseRow.reported_at < midnight)  # fmt: skip
    closures = select(CaseRow.closed_at, CaseRow.township_id, CaseRow.on_time).where(
        CaseRow.closed_at >= start, CaseRow.closed_at < midnight
    )
    with core.db.read() as session:
        for reported_at, channel, category, service_code, grid_id, rating in session.execute(
            scoped(intake, township_id, scope)
        ):
            row = rows[reported_at.astimezone(core.timezone).date()]
            _bump(row["reported"], channel)
            _bump(row["categories"], category or service_code)
            if "grids" in row:
                _bump(row["grids"], grid_id)
            if rating is not None:
                row["rated"][0] += 1
                row["rated"][1] += int(rating >= SATISFIED)
        for closed_at, township, on_time in session.execute(scoped(closures, township_id, scope)):
            if township is None or closed_at is None:
                continue
            closed = rows[closed_at.astimezone(core.timezone).date()]["closed"]
            pair = closed.setdefault(str(township), [0, 0])
            pair[0] += 1
            pair[1] += int(bool(on_time))


def _local_day(core: Core, column: Any, minutes: int) -> ColumnElement[str]:
    """A UTC time column's local date as text ('2026-11-22'), `minutes` east of UTC."""
    if core.db.dialect == "sqlite":  # naive UTC text
        return func.date(column, f"{minutes:+d} minutes")
    shifted = func.timezone("UTC", column) + literal(timedelta(minutes=minutes))
    return func.to_char(shifted, "YYYY-MM-DD")


def _count_by_day(
    core: Core,
    rows: dict[date, dict[str, Any]],
    start: datetime,
    midnight: datetime,
    minutes: int,
    township_id: int | None,
    scope: CaseScope | None,
) -> None:
    """`history`'s counts, grouped by local day in the database."""
    reported_day = _local_day(core, CaseRow.reported_at, minutes)
    category = func.coalesce(CaseRow.category, CaseRow.service_code)
    satisfied = func.sum(case((CaseRow.rating >= SATISFIED, 1), else_=0))
    in_window = (CaseRow.reported_at >= start, CaseRow.reported_at < midnight)
    counts = (func.count(), func.count(CaseRow.rating), satisfied)
    intake = (
        select(reported_day, CaseRow.channel, category, *counts)
        .where(*in_window)
        .group_by(reported_day, CaseRow.channel, category)
    )
    hot_start = midnight - timedelta(days=HOT_DAYS - 1)
    grids = (
        select(reported_day, CaseRow.grid_id, func.count())
        .where(CaseRow.reported_at >= max(start, hot_start), CaseRow.reported_at < midnight)
        .where(CaseRow.grid_id.is_not(None))
        .group_by(reported_day, CaseRow.grid_id)
    )
    closed_day = _local_day(core, CaseRow.closed_at, minutes)
    on_time = func.sum(case((CaseRow.on_time.is_(True), 1), else_=0))
    closures = (
        select(closed_day, CaseRow.township_id, func.count(), on_time)
        .where(CaseRow.closed_at >= start, CaseRow.closed_at < midnight)
        .where(CaseRow.township_id.is_not(None))
        .group_by(closed_day, CaseRow.township_id)
    )
    by_day = {d.isoformat(): row for d, row in rows.items()}
    with core.db.read() as session:
        for day, channel, cat, n, rated, happy in session.execute(
            scoped(intake, township_id, scope)
        ):
            row = by_day[day]
            _bump(row["reported"], channel, n)
            _bump(row["categories"], cat, n)
            row["rated"][0] += int(rated)
            row["rated"][1] += int(happy or 0)
        for day, grid, n in session.execute(scoped(grids, township_id, scope)):
            if "grids" in by_day[day]:
                _bump(by_day[day]["grids"], grid, n)
        for day, township, n, in_time in session.execute(scoped(closures, township_id, scope)):
            pair = by_day[day]["closed"].setdefault(str(township), [0, 0])
            pair[0] += int(n)
            pair[1] += int(in_time or 0)


def whistles(
    core: Core,
    since: datetime,
    *,
    township_id: int | None = None,
    scope: CaseScope | None = None,
) -> list[dict[str, Any]]:
    """Every called department of the snapshot's cases (open, or touched since `since`),
    by case and in the order they were called (the lead first)."""
    party = WhistlePartyRow
    columns = (party.case_id, party.department, party.role, party.ack_deadline,
               party.acknowledged_at, party.reported_at, party.late)  # fmt: skip
    q = (
        select(*columns)
        .join(CaseRow, CaseRow.id == WhistlePartyRow.case_id)
        .where(kept_since(since))
        .order_by(WhistlePartyRow.case_id, WhistlePartyRow.id)
    )
    with core.db.read() as session:
        return [
            {
                "case_id": p.case_id,
                "department": p.department,
                "role": p.role,
                "ack_deadline": _iso(p.ack_deadline),
                "acknowledged_at": _iso(p.acknowledged_at),
                "reported_at": _iso(p.reported_at),
                "late": bool(p.late),
            }
            for p in session.execute(scoped(q, township_id, scope))
        ]


def stats(
    core: Core,
    names: Directory,
    now: datetime,
    *,
    township_id: int | None = None,
    scope: CaseScope | None = None,
) -> dict[str, Any] | None:
    """The snapshot's `stats`; None for a grid worker's phone, which draws no charts.

    Read in transactions of their own, after the snapshot's head: a change committed in
    between is counted here and replayed on top. The reducer's updates are idempotent for
    whistles; for history they are not, which costs at most one count until the next
    snapshot (the wall takes one a day)."""
    if scope is not None and scope.worker_id is not None:
        return None
    midnight = datetime.combine(now.astimezone(core.timezone).date(), time(0), core.timezone)
    townships = {
        str(u.id): u.name
        for u in names.townships()
        if township_id is None or u.id == township_id
        if scope is None or scope.township_id is None or u.id == scope.township_id
    }
    return {
        "window_days": WINDOW_DAYS,
        "hot_days": HOT_DAYS,
        "townships": townships,
        "history": history(core, now, township_id=township_id, scope=scope),
        "whistles": whistles(core, midnight, township_id=township_id, scope=scope),
        # Calls in progress (the KPI "calls" and the incoming-call banner); the reducer
        # follows the call.* events from here, idempotently (by call id).
        "calls": calls_in_progress(core, township_id=township_id, scope=scope),
    }


def calls_in_progress(
    core: Core, *, township_id: int | None, scope: CaseScope | None
) -> list[dict[str, Any]]:
    from dispatch.service.calls import wall_calls

    return wall_calls(core, township_id=township_id, scope=scope)
