"""The doorbell: after a commit, every process is told that the event log has grown.

Only the new head `seq` travels; the events themselves are read from the database, which is
the truth. A lost ring therefore loses nothing: each process also polls the log, so it
converges within its poll interval even with the bus down. The bus also carries the liveness
of the other processes (`beat` / `alive`), so /healthz can say whether the worker and the
media process are running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

Listener = Callable[[int], None]
Clock = Callable[[], float]

CANARY = "canary"


class Bus(Protocol):
    def ring(self, seq: int) -> None: ...
    def listen(self, listener: Listener) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def health(self) -> dict[str, object]: ...
    def beat(self, name: str, ttl: float) -> None: ...
    def alive(self, name: str) -> dict[str, object]: ...


T = TypeVar("T")


def tell(listeners: Sequence[Callable[[T], None]], value: T, what: str) -> None:
    """Call every listener with `value`; one that fails is logged and the others still hear.

    Listeners run after a commit (or an ingest) has succeeded: a broken one must not turn
    that success into an error for whoever made it.
    """
    for listener in list(listeners):
        try:
            listener(value)
        except Exception:
            log.exception("%s listener failed", what)


class MemoryBus:
    """The embedded default: every listener lives in this process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def ring(self, seq: int) -> None:
        tell(self._listeners, seq, "doorbell")

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def health(self) -> dict[str, object]:
        return {"ok": True, "kind": "memory"}

    def beat(self, name: str, ttl: float) -> None:
        pass

    def alive(self, name: str) -> dict[str, object]:
        """Every part runs in this process: alive whenever this answers."""
        return {"ok": True, "kind": "embedded"}


class _SilentLoss(Exception):
    """The subscription looks open but no canary came back: tear it down."""


class RedisBus:
    """Redis pub/sub doorbell shared by every process.

    Redis is a convenience here, never a dependency of a commit:
    - `ring` tells this process's own listeners at once (handle here), then records the
      newest head for a publisher thread to send to the other processes. Rings coalesce (a
      listener reads the log from its own cursor, so only the newest head matters), so a
      hung or dead Redis costs a commit nothing and the backlog never grows.
    - The subscriber reconnects with capped back-off.
    - A canary guards against a subscription that dies without an error (a firewall or NAT
      that forgets an idle connection, a proxy that hangs): every `canary_interval` seconds
      the process publishes a token of its own on the doorbell channel and expects it back
      through its subscription. With no canary for `canary_timeout` seconds the subscription
      is torn down and made again, and `health` is bad until a canary round-trips.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "commandhall:",
        canary_interval: float = 10.0,
        canary_timeout: float = 30.0,
        max_backoff: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        import redis

        if not 0 < canary_interval < canary_timeout:
            raise ValueError(
                f"canary_interval ({canary_interval}) must be positive and shorter than "
                f"canary_timeout ({canary_timeout})"
            )
        # Publishing and the subscription block for at most a few seconds on a hung server;
        # liveness reads serve /healthz, so they give up sooner.
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._kv = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.prefix = prefix
        self.channel = f"{prefix}doorbell"
        self.canary_interval, self.canary_timeout = canary_interval, canary_timeout
        self.max_backoff = max_backoff
        self._clock = clock
        self._token = secrets.token_hex(8)  # tells this process's canaries from the others'
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._wake = threading.Event()  # the publisher has something to send
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._pending = 0  # newest head not yet published
        self._canary_due = False
        self._generation = 0  # counts subscriptions; a canary proves only its own
        self._subscribed = False
        self._canary_generation = -1
        self._canary_seen = 0.0
        self._canary_rtt = 0.0
        self._resubscribes = 0
        self._last_error = ""
        self._publish_error = ""

    # -- the doorbell --------------------------------------------------------------------

    def ring(self, seq: int) -> None:
        """Tell this process's listeners at once, then the other processes; never blocks
        (a publisher thread sends the newest head to Redis)."""
        self._tell(seq)
        with self._lock:
            if seq > self._pending:
                self._pending = seq
        self._wake.set()

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        if self._threads:
            return
        for name, target in (("doorbell-sub", self._subscribe), ("doorbell-pub", self._publish)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=6)
        self._threads = []
        for client in (self._redis, self._kv):
            with contextlib.suppress(Exception):
                client.close()

    # -- publisher -----------------------------------------------------------------------

    def _publish(self) -> None:
        next_canary = self._clock()
        while not self._stop.is_set():
            self._wake.wait(max(0.0, next_canary - self._clock()))
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                seq, self._pending = self._pending, 0
                canary = self._canary_due or self._clock() >= next_canary
                self._canary_due = False
                generation = self._generation
            if seq:
                self._send(str(seq))
            if canary:
                next_canary = self._clock() + self.canary_interval
                if self._subscribed:  # without a subscription it could not come back
                    self._send(f"{CANARY}:{self._token}:{generation}:{self._clock():.6f}")

    def _send(self, message: str) -> None:
        try:
            self._redis.publish(self.channel, message)
        except Exception as exc:  # the database has the event; polling will find it
            if not self._publish_error:
                log.warning("doorbell publish failed: %s (screens fall back to polling)", exc)
            self._publish_error = f"publish failed: {exc}"
        else:
            if self._publish_error:
                log.info("doorbell publishing again")
            self._publish_error = ""

    # -- subscriber ----------------------------------------------------------------------

    def _subscribe(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
            try:
                pubsub.subscribe(self.channel)
                with self._lock:
                    self._generation += 1
                    self._subscribed = True
                    self._canary_due = True  # prove the new subscription at once
                    subscribed_at = self._clock()
                self._wake.set()
                delay = 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=min(1.0, self.canary_interval / 2))
                    if message and message.get("type") == "message":
                        self._deliver(message["data"])
                    quiet = self._clock() - max(self._canary_seen, subscribed_at)
                    if quiet > self.canary_timeout:
                        raise _SilentLoss(f"no canary came back for {quiet:.0f}s")
            except Exception as exc:
                with self._lock:
                    self._subscribed = False
                    self._resubscribes += 1
                self._last_error = str(exc) or type(exc).__name__
                if isinstance(exc, _SilentLoss):
                    log.warning("doorbell subscription is silent (%s); making it again", exc)
                    delay = 0.0
                else:
                    log.warning("doorbell subscription lost (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(max(delay * 2, 0.5), self.max_backoff)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()

    def _deliver(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        if text.startswith(CANARY + ":"):
            self._canary(text)
            return
        try:
            seq = int(text)
        except ValueError:
            log.debug("ignoring doorbell message %r", text)
            return
        self._tell(seq)  # our own rings come back too: listeners ignore what they have

    def _tell(self, seq: int) -> None:
        tell(self._listeners, seq, "doorbell")

    def _canary(self, text: str) -> None:
        try:
            _, token, generation, sent = text.split(":")
            number, sent_at = int(generation), float(sent)
        except ValueError:
            return
        now = self._clock()
        with self._lock:
            if token != self._token or number != self._generation:
                return  # another process's canary, or one sent through an older subscription
            if self._canary_generation != number and self._resubscribes:
                log.info("doorbell canary round-tripped again; the bus is healthy")
            self._canary_generation = number
            self._canary_seen, self._canary_rtt = now, now - sent_at

    # -- health and liveness -------------------------------------------------------------

    def health(self) -> dict[str, object]:
        now = self._clock()
        with self._lock:
            proven = self._subscribed and self._canary_generation == self._generation
            age = now - self._canary_seen if self._canary_generation >= 0 else None
            ok = proven and age is not None and age <= self.canary_timeout
            status: dict[str, object] = {
                "ok": ok,
                "kind": "redis",
                "subscribed": self._subscribed,
                "canary_age_s": round(age, 1) if age is not None else None,
                "canary_rtt_ms": round(self._canary_rtt * 1000, 2) if age is not None else None,
                "resubscribes": self._resubscribes,
            }
        if not ok and not self._subscribed:
            status["error"] = self._last_error or "not subscribed (yet)"
        elif not ok:
            status["error"] = "waiting for a canary to come back through the subscription"
        if self._publish_error:
            status["publish_error"] = self._publish_error
        return status

    def _proc_key(self, name: str) -> str:
        return f"{self.prefix}proc:{name}"

    def beat(self, name: str, ttl: float) -> None:
        """Say that process `name` is alive for the next `ttl` seconds."""
        info = {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}
        self._kv.set(self._proc_key(name), json.dumps(info), px=max(1, int(ttl * 1000)))

    def alive(self, name: str) -> dict[str, object]:
        """Whether process `name` has beaten recently. A peer's absence does not make this
        process unhealthy (`ok` stays true): the caller decides what it means."""
        try:
            raw: Any = self._kv.get(self._proc_key(name))
        except Exception as exc:
            return {"ok": True, "kind": "process", "alive": None, "error": str(exc)}
        if raw is None:
            return {"ok": True, "kind": "process", "alive": False}
        try:
            info = json.loads(raw)
            seen = {"pid": info["pid"], "host": info["host"]}
            seen["age_s"] = round(max(0.0, time.time() - float(info["at"])), 1)
        except (ValueError, KeyError, TypeError):
            seen = {}
        return {"ok": True, "kind": "process", "alive": True, **seen}
