"""One camera's video, read once and handed to every viewer of that camera.

An upstream runs while it has viewers: it opens the source, reads access units on a thread of
its own (PyAV blocks), paces files and demo scenes to real time, and pushes each access unit
to every attached viewer. It keeps the last IDR so a new viewer can show a picture at once.
When the source fails, ends or stalls, the camera is offline and the upstream tries again
after a capped exponential back-off. Timestamps are one 90 kHz timeline across reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from media.annexb import AccessUnit
from media.clock import Clock, backoff_delay
from media.config import Camera, GatewayConfig
from media.sources import CLOCK_RATE, Source, SourceError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Pacing: a file or demo scene more than this far behind its timestamps starts a new
# anchor instead of rushing to catch up (after a slow disk, a stall, a loop).
MAX_LAG = 1.0


class State(enum.StrEnum):
    IDLE = "idle"  # nobody watches; nothing is open
    CONNECTING = "connecting"
    ONLINE = "online"  # video is flowing
    OFFLINE = "offline"  # the source failed; a reconnect is scheduled


@dataclass(frozen=True)
class CameraStatus:
    camera_id: int
    state: State
    viewers: int = 0
    error: str | None = None  # why the camera is offline, naming the source
    since: datetime | None = None  # when it entered this state (UTC)
    retry_in: float | None = None  # seconds until the next attempt, when offline

    def to_wire(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "state": self.state.value,
            "viewers": self.viewers,
            "error": self.error,
            "since": self.since.isoformat() if self.since else None,
            "retry_in": self.retry_in,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CameraStatus:
        since, retry_in = data.get("since"), data.get("retry_in")
        return cls(
            int(data["camera_id"]),
            State(data["state"]),
            int(data.get("viewers", 0)),
            data.get("error"),
            datetime.fromisoformat(since) if since else None,
            None if retry_in is None else float(retry_in),
        )


class Sink(Protocol):
    """A viewer of an upstream (a `CameraTrack`)."""

    def push(self, unit: AccessUnit) -> None: ...

    def restart(self) -> None:
        """The stream starts over (a reconnect): wait for the next keyframe."""
        ...


class Upstream:
    def __init__(
        self,
        camera: Camera,
        open_source: Callable[[], Source],
        config: GatewayConfig,
        clock: Clock,
        on_status: Callable[[CameraStatus], None] | None = None,
    ) -> None:
        self.camera, self.config, self.clock = camera, config, clock
        self._open_source, self._on_status = open_source, on_status
        self.sinks: list[Sink] = []
        self.state: State = State.IDLE
        self.error: str | None = None
        self.since: datetime | None = None
        self.retry_at: float | None = None
        self.opens = 0  # how many times the source was opened (tests and status)
        self.units = 0  # access units read
        self.last_keyframe: AccessUnit | None = None
        self.last_timestamp = 0
        self._last_wall: float | None = None
        self._anchor: tuple[float, int] | None = None  # (monotonic, timestamp) for pacing
        self._source: Source | None = None
        self._last_forced = -1e9
        self._task: asyncio.Task[None] | None = None

    # -- viewers ---------------------------------------------------------------------

    def attach(self, sink: Sink) -> None:
        """Add a viewer; the first one starts reading."""
        if sink not in self.sinks:
            self.sinks.append(sink)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"camera-{self.camera.id}"
            )

    def detach(self, sink: Sink) -> None:
        if sink in self.sinks:
            self.sinks.remove(sink)

    def request_keyframe(self) -> bool:
        """Ask the source for an IDR now (demo cameras can; passthrough cannot), at most
        once per `keyframe_interval_min`. True when the source was asked."""
        source = self._source
        now = self.clock.monotonic()
        if source is None or now - self._last_forced < self.config.keyframe_interval_min:
            return False
        self._last_forced = now
        return source.request_keyframe()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Stop reading and close the source (its thread finishes a read in progress first)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.last_keyframe = None
        self._set(State.IDLE)

    # -- status ----------------------------------------------------------------------

    def status(self) -> CameraStatus:
        retry = None
        if self.state == State.OFFLINE and self.retry_at is not None:
            retry = round(max(0.0, self.retry_at - self.clock.monotonic()), 3)
        return CameraStatus(self.camera.id, self.state, len(self.sinks), self.error,
                            self.since, retry)  # fmt: skip

    def _set(self, state: State, error: str | None = None, retry_in: float | None = None) -> None:
        self.retry_at = None if retry_in is None else self.clock.monotonic() + retry_in
        if state == self.state and error == self.error:
            return
        self.state, self.error, self.since = state, error, self.clock.now()
        if state == State.OFFLINE:
            log.warning("camera %s offline: %s (retry in %.1f s)", self.camera.id, error,
                        retry_in or 0)  # fmt: skip
        if self._on_status is not None:
            try:
                self._on_status(self.status())
            except Exception:
                log.exception("camera %s: status listener failed", self.camera.id)

    # -- reading ---------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while True:
            if self.state != State.OFFLINE:  # a retry stays offline until video flows
                self._set(State.CONNECTING)
            executor = ThreadPoolExecutor(1, thread_name_prefix=f"camera-{self.camera.id}")
            source: Source | None = None
            units = self.units
            try:
                source = self._open_source()
                self.opens += 1
                # A second more than FFmpeg's own timeout, so its message usually wins.
                await self._call(executor, source.open, self.config.open_timeout + 1)
                self._source = source
                await self._pump(source, executor)
                error = f"{source.description} ended"
            except SourceError as exc:
                error = str(exc)
            except TimeoutError:
                what = source.description if source is not None else "the source"
                if self._source is None:
                    error = f"{what} did not open within {self.config.open_timeout:g} s"
                else:
                    error = f"no video from {what} for {self.config.stall_timeout:g} s"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or an FFmpeg surprise: keep the camera alive
                log.exception("camera %s: reading failed", self.camera.id)
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self._source = None
                if source is not None:
                    # After any read still running in that thread, never alongside it.
                    executor.submit(source.close)
                executor.shutdown(wait=False)
            attempt = 0 if self.units > units else attempt + 1  # video flowed: start over
            delay = backoff_delay(max(0, attempt - 1), initial=self.config.backoff_initial,
                                  cap=self.config.backoff_max)  # fmt: skip
            self.last_keyframe = None
            self._set(State.OFFLINE, error, delay)
            await self.clock.sleep(delay)

    async def _call(self, executor: ThreadPoolExecutor, fn: Callable[[], T], timeout: float) -> T:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # arrives as the read completes, and then close() would wait for ever.
        async with asyncio.timeout(timeout):
            return await asyncio.get_running_loop().run_in_executor(executor, fn)

    async def _pump(self, source: Source, executor: ThreadPoolExecutor) -> None:
        """Read until the source ends (returns) or fails (raises)."""
        shift: int | None = None
        while True:
            unit = await self._call(executor, source.read, self.config.stall_timeout)
            if unit is None:
                return
            if shift is None:
                shift = self._rebase(unit)
                for sink in list(self.sinks):
                    sink.restart()
            stamp = max(unit.timestamp + shift, self.last_timestamp + 1)
            if not source.paced:
                await self._pace(stamp)
            if self.state != State.ONLINE:
                self._set(State.ONLINE)
            unit = unit.at(stamp)
            self.units += 1
            if unit.keyframe:
                self.last_keyframe = unit
            self.last_timestamp, self._last_wall = stamp, self.clock.monotonic()
            for sink in list(self.sinks):
                sink.push(unit)

    def _rebase(self, first: AccessUnit) -> int:
        """How far to move a (re)opened source's timestamps so our timeline goes on from
        the last access unit, as much later as time has passed since."""
        self._anchor = None
        if self._last_wall is None:
            return -first.timestamp
        gap = max(1, round((self.clock.monotonic() - self._last_wall) * CLOCK_RATE))
        return self.last_timestamp + gap - first.timestamp

    async def _pace(self, stamp: int) -> None:
        now = self.clock.monotonic()
        if self._anchor is None:
            self._anchor = (now, stamp)
        due = self._anchor[0] + (stamp - self._anchor[1]) / CLOCK_RATE
        if now - due > MAX_LAG or due - now > MAX_LAG + self.config.stall_timeout:
            self._anchor, due = (now, stamp), now
        if due > now:
            await self.clock.sleep(due - now)
