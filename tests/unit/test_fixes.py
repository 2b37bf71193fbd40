"""Fixes from phones, pure: validation, duplicates, ordering, speed flags, presence, nearest."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.geometry import haversine_m
from realtime.fixes import (
    MAX_BATCH,
    MOVE_M,
    Fix,
    Latest,
    Rejection,
    advance,
    parse_fix,
    screen,
)
from realtime.latest import MemoryLatest
from realtime.presence import Presence, PresenceTracker, epoch_ms, presence_of

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
NOW_MS = epoch_ms(NOW)
WORKERS = {1, 2, 3}
LAT, LONG = 25.6, 103.8
M_PER_DEG = 111_195.0


def raw(**changes: object) -> dict[str, object]:
    fix: dict[str, object] = {
        "worker_id": 1, "time": NOW_MS - 1000, "lat": LAT, "long": LONG,
        "accuracy": 8.0, "speed": 1.2, "battery": 77,
    }  # fmt: skip
    fix.update(changes)
    return {k: v for k, v in fix.items() if v is not ...}


def parsed(**changes: object) -> Fix | Rejection:
    return parse_fix(raw(**changes), 0, WORKERS, NOW_MS)


def north(metres: float) -> float:
    """The latitude `metres` north of LAT."""
    return LAT + metres / M_PER_DEG


def fix(
    index: int,
    seconds: float,
    metres_north: float = 0.0,
    *,
    worker_id: int = 1,
    accuracy: float | None = None,
    speed: float | None = None,
    battery: float | None = None,
) -> Fix:
    """A fix of `worker_id` at NOW + seconds, `metres_north` of the base point."""
    at_ms = NOW_MS + int(seconds * 1000)
    return Fix(index, worker_id, at_ms, north(metres_north), LONG, accuracy, speed, battery)


def latest_at(seconds: float, metres_north: float = 0.0, worker_id: int = 1) -> Latest:
    return advance(None, fix(99, seconds, metres_north, worker_id=worker_id))


# -- validation --------------------------------------------------------------------------------


def test_a_valid_fix_keeps_every_field() -> None:
    result = parsed()
    assert result == Fix(0, 1, NOW_MS - 1000, LAT, LONG, 8.0, 1.2, 77.0)


@pytest.mark.parametrize(
    "time",
    ["2026-11-22T17:29:59+08:00", "2026-11-22T09:29:59Z", "2026-11-22T09:29:59.000+00:00"],
)
def test_iso_times_with_a_zone_and_epoch_ms_mean_the_same_instant(time: str) -> None:
    result = parsed(time=time)
    assert isinstance(result, Fix) and result.at_ms == NOW_MS - 1000


def test_accuracy_speed_and_battery_may_be_missing_or_null() -> None:
    result = parsed(accuracy=..., speed=None, battery=None)
    assert isinstance(result, Fix) and (result.accuracy, result.speed, result.battery) == (
        None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"worker_id": 404}, "worker_id", "unknown worker 404"),
        ({"worker_id": "1"}, "worker_id", "whole number"),
        ({"worker_id": True}, "worker_id", "whole number"),
        ({"lat": 91}, "lat", "between -85.0511 and 85.0511"),
        ({"lat": 86.0}, "lat", "got 86.0"),
        ({"long": -180.5}, "long", "between -180 and 180"),
        ({"lat": "25.6"}, "lat", "must be a number"),
        ({"long": None}, "long", "long is required"),
        ({"lat": math.nan}, "lat", "must be a number"),
        ({"lat": math.inf}, "lat", "must be a number"),
        ({"time": ...}, "time", "time is required"),
        ({"time": "yesterday"}, "time", "not ISO 8601"),
        ({"time": "2026-11-22T09:29:59"}, "time", "has no zone"),
        ({"time": NOW_MS + 31_000}, "time", "31 s in the future"),
        ({"time": NOW_MS - 24 * 3600_000 - 1}, "time", "more than 24 h ago"),
        ({"time": False}, "time", "epoch milliseconds"),
        ({"accuracy": -1}, "accuracy", "between 0 and 10000 m"),
        ({"speed": -0.5}, "speed", "between 0 and 200 m/s"),
        ({"speed": 250}, "speed", "got 250"),
        ({"battery": 101}, "battery", "between 0 and 100 %"),
        ({"battery": "full"}, "battery", "must be a number"),
    ],
)
def test_a_wrong_fix_is_refused_naming_the_field(
    changes: dict[str, object], field: str, words: str
) -> None:
    result = parsed(**changes)
    assert isinstance(result, Rejection), result
    assert (result.index, result.field) == (0, field)
    assert words in result.message


def test_a_fix_that_is_not_an_object_is_refused() -> None:
    result = parse_fix(["worker", 1], 7, WORKERS, NOW_MS)
    assert result == Rejection(7, None, "a fix must be a JSON object, got list")


def test_clock_skew_up_to_30_seconds_is_accepted() -> None:
    assert isinstance(parsed(time=NOW_MS + 30_000), Fix)
    assert isinstance(parsed(time=NOW_MS - 24 * 3600_000 + 1), Fix)


def test_the_batch_limit_is_500() -> None:
    assert MAX_BATCH == 500


# -- duplicates and ordering -------------------------------------------------------------------


def test_duplicates_in_the_batch_and_of_the_latest_are_dropped() -> None:
    known = {1: latest_at(-60)}
    batch = [fix(0, -30), fix(1, -30, 5), fix(2, -60), fix(3, -20)]
    out = screen(batch, known)
    assert out.duplicates == 2
    assert [f.index for f, _ in out.stored] == [0, 3]


def test_a_batch_out_of_order_moves_the_latest_to_its_newest_fix() -> None:
    batch = [fix(0, -10, 30), fix(1, -30, 0), fix(2, -20, 15)]
    out = screen(batch, {})
    assert [f.index for f, _ in out.stored] == [1, 2, 0]  # history in fix-time order
    assert out.moved[1].at_ms == NOW_MS - 10_000
    assert out.moved[1].lat == pytest.approx(north(30))


def test_a_fix_older_than_the_latest_goes_to_history_without_moving_the_map() -> None:
    known = {1: latest_at(-10, 100)}
    out = screen([fix(0, -50, 0)], known)
    assert [(f.index, flagged) for f, flagged in out.stored] == [(0, False)]
    assert out.moved == {}


def test_workers_of_one_batch_are_screened_apart() -> None:
    out = screen([fix(0, -10, worker_id=1), fix(1, -10, 5000, worker_id=2)], {})
    assert set(out.moved) == {1, 2}
    assert out.flagged == []


# -- impossible speeds -------------------------------------------------------------------------


def test_an_implied_speed_above_50_m_s_is_flagged_and_does_not_move_the_map() -> None:
    known = {1: latest_at(-20, 0)}
    out = screen([fix(0, -10, 600)], known)  # 600 m in 10 s: 60 m/s
    assert [(f.index, flagged) for f, flagged in out.stored] == [(0, True)]
    assert out.flagged[0].index == 0 and "implied speed 60 m/s" in out.flagged[0].reason
    assert out.moved == {}


def test_just_under_50_m_s_is_not_flagged() -> None:
    out = screen([fix(0, -20, 0), fix(1, -10, 490)], {})
    assert out.flagged == [] and out.moved[1].lat == pytest.approx(north(490))


def test_a_reported_speed_above_50_m_s_is_flagged() -> None:
    out = screen([fix(0, -10, 0, speed=51.0)], {})
    assert [f.index for f in out.flagged] == [0]
    assert "reported speed 51 m/s" in out.flagged[0].reason
    assert out.moved == {}


def test_the_fix_after_a_flagged_one_is_judged_from_the_last_good_fix() -> None:
    # A GPS jump to 5 km away and back: only the jump is flagged.
    batch = [fix(0, -30, 0), fix(1, -20, 5000), fix(2, -10, 10)]
    out = screen(batch, {})
    assert [f.index for f in out.flagged] == [1]
    assert out.moved[1].lat == pytest.approx(north(10))


def test_the_first_fix_of_a_batch_is_judged_from_the_latest_position() -> None:
    known = {1: latest_at(-100, 0)}
    far = screen([fix(0, -90, 2000)], known)  # 2 km in 10 s
    near = screen([fix(0, -90, 200)], known)  # 200 m in 10 s
    assert [f.index for f in far.flagged] == [0]
    assert near.flagged == [] and 1 in near.moved


# -- moving, for presence ----------------------------------------------------------------------


def test_jitter_under_20_m_is_not_moving_but_drift_past_it_is() -> None:
    first = advance(None, fix(0, -60))
    assert first.moved_ms == first.at_ms  # the first fix counts as moving
    jitter = advance(first, fix(1, -50, MOVE_M - 5))
    assert jitter.moved_ms == first.moved_ms and jitter.lat == pytest.approx(north(15))
    drift = advance(jitter, fix(2, -40, MOVE_M + 1))
    assert drift.moved_ms == NOW_MS - 40_000


def test_latest_records_survive_the_trip_through_redis_text() -> None:
    record = advance(latest_at(-60), fix(0, -30, 40, accuracy=5.0, battery=60.0))
    assert Latest.decode(record.encode()) == record


# -- presence, with an injected clock ---------------------------------------------------------


def test_presence_thresholds() -> None:
    assert presence_of(None, None, NOW_MS) is Presence.OFFLINE
    assert presence_of(NOW_MS - 120_000, NOW_MS - 120_000, NOW_MS) is Presence.ONLINE
    assert presence_of(NOW_MS - 120_001, NOW_MS - 120_001, NOW_MS) is Presence.OFFLINE
    assert presence_of(NOW_MS - 1000, NOW_MS - 300_000, NOW_MS) is Presence.ONLINE
    assert presence_of(NOW_MS - 1000, NOW_MS - 300_001, NOW_MS) is Presence.IDLE


def test_the_tracker_reports_online_idle_offline_and_back_as_time_passes() -> None:
    tracker = PresenceTracker()
    t0 = NOW
    standing = advance(None, fix(0, 0))  # arrives at t0, then stands still, sending fixes

    def at(minutes: float, record: Latest) -> list[tuple[int, Presence | None, Presence]]:
        when = t0 + timedelta(minutes=minutes)
        return [(c.worker_id, c.before, c.after) for c in tracker.sweep([record], when)]

    assert at(0, standing) == [(1, None, Presence.ONLINE)]
    assert at(1, standing) == []
    still = advance(standing, fix(1, 4.9 * 60, 3))  # a fix 4.9 min later, 3 m away
    assert at(4.9, still) == []
    still = advance(still, fix(2, 5.5 * 60, 2))
    assert at(5.5, still) == [(1, Presence.ONLINE, Presence.IDLE)]
    assert at(6.5, still) == []
    assert at(7.6, still) == [(1, Presence.IDLE, Presence.OFFLINE)]  # no fix for > 2 min
    back = advance(still, fix(3, 10 * 60, 300))
    assert at(10, back) == [(1, Presence.OFFLINE, Presence.ONLINE)]


def test_a_presence_already_told_is_not_reported_again() -> None:
    tracker = PresenceTracker()
    record = latest_at(0)
    tracker.note(1, Presence.ONLINE)
    assert tracker.sweep([record], NOW) == []
    with pytest.raises(ValueError, match="naive"):
        tracker.sweep([record], NOW.replace(tzinfo=None))


# -- nearest in memory -------------------------------------------------------------------------


def test_memory_nearest_equals_brute_force() -> None:
    rng = random.Random(7)
    store = MemoryLatest()
    records = []
    for worker_id in range(1, 401):
        # Most near the town, a few far away, so both the rings and the full scan are used.
        spread = 0.05 if worker_id % 20 else 3.0
        lat, long = LAT + rng.uniform(-spread, spread), LONG + rng.uniform(-spread, spread)
        records.append(Latest(worker_id, lat, long, NOW_MS, None, None, None, NOW_MS, lat, long))
    store.put_many(records)
    store.put_many([records[0]])  # an update must not leave a stale bucket entry
    for _ in range(30):
        lat, long = LAT + rng.uniform(-0.3, 0.3), LONG + rng.uniform(-0.3, 0.3)
        count = rng.choice([1, 5, 50, 500])
        expected = sorted(haversine_m((long, lat), (r.long, r.lat)) for r in records)[:count]
        got = store.nearest(lat, long, count)
        assert [d for _, d in got] == pytest.approx(expected)
        assert len({r.worker_id for r, _ in got}) == len(got)
