"""The room's Opus encoders: the full mix once for everyone not talking, a talker's own."""

from __future__ import annotations

import math
from array import array
from fractions import Fraction

import av

from media.mcu.mixer import SAMPLE_RATE, SAMPLES, SILENCE, mix
from media.mcu.tracks import VoiceEncoders


def tone(hz: float) -> bytes:
    """20 ms of a sine; `hz` a multiple of 50, so chunk after chunk it runs on unbroken."""
    pcm = array("h")
    for i in range(SAMPLES):
        value = int(8000 * math.sin(2 * math.pi * hz * i / SAMPLE_RATE))
        pcm.extend((value, value))
    return pcm.tobytes()


def decoded_power(packets: list[bytes], hz: float) -> float:
    """Power at `hz` (one DFT bin) of what a libopus decoder makes of `packets`."""
    codec = av.CodecContext.create("libopus", "r")
    codec.sample_rate, codec.layout, codec.format = SAMPLE_RATE, "stereo", "s16"
    pcm = array("h")
    for n, data in enumerate(packets):
        packet = av.Packet(data)
        packet.pts, packet.time_base = n * SAMPLES, Fraction(1, SAMPLE_RATE)
        for frame in codec.decode(packet):
            pcm.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
    left = pcm[-SAMPLE_RATE // 2 * 2 :: 2]  # the last half second, one channel
    re = sum(x * math.cos(2 * math.pi * hz * i / SAMPLE_RATE) for i, x in enumerate(left))
    im = sum(x * math.sin(2 * math.pi * hz * i / SAMPLE_RATE) for i, x in enumerate(left))
    return (re * re + im * im) / len(left) ** 2


def test_listeners_not_talking_share_one_encoding_and_a_talker_gets_its_own() -> None:
    voices = VoiceEncoders()
    listeners = ["talker", "a", "b", "c"]
    received: dict[str, list[bytes]] = {pid: [] for pid in listeners}
    for _ in range(50):  # one second: "talker" speaks a 1 kHz tone, the others are quiet
        full, minus = mix({"talker": tone(1000)})
        out = voices.encode(full, {"talker": minus["talker"]}, listeners)
        assert out["a"] is out["b"] is out["c"]  # the very same packets
        for pid in listeners:
            received[pid] += out[pid]
    assert voices.encodes == 2 * 50  # two streams a tick, not four
    assert decoded_power(received["a"], 1000) > 1e4  # the others hear the talker
    assert decoded_power(received["talker"], 1000) < 1.0  # and it does not hear itself


def test_nobody_talking_is_one_encoding_of_silence() -> None:
    voices = VoiceEncoders()
    for _ in range(5):
        out = voices.encode(SILENCE, {}, ["a", "b"])
        assert out["a"] is out["b"] and len(out["a"]) == 1
    assert voices.encodes == 5
