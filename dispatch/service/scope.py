"""A principal's jurisdiction as SQL: the read side's form of `CaseScope.allows`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from dispatch.adapters.orm import CaseRow, WhistlePartyRow
from dispatch.domain.access import CaseScope, CaseView


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


def case_view(row: CaseRow, whistle_departments: frozenset[str] = frozenset()) -> CaseView:
    return CaseView(
        township_id=row.township_id, department=row.department, worker_id=row.worker_id,
        whistle_departments=whistle_departments,
    )  # fmt: skip
