"""A still picture of a camera, as a JPEG: the one place the gateway decodes video.

Passthrough never decodes, so a snapshot costs one keyframe's decode and one JPEG encode,
off the media loop. The picture is the camera's last IDR when somebody is watching it (the
upstream keeps it for new viewers anyway; at most one GOP old), else the camera is opened
briefly as a viewer would open it: attach, wait for the first IDR (a demo camera makes one
at once; a real camera's comes within its GOP), detach, and the upstream closes as usual
after its last viewer. An IDR carries its SPS and PPS (media.sources puts them in front),
so it decodes on its own.

The JPEG says what it shows in its EXIF: the camera's name and code in ImageDescription
(UTF-8), the time in DateTimeOriginal with its UTC offset, CommandHall as the Software.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import av
from PIL import Image

from media.annexb import AccessUnit
from media.config import Camera
from media.gateway import WatchError
from media.upstream import State, Upstream

if TYPE_CHECKING:
    from media.gateway import Gateway

# Opening an RTSP camera takes up to GatewayConfig.open_timeout (10 s), and its next IDR up
# to a GOP (~4 s) more; a demo camera answers in well under a second.
SNAPSHOT_TIMEOUT = 15.0
JPEG_QUALITY = 90
# EXIF tags (CIPA DC-008): IFD0, and the Exif sub-IFD it points to.
EXIF_IFD = 0x8769
IMAGE_DESCRIPTION = 0x010E
SOFTWARE = 0x0131
DATE_TIME = 0x0132
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011


class _FirstKeyframe:
    """A viewer that only waits for one IDR (the upstream's Sink protocol)."""

    def __init__(self) -> None:
        self.found: asyncio.Future[AccessUnit] = asyncio.get_running_loop().create_future()

    def push(self, unit: AccessUnit) -> None:
        if unit.keyframe and not self.found.done():
            self.found.set_result(unit)

    def restart(self) -> None:
        """A reconnect: nothing to forget, the next IDR is as good as any."""


def _offline(camera: Camera, upstream: Upstream) -> WatchError:
    why = f": {upstream.error}" if upstream.error else ""
    return WatchError("offline", f"camera {camera.id} ({camera.name}) is offline{why}",
                      "camera_id")  # fmt: skip


async def keyframe(gateway: Gateway, camera: Camera, *, timeout: float = SNAPSHOT_TIMEOUT) -> bytes:
    """The camera's latest IDR access unit (Annex-B, SPS and PPS in front)."""
    upstream = gateway.upstream(camera.id)
    if upstream is not None and upstream.state == State.ONLINE and upstream.last_keyframe:
        return upstream.last_keyframe.data
    if upstream is not None and upstream.state == State.OFFLINE:
        raise _offline(camera, upstream)  # its viewers are waiting for a reconnect already
    # Nobody watches it (or it is still connecting): open it like a viewer. The gateway's
    # own upstream, so a viewer that arrives meanwhile shares it and nothing opens twice.
    upstream = gateway.acquire(camera)
    sink = _FirstKeyframe()
    upstream.attach(sink)
    upstream.request_keyframe()  # a demo camera: the next frame is an IDR
    try:
        async with asyncio.timeout(timeout):
            while not sink.found.done():
                if upstream.state == State.OFFLINE:
                    raise _offline(camera, upstream)
                await asyncio.wait({sink.found}, timeout=0.1)
    except TimeoutError:
        raise WatchError(
            "timeout",
            f"camera {camera.id} ({camera.name}) sent no keyframe within {timeout:g} s",
            "camera_id",
        ) from None
    finally:
        upstream.detach(sink)
        gateway.release(upstream)
    return sink.found.result().data


def to_jpeg(access_unit: bytes, camera: Camera, taken_at: datetime) -> bytes:
    """Decode one IDR access unit and encode it as a JPEG that names the camera and time."""
    decoder = av.CodecContext.create("h264", "r")
    try:
        frames = list(decoder.decode(av.Packet(access_unit)))
        frames += decoder.decode(None)  # the decoder may hold the picture until flushed
    except av.FFmpegError as exc:
        raise WatchError("undecodable", f"camera {camera.id}'s keyframe does not decode: {exc}",
                         "camera_id") from exc  # fmt: skip
    pictures = [f for f in frames if isinstance(f, av.VideoFrame)]
    if not pictures:
        raise WatchError("undecodable", f"camera {camera.id}'s keyframe gave no picture",
                         "camera_id")  # fmt: skip
    image: Image.Image = pictures[0].to_image()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, exif=_exif(camera, taken_at))
    return out.getvalue()


def _exif(camera: Camera, taken_at: datetime) -> Image.Exif:
    if taken_at.tzinfo is None:
        raise ValueError(f"taken_at must be timezone-aware, got {taken_at!r}")
    exif = Image.Exif()
    # Bytes, not str: Pillow writes a str as ASCII and would turn 东门路口 into ????.
    exif[IMAGE_DESCRIPTION] = f"{camera.name} (camera {camera.id})".encode()
    exif[SOFTWARE] = "CommandHall"
    stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    exif[DATE_TIME] = stamp
    offset = taken_at.strftime("%z")  # +0800
    sub = exif.get_ifd(EXIF_IFD)
    sub[DATE_TIME_ORIGINAL] = stamp
    sub[OFFSET_TIME_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    return exif


async def snapshot(
    gateway: Gateway,
    camera: Camera,
    *,
    timeout: float = SNAPSHOT_TIMEOUT,
    taken_at: datetime | None = None,
) -> bytes:
    """A JPEG of what `camera` shows now; WatchError "offline", "timeout" or "undecodable"."""
    data = await keyframe(gateway, camera, timeout=timeout)
    when = taken_at or gateway.clock.now()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # Decoding and encoding take milliseconds to tens of them: not on the loop that paces
    # every viewer's packets.
    return await asyncio.get_running_loop().run_in_executor(None, to_jpeg, data, camera, when)
