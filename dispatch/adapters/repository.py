"""Repositories: map domain cases to rows and back; remember what they handed out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CaseRow, WhistlePartyRow
from dispatch.domain.lifecycle import Case, CaseState
from dispatch.domain.org import Level
from dispatch.domain.sla import Light, SlaClock, Urgency
from dispatch.domain.whistle import PartyRole, WhistleParty


class CaseNotFound(LookupError):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"case {case_id} does not exist")
        self.case_id = case_id


def to_party(row: WhistlePartyRow) -> WhistleParty:
    return WhistleParty(
        department=row.department, role=PartyRole(row.role), ack_deadline=row.ack_deadline,
        acknowledged_at=row.acknowledged_at, reported_at=row.reported_at, report=row.report,
        late=row.late,
    )  # fmt: skip


def write_parties(
    session: Session, case: Case, rows: list[WhistlePartyRow]
) -> list[WhistlePartyRow]:
    """Make the case's whistle rows match its parties (a new whistle replaces the old)."""
    by_dept = {r.department: r for r in rows}
    wanted = {p.department for p in case.whistle}
    for row in rows:
        if row.department not in wanted:
            session.delete(row)
    out = []
    for party in case.whistle:
        row = by_dept.get(party.department) or WhistlePartyRow(
            case_id=case.id, department=party.department
        )
        row.role, row.ack_deadline = party.role.value, party.ack_deadline
        row.acknowledged_at, row.reported_at = party.acknowledged_at, party.reported_at
        row.report, row.late = party.report, party.late
        if row.id is None:
            session.add(row)
        out.append(row)
    return out


def to_domain(row: CaseRow) -> Case:
    sla = None
    if row.sla_started_at is not None and row.sla_budget_s is not None:
        sla = SlaClock(
            started_at=row.sla_started_at,
            budget=timedelta(seconds=row.sla_budget_s),
            paused_total=timedelta(seconds=row.sla_paused_total_s or 0.0),
            paused_since=row.sla_paused_since,
        )
    return Case(
        id=row.id,
        channel=row.channel,
        service_code=row.service_code,
        description=row.description,
        lat=row.lat,
        long=row.long,
        reported_at=row.reported_at,
        state=CaseState(row.state),
        township_id=row.township_id,
        grid_id=row.grid_id,
        level=Level(row.level),
        category=row.category,
        urgency=Urgency(row.urgency) if row.urgency else None,
        sla=sla,
        light=Light(row.light),
        unit_id=row.unit_id,
        department=row.department,
        worker_id=row.worker_id,
        state_before_suspend=(
            CaseState(row.state_before_suspend) if row.state_before_suspend else None
        ),
        pending_extension_hours=row.pending_extension_hours,
        master_id=row.master_id,
        rating=row.rating,
        result=row.result,
        on_time=row.on_time,
        closed_at=row.closed_at,
        updated_at=row.updated_at,
        reopen_count=row.reopen_count,
    )


def write_row(row: CaseRow, case: Case, now: datetime) -> None:
    """Copy the aggregate's state onto its row (including the denormalised deadline)."""
    row.state = case.state.value
    row.township_id = case.township_id
    row.grid_id = case.grid_id
    row.level = case.level.value
    row.category = case.category
    row.urgency = case.urgency.value if case.urgency else None
    row.light = case.light.value
    row.unit_id, row.department, row.worker_id = case.unit_id, case.department, case.worker_id
    row.state_before_suspend = (
        case.state_before_suspend.value if case.state_before_suspend else None
    )
    row.pending_extension_hours = case.pending_extension_hours
    row.master_id = case.master_id
    row.rating = case.rating
    row.result = case.result
    row.on_time = case.on_time
    row.closed_at = case.closed_at
    row.updated_at = case.updated_at or now
    row.reopen_count = case.reopen_count
    row.light_due_at = case.next_due(now)
    if case.sla is None:
        row.sla_started_at = row.sla_budget_s = row.sla_paused_since = row.deadline = None
        row.sla_paused_total_s = 0.0
    else:
        row.sla_started_at = case.sla.started_at
        row.sla_budget_s = case.sla.budget.total_seconds()
        row.sla_paused_total_s = case.sla.paused_total.total_seconds()
        row.sla_paused_since = case.sla.paused_since
        row.deadline = None if case.sla.paused else case.sla.deadline(now)


class CaseRepository:
    """Loads cases for change; `seen` holds every aggregate handed out in this unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[int, tuple[Case, CaseRow]] = {}
        self.parties: dict[int, list[WhistlePartyRow]] = {}

    def add(self, row: CaseRow) -> CaseRow:
        self.session.add(row)
        self.session.flush()  # assigns the id the aggregate needs for its events
        return row

    def report(self, row: CaseRow, *, actor: str | None = None) -> Case:
        """Store a new case from its row and return the aggregate, with its CaseReported."""
        self.add(row)
        case = Case.report(
            case_id=row.id, channel=row.channel, service_code=row.service_code,
            description=row.description, lat=row.lat, long=row.long, now=row.reported_at,
            township_id=row.township_id, grid_id=row.grid_id, actor=actor,
        )  # fmt: skip
        return self.track(case, row)

    def track(self, case: Case, row: CaseRow) -> Case:
        self.seen[case.id] = (case, row)
        return case

    def _load_parties(self, cases: list[Case]) -> None:
        ids = [c.id for c in cases if c.id not in self.parties]
        if not ids:
            return
        rows = self.session.scalars(
            select(WhistlePartyRow)
            .where(WhistlePartyRow.case_id.in_(ids))
            .order_by(WhistlePartyRow.id)
        ).all()
        for case_id in ids:
            self.parties[case_id] = []
        for r in rows:
            self.parties[r.case_id].append(r)
        for case in cases:
            case.whistle = [to_party(r) for r in self.parties[case.id]]

    def write(self, case: Case, row: CaseRow, now: datetime) -> None:
        """Copy a tracked aggregate back onto its rows (the unit of work calls this)."""
        write_row(row, case, now)
        if case.whistle or self.parties.get(case.id):
            self.parties[case.id] = write_parties(self.session, case, self.parties.get(case.id, []))

    def get(self, case_id: int) -> Case:
        if case_id in self.seen:
            return self.seen[case_id][0]
        row = self.session.get(CaseRow, case_id, with_for_update=True)
        if row is None:
            raise CaseNotFound(case_id)
        case = self.track(to_domain(row), row)
        self._load_parties([case])
        return case

    def row(self, case_id: int) -> CaseRow:
        self.get(case_id)
        return self.seen[case_id][1]

    def due_for_tick(self, now: datetime, limit: int = 500) -> list[Case]:
        """Cases whose light is due to change by `now`, oldest due first."""
        rows = self.session.scalars(
            select(CaseRow)
            .where(CaseRow.light_due_at <= now)
            .order_by(CaseRow.light_due_at)
            .limit(limit)
            .with_for_update()
        ).all()
        cases = [self.track(to_domain(row), row) for row in rows]
        self._load_parties(cases)
        return cases
