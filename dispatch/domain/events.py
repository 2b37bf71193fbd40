"""Domain events: small frozen dataclasses named after what happened.

Each event has a stable wire `type` (e.g. ``case.dispatched``) used in the event log, on the
socket and in replays; `to_payload` / `from_payload` convert to and from plain JSON data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"
    case_id: int
    at: datetime
    actor: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseReported(Event):
    type: ClassVar[str] = "case.reported"
    channel: str
    service_code: str
    lat: float
    long: float
    township_id: int | None = None
    grid_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseVerified(Event):
    type: ClassVar[str] = "case.verified"


@dataclass(frozen=True, kw_only=True)
class CaseRejected(Event):
    type: ClassVar[str] = "case.rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseRegistered(Event):
    type: ClassVar[str] = "case.registered"
    category: str
    urgency: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class CaseDispatched(Event):
    type: ClassVar[str] = "case.dispatched"
    unit_id: int | None
    department: str | None
    worker_id: int | None


@dataclass(frozen=True, kw_only=True)
class CaseAccepted(Event):
    type: ClassVar[str] = "case.accepted"


@dataclass(frozen=True, kw_only=True)
class CaseReturned(Event):
    type: ClassVar[str] = "case.returned"
    reason: str


@dataclass(frozen=True, kw_only=True)
class HandlingStarted(Event):
    type: ClassVar[str] = "case.handling_started"


@dataclass(frozen=True, kw_only=True)
class CaseHandled(Event):
    type: ClassVar[str] = "case.handled"
    result: str


@dataclass(frozen=True, kw_only=True)
class CaseClosed(Event):
    type: ClassVar[str] = "case.closed"
    on_time: bool


@dataclass(frozen=True, kw_only=True)
class CaseReviewed(Event):
    type: ClassVar[str] = "case.reviewed"
    rating: int
    # The rating this one replaces: an unhappy callback's, kept while the case was reopened,
    # handled and closed again. Readers that no longer hold the case (the wall's thirty days)
    # move their counts by it.
    previous_rating: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseReopened(Event):
    type: ClassVar[str] = "case.reopened"
    reason: str
    rating: int | None = None
    # What the reopening replaces or undoes, for readers that no longer hold the case (the
    # wall's thirty days): the rating before this one and the closing.
    previous_rating: int | None = None
    previous_closed_at: datetime | None = None
    previous_on_time: bool | None = None


@dataclass(frozen=True, kw_only=True)
class CaseReworked(Event):
    """The centre sent a handled result back to the unit (state: handled → handling)."""

    type: ClassVar[str] = "case.reworked"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseSuspended(Event):
    type: ClassVar[str] = "case.suspended"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseResumed(Event):
    type: ClassVar[str] = "case.resumed"
    deadline: datetime | None


@dataclass(frozen=True, kw_only=True)
class ExtensionRequested(Event):
    type: ClassVar[str] = "case.extension_requested"
    hours: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class ExtensionApproved(Event):
    type: ClassVar[str] = "case.extension_approved"
    hours: float
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class ExtensionDenied(Event):
    type: ClassVar[str] = "case.extension_denied"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseEscalated(Event):
    """Up one level: by an officer (state → escalated) or by the clock at red (automatic:
    only the supervising level changes)."""

    type: ClassVar[str] = "case.escalated"
    level: str
    reason: str
    automatic: bool = False


@dataclass(frozen=True, kw_only=True)
class CaseSentDown(Event):
    type: ClassVar[str] = "case.sent_down"
    level: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseMerged(Event):
    type: ClassVar[str] = "case.merged"
    master_id: int


@dataclass(frozen=True, kw_only=True)
class CaseCancelled(Event):
    type: ClassVar[str] = "case.cancelled"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseUrged(Event):
    type: ClassVar[str] = "case.urged"
    message: str


@dataclass(frozen=True, kw_only=True)
class CaseSupervised(Event):
    type: ClassVar[str] = "case.supervised"
    message: str


@dataclass(frozen=True, kw_only=True)
class SlaTurnedYellow(Event):
    type: ClassVar[str] = "sla.yellow"
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class SlaTurnedRed(Event):
    type: ClassVar[str] = "sla.red"
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class WhistleBlown(Event):
    type: ClassVar[str] = "whistle.blown"
    lead: str
    co: list[str]
    ack_deadline: datetime


@dataclass(frozen=True, kw_only=True)
class WhistleAcknowledged(Event):
    type: ClassVar[str] = "whistle.acknowledged"
    department: str
    late: bool


@dataclass(frozen=True, kw_only=True)
class WhistlePartReported(Event):
    type: ClassVar[str] = "whistle.reported"
    department: str
    result: str


@dataclass(frozen=True, kw_only=True)
class WhistleAckOverdue(Event):
    """A called department has not acknowledged by its deadline: its countdown turns red."""

    type: ClassVar[str] = "whistle.overdue"
    department: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class CallEvent(Event):
    """A video call or conference (dispatch/domain/calls.py). A grid worker may call the
    centre without a case, so these are the only events whose case may be None."""

    case_id: int | None  # type: ignore[assignment]
    call_id: int
    kind: str  # "call" | "conference"


@dataclass(frozen=True, kw_only=True)
class CallStarted(CallEvent):
    type: ClassVar[str] = "call.started"
    caller: str  # shown names: "值班员 李明", "网格员 张伟"
    callee: str
    status: str  # "ringing" (someone calls the centre) | "calling" (the centre calls out)


@dataclass(frozen=True, kw_only=True)
class CallAnswered(CallEvent):
    type: ClassVar[str] = "call.answered"
    by: str


@dataclass(frozen=True, kw_only=True)
class CallEnded(CallEvent):
    type: ClassVar[str] = "call.ended"
    end_reason: str  # dispatch/domain/calls.py EndReason
    seconds: float


@dataclass(frozen=True, kw_only=True)
class CallRecorded(CallEvent):
    """The composite recording of a call on a case, playable from the case page."""

    type: ClassVar[str] = "call.recorded"
    recording: str  # the URL that serves it: /api/calls/<id>/recording
    seconds: float
    size: int


@dataclass(frozen=True, kw_only=True)
class EvidenceAdded(Event):
    """A picture was kept with the case as evidence: a camera's snapshot (调取视频截图).

    Not a transition: the case stays in its state; the service records it as a note."""

    type: ClassVar[str] = "case.evidence_added"
    photo_id: int
    camera_id: int | None = None
    camera: str = ""  # the camera's name when the picture is a camera's snapshot


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        CaseReported, CaseVerified, CaseRejected, CaseRegistered, CaseDispatched,
        CaseAccepted, CaseReturned, HandlingStarted, CaseHandled, CaseClosed, CaseReviewed,
        CaseReopened, CaseReworked, CaseSuspended, CaseResumed, ExtensionRequested,
        ExtensionApproved, ExtensionDenied, CaseEscalated, CaseSentDown, CaseMerged,
        CaseCancelled, CaseUrged, CaseSupervised, SlaTurnedYellow, SlaTurnedRed,
        WhistleBlown, WhistleAcknowledged, WhistlePartReported, WhistleAckOverdue,
        CallStarted, CallAnswered, CallEnded, CallRecorded, EvidenceAdded,
    )
}  # fmt: skip


def to_payload(event: Event) -> dict[str, Any]:
    """The event's own fields as JSON data (datetimes as ISO 8601), without case_id/at."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name in ("case_id", "at"):
            continue
        value = getattr(event, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def from_payload(type_: str, case_id: int, at: datetime, payload: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[type_]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in payload:
            value = payload[f.name]
            if isinstance(value, str) and f.type in ("datetime", "datetime | None"):
                value = datetime.fromisoformat(value)
            kwargs[f.name] = value
    return cls(case_id=case_id, at=at, **kwargs)
