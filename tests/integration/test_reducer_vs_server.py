"""The browser reducer against the real server: stale snapshot + events == fresh snapshot.

Zulip's test_events idea: take a snapshot, change things through the real services, replay
the logged events into the old snapshot with assets/js/reducer.js (under Node), and compare
with a snapshot taken afterwards. Then the KPI strip the browser derives must equal kpis().
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions, queries
from dispatch.service.intake import NewReport, submit_report
from realtime.frames import PositionFrames
from realtime.log import events_after
from realtime.positions import ingest_positions
from tests.reducer_node import run_reducer
from tests.support import build_app

# One step along the main path for a case in each state (action, params).
NEXT_STEP: dict[str, tuple[str, dict[str, Any]]] = {
    "reported": ("verify", {}),
    "verified": ("register", {}),
    "registered": ("dispatch", {}),
    "dispatched": ("accept", {}),
    "accepted": ("start_handling", {}),
    "handling": ("report_handled", {"result": "已清理完毕"}),
    "handled": ("close", {}),
    "closed": ("review", {"rating": 5}),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir: Path = tmp_path_factory.mktemp("reducer")
    yield build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", history=True)


def grid_points(app: App, count: int) -> list[tuple[float, float]]:
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id
    )
    return [centroid(g.polygon[0]) for g in grids[:count]]


def change_things(app: App, snapshot: dict[str, Any]) -> None:
    """New reports, and one step for a spread of cases across every state of the snapshot."""
    for n, (long, lat) in enumerate(grid_points(app, 3)):
        submit_report(
            app.core,
            NewReport(service_code="garbage", lat=lat, long=long, description=f"垃圾桶满溢 {n}"),
        )
    stepped: set[str] = set()
    for case in snapshot["cases"]:
        if case["state"] in NEXT_STEP and case["state"] not in stepped:
            action, params = NEXT_STEP[case["state"]]
            actions.perform(app.core, case["id"], action, params, actor="test")
            stepped.add(case["state"])
    # The same case twice in a row: replay must land on its latest summary.
    first = next(c for c in snapshot["cases"] if c["state"] == "reported")
    actions.perform(app.core, first["id"], "register", {}, actor="test")


def by_id(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(c["id"]): c for c in cases}


def test_a_stale_snapshot_plus_the_logged_events_equals_a_fresh_snapshot(app: App) -> None:
    old = queries.snapshot(app.core, app.names)
    change_things(app, old)
    events, upto = events_after(app.core, app.names, old["seq"], limit=100_000)
    fresh = queries.snapshot(app.core, app.names)
    assert events, "the changes wrote no events"
    # Deliver them the way a screen gets them: in two batches that overlap by one event.
    half = len(events) // 2
    first = {"from": old["seq"], "to": events[half]["seq"], "events": events[: half + 1]}
    second = {"from": events[half - 1]["seq"], "to": upto, "events": events[half - 1 :]}

    out = run_reducer(
        [
            {"op": "fromSnapshot", "snapshot": old},
            {"op": "applyBatch", "batch": first},
            {"op": "applyBatch", "batch": second},
        ]
    )

    assert out["results"][1]["gap"] is False and out["results"][2]["gap"] is False
    assert out["state"]["seq"] == fresh["seq"] == upto
    assert out["state"]["cases"] == by_id(fresh["cases"])


def test_the_kpis_derived_in_the_browser_equal_the_servers(app: App) -> None:
    snap = queries.snapshot(app.core, app.names)
    server = queries.kpis(app.core)
    out = run_reducer(
        [{"op": "fromSnapshot", "snapshot": snap}, {"op": "kpis", "now": snap["server_time"]}]
    )
    assert server["open"] > 0 and server["reported_today"] > 0, server
    assert out["results"][1] == server


def test_a_stale_snapshot_plus_the_position_frames_equals_a_fresh_snapshot(app: App) -> None:
    """Workers are state: the frames a screen gets bring its snapshot's workers up to date."""
    frames: list[dict[str, Any]] = []  # what a county-wide screen (room "all") is sent

    def emit(event: str, data: dict[str, Any], room: str) -> None:
        if event == "positions" and room == "all":
            frames.append(data)

    sender = PositionFrames(app.names, app.core.clock, emit)
    assert app.core.positions is not None
    app.core.positions.feed.listen(sender.mark)
    now = app.core.clock.now()
    (long, lat), *_ = grid_points(app, 1)

    def fixes(seconds_ago: float, north_m: float, *worker_ids: int) -> dict[str, Any]:
        when = (now - timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds")
        return {"fixes": [{"worker_id": w, "time": when, "lat": lat + north_m / 111_195,
                           "long": long + w / 10_000} for w in worker_ids]}  # fmt: skip

    ingest_positions(app.core, fixes(60, 0, 1, 2, 3))
    old = queries.snapshot(app.core, app.names)
    sender.flush()  # what moved before the snapshot: a screen may get it after, or not at all
    ingest_positions(app.core, fixes(30, 200, 2, 4))  # one moves, one sends its first fix
    sender.flush()
    ingest_positions(app.core, fixes(20, 300, 3))
    sender.flush()
    fresh = queries.snapshot(app.core, app.names)

    steps: list[dict[str, Any]] = [{"op": "fromSnapshot", "snapshot": old}]
    steps += [{"op": "applyPositions", "frame": frame} for frame in frames]
    steps.append({"op": "workerCounts"})
    out = run_reducer(steps)

    assert len(frames) == 3
    assert out["state"]["workers"] == by_id(fresh["workers"])
    moved = {w["id"]: w for w in fresh["workers"]}
    assert {moved[w]["presence"] for w in (1, 2, 3, 4)} == {"online"}
    counts = out["results"][-1]
    assert counts["total"] == len(app.names.workers)
    assert counts["workers_online"] == sum(w["presence"] != "offline" for w in fresh["workers"])
