"""Fan-out: each web process tails the event log and emits batches to its own screens.

Every batch says which range of the global log it covers (`from` < seq <= `to`) and holds
only the events the room may see. A screen whose last applied `seq` is below a batch's
`from` has missed something and asks for a catch-up; otherwise it applies the events it has
not yet seen. That makes delivery exactly-once and in order per screen, whatever process
committed the event, whether the doorbell rang or the poll found it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.queries import head_seq
from realtime.log import events_after

log = logging.getLogger(__name__)

ALL = "all"
Emit = Callable[[str, dict[str, Any], str], None]  # (event name, data, room)


def township_room(township_id: int) -> str:
    return f"township:{township_id}"


def rooms_for(event: dict[str, Any]) -> list[str]:
    """Every room allowed to see this event: everything, its township, and the departments
    and grid worker of its case (the audience written with the event)."""
    rooms = [ALL]
    if event.get("township_id") is not None:
        rooms.append(township_room(int(event["township_id"])))
    rooms += [r for r in event.get("audience", ()) if not r.startswith("township:")]
    return rooms


class Fanout:
    def __init__(
        self,
        core: Core,
        names: Directory,
        emit: Emit,
        *,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 15.0,
        batch_limit: int = 1000,
        coalesce: float = 0.02,
    ) -> None:
        self._core, self._names, self._emit = core, names, emit
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.batch_limit = batch_limit
        self.coalesce = coalesce
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cursor = 0
        self.room_to: dict[str, int] = {}
        # Rooms some screen of this process has joined: each hears the heartbeat, even one
        # that no event has reached yet (a quiet township, a worker without tasks).
        self.watched: set[str] = {ALL}
        self.last_loop = 0.0
        self.last_error = ""

    def ring(self, seq: int) -> None:
        """Doorbell listener: the log has grown to `seq`."""
        if seq > self.cursor:
            self._wake.set()

    def start(self) -> None:
        self.cursor = head_seq(self._core)
        self.last_loop = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="fanout", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self._stop.is_set():
            if self._wake.wait(self.poll_interval):
                # Let commits that land together be read together: one query and one
                # emit per room for a burst instead of one per commit.
                self._stop.wait(self.coalesce)
            self._wake.clear()
            try:
                while self.pump() >= self.batch_limit:
                    pass  # far behind: keep reading without waiting
                self.last_error = ""
            except Exception as exc:  # the database may be briefly away; keep going
                self.last_error = str(exc)
                log.exception("fan-out failed; retrying")
            self.last_loop = time.monotonic()
            if self.last_loop - last_beat >= self.heartbeat_interval:
                self.heartbeat()
                last_beat = self.last_loop

    def pump(self) -> int:
        """Read what is new in the log and emit it; returns how many events were read."""
        events, upto = events_after(self._core, self._names, self.cursor, limit=self.batch_limit)
        if upto <= self.cursor:
            return 0
        groups: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            for room in rooms_for(event):
                groups.setdefault(room, []).append(event)
        for room, batch in groups.items():
            start = self.room_to.get(room, self.cursor)
            self._emit("events", {"from": start, "to": upto, "events": batch}, room)
            self.room_to[room] = upto
        self.cursor = upto
        return len(events)

    def watch(self, room: str) -> None:
        """A screen joined `room` (the /live namespace tells us)."""
        self.watched.add(room)

    def heartbeat(self) -> None:
        now = datetime.now(UTC).isoformat()
        for room in set(self.room_to) | self.watched:
            # A room no batch has reached from this process has nothing to catch up on: 0.
            seq = self.room_to.get(room, self.cursor if room == ALL else 0)
            self._emit("heartbeat", {"seq": seq, "time": now}, room)

    def health(self) -> dict[str, object]:
        stale = self._thread is not None and time.monotonic() - self.last_loop > max(
            10.0, 5 * self.poll_interval
        )
        return {
            "ok": self._thread is not None and self._thread.is_alive() and not stale,
            "cursor": self.cursor,
            **({"error": self.last_error} if self.last_error else {}),
        }
