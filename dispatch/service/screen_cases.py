"""The cases screens start from, kept in memory and brought up to date from the event log.

A wall's snapshot holds every open case of the county and every case that moved today:
10,000 or more in a city. Reading them as rows and turning them into screen cases is most of
what a snapshot costs the server (0.45 s for 10,000 on an idle machine, and 1-2 s in a web
process busy taking position fixes: docs/performance.md, the wall). Every change to a case
writes an event in the same transaction, so the cases as of seq S, plus a fresh read of the
few cases the events after S touched, are the cases as of the head: this module keeps the
former and reads only the latter.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dispatch.adapters.orm import CaseRow, EventCounterRow, EventRow
from dispatch.service.queries import SCREEN_COLUMNS, screen_case
from dispatch.service.scope import kept_since

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dispatch.service.core import Core
    from dispatch.service.directory import Directory

# Further behind than this, reading every kept case again is cheaper than the tail.
MAX_TAIL = 5000


class ScreenCases:
    """Every case a county-wide screen keeps (open, or moved since a local midnight), as
    `screen_case` dicts, as of `seq`; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seq = -1  # nothing read yet
        self.cases: dict[int, dict[str, Any]] = {}
        self.rebuilds = 0  # how many times every kept case was read (for tests)
        self.tails = 0  # how many times only the touched ones were

    def current(
        self, core: Core, names: Directory, midnight: datetime, township_id: int | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """(seq, the cases a screen keeps at that seq, of one township or all, by id)."""
        since = midnight.astimezone(UTC).isoformat()
        with self._lock, core.db.read() as session:
            head = int(session.scalar(select(EventCounterRow.last_seq)) or 0)
            if self.seq < 0 or head - self.seq > MAX_TAIL or head < self.seq:
                self._rebuild(session, names, kept_since(midnight))
            elif head > self.seq:
                self._read_touched(session, names, head)
            self.seq = head
            out = []
            for case_id in sorted(self.cases):
                c = self.cases[case_id]
                if not _kept(c, since):
                    del self.cases[case_id]  # closed on an earlier day: an event brings it back
                elif township_id is None or c["township_id"] == township_id:
                    out.append(c)
            return head, out

    def _rebuild(self, session: Session, names: Directory, kept: Any) -> None:
        rows = session.execute(select(*SCREEN_COLUMNS).where(kept)).all()
        self.cases = {r.id: screen_case(r, names) for r in rows}
        self.rebuilds += 1

    def _read_touched(self, session: Session, names: Directory, head: int) -> None:
        touched = select(EventRow.case_id).where(
            EventRow.seq > self.seq, EventRow.seq <= head, EventRow.case_id.is_not(None)
        )
        for r in session.execute(select(*SCREEN_COLUMNS).where(CaseRow.id.in_(touched))):
            self.cases[r.id] = screen_case(r, names)
        self.tails += 1


def _kept(case: dict[str, Any], since: str) -> bool:
    """Open, or reported or changed since `since` (UTC ISO 8601: such times compare as text,
    a missing fraction sorting before any)."""
    return (
        case["status"] == "open"
        or (case["updated_at"] or "") >= since
        or (case["reported_at"] or "") >= since
    )
