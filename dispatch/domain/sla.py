"""The SLA clock: deadlines per urgency, yellow at 2/3 of the time, red at the deadline.

The clock counts *working* time: time spent suspended is not counted, and an approved
extension re-baselines the budget (the yellow threshold moves with it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatch.domain.errors import InvalidValue


class Urgency(enum.StrEnum):
    EMERGENCY = "emergency"  # 紧急: on scene within 1 h, closed within 24 h
    IMMEDIATE = "immediate"  # 即办: closed the same day, within 24 h
    URGENT = "urgent"  # 急件: within 3 days
    NORMAL = "normal"  # 一般: within 7 days


class Light(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"  # 催办: 2/3 of the time spent
    RED = "red"  # 督办: deadline passed


@dataclass(frozen=True)
class SlaPolicy:
    """How long each urgency may take; configurable per deployment."""

    budgets: dict[Urgency, timedelta] = field(
        default_factory=lambda: {
            Urgency.EMERGENCY: timedelta(hours=24),
            Urgency.IMMEDIATE: timedelta(hours=24),
            Urgency.URGENT: timedelta(days=3),
            Urgency.NORMAL: timedelta(days=7),
        }
    )
    on_scene: timedelta = timedelta(hours=1)  # emergencies only
    yellow_fraction: float = 2 / 3

    def __post_init__(self) -> None:
        missing = [u.value for u in Urgency if u not in self.budgets]
        if missing:
            raise InvalidValue(f"SLA policy has no budget for urgency {missing}", field="budgets")
        for urgency, budget in self.budgets.items():
            if budget <= timedelta(0):
                raise InvalidValue(
                    f"SLA budget for {urgency.value} must be positive, got {budget}",
                    field="budgets",
                )
        if not 0 < self.yellow_fraction < 1:
            raise InvalidValue(
                f"yellow_fraction must be between 0 and 1, got {self.yellow_fraction}",
                field="yellow_fraction",
            )

    def start(self, urgency: Urgency, now: datetime) -> SlaClock:
        return SlaClock(
            started_at=now, budget=self.budgets[urgency], yellow_fraction=self.yellow_fraction
        )


def _aware(now: datetime, name: str = "now") -> datetime:
    if now.tzinfo is None:
        raise InvalidValue(f"time must be timezone-aware, got naive {now.isoformat()}", field=name)
    return now


@dataclass(frozen=True)
class SlaClock:
    """An immutable SLA clock; every method takes the current time."""

    started_at: datetime
    budget: timedelta
    yellow_fraction: float = 2 / 3
    paused_total: timedelta = timedelta(0)
    paused_since: datetime | None = None

    def __post_init__(self) -> None:
        # A naive start would only fail later, as a TypeError inside elapsed().
        _aware(self.started_at, "started_at")

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def elapsed(self, now: datetime) -> timedelta:
        """Working time spent: wall time since start minus every suspension."""
        now = _aware(now)
        paused = self.paused_total
        if self.paused_since is not None:
            paused += max(now - self.paused_since, timedelta(0))
        return max(now - self.started_at - paused, timedelta(0))

    def remaining(self, now: datetime) -> timedelta:
        return self.budget - self.elapsed(now)

    def deadline(self, now: datetime) -> datetime:
        """The wall-clock deadline if the clock runs on from `now` without pause."""
        return _aware(now) + self.remaining(now)

    def yellow_at(self, now: datetime) -> datetime:
        """Wall-clock time the light turns yellow if the clock runs on from `now`."""
        return _aware(now) + (self.budget * self.yellow_fraction - self.elapsed(now))

    def light(self, now: datetime) -> Light:
        spent = self.elapsed(now)
        if spent >= self.budget:
            return Light.RED
        if spent >= self.budget * self.yellow_fraction:
            return Light.YELLOW
        return Light.GREEN

    def pause(self, now: datetime) -> SlaClock:
        if self.paused_since is not None:
            raise InvalidValue("the SLA clock is already paused", field="sla")
        return replace(self, paused_since=_aware(now))

    def resume(self, now: datetime) -> SlaClock:
        if self.paused_since is None:
            raise InvalidValue("the SLA clock is not paused", field="sla")
        pause = max(_aware(now) - self.paused_since, timedelta(0))
        return replace(self, paused_total=self.paused_total + pause, paused_since=None)

    def extend(self, extra: timedelta) -> SlaClock:
        """Re-baseline after an approved extension: the budget grows, 2/3 moves with it."""
        if extra <= timedelta(0):
            raise InvalidValue(f"an extension must be positive, got {extra}", field="extra")
        return replace(self, budget=self.budget + extra)
