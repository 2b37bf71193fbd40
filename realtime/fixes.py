"""Position fixes from phones: parsing, validation and screening of a batch. Pure: no I/O.

A phone sends what it measured; this module decides, fix by fix, what to keep:
- a fix that cannot be right (unknown worker, coordinates off the map, not a number, a time
  in the future or a day old, accuracy/speed/battery out of range) is refused with the field
  and a message the phone's developer can act on;
- a fix seen before (same worker and time, in the batch or as the worker's latest) is a
  duplicate and dropped, so a phone may safely resend a batch it got no answer for;
- a fix that implies an impossible speed is kept but flagged, and never moves the map;
- of the rest, only fixes newer than the worker's latest move it: a late fix goes to history.
Times travel as epoch milliseconds (ints), so equal times compare equal whatever their format.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.domain.geometry import haversine_m

MAX_BATCH = 500
FUTURE_SKEW_MS = 30_000  # phones' clocks drift; more than this ahead is a broken clock
MAX_AGE_MS = 24 * 3_600_000  # older fixes are not worth a place in today's history
MAX_SPEED = 50.0  # m/s (180 km/h): nothing a grid worker walks or rides goes faster
MOVE_M = 20.0  # moving less than this is GPS jitter, not moving
# Web Mercator (the map, and Redis GEO) ends here; nobody patrols beyond it.
MAX_LAT = 85.05112878
MAX_ACCURACY = 10_000.0  # m: a cell-tower fix can be kilometres off, more is no fix
MAX_REPORTED_SPEED = 200.0  # m/s: above this a reported speed is garbage, not just suspicious


@dataclass(frozen=True, slots=True)
class Fix:
    """One valid measurement; `index` is its place in the batch, for the answer."""

    index: int
    worker_id: int
    at_ms: int
    lat: float
    long: float
    accuracy: float | None = None
    speed: float | None = None
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    field: str | None
    message: str

    def to_wire(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class Flag:
    index: int
    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"index": self.index, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Latest:
    """A worker's latest position, and where and when it last moved (for presence)."""

    worker_id: int
    lat: float
    long: float
    at_ms: int
    accuracy: float | None
    speed: float | None
    battery: float | None
    moved_ms: int  # when it was last more than MOVE_M from `anchor`; its first fix counts
    anchor_lat: float
    anchor_long: float

    def encode(self) -> str:
        """Compact text for Redis and the feed between processes (cheaper than JSON)."""
        return (
            f"{self.worker_id},{self.lat!r},{self.long!r},{self.at_ms},{_opt(self.accuracy)},"
            f"{_opt(self.speed)},{_opt(self.battery)},{self.moved_ms},{self.anchor_lat!r},"
            f"{self.anchor_long!r}"
        )

    @classmethod
    def decode(cls, text: str | bytes) -> Latest:
        if isinstance(text, bytes):
            text = text.decode()
        w, lat, long, at, acc, speed, battery, moved, alat, along = text.split(",")
        return cls(
            int(w), float(lat), float(long), int(at), _float(acc), _float(speed),
            _float(battery), int(moved), float(alat), float(along),
        )  # fmt: skip


def _opt(value: float | None) -> str:
    return "" if value is None else repr(value)


def _float(text: str) -> float | None:
    return float(text) if text else None


def advance(previous: Latest | None, fix: Fix) -> Latest:
    """The latest position after `fix`, which must be newer than `previous`."""
    if previous is None or (
        haversine_m((previous.anchor_long, previous.anchor_lat), (fix.long, fix.lat)) > MOVE_M
    ):
        moved_ms, anchor_lat, anchor_long = fix.at_ms, fix.lat, fix.long
    else:
        moved_ms, anchor_lat, anchor_long = (
            previous.moved_ms,
            previous.anchor_lat,
            previous.anchor_long,
        )
    return Latest(
        fix.worker_id, fix.lat, fix.long, fix.at_ms, fix.accuracy, fix.speed, fix.battery,
        moved_ms, anchor_lat, anchor_long,
    )  # fmt: skip


class _Refused(ValueError):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _number(raw: Mapping[str, Any], name: str, low: float, high: float, unit: str = "") -> float:
    value = raw.get(name)
    if value is None:
        raise _Refused(name, f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Refused(name, f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise _Refused(name, f"{name} must be between {low:g} and {high:g}{unit}, got {value!r}")
    return float(value)


def _optional(
    raw: Mapping[str, Any], name: str, low: float, high: float, unit: str
) -> float | None:
    return None if raw.get(name) is None else _number(raw, name, low, high, unit)


def parse_time(value: Any) -> int:
    """Epoch milliseconds of an ISO 8601 time with a zone, or of epoch milliseconds."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise _Refused(
                "time", f"time {value!r} is not ISO 8601, e.g. 2026-11-22T09:30:00+08:00"
            ) from None
        if when.tzinfo is None:
            raise _Refused("time", f"time {value!r} has no zone; add one, e.g. +08:00 or Z")
        return round(when.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Refused(
            "time",
            f"time must be ISO 8601 with a zone or epoch milliseconds, got {value!r}",
        )
    return round(value)


def parse_fix(raw: Any, index: int, workers: Container[int], now_ms: int) -> Fix | Rejection:
    """A valid fix, or why not (the first problem found)."""
    try:
        if not isinstance(raw, dict):
            raise _Refused(None, f"a fix must be a JSON object, got {type(raw).__name__}")
        worker = raw.get("worker_id")
        if isinstance(worker, bool) or not isinstance(worker, int):
            raise _Refused("worker_id", f"worker_id must be a whole number, got {worker!r}")
        if worker not in workers:
            raise _Refused("worker_id", f"unknown worker {worker}")
        if raw.get("time") is None:
            raise _Refused("time", "time is required (ISO 8601 with a zone, or epoch ms)")
        at_ms = parse_time(raw["time"])
        if at_ms > now_ms + FUTURE_SKEW_MS:
            raise _Refused(
                "time",
                f"time is {(at_ms - now_ms) / 1000:.0f} s in the future; the phone's clock "
                f"may be at most {FUTURE_SKEW_MS // 1000} s ahead",
            )
        if at_ms < now_ms - MAX_AGE_MS:
            raise _Refused("time", "time is more than 24 h ago; such fixes are not kept")
        return Fix(
            index=index,
            worker_id=worker,
            at_ms=at_ms,
            lat=_number(raw, "lat", -MAX_LAT, MAX_LAT, "°"),
            long=_number(raw, "long", -180.0, 180.0, "°"),
            accuracy=_optional(raw, "accuracy", 0.0, MAX_ACCURACY, " m"),
            speed=_optional(raw, "speed", 0.0, MAX_REPORTED_SPEED, " m/s"),
            battery=_optional(raw, "battery", 0.0, 100.0, " %"),
        )
    except _Refused as refused:
        return Rejection(index, refused.field, refused.message)


@dataclass
class Screened:
    """What to do with a batch: store `stored` (with its flag), move the map to `moved`."""

    stored: list[tuple[Fix, bool]] = field(default_factory=list)
    moved: dict[int, Latest] = field(default_factory=dict)
    duplicates: int = 0
    flagged: list[Flag] = field(default_factory=list)


def _speed_flag(fix: Fix, before: tuple[int, float, float] | None) -> str | None:
    if fix.speed is not None and fix.speed > MAX_SPEED:
        return f"reported speed {fix.speed:g} m/s is above {MAX_SPEED:g} m/s"
    if before is None:
        return None
    at_ms, lat, long = before
    metres = haversine_m((long, lat), (fix.long, fix.lat))
    seconds = (fix.at_ms - at_ms) / 1000
    if metres > MAX_SPEED * seconds:
        return (
            f"implied speed {metres / seconds:.0f} m/s ({metres:.0f} m in {seconds:g} s "
            f"since the previous fix) is above {MAX_SPEED:g} m/s"
        )
    return None


def _reference(
    previous: tuple[int, float, float] | None, current: Latest | None, at_ms: int
) -> tuple[int, float, float] | None:
    """The point a fix's speed is judged from: the latest good point known before it."""
    if current is None or current.at_ms >= at_ms:
        return previous
    if previous is None or previous[0] < current.at_ms:
        return (current.at_ms, current.lat, current.long)
    return previous


def screen(fixes: Sequence[Fix], latest: Mapping[int, Latest]) -> Screened:
    """Sort, de-duplicate and flag valid fixes against each worker's latest position."""
    out = Screened()
    by_worker: dict[int, list[Fix]] = {}
    for fix in fixes:
        by_worker.setdefault(fix.worker_id, []).append(fix)
    for worker_id, items in by_worker.items():
        items.sort(key=lambda f: (f.at_ms, f.index))
        current = latest.get(worker_id)
        head = current  # the latest position as this batch moves it
        previous: tuple[int, float, float] | None = None  # last good fix of the batch
        seen: set[int] = set()
        for fix in items:
            if fix.at_ms in seen or (current is not None and fix.at_ms == current.at_ms):
                out.duplicates += 1
                continue
            seen.add(fix.at_ms)
            reason = _speed_flag(fix, _reference(previous, current, fix.at_ms))
            out.stored.append((fix, reason is not None))
            if reason is not None:
                out.flagged.append(Flag(fix.index, reason))
                continue
            previous = (fix.at_ms, fix.lat, fix.long)
            if head is None or fix.at_ms > head.at_ms:
                head = advance(head, fix)
        if head is not None and head is not current:
            out.moved[worker_id] = head
    out.flagged.sort(key=lambda f: f.index)
    return out
