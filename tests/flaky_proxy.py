"""An HTTP proxy that fails chosen requests the way a bad mobile network does.

Put a browser behind it (open the page at `proxy.url`) and say which requests fail:

- `lost_response`: the request reaches the server, which does the work and answers; the
  answer never reaches the browser (the connection is reset). Only an Idempotency-Key makes
  the browser's retry harmless.
- `dropped_request`: the connection is reset before the request is forwarded; the server
  never hears of it.

Every connection carries one request (the proxy tells both sides `Connection: close`), so
the browser never mistakes a reset for a stale keep-alive connection and silently resends
on its own: every failure is seen by the page. WebSocket upgrades are tunnelled untouched.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from dataclasses import dataclass, field

MODES = ("lost_response", "dropped_request")


@dataclass
class Rule:
    """Fail the first `times` requests with this method and path (query ignored)."""

    method: str
    path: str
    times: int
    mode: str
    failed: int = 0
    # The Idempotency-Key header of every matching request, failed or passed, in order.
    keys: list[str | None] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.split("?", 1)[0] == self.path


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """(the head up to and including the blank line, whatever came after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
        if len(data) > 1 << 20:
            raise ValueError("request head over 1 MB")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _headers(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    pairs = []
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            pairs.append((name.strip(), value.strip()))
    return lines[0], pairs


def _closing(first_line: str, pairs: list[tuple[str, str]]) -> bytes:
    """The head again with `Connection: close` instead of any keep-alive."""
    kept = [(k, v) for k, v in pairs if k.lower() not in ("connection", "keep-alive")]
    lines = [first_line, *(f"{k}: {v}" for k, v in kept), "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (what a dying radio link looks like to the browser)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FlakyProxy:
    """127.0.0.1:<port> → target, failing the requests its rules name."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.rules: list[Rule] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, name="flaky-proxy", daemon=True).start()

    def fail(self, method: str, path: str, *, times: int, mode: str = "lost_response") -> Rule:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        rule = Rule(method.upper(), path, times, mode)
        with self._lock:
            self.rules.append(rule)
        return rule

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()

    def _decide(self, method: str, path: str, key: str | None) -> Rule | None:
        """The rule that fails this request now, if any (and count it)."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.keys.append(key)
                    if rule.failed < rule.times:
                        rule.failed += 1
                        return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        self._track(client)
        try:
            head, body = _read_head(client)
            if not head:
                return
            first, pairs = _headers(head)
            names = {k.lower(): v for k, v in pairs}
            method, path = first.split(" ")[:2]
            length = int(names.get("content-length", "0") or 0)
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                body += chunk
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
            self._track(upstream)
            if names.get("upgrade"):
                upstream.sendall(head + body)
                self._tunnel(client, upstream)
                return
            rule = self._decide(method, path, names.get("idempotency-key"))
            if rule is not None and rule.mode == "dropped_request":
                _reset(client)
                return
            upstream.sendall(_closing(first, pairs) + body)
            if rule is not None:  # lost_response: let the server finish, then drop its answer
                while upstream.recv(65536):
                    pass
                _reset(client)
                return
            self._relay_response(upstream, client)
        except (OSError, ValueError):
            return
        finally:
            self._forget(client, *([upstream] if upstream else []))

    def _relay_response(self, upstream: socket.socket, client: socket.socket) -> None:
        head, rest = _read_head(upstream)
        if not head:
            return
        first, pairs = _headers(head)
        client.sendall(_closing(first, pairs) + rest)
        while chunk := upstream.recv(65536):
            client.sendall(chunk)

    def _tunnel(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(peers), [], [], 0.5)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)
