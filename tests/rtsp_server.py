"""A small RTSP server for tests: one H.264 stream, RTP interleaved over the RTSP connection.

What an IP camera does for a client that asks for TCP (`rtsp_transport=tcp`, the gateway's
default): OPTIONS, DESCRIBE (an SDP naming H.264/90000, packetization-mode 1), SETUP
(`RTP/AVP/TCP;interleaved=0-1`), PLAY, then the access units given, in order and looping,
`fps` a second, each NAL unit as one RTP packet or split into FU-A fragments of at most `mtu`
bytes (RFC 6184), the marker bit on an access unit's last packet. TEARDOWN or a closed
connection stops it. With `login`, every request but OPTIONS needs HTTP Digest
credentials, as IP cameras ask for them.
"""

from __future__ import annotations

import hashlib
import re
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

MTU_PAYLOAD = 1200
PAYLOAD_TYPE = 96
REALM, NONCE = "IP Camera", "5ee5f00d"
CLOCK_RATE = 90_000


def rtp_payloads(nal: bytes, mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """One NAL unit (no start code) as RTP payloads: itself, or FU-A fragments."""
    if len(nal) <= mtu:
        return [nal]
    header, body = nal[0], nal[1:]
    indicator = (header & 0xE0) | 28
    chunks = [body[i : i + mtu] for i in range(0, len(body), mtu)]
    out = []
    for n, chunk in enumerate(chunks):
        start, end = n == 0, n == len(chunks) - 1
        fu = (start << 7) | (end << 6) | (header & 0x1F)
        out.append(bytes([indicator, fu]) + chunk)
    return out


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class RtspServer:
    """`with RtspServer(units, fps) as server:` serves rtsp://127.0.0.1:<server.port>/<any>."""

    def __init__(
        self,
        units: Sequence[Sequence[bytes]],
        fps: int,
        *,
        mtu: int = MTU_PAYLOAD,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.units, self.fps, self.mtu, self.login = units, fps, mtu, login
        self.refused = 0  # requests answered 401
        self.methods: list[str] = []  # every request, in order, from every connection
        self.sent_units = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer._serve(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._stop = threading.Event()

    def __enter__(self) -> RtspServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- one client connection ---------------------------------------------------------

    def _serve(self, conn: socket.socket, rfile: Any) -> None:
        lock, playing, done = threading.Lock(), threading.Event(), threading.Event()
        while not self._stop.is_set():
            first = rfile.read(1)
            if not first:
                break
            if first == b"$":  # the client's RTCP, interleaved: read past it
                _, size = struct.unpack("!BH", rfile.read(3))
                rfile.read(size)
                continue
            lines = [(first + rfile.readline()).decode().rstrip("\r\n")]
            while lines[-1]:
                lines.append(rfile.readline().decode().rstrip("\r\n"))
            method, url, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:-1])
            }
            if int(headers.get("content-length", 0)):
                rfile.read(int(headers["content-length"]))
            self.methods.append(method)
            reply, body = self._answer(method, url, headers)
            head = [f"RTSP/1.0 {reply}", f"CSeq: {headers.get('cseq', '0')}", *body[0]]
            content = body[1].encode()
            if content:
                head += ["Content-Type: application/sdp", f"Content-Length: {len(content)}"]
            with lock:
                conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + content)
            if method == "PLAY" and not playing.is_set():
                playing.set()
                threading.Thread(target=self._play, args=(conn, lock, done), daemon=True).start()
            if method == "TEARDOWN":
                break
        done.set()

    def _answer(
        self, method: str, url: str, headers: dict[str, str]
    ) -> tuple[str, tuple[list[str], str]]:
        session = ["Session: 5150;timeout=60"]
        if method != "OPTIONS" and not self._authorized(method, headers.get("authorization")):
            self.refused += 1
            challenge = f'Digest realm="{REALM}", nonce="{NONCE}"'
            return "401 Unauthorized", ([f"WWW-Authenticate: {challenge}"], "")
        if method == "OPTIONS":
            return "200 OK", (["Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"], "")
        if method == "DESCRIBE":
            sdp = (
                "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camera\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                f"m=video 0 RTP/AVP {PAYLOAD_TYPE}\r\n"
                f"a=rtpmap:{PAYLOAD_TYPE} H264/{CLOCK_RATE}\r\n"
                f"a=fmtp:{PAYLOAD_TYPE} packetization-mode=1\r\na=control:track1\r\n"
            )
            return "200 OK", ([f"Content-Base: {url.rstrip('/')}/"], sdp)
        if method == "SETUP":
            if "interleaved" not in headers.get("transport", ""):
                return "461 Unsupported Transport", ([], "")
            return "200 OK", ([*session, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"], "")
        if method in ("PLAY", "TEARDOWN"):
            return "200 OK", (session, "")
        return "405 Method Not Allowed", ([], "")

    def _authorized(self, method: str, header: str | None) -> bool:
        """HTTP Digest (RFC 2617 without qop), as IP cameras ask for it."""
        if self.login is None:
            return True
        fields = dict(re.findall(r'(\w+)="([^"]*)"', header or ""))
        user, password = self.login
        if fields.get("username") != user or fields.get("nonce") != NONCE:
            return False
        ha1 = _md5(f"{user}:{REALM}:{password}")
        ha2 = _md5(f"{method}:{fields.get('uri', '')}")
        return fields.get("response") == _md5(f"{ha1}:{NONCE}:{ha2}")

    def _play(self, conn: socket.socket, lock: threading.Lock, done: threading.Event) -> None:
        seq, n, started = 0, 0, time.monotonic()
        while not (done.is_set() or self._stop.is_set()):
            unit = self.units[n % len(self.units)]
            stamp = n * CLOCK_RATE // self.fps
            payloads = [p for nal in unit for p in rtp_payloads(nal, self.mtu)]
            try:
                for k, payload in enumerate(payloads):
                    marker = 0x80 if k == len(payloads) - 1 else 0
                    packet = struct.pack(
                        "!BBHII", 0x80, marker | PAYLOAD_TYPE, seq & 0xFFFF, stamp, 0x5EED
                    )
                    frame = b"$\x00" + struct.pack("!H", len(packet) + len(payload))
                    with lock:
                        conn.sendall(frame + packet + payload)
                    seq += 1
            except OSError:
                return
            n += 1
            self.sent_units = n
            time.sleep(max(0.0, started + n / self.fps - time.monotonic()))
