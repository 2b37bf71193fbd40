"""A bare /live screen for load tests: Engine.IO 4 / Socket.IO 5 over one websocket, one thread.

python-socketio's client runs three threads per connection and one more per message, so a
few hundred of them on a 2-core machine measure the client more than the server. This one
reads frames on a single thread, parses only `events` batches (position frames are skipped
unread), answers pings, and follows the client rule of docs/realtime.md: it connects with the
head of the log as `last_seq`, applies batches, and asks for `catchup` on a gap.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import websocket

NS = "/live"
_EVENTS = f'42{NS},["events",'
_ACK = f"43{NS},"


class RawScreen(threading.Thread):
    def __init__(self, base_url: str, token: str, last_seq: int) -> None:
        super().__init__(name="raw-screen", daemon=True)
        parts = urlsplit(base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.url = f"{scheme}://{parts.netloc}/socket.io/?EIO=4&transport=websocket"
        self.token, self.seq = token, last_seq
        self.reported: dict[int, float] = {}  # case id → monotonic time case.reported arrived
        self.connected = threading.Event()
        self.failed = ""
        self.gaps = self.frames = 0
        self._ws: websocket.WebSocket | None = None
        self._acks = itertools.count(1)
        self._stopping = False

    def open(self) -> None:
        """Connect and join /live (blocking); the reading thread starts once joined."""
        # websocket-client checks UTF-8 byte by byte in Python unless told not to: with
        # position frames arriving every second that alone would saturate this process.
        ws = websocket.create_connection(
            self.url, timeout=30, suppress_origin=True, skip_utf8_validation=True
        )
        opening = ws.recv()
        if not str(opening).startswith("0"):
            raise RuntimeError(f"not an Engine.IO open packet: {opening!r}")
        auth = json.dumps({"last_seq": self.seq, "token": self.token})
        ws.send(f"40{NS},{auth}")
        while True:
            frame = str(ws.recv())
            if frame == "2":
                ws.send("3")
            elif frame.startswith(f"40{NS},"):
                break
            elif frame.startswith(f"44{NS},"):
                raise RuntimeError(f"refused: {frame}")
        ws.settimeout(None)
        self._ws = ws
        self.connected.set()
        self.start()

    def close(self) -> None:
        self._stopping = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close(timeout=0.2)

    def run(self) -> None:
        assert self._ws is not None
        try:
            while True:
                frame = self._ws.recv()
                arrived = time.monotonic()
                if not isinstance(frame, str):
                    continue
                self.frames += 1
                if frame == "2":
                    self._ws.send("3")
                elif frame.startswith(_EVENTS):
                    self._apply(json.loads(frame[len(NS) + 3 :])[1], arrived)
                elif frame.startswith(_ACK):
                    body = frame[len(_ACK) :]
                    answer = json.loads(body[body.index("[") :])[0]
                    self._apply(answer, arrived)
                    if answer.get("to", 0) < answer.get("head", 0):
                        self._catchup()
        except Exception as exc:
            if not self._stopping:
                self.failed = f"{type(exc).__name__}: {exc}"

    def _apply(self, batch: dict[str, Any], arrived: float) -> None:
        if batch.get("resync"):
            self.failed = f"resync: {batch.get('reason')}"
            return
        if batch["from"] > self.seq:
            self.gaps += 1
            self._catchup()
            return
        for event in batch["events"]:
            if event["seq"] > self.seq and event["type"] == "case.reported":
                self.reported.setdefault(event["case_id"], arrived)
        self.seq = max(self.seq, batch["to"])

    def _catchup(self) -> None:
        assert self._ws is not None
        request = json.dumps(["catchup", {"after": self.seq}])
        self._ws.send(f"42{NS},{next(self._acks)}{request}")
