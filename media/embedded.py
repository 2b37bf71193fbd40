"""The gateway inside the web process (the embedded default): a synchronous face for the
Socket.IO handler threads, the gateway itself on the media loop.

It reads cameras straight from the database (id, name, source; a disabled camera is not
served) and tells the camera registry when a camera goes online or offline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from media.config import Camera, GatewayConfig
from media.gateway import Answer, Gateway, WatchError
from media.loop import MediaLoop
from media.upstream import CameraStatus, State

if TYPE_CHECKING:
    from dispatch.service.core import Core

log = logging.getLogger(__name__)

# ICE gathering waits for STUN/TURN servers that do not answer for a few seconds at most.
WATCH_TIMEOUT = 30.0
StatusListener = Callable[[CameraStatus], None]
CameraLookup = Callable[[int], Camera | None]


class MediaSettings(Protocol):
    """What the gateway reads of dispatch.config.Settings."""

    @property
    def ice_servers(self) -> tuple[dict[str, Any], ...]: ...

    @property
    def data_dir(self) -> Path: ...


class EmbeddedMedia:
    def __init__(
        self, gateway_config: GatewayConfig, cameras: CameraLookup, loop: MediaLoop | None = None
    ) -> None:
        self.loop = loop or MediaLoop()  # the media process shares one with the conferences
        self._owns_loop = loop is None  # a shared loop is stopped by whoever made it
        self.cameras = cameras
        self.listeners: list[StatusListener] = []
        self.gateway = Gateway(gateway_config, on_status=self._changed)

    @classmethod
    def for_app(
        cls, settings: MediaSettings, core: Core, loop: MediaLoop | None = None
    ) -> EmbeddedMedia:
        """The gateway as the embedded app and the media process both build it."""
        config = GatewayConfig(ice_servers=settings.ice_servers, data_dir=settings.data_dir)
        media = cls(config, database_cameras(core), loop)
        media.listen(registry_status(core))
        return media

    # -- the App.background protocol ---------------------------------------------------

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        if not self.loop.running:
            return
        try:
            self.loop.call(self.gateway.close(), timeout=10)
        except (TimeoutError, RuntimeError) as exc:
            log.warning("media: closing the gateway: %s", exc)
        if self._owns_loop:
            self.loop.stop()

    # -- for the signalling handlers (any thread) ---------------------------------------

    def camera(self, camera_id: int) -> Camera | None:
        return self.cameras(camera_id)

    def watch(self, camera: Camera, sdp: str, type: str) -> Answer:
        try:
            return self.loop.call(self.gateway.watch(camera, sdp, type), timeout=WATCH_TIMEOUT)
        except TimeoutError:
            raise WatchError("timeout", f"no answer within {WATCH_TIMEOUT:g} s") from None

    def unwatch(self, viewer_id: str) -> bool:
        return self.loop.call(self.gateway.unwatch(viewer_id), timeout=10)

    def snapshot(self, camera_id: int) -> bytes:
        """A JPEG of the camera now; WatchError not_found, disabled, offline or timeout."""
        from media.snapshot import SNAPSHOT_TIMEOUT

        camera = self.camera(camera_id)
        if camera is None:
            raise WatchError("not_found", f"there is no camera {camera_id}", "camera_id")
        try:
            return self.loop.call(self.gateway.snapshot(camera), timeout=SNAPSHOT_TIMEOUT + 5)
        except TimeoutError:
            raise WatchError("timeout", f"no snapshot within {SNAPSHOT_TIMEOUT + 5:g} s") from None

    def status(self, camera_ids: Iterable[int] | None = None) -> list[CameraStatus]:
        ids = None if camera_ids is None else list(camera_ids)

        async def read() -> list[CameraStatus]:
            return self.gateway.status(ids)

        return self.loop.call(read(), timeout=10)

    def listen(self, listener: StatusListener) -> None:
        """Call `listener` (on a worker thread) whenever a camera's state changes."""
        self.listeners.append(listener)

    def _changed(self, status: CameraStatus) -> None:
        # On the media loop: listeners write to sockets and the database, so not here.
        for listener in self.listeners:
            self.loop.loop.run_in_executor(None, _safely, listener, status)


def _safely(listener: StatusListener, status: CameraStatus) -> None:
    try:
        listener(status)
    except Exception:
        log.exception("media: a camera status listener failed")


def database_cameras(core: Core) -> CameraLookup:
    """Camera rows read directly: None for a camera that does not exist; a disabled one
    (an admin switched it off in the registry) is refused."""
    from dispatch.adapters.orm import CameraRow

    def lookup(camera_id: int) -> Camera | None:
        with core.db.read() as session:
            row = session.get(CameraRow, camera_id)
            if row is None:
                return None
            if row.status == "disabled":
                raise WatchError("disabled", f"camera {camera_id} is disabled", "camera_id")
            return Camera(row.id, row.name, row.source)

    return lookup


def registry_status(core: Core) -> StatusListener:
    """Online / offline into the camera registry (dispatch.service.cameras), when it has one."""

    def record(status: CameraStatus) -> None:
        if status.state not in (State.ONLINE, State.OFFLINE):
            return
        try:
            from dispatch.service.cameras import set_status
        except ImportError:
            return
        set_status(core, status.camera_id, status.state.value)

    return record
