"""The position feed: moved (or presence-changed) workers, told to every web process.

Like python-socketio's pub/sub manager: a batch is handled here first (this process's
listeners, at once), then published to the other hosts on Redis channel
`<prefix>positions`, one message per ingest batch, tagged with this process's id so that
the publisher ignores its own echo. A message lost while Redis is away only delays the dot
on the map until that worker's next fix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import redis

from realtime.bus import tell
from realtime.fixes import Latest

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Latest]], None]


class Feed(Protocol):
    def publish(self, records: Sequence[Latest]) -> None: ...
    def listen(self, listener: Listener) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


class MemoryFeed:
    """The embedded default: every listener lives in this process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def publish(self, records: Sequence[Latest]) -> None:
        if records:
            tell(self._listeners, records, "position")

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


OUTBOX_LIMIT = 1000  # ingest batches waiting for Redis


class RedisFeed:
    """Redis pub/sub between processes; reconnects with capped back-off."""

    def __init__(self, url: str, *, prefix: str = "commandhall:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.channel = f"{prefix}positions"
        self.host_id = uuid.uuid4().hex
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Messages for the other hosts go out from a thread of their own: a hung Redis must
        # not hold up a phone's POST. When it is away the oldest news is dropped first; the
        # next fix of each worker repairs the map (every 5-10 s while it is online).
        self._outbox: queue.Queue[str] = queue.Queue(maxsize=OUTBOX_LIMIT)
        self._sender: threading.Thread | None = None
        self.dropped = 0
        self.subscribed = False
        self.last_error = ""

    def publish(self, records: Sequence[Latest]) -> None:
        if not records:
            return
        tell(self._listeners, records, "position")  # handle here, then tell the other hosts
        message = json.dumps({"host": self.host_id, "workers": [r.encode() for r in records]})
        while True:
            try:
                self._outbox.put_nowait(message)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._outbox.get_nowait()
                    self.dropped += 1

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._outbox.get(timeout=1.0)
            except queue.Empty:
                continue
            try:
                self._redis.publish(self.channel, message)
            except redis.RedisError as exc:
                self.last_error = f"publish failed: {exc}"
                log.warning("position feed publish failed: %s", exc)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="position-feed", daemon=True)
            self._thread.start()
            self._sender = threading.Thread(
                target=self._send_loop, name="position-feed-send", daemon=True
            )
            self._sender.start()

    def stop(self) -> None:
        self._stop.set()

    def receive(self, data: bytes | str) -> None:
        """One message from the channel: tell the listeners unless it is our own."""
        message: dict[str, Any] = json.loads(data)
        if message.get("host") == self.host_id:
            return
        tell(self._listeners, [Latest.decode(w) for w in message.get("workers", ())], "position")

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
            try:
                pubsub.subscribe(self.channel)
                self.subscribed, delay = True, 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        try:
                            self.receive(message["data"])
                        except (ValueError, KeyError, TypeError) as exc:
                            log.warning("bad position message ignored: %s", exc)
            except redis.RedisError as exc:
                self.subscribed, self.last_error = False, str(exc)
                log.warning("position feed lost (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()
