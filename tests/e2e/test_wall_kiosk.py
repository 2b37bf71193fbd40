"""A kiosk wall signs in with its device token (`/wall?token=dev_...`), keeps it through a
reload, and says plainly when the server will not have it: never a blank screen.

The server here refuses anonymous screens, as a production deployment does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import accounts, queries
from dispatch.service.intake import NewReport, submit_report
from tests.support import LiveServer, build_app, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

TOKEN_KEY = "commandhall.screenToken"  # assets/js/bridge.js
REFUSED_WITHIN = 15  # seconds: the bridge asks why after 4 s without a connection


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("wall-kiosk")
    app = with_users(
        build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", anonymous_screens=False)
    )
    live = LiveServer(app).start()
    yield live
    live.stop()


def kiosk_token(server: LiveServer) -> str:
    user_id = accounts.user_id_by_name(server.app.core, "wall")
    assert user_id is not None, "the demo has no kiosk account `wall`"
    return accounts.issue_device_token(server.app.core, user_id, label="hall wall")


def conn(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "wall-conn").get_attribute("class") or ""


def wait_connected(driver: WebDriver) -> None:
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.ID, "wall-conn") and "is-connected" in conn(d),
        "the kiosk never connected",
    )
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "wall-kpi-open").text.isdigit(), "no KPIs shown"
    )


def alert(driver: WebDriver) -> dict[str, Any]:
    found: dict[str, Any] = driver.execute_script(
        "const a = document.getElementById('wall-alert');"
        "return {shown: !!a && !a.hidden && a.getBoundingClientRect().height > 0,"
        " text: a ? a.innerText : '', status: document.getElementById('wall-live')"
        ".getAttribute('data-status')}"
    )
    return found


def wait_refused(driver: WebDriver) -> dict[str, Any]:
    WebDriverWait(driver, REFUSED_WITHIN, poll_frequency=0.2).until(
        lambda d: d.find_elements(By.ID, "wall-alert") and alert(d)["shown"],
        f"the wall showed no message within {REFUSED_WITHIN} s",
    )
    return alert(driver)


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    # The refused socket and the refused check are logged by Chromium itself; they are the
    # point of these tests, not faults of the page.
    return [
        e for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "40" not in e["message"] and "socket.io" not in e["message"]
    ]  # fmt: skip


def test_a_kiosk_signs_in_with_its_device_token_and_stays_signed_in_after_a_reload(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    app = server.app
    townships = app.names.townships()
    for township in (townships[0], townships[-1]):  # a case in each of two townships
        grid = next(
            u
            for u in app.names.units.values()
            if u.kind == UnitKind.GRID
            and app.core.grids.locate(*centroid(u.polygon[0])).township_id == township.id
        )
        long, lat = centroid(grid.polygon[0])
        submit_report(app.core, NewReport(service_code="road", lat=lat, long=long,
                                          description=f"{township.name}路面坑洼"))  # fmt: skip
    token = kiosk_token(server)
    driver.get(f"{server.url}/wall?token={token}")
    wait_connected(driver)
    assert driver.execute_script(f"return localStorage.getItem('{TOKEN_KEY}')") == token
    # The kiosk sees the whole county.
    shown = driver.find_element(By.ID, "wall-kpi-open").text
    assert shown == str(queries.kpis(app.core)["open"]) and int(shown) >= 2

    driver.get(f"{server.url}/wall")  # a restart: the URL has lost its token
    wait_connected(driver)
    assert driver.execute_script(f"return localStorage.getItem('{TOKEN_KEY}')") == token
    assert not alert(driver)["shown"]
    assert console_errors(driver) == []


def test_a_revoked_token_is_refused_with_a_message_not_a_blank_wall(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    token = kiosk_token(server)
    driver.get(f"{server.url}/wall?token={token}")
    wait_connected(driver)
    user_id = accounts.user_id_by_name(server.app.core, "wall")
    assert user_id is not None and accounts.revoke_device_tokens(server.app.core, user_id) >= 1

    driver.get(f"{server.url}/wall")
    shown = wait_refused(driver)
    assert "大屏无法接入" in shown["text"] and "设备令牌无效或已被撤销" in shown["text"], shown
    assert "revoked" in shown["text"]  # and the server's own words
    assert "device-token create" in shown["text"]  # what to do about it
    assert shown["status"] == "refused"
    assert driver.find_element(By.ID, "wall-conn").text == "已拒绝"
    driver.save_screenshot(str(artifacts_dir / "wall-1920x1080-refused.png"))

    # A new token in the URL replaces the revoked one, and the wall is back.
    fresh = kiosk_token(server)
    driver.get(f"{server.url}/wall?token={fresh}")
    wait_connected(driver)
    assert not alert(driver)["shown"]


def test_a_wall_without_a_token_where_one_is_needed_says_so(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    driver.get(f"{server.url}/wall")
    shown = wait_refused(driver)
    assert "大屏无法接入" in shown["text"] and "还没有设备令牌" in shown["text"], shown
    assert shown["status"] == "refused"
