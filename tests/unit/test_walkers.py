"""The demo's walking grid workers, driven by a fake clock: plausible, valid, in their grids."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dispatch.adapters.clock import FixedClock
from dispatch.demo.county import build_demo_county
from dispatch.demo.walkers import Walkers
from dispatch.domain.geometry import bbox
from realtime.fixes import Fix, advance, parse_fix, screen
from realtime.presence import Presence, epoch_ms, presence_at

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
M_PER_DEG = 111_195.0


class Phone:
    """Stands in for requests.Session: keeps what was posted, answers like the server."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def post(self, url: str, *, json: dict[str, Any], timeout: float) -> Any:
        self.posted += json["fixes"]
        return SimpleNamespace(status_code=200, json=lambda: {"accepted": len(json["fixes"])})


@pytest.fixture(scope="module")
def walked() -> tuple[Walkers, list[dict[str, Any]], FixedClock]:
    county = build_demo_county(2024)
    clock = FixedClock(T0)
    workers = {w.id: SimpleNamespace(id=w.id, grid_id=w.grid_id) for w in county.workers}
    app = SimpleNamespace(names=SimpleNamespace(workers=workers), core=SimpleNamespace(clock=clock))
    walkers = Walkers(app, county, base_url="http://demo", seed=3)  # type: ignore[arg-type]
    phone = Phone()
    walkers.setup(0.0)
    for second in range(1, 40 * 60):  # forty minutes of patrol, one tick a second
        clock.set(T0 + timedelta(seconds=second))
        walkers.tick(float(second), phone)  # type: ignore[arg-type]
    return walkers, phone.posted, clock


def test_every_worker_sends_valid_fixes_every_few_seconds(walked: Any) -> None:
    walkers, posted, clock = walked
    known = {w.worker_id for w in walkers.walkers}
    assert len(known) == 150
    by_worker: dict[int, list[Fix]] = defaultdict(list)
    for n, raw in enumerate(posted):
        fix = parse_fix(raw, n, known, epoch_ms(clock.now()))
        assert isinstance(fix, Fix), fix
        by_worker[fix.worker_id].append(fix)
    assert set(by_worker) == known
    # One fix each 5 s while online: 40 minutes is at most 480 fixes a worker.
    counts = sorted(len(f) for f in by_worker.values())
    assert 300 < counts[len(counts) // 2] <= 480


def test_paths_are_plausible_and_stay_in_the_workers_grid(walked: Any) -> None:
    walkers, posted, _ = walked
    county = build_demo_county(2024)
    grid_of = {w.worker_id: w.grid_id for w in walkers.walkers}
    for worker_id, fixes in _fixes_by_worker(posted).items():
        out = screen(fixes, {})
        assert out.flagged == [], (worker_id, out.flagged[:1])
        x0, y0, x1, y1 = bbox(county.unit(grid_of[worker_id]).polygon)
        slack = 10 / M_PER_DEG  # GPS jitter
        assert all(x0 - slack <= f.long <= x1 + slack for f in fixes)
        assert all(y0 - slack <= f.lat <= y1 + slack for f in fixes)


def test_some_workers_idle_and_some_drop_offline_for_minutes(walked: Any) -> None:
    _, posted, _ = walked
    idle, offline = set(), set()
    for worker_id, fixes in _fixes_by_worker(posted).items():
        latest = None
        for before, fix in itertools.pairwise(fixes):
            gap = fix.at_ms - before.at_ms
            if gap > 120_000:
                assert gap < 7 * 60_000  # and they come back
                offline.add(worker_id)
            latest = advance(latest, before)
            if presence_at(latest, fix.at_ms - 1) is Presence.IDLE:
                idle.add(worker_id)
    # About one drop a worker-hour and one long stop in five: a few of each on the wall.
    assert 10 <= len(offline) <= 110, len(offline)
    assert 10 <= len(idle) <= 120, len(idle)


def _fixes_by_worker(posted: list[dict[str, Any]]) -> dict[int, list[Fix]]:
    by_worker: dict[int, list[Fix]] = defaultdict(list)
    for n, raw in enumerate(posted):
        at = datetime.fromisoformat(raw["time"])
        by_worker[raw["worker_id"]].append(
            Fix(n, raw["worker_id"], epoch_ms(at), raw["lat"], raw["long"], raw["accuracy"],
                raw["speed"], raw["battery"])
        )  # fmt: skip
    return by_worker
