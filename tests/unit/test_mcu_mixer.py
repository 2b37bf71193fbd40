"""Minus-one mixing and the active speaker: pure functions over 20 ms PCM chunks."""

from __future__ import annotations

import math
from array import array

import pytest

from media.mcu.mixer import (
    CHUNK,
    SAMPLES,
    SILENCE,
    TICK,
    SpeakerTracker,
    VoiceGate,
    level,
    mix,
)


def tone(hz: float, amplitude: float) -> bytes:
    pcm = array("h")
    for i in range(SAMPLES):
        value = int(32767 * amplitude * math.sin(2 * math.pi * hz * i / 48_000))
        pcm.extend((value, value))
    return pcm.tobytes()


def constant(value: int) -> bytes:
    return array("h", [value] * (SAMPLES * 2)).tobytes()


def samples(chunk: bytes) -> array[int]:
    return array("h", chunk)


def test_each_hears_the_sum_of_the_others_and_not_itself() -> None:
    full, minus = mix({"a": constant(100), "b": constant(20), "c": constant(3)})
    assert set(samples(full)) == {123}
    assert {k: set(samples(v)) for k, v in minus.items()} == {"a": {23}, "b": {103}, "c": {120}}


def test_sums_clip_at_the_int16_range_instead_of_wrapping() -> None:
    full, minus = mix({"a": constant(30_000), "b": constant(30_000), "c": constant(-5)})
    assert set(samples(full)) == {32767 - 5} or set(samples(full)) == {32767}
    assert set(samples(minus["c"])) == {32767}
    low, _ = mix({"a": constant(-30_000), "b": constant(-30_000)})
    assert set(samples(low)) == {-32768}


def test_ones_own_voice_leaves_no_trace_even_when_the_total_clips() -> None:
    loud = constant(32_000)
    _, minus = mix({"a": loud, "b": loud, "c": constant(7)})
    assert set(samples(minus["c"])) == {32767}
    assert set(samples(minus["a"])) == {32_007}


def test_nobody_and_one_person_mix_to_silence_for_themselves() -> None:
    assert mix({}) == (SILENCE, {})
    full, minus = mix({"solo": tone(440, 0.5)})
    assert full == tone(440, 0.5) and minus == {"solo": SILENCE}


def test_a_chunk_of_the_wrong_size_is_named() -> None:
    with pytest.raises(ValueError, match=f"'b'.*{CHUNK - 4}"):
        mix({"a": SILENCE, "b": SILENCE[:-4]})


def test_level_is_the_rms_share_of_full_scale() -> None:
    assert level(SILENCE) == 0
    assert level(tone(1000, 0.5)) == pytest.approx(0.5 / math.sqrt(2), rel=0.02)


def feed(tracker: SpeakerTracker, levels: dict[str, float], start: float, seconds: float) -> float:
    now = start
    for _ in range(round(seconds / TICK)):
        now += TICK
        for participant, value in levels.items():
            tracker.add(participant, now, value)
    return now


def test_the_loudest_over_the_last_second_speaks() -> None:
    tracker = SpeakerTracker()
    now = feed(tracker, {"a": 0.2, "b": 0.05, "c": 0.0}, 0.0, 1.0)
    assert tracker.update(now) == "a"


def test_nobody_speaks_below_the_threshold() -> None:
    tracker = SpeakerTracker(threshold=0.01)
    now = feed(tracker, {"a": 0.005, "b": 0.002}, 0.0, 1.0)
    assert tracker.update(now) is None


def test_a_slightly_louder_voice_does_not_take_over_but_a_much_louder_one_does() -> None:
    tracker = SpeakerTracker(hysteresis=1.5)
    now = feed(tracker, {"a": 0.1, "b": 0.0}, 0.0, 1.0)
    assert tracker.update(now) == "a"
    now = feed(tracker, {"a": 0.1, "b": 0.12}, now, 1.0)
    assert tracker.update(now) == "a"  # 1.2× is not enough
    now = feed(tracker, {"a": 0.1, "b": 0.2}, now, 1.0)
    assert tracker.update(now) == "b"  # 2× is


def test_a_pause_keeps_the_last_speaker_and_leaving_clears_it() -> None:
    tracker = SpeakerTracker()
    now = feed(tracker, {"a": 0.2, "b": 0.0}, 0.0, 1.0)
    assert tracker.update(now) == "a"
    now = feed(tracker, {"a": 0.0, "b": 0.0}, now, 2.0)
    assert tracker.update(now) == "a"
    tracker.forget("a")
    assert tracker.speaker is None and tracker.update(now) is None


def test_old_levels_fall_out_of_the_window() -> None:
    tracker = SpeakerTracker(window=1.0)
    now = feed(tracker, {"a": 0.5}, 0.0, 1.0)
    assert tracker.loudness("a", now) == pytest.approx(0.5)
    assert tracker.loudness("a", now + 2.0) == 0


def test_a_voice_talks_from_its_first_loud_chunk_until_half_a_second_of_quiet() -> None:
    gate = VoiceGate()
    gate.hear("a", 0.0, level(tone(440, 0.0005)))  # room noise, about -70 dBFS
    assert not gate.talking("a", 0.0)
    gate.hear("a", 1.0, level(tone(440, 0.1)))
    assert gate.talking("a", 1.0)
    gate.hear("a", 1.02, level(SILENCE))  # the end of a word, a short pause: still talking
    assert gate.talking("a", 1.4)
    assert not gate.talking("a", 1.5)  # half a second of quiet: out of the mixes
    assert not gate.talking("b", 1.0)  # never heard


def test_a_voice_that_left_is_forgotten() -> None:
    gate = VoiceGate()
    gate.hear("a", 0.0, 0.5)
    gate.forget("a")
    assert not gate.talking("a", 0.1)
