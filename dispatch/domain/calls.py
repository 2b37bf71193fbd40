"""Video calls and conferences: who is invited, who may start one, who may join.

Pure rules. A call rings one grid worker (or, from a worker's phone, the centre); a
conference on a case invites offices (a township or a department: any officer of it may
answer) and grid workers. Everyone in a room is a *party*, named by a key:
"worker:17", "township:3", "department:env", "user:5" (the one who started it), or
"centre" (every duty officer, leader and admin).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dispatch.domain.access import COUNTY_ROLES, CaseView, Principal, Role
from dispatch.domain.errors import InvalidValue

MAX_PARTICIPANTS = 9  # the MCU's gallery: 3 × 3 (media/conference.py)
CENTRE = "centre"
# Who may start a call to a worker or convene a conference.
CALLERS = frozenset({Role.ADMIN, Role.DUTY, Role.LEADER, Role.TOWNSHIP, Role.DEPARTMENT})
_PARTY_KINDS = ("worker", "township", "department", "user")


class CallKind(enum.StrEnum):
    CALL = "call"  # one to one: the centre and a grid worker
    CONFERENCE = "conference"  # up to nine on a case


class EndReason(enum.StrEnum):
    HUNG_UP = "hung_up"  # someone left a one-to-one call, or ended it for all
    DECLINED = "declined"
    EMPTY = "empty"  # the last participant left a conference
    MEDIA_RESTARTED = "media_restarted"
    FAILED = "failed"  # the media side refused or lost the room
    NO_ANSWER = "no_answer"  # nobody answered within RING_SECONDS


# A call that rings this long without an answer ends by itself: the caller hears "no
# answer" and the wall's count of calls in progress does not keep it forever.
RING_SECONDS = 60


@dataclass(frozen=True)
class Party:
    """An invited party: a worker, an office, the caller itself, or the centre."""

    kind: str
    ident: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}" if self.ident else self.kind

    @classmethod
    def parse(cls, key: str) -> Party:
        if key == CENTRE:
            return cls(CENTRE)
        kind, sep, ident = key.partition(":")
        if not sep or kind not in _PARTY_KINDS or not ident:
            allowed = ", ".join(f"{k}:<id>" for k in _PARTY_KINDS)
            raise InvalidValue(
                f"invitee {key!r} is not one of {allowed} or 'centre'", field="invite"
            )
        if kind in ("worker", "township", "user") and not ident.isdigit():
            raise InvalidValue(f"invitee {key!r}: {kind} ids are whole numbers", field="invite")
        return cls(kind, ident)


def participant_id(principal: Principal) -> str:
    """The stable id of a principal in a room: a grid worker by its worker id (its phone and
    any account of it are the same person), anyone else by its user id, else its name."""
    if principal.worker_id is not None and principal.role == Role.GRID_WORKER:
        return f"worker:{principal.worker_id}"
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"name:{principal.name}"


def answers_for(principal: Principal) -> frozenset[str]:
    """The party keys a principal answers for: itself, its office, or the centre."""
    keys = {participant_id(principal)}
    if principal.role == Role.TOWNSHIP and principal.township_id is not None:
        keys.add(f"township:{principal.township_id}")
    elif principal.role == Role.DEPARTMENT and principal.department:
        keys.add(f"department:{principal.department}")
    elif principal.role in (Role.ADMIN, Role.DUTY, Role.LEADER):
        keys.add(CENTRE)
    return frozenset(keys)


def check_caller(principal: Principal) -> None:
    if principal.role not in CALLERS:
        raise InvalidValue(
            f"a {principal.role.value} account may not start calls; the centre, an office or "
            "a leader may",
            field="role",
        )


def check_invitees(invitees: Sequence[str], *, limit: int = MAX_PARTICIPANTS) -> list[Party]:
    """The parties of a conference (the convener comes on top), each once, within the limit."""
    parties: list[Party] = []
    seen: set[str] = set()
    for key in invitees:
        if not isinstance(key, str):
            raise InvalidValue(f"invitee {key!r} must be a string like 'worker:17'", field="invite")
        party = Party.parse(key.strip())
        if party.key not in seen:
            seen.add(party.key)
            parties.append(party)
    if not parties:
        raise InvalidValue("invite at least one office or grid worker", field="invite")
    if len(parties) + 1 > limit:
        raise InvalidValue(
            f"{len(parties)} invitees and the convener make {len(parties) + 1} participants; "
            f"a room holds at most {limit}",
            field="invite",
        )
    return parties


def may_join(
    principal: Principal, invited: Iterable[str], case: CaseView | None, township_id: int | None
) -> str | None:
    """Why this principal may not join the room, or None when it may.

    Invited parties may join; so may anyone of the county (centre) roles. Jurisdiction comes
    first: an office may only join rooms of cases in its own jurisdiction, even if invited by
    mistake, and a township office may not join a township-less room of another township.
    A grid worker sees only its own cases, so for it the invitation is what counts: the
    convener brought it in for what it knows of the place.
    """
    if principal.role == Role.GRID_WORKER:
        invited_here = answers_for(principal) & set(invited)
        return None if invited_here else "you were not invited to this room"
    if case is not None and not principal.scope.allows(case):
        return "this room belongs to a case outside your jurisdiction"
    if case is None and principal.role == Role.TOWNSHIP and township_id != principal.township_id:
        return "this room belongs to another township"
    if principal.role in COUNTY_ROLES and principal.role != Role.KIOSK:
        return None
    if answers_for(principal) & set(invited):
        return None
    return "you were not invited to this room"
