"""The composition root: configuration in, wired application out. No I/O at import time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from dispatch.adapters.clock import Clock, SystemClock
from dispatch.adapters.db import Database
from dispatch.config import Settings
from dispatch.domain.routing import GridIndex
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.queries import local_midnight
from dispatch.service.screen_cases import ScreenCases
from dispatch.service.unit_of_work import StoredEvent
from realtime.auth import ScreenTokens
from realtime.bus import Bus, MemoryBus, RedisBus
from realtime.fanout import Fanout
from realtime.feed import MemoryFeed, RedisFeed
from realtime.field import FieldNamespace
from realtime.frames import PositionFrames
from realtime.history import HistoryWriter
from realtime.latest import MemoryLatest
from realtime.latest_redis import RedisLatest
from realtime.positions import PositionService
from realtime.socket import NAMESPACE, LiveNamespace

log = logging.getLogger(__name__)


class BusPublisher:
    """After a commit, ring the doorbell with the new head of the log."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def published(self, events: Sequence[StoredEvent]) -> None:
        if events:
            self.bus.ring(events[-1].seq)


def make_bus(settings: Settings) -> Bus:
    if not settings.redis_url:
        return MemoryBus()
    return RedisBus(settings.redis_url, prefix=settings.redis_prefix)


def make_positions(
    settings: Settings, db: Database, names: Directory, clock: Clock
) -> PositionService:
    """Latest positions in Redis GEO when there is Redis, else in this process."""
    url, prefix = settings.redis_url, settings.redis_prefix
    return PositionService(
        names=names,
        clock=clock,
        store=RedisLatest(url, prefix=prefix) if url else MemoryLatest(),
        history=HistoryWriter(db),
        feed=RedisFeed(url, prefix=prefix) if url else MemoryFeed(),
    )


def build_core(
    settings: Settings, *, clock: Clock | None = None, migrate: bool = True
) -> tuple[Core, Directory]:
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    if migrate:
        db.migrate()
    names = Directory.load(db)
    core = Core(
        db=db,
        clock=clock or SystemClock(),
        grids=GridIndex(names.units.values()),
        publisher=BusPublisher(make_bus(settings)),
        names=names,
        data_dir=settings.data_dir,
        screen_cases=ScreenCases(),
    )
    core.positions = make_positions(settings, db, names, core.clock)
    return core, names


@dataclass
class App:
    settings: Settings
    core: Core
    names: Directory
    bus: Bus
    flask: Flask
    socketio: SocketIO
    fanout: Fanout
    background: list[Any] = field(default_factory=list)
    media: Any = None  # the camera gateway's face: snapshots for evidence (media.embedded)
    _started: bool = False

    def start(self) -> None:
        """Start the threads that keep screens live (idempotent)."""
        if self._started:
            return
        self._started = True
        self.bus.listen(self.fanout.ring)
        self.bus.start()
        self.fanout.start()
        for task in self.background:
            task.start()
        # Read the cases screens start from now, not when the first wall asks for them: after
        # a restart every wall of the city reconnects at once (about a second for 10,000).
        threading.Thread(target=self._warm_screen_cases, name="screen-cases", daemon=True).start()

    def _warm_screen_cases(self) -> None:
        cases = self.core.screen_cases
        if cases is None:
            return
        try:
            midnight = local_midnight(self.core, self.core.clock.now())
            cases.current(self.core, self.names, midnight)
        except Exception:  # a database not there yet: the first snapshot reads them
            log.warning("screen cases not read at start", exc_info=True)

    def stop(self) -> None:
        for task in self.background:
            task.stop()
        self.fanout.stop()
        self.bus.stop()

    def reload_directory(self, fresh: Directory | None = None) -> None:
        """Re-read units, workers and departments (after seeding or an import)."""
        fresh = fresh or Directory.load(self.core.db)
        self.names.units, self.names.workers = fresh.units, fresh.workers
        self.names.departments = fresh.departments
        self.core.grids = GridIndex(fresh.units.values())
        self.core.screen_cases = ScreenCases()  # its cases carry names


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    with_dashboard: bool = True,
) -> App:
    from dispatch.api import register_api

    core, names = build_core(settings, clock=clock, migrate=migrate)
    assert isinstance(core.publisher, BusPublisher)
    bus = core.publisher.bus

    flask = Flask("commandhall")
    flask.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False)
    flask.json.ensure_ascii = False  # type: ignore[attr-defined]
    socketio = SocketIO(
        flask,
        async_mode="threading",
        ping_interval=20,
        ping_timeout=20,
    )

    def emit(event: str, data: dict[str, Any], room: str) -> None:
        socketio.emit(event, data, to=room, namespace=NAMESPACE)

    fanout = Fanout(core, names, emit)
    tokens = ScreenTokens(settings.secret_key)
    socketio.on_namespace(
        LiveNamespace(
            core,
            names,
            tokens,
            allow_anonymous=settings.anonymous_screens,
            who=socket_principal,
            on_join=fanout.watch,
        )
    )
    app = App(settings, core, names, bus, flask, socketio, fanout)
    from media.signalling import MediaNamespace

    media = make_media(settings, core)  # camera gateway; its loop starts with the app
    socketio.on_namespace(MediaNamespace(media, who=socket_principal, screens=tokens.verify,
                                         allow_anonymous=settings.anonymous_screens))  # fmt: skip
    app.background.append(media)
    app.media = media
    wire_calls(app, settings, media)
    assert core.positions is not None
    socketio.on_namespace(FieldNamespace(core, socket_principal))
    frames = PositionFrames(names, core.clock, emit)
    core.positions.feed.listen(frames.mark)
    app.background += [core.positions, frames]
    flask.extensions["commandhall"] = app
    register_api(flask)
    if with_dashboard:
        from dashboard.app import create_dash

        create_dash(app)
    return app


def make_media(settings: Settings, core: Core) -> Any:
    """The camera gateway: in this process (embedded), or in `commandhall media` through
    Redis (COMMANDHALL_MEDIA=remote). A remote one's `client` also serves
    media.remote.RemoteConferences, so both share one relay connection."""
    if settings.media == "remote":
        from media.remote import RemoteMedia

        return RemoteMedia.for_app(settings, core)
    from media.embedded import EmbeddedMedia

    return EmbeddedMedia.for_app(settings, core)


def wire_calls(app: App, settings: Settings, media: Any) -> None:
    """Calls and conferences: the MCU (on the camera gateway's media loop, or in the media
    process through the gateway's relay client), the /calls namespace, the recordings
    endpoint, and a check every 15 s for calls whose room the MCU lost."""
    from dispatch.api.calls import calls_api
    from realtime.calls import CallsNamespace

    app.flask.register_blueprint(calls_api)
    conferences: Any
    if settings.media == "remote":
        from media.remote import RemoteConferences

        conferences = RemoteConferences(media.client)  # started and stopped with `media`
    else:
        from media.mcu.service import EmbeddedConferences

        conferences = EmbeddedConferences(
            media.loop, data_dir=settings.data_dir, ice_servers=settings.ice_servers
        )
        # Before the gateway in the list: it owns the media loop and stops it.
        app.background.insert(app.background.index(media), conferences)
    namespace = CallsNamespace(
        app.core, conferences, who=socket_principal, ice_servers=settings.ice_servers
    )
    app.socketio.on_namespace(namespace)
    app.flask.extensions["commandhall.calls"] = namespace
    app.background.append(Periodic("calls-reconcile", 15.0, namespace.reconcile))


def socket_principal(auth: dict[str, Any]) -> Any:
    """Who a socket connection is: its device token, else the session of its cookie."""
    from dispatch.api.auth import current_principal, header_principal

    token = auth.get("token")
    if isinstance(token, str) and token.startswith(("dev_", "ch_")):
        return header_principal(token)
    return current_principal()


class Periodic:
    """Run `fn` every `interval` seconds on a daemon thread until stopped."""

    def __init__(self, name: str, interval: float, fn: Any) -> None:
        self.name, self.interval, self.fn = name, interval, fn
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.fn()
            except Exception:
                log.exception("%s failed", self.name)
