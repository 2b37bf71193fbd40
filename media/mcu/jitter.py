"""A video jitter buffer that hands a frame over when its last packet (the RTP marker) arrives.

aiortc's JitterBuffer releases a frame only when a packet of the *next* frame arrives, so a
receiver holds every picture for one frame interval (67 ms at 15 fps) before decoding it.
Browsers mark the last packet of each frame (RFC 6184 §5.1 for H.264, RFC 7741 for VP8);
when the frame's packets are all there, in order, up to the marked one, it is complete now.
A frame with a gap (a lost packet) still waits for aiortc's own rule and NACK/PLI handling.
"""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

CAPACITY = 512  # what aiortc's RTCRtpReceiver uses for video


class MarkerJitterBuffer(JitterBuffer):
    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(capacity=capacity, is_video=True)

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli, frame = super().add(packet)
        if frame is not None or self._origin is None:
            return pli, frame
        return pli, self._complete()

    def _complete(self) -> JitterFrame | None:
        """The frame at the origin, if its packets are all here, in order, up to a marked
        one (a gap or a packet of another timestamp first: not yet)."""
        assert self._origin is not None
        packets: list[RtpPacket] = []
        for n in range(self._capacity):
            packet = self._packets[(self._origin + n) % self._capacity]
            if packet is None or (packets and packet.timestamp != packets[0].timestamp):
                return None
            packets.append(packet)
            if packet.marker:
                self.remove(len(packets))
                data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
                return JitterFrame(data, packet.timestamp)
        return None


def install(receiver: object) -> None:
    """Give an aiortc video RTCRtpReceiver this buffer (before any packet arrived)."""
    setattr(receiver, "_RTCRtpReceiver__jitter_buffer", MarkerJitterBuffer())  # noqa: B010
