"""The Redis doorbell against a private redis-server that the tests stop, hang and cut.

Redis must never hold up a commit, and a subscription that dies without an error must be
found by the canary (here every 0.5 s with a 2 s timeout instead of 10 s / 30 s) and made again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from realtime.bus import RedisBus
from tests.cluster import RedisServer
from tests.tcpproxy import FreezableProxy

INTERVAL, TIMEOUT = 0.5, 2.0


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds it took for `predicate` to hold; fails naming `what` after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path / "redis").start()
    except FileNotFoundError as exc:
        from tests.conftest import require_service

        require_service("redis-server", str(exc))
    try:
        yield server
    finally:
        server.signal(signal.SIGCONT)  # a test may have left it stopped
        server.stop()


def make_bus(url: str, received: list[int] | None = None) -> RedisBus:
    bus = RedisBus(url, prefix="bus-test:", canary_interval=INTERVAL, canary_timeout=TIMEOUT)
    if received is not None:
        bus.listen(received.append)
    bus.start()
    return bus


def test_a_ring_reaches_another_process_and_canaries_of_others_are_ignored(
    private_redis: RedisServer,
) -> None:
    received: list[int] = []
    a, b = make_bus(private_redis.url), make_bus(private_redis.url, received)
    try:
        wait_until(lambda: a.health()["ok"] and b.health()["ok"], 5, "both buses healthy")
        a.ring(41)
        a.ring(42)  # coalesced with 41 or sent after it: the newest head arrives
        wait_until(lambda: 42 in received, 3, "ring delivered")
        assert all(isinstance(seq, int) for seq in received)  # no canary leaked as a ring
        time.sleep(3 * INTERVAL)
        assert a.health()["ok"] and b.health()["ok"]  # each sees its own canary among others'
    finally:
        a.stop()
        b.stop()


def test_a_silently_dead_subscription_is_found_by_the_canary_and_made_again(
    private_redis: RedisServer,
) -> None:
    proxy = FreezableProxy("127.0.0.1", private_redis.port)
    received: list[int] = []
    bus = make_bus(f"redis://127.0.0.1:{proxy.port}/0", received)
    direct = redis.Redis.from_url(private_redis.url)
    try:
        wait_until(lambda: bus.health()["ok"], 5, "healthy at start")
        assert proxy.freeze() >= 1  # the subscription (and the publish connection) go silent
        detected = wait_until(lambda: not bus.health()["ok"], TIMEOUT + 2, "silence detected")
        assert detected <= TIMEOUT + 1.5
        assert "canary" in str(bus.health().get("error")) or not bus.health()["subscribed"]
        started = time.monotonic()
        wait_until(lambda: bus.health()["ok"], 15, "healthy again over a new connection")
        assert bus.health()["resubscribes"] >= 1
        # A ring from another process reaches the new subscription.
        wait_until(
            lambda: direct.publish(bus.channel, "4711") and 4711 in received,
            5, "ring through the new subscription",
        )  # fmt: skip
        assert time.monotonic() - started < 15
    finally:
        bus.stop()
        proxy.close()
        direct.close()


def test_a_killed_pubsub_connection_is_made_again(private_redis: RedisServer) -> None:
    received: list[int] = []
    bus = make_bus(private_redis.url, received)
    direct = redis.Redis.from_url(private_redis.url)
    try:
        wait_until(lambda: bus.health()["ok"], 5, "healthy at start")
        assert direct.client_kill_filter(_type="pubsub") >= 1
        wait_until(
            lambda: direct.publish(bus.channel, "7") and 7 in received,
            10, "ring after CLIENT KILL TYPE pubsub",
        )  # fmt: skip
        wait_until(lambda: bus.health()["ok"], 10, "healthy after the kill")
    finally:
        bus.stop()
        direct.close()


def test_ringing_never_waits_for_a_hung_redis_and_health_follows_it(
    private_redis: RedisServer,
) -> None:
    received: list[int] = []
    a, b = make_bus(private_redis.url), make_bus(private_redis.url, received)
    try:
        wait_until(lambda: a.health()["ok"] and b.health()["ok"], 5, "healthy at start")
        os.kill(private_redis.pid, signal.SIGSTOP)  # accepts connections, answers nothing
        started = time.perf_counter()
        for seq in range(1, 1001):
            a.ring(seq)
        assert time.perf_counter() - started < 0.1  # a commit never waits for Redis
        wait_until(lambda: not a.health()["ok"], TIMEOUT + 2, "hung Redis detected")
        os.kill(private_redis.pid, signal.SIGCONT)
        wait_until(lambda: a.health()["ok"] and b.health()["ok"], 20, "healthy after SIGCONT")
        a.ring(5000)
        wait_until(lambda: 5000 in received, 5, "ring after the hang")
    finally:
        os.kill(private_redis.pid, signal.SIGCONT)
        a.stop()
        b.stop()


def test_liveness_keys_expire(private_redis: RedisServer) -> None:
    bus = RedisBus(private_redis.url, prefix="live-test:")
    try:
        assert bus.alive("media") == {"ok": True, "kind": "process", "alive": False}
        bus.beat("media", ttl=0.5)
        seen = bus.alive("media")
        assert seen["alive"] is True and seen["pid"] == os.getpid()
        assert redis.Redis.from_url(private_redis.url).exists("live-test:proc:media")
        time.sleep(0.7)
        assert bus.alive("media")["alive"] is False
    finally:
        bus.stop()


def test_liveness_of_an_unreachable_redis_is_unknown_not_an_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0")
    try:
        seen = bus.alive("worker")
        assert seen["alive"] is None and "error" in seen
        assert bus.health()["ok"] is False  # never subscribed
    finally:
        bus.stop()


def test_this_processs_listeners_hear_a_ring_at_once_even_without_redis() -> None:
    from tests.conftest import free_port

    received: list[int] = []
    bus = make_bus(f"redis://127.0.0.1:{free_port()}/0", received)
    try:
        started = time.perf_counter()
        bus.ring(12)
        assert received == [12] and time.perf_counter() - started < 0.05
    finally:
        bus.stop()
