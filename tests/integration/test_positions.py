"""Grid workers on the map: ingest over HTTP, history, the live map (memory and Redis), nearest.

Ingest runs on SQLite and PostgreSQL (the shared `seeded` apps, memory store) and against a
real Redis store under a key prefix of the test's own. Each test moves workers of its own, at
times of its own, so that the shared application never mixes them up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from dispatch.adapters.orm import PositionRow
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from dispatch.domain.geometry import centroid, point_in_polygon
from realtime.positions import positions_of
from tests.integration.conftest import Seeded
from tests.support import api_client

M_PER_DEG = 111_195.0


def build(data_dir: Path, db_url: str, **settings: Any) -> App:
    """A seeded app without history cases; `settings` such as redis_url, redis_prefix."""
    app = create_app(
        Settings(data_dir=data_dir, database_url=db_url, secret_key="test-secret",
                 simulator=False, anonymous_screens=True, **settings),
        with_dashboard=False,
    )  # fmt: skip
    app.reload_directory(seed_demo(app.core, data_dir, history=False))
    return app


def home(app: App, worker_id: int) -> tuple[float, float]:
    """(lat, long) inside the worker's own grid."""
    grid = app.names.units[app.names.workers[worker_id].grid_id]
    long, lat = centroid(grid.polygon[0])
    if not point_in_polygon(long, lat, grid.polygon):
        long, lat = grid.polygon[0][0]
    return lat, long


def fix(app: App, worker_id: int, seconds_ago: float, metres_north: float = 0.0,
        **changes: Any) -> dict[str, Any]:  # fmt: skip
    lat, long = home(app, worker_id)
    when = app.core.clock.now() - timedelta(seconds=seconds_ago)
    body = {
        "worker_id": worker_id, "time": when.isoformat(timespec="milliseconds"),
        "lat": lat + metres_north / M_PER_DEG, "long": long, "accuracy": 6.5, "speed": 1.3,
        "battery": 64,
    }  # fmt: skip
    return {**body, **changes}


def history(app: App, worker_id: int) -> list[tuple[datetime, bool]]:
    assert positions_of(app.core).history.flush(10), "history writer did not catch up"
    with app.core.db.read() as session:
        rows = session.execute(
            select(PositionRow.fixed_at, PositionRow.flagged)
            .where(PositionRow.worker_id == worker_id)
            .order_by(PositionRow.fixed_at)
        ).all()
    return [(at, flagged) for at, flagged in rows]


def worker(app: App, worker_id: int) -> dict[str, Any]:
    found = api_client(app).get("/api/workers").get_json()["workers"]
    return next(w for w in found if w["id"] == worker_id)


# -- ingest over HTTP, on SQLite and PostgreSQL ------------------------------------------------


def test_a_batch_is_stored_in_history_and_moves_the_map_to_its_newest_fix(seeded: Seeded) -> None:
    app, w = seeded.app, 21
    batch = [
        fix(app, w, 10, metres_north=40),  # newest, first in the batch
        fix(app, w, 30),
        fix(app, w, 30),  # duplicate
        fix(app, w, 20, metres_north=5000),  # 5 km in 10 s: flagged
        fix(app, w, 25, lat=123.0),  # refused
        {**fix(app, w, 25), "worker_id": 999_999},  # unknown worker
    ]
    response = api_client(app).post("/api/positions", json={"fixes": batch})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert (answer["accepted"], answer["duplicates"], answer["live"]) == (3, 1, True)
    assert [f["index"] for f in answer["flagged"]] == [3]
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(4, "lat"), (5, "worker_id")]
    stored = history(app, w)
    assert [flagged for _, flagged in stored] == [False, True, False]
    newest = datetime.fromisoformat(batch[0]["time"])
    assert stored[-1][0] == newest and stored[-1][0].tzinfo is not None
    shown = worker(app, w)
    assert shown["lat"] == pytest.approx(batch[0]["lat"])
    assert datetime.fromisoformat(shown["at"]) == newest
    assert (shown["presence"], shown["battery"], shown["on_duty"]) == ("online", 64, True)

    late = api_client(app).post("/api/positions", json={"fixes": [fix(app, w, 60)]})
    assert late.get_json()["accepted"] == 1
    assert len(history(app, w)) == 4
    assert worker(app, w)["lat"] == pytest.approx(batch[0]["lat"])  # a late fix: history only


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"data": "fixes=1", "content_type": "application/x-www-form-urlencoded"}, 415, None),
        ({"data": "{not json", "content_type": "application/json"}, 400, "body"),
        ({"json": {"fixes": "all of them"}}, 400, "fixes"),
        ({"json": {"fixes": [{}] * 501}}, 400, "fixes"),
    ],
)
def test_a_body_that_is_not_a_batch_is_an_error_naming_the_field(
    seeded: Seeded, kwargs: dict[str, Any], status: int, field: str | None
) -> None:
    response = seeded.client().post("/api/positions", **kwargs)
    assert response.status_code == status
    assert response.get_json()["field"] == field


def test_a_batch_refused_entirely_is_400_with_every_reason(seeded: Seeded) -> None:
    app = seeded.app
    future = fix(app, 22, -120)  # two minutes ahead of the server
    response = seeded.client().post(
        "/api/positions", json={"fixes": [future, fix(app, 22, 10, battery=140)]}
    )
    assert response.status_code == 400
    assert [(r["index"], r["field"]) for r in response.get_json()["rejected"]] == [
        (0, "time"), (1, "battery"),
    ]  # fmt: skip
    assert history(app, 22) == []


def test_nearest_suggests_the_workers_of_the_points_grid_first(seeded: Seeded) -> None:
    app = seeded.app
    own = next(
        w.id for w in sorted(app.names.workers.values(), key=lambda w: w.id)
        if w.id > 30 and app.core.grids.locate(*home(app, w.id)[::-1]).grid_id == w.grid_id
    )  # fmt: skip
    stranger = next(
        w for w in range(31, 150) if app.names.workers[w].grid_id != app.names.workers[own].grid_id
    )
    lat, long = home(app, own)
    stranger_fix = {**fix(app, stranger, 5), "lat": lat + 30 / M_PER_DEG, "long": long}
    batch = [fix(app, own, 5, metres_north=600), stranger_fix]
    assert seeded.client().post("/api/positions", json={"fixes": batch}).status_code == 200
    found = seeded.client().get(f"/api/workers/nearest?lat={lat}&long={long}&limit=2")
    assert found.status_code == 200
    workers = found.get_json()["workers"]
    assert [(w["id"], w["in_grid"]) for w in workers] == [(own, True), (stranger, False)]
    assert workers[0]["distance_m"] == pytest.approx(600, rel=0.01)
    assert workers[1]["distance_m"] == pytest.approx(30, rel=0.05)
    bad = seeded.client().get(f"/api/workers/nearest?lat={lat}&long=200")
    assert (bad.status_code, bad.get_json()["field"]) == (400, "long")
    assert seeded.client().get("/api/workers/nearest?long=1").get_json()["field"] == "lat"


def test_the_snapshot_starts_a_screen_with_every_worker_and_its_presence(seeded: Seeded) -> None:
    app = seeded.app
    seeded.client().post("/api/positions", json={"fixes": [fix(app, 23, 5)]})
    snapshot = seeded.client().get("/api/snapshot").get_json()
    assert len(snapshot["workers"]) == len(app.names.workers)
    mine = next(w for w in snapshot["workers"] if w["id"] == 23)
    assert mine["presence"] == "online" and mine["lat"] is not None
    never = [w for w in snapshot["workers"] if w["at"] is None]
    assert all(w["presence"] == "offline" and w["lat"] is None for w in never)
    township = app.names.workers[23].township_id
    scoped = seeded.client().get(f"/api/snapshot?township_id={township}").get_json()["workers"]
    assert scoped and {w["township_id"] for w in scoped} == {township}


# -- the Redis store ---------------------------------------------------------------------------


@pytest.fixture
def redis_app(tmp_path: Path, db_url: str, redis_url: str, redis_prefix: str) -> Iterator[App]:
    app = build(tmp_path, db_url, redis_url=redis_url, redis_prefix=redis_prefix)
    yield app
    app.stop()
    app.core.db.dispose()


def test_with_redis_the_latest_position_lives_in_geo_and_nearest_uses_it(
    redis_app: App, redis_url: str, redis_prefix: str
) -> None:
    app, client = redis_app, api_client(redis_app)
    lat, long = home(app, 5)
    batch = [fix(app, 5, 20), fix(app, 5, 10, metres_north=100), fix(app, 6, 10)]
    batch[2].update(lat=lat + 250 / M_PER_DEG, long=long)
    answer = client.post("/api/positions", json={"fixes": batch}).get_json()
    assert (answer["accepted"], answer["live"]) == (3, True)
    with redis.Redis.from_url(redis_url) as r:
        ((geo_long, geo_lat),) = r.geopos(f"{redis_prefix}positions:geo", 5)
        assert (geo_lat, geo_long) == pytest.approx((lat + 100 / M_PER_DEG, long), abs=1e-5)
        assert r.hexists(f"{redis_prefix}positions:latest", 6)
    assert len(history(app, 5)) == 2
    again = client.post("/api/positions", json={"fixes": batch[1:2]}).get_json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)  # the latest, read from Redis
    found = client.get(f"/api/workers/nearest?lat={lat}&long={long}&limit=2").get_json()
    assert [round(w["distance_m"] / 10) for w in found["workers"]] == [10, 25]
    assert worker(app, 5)["presence"] == "online"


def test_with_redis_unreachable_ingest_stores_history_and_says_the_map_is_stale(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = build(tmp_path, sqlite_url, redis_url="redis://127.0.0.1:1/0")
    try:
        client = api_client(app)
        response = client.post("/api/positions", json={"fixes": [fix(app, 7, 10)]})
        assert response.status_code == 200
        answer = response.get_json()
        assert (answer["accepted"], answer["live"]) == (1, False)
        assert "live map could not be updated" in answer["warning"]
        assert len(history(app, 7)) == 1
        listed = client.get("/api/workers")
        assert (listed.status_code, listed.get_json()["code"]) == (503, "live_map_unavailable")
        snapshot = client.get("/api/snapshot").get_json()  # the cases still load
        assert "cases" in snapshot and all(w["lat"] is None for w in snapshot["workers"])
    finally:
        app.stop()
        app.core.db.dispose()


def test_the_history_writer_bulk_inserts_many_batches(seeded: Seeded) -> None:
    app = seeded.app
    writer = positions_of(app.core).history
    assert writer.flush(10)
    before = writer.written_total
    now = datetime.now(UTC)
    rows = [(24, now - timedelta(seconds=n), now, 25.0, 103.0, None, None, None, False)
            for n in range(1, 3001)]  # fmt: skip
    writer.put(rows[:1000])
    writer.put(rows[1000:])
    assert writer.flush(10)
    assert writer.written_total - before == 3000
    assert len(history(app, 24)) == 3000


def test_a_running_writer_commits_within_its_interval_without_being_asked(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = build(tmp_path, sqlite_url)
    writer = positions_of(app.core).history
    try:
        app.start()  # the writer thread is waiting before the first row arrives
        time.sleep(0.2)
        assert writer.written_total == 0
        response = api_client(app).post("/api/positions", json={"fixes": [fix(app, 8, 5)]})
        assert response.get_json()["accepted"] == 1
        deadline = time.monotonic() + 2 * writer.interval + 1.0
        while writer.written_total < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writer.written_total == 1  # no flush() call: that would wake it
    finally:
        app.stop()
        app.core.db.dispose()
    assert history(app, 8) != []
