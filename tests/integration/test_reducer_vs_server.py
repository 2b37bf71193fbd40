"""The browser reducer against the real server: stale snapshot + events == fresh snapshot.

Zulip's test_events idea: take a snapshot, change things through the real services, replay
the logged events into the old snapshot with assets/js/reducer.js (under Node), and compare
with a snapshot taken afterwards. Then the KPI strip the browser derives must equal kpis().
The wall's state (called departments, thirty days of history) obeys the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from dispatch.adapters.orm import CaseRow
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
from tests.unit.test_reducer import run_wall

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
    reports = [
        submit_report(
            app.core,
            NewReport(service_code="garbage", lat=lat, long=long, description=f"垃圾桶满溢 {n}"),
        ).case_id
        for n, (long, lat) in enumerate(grid_points(app, 3))
    ]
    stepped: set[str] = set()
    for case in snapshot["cases"]:
        if case["state"] in NEXT_STEP and case["state"] not in stepped:
            action, params = NEXT_STEP[case["state"]]
            actions.perform(app.core, case["id"], action, params, actor="test")
            stepped.add(case["state"])
    # The same case three times in a row: replay must land on its latest summary. (A new
    # report: whether the seeded history leaves a case in `reported` is down to chance.)
    actions.perform(app.core, reports[0], "verify", {}, actor="test")
    actions.perform(app.core, reports[0], "register", {}, actor="test")


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


def test_a_snapshots_cases_are_the_screen_fields_of_their_summaries_in_both_languages(
    app: App,
) -> None:
    """The snapshot reads screen cases from plain rows; the browser cuts the summaries events
    carry to the same fields (assets/js/reducer.js SCREEN_FIELDS)."""
    (fields,) = run_reducer([{"op": "screenFields"}])["results"]
    assert tuple(fields) == queries.SCREEN_FIELDS
    snap = queries.snapshot(app.core, app.names)
    with app.core.db.read() as session:
        rows = {r.id: r for r in session.scalars(select(CaseRow))}
        summaries = {c["id"]: queries.summary(rows[c["id"]], app.names) for c in snap["cases"]}
    assert len(snap["cases"]) > 100
    for c in snap["cases"]:
        assert c == {k: summaries[c["id"]][k] for k in fields}


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


def wall_state(state: dict[str, Any]) -> dict[str, Any]:
    """The parts of the reducer's state the wall draws from, besides cases and workers."""
    return {key: state[key] for key in ("whistles", "history", "townships", "calls")}


def an_old_closed_case(app: App, before: str) -> int:
    """A case closed before today and not touched since: the snapshot does not hold it."""
    with app.core.db.read() as session:
        found = session.scalars(
            select(CaseRow.id)
            .where(CaseRow.state == "closed", CaseRow.updated_at < datetime.fromisoformat(before))
            .order_by(CaseRow.id)
        ).first()
    assert found is not None, "the seeded history has no case closed on an earlier day"
    return found


def change_the_walls_things(app: App, snapshot: dict[str, Any]) -> None:
    """Whistles called, acknowledged, reported and replaced; a category changed and a rating
    given on cases of earlier days: everything the wall's history and countdowns follow."""
    core = app.core
    (long, lat), *_ = grid_points(app, 1)
    new = submit_report(
        core, NewReport(service_code="garbage", lat=lat, long=long, description="垃圾桶满溢 吹哨")
    ).case_id
    actions.perform(core, new, "verify", {}, actor="test")
    actions.perform(core, new, "register", {"category": "noise"}, actor="test")
    actions.perform(core, new, "whistle", {"lead": "urbanmgmt", "co": ["housing", "civil"]},
                    actor="test")  # fmt: skip
    actions.perform(core, new, "acknowledge", {"department": "housing"}, actor="test")
    actions.perform(core, new, "report_part", {"department": "housing", "result": "已清运"},
                    actor="test")  # fmt: skip
    earlier = [c for c in snapshot["cases"] if c["reported_at"] < snapshot["day_start"]]
    # A whistle that an ordinary dispatch replaces.
    registered = next(c["id"] for c in earlier if c["state"] in ("registered", "returned"))
    actions.perform(core, registered, "whistle", {"lead": "urbanmgmt", "co": ["civil"]},
                    actor="test")  # fmt: skip
    actions.perform(core, registered, "return", {"reason": "不属于本部门"}, actor="test")
    actions.perform(core, registered, "dispatch", {"suggest_worker": False}, actor="test")
    # A case of an earlier day registered under another category than it was reported as.
    verified = next((c for c in earlier if c["state"] in ("verified", "reported")), None)
    if verified is not None:
        if verified["state"] == "reported":
            actions.perform(core, verified["id"], "verify", {}, actor="test")
        other = "noise" if verified["category"] != "noise" else "road"
        actions.perform(core, verified["id"], "register", {"category": other}, actor="test")
    # A case closed on an earlier day, rated today.
    old = an_old_closed_case(app, snapshot["day_start"])
    actions.perform(core, old, "review", {"rating": 4}, actor="test")


def test_the_walls_whistles_and_history_replayed_equal_a_fresh_snapshot(app: App) -> None:
    old = queries.snapshot(app.core, app.names)
    change_the_walls_things(app, old)
    events, upto = events_after(app.core, app.names, old["seq"], limit=100_000)
    fresh = queries.snapshot(app.core, app.names)
    now = fresh["server_time"]
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": old},
            {"op": "applyBatch", "batch": {"from": old["seq"], "to": upto, "events": events}},
            {"op": "kpis", "now": now},
            {"op": "warnings", "now": now, "args": [0]},
            {"op": "fromSnapshot", "snapshot": fresh},
            {"op": "kpis", "now": now},
            {"op": "warnings", "now": now, "args": [0]},
        ]
    )
    replayed = out["state"]  # the last step's state is the fresh one; rebuild the replayed
    stale = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": old},
            {"op": "applyBatch", "batch": {"from": old["seq"], "to": upto, "events": events}},
        ]
    )["state"]
    assert {e["type"] for e in events} >= {
        "whistle.blown", "whistle.acknowledged", "whistle.reported", "case.returned",
        "case.dispatched", "case.reviewed",
    }  # fmt: skip
    assert stale["cases"] == replayed["cases"] == by_id(fresh["cases"])
    assert wall_state(stale) == wall_state(replayed)
    assert stale["history"] == fresh["stats"]["history"]
    whistled = [cid for cid, parties in stale["whistles"].items() if len(parties) == 3]
    assert whistled, stale["whistles"]
    # What the wall shows is the same too: KPIs and the warnings with their countdowns.
    kpis_replayed, warnings_replayed, _, kpis_fresh, warnings_fresh = out["results"][2:]
    assert kpis_replayed == kpis_fresh
    assert warnings_replayed == warnings_fresh


def closed_on_earlier_days(app: App, day_start: datetime, *, rated: bool) -> list[int]:
    """Cases closed before today and not touched since, which the snapshot does not hold;
    `rated`: those still holding the unhappy rating that reopened them once."""
    with app.core.db.read() as session:
        return list(
            session.scalars(
                select(CaseRow.id)
                .where(CaseRow.state == "closed", CaseRow.updated_at < day_start)
                .where(CaseRow.rating.is_not(None) if rated else CaseRow.rating.is_(None))
                .order_by(CaseRow.id)
            )
        )


def test_callbacks_on_cases_the_wall_no_longer_holds_replay_to_a_fresh_snapshots_history(
    app: App,
) -> None:
    """Ratings and reopenings of cases closed on earlier days, on the window's edges too: a
    rating replacing an unhappy one, a reopening taking a closing off its day, and cases
    reported at the first instant of the window, of yesterday, and just before the window."""
    core = app.core
    day_start = datetime.fromisoformat(queries.snapshot(core, app.names)["day_start"])
    window_start = day_start - timedelta(days=29)  # the first history row's first instant
    plain = closed_on_earlier_days(app, day_start, rated=False)
    unhappy = closed_on_earlier_days(app, day_start, rated=True)
    assert len(plain) >= 5 and unhappy, "the seeded history has too few closed cases"
    at_window_start, before_window, at_yesterday, closed_at_window_start, reopened = plain[:5]
    edges = {
        at_window_start: (window_start, window_start + timedelta(hours=3)),
        before_window: (window_start - timedelta(microseconds=1), window_start),
        at_yesterday: (day_start - timedelta(days=1), day_start - timedelta(hours=20)),
        closed_at_window_start: (window_start - timedelta(days=2), window_start),
    }
    with core.db.writer() as session:
        for case_id, (reported, closed) in edges.items():
            session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id)
                .values(reported_at=reported, closed_at=closed, updated_at=closed)
            )
        session.commit()

    old = queries.snapshot(core, app.names)
    for case_id in (at_window_start, before_window, at_yesterday):
        actions.perform(core, case_id, "review", {"rating": 5}, actor="test")
    actions.perform(core, unhappy[0], "review", {"rating": 4}, actor="test")
    for case_id in (closed_at_window_start, reopened):
        actions.perform(core, case_id, "review", {"rating": 2}, actor="test")
    events, upto = events_after(core, app.names, old["seq"], limit=100_000)
    fresh = queries.snapshot(core, app.names)
    replayed = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": old},
            {"op": "applyBatch", "batch": {"from": old["seq"], "to": upto, "events": events}},
        ]
    )["state"]

    assert [e["type"] for e in events].count("case.reopened") == 2
    assert old["stats"]["history"] != fresh["stats"]["history"]
    assert replayed["history"] == fresh["stats"]["history"]
