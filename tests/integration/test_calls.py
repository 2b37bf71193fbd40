"""Calls and conferences end to end below the browser: the /calls namespace with
python-socketio clients, the MCU (media.mcu) with real aiortc peers on loopback, the
database on SQLite and PostgreSQL.

Each "phone" or "console" here is a socket client (a device token or a signed-in session
cookie) plus an aiortc peer that sends a test pattern and tone (sendrecv audio + video, as
the browser does) and counts the composite frames it decodes.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from sqlalchemy import select

from dispatch.adapters.orm import CallRow, CaseRow
from dispatch.bootstrap import App
from dispatch.domain.calls import RING_SECONDS
from dispatch.service import casefile
from dispatch.service.accounts import load_principal
from dispatch.service.calls import open_calls
from media.mcu.service import EmbeddedConferences
from realtime.calls import CallsNamespace
from tests.integration.conftest import app_per_database
from tests.integration.test_field_api import dispatched
from tests.support import (
    LiveServer,
    SocketClient,
    device_token,
    run_scenario,
    signed_in,
    until,
    with_users,
)

NS = "/calls"


# -- the application --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with app_per_database(request, tmp_path_factory, "calls") as app:
        with_users(app)
        server = LiveServer(app).start()
        try:
            yield server
        finally:
            server.server.shutdown()


def namespace(app: App) -> CallsNamespace:
    found: CallsNamespace = app.flask.extensions["commandhall.calls"]
    return found


def a_case_with_a_worker(app: App) -> CaseRow:
    """A new case in the first worker's grid, verified, registered and dispatched to it."""
    worker_id = min(app.names.workers)
    case_id = dispatched(app, worker_id, "视频核实：路灯倒伏")
    with app.core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None and row.worker_id == worker_id and row.township_id is not None
        session.expunge(row)
        return row


def township_user(app: App, township_id: int) -> str:
    unit = app.names.units[township_id]
    return f"town-{unit.code.lower()}"


def other_township(app: App, township_id: int) -> int:
    return next(u.id for u in app.names.townships() if u.id != township_id)


# -- clients ------------------------------------------------------------------------------------


class Phone:
    """A /calls socket (a console's session or a phone's device token) and what it heard."""

    def __init__(self, url: str, *, token: str | None = None, cookie: str | None = None) -> None:
        self.sio = SocketClient(reconnection=False)
        self.heard: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.log: list[tuple[str, Any]] = []
        for event in ("hello", "ring", "answered", "declined", "state", "ended", "error"):
            self.sio.on(event, self._keeper(event), namespace=NS)
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        self.sio.connect(url, namespaces=[NS], transports=["websocket"],
                         auth={"token": token} if token else {}, headers=headers,
                         wait_timeout=10)  # fmt: skip

    def _keeper(self, event: str) -> Callable[[Any], None]:
        def keep(data: Any) -> None:
            self.log.append((event, data))
            self.heard.put((event, data))

        return keep

    def call(self, event: str, data: dict[str, Any] | None = None) -> Any:
        return self.sio.call(event, data or {}, namespace=NS, timeout=40)

    def wait(self, event: str, check: Callable[[Any], bool] = lambda _: True,
             timeout: float = 15.0) -> Any:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} within {timeout} s; heard {self.log[-6:]}")
            try:
                name, data = self.heard.get(timeout=left)
            except queue.Empty:
                continue
            if name == event and check(data):
                return data

    def close(self) -> None:
        self.sio.disconnect()


def officer(server: LiveServer, username: str) -> Phone:
    client = signed_in(server.app, username)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return Phone(server.url, cookie=cookie.value)


def worker_phone(server: LiveServer, worker_id: int) -> Phone:
    return Phone(server.url, token=device_token(server.app, worker_id))


@dataclass
class PlacedCall:
    case: CaseRow
    duty: Phone  # the duty officer's /calls socket
    phone: Phone  # the case's grid worker's phone
    call: dict[str, Any]  # the call as the officer's `call` answered it


@contextmanager
def placed_call(server: LiveServer) -> Iterator[PlacedCall]:
    """The duty officer calls the grid worker of a fresh case; both sockets close after."""
    case = a_case_with_a_worker(server.app)
    assert case.worker_id is not None
    duty, phone = officer(server, "duty"), worker_phone(server, case.worker_id)
    try:
        call = duty.call("call", {"worker_id": case.worker_id, "case_id": case.id})["call"]
        yield PlacedCall(case, duty, phone, call)
    finally:
        duty.close()
        phone.close()


class Peer:
    """A browser stand-in: sends a test pattern and a tone, counts composite frames."""

    def __init__(self, *, send: bool = True) -> None:
        self.pc = RTCPeerConnection()
        if send:
            self.pc.addTrack(AudioStreamTrack())
            self.pc.addTrack(VideoStreamTrack())
        else:
            self.pc.addTransceiver("audio", direction="sendrecv")
            self.pc.addTransceiver("video", direction="sendrecv")
        self.frames = 0
        self.width = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: Any) -> None:
        if track.kind != "video":
            return

        async def pull() -> None:
            try:
                while True:
                    frame = await track.recv()
                    self.frames += 1
                    self.width = frame.width
            except Exception:  # the track ended
                return

        self._tasks.append(asyncio.ensure_future(pull()))

    async def join(self, phone: Phone, room_id: str) -> dict[str, Any]:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"room_id": room_id, "sdp": self.pc.localDescription.sdp, "type": "offer"}
        answer: dict[str, Any] = await asyncio.to_thread(phone.call, "join", offer)
        if "error" not in answer:
            await self.pc.setRemoteDescription(
                RTCSessionDescription(sdp=answer["sdp"], type=answer["type"])
            )
        return answer

    async def frames_rising(self, n: int = 10, timeout: float = 20.0) -> None:
        start = self.frames
        await until(lambda: self.frames >= start + n, timeout,
                    f"{n} more composite frames (have {self.frames - start})")  # fmt: skip

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()


# Scenarios here get 90 s unless they say otherwise.
run = partial(run_scenario, timeout=90.0)


# -- the call from the case page to the worker's phone ----------------------------------------


def test_an_officer_calls_the_cases_worker_who_accepts_and_the_recording_lands_on_the_case(
    served: LiveServer,
) -> None:
    app = served.app
    case = a_case_with_a_worker(app)
    assert case.worker_id is not None and case.township_id is not None
    duty, phone = officer(served, "duty"), worker_phone(served, case.worker_id)
    try:
        hello = duty.wait("hello")
        assert hello["me"].startswith("user:") and hello["ice_servers"] == []
        started = duty.call("call", {"worker_id": case.worker_id, "case_id": case.id})
        call = started["call"]
        assert call["status"] == "calling" and call["case_id"] == case.id
        assert f"worker:{case.worker_id}" in call["parties"]
        rung = phone.wait("ring")["call"]
        assert rung["id"] == call["id"] and rung["caller"] == "值班员 李明"
        accepted = phone.call("accept", {"call_id": call["id"]})
        assert accepted["call"]["status"] == "active"
        duty.wait("answered", lambda d: d["call"]["id"] == call["id"])

        async def talk() -> None:
            officer_peer, worker_peer = Peer(), Peer()
            for peer, who in ((officer_peer, duty), (worker_peer, phone)):
                answer = await peer.join(who, call["room_id"])
                assert "error" not in answer, answer
                assert answer["call"]["id"] == call["id"]
            await officer_peer.frames_rising()
            await worker_peer.frames_rising()
            assert officer_peer.width > 0 and worker_peer.width > 0
            # Who is in the room, live: both, pushed to both.
            state = await asyncio.to_thread(
                duty.wait, "state", lambda s: len(s["participants"]) == 2
            )
            assert {p["id"] for p in state["participants"]} == {
                hello["me"],
                f"worker:{case.worker_id}",
            }
            muted = await asyncio.to_thread(
                phone.call, "mute", {"room_id": call["room_id"], "audio": False}
            )
            assert [p["audio"] for p in muted["participants"] if p["id"].startswith("worker")] == [
                False
            ]
            await asyncio.sleep(1.0)  # a second of recording
            ended = await asyncio.to_thread(duty.call, "end", {"room_id": call["room_id"]})
            assert ended["call"]["status"] == "ended"
            for peer in (officer_peer, worker_peer):
                await peer.close()

        run(talk)
        told = phone.wait("ended", lambda d: d["call_id"] == call["id"])
        assert told["reason"] == "hung_up" and told["message"] == "the call was hung up"
    finally:
        duty.close()
        phone.close()

    # The case timeline: started, answered, ended, and the recording with its URL.
    principal = load_principal(app.core, user_id_of(app, "duty"))
    assert principal is not None
    detail = casefile.case_detail(app.core, app.names, case.id, principal)
    kinds = [e["type"] for e in detail["timeline"] if e["type"].startswith("call.")]
    assert kinds == ["call.started", "call.answered", "call.ended", "call.recorded"]
    recorded = detail["timeline"][-1]["data"]
    assert recorded["recording"] == f"/api/calls/{call['id']}/recording"
    assert recorded["seconds"] > 0.5 and recorded["size"] > 1000
    with app.core.db.read() as session:
        row = session.get(CallRow, call["id"])
        assert row is not None and row.end_reason == "hung_up" and row.recording_path
        assert (Path(app.settings.data_dir) / row.recording_path).is_file()

    # Served with Range, so the case page's player can seek; same jurisdiction as the case.
    client = signed_in(app, "duty")
    whole = client.get(recorded["recording"])
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    assert whole.data[4:8] == b"ftyp"
    part = client.get(recorded["recording"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    outsider = signed_in(app, township_user(app, other_township(app, case.township_id)))
    refused = outsider.get(recorded["recording"])
    assert refused.status_code == 404 and refused.get_json()["field"] == "call_id"
    assert app.flask.test_client().get(recorded["recording"]).status_code == 401


def user_id_of(app: App, username: str) -> int:
    from dispatch.adapters.orm import UserRow

    with app.core.db.read() as session:
        found = session.scalar(select(UserRow.id).where(UserRow.username == username))
        assert found is not None
        return int(found)


def test_a_declined_call_ends_for_the_caller_with_the_reason(served: LiveServer) -> None:
    with placed_call(served) as placed:
        duty, phone, call = placed.duty, placed.phone, placed.call
        phone.wait("ring", lambda d: d["call"]["id"] == call["id"])
        assert phone.call("decline", {"call_id": call["id"]})["call"]["status"] == "ended"
        told = duty.wait("ended", lambda d: d["call_id"] == call["id"])
        assert told["reason"] == "declined"
        again = phone.call("accept", {"call_id": call["id"]})
        assert again["error"]["code"] == "conflict" and "already ended" in again["error"]["message"]


def test_a_worker_calls_the_centre_and_every_duty_console_and_the_wall_hear_it(
    served: LiveServer,
) -> None:
    app = served.app
    worker_id = min(app.names.workers)
    duty, duty2, phone = (
        officer(served, "duty"),
        officer(served, "duty2"),
        worker_phone(served, worker_id),
    )
    try:
        call = phone.call("call_centre")["call"]
        assert call["status"] == "ringing" and call["parties"][-1] == "centre"
        for console in (duty, duty2):
            assert console.wait("ring")["call"]["id"] == call["id"]
        # The wall's snapshot counts it and its banner shows who calls.
        wall = [c for c in open_calls(app.core) if c.id == call["id"]]
        assert [c.status for c in wall] == ["ringing"]
        from dispatch.service.wall_stats import calls_in_progress

        shown = [c for c in calls_in_progress(app.core, township_id=None, scope=None)
                 if c["id"] == call["id"]]  # fmt: skip
        assert shown[0]["caller"].endswith(app.names.workers[worker_id].name)
        assert shown[0]["township"] == app.names.unit_name(app.names.workers[worker_id].township_id)
        duty2.call("accept", {"call_id": call["id"]})
        duty.wait("answered", lambda d: d["call"]["id"] == call["id"])  # duty's console stops
        assert phone.call("end", {"room_id": call["room_id"]})["call"]["status"] == "ended"
        assert call["id"] not in {c.id for c in open_calls(app.core)}
        # A grid worker may not start calls to others.
        refused = phone.call("call", {"worker_id": worker_id})
        assert (
            refused["error"]["code"] == "forbidden"
            and "may not start calls" in (refused["error"]["message"])
        )
    finally:
        for client in (duty, duty2, phone):
            client.close()


# -- bad input: the room keeps working -------------------------------------------------------------


def test_malformed_sdp_is_refused_with_a_clear_error_and_the_room_keeps_working(
    served: LiveServer,
) -> None:
    case = a_case_with_a_worker(served.app)
    duty = officer(served, "duty")
    try:
        call = duty.call("call", {"worker_id": case.worker_id, "case_id": case.id})["call"]
        room = call["room_id"]
        missing = duty.call("join", {"room_id": room})
        assert missing["error"] == {
            "code": "invalid",
            "message": "sdp is required: the browser's offer",
            "field": "sdp",
        }
        not_sdp = duty.call("join", {"room_id": room, "sdp": "hello", "type": "offer"})
        assert (
            not_sdp["error"]["field"] == "sdp"
            and "must start with 'v=0'" in (not_sdp["error"]["message"])
        )
        broken = duty.call("join", {"room_id": room, "sdp": "v=0\r\nm=garbage\r\n",
                                    "type": "offer"})  # fmt: skip
        assert broken["error"]["code"] == "invalid", broken
        assert duty.call("join", {"room_id": room, "sdp": "v=0", "type": "answer"})["error"][
            "message"] == "type must be 'offer', got 'answer'"  # fmt: skip
        nowhere = duty.call("join", {"room_id": "call-nope", "sdp": "v=0", "type": "offer"})
        assert nowhere["error"]["code"] == "not_found"

        async def still_works() -> None:
            peer = Peer()
            answer = await peer.join(duty, room)
            assert "error" not in answer, answer
            await peer.frames_rising()
            await peer.close()

        run(still_works)
        duty.call("end", {"room_id": room})
    finally:
        duty.close()


def test_an_office_of_another_township_may_not_join_the_room_of_a_case(
    served: LiveServer,
) -> None:
    app = served.app
    case = a_case_with_a_worker(app)
    assert case.township_id is not None
    other = other_township(app, case.township_id)
    duty = officer(served, "duty")
    ours, theirs = (
        officer(served, township_user(app, case.township_id)),
        officer(served, township_user(app, other)),
    )
    try:
        invite = [f"township:{case.township_id}", f"worker:{case.worker_id}"]
        call = duty.call("convene", {"case_id": case.id, "invite": invite})["call"]
        assert call["kind"] == "conference"
        assert ours.wait("ring")["call"]["id"] == call["id"]  # its own office rings
        invitations = ours.call("invitations")["calls"]
        assert call["id"] in [c["id"] for c in invitations]
        refused = theirs.call("join", {"room_id": call["room_id"], "sdp": "v=0\r\n",
                                       "type": "offer"})  # fmt: skip
        assert refused["error"]["code"] == "forbidden"
        assert refused["error"]["message"] == (
            f"this room belongs to a case outside your jurisdiction: room {call['room_id']}"
        )
        # Nor may it convene on that case: the case is not even visible to it.
        hidden = theirs.call("convene", {"case_id": case.id, "invite": [f"township:{other}"]})
        assert hidden["error"]["code"] == "not_found"

        async def ours_joins() -> None:
            peer = Peer()
            answer = await peer.join(ours, call["room_id"])
            assert "error" not in answer, answer
            await peer.frames_rising()
            await peer.close()

        run(ours_joins)
        duty.call("end", {"room_id": call["room_id"]})
    finally:
        for client in (duty, ours, theirs):
            client.close()


def test_the_tenth_participant_is_refused_and_the_nine_keep_talking(served: LiveServer) -> None:
    app = served.app
    case = a_case_with_a_worker(app)
    workers = sorted(w.id for w in app.names.workers.values()
                     if w.township_id == case.township_id)[:8]  # fmt: skip
    if len(workers) < 8:
        workers = sorted(app.names.workers)[:8]
    duty = officer(served, "duty")
    nine = [f"worker:{w}" for w in [*workers, 10**6]]
    too_many = duty.call("convene", {"case_id": case.id, "invite": nine})
    assert too_many["error"] == {
        "code": "invalid", "field": "invite",
        "message": "9 invitees and the convener make 10 participants; a room holds at most 9",
    }  # fmt: skip
    call = duty.call("convene", {"case_id": case.id, "invite": [f"worker:{w}" for w in workers]})
    room = call["call"]["room_id"]
    phones = [worker_phone(served, w) for w in workers]
    tenth = officer(served, "duty2")  # the centre may join any room, but not a full one
    try:

        async def nine_and_one() -> None:
            peers = [Peer(send=False) for _ in range(9)]
            joined = zip(peers, [duty, *phones], strict=True)
            for answer in await asyncio.gather(*(peer.join(who, room) for peer, who in joined)):
                assert "error" not in answer, answer
            extra = Peer(send=False)
            refused = await extra.join(tenth, room)
            assert refused["error"]["code"] == "full" and refused["error"]["field"] == "room_id"
            assert "9 participants" in refused["error"]["message"]
            await peers[0].frames_rising(5)
            await peers[-1].frames_rising(5)
            state = await asyncio.to_thread(duty.call, "mute", {"room_id": room, "video": False})
            assert len(state["participants"]) == 9
            for peer in [*peers, extra]:
                await peer.close()

        run(nine_and_one, timeout=150)
        duty.call("end", {"room_id": room})
    finally:
        for client in [duty, tenth, *phones]:
            client.close()


# -- failures --------------------------------------------------------------------------------------


def test_a_media_restart_ends_calls_with_a_message_and_clients_call_again(
    served: LiveServer,
) -> None:
    app = served.app
    case = a_case_with_a_worker(app)
    ns = namespace(app)
    old = ns.rooms
    assert isinstance(old, EmbeddedConferences)
    duty, phone = officer(served, "duty"), worker_phone(served, case.worker_id or 0)
    try:
        call = duty.call("call", {"worker_id": case.worker_id, "case_id": case.id})["call"]

        async def joined() -> None:
            peer = Peer()
            assert "error" not in await peer.join(duty, call["room_id"])
            await peer.frames_rising(3)
            await peer.close()

        run(joined)
        # The media service goes away (its rooms end) and a fresh one takes its place.
        old.stop()
        fresh = EmbeddedConferences(old.loop, data_dir=app.settings.data_dir)
        told = duty.wait("ended", lambda d: d["call_id"] == call["id"])
        assert told["reason"] == "media_restarted"
        assert told["message"] == "the media service restarted; call again"
        assert phone.wait("ended", lambda d: d["call_id"] == call["id"])["reason"] == (
            "media_restarted"
        )
        ns.attach(fresh)
        app.background[app.background.index(old)] = fresh
        # Calling again works on the new one.
        again = duty.call("call", {"worker_id": case.worker_id, "case_id": case.id})["call"]
        assert phone.wait("ring", lambda d: d["call"]["id"] == again["id"])

        async def rejoined() -> None:
            peer = Peer()
            assert "error" not in await peer.join(duty, again["room_id"])
            await peer.frames_rising(3)
            await peer.close()

        run(rejoined)
        duty.call("end", {"room_id": again["room_id"]})
    finally:
        duty.close()
        phone.close()


def test_a_call_nobody_answers_ends_by_itself_as_no_answer(served: LiveServer) -> None:
    with placed_call(served) as placed:
        duty, phone, call = placed.duty, placed.phone, placed.call
        phone.wait("ring", lambda d: d["call"]["id"] == call["id"])
        assert call["id"] not in [c.id for c in namespace(served.app).reconcile()]  # still rings
        with served.app.core.uow() as uow:  # it has rung a little longer than anyone waits
            row = uow.session.get(CallRow, call["id"])
            assert row is not None
            row.started_at = row.started_at - timedelta(seconds=RING_SECONDS + 1)
            uow.commit(served.app.core.clock.now())
        assert call["id"] in [c.id for c in namespace(served.app).reconcile()]
        told = duty.wait("ended", lambda d: d["call_id"] == call["id"])
        assert told["reason"] == "no_answer"
        assert call["id"] not in {c.id for c in open_calls(served.app.core)}


def test_calls_left_open_by_a_process_that_died_are_ended_by_the_reconciler(
    served: LiveServer,
) -> None:
    """The web process died mid-call: its calls are open in the database, in no MCU room.
    The periodic check (every 15 s, here called directly) ends their record."""
    app = served.app
    case = a_case_with_a_worker(app)
    now = app.core.clock.now()
    with app.core.uow() as uow:
        row = CallRow(room_id="call-from-before", case_id=case.id, township_id=case.township_id,
                      kind="call", started_by="user:1", caller_name="值班员 李明",
                      callee_name="网格员", started_at=now)  # fmt: skip
        uow.session.add(row)
        uow.commit(now)
        call_id = row.id
    ended = namespace(app).reconcile()
    assert call_id in [c.id for c in ended]
    with app.core.db.read() as session:
        done = session.get(CallRow, call_id)
        assert done is not None and done.end_reason == "media_restarted" and done.ended_at
    assert call_id not in {c.id for c in open_calls(app.core)}
    assert namespace(app).reconcile() == []  # nothing left to end


def test_a_participant_whose_connection_failed_rejoins_with_a_new_offer(
    served: LiveServer,
) -> None:
    """The browser's connection failed (here: its peer vanishes without leaving); it sends a
    fresh offer to the same room and is back, once, with the composite flowing again."""
    with placed_call(served) as placed:
        case, duty, phone, call = placed.case, placed.duty, placed.phone, placed.call
        phone.call("accept", {"call_id": call["id"]})
        room = call["room_id"]

        async def fail_and_rejoin() -> None:
            officer_peer, lost = Peer(), Peer()
            assert "error" not in await officer_peer.join(duty, room)
            assert "error" not in await lost.join(phone, room)
            await lost.frames_rising(3)
            await lost.close()  # the phone's network went away: no leave was sent
            again = Peer()
            answer = await again.join(phone, room)
            assert "error" not in answer, answer
            await again.frames_rising(5)
            await officer_peer.frames_rising(5)
            state = await asyncio.to_thread(duty.call, "mute", {"room_id": room, "audio": True})
            ids = [p["id"] for p in state["participants"]]
            assert sorted(ids) == sorted(set(ids)) and f"worker:{case.worker_id}" in ids
            for peer in (officer_peer, again):
                await peer.close()

        run(fail_and_rejoin)
        duty.call("end", {"room_id": room})


def test_a_dropped_socket_leaves_the_room_but_does_not_end_a_call_the_other_side_is_in(
    served: LiveServer,
) -> None:
    with placed_call(served) as placed:
        duty, phone, call = placed.duty, placed.phone, placed.call
        phone.call("accept", {"call_id": call["id"]})
        room = call["room_id"]

        async def both_then_drop() -> None:
            officer_peer, worker_peer = Peer(), Peer()
            assert "error" not in await officer_peer.join(duty, room)
            assert "error" not in await worker_peer.join(phone, room)
            await worker_peer.frames_rising(3)
            await asyncio.to_thread(phone.close)  # the phone's socket drops
            state = await asyncio.to_thread(
                duty.wait, "state", lambda s: len(s["participants"]) == 1
            )
            assert not state["ended"]
            for peer in (officer_peer, worker_peer):
                await peer.close()

        run(both_then_drop)
        assert call["id"] in {c.id for c in open_calls(served.app.core)}
        duty.call("end", {"room_id": room})
