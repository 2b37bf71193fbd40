"""One conference room on the media loop: peers in, one composite and minus-one mixes out.

Per participant: one aiortc peer connection; its video decoded once (aiortc's receiver) and
kept as the last frame; its audio decoded once and buffered as PCM. Per room: a video tick
(`fps`) composes the gallery and encodes it once on the room's own thread, then hands the
same packets to every participant's FanoutTrack and to the recorder; a participant whose
connection has just come up gets an IDR at once, out of turn (a room's first participant
sees its name plate before any frame of its own was decoded); an audio tick (20 ms)
mixes the buffered PCM of those talking minus-one for each of them and the full mix for
everyone else and the recorder, Opus-encodes each distinct mix once on the room's audio
thread (media.mcu.tracks), and follows who speaks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.candidates import answer
from media.conference import (
    MAX_PARTICIPANTS,
    JoinAnswer,
    Participant,
    Recording,
    RoomError,
    RoomState,
)
from media.gateway import MAX_SDP, h264_preferences
from media.mcu.compose import Compositor, Tile
from media.mcu.encoder import EncodedPicture, FanoutTrack, SharedEncoder
from media.mcu.jitter import install as install_marker_buffer
from media.mcu.layout import gallery
from media.mcu.mixer import (
    CHANNELS,
    CHUNK,
    SAMPLE_RATE,
    SILENCE,
    TICK,
    SpeakerTracker,
    VoiceGate,
    level,
    mix,
)
from media.mcu.recorder import Recorder
from media.mcu.tracks import MixTrack, VoiceEncoders

log = logging.getLogger(__name__)

ROOM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MAX_ID, MAX_NAME = 128, 64
AUDIO_BUFFER = 10 * CHUNK  # 200 ms of a participant's voice waiting for the mixer, at most
SPEAKER_EVERY = 10  # audio ticks between active-speaker decisions (200 ms)
LATENCY_SAMPLES = 2000
MAX_GAP_TICKS = 250  # silence written for a stall of the loop, at most (5 s)


@dataclass(frozen=True)
class RoomConfig:
    width: int = 640
    height: int = 480
    fps: int = 15
    crf: int = 26
    connect_timeout: float = 30.0  # a participant not connected after this is dropped
    font: Path | None = None


@dataclass
class Member:
    participant: Participant
    pc: RTCPeerConnection
    video_out: FanoutTrack
    audio_out: MixTrack
    frame: av.VideoFrame | None = None
    frame_at: float = 0.0  # monotonic arrival of `frame`
    shown_at: float = 0.0  # `frame_at` of the frame last composed
    pcm: bytearray = field(default_factory=bytearray)
    resampler: av.AudioResampler | None = None
    sees: bool = True  # the offer had video: it gets the composite
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _offered_h264(sdp: str) -> bool:
    return any("h264/90000" in line.lower() for line in sdp.splitlines() if "rtpmap" in line)


def check_offer(sdp: object, type: object) -> str:
    """The offer as a string, or RoomError naming what is wrong with it."""
    if type != "offer":
        raise RoomError("invalid", f"type must be 'offer', got {type!r}", "type")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or "\nm=" not in sdp:
        raise RoomError("invalid", "sdp must be an SDP offer (v=0 … with m= sections)", "sdp")
    if len(sdp) > MAX_SDP:
        raise RoomError("invalid", f"sdp is {len(sdp)} bytes; at most {MAX_SDP}", "sdp")
    if "\nm=video" in sdp and not _offered_h264(sdp):
        raise RoomError(
            "invalid",
            "the offer's video has no H.264; the conference picture is sent as H.264 "
            "(packetization-mode=1), so the browser must offer it",
            "sdp",
        )
    return sdp


def check_participant(participant: Participant) -> None:
    if not isinstance(participant.id, str) or not 0 < len(participant.id) <= MAX_ID:
        raise RoomError("invalid", f"participant id must be 1-{MAX_ID} characters, got "
                        f"{participant.id!r}", "participant_id")  # fmt: skip
    if not isinstance(participant.name, str) or not 0 < len(participant.name) <= MAX_NAME:
        raise RoomError("invalid", f"participant name must be 1-{MAX_NAME} characters, got "
                        f"{participant.name!r}", "name")  # fmt: skip


class Room:
    def __init__(
        self,
        room_id: str,
        *,
        record_to: Path | None,
        limit: int = MAX_PARTICIPANTS,
        ice_servers: tuple[dict[str, Any], ...] = (),
        config: RoomConfig | None = None,
        on_change: Callable[[RoomState], None] = lambda state: None,
    ) -> None:
        if not ROOM_ID.fullmatch(room_id):
            raise RoomError("invalid", "room id must be 1-64 letters, digits or _.:- starting "
                            f"with a letter or digit, got {room_id!r}", "room_id")  # fmt: skip
        if not 1 <= limit <= MAX_PARTICIPANTS:
            raise RoomError("invalid", f"limit must be 1-{MAX_PARTICIPANTS}, got {limit!r}",
                            "limit")  # fmt: skip
        self.room_id, self.limit, self.record_to = room_id, limit, record_to
        self.config = c = config or RoomConfig()
        self.ice = [RTCIceServer(**server) for server in ice_servers]
        self.on_change = on_change
        self.members: dict[str, Member] = {}
        self.ever: list[str] = []  # every participant id that joined, in order
        self.started_at = time.time()
        self.ended = False
        self.reason: str | None = None
        self.speakers = SpeakerTracker()
        self.gate = VoiceGate()
        self.voices = VoiceEncoders()
        self.compositor = Compositor(c.width, c.height, c.font)
        self.encoder = SharedEncoder(c.width, c.height, c.fps, crf=c.crf)
        self.recorder: Recorder | None = None
        self.recording: Recording | None = None
        # The room's own thread: composing and encoding stay in order and off the loop.
        self.thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"mcu-{room_id}")
        # Its audio thread: the mixes' Opus encoding, one hand-over per 20 ms tick.
        self.audio_thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix=f"mcu-audio-{room_id}"
        )
        # Each participant frame's wait, from its decoding to the composite's packets going out.
        self.latency: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.pictures = 0
        self._wake = asyncio.Event()  # a picture is wanted before the next tick
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._spawn(self._video_loop())
        self._spawn(self._audio_loop())

    def state(self) -> RoomState:
        return RoomState(
            self.room_id,
            tuple(m.participant for m in self.members.values()),
            self.speakers.speaker if self.speakers.speaker in self.members else None,
            self.ended,
            self.reason,
            self.limit,
            self.started_at,
        )

    def _changed(self, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        self.on_change(self.state())

    async def join(
        self, participant: Participant, sdp: object, type: object = "offer"
    ) -> JoinAnswer:
        check_participant(participant)
        offer = check_offer(sdp, type)
        if self.ended:
            raise RoomError("ended", f"room {self.room_id} has ended", "room_id")
        old = self.members.get(participant.id)
        if old is None and len(self.members) >= self.limit:
            raise RoomError("full", f"room {self.room_id} already has {len(self.members)} "
                            f"participants; the limit is {self.limit}", "room_id")  # fmt: skip
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self.ice or None))
        video_out = FanoutTrack(self.encoder.request_keyframe, self._picture_now)
        audio_out = MixTrack()
        member = Member(replace(participant, joined_at=time.time()), pc, video_out, audio_out)
        try:
            # Only the kinds offered: aiortc cannot answer with a transceiver of a kind the
            # offer lacks (an audio-only phone gets no picture, only the mix).
            member.sees = "\nm=video" in offer
            if member.sees:
                video = pc.addTransceiver(video_out, direction="sendrecv")
                video.setCodecPreferences(h264_preferences())
                # aiortc asks a track for a keyframe only when it encodes; this one's PLI /
                # FIR must reach the shared encoder (RTCRtpSender._handle_rtcp_packet).
                setattr(video.sender, "_send_keyframe", video_out.request_keyframe)  # noqa: B010
                # Decode each picture when its last packet arrives, not a frame later.
                install_marker_buffer(video.receiver)
            if "\nm=audio" in offer:
                pc.addTransceiver(audio_out, direction="sendrecv")
            pc.on("track", lambda track: self._on_track(member, track))
            later = await answer(pc, offer)  # mDNS candidates resolve after the answer
            if later is not None:
                member.tasks.append(later)
        except Exception as exc:
            await self._close_member(member)
            raise RoomError("invalid", f"cannot answer this offer: {exc!r}", "sdp") from exc
        if self.ended:  # ended while this offer was being answered
            await self._close_member(member)
            raise RoomError("ended", f"room {self.room_id} has ended", "room_id")
        if old is not None:  # a rejoin: the new connection replaces the old one
            self.members.pop(participant.id, None)
            await self._close_member(old)
        self.members[participant.id] = member
        if participant.id not in self.ever:
            self.ever.append(participant.id)
        if self.record_to is not None and self.recorder is None:
            self.recorder = Recorder(self.record_to, self.config.width, self.config.height,
                                     self.config.fps)  # fmt: skip

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._spawn(self._lost(participant.id, pc, pc.connectionState))

        @pc.on("iceconnectionstatechange")
        def _ice() -> None:
            # DTLS comes next (a round trip or two): have an IDR ready for the newcomer's
            # sender when it starts.
            if pc.iceConnectionState == "completed" and member.sees:
                self._picture_now()

        asyncio.get_running_loop().call_later(
            self.config.connect_timeout, lambda: self._spawn(self._expire(participant.id, pc))
        )
        self._changed()
        local = pc.localDescription
        return JoinAnswer(self.room_id, participant.id, local.sdp, local.type)

    async def _lost(self, participant_id: str, pc: RTCPeerConnection, why: str) -> None:
        member = self.members.get(participant_id)
        if member is None or member.pc is not pc or self.ended:
            return  # already gone, or replaced by a rejoin
        del self.members[participant_id]
        await self._close_member(member)
        self._forget(participant_id)
        self._changed(f"{participant_id} dropped: connection {why}")

    async def _expire(self, participant_id: str, pc: RTCPeerConnection) -> None:
        if pc.connectionState != "connected":
            await self._lost(participant_id, pc, "never connected")

    async def leave(self, participant_id: str) -> RoomState:
        member = self.members.pop(participant_id, None)
        if member is None:
            raise RoomError("not_found", f"{participant_id!r} is not in room {self.room_id}",
                            "participant_id")  # fmt: skip
        await self._close_member(member)
        self._forget(participant_id)
        self._changed(f"{participant_id} left")
        return self.state()

    def _forget(self, participant_id: str) -> None:
        self.speakers.forget(participant_id)
        self.gate.forget(participant_id)
        self.voices.forget(participant_id)

    def mute(self, participant_id: str, audio: bool | None, video: bool | None) -> RoomState:
        member = self.members.get(participant_id)
        if member is None:
            raise RoomError("not_found", f"{participant_id!r} is not in room {self.room_id}",
                            "participant_id")  # fmt: skip
        p = member.participant
        member.participant = replace(
            p, audio=p.audio if audio is None else bool(audio),
            video=p.video if video is None else bool(video),
        )  # fmt: skip
        if not member.participant.audio:
            member.pcm.clear()
        self._changed()
        return self.state()

    async def end(self, reason: str = "ended") -> Recording | None:
        if self.ended:
            return self.recording
        self.ended = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        last = self.tiles()
        members = list(self.members.values())
        self.members.clear()
        for member in members:
            await self._close_member(member)
        loop = asyncio.get_running_loop()
        if self.recorder is not None:
            recorder = self.recorder
            if recorder.pictures:  # one last picture, so the video lasts until now
                await loop.run_in_executor(self.thread, self._picture, last)
            seconds = await loop.run_in_executor(self.thread, recorder.close)
            size = recorder.path.stat().st_size if recorder.path.exists() else 0
            if recorder.pictures:
                rel = recorder.path.relative_to(recorder.path.parent.parent)
                self.recording = Recording(self.room_id, rel.as_posix(), seconds, size,
                                           participants=tuple(self.ever))  # fmt: skip
            else:
                recorder.path.unlink(missing_ok=True)
        self.thread.shutdown(wait=False)
        self.audio_thread.shutdown(wait=False)
        self._changed(reason)
        return self.recording

    async def _close_member(self, member: Member) -> None:
        for task in member.tasks:
            task.cancel()
        member.video_out.stop()
        member.audio_out.stop()
        await member.pc.close()

    # -- media in --------------------------------------------------------------------------

    def _on_track(self, member: Member, track: MediaStreamTrack) -> None:
        pull = self._pull_video if track.kind == "video" else self._pull_audio
        task = asyncio.ensure_future(pull(member, track))
        member.tasks.append(task)

    async def _pull_video(self, member: Member, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    member.frame, member.frame_at = frame, time.monotonic()
        except MediaStreamError:
            return

    async def _pull_audio(self, member: Member, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame) or not member.participant.audio:
                    continue
                for pcm in self._pcm(member, frame):
                    member.pcm += pcm
                if len(member.pcm) > AUDIO_BUFFER:  # the mixer fell behind: keep the newest
                    del member.pcm[: len(member.pcm) - AUDIO_BUFFER]
        except MediaStreamError:
            return

    @staticmethod
    def _pcm(member: Member, frame: av.AudioFrame) -> list[bytes]:
        """Interleaved s16 stereo 48 kHz bytes (what aiortc's Opus decoder already gives)."""
        if (frame.format.name, frame.layout.name, frame.sample_rate) == ("s16", "stereo",
                                                                         SAMPLE_RATE):  # fmt: skip
            return [bytes(frame.planes[0])[: frame.samples * CHANNELS * 2]]
        if member.resampler is None:
            member.resampler = av.AudioResampler(format="s16", layout="stereo", rate=SAMPLE_RATE)
        return [bytes(f.planes[0])[: f.samples * CHANNELS * 2]
                for f in member.resampler.resample(frame)]  # fmt: skip

    # -- media out -------------------------------------------------------------------------

    def tiles(self) -> list[Tile]:
        """What the composite shows now: the gallery of the members, in join order."""
        order = list(self.members)
        rects = gallery(order, self.state().speaker, self.config.width, self.config.height)
        return [
            Tile(pid, rects[pid], m.participant.name, m.frame if m.participant.video else None)
            for pid, m in self.members.items()
        ]

    def _picture_now(self) -> None:
        """A participant's connection is (about to be) up: an IDR now, not at the next tick
        (a room's first participant sees its own name plate before any camera frame came)."""
        self.encoder.request_keyframe(now=True)
        self._wake.set()

    async def _tick(self, delay: float) -> None:
        """Wait `delay` seconds, or less when somebody needs a picture now."""
        if delay > 0 and not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    async def _video_loop(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1 / self.config.fps
        due = loop.time()
        while True:
            due += period
            delay = due - loop.time()
            if delay < -period:  # more than a frame late: skip, do not burst
                due = loop.time()
            await self._tick(delay)
            due = min(due, loop.time())  # woken early: the next tick is a period from now
            if not self.members and self.recorder is None:
                continue
            tiles = self.tiles()
            fresh = [m.frame_at for m in self.members.values()
                     if m.frame is not None and m.frame_at > m.shown_at]  # fmt: skip
            for member in self.members.values():
                member.shown_at = member.frame_at
            try:
                picture = await loop.run_in_executor(self.thread, self._picture, tiles)
            except Exception:
                log.exception("mcu: room %s could not compose or encode", self.room_id)
                continue
            if picture is None:
                continue
            done = time.monotonic()
            self.latency.extend(done - at for at in fresh)
            for member in self.members.values():
                if member.sees:
                    member.video_out.push(picture)

    def _picture(self, tiles: list[Tile]) -> EncodedPicture | None:
        """On the room's thread: compose, encode once, record."""
        picture = self.encoder.encode(self.compositor.compose(tiles))
        if picture is not None:
            self.pictures += 1
            if self.recorder is not None:
                self.recorder.picture(picture, time.monotonic())
        return picture

    async def _audio_loop(self) -> None:
        loop = asyncio.get_running_loop()
        due, ticks = loop.time(), 0
        while True:
            due += TICK
            delay = due - loop.time()
            if delay < -5 * TICK:  # far behind (a stalled loop): start afresh
                due = loop.time()
                if self.recorder is not None:  # the recording keeps time with silence
                    for _ in range(min(round(-delay / TICK), MAX_GAP_TICKS)):
                        self.recorder.audio(SILENCE)
            await asyncio.sleep(max(0.0, delay))
            if not self.members and self.recorder is None:
                continue
            now = time.monotonic()
            chunks: dict[str, bytes] = {}
            for pid, member in self.members.items():
                if member.participant.audio and len(member.pcm) >= CHUNK:
                    chunks[pid] = bytes(member.pcm[:CHUNK])
                    del member.pcm[:CHUNK]
                    loudness = level(chunks[pid])
                    self.speakers.add(pid, now, loudness)
                    self.gate.hear(pid, now, loudness)
            talking = [pid for pid in self.members if self.gate.talking(pid, now)]
            full, minus = mix({pid: chunks[pid] for pid in talking if pid in chunks})
            own = {pid: minus.get(pid, full) for pid in talking}
            listeners = list(self.members)
            packets = await loop.run_in_executor(self.audio_thread, self.voices.encode, full,
                                                 own, listeners)  # fmt: skip
            for pid, out in packets.items():
                listener = self.members.get(pid)
                if listener is None:  # it left while its packets were being encoded
                    continue
                for packet in out:
                    listener.audio_out.push(packet)
            if self.recorder is not None:
                self.recorder.audio(full)
            ticks += 1
            if ticks % SPEAKER_EVERY == 0:
                before = self.speakers.speaker
                if self.speakers.update(now) != before:
                    self._changed()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
