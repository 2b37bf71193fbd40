"""Whistle-and-report (吹哨报到): departments named on a hard case, each with its own deadline.

The centre names a lead department (主办) and co-handling departments (协办). Each must
acknowledge (报到) before its deadline and then report its part; a party that has not
acknowledged by its deadline turns red once (the case escalates), and the case may close only
when every party has reported.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.domain.errors import InvalidValue

DEFAULT_ACK = timedelta(minutes=30)
MAX_PARTIES = 12


class PartyRole(enum.StrEnum):
    LEAD = "lead"  # 主办
    CO = "co"  # 协办


class PartyState(enum.StrEnum):
    WAITING = "waiting"  # 待报到
    ACKNOWLEDGED = "acknowledged"  # 已报到
    REPORTED = "reported"  # 已反馈


@dataclass
class WhistleParty:
    department: str
    role: PartyRole
    ack_deadline: datetime
    acknowledged_at: datetime | None = None
    reported_at: datetime | None = None
    report: str | None = None
    late: bool = False  # turned red: not acknowledged by its deadline

    @property
    def state(self) -> PartyState:
        if self.reported_at is not None:
            return PartyState.REPORTED
        if self.acknowledged_at is not None:
            return PartyState.ACKNOWLEDGED
        return PartyState.WAITING

    def overdue(self, now: datetime) -> bool:
        """Waiting past its deadline and not yet marked red."""
        return self.acknowledged_at is None and not self.late and now >= self.ack_deadline


def plan_parties(
    *, lead: str, co: list[str], ack_within: timedelta, now: datetime, known: frozenset[str]
) -> list[WhistleParty]:
    """Check the departments named and give each its acknowledgement deadline."""
    if not lead:
        raise InvalidValue("a whistle needs a lead department (主办)", field="lead")
    names = [lead, *co]
    for name in names:
        if name not in known:
            field = "lead" if name == lead else "co"
            raise InvalidValue(f"unknown department {name!r}", field=field)
    if len(set(names)) != len(names):
        raise InvalidValue("each department may be named only once", field="co")
    if len(names) > MAX_PARTIES:
        raise InvalidValue(f"at most {MAX_PARTIES} departments, got {len(names)}", field="co")
    if not timedelta(minutes=1) <= ack_within <= timedelta(days=3):
        raise InvalidValue(
            f"the acknowledgement deadline must be 1 minute to 3 days, got {ack_within}",
            field="ack_minutes",
        )
    deadline = now + ack_within
    return [WhistleParty(lead, PartyRole.LEAD, deadline)] + [
        WhistleParty(name, PartyRole.CO, deadline) for name in co
    ]


def find_party(parties: list[WhistleParty], department: str | None) -> WhistleParty:
    for party in parties:
        if party.department == department:
            return party
    named = ", ".join(p.department for p in parties) or "none"
    raise InvalidValue(
        f"department {department!r} is not called on this case (called: {named})",
        field="department",
    )
