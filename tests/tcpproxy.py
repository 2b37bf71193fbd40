"""A TCP proxy whose connections can be frozen: open, yet carrying nothing, with no error.

That is how a connection dies behind a firewall or NAT that forgets it: neither end hears a
thing. Redis's own CLIENT KILL closes the socket, which the client notices at once; this is
the failure only a canary finds.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class FreezableProxy:
    """127.0.0.1:<port> → target. `freeze()` silences every connection open now; connections
    made afterwards work normally."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def freeze(self) -> int:
        """Stop carrying bytes on every open connection; returns how many were frozen."""
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.set()
            return len(self._pairs)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for a, b, _ in self._pairs:
                for sock in (a, b):
                    with contextlib.suppress(OSError):
                        sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                continue
            upstream.settimeout(None)
            frozen = threading.Event()
            with self._lock:
                self._pairs.append((client, upstream, frozen))
            threading.Thread(
                target=self._pump, args=(client, upstream, frozen), daemon=True
            ).start()

    def _pump(self, a: socket.socket, b: socket.socket, frozen: threading.Event) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                if frozen.is_set():
                    self._stop.wait(0.5)  # hold both sockets open, read nothing, say nothing
                    continue
                readable, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in readable:
                    if frozen.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            if not frozen.is_set():
                for sock in (a, b):
                    with contextlib.suppress(OSError):
                        sock.close()
