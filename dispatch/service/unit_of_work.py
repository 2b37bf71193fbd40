"""The unit of work: one transaction, the domain events stored in it, published after commit.

`seq` is allocated by incrementing a single counter row just before commit. The row lock it
takes is held until commit, so committing writers are ordered by it: seq order is commit
order and a rolled-back transaction gives its numbers back (gap-free). A reader that has
seen seq N has therefore seen every event up to N, which is what replay relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from dispatch.adapters.db import Database
from dispatch.adapters.orm import EventCounterRow, EventRow
from dispatch.adapters.repository import CaseRepository
from dispatch.domain.access import CaseView, audience
from dispatch.domain.events import Event, to_payload


@dataclass(frozen=True)
class StoredEvent:
    """An event as it sits in the log: what screens, replay and the bus see."""

    seq: int
    type: str
    case_id: int | None
    township_id: int | None
    actor: str | None
    at: datetime
    payload: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "case_id": self.case_id,
            "township_id": self.township_id,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "data": self.payload,
        }

    @classmethod
    def from_row(cls, row: EventRow) -> StoredEvent:
        return cls(
            row.seq, row.type, row.case_id, row.township_id, row.actor, row.occurred_at,
            row.payload,
        )  # fmt: skip


AfterCommit = Callable[[Sequence[StoredEvent]], None]


class UnitOfWork:
    """`with uow:` opens a write transaction; `commit()` stores events and publishes them."""

    def __init__(self, db: Database, *, after_commit: AfterCommit | None = None) -> None:
        self._db = db
        self._after_commit = after_commit
        self.session: Session
        self.cases: CaseRepository
        self.committed: list[StoredEvent] = []

    def __enter__(self) -> UnitOfWork:
        if self._db.write_lock is not None:
            self._db.write_lock.acquire()
        self.session = self._db.writer()
        self.cases = CaseRepository(self.session)
        self._loose: list[tuple[Event, int | None, str]] = []
        self.committed = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
            self.session.close()
        finally:
            if self._db.write_lock is not None:
                self._db.write_lock.release()

    def record(self, events: Sequence[Event], *, township_id: int | None = None) -> None:
        """Events that belong to no loaded case (for example, about a worker)."""
        self._loose.extend((e, township_id, "") for e in events)

    def _collect(self, now: datetime) -> list[tuple[Event, int | None, str]]:
        out: list[tuple[Event, int | None, str]] = []
        for case, row in self.cases.seen.values():
            # Who may see these events: whoever could see the case before them or after, so
            # a worker also hears that a task was taken back from it.
            before = CaseView(
                township_id=row.township_id, department=row.department,
                worker_id=row.worker_id,
                whistle_departments=frozenset(
                    r.department for r in self.cases.parties.get(case.id, [])
                ),
            )  # fmt: skip
            self.cases.write(case, row, now)
            if not case.events:
                continue
            after = CaseView(
                township_id=case.township_id, department=case.department,
                worker_id=case.worker_id,
                whistle_departments=frozenset(p.department for p in case.whistle),
            )  # fmt: skip
            rooms = sorted(set(audience(before)) | set(audience(after)))
            tags = f" {' '.join(rooms)} " if rooms else ""
            out.extend((e, case.township_id, tags) for e in case.events)
            case.events.clear()
        out.extend(self._loose)
        self._loose = []
        return out

    def commit(self, now: datetime) -> list[StoredEvent]:
        events = self._collect(now)
        stored: list[StoredEvent] = []
        if events:
            self.session.flush()
            last = self.session.execute(
                update(EventCounterRow)
                .where(EventCounterRow.id == 1)
                .values(last_seq=EventCounterRow.last_seq + len(events))
                .returning(EventCounterRow.last_seq)
            ).scalar_one()
            first = last - len(events) + 1
            rows = [
                EventRow(
                    seq=first + i, type=e.type, case_id=e.case_id, township_id=township,
                    actor=e.actor, occurred_at=e.at, payload=to_payload(e), audience=tags,
                )
                for i, (e, township, tags) in enumerate(events)
            ]  # fmt: skip
            self.session.add_all(rows)
            stored = [StoredEvent.from_row(r) for r in rows]
        self.session.commit()
        self.committed.extend(stored)
        if stored and self._after_commit is not None:
            self._after_commit(stored)
        return stored

    def rollback(self) -> None:
        self.session.rollback()
