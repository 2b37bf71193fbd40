"""The hot latest position of every worker, behind one small interface.

`MemoryLatest` (the embedded default) keeps a dict and a bucket grid in this process;
`RedisLatest` (realtime/latest_redis.py) keeps a GEO set and a hash in Redis, shared by every
process. Neither is the truth (the `positions` table is): a store that loses its contents
shows workers offline until their phones send the next fixes, a few seconds later.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Collection, Sequence
from typing import Protocol

from dispatch.domain.geometry import haversine_m
from realtime.fixes import Latest

Near = tuple[Latest, float]  # a record and its distance in metres


class LiveMapDown(RuntimeError):
    """The store of latest positions cannot be reached; the message says why."""


class LatestStore(Protocol):
    kind: str

    def get_many(self, worker_ids: Collection[int]) -> dict[int, Latest]: ...
    def all(self) -> dict[int, Latest]: ...
    def put_many(self, records: Sequence[Latest]) -> None: ...
    def nearest(self, lat: float, long: float, count: int) -> list[Near]:
        """Up to `count` records closest to the point, nearest first."""
        ...

    def health(self) -> dict[str, object]: ...


class MemoryLatest:
    """A dict of records and a bucket grid of `cell_deg` degrees for `nearest`."""

    kind = "memory"
    # Past this many rings (about 55 km with 0.01° cells) a full scan is cheaper.
    MAX_RINGS = 50

    def __init__(self, *, cell_deg: float = 0.01) -> None:
        self._cell = cell_deg
        self._records: dict[int, Latest] = {}
        self._buckets: dict[tuple[int, int], set[int]] = {}
        self._lock = threading.Lock()

    def _key(self, long: float, lat: float) -> tuple[int, int]:
        return int(long // self._cell), int(lat // self._cell)

    def get_many(self, worker_ids: Collection[int]) -> dict[int, Latest]:
        with self._lock:
            return {i: r for i in worker_ids if (r := self._records.get(i)) is not None}

    def all(self) -> dict[int, Latest]:
        with self._lock:
            return dict(self._records)

    def put_many(self, records: Sequence[Latest]) -> None:
        with self._lock:
            for record in records:
                old = self._records.get(record.worker_id)
                if old is not None:
                    self._buckets[self._key(old.long, old.lat)].discard(record.worker_id)
                self._records[record.worker_id] = record
                self._buckets.setdefault(self._key(record.long, record.lat), set()).add(
                    record.worker_id
                )

    def nearest(self, lat: float, long: float, count: int) -> list[Near]:
        if count <= 0:
            return []
        with self._lock:
            return self._nearest(lat, long, count)

    def _nearest(self, lat: float, long: float, count: int) -> list[Near]:
        ci, cj = self._key(long, lat)
        heap: list[tuple[float, int]] = []
        found: list[Near] = []
        seen = 0
        for ring in range(self.MAX_RINGS + 1):
            if seen == len(self._records):
                break
            for cell in _ring(ci, cj, ring):
                for worker_id in self._buckets.get(cell, ()):
                    record = self._records[worker_id]
                    heapq.heappush(heap, (self._distance(record, lat, long), worker_id))
                    seen += 1
            # Everything outside the rings searched so far is at least `reach` away.
            reach = self._reach(lat, long, ci, cj, ring)
            while heap and heap[0][0] <= reach:
                distance, worker_id = heapq.heappop(heap)
                found.append((self._records[worker_id], distance))
                if len(found) == count:
                    return found
        else:  # far apart: measure the rest directly
            done = {r.worker_id for r, _ in found} | {w for _, w in heap}
            for worker_id, record in self._records.items():
                if worker_id not in done:
                    heapq.heappush(heap, (self._distance(record, lat, long), worker_id))
        while heap and len(found) < count:
            distance, worker_id = heapq.heappop(heap)
            found.append((self._records[worker_id], distance))
        return found

    @staticmethod
    def _distance(record: Latest, lat: float, long: float) -> float:
        return haversine_m((long, lat), (record.long, record.lat))

    def _reach(self, lat: float, long: float, ci: int, cj: int, ring: int) -> float:
        west, east = (ci - ring) * self._cell, (ci + ring + 1) * self._cell
        south, north = (cj - ring) * self._cell, (cj + ring + 1) * self._cell
        return min(
            haversine_m((long, lat), (west, lat)),
            haversine_m((long, lat), (east, lat)),
            haversine_m((long, lat), (long, south)),
            haversine_m((long, lat), (long, north)),
        )

    def health(self) -> dict[str, object]:
        return {"ok": True, "kind": self.kind, "workers": len(self._records)}


def _ring(ci: int, cj: int, ring: int) -> list[tuple[int, int]]:
    """The cells at Chebyshev distance `ring` from (ci, cj)."""
    if ring == 0:
        return [(ci, cj)]
    cells = [(ci + d, cj - ring) for d in range(-ring, ring + 1)]
    cells += [(ci + d, cj + ring) for d in range(-ring, ring + 1)]
    cells += [(ci - ring, cj + d) for d in range(-ring + 1, ring)]
    cells += [(ci + ring, cj + d) for d in range(-ring + 1, ring)]
    return cells
