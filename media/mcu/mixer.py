"""Audio for a room: the full mix, each participant's mix minus its own voice, and who speaks.

Everything is 20 ms of 48 kHz interleaved stereo signed 16-bit PCM (what aiortc's Opus
decoder gives and its encoder takes): 960 samples, 3,840 bytes. Sums saturate at the int16
range instead of wrapping. `audioop` does the arithmetic in C (numpy is not a dependency;
audioop is in the standard library up to Python 3.12, and the project pins 3.11).
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SAMPLE_RATE = 48_000
CHANNELS = 2
WIDTH = 2  # bytes per sample
TICK = 0.020  # seconds of audio per mixer step
SAMPLES = round(SAMPLE_RATE * TICK)  # per channel
CHUNK = SAMPLES * CHANNELS * WIDTH  # bytes
SILENCE = bytes(CHUNK)


def _sum(chunks: list[bytes]) -> bytes:
    if not chunks:
        return SILENCE
    total = chunks[0]
    for chunk in chunks[1:]:
        total = audioop.add(total, chunk, WIDTH)
    return total


def mix(chunks: Mapping[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
    """(everyone's sum, {id: the sum of everyone but id}) of one tick's chunks.

    The minus-one mixes are summed from the others (not the total minus one's own), so a
    clipped total does not leave a trace of one's own voice in one's own mix."""
    for key, chunk in chunks.items():
        if len(chunk) != CHUNK:
            raise ValueError(f"audio chunk of {key!r} is {len(chunk)} bytes; a tick is {CHUNK}")
    ids = list(chunks)
    values = [chunks[i] for i in ids]
    # Prefix and suffix sums: 3N additions instead of N².
    prefix = [SILENCE]
    for v in values:
        prefix.append(audioop.add(prefix[-1], v, WIDTH))
    suffix = [SILENCE]
    for v in reversed(values):
        suffix.append(audioop.add(suffix[-1], v, WIDTH))
    suffix.reverse()
    minus = {i: audioop.add(prefix[k], suffix[k + 1], WIDTH) for k, i in enumerate(ids)}
    return prefix[-1], minus


def level(chunk: bytes) -> float:
    """Loudness of a chunk: RMS as a share of full scale (0.0-1.0)."""
    return float(audioop.rms(chunk, WIDTH)) / 32768.0


@dataclass
class VoiceGate:
    """Who is talking: a level of at least `threshold` within the last `hangover` seconds
    (so the ends of words and short pauses stay in). The others' chunks, room noise and
    breathing, stay out of the mixes: in a big room their noise would add up, and each of
    them then hears exactly the full mix, which the room encodes once for all of them."""

    threshold: float = 0.003  # RMS share of full scale, about -50 dBFS
    hangover: float = 0.5
    _last: dict[str, float] = field(default_factory=dict)

    def hear(self, participant: str, now: float, value: float) -> None:
        """One chunk's level (`level`) from a participant at `now`."""
        if value >= self.threshold:
            self._last[participant] = now

    def talking(self, participant: str, now: float) -> bool:
        last = self._last.get(participant)
        return last is not None and now - last < self.hangover

    def forget(self, participant: str) -> None:
        self._last.pop(participant, None)


@dataclass
class SpeakerTracker:
    """The active speaker: the loudest participant over the last `window` seconds, if above
    `threshold`; a new speaker takes over only when louder than the current one by
    `hysteresis` (or when the current one fell silent), so the layout does not flicker.
    When nobody speaks the last speaker stays enlarged (a pause is not a layout change)."""

    window: float = 1.0
    threshold: float = 0.01  # RMS share of full scale, about -40 dBFS
    hysteresis: float = 1.5
    speaker: str | None = None
    _levels: dict[str, deque[tuple[float, float]]] = field(default_factory=dict)

    def add(self, participant: str, now: float, value: float) -> None:
        samples = self._levels.setdefault(participant, deque())
        samples.append((now, value))
        while samples and samples[0][0] <= now - self.window:
            samples.popleft()

    def forget(self, participant: str) -> None:
        self._levels.pop(participant, None)
        if self.speaker == participant:
            self.speaker = None

    def loudness(self, participant: str, now: float) -> float:
        """Mean level over the window (silence where no audio arrived)."""
        samples = self._levels.get(participant, ())
        recent = [v for t, v in samples if t > now - self.window]
        expected = max(1, round(self.window / TICK))
        return sum(recent) / max(expected, len(recent))

    def update(self, now: float) -> str | None:
        """Decide the speaker as of `now`; returns it (None: nobody has spoken yet)."""
        loud = {p: self.loudness(p, now) for p in self._levels}
        candidates = {p: v for p, v in loud.items() if v >= self.threshold}
        if not candidates:
            return self.speaker
        best = max(sorted(candidates), key=lambda p: candidates[p])
        current = candidates.get(self.speaker) if self.speaker is not None else None
        if current is None or candidates[best] >= current * self.hysteresis:
            self.speaker = best
        return self.speaker
