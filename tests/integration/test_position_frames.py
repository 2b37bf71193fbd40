"""Position frames to screens through a real server and plain python-socketio clients.

What the clients know is docs/realtime.md: `/live` sends `positions {t, workers}` at most once
a second per room, holding only the workers that moved; `/field` takes batches from phones.
The server's clock is a FixedClock set to now, so that presence can be moved on by a test.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from dispatch.adapters.clock import FixedClock
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from realtime.positions import sweep_presence
from tests.support import LiveServer, SocketClient, api_headers, device_token, with_users

LAT, LONG = 25.62, 103.77
M_PER_DEG = 111_195.0


def build(data_dir: Path, **settings: Any) -> App:
    app = create_app(
        Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'c.db'}",
                 secret_key="test-secret", simulator=False, anonymous_screens=True, **settings),
        clock=FixedClock(datetime.now(UTC)),
        with_dashboard=False,
    )  # fmt: skip
    app.reload_directory(seed_demo(app.core, data_dir, history=False))
    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(build(tmp_path_factory.mktemp("frames"))).start()
    yield live
    live.stop()


class Screen:
    """A screen on /live that records the `positions` frames it receives."""

    def __init__(self, url: str, township_id: int | None = None) -> None:
        self.frames: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.sio = SocketClient(reconnection=False)
        self.sio.on("positions", lambda data: self.frames.put((time.monotonic(), data)), "/live")
        auth = {} if township_id is None else {"township_id": township_id}
        self.sio.connect(url, namespaces=["/live"], auth=auth, transports=["websocket"])

    def settle(self) -> None:
        """Wait out frames of earlier tests (frames go at most a second apart)."""
        time.sleep(1.1)
        self.collect(0.0)

    def collect(self, seconds: float) -> list[tuple[float, dict[str, Any]]]:
        until, got = time.monotonic() + seconds, []
        while True:
            try:
                got.append(self.frames.get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                return got

    def next_frame(self, timeout: float) -> dict[str, Any]:
        return self.frames.get(timeout=timeout)[1]

    def close(self) -> None:
        # The client sometimes waits 3 s for Werkzeug to answer its close; nothing to see.
        threading.Thread(target=self.sio.disconnect, daemon=True).start()


def fixes(app: App, *worker_ids: int, seconds_ago: float = 1.0, north: float = 0.0) -> dict:
    when = app.core.clock.now() - timedelta(seconds=seconds_ago)
    return {
        "fixes": [
            {"worker_id": w, "time": when.isoformat(timespec="milliseconds"),
             "lat": LAT + (w * 10 + north) / M_PER_DEG, "long": LONG, "speed": 1.0}
            for w in worker_ids
        ]
    }  # fmt: skip


def post(server: LiveServer, body: dict[str, Any]) -> dict[str, Any]:
    headers = api_headers(server.app)
    response = requests.post(f"{server.url}/api/positions", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def ids(frame: dict[str, Any]) -> set[int]:
    return {w["id"] for w in frame["workers"]}


def test_a_screen_gets_a_frame_within_a_second_and_a_half_holding_only_what_moved(
    server: LiveServer,
) -> None:
    screen = Screen(server.url)
    try:
        screen.settle()
        started = time.monotonic()
        post(server, fixes(server.app, 31, 32))
        frame = screen.next_frame(timeout=1.5)
        assert time.monotonic() - started < 1.5
        assert ids(frame) == {31, 32}
        item = next(w for w in frame["workers"] if w["id"] == 31)
        # What moves, and nothing that the snapshot already gave (name, grid, township).
        assert set(item) == {"id", "lat", "long", "at", "presence", "speed", "battery"}
        assert item["presence"] == "online" and item["lat"] == pytest.approx(LAT + 310 / M_PER_DEG)
        datetime.fromisoformat(frame["t"])
    finally:
        screen.close()


def test_a_burst_of_fixes_is_coalesced_to_at_most_one_frame_a_second(server: LiveServer) -> None:
    screen = Screen(server.url)
    try:
        screen.settle()
        sent: set[int] = set()
        until = time.monotonic() + 3.0
        n = 0
        while time.monotonic() < until:
            worker = 40 + n % 12
            post(server, fixes(server.app, worker, seconds_ago=60 - n * 0.1, north=n))
            sent.add(worker)
            n += 1
            time.sleep(0.05)
        frames = screen.collect(1.5)
        assert n >= 10 and 3 <= len(frames) <= 5
        # The server sends them a second apart; delivery may bunch them up a little.
        times = [t for t, _ in frames]
        assert min(b - a for a, b in itertools.pairwise(times)) >= 0.8
        assert set().union(*(ids(f) for _, f in frames)) == sent
    finally:
        screen.close()


def test_a_township_screen_gets_only_its_townships_workers(server: LiveServer) -> None:
    names = server.app.names
    mine = 60
    township = names.workers[mine].township_id
    assert township is not None
    other = next(w for w in range(61, 150) if names.workers[w].township_id != township)
    county, local = Screen(server.url), Screen(server.url, township_id=township)
    try:
        county.settle()
        local.collect(0.0)
        post(server, fixes(server.app, mine, other))
        assert ids(local.next_frame(timeout=1.5)) == {mine}
        assert ids(county.next_frame(timeout=1.5)) == {mine, other}
        assert local.collect(1.2) == []
    finally:
        county.close()
        local.close()


def test_the_socket_snapshot_holds_every_worker(server: LiveServer) -> None:
    post(server, fixes(server.app, 70))
    screen = Screen(server.url)
    try:
        snapshot = screen.sio.call("snapshot", namespace="/live", timeout=10)
        assert len(snapshot["workers"]) == len(server.app.names.workers)
        assert next(w for w in snapshot["workers"] if w["id"] == 70)["presence"] == "online"
    finally:
        screen.close()


def test_phones_may_send_batches_on_the_field_namespace(server: LiveServer) -> None:
    token = device_token(with_users(server.app), 80)
    phone = SocketClient(reconnection=False)
    phone.connect(
        server.url, namespaces=["/field"], transports=["websocket"], auth={"token": token}
    )
    try:
        body = fixes(server.app, 80)
        body["fixes"].append({"worker_id": 80, "time": "now", "lat": 1, "long": 1})
        answer = phone.call("positions", body, namespace="/field", timeout=10)
        assert (answer["accepted"], answer["duplicates"], answer["live"]) == (1, 0, True)
        assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(1, "time")]
        again = phone.call("positions", body, namespace="/field", timeout=10)
        assert (again["accepted"], again["duplicates"]) == (0, 1)
        error = phone.call("positions", {"fixes": 3}, namespace="/field", timeout=10)
        assert error["error"]["field"] == "fixes"
        other = phone.call("positions", fixes(server.app, 81), namespace="/field", timeout=10)
        assert other["error"]["code"] == "forbidden"
        assert other["error"]["field"] == "fixes[0].worker_id"
    finally:
        threading.Thread(target=phone.disconnect, daemon=True).start()


def test_a_phone_without_a_device_token_is_refused_on_the_field_namespace(
    server: LiveServer,
) -> None:
    phone = SocketClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        phone.connect(server.url, namespaces=["/field"], transports=["websocket"])
    phone.disconnect()


def test_a_presence_sweep_tells_screens_who_went_offline(server: LiveServer) -> None:
    app = server.app
    clock = app.core.clock
    assert isinstance(clock, FixedClock)
    screen = Screen(server.url)
    try:
        post(server, fixes(app, 90, seconds_ago=100))
        screen.settle()
        clock.advance(timedelta(seconds=30))  # 130 s without a fix: offline
        changes = sweep_presence(app, clock.now())
        assert (90, "offline") in {(c.worker_id, c.after.value) for c in changes}
        frame = screen.next_frame(timeout=1.5)
        assert next(w for w in frame["workers"] if w["id"] == 90)["presence"] == "offline"
    finally:
        screen.close()


def test_frames_carry_fixes_ingested_by_another_process(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two web processes sharing Redis: a fix posted to one reaches the other's screens."""
    shared = {"redis_url": redis_url, "redis_prefix": redis_prefix}
    one = LiveServer(build(tmp_path / "one", **shared)).start()
    two = LiveServer(build(tmp_path / "two", **shared)).start()
    screen = Screen(two.url)
    try:
        deadline = time.monotonic() + 5
        while not positions_subscribed(two.app) and time.monotonic() < deadline:
            time.sleep(0.05)
        screen.collect(0.2)
        post(one, fixes(one.app, 100, 101))
        frame = screen.next_frame(timeout=1.5)
        assert ids(frame) == {100, 101}
        listed = requests.get(
            f"{two.url}/api/workers", headers=api_headers(two.app), timeout=10
        ).json()["workers"]
        assert next(w for w in listed if w["id"] == 100)["presence"] == "online"
    finally:
        screen.close()
        one.stop()
        two.stop()


def positions_subscribed(app: App) -> bool:
    feed = app.core.positions.feed if app.core.positions else None
    return bool(getattr(feed, "subscribed", False))
