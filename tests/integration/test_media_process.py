"""The camera gateway in a separate `commandhall media` process, reached through Redis.

A real `commandhall media` subprocess and a web app with COMMANDHALL_MEDIA=remote (served on
a real port) share a fresh PostgreSQL schema and a Redis key prefix. A python-socketio client
on the web process's /media namespace plays the wall, with an aiortc peer as its camera tile:
it must receive H.264 frames sent by the media process, hear status pushes, see the camera go
offline and watches refused as "unavailable" soon after the media process is killed -9, and
watch again once a new media process is up. A conference held in the media process's MCU
is reported ended, with a reason, when that process is killed; a new one takes calls again.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from dispatch.adapters.orm import CameraRow
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from media.conference import RoomError, RoomState
from media.remote import RESTARTED, RemoteConferences
from tests.cluster import SECRET, Proc, cluster_env, start_process
from tests.integration.test_camera_gateway import FPS, Client, media_socket, run, until
from tests.integration.test_conference import Peer
from tests.support import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CAMERA = 1
# The instance key's TTL (3 s) plus the web side's look every 0.5 s, with room for a busy box.
NOTICE_WITHIN = 6.0


@dataclass
class Deployment:
    app: App
    server: LiveServer
    env: dict[str, str]
    log_dir: Path
    redis: redis.Redis
    prefix: str

    def media(self) -> Proc:
        """Start `commandhall media` and wait until it serves the relay."""
        proc = start_process("media", self.env, self.log_dir)
        deadline = time.monotonic() + 60
        while self.redis.get(f"{self.prefix}media:instance") is None:
            assert proc.running(), proc.tail()
            assert time.monotonic() < deadline, f"the media process never served:\n{proc.tail()}"
            time.sleep(0.1)
        return proc


@pytest.fixture(scope="module")
def deployment(
    _postgres_engine: Engine, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    schema = f"t_{secrets.token_hex(6)}"
    with _postgres_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _postgres_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = url.render_as_string(hide_password=False)
    data_dir = tmp_path_factory.mktemp("media-process")
    prefix = f"chtest:{secrets.token_hex(6)}:"
    settings = Settings(
        data_dir=data_dir, database_url=database_url, redis_url=redis_url, redis_prefix=prefix,
        secret_key=SECRET, simulator=False, anonymous_screens=True, media="remote",
    )  # fmt: skip
    app = create_app(settings, with_dashboard=False)
    app.reload_directory(seed_demo(app.core, data_dir, history=False))
    server = LiveServer(app).start()
    env = cluster_env(database_url=database_url, redis_url=redis_url, prefix=prefix,
                      data_dir=data_dir, COMMANDHALL_MEDIA="remote")  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    try:
        yield Deployment(app, server, env, data_dir, client, prefix)
    finally:
        server.stop()
        app.core.db.dispose()
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        with _postgres_engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


def registry_status(app: App, camera_id: int) -> str:
    with app.core.db.read() as session:
        row = session.get(CameraRow, camera_id)
        return row.status if row is not None else "missing"


def states(pushed: list[dict[str, Any]], camera_id: int) -> list[str]:
    return [c["state"] for p in pushed for c in p["cameras"] if c["camera_id"] == camera_id]


def test_a_wall_watches_through_the_media_process_and_survives_its_kill_and_restart(
    deployment: Deployment,
) -> None:
    app = deployment.app
    assert type(app.socketio.server.namespace_handlers["/media"].media).__name__ == "RemoteMedia"
    media = deployment.media()
    restarted: Proc | None = None
    pushed: list[dict[str, Any]] = []
    sio = media_socket(deployment.server.url)
    sio.on("status", pushed.append, namespace="/media")

    def call(event: str, data: dict[str, Any], timeout: float = 40) -> Any:
        return sio.call(event, data, namespace="/media", timeout=timeout)

    async def watch_and_receive() -> tuple[Client, dict[str, Any]]:
        client = Client()
        request = {"camera_id": CAMERA, "sdp": await client.offer(), "type": "offer"}
        answer = await asyncio.to_thread(call, "watch", request)
        assert "error" not in answer, answer
        assert "H264/90000" in answer["sdp"] and "VP8" not in answer["sdp"]
        await client.accept(answer["sdp"], answer["type"])
        await client.frames_at_least(FPS, timeout=20)
        assert client.frames[-1].width == 640
        return client, answer

    try:
        # 1. Watching works through the relay; status is read and pushed from the media process.
        async def first() -> None:
            client, _ = await watch_and_receive()
            status = await asyncio.to_thread(call, "status", {"camera_ids": [CAMERA, 2]})
            assert [c["state"] for c in status["cameras"]] == ["online", "idle"], status
            assert status["cameras"][0]["viewers"] == 1
            await until(lambda: "online" in states(pushed, CAMERA), 5, "an online push")
            # The media process writes the registry, in the shared database.
            await until(lambda: registry_status(app, CAMERA) == "online", 5, "the registry")
            # Bytes cross the relay too: a JPEG snapshot taken in the media process.
            jpeg = await asyncio.to_thread(app.media.snapshot, CAMERA)
            assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9" and len(jpeg) > 5000
            await client.close()

        run(first, timeout=60)
        bad = call("watch", {"camera_id": CAMERA, "sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96"
                             "\r\na=rtpmap:96 VP8/90000\r\n"})  # fmt: skip
        assert bad["error"]["code"] == "unsupported", bad  # the gateway's own error, relayed

        # 2. kill -9: the wall hears its camera went offline, and watches are refused at once.
        async def killed() -> float:
            client, _ = await watch_and_receive()
            before = len(pushed)
            media.kill()
            killed_at = time.monotonic()
            await until(lambda: "offline" in states(pushed[before:], CAMERA), NOTICE_WITHIN,
                        "the wall to hear that its camera went offline")  # fmt: skip
            noticed = time.monotonic() - killed_at
            await client.close()
            return noticed

        noticed = run(killed, timeout=60)
        offline = [c for p in pushed for c in p["cameras"] if c["state"] == "offline"][-1]
        assert "媒体服务" in offline["error"] and "media service" in offline["error"]
        started = time.monotonic()
        refused = call("watch", {"camera_id": CAMERA, "sdp": "v=0\r\nm=video 9 x 96\r\n"
                                 "a=rtpmap:96 H264/90000\r\n"})  # fmt: skip
        refused_in = time.monotonic() - started
        assert refused["error"]["code"] == "unavailable", refused
        assert "media process is not running" in refused["error"]["message"]
        assert refused_in < 1.0, f"an unavailable media process took {refused_in:.2f} s to say so"
        assert call("status", {"camera_ids": [CAMERA]})["error"]["code"] == "unavailable"

        # 3. A new media process: the tile watches again.
        restarted = deployment.media()

        async def again() -> None:
            client, answer = await watch_and_receive()
            assert call("unwatch", {"viewer_id": answer["viewer_id"]}) == {"ok": True}
            await client.close()

        run(again, timeout=60)
        print(f"\nkill -9 noticed by the wall after {noticed:.2f} s; "
              f"'unavailable' answered in {refused_in * 1000:.0f} ms")  # fmt: skip

        # 4. SIGTERM stops it cleanly and gives up its instance at once.
        restarted.signal(signal.SIGTERM)
        assert restarted.popen is not None and restarted.popen.wait(timeout=20) == 0, (
            restarted.tail()
        )
        assert deployment.redis.get(f"{deployment.prefix}media:instance") is None
    finally:
        sio.disconnect()
        media.stop()
        if restarted is not None:
            restarted.stop()


def test_a_conference_in_the_media_process_ends_with_a_reason_when_it_dies(
    deployment: Deployment,
) -> None:
    conferences = RemoteConferences(deployment.app.media.client)  # the web process's relay
    heard: list[RoomState] = []
    conferences.listen(heard.append)
    media = deployment.media()
    restarted: Proc | None = None
    try:

        async def meeting() -> float:
            await asyncio.to_thread(conferences.open, "case-1-talk", record=False)
            red, green = Peer("red"), Peer("green")
            await red.join(conferences, "case-1-talk")  # type: ignore[arg-type]
            await green.join(conferences, "case-1-talk")  # type: ignore[arg-type]
            await until(lambda: bool(red.frames) and bool(green.frames), 20,
                        "both to see the composite")  # fmt: skip
            await until(lambda: any(len(s.participants) == 2 for s in heard), 5,
                        "a room-state event with both")  # fmt: skip
            media.kill()
            killed_at = time.monotonic()
            await until(lambda: heard[-1].ended, NOTICE_WITHIN, "the room to be reported ended")
            noticed = time.monotonic() - killed_at
            for peer in (red, green):
                await peer.close()
            return noticed

        noticed = run(meeting, timeout=60)
        assert heard[-1] == RoomState("case-1-talk", ended=True, reason=RESTARTED)
        with pytest.raises(RoomError) as unavailable:
            conferences.state("case-1-talk")
        assert unavailable.value.code == "unavailable"
        restarted = deployment.media()
        # The old room is gone, not hanging: the new MCU does not know it.
        assert conferences.state("case-1-talk") is None
        with pytest.raises(RoomError) as gone:
            conferences.leave("case-1-talk", "user:red")
        assert gone.value.code == "not_found", gone.value.message

        async def call_again() -> None:
            await asyncio.to_thread(conferences.open, "case-1-talk", record=False)
            blue = Peer("blue")
            await blue.join(conferences, "case-1-talk")  # type: ignore[arg-type]
            await until(lambda: bool(blue.frames), 20, "the new room's composite")
            await blue.close()

        run(call_again, timeout=60)
        print(f"\nkill -9 of the media process: the room was reported ended after {noticed:.2f} s")
    finally:
        media.stop()
        if restarted is not None:
            restarted.stop()
