"""The position service with fakes: ingest answers, a failing live map, sweeps, frames, nearest."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.orm import GridWorkerRow
from dispatch.service.directory import Directory
from dispatch.service.errors import ValidationError
from realtime.feed import MemoryFeed
from realtime.fixes import Latest
from realtime.frames import PositionFrames
from realtime.history import Row
from realtime.latest import LiveMapDown, MemoryLatest, Near
from realtime.positions import IngestResult, PositionService
from realtime.presence import epoch_ms

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
LAT, LONG = 25.6, 103.8
M_PER_DEG = 111_195.0
# id → (grid, township)
STAFF = {1: (1000, 10), 2: (1000, 10), 3: (1001, 10), 4: (2000, 11), 5: (2000, 11)}


class FakeHistory:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def put(self, rows: list[Row]) -> None:
        self.rows += rows

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class DownStore(MemoryLatest):
    """Redis gone away: every call fails the way RedisLatest fails."""

    kind = "redis"

    def get_many(self, worker_ids: Collection[int]) -> dict[int, Latest]:
        raise LiveMapDown("Redis is unreachable (ConnectionError: refused)")

    def put_many(self, records: Sequence[Latest]) -> None:
        raise LiveMapDown("Redis is unreachable (ConnectionError: refused)")

    def nearest(self, lat: float, long: float, count: int) -> list[Near]:
        raise LiveMapDown("Redis is unreachable")


def directory() -> Directory:
    names = Directory()
    for worker_id, (grid, township) in STAFF.items():
        names.workers[worker_id] = GridWorkerRow(
            id=worker_id, name=f"网格员{worker_id}", grid_id=grid, township_id=township,
            on_duty=worker_id != 5,
        )  # fmt: skip
    return names


class Rig:
    def __init__(self, store: MemoryLatest | None = None) -> None:
        self.clock = FixedClock(T0)
        self.history = FakeHistory()
        self.feed = MemoryFeed()
        self.published: list[list[int]] = []
        self.feed.listen(lambda records: self.published.append([r.worker_id for r in records]))
        self.store = store or MemoryLatest()
        self.service = PositionService(
            names=directory(), clock=self.clock, store=self.store,
            history=self.history,  # type: ignore[arg-type]
            feed=self.feed,
        )  # fmt: skip

    def ingest(self, *fixes: dict[str, Any]) -> IngestResult:
        return self.service.ingest({"fixes": list(fixes)})


def at(seconds: float, worker_id: int = 1, metres_north: float = 0.0, **kw: Any) -> dict[str, Any]:
    when = T0 + timedelta(seconds=seconds)
    return {"worker_id": worker_id, "time": when.isoformat(), "lat": LAT + metres_north / M_PER_DEG,
            "long": LONG, **kw}  # fmt: skip


def test_valid_fixes_are_kept_when_others_are_refused() -> None:
    rig = Rig()
    result = rig.ingest(at(-20), at(-10, metres_north=30), at(-5, worker_id=77), at(-5, lat=99))
    assert result.status == 200
    wire = result.to_wire()
    assert (wire["accepted"], wire["duplicates"], wire["live"]) == (2, 0, True)
    assert [(r["index"], r["field"]) for r in wire["rejected"]] == [(2, "worker_id"), (3, "lat")]
    assert len(rig.history.rows) == 2
    assert rig.store.get_many([1])[1].lat == pytest.approx(LAT + 30 / M_PER_DEG)
    assert rig.published == [[1]]


def test_a_batch_refused_entirely_is_400_and_a_batch_of_duplicates_is_200() -> None:
    rig = Rig()
    assert rig.ingest(at(-5, worker_id=77)).status == 400
    assert rig.ingest(at(-5)).status == 200
    again = rig.ingest(at(-5))
    assert (again.status, again.accepted, again.duplicates) == (200, 0, 1)
    assert len(rig.history.rows) == 1 and rig.published == [[1]]


@pytest.mark.parametrize(
    ("body", "field"),
    [([], "body"), ({"fix": []}, "fixes"), ({"fixes": {}}, "fixes"), ({"fixes": []}, "fixes"),
     ({"fixes": [{}] * 501}, "fixes")],
)  # fmt: skip
def test_a_body_that_is_not_a_batch_is_an_error(body: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Rig().service.ingest(body)
    assert info.value.field == field


def test_with_the_live_map_down_history_is_still_written_and_the_answer_says_so() -> None:
    rig = Rig(DownStore())
    result = rig.ingest(at(-20), at(-10, metres_north=30))
    assert (result.status, result.accepted, result.live) == (200, 2, False)
    assert "live map could not be updated" in result.to_wire()["warning"]
    assert "fixes are stored" in result.to_wire()["warning"]
    assert len(rig.history.rows) == 2
    assert rig.published == []  # screens are not told what the map does not hold


def test_a_sweep_tells_screens_of_presence_that_time_changed() -> None:
    rig = Rig()
    rig.ingest(at(-10, worker_id=1), at(-10, worker_id=3))
    assert rig.service.sweep(rig.clock.now()) == []  # ingest already told them: online
    rig.clock.advance(timedelta(minutes=1))
    rig.ingest(at(55, worker_id=3, metres_north=200))
    rig.clock.advance(timedelta(minutes=1, seconds=30))  # worker 1: no fix for 2.5 min
    changes = rig.service.sweep(rig.clock.now())
    assert [(c.worker_id, c.after.value) for c in changes] == [(1, "offline")]
    assert rig.published[-1] == [1]


def test_nearest_puts_the_grid_of_the_point_first_and_skips_off_duty_and_offline() -> None:
    rig = Rig()
    rig.ingest(
        at(-5, worker_id=1, metres_north=900),  # grid 1000, far
        at(-5, worker_id=2, metres_north=400),  # grid 1000
        at(-5, worker_id=3, metres_north=10),  # grid 1001, nearest of all
        at(-5, worker_id=5, metres_north=5),  # off duty
        at(-200, worker_id=4, metres_north=1),  # offline: no fix for over 2 minutes
    )
    found = rig.service.nearest(LAT, LONG, limit=5, grid_id=1000)
    assert [(w["id"], w["in_grid"]) for w in found] == [(2, True), (1, True), (3, False)]
    assert found[0]["distance_m"] == pytest.approx(400, abs=1)
    assert [w["id"] for w in rig.service.nearest(LAT, LONG, limit=1, grid_id=1001)] == [3]


class Screens:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.sent.append((event, data, room))

    def rooms(self) -> dict[str, list[int]]:
        return {room: [w["id"] for w in data["workers"]] for _, data, room in self.sent}


def record(worker_id: int, seconds: float) -> Latest:
    at_ms = epoch_ms(T0) + int(seconds * 1000)
    return Latest(worker_id, LAT, LONG, at_ms, 5.0, 1.0, 80.0, at_ms, LAT, LONG)


def test_a_frame_holds_only_what_moved_per_room_and_the_newest_of_each() -> None:
    screens = Screens()
    frames = PositionFrames(directory(), FixedClock(T0), screens.emit)
    assert frames.flush() == 0 and screens.sent == []
    frames.mark([record(1, -20), record(4, -10)])
    frames.mark([record(1, -5), record(1, -30)])  # a late message must not win
    assert frames.flush() == 2
    assert screens.rooms() == {"all": [1, 4], "township:10": [1], "township:11": [4]}
    first = screens.sent[0][1]
    assert first["t"] == T0.isoformat()
    # What a fix moves; name, grid and township came with the screen's snapshot.
    assert first["workers"][0] == {
        "id": 1, "lat": LAT, "long": LONG,
        "at": (T0 - timedelta(seconds=5)).isoformat(timespec="milliseconds"),
        "presence": "online", "speed": 1.0, "battery": 80.0,
    }  # fmt: skip
    screens.sent.clear()
    assert frames.flush() == 0 and screens.sent == []  # nothing moved since
