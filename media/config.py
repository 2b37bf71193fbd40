"""What the camera gateway is told: cameras, ICE servers and its timing, checked on creation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media.demo import DemoConfig

RTSP_TRANSPORTS = ("tcp", "udp")


@dataclass(frozen=True)
class Camera:
    """What the gateway needs of a registered camera; `source` is rtsp://…, a file or demo:…"""

    id: int
    name: str
    source: str


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"gateway {name} must be a positive number of seconds, got {value!r}")


@dataclass(frozen=True)
class GatewayConfig:
    ice_servers: tuple[dict[str, Any], ...] = ()
    data_dir: Path | None = None  # where relative file sources live
    # Reconnecting a source that failed: 1 s, 2 s, 4 s … up to 30 s between attempts.
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    # A source that yields nothing for this long is offline (a camera's GOP is at most ~4 s).
    stall_timeout: float = 10.0
    # Opening an RTSP camera (TCP, DESCRIBE, SETUP, PLAY) gives up after this.
    open_timeout: float = 10.0
    rtsp_transport: str = "tcp"
    # An upstream outlives its last viewer this long, so a wall that reloads does not
    # reconnect every camera; 0 closes it at once.
    linger: float = 0.0
    # A viewer whose peer connection has not connected after this is dropped.
    connect_timeout: float = 30.0
    # Forced keyframes (demo cameras, on PLI/FIR or a new viewer) at most this often per camera.
    keyframe_interval_min: float = 0.5
    max_viewers: int = 200  # every viewer costs one SRTP stream in this process
    demo: DemoConfig = field(default_factory=DemoConfig)

    def __post_init__(self) -> None:
        for name in ("backoff_initial", "backoff_max", "stall_timeout", "open_timeout",
                     "connect_timeout", "keyframe_interval_min"):  # fmt: skip
            _positive(name, getattr(self, name))
        if self.backoff_max < self.backoff_initial:
            raise ValueError(
                f"gateway backoff_max ({self.backoff_max}) must not be below backoff_initial "
                f"({self.backoff_initial})"
            )
        if not (math.isfinite(self.linger) and self.linger >= 0):
            raise ValueError(f"gateway linger must be 0 or more seconds, got {self.linger!r}")
        if self.rtsp_transport not in RTSP_TRANSPORTS:
            raise ValueError(
                f"gateway rtsp_transport must be one of {RTSP_TRANSPORTS}, "
                f"got {self.rtsp_transport!r}"
            )
        if not 1 <= self.max_viewers <= 10_000:
            raise ValueError(f"gateway max_viewers must be 1-10000, got {self.max_viewers}")
        for n, server in enumerate(self.ice_servers):
            urls = server.get("urls") if isinstance(server, dict) else None
            if not (isinstance(urls, str) and urls) and not (
                isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls)
            ):
                raise ValueError(
                    f"ice_servers[{n}] needs urls (a string or a list of strings) like "
                    f'{{"urls": "stun:stun.example.org"}}, got {server!r}'
                )
