"""The MCU behind the `media.conference.Conferences` contract, in this process.

The web process's Socket.IO handler threads call these synchronous methods; each runs its
coroutine on the media loop (shared with the camera gateway when one is given) and waits.
Listeners hear every change on one worker thread of their own, in order, never on the loop.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from media.conference import (
    MAX_PARTICIPANTS,
    JoinAnswer,
    Participant,
    Recording,
    RoomError,
    RoomListener,
    RoomState,
)
from media.loop import MediaLoop
from media.mcu.room import Room, RoomConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
# Answering an offer waits for ICE gathering, which waits for STUN/TURN servers a few seconds.
JOIN_TIMEOUT = 30.0
CALL_TIMEOUT = 10.0
STOPPED = "the media service stopped"


class EmbeddedConferences:
    def __init__(
        self,
        loop: MediaLoop | None = None,
        *,
        data_dir: Path,
        ice_servers: tuple[dict[str, Any], ...] = (),
        config: RoomConfig | None = None,
    ) -> None:
        self._own_loop = loop is None
        self.loop = loop or MediaLoop("mcu-loop")
        self.data_dir = Path(data_dir)
        self.ice_servers = tuple(ice_servers)
        self.config = config or RoomConfig()
        self.listeners: list[RoomListener] = []
        self._rooms: dict[str, Room] = {}  # open rooms, and ended ones until reopened
        self._notify = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mcu-listen")

    # -- the App.background protocol -------------------------------------------------------

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        if self.loop.running:
            for room in self.rooms():
                try:
                    self.end(room.room_id, STOPPED)
                except (RoomError, TimeoutError, RuntimeError) as exc:
                    log.warning("mcu: ending room %s: %s", room.room_id, exc)
            if self._own_loop:
                self.loop.stop()
        self._notify.shutdown(wait=True)

    # -- Conferences -----------------------------------------------------------------------

    def open(
        self, room_id: str, *, record: bool = True, limit: int = MAX_PARTICIPANTS
    ) -> RoomState:
        async def opening() -> RoomState:
            room = self._rooms.get(room_id)
            if room is not None and not room.ended:
                return room.state()
            record_to = self._recording_path(room_id) if record else None
            room = Room(room_id, record_to=record_to, limit=limit, ice_servers=self.ice_servers,
                        config=self.config, on_change=self._changed)  # fmt: skip
            self._rooms[room_id] = room
            room.start()
            self._changed(room.state())
            return room.state()

        return self._call(opening())

    def join(
        self, room_id: str, participant: Participant, sdp: str, type: str = "offer"
    ) -> JoinAnswer:
        async def joining() -> JoinAnswer:
            return await self._room(room_id).join(participant, sdp, type)

        return self._call(joining(), JOIN_TIMEOUT)

    def mute(
        self,
        room_id: str,
        participant_id: str,
        *,
        audio: bool | None = None,
        video: bool | None = None,
    ) -> RoomState:
        async def muting() -> RoomState:
            return self._room(room_id).mute(participant_id, audio, video)

        return self._call(muting())

    def leave(self, room_id: str, participant_id: str) -> RoomState:
        async def leaving() -> RoomState:
            return await self._room(room_id).leave(participant_id)

        return self._call(leaving())

    def end(self, room_id: str, reason: str = "ended") -> Recording | None:
        async def ending() -> Recording | None:
            room = self._rooms.get(room_id)
            if room is None:
                raise RoomError("not_found", f"no room {room_id!r}", "room_id")
            return await room.end(reason)

        return self._call(ending(), JOIN_TIMEOUT)

    def state(self, room_id: str) -> RoomState | None:
        async def reading() -> RoomState | None:
            room = self._rooms.get(room_id)
            return None if room is None else room.state()

        return self._call(reading())

    def rooms(self) -> list[RoomState]:
        async def reading() -> list[RoomState]:
            return [r.state() for r in self._rooms.values() if not r.ended]

        return self._call(reading())

    def listen(self, listener: RoomListener) -> None:
        self.listeners.append(listener)

    # -- for tests and benchmarks (on the media loop) -------------------------------------

    def room(self, room_id: str) -> Room | None:
        """The room object itself, for measurements; call its methods on the media loop."""
        return self._rooms.get(room_id)

    # -- plumbing ------------------------------------------------------------------------

    def _room(self, room_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            raise RoomError("not_found", f"no room {room_id!r}; open it first", "room_id")
        if room.ended:
            raise RoomError("ended", f"room {room_id!r} has ended", "room_id")
        return room

    def _recording_path(self, room_id: str) -> Path:
        """recordings/<room_id>.mp4, or <room_id>-2.mp4 … when a reopened room would overwrite."""
        folder = self.data_dir / "recordings"
        path, n = folder / f"{room_id}.mp4", 1
        while path.exists():
            n += 1
            path = folder / f"{room_id}-{n}.mp4"
        return path

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        if not self.loop.running:
            coro.close()
            raise RoomError("unavailable", "the media service is not running")
        try:
            return self.loop.call(coro, timeout)
        except TimeoutError:
            raise RoomError("timeout", f"the media service did not answer within {timeout:g} s"
                            ) from None  # fmt: skip

    def _changed(self, state: RoomState) -> None:
        for listener in self.listeners:
            try:
                self._notify.submit(_safely, listener, state)
            except RuntimeError:  # shut down: nobody is listening any more
                return


def _safely(listener: RoomListener, state: RoomState) -> None:
    try:
        listener(state)
    except Exception:
        log.exception("mcu: a room listener failed")
