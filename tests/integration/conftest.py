"""One seeded CommandHall per database, shared by the API tests of the session.

Seeding the demo county costs seconds, so the API tests share one application per database
(SQLite file, PostgreSQL schema of its own) instead of one per test. They never assume an
empty database: they count cases and events before and after, and filter by their own ids.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from dispatch.adapters.orm import CaseRow, EventRow, IdempotencyRow
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from tests.support import LiveServer, api_key, build_app


@dataclass
class Seeded:
    """The shared application, a point inside one of its grids and an Open311 api key."""

    app: App
    dialect: str
    lat: float
    long: float
    api_key: str

    def client(self) -> FlaskClient:
        """A client that signs every request with the api key (an integration)."""
        client = self.app.flask.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.api_key}"
        return client

    def anonymous(self) -> FlaskClient:
        return self.app.flask.test_client()

    def counts(self) -> tuple[int, int, int]:
        """(cases, events, idempotency keys) stored so far."""
        with self.app.core.db.read() as session:
            return tuple(  # type: ignore[return-value]
                int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (CaseRow, EventRow, IdempotencyRow)
            )


def inside_a_grid(app: App) -> tuple[float, float]:
    """(lat, long) of a grid centroid that falls inside its own grid."""
    for unit in sorted(app.names.units.values(), key=lambda u: u.id):
        if unit.kind is not UnitKind.GRID or not unit.polygon:
            continue
        long, lat = centroid(unit.polygon[0])
        if app.core.grids.locate(long, lat).grid_id == unit.id:
            return lat, long
    raise AssertionError("no grid of the demo county contains its own centroid")


def _postgres_schema_url(engine: Engine) -> tuple[str, str]:
    schema = f"t_{secrets.token_hex(6)}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


@contextmanager
def app_per_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    with_dashboard: bool = True,
    history: bool = False,
) -> Iterator[App]:
    """A seeded application on `request.param` ("sqlite": a file of its own; "postgres": a
    schema of its own, dropped afterwards), for module- or session-scoped fixtures."""
    data_dir: Path = tmp_path_factory.mktemp(f"{name}-{request.param}")
    engine: Engine | None = None
    schema = ""
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'commandhall.db'}"
    else:
        engine = request.getfixturevalue("_postgres_engine")
        schema, url = _postgres_schema_url(engine)
    app = build_app(data_dir, url, with_dashboard=with_dashboard, history=history)
    try:
        yield app
    finally:
        app.stop()
        app.core.db.dispose()
        if engine is not None:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    with app_per_database(request, tmp_path_factory, "seeded", with_dashboard=False) as app:
        lat, long = inside_a_grid(app)
        yield Seeded(app, request.param, lat, long, api_key(app))


@pytest.fixture(scope="session")
def live(seeded: Seeded) -> Iterator[LiveServer]:
    """The shared application on a real port (threaded Werkzeug)."""
    server = LiveServer(seeded.app).start()
    yield server
    server.server.shutdown()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the PostgreSQL instance of `seeded` need the server: mark them postgres."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("seeded") == "postgres":
            item.add_marker("postgres")
