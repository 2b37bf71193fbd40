"""The whole closed loop in two real browsers against one real server.

A citizen reports with a photo on /report (a phone); the duty officer, whose case page stays
open the whole time on a 1920×1080 screen, verifies, registers and dispatches in one click;
the grid worker, on the phone's /field page, accepts and reports the result with a photo;
the officer closes; the citizen rates 2; the case is reopened. Every step by somebody else
must show on the officer's screen without a reload.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageDraw
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow, EventRow, PhotoRow
from dispatch.domain.geometry import centroid, point_in_polygon
from dispatch.service.queries import case_id_from_ticket
from tests.e2e.test_console import by_dash_id, open_console, row_ids, same_document, text_of
from tests.support import LiveServer, browser_sign_in, build_app, device_token, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

STEP_WITHIN = 5.0  # seconds for somebody else's step to show on the officer's screen


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("loop")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    live = LiveServer(app).start()
    yield live
    live.stop()


def picture(path: Path, colour: str) -> Path:
    image = Image.new("RGB", (800, 600), colour)
    ImageDraw.Draw(image).rectangle((300, 200, 500, 450), fill="#555f66")
    image.save(path, "JPEG", quality=85)
    return path


def wait(driver: WebDriver, timeout: float = 10) -> WebDriverWait[WebDriver]:
    return WebDriverWait(
        driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
    )


def tap(driver: WebDriver, element_id: str) -> None:
    """Scroll clear of the phone page's fixed bars, then click (found again if redrawn)."""

    def click(d: WebDriver) -> bool:
        element = d.find_element(By.ID, element_id)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return True

    wait(driver).until(click)


def stand_at(driver: WebDriver, origin: str, lat: float, long: float) -> None:
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]}
    )
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": long, "accuracy": 10}
    )


def officer_sees(officer: WebDriver, state: str, step: str) -> None:
    wait(officer, STEP_WITHIN).until(
        lambda d: text_of(d, "case-state") == state,
        f"the officer's page did not show {state} after {step} within {STEP_WITHIN} s",
    )
    assert same_document(officer), f"the officer's page reloaded to show {step}"


def events_of(server: LiveServer, case_id: int, kind: str) -> int:
    with server.app.core.db.read() as session:
        q = select(func.count()).select_from(EventRow)
        return int(session.scalar(q.where(EventRow.case_id == case_id, EventRow.type == kind)))


def test_report_dispatch_handle_close_rate_2_reopens_and_the_officer_sees_every_step(
    server: LiveServer,
    chromium_driver: WebDriver,
    phone_driver: WebDriver,
    artifacts_dir: Path,
    tmp_path: Path,
) -> None:
    app, officer, phone = server.app, chromium_driver, phone_driver
    # The grid worker of a grid that holds its own centroid; the citizen stands there too.
    worker = next(
        w
        for w in sorted(app.names.workers.values(), key=lambda w: w.id)
        if point_in_polygon(
            *centroid(app.names.units[w.grid_id].polygon[0]), app.names.units[w.grid_id].polygon
        )
    )
    long, lat = centroid(app.names.units[worker.grid_id].polygon[0])

    # The duty officer's console is open before the report comes in.
    open_console(officer, server, "duty")

    # 1. The citizen snaps and reports.
    stand_at(phone, server.url, lat, long)
    phone.get(f"{server.url}/report")
    wait(phone, 20).until(
        lambda d: d.find_element(By.ID, "rp-map").get_attribute("data-ready") == "1"
    )
    Select(phone.find_element(By.ID, "rp-category")).select_by_value("garbage")
    phone.find_element(By.ID, "rp-description").send_keys("小区门口垃圾桶满溢三天了，臭味很大")
    phone.find_element(By.ID, "rp-locate").click()
    wait(phone).until(lambda d: "网格" in d.find_element(By.ID, "rp-location-status").text)
    phone.find_element(By.ID, "rp-photos").send_keys(str(picture(tmp_path / "bin.jpg", "#7a9a4a")))
    tap(phone, "rp-submit")
    wait(phone, 20).until(lambda d: d.find_element(By.ID, "rp-view-done").is_displayed())
    ticket = phone.find_element(By.ID, "rp-done-ticket").text
    assert re.match(r"^\d{6}-\d{5}$", ticket), ticket
    case_id = case_id_from_ticket(ticket)

    # 2. It shows in the officer's 待核实 without a reload; one click on each step.
    by_dash_id(officer, type="console-tab", bucket="verify").click()
    wait(officer, STEP_WITHIN).until(lambda d: case_id in row_ids(d), "the report never showed")
    assert same_document(officer)
    row = officer.find_element(By.CSS_SELECTOR, f".console-row[data-case-id='{case_id}']")
    row.find_element(By.CSS_SELECTOR, "a.console-ticket").click()
    wait(officer).until(lambda d: text_of(d, "case-state") == "上报")
    officer.execute_script("window.__sameDocument = true")  # from here on: never reloaded
    by_dash_id(officer, type="case-do", form="verify").click()
    wait(officer).until(lambda d: text_of(d, "case-state") == "核实")
    by_dash_id(officer, type="case-do", form="register").click()
    wait(officer).until(lambda d: text_of(d, "case-state") == "立案")
    by_dash_id(officer, type="case-do", form="dispatch").click()  # one click: the suggestion
    wait(officer).until(lambda d: text_of(d, "case-state") == "派遣")
    wait(officer).until(lambda d: text_of(d, "case-worker") == worker.name)
    with app.core.db.read() as session:
        row_ = session.get(CaseRow, case_id)
        assert row_ is not None
        assert (row_.worker_id, row_.unit_id, row_.department) == (
            worker.id, row_.township_id, "urbanmgmt",
        )  # fmt: skip

    # 3. The grid worker's phone: the task is there; accept, then the result with a photo.
    phone.get(f"{server.url}/field?token={device_token(app, worker.id)}")
    task = f"#field-tasks [data-case-id='{case_id}']"
    wait(phone, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, task), "no task on /field")
    phone.execute_script(f'document.querySelector("{task}").click()')
    wait(phone).until(lambda d: d.find_elements(By.ID, "field-action-accept"))
    tap(phone, "field-action-accept")
    officer_sees(officer, "签收", "the worker accepted")
    wait(phone).until(lambda d: d.find_elements(By.ID, "field-action-report_handled"))
    tap(phone, "field-action-report_handled")
    phone.find_element(By.ID, "field-form-text").send_keys("已清运垃圾并消毒，垃圾桶已复位")
    phone.find_element(By.ID, "field-result-camera").send_keys(
        str(picture(tmp_path / "done.jpg", "#4a7a9a"))
    )
    wait(phone).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#field-result-previews img"))
    tap(phone, "field-form-submit")
    officer_sees(officer, "已处置", "the worker reported the result")
    wait(officer).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".case-photo img")) == 2,
        "the officer does not see the report photo and the result photo",
    )

    # 4. The officer checks the result and closes.
    by_dash_id(officer, type="case-do", form="close").click()
    wait(officer).until(lambda d: text_of(d, "case-state") == "结案")

    # 5. The citizen rates 2 (unsatisfied): the case is reopened, and the officer sees it.
    phone.get(f"{server.url}/report#status/{ticket}")
    wait(phone, 15).until(lambda d: d.find_element(By.ID, "rp-status-state").text == "结案")
    phone.find_element(By.CSS_SELECTOR, ".rp-star[data-value='2']").click()
    tap(phone, "rp-rate-submit")
    wait(phone).until(lambda d: "重新交办" in d.find_element(By.ID, "rp-rate-result").text)
    officer_sees(officer, "重办", "the citizen rated 2")
    officer.save_screenshot(str(artifacts_dir / "loop-case-reopened-1920x1080.png"))

    with app.core.db.read() as session:
        case = session.get(CaseRow, case_id)
        assert case is not None and (case.state, case.rating, case.reopen_count) == (
            "reopened", 2, 1,
        )  # fmt: skip
        kinds = session.scalars(
            select(PhotoRow.kind).where(PhotoRow.case_id == case_id).order_by(PhotoRow.id)
        ).all()
    assert list(kinds) == ["report", "result"]
    for kind in ("case.reported", "case.verified", "case.registered", "case.dispatched",
                 "case.accepted", "case.handled", "case.closed", "case.reopened"):  # fmt: skip
        assert events_of(server, case_id, kind) == 1, kind
    assert same_document(officer)


def test_the_officer_signs_in_and_out_through_the_form(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    browser_sign_in(chromium_driver, server.url, "duty")
    wait(chromium_driver, 20).until(lambda d: d.current_url.endswith("/console"))
    started = time.monotonic()
    chromium_driver.get(f"{server.url}/login")
    chromium_driver.find_element(By.ID, "login-username").send_keys("duty")
    chromium_driver.find_element(By.ID, "login-password").send_keys("wrong password")
    chromium_driver.find_element(By.ID, "login-submit").click()
    error = wait(chromium_driver).until(lambda d: d.find_element(By.ID, "login-error-password"))
    assert error.text == "用户名或密码错误"
    assert time.monotonic() - started < 10
