"""The camera gateway: viewers subscribe to cameras with a WebRTC offer and get H.264 as is.

One upstream per camera, shared by all its viewers: opened with the first viewer, closed
after the last (or `linger` seconds later). Each viewer is an aiortc peer connection that
sends the camera's own H.264 packets; only H.264 (packetization-mode 1, constrained baseline
or baseline, as Chromium offers it) is negotiated, because the gateway never re-encodes.

All methods run on the media loop (media.loop); the Socket.IO handlers call them through it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
)

from media.candidates import answer
from media.clock import Clock, SystemClock
from media.config import Camera, GatewayConfig
from media.sources import Source, make_source
from media.tracks import CameraTrack
from media.upstream import CameraStatus, State, Upstream

log = logging.getLogger(__name__)

MAX_SDP = 64 * 1024
PREFERRED_PROFILE = "42e01f"  # constrained baseline 3.1: what every browser decodes

SourceFactory = Callable[[Camera], Source]


class WatchError(Exception):
    """A watch request cannot be served: a stable code, a message, the offending field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def to_wire(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


@dataclass(frozen=True)
class Answer:
    viewer_id: str
    sdp: str
    type: str

    def to_wire(self) -> dict[str, str]:
        return {"viewer_id": self.viewer_id, "sdp": self.sdp, "type": self.type}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Answer:
        return cls(str(data["viewer_id"]), str(data["sdp"]), str(data["type"]))


@dataclass
class Viewer:
    id: str
    camera_id: int
    pc: RTCPeerConnection
    track: CameraTrack
    upstream: Upstream


def h264_preferences() -> list[RTCRtpCodecCapability]:
    """aiortc's H.264 codecs (constrained baseline first), then RTX for retransmissions."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    h264 = [c for c in codecs if c.mimeType.lower() == "video/h264"]
    h264.sort(key=lambda c: c.parameters.get("profile-level-id") != PREFERRED_PROFILE)
    return h264 + [c for c in codecs if c.mimeType.lower() == "video/rtx"]


def _offered_h264(sdp: str) -> bool:
    return any("h264/90000" in line.lower() for line in sdp.splitlines() if "rtpmap" in line)


class Gateway:
    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        sources: SourceFactory | None = None,
        clock: Clock | None = None,
        on_status: Callable[[CameraStatus], None] | None = None,
    ) -> None:
        self.config = config or GatewayConfig()
        self.sources = sources or self._default_source
        self.clock = clock or SystemClock()
        self.on_status = on_status
        self.upstreams: dict[tuple[int, str], Upstream] = {}
        self.viewers: dict[str, Viewer] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    def _default_source(self, camera: Camera) -> Source:
        c = self.config
        return make_source(camera.source, name=camera.name, data_dir=c.data_dir, demo=c.demo,
                           rtsp_transport=c.rtsp_transport, timeout=c.open_timeout)  # fmt: skip

    # -- watching --------------------------------------------------------------------

    async def watch(self, camera: Camera, sdp: str, type: str = "offer") -> Answer:
        """Answer a viewer's offer for `camera`; video flows once ICE and DTLS connect."""
        if type != "offer":
            raise WatchError("invalid", f"type must be 'offer', got {type!r}", "type")
        if not isinstance(sdp, str) or "m=video" not in sdp:
            raise WatchError("invalid", "sdp must be an SDP offer with a video section", "sdp")
        if len(sdp) > MAX_SDP:
            raise WatchError("invalid", f"sdp is {len(sdp)} bytes; at most {MAX_SDP}", "sdp")
        if not _offered_h264(sdp):
            raise WatchError(
                "unsupported",
                "the offer has no H.264 video; cameras are sent as H.264 without re-encoding, "
                "so the browser must offer H.264 (packetization-mode=1)",
                "sdp",
            )
        if len(self.viewers) >= self.config.max_viewers:
            raise WatchError("busy", f"the gateway already serves {len(self.viewers)} viewers")
        upstream = self.acquire(camera)
        ice = [RTCIceServer(**server) for server in self.config.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=ice or None))
        track = CameraTrack(upstream)
        try:
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(h264_preferences())
            await answer(pc, sdp)  # a kiosk's mDNS candidates resolve after the answer
        except Exception as exc:
            await pc.close()
            track.stop()
            self.release(upstream)
            raise WatchError(
                "unsupported",
                f"cannot answer this offer with constrained-baseline H.264 "
                f"(packetization-mode=1): {exc}",
                "sdp",
            ) from exc
        # aiortc asks a track for a keyframe only when it encodes; a passthrough track has
        # to hear the viewer's PLI / FIR itself (RTCRtpSender._handle_rtcp_packet calls this).
        setattr(transceiver.sender, "_send_keyframe", track.request_keyframe)  # noqa: B010
        viewer = Viewer(secrets.token_urlsafe(12), camera.id, pc, track, upstream)
        self.viewers[viewer.id] = viewer

        @pc.on("connectionstatechange")
        def _changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._spawn(self.unwatch(viewer.id))

        asyncio.get_running_loop().call_later(
            self.config.connect_timeout, lambda: self._spawn(self._expire(viewer.id))
        )
        local = pc.localDescription
        return Answer(viewer.id, local.sdp, local.type)

    async def unwatch(self, viewer_id: str) -> bool:
        """Hang up one viewer; False if there was none by that id."""
        viewer = self.viewers.pop(viewer_id, None)
        if viewer is None:
            return False
        await viewer.pc.close()
        viewer.track.stop()
        self.release(viewer.upstream)
        return True

    async def _expire(self, viewer_id: str) -> None:
        viewer = self.viewers.get(viewer_id)
        if viewer is not None and viewer.pc.connectionState != "connected":
            log.info("viewer %s of camera %s never connected; dropped", viewer_id,
                     viewer.camera_id)  # fmt: skip
            await self.unwatch(viewer_id)

    # -- upstreams -------------------------------------------------------------------

    def acquire(self, camera: Camera) -> Upstream:
        """The camera's one upstream, made on first use; pair with `release`."""
        key = (camera.id, camera.source)
        upstream = self.upstreams.get(key)
        if upstream is None:
            upstream = Upstream(camera, lambda: self.sources(camera), self.config, self.clock,
                                self.on_status)  # fmt: skip
            self.upstreams[key] = upstream
        return upstream

    def release(self, upstream: Upstream) -> None:
        """After a viewer left: close the upstream once it has had none for `linger`."""
        if upstream.sinks:
            return
        if self.config.linger == 0:
            self._spawn(self._close_if_idle(upstream))
        else:
            asyncio.get_running_loop().call_later(
                self.config.linger, lambda: self._spawn(self._close_if_idle(upstream))
            )

    async def _close_if_idle(self, upstream: Upstream) -> None:
        if upstream.sinks:
            return
        key = (upstream.camera.id, upstream.camera.source)
        if self.upstreams.get(key) is upstream:
            del self.upstreams[key]
        await upstream.close()

    def upstream(self, camera_id: int) -> Upstream | None:
        """The camera's current upstream, if it has one (for status and tests)."""
        found = [u for (cid, _), u in self.upstreams.items() if cid == camera_id]
        return found[-1] if found else None

    async def snapshot(self, camera: Camera) -> bytes:
        """A JPEG of what the camera shows now (media.snapshot: its last keyframe, decoded)."""
        from media.snapshot import snapshot

        return await snapshot(self, camera)

    # -- status and shutdown -----------------------------------------------------------

    def status(self, camera_ids: Iterable[int] | None = None) -> list[CameraStatus]:
        """Each camera's state; cameras nobody watches are idle."""
        ids = sorted({cid for cid, _ in self.upstreams} if camera_ids is None else camera_ids)
        found = [self.upstream(cid) for cid in ids]
        return [u.status() if u else CameraStatus(cid, State.IDLE)
                for cid, u in zip(ids, found, strict=True)]  # fmt: skip

    async def close(self) -> None:
        for viewer_id in list(self.viewers):
            await self.unwatch(viewer_id)
        for upstream in list(self.upstreams.values()):
            await upstream.close()
        self.upstreams.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
