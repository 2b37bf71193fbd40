"""One viewer's video: an aiortc track whose `recv()` returns H.264 `av.Packet`s.

aiortc's RTCRtpSender encodes only what a track returns as an `av.Frame`; an `av.Packet` goes
straight to `H264Encoder.pack`, which splits the Annex-B stream into NAL units and packetizes
them (single NAL, STAP-A, FU-A; RFC 6184) without touching a pixel (aiortc 1.16,
rtcrtpsender.py `_next_encoded_frame`, codecs/h264.py `pack`). So a viewer costs SRTP
packets, not an encoder.

A viewer starts at a keyframe: first the camera's last IDR (a picture at once), then nothing
until the next IDR, because the pictures in between refer to ones this viewer never got.
Timestamps are the camera's 90 kHz timeline, strictly increasing per viewer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from fractions import Fraction
from typing import Any, Generic, TypeVar

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av.packet import Packet

from media.annexb import AccessUnit
from media.upstream import Upstream

TIME_BASE = Fraction(1, 90_000)
# A viewer further behind than this many access units (~5 s at 12 fps) is cut back to the
# next keyframe: a slow viewer must not make the others wait or grow memory without bound.
MAX_QUEUE = 60
# A PLI or FIR this soon after a keyframe went out is the receiver still waiting for it.
PLI_GRACE = 1.0

T = TypeVar("T")


class QueueTrack(MediaStreamTrack, Generic[T]):
    """A track that hands its sender what was pushed to it, waiting while nothing is."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[T] = deque()
        self._wake = asyncio.Event()

    def _append(self, item: T) -> None:
        self._queue.append(item)
        self._wake.set()

    async def _next(self) -> T:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._wake.clear()
            await self._wake.wait()
        if self.readyState != "live":
            raise MediaStreamError
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        self._wake.set()


class H264Track(QueueTrack[AccessUnit]):
    """Coded pictures out as `av.Packet`s, from a keyframe on, with strictly increasing
    90 kHz stamps. Too far behind (`max_queue`), it drops what it holds and waits for the
    next keyframe (`overflowed` tells the subclass)."""

    kind = "video"

    def __init__(self, max_queue: int) -> None:
        super().__init__()
        self.max_queue = max_queue
        self._waiting_keyframe = True
        self._last_stamp: int | None = None
        self.sent = 0  # access units handed to the sender
        self.dropped = 0  # access units skipped (waiting for a keyframe, too slow)

    def push(self, unit: AccessUnit) -> None:
        if self.readyState != "live":
            return
        if len(self._queue) >= self.max_queue:
            self.dropped += len(self._queue)
            self._queue.clear()
            self._waiting_keyframe = True
            self.overflowed()
        if self._waiting_keyframe:
            if not unit.keyframe:
                self.dropped += 1
                return
            self._waiting_keyframe = False
        self._append(unit)

    def overflowed(self) -> None:
        """The queue was cut back: a subclass may ask for a keyframe sooner."""

    def keyframe_sent(self) -> None:
        """A keyframe went to the sender."""

    async def recv(self) -> Packet[Any]:
        unit = await self._next()
        stamp = unit.timestamp
        if self._last_stamp is not None and stamp <= self._last_stamp:
            stamp = self._last_stamp + 1
        self._last_stamp = stamp
        if unit.keyframe:
            self.keyframe_sent()
        packet = Packet(unit.data)
        packet.pts = packet.dts = stamp
        packet.time_base = TIME_BASE
        self.sent += 1
        return packet


class CameraTrack(H264Track):
    def __init__(self, upstream: Upstream, *, max_queue: int = MAX_QUEUE) -> None:
        super().__init__(max_queue)
        self.upstream = upstream
        self._keyframe_sent_at = -1e9
        cached = upstream.last_keyframe
        if cached is not None:  # a picture now; its stamp is "now" on the camera's timeline
            self._queue.append(cached.at(max(cached.timestamp, upstream.last_timestamp)))
        upstream.attach(self)
        upstream.request_keyframe()  # demo cameras: the next frame is an IDR

    # -- from the upstream -------------------------------------------------------------

    def restart(self) -> None:
        self._waiting_keyframe = True

    # -- from the sender ---------------------------------------------------------------

    def request_keyframe(self) -> None:
        """The viewer lost a picture (RTCP PLI or FIR): skip to the next IDR, which a demo
        camera makes at once; a passthrough camera's comes within its GOP."""
        if self.upstream.clock.monotonic() - self._keyframe_sent_at < PLI_GRACE:
            return
        self._waiting_keyframe = True
        self.upstream.request_keyframe()

    def keyframe_sent(self) -> None:
        self._keyframe_sent_at = self.upstream.clock.monotonic()

    def stop(self) -> None:
        super().stop()
        self.upstream.detach(self)
