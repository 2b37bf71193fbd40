"""24/7: the wall notices a lost server, says it is reconnecting, and catches up by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.bootstrap import build_core
from dispatch.config import Settings
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service.intake import NewReport, submit_report
from tests.conftest import free_port

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


def start_demo(data_dir: Path, port: int) -> subprocess.Popen[str]:
    """`commandhall demo` as a newcomer runs it (no simulator, so the log stays still)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDHALL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "demo", "--no-simulator", "--port", str(port),
         "--data-dir", str(data_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    seen = ""
    while "Press Ctrl+C" not in seen:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line or proc.poll() is None, f"demo exited:\n{seen}"
        seen += line
        assert time.monotonic() < deadline, seen
    return proc


def conn_class(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "wall-conn").get_attribute("class") or ""


def report_while_the_server_is_down(data_dir: Path, text: str) -> int:
    """Commit a case straight into the demo's database, as another process would."""
    core, names = build_core(Settings(data_dir=data_dir, secret_key="x"), migrate=False)
    try:
        grid = min((u for u in names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id)
        long, lat = centroid(grid.polygon[0])
        report = NewReport(service_code="road", lat=lat, long=long, description=text)
        return submit_report(core, report).case_id
    finally:
        core.db.dispose()


def test_the_wall_shows_it_is_reconnecting_and_catches_up_after_a_restart(
    chromium_driver: WebDriver, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    proc = start_demo(data_dir, port)
    try:
        chromium_driver.get(f"http://127.0.0.1:{port}/wall")
        wait = WebDriverWait(chromium_driver, 30)
        wait.until(lambda d: "is-connected" in conn_class(d), "never connected")
        proc.send_signal(signal.SIGKILL)  # no goodbye to the screens
        proc.wait(timeout=10)
        wait.until(
            lambda d: "is-reconnecting" in conn_class(d) or "is-offline" in conn_class(d),
            "the wall did not show that it lost the server",
        )
        shown = chromium_driver.find_element(By.ID, "wall-conn").text
        assert shown in ("重连中", "离线"), shown
        case_id = report_while_the_server_is_down(data_dir, "服务器重启期间上报：井盖缺失")
        proc = start_demo(data_dir, port)
        wait.until(lambda d: "is-connected" in conn_class(d), "the wall never came back")
        wait.until(
            lambda d: d.execute_script(
                "return [...document.querySelectorAll('#wall-latest-list .wall-row')]"
                ".some(li => li.dataset.caseId === arguments[0])",
                str(case_id),
            ),
            "the case committed while the wall was away never showed",
        )
    finally:
        proc.kill()
        proc.wait(timeout=10)
