"""The media process as a web process sees it: the relay's client side (media.relay), and
thin proxies over one RelayClient.

`RemoteMedia` is the camera gateway (media.signalling.MediaService) and `RemoteConferences`
the MCU (media.conference.Conferences); the Socket.IO namespaces cannot tell them from the
in-process ones. Relay failures become the service's own error: WatchError / RoomError with
code "unavailable" or "timeout", naming the media process.

Camera lookups stay here, in the web process: it has the database already, a lookup is one
primary-key read, and a disabled or missing camera is refused without a round trip through
Redis. The media process gets the Camera (id, name, source) with the watch request.

When the media process restarts or goes away, what it served is gone: camera viewers are
told their cameras went offline (the tiles re-watch, against the new instance), and rooms
this process knew are reported ended with a reason the people in them can act on.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from media.conference import (
    MAX_PARTICIPANTS,
    JoinAnswer,
    Participant,
    Recording,
    RoomError,
    RoomListener,
    RoomState,
)
from media.config import Camera
from media.embedded import WATCH_TIMEOUT, CameraLookup, StatusListener, database_cameras
from media.gateway import Answer, WatchError
from media.relay import (
    DEFAULT_TIMEOUT,
    WATCH_INTERVAL,
    Keys,
    RelayError,
    decode,
    encode,
    raise_error,
    read_instance,
    redis_client,
)
from media.snapshot import SNAPSHOT_TIMEOUT
from media.upstream import CameraStatus, State

if TYPE_CHECKING:
    from dispatch.service.core import Core

log = logging.getLogger(__name__)

CAMERAS = "cameras"
CONFERENCES = "conferences"
RESTARTED = "媒体服务已重启 / the media service restarted; call again"
CAMERA_GONE = "媒体服务已重启或停止 / the media service restarted or stopped; reconnecting"
# The media process gives up on a watch after WATCH_TIMEOUT; this side waits a little longer,
# so its own timeout, not ours, is what the viewer hears.
REMOTE_WATCH_TIMEOUT = WATCH_TIMEOUT + 3
# The media process gives a snapshot SNAPSHOT_TIMEOUT + 5 s (media.embedded); a little more.
REMOTE_SNAPSHOT_TIMEOUT = SNAPSHOT_TIMEOUT + 8
T = TypeVar("T")


class RemoteSettings(Protocol):
    @property
    def redis_url(self) -> str: ...

    @property
    def redis_prefix(self) -> str: ...


# -- the relay client --------------------------------------------------------------------------

InstanceListener = Callable[[str | None, str | None], None]  # (old id, new id or None)


class _Pending:
    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()


class RelayClient:
    """Calls into the media process and hears its events; one per web process."""

    def __init__(self, url: str, *, prefix: str, watch_interval: float = WATCH_INTERVAL) -> None:
        self.keys = Keys(prefix)
        self.url = url
        self.reply_key = f"{self.keys.reply_prefix}{secrets.token_hex(8)}"
        self.watch_interval = watch_interval
        self._redis = redis_client(url)
        self._blocking = redis_client(url, timeout=10.0)  # longer than any BLPOP wait here
        self._pending: dict[str, _Pending] = {}
        self._listeners: dict[str, list[Callable[[Any], None]]] = {}
        self._instance_listeners: list[InstanceListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.instance: str | None = None  # the media instance last seen
        self._gone: set[str] = set()  # instances seen replaced: their late events are dropped

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._threads or self._stop.is_set():
                return
            for name, target in (("relay-replies", self._replies), ("relay-events", self._events)):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=3)
        self._fail_pending(None, "unavailable", "this web process is stopping")
        for client in (self._redis, self._blocking):
            with contextlib.suppress(Exception):
                client.close()

    # -- calls ---------------------------------------------------------------------------

    def call(
        self, service: str, method: str, *args: Any, timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        """`service.method(*args, **kwargs)` in the media process; raises what it raised,
        or RelayError("unavailable" | "timeout" | ...)."""
        self.start()
        where = f"{service}.{method}"
        if self._stop.is_set():
            raise RelayError("unavailable", f"this web process is stopping ({where})")
        try:
            instance = read_instance(self._redis, self.keys.instance)
        except Exception as exc:
            raise RelayError("unavailable", f"cannot reach Redis to call the media process "
                             f"({where}): {exc}") from None  # fmt: skip
        if instance is None:
            raise RelayError(
                "unavailable",
                f"the media process is not running: no "
                f"`commandhall media` serves {self.keys.instance} ({where})",
            )
        self._seen(instance)
        request_id = secrets.token_hex(8)
        pending = _Pending(instance)
        request = {
            "id": request_id, "service": service, "method": method,
            "args": encode(list(args)), "kwargs": encode(kwargs), "reply": self.reply_key,
            "deadline": time.time() + timeout, "instance": instance,
        }  # fmt: skip
        with self._lock:
            self._pending[request_id] = pending
        try:
            self._redis.rpush(self.keys.requests, json.dumps(request))
            reply = pending.future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise RelayError("timeout", f"the media process (instance {instance}) did not "
                             f"answer {where} within {timeout:g} s") from None  # fmt: skip
        except Exception as exc:
            raise RelayError("unavailable", f"calling the media process ({where}) through "
                             f"Redis failed: {exc}") from None  # fmt: skip
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if "error" in reply:
            raise_error(reply["error"])
        return decode(reply.get("result"))

    def _replies(self) -> None:
        next_look = 0.0
        while not self._stop.is_set():
            try:
                item = self._blocking.blpop([self.reply_key], timeout=self.watch_interval)
                if item is not None:
                    self._deliver(item[1])
                if time.monotonic() >= next_look:
                    next_look = time.monotonic() + self.watch_interval
                    self._seen(read_instance(self._redis, self.keys.instance))
            except Exception as exc:
                log.warning("relay: waiting for replies failed: %s", exc)
                self._seen(None)
                self._stop.wait(1.0)

    def _deliver(self, raw: bytes) -> None:
        try:
            reply = json.loads(raw)
            request_id = str(reply["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("relay: dropped a malformed reply %r", raw[:200])
            return
        with self._lock:
            pending = self._pending.get(request_id)
        if pending is not None and not pending.future.done():
            pending.future.set_result(reply)

    # -- the media instance --------------------------------------------------------------

    def on_instance(self, listener: InstanceListener) -> None:
        """Call `listener(old, new)` when the media instance changes or goes (new is None)."""
        self._instance_listeners.append(listener)

    def _seen(self, instance: str | None) -> None:
        with self._lock:
            old = self.instance
            if instance == old:
                return
            self.instance = instance
            if old is not None:
                self._gone.add(old)
            # The same instance back after Redis was away: it never went; hear it again.
            self._gone.discard(instance or "")
        if old is None:
            return  # the first sight of a media process (or its first after an outage)
        why = "stopped" if instance is None else f"restarted as instance {instance}"
        self._fail_pending(
            old, "unavailable", f"the media process (instance {old}) {why} before answering"
        )
        log.warning("relay: media instance %s %s", old, why)
        for listener in list(self._instance_listeners):
            try:
                listener(old, instance)
            except Exception:
                log.exception("relay: a media-instance listener failed")

    def _fail_pending(self, instance: str | None, code: str, message: str) -> None:
        with self._lock:
            doomed = [p for p in self._pending.values()
                      if instance is None or p.instance == instance]  # fmt: skip
        for pending in doomed:
            if not pending.future.done():
                pending.future.set_result({"error": {"code": code, "message": message}})

    # -- events --------------------------------------------------------------------------

    def subscribe(self, service: str, listener: Callable[[Any], None]) -> None:
        """Call `listener(value)` (on the relay's event thread) for each event of `service`."""
        self._listeners.setdefault(service, []).append(listener)

    def _events(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self._blocking.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.keys.events)
                backoff = 0.1
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._event(message["data"])
            except Exception as exc:
                log.warning("relay: event subscription failed (%s); again in %.1f s",
                            exc, backoff)  # fmt: skip
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()

    def _event(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            service, value = str(message["service"]), decode(message["value"])
        except (ValueError, KeyError, TypeError):
            log.warning("relay: dropped a malformed event %r", raw[:200])
            return
        if message.get("instance") in self._gone:
            return  # from a media instance that has been replaced: stale
        for listener in list(self._listeners.get(service, ())):
            try:
                listener(value)
            except Exception:
                log.exception("relay: a %s listener failed", service)


def _tell(listeners: list[Callable[[T], None]], value: T) -> None:
    for listener in list(listeners):
        try:
            listener(value)
        except Exception:
            log.exception("media: a listener failed")


class RemoteMedia:
    """The camera gateway in the media process (media.signalling.MediaService)."""

    def __init__(self, client: RelayClient, cameras: CameraLookup) -> None:
        self.client, self.cameras = client, cameras
        self.listeners: list[StatusListener] = []
        self._active: set[int] = set()  # cameras the media instance is serving, as last heard
        self._lock = threading.Lock()
        client.subscribe(CAMERAS, self._changed)
        client.on_instance(self._instance_gone)

    @classmethod
    def for_app(cls, settings: RemoteSettings, core: Core, client: RelayClient | None = None
                ) -> RemoteMedia:  # fmt: skip
        client = client or RelayClient(settings.redis_url, prefix=settings.redis_prefix)
        return cls(client, database_cameras(core))

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    def camera(self, camera_id: int) -> Camera | None:
        return self.cameras(camera_id)

    def watch(self, camera: Camera, sdp: str, type: str) -> Answer:
        answer: Answer = self._call("watch", camera, sdp, type, timeout=REMOTE_WATCH_TIMEOUT)
        with self._lock:
            self._active.add(camera.id)
        return answer

    def unwatch(self, viewer_id: str) -> bool:
        """False also when the media process is away: its viewers went with it."""
        try:
            return bool(self._call("unwatch", viewer_id))
        except WatchError as exc:
            if exc.code == "unavailable":
                return False
            raise

    def snapshot(self, camera_id: int) -> bytes:
        return bytes(self._call("snapshot", camera_id, timeout=REMOTE_SNAPSHOT_TIMEOUT))

    def status(self, camera_ids: Iterable[int] | None = None) -> list[CameraStatus]:
        ids = None if camera_ids is None else list(camera_ids)
        return list(self._call("status", ids))

    def listen(self, listener: StatusListener) -> None:
        self.listeners.append(listener)

    def _call(self, method: str, *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
        try:
            return self.client.call(CAMERAS, method, *args, timeout=timeout)
        except RelayError as exc:
            raise WatchError(exc.code, exc.message, exc.field) from None

    def _changed(self, status: CameraStatus) -> None:
        with self._lock:
            if status.state is State.IDLE:
                self._active.discard(status.camera_id)
            else:
                self._active.add(status.camera_id)
        _tell(self.listeners, status)

    def _instance_gone(self, old: str | None, new: str | None) -> None:
        with self._lock:
            cameras, self._active = sorted(self._active), set()
        now = datetime.now(UTC)
        for camera_id in cameras:
            _tell(self.listeners, CameraStatus(camera_id, State.OFFLINE, 0, CAMERA_GONE, now))


class RemoteConferences:
    """The MCU in the media process (media.conference.Conferences)."""

    def __init__(self, client: RelayClient) -> None:
        self.client = client
        self.listeners: list[RoomListener] = []
        self._rooms: set[str] = set()  # rooms open in the media instance, as last heard
        self._lock = threading.Lock()
        client.subscribe(CONFERENCES, self._changed)
        client.on_instance(self._instance_gone)

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    def open(self, room_id: str, *, record: bool = True, limit: int = MAX_PARTICIPANTS
             ) -> RoomState:  # fmt: skip
        return self._room(self._call("open", room_id, record=record, limit=limit))

    def join(self, room_id: str, participant: Participant, sdp: str, type: str = "offer"
             ) -> JoinAnswer:  # fmt: skip
        answer: JoinAnswer = self._call("join", room_id, participant, sdp, type,
                                        timeout=REMOTE_WATCH_TIMEOUT)  # fmt: skip
        with self._lock:
            self._rooms.add(answer.room_id)
        return answer

    def mute(self, room_id: str, participant_id: str, *, audio: bool | None = None,
             video: bool | None = None) -> RoomState:  # fmt: skip
        return self._room(self._call("mute", room_id, participant_id, audio=audio, video=video))

    def leave(self, room_id: str, participant_id: str) -> RoomState:
        return self._room(self._call("leave", room_id, participant_id))

    def end(self, room_id: str, reason: str = "ended") -> Recording | None:
        recording: Recording | None = self._call("end", room_id, reason, timeout=30.0)
        with self._lock:
            self._rooms.discard(room_id)
        return recording

    def state(self, room_id: str) -> RoomState | None:
        state: RoomState | None = self._call("state", room_id)
        return None if state is None else self._room(state)

    def rooms(self) -> list[RoomState]:
        return [self._room(state) for state in self._call("rooms")]

    def listen(self, listener: RoomListener) -> None:
        self.listeners.append(listener)

    def _call(self, method: str, *args: Any, timeout: float = DEFAULT_TIMEOUT,
              **kwargs: Any) -> Any:  # fmt: skip
        try:
            return self.client.call(CONFERENCES, method, *args, timeout=timeout, **kwargs)
        except RelayError as exc:
            raise RoomError(exc.code, exc.message, exc.field) from None

    def _room(self, state: RoomState) -> RoomState:
        """Keep track of which rooms are open, from what the media process answered."""
        with self._lock:
            if state.ended:
                self._rooms.discard(state.room_id)
            else:
                self._rooms.add(state.room_id)
        return state

    def _changed(self, state: RoomState) -> None:
        _tell(self.listeners, self._room(state))

    def _instance_gone(self, old: str | None, new: str | None) -> None:
        with self._lock:
            rooms, self._rooms = sorted(self._rooms), set()
        for room_id in rooms:
            _tell(self.listeners, RoomState(room_id, ended=True, reason=RESTARTED))


def remote_services(settings: RemoteSettings, core: Core) -> tuple[RemoteMedia, RemoteConferences]:
    """Both proxies over one relay client (one reply thread and one subscription)."""
    client = RelayClient(settings.redis_url, prefix=settings.redis_prefix)
    return RemoteMedia.for_app(settings, core, client), RemoteConferences(client)
