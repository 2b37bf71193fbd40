"""Camera gateway: server CPU per extra viewer, passthrough against transcoding, in one run.

A server process (spawned, so its CPU time is its own) serves one 640×360 H.264 camera file
(MPEG-TS, the demo street, looping) to N = 1, 2, 4, 8 aiortc viewers in this process:

- passthrough: the camera gateway (media.gateway), H.264 packets sent as they are;
- transcode: what aiortc does with a decoded track: MediaPlayer decodes the file once,
  MediaRelay fans the frames out, and every viewer's RTCRtpSender encodes VP8.

For each N, after a warm-up, the server's CPU time (time.process_time, all its threads) per
second of wall time; the slope over N is the CPU per extra viewer. The viewers here count
the frames they receive without decoding them, so the client never starves the server.
Then tile start: offer → first frame decoded at the viewer, over `--starts` fresh viewers of
a file camera nobody else watches (the upstream opens each time), of one somebody already
watches (the cached IDR), and of a demo camera (its encoder starts). Last, `--demo-cameras`
demo cameras watched at once: what drawing and encoding them costs the server.

    .venv/bin/python bench/bench_gateway.py [--window 5] [--starts 30] [--demo-cameras 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, ClassVar

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc import rtcrtpreceiver as receiver_module
from common import Out, ServerProcess, quiet_logs, ratio, summarize_ms

from media.annexb import AccessUnit
from media.clock import SystemClock
from media.config import Camera, GatewayConfig
from media.demo import CHINA, DemoConfig, StreetScene
from media.gateway import Gateway
from media.sources import make_source
from media.upstream import Upstream

NS = (1, 2, 4, 8)
GOAL = 0.1  # passthrough CPU per extra viewer, as a share of transcoding's


# -- the camera file -----------------------------------------------------------------------


def write_camera_file(path: Path, *, seconds: float, fps: int, crf: int, kbps: int = 0) -> float:
    """The demo street as a 640×360 MPEG-TS camera recording; returns its bit rate in kbit/s."""
    from datetime import datetime

    config = DemoConfig(fps=fps)
    scene = StreetScene("基准测试 东门路口", "demo:bench", config)
    container = av.open(str(path), "w", format="mpegts")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = config.width, config.height, "yuv420p"
    if kbps:  # average bit rate instead of constant quality
        stream.codec_context.bit_rate = kbps * 1000
    rate = {} if kbps else {"crf": str(crf)}
    stream.codec_context.options = {
        "preset": "veryfast", "profile": "baseline", "threads": "1", **rate,
        "x264-params": f"keyint={2 * fps}:min-keyint={2 * fps}:scenecut=0:bframes=0",
    }  # fmt: skip
    for i in range(round(seconds * fps)):
        frame = av.VideoFrame.from_image(scene.render(i / fps, datetime.now(CHINA)))
        frame.pts, frame.time_base = i, Fraction(1, fps)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    return path.stat().st_size * 8 / seconds / 1000


# -- the server process --------------------------------------------------------------------


class FrameTrack(MediaStreamTrack):
    """One viewer of the decoded camera: the newest frame, as this viewer's own copy (aiortc's
    encoders rebase a frame's pts in place on executor threads, so they must not share one)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.latest: av.VideoFrame | None = None
        self.ready = asyncio.Event()

    def offer(self, frame: av.VideoFrame) -> None:
        self.latest = frame
        self.ready.set()

    async def recv(self) -> av.VideoFrame:
        await self.ready.wait()
        self.ready.clear()
        frame = self.latest
        assert frame is not None
        copy = av.VideoFrame(frame.width, frame.height, frame.format.name)
        for mine, theirs in zip(copy.planes, frame.planes, strict=True):
            mine.update(bytes(theirs))
        copy.pts, copy.time_base = frame.pts, frame.time_base
        return copy


class DecodedCamera:
    """The baseline, aiortc's normal path: the camera is read exactly as the gateway reads it
    (the same upstream, paced the same way), decoded once, and every viewer's RTCRtpSender
    encodes the frames to VP8. (aiortc's MediaPlayer(loop=True) restarts pts at each loop,
    which libvpx refuses, and stops pacing; so it is not used here.)"""

    def __init__(self, path: str) -> None:
        camera = Camera(1, "bench", path)
        self.upstream = Upstream(camera, lambda: make_source(path, name="bench"),
                                 GatewayConfig(), SystemClock())  # fmt: skip
        self.decoder = av.CodecContext.create("h264", "r")
        self.tracks: list[FrameTrack] = []

    def track(self) -> FrameTrack:
        track = FrameTrack()
        self.tracks.append(track)
        self.upstream.attach(self)
        return track

    def push(self, unit: AccessUnit) -> None:
        packet = av.Packet(unit.data)
        packet.pts, packet.time_base = unit.timestamp, Fraction(1, 90_000)
        for frame in self.decoder.decode(packet):
            assert isinstance(frame, av.VideoFrame)
            for track in self.tracks:
                track.offer(frame)

    def restart(self) -> None:
        pass


def serve(conn: Connection, mode: str, source: str) -> None:
    """Answer ("watch", camera_id, camera source, sdp), ("unwatch", id), ("cpu",), ("quit",)."""
    quiet_logs()
    asyncio.run(_serve(conn, mode, source))


async def _serve(conn: Connection, mode: str, source: str) -> None:
    loop = asyncio.get_running_loop()
    gateway = Gateway(GatewayConfig(demo=DemoConfig()))
    decoded = DecodedCamera(source) if mode == "transcode" else None
    vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"]
    transcoded: dict[str, RTCPeerConnection] = {}
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        kind, reply = message[0], None
        if kind == "watch":
            _, camera_id, spec, sdp = message
            if decoded is None:
                answer = await gateway.watch(Camera(camera_id, f"camera {camera_id}", spec), sdp)
                reply = (answer.viewer_id, answer.sdp)
            else:
                pc = RTCPeerConnection()
                pc.addTransceiver(decoded.track(), direction="sendonly").setCodecPreferences(vp8)
                await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                viewer_id = f"t{len(transcoded)}"
                transcoded[viewer_id] = pc
                reply = (viewer_id, pc.localDescription.sdp)
        elif kind == "unwatch":
            pc = transcoded.pop(message[1], None)
            if pc is not None:
                await pc.close()
            else:
                await gateway.unwatch(message[1])
        elif kind == "cpu":
            reply = (time.process_time(), time.monotonic())
        elif kind == "quit":
            await gateway.close()
            for pc in transcoded.values():
                await pc.close()
            if decoded is not None:
                await decoded.upstream.close()
            conn.send(None)
            return
        conn.send(reply)


# -- viewers -------------------------------------------------------------------------------


class CountingDecoder:
    """A viewer's decoder that counts frames, and decodes them only when told to."""

    def __init__(self, inner: Any, decode: bool) -> None:
        self.inner, self.decode_frames, self.frames = inner, decode, 0

    def decode(self, encoded_frame: Any) -> list[Any]:
        self.frames += 1
        return list(self.inner.decode(encoded_frame)) if self.decode_frames else []


class Decoders:
    """Every viewer decoder made in this process; `decode` is what new ones are told."""

    real = receiver_module.get_decoder
    made: ClassVar[list[CountingDecoder]] = []
    decode = True

    @classmethod
    def get_decoder(cls, codec: Any) -> CountingDecoder:
        decoder = CountingDecoder(cls.real(codec), cls.decode)
        cls.made.append(decoder)
        return decoder


class Viewer:
    """A tile: counts the frames that arrive (RTP marker bits) and notes the first decoded."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        receiver = self.pc.addTransceiver("video", direction="recvonly").receiver
        loop = asyncio.get_running_loop()
        self.first_frame = loop.create_future()  # decoded (aiortc holds a frame in its
        self.first_arrival = loop.create_future()  # jitter buffer until the next one starts)
        self.frames = 0
        self.viewer_id = ""
        self.pc.on("track", self._on_track)
        handle = receiver._handle_rtp_packet

        async def counted(packet: Any, arrival_time_ms: int) -> None:
            if packet.marker:
                self.frames += 1
                if not self.first_arrival.done():
                    self.first_arrival.set_result(time.perf_counter())
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = counted  # type: ignore[method-assign]

    def _on_track(self, track: Any) -> None:
        async def pull() -> None:
            try:
                await track.recv()
                if not self.first_frame.done():
                    self.first_frame.set_result(time.perf_counter())
                while True:
                    await track.recv()
            except Exception:
                return

        self._pull = asyncio.ensure_future(pull())

    async def watch(self, server: ServerProcess, camera_id: int, spec: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.viewer_id, sdp = await server.ask(
            "watch", camera_id, spec, self.pc.localDescription.sdp
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    async def close(self, server: ServerProcess) -> None:
        await self.pc.close()
        await server.ask("unwatch", self.viewer_id)


async def measure(
    server: ServerProcess, viewers: list[Viewer], window: float
) -> tuple[float, float]:
    """(server CPU as % of one core, frames per viewer per second) over `window` seconds."""
    frames0 = sum(v.frames for v in viewers)
    cpu0, wall0 = await server.ask("cpu")
    await asyncio.sleep(window)
    cpu1, wall1 = await server.ask("cpu")
    frames = sum(v.frames for v in viewers) - frames0
    wall = wall1 - wall0
    return round(100 * (cpu1 - cpu0) / wall, 2), round(frames / wall / len(viewers), 1)


async def cpu_per_viewer(
    mode: str, source: str, args: argparse.Namespace, out: Out
) -> dict[str, Any]:
    """Server CPU (% of one core) and frames per viewer per second for each N."""
    server = ServerProcess(serve, mode, source)
    viewers: list[Viewer] = []
    rows: dict[str, Any] = {}
    Decoders.decode = False
    try:
        for n in NS:
            while len(viewers) < n:
                viewer = Viewer()
                await viewer.watch(server, 1, source)
                viewers.append(viewer)
            await asyncio.sleep(args.warmup)
            cpu, fps = await measure(server, viewers, args.window)
            rows[str(n)] = {"cpu_pct": cpu, "fps_per_viewer": fps}
            out.say(f"  {mode} N={n}: {rows[str(n)]}")
        for viewer in viewers:
            await viewer.close(server)
    finally:
        Decoders.decode = True
        await server.stop()
    return rows


def slope(rows: dict[str, Any]) -> float:
    """Least-squares CPU % per extra viewer over N."""
    xs = [float(n) for n in rows]
    ys = [rows[n]["cpu_pct"] for n in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                 / sum((x - mx) ** 2 for x in xs), 3)  # fmt: skip


async def tile_starts(source: str, args: argparse.Namespace, out: Out) -> dict[str, Any]:
    """Offer → first decoded frame, for fresh viewers of a file camera (cold and warm) and of
    a demo camera."""
    server = ServerProcess(serve, "passthrough", source)
    results: dict[str, Any] = {}
    try:
        cases = (("file, nobody else watching", 1, source, False),
                 ("file, already watched", 2, source, True),
                 ("demo camera, nobody else watching", 3, "demo:bench", False))  # fmt: skip
        for name, camera_id, spec, warm in cases:
            keeper = None
            if warm:
                keeper = Viewer()
                await keeper.watch(server, camera_id, spec)
                await asyncio.wait_for(keeper.first_frame, 10)
            arrived: list[float] = []
            decoded: list[float] = []
            for _ in range(args.starts):
                viewer = Viewer()
                began = time.perf_counter()
                await viewer.watch(server, camera_id, spec)
                decoded.append(await asyncio.wait_for(viewer.first_frame, 10) - began)
                arrived.append(viewer.first_arrival.result() - began)
                await viewer.close(server)
                await asyncio.sleep(0.05)
            if keeper is not None:
                await keeper.close(server)
            results[f"{name}: decoded"] = summarize_ms(decoded)
            results[f"{name}: arrived"] = summarize_ms(arrived)
            out.say(f"  tile start, {name}: p50 {results[f'{name}: decoded']['p50_ms']} ms")
    finally:
        await server.stop()
    return results


async def demo_load(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    """`--demo-cameras` demo cameras, one viewer each: the server's CPU (draw + encode + send)."""
    server = ServerProcess(serve, "passthrough", "")
    viewers: list[Viewer] = []
    Decoders.decode = False
    try:
        for n in range(args.demo_cameras):
            viewer = Viewer()
            await viewer.watch(server, 100 + n, f"demo:CAM{n:03d}")
            viewers.append(viewer)
        await asyncio.sleep(args.warmup + 1)
        cpu, fps = await measure(server, viewers, args.window)
        result = {"cameras": args.demo_cameras, "cpu_pct": cpu, "fps_per_camera": fps,
                  "fps_wanted": DemoConfig().fps}  # fmt: skip
        out.say(f"  {args.demo_cameras} demo cameras: {result}")
        for viewer in viewers:
            await viewer.close(server)
    finally:
        Decoders.decode = True
        await server.stop()
    return result


async def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    receiver_module.get_decoder = Decoders.get_decoder  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="ch-bench-gateway-") as tmp:
        source = str(Path(tmp) / "camera.ts")
        kbps = write_camera_file(Path(source), seconds=args.seconds, fps=args.fps, crf=args.crf,
                                 kbps=args.kbps)  # fmt: skip
        out.say(f"camera file: 640×360, {args.fps} fps, {kbps:.0f} kbit/s, {os.cpu_count()} cores")
        passthrough = await cpu_per_viewer("passthrough", source, args, out)
        transcode = await cpu_per_viewer("transcode", source, args, out)
        starts = await tile_starts(source, args, out)
        demo = await demo_load(args, out) if args.demo_cameras else {}
    per_pass, per_trans = slope(passthrough), slope(transcode)
    return {
        "source_kbps": round(kbps), "fps": args.fps, "cores": os.cpu_count(),
        "passthrough": passthrough, "transcode": transcode,
        "cpu_pct_per_viewer": {"passthrough": per_pass, "transcode": per_trans},
        "ratio": ratio(per_pass, per_trans), "goal_ratio": GOAL,
        "tile_start": starts, "demo": demo,
    }  # fmt: skip


def report(r: dict[str, Any], out: Out) -> list[str]:
    out.say("")
    rows = {}
    for mode in ("passthrough", "transcode"):
        for n, figures in r[mode].items():
            rows[f"{mode} N={n}"] = figures
    out.stats("server CPU, % of one core", rows, ("cpu_pct", "fps_per_viewer"))
    per = r["cpu_pct_per_viewer"]
    out.say(f"per extra viewer: passthrough {per['passthrough']} %, transcode {per['transcode']} % "
            f"of a core → ratio {r['ratio']} (goal ≤ {GOAL})")  # fmt: skip
    out.stats(
        "tile start (offer → first frame)", r["tile_start"], ("n", "p50_ms", "p95_ms", "max_ms")
    )
    out.say(
        "(decoded = aiortc's receiver, which holds a frame until the next one starts: a tile "
        "joining a watched camera gets the cached IDR at once ('arrived'), but aiortc shows "
        "it only when the next IDR comes; Chromium shows it on arrival)"
    )
    demo = r["demo"]
    if demo:
        out.say(f"{demo['cameras']} demo cameras, one viewer each: {demo['cpu_pct']} % of one core "
                f"(of {r['cores']} cores), {demo['fps_per_camera']} fps each")  # fmt: skip
    failures = []
    if not (isinstance(r["ratio"], float) and r["ratio"] <= GOAL):
        failures.append(f"passthrough/transcode per viewer is {r['ratio']}, goal ≤ {GOAL}")
    for mode in ("passthrough", "transcode"):
        for n, figures in r[mode].items():
            if figures["fps_per_viewer"] < 0.8 * r["fps"]:
                failures.append(f"{mode} N={n}: viewers got {figures['fps_per_viewer']} fps")
    if demo and demo["fps_per_camera"] < 0.9 * demo["fps_wanted"]:
        failures.append(f"demo cameras ran at {demo['fps_per_camera']} fps")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured per N")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--starts", type=int, default=30, help="tile starts per case")
    parser.add_argument("--fps", type=int, default=15, help="frame rate of the camera file")
    parser.add_argument("--crf", type=int, default=23, help="x264 quality of the camera file")
    parser.add_argument("--kbps", type=int, default=0, help="a bit rate instead of --crf")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the camera file")
    parser.add_argument("--demo-cameras", type=int, default=16, help="0 skips the demo load")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    quiet_logs()
    out = Out(args.quiet)
    r = asyncio.run(run(args, out))
    failures = report(r, out)
    for failure in failures:
        print(f"bench_gateway: FAILED {failure}", file=sys.stderr)
    out.result({"bench": "gateway", "ok": not failures, **r})
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
