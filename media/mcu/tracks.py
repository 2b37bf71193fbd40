"""A participant's outgoing audio: its minus-one mix, 20 ms at a time, as aiortc encodes it.

aiortc's RTCRtpSender awaits `recv()` and Opus-encodes each frame; the mixer's tick paces
it. Each participant's mix differs (its own voice is left out), so this encode is per
participant: about 1 % of a core each.
"""

from __future__ import annotations

from fractions import Fraction

import av

from media.mcu.mixer import CHANNELS, SAMPLE_RATE, WIDTH
from media.tracks import QueueTrack

MAX_QUEUE = 10  # 200 ms: a participant's sender further behind than this loses the oldest


class MixTrack(QueueTrack[bytes]):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0
        self.dropped = 0

    def push(self, chunk: bytes) -> None:
        if self.readyState != "live":
            return
        if len(self._queue) >= MAX_QUEUE:
            self._queue.popleft()
            self.dropped += 1
        self._append(chunk)

    async def recv(self) -> av.AudioFrame:
        chunk = await self._next()
        samples = len(chunk) // (CHANNELS * WIDTH)
        frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        frame.planes[0].update(chunk)
        frame.pts, frame.sample_rate = self._samples, SAMPLE_RATE
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self._samples += samples
        return frame
