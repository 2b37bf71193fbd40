"""A room's recording: the composite's own H.264 packets and the full mix, in one MP4.

The video is muxed as the shared encoder made it (no decode, no encode); the audio, the
full mix (everyone, muted people excepted), is encoded once to AAC. The file is written as
the call goes and finished (`+faststart`: the index up front, so a browser plays it at once
from an HTTP range request) on `close`.

The mixer hands its 20 ms chunks over on the media loop, where every millisecond delays
somebody's packets, so `audio` only queues them; they are encoded on the thread that writes
the pictures (the room's own), just before each picture. FFmpeg's AAC encoder runs with its
fast coder: the default (two-loop) one cost 8.8 % of a core for one stereo stream at
96 kbit/s, the fast one 1.2 %. A lock keeps the muxer to one caller at a time all the same.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from media.annexb import nal_type, split_nal_units
from media.mcu.encoder import CLOCK_RATE, EncodedPicture
from media.mcu.mixer import CHANNELS, SAMPLE_RATE

log = logging.getLogger(__name__)

SPS, PPS = 7, 8
MAX_QUEUED = 500  # 10 s of audio waiting for a writer that stalled; older chunks are lost


class Recorder:
    def __init__(self, path: Path, width: int, height: int, fps: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._container: Any = av.open(str(path), "w", format="mp4",
                                       options={"movflags": "+faststart"})  # fmt: skip
        self._video: Any = self._container.add_stream("h264", rate=fps)
        self._video.width, self._video.height = width, height
        self._video.time_base = Fraction(1, CLOCK_RATE)
        self._audio: Any = self._container.add_stream("aac", rate=SAMPLE_RATE,
                                                      options={"aac_coder": "fast"})  # fmt: skip
        self._audio.layout = "stereo" if CHANNELS == 2 else "mono"
        self._audio.bit_rate = 96_000
        self._started = False  # the first picture written must be an IDR carrying SPS/PPS
        self._origin = 0.0
        self._last_stamp = -1
        self._mix: deque[bytes] = deque(maxlen=MAX_QUEUED)  # audio waiting for the writer
        self.pictures = 0
        self.samples = 0
        self.closed = False

    def picture(self, picture: EncodedPicture, at: float) -> None:
        """Write one composite picture made at `at` (monotonic seconds); the first one
        (an IDR) starts the recording's clock, and the audio with it."""
        with self._lock:
            if self.closed:
                return
            self._encode_audio()
            if not self._started:
                if not picture.keyframe:
                    return
                units = split_nal_units(picture.data)
                headers = [u for u in units if nal_type(u) in (SPS, PPS)]
                self._video.codec_context.extradata = b"".join(b"\0\0\0\1" + u for u in headers)
                self._started, self._origin = True, at
            stamp = max(round((at - self._origin) * CLOCK_RATE), self._last_stamp + 1)
            self._last_stamp = stamp
            packet = av.Packet(picture.data)
            packet.pts = packet.dts = stamp
            packet.time_base = self._video.time_base
            packet.stream = self._video
            packet.is_keyframe = picture.keyframe
            self._container.mux(packet)
            self.pictures += 1

    def audio(self, chunk: bytes) -> None:
        """The next 20 ms of the full mix (s16 interleaved stereo, 48 kHz), queued: it is
        encoded with the next picture, or on `close`."""
        if not self.closed:
            self._mix.append(chunk)

    def _encode_audio(self) -> None:
        """Encode what the mixer queued (the lock held); audio starts with the first picture."""
        while self._mix:
            chunk = self._mix.popleft()
            if not self._started:
                continue
            frame = av.AudioFrame(format="s16", layout="stereo", samples=len(chunk) // 4)
            frame.planes[0].update(chunk)
            frame.pts, frame.sample_rate = self.samples, SAMPLE_RATE
            frame.time_base = Fraction(1, SAMPLE_RATE)
            self.samples += frame.samples
            for packet in self._audio.encode(frame):
                self._container.mux(packet)

    def close(self) -> float:
        """Finish the file; its length in seconds (0 when nothing was recorded)."""
        with self._lock:
            if self.closed:
                return self.seconds
            self.closed = True
            try:
                self._encode_audio()
                if self._started:
                    for packet in self._audio.encode(None):
                        self._container.mux(packet)
                self._container.close()
            except Exception:
                log.exception("mcu: finishing the recording %s", self.path)
            return self.seconds

    @property
    def seconds(self) -> float:
        video = (self._last_stamp + 1) / CLOCK_RATE if self.pictures else 0.0
        return round(max(video, self.samples / SAMPLE_RATE), 3)
