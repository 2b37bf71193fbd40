"""Calls in progress in the browser reducer (assets/js/reducer.js): the wall's KPI "calls"
and its incoming-call banner start from the snapshot's stats.calls and follow call.* events."""

from __future__ import annotations

from typing import Any

from tests.reducer_node import run_reducer

DAY_START = "2026-11-22T00:00:00+08:00"
NOW = "2026-11-22T09:30:00+08:00"


def snapshot(calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seq": 10, "server_time": NOW, "day_start": DAY_START, "township_id": None,
        "cases": [], "workers": [],
        "stats": {"history": [], "townships": {"3": "松林镇"}, "whistles": [], "calls": calls},
    }  # fmt: skip


def call_event(seq: int, kind: str, call_id: int, **data: Any) -> dict[str, Any]:
    return {
        "seq": seq, "type": kind, "case_id": None, "township_id": 3, "actor": "worker:w",
        "at": NOW, "data": {"call_id": call_id, "kind": "call", **data}, "case": None,
    }  # fmt: skip


def test_calls_start_ring_are_answered_and_end_by_id() -> None:
    ongoing = {"id": 1, "status": "active", "caller": "值班员 李明", "started_at": NOW}
    started = call_event(11, "call.started", 2, caller="网格员 张伟", callee="指挥中心",
                         status="ringing")  # fmt: skip
    steps = [
        {"op": "fromSnapshot", "snapshot": snapshot([ongoing])},
        {"op": "reduce", "event": started},
        {"op": "reduce", "event": started},  # replayed: already applied
        {"op": "reduce", "event": call_event(12, "call.answered", 2, by="值班员 赵丽")},
        {"op": "reduce", "event": call_event(13, "call.ended", 1, end_reason="hung_up",
                                             seconds=30.0)},
    ]  # fmt: skip
    out = run_reducer(steps)
    assert out["results"][2] == {"unchanged": True}
    calls = out["state"]["calls"]
    assert sorted(calls) == ["2"]
    assert calls["2"]["status"] == "active"
    assert calls["2"]["caller"] == "网格员 张伟" and calls["2"]["township"] == "松林镇"


def test_a_ringing_call_is_what_the_banner_shows_until_it_is_answered() -> None:
    started = call_event(11, "call.started", 5, caller="网格员 张伟", callee="指挥中心",
                         status="ringing")  # fmt: skip
    steps = [
        {"op": "fromSnapshot", "snapshot": snapshot([])},
        {"op": "reduce", "event": started},
    ]  # fmt: skip
    out = run_reducer(steps)
    assert out["state"]["calls"]["5"]["status"] == "ringing"
    steps_ended = [
        {"op": "fromSnapshot", "snapshot": snapshot([])},
        {"op": "reduce", "event": started},
        {"op": "reduce", "event": call_event(12, "call.ended", 5, end_reason="declined",
                                             seconds=0.0)},
    ]  # fmt: skip
    ended = run_reducer(steps_ended)
    assert ended["state"]["calls"] == {}
