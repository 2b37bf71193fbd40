"""Shared fixtures: real PostgreSQL, Redis, SQLite and headless Chromium for every test tier.

A missing service skips the tests that need it on a developer's machine and fails them under
CI (env CI=true), so a broken CI machine can never pass by skipping everything.
COMMANDHALL_TEST_PG_URL and COMMANDHALL_TEST_REDIS_URL point the fixtures at other servers.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_URL_ENV = "COMMANDHALL_TEST_PG_URL"
REDIS_URL_ENV = "COMMANDHALL_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The machine has no network beyond package registries: without the background-networking
# flags Chromium keeps dialling Google's hosts and the refused connections slow every start.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Calls and conferences need a camera and microphone that say yes without a prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
)


def ci_mode() -> bool:
    """True when running under CI (env CI is `true` or `1`)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def require_service(name: str, reason: str) -> NoReturn:
    """Fail the test under CI, skip it elsewhere, because `name` is unavailable."""
    message = f"{name} is not available: {reason}"
    if ci_mode():
        pytest.fail(f"{message} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pg_candidate_urls() -> list[URL]:
    if configured := os.environ.get(PG_URL_ENV):
        url = make_url(configured)
        # A plain postgresql:// URL would pick psycopg2, which the project does not install.
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return [url]
    return [
        URL.create(
            "postgresql+psycopg", username=user, host="127.0.0.1", port=5432, database="test"
        )
        for user in dict.fromkeys(["postgres", getpass.getuser()])
    ]


def _autocommit_engine(url: URL) -> Engine:
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
        poolclass=sa.NullPool,
    )


def _connect_admin() -> Engine:
    errors = []
    for url in _pg_candidate_urls():
        engine = _autocommit_engine(url)
        try:
            with engine.connect():
                return engine
        except sa.exc.OperationalError as exc:
            first_line = str(exc.orig).strip().partition("\n")[0]
            errors.append(f"{url.render_as_string()}: {first_line}")
    require_service("PostgreSQL", "; ".join(errors))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database, `ch_test_<hex>`, dropped after the session."""
    admin = _connect_admin()
    name = f"ch_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An autocommit engine on the session database, for creating and dropping schemas."""
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file in the test's tmp_path."""
    return f"sqlite:///{tmp_path / 'commandhall.db'}"


@pytest.fixture
def make_postgres_schema_url(_postgres_engine: Engine) -> Iterator[Callable[[], str]]:
    """Makes URLs that each select a fresh schema `t_<hex>`; all dropped after the test."""
    schemas: list[str] = []

    def make() -> str:
        schema = f"t_{secrets.token_hex(6)}"
        with _postgres_engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        # libpq passes `options` to the server at connect time, so every pooled connection
        # of an engine built from this URL starts with the schema as its search_path.
        url = _postgres_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield make
    with _postgres_engine.connect() as conn:
        # A connection the test left idle in a transaction holds locks that would make
        # DROP SCHEMA wait until the test timeout; nothing else uses this database.
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        )
        for schema in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database for this test: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    # A database per test costs about a second on PostgreSQL; a schema costs milliseconds.
    make: Callable[[], str] = request.getfixturevalue("make_postgres_schema_url")
    return make()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server, checked with a PING."""
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", f"{url}: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix, `chtest:<hex>:`; keys under it are deleted after the test."""
    prefix = f"chtest:{secrets.token_hex(6)}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """`test-artifacts/` at the repo root, where screenshots, logs and junit xml go."""
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def chromium_viewport_size() -> tuple[int, int]:
    """What the page sees as its viewport in `chromium_driver`; parametrize it for 3840x2160."""
    return (1920, 1080)


def new_chromium(size: tuple[int, int], profile: Path, *, fake_ui: bool = True) -> WebDriver:
    """A headless Debian Chromium driven by Debian's chromedriver, the page `size` exactly.

    `fake_ui=False`: camera and microphone prompts are not answered yes by themselves, so
    the site's permissions (CDP Browser.setPermission) decide."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        require_service("Chromium", f"{', '.join(missing)} not found; run `make browser`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # An explicit driver path keeps Selenium Manager from running; SE_OFFLINE makes sure it
    # would not download a browser or driver even if it did.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        if fake_ui or flag != "--use-fake-ui-for-media-stream":
            options.add_argument(flag)
    width, height = size
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    # New headless mode draws an invisible toolbar (143 px on Chromium 156) inside the
    # window, so grow the window by that much to give the page the wall's exact size.
    ui_width, ui_height = driver.execute_script(
        "return [outerWidth - innerWidth, outerHeight - innerHeight]"
    )
    driver.set_window_size(width + ui_width, height + ui_height)
    return driver


@pytest.fixture
def chromium_driver(
    request: pytest.FixtureRequest,
    artifacts_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    chromium_viewport_size: tuple[int, int],
) -> Iterator[WebDriver]:
    """Headless Chromium, quit after the test.

    When the test fails, its screenshot and console log are saved in `artifacts_dir`.
    """
    driver = new_chromium(chromium_viewport_size, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
        report = getattr(request.node, "_call_report", None)
        if report is not None and report.failed:
            _save_browser_evidence(driver, artifacts_dir, request.node.nodeid)
    finally:
        driver.quit()


@pytest.fixture
def phone_driver(
    request: pytest.FixtureRequest, artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebDriver]:
    """A second, phone-sized Chromium with a profile of its own (412×915), for tests in
    which an officer's screen and a phone are open at the same time."""
    driver = new_chromium((412, 915), tmp_path_factory.mktemp("phone-profile"))
    try:
        yield driver
        report = getattr(request.node, "_call_report", None)
        if report is not None and report.failed:
            _save_browser_evidence(driver, artifacts_dir, request.node.nodeid + ".phone")
    finally:
        driver.quit()


def _save_browser_evidence(driver: WebDriver, directory: Path, nodeid: str) -> None:
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in nodeid)
    driver.save_screenshot(str(directory / f"{stem}.png"))
    entries = driver.get_log("browser")  # type: ignore[no-untyped-call]
    lines = [f"{entry['level']} {entry['message']}" for entry in entries]
    (directory / f"{stem}.console.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call-phase report on the item, so fixtures can tell that the test failed."""
    report = yield
    if report.when == "call":
        item._call_report = report  # type: ignore[attr-defined]
    return report


_MARKER_BY_FIXTURE = {
    "postgres_url": "postgres",
    "redis_url": "redis",
    "chromium_driver": "browser",
    "phone_driver": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the services their fixtures need, so `-m "not browser"` just works."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("db_url") == "postgres":
            fixtures.add("postgres_url")
        for fixture, marker in _MARKER_BY_FIXTURE.items():
            if fixture in fixtures:
                item.add_marker(marker)
