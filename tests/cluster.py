"""Real processes for the multi-process tests and benchmarks.

A private `redis-server` (tests may kill it), `commandhall web|worker|media` subprocesses on
free ports, all sharing one database and a Redis key prefix. Every process is started in a
session of its own and stopped with its whole process group, so nothing outlives a test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from tests.conftest import REPO_ROOT, free_port

COMMANDHALL = str(REPO_ROOT / ".venv" / "bin" / "commandhall")
SECRET = "cluster-test-secret"


class Proc:
    """A child process in its own session, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: Mapping[str, str]):
        self.name, self.argv, self.log_path, self.env = name, argv, log_path, dict(env)
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Proc:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            self.argv, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO_ROOT,
        )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if it outlives `grace`."""
        if self.popen is not None:
            if self.popen.poll() is None:
                self.signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=grace)
            # The leader may be gone while children of its group live on: kill the group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL at once, no goodbye."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_port(port: int, timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc is not None and not proc.running():
            raise RuntimeError(f"{proc.name} exited before listening:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {port} after {timeout}s")
        time.sleep(0.05)


class RedisServer(Proc):
    """A private redis-server on a free port: no persistence, killable and restartable."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no",
        ]  # fmt: skip
        super().__init__(f"redis:{self.port}", argv, workdir / "redis.log", os.environ)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        super().start()
        wait_port(self.port, 10, self)
        return self


@dataclass
class Web:
    """One `commandhall web` process and its base URL."""

    proc: Proc
    port: int
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    def health(self) -> tuple[int, dict[str, Any]]:
        response = requests.get(f"{self.url}/healthz", timeout=5)
        return response.status_code, response.json()


def cluster_env(
    *, database_url: str, redis_url: str, prefix: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment every process of one deployment shares (nothing from the caller's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDHALL_")}
    env.update(
        COMMANDHALL_DATABASE_URL=database_url,
        COMMANDHALL_REDIS_URL=redis_url,
        COMMANDHALL_REDIS_PREFIX=prefix,
        COMMANDHALL_DATA_DIR=str(data_dir),
        COMMANDHALL_SECRET_KEY=SECRET,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_web(
    env: Mapping[str, str], log_dir: Path, *, port: int | None = None, args: tuple[str, ...] = ()
) -> Web:
    port = port or free_port()
    argv = [COMMANDHALL, "web", "--port", str(port), *args]
    proc = Proc(f"web:{port}", argv, log_dir / f"web-{port}.log", env).start()
    return Web(proc, port)


def start_process(kind: str, env: Mapping[str, str], log_dir: Path) -> Proc:
    """`commandhall worker` or `commandhall media`."""
    return Proc(kind, [COMMANDHALL, kind], log_dir / f"{kind}.log", env).start()


def wait_healthy(web: Web, timeout: float = 60.0) -> dict[str, Any]:
    """Wait until /healthz answers 200; returns its body."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if not web.proc.running():
            raise RuntimeError(f"{web.proc.name} exited:\n{web.proc.tail()}")
        try:
            status, body = web.health()
            if status == 200:
                return body
            last = body
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{web.proc.name} not healthy after {timeout}s: {last}\n{web.proc.tail()}")


@contextlib.contextmanager
def stopping(*procs: Proc) -> Iterator[None]:
    """Stop every process on the way out, whatever happened."""
    try:
        yield
    finally:
        for proc in procs:
            proc.stop()


def seed(database_url: str, data_dir: Path) -> list[tuple[float, float, int]]:
    """Migrate and load the demo county (no history) into an empty database; returns a
    (lat, long, township id) inside each grid whose centroid lies in it."""
    from dispatch.bootstrap import build_core
    from dispatch.config import Settings
    from dispatch.demo.seed import seed_demo
    from dispatch.service.apikeys import create_api_key

    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=SECRET)
    core, _ = build_core(settings)
    try:
        points = grid_points(core, seed_demo(core, data_dir, history=False))
        API_KEYS[database_url] = create_api_key(core, "cluster-test")
        return points
    finally:
        core.db.dispose()


# database URL → an api key of that deployment (made by seed), for the test's own requests.
API_KEYS: dict[str, str] = {}


def api_headers(database_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEYS[database_url]}"}


def grid_points(core: Any, names: Any) -> list[tuple[float, float, int]]:
    from dispatch.domain.geometry import centroid
    from dispatch.domain.org import UnitKind

    points = []
    for unit in sorted(names.units.values(), key=lambda u: u.id):
        if unit.kind is UnitKind.GRID and unit.polygon:
            long, lat = centroid(unit.polygon[0])
            where = core.grids.locate(long, lat)
            if where.grid_id == unit.id and where.township_id is not None:
                points.append((lat, long, where.township_id))
    return points
