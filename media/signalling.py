"""The `/media` Socket.IO namespace: WebRTC signalling for camera tiles. Thin: it parses,
authorises and calls the gateway.

- connect: needs a signed-in principal that may see cameras (anyone but a grid worker's
  device), a screen token (the wall), or no one at all when anonymous screens are allowed.
- `watch {camera_id, sdp, type: "offer"}` → ack `{viewer_id, sdp, type: "answer"}`, or
  `{error: {code, message, field}}`. ICE is gathered before the answer (no trickle).
- `unwatch {viewer_id}` → ack `{ok}`; a socket's viewers also end when it disconnects.
- `status {camera_ids?}` → ack `{cameras: [{camera_id, state, viewers, error, since,
  retry_in}]}`; the server pushes `status {cameras: [...]}` when a camera changes state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from flask_socketio import Namespace, emit

from dispatch.domain.access import Principal, Role
from media.config import Camera
from media.gateway import MAX_SDP, Answer, WatchError
from media.upstream import CameraStatus
from realtime.socket import current_sid

log = logging.getLogger(__name__)

NAMESPACE = "/media"
MAX_STATUS_IDS = 1000
WhoIs = Callable[[dict[str, Any]], Principal | None]
ScreenCheck = Callable[[str], object]  # raises when the screen token is not valid


class MediaService(Protocol):
    def camera(self, camera_id: int) -> Camera | None: ...

    def watch(self, camera: Camera, sdp: str, type: str) -> Answer: ...

    def unwatch(self, viewer_id: str) -> bool: ...

    def status(self, camera_ids: Iterable[int] | None = None) -> list[CameraStatus]: ...

    def listen(self, listener: Callable[[CameraStatus], None]) -> None: ...


def _error(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _camera_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"camera_id must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"camera_id must be a whole number, got {value!r}") from None
    if number < 1:
        raise ValueError(f"camera_id must be positive, got {number}")
    return number


class MediaNamespace(Namespace):  # type: ignore[misc]
    def __init__(
        self,
        media: MediaService,
        *,
        who: WhoIs,
        allow_anonymous: bool,
        screens: ScreenCheck | None = None,
        namespace: str = NAMESPACE,
    ) -> None:
        super().__init__(namespace)
        self.media, self.who, self.screens = media, who, screens
        self.allow_anonymous = allow_anonymous
        self.viewers: dict[str, set[str]] = {}  # sid → viewer ids it opened
        media.listen(self._push_status)

    # -- connection --------------------------------------------------------------------

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        refusal = self._refusal(auth if isinstance(auth, dict) else {})
        if refusal is not None:
            emit("error", {"code": "forbidden", "message": refusal, "field": "token"})
            return False
        self.viewers[current_sid()] = set()
        return True

    def _refusal(self, auth: dict[str, Any]) -> str | None:
        """Why this connection may not watch cameras, or None when it may."""
        token = auth.get("token")
        try:
            if isinstance(token, str) and token and not token.startswith(("dev_", "ch_")):
                if self.screens is None:
                    return "screen tokens are not accepted here"
                self.screens(token)
                return None
            principal = self.who(auth)
        except Exception as exc:  # the token checks say why in their message
            return str(getattr(exc, "message", exc))
        if principal is None:
            if self.allow_anonymous:
                return None
            return "sign in, or connect with a screen token, to watch cameras"
        if principal.role == Role.GRID_WORKER:
            return "a grid worker's device may not watch the camera wall"
        return None

    def on_disconnect(self, *args: Any) -> None:
        for viewer_id in self.viewers.pop(current_sid(), set()):
            try:
                self.media.unwatch(viewer_id)
            except Exception:
                log.exception("media: hanging up viewer %s failed", viewer_id)

    # -- requests ----------------------------------------------------------------------

    def on_watch(self, data: Any = None) -> dict[str, Any]:
        data = data if isinstance(data, dict) else {}
        try:
            camera_id = _camera_id(data.get("camera_id"))
        except ValueError as exc:
            return _error("invalid", str(exc), "camera_id")
        sdp, kind = data.get("sdp"), data.get("type", "offer")
        if not isinstance(sdp, str) or not sdp.strip():
            return _error("invalid", "sdp is required: the browser's offer", "sdp")
        if len(sdp) > MAX_SDP:
            return _error("invalid", f"sdp is {len(sdp)} characters; at most {MAX_SDP}", "sdp")
        if not isinstance(kind, str):
            return _error("invalid", f"type must be 'offer', got {kind!r}", "type")
        try:
            camera = self.media.camera(camera_id)
            if camera is None:
                return _error("not_found", f"there is no camera {camera_id}", "camera_id")
            answer = self.media.watch(camera, sdp, kind)
        except WatchError as exc:
            return exc.to_wire()
        self.viewers.setdefault(current_sid(), set()).add(answer.viewer_id)
        return answer.to_wire()

    def on_unwatch(self, data: Any = None) -> dict[str, Any]:
        viewer_id = (data if isinstance(data, dict) else {}).get("viewer_id")
        mine = self.viewers.get(current_sid(), set())
        if not isinstance(viewer_id, str) or viewer_id not in mine:
            return _error("not_found", f"this connection has no viewer {viewer_id!r}", "viewer_id")
        mine.discard(viewer_id)
        try:
            return {"ok": self.media.unwatch(viewer_id)}
        except WatchError as exc:  # the media process did not answer in time
            return exc.to_wire()

    def on_status(self, data: Any = None) -> dict[str, Any]:
        ids = (data if isinstance(data, dict) else {}).get("camera_ids")
        if ids is not None:
            if not isinstance(ids, list) or len(ids) > MAX_STATUS_IDS:
                message = f"camera_ids must be a list of at most {MAX_STATUS_IDS} camera ids"
                return _error("invalid", f"{message}, got {ids!r:.80}", "camera_ids")
            try:
                ids = [_camera_id(i) for i in ids]
            except ValueError as exc:
                return _error("invalid", str(exc), "camera_ids")
        try:
            return {"cameras": [s.to_wire() for s in self.media.status(ids)]}
        except WatchError as exc:  # a separate media process that is away or slow
            return exc.to_wire()

    def _push_status(self, status: CameraStatus) -> None:
        if self.socketio is not None:
            self.socketio.emit("status", {"cameras": [status.to_wire()]}, namespace=self.namespace)
