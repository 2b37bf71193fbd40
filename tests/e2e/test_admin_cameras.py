"""The camera registry page (/admin/cameras) in real Chromium against a real server.

One server for the module; each test signs its own browser in through /login.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import func, select

from dispatch.adapters.orm import CameraRow
from dispatch.domain.geometry import centroid, point_in_polygon
from dispatch.domain.org import UnitKind
from tests.support import LiveServer, browser_sign_in, build_app, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("admin-cameras")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    live = LiveServer(app).start()
    yield live
    live.stop()


def open_page(
    driver: WebDriver, server: LiveServer, username: str = "admin", query: str = ""
) -> None:
    browser_sign_in(driver, server.url, username)
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)
    driver.get(f"{server.url}/admin/cameras{query}")


def text_of(driver: WebDriver, element_id: str) -> str:
    text = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : ''",
        element_id,
    )
    return str(text or "").strip()


def shown_codes(driver: WebDriver) -> list[str]:
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('#admin-cameras-table .admin-row')]"
            ".map(r => r.dataset.code)"
        )
    )


def row_of(driver: WebDriver, code: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"#admin-cameras-table tr[data-code='{code}']")


def row_text(driver: WebDriver, code: str) -> str:
    """The row's text, read in one go (the table is redrawn after every change)."""
    text = driver.execute_script(
        "const r = document.querySelector(`#admin-cameras-table tr[data-code='${arguments[0]}']`);"
        " return r ? r.innerText : ''",
        code,
    )
    return str(text or "")


def camera_count(server: LiveServer) -> int:
    with server.app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CameraRow)) or 0)


def grid_points(server: LiveServer, n: int) -> list[tuple[float, float]]:
    """(lat, long) of n grid centres that fall inside their own grid."""
    app, found = server.app, []
    for grid in sorted(app.names.units.values(), key=lambda u: u.id):
        if grid.kind is UnitKind.GRID and grid.polygon:
            long, lat = centroid(grid.polygon[0])
            if point_in_polygon(long, lat, grid.polygon):
                found.append((round(lat, 6), round(long, 6)))
        if len(found) == n:
            return found
    raise AssertionError("too few grids")


def fill(driver: WebDriver, name: str, value: str) -> None:
    field = driver.find_element(By.ID, f"admin-cameras-field-{name}")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    if value:
        field.send_keys(value)


def import_file(driver: WebDriver, path: Path) -> None:
    upload = driver.find_element(By.CSS_SELECTOR, "#admin-cameras-upload input[type=file]")
    upload.send_keys(str(path))


def test_the_page_lists_adds_with_field_errors_and_imports_a_csv(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    driver = chromium_driver
    open_page(driver, server)
    WebDriverWait(driver, 20).until(lambda d: len(shown_codes(d)) == camera_count(server))
    assert text_of(driver, "admin-cameras-count") == f"共 {camera_count(server)} 个"
    assert "CAM001" in shown_codes(driver)
    first = row_text(driver, "CAM001")
    assert "金龙街道" in first or "/" in first  # township / grid
    assert "演示" in first and "在线" in first

    # A point outside the county: the error stands next to the latitude, nothing is stored.
    before = camera_count(server)
    fill(driver, "name", "人民路与建设路口")
    fill(driver, "lat", "1")
    fill(driver, "long", "1")
    fill(driver, "source", "rtsp://192.168.1.64/Streaming/Channels/101")
    driver.find_element(By.ID, "admin-cameras-save").click()
    WebDriverWait(driver, 10).until(lambda d: text_of(d, "admin-cameras-error-lat"))
    assert "outside" in text_of(driver, "admin-cameras-error-lat")
    assert text_of(driver, "admin-cameras-error-source") == ""
    assert camera_count(server) == before

    (lat, long), *_ = grid_points(server, 1)
    fill(driver, "lat", str(lat))
    fill(driver, "long", str(long))
    driver.find_element(By.ID, "admin-cameras-save").click()
    WebDriverWait(driver, 10).until(lambda d: "已添加" in text_of(d, "admin-cameras-flash"))
    assert text_of(driver, "admin-cameras-error-lat") == ""
    code = f"CAM-{before + 1}"
    WebDriverWait(driver, 10).until(lambda d: code in shown_codes(d))
    assert "人民路与建设路口" in row_text(driver, code) and "RTSP" in row_text(driver, code)

    # Import: one good file creates; a file with a bad row stores nothing and says where.
    points = grid_points(server, 3)
    good = tmp_path / "新增摄像头.csv"
    rows = [f"E2E-{n},导入摄像头{n},{lat},{long},demo:E2E-{n},路口{n}"
            for n, (lat, long) in enumerate(points)]  # fmt: skip
    good.write_text("\ufeff编号,名称,纬度,经度,视频源,地址\n" + "\n".join(rows) + "\n", "utf-8")
    import_file(driver, good)
    WebDriverWait(driver, 15).until(lambda d: "新建 3 个" in text_of(d, "admin-cameras-report"))
    WebDriverWait(driver, 10).until(lambda d: "E2E-2" in shown_codes(d))

    bad = tmp_path / "有错误.csv"
    bad.write_text(
        "code,name,lat,long,source\n"
        f"E2E-9,好的,{points[0][0]},{points[0][1]},demo:x\n"
        f"E2E-10,坏的,{points[0][0]},{points[0][1]},http://x/y.flv\n",
        "utf-8",
    )
    count = camera_count(server)
    import_file(driver, bad)
    WebDriverWait(driver, 15).until(lambda d: "未导入" in text_of(d, "admin-cameras-report"))
    report = text_of(driver, "admin-cameras-report")
    assert "1 行有误" in report and "视频源" in report and "http:" in report
    cells = driver.find_elements(By.CSS_SELECTOR, "#admin-cameras-report .admin-report-row td")
    assert [c.text for c in cells[:2]] == ["3", "视频源"]
    assert camera_count(server) == count
    driver.save_screenshot(str(artifacts_dir / "admin-cameras-1920x1080.png"))
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_edit_disable_enable_and_delete_with_confirmation(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    open_page(driver, server, query="?lang=en")
    WebDriverWait(driver, 20).until(lambda d: "CAM060" in shown_codes(d))
    search = driver.find_element(By.ID, "admin-cameras-q")
    search.send_keys("CAM060", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: shown_codes(d) == ["CAM060"])

    row_of(driver, "CAM060").find_element(By.XPATH, ".//button[text()='Edit']").click()
    WebDriverWait(driver, 10).until(
        lambda d: text_of(d, "admin-cameras-form-title") == "Edit camera CAM060"
    )
    fill(driver, "address", "East gate")
    driver.save_screenshot(str(artifacts_dir / "admin-cameras-edit-en-1920x1080.png"))
    driver.find_element(By.ID, "admin-cameras-save").click()
    WebDriverWait(driver, 10).until(
        lambda d: "Saved camera CAM060" in text_of(d, "admin-cameras-flash")
    )
    WebDriverWait(driver, 10).until(lambda d: "East gate" in row_text(d, "CAM060"))

    row_of(driver, "CAM060").find_element(By.XPATH, ".//button[text()='Disable']").click()
    WebDriverWait(driver, 10).until(lambda d: "Disabled" in row_text(d, "CAM060"))
    row_of(driver, "CAM060").find_element(By.XPATH, ".//button[text()='Enable']").click()
    WebDriverWait(driver, 10).until(lambda d: "Unknown" in row_text(d, "CAM060"))

    before = camera_count(server)
    row_of(driver, "CAM060").find_element(By.XPATH, ".//button[text()='Delete']").click()
    alert = WebDriverWait(driver, 10).until(expected_conditions.alert_is_present())
    assert "CAM060" in alert.text
    alert.accept()
    WebDriverWait(driver, 10).until(lambda d: shown_codes(d) == [])
    assert "Deleted CAM060" in text_of(driver, "admin-cameras-flash")
    assert camera_count(server) == before - 1


def test_a_duty_officer_sees_no_permission(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    open_page(driver, server, "duty")
    WebDriverWait(driver, 20).until(lambda d: text_of(d, "admin-cameras-notice"))
    assert text_of(driver, "admin-cameras-notice") == "无权限"
    driver.save_screenshot(str(artifacts_dir / "admin-cameras-denied-1920x1080.png"))
    assert not driver.find_elements(By.ID, "admin-cameras-table")


def test_signed_out_the_page_sends_you_to_sign_in(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    chromium_driver.get(f"{server.url}/admin/cameras")
    WebDriverWait(chromium_driver, 10).until(lambda d: "/login" in d.current_url)
    assert "next=/admin/cameras" in chromium_driver.current_url
