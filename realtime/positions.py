"""Positions of grid workers: ingest, the live map, presence sweeps, nearest workers.

Positions are state, not events. A batch of fixes is validated and screened (pure, in
realtime/fixes.py); every kept fix goes to the history writer (the database is the truth);
the latest position per worker moves in the hot store (memory or Redis GEO); the workers
that moved go out on the feed, from which every web process builds its position frames.
The store failing never fails ingest: history is still written and the answer says the live
map could not be updated. Retention of the history is out of scope.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dispatch.adapters.clock import Clock
from dispatch.domain.geometry import haversine_m
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.errors import Forbidden, ServiceError, ValidationError
from realtime.feed import Feed
from realtime.fixes import MAX_BATCH, Fix, Flag, Latest, Rejection, parse_fix, screen
from realtime.frames import worker_item
from realtime.history import HistoryFull, HistoryWriter, Row
from realtime.latest import LatestStore, LiveMapDown
from realtime.presence import Presence, PresenceTracker, Transition, epoch_ms, presence_at

log = logging.getLogger(__name__)

MAX_NEAREST = 50


class Overloaded(ServiceError):
    code = "overloaded"
    status = 503


class LiveMapUnavailable(ServiceError):
    code = "live_map_unavailable"
    status = 503


@dataclass
class IngestResult:
    accepted: int = 0  # stored in history, flagged ones included
    duplicates: int = 0
    flagged: list[Flag] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    live: bool = True  # the live map (latest positions, frames) was updated
    warning: str = ""

    @property
    def status(self) -> int:
        """200 when anything was kept or all was already known, 400 when all was refused."""
        return 200 if self.accepted or self.duplicates else 400

    def stale(self, reason: Exception) -> None:
        """The live map could not be read or updated; history is written all the same."""
        self.live = False
        self.warning = f"the live map could not be updated ({reason}); the fixes are stored"

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "flagged": [f.to_wire() for f in self.flagged],
            "rejected": [r.to_wire() for r in self.rejected],
            "live": self.live,
        }
        if self.warning:
            wire["warning"] = self.warning
        return wire


def _fixes_of(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise ValidationError('the body must be a JSON object {"fixes": [...]}', field="body")
    fixes = body.get("fixes")
    if not isinstance(fixes, list):
        raise ValidationError(
            f'"fixes" must be a list of fix objects, got {type(fixes).__name__}', field="fixes"
        )
    if not 1 <= len(fixes) <= MAX_BATCH:
        raise ValidationError(
            f"a batch holds 1 to {MAX_BATCH} fixes, got {len(fixes)}", field="fixes"
        )
    return fixes


def _row(fix: Fix, flagged: bool, received: datetime) -> Row:
    at = datetime.fromtimestamp(fix.at_ms / 1000, UTC)
    return (
        fix.worker_id, at, received, fix.lat, fix.long, fix.accuracy, fix.speed, fix.battery,
        flagged,
    )  # fmt: skip


class PositionService:
    def __init__(
        self,
        *,
        names: Directory,
        clock: Clock,
        store: LatestStore,
        history: HistoryWriter,
        feed: Feed,
    ) -> None:
        self.names, self.clock = names, clock
        self.store, self.history, self.feed = store, history, feed
        self.tracker = PresenceTracker()
        # Read, screen and write the latest of a worker as one step within this process.
        self._lock = threading.Lock()

    def start(self) -> None:
        self.history.start()
        self.feed.start()

    def stop(self) -> None:
        self.feed.stop()
        self.history.stop()

    def ingest(self, body: Any) -> IngestResult:
        received = self.clock.now()
        now_ms = epoch_ms(received)
        result, valid = IngestResult(), []
        for index, item in enumerate(_fixes_of(body)):
            parsed = parse_fix(item, index, self.names.workers, now_ms)
            if isinstance(parsed, Fix):
                valid.append(parsed)
            else:
                result.rejected.append(parsed)
        if not valid:
            return result
        with self._lock:
            try:
                latest = self.store.get_many({f.worker_id for f in valid})
            except LiveMapDown as exc:
                latest = {}
                result.stale(exc)
            screened = screen(valid, latest)
            try:
                self.history.put([_row(f, flagged, received) for f, flagged in screened.stored])
            except HistoryFull as exc:
                raise Overloaded(str(exc)) from None
            moved = list(screened.moved.values()) if result.live else []
            try:
                self.store.put_many(moved)
            except LiveMapDown as exc:
                moved = []
                result.stale(exc)
            for record in moved:
                self.tracker.note(record.worker_id, presence_at(record, now_ms))
        self.feed.publish(moved)
        result.accepted = len(screened.stored)
        result.duplicates, result.flagged = screened.duplicates, screened.flagged
        return result

    def sweep(self, now: datetime) -> list[Transition]:
        """Find presence changes that time alone made, and tell every screen."""
        try:
            records = self.store.all()
        except LiveMapDown as exc:
            log.warning("presence sweep skipped: %s", exc)
            return []
        with self._lock:
            changes = self.tracker.sweep(records.values(), now)
        self.feed.publish([records[c.worker_id] for c in changes])
        return changes

    def workers(
        self, *, township_id: int | None = None, strict: bool = True
    ) -> list[dict[str, Any]]:
        """Every worker (of a township) with its latest position and presence."""
        chosen = sorted(
            (w for w in self.names.workers.values()
             if township_id is None or w.township_id == township_id),
            key=lambda w: w.id,
        )  # fmt: skip
        try:
            latest = self.store.get_many([w.id for w in chosen])
        except LiveMapDown as exc:
            if strict:
                raise LiveMapUnavailable(str(exc)) from None
            log.warning("workers listed without positions: %s", exc)
            latest = {}
        now_ms = epoch_ms(self.clock.now())
        return [{**worker_item(w, latest.get(w.id), now_ms), "on_duty": w.on_duty} for w in chosen]

    def nearest(
        self, lat: float, long: float, *, limit: int, grid_id: int | None
    ) -> list[dict[str, Any]]:
        """On-duty, not-offline workers: the point's own grid first, then the others."""
        now_ms = epoch_ms(self.clock.now())
        workers = self.names.workers

        def available(record: Latest) -> bool:
            worker = workers.get(record.worker_id)
            return (
                worker is not None
                and worker.on_duty
                and presence_at(record, now_ms) is not Presence.OFFLINE
            )

        mine = [w.id for w in self.names.workers_in_grid(grid_id)] if grid_id is not None else []
        try:
            own = sorted(
                ((r, haversine_m((long, lat), (r.long, r.lat)))
                 for r in self.store.get_many(mine).values() if available(r)),
                key=lambda near: near[1],
            )  # fmt: skip
            others: list[tuple[Latest, float]] = []
            count = 4 * limit + len(mine) + 10
            while len(own) < limit:
                found = self.store.nearest(lat, long, count)
                others = [
                    (r, d) for r, d in found
                    if available(r) and workers[r.worker_id].grid_id != grid_id
                ]  # fmt: skip
                if len(own) + len(others) >= limit or len(found) < count:
                    break
                count *= 4
        except LiveMapDown as exc:
            raise LiveMapUnavailable(str(exc)) from None
        chosen = [(r, d, True) for r, d in own] + [(r, d, False) for r, d in others]
        return [
            {
                **worker_item(workers[r.worker_id], r, now_ms),
                "on_duty": True,
                "in_grid": in_grid,
                "distance_m": round(d, 1),
            }
            for r, d, in_grid in chosen[:limit]
        ]

    def health(self) -> dict[str, object]:
        store, history = self.store.health(), self.history.health()
        return {"ok": bool(store.get("ok")) and bool(history.get("ok")), "store": store,
                "history": history}  # fmt: skip


# -- the service functions views, socket handlers and other processes call ----------------


def positions_of(core: Core) -> PositionService:
    if core.positions is None:
        raise RuntimeError("positions are not wired: build the core with dispatch.bootstrap")
    return core.positions


def own_fixes_only(body: Any, worker_id: int | None) -> Any:
    """A phone may only send its own worker's fixes: fill in a missing worker_id, refuse
    another (Forbidden naming the fix)."""
    fixes = body.get("fixes") if isinstance(body, dict) else None
    for i, fix in enumerate(fixes if isinstance(fixes, list) else []):
        if not isinstance(fix, dict):
            continue
        if fix.get("worker_id") in (None, worker_id):
            fix["worker_id"] = worker_id
        else:
            raise Forbidden(
                f"fix {i}: this device may only send positions of worker {worker_id}, "
                f"not {fix.get('worker_id')!r}",
                field=f"fixes[{i}].worker_id",
            )
    return body


def ingest_positions(core: Core, body: Any) -> IngestResult:
    """A batch `{"fixes": [...]}` from a phone, over HTTP or the `/field` socket alike."""
    return positions_of(core).ingest(body)


class HasCore(Protocol):
    """The App, or anything else that carries a wired Core."""

    @property
    def core(self) -> Core: ...


def sweep_presence(app_or_core: HasCore | Core, now: datetime) -> list[Transition]:
    """Call every few seconds in exactly one process (the worker, or the embedded demo)."""
    core = app_or_core if isinstance(app_or_core, Core) else app_or_core.core
    return positions_of(core).sweep(now)


def current_workers(
    core: Core, *, township_id: int | None = None, strict: bool = True
) -> list[dict[str, Any]]:
    return positions_of(core).workers(township_id=township_id, strict=strict)


def _coordinate(value: Any, name: str, limit: float) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValidationError(f"{name} must be a number, got {value!r}", field=name) from None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not -limit <= value <= limit
    ):
        raise ValidationError(
            f"{name} must be a number between -{limit:g} and {limit:g}, got {value!r}", field=name
        )
    return float(value)


def nearest_workers(core: Core, lat: Any, long: Any, limit: int = 5) -> list[dict[str, Any]]:
    """Dispatch suggestions: on-duty, not-offline workers nearest the point, its grid first."""
    lat_, long_ = _coordinate(lat, "lat", 90), _coordinate(long, "long", 180)
    if not 1 <= limit <= MAX_NEAREST:
        raise ValidationError(f"limit must be 1 to {MAX_NEAREST}, got {limit}", field="limit")
    grid_id = core.grids.locate(long_, lat_).grid_id
    return positions_of(core).nearest(lat_, long_, limit=limit, grid_id=grid_id)
