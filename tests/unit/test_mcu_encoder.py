"""The shared encoder's keyframe requests: one IDR for many askers, none lost."""

from __future__ import annotations

import av

from media.mcu.encoder import SharedEncoder

SIZE, FPS = (64, 48), 15


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def keyframes(encoder: SharedEncoder, clock: Clock, pictures: int) -> list[bool]:
    blank = av.VideoFrame(*SIZE, "yuv420p")
    made = []
    for _ in range(pictures):
        picture = encoder.encode(blank)
        assert picture is not None
        made.append(picture.keyframe)
        clock.now += 1 / FPS
    return made


def test_requests_within_the_gap_make_one_idr_at_its_end_and_none_is_dropped() -> None:
    clock = Clock()
    encoder = SharedEncoder(*SIZE, FPS, keyframe_seconds=60, keyframe_gap=0.5, clock=clock)
    assert keyframes(encoder, clock, 10) == [True] + [False] * 9  # the first picture
    encoder.request_keyframe()  # 0.67 s after it: at once
    encoder.request_keyframe()  # a second receiver asking for the same loss
    assert keyframes(encoder, clock, 3) == [True, False, False]
    encoder.request_keyframe()  # 0.2 s after that IDR: kept until 0.5 s have passed
    encoder.request_keyframe()
    made = keyframes(encoder, clock, 12)
    assert made.count(True) == 1 and made.index(True) == 5  # 8 pictures (0.53 s) after
    assert encoder.forced == 3
    encoder.request_keyframe(now=True)  # a newcomer: regardless of the gap
    assert keyframes(encoder, clock, 1) == [True]
