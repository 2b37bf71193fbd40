"""Position frames: what moved, coalesced to at most one frame per second per room.

Each web process keeps the workers that moved or changed presence since its last frame
(from its own ingest and, through the feed, from every other process) and sends one
`positions` frame to room `all` and to each worker's `township:<id>`, holding only them.
A screen with 2,500 workers on it then gets at most one message a second, not one per fix.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from dispatch.adapters.clock import Clock
from dispatch.adapters.orm import GridWorkerRow
from dispatch.service.directory import Directory
from realtime.fanout import ALL, Emit, township_room
from realtime.fixes import Latest
from realtime.presence import epoch_ms, presence_at

log = logging.getLogger(__name__)


def iso_ms(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="milliseconds")


def worker_item(worker: GridWorkerRow, latest: Latest | None, now_ms: int) -> dict[str, Any]:
    """A worker as screens see it; position fields are null when it never sent a fix."""
    return {
        "id": worker.id,
        "name": worker.name,
        "grid_id": worker.grid_id,
        "township_id": worker.township_id,
        **moving_item(worker.id, latest, now_ms),
    }


def moving_item(worker_id: int, latest: Latest | None, now_ms: int) -> dict[str, Any]:
    """What a fix changes of a worker: a frame carries only this. Name, grid and township come
    with the snapshot and do not move; leaving them out takes a third off a frame of 2,500
    workers, which every screen parses every second."""
    return {
        "id": worker_id,
        "lat": latest.lat if latest else None,
        "long": latest.long if latest else None,
        "at": iso_ms(latest.at_ms) if latest else None,
        "presence": presence_at(latest, now_ms).value,
        "speed": latest.speed if latest else None,
        "battery": latest.battery if latest else None,
    }


class PositionFrames:
    def __init__(
        self,
        names: Directory,
        clock: Clock,
        emit: Emit,
        *,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._names, self._clock, self._emit = names, clock, emit
        self.interval = interval
        self._monotonic = monotonic
        self._pending: dict[int, Latest] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_sent = 0

    def mark(self, records: Iterable[Latest]) -> None:
        """Feed listener: these workers moved or changed presence."""
        with self._lock:
            for record in records:
                known = self._pending.get(record.worker_id)
                if known is None or record.at_ms >= known.at_ms:
                    self._pending[record.worker_id] = record
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="position-frames", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        last = -self.interval
        while not self._stop.is_set():
            self._wake.wait()
            wait = last + self.interval - self._monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            self._wake.clear()  # before taking: a mark after this wakes the next round
            try:
                if self.flush():
                    last = self._monotonic()
            except Exception:  # a screen's socket failing must not end the frames
                log.exception("position frame failed")

    def flush(self) -> int:
        """Send one frame per room with what is pending; returns how many workers."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        now = self._clock.now()
        now_ms = epoch_ms(now)
        rooms: dict[str, list[dict[str, Any]]] = {ALL: []}
        for worker_id, record in sorted(pending.items()):
            worker = self._names.workers.get(worker_id)
            if worker is None:  # removed from the directory since
                continue
            item = moving_item(worker_id, record, now_ms)
            rooms[ALL].append(item)
            if worker.township_id is not None:
                rooms.setdefault(township_room(worker.township_id), []).append(item)
        t = now.isoformat()
        for room, items in rooms.items():
            if items:
                self._emit("positions", {"t": t, "workers": items}, room)
        self.frames_sent += 1
        return len(rooms[ALL])
