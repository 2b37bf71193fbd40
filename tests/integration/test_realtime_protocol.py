"""The /live protocol through a real server and a plain python-socketio client.

The client here knows only docs/realtime.md: connect with last_seq, apply batches whose
`from` is not past what it has, ask for `catchup` on a gap, load a `snapshot` on `resync`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from sqlalchemy import select

import realtime.socket
from dispatch.adapters.orm import CaseRow, EventRow
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions, queries
from dispatch.service.intake import NewReport, submit_report
from realtime.auth import Scope, ScreenTokens
from tests.support import LiveServer, SocketClient, build_app

NS = "/live"


class Screen:
    """A minimal third-party screen: the client rule of docs/realtime.md, nothing more."""

    def __init__(self, url: str, *, last_seq: int | None = None, township_id: int | None = None):
        self.url, self.seq, self.township_id = url, last_seq, township_id
        self.received: list[dict[str, Any]] = []  # events applied, in order
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sio = SocketClient(reconnection=False)
        for name in ("hello", "events", "resync", "heartbeat", "error"):
            self.sio.on(name, self._handler(name), namespace=NS)

    def _handler(self, name: str):
        return lambda data=None: self.inbox.put((name, data))

    def connect(self) -> Screen:
        auth: dict[str, Any] = {"last_seq": self.seq}
        if self.township_id is not None:
            auth["township_id"] = self.township_id
        self.sio.connect(self.url, namespaces=[NS], auth=auth, transports=["websocket"])
        return self

    def disconnect(self) -> None:
        self.sio.disconnect()

    def apply(self, batch: dict[str, Any]) -> None:
        if self.seq is not None and batch["from"] > self.seq:
            self.catchup()
            return
        for event in batch["events"]:
            if self.seq is None or event["seq"] > self.seq:
                self.received.append(event)
        self.seq = max(self.seq or 0, batch["to"])

    def catchup(self) -> None:
        while True:
            answer = self.sio.call("catchup", {"after": self.seq}, namespace=NS, timeout=10)
            assert "resync" not in answer, answer
            self.apply(answer)
            if answer["to"] >= answer["head"]:
                return

    def pump(self, until: float) -> list[str]:
        """Handle messages until `until` (monotonic); returns the message names seen."""
        seen = []
        while (left := until - time.monotonic()) > 0:
            try:
                name, data = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            seen.append(name)
            if name == "events":
                self.apply(data)
            elif name == "resync":
                snap = self.sio.call("snapshot", namespace=NS, timeout=10)
                self.seq = snap["seq"]
                self.catchup()
        return seen

    def wait_for(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; received seqs {[e['seq'] for e in self.received]}"
                )
            self.pump(min(deadline, time.monotonic() + 0.1))


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[LiveServer]:
    app = build_app(tmp_path, db_url, with_dashboard=False)
    app.fanout.poll_interval = 0.5
    live = LiveServer(app).start()
    yield live
    live.stop()


def grid_point(app: App, index: int = 0) -> tuple[float, float]:
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id
    )
    return centroid(grids[index % len(grids)].polygon[0])


def report(app: App, index: int = 0, text: str = "小区门口垃圾桶满溢") -> int:
    long, lat = grid_point(app, index)
    return submit_report(
        app.core, NewReport(service_code="garbage", lat=lat, long=long, description=text)
    ).case_id


def log_seqs(app: App, after: int, township_id: int | None = None) -> list[int]:
    q = select(EventRow.seq).where(EventRow.seq > after).order_by(EventRow.seq)
    if township_id is not None:
        q = q.where(EventRow.township_id == township_id)
    with app.core.db.read() as session:
        return list(session.scalars(q))


def test_a_new_screen_resyncs_then_receives_live_events_with_their_case(server: LiveServer):
    screen = Screen(server.url).connect()
    try:
        names = screen.pump(time.monotonic() + 1.0)
        assert names[:2] == ["hello", "resync"]
        start = screen.seq
        case_id = report(server.app, text="解放路垃圾满溢，请尽快清运")
        screen.wait_for(lambda: any(e["case_id"] == case_id for e in screen.received), 2.0)
        event = screen.received[-1]
        assert event["type"] == "case.reported" and event["seq"] == start + 1
        assert event["case"]["description"] == "解放路垃圾满溢，请尽快清运"
        assert event["case"]["state"] == "reported"
    finally:
        screen.disconnect()


def test_a_compact_snapshot_holds_the_same_cases_as_rows_of_values(server: LiveServer):
    for n in range(3):
        report(server.app, n, text="解放路垃圾满溢")
    screen = Screen(server.url).connect()
    try:
        plain = screen.sio.call("snapshot", namespace=NS, timeout=10)
        compact = screen.sio.call("snapshot", {"compact": True}, namespace=NS, timeout=10)
    finally:
        screen.disconnect()
    assert "cases" not in compact and "case_rows" not in plain
    fields = compact["case_fields"]
    assert fields == list(queries.SCREEN_FIELDS)
    assert [dict(zip(fields, row, strict=True)) for row in compact["case_rows"]] == plain["cases"]
    assert len(plain["cases"]) == 3
    rest = {"seq", "day_start", "township_id", "stats"}  # and workers, and server_time
    assert {k: compact[k] for k in rest} == {k: plain[k] for k in rest}


def test_a_screen_that_reconnects_gets_exactly_the_events_it_missed_in_order(server: LiveServer):
    app = server.app
    screen = Screen(server.url).connect()
    screen.pump(time.monotonic() + 0.5)
    screen.disconnect()
    last = screen.seq
    assert last is not None
    ids = [report(app, i) for i in range(10)]
    for case_id in ids:
        actions.perform(app.core, case_id, "verify")
        actions.perform(app.core, case_id, "register", {"urgency": "urgent"})
    missed = log_seqs(app, last)
    assert len(missed) == 30
    again = Screen(server.url, last_seq=last).connect()
    try:
        again.wait_for(lambda: again.seq == missed[-1], 5.0)
        assert [e["seq"] for e in again.received] == missed
        assert [e["type"] for e in again.received[:3]] == [
            "case.reported", "case.reported", "case.reported",
        ]  # fmt: skip
        again.pump(time.monotonic() + 1.5)  # the live fan-out must not deliver any twice
        assert [e["seq"] for e in again.received] == missed
    finally:
        again.disconnect()


def test_a_screen_too_far_behind_is_told_to_resync(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(realtime.socket, "REPLAY_LIMIT", 5)
    for i in range(4):
        report(server.app, i)  # 4 events: inside the window
    screen = Screen(server.url, last_seq=0).connect()
    try:
        names = screen.pump(time.monotonic() + 1.0)
        assert "events" in names and "resync" not in names
        assert [e["seq"] for e in screen.received] == [1, 2, 3, 4]
    finally:
        screen.disconnect()
    for i in range(4):
        report(server.app, i)  # now 8 behind a screen at 0
    late = Screen(server.url, last_seq=0).connect()
    try:
        messages = []
        deadline = time.monotonic() + 1.5
        while (left := deadline - time.monotonic()) > 0:
            try:
                messages.append(late.inbox.get(timeout=left))
            except queue.Empty:
                break
        resyncs = [data for name, data in messages if name == "resync"]
        assert len(resyncs) == 1 and "more than 5 events behind" in resyncs[0]["reason"]
        # Live batches may arrive, but no replay from 0: that is what resync replaces.
        assert all(data["from"] > 0 for name, data in messages if name == "events")
    finally:
        late.disconnect()


def test_a_township_screen_never_receives_another_townships_events(server: LiveServer):
    app = server.app
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id
    )
    townships = [app.core.grids.locate(*centroid(g.polygon[0])).township_id for g in grids]
    mine = townships[0]
    other = next(i for i, t in enumerate(townships) if t != mine)
    screen = Screen(server.url, last_seq=0, township_id=mine).connect()
    try:
        screen.pump(time.monotonic() + 0.5)
        report(app, other)
        own = report(app, 0)
        screen.wait_for(lambda: any(e["case_id"] == own for e in screen.received), 3.0)
        assert {e["township_id"] for e in screen.received} == {mine}
        assert [e["seq"] for e in screen.received] == log_seqs(app, 0, township_id=mine)
    finally:
        screen.disconnect()


def test_bad_auth_is_refused_with_an_error_naming_the_field(server: LiveServer):
    screen = Screen(server.url, last_seq=-3)
    with pytest.raises(socketio.exceptions.ConnectionError):
        screen.connect()
    screen.sio.disconnect()


@pytest.fixture
def closed_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that refuses screens without a token, as production should."""
    app = build_app(
        tmp_path, f"sqlite:///{tmp_path}/c.db", with_dashboard=False, anonymous_screens=False
    )
    live = LiveServer(app).start()
    yield live
    live.stop()


def token(app: App, township_id: int | None = None) -> str:
    return ScreenTokens(app.settings.secret_key).issue(
        Scope("township", township_id) if township_id is not None else Scope("county")
    )


def refused(url: str, auth: dict[str, Any]) -> dict[str, Any]:
    """Connect with `auth`, expecting a refusal; returns the error the server sent."""
    errors: queue.Queue[dict[str, Any]] = queue.Queue()
    sio = SocketClient(reconnection=False)
    sio.on("error", errors.put, namespace=NS)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(url, namespaces=[NS], auth=auth, transports=["websocket"])
    sio.disconnect()
    return errors.get(timeout=2)


def test_without_a_token_a_screen_is_refused_saying_a_token_is_required(closed_server):
    error = refused(closed_server.url, {"last_seq": 0})
    assert error["code"] == "forbidden" and error["field"] == "token"
    assert "token is required" in error["message"]


def test_a_forged_or_foreign_token_is_refused(closed_server, tmp_path: Path):
    forged = ScreenTokens("another-secret").issue(Scope("county"))
    assert "not valid" in refused(closed_server.url, {"token": forged})["message"]
    good = token(closed_server.app)
    assert "not valid" in refused(closed_server.url, {"token": good[:-2] + "xx"})["message"]


def grid_in(app: App, township_id: int) -> int:
    """The index (as `report` takes it) of a grid in `township_id`."""
    return next(
        i
        for i in range(1000)
        if app.core.grids.locate(*grid_point(app, i)).township_id == township_id
    )


def test_a_township_token_cannot_widen_its_scope(closed_server):
    app = closed_server.app
    mine, other = (u.id for u in app.names.townships()[:2])
    error = refused(closed_server.url, {"token": token(app, mine), "township_id": other})
    assert error["field"] == "township_id" and str(mine) in error["message"]
    screen = Screen(closed_server.url, last_seq=0)
    screen.sio.connect(
        closed_server.url, namespaces=[NS], auth={"token": token(app, mine), "last_seq": 0},
        transports=["websocket"],
    )  # fmt: skip
    try:
        screen.pump(time.monotonic() + 0.5)
        report(app, grid_in(app, other))
        own = report(app, grid_in(app, mine))
        screen.wait_for(lambda: any(e["case_id"] == own for e in screen.received), 3.0)
        assert {e["township_id"] for e in screen.received} == {mine}
    finally:
        screen.disconnect()


def test_a_county_token_sees_everything(closed_server):
    app = closed_server.app
    screen = Screen(closed_server.url, last_seq=0)
    screen.sio.connect(
        closed_server.url, namespaces=[NS], auth={"token": token(app), "last_seq": 0},
        transports=["websocket"],
    )  # fmt: skip
    try:
        screen.pump(time.monotonic() + 0.3)
        ids = [report(app, i * 37) for i in range(3)]
        screen.wait_for(lambda: {e["case_id"] for e in screen.received} >= set(ids), 3.0)
        assert len({e["township_id"] for e in screen.received}) >= 2
    finally:
        screen.disconnect()


def test_a_screen_of_a_quiet_township_hears_the_heartbeat_without_catching_up(
    server: LiveServer,
) -> None:
    """Heartbeats reach every room a screen joined, not only rooms events have reached; a
    room no batch has reached is told seq 0, so its screens do not ask for a catch-up."""
    app = server.app
    app.fanout.heartbeat_interval = 0.3
    case_id = report(app)
    with app.core.db.read() as session:
        busy = session.get(CaseRow, case_id).township_id  # type: ignore[union-attr]
    quiet = next(u.id for u in app.names.townships() if u.id != busy)
    beats: queue.Queue[dict[str, Any]] = queue.Queue()
    sio = SocketClient(reconnection=False)
    sio.on("heartbeat", beats.put, namespace=NS)
    sio.connect(
        server.url, namespaces=[NS], auth={"last_seq": 0, "township_id": quiet},
        transports=["websocket"],
    )  # fmt: skip
    try:
        first, second = beats.get(timeout=5), beats.get(timeout=5)
        assert first["seq"] == second["seq"] == 0
    finally:
        sio.disconnect()
