"""media.relay: the wire format, error mapping, concurrency and media restarts, through a real
Redis under a fresh key prefix. The served objects are small fakes of the gateway and the MCU;
the real gateway in a real `commandhall media` is tests/integration/test_media_process.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from media.conference import JoinAnswer, Participant, Recording, RoomError, RoomState
from media.config import Camera
from media.gateway import Answer, WatchError
from media.relay import RelayError, RelayServer, decode, encode, wire_type
from media.remote import CAMERAS, RESTARTED, RelayClient, RemoteConferences, RemoteMedia
from media.upstream import CameraStatus, State

pytestmark = pytest.mark.redis


class FakeCameras:
    """Answers like the gateway facade; `watch` can be slow, like ICE gathering."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.watched: list[Camera] = []

    def watch(self, camera: Camera, sdp: str, type: str) -> Answer:
        if "m=video" not in sdp:
            raise WatchError("invalid", "sdp must be an SDP offer with a video section", "sdp")
        time.sleep(self.delay)
        self.watched.append(camera)
        return Answer(f"v-{camera.id}-{len(self.watched)}", f"answer to {sdp}", "answer")

    def unwatch(self, viewer_id: str) -> bool:
        return viewer_id.startswith("v-")

    def status(self, camera_ids: list[int] | None = None) -> list[CameraStatus]:
        since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        return [CameraStatus(i, State.ONLINE, 2, None, since) for i in camera_ids or [1]]

    def snapshot(self, camera_id: int) -> bytes:
        return bytes(range(256)) * 4 + b"\xff\xd9"

    def broken(self) -> None:
        raise KeyError("the gateway lost its place")

    def _private(self) -> str:
        return "secret"

    def listen(self, listener: Callable[[CameraStatus], None]) -> None:
        raise AssertionError("listen is never relayed")


class FakeConferences:
    def __init__(self) -> None:
        self.rooms: dict[str, RoomState] = {}

    def open(self, room_id: str, *, record: bool = True, limit: int = 9) -> RoomState:
        self.rooms[room_id] = RoomState(room_id, limit=limit)
        return self.rooms[room_id]

    def join(self, room_id: str, participant: Participant, sdp: str, type: str = "offer"
             ) -> JoinAnswer:  # fmt: skip
        if room_id not in self.rooms:
            raise RoomError("not_found", f"there is no room {room_id!r}", "room_id")
        return JoinAnswer(room_id, participant.id, "v=0 answer")

    def state(self, room_id: str) -> RoomState | None:
        return self.rooms.get(room_id)

    def end(self, room_id: str, reason: str = "ended") -> Recording | None:
        self.rooms.pop(room_id, None)
        return Recording(room_id, f"recordings/{room_id}.mp4", 12.5, 4096, participants=("a",))


@pytest.fixture
def relay(redis_url: str, redis_prefix: str) -> Iterator[Callable[..., Any]]:
    """Makes servers and clients on this test's prefix; stops them all afterwards."""
    made: list[Any] = []

    def make(kind: str, **services: object) -> Any:
        if kind == "server":
            server = RelayServer(redis_url, prefix=redis_prefix, workers=16)
            for name, service in services.items():
                server.serve(name, service)
            server.start()
            made.append(server)
            return server
        client = RelayClient(redis_url, prefix=redis_prefix, watch_interval=0.2)
        client.start()
        made.append(client)
        return client

    yield make
    for thing in reversed(made):
        thing.stop()


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


# -- the wire format -------------------------------------------------------------------------


def test_dataclasses_bytes_and_containers_survive_the_wire_format() -> None:
    since = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    values: list[Any] = [
        Camera(3, "北门 · 卡口", "demo:street"),
        Answer("v1", "v=0\r\n", "answer"),
        CameraStatus(3, State.OFFLINE, 0, "rtsp://…: refused", since, 4.0),
        RoomState("r1", (Participant("user:1", "张伟", 1.5, False, True),), "user:1"),
        JoinAnswer("r1", "user:1", "v=0"),
        Recording("r1", "recordings/r1.mp4", 3.5, 100, participants=("user:1", "worker:2")),
        b"\x00\xff\xd8 jpeg",
        {"nested": [1, 2.5, None, "字", {"deeper": b"\x01"}]},
    ]
    import json

    for value in values:
        assert decode(json.loads(json.dumps(encode(value)))) == value
    assert decode(encode((1, 2))) == [1, 2]  # tuples arrive as lists


def test_what_cannot_cross_is_refused_by_name() -> None:
    class Unregistered:
        pass

    with pytest.raises(TypeError, match="Unregistered cannot cross the relay"):
        encode(Unregistered())
    with pytest.raises(TypeError, match="string keys"):
        encode({1: "one"})
    with pytest.raises(ValueError, match="unknown type 'Nope'"):
        decode({"$type": "Nope", "value": {}})
    with pytest.raises(TypeError, match="not a dataclass"):
        wire_type(Unregistered)


# -- calls -----------------------------------------------------------------------------------


def test_results_and_errors_come_back_as_their_own_types(relay: Callable[..., Any]) -> None:
    cameras = FakeCameras()
    relay("server", cameras=cameras)
    client = relay("client")
    camera = Camera(7, "东门", "demo:gate")
    answer = client.call("cameras", "watch", camera, "m=video offer", "offer")
    assert answer == Answer("v-7-1", "answer to m=video offer", "answer")
    assert cameras.watched == [camera]  # the Camera crossed intact
    statuses = client.call("cameras", "status", [4, 5])
    assert [s.camera_id for s in statuses] == [4, 5]
    assert statuses[0].since == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert client.call("cameras", "snapshot", 1).endswith(b"\xff\xd9")
    with pytest.raises(WatchError) as watch_error:
        client.call("cameras", "watch", camera, "no video", "offer")
    assert (watch_error.value.code, watch_error.value.field) == ("invalid", "sdp")
    with pytest.raises(RelayError) as internal:
        client.call("cameras", "broken")
    assert internal.value.code == "internal"
    assert "cameras.broken failed in the media process" in internal.value.message
    for method in ("_private", "listen", "stop", "nothing"):
        with pytest.raises(RelayError) as refused:
            client.call("cameras", method)
        assert refused.value.code == "unknown_method" and refused.value.field == "method"
    with pytest.raises(RelayError, match="serves no 'calls'"):
        client.call("calls", "open")


def test_a_room_error_is_a_room_error_on_the_web_side(relay: Callable[..., Any]) -> None:
    relay("server", conferences=FakeConferences())
    conferences = RemoteConferences(relay("client"))
    assert conferences.open("r1", limit=4) == RoomState("r1", limit=4)
    with pytest.raises(RoomError) as missing:
        conferences.join("r9", Participant("user:1", "张伟"), "v=0")
    assert (missing.value.code, missing.value.field) == ("not_found", "room_id")
    recording = conferences.end("r1")
    assert recording is not None and recording.participants == ("a",)
    assert conferences.state("r1") is None


def test_slow_requests_run_side_by_side(relay: Callable[..., Any]) -> None:
    relay("server", cameras=FakeCameras(delay=1.0))
    client = relay("client")
    started = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(
            lambda n: client.call("cameras", "watch", Camera(n, "c", "demo:x"), "m=video", "offer"),
            range(1, 13),
        ))  # fmt: skip
    elapsed = time.monotonic() - started
    assert sorted(int(a.viewer_id.split("-")[1]) for a in answers) == list(range(1, 13))
    assert elapsed < 3.0, f"12 one-second watches took {elapsed:.1f} s: they were serialised"


def test_a_second_media_process_refuses_to_start(
    relay: Callable[..., Any], redis_url: str, redis_prefix: str
) -> None:
    first = relay("server", cameras=FakeCameras())
    second = RelayServer(redis_url, prefix=redis_prefix)
    with pytest.raises(RuntimeError, match=r"another media process holds .*media:instance"):
        second.start(claim_timeout=0.5)
    second.stop()
    assert relay("client").call("cameras", "unwatch", "v-1") is True  # the first still serves
    assert first.served == 1


def test_no_media_process_is_unavailable_at_once(relay: Callable[..., Any]) -> None:
    media = RemoteMedia(relay("client"), lambda camera_id: None)
    started = time.monotonic()
    with pytest.raises(WatchError) as unavailable:
        media.watch(Camera(1, "c", "demo:x"), "m=video", "offer")
    assert time.monotonic() - started < 0.5
    assert unavailable.value.code == "unavailable"
    assert "media process is not running" in unavailable.value.message
    assert media.unwatch("v-1") is False  # its viewers went with it


def test_a_slow_answer_times_out_naming_the_media_process(relay: Callable[..., Any]) -> None:
    relay("server", cameras=FakeCameras(delay=2.0))
    client = relay("client")
    with pytest.raises(RelayError) as timeout:
        client.call("cameras", "watch", Camera(1, "c", "demo:x"), "m=video", "offer", timeout=0.5)
    assert timeout.value.code == "timeout"
    assert "the media process" in timeout.value.message and "0.5 s" in timeout.value.message


# -- events and restarts ---------------------------------------------------------------------


def test_events_reach_every_web_process(relay: Callable[..., Any]) -> None:
    server = relay("server", cameras=FakeCameras())
    heard: list[list[CameraStatus]] = [[], []]
    for n in range(2):
        media = RemoteMedia(relay("client"), lambda camera_id: None)
        media.listen(heard[n].append)
    time.sleep(0.3)  # the subscriptions are made on the clients' own threads
    status = CameraStatus(5, State.ONLINE, 1, None, datetime.now(UTC))
    server.publish(CAMERAS, status)
    eventually(lambda: all(h == [status] for h in heard), 3, "both web processes to hear")


def test_a_restart_ends_known_rooms_takes_cameras_offline_and_fails_calls_in_flight(
    relay: Callable[..., Any], redis_url: str, redis_prefix: str
) -> None:
    cameras = FakeCameras(delay=3.0)
    server = relay("server", cameras=cameras, conferences=FakeConferences())
    client = relay("client")
    media = RemoteMedia(client, lambda camera_id: None)
    conferences = RemoteConferences(client)
    statuses: list[CameraStatus] = []
    rooms: list[RoomState] = []
    media.listen(statuses.append)
    conferences.listen(rooms.append)
    conferences.open("case-17")
    time.sleep(0.3)
    server.publish(CAMERAS, CameraStatus(4, State.ONLINE, 1))
    eventually(lambda: len(statuses) == 1, 3, "camera 4 online")
    old = client.instance
    failures: list[BaseException] = []

    def watch() -> None:
        try:
            media.watch(Camera(9, "c", "demo:x"), "m=video", "offer")
        except BaseException as exc:
            failures.append(exc)

    # A media process dies mid-request: its instance key goes, nothing else is said.
    caller = threading.Thread(target=watch)
    caller.start()
    eventually(lambda: bool(client._pending), 2, "the watch to be in flight")
    server._stop.set()
    with redis.Redis.from_url(redis_url) as r:
        r.delete(f"{redis_prefix}media:instance")
    gone_at = time.monotonic()
    caller.join(5)
    assert time.monotonic() - gone_at < 1.5, "the call in flight waited for its timeout"
    assert isinstance(failures[0], WatchError) and failures[0].code == "unavailable"
    assert old is not None and old in failures[0].message
    assert rooms[-1] == RoomState("case-17", ended=True, reason=RESTARTED)
    assert [(s.camera_id, s.state) for s in statuses[1:]] == [(4, State.OFFLINE)]
    # A new instance serves again; ids from the old one are simply unknown to it.
    server._threads[0].join(2)  # the old one's request reader has let go
    relay("server", cameras=FakeCameras(), conferences=FakeConferences())
    eventually(lambda: client.instance not in (None, old), 3, "the new instance")
    assert conferences.state("case-17") is None
    assert media.watch(Camera(9, "c", "demo:x"), "m=video", "offer").viewer_id == "v-9-1"


def test_the_media_setting_says_what_is_allowed() -> None:
    from dispatch.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=r"COMMANDHALL_MEDIA must be one of .*got 'separate'"):
        Settings(media="separate")
    with pytest.raises(ConfigError, match="COMMANDHALL_MEDIA=remote needs COMMANDHALL_REDIS_URL"):
        Settings(media="remote")
    env = {"COMMANDHALL_MEDIA": "Remote", "COMMANDHALL_REDIS_URL": "redis://127.0.0.1:6379/0",
           "COMMANDHALL_SECRET_KEY": "x"}  # fmt: skip
    assert Settings.from_env(env).media == "remote"
    assert Settings.from_env({"COMMANDHALL_SECRET_KEY": "x"}).media == "embedded"
