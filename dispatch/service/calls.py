"""Video calls and conferences: start, ring, answer, admit, end, and the recording on the case.

The MCU (media/conference.py `Conferences`) owns the media; this module owns the record:
who called whom about which case, who was invited, how it ended and where its recording
is. Every call writes `call.*` events to the log, so the wall's KPI and incoming-call
banner and the case timeline follow them like any other event. Functions are keyword-only
and take the MCU as an argument (the socket namespace holds it).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CallPartyRow, CallRow, CaseRow
from dispatch.domain.access import CaseScope, Principal, Role
from dispatch.domain.calls import (
    CENTRE,
    MAX_PARTICIPANTS,
    RING_SECONDS,
    CallKind,
    EndReason,
    Party,
    answers_for,
    check_caller,
    check_invitees,
    may_join,
    participant_id,
)
from dispatch.domain.errors import InvalidValue
from dispatch.domain.events import CallAnswered, CallEnded, CallEvent, CallRecorded, CallStarted
from dispatch.service.casefile import parties_of, view_of, visible_row
from dispatch.service.core import Core
from dispatch.service.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError
from media.conference import Conferences, Participant, Recording, RoomError, RoomState

# Ending a room takes the MCU a moment (it closes the recording); two hands may hang up the
# same call at once, so one at a time per call in this process, and the second finds the call
# already ended. Other calls end meanwhile.
_ENDING: dict[int, threading.Lock] = {}
_ENDING_GUARD = threading.Lock()


def _ending(call_id: int) -> threading.Lock:
    with _ENDING_GUARD:
        return _ENDING.setdefault(call_id, threading.Lock())


@dataclass(frozen=True)
class CallInfo:
    """A call as sockets and pages see it."""

    id: int
    room_id: str
    case_id: int | None
    township_id: int | None
    kind: str
    caller: str
    callee: str
    started_by: str
    started_at: datetime
    parties: tuple[str, ...]
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    recording: str | None = None

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        if self.answered_at is not None:
            return "active"
        return "ringing" if CENTRE in self.parties else "calling"

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id, "room_id": self.room_id, "case_id": self.case_id,
            "township_id": self.township_id, "kind": self.kind, "caller": self.caller,
            "callee": self.callee, "started_by": self.started_by,
            "started_at": self.started_at.isoformat(), "parties": list(self.parties),
            "status": self.status,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "end_reason": self.end_reason, "recording": self.recording,
        }  # fmt: skip


def recording_url(call_id: int) -> str:
    return f"/api/calls/{call_id}/recording"


def _info(row: CallRow, parties: Sequence[CallPartyRow]) -> CallInfo:
    return CallInfo(
        id=row.id, room_id=row.room_id, case_id=row.case_id, township_id=row.township_id,
        kind=row.kind, caller=row.caller_name, callee=row.callee_name,
        started_by=row.started_by, started_at=row.started_at,
        parties=tuple(p.party for p in parties if p.answer != "declined"),
        answered_at=row.answered_at, ended_at=row.ended_at, end_reason=row.end_reason,
        recording=recording_url(row.id) if row.recording_path else None,
    )  # fmt: skip


def _parties(session: Session, call_id: int) -> list[CallPartyRow]:
    q = select(CallPartyRow).where(CallPartyRow.call_id == call_id).order_by(CallPartyRow.id)
    return list(session.scalars(q))


def who(principal: Principal) -> str:
    """How a principal is named on the tile and in the banner: "值班员 李明"."""
    return principal.display_name or principal.name


def _party_name(core: Core, party: Party) -> str:
    names = core.names
    if party.kind == "worker" and names is not None:
        worker = names.workers.get(int(party.ident))
        return f"网格员 {worker.name}" if worker else party.key
    if party.kind == "township" and names is not None:
        return names.unit_name(int(party.ident)) or party.key
    if party.kind == "department" and names is not None:
        dept = names.departments.get(party.ident)
        return dept.name if dept else party.key
    return "指挥中心" if party.kind == CENTRE else party.key


def _check_party(core: Core, party: Party) -> None:
    names = core.names
    if names is None:
        return
    if party.kind == "worker" and int(party.ident) not in names.workers:
        raise NotFound(f"there is no grid worker {party.ident}", field="worker_id")
    if party.kind == "township" and int(party.ident) not in names.units:
        raise NotFound(f"there is no township {party.ident}", field="invite")
    if party.kind == "department" and party.ident not in names.departments:
        raise NotFound(f"there is no department {party.ident!r}", field="invite")


def _room_id() -> str:
    return f"call-{secrets.token_hex(8)}"


def _open(
    core: Core,
    rooms: Conferences,
    *,
    principal: Principal,
    kind: CallKind,
    parties: Sequence[Party],
    case_id: int | None,
    township_id: int | None,
) -> CallInfo:
    """Write the call and its parties, open the MCU room, record call.started."""
    now = core.clock.now()
    room_id = _room_id()
    try:
        rooms.open(room_id, record=True, limit=MAX_PARTICIPANTS)
    except RoomError as exc:
        raise ServiceError(exc.message, field=exc.field, code=exc.code) from None
    callee = "、".join(_party_name(core, p) for p in parties)
    with core.uow() as uow:
        row = CallRow(
            room_id=room_id, case_id=case_id, township_id=township_id, kind=kind.value,
            started_by=participant_id(principal), caller_name=who(principal)[:120],
            callee_name=callee[:200], started_at=now,
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        rows = [
            CallPartyRow(
                call_id=row.id,
                party=participant_id(principal),
                name=who(principal)[:120],
                answer="accepted",
                answered_at=now,
            )
        ]
        rows += [CallPartyRow(call_id=row.id, party=p.key, name=_party_name(core, p)[:120])
                 for p in parties]  # fmt: skip
        uow.session.add_all(rows)
        info = _info(row, rows)
        event = CallStarted(
            case_id=case_id, at=now, actor=principal.name, call_id=row.id, kind=kind.value,
            caller=info.caller, callee=info.callee, status=info.status,
        )  # fmt: skip
        uow.record([event], township_id=township_id)
        uow.commit(now)
    return info


def _case_township(core: Core, principal: Principal, case_id: int) -> int | None:
    with core.db.read() as session:
        row, _ = visible_row(session, case_id, principal.scope)
        return row.township_id


def start_call(
    core: Core,
    rooms: Conferences,
    *,
    principal: Principal,
    worker_id: Any,
    case_id: int | None = None,
) -> CallInfo:
    """The centre (or an office) calls a grid worker, about a case or not."""
    _checked(check_caller, principal)
    worker = whole(worker_id, "worker_id")
    party = Party("worker", str(worker))
    _check_party(core, party)
    township = None
    if case_id is not None:
        township = _case_township(core, principal, case_id)
    elif core.names is not None:
        township = core.names.workers[worker].township_id
        if principal.role == Role.TOWNSHIP and township != principal.township_id:
            raise Forbidden(f"grid worker {worker} works in another township", field="worker_id")
    return _open(core, rooms, principal=principal, kind=CallKind.CALL, parties=[party],
                 case_id=case_id, township_id=township)  # fmt: skip


def convene(
    core: Core, rooms: Conferences, *, principal: Principal, case_id: int, invite: Any
) -> CallInfo:
    """A conference on a case (视频会商): offices and workers, at most nine in the room."""
    _checked(check_caller, principal)
    if not isinstance(invite, list):
        raise ValidationError(
            f"invite must be a list like ['township:3', 'worker:17'], got {invite!r:.60}",
            field="invite",
        )
    parties = _checked(check_invitees, invite)
    for party in parties:
        _check_party(core, party)
    township = _case_township(core, principal, case_id)
    return _open(core, rooms, principal=principal, kind=CallKind.CONFERENCE, parties=parties,
                 case_id=case_id, township_id=township)  # fmt: skip


def call_centre(core: Core, rooms: Conferences, *, principal: Principal) -> CallInfo:
    """A grid worker's phone calls the centre: every duty console rings, the wall shows it."""
    if principal.role != Role.GRID_WORKER or principal.worker_id is None:
        raise Forbidden("only a grid worker's phone calls the centre this way", field="token")
    township = principal.township_id
    if township is None and core.names is not None:
        worker = core.names.workers.get(principal.worker_id)
        township = worker.township_id if worker else None
    return _open(core, rooms, principal=principal, kind=CallKind.CALL, parties=[Party(CENTRE)],
                 case_id=None, township_id=township)  # fmt: skip


def _checked(rule: Any, *args: Any) -> Any:
    try:
        return rule(*args)
    except InvalidValue as exc:
        code = "forbidden" if exc.field == "role" else "invalid"
        raise (Forbidden if code == "forbidden" else ValidationError)(
            exc.message, field=exc.field
        ) from None


def whole(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{field} must be a whole number, got {value!r:.40}", field=field)
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{field} must be a whole number, got {value!r:.40}",
                              field=field) from None  # fmt: skip


# -- answering, joining ------------------------------------------------------------------


def _load(session: Session, *, call_id: int | None = None, room_id: str | None = None) -> CallRow:
    if call_id is not None:
        row = session.get(CallRow, call_id)
        if row is None:
            raise NotFound(f"there is no call {call_id}", field="call_id")
        return row
    row = session.scalars(select(CallRow).where(CallRow.room_id == room_id)).first()
    if row is None:
        raise NotFound(f"there is no room {room_id!r}", field="room_id")
    return row


def _authorise(session: Session, principal: Principal, row: CallRow) -> list[CallPartyRow]:
    parties = _parties(session, row.id)
    case = None
    if row.case_id is not None:
        case_row = session.get(CaseRow, row.case_id)
        if case_row is not None:
            case = view_of(case_row, parties_of(session, row.case_id))
    # A party that declined stays invited: it may change its mind and join a conference.
    refusal = may_join(principal, [p.party for p in parties], case, row.township_id)
    if refusal is not None:
        raise Forbidden(f"{refusal}: room {row.room_id}", field="room_id")
    return parties


def answer(core: Core, *, principal: Principal, call_id: Any, accept: bool) -> CallInfo:
    """Accept or decline a ringing call. Declining a one-to-one call ends it (the caller
    hears "declined"); declining a conference only takes that party off the list."""
    number = whole(call_id, "call_id")
    now = core.clock.now()
    with core.uow() as uow:
        row = _load(uow.session, call_id=number)
        parties = _authorise(uow.session, principal, row)
        if row.ended_at is not None:
            raise Conflict(f"call {number} has already ended ({row.end_reason})", field="call_id")
        mine = answers_for(principal)
        for party in parties:
            if party.party in mine and party.answer is None:
                party.answer, party.answered_at = ("accepted" if accept else "declined"), now
        events: list[CallEvent] = []
        if accept and row.answered_at is None:
            row.answered_at = now
            answered = CallAnswered(case_id=row.case_id, at=now, actor=principal.name,
                                    call_id=row.id, kind=row.kind, by=who(principal))  # fmt: skip
            events.append(answered)
        uow.record(events, township_id=row.township_id)
        uow.commit(now)
        return _info(row, parties)


def admit(core: Core, *, principal: Principal, room_id: Any) -> tuple[CallInfo, Participant]:
    """May this principal join this room now? Its participant (id and tile name), or why not."""
    if not isinstance(room_id, str) or not room_id.strip():
        raise ValidationError(f"room_id is required, got {room_id!r:.40}", field="room_id")
    now = core.clock.now()
    with core.uow() as uow:
        row = _load(uow.session, room_id=room_id)
        parties = _authorise(uow.session, principal, row)
        if row.ended_at is not None:
            raise Conflict(f"room {room_id} has ended ({row.end_reason}); call again",
                           field="room_id", code="ended")  # fmt: skip
        mine = answers_for(principal)
        for party in parties:
            if party.party in mine and party.joined_at is None:
                party.joined_at = now
        uow.commit(now)
        info = _info(row, parties)
    return info, Participant(participant_id(principal), who(principal)[:60])


# -- ending --------------------------------------------------------------------------------


def end(
    core: Core,
    rooms: Conferences,
    *,
    call_id: int,
    reason: str,
    principal: Principal | None = None,
    actor: str | None = None,
    media_gone: bool = False,
) -> CallInfo:
    """End the call for everyone (idempotent) and attach its recording to the case.

    `principal`: who asks, checked like a join; `actor`: who is named in the events when
    the caller has checked already (a decline). `media_gone`: the MCU has already lost the
    room (it restarted): only the record ends.
    """
    try:
        with _ending(call_id):
            with core.db.read() as session:
                row = _load(session, call_id=call_id)
                if principal is not None:
                    _authorise(session, principal, row)
                if row.ended_at is not None:
                    return _info(row, _parties(session, call_id))
                room_id = row.room_id
            recording: Recording | None = None
            if not media_gone:
                try:
                    recording = rooms.end(room_id, reason)
                except RoomError:
                    recording = None  # the room is gone already: end the record all the same
            name = principal.name if principal is not None else actor
            return _close(core, call_id, reason, recording, name or "system")
    finally:
        with _ENDING_GUARD:  # done: whoever waits on it finds the call ended
            _ENDING.pop(call_id, None)


def _close(
    core: Core, call_id: int, reason: str, recording: Recording | None, actor: str
) -> CallInfo:
    now = core.clock.now()
    with core.uow() as uow:
        row = _load(uow.session, call_id=call_id)
        if row.ended_at is not None:  # another hand ended it meanwhile: one call.ended only
            return _info(row, _parties(uow.session, call_id))
        row.ended_at, row.end_reason = now, reason[:40]
        events: list[CallEvent] = []
        seconds = max(0.0, (now - (row.answered_at or row.started_at)).total_seconds())
        ended = CallEnded(
            case_id=row.case_id, at=now, actor=actor, call_id=row.id, kind=row.kind,
            end_reason=reason[:40], seconds=round(seconds, 1),
        )  # fmt: skip
        events.append(ended)
        if recording is not None and recording.size > 0:
            row.recording_path = recording.path
            row.recording_seconds, row.recording_size = recording.seconds, recording.size
            if row.case_id is not None:
                events.append(CallRecorded(
                    case_id=row.case_id, at=now, actor=actor, call_id=row.id, kind=row.kind,
                    recording=recording_url(row.id), seconds=round(recording.seconds, 1),
                    size=recording.size,
                ))  # fmt: skip
        uow.record(events, township_id=row.township_id)
        uow.commit(now)
        return _info(row, _parties(uow.session, call_id))


def left(
    core: Core,
    rooms: Conferences,
    *,
    principal: Principal,
    room_id: str,
    participant: str,
    hung_up: bool = True,
) -> CallInfo | None:
    """Someone left. Hanging up (`hung_up`) ends a one-to-one call; a connection that went
    away (the socket dropped: it may come back and rejoin) ends nothing while somebody is
    still in the room. A conference ends when nobody is left. The ended call, or None."""
    with core.db.read() as session:
        row = _load(session, room_id=room_id)
        call_id, kind = row.id, row.kind
    try:
        state: RoomState | None = rooms.leave(room_id, participant)
    except RoomError:  # the MCU dropped it already (its connection failed), or the room is gone
        try:
            state = rooms.state(room_id)
        except RoomError:
            state = None
    remaining = 0 if state is None or state.ended else len(state.participants)
    if hung_up and kind == CallKind.CALL.value:
        return end(core, rooms, call_id=call_id, reason=EndReason.HUNG_UP, principal=principal)
    if remaining == 0:
        return end(core, rooms, call_id=call_id, reason=EndReason.EMPTY, actor=principal.name)
    return None


def reconcile(core: Core, rooms: Conferences) -> list[CallInfo]:
    """End the record of every open call whose MCU room is gone (the media process
    restarted, or the web process did): its clients hear why and can call again. Then end
    the calls that rang RING_SECONDS with nobody answering."""
    try:
        alive = {r.room_id for r in rooms.rooms() if not r.ended}
    except RoomError:  # no answer (a slow or absent media process): nothing can be told
        return []
    q = select(CallRow.id).where(CallRow.ended_at.is_(None))
    if alive:
        q = q.where(CallRow.room_id.not_in(alive))
    with core.db.read() as session:
        stale = list(session.scalars(q))
    ended = [end(core, rooms, call_id=i, reason=EndReason.MEDIA_RESTARTED, media_gone=True)
             for i in stale]  # fmt: skip
    return ended + unanswered(core, rooms)


def unanswered(core: Core, rooms: Conferences) -> list[CallInfo]:
    """End one-to-one calls that have rung RING_SECONDS with nobody answering."""
    since = core.clock.now() - timedelta(seconds=RING_SECONDS)
    q = select(CallRow.id).where(
        CallRow.ended_at.is_(None), CallRow.answered_at.is_(None),
        CallRow.kind == CallKind.CALL.value, CallRow.started_at <= since,
    )  # fmt: skip
    with core.db.read() as session:
        ringing = list(session.scalars(q))
    return [end(core, rooms, call_id=i, reason=EndReason.NO_ANSWER, actor="system")
            for i in ringing]  # fmt: skip


# -- reading -------------------------------------------------------------------------------


def call_by_room(core: Core, room_id: str) -> CallInfo | None:
    with core.db.read() as session:
        row = session.scalars(select(CallRow).where(CallRow.room_id == room_id)).first()
        return _info(row, _parties(session, row.id)) if row is not None else None


def get_call(core: Core, call_id: int) -> CallInfo:
    with core.db.read() as session:
        row = _load(session, call_id=call_id)
        return _info(row, _parties(session, call_id))


def open_calls(core: Core, *, township_id: int | None = None) -> list[CallInfo]:
    """Calls in progress (the wall's KPI and banner), oldest first."""
    with core.db.read() as session:
        q = select(CallRow).where(CallRow.ended_at.is_(None)).order_by(CallRow.id)
        if township_id is not None:
            q = q.where(CallRow.township_id == township_id)
        return [_info(r, _parties(session, r.id)) for r in session.scalars(q)]


def invitations(core: Core, *, principal: Principal) -> list[CallInfo]:
    """Open calls that ring for this principal (itself, its office, the centre) and that it
    has not answered: the console's banner with one-click join."""
    mine = answers_for(principal)
    out = []
    for call in open_calls(core):
        if call.started_by in mine:
            continue
        with core.db.read() as session:
            parties = _parties(session, call.id)
        if any(p.party in mine and p.answer is None and p.joined_at is None for p in parties):
            out.append(call)
    return out


def wall_calls(
    core: Core, *, township_id: int | None, scope: CaseScope | None
) -> list[dict[str, Any]]:
    """What the wall's snapshot carries under stats.calls (the reducer keeps it current)."""
    calls = open_calls(core, township_id=township_id)
    if scope is not None and scope.township_id is not None:
        calls = [c for c in calls if c.township_id == scope.township_id]
    unit_name = core.names.unit_name if core.names is not None else (lambda _: "")
    return [{**c.to_wire(), "township": unit_name(c.township_id)} for c in calls]


def recording_file(core: Core, *, principal: Principal, call_id: int) -> tuple[Path, str]:
    """The recording of a call on a case the principal may see; NotFound otherwise."""
    with core.db.read() as session:
        row = session.get(CallRow, call_id)
        missing = NotFound(f"call {call_id} has no recording", field="call_id")
        if row is None or row.recording_path is None:
            raise missing
        if row.case_id is not None:
            try:
                visible_row(session, row.case_id, principal.scope)
            except NotFound:
                raise missing from None
        elif principal.role not in (Role.ADMIN, Role.DUTY, Role.LEADER) and (
            participant_id(principal) != row.started_by
        ):
            raise missing
        relative = row.recording_path
    base = core.data_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotFound(f"the recording of call {call_id} is missing from the data directory",
                       field="call_id")  # fmt: skip
    return path, "video/mp4" if path.suffix == ".mp4" else "video/webm"
