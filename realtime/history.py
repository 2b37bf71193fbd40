"""Position history, appended in batches by one background thread.

Ingest puts rows on a queue and answers at once; the writer commits whatever has gathered
every `interval` seconds (0.5 s), or at once when `batch_rows` are waiting, as one bulk
insert: COPY on PostgreSQL, executemany on SQLite. A thousand phones then cost two
transactions a second instead of hundreds, which keeps SQLite's single writer free for cases.

The trade-off: a process that dies loses what was queued (at most about a second of fixes).
While the database is away the writer keeps the rows and retries with capped back-off; past
`max_queue` rows ingest is refused (HTTP 503) instead of growing without bound.
Retention is out of scope: rows stay until an operator deletes them.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, cast

from sqlalchemy import insert

from dispatch.adapters.db import Database
from dispatch.adapters.orm import PositionRow

log = logging.getLogger(__name__)

# (worker_id, fixed_at, received_at, lat, long, accuracy, speed, battery, flagged)
Row = tuple[int, datetime, datetime, float, float, float | None, float | None, float | None, bool]
COLUMNS = (
    "worker_id", "fixed_at", "received_at", "lat", "long", "accuracy", "speed", "battery",
    "flagged",
)  # fmt: skip
COPY_SQL = f"COPY positions ({', '.join(COLUMNS)}) FROM STDIN"


class HistoryFull(RuntimeError):
    """Too many rows wait for the database; the message says how many."""


class HistoryWriter:
    def __init__(
        self,
        db: Database,
        *,
        interval: float = 0.5,
        batch_rows: int = 5000,
        max_queue: int = 200_000,
    ) -> None:
        self._db = db
        self.interval, self.batch_rows, self.max_queue = interval, batch_rows, max_queue
        self._queue: list[Row] = []
        self._since = 0.0  # when the oldest queued row arrived (monotonic)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = self._hurry = False
        self.queued_total = 0  # rows ever put
        self.written_total = 0  # rows ever committed
        self.last_error = ""

    def put(self, rows: list[Row]) -> None:
        if not rows:
            return
        with self._cond:
            if len(self._queue) + len(rows) > self.max_queue:
                raise HistoryFull(
                    f"{len(self._queue)} position rows are waiting for the database "
                    f"(at most {self.max_queue}); try again shortly"
                )
            first = not self._queue
            if first:
                self._since = time.monotonic()
            self._queue.extend(rows)
            self.queued_total += len(rows)
            if first or len(self._queue) >= self.batch_rows:
                self._cond.notify_all()  # start the interval, or write a full batch now
            if self._thread is None:
                self._start()

    def start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._start()

    def _start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="position-history", daemon=True)
        self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row put so far is committed; False if that took too long."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self.queued_total
            self._hurry = True
            self._cond.notify_all()
            while self.written_total < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(left)
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end the thread."""
        with self._cond:
            thread, self._stopping = self._thread, True
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            self._thread = None

    def _take(self) -> list[Row] | None:
        """The next batch, once it is due; None when stopping with nothing left."""
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            while not (self._stopping or self._hurry or len(self._queue) >= self.batch_rows):
                left = self._since + self.interval - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            rows, self._queue, self._hurry = self._queue, [], False
            return rows

    def _run(self) -> None:
        delay = 0.5
        while (rows := self._take()) is not None:
            try:
                self.write(rows)
            except Exception as exc:  # the database is away: keep the rows, retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("position history not written (%d rows): %s", len(rows), exc)
                with self._cond:
                    self._queue[:0] = rows
                    if self._stopping and delay > 4:
                        return  # give up on shutdown rather than hang
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay, self.last_error = 0.5, ""
            with self._cond:
                self.written_total += len(rows)
                self._cond.notify_all()

    def write(self, rows: list[Row]) -> None:
        """One bulk insert in one transaction."""
        if self._db.dialect == "postgresql":
            raw = self._db.write_engine.raw_connection()
            try:
                cursor = cast(Any, raw.cursor())
                with cursor.copy(COPY_SQL) as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            finally:
                raw.close()
        else:
            with self._db.write_engine.begin() as conn:
                conn.execute(
                    insert(PositionRow), [dict(zip(COLUMNS, r, strict=True)) for r in rows]
                )

    def health(self) -> dict[str, object]:
        with self._cond:
            queued = len(self._queue)
        return {
            "ok": not self.last_error,
            "queued": queued,
            "written": self.written_total,
            **({"error": self.last_error} if self.last_error else {}),
        }
