"""The conference contract: what the web process asks of the media process's MCU.

Calls and conferences are the same thing to the media side: a room of 2-9 participants. Each
participant sends its camera and microphone to the MCU; the MCU decodes each once, composes one
gallery frame (the active speaker enlarged), encodes it once and sends the same packets to every
participant, and mixes audio minus-one (each hears everyone but itself). The composite and the
full mix are recorded to one file per room, attached to the case when the room ends.

Everything here is plain data that crosses a process boundary as JSON (`to_wire` /
`from_wire`): the web process talks to an in-process MCU in the embedded default and to the
`commandhall media` process, over Redis, in production. The methods are synchronous: they are
called from Socket.IO handler threads; the implementation runs them on the media loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

MAX_PARTICIPANTS = 9


class RoomError(Exception):
    """A room request that cannot be served: a stable code, a message, the offending field.

    Codes: "invalid" (malformed SDP, bad id), "full" (the participant limit), "not_found"
    (no such room), "ended" (the room has ended), "timeout" (the media side did not answer),
    "unavailable" (no media process, or it restarted).
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def to_wire(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


@dataclass(frozen=True)
class Participant:
    id: str  # the caller's stable id: "user:17", "worker:w-0042"
    name: str  # shown on the tile: "张伟 · 网格员"
    joined_at: float = 0.0  # unix seconds, set by the MCU
    audio: bool = True  # False: muted
    video: bool = True  # False: camera off (the tile shows the name plate)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "joined_at": self.joined_at,
            "audio": self.audio,
            "video": self.video,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Participant:
        return cls(
            str(data["id"]),
            str(data["name"]),
            float(data.get("joined_at", 0.0)),
            bool(data.get("audio", True)),
            bool(data.get("video", True)),
        )


@dataclass(frozen=True)
class RoomState:
    room_id: str
    participants: tuple[Participant, ...] = ()
    speaker: str | None = None  # the active speaker's participant id (enlarged)
    ended: bool = False
    reason: str | None = None  # why it ended, or why the last participant was dropped
    limit: int = MAX_PARTICIPANTS
    started_at: float = 0.0

    def to_wire(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "participants": [p.to_wire() for p in self.participants],
            "speaker": self.speaker,
            "ended": self.ended,
            "reason": self.reason,
            "limit": self.limit,
            "started_at": self.started_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RoomState:
        return cls(
            str(data["room_id"]),
            tuple(Participant.from_wire(p) for p in data.get("participants", ())),
            data.get("speaker"),
            bool(data.get("ended", False)),
            data.get("reason"),
            int(data.get("limit", MAX_PARTICIPANTS)),
            float(data.get("started_at", 0.0)),
        )


@dataclass(frozen=True)
class JoinAnswer:
    room_id: str
    participant_id: str
    sdp: str
    type: str = "answer"

    def to_wire(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "participant_id": self.participant_id,
            "sdp": self.sdp,
            "type": self.type,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> JoinAnswer:
        return cls(
            str(data["room_id"]),
            str(data["participant_id"]),
            str(data["sdp"]),
            str(data.get("type", "answer")),
        )


@dataclass(frozen=True)
class Recording:
    room_id: str
    path: str  # relative to the data directory: "recordings/<room_id>.mp4"
    seconds: float
    size: int  # bytes
    content_type: str = "video/mp4"
    participants: tuple[str, ...] = field(default=())  # every participant id that ever joined

    def to_wire(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "path": self.path,
            "seconds": self.seconds,
            "size": self.size,
            "content_type": self.content_type,
            "participants": list(self.participants),
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Recording:
        return cls(
            str(data["room_id"]),
            str(data["path"]),
            float(data["seconds"]),
            int(data["size"]),
            str(data.get("content_type", "video/mp4")),
            tuple(str(p) for p in data.get("participants", ())),
        )

    def file(self, data_dir: Path) -> Path:
        return data_dir / self.path


RoomListener = Callable[[RoomState], None]


class Conferences(Protocol):
    """The MCU as the web process sees it. Every method may raise RoomError."""

    def open(
        self, room_id: str, *, record: bool = True, limit: int = MAX_PARTICIPANTS
    ) -> RoomState:
        """Create the room (idempotent: an open room with this id is returned as it is)."""
        ...

    def join(
        self, room_id: str, participant: Participant, sdp: str, type: str = "offer"
    ) -> JoinAnswer:
        """Add a participant with its browser's offer (ICE gathered, no trickle). A participant
        id already in the room replaces its old connection (a rejoin after a network failure)."""
        ...

    def mute(
        self,
        room_id: str,
        participant_id: str,
        *,
        audio: bool | None = None,
        video: bool | None = None,
    ) -> RoomState: ...

    def leave(self, room_id: str, participant_id: str) -> RoomState: ...

    def end(self, room_id: str, reason: str = "ended") -> Recording | None:
        """End the room for everyone; the recording (None when not recorded or empty)."""
        ...

    def state(self, room_id: str) -> RoomState | None: ...

    def rooms(self) -> list[RoomState]: ...

    def listen(self, listener: RoomListener) -> None:
        """Call `listener` (on a worker thread) on every change: join, leave, mute, active
        speaker, a participant dropped because its connection failed, the room ended."""
        ...
