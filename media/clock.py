"""Time for the gateway, injectable so tests can run back-off and pacing without waiting."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (pacing, timeouts)."""
        ...

    def now(self) -> datetime:
        """Timezone-aware UTC wall time (what status reports say)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def backoff_delay(attempt: int, *, initial: float, cap: float) -> float:
    """Seconds before reconnect attempt `attempt` (0 for the first after a failure):
    doubling from `initial`, never above `cap`."""
    if attempt < 0:
        raise ValueError(f"attempt must be 0 or more, got {attempt}")
    return float(min(cap, initial * 2.0 ** min(attempt, 62)))
