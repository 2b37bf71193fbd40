"""The citizen's page (/report) in a phone-sized Chromium against a real server.

A citizen reports with a photo and its location, sees the server refuse a wrong file next
to the photo picker, gets the ticket and rating code, follows the case and, once it is
closed, rates it unsatisfied, which reopens it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from PIL import Image, ImageDraw
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow, IdempotencyRow, PhotoRow
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions, queries
from tests.support import LiveServer, build_app

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

PHONE = (412, 915)
TICKET = re.compile(r"^\d{6}-\d{5}$")
RATING_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")
TO_CLOSED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("verify", {}), ("register", {}), ("dispatch", {}), ("accept", {}),
    ("report_handled", {"result": "已更换井盖"}), ("close", {}),
)  # fmt: skip


@pytest.fixture
def chromium_viewport_size() -> tuple[int, int]:
    return PHONE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("report")
    app = build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}")
    live = LiveServer(app).start()
    yield live
    live.stop()


def grid_points(server: LiveServer) -> list[tuple[str, float, float]]:
    """(grid name, lat, long) of grid centroids that fall inside their own grid."""
    found = []
    for unit in sorted(server.app.names.units.values(), key=lambda u: u.id):
        if unit.kind is UnitKind.GRID and unit.polygon:
            long, lat = centroid(unit.polygon[0])
            if server.app.core.grids.locate(long, lat).grid_id == unit.id:
                found.append((unit.name, lat, long))
    assert len(found) >= 2, "the demo county has too few grids containing their centroid"
    return found


def write_jpeg(path: Path, color: str) -> Path:
    image = Image.new("RGB", (640, 480), color)
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 120, 440, 360), fill="#333333")  # a manhole, more or less
    image.save(path, "JPEG", quality=85)
    return path


def open_report(driver: WebDriver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.ID, "rp-map").get_attribute("data-ready") == "1",
        "the map never loaded its base layers",
    )


def visible(driver: WebDriver, element_id: str, timeout: float = 10) -> WebElement:
    return WebDriverWait(driver, timeout).until(
        lambda d: (e := d.find_element(By.ID, element_id)).is_displayed() and e,
        f"#{element_id} never became visible",
    )


def counts(server: LiveServer) -> tuple[int, int]:
    with server.app.core.db.read() as session:
        cases = session.scalar(select(func.count()).select_from(CaseRow)) or 0
        photos = session.scalar(select(func.count()).select_from(PhotoRow)) or 0
    return int(cases), int(photos)


def screenshot(driver: WebDriver, path: Path, element_id: str | None = None) -> None:
    if element_id:
        driver.execute_script(
            "document.getElementById(arguments[0]).scrollIntoView({block: 'start'});"
            "scrollBy(0, -60)",
            element_id,
        )
    driver.save_screenshot(str(path))


def full_page_screenshot(driver: WebDriver, path: Path, width: int = PHONE[0]) -> None:
    """The whole page, top to bottom, at the phone's width."""
    import base64

    height = driver.execute_script("scrollTo(0, 0); return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def page_fits(driver: WebDriver) -> None:
    width = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def js_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """Severe console entries, except the API's refusals that the test provoked and the
    page showed (Chromium logs every 4xx and every offline request as a network error)."""
    return [
        e
        for e in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if e["level"] == "SEVERE" and not (e.get("source") == "network" and "/api/" in e["message"])
    ]


def test_a_citizen_reports_with_a_photo_then_rates_the_closed_case_unsatisfied_and_it_reopens(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    driver = chromium_driver
    _, lat, long = grid_points(server)[0]
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": server.url, "permissions": ["geolocation"]}
    )
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": long, "accuracy": 12}
    )
    open_report(driver, f"{server.url}/report")
    page_fits(driver)

    Select(driver.find_element(By.ID, "rp-category")).select_by_value("road")
    description = "文昌路12号门口井盖缺失，夜里行人容易踩空"
    driver.find_element(By.ID, "rp-description").send_keys(description)
    driver.find_element(By.ID, "rp-locate").click()
    status = driver.find_element(By.ID, "rp-location-status")
    WebDriverWait(driver, 10).until(lambda d: "已定位" in status.text, "no location")
    assert "网格" in status.text, status.text

    # A text file named like a photo passes the browser's check (its type comes from the
    # name) and is refused by the server, which decides by content: the error is next to
    # the photo picker, and nothing was stored or lost.
    fake = tmp_path / "scene.jpg"
    fake.write_text("this is not a picture\n", encoding="utf-8")
    driver.find_element(By.ID, "rp-photos").send_keys(str(fake))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#rp-photo-list .rp-photo")) == 1
    before = counts(server)
    driver.find_element(By.ID, "rp-submit").click()
    error = visible(driver, "rp-error-photos")
    assert "照片无法使用" in error.text and "not a JPEG, PNG or WebP" in error.text, error.text
    assert "is-invalid" in (
        driver.find_element(By.ID, "rp-field-photos").get_attribute("class") or ""
    )
    screenshot(driver, artifacts_dir / "report-photo-refused-412.png", "rp-field-photos")
    assert counts(server) == before
    assert driver.find_element(By.ID, "rp-description").get_attribute("value") == description
    assert driver.find_element(By.ID, "rp-submit").is_enabled()

    driver.find_element(By.CSS_SELECTOR, "#rp-photo-list .rp-photo-remove").click()
    assert not driver.find_element(By.ID, "rp-error-photos").is_displayed()
    photo = write_jpeg(tmp_path / "manhole.jpg", "#8a9aa8")
    driver.find_element(By.ID, "rp-photos").send_keys(str(photo))
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('#rp-photo-list img'); return i && i.naturalWidth"
        ),
        "the photo preview never showed",
    )
    full_page_screenshot(driver, artifacts_dir / "report-form-412.png")

    driver.find_element(By.ID, "rp-submit").click()
    visible(driver, "rp-view-done", timeout=20)
    ticket = driver.find_element(By.ID, "rp-done-ticket").text
    code = driver.find_element(By.ID, "rp-done-code").text
    assert TICKET.match(ticket), ticket
    assert RATING_CODE.match(code), code
    assert not driver.find_element(By.ID, "rp-view-report").is_displayed()
    page_fits(driver)
    screenshot(driver, artifacts_dir / "report-confirmation-412.png")

    case_id = queries.case_id_from_ticket(ticket)
    with server.app.core.db.read() as session:
        case = session.get(CaseRow, case_id)
        assert case is not None
        assert (case.channel, case.service_code, case.state) == ("citizen", "road", "reported")
        assert case.description == description
        assert case.lat == pytest.approx(lat, abs=1e-5)
        assert case.long == pytest.approx(long, abs=1e-5)
        rows = session.scalars(select(PhotoRow).where(PhotoRow.case_id == case_id)).all()
    assert [(r.content_type, r.original_name) for r in rows] == [("image/jpeg", "manhole.jpg")]
    stored = Path(server.app.settings.data_dir) / rows[0].path
    assert stored.read_bytes() == photo.read_bytes()

    for action, params in TO_CLOSED:
        actions.perform(server.app.core, case_id, action, params, actor="test")

    driver.find_element(By.ID, "rp-done-track").click()
    visible(driver, "rp-status")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "结案", "not shown closed"
    )
    steps = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#rp-steps .rp-step-label")]
    assert steps[0] == "已办结" and steps[-1] == "已收到您的上报", steps
    assert "已交办责任单位" in steps
    times = driver.find_elements(By.CSS_SELECTOR, "#rp-steps .rp-step-time")
    assert all(re.search(r"\d{2}:\d{2}", t.text) for t in times)
    # The rating code was kept on this phone: nothing to type.
    assert not driver.find_element(By.ID, "rp-field-code").is_displayed()
    driver.find_element(By.CSS_SELECTOR, ".rp-star[data-value='2']").click()
    screenshot(driver, artifacts_dir / "report-status-rate-412.png", "rp-status")
    driver.find_element(By.ID, "rp-rate-submit").click()

    result = visible(driver, "rp-rate-result")
    assert "重新交办" in result.text, result.text
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "重办", "not shown reopened"
    )
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#rp-steps .rp-step-label")]
    assert labels[0] == "已重新交办", labels
    with server.app.core.db.read() as session:
        case = session.get(CaseRow, case_id)
        assert case is not None and (case.state, case.rating) == ("reopened", 2)
    page_fits(driver)
    screenshot(driver, artifacts_dir / "report-status-reopened-412.png", "rp-status")

    # 我的上报 remembers the report across a reload, with its last known state.
    driver.get(f"{server.url}/report#status")
    mine = visible(driver, "rp-mine")
    assert ticket in mine.text and "重办" in mine.text, mine.text
    assert js_errors(driver) == []


def tap_map_at(driver: WebDriver, lat: float, long: float, zoom: float = 14) -> None:
    """Zoom in around the point, as a person would with two fingers, and tap it."""
    box = driver.find_element(By.ID, "rp-map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    x, y, width, height = driver.execute_script(
        "const m = CommandHall.reportMap, at = [arguments[0], arguments[1]];"
        "m.setView(at, arguments[2], {animate: false});"
        "const p = m.latLngToContainerPoint(at), s = m.getSize(); return [p.x, p.y, s.x, s.y]",
        lat,
        long,
        zoom,
    )
    assert 0 < x < width and 0 < y < height, f"the point is off the map: {(x, y)}"
    # Selenium offsets are from the element's centre.
    ActionChains(driver).move_to_element_with_offset(
        box, int(x - width / 2), int(y - height / 2)
    ).click().perform()


def network(driver: WebDriver, *, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def test_in_english_the_browser_checks_first_and_a_tap_on_the_map_picks_the_point(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    name, lat, long = grid_points(server)[1]
    open_report(driver, f"{server.url}/report?lang=en")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Snap and report"
    before = counts(server)

    driver.find_element(By.ID, "rp-submit").click()
    for block, words in (
        ("category", "Choose a category"),
        ("description", "Describe the problem or add a photo"),
        ("location", "Pick the location"),
    ):
        assert words in visible(driver, f"rp-error-{block}").text
    assert counts(server) == before, "the browser sent a form it knew was incomplete"

    # A tap outside the county is refused right there, before anything is sent.
    box = driver.find_element(By.ID, "rp-map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    ActionChains(driver).move_to_element_with_offset(
        box, -box.size["width"] // 2 + 12, box.size["height"] // 2 - 12
    ).click().perform()
    assert "outside this county" in visible(driver, "rp-error-location").text

    Select(driver.find_element(By.ID, "rp-category")).select_by_value("other")
    driver.find_element(By.ID, "rp-description").send_keys("Streetlight out for a week")
    tap_map_at(driver, lat, long)
    status = driver.find_element(By.ID, "rp-location-status")
    WebDriverWait(driver, 5).until(lambda d: name in status.text, f"not in {name}")
    assert not driver.find_element(By.ID, "rp-error-location").is_displayed()
    driver.find_element(By.ID, "rp-phone").send_keys("12345")
    driver.find_element(By.ID, "rp-submit").click()
    assert "not a phone number" in visible(driver, "rp-error-phone").text
    driver.find_element(By.ID, "rp-phone").clear()
    driver.find_element(By.ID, "rp-phone").send_keys("138 0000 1234")

    # The network drops during the send: the form keeps everything, and the retry carries
    # the same Idempotency-Key (recorded on its way out; the requests are real).
    driver.execute_script(
        "window.sentKeys = []; const set = XMLHttpRequest.prototype.setRequestHeader;"
        "XMLHttpRequest.prototype.setRequestHeader = function (name, value) {"
        "  if (name === 'Idempotency-Key') window.sentKeys.push(value);"
        "  return set.call(this, name, value); };"
    )
    network(driver, offline=True)
    driver.find_element(By.ID, "rp-submit").click()
    assert "network failed" in visible(driver, "rp-error-form").text
    assert counts(server) == before
    assert driver.find_element(By.ID, "rp-phone").get_attribute("value") == "138 0000 1234"
    network(driver, offline=False)
    driver.find_element(By.ID, "rp-submit").click()
    visible(driver, "rp-view-done", timeout=20)
    ticket = driver.find_element(By.ID, "rp-done-ticket").text
    keys = driver.execute_script("return window.sentKeys")
    assert len(keys) == 2 and keys[0] == keys[1], keys
    assert counts(server)[0] == before[0] + 1
    with server.app.core.db.read() as session:
        case = session.get(CaseRow, queries.case_id_from_ticket(ticket))
        assert case is not None and case.service_code == "other"
        assert case.reporter_phone == "138 0000 1234"
        stored_key = session.scalars(
            select(IdempotencyRow.key).where(IdempotencyRow.case_id == case.id)
        ).one()
    assert stored_key == keys[0]
    # A tap is as precise as a pixel: at zoom 14, about ten metres.
    assert case.lat == pytest.approx(lat, abs=5e-4) and case.long == pytest.approx(long, abs=5e-4)

    driver.find_element(By.ID, "rp-tab-status").click()
    item = visible(driver, "rp-mine").find_element(By.CSS_SELECTOR, f"[data-ticket='{ticket}']")
    item.click()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "Reported", "no status"
    )
    steps = driver.find_element(By.ID, "rp-steps").text
    assert "Your report was received" in steps
    assert not driver.find_elements(By.ID, "rp-rate-submit"), "rating offered before closing"
    page_fits(driver)
    screenshot(driver, artifacts_dir / "report-status-en-412.png")
    assert js_errors(driver) == []


def test_a_ticket_from_another_phone_asks_for_the_rating_code_and_says_when_it_is_wrong(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    _, lat, long = grid_points(server)[0]
    phone = requests.Session()
    phone.get(f"{server.url}/report", timeout=10).raise_for_status()
    answer = phone.post(
        f"{server.url}/api/reports",
        data={"service_code": "noise", "lat": str(lat), "long": str(long),
              "description": "夜间施工噪音"},
        headers={"X-CSRFToken": phone.cookies.get("_csrf_token") or ""},
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    ticket, code = answer.json()["ticket"], answer.json()["rating_code"]
    case_id = queries.case_id_from_ticket(ticket)
    for action, params in TO_CLOSED:
        actions.perform(server.app.core, case_id, action, params, actor="test")

    driver = chromium_driver
    driver.get(f"{server.url}/report#status/{ticket}")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "结案", "not shown closed"
    )
    assert driver.find_element(By.ID, "rp-ticket").get_attribute("value") == ticket
    code_input = visible(driver, "rp-rate-code")  # this phone does not know the code
    driver.find_element(By.ID, "rp-rate-submit").click()
    assert visible(driver, "rp-error-rating").text == "请选择星级"
    driver.find_element(By.CSS_SELECTOR, ".rp-star[data-value='5']").click()
    driver.find_element(By.ID, "rp-rate-submit").click()
    assert visible(driver, "rp-error-code").text == "请输入评价码"
    code_input.send_keys("AAAAAA" if code != "AAAAAA" else "BBBBBB")
    driver.find_element(By.ID, "rp-rate-submit").click()
    assert "评价码不正确" in visible(driver, "rp-error-code").text
    with server.app.core.db.read() as session:
        assert session.get(CaseRow, case_id).state == "closed"  # type: ignore[union-attr]

    code_input.clear()
    code_input.send_keys(code.lower())  # typed in lower case: still the code
    driver.find_element(By.ID, "rp-rate-submit").click()
    assert "感谢您的评价" in visible(driver, "rp-rate-result").text
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "已回访", "not reviewed"
    )
    assert "★★★★★" in driver.find_element(By.CSS_SELECTOR, ".rp-yours").text
    with server.app.core.db.read() as session:
        case = session.get(CaseRow, case_id)
        assert case is not None and (case.state, case.rating) == ("reviewed", 5)
    screenshot(driver, artifacts_dir / "report-status-thanks-412.png")
    assert js_errors(driver) == []


@pytest.mark.parametrize("chromium_viewport_size", [(360, 740)], ids=["360x740"])
def test_at_360_px_the_errors_the_confirmation_and_the_status_fit_the_screen(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    driver = chromium_driver
    name, lat, long = grid_points(server)[2]
    open_report(driver, f"{server.url}/report")
    driver.find_element(By.ID, "rp-phone").send_keys("abc")
    driver.find_element(By.ID, "rp-submit").click()
    for block in ("category", "description", "location", "phone", "form"):
        visible(driver, f"rp-error-{block}")
    page_fits(driver)
    full_page_screenshot(driver, artifacts_dir / "report-errors-360.png", width=360)

    Select(driver.find_element(By.ID, "rp-category")).select_by_value("firerisk")
    driver.find_element(By.ID, "rp-description").send_keys("楼道里堆满纸箱，堵住了消防通道")
    driver.find_element(By.ID, "rp-phone").clear()
    for i, color in enumerate(("#a33", "#3a3", "#33a")):
        driver.find_element(By.ID, "rp-photos-album").send_keys(
            str(write_jpeg(tmp_path / f"p{i}.jpg", color))
        )
    assert len(driver.find_elements(By.CSS_SELECTOR, "#rp-photo-list img")) == 3
    tap_map_at(driver, lat, long)
    WebDriverWait(driver, 5).until(
        lambda d: name in d.find_element(By.ID, "rp-location-status").text, "no grid named"
    )
    driver.find_element(By.ID, "rp-submit").click()
    visible(driver, "rp-view-done", timeout=20)
    page_fits(driver)
    ticket = driver.find_element(By.ID, "rp-done-ticket").text
    with server.app.core.db.read() as session:
        photos = session.scalar(
            select(func.count())
            .select_from(PhotoRow)
            .where(PhotoRow.case_id == queries.case_id_from_ticket(ticket))
        )
    assert photos == 3
    driver.find_element(By.ID, "rp-done-track").click()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "rp-status-state").text == "上报", "no status"
    )
    page_fits(driver)
    full_page_screenshot(driver, artifacts_dir / "report-status-360.png", width=360)
    assert js_errors(driver) == []
