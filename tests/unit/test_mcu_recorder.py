"""The recording: the mix is queued by the mixer and encoded with the pictures."""

from __future__ import annotations

from pathlib import Path

import av

from media.mcu.encoder import SharedEncoder
from media.mcu.mixer import SAMPLE_RATE, SAMPLES, SILENCE
from media.mcu.recorder import Recorder

SIZE, FPS = (64, 48), 15


def test_the_mix_waits_for_the_next_picture_and_the_file_holds_all_of_it(tmp_path: Path) -> None:
    encoder = SharedEncoder(*SIZE, FPS)
    recorder = Recorder(tmp_path / "r.mp4", *SIZE, FPS)
    blank = av.VideoFrame(*SIZE, "yuv420p")

    def picture(at: float) -> None:
        made = encoder.encode(blank)
        assert made is not None
        recorder.picture(made, at)

    recorder.audio(SILENCE)  # before the first picture: the recording starts with the video
    picture(0.0)
    for _ in range(50):  # one second of the mix, as the mixer hands it over
        recorder.audio(SILENCE)
    assert recorder.samples == 0  # queued: no AAC encoding on the mixer's (the loop's) thread
    picture(1 / FPS)
    assert recorder.samples == 50 * SAMPLES  # encoded with the picture, on its thread
    for _ in range(25):
        recorder.audio(SILENCE)
    seconds = recorder.close()  # what is still queued goes in too
    assert seconds == 1.5
    with av.open(str(tmp_path / "r.mp4")) as container:
        sounds = [(f.time, f.samples) for f in container.decode(audio=0) if f.time is not None]
    assert abs(max(t + n / SAMPLE_RATE for t, n in sounds) - 1.5) < 0.05
