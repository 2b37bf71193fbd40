"""The camera gateway with real aiortc peers on loopback: H.264 passes through untouched.

Each test plays a browser with an aiortc `RTCPeerConnection` (recvonly video). What it
received is read where aiortc hands complete access units to its decoder (a recording wrapper
around `aiortc.rtcrtpreceiver.get_decoder`), so the comparison is of NAL units after RTP
packetization, SRTP and depacketization. The server's aiortc encoders are wrapped to count
what they were asked to do.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import av
import pytest
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc import rtcrtpreceiver as receiver_module
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from PIL import Image, ImageChops, ImageDraw, ImageStat

from dispatch.adapters.orm import CameraRow
from dispatch.bootstrap import App
from media.annexb import access_units, is_keyframe, nal_type, split_nal_units
from media.clock import backoff_delay
from media.config import Camera, GatewayConfig
from media.demo import DemoConfig, StreetScene
from media.gateway import Answer, Gateway, WatchError
from media.sources import Source, make_source
from media.upstream import CameraStatus, State, Upstream
from tests.rtsp_server import RtspServer
from tests.support import (
    LiveServer,
    SocketClient,
    build_app,
    device_token,
    run_scenario,
    until,
    with_users,
)

FPS = 12


# -- a browser stand-in --------------------------------------------------------------------


class Client:
    """One tile: an aiortc peer that receives a camera and keeps the frames it decoded."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.pc.addTransceiver("video", direction="recvonly")
        self.frames: list[av.VideoFrame] = []
        self._pull: asyncio.Task[None] | None = None
        self.pc.on("track", self._on_track)

    def _on_track(self, track: Any) -> None:
        async def pull() -> None:
            try:
                while True:
                    self.frames.append(await track.recv())
            except Exception:  # the track ended
                return

        self._pull = asyncio.ensure_future(pull())

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, sdp: str, type: str = "answer") -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=type))

    async def watch(self, gateway: Gateway, camera: Camera) -> Answer:
        answer = await gateway.watch(camera, await self.offer(), "offer")
        await self.accept(answer.sdp, answer.type)
        return answer

    async def frames_at_least(self, n: int, timeout: float = 10.0) -> None:
        await until(lambda: len(self.frames) >= n, timeout, f"{n} frames (have {len(self.frames)})")

    async def close(self) -> None:
        await self.pc.close()
        if self._pull is not None:
            self._pull.cancel()


# Scenarios here get 30 s unless they say otherwise.
run = partial(run_scenario, timeout=30.0)


# -- instruments -----------------------------------------------------------------------------


class Recorder:
    """What each client's decoder was given: Annex-B access units, one list per receiver."""

    def __init__(self) -> None:
        self.streams: list[list[bytes]] = []

    def units(self, stream: int = 0) -> list[list[bytes]]:
        return [split_nal_units(data) for data in self.streams[stream]]


class Codecs:
    """How often the server's aiortc codecs encoded (must stay 0) or packed (passthrough)."""

    def __init__(self) -> None:
        self.encoded = 0
        self.packed = 0
        self.h264: list[H264Encoder] = []


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder, real = Recorder(), receiver_module.get_decoder

    class Recording:
        def __init__(self, inner: Any, sink: list[bytes]) -> None:
            self.inner, self.sink = inner, sink

        def decode(self, encoded_frame: Any) -> Any:
            self.sink.append(bytes(encoded_frame.data))
            return self.inner.decode(encoded_frame)

    def get_decoder(codec: Any) -> Any:
        recorder.streams.append([])
        return Recording(real(codec), recorder.streams[-1])

    monkeypatch.setattr(receiver_module, "get_decoder", get_decoder)
    return recorder


@pytest.fixture
def codecs(monkeypatch: pytest.MonkeyPatch) -> Codecs:
    counts = Codecs()
    real_init, real_pack = H264Encoder.__init__, H264Encoder.pack

    def init(self: H264Encoder) -> None:
        real_init(self)
        counts.h264.append(self)

    def pack(self: H264Encoder, packet: Any) -> Any:
        counts.packed += 1
        return real_pack(self, packet)

    def encode(real: Any) -> Any:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            counts.encoded += 1
            return real(self, *args, **kwargs)

        return counted

    monkeypatch.setattr(H264Encoder, "__init__", init)
    monkeypatch.setattr(H264Encoder, "pack", pack)
    monkeypatch.setattr(H264Encoder, "encode", encode(H264Encoder.encode))
    monkeypatch.setattr(Vp8Encoder, "encode", encode(Vp8Encoder.encode))
    return counts


class CountingSources:
    """The gateway's real source factory, counting the sources it made and opened."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config, self.made, self.opened, self.closed = config, 0, 0, 0

    def __call__(self, camera: Camera) -> Source:
        source = make_source(camera.source, name=camera.name, data_dir=self.config.data_dir,
                             demo=self.config.demo)  # fmt: skip
        self.made += 1
        outer = self
        real_open, real_close = source.open, source.close

        def opened() -> None:
            outer.opened += 1
            real_open()

        def closed() -> None:
            outer.closed += 1
            real_close()

        source.open, source.close = opened, closed  # type: ignore[method-assign]
        return source


# -- test videos ---------------------------------------------------------------------------


def write_video(
    path: Path, *, seconds: float, codec: str = "libx264", keyint: int = FPS, fmt: str | None = None
) -> None:
    """A moving picture (a bar sweeping across, the frame number in blocks) written by PyAV."""
    container = av.open(str(path), "w", format=fmt)
    stream = container.add_stream(codec, rate=FPS)
    stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
    if codec == "libx264":
        stream.codec_context.options = {
            "preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "threads": "1",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
        }  # fmt: skip
    for i in range(round(seconds * FPS)):
        image = Image.new("RGB", (320, 180), (30, 60, 90))
        draw = ImageDraw.Draw(image)
        draw.rectangle([(i * 13) % 320, 20, (i * 13) % 320 + 40, 160], fill=(250, 210, 60))
        for bit in range(8):
            if i >> bit & 1:
                draw.rectangle([bit * 20, 0, bit * 20 + 16, 14], fill=(255, 255, 255))
        frame = av.VideoFrame.from_image(image)
        frame.pts = i
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def file_access_units(path: Path) -> list[list[bytes]]:
    """The NAL units of each access unit of a raw H.264 file, parsed from its bytes."""
    return list(access_units(split_nal_units(path.read_bytes())))


def mp4_access_units(path: Path) -> list[list[bytes]]:
    """The NAL units of each sample of an MP4, read from their 4-byte length prefixes."""
    units: list[list[bytes]] = []
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data, at, nals = bytes(packet), 0, []
            while at < len(data):
                size = int.from_bytes(data[at : at + 4], "big")
                nals.append(data[at + 4 : at + 4 + size])
                at += 4 + size
            if nals:
                units.append(nals)
    return units


def without_parameter_sets(units: list[bytes]) -> list[bytes]:
    return [u for u in units if nal_type(u) not in (7, 8)]


def assert_same_sequence(received: list[list[bytes]], source: list[list[bytes]]) -> None:
    """The received access units are the source's, in order (the file loops), byte for byte."""
    assert received, "nothing was received"
    start = source.index(received[0])
    for n, unit in enumerate(received):
        expected = source[(start + n) % len(source)]
        assert unit == expected, f"access unit {n} differs from source unit {start + n}"


@pytest.fixture
def h264_file(tmp_path: Path) -> Path:
    path = tmp_path / "crossing.h264"
    write_video(path, seconds=2, fmt="h264")
    return path


def gateway_for(tmp_path: Path, **overrides: Any) -> tuple[Gateway, CountingSources]:
    config = GatewayConfig(data_dir=tmp_path, **overrides)
    sources = CountingSources(config)
    return Gateway(config, sources=sources), sources


# -- passthrough ---------------------------------------------------------------------------


def test_a_viewer_gets_the_files_nal_units_byte_for_byte_and_nothing_is_encoded(
    tmp_path: Path, h264_file: Path, recorder: Recorder, codecs: Codecs
) -> None:
    source = file_access_units(h264_file)
    assert len(source) == 2 * FPS

    async def scenario() -> None:
        gateway, _ = gateway_for(tmp_path)
        client = Client()
        await client.watch(gateway, Camera(1, "东门路口", "crossing.h264"))  # data_dir relative
        await client.frames_at_least(FPS * 3)  # more than one pass: the file loops
        track = gateway.viewers[next(iter(gateway.viewers))].track
        await client.close()
        await gateway.close()
        assert track.sent >= FPS * 3

    run(scenario)
    received = recorder.units(0)
    assert len(received) >= FPS * 3
    assert is_keyframe(received[0])  # a viewer starts at an IDR
    assert_same_sequence(received, source)
    # Nothing was encoded on the server: aiortc's H.264 "encoder" only packetized packets
    # and never opened libx264; the one decoder made was the client's.
    assert codecs.encoded == 0
    assert codecs.packed >= FPS * 3
    assert codecs.h264 and all(encoder.codec is None for encoder in codecs.h264)
    assert len(recorder.streams) == 1


def test_two_viewers_share_one_upstream_and_the_second_starts_at_the_cached_idr(
    tmp_path: Path, h264_file: Path, recorder: Recorder, codecs: Codecs
) -> None:
    source = file_access_units(h264_file)

    async def scenario() -> None:
        gateway, sources = gateway_for(tmp_path)
        camera = Camera(2, "西街菜市场", str(h264_file))
        first, second = Client(), Client()
        await first.watch(gateway, camera)
        await first.frames_at_least(FPS // 2 + 2)  # past the first IDR, mid-GOP
        upstream = gateway.upstream(camera.id)
        assert upstream is not None and upstream.last_keyframe is not None
        cached = upstream.last_keyframe.data
        await second.watch(gateway, camera)
        await second.frames_at_least(FPS)
        assert len(gateway.upstreams) == 1
        assert gateway.upstream(camera.id) is upstream
        assert len(upstream.sinks) == 2
        assert (sources.made, sources.opened) == (1, 1)
        # A picture at once: the last IDR (start codes become 4 bytes in RTP depacketizing).
        assert recorder.units(1)[0] == split_nal_units(cached)
        for client in (first, second):
            await client.close()
        await gateway.close()

    run(scenario)
    assert codecs.encoded == 0
    assert len(recorder.streams) == 2  # one decoder per client, none on the server
    for n in range(2):
        units = recorder.units(n)
        assert is_keyframe(units[0])
        assert all(unit in source for unit in units)
    # After the cached IDR the second viewer skips to the next IDR (it lacks the pictures
    # the P-frames in between refer to), then follows the source in order.
    later = recorder.units(1)[1:]
    assert is_keyframe(later[0])
    assert_same_sequence(later, source)


def test_the_upstream_closes_when_the_last_viewer_leaves_and_lingers_if_asked(
    tmp_path: Path, h264_file: Path
) -> None:
    async def scenario() -> None:
        gateway, sources = gateway_for(tmp_path)
        camera = Camera(3, "北门", str(h264_file))
        a, b = Client(), Client()
        answer_a = await a.watch(gateway, camera)
        answer_b = await b.watch(gateway, camera)
        await b.frames_at_least(3)
        upstream = gateway.upstream(camera.id)
        assert upstream is not None and upstream.running
        assert await gateway.unwatch(answer_a.viewer_id)
        await asyncio.sleep(0.2)
        assert upstream.running and len(upstream.sinks) == 1  # b still watches
        assert await gateway.unwatch(answer_b.viewer_id)
        await until(lambda: not upstream.running, 3, "the upstream to close")
        await until(lambda: sources.closed == 1, 3, "the source to close")
        assert gateway.upstreams == {}
        assert gateway.status([camera.id]) == [CameraStatus(camera.id, State.IDLE)]
        assert not await gateway.unwatch(answer_b.viewer_id)
        for client in (a, b):
            await client.close()

        lingering, sources = gateway_for(tmp_path, linger=0.6)
        c = Client()
        answer = await c.watch(lingering, camera)
        await c.frames_at_least(2)
        await lingering.unwatch(answer.viewer_id)
        await c.close()
        d = Client()
        await d.watch(lingering, camera)  # back within the linger: the same upstream
        await d.frames_at_least(2)
        assert sources.opened == 1
        await lingering.unwatch(next(iter(lingering.viewers)))
        await asyncio.sleep(0.2)
        assert lingering.upstreams, "closed before the linger ran out"
        await until(lambda: not lingering.upstreams, 3, "the lingering upstream to close")
        await d.close()
        await gateway.close()
        await lingering.close()

    run(scenario)


def test_an_mp4_is_remuxed_to_annex_b_with_the_same_slices(
    tmp_path: Path, recorder: Recorder, codecs: Codecs
) -> None:
    path = tmp_path / "recorded.mp4"
    write_video(path, seconds=2, fmt="mp4")
    source = [without_parameter_sets(u) for u in mp4_access_units(path)]

    async def scenario() -> None:
        gateway, _ = gateway_for(tmp_path)
        client = Client()
        await client.watch(gateway, Camera(4, "录像", str(path)))
        await client.frames_at_least(FPS)
        assert gateway.status([4])[0].state == State.ONLINE
        await client.close()
        await gateway.close()
        # Not black: the bar and the frame counter are there.
        picture = client.frames[-1].to_image()
        assert ImageStat.Stat(picture.convert("L")).stddev[0] > 20

    run(scenario)
    received = recorder.units(0)
    assert is_keyframe(received[0])
    kinds = {nal_type(u) for u in received[0]}
    assert {7, 8} <= kinds  # h264_mp4toannexb put SPS and PPS in front of the IDR
    assert_same_sequence([without_parameter_sets(u) for u in received], source)
    assert codecs.encoded == 0


def test_a_file_that_is_not_h264_is_refused_by_name_not_sent_black(tmp_path: Path) -> None:
    path = tmp_path / "old-dvr.mp4"
    write_video(path, seconds=1, codec="mpeg4", fmt="mp4")

    async def scenario() -> None:
        events: list[CameraStatus] = []
        gateway = Gateway(GatewayConfig(backoff_initial=5), on_status=events.append)
        client = Client()
        await client.watch(gateway, Camera(5, "老录像机", str(path)))
        await until(lambda: gateway.status([5])[0].state == State.OFFLINE, 5, "offline")
        status = gateway.status([5])[0]
        assert status.error is not None
        assert str(path) in status.error and "mpeg4" in status.error
        assert "H.264" in status.error
        assert events[-1].state == State.OFFLINE and events[-1].error == status.error
        await asyncio.sleep(0.3)
        assert client.frames == []  # nothing sent rather than a black picture
        await client.close()
        await gateway.close()

    run(scenario)


def test_a_source_that_is_not_a_camera_source_is_refused_by_name() -> None:
    with pytest.raises(Exception, match=r"'/srv/cam\.avi' is not supported"):
        make_source("/srv/cam.avi", name="x")
    with pytest.raises(Exception, match=r"http://.* is not supported"):
        make_source("http://example.org/live.flv", name="x")


# -- offline and back ----------------------------------------------------------------------


def test_a_removed_file_goes_offline_and_comes_back_with_back_off(
    tmp_path: Path, recorder: Recorder
) -> None:
    path = tmp_path / "short.h264"
    write_video(path, seconds=0.5, fmt="h264", keyint=3)
    kept = tmp_path / "kept.h264"
    shutil.copy(path, kept)

    async def scenario() -> None:
        events: list[CameraStatus] = []
        config = GatewayConfig(backoff_initial=0.05, backoff_max=0.2)
        gateway = Gateway(config, on_status=events.append)
        client = Client()
        await client.watch(gateway, Camera(6, "河堤", str(path)))
        await client.frames_at_least(3)
        upstream = gateway.upstream(6)
        assert upstream is not None and upstream.state == State.ONLINE
        path.unlink()  # the file is read again at its end: that fails
        await until(lambda: upstream.state == State.OFFLINE, 5, "offline")
        status = upstream.status()
        assert status.error == f"video file {path} does not exist"
        assert status.retry_in is not None and status.retry_in <= 0.2
        opens = upstream.opens
        await asyncio.sleep(0.6)
        assert upstream.opens >= opens + 2  # retried, at most 0.2 s apart
        assert upstream.state == State.OFFLINE
        shown = len(client.frames)
        shutil.copy(kept, path)
        await until(lambda: upstream.state == State.ONLINE, 5, "online again")
        await client.frames_at_least(shown + 4)  # the same viewer sees video again
        states = [e.state for e in events]
        assert states == [State.CONNECTING, State.ONLINE, State.OFFLINE, State.ONLINE]
        await client.close()
        await gateway.close()

    run(scenario)
    # The viewer was held back to an IDR after the reconnect: nothing undecodable was sent.
    received = recorder.units(0)
    assert all(unit in file_access_units(kept) for unit in received)


def test_an_rtsp_camera_is_read_over_tcp_and_passed_through_byte_for_byte(
    tmp_path: Path, h264_file: Path, recorder: Recorder, codecs: Codecs
) -> None:
    """An IP camera's RTSP stream (tests/rtsp_server.py: Digest login, RTP interleaved over
    the RTSP connection, large NAL units in FU-A fragments) reaches a viewer as sent."""
    source = file_access_units(h264_file)
    login = ("admin", "s3cret")
    with RtspServer(source, FPS, mtu=300, login=login) as camera_server:  # FU-A: most units
        url = f"rtsp://admin:s3cret@127.0.0.1:{camera_server.port}/Streaming/Channels/101"

        async def scenario() -> None:
            gateway, sources = gateway_for(tmp_path)
            client = Client()
            await client.watch(gateway, Camera(9, "卡口", url))
            await client.frames_at_least(FPS * 2)
            upstream = gateway.upstream(9)
            assert upstream is not None and upstream.state == State.ONLINE
            assert (sources.made, sources.opened) == (1, 1)
            await client.close()
            await gateway.close()

        run(scenario)
        methods, refused = camera_server.methods, camera_server.refused
    # the camera asked for the URL's credentials (Digest) once, then let every request in
    assert methods[:5] == ["OPTIONS", "DESCRIBE", "DESCRIBE", "SETUP", "PLAY"], methods
    assert refused == 1
    assert any(len(nal) > 300 for unit in source for nal in unit)  # FU-A was exercised
    received = recorder.units(0)
    assert len(received) >= FPS * 2
    assert is_keyframe(received[0])
    assert_same_sequence(received, source)
    assert codecs.encoded == 0


def test_an_unreachable_rtsp_camera_is_offline_with_its_password_hidden() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    url = f"rtsp://admin:s3cret@127.0.0.1:{port}/Streaming/Channels/101"

    async def scenario() -> None:
        gateway = Gateway(GatewayConfig(backoff_initial=0.05, backoff_max=0.1, open_timeout=3))
        client = Client()
        await client.watch(gateway, Camera(7, "卡口", url))
        upstream = gateway.upstream(7)
        assert upstream is not None
        await until(lambda: upstream.state == State.OFFLINE, 5, "offline")
        await until(lambda: upstream.opens >= 3, 5, "retries")
        error = upstream.status().error or ""
        assert f"rtsp://admin:***@127.0.0.1:{port}/Streaming/Channels/101" in error
        assert "s3cret" not in error
        await client.close()
        await gateway.close()

    run(scenario)


class FakeClock:
    """Time that moves only when the upstream sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.t += seconds
        await asyncio.sleep(0)


class Collect:
    """A viewer that keeps what it is given (no peer connection needed to watch back-off)."""

    def __init__(self) -> None:
        self.units: list[Any] = []
        self.restarts = 0

    def push(self, unit: Any) -> None:
        self.units.append(unit)

    def restart(self) -> None:
        self.restarts += 1


def test_back_off_doubles_to_its_cap_and_starts_over_after_video_flowed(tmp_path: Path) -> None:
    assert [backoff_delay(n, initial=1, cap=30) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    missing = tmp_path / "later.h264"

    async def scenario() -> None:
        clock, events = FakeClock(), []
        config = GatewayConfig(backoff_initial=0.1, backoff_max=1.0)
        camera = Camera(8, "桥头", str(missing))
        upstream = Upstream(camera, lambda: make_source(camera.source, name=camera.name),
                            config, clock, events.append)  # fmt: skip
        sink = Collect()
        upstream.attach(sink)
        await until(lambda: len(clock.sleeps) >= 7, 5, "seven attempts")
        assert clock.sleeps[:7] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
        assert upstream.state == State.OFFLINE
        write_video(missing, seconds=0.5, fmt="h264", keyint=3)
        await until(lambda: len(sink.units) >= 12, 10, "video after the file appeared")
        stamps = [u.timestamp for u in sink.units]
        assert stamps == sorted(set(stamps))  # one increasing timeline, loops included
        missing.unlink()
        before = len(events)
        await until(lambda: len(events) > before and events[-1].state == State.OFFLINE, 5,
                    "offline again")  # fmt: skip
        assert events[-1].retry_in == 0.1  # video had flowed: back to the first delay
        await upstream.close()
        assert upstream.state == State.IDLE

    run(scenario)


# -- demo cameras ----------------------------------------------------------------------------


def label_error(picture: Image.Image, scene: StreetScene) -> float:
    """Mean difference between the picture and the scene's name label where the label is
    opaque (the white letters and their black outline)."""
    crop = picture.crop(scene.label_box).convert("L")
    label = scene.label.convert("L")
    alpha = scene.label.getchannel("A").point(lambda a: 255 if a == 255 else 0)
    diff = ImageChops.difference(crop, label)
    return float(ImageStat.Stat(diff, mask=alpha).mean[0])


def test_demo_cameras_send_a_live_street_with_their_name_burned_in(
    recorder: Recorder, codecs: Codecs
) -> None:
    config = DemoConfig(keyframe_seconds=10)  # every IDR after the first one is a forced one
    cameras = [Camera(11, "东门路口", "demo:CAM011"), Camera(12, "人民广场", "demo:CAM012")]

    async def scenario() -> list[list[av.VideoFrame]]:
        gateway = Gateway(GatewayConfig(demo=config))
        clients = [Client(), Client()]
        for client, camera in zip(clients, cameras, strict=True):
            await client.watch(gateway, camera)
        for client in clients:
            await client.frames_at_least(FPS + 2)
        # A viewer that lost a picture (RTCP PLI) gets a fresh IDR at once, not in 10 s.
        upstream = gateway.upstream(11)
        assert upstream is not None
        assert upstream.last_keyframe is not None
        first_idr = upstream.last_keyframe.timestamp
        pc_receiver = clients[0].pc.getTransceivers()[0].receiver
        ssrc = pc_receiver.getSynchronizationSources()[0].source
        await pc_receiver._send_rtcp_pli(ssrc)
        await until(lambda: upstream.last_keyframe.timestamp > first_idr, 2, "a forced IDR")  # type: ignore[union-attr]
        await clients[0].frames_at_least(FPS * 2)
        for client in clients:
            await client.close()
        await gateway.close()
        return [client.frames for client in clients]

    frames = run(scenario)
    scenes = [StreetScene(c.name, c.source, config) for c in cameras]
    for own, other, shown in zip(scenes, reversed(scenes), frames, strict=True):
        first, later = shown[2].to_image(), shown[FPS + 1].to_image()
        assert first.size == (640, 360)
        moved = ImageStat.Stat(ImageChops.difference(first, later).convert("L")).mean[0]
        assert moved > 1.0, "the street does not move"
        assert label_error(later, own) < 40, "its own name is not in the picture"
        assert label_error(later, other) > 60, "another camera's name matches as well"
    assert codecs.encoded == 0  # libx264 ran once per camera in the source, not per viewer


# -- through Socket.IO -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("camera-gateway")
    # With the dashboard: it serves /assets (the Socket.IO client the browser test loads).
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    server = LiveServer(app).start()
    yield server
    server.stop()
    app.core.db.dispose()


def registry_status(app: App, camera_id: int) -> str:
    """What the camera registry (the cameras table) says of a camera."""
    with app.core.db.read() as session:
        row = session.get(CameraRow, camera_id)
        return row.status if row is not None else "missing"


def media_socket(url: str, auth: dict[str, Any] | None = None) -> socketio.Client:
    sio = SocketClient(reconnection=False)
    sio.connect(url, namespaces=["/media"], transports=["websocket"], auth=auth or {},
                wait_timeout=10)  # fmt: skip
    return sio


def test_a_wall_watches_a_demo_camera_through_the_media_namespace(served: LiveServer) -> None:
    app: App = served.app
    with app.core.db.read() as session:
        row = session.get(CameraRow, 1)
        assert row is not None and row.source.startswith("demo:")
    pushed: list[dict[str, Any]] = []
    sio = media_socket(served.url)  # anonymous: the demo allows anonymous screens
    sio.on("status", pushed.append, namespace="/media")

    def call(event: str, data: dict[str, Any]) -> Any:
        return sio.call(event, data, namespace="/media", timeout=30)

    async def scenario() -> None:
        client = Client()
        offer = await client.offer()
        request = {"camera_id": 1, "sdp": offer, "type": "offer"}
        answer = await asyncio.to_thread(call, "watch", request)
        assert "error" not in answer, answer
        assert answer["type"] == "answer" and "H264/90000" in answer["sdp"]
        assert "VP8" not in answer["sdp"]  # H.264 only: the gateway does not encode
        await client.accept(answer["sdp"], answer["type"])
        await client.frames_at_least(FPS)
        assert client.frames[-1].width == 640
        await until(lambda: registry_status(app, 1) == "online", 5, "the registry to know")
        status = await asyncio.to_thread(call, "status", {"camera_ids": [1, 2]})
        assert [c["state"] for c in status["cameras"]] == ["online", "idle"]
        assert status["cameras"][0]["viewers"] == 1
        hung_up = await asyncio.to_thread(call, "unwatch", {"viewer_id": answer["viewer_id"]})
        assert hung_up == {"ok": True}
        await client.close()

    run(scenario)
    assert any(c["camera_id"] == 1 and c["state"] == "online" for p in pushed for c in p["cameras"])
    # Bad requests are answered with an error naming the field.
    assert call("watch", {"camera_id": 99999, "sdp": "v=0", "type": "offer"})["error"] == {
        "code": "not_found", "message": "there is no camera 99999", "field": "camera_id",
    }  # fmt: skip
    assert call("watch", {"camera_id": "one", "sdp": "v=0"})["error"]["field"] == "camera_id"
    assert call("watch", {"camera_id": 1})["error"]["field"] == "sdp"
    no_h264 = call("watch", {"camera_id": 1, "sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                             "a=rtpmap:96 VP8/90000\r\n"})  # fmt: skip
    assert no_h264["error"]["code"] == "unsupported" and no_h264["error"]["field"] == "sdp"
    assert call("unwatch", {"viewer_id": "not-mine"})["error"]["code"] == "not_found"
    sio.disconnect()


def test_the_media_namespace_refuses_grid_workers_and_unknown_screens(served: LiveServer) -> None:
    app: App = served.app
    worker = sorted(app.names.workers)[0]
    with pytest.raises(socketio.exceptions.ConnectionError):
        media_socket(served.url, {"token": device_token(app, worker)})
    with pytest.raises(socketio.exceptions.ConnectionError):
        media_socket(served.url, {"token": "not-a-screen-token"})
    namespace = app.socketio.server.namespace_handlers["/media"]
    namespace.allow_anonymous = False
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            media_socket(served.url)
    finally:
        namespace.allow_anonymous = True


def test_a_disabled_camera_is_not_served(served: LiveServer) -> None:
    app: App = served.app
    with app.core.db.writer() as session:
        row = session.get(CameraRow, 2)
        assert row is not None
        previous, row.status = row.status, "disabled"
        session.commit()
    sio = media_socket(served.url)
    try:
        answer = sio.call("watch", {"camera_id": 2, "sdp": "v=0\r\nm=video 9 x 96\r\n"},
                          namespace="/media", timeout=10)  # fmt: skip
        assert answer["error"]["code"] == "disabled"
    finally:
        sio.disconnect()
        with app.core.db.writer() as session:
            session.get(CameraRow, 2).status = previous  # type: ignore[union-attr]
            session.commit()


def test_watch_refuses_what_the_gateway_cannot_answer() -> None:
    async def scenario() -> None:
        gateway = Gateway()
        camera = Camera(1, "x", "demo:x")
        with pytest.raises(WatchError) as wrong_type:
            await gateway.watch(camera, "v=0\r\nm=video 9\r\n", "answer")
        assert wrong_type.value.field == "type"
        with pytest.raises(WatchError) as no_video:
            await gateway.watch(camera, "v=0\r\nm=audio 9\r\n", "offer")
        assert no_video.value.field == "sdp"
        assert gateway.upstreams == {}  # nothing was opened for a refused offer
        await gateway.close()

    run(scenario)


def test_gateway_config_names_the_bad_value() -> None:
    with pytest.raises(
        ValueError, match=r"backoff_max \(1\) must not be below backoff_initial \(5\)"
    ):
        GatewayConfig(backoff_initial=5, backoff_max=1)
    with pytest.raises(ValueError, match="stall_timeout must be a positive number"):
        GatewayConfig(stall_timeout=0)
    with pytest.raises(ValueError, match=r"ice_servers\[0\] needs urls"):
        GatewayConfig(ice_servers=({"url": "stun:x"},))
    with pytest.raises(ValueError, match="demo fps must be 1-30, got 60"):
        DemoConfig(fps=60)


# What a wall tile does in Chromium: Socket.IO `watch`, then the first frame on a <video>.
TILE_JS = """
const [cameraId, done] = arguments;
async function socket() {
  if (!window.io) {
    await new Promise((ok, bad) => {
      const script = document.createElement("script");
      script.src = "/assets/vendor/socket.io.min.js";
      script.onload = ok; script.onerror = bad;
      document.head.append(script);
    });
  }
  window.media = window.media || io("/media", {transports: ["websocket"]});
  return window.media;
}
async function tile() {
  const media = await socket();
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", {direction: "recvonly"});
  const video = document.createElement("video");
  video.muted = true; video.autoplay = true;
  document.body.append(video);
  pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); };
  const began = performance.now();
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === "complete") ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok();
  });
  const answer = await media.timeout(30000).emitWithAck(
    "watch", {camera_id: cameraId, sdp: pc.localDescription.sdp, type: "offer"});
  if (answer.error) return answer;
  await pc.setRemoteDescription({sdp: answer.sdp, type: answer.type});
  const ms = await new Promise(
    (ok) => video.requestVideoFrameCallback(() => ok(performance.now() - began)));
  (window.tiles = window.tiles || []).push(pc);
  return {ms, width: video.videoWidth, height: video.videoHeight, index: window.tiles.length - 1};
}
tile().then(done, (e) => done({error: String(e)}));
"""
STATS_JS = """
const [index, done] = arguments;
window.tiles[index].getStats().then((report) => {
  let found = null;
  report.forEach((s) => { if (s.type === "inbound-rtp") found = s; });
  const codec = found && report.get(found.codecId);
  done(found && {frames: found.framesDecoded, keyframes: found.keyFramesDecoded,
                 codec: codec && codec.mimeType, fmtp: codec && codec.sdpFmtpLine});
});
"""


def test_chromium_decodes_the_passthrough_and_a_second_tile_starts_at_the_cached_idr(
    served: LiveServer, chromium_driver: Any
) -> None:
    driver = chromium_driver
    driver.set_script_timeout(40)
    driver.get(f"{served.url}/login")
    first = driver.execute_async_script(TILE_JS, 3)
    assert "error" not in first, first
    assert (first["width"], first["height"]) == (640, 360)
    time.sleep(1.5)  # past the next keyframe (one every 2 s), so the second tile is mid-GOP
    second = driver.execute_async_script(TILE_JS, 3)
    assert "error" not in second, second
    # The cached IDR is on screen at once; waiting for the next IDR would take up to 2 s.
    assert second["ms"] < 700, second
    time.sleep(2.5)
    for tile in (first, second):
        stats = driver.execute_async_script(STATS_JS, tile["index"])
        assert stats["codec"] == "video/H264"
        assert "packetization-mode=1" in stats["fmtp"]
        assert stats["frames"] >= 20, stats  # 12 fps, still playing
        assert stats["keyframes"] >= 2, stats
