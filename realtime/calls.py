"""The `/calls` Socket.IO namespace: ringing and WebRTC signalling for calls and conferences.

Thin: it parses, authorises through dispatch/service/calls.py and hands media to the MCU
(media/conference.py). A console connects with its session cookie, a grid worker's phone
with `auth: {token: "dev_..."}`. Every connection sits in the socket rooms of the parties
it answers for ("party:worker:17", "party:township:3", "party:centre"), so an invitation
reaches every screen of that person or office.

Client → server (each answered through the ack, errors as `{error: {code, message, field}}`):
`call {worker_id, case_id?}`, `convene {case_id, invite: ["township:3", "worker:17"]}`,
`call_centre {}`, `accept {call_id}`, `decline {call_id}`, `invitations {}`,
`join {room_id, sdp, type: "offer"}` → `{room_id, participant_id, sdp, type: "answer", call}`,
`mute {room_id, audio?, video?}`, `leave {room_id}`, `end {room_id}`.
Server → client: `ring {call}` (an invitation), `answered {call}`, `declined {call, by}`,
`state {room_id, participants, speaker, ...}` (who is in the room, live), and
`ended {call_id, room_id, reason, message}`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from flask_socketio import Namespace, emit, join_room, leave_room

from dispatch.domain.access import Principal, Role
from dispatch.domain.calls import EndReason, answers_for, participant_id
from dispatch.service import calls
from dispatch.service.core import Core
from dispatch.service.errors import ServiceError
from media.conference import Conferences, RoomError, RoomState
from media.gateway import MAX_SDP
from realtime.socket import admit, current_sid

log = logging.getLogger(__name__)

NAMESPACE = "/calls"
WhoIs = Callable[[dict[str, Any]], Principal | None]
# What a client is told when its call ended, by reason (it shows its own words for these).
ENDED_MESSAGES = {
    EndReason.HUNG_UP: "the call was hung up",
    EndReason.DECLINED: "the call was declined",
    EndReason.EMPTY: "everybody left the conference",
    EndReason.MEDIA_RESTARTED: "the media service restarted; call again",
    EndReason.FAILED: "the media service lost the call; call again",
}
CALLERS_ON_SOCKET = frozenset(
    {Role.ADMIN, Role.DUTY, Role.LEADER, Role.TOWNSHIP, Role.DEPARTMENT, Role.GRID_WORKER}
)


def _error(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _service_error(exc: ServiceError) -> dict[str, Any]:
    return _error(exc.code, exc.message, exc.field)


def _data(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_offer(data: dict[str, Any]) -> tuple[str, str]:
    """The browser's offer (sdp, type), or ValueError naming what is wrong with it."""
    sdp, kind = data.get("sdp"), data.get("type", "offer")
    if not isinstance(sdp, str) or not sdp.strip():
        raise ValueError("sdp is required: the browser's offer")
    if len(sdp) > MAX_SDP:
        raise ValueError(f"sdp is {len(sdp)} characters; at most {MAX_SDP}")
    if not sdp.startswith("v=0"):
        raise ValueError(
            f"sdp is not a session description (it must start with 'v=0'): {sdp!r:.40}"
        )
    if kind != "offer":
        raise ValueError(f"type must be 'offer', got {kind!r:.20}")
    return sdp, kind


class CallsNamespace(Namespace):  # type: ignore[misc]
    def __init__(
        self,
        core: Core,
        rooms: Conferences,
        *,
        who: WhoIs,
        ice_servers: Sequence[dict[str, Any]] = (),
        namespace: str = NAMESPACE,
    ) -> None:
        super().__init__(namespace)
        self.core, self.rooms, self.who = core, rooms, who
        self.ice_servers = [dict(s) for s in ice_servers]
        self.people: dict[str, Principal] = {}  # sid → who
        self.joined: dict[str, dict[str, str]] = {}  # sid → {room_id: participant id}
        self._lock = threading.Lock()
        rooms.listen(self._room_changed)

    # -- connection --------------------------------------------------------------------

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        message = "calls need a signed-in officer or a grid worker's device token (auth.token)"
        principal = admit(self.who, auth, CALLERS_ON_SOCKET, message)
        if principal is None:
            return False
        sid = current_sid()
        with self._lock:
            self.people[sid], self.joined[sid] = principal, {}
        for key in answers_for(principal):
            join_room(f"party:{key}")
        emit("hello", {"ice_servers": self.ice_servers, "me": participant_id(principal)})
        return True

    def on_disconnect(self, *args: Any) -> None:
        sid = current_sid()
        with self._lock:
            principal = self.people.pop(sid, None)
            joined = self.joined.pop(sid, {})
        for room_id, participant in joined.items():
            if principal is not None and not self._still_joined(room_id, participant):
                self._hang_up(principal, room_id, participant, hung_up=False)

    def _still_joined(self, room_id: str, participant: str) -> bool:
        """Another connection of the same person is in the room (it rejoined from there)."""
        with self._lock:
            return any(j.get(room_id) == participant for j in self.joined.values())

    def _me(self) -> Principal:
        principal = self.people.get(current_sid())
        if principal is None:
            raise ServiceError("this connection is not signed in; reconnect", field="token",
                               code="forbidden")  # fmt: skip
        return principal

    # -- starting and answering --------------------------------------------------------

    def on_call(self, data: Any = None) -> dict[str, Any]:
        data = _data(data)
        try:
            case_id = data.get("case_id")
            call = calls.start_call(
                self.core, self.rooms, principal=self._me(), worker_id=data.get("worker_id"),
                case_id=None if case_id in (None, "") else calls.whole(case_id, "case_id"),
            )  # fmt: skip
        except ServiceError as exc:
            return _service_error(exc)
        return self._started(call)

    def on_convene(self, data: Any = None) -> dict[str, Any]:
        data = _data(data)
        try:
            call = calls.convene(
                self.core, self.rooms, principal=self._me(),
                case_id=calls.whole(data.get("case_id"), "case_id"), invite=data.get("invite"),
            )  # fmt: skip
        except ServiceError as exc:
            return _service_error(exc)
        return self._started(call)

    def on_call_centre(self, data: Any = None) -> dict[str, Any]:
        try:
            call = calls.call_centre(self.core, self.rooms, principal=self._me())
        except ServiceError as exc:
            return _service_error(exc)
        return self._started(call)

    def _started(self, call: calls.CallInfo) -> dict[str, Any]:
        join_room(f"call:{call.room_id}")
        wire = call.to_wire()
        for party in call.parties:
            if party != call.started_by:
                self._push("ring", {"call": wire}, f"party:{party}")
        return {"call": wire}

    def on_accept(self, data: Any = None) -> dict[str, Any]:
        try:
            call = calls.answer(self.core, principal=self._me(),
                                call_id=_data(data).get("call_id"), accept=True)  # fmt: skip
        except ServiceError as exc:
            return _service_error(exc)
        join_room(f"call:{call.room_id}")
        self._push("answered", {"call": call.to_wire()}, f"call:{call.room_id}")
        # Other screens of the same office or person stop ringing.
        for key in answers_for(self._me()):
            self._push("answered", {"call": call.to_wire()}, f"party:{key}")
        return {"call": call.to_wire()}

    def on_decline(self, data: Any = None) -> dict[str, Any]:
        try:
            principal = self._me()
            call = calls.answer(self.core, principal=principal,
                                call_id=_data(data).get("call_id"), accept=False)  # fmt: skip
            if call.kind == "call":  # one to one: the caller hears it and the call ends
                call = calls.end(self.core, self.rooms, call_id=call.id,
                                 reason=EndReason.DECLINED, actor=principal.name)  # fmt: skip
                self._announce_end(call)
            else:
                by = calls.who(principal)
                self._push("declined", {"call": call.to_wire(), "by": by}, f"call:{call.room_id}")
        except ServiceError as exc:
            return _service_error(exc)
        return {"call": call.to_wire()}

    def on_invitations(self, data: Any = None) -> dict[str, Any]:
        try:
            found = calls.invitations(self.core, principal=self._me())
        except ServiceError as exc:
            return _service_error(exc)
        return {"calls": [c.to_wire() for c in found]}

    # -- media -------------------------------------------------------------------------

    def on_join(self, data: Any = None) -> dict[str, Any]:
        data = _data(data)
        room_id = data.get("room_id")
        try:
            sdp, kind = check_offer(data)
        except ValueError as exc:
            return _error("invalid", str(exc), "sdp")
        try:
            call, participant = calls.admit(self.core, principal=self._me(), room_id=room_id)
            # The MCU checks the room itself (ended, full): one trip to it, not two.
            answer = self.rooms.join(call.room_id, participant, sdp, kind)
        except ServiceError as exc:
            return _service_error(exc)
        except RoomError as exc:
            if exc.code in ("ended", "not_found", "unavailable"):
                self._reconcile_soon()
            if exc.code == "not_found":  # the call is on record, its room is not: it is gone
                exc = RoomError("ended", f"room {room_id} has ended; call again", "room_id")
            return exc.to_wire()
        join_room(f"call:{call.room_id}")
        with self._lock:
            self.joined.setdefault(current_sid(), {})[call.room_id] = participant.id
        return {**answer.to_wire(), "call": call.to_wire()}

    def on_mute(self, data: Any = None) -> dict[str, Any]:
        data = _data(data)
        room_id = data.get("room_id")
        participant = (
            self.joined.get(current_sid(), {}).get(room_id) if isinstance(room_id, str) else None
        )
        if participant is None or not isinstance(room_id, str):
            return _error("not_found", f"this connection is not in room {room_id!r:.60}", "room_id")
        flags = {k: data[k] for k in ("audio", "video") if isinstance(data.get(k), bool)}
        if not flags:
            return _error("invalid", "send audio and/or video as true or false", "audio")
        try:
            state = self.rooms.mute(room_id, participant, **flags)
        except RoomError as exc:
            return exc.to_wire()
        return state.to_wire()

    def on_leave(self, data: Any = None) -> dict[str, Any]:
        room_id = _data(data).get("room_id")
        with self._lock:
            participant = self.joined.get(current_sid(), {}).pop(room_id, None) if isinstance(
                room_id, str) else None  # fmt: skip
        if participant is None or not isinstance(room_id, str):
            return _error("not_found", f"this connection is not in room {room_id!r:.60}", "room_id")
        leave_room(f"call:{room_id}")
        ended = self._hang_up(self._me(), room_id, participant, hung_up=True)
        return {"ok": True, "ended": ended.to_wire() if ended else None}

    def on_end(self, data: Any = None) -> dict[str, Any]:
        room_id = _data(data).get("room_id")
        if not isinstance(room_id, str) or not room_id:
            return _error("invalid", f"room_id is required, got {room_id!r:.40}", "room_id")
        try:
            call = calls.call_by_room(self.core, room_id)
            if call is None:
                return _error("not_found", f"there is no room {room_id!r:.60}", "room_id")
            ended = calls.end(self.core, self.rooms, call_id=call.id,
                              reason=EndReason.HUNG_UP, principal=self._me())  # fmt: skip
        except ServiceError as exc:
            return _service_error(exc)
        self._announce_end(ended)
        return {"call": ended.to_wire()}

    # -- endings -------------------------------------------------------------------------

    def _hang_up(
        self, principal: Principal, room_id: str, participant: str, *, hung_up: bool
    ) -> calls.CallInfo | None:
        try:
            ended = calls.left(self.core, self.rooms, principal=principal, room_id=room_id,
                               participant=participant, hung_up=hung_up)  # fmt: skip
        except ServiceError as exc:
            log.info("calls: %s leaving %s: %s", participant, room_id, exc.message)
            return None
        if ended is not None:
            self._announce_end(ended)
        return ended

    def _push(self, event: str, data: dict[str, Any], room: str) -> None:
        if self.socketio is not None:
            self.socketio.emit(event, data, to=room, namespace=self.namespace)

    def _announce_end(self, call: calls.CallInfo) -> None:
        reason = call.end_reason or EndReason.HUNG_UP.value
        known = {r.value: m for r, m in ENDED_MESSAGES.items()}
        message = known.get(reason, reason)
        payload = {"call_id": call.id, "room_id": call.room_id, "reason": reason,
                   "message": message, "call": call.to_wire()}  # fmt: skip
        if self.socketio is None:
            return
        self.socketio.emit("ended", payload, to=f"call:{call.room_id}", namespace=self.namespace)
        for party in call.parties:  # phones still ringing stop
            self.socketio.emit("ended", payload, to=f"party:{party}", namespace=self.namespace)

    def _room_changed(self, state: RoomState) -> None:
        """The MCU says the room changed (on a worker thread): tell whoever is in it."""
        if self.socketio is None:
            return
        self.socketio.emit("state", state.to_wire(), to=f"call:{state.room_id}",
                           namespace=self.namespace)  # fmt: skip
        if not state.ended:
            return
        call = calls.call_by_room(self.core, state.room_id)
        if call is None or call.ended_at is not None:
            return
        # The MCU's words for it: "…restarted…" (media/remote.py), "…stopped" (media/mcu).
        restarted = any(word in (state.reason or "") for word in ("restart", "stopped"))
        reason = EndReason.MEDIA_RESTARTED if restarted else EndReason.FAILED
        ended = calls.end(self.core, self.rooms, call_id=call.id, reason=reason, media_gone=True)
        self._announce_end(ended)

    def attach(self, rooms: Conferences) -> list[calls.CallInfo]:
        """Use this MCU from now on (a media service that came back after a restart); the
        calls the old one held end, and their clients hear why."""
        self.rooms = rooms
        rooms.listen(self._room_changed)
        return self.reconcile()

    def reconcile(self) -> list[calls.CallInfo]:
        """End the calls whose rooms the MCU no longer has, and tell their clients."""
        ended = calls.reconcile(self.core, self.rooms)
        for call in ended:
            self._announce_end(call)
        return ended

    def _reconcile_soon(self) -> None:
        threading.Thread(target=self._reconcile_safely, name="calls-reconcile", daemon=True).start()

    def _reconcile_safely(self) -> None:
        try:
            self.reconcile()
        except Exception:
            log.exception("calls: reconciling with the MCU failed")
