"""What every service function needs, wired once by the bootstrap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from dispatch.adapters.clock import Clock
from dispatch.adapters.db import Database
from dispatch.domain.routing import GridIndex
from dispatch.domain.sla import SlaPolicy
from dispatch.service.unit_of_work import StoredEvent, UnitOfWork

if TYPE_CHECKING:
    from dispatch.service.directory import Directory
    from dispatch.service.screen_cases import ScreenCases
    from realtime.positions import PositionService


class Publisher(Protocol):
    """Told about events after they are committed (rings the doorbell of every process)."""

    def published(self, events: Sequence[StoredEvent]) -> None: ...


class NoPublisher:
    def published(self, events: Sequence[StoredEvent]) -> None:
        pass


@dataclass
class Core:
    db: Database
    clock: Clock
    grids: GridIndex
    policy: SlaPolicy = field(default_factory=SlaPolicy)
    publisher: Publisher = field(default_factory=NoPublisher)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # Latest positions, presence and position history of grid workers (the bootstrap wires it).
    positions: PositionService | None = None
    # Names of units, workers and departments (the bootstrap loads them once).
    names: Directory | None = None
    # The cases screens start from, kept in memory (the bootstrap wires it; None: read them).
    screen_cases: ScreenCases | None = None
    # Where files live: photos, recordings, the base map.
    data_dir: Path = field(default_factory=lambda: Path("data"))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, after_commit=self.publisher.published)
