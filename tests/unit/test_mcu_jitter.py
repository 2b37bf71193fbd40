"""The MCU's video jitter buffer: a frame goes to the decoder when its marked last packet
arrives, not when the next frame starts (aiortc's rule, kept for frames with gaps)."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.mcu.jitter import MarkerJitterBuffer


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    p = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq, timestamp=timestamp)
    p._data = data  # type: ignore[attr-defined]  # what the receiver's depayloader leaves
    return p


def test_a_complete_frame_comes_out_on_its_marked_packet() -> None:
    buffer = MarkerJitterBuffer()
    assert buffer.add(packet(10, 3000, b"a")) == (False, None)
    assert buffer.add(packet(11, 3000, b"b")) == (False, None)
    _, frame = buffer.add(packet(12, 3000, b"c", marker=True))
    assert frame is not None and (frame.data, frame.timestamp) == (b"abc", 3000)
    _, frame = buffer.add(packet(13, 9000, b"d", marker=True))  # a one-packet frame
    assert frame is not None and (frame.data, frame.timestamp) == (b"d", 9000)


def test_a_frame_with_a_gap_waits_and_the_retransmission_completes_it() -> None:
    buffer = MarkerJitterBuffer()
    buffer.add(packet(20, 3000, b"a"))
    assert buffer.add(packet(22, 3000, b"c", marker=True)) == (False, None)  # 21 missing
    _, frame = buffer.add(packet(21, 3000, b"b"))  # the retransmission completes it
    assert frame is not None and frame.data == b"abc"


def test_a_frame_whose_marked_packet_was_lost_goes_out_when_the_next_one_starts() -> None:
    buffer = MarkerJitterBuffer()
    buffer.add(packet(40, 3000, b"a"))
    buffer.add(packet(41, 3000, b"b"))  # its marked packet 42 never comes
    _, frame = buffer.add(packet(43, 6000, b"c"))
    assert frame is None  # a gap before the next frame: aiortc's own rule, no guessing
    _, frame = buffer.add(packet(42, 3000, b"!", marker=True))
    assert frame is not None and frame.data == b"ab!"


def test_a_duplicate_of_a_delivered_frame_is_ignored() -> None:
    buffer = MarkerJitterBuffer()
    buffer.add(packet(30, 3000, b"a", marker=True))
    assert buffer.add(packet(30, 3000, b"a", marker=True)) == (False, None)
    _, frame = buffer.add(packet(31, 6000, b"b", marker=True))
    assert frame is not None and frame.data == b"b"
