"""A /live screen for tests and benchmarks that talk to real processes.

It follows docs/realtime.md and nothing else: connect with `last_seq` and a screen token,
apply batches whose `from` is not past its state, `catchup` on a gap or a heartbeat ahead of
it, `snapshot` on `resync`. python-socketio runs each handler on a thread of its own, so one
lock keeps the reducer sequential. It also keeps what a test wants to assert on: the events
it applied, the events that came in live batches, when each case first arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import socketio

from realtime.auth import Scope, ScreenTokens
from tests.support import SocketClient

NS = "/live"


def screen_token(secret: str, township_id: int | None = None) -> str:
    scope = Scope("county") if township_id is None else Scope("township", township_id)
    return ScreenTokens(secret).issue(scope)


class LiveScreen:
    def __init__(self, token: str, *, last_seq: int | None = None) -> None:
        self.token = token
        self.seq: int | None = last_seq
        self.cases: dict[int, dict[str, Any]] = {}
        self.applied: list[dict[str, Any]] = []  # every event applied, in order
        self.live_seqs: list[int] = []  # seqs of the events that came in live batches
        self.first_seen: dict[int, float] = {}  # case id → monotonic time it first arrived
        self.resyncs: list[dict[str, Any]] = []
        self.catchups = 0  # catch-up requests made (one per screen after its snapshot)
        self.errors: list[Any] = []
        self.synced = threading.Event()  # the first resync or replay has been applied
        self._connected = threading.Event()
        self._lock = threading.RLock()
        self.sio: socketio.Client | None = None

    # -- connection ----------------------------------------------------------------------

    def connect(self, url: str, *, transport: str = "websocket", **kwargs: Any) -> LiveScreen:
        self.synced.clear()
        self._connected.clear()
        sio = SocketClient(reconnection=False, **kwargs)
        for name in ("events", "resync", "heartbeat", "error"):
            sio.on(name, getattr(self, f"_on_{name}"), namespace=NS)
        self.sio = sio
        sio.connect(
            url, namespaces=[NS], transports=[transport], wait_timeout=20,
            auth={"last_seq": self.seq, "token": self.token},
        )  # fmt: skip
        self._connected.set()
        return self

    def disconnect(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()

    # -- handlers ------------------------------------------------------------------------

    def _on_events(self, batch: dict[str, Any]) -> None:
        arrived = time.monotonic()
        with self._lock:
            if self.seq is not None:
                self.live_seqs.extend(e["seq"] for e in batch["events"] if e["seq"] > self.seq)
            self._apply(batch, arrived)
            if self.seq is not None:
                self.synced.set()

    def _on_resync(self, data: dict[str, Any]) -> None:
        self._connected.wait(20)  # the handler may run before connect() has returned
        with self._lock:
            self.resyncs.append(data)
            snap = self._call("snapshot")
            self.cases = {c["id"]: c for c in snap["cases"]}
            self.seq = snap["seq"]
            self._catchup()
        self.synced.set()

    def _on_heartbeat(self, data: dict[str, Any]) -> None:
        with self._lock:
            if self.seq is not None and data["seq"] > self.seq:
                self._catchup()

    def _on_error(self, data: Any) -> None:
        self.errors.append(data)

    # -- the client rule -----------------------------------------------------------------

    def _apply(self, batch: dict[str, Any], arrived: float) -> None:
        if self.seq is None:
            return  # no state yet: the snapshot and the catch-up after it cover this batch
        if batch["from"] > self.seq:
            self._catchup()
            return
        for event in batch["events"]:
            if event["seq"] > self.seq:
                self.applied.append(event)
                if event.get("case"):
                    self.cases[event["case_id"]] = event["case"]
                if event.get("case_id") is not None:
                    self.first_seen.setdefault(event["case_id"], arrived)
        self.seq = max(self.seq, batch["to"])

    def _catchup(self) -> None:
        while True:
            answer = self._call("catchup", {"after": self.seq})
            self.catchups += 1
            if answer.get("resync"):
                raise RuntimeError(f"catch-up answered resync: {answer.get('reason')}")
            self._apply(answer, time.monotonic())
            if answer["to"] >= answer["head"]:
                return

    def _call(self, event: str, data: Any = None) -> Any:
        assert self.sio is not None
        return self.sio.call(event, data, namespace=NS, timeout=30)

    # -- for assertions ------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[LiveScreen], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate(self):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"screen: {what} not within {timeout}s (seq {self.seq}, "
                    f"{len(self.applied)} applied, errors {self.errors})"
                )
            time.sleep(0.05)

    def state(self) -> dict[int, str]:
        with self._lock:
            return {case_id: case["state"] for case_id, case in self.cases.items()}
