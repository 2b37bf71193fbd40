"""Presence of grid workers (online / idle / offline): a pure function of two times. No I/O.

offline: no fix for 2 minutes (phone off, no signal, app closed);
idle:    fixes arrive but the worker has not moved more than 20 m for 5 minutes;
online:  otherwise.
Nothing is stored: every process computes presence from the latest fix when it needs it, and
the tracker only finds the moments when time alone changed it, so screens can be told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from realtime.fixes import Latest

OFFLINE_AFTER_MS = 2 * 60_000
IDLE_AFTER_MS = 5 * 60_000


class Presence(StrEnum):
    ONLINE = "online"
    IDLE = "idle"
    OFFLINE = "offline"


def epoch_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()} given; use UTC-aware times")
    return round(when.timestamp() * 1000)


def presence_of(last_fix_ms: int | None, moved_ms: int | None, now_ms: int) -> Presence:
    if last_fix_ms is None or now_ms - last_fix_ms > OFFLINE_AFTER_MS:
        return Presence.OFFLINE
    if moved_ms is None or now_ms - moved_ms > IDLE_AFTER_MS:
        return Presence.IDLE
    return Presence.ONLINE


def presence_at(latest: Latest | None, now_ms: int) -> Presence:
    if latest is None:
        return Presence.OFFLINE
    return presence_of(latest.at_ms, latest.moved_ms, now_ms)


@dataclass(frozen=True)
class Transition:
    worker_id: int
    before: Presence | None  # None: the first time this tracker sees the worker
    after: Presence


class PresenceTracker:
    """Remembers the presence last reported per worker and reports what changed since."""

    def __init__(self) -> None:
        self._known: dict[int, Presence] = {}

    def sweep(self, latest: Iterable[Latest], now: datetime) -> list[Transition]:
        """Every worker whose presence at `now` differs from what was last reported."""
        now_ms = epoch_ms(now)
        changes = []
        for record in latest:
            after = presence_at(record, now_ms)
            before = self._known.get(record.worker_id)
            if after is not before:
                self._known[record.worker_id] = after
                changes.append(Transition(record.worker_id, before, after))
        return changes

    def note(self, worker_id: int, presence: Presence) -> None:
        """Screens were told `presence` another way (a fix arrived): not a change to report."""
        self._known[worker_id] = presence

    def known(self, worker_id: int) -> Presence | None:
        return self._known.get(worker_id)
