"""A room's outgoing audio: each participant's mix, Opus-encoded by the room, as aiortc sends it.

aiortc's RTCRtpSender encodes an `av.AudioFrame` by itself: one executor hop per 20 ms frame
and per participant, and first the frame's level measured sample by sample in Python on the
media loop (`rtp.compute_audio_level_dbov`, about 2 % of a core per participant). An
`av.Packet` it passes through as it is (codecs/opus.py `pack`), as media.tracks does for
video. So the room encodes, and shares what it can: someone who is not talking is kept out
of the mixes (mixer.VoiceGate), so their minus-one mix *is* the full mix, encoded once for
all of them; each talker gets its own minus-one mix from an encoder of its own. A room of
seven where one person speaks encodes two streams, not seven.

A listener who starts or stops talking moves from one encoder's stream to another's; Opus
decoders bridge the change (at worst a click, while that listener is speaking itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import av
from av.packet import Packet

from media.mcu.mixer import CHANNELS, SAMPLE_RATE, SAMPLES
from media.tracks import QueueTrack

MAX_QUEUE = 10  # 200 ms: a participant's sender further behind than this loses the oldest
BIT_RATE = 96_000  # what aiortc's own Opus encoder uses
TIME_BASE = Fraction(1, SAMPLE_RATE)


class OpusStream:
    """One libopus encoder (aiortc's settings): 20 ms of the mix in, its packets out."""

    def __init__(self) -> None:
        codec = av.CodecContext.create("libopus", "w")
        codec.bit_rate = BIT_RATE
        codec.format = "s16"
        codec.layout = "stereo" if CHANNELS == 2 else "mono"
        codec.sample_rate = SAMPLE_RATE
        codec.time_base = TIME_BASE
        codec.options = {"application": "voip"}
        self.codec: Any = codec
        self.pts = 0

    def encode(self, chunk: bytes) -> list[bytes]:
        frame = av.AudioFrame(format="s16", layout=self.codec.layout.name, samples=SAMPLES)
        frame.planes[0].update(chunk)
        frame.pts, frame.sample_rate, frame.time_base = self.pts, SAMPLE_RATE, TIME_BASE
        self.pts += SAMPLES
        return [bytes(packet) for packet in self.codec.encode(frame)]


class VoiceEncoders:
    """A room's Opus encoders: one for the full mix, one per participant who talked."""

    def __init__(self) -> None:
        self.full = OpusStream()
        self.own: dict[str, OpusStream] = {}
        self.ticks = 0  # for measurements: mixer ticks,
        self.encodes = 0  # and 20 ms frames encoded for them

    def encode(
        self, full: bytes, minus: Mapping[str, bytes], listeners: Iterable[str]
    ) -> dict[str, list[bytes]]:
        """Each listener's packets for this tick: its own minus-one mix when it is talking
        (`minus` has it), else the full mix, encoded once for all of them."""
        out: dict[str, list[bytes]] = {}
        shared: list[bytes] | None = None
        for pid in listeners:
            if pid in minus:
                stream = self.own.get(pid) or self.own.setdefault(pid, OpusStream())
                out[pid] = stream.encode(minus[pid])
                self.encodes += 1
            else:
                if shared is None:
                    shared = self.full.encode(full)
                    self.encodes += 1
                out[pid] = shared
        self.ticks += 1
        return out

    def forget(self, participant: str) -> None:
        self.own.pop(participant, None)


class MixTrack(QueueTrack[bytes]):
    """One participant's audio: the Opus packets of its mix, 20 ms each, stamped on the
    48 kHz clock as the mixer's ticks go (aiortc packetizes them as they are)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0
        self.dropped = 0

    def push(self, packet: bytes) -> None:
        if self.readyState != "live":
            return
        if len(self._queue) >= MAX_QUEUE:
            self._queue.popleft()
            self.dropped += 1
        self._append(packet)

    async def recv(self) -> Packet[Any]:
        data = await self._next()
        packet = Packet(data)
        packet.pts = self._samples
        packet.time_base = TIME_BASE
        self._samples += SAMPLES
        return packet
