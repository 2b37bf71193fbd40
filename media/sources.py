"""Where a camera's H.264 comes from: an RTSP URL, a video file, or a demo scene.

Every source hands out Annex-B access units stamped on a 90 kHz clock, IDRs with their SPS and
PPS in front. Nothing here decodes: PyAV only demuxes (FFmpeg's probing when a source opens
may look into its first frames to learn the picture size; never per frame, never per viewer).
MPEG-TS, raw .h264/.264 and RTSP carry Annex-B already; MP4 stores length-prefixed NAL units
and is remuxed with FFmpeg's `h264_mp4toannexb` bitstream filter. A file that does not hold
H.264 is refused with an error that names it, never sent as a black tile. Each pass over a
source starts at its first IDR: the pictures before it refer to ones nobody has.

Sources are blocking (PyAV), so the upstream calls them from a thread of its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import av
import av.bitstream
from av.packet import Packet

from media.annexb import AccessUnit, ParameterSets, split_nal_units
from media.demo import DemoConfig, DemoSource

CLOCK_RATE = 90_000  # the RTP clock of H.264 video (RFC 6184)
FILE_FORMATS = {".ts": "mpegts", ".h264": "h264", ".264": "h264", ".mp4": "mp4"}
SOURCE_FORMS = "rtsp://host/path, demo:<name>, or a .ts, .h264, .264 or .mp4 file"
DEFAULT_FPS = 25  # what FFmpeg assumes for raw H.264 without timing in its SPS


class SourceError(Exception):
    """A camera source cannot be opened or read; the message names the source and the cause."""


class Source(Protocol):
    """A camera's video as access units. `paced` sources deliver in real time by themselves
    (RTSP); the others (files, demo scenes) are paced by the upstream on their timestamps."""

    description: str
    paced: bool

    def open(self) -> None: ...

    def read(self) -> AccessUnit | None:
        """The next access unit, or None when the stream has ended."""
        ...

    def request_keyframe(self) -> bool:
        """Ask for an IDR soon; False when the source cannot make one (it is not an encoder)."""
        ...

    def close(self) -> None: ...


def mask_url(url: str) -> str:
    """The URL without the password it may carry, fit for logs and screens."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def make_source(
    spec: str,
    *,
    name: str,
    data_dir: Path | None = None,
    demo: DemoConfig | None = None,
    rtsp_transport: str = "tcp",
    timeout: float = 10.0,
) -> Source:
    """The source a camera's `source` string names (not opened yet).

    `rtsp://…`/`rtsps://…`, `demo:<anything>` (a synthetic street named `name`), or a file
    path ending .ts/.h264/.264/.mp4; a relative path is taken inside `data_dir`.
    """
    low = spec.strip().lower()
    if low.startswith(("rtsp://", "rtsps://")):
        options = {"rtsp_transport": rtsp_transport}
        return DemuxSource(spec, description=mask_url(spec), paced=True, loop=False,
                           options=options, timeout=timeout)  # fmt: skip
    if low.startswith("demo:"):
        return DemoSource(name=name, seed=spec, config=demo or DemoConfig())
    if "://" in low:
        raise SourceError(f"source {mask_url(spec)!r} is not supported; use {SOURCE_FORMS}")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in FILE_FORMATS:
        raise SourceError(f"source {spec!r} is not supported; use {SOURCE_FORMS}")
    if not path.is_absolute() and data_dir is not None:
        path = data_dir / path
    return DemuxSource(str(path), description=str(path), paced=False, loop=True,
                       format=FILE_FORMATS[suffix], is_file=True)  # fmt: skip


def _is_annexb(data: bytes) -> bool:
    return data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01"))


class DemuxSource:
    """H.264 demuxed by PyAV without decoding: RTSP, MPEG-TS, raw H.264, or MP4 remuxed.

    A file loops: at its end it is opened again (so a file removed meanwhile fails then) and
    its timestamps continue where the last pass ended.
    """

    def __init__(
        self,
        target: str,
        *,
        description: str,
        paced: bool,
        loop: bool,
        format: str | None = None,
        options: dict[str, str] | None = None,
        timeout: float | None = None,
        is_file: bool = False,
    ) -> None:
        self.target, self.description, self.paced, self.loop = target, description, paced, loop
        self.format, self.options, self.timeout, self.is_file = format, options, timeout, is_file
        self._container: Any = None
        self._packets: Iterator[Packet[Any]] | None = None
        self._filter: av.bitstream.BitStreamFilterContext | None = None
        self._pending: deque[Packet[Any]] = deque()
        self._params = ParameterSets()
        self._time_base = Fraction(1, CLOCK_RATE)
        self._frame_ticks = CLOCK_RATE // DEFAULT_FPS
        self._first: int | None = None  # the first timestamp of this pass, in the stream's base
        self._offset = 0  # where this pass starts on our 90 kHz timeline
        self._next = 0  # the timestamp the next access unit gets when it carries none
        self._decodable = False  # this pass has reached its first IDR

    def open(self) -> None:
        self._offset = self._next
        self._open()

    def _open(self) -> None:
        if self.is_file and not Path(self.target).is_file():
            raise SourceError(f"video file {self.description} does not exist")
        try:
            container = av.open(self.target, "r", format=self.format, options=self.options,
                                timeout=self.timeout)  # fmt: skip
        except av.FFmpegError as exc:
            raise SourceError(f"cannot open {self.description}: {self._reason(exc)}") from exc
        try:
            self._start(container)
        except BaseException:
            container.close()
            raise

    def _start(self, container: Any) -> None:
        if not container.streams.video:
            raise SourceError(f"{self.description} has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec != "h264":
            raise SourceError(
                f"{self.description} carries {codec} video, not H.264; the gateway passes "
                "video through without re-encoding, so convert the file to H.264 "
                "(constrained baseline) first"
            )
        self._filter = None
        if container.format.name.split(",")[0] in ("mov", "mp4"):
            self._filter = self._mp4_filter(stream)
        extradata = bytes(stream.codec_context.extradata or b"")
        if _is_annexb(extradata):
            self._params.learn(split_nal_units(extradata))
        self._time_base = stream.time_base or Fraction(1, CLOCK_RATE)
        rate = stream.average_rate or stream.guessed_rate
        if rate:
            self._frame_ticks = max(1, round(CLOCK_RATE / float(rate)))
        self._container, self._packets = container, container.demux(stream)
        self._first, self._decodable = None, False

    def _mp4_filter(self, stream: Any) -> av.bitstream.BitStreamFilterContext:
        name = "h264_mp4toannexb"
        if name not in av.bitstream.bitstream_filters_available:
            raise SourceError(
                f"{self.description} is MP4 (length-prefixed H.264) and this FFmpeg has no "
                f"{name} filter to remux it; convert it to MPEG-TS instead: "
                f"ffmpeg -i in.mp4 -c copy -bsf:v {name} out.ts"
            )
        return av.bitstream.BitStreamFilterContext(name, stream)

    def read(self) -> AccessUnit | None:
        while True:
            packet = self._next_packet()
            if packet is None:
                if not self.loop or self._container is None:
                    return None
                self._offset = self._next  # the next pass goes on from here
                self.close()
                self._open()
                continue
            data = bytes(packet)
            if not data:
                continue
            if not _is_annexb(data):
                raise SourceError(
                    f"{self.description} does not hold Annex-B H.264 (a packet starts "
                    f"{data[:4].hex()}); use MPEG-TS, raw .h264 or MP4"
                )
            complete, keyframe = self._params.complete(data)
            if not (keyframe or self._decodable):
                continue  # pictures before the first IDR refer to ones nobody has
            self._decodable = True
            return AccessUnit(complete, self._stamp(packet), keyframe)

    def _next_packet(self) -> Packet[Any] | None:
        if self._pending:
            return self._pending.popleft()
        if self._packets is None:
            return None
        try:
            for packet in self._packets:
                if packet.size == 0:  # the demuxer's end-of-stream marker
                    continue
                if self._filter is None:
                    return packet
                self._pending.extend(self._filter.filter(packet))
                if self._pending:
                    return self._pending.popleft()
        except av.FFmpegError as exc:
            raise SourceError(f"reading {self.description} failed: {self._reason(exc)}") from exc
        return None

    def _stamp(self, packet: Packet[Any]) -> int:
        """Decoding time on our 90 kHz timeline; raw H.264 has none, so frames count."""
        time_base = packet.time_base or self._time_base
        when = packet.dts if packet.dts is not None else packet.pts
        ticks = self._frame_ticks
        if packet.duration:
            ticks = max(1, round(packet.duration * time_base * CLOCK_RATE))
        if when is None:
            stamp = self._next
        else:
            if self._first is None:
                self._first = when
            stamp = self._offset + round((when - self._first) * time_base * CLOCK_RATE)
        self._next = max(self._next, stamp + ticks)
        return stamp

    def _reason(self, exc: av.FFmpegError) -> str:
        """FFmpeg's message, without the URL it quotes (which may carry a password)."""
        return str(exc).replace(self.target, self.description)

    def request_keyframe(self) -> bool:
        return False

    def close(self) -> None:
        container, self._container, self._packets = self._container, None, None
        self._pending.clear()
        if container is not None:
            container.close()
