"""Production topology: several `commandhall web` processes, one PostgreSQL, one Redis.

Every process here is a real `commandhall web` subprocess (gunicorn, one gthread worker) on a
free port. They share a fresh PostgreSQL schema and a Redis key prefix; screens are plain
python-socketio clients that follow docs/realtime.md (tests/screens.py). What must hold:
a screen on one process gets exactly the events committed through another, in order, once;
scoping holds across processes; killing Redis loses no case and screens converge once it is
back; a screen that was away gets what it missed, or `resync` past the replay window.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import Engine, func, select

from dispatch.adapters.clock import FixedClock
from dispatch.adapters.orm import CaseRow, EventRow
from dispatch.bootstrap import build_core
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from dispatch.service import actions
from dispatch.service.apikeys import create_api_key
from dispatch.service.core import Core, NoPublisher
from dispatch.service.intake import NewReport, submit_report
from realtime.socket import REPLAY_LIMIT
from tests.cluster import (
    SECRET,
    RedisServer,
    Web,
    cluster_env,
    grid_points,
    start_process,
    start_web,
    wait_healthy,
)
from tests.screens import LiveScreen, screen_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Deployment:
    """The shared database, seeded once, and what the tests need to know about it."""

    url: str
    core: Core  # the test's own handle: queries, and commits made "by another process"
    points: list[tuple[float, float, int]]  # (lat, long, township id) inside a grid
    data_dir: Path
    log_dir: Path

    def head(self) -> int:
        with self.core.db.read() as session:
            return int(session.scalar(select(func.coalesce(func.max(EventRow.seq), 0))) or 0)

    def log_seqs(self, after: int, township_id: int | None = None) -> list[int]:
        query = select(EventRow.seq).where(EventRow.seq > after).order_by(EventRow.seq)
        if township_id is not None:
            query = query.where(EventRow.township_id == township_id)
        with self.core.db.read() as session:
            return list(session.scalars(query))

    def states(self, ids: set[int]) -> dict[int, str]:
        with self.core.db.read() as session:
            rows = session.execute(select(CaseRow.id, CaseRow.state).where(CaseRow.id.in_(ids)))
            return {case_id: str(state) for case_id, state in rows}

    def point_in(self, township_id: int | None = None, *, not_in: int | None = None) -> tuple:
        for lat, long, township in self.points:
            if (township_id is None or township == township_id) and township != not_in:
                return lat, long, township
        raise AssertionError(f"no grid point in township {township_id} (not in {not_in})")


@pytest.fixture(scope="module")
def deployment(
    _postgres_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    schema = f"t_{secrets.token_hex(6)}"
    with _postgres_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _postgres_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    data_dir = tmp_path_factory.mktemp("multiprocess")
    core, _ = build_core(Settings(data_dir=data_dir, database_url=url_text, secret_key=SECRET))
    core.publisher = NoPublisher()  # web processes find the test's own commits by polling
    names = seed_demo(core, data_dir, history=False)
    _AUTH["Authorization"] = f"Bearer {create_api_key(core, 'multiprocess-test')}"
    points = grid_points(core, names)
    log_dir = data_dir / "logs"
    log_dir.mkdir()
    try:
        yield Deployment(url_text, core, points, data_dir, log_dir)
    finally:
        core.db.dispose()
        with _postgres_engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
            )
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


def deployment_env(deployment: Deployment, redis_url: str, prefix: str) -> dict[str, str]:
    return cluster_env(
        database_url=deployment.url, redis_url=redis_url, prefix=prefix,
        data_dir=deployment.data_dir,
    )  # fmt: skip


def start_pair(deployment: Deployment, redis_url: str, prefix: str) -> list[Web]:
    env = deployment_env(deployment, redis_url, prefix)
    webs = [start_web(env, deployment.log_dir) for _ in range(2)]
    try:
        for web in webs:
            wait_healthy(web, 90)
    except BaseException:
        for web in webs:
            web.proc.stop()
        raise
    return webs


@pytest.fixture(scope="module")
def pair_prefix() -> str:
    return f"chtest:{secrets.token_hex(6)}:"


@pytest.fixture(scope="module")
def pair(deployment: Deployment, redis_url: str, pair_prefix: str) -> Iterator[list[Web]]:
    """Web processes A and B on the shared Redis, under a key prefix of their own."""
    prefix = pair_prefix
    webs = start_pair(deployment, redis_url, prefix)
    try:
        yield webs
    finally:
        for web in webs:
            web.proc.stop()
        with redis.Redis.from_url(redis_url) as client:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


# The deployment's api key, for the test's own POST /api/cases (set by the fixture).
_AUTH: dict[str, str] = {}


def submit(web: Web, point: tuple, text: str, session: requests.Session | None = None) -> int:
    """POST /api/cases on `web`; the new case's id (fails the test on anything but 201)."""
    lat, long, _ = point
    body = {"service_code": "garbage", "lat": lat, "long": long, "description": text}
    response = (session or requests).post(
        f"{web.url}/api/cases", json=body, timeout=30,
        headers={"Idempotency-Key": str(uuid.uuid4()), **_AUTH},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def synced_screen(web: Web, township_id: int | None = None) -> LiveScreen:
    screen = LiveScreen(screen_token(SECRET, township_id)).connect(web.url)
    assert screen.synced.wait(20), f"no resync/snapshot from {web.url}: {screen.errors}"
    return screen


def test_a_screen_on_one_process_gets_exactly_the_events_committed_through_another(
    deployment: Deployment, pair: list[Web]
) -> None:
    a, b = pair
    screen = synced_screen(a)
    try:
        start = screen.seq
        assert start == deployment.head()
        with requests.Session() as session:
            ids = [
                submit(b, deployment.points[i % len(deployment.points)], f"经B提交 #{i}", session)
                for i in range(25)
            ]
        screen.wait_for(lambda s: set(ids) <= set(s.cases), 10, "all 25 cases from B")
        time.sleep(1.5)  # a late duplicate batch would show up by now
        expected = deployment.log_seqs(start)
        assert [e["seq"] for e in screen.applied] == expected
        assert screen.live_seqs == expected  # the live batches alone: in order, none twice
        assert [e["case_id"] for e in screen.applied] == ids
        assert {e["type"] for e in screen.applied} == {"case.reported"}
        assert not screen.resyncs[1:] and not screen.errors
    finally:
        screen.disconnect()


def test_a_township_screen_never_sees_another_townships_event_from_another_process(
    deployment: Deployment, pair: list[Web]
) -> None:
    a, b = pair
    mine = deployment.points[0][2]
    screen = synced_screen(a, township_id=mine)
    try:
        start = screen.seq
        assert start is not None
        elsewhere = [submit(b, deployment.point_in(not_in=mine), f"别处 #{i}") for i in range(3)]
        own = submit(b, deployment.point_in(mine), "本乡镇")
        screen.wait_for(lambda s: own in s.cases, 10, "the township's own case")
        time.sleep(1.5)
        assert {e["township_id"] for e in screen.applied} == {mine}
        assert [e["seq"] for e in screen.applied] == deployment.log_seqs(start, township_id=mine)
        assert not set(elsewhere) & set(screen.cases)
        assert all(case["township_id"] == mine for case in screen.cases.values())
    finally:
        screen.disconnect()


def urge(deployment: Deployment, case_id: int, times: int) -> None:
    """`times` case.urged events on one case, committed by this (another) process."""
    core = deployment.core
    now = datetime.now(UTC)
    with core.uow() as uow:
        case = uow.cases.get(case_id)
        for n in range(times):
            case.urge(message=f"请加快处置 {n}", now=now, actor="test")
        uow.commit(now)


def test_a_screen_that_was_away_gets_exactly_what_it_missed_or_resync_past_the_window(
    deployment: Deployment, pair: list[Web]
) -> None:
    a, b = pair
    case_id = submit(a, deployment.points[0], "长时间未处置")
    for action, params in (("verify", {}), ("register", {"urgency": "urgent"}),
                           ("dispatch", {})):  # fmt: skip
        actions.perform(deployment.core, case_id, action, params)
    screen = synced_screen(a)
    screen.wait_for(lambda s: s.seq == deployment.head(), 10, "caught up")
    screen.disconnect()
    away = screen.seq
    assert away is not None
    for _ in range(5):
        urge(deployment, case_id, 100)  # 500 events in five transactions
    missed = deployment.log_seqs(away)
    assert len(missed) == 500
    screen.applied.clear()
    screen.connect(b.url)  # comes back through the other process
    try:
        screen.wait_for(lambda s: s.seq == missed[-1], 15, "the 500 missed events")
        time.sleep(1.5)
        assert [e["seq"] for e in screen.applied] == missed
        assert len(screen.resyncs) == 1  # only the first connect's
    finally:
        screen.disconnect()
    urge(deployment, case_id, REPLAY_LIMIT + 1)  # one transaction: fast
    screen.connect(a.url)
    try:
        screen.wait_for(lambda s: len(s.resyncs) == 2, 20, "resync past the replay window")
        assert str(REPLAY_LIMIT) in screen.resyncs[-1]["reason"]
        screen.wait_for(lambda s: s.seq == deployment.head(), 20, "the snapshot after resync")
    finally:
        screen.disconnect()


def test_the_worker_turns_lights_on_screens_of_web_processes_and_peers_report_alive(
    deployment: Deployment, pair: list[Web], redis_url: str, pair_prefix: str
) -> None:
    a, _ = pair
    env = deployment_env(deployment, redis_url, pair_prefix)
    worker = start_process("worker", env, deployment.log_dir)
    media = start_process("media", env, deployment.log_dir)
    screen: LiveScreen | None = None
    try:
        deadline = time.monotonic() + 60
        while True:
            body = a.health()[1]
            seen = {name: body[name].get("pid") for name in ("worker", "media")}
            if seen == {"worker": worker.pid, "media": media.pid}:
                break
            assert worker.running() and media.running(), worker.tail() + media.tail()
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        assert body["ok"] and body["worker"]["alive"] and body["media"]["alive"]
        screen = synced_screen(a)
        # A case registered two days ago at the "immediate" level (24 h): overdue now.
        past = Core(
            db=deployment.core.db, clock=FixedClock(datetime.now(UTC) - timedelta(days=2)),
            grids=deployment.core.grids,
        )  # fmt: skip
        lat, long, _ = deployment.points[1]
        case_id = submit_report(
            past, NewReport(service_code="garbage", lat=lat, long=long, description="逾期")
        ).case_id
        actions.perform(past, case_id, "verify")
        actions.perform(past, case_id, "register", {"urgency": "immediate"})
        screen.wait_for(
            lambda s: any(e["type"] == "sla.red" and e["case_id"] == case_id for e in s.applied),
            15, "the worker's sla.red on a screen of web process A",
        )  # fmt: skip
        assert screen.cases[case_id]["light"] == "red"
    finally:
        if screen is not None:
            screen.disconnect()
        for proc in (worker, media):
            proc.signal(signal.SIGTERM)
        for proc in (worker, media):
            assert proc.popen is not None
            assert proc.popen.wait(timeout=15) == 0, proc.tail()
            proc.stop()


def test_redis_killed_and_restarted_loses_no_case_and_screens_converge(
    deployment: Deployment, tmp_path: Path
) -> None:
    try:
        server = RedisServer(tmp_path / "redis").start()
    except FileNotFoundError as exc:
        from tests.conftest import require_service

        require_service("redis-server", str(exc))
    webs: list[Web] = []
    screens: list[LiveScreen] = []
    restarted: RedisServer | None = None
    try:
        webs = start_pair(deployment, server.url, "chaos:")
        screens = [synced_screen(web) for web in webs]
        with deployment.core.db.read() as session:
            first_id = int(session.scalar(select(func.coalesce(func.max(CaseRow.id), 0)))) + 1
        accepted: list[int] = []
        refused: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            sessions = [requests.Session() for _ in webs]
            n = 0
            while not stop.is_set():
                web, session = webs[n % 2], sessions[n % 2]
                try:
                    accepted.append(submit(web, deployment.points[n % 40], f"混沌 #{n}", session))
                except (AssertionError, requests.RequestException) as exc:
                    refused.append(str(exc))
                n += 1
                time.sleep(0.1)

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        time.sleep(2)
        server.kill()  # SIGKILL: no goodbye to the subscribers
        killed_at = time.monotonic()
        unhealthy = set()
        while time.monotonic() - killed_at < 4:
            for web in webs:
                if web.health()[0] == 503:
                    unhealthy.add(web.port)
            time.sleep(0.25)
        during_outage = len(accepted)
        # With the doorbell dead the screens still follow, by polling the log.
        for screen in screens:
            screen.wait_for(
                lambda s, ids=accepted[:during_outage]: set(ids) <= set(s.cases),
                3, "updates while Redis is down",
            )  # fmt: skip
        restarted = RedisServer(tmp_path / "redis", port=server.port).start()
        back_at = time.monotonic()
        time.sleep(3)  # the stream goes on over the restart
        stop.set()
        streamer.join(timeout=40)
        assert not refused, refused[:3]
        assert unhealthy == {web.port for web in webs}  # both said the bus was down
        assert during_outage > 20  # submissions went on while Redis was dead

        # No case lost: the database holds exactly the accepted submissions.
        with deployment.core.db.read() as session:
            stored = session.scalar(select(func.count()).where(CaseRow.id >= first_id))
        assert stored == len(accepted) == len(set(accepted))

        # Every screen converges to the database within 10 s of Redis coming back.
        truth = deployment.states(set(accepted))
        for screen in screens:
            left = 10 - (time.monotonic() - back_at)
            screen.wait_for(
                lambda s: s.seq == deployment.head()
                and {i: s.cases[i]["state"] for i in accepted if i in s.cases} == truth,
                max(left, 0.1), "convergence after Redis came back",
            )  # fmt: skip
        for web in webs:  # and the bus itself is healthy again (a canary round-tripped)
            left = 15 - (time.monotonic() - back_at)
            wait_healthy(web, max(left, 0.1))
    finally:
        for screen in screens:
            screen.disconnect()
        for web in webs:
            web.proc.stop()
        server.stop()
        if restarted is not None:
            restarted.stop()
