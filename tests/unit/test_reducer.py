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


def snapshot(*cases: dict[str, Any], seq: int = 10) -> dict[str, Any]:
    return {
        "seq": seq,
        "server_time": LATER,
        "day_start": DAY_START,
        "township_id": None,
        "cases": list(cases),
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


def start(*cases: dict[str, Any], seq: int = 10) -> dict[str, Any]:
    return {"op": "fromSnapshot", "snapshot": snapshot(*cases, seq=seq)}


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
