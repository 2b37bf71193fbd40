"""A principal's jurisdiction as SQL: the read side's form of `CaseScope.allows`; and the
cases a screen of it keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select, true

from dispatch.adapters.orm import CaseRow, WhistlePartyRow
from dispatch.domain.access import CaseScope, CaseView
from dispatch.domain.lifecycle import OPEN

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
_OPEN_STATES = sorted(s.value for s in OPEN)


def scope_clause(scope: CaseScope) -> ColumnElement[Any]:
    """A WHERE clause on CaseRow that keeps exactly the cases `scope` allows."""
    if scope.worker_id is not None:
        return CaseRow.worker_id == scope.worker_id
    if scope.department is not None:
        called = select(WhistlePartyRow.case_id).where(
            WhistlePartyRow.department == scope.department
        )
        return or_(CaseRow.department == scope.department, CaseRow.id.in_(called))
    if scope.township_id is not None:
        return CaseRow.township_id == scope.township_id
    return true()


def scoped(q: Q, township_id: int | None, scope: CaseScope | None) -> Q:
    """`q` (on CaseRow) kept to one township, when given, and to `scope`, when given."""
    if township_id is not None:
        q = q.where(CaseRow.township_id == township_id)
    if scope is not None and not scope.everything:
        q = q.where(scope_clause(scope))
    return q


def kept_since(since: datetime) -> ColumnElement[bool]:
    """The cases a screen keeps: open ones, and others reported or changed since `since`
    (its local midnight)."""
    return or_(
        CaseRow.state.in_(_OPEN_STATES),
        CaseRow.updated_at >= since,
        CaseRow.reported_at >= since,
    )


def case_view(row: CaseRow, whistle_departments: frozenset[str] = frozenset()) -> CaseView:
    return CaseView(
        township_id=row.township_id, department=row.department, worker_id=row.worker_id,
        whistle_departments=whistle_departments,
    )  # fmt: skip
