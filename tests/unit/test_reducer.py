"""The browser reducer (assets/js/reducer.js), run under Node on hand-made events."""

from __future__ import annotations

from typing import Any

from tests.reducer_node import run_reducer

DAY_START = "2026-11-22T00:00:00+08:00"
TODAY = "2026-11-22T09:30:00.123456+08:00"
LATER = "2026-11-22T10:15:00+08:00"
YESTERDAY = "2026-11-21T15:00:00+08:00"


def case(
    case_id: int,
    state: str = "reported",
    *,
    light: str = "green",
    reported_at: str = TODAY,
    updated_at: str | None = None,
    closed_at: str | None = None,
) -> dict[str, Any]:
    open_ = state not in {"closed", "reviewed", "rejected", "merged", "cancelled"}
    return {
        "id": case_id,
        "state": state,
        "status": "open" if open_ else "closed",
        "light": light,
        "lat": 25.6,
        "long": 103.8,
        "reported_at": reported_at,
        "updated_at": updated_at or reported_at,
        "closed_at": closed_at,
    }


def snapshot(
    *cases: dict[str, Any], seq: int = 10, workers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "seq": seq,
        "server_time": LATER,
        "day_start": DAY_START,
        "township_id": None,
        "cases": list(cases),
        "workers": workers or [],
    }


def event(seq: int, summary: dict[str, Any], kind: str = "case.updated") -> dict[str, Any]:
    return {
        "seq": seq,
        "type": kind,
        "case_id": summary["id"],
        "township_id": 1,
        "actor": "test",
        "at": summary["updated_at"],
        "data": {},
        "case": summary,
    }


def start(
    *cases: dict[str, Any], seq: int = 10, workers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"op": "fromSnapshot", "snapshot": snapshot(*cases, seq=seq, workers=workers)}


def batch(start_seq: int, to: int, *events: dict[str, Any]) -> dict[str, Any]:
    return {"op": "applyBatch", "batch": {"from": start_seq, "to": to, "events": list(events)}}


def test_a_batch_applies_its_events_in_order_and_moves_seq_to_its_end() -> None:
    reported = case(3, "reported")
    dispatched = case(3, "dispatched", updated_at=LATER)
    out = run_reducer([start(case(1)), batch(10, 13, event(11, reported), event(12, dispatched))])
    assert out["results"][1] == {"gap": False, "applied": 2, "unchanged": False}
    assert out["state"]["seq"] == 13
    assert out["state"]["cases"]["3"]["state"] == "dispatched"
    assert sorted(out["state"]["cases"]) == ["1", "3"]


def test_events_already_applied_are_ignored() -> None:
    first = case(3, "dispatched", updated_at=LATER)
    replayed_older = case(3, "reported")
    out = run_reducer(
        [
            start(),
            batch(10, 12, event(11, first)),
            batch(10, 12, event(11, replayed_older)),  # the same batch again, older summary
            {"op": "reduce", "event": event(12, replayed_older)},
        ]
    )
    assert out["results"][2] == {"gap": False, "applied": 0, "unchanged": True}
    assert out["results"][3] == {"unchanged": True}
    assert out["state"]["cases"]["3"]["state"] == "dispatched"


def test_a_batch_that_starts_after_our_seq_is_a_gap_and_changes_nothing() -> None:
    out = run_reducer([start(case(1)), batch(12, 14, event(13, case(3)))])
    assert out["results"][1] == {"gap": True, "applied": 0, "unchanged": True}
    assert out["state"]["seq"] == 10
    assert "3" not in out["state"]["cases"]


def test_a_batch_without_events_for_us_still_moves_seq() -> None:
    # Township rooms get batches whose events were all elsewhere: the range still counts.
    out = run_reducer([start(), batch(10, 25)])
    assert out["state"]["seq"] == 25


def test_an_older_summary_never_replaces_a_newer_one() -> None:
    newer = case(3, "handling", updated_at=LATER)
    older = case(3, "dispatched", updated_at=TODAY)
    out = run_reducer([start(newer), batch(10, 11, event(11, older))])
    assert out["state"]["cases"]["3"]["state"] == "handling"
    assert out["state"]["seq"] == 11


def test_closed_cases_stay_for_the_day_they_closed_and_go_after_midnight() -> None:
    old_open = case(1, "handling", reported_at=YESTERDAY)
    closed_today = case(2, "closed", reported_at=YESTERDAY, updated_at=TODAY, closed_at=TODAY)
    out = run_reducer(
        [
            start(old_open),
            batch(10, 11, event(11, closed_today)),
            {"op": "rollDay", "now": "2026-11-23T00:00:01+08:00"},
        ]
    )
    assert sorted(out["state"]["cases"]) == ["1"]
    assert out["results"][2]["dayStart"] == "2026-11-22T16:00:00.000Z"


def test_a_case_closed_on_an_earlier_day_is_dropped_when_it_arrives() -> None:
    stale = case(4, "reviewed", reported_at=YESTERDAY, closed_at=YESTERDAY)
    out = run_reducer([start(), batch(10, 11, event(11, stale))])
    assert out["state"]["cases"] == {}


def test_kpis_count_like_the_server() -> None:
    out = run_reducer(
        [
            start(
                case(1, "reported"),  # reported today, open
                case(2, "handling", light="red", reported_at=YESTERDAY),
                case(3, "dispatched", light="yellow", reported_at=YESTERDAY),
                case(
                    4,
                    "closed",
                    light="red",
                    reported_at=YESTERDAY,
                    updated_at=TODAY,
                    closed_at=TODAY,
                ),
                case(5, "handled", light="yellow"),  # reported today, open
            ),
            {"op": "kpis", "now": LATER},
            {"op": "kpis", "now": "2026-11-23T08:00:00+08:00"},  # the next morning
        ]
    )
    assert out["results"][1] == {
        "reported_today": 2,
        "open": 4,
        "closed_today": 1,
        "overdue": 1,
        "yellow": 2,
    }
    assert out["results"][2] == {
        "reported_today": 0,
        "open": 4,
        "closed_today": 0,
        "overdue": 1,
        "yellow": 2,
    }


def test_latest_lists_newest_reports_first() -> None:
    out = run_reducer(
        [
            start(case(1, reported_at=YESTERDAY), case(2, reported_at=LATER), case(3)),
            {"op": "latest", "limit": 2},
        ]
    )
    assert out["results"][1] == [2, 3]


# -- grid workers: the `positions` frame (docs/realtime.md, "Grid workers on the map") ------


def worker(
    worker_id: int,
    presence: str = "online",
    *,
    at: str | None = "2026-11-22T10:14:50.120+08:00",
    lat: float | None = 25.64,
    long: float | None = 103.74,
) -> dict[str, Any]:
    located = at is not None
    return {
        "id": worker_id,
        "name": f"网格员{worker_id}",
        "grid_id": 1000 + worker_id,
        "township_id": 10,
        "lat": lat if located else None,
        "long": long if located else None,
        "at": at,
        "presence": presence,
        "speed": 1.2 if located else None,
        "battery": 80 if located else None,
    }


def positions(t: str, *workers: dict[str, Any]) -> dict[str, Any]:
    return {"op": "applyPositions", "frame": {"t": t, "workers": list(workers)}}


FRAME_T = "2026-11-22T10:15:01.000+08:00"  # a second after the snapshot (LATER)
NEXT_FIX = "2026-11-22T10:15:00.500+08:00"


def test_the_snapshot_gives_every_worker_by_id_even_those_without_a_fix() -> None:
    never = worker(3, "offline", at=None)
    out = run_reducer([start(workers=[worker(1), worker(2, "idle"), never])])
    assert sorted(out["state"]["workers"]) == ["1", "2", "3"]
    assert out["state"]["workers"]["3"] == never


def test_a_frame_moves_known_workers_and_adds_new_ones() -> None:
    moved = worker(1, at=NEXT_FIX, lat=25.65)
    on_duty = {**worker(1), "on_duty": True}  # the snapshot says so; frames leave it out
    out = run_reducer([start(workers=[on_duty, worker(2)]), positions(FRAME_T, moved, worker(9))])
    assert out["results"][1] == {"unchanged": False}
    assert out["state"]["workers"]["1"] == {**moved, "on_duty": True}
    assert out["state"]["workers"]["2"] == worker(2)  # not in the frame: left as it was
    assert out["state"]["workers"]["9"] == worker(9)


def test_a_fix_older_than_the_one_we_hold_is_ignored() -> None:
    newer = worker(1, at=NEXT_FIX, lat=25.65)
    older = worker(1, at="2026-11-22T10:14:40.000+08:00", lat=25.60)
    out = run_reducer(
        [
            start(workers=[worker(1)]),
            positions(FRAME_T, newer),
            positions("2026-11-22T10:15:02+08:00", older),  # a later frame, an older fix
        ]
    )
    assert out["results"][2] == {"unchanged": True}
    assert out["state"]["workers"]["1"]["lat"] == 25.65


def test_the_same_fix_seen_later_changes_presence_and_seen_earlier_does_not() -> None:
    # The sweep finds the worker offline with no new fix: same `at`, later frame.
    offline = worker(1, "offline")
    stale_online = worker(1, "online")
    out = run_reducer(
        [
            start(workers=[worker(1)]),
            positions(FRAME_T, offline),
            # a frame computed before the sweep, overtaken on the way: must not revive it
            positions("2026-11-22T10:15:00.900+08:00", stale_online),
        ]
    )
    assert out["results"][1] == {"unchanged": False}
    assert out["results"][2] == {"unchanged": True}
    assert out["state"]["workers"]["1"]["presence"] == "offline"


def test_a_frame_read_before_the_snapshot_does_not_undo_it() -> None:
    # The snapshot (server_time LATER) already says idle; a frame from before it says online.
    out = run_reducer(
        [start(workers=[worker(1, "idle")]), positions("2026-11-22T10:14:59+08:00", worker(1))]
    )
    assert out["results"][1] == {"unchanged": True}
    assert out["state"]["workers"]["1"]["presence"] == "idle"


def test_applying_positions_leaves_cases_and_seq_alone() -> None:
    out = run_reducer(
        [start(case(1), workers=[worker(1)]), positions(FRAME_T, worker(1, at=NEXT_FIX))]
    )
    assert out["state"]["seq"] == 10 and sorted(out["state"]["cases"]) == ["1"]


def test_workers_online_counts_online_and_idle_and_offline_includes_never_seen() -> None:
    out = run_reducer(
        [
            start(
                workers=[
                    worker(1),
                    worker(2),
                    worker(3, "idle"),
                    worker(4, "offline"),
                    worker(5, "offline", at=None),
                ]
            ),
            {"op": "workerCounts"},
            positions(FRAME_T, worker(1, "offline"), worker(3, "offline"), worker(4, at=NEXT_FIX)),
            {"op": "workerCounts"},
        ]
    )
    assert out["results"][1] == {
        "online": 2, "idle": 1, "offline": 2, "total": 5, "workers_online": 3,
    }  # fmt: skip
    assert out["results"][3] == {
        "online": 2, "idle": 0, "offline": 3, "total": 5, "workers_online": 2,
    }  # fmt: skip
    assert out["state"]["workers"]["4"]["presence"] == "online"
    assert out["state"]["workers"]["1"]["presence"] == "offline"
