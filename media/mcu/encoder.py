"""The composite encoded once, and the same packets handed to every participant's sender.

`SharedEncoder` wraps one libx264 context (constrained baseline, zerolatency, one slice per
picture, SPS/PPS in front of every IDR). `FanoutTrack` is one participant's outgoing video:
like media.tracks.CameraTrack it returns `av.Packet`s, which aiortc's RTCRtpSender packetizes
without encoding. A participant starts at a keyframe; a PLI or FIR from any participant makes
the shared encoder's next picture an IDR (at most every `keyframe_gap` seconds, so nine
receivers losing the same packet cost one IDR, not nine; a request within the gap is kept
for its end, since a receiver that lost a packet of that very IDR asks only once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from av.packet import Packet
from av.video.frame import PictureType

from media.annexb import AccessUnit, is_keyframe, split_nal_units
from media.tracks import H264Track

CLOCK_RATE = 90_000
TIME_BASE = Fraction(1, CLOCK_RATE)
MAX_QUEUE = 30  # access units (2 s at 15 fps) a slow participant may lag before it skips


# One Annex-B access unit of the composite, stamped on the 90 kHz clock.
EncodedPicture = AccessUnit


class SharedEncoder:
    """libx264 for the composite. Not thread-safe: one caller (the room's video thread)."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: int,
        *,
        crf: int = 26,
        keyframe_seconds: float = 2.0,
        keyframe_gap: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fps, self.keyframe_gap, self.clock = fps, keyframe_gap, clock
        interval = max(1, round(fps * keyframe_seconds))
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
        codec.time_base = Fraction(1, fps)
        codec.framerate = Fraction(fps, 1)
        codec.gop_size = interval
        codec.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",  # x264 writes constrained baseline: every browser decodes it
            "level": "3.1",
            "crf": str(crf),
            "forced-idr": "1",
            "threads": "1",
            "x264-params": f"keyint={interval}:min-keyint={interval}:scenecut=0"
            ":repeat-headers=1:sliced-threads=0:vbv-maxrate=1500:vbv-bufsize=1500",
        }
        codec.open()
        self.codec = codec
        self.frames = 0
        self.keyframes = 0
        self.forced = 0  # IDRs made because somebody asked
        self._force = True
        self._deferred = False
        self._last_keyframe = -1e9

    def request_keyframe(self, *, now: bool = False) -> None:
        """Make the next picture an IDR, unless one went out within `keyframe_gap` (`now`:
        regardless, for a newcomer that has nothing to start from)."""
        if now or self.clock() - self._last_keyframe >= self.keyframe_gap:
            self._force = True
        else:  # kept, not dropped: a PLI for a lost IDR comes within the gap
            self._deferred = True

    def encode(self, frame: av.VideoFrame) -> EncodedPicture | None:
        index = self.frames
        self.frames += 1
        frame.pts, frame.time_base = index, self.codec.time_base
        if self._deferred and self.clock() - self._last_keyframe >= self.keyframe_gap:
            self._deferred, self._force = False, True
        forced, self._force = self._force, False
        # set either way: a frame object used again keeps what it was told last time
        frame.pict_type = PictureType.I if forced else PictureType.NONE
        data = b"".join(bytes(p) for p in self.codec.encode(frame))
        if not data:
            return None
        keyframe = is_keyframe(split_nal_units(data))
        if keyframe:
            self._deferred = False  # whoever asked meanwhile has this one
            self.keyframes += 1
            self.forced += forced
            self._last_keyframe = self.clock()
        return EncodedPicture(data, index * CLOCK_RATE // self.fps, keyframe)


class FanoutTrack(H264Track):
    """One participant's view of the composite: the shared encoder's packets, as they are.

    aiortc's sender asks for its first picture once the connection is up (ICE, then DTLS),
    a few hundred milliseconds after the join. What the queue gathered meanwhile is stale:
    the sender starts at the newest IDR in it (the room makes one when ICE connects, so that
    one is usually there or on its way) and drops what came before; with none in the queue,
    `on_start` asks the room for one at once.
    """

    def __init__(
        self, on_keyframe_request: Callable[[], None], on_start: Callable[[], None] = lambda: None
    ) -> None:
        super().__init__(MAX_QUEUE)
        self.on_keyframe_request = on_keyframe_request
        self.on_start = on_start
        self.keyframe_requests = 0
        self.started = False

    async def recv(self) -> Packet[Any]:
        if not self.started:
            self.started = True
            newest = max((i for i, unit in enumerate(self._queue) if unit.keyframe), default=None)
            stale = len(self._queue) if newest is None else newest
            for _ in range(stale):
                self._queue.popleft()
            self.dropped += stale
            if newest is None:
                self._waiting_keyframe = True
                self.on_start()
        return await super().recv()

    def overflowed(self) -> None:
        self.on_keyframe_request()

    def request_keyframe(self) -> None:
        """A PLI or FIR from this participant (RTCRtpSender calls `_send_keyframe`)."""
        self.keyframe_requests += 1
        self.on_keyframe_request()
