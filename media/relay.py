"""Request/reply and events over Redis between the web processes and the one media process.

The web process's Socket.IO handlers call synchronous service interfaces (the camera gateway,
the conferences MCU). In the embedded default those run in the same process; in production
they run in `commandhall media`, and this module carries the calls:

- a request is one JSON document RPUSHed on `<prefix>media:requests`: an id, the service and
  method, the arguments, the client's reply key, a deadline and the media instance it was
  meant for. The media process BLPOPs them (there is exactly one media process) and runs each
  on a thread pool of its own, so a watch that waits seconds for ICE never holds up a status
  read behind it; the services run their coroutines on the media loop, concurrently.
- the reply, `{"id", "result"}` or `{"id", "error": {code, message, field, type}}`, is
  LPUSHed on the client's reply key, which expires shortly after (a web process that died
  leaves nothing behind). One thread per web process waits on its reply key for every call.
- events (a camera's state, a room's state) are PUBLISHed on `<prefix>media:events` and
  reach the listeners in every web process.
- each media process run has an instance id, kept in `<prefix>media:instance` with a TTL of
  a few seconds and refreshed every second. The web side reads it before each request (none:
  "unavailable" at once instead of a 30 s wait) and watches it: when it changes or vanishes,
  calls in flight fail at once and listeners hear that the old instance is gone. Its TTL is
  short because the `proc:media` liveness key (30 s) is too slow to notice a kill -9.

This module holds the wire format and the media process's side (`RelayServer`); the web
process's side (`RelayClient` and the proxies over it) is media.remote.

Values cross as JSON. Frozen dataclasses cross with a type tag, through their `to_wire()` /
`from_wire()` (or field by field when they have none); bytes cross as base64; errors of a
registered type (WatchError, RoomError) are raised again as that type on the web side.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import inspect
import json
import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

from media.conference import JoinAnswer, Participant, Recording, RoomError, RoomState
from media.config import Camera
from media.gateway import Answer, WatchError
from media.upstream import CameraStatus

log = logging.getLogger(__name__)

# The instance key lives this long without a refresh: a killed media process is noticed
# within INSTANCE_TTL + WATCH_INTERVAL (about 3.5 s).
INSTANCE_TTL = 3.0
INSTANCE_BEAT = 1.0
WATCH_INTERVAL = 0.5
REPLY_TTL = 60  # seconds a reply key outlives its last reply
DEFAULT_TIMEOUT = 10.0
# Methods of a served object that are not requests: its lifecycle and its event hook.
NOT_SERVED = frozenset({"start", "stop", "listen"})

WIRE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Camera, Answer, CameraStatus, Participant, RoomState, JoinAnswer, Recording)
}
ERROR_TYPES: dict[str, type[WatchError] | type[RoomError]] = {
    "WatchError": WatchError,
    "RoomError": RoomError,
}


class RelayError(Exception):
    """The relay itself failed: "unavailable" (no media process, or it went away), "timeout",
    "unknown_method", "internal". Proxies turn it into their service's own error type."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def wire_type(cls: type) -> type:
    """Let a dataclass cross the relay (as a decorator, or called once at import)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass; only dataclasses cross the relay")
    WIRE_TYPES[cls.__name__] = cls
    return cls


# -- the wire format -------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A JSON-ready form of `value`; the inverse is `decode`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value) or "$type" in value or "$bytes" in value:
            raise TypeError(f"only dicts with string keys (not $type/$bytes) cross: {value!r:.80}")
        return {k: encode(v) for k, v in value.items()}
    name = type(value).__name__
    if WIRE_TYPES.get(name) is type(value):
        if hasattr(value, "to_wire"):
            return {"$type": name, "value": value.to_wire()}
        fields = {f.name: encode(getattr(value, f.name))
                  for f in dataclasses.fields(value)}  # type: ignore[arg-type]  # fmt: skip
        return {"$type": name, "value": fields}
    raise TypeError(f"{name} cannot cross the relay; register it with media.relay.wire_type")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if "$type" in value:
        cls = WIRE_TYPES.get(value["$type"])
        if cls is None:
            raise ValueError(f"unknown type {value['$type']!r} on the relay")
        from_wire = getattr(cls, "from_wire", None)
        if from_wire is not None:
            return from_wire(value["value"])
        return cls(**{k: decode(v) for k, v in value["value"].items()})
    return {k: decode(v) for k, v in value.items()}


def error_reply(exc: BaseException, where: str) -> dict[str, Any]:
    """The `error` of a reply: a registered error keeps its type, anything else is internal."""
    name = type(exc).__name__
    if ERROR_TYPES.get(name) is type(exc) or isinstance(exc, RelayError):
        code, message, field = exc.code, exc.message, exc.field
        return {"code": code, "message": message, "field": field,
                "type": None if isinstance(exc, RelayError) else name}  # fmt: skip
    return {"code": "internal", "message": f"{where} failed in the media process: {exc}",
            "field": None, "type": None}  # fmt: skip


def raise_error(error: dict[str, Any]) -> None:
    """Raise what `error_reply` described, as its own type when it has one."""
    code, message = str(error.get("code", "internal")), str(error.get("message", ""))
    field = error.get("field")
    cls = ERROR_TYPES.get(str(error.get("type")))
    if cls is not None:
        raise cls(code, message, field)
    raise RelayError(code, message, field)


class Keys:
    """The Redis names of one deployment (its prefix)."""

    def __init__(self, prefix: str) -> None:
        self.requests = f"{prefix}media:requests"
        self.events = f"{prefix}media:events"
        self.instance = f"{prefix}media:instance"
        self.reply_prefix = f"{prefix}media:reply:"


def redis_client(url: str, timeout: float | None = 5.0) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=3)


def read_instance(client: Any, key: str) -> str | None:
    raw = client.get(key)
    if raw is None:
        return None
    try:
        return str(json.loads(raw)["id"])
    except (ValueError, KeyError, TypeError):
        return None


# -- the media process's side ----------------------------------------------------------------


class RelayServer:
    """Serves registered objects' public methods to the web processes, one thread per call."""

    def __init__(self, url: str, *, prefix: str, workers: int = 64) -> None:
        self.keys = Keys(prefix)
        self.url = url
        self.instance = secrets.token_hex(8)
        self.services: dict[str, object] = {}
        self._redis = redis_client(url)
        self._blocking = redis_client(url, timeout=10.0)  # longer than any BLPOP wait here
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="relay")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.served = 0  # requests answered (one thread each: counted under _count_lock)
        self._count_lock = threading.Lock()

    def serve(self, name: str, service: object) -> None:
        self.services[name] = service

    def publish(self, service: str, value: Any) -> None:
        """Tell every web process's `listen` listeners of `service` (any thread)."""
        message = {"instance": self.instance, "service": service, "value": encode(value)}
        try:
            self._redis.publish(self.keys.events, json.dumps(message))
        except Exception as exc:  # Redis away: the web side notices the instance is gone
            log.warning("relay: publishing a %s event failed: %s", service, exc)

    def start(self, claim_timeout: float = INSTANCE_TTL * 2 + 1) -> None:
        """Claim the instance key (a killed predecessor's expires within INSTANCE_TTL), then
        serve. Raises RuntimeError when another media process keeps it."""
        info = json.dumps({"id": self.instance, "pid": os.getpid(),
                           "host": socket.gethostname(), "started": time.time()})  # fmt: skip
        self._info = info
        deadline = time.monotonic() + claim_timeout
        ttl = int(INSTANCE_TTL * 1000)
        while not self._redis.set(self.keys.instance, info, px=ttl, nx=True):
            if time.monotonic() > deadline:
                other = self._redis.get(self.keys.instance)
                raise RuntimeError(
                    f"another media process holds {self.keys.instance} ({other!r}); "
                    "run exactly one `commandhall media` per deployment"
                )
            time.sleep(0.2)
        for name, target in (("relay-requests", self._serve), ("relay-beat", self._beat)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("relay: media instance %s serves %s", self.instance, sorted(self.services))

    def stop(self) -> None:
        """Stop taking requests, finish those running, then give up the instance key."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=INSTANCE_BEAT + 2)
        self._pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            if read_instance(self._redis, self.keys.instance) == self.instance:
                self._redis.delete(self.keys.instance)
        for client in (self._redis, self._blocking):
            with contextlib.suppress(Exception):
                client.close()

    def _beat(self) -> None:
        while not self._stop.wait(INSTANCE_BEAT):
            try:
                self._redis.set(self.keys.instance, self._info, px=int(INSTANCE_TTL * 1000))
            except Exception as exc:
                log.warning("relay: refreshing the instance key failed: %s", exc)

    def _serve(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                item = self._blocking.blpop([self.keys.requests], timeout=1)
                backoff = 0.1
            except Exception as exc:
                log.warning("relay: reading requests failed (%s); again in %.1f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if item is None:
                continue
            try:
                self._pool.submit(self._handle, item[1])
            except RuntimeError:  # stopping: the pool takes no more work
                self._handle(item[1])

    def _handle(self, raw: bytes) -> None:
        try:
            request = json.loads(raw)
            reply_key, request_id = str(request["reply"]), str(request["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("relay: dropped a malformed request %r", raw[:200])
            return
        if float(request.get("deadline", 0)) < time.time():
            return  # its caller has given up already
        reply: dict[str, Any] = {"id": request_id}
        try:
            reply["result"] = encode(self._call(request))
        except Exception as exc:
            where = f"{request.get('service')}.{request.get('method')}"
            if not isinstance(exc, RelayError) and type(exc).__name__ not in ERROR_TYPES:
                log.exception("relay: %s failed", where)
            reply["error"] = error_reply(exc, where)
        with self._count_lock:  # counted before the reply: its caller may read it at once
            self.served += 1
        try:
            with self._redis.pipeline() as pipe:
                pipe.lpush(reply_key, json.dumps(reply)).expire(reply_key, REPLY_TTL).execute()
        except Exception as exc:
            log.warning("relay: replying to %s failed: %s", reply_key, exc)

    def _call(self, request: dict[str, Any]) -> Any:
        if self._stop.is_set():
            raise RelayError("unavailable", f"the media process (instance {self.instance}) "
                             "is stopping")  # fmt: skip
        if request.get("instance") not in (None, self.instance):
            raise RelayError(
                "unavailable",
                f"the request was for media instance {request['instance']}, which has "
                f"restarted (now {self.instance}); ids from before the restart are gone",
            )
        service_name, method = str(request.get("service")), str(request.get("method"))
        service = self.services.get(service_name)
        if service is None:
            raise RelayError("unknown_method", f"the media process serves no {service_name!r} "
                             f"(it serves {sorted(self.services)})", "service")  # fmt: skip
        if not servable(service, method):
            raise RelayError("unknown_method",
                             f"{service_name} has no method {method!r}", "method")  # fmt: skip
        args = decode(request.get("args", []))
        kwargs = decode(request.get("kwargs", {}))
        return getattr(service, method)(*args, **kwargs)


def servable(service: object, method: str) -> bool:
    """Public instance methods only: not `_private`, not lifecycle, not class methods."""
    if method.startswith("_") or method in NOT_SERVED:
        return False
    attribute = inspect.getattr_static(type(service), method, None)
    return inspect.isfunction(attribute)
