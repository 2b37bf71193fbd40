"""The production processes: `commandhall web`, `commandhall worker`, `commandhall media`.

The embedded demo runs everything in one process; production runs the same code as separate
processes against PostgreSQL and Redis (docs/deploy.md):

- web: the Flask app (Dash pages, REST/Open311 API, Flask-SocketIO /live) under gunicorn,
  ONE gthread worker with many threads. Socket.IO sessions live in one process (threading
  mode), so a web process never forks more workers: scale by running several on different
  ports behind nginx with sticky routing. Each tails the event log for its own screens.
- worker: the clock (SLA lights), and the presence sweep when positions are installed.
- media: the camera gateway and the conferences MCU (aiortc, one asyncio loop), served to the
  web processes over Redis (media.relay); exactly one per deployment.

Web and worker migrate the schema at start (under a PostgreSQL advisory lock, so several may
start at once); worker and media, with Redis configured, keep a liveness key
`<prefix>proc:<name>` fresh for /healthz.
"""

from __future__ import annotations

import importlib
import logging
import runpy
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dispatch.bootstrap import App, BusPublisher, Periodic, build_core, create_app
from dispatch.config import ConfigError, Settings
from dispatch.service import actions
from dispatch.service.core import Core
from realtime.bus import Bus

log = logging.getLogger(__name__)

# A liveness key outlives two missed beats, so one slow beat never reads as a dead process.
BEAT_INTERVAL = 10.0
BEAT_TTL = 30.0
# The SLA clock's resolution: a light changes at most this late. Each tick reads only the
# cases whose light is due (indexed), so ticking often costs nothing when nothing is due.
TICK_INTERVAL = 5.0

WEB_DEFAULTS: dict[str, Any] = {
    "workers": 1,
    "worker_class": "gthread",
    # Each open websocket holds one thread for its lifetime (simple-websocket under gthread),
    # so threads = screens on this process + concurrent HTTP requests.
    "threads": 100,
    "worker_connections": 1000,
    # gthread answers the arbiter's heartbeat from its event loop, never from a request
    # thread, so a long websocket does not count against this.
    "timeout": 30,
    # On SIGTERM, open websockets hold the worker until this runs out; screens then reconnect
    # (through nginx, to another web process) and replay what they missed.
    "graceful_timeout": 10,
    "keepalive": 5,
    "accesslog": None,
    "errorlog": "-",
    # Only nginx on this host may say which client and scheme a request came from.
    "forwarded_allow_ips": "127.0.0.1,::1",
}
# Settings a web process must keep; the message says why.
WEB_FIXED = {
    "workers": (1, "Socket.IO sessions live in one process: run several `commandhall web` "
                "on different ports behind nginx with sticky routing instead"),
    "worker_class": ("gthread", "Flask-SocketIO runs in threading mode with simple-websocket"),
    "preload_app": (False, "the app starts threads, which do not survive a fork"),
}  # fmt: skip


def gunicorn_file_options(path: Path) -> dict[str, Any]:
    """The gunicorn settings a config file (python, like gunicorn.conf.py) assigns."""
    from gunicorn.config import Config

    if not path.is_file():
        raise ConfigError(f"gunicorn config {str(path)!r} does not exist")
    known = Config().settings
    namespace = runpy.run_path(str(path))
    return {k: v for k, v in namespace.items() if k in known}


def web_options(
    *,
    host: str | None,
    port: int | None,
    threads: int | None,
    config_file: Path | None = None,
) -> dict[str, Any]:
    """gunicorn settings: defaults, then the config file, then the command line."""
    options = dict(WEB_DEFAULTS, bind=["127.0.0.1:8000"])
    if config_file is not None:
        options.update(gunicorn_file_options(config_file))
    if host is not None or port is not None:
        bound = str(options["bind"][0] if isinstance(options["bind"], list) else options["bind"])
        old_host, _, old_port = bound.rpartition(":")
        new_host = host if host is not None else old_host or "127.0.0.1"
        options["bind"] = [f"{_bracket(new_host)}:{port if port is not None else old_port}"]
    if threads is not None:
        options["threads"] = threads
    for name, (value, why) in WEB_FIXED.items():
        if name in options and options[name] != value:
            raise ConfigError(
                f"gunicorn {name} must be {value!r} here, got {options[name]!r}: {why}"
            )
    if int(options["threads"]) < 2:
        raise ConfigError(f"--threads must be at least 2, got {options['threads']}")
    return options


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class WebServer:
    """Drives gunicorn programmatically; the app is built in the worker, after the fork."""

    def __init__(self, settings: Settings, options: Mapping[str, Any]) -> None:
        self.settings, self.options = settings, dict(options)
        self.app: App | None = None

    def run(self) -> int:
        from gunicorn.app.base import BaseApplication

        server = self

        class Gunicorn(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in server.options.items():
                    self.cfg.set(key, value)
                if "control_socket_disable" in self.cfg.settings:
                    # gunicorn >= 25 opens a control socket at one path per user; several web
                    # processes on a host would fight over it, and it can add workers.
                    self.cfg.set("control_socket_disable", True)
                self.cfg.set("proc_name", f"commandhall-web:{server.port_label()}")
                self.cfg.set("worker_exit", server.worker_exit(self.cfg.worker_exit))

            def load(self) -> Any:
                return server.load()

        Gunicorn().run()
        return 0

    def port_label(self) -> str:
        bind = self.options["bind"]
        return str(bind[0] if isinstance(bind, list) else bind).rpartition(":")[2]

    def load(self) -> Any:
        """In the worker process: build the app, start the fan-out and the bus."""
        self.app = create_app(self.settings)
        self.app.start()
        log.info("web process ready: fan-out running, bus %s", self.app.bus.health().get("kind"))
        return self.app.flask

    def worker_exit(self, previous: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def hook(arbiter: Any, worker: Any) -> None:
            try:
                previous(arbiter, worker)
            finally:
                if self.app is not None:
                    self.app.stop()

        return hook


def run_web(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    threads: int | None = None,
    config_file: Path | None = None,
) -> int:
    options = web_options(host=host, port=port, threads=threads, config_file=config_file)
    if settings.database_url == "" or settings.effective_database_url.startswith("sqlite"):
        log.warning("web: running on SQLite; production wants PostgreSQL (docs/deploy.md)")
    if not settings.redis_url:
        log.warning(
            "web: no COMMANDHALL_REDIS_URL: other processes cannot ring this one "
            "(screens still update within a second by polling)"
        )
    return WebServer(settings, options).run()


# -- worker and media ---------------------------------------------------------------------


def presence_sweep(core: Core) -> Callable[[], object] | None:
    """The presence sweep of grid workers (realtime.positions), when it is installed."""
    try:
        from realtime.positions import sweep_presence
    except ImportError:
        return None
    if getattr(core, "positions", None) is None:
        return None
    return lambda: sweep_presence(core, core.clock.now())


def beat(bus: Bus, name: str) -> Callable[[], None]:
    def once() -> None:
        try:
            bus.beat(name, BEAT_TTL)
        except Exception as exc:  # Redis away: /healthz elsewhere will say so
            log.warning("%s: liveness beat failed: %s", name, exc)

    return once


def serve_until_signalled(name: str, tasks: list[Periodic], bus: Bus) -> int:
    """Start the tasks and wait for SIGTERM or SIGINT; then stop everything."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("%s: %s received, stopping", name, signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    bus.start()
    for task in tasks:
        task.start()
    print(f"commandhall {name} is running; SIGTERM or Ctrl+C stops it", flush=True)
    while not stop.wait(1.0):
        pass
    for task in tasks:
        task.stop()
    bus.stop()
    return 0


def run_worker(settings: Settings, *, tick_interval: float = TICK_INTERVAL) -> int:
    core, _names = build_core(settings)
    assert isinstance(core.publisher, BusPublisher)
    bus = core.publisher.bus
    tasks = [Periodic("sla-clock", tick_interval, lambda: actions.tick(core))]
    sweep = presence_sweep(core)
    if sweep is not None:
        # The sweep publishes presence changes through the position feed, which sends
        # from a thread of its own: start the service so that thread runs.
        assert core.positions is not None
        tasks.append(core.positions)  # type: ignore[arg-type]
        tasks.append(Periodic("presence-sweep", tick_interval, sweep))
    else:
        log.info("worker: no presence sweep (realtime.positions is not installed)")
    if settings.redis_url:
        beat(bus, "worker")()
        tasks.append(Periodic("liveness", BEAT_INTERVAL, beat(bus, "worker")))
    else:
        log.warning("worker: no COMMANDHALL_REDIS_URL, so no liveness key for /healthz")
    return serve_until_signalled("worker", tasks, bus)


def run_media(settings: Settings) -> int:
    """The media process: the camera gateway (and the conferences MCU, when installed) on one
    asyncio loop, served to the web processes through Redis (media.relay)."""
    from media.embedded import EmbeddedMedia
    from media.loop import MediaLoop
    from media.relay import RelayServer
    from media.remote import CAMERAS, CONFERENCES

    if not settings.redis_url:
        raise ConfigError(
            "commandhall media needs COMMANDHALL_REDIS_URL: the web processes reach it through "
            "Redis (the embedded demo runs cameras and calls in the web process instead)"
        )
    core, _names = build_core(settings)
    assert isinstance(core.publisher, BusPublisher)
    bus = core.publisher.bus
    loop = MediaLoop()
    loop.start()
    relay = RelayServer(settings.redis_url, prefix=settings.redis_prefix)
    cameras = EmbeddedMedia.for_app(settings, core, loop)
    cameras.listen(lambda status: relay.publish(CAMERAS, status))
    relay.serve(CAMERAS, cameras)
    services: list[Any] = [cameras]
    conferences = conference_service(settings, loop)
    if conferences is not None:
        conferences.listen(lambda state: relay.publish(CONFERENCES, state))
        relay.serve(CONFERENCES, conferences)
        services.insert(0, conferences)  # stopped first: rooms end while the relay still talks
    try:
        relay.start()
    except RuntimeError as exc:
        log.error("media: %s", exc)
        loop.stop()
        return 1
    beat(bus, "media")()
    tasks = [Periodic("liveness", BEAT_INTERVAL, beat(bus, "media"))]
    try:
        return serve_until_signalled("media", tasks, bus)
    finally:
        for service in services:  # rooms end with a reason; viewers are hung up
            try:
                service.stop()
            except Exception:
                log.exception("media: stopping %s failed", type(service).__name__)
        relay.stop()
        loop.stop()
        core.db.dispose()


def conference_service(settings: Settings, loop: Any) -> Any | None:
    """The MCU (media.mcu.service.EmbeddedConferences) on the media loop, when installed.
    Its recordings go to the data directory, which the web processes must share."""
    try:
        module = importlib.import_module("media.mcu.service")
    except ImportError:
        log.info("media: no conferences yet (media.mcu.service is not installed)")
        return None
    return module.EmbeddedConferences(loop, data_dir=settings.data_dir,
                                      ice_servers=settings.ice_servers)  # fmt: skip
