"""The doorbell: after a commit, every process is told that the event log has grown.

Only the new head `seq` travels; the events themselves are read from the database, which is
the truth. A lost ring therefore loses nothing: each process also polls the log, so it
converges within its poll interval even with the bus down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

Listener = Callable[[int], None]


class Bus(Protocol):
    def ring(self, seq: int) -> None: ...
    def listen(self, listener: Listener) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def health(self) -> dict[str, object]: ...


class MemoryBus:
    """The embedded default: every listener lives in this process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def ring(self, seq: int) -> None:
        for listener in list(self._listeners):
            listener(seq)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def health(self) -> dict[str, object]:
        return {"ok": True, "kind": "memory"}


class RedisBus:
    """Redis pub/sub doorbell shared by every process; reconnects with capped back-off."""

    def __init__(self, url: str, *, prefix: str = "commandhall:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.channel = f"{prefix}doorbell"
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._last_error = ""

    def ring(self, seq: int) -> None:
        try:
            self._redis.publish(self.channel, str(seq))
        except Exception as exc:  # the database has the event; polling will find it
            self._last_error = f"publish failed: {exc}"
            log.warning("doorbell publish failed (seq %s): %s", seq, exc)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="redis-doorbell", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self.channel)
                self._connected, delay = True, 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        seq = int(message["data"])
                        for listener in list(self._listeners):
                            listener(seq)
            except Exception as exc:
                self._connected = False
                self._last_error = str(exc)
                log.warning("doorbell subscription lost (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()

    def health(self) -> dict[str, object]:
        try:
            started = time.perf_counter()
            self._redis.ping()
            return {
                "ok": self._connected,
                "kind": "redis",
                "ping_ms": round((time.perf_counter() - started) * 1000, 2),
                "subscribed": self._connected,
                **({"error": self._last_error} if not self._connected else {}),
            }
        except Exception as exc:
            return {"ok": False, "kind": "redis", "error": str(exc)}
