"""The shared fixtures really give isolated databases, clean Redis keys and a working browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import free_port, require_service

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CONFTEST = Path(__file__).with_name("conftest.py")


def _cases_table() -> tuple[sa.MetaData, sa.Table]:
    metadata = sa.MetaData()
    table = sa.Table(
        "cases",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
    )
    return metadata, table


def _insert_case(url: str, title: str) -> list[str]:
    """Create `cases`, insert one row and return every title read back."""
    metadata, cases = _cases_table()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(cases.insert().values(title=title))
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(cases.c.title)))
    finally:
        engine.dispose()


def _run_inner_pytest(
    tmp_path: Path, test_source: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run one test file in a child pytest that uses a copy of our conftest."""
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(test_source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_url_round_trips_a_row(db_url: str) -> None:
    assert _insert_case(db_url, "垃圾满溢 at 和平路") == ["垃圾满溢 at 和平路"]


def test_sqlite_url_is_a_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    _insert_case(sqlite_url, "噪音扰民")
    assert (tmp_path / "commandhall.db").stat().st_size > 0


def test_postgres_schema_url_puts_tables_in_its_own_schema(
    make_postgres_schema_url: Callable[[], str], postgres_url: str
) -> None:
    url = make_postgres_schema_url()
    assert "options=-csearch_path%3Dt_" in url
    schema = str(sa.make_url(url).query["options"]).removeprefix("-csearch_path=")
    _insert_case(url, "道路设施损坏")

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            found = conn.scalars(
                sa.text(
                    "SELECT table_schema FROM information_schema.tables"
                    " WHERE table_name = 'cases' AND table_schema IN (:mine, 'public')"
                ),
                {"mine": schema},
            ).all()
    finally:
        engine.dispose()
    # Other tests' schemas may hold a `cases` table too; this one must be in its own only.
    assert found == [schema]


def test_postgres_schemas_do_not_see_each_others_tables(
    make_postgres_schema_url: Callable[[], str],
) -> None:
    first, second = make_postgres_schema_url(), make_postgres_schema_url()
    assert _insert_case(first, "first schema") == ["first schema"]
    assert _insert_case(second, "second schema") == ["second schema"]

    engine = sa.create_engine(second)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM cases")) == 1
    finally:
        engine.dispose()


def test_redis_prefix_keys_are_deleted_after_the_test(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    prefix_file = tmp_path / "prefix.txt"
    # The fixture only runs its cleanup after a test, so a child pytest plays that test.
    # 1,200 keys span several SCAN pages, so the cleanup must follow the cursor.
    result = _run_inner_pytest(
        tmp_path,
        """
        import os, pathlib, redis

        def test_writes_keys(redis_url, redis_prefix):
            client = redis.Redis.from_url(redis_url)
            client.mset({f"{redis_prefix}k{i}": i for i in range(1200)})
            assert client.exists(f"{redis_prefix}k0")
            pathlib.Path(os.environ["PREFIX_FILE"]).write_text(redis_prefix)
        """,
        {"PREFIX_FILE": str(prefix_file), "COMMANDHALL_TEST_REDIS_URL": redis_url},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    inner_prefix = prefix_file.read_text()
    assert inner_prefix.startswith("chtest:") and inner_prefix != redis_prefix
    with redis.Redis.from_url(redis_url) as client:
        assert list(client.scan_iter(match=f"{inner_prefix}*")) == []


# A session fixture that fails is reported as an error at setup; exit code 1 all the same.
@pytest.mark.parametrize(
    ("ci", "returncode", "outcome"), [("true", 1, "1 error"), ("", 0, "1 skipped")]
)
def test_unreachable_redis_fails_under_ci_and_skips_elsewhere(
    tmp_path: Path, ci: str, returncode: int, outcome: str
) -> None:
    closed_port = free_port()
    result = _run_inner_pytest(
        tmp_path,
        """
        def test_needs_redis(redis_url):
            pass
        """,
        {"CI": ci, "COMMANDHALL_TEST_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == returncode, output
    assert outcome in result.stdout.splitlines()[-1], output
    assert "Redis is not available" in result.stdout


def test_require_service_fails_under_ci_and_skips_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Camera gateway is not available: down"):
        require_service("Camera gateway", "down")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="Camera gateway is not available: down"):
        require_service("Camera gateway", "down")


def test_free_port_can_be_bound() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))


def test_chromium_renders_chinese_and_saves_a_screenshot(
    chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    html = """<!doctype html><meta charset="utf-8">
        <body style="font: 48px sans-serif; margin: 40px">
        <h1>社会治理综合指挥中心</h1>
        <p>上报 → 核实 → 立案 → 派遣 → 签收 → 处置中 → 已处置 → 结案</p>
        <canvas id="c" width="64" height="64"></canvas>
        <script>console.log("wall screen ready")</script>"""
    chromium_driver.get("data:text/html;charset=utf-8," + urllib.parse.quote(html))
    assert chromium_driver.find_element("tag name", "h1").text == "社会治理综合指挥中心"
    assert chromium_driver.execute_script("return [innerWidth, innerHeight]") == [1920, 1080]

    # Without a CJK font every character is the same empty box, so two different
    # characters drawing identical pixels means the font is missing.
    glyphs_differ = chromium_driver.execute_script(
        """
        const canvas = document.getElementById("c"), ctx = canvas.getContext("2d");
        const draw = (ch) => {
            ctx.clearRect(0, 0, 64, 64); ctx.font = "48px sans-serif"; ctx.fillText(ch, 4, 52);
            return canvas.toDataURL();
        };
        return draw("中") !== draw("国");
        """
    )
    assert glyphs_differ, "中 and 国 render identically: is fonts-noto-cjk installed?"

    screenshot = artifacts_dir / "infrastructure-chromium-cjk.png"
    screenshot.unlink(missing_ok=True)
    assert chromium_driver.save_screenshot(str(screenshot))
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000
    entries = chromium_driver.get_log("browser")  # type: ignore[no-untyped-call]
    messages = [entry["message"] for entry in entries]
    assert any("wall screen ready" in message for message in messages), messages


@pytest.mark.parametrize("chromium_viewport_size", [(3840, 2160)])
def test_chromium_viewport_can_be_set_for_a_4k_wall(
    chromium_driver: WebDriver, tmp_path: Path
) -> None:
    chromium_driver.get("data:text/html,<body>4K</body>")
    assert chromium_driver.execute_script("return [innerWidth, innerHeight]") == [3840, 2160]
    screenshot = tmp_path / "wall.png"
    chromium_driver.save_screenshot(str(screenshot))
    header = screenshot.read_bytes()[16:24]
    assert (int.from_bytes(header[:4]), int.from_bytes(header[4:])) == (3840, 2160)
