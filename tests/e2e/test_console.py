"""The duty console and the case page in real Chromium against a real server with history.

One server for the module; each test signs its own browser in through /login. Nothing here
reloads a page to see a change: the socket bridge pushes, the page re-reads.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image, ImageDraw
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import accounts, actions, casefile, intake, queue
from dispatch.service.photos import CheckedPhoto, Upload, check_photo
from tests.support import LiveServer, browser_sign_in, build_app, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

LIVE_WITHIN = 3.0  # seconds from the commit until the console shows the report
DUTY_BUCKETS = ("verify", "dispatch", "overdue", "returned", "whistles")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("console")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", history=True))
    live = LiveServer(app).start()
    yield live
    live.stop()


def dash_id(**parts: Any) -> str:
    """The DOM id Dash gives a component with a dict id (keys sorted, compact JSON)."""
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def by_dash_id(driver: WebDriver, **parts: Any) -> WebElement:
    return driver.find_element(By.XPATH, f"//*[@id='{dash_id(**parts)}']")


def scene_photo() -> CheckedPhoto:
    """A small picture of an overflowing bin: green ground, a grey bin, brown heap."""
    image = Image.new("RGB", (800, 600), "#7a9a4a")
    draw = ImageDraw.Draw(image)
    draw.rectangle((320, 180, 480, 460), fill="#5f6b73")
    draw.ellipse((260, 120, 540, 260), fill="#8a6a3a")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return check_photo(Upload("scene.jpg", out.getvalue()))


def report(
    server: LiveServer, township_index: int = 0, text: str = "", *, photo: bool = False
) -> int:
    """A citizen's report at the centre of a grid of the n-th township, through intake."""
    app = server.app
    township = app.names.townships()[township_index]
    grids = sorted(
        (u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id
    )
    for grid in grids:
        long, lat = centroid(grid.polygon[0])
        where = app.core.grids.locate(long, lat)
        if where.township_id == township.id and where.grid_id == grid.id:
            new = intake.NewReport(
                service_code="garbage", lat=lat, long=long, channel="citizen",
                description=text or f"{township.name}菜市场门口垃圾桶满溢，污水流到路上",
                phone="13900001111", first_name="建华", last_name="张",
            )  # fmt: skip
            photos = [scene_photo()] if photo else []
            return intake.submit_report(app.core, new, photos=photos).case_id
    raise AssertionError(f"no grid of {township.name} contains its own centroid")


def open_console(driver: WebDriver, server: LiveServer, username: str) -> None:
    browser_sign_in(driver, server.url, username)  # the form sends officers to /console
    WebDriverWait(driver, 30).until(
        lambda d: "is-connected" in d.find_element(By.ID, "console-conn").get_attribute("class"),
        "the console never said it was connected",
    )
    driver.execute_script("window.__sameDocument = true")  # gone after any reload


def same_document(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return window.__sameDocument === true"))


def shown_counts(driver: WebDriver, buckets: tuple[str, ...]) -> dict[str, int]:
    return {b: int(by_dash_id(driver, type="console-count", bucket=b).text) for b in buckets}


def row_ids(driver: WebDriver) -> list[int]:
    return [
        int(i)
        for i in driver.execute_script(
            "return [...document.querySelectorAll('#console-queue .console-row')]"
            ".map(r => r.dataset.caseId)"
        )
    ]


def text_of(driver: WebDriver, element_id: str) -> str:
    """The element's text, read in one go (parts of the page are redrawn as pushes land)."""
    text = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : ''",
        element_id,
    )
    return str(text or "").strip()


def timeline_length(driver: WebDriver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#case-timeline-list .case-event"))


def severe(driver: WebDriver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_a_new_report_shows_live_and_goes_verify_register_dispatch_without_reload(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver, app = chromium_driver, server.app
    open_console(driver, server, "duty")
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    expected = queue.duty_queue(app.core, app.names, scope=duty.scope, f=queue.QueueFilter())
    assert shown_counts(driver, DUTY_BUCKETS) == {b: expected[b]["count"] for b in DUTY_BUCKETS}
    by_dash_id(driver, type="console-tab", bucket="verify").click()
    WebDriverWait(driver, 5).until(
        lambda d: row_ids(d) == [c["id"] for c in expected["verify"]["items"]]
    )

    posted = time.monotonic()
    case_id = report(server, photo=True)
    WebDriverWait(driver, LIVE_WITHIN, poll_frequency=0.05).until(
        lambda d: case_id in row_ids(d), f"case {case_id} was not in 待核实 within {LIVE_WITHIN} s"
    )
    took = time.monotonic() - posted
    assert shown_counts(driver, ("verify",))["verify"] == expected["verify"]["count"] + 1
    driver.save_screenshot(str(artifacts_dir / "console-1920x1080.png"))

    row = driver.find_element(By.CSS_SELECTOR, f".console-row[data-case-id='{case_id}']")
    row.find_element(By.CSS_SELECTOR, "a.console-ticket").click()
    WebDriverWait(driver, 10).until(lambda d: text_of(d, "case-state") == "上报")
    plan_before = len(casefile.case_detail(app.core, app.names, case_id, duty)["timeline"])
    assert timeline_length(driver) == plan_before == 1

    by_dash_id(driver, type="case-do", form="verify").click()
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "case-state") == "核实")
    assert timeline_length(driver) == 2
    by_dash_id(driver, type="case-do", form="register").click()  # the suggestion, as filled in
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "case-state") == "立案")
    detail = casefile.case_detail(app.core, app.names, case_id, duty)
    assert detail["case"]["category"] == detail["suggestion"]["register"]["category"]
    plan = detail["suggestion"]["dispatch"]
    button = by_dash_id(driver, type="case-do", form="dispatch")
    assert plan["worker"] and plan["worker"] in button.text and plan["unit"] in button.text
    button.click()
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "case-state") == "派遣")
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "case-worker") == plan["worker"])
    assert text_of(driver, "case-department") == plan["department_name"]
    assert timeline_length(driver) == 4
    assert "派遣" in driver.find_element(By.CSS_SELECTOR, "#case-timeline-list li").text
    assert same_document(driver), "the page reloaded"
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('.case-photo img');"
            "return i !== null && i.complete && i.naturalWidth > 0"
        ),
        "the photo's thumbnail did not load",
    )
    driver.save_screenshot(str(artifacts_dir / "case-1920x1080.png"))

    # Somebody else acts on the case: the open page follows without a click.
    town = accounts.sign_in(app.core, "town-t01", "commandhall")
    actions.perform(app.core, case_id, "accept", {}, principal=town)
    WebDriverWait(driver, LIVE_WITHIN).until(lambda d: text_of(d, "case-state") == "签收")
    assert severe(driver) == []
    print(f"new report on the console after {took:.2f} s")


def test_an_action_error_is_shown_next_to_its_field(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    case_id = report(server, text="小区垃圾没人清运")
    open_console(driver, server, "duty")
    driver.get(f"{server.url}/cases/{case_id}")
    WebDriverWait(driver, 20).until(lambda d: text_of(d, "case-state") == "上报")
    driver.find_element(By.CSS_SELECTOR, "#case-fold-reject > summary").click()
    by_dash_id(driver, type="case-do", form="reject").click()
    error = WebDriverWait(driver, 5).until(
        lambda d: (
            by_dash_id(d, type="case-error", form="reject", name="reason")
            if by_dash_id(d, type="case-error", form="reject", name="reason").text
            else None
        )
    )
    assert error.text == "请填写原因"
    # Next to the field: in the same field block as the reason box.
    field = error.find_element(By.XPATH, "..")
    assert field.find_elements(By.TAG_NAME, "textarea")
    assert text_of(driver, "case-state") == "上报"

    # With a reason the same form goes through, and the case is closed as rejected.
    box = field.find_element(By.TAG_NAME, "textarea")
    box.send_keys("重复上报，已有案件处理")
    by_dash_id(driver, type="case-do", form="reject").click()
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "case-state") == "不予受理")
    assert severe(driver) == []


def test_one_click_dispatch_from_the_queue_says_where_it_went(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver, app = chromium_driver, server.app
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    case_id = report(server, township_index=2, text="路边垃圾桶倒了没人管")
    for name in ("verify", "register"):
        actions.perform(app.core, case_id, name, {}, principal=duty)
    plan = casefile.case_detail(app.core, app.names, case_id, duty)["suggestion"]["dispatch"]
    open_console(driver, server, "duty")
    by_dash_id(driver, type="console-tab", bucket="dispatch").click()
    WebDriverWait(driver, 5).until(lambda d: case_id in row_ids(d))
    by_dash_id(
        driver, type="console-quick", bucket="dispatch", case=case_id, action="dispatch"
    ).click()
    WebDriverWait(driver, 5).until(lambda d: "已派遣" in text_of(d, "console-flash"))
    flash = text_of(driver, "console-flash")
    assert plan["unit"] in flash and plan["department_name"] in flash and plan["worker"] in flash
    WebDriverWait(driver, 5).until(lambda d: case_id not in row_ids(d))
    assert casefile.get_case(app.core, app.names, case_id, duty)["state"] == "dispatched"
    assert severe(driver) == []


def search(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "console-search-q")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "console-search-go").click()
    WebDriverWait(driver, 5).until(lambda d: text_of(d, "console-search-results"))


def test_search_by_ticket_opens_the_case(server: LiveServer, chromium_driver: WebDriver) -> None:
    driver, app = chromium_driver, server.app
    case_id = report(server, township_index=3, text="公园里的垃圾箱满了")
    duty = accounts.sign_in(app.core, "duty", "commandhall")
    ticket = casefile.get_case(app.core, app.names, case_id, duty)["ticket"]
    open_console(driver, server, "duty")
    search(driver, ticket)
    hits = driver.find_elements(By.CSS_SELECTOR, "#console-search-results .console-search-hit")
    assert len(hits) == 1 and ticket in hits[0].text
    assert driver.find_element(By.ID, "console-search-q").get_attribute("value") == ticket
    hits[0].click()
    WebDriverWait(driver, 10).until(lambda d: text_of(d, "case-ticket") == ticket)
    assert same_document(driver)  # a link inside the app, not a reload
    assert severe(driver) == []

    driver.find_element(By.ID, "case-signout").click()  # a form POST with the CSRF token
    WebDriverWait(driver, 10).until(lambda d: "/login" in d.current_url)
    driver.get(f"{server.url}/console")
    assert "/login?next=" in driver.current_url


def test_a_township_office_sees_only_its_own_cases(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver, app = chromium_driver, server.app
    mine, theirs = app.names.townships()[0], app.names.townships()[1]
    elsewhere = report(server, township_index=1)
    open_console(driver, server, "town-t01")
    assert mine.name in text_of(driver, "console-page")
    for bucket in ("incoming", "handling", "overdue"):
        by_dash_id(driver, type="console-tab", bucket=bucket).click()
        WebDriverWait(driver, 5).until(
            lambda d, b=bucket: d.find_elements(By.CSS_SELECTOR, f"#console-panel.is-{b}"),
            f"the {bucket} tab never showed its table",
        )
        places = driver.execute_script(
            "return [...document.querySelectorAll('#console-queue .console-place')]"
            ".map(e => e.textContent)"
        )
        assert all(p.startswith(mine.name) for p in places), (bucket, places)
        assert elsewhere not in row_ids(driver)
    driver.save_screenshot(str(artifacts_dir / "console-township-1920x1080.png"))
    ticket = casefile.get_case(
        app.core, app.names, elsewhere, accounts.sign_in(app.core, "duty", "commandhall")
    )["ticket"]
    search(driver, ticket)
    assert text_of(driver, "console-search-results") == "没有找到匹配的案件"

    driver.get(f"{server.url}/cases/{elsewhere}")
    WebDriverWait(driver, 20).until(lambda d: text_of(d, "case-missing") == "案件不存在")
    assert theirs.name not in text_of(driver, "case-page")
    assert severe(driver) == []
