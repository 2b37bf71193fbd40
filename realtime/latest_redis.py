"""Latest positions in Redis, shared by every process: a GEO set and a hash of records.

`<prefix>positions:geo` holds each worker at its latest point (GEOADD, GEOSEARCH for
nearest); `<prefix>positions:latest` maps the worker id to its `Latest` record as compact
JSON. A batch is one pipelined round trip. After a failure the store stays "down" for a few
seconds without trying, so that an unreachable Redis costs ingest nothing but a flag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import redis

from realtime.fixes import Latest
from realtime.latest import LiveMapDown, Near

T = TypeVar("T")
SEARCH_RADIUS_M = 1_000_000  # GEOSEARCH needs a radius; a county-sized map fits far inside


class RedisLatest:
    kind = "redis"

    def __init__(
        self, url: str, *, prefix: str = "commandhall:", timeout: float = 1.0, cooldown: float = 5.0
    ) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.geo_key = f"{prefix}positions:geo"
        self.hash_key = f"{prefix}positions:latest"
        self.cooldown = cooldown
        self._down_until = 0.0
        self._last_error = ""
        self._lock = threading.Lock()

    def _call(self, what: Callable[[redis.Redis], T]) -> T:
        if time.monotonic() < self._down_until:
            raise LiveMapDown(f"Redis is unreachable ({self._last_error}); retrying shortly")
        try:
            return what(self._redis)
        except redis.RedisError as exc:
            with self._lock:
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._down_until = time.monotonic() + self.cooldown
            raise LiveMapDown(f"Redis is unreachable ({self._last_error})") from exc

    def get_many(self, worker_ids: Collection[int]) -> dict[int, Latest]:
        ids = list(worker_ids)
        if not ids:
            return {}
        values: list[Any] = self._call(lambda r: r.hmget(self.hash_key, ids))
        return {i: Latest.decode(v) for i, v in zip(ids, values, strict=True) if v is not None}

    def all(self) -> dict[int, Latest]:
        values: dict[Any, Any] = self._call(lambda r: r.hgetall(self.hash_key))
        return {int(k): Latest.decode(v) for k, v in values.items()}

    def put_many(self, records: Sequence[Latest]) -> None:
        if not records:
            return
        members: list[float | int] = []
        for record in records:
            members += (record.long, record.lat, record.worker_id)
        mapping = {r.worker_id: r.encode() for r in records}

        def write(r: redis.Redis) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.geoadd(self.geo_key, members)
            pipe.hset(self.hash_key, mapping=mapping)  # type: ignore[arg-type]
            pipe.execute()

        self._call(write)

    def nearest(self, lat: float, long: float, count: int) -> list[Near]:
        if count <= 0:
            return []
        found: list[Any] = self._call(
            lambda r: r.geosearch(
                self.geo_key,
                longitude=long,
                latitude=lat,
                radius=SEARCH_RADIUS_M,
                unit="m",
                sort="ASC",
                count=count,
                withdist=True,
            )
        )
        if not found:
            return []
        records = self.get_many([int(member) for member, _ in found])
        return [
            (records[int(member)], float(distance))
            for member, distance in found
            if int(member) in records
        ]

    def health(self) -> dict[str, object]:
        try:
            started = time.perf_counter()
            self._redis.ping()
            return {
                "ok": True,
                "kind": self.kind,
                "ping_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        except redis.RedisError as exc:
            return {"ok": False, "kind": self.kind, "error": str(exc)}
