"""The browser reducer (assets/js/reducer.js), run under Node on hand-made events."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
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


def test_a_screen_keeps_only_the_screen_fields_of_the_summaries_events_carry() -> None:
    summary = case(3, "reported") | {
        "description": "楼道堆满杂物", "address": "解放路 12 号", "category": "firerisk",
        "category_name": "消防隐患", "category_name_en": "Fire risk", "grid": "网格 4",
        "media_url": "", "service_code": "firerisk", "ticket": "261122-00003",
    }  # fmt: skip
    out = run_reducer([start(case(1)), batch(10, 11, event(11, summary))])
    (fields,) = run_reducer([{"op": "screenFields"}])["results"]
    kept = out["state"]["cases"]["3"]
    assert kept == {k: v for k, v in summary.items() if k in fields}
    assert "description" not in kept and kept["category"] == "firerisk"


def test_a_compact_snapshot_gives_the_same_state_as_its_cases_would() -> None:
    cases = [case(1), case(2, "closed", closed_at=LATER), case(3, "dispatched", light="red")]
    plain = snapshot(*cases)
    fields = ["id", "state", "status", "light", "lat", "long", "reported_at", "updated_at",
              "closed_at"]  # fmt: skip
    compact = {k: v for k, v in plain.items() if k != "cases"} | {
        "case_fields": fields,
        "case_rows": [[c[k] for k in fields] for c in cases],
    }
    one = run_reducer([{"op": "fromSnapshot", "snapshot": plain}])["state"]
    other = run_reducer([{"op": "fromSnapshot", "snapshot": compact}])["state"]
    assert sorted(other["cases"]) == ["1", "2", "3"]
    assert {k: v for k, v in other.items() if k != "skew"} == {
        k: v for k, v in one.items() if k != "skew"
    }


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


def test_fix_times_in_other_zones_or_shapes_are_compared_as_times_not_as_text() -> None:
    # Text order says the second is newer (10:14 > 02:15); time order says it is a second older.
    held = worker(1, at="2026-11-22T02:15:00.000+00:00", lat=25.65)
    older = worker(1, at="2026-11-22T10:14:59.000+08:00", lat=25.60)
    newer = worker(1, at="2026-11-22T02:15:00.5Z", lat=25.70)
    out = run_reducer(
        [
            start(workers=[held]),
            positions(FRAME_T, older),
            positions("2026-11-22T10:15:02+08:00", newer),
        ]
    )
    assert out["results"][1:] == [{"unchanged": True}, {"unchanged": False}]
    assert out["state"]["workers"]["1"]["lat"] == 25.70


def test_the_times_the_server_writes_are_read_as_date_parse_reads_them() -> None:
    times = [
        "2026-11-22T09:28:05.123456+08:00",
        "2026-11-22T09:28:05+08:00",
        "2026-11-22T01:28:05.1Z",
        "2026-11-22T01:28:05.120Z",
        "2026-12-31T23:59:59.999999Z",
        "2026-11-22T01:28:05.999999-05:30",
        "2028-02-29T00:00:00+00:00",
        "2026-11-22T01:28:05.123+0800",
        "2026-11-22 01:28:05+00:00",
        "2026-13-22T01:28:05+00:00",
        "2026-11-22T01:60:05+00:00",
        "garbage",
        "2026-11-22",
    ]
    times += [f"2026-{m:02d}-{d:02d}T{h:02d}:{m * 7 % 60:02d}:{d * 3 % 60:02d}.{h * 37:06d}{z}"
              for m in (1, 6, 12) for d in (1, 15, 28) for h in (0, 9, 23)
              for z in ("+00:00", "+08:00", "-03:30", "Z")]  # fmt: skip
    (pairs,) = run_reducer([{"op": "parseTimes", "times": times}])["results"]
    for text, (fast, slow) in zip(times, pairs, strict=True):
        assert fast == slow, f"{text}: {fast} != Date.parse's {slow}"


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


# -- the wall: whistles, history, calls (dispatch/service/wall_stats.py) ---------------------
#
# The existing harness (tests/reducer_harness.js) runs the reducer's own operations; the wall's
# derivations (assets/js/wall_stats.js) run through this one, which calls them by name.

WALL_HARNESS = """
const path = require("path");
const root = process.argv[1];
const CH = require(path.join(root, "assets", "js", "reducer.js"));
const W = require(path.join(root, "assets", "js", "wall_stats.js"));
const steps = JSON.parse(require("fs").readFileSync(0, "utf8"));
let state = null;
const results = steps.map((step) => {
  switch (step.op) {
    case "fromSnapshot": state = CH.fromSnapshot(step.snapshot); return null;
    case "applyBatch": state = CH.applyBatch(state, step.batch).state; return null;
    case "reduce": state = CH.reduce(state, step.event); return null;
    case "rollDay": state = CH.rollDay(state, CH.parseTime(step.now)); return null;
    default: return W[step.op](state, CH.parseTime(step.now), ...(step.args || []));
  }
});
process.stdout.write(JSON.stringify({ state, results }));
"""
ROOT = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000


def run_wall(steps: list[dict[str, Any]]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        require_service("Node.js", "`node` is not on PATH (Debian: apt-get install nodejs)")
    done = subprocess.run(
        [node, "-e", WALL_HARNESS, str(ROOT)],
        input=json.dumps(steps, ensure_ascii=False),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"the wall harness failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def row(day: str, **parts: Any) -> dict[str, Any]:
    """A history row (dispatch/service/wall_stats.py), empty but for `parts`."""
    out = {"day": day, "reported": {}, "categories": {}, "rated": [0, 0], "closed": {}}
    return out | parts


def days_before(today: str, count: int) -> list[str]:
    first = date.fromisoformat(today)
    return [(first - timedelta(days=n)).isoformat() for n in range(count, 0, -1)]


def history(*rows: dict[str, Any], today: str = "2026-11-22") -> list[dict[str, Any]]:
    """29 empty rows before `today`, the given ones (by day) put in their place."""
    given = {r["day"]: r for r in rows}
    return [given.get(d, row(d)) for d in days_before(today, 29)]


def wall_snapshot(
    *cases: dict[str, Any],
    whistles: list[dict[str, Any]] | None = None,
    rows: list[dict[str, Any]] | None = None,
    seq: int = 10,
    **extra: Any,
) -> dict[str, Any]:
    stats = {
        "window_days": 30,
        "hot_days": 7,
        "townships": {"10": "金龙街道", "11": "西平街道"},
        "history": rows if rows is not None else history(),
        "whistles": whistles or [],
    }
    return snapshot(*cases, seq=seq) | {"stats": stats} | extra


def full(
    case_id: int, state: str = "handling", *, township: int = 10, **fields: Any
) -> dict[str, Any]:
    """A case with the fields the wall reads."""
    base = case(case_id, state, **{k: fields.pop(k) for k in list(fields) if k in CASE_ARGS})
    return base | {"channel": "citizen", "category": "garbage", "category_name": "垃圾满溢",
                   "township_id": township, "township": "金龙街道", "grid_id": 1000 + township,
                   "urgency": "normal", "deadline": None, "rating": None, "on_time": None,
                   "ticket": f"261122-{case_id:05d}"} | fields  # fmt: skip


CASE_ARGS = {"light", "reported_at", "updated_at", "closed_at"}
PARTY_DEADLINE = "2026-11-22T10:00:00+08:00"


def party(case_id: int, department: str, role: str = "co", **fields: Any) -> dict[str, Any]:
    return {"case_id": case_id, "department": department, "role": role,
            "ack_deadline": PARTY_DEADLINE, "acknowledged_at": None, "reported_at": None,
            "late": False} | fields  # fmt: skip


def whistle_event(seq: int, summary: dict[str, Any], kind: str, **data: Any) -> dict[str, Any]:
    return event(seq, summary, kind) | {"data": data, "at": LATER}


def test_the_snapshots_whistles_are_kept_by_case_with_times_in_ms() -> None:
    out = run_wall(
        [
            {
                "op": "fromSnapshot",
                "snapshot": wall_snapshot(
                    full(1),
                    full(
                        2,
                        "closed",
                        reported_at=YESTERDAY,
                        closed_at=YESTERDAY,
                        updated_at=YESTERDAY,
                    ),
                    whistles=[
                        party(1, "urbanmgmt", "lead", acknowledged_at=TODAY),
                        party(1, "housing", late=True),
                        party(2, "civil"),  # a case the wall does not keep
                    ],
                ),
            }
        ]
    )
    whistles = out["state"]["whistles"]
    assert list(whistles) == ["1"]
    lead, co = whistles["1"]
    assert lead == {"department": "urbanmgmt", "role": "lead", "deadline": ms(PARTY_DEADLINE),
                    "acked": ms(TODAY), "reported": None, "late": False}  # fmt: skip
    assert (co["department"], co["acked"], co["late"]) == ("housing", None, True)


def test_whistle_events_call_acknowledge_report_and_turn_late_and_a_dispatch_clears_them() -> None:
    c = full(3, "dispatched", updated_at=LATER)
    blown = whistle_event(11, c, "whistle.blown", lead="urbanmgmt", co=["housing", "civil"],
                          ack_deadline=PARTY_DEADLINE)  # fmt: skip
    acked = whistle_event(12, c, "whistle.acknowledged", department="housing", late=False)
    late = whistle_event(13, c, "whistle.overdue", department="civil", deadline=PARTY_DEADLINE)
    part = whistle_event(14, c, "whistle.reported", department="housing", result="已处理")
    steps = [
        {"op": "fromSnapshot", "snapshot": wall_snapshot(full(3, "registered"))},
        {"op": "applyBatch", "batch": {"from": 10, "to": 14, "events": [blown, acked, late, part]}},
    ]
    out = run_wall(steps)
    parties = {p["department"]: p for p in out["state"]["whistles"]["3"]}
    assert [p["role"] for p in out["state"]["whistles"]["3"]] == ["lead", "co", "co"]
    assert parties["housing"]["acked"] == ms(LATER) and parties["housing"]["reported"] == ms(LATER)
    assert parties["civil"]["late"] is True and parties["civil"]["acked"] is None
    assert parties["urbanmgmt"] == {"department": "urbanmgmt", "role": "lead",
                                    "deadline": ms(PARTY_DEADLINE), "acked": None,
                                    "reported": None, "late": False}  # fmt: skip
    dispatched = event(15, full(3, "dispatched", updated_at=LATER), "case.dispatched")
    out = run_wall([*steps, {"op": "applyBatch", "batch": {"from": 14, "to": 15,
                                                             "events": [dispatched]}}])  # fmt: skip
    assert out["state"]["whistles"] == {}


def test_whistles_go_with_their_case_at_midnight() -> None:
    closed = full(4, "closed", closed_at=LATER, updated_at=LATER)
    out = run_wall(
        [
            {
                "op": "fromSnapshot",
                "snapshot": wall_snapshot(
                    full(1),
                    closed,
                    whistles=[party(1, "housing"), party(4, "civil", acknowledged_at=TODAY)],
                ),
            },
            {"op": "rollDay", "now": "2026-11-23T00:00:01+08:00"},
        ]
    )
    assert list(out["state"]["whistles"]) == ["1"]


def test_history_takes_a_changed_category_and_a_closing_of_an_earlier_days_case() -> None:
    day = "2026-11-20"
    reported = "2026-11-20T09:00:00+08:00"
    old = full(5, "registered", reported_at=reported, updated_at=reported, category="road")
    closed_old = full(6, "handled", reported_at=reported, updated_at=YESTERDAY)
    rows = history(row(day, reported={"citizen": 2}, categories={"road": 1, "garbage": 1}))
    recategorised = old | {"category": "noise", "updated_at": LATER}
    # Closed yesterday (a late event: the summary still says yesterday), on time.
    closing = closed_old | {"state": "closed", "status": "closed", "closed_at": YESTERDAY,
                            "on_time": True, "updated_at": YESTERDAY}  # fmt: skip
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(old, closed_old, rows=rows)},
            {
                "op": "applyBatch",
                "batch": {
                    "from": 10,
                    "to": 12,
                    "events": [
                        event(11, recategorised, "case.registered"),
                        event(12, closing, "case.closed"),
                    ],
                },
            },
        ]
    )
    by_day = {r["day"]: r for r in out["state"]["history"]}
    assert by_day[day]["categories"] == {"noise": 1, "garbage": 1}
    assert by_day[day]["reported"] == {"citizen": 2}  # a report stays where it was
    assert by_day["2026-11-21"]["closed"] == {"10": [1, 1]}


def test_a_rating_of_a_case_closed_on_an_earlier_day_counts_on_the_day_it_was_reported() -> None:
    reported = "2026-11-19T09:00:00+08:00"
    rows = history(row("2026-11-19", reported={"hotline": 1}, categories={"garbage": 1}))
    rated = full(7, "reviewed", reported_at=reported, closed_at=YESTERDAY, updated_at=LATER,
                 rating=5, on_time=True)  # fmt: skip
    unhappy = full(8, "reopened", reported_at=reported, updated_at=LATER, rating=2)
    review = event(11, rated, "case.reviewed") | {"data": {"rating": 5}}
    reopen = event(12, unhappy, "case.reopened") | {"data": {"rating": 2, "reason": "不满意"}}
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(rows=rows)},
            {"op": "applyBatch", "batch": {"from": 10, "to": 12, "events": [review, reopen]}},
        ]
    )
    by_day = {r["day"]: r for r in out["state"]["history"]}
    assert by_day["2026-11-19"]["rated"] == [2, 1]
    assert sorted(out["state"]["cases"]) == ["7", "8"]  # both touched today: now kept


def history_after(rows: list[dict[str, Any]], *events: dict[str, Any]) -> dict[str, Any]:
    """The wall's history rows by day: a snapshot's `rows`, then one batch of `events`."""
    batch = {"from": 10, "to": 10 + len(events), "events": list(events)}
    out = run_wall([{"op": "fromSnapshot", "snapshot": wall_snapshot(rows=rows)},
                    {"op": "applyBatch", "batch": batch}])  # fmt: skip
    return {r["day"]: r for r in out["state"]["history"]}


def test_a_second_callback_on_a_case_we_no_longer_hold_replaces_its_first_rating() -> None:
    """Unhappy once (2: reopened, handled and closed again on an earlier day), then 4: the
    day the case was reported still has one rated case, now a satisfied one."""
    reported = "2026-11-19T09:00:00+08:00"
    rows = history(
        row("2026-11-19", reported={"hotline": 1}, categories={"garbage": 1}, rated=[1, 0]),
        row("2026-11-20", closed={"10": [1, 1]}),
    )
    rated = full(7, "reviewed", reported_at=reported, closed_at="2026-11-20T16:00:00+08:00",
                 updated_at=LATER, rating=4, on_time=True, reopen_count=1)  # fmt: skip
    review = event(11, rated, "case.reviewed") | {"data": {"rating": 4, "previous_rating": 2}}
    by_day = history_after(rows, review)
    assert by_day["2026-11-19"]["rated"] == [1, 1]
    assert by_day["2026-11-20"]["closed"] == {"10": [1, 1]}


def test_reopening_a_case_we_no_longer_hold_takes_it_off_the_day_it_closed() -> None:
    """Unhappy a second time (2, then 1): still one unsatisfied rating on the day it was
    reported, and one closing (on time) fewer on the day it closed."""
    reported = "2026-11-19T09:00:00+08:00"
    rows = history(
        row("2026-11-19", reported={"hotline": 1}, categories={"garbage": 1}, rated=[1, 0]),
        row("2026-11-20", closed={"10": [2, 1]}),
    )
    unhappy = full(8, "reopened", reported_at=reported, updated_at=LATER, rating=1,
                   reopen_count=2)  # fmt: skip
    reopen = event(11, unhappy, "case.reopened") | {
        "data": {"rating": 1, "reason": "不满意", "previous_rating": 2,
                 "previous_closed_at": "2026-11-20T16:00:00+08:00", "previous_on_time": True}
    }  # fmt: skip
    by_day = history_after(rows, reopen)
    assert by_day["2026-11-19"]["rated"] == [1, 0]
    assert by_day["2026-11-20"]["closed"] == {"10": [1, 0]}


@pytest.mark.parametrize(
    ("reported_at", "day"),
    [
        ("2026-11-21T00:00:00+08:00", "2026-11-21"),  # yesterday's first instant
        ("2026-11-21T23:59:59.999+08:00", "2026-11-21"),
        ("2026-10-24T00:00:00+08:00", "2026-10-24"),  # the window's first instant
        ("2026-10-23T23:59:59.999+08:00", None),  # 30 days ago: before the window
        ("2026-10-23T00:00:00+08:00", None),
    ],
)
def test_a_rating_lands_on_the_row_of_the_day_reported_up_to_the_windows_edges(
    reported_at: str, day: str | None
) -> None:
    rated = full(9, "reviewed", reported_at=reported_at, closed_at=reported_at,
                 updated_at=LATER, rating=5, on_time=True)  # fmt: skip
    review = event(11, rated, "case.reviewed") | {"data": {"rating": 5, "previous_rating": None}}
    by_day = history_after(history(), review)
    rated_days = {day: r["rated"] for day, r in by_day.items() if r["rated"] != [0, 0]}
    closed_days = {day: r["closed"] for day, r in by_day.items() if r["closed"]}
    assert rated_days == ({day: [1, 1]} if day else {})
    assert closed_days == {}  # its closing did not change: counted on its day already


def test_at_midnight_the_day_is_folded_into_history_and_the_window_moves_on() -> None:
    hot = [row(d, grids={"1010": 1}) for d in days_before("2026-11-22", 6)]
    rows = history(row("2026-10-24", reported={"app": 9}), *hot)
    cases = [
        full(1, "handling", channel="hotline", category="noise", grid_id=1010),
        full(
            2,
            "closed",
            closed_at=LATER,
            updated_at=LATER,
            on_time=False,
            rating=4,
            township=11,
            grid_id=1011,
        ),
        full(3, "closed", reported_at=YESTERDAY, closed_at=LATER, updated_at=LATER, on_time=True),
    ]
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(*cases, rows=rows)},
            {"op": "rollDay", "now": "2026-11-23T00:00:01+08:00"},
        ]
    )
    after = out["state"]["history"]
    assert len(after) == 29
    assert after[0]["day"] == "2026-10-25" and after[-1]["day"] == "2026-11-22"
    assert after[-1] == row("2026-11-22", reported={"hotline": 1, "citizen": 1},
                            categories={"noise": 1, "garbage": 1}, rated=[1, 1],
                            closed={"10": [1, 1], "11": [1, 0]},
                            grids={"1010": 1, "1011": 1})  # fmt: skip
    # The hotspot grids stay on the last six rows only, as the server sends them.
    assert [("grids" in r) for r in after] == [False] * 23 + [True] * 6
    assert sorted(out["state"]["cases"]) == ["1"]


def test_a_wall_asleep_for_days_folds_each_day_it_missed() -> None:
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(full(1, channel="grid"))},
            {"op": "rollDay", "now": "2026-11-25T08:00:00+08:00"},
        ]
    )
    days = [(r["day"], r["reported"]) for r in out["state"]["history"][-3:]]
    assert days == [("2026-11-22", {"grid": 1}), ("2026-11-23", {}), ("2026-11-24", {})]


def test_calls_in_progress_come_from_the_snapshot_and_count_until_they_end() -> None:
    calls = [{"id": "c1", "status": "active"}, {"id": "c2", "status": "ringing"},
             {"id": "c3", "status": "ended", "ended_at": LATER}]  # fmt: skip
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(full(1), calls=calls)},
            {"op": "kpis", "now": LATER},
            {"op": "fromSnapshot", "snapshot": wall_snapshot(full(1))},
            {"op": "kpis", "now": LATER},
        ]
    )
    assert out["results"][1]["calls"] == 2 and out["results"][3]["calls"] == 0


def test_the_wall_kpis_today_and_over_the_window() -> None:
    rows = history(
        row("2026-11-20", reported={"citizen": 6}, rated=[4, 3], closed={"10": [4, 3]}),
    )
    cases = [
        full(1, "reported", urgency=None),  # today, not registered yet
        full(2, "dispatched", light="yellow"),  # today, registered
        full(3, "handling", light="red", reported_at="2026-11-20T09:00:00+08:00"),
        full(4, "closed", closed_at=LATER, updated_at=LATER, on_time=True, rating=5),
    ]
    out = run_wall([{"op": "fromSnapshot", "snapshot": wall_snapshot(*cases, rows=rows)},
                    {"op": "kpis", "now": LATER}])  # fmt: skip
    kpis = out["results"][1]
    assert kpis | {"closure_rate": round(kpis["closure_rate"], 4)} == {
        "reported_today": 3, "registered_today": 2, "closed_today": 1, "open": 3,
        "overdue": 1, "yellow": 1, "workers_online": 0, "workers_total": 0, "calls": 0,
        # 9 reported in the window, 3 of them still open
        "closure_rate": round(6 / 9, 4),
        "on_time_rate": 4 / 5,  # 3 of 4 on an earlier day, and today's one
        "satisfaction": 4 / 5,  # 3 of 4 rated on an earlier day, and today's 5
    }  # fmt: skip


def test_warnings_put_the_newest_red_first_then_yellow_then_departments_still_in_time() -> None:
    now = "2026-11-22T10:30:00+08:00"
    cases = [
        full(1, light="red", deadline="2026-11-21T10:00:00+08:00"),
        full(2, light="red", deadline="2026-11-22T09:00:00+08:00"),  # newest red
        full(3, light="yellow", deadline="2026-11-23T10:00:00+08:00"),
        full(4, light="yellow", deadline="2026-11-22T20:00:00+08:00"),  # nearer red
        full(5, "dispatched", light="green"),
        full(6, "closed", light="red", closed_at=LATER, updated_at=LATER),  # closed: none
    ]
    whistles = [
        party(5, "urbanmgmt", "lead", ack_deadline="2026-11-22T10:20:00+08:00"),  # late
        party(5, "housing", ack_deadline="2026-11-22T11:00:00+08:00"),  # in time
        party(5, "civil", acknowledged_at=TODAY),  # acknowledged: none
    ]
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(*cases, whistles=whistles)},
            {"op": "warnings", "now": now, "args": [0]},
            {"op": "warnings", "now": now, "args": [3]},
        ]
    )
    result = out["results"][1]
    assert [r["key"] for r in result["rows"]] == [
        "whistle-5-urbanmgmt", "case-2", "case-1", "case-4", "case-3", "whistle-5-housing",
    ]  # fmt: skip
    assert result["counts"] == {"red": 2, "yellow": 2, "whistle": 1, "late": 1}
    first = result["rows"][0]
    assert (first["level"], first["department"], first["role"]) == ("red", "urbanmgmt", "lead")
    assert len(out["results"][2]["rows"]) == 3


def test_the_charts_over_the_window() -> None:
    rows = history(
        row(
            "2026-11-20",
            reported={"citizen": 3, "camera": 1},
            categories={"road": 4},
            closed={"10": [10, 9], "11": [4, 4]},
            grids={"1010": 2},
        ),
        row("2026-11-10", reported={"hotline": 2}, categories={"noise": 2}),
    )
    cases = [
        full(1, channel="hotline", category="road", grid_id=1010),
        full(2, "closed", closed_at=LATER, updated_at=LATER, on_time=False, township=11),
    ]
    out = run_wall(
        [
            {"op": "fromSnapshot", "snapshot": wall_snapshot(*cases, rows=rows)},
            {"op": "categories", "now": LATER},
            {"op": "townships", "now": LATER},
            {"op": "trend", "now": LATER},
            {"op": "channels", "now": LATER},
            {"op": "hotspots", "now": LATER},
            {"op": "openByGrid", "now": LATER},
        ]
    )
    categories, townships, trend, channels, hot, load = out["results"][1:]
    assert categories == [{"code": "road", "n": 5}, {"code": "noise", "n": 2},
                          {"code": "garbage", "n": 1}]  # fmt: skip
    assert [(t["name"], t["closed"], t["onTime"]) for t in townships] == [
        ("金龙街道", 10, 9), ("西平街道", 5, 4)]  # fmt: skip
    assert trend["days"][-1] == "2026-11-22" and len(trend["days"]) == 30
    assert trend["reported"][-3:] == [4, 0, 2] and trend["closed"][-3:] == [14, 0, 1]
    assert channels[:2] == [{"channel": "citizen", "n": 4, "today": 1},
                            {"channel": "hotline", "n": 3, "today": 1}]  # fmt: skip
    assert hot == {"1010": 3, "1011": 1}
    assert load == {"1010": 1}


def test_the_newest_red_case_is_the_one_whose_deadline_passed_last() -> None:
    cases = [full(1, light="red", deadline="2026-11-21T10:00:00+08:00"),
             full(2, light="red", deadline="2026-11-22T09:00:00+08:00"),
             full(3, light="red", deadline="2026-11-22T09:30:00+08:00", lat=None)]  # fmt: skip
    out = run_wall([{"op": "fromSnapshot", "snapshot": wall_snapshot(*cases)},
                    {"op": "newestRed", "now": LATER}])  # fmt: skip
    assert out["results"][1]["id"] == 2  # 3 has no place on the map
