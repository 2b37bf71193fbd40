"""The conference MCU with real aiortc peers on loopback.

Each participant is an aiortc `RTCPeerConnection` that sends a camera of one solid colour
and a microphone playing one pure tone, and keeps what it receives: the composite (decoded
by aiortc, as a browser would) and the audio. Colours are read by sampling the composite;
tones by their power at each frequency (Goertzel, which is one DFT bin).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import uuid
from array import array
from collections.abc import Iterator
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import aioice.ice
import av
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from PIL import Image

from media.annexb import is_keyframe, split_nal_units
from media.conference import MAX_PARTICIPANTS, Participant, Recording, RoomError, RoomState
from media.mcu import EmbeddedConferences
from media.mcu.compose import PLATE
from media.mcu.layout import gallery
from media.mcu.room import RoomConfig
from tests.support import run_scenario, until

FPS = 15
RATE = 48_000
COLOURS = {"red": (230, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 230)}
TONES = {"red": 500.0, "green": 1300.0, "blue": 2900.0}


# -- a participant stand-in ------------------------------------------------------------------


class ColourTrack(MediaStreamTrack):
    """A camera that films one colour, 320×240 at 15 fps."""

    kind = "video"

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        image = Image.new("RGB", (320, 240), rgb)
        self.frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
        self.index, self.started = 0, time.monotonic()

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        due = self.started + self.index / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = av.VideoFrame(320, 240, "yuv420p")
        for mine, theirs in zip(frame.planes, self.frame.planes, strict=True):
            mine.update(bytes(theirs))
        frame.pts, frame.time_base = self.index, Fraction(1, FPS)
        self.index += 1
        return frame


class DarkCamera(MediaStreamTrack):
    """A camera that never delivers a frame (one still starting up, say)."""

    kind = "video"

    async def recv(self) -> av.VideoFrame:
        await asyncio.Event().wait()  # until the connection closes and cancels this
        raise MediaStreamError


class ToneTrack(MediaStreamTrack):
    """A microphone that plays one sine tone, 20 ms frames of 48 kHz stereo s16."""

    kind = "audio"

    def __init__(self, hz: float, amplitude: float = 0.25) -> None:
        super().__init__()
        self.hz, self.amplitude = hz, amplitude
        self.samples, self.started = 0, time.monotonic()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        due = self.started + self.samples / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        n, peak = 960, 32767 * self.amplitude
        pcm = array("h")
        for i in range(self.samples, self.samples + n):
            value = int(peak * math.sin(2 * math.pi * self.hz * i / RATE))
            pcm.extend((value, value))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=n)
        frame.planes[0].update(pcm.tobytes())
        frame.pts, frame.sample_rate, frame.time_base = self.samples, RATE, Fraction(1, RATE)
        self.samples += n
        return frame


class Peer:
    """One participant: sends its colour and tone, keeps the composite and audio it gets."""

    def __init__(
        self,
        colour: str,
        *,
        video: bool = True,
        loudness: float = 0.25,
        camera: MediaStreamTrack | None = None,
    ) -> None:
        self.colour = colour
        self.pc = RTCPeerConnection()
        if video:
            self.pc.addTrack(camera or ColourTrack(COLOURS[colour]))
        self.pc.addTrack(ToneTrack(TONES[colour], loudness))
        self.frames: list[av.VideoFrame] = []  # the last few composites
        self.received = 0  # composites decoded
        self.pcm = bytearray()
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    @property
    def id(self) -> str:
        return f"user:{self.colour}"

    def _on_track(self, track: MediaStreamTrack) -> None:
        async def pull() -> None:
            try:
                while True:
                    frame = await track.recv()
                    if isinstance(frame, av.VideoFrame):
                        self.frames = [*self.frames[-4:], frame]
                        self.received += 1
                    elif isinstance(frame, av.AudioFrame):
                        self.pcm += bytes(frame.planes[0])[: frame.samples * 4]
            except MediaStreamError:
                return

        self._tasks.append(asyncio.ensure_future(pull()))

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def join(self, mcu: EmbeddedConferences, room: str, name: str | None = None) -> None:
        sdp = await self.offer()
        who = Participant(self.id, name or f"{self.colour} 网格员")
        answer = await asyncio.to_thread(mcu.join, room, who, sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()

    def kill(self) -> None:
        """Vanish without a goodbye: close the UDP sockets, so no DTLS close_notify is sent
        and the MCU hears only that consent checks stop being answered."""
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.sender.transport.transport._connection
            for protocol in connection._protocols:
                protocol.transport.close()

    def recent_pcm(self, seconds: float) -> list[int]:
        """The last `seconds` of what this peer heard, as mono samples."""
        data = array("h", bytes(self.pcm[-int(seconds * RATE) * 4 :]))
        return [(data[i] + data[i + 1]) // 2 for i in range(0, len(data) - 1, 2)]


def tone_power(samples: list[int], hz: float) -> float:
    """Power of `samples` at `hz` (Goertzel), normalised by length."""
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples)) ** 2


def colour_at(image: Image.Image, x: int, y: int) -> str | None:
    """The named colour nearest the pixel at (x, y), if it is close to one."""
    pixel = image.getpixel((x, y))
    assert isinstance(pixel, tuple)
    rgb = pixel[:3]
    best = min(COLOURS, key=lambda c: math.dist(COLOURS[c], rgb))
    distance = math.dist(COLOURS[best], rgb)
    return best if distance < 60 else None


def tile_colours(image: Image.Image, state: RoomState) -> dict[str, str | None]:
    """Participant id → the colour at the middle of its tile (above the name strip)."""
    ids = [p.id for p in state.participants]
    rects = gallery(ids, state.speaker, image.width, image.height)
    return {
        pid: colour_at(image, r.x + r.width // 2, r.y + r.height // 3) for pid, r in rects.items()
    }


def colours_seen(image: Image.Image) -> set[str]:
    found = {
        colour_at(image, x, y)
        for x in range(8, image.width, 16)
        for y in range(8, image.height, 16)
    }
    return {c for c in found if c is not None}


# Scenarios here get 40 s unless they say otherwise.
run = partial(run_scenario, timeout=40.0)


@pytest.fixture
def mcu(tmp_path: Path) -> Iterator[EmbeddedConferences]:
    service = EmbeddedConferences(data_dir=tmp_path, config=RoomConfig(connect_timeout=10))
    service.start()
    yield service
    service.stop()


class Heard:
    """Every RoomState the listeners were given, and on which thread."""

    def __init__(self, mcu: EmbeddedConferences) -> None:
        self.states: list[RoomState] = []
        self.threads: set[str] = set()
        mcu.listen(self._hear)

    def _hear(self, state: RoomState) -> None:
        self.states.append(state)
        self.threads.add(threading.current_thread().name)

    def last(self) -> RoomState:
        return self.states[-1]


# -- the scenarios ---------------------------------------------------------------------------


def test_three_peers_see_the_others_and_hear_the_others_but_not_themselves(
    mcu: EmbeddedConferences, tmp_path: Path
) -> None:
    heard = Heard(mcu)

    async def scenario() -> tuple[Recording, float]:
        mcu.open("case-17")
        # blue speaks loudest: it becomes the active speaker, enlarged
        peers = [Peer("red", loudness=0.1), Peer("green", loudness=0.1), Peer("blue", loudness=0.4)]
        for peer in peers:
            await peer.join(mcu, "case-17")
        await until(lambda: all(len(p.pcm) > 3 * RATE * 4 for p in peers), 20, "3 s of audio")
        state = mcu.state("case-17")
        assert state is not None and len(state.participants) == 3
        for peer in peers:
            image = peer.frames[-1].to_image()
            assert (image.width, image.height) == (640, 480)
            others = {p.colour for p in peers if p is not peer}
            seen = colours_seen(image)
            assert others <= seen, f"{peer.colour} sees {seen}, not the others {others}"
            samples = peer.recent_pcm(1.0)
            power = {p.colour: tone_power(samples, TONES[p.colour]) for p in peers}
            own = power[peer.colour]
            for other in others:
                assert power[other] > 100 * own, f"{peer.colour} hears {power}"
        # the gallery is laid out as the layout function says, the speaker enlarged top left
        await until(lambda: any(s.speaker for s in heard.states), 5, "an active speaker")
        state = mcu.state("case-17")
        assert state is not None and state.speaker == peers[2].id
        assert any(s.speaker == peers[2].id for s in heard.states)  # listeners were told
        await asyncio.sleep(0.3)  # the next composites have the new layout
        image = peers[0].frames[-1].to_image()
        assert tile_colours(image, state) == {p.id: p.colour for p in peers}
        assert colour_at(image, 100, 100) == "blue"  # inside the big top-left tile

        # one leaves: the others get a two-tile picture without it, and hear it no more
        await asyncio.to_thread(mcu.leave, "case-17", peers[2].id)
        await peers[2].close()
        left = len(peers[0].pcm)
        await until(lambda: len(peers[0].pcm) > left + RATE * 4 * 1.5, 10, "1.5 s more audio")
        state = mcu.state("case-17")
        assert state is not None and [p.id for p in state.participants] == [
            peers[0].id,
            peers[1].id,
        ]
        image = peers[0].frames[-1].to_image()
        assert "blue" not in colours_seen(image)
        rects = gallery([peers[0].id, peers[1].id], state.speaker, 640, 480)
        assert rects[peers[0].id].width == 320  # side by side
        assert tile_colours(image, state) == {peers[0].id: "red", peers[1].id: "green"}
        samples = peers[0].recent_pcm(1.0)
        assert tone_power(samples, TONES["blue"]) < tone_power(samples, TONES["green"]) / 100

        began = mcu.state("case-17")
        assert began is not None
        ended_at = time.time()
        recording = await asyncio.to_thread(mcu.end, "case-17")
        for peer in peers[:2]:
            await peer.close()
        assert recording is not None
        assert recording.path == "recordings/case-17.mp4"
        assert set(recording.participants) == {p.id for p in peers}
        return recording, ended_at - began.participants[0].joined_at

    recording, wall = run(scenario)
    file = recording.file(tmp_path)
    assert file.exists() and file.stat().st_size == recording.size > 10_000
    with av.open(str(file)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
        pictures = [f.time for f in container.decode(video=0) if f.time is not None]
    with av.open(str(file)) as container:
        sounds = [(f.time, f.samples) for f in container.decode(audio=0) if f.time is not None]
    # decoded to the end: the last picture and the last sound are where the length says
    assert len(pictures) > 2 * FPS and len(sounds) > 2 * RATE / 1024  # (fewer under load)
    video_end = max(pictures) + 1 / FPS
    audio_end = max(t + n / RATE for t, n in sounds)
    assert abs(video_end - recording.seconds) < 0.5, (video_end, recording.seconds)
    assert abs(audio_end - recording.seconds) < 0.5, (audio_end, recording.seconds)
    # from the first join to end(), less the first picture's setup (ICE, DTLS, an IDR)
    assert abs(recording.seconds - wall) < 0.5, (recording.seconds, wall)
    # listeners heard it live, off the media loop, and last that the room ended
    assert heard.last().ended and heard.last().reason == "ended"
    assert max(len(s.participants) for s in heard.states) == 3
    assert not any(name.startswith("mcu-loop") for name in heard.threads), heard.threads


def test_the_first_participant_sees_its_name_plate_before_any_frame_of_its_own(
    mcu: EmbeddedConferences,
) -> None:
    """Alone in a new room, and its camera has given nothing yet: the composite still
    comes as soon as the connection is up (its name on a plate), decodable from its first
    picture, and whoever joins next is added to it."""

    async def scenario() -> None:
        mcu.open("r-alone")
        first = Peer("red", camera=DarkCamera())
        await first.join(mcu, "r-alone")
        room = mcu.room("r-alone")
        assert room is not None
        await until(lambda: first.received > 0, 10, "a composite while alone")
        assert room.members[first.id].frame is None  # nothing of its camera was decoded
        image = first.frames[0].to_image()
        assert math.dist(image.getpixel((image.width // 2, image.height // 5)), PLATE) < 30
        second = Peer("green")
        await second.join(mcu, "r-alone")
        state = mcu.state("r-alone")
        assert state is not None
        await until(lambda: tile_colours(first.frames[-1].to_image(), state)[second.id]
                    == "green", 10, "the second participant's picture")  # fmt: skip
        for peer in (first, second):
            await peer.close()

    run(scenario)


def test_the_quiet_share_one_encoding_of_the_mix_and_the_one_talking_hears_only_them(
    mcu: EmbeddedConferences,
) -> None:
    async def scenario() -> None:
        mcu.open("r-talk", record=False)
        red, green, blue = Peer("red"), Peer("green", loudness=0.0), Peer("blue", loudness=0.0)
        for peer in (red, green, blue):
            await peer.join(mcu, "r-talk")
        room = mcu.room("r-talk")
        assert room is not None
        await until(lambda: all(len(p.pcm) > 2 * RATE * 4 for p in (red, green, blue)), 10,
                    "2 s of audio each")  # fmt: skip
        for quiet in (green, blue):
            assert tone_power(quiet.recent_pcm(0.5), TONES["red"]) > 1e3
        assert tone_power(red.recent_pcm(0.5), TONES["red"]) < 1.0
        assert set(room.voices.own) == {red.id}  # an encoder of its own: the talker only
        ticks, encodes = room.voices.ticks, room.voices.encodes
        await asyncio.sleep(1.0)
        ticks, encodes = room.voices.ticks - ticks, room.voices.encodes - encodes
        assert ticks > 10 and abs(encodes - 2 * ticks) <= 2, (ticks, encodes)  # not 3 a tick
        for peer in (red, green, blue):
            await peer.close()

    run(scenario)


def hide_addresses(sdp: str) -> str:
    """The offer as a browser without camera access sends it: each candidate's address
    replaced by an mDNS name (here one that nobody answers for)."""
    lines = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            bits = line.split()
            bits[4] = f"{uuid.uuid4()}.local"
            line = " ".join(bits)
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def test_an_offer_with_mdns_candidates_is_answered_before_they_resolve_and_connects(
    mcu: EmbeddedConferences, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aioice.ice")

    def unresolved() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "could not be resolved" in r.getMessage()]

    async def scenario() -> None:
        mcu.open("r-mdns", record=False)
        peer = Peer("red")
        offer = hide_addresses(await peer.offer())
        who = Participant(peer.id, "红 · 值班员")
        answer = await asyncio.to_thread(mcu.join, "r-mdns", who, offer)
        assert not unresolved()  # the answer did not wait for the lookups (1 s each here)
        await peer.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
        # The peer's own checks reach the MCU's address candidates: connected all the same.
        await until(lambda: peer.received > 0, 10, "a composite")
        await until(lambda: bool(unresolved()), 5, "the lookups, after the answer")
        await peer.close()

    run(scenario)


def test_malformed_sdp_is_refused_and_the_room_keeps_working(mcu: EmbeddedConferences) -> None:
    async def scenario() -> None:
        mcu.open("r-sdp")
        red = Peer("red")
        await red.join(mcu, "r-sdp")
        await until(lambda: bool(red.frames), 10, "a composite")
        who = Participant("user:bad", "坏人")
        for sdp, field in (("hello", "sdp"), ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "sdp")):
            with pytest.raises(RoomError) as error:
                await asyncio.to_thread(mcu.join, "r-sdp", who, sdp)
            assert (error.value.code, error.value.field) == ("invalid", field), error.value.message
        with pytest.raises(RoomError) as error:
            await asyncio.to_thread(mcu.join, "r-sdp", who, await Peer("blue").offer(), "answer")
        assert (error.value.code, error.value.field) == ("invalid", "type")
        # a VP8-only offer: the composite is H.264, so that is named as the problem
        vp8 = Peer("blue")
        sdp = "\r\n".join(line for line in (await vp8.offer()).split("\r\n")
                          if "H264" not in line and "rtx" not in line)  # fmt: skip
        with pytest.raises(RoomError) as error:
            await asyncio.to_thread(mcu.join, "r-sdp", who, sdp)
        assert "H.264" in error.value.message
        with pytest.raises(RoomError) as error:
            await asyncio.to_thread(mcu.join, "no-such-room", who, await Peer("blue").offer())
        assert error.value.code == "not_found"
        state = mcu.state("r-sdp")
        assert state is not None and [p.id for p in state.participants] == [red.id]
        pictures, sound = red.received, len(red.pcm)
        await asyncio.sleep(1.0)
        assert red.received >= pictures + 10 and len(red.pcm) >= sound + RATE * 4 // 2
        assert "red" in colours_seen(red.frames[-1].to_image())
        await asyncio.to_thread(mcu.end, "r-sdp")
        await red.close()

    run(scenario)


def test_the_tenth_participant_is_refused_and_the_nine_keep_going(
    mcu: EmbeddedConferences,
) -> None:
    async def scenario() -> None:
        mcu.open("r-full", record=False)
        peers = []
        for n in range(MAX_PARTICIPANTS):
            peer = Peer("red", video=n < 2)  # audio-only peers keep the test light
            peer.colour = f"p{n}"
            peers.append(peer)
            sdp = await peer.offer()
            answer = await asyncio.to_thread(
                mcu.join, "r-full", Participant(f"u{n}", f"第{n}人"), sdp
            )
            await peer.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
        tenth = Peer("blue")
        with pytest.raises(RoomError) as error:
            await asyncio.to_thread(
                mcu.join, "r-full", Participant("u10", "第十人"), await tenth.offer()
            )
        assert error.value.code == "full" and "limit is 9" in error.value.message
        state = mcu.state("r-full")
        assert state is not None and len(state.participants) == MAX_PARTICIPANTS
        before = [len(p.frames) + len(p.pcm) for p in peers]
        await until(lambda: all(len(p.pcm) > RATE * 4 for p in peers), 15, "audio to all nine")
        assert all(len(p.frames) + len(p.pcm) > b for p, b in zip(peers, before, strict=True))
        # rejoining with an id already in the room is not a tenth participant
        again = Peer("green")
        answer = await asyncio.to_thread(
            mcu.join, "r-full", Participant("u0", "第0人"), await again.offer()
        )
        await again.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
        await until(lambda: bool(again.frames), 10, "the rejoined peer's composite")
        assert await asyncio.to_thread(mcu.end, "r-full") is None  # not recorded
        for peer in [*peers, again, tenth]:
            await peer.close()

    run(scenario, timeout=60)


def test_a_vanished_peer_is_dropped_and_can_rejoin(
    mcu: EmbeddedConferences, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ICE consent checks every 0.2 s, failed after 3 misses: a dead peer is noticed in ~1 s.
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(aioice.ice, "CONSENT_FAILURES", 3)
    heard = Heard(mcu)

    async def scenario() -> None:
        mcu.open("r-fail", record=False)
        red, green = Peer("red"), Peer("green")
        await red.join(mcu, "r-fail")
        await green.join(mcu, "r-fail")

        def red_sees(colour: str) -> bool:
            return bool(red.frames) and colour in colours_seen(red.frames[-1].to_image())

        def dropped() -> bool:
            return any(s.reason and "user:green dropped" in s.reason for s in heard.states)

        await until(lambda: red_sees("green"), 10, "green in red's composite")
        green.kill()
        await until(dropped, 15, "green dropped")
        state = mcu.state("r-fail")
        assert state is not None and [p.id for p in state.participants] == ["user:red"]
        await until(lambda: "green" not in colours_seen(red.frames[-1].to_image()), 5, "green gone")
        again = Peer("green")
        await again.join(mcu, "r-fail")
        await until(lambda: "green" in colours_seen(red.frames[-1].to_image()), 10, "green back")
        state = mcu.state("r-fail")
        assert state is not None and [p.id for p in state.participants] == [
            "user:red",
            "user:green",
        ]
        await asyncio.to_thread(mcu.end, "r-fail")
        for peer in (red, green, again):
            await peer.close()

    run(scenario)


def test_a_keyframe_request_forces_an_idr_on_the_shared_encoder(
    mcu: EmbeddedConferences, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiortc import rtcrtpreceiver as receiver_module

    received: list[bytes] = []
    real = receiver_module.get_decoder

    class Keeping:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def decode(self, encoded_frame: Any) -> Any:
            received.append(bytes(encoded_frame.data))
            return self.inner.decode(encoded_frame)

    def get_decoder(codec: Any) -> Any:
        inner = real(codec)
        return Keeping(inner) if codec.mimeType.lower() == "video/h264" else inner

    monkeypatch.setattr(receiver_module, "get_decoder", get_decoder)

    async def scenario() -> None:
        mcu.open("r-idr", record=False)
        red, green = Peer("red"), Peer("green")
        await red.join(mcu, "r-idr")
        await green.join(mcu, "r-idr")
        room = mcu.room("r-idr")
        assert room is not None
        await until(lambda: len(received) > 40, 10, "pictures")  # past the newcomers' IDRs
        await asyncio.sleep(0.6)  # past the keyframe gap
        forced = room.encoder.forced
        mark = len(received)
        # what RTCRtpSender does on an RTCP PLI from green's browser
        sender = next(t.sender for t in room.members["user:green"].pc.getTransceivers()
                      if t.kind == "video")  # fmt: skip
        sender._send_keyframe()
        await until(lambda: room.encoder.forced > forced, 5, "a forced IDR")
        # every receiver gets the IDR (two decoders here, one per peer) well before the
        # next periodic one (2 s); a receiver that lost a packet of it asks again
        await until(
            lambda: sum(is_keyframe(split_nal_units(d)) for d in received[mark:]) >= 2,
            1.2,
            "the IDR at both receivers",
        )
        # ours, and any PLI green's own receiver sent meanwhile (it may lose a packet)
        assert room.members["user:green"].video_out.keyframe_requests >= 1
        await asyncio.to_thread(mcu.end, "r-idr")
        await red.close()
        await green.close()

    run(scenario)


def test_mute_and_camera_off_show_in_the_state_and_the_mix(mcu: EmbeddedConferences) -> None:
    async def scenario() -> None:
        mcu.open("r-mute", record=False)
        red, green = Peer("red"), Peer("green")
        await red.join(mcu, "r-mute")
        await green.join(mcu, "r-mute")
        await until(lambda: len(red.pcm) > 2 * RATE * 4, 10, "audio")
        assert tone_power(red.recent_pcm(0.5), TONES["green"]) > 1e3
        state = await asyncio.to_thread(mcu.mute, "r-mute", green.id, audio=False, video=False)
        assert [(p.audio, p.video) for p in state.participants] == [(True, True), (False, False)]
        mark = len(red.pcm)
        await until(lambda: len(red.pcm) > mark + RATE * 4, 5, "1 s more audio")
        samples = red.recent_pcm(0.5)
        assert tone_power(samples, TONES["green"]) < 1.0, tone_power(samples, TONES["green"])
        assert "green" not in colours_seen(red.frames[-1].to_image())  # the name plate instead
        with pytest.raises(RoomError) as error:
            mcu.mute("r-mute", "user:nobody", audio=False)
        assert error.value.code == "not_found" and error.value.field == "participant_id"
        await asyncio.to_thread(mcu.end, "r-mute")
        with pytest.raises(RoomError) as error:
            await asyncio.to_thread(
                mcu.join, "r-mute", Participant("x", "x"), await Peer("blue").offer()
            )
        assert error.value.code == "ended"
        await red.close()
        await green.close()

    run(scenario)


@pytest.mark.browser
def test_the_recording_plays_in_chromium(
    mcu: EmbeddedConferences, tmp_path: Path, chromium_driver: Any
) -> None:
    async def scenario() -> Recording | None:
        mcu.open("r-play")
        red, blue = Peer("red"), Peer("blue")
        await red.join(mcu, "r-play", "红 · 值班员")
        await blue.join(mcu, "r-play", "蓝 · 网格员")
        await until(lambda: len(red.pcm) > 3 * RATE * 4, 15, "3 s of audio")
        recording = await asyncio.to_thread(mcu.end, "r-play")
        await red.close()
        await blue.close()
        return recording

    recording = run(scenario)
    assert recording is not None
    page = tmp_path / "recordings" / "play.html"
    page.write_text(
        '<video id="v" src="r-play.mp4" muted autoplay playsinline></video>', encoding="utf-8"
    )
    chromium_driver.get(page.as_uri())
    deadline = time.monotonic() + 15
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = chromium_driver.execute_script(
            "const v = document.getElementById('v');"
            "return {t: v.currentTime, d: v.duration, w: v.videoWidth, h: v.videoHeight,"
            " error: v.error && v.error.code};"
        )
        if state["t"] > 1.0:
            break
        time.sleep(0.2)
    assert state.get("error") is None, state
    assert (state["w"], state["h"]) == (640, 480), state
    assert state["t"] > 1.0, f"Chromium did not play the recording: {state}"
    assert abs(state["d"] - recording.seconds) < 0.5, (state, recording.seconds)
    chromium_driver.save_screenshot(str(tmp_path / "playing.png"))
