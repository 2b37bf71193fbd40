"""The grid worker's phone page (/field) in real Chromium at a phone's size, against a real
server: signing in with a device token, a task that arrives live, accepting it, reporting the
result with a photo, GPS, and the outbox when the network loses requests and answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow, EventRow, PhotoRow
from dispatch.bootstrap import App
from dispatch.domain.geometry import centroid, point_in_polygon
from dispatch.service import accounts, actions
from dispatch.service.intake import NewReport, submit_report
from realtime.positions import current_workers
from tests.flaky_proxy import FlakyProxy
from tests.support import LiveServer, build_app, device_token, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

PHONE = (412, 915)
LIVE_WITHIN = 5.0  # seconds from the dispatch until the task is on the phone


@pytest.fixture
def chromium_viewport_size() -> tuple[int, int]:
    return PHONE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("field")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    live = LiveServer(app).start()
    yield live
    live.stop()


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[FlakyProxy]:
    flaky = FlakyProxy("127.0.0.1", server.server.server_port)
    yield flaky
    flaky.close()


_used: set[int] = set()


def a_worker(app: App) -> int:
    """A worker no other test of this module has used, whose grid holds its centroid."""
    for w in sorted(app.names.workers.values(), key=lambda w: w.id):
        grid = app.names.units[w.grid_id]
        long, lat = centroid(grid.polygon[0])
        if w.id not in _used and point_in_polygon(long, lat, grid.polygon):
            _used.add(w.id)
            return w.id
    raise AssertionError("no unused worker with a grid that holds its centroid")


def home(app: App, worker_id: int) -> tuple[float, float]:
    grid = app.names.units[app.names.workers[worker_id].grid_id]
    long, lat = centroid(grid.polygon[0])
    return lat, long


def dispatched(app: App, worker_id: int, text: str, *, accept: bool = False) -> int:
    """A case in the worker's grid, verified, registered and dispatched to the worker."""
    lat, long = home(app, worker_id)
    report = NewReport(service_code="road", lat=lat, long=long, description=text, address="金龙路")
    case_id = submit_report(app.core, report).case_id
    for action in ("verify", "register"):
        actions.perform(app.core, case_id, action, {}, actor="duty:test")
    actions.perform(app.core, case_id, "dispatch", {"worker_id": worker_id}, actor="duty:test")
    if accept:
        actions.perform(app.core, case_id, "accept", {}, actor="duty:test")
    return case_id


def photo(tmp_path: Path, name: str = "result.jpg") -> Path:
    path = tmp_path / name
    Image.new("RGB", (640, 480), (70, 130, 90)).save(path, "JPEG", quality=85)
    return path


def count(app: App, model: Any, *where: Any) -> int:
    with app.core.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def state_of(app: App, case_id: int) -> str:
    with app.core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None
        return row.state


def conn(driver: WebDriver) -> dict[str, str]:
    """What the header's connection pill says: {state, queued, text (as shown)}."""
    result: dict[str, str] = driver.execute_script(
        "const e = document.getElementById('field-conn');"
        "return e ? {state: e.dataset.state || '', queued: e.dataset.queued || '',"
        " text: e.innerText} : {state: '', queued: '', text: ''}"
    )
    return result


def wait(driver: WebDriver, timeout: float, poll: float = 0.1) -> WebDriverWait[WebDriver]:
    """A wait that also looks again when the element it held was redrawn."""
    return WebDriverWait(
        driver, timeout, poll_frequency=poll, ignored_exceptions=[StaleElementReferenceException]
    )


def shown_state(driver: WebDriver) -> str:
    """The state the task view shows (read in one go: the card is redrawn as news comes)."""
    state: str = driver.execute_script(
        "const e = document.querySelector('#field-task-state [data-state]');"
        "return e ? e.dataset.state : ''"
    )
    return state


def stand_at(driver: WebDriver, origin: str, lat: float, long: float) -> None:
    """Let the page locate the phone, at this point (else Chromium asks Google's servers)."""
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]}
    )
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": long, "accuracy": 12}
    )


def tap(driver: WebDriver, target: str) -> None:
    """Scroll the element (an id, or a CSS selector) clear of the fixed header and bottom
    bar, then click it; found again if the page redrew it meanwhile."""
    by, value = (By.CSS_SELECTOR, target) if target[0] in "#[." else (By.ID, target)

    def click(d: WebDriver) -> bool:
        element = d.find_element(by, value)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        return True

    wait(driver, 5).until(click)


def report_result(driver: WebDriver, text: str, picture: Path) -> None:
    """Open the result form, type, add one photo from the camera input and submit it."""
    wait(driver, 10).until(lambda d: d.find_elements(By.ID, "field-action-report_handled"))
    tap(driver, "field-action-report_handled")
    driver.find_element(By.ID, "field-form-text").send_keys(text)
    camera = driver.find_element(By.ID, "field-result-camera")
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    camera.send_keys(str(picture))
    wait(driver, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#field-result-previews img")) == 1,
        "the photo was not previewed",
    )
    tap(driver, "field-form-submit")


def console_errors(
    driver: WebDriver, allowed: Callable[[str], bool] = lambda m: False
) -> list[str]:
    return [
        e["message"]
        for e in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if e["level"] == "SEVERE" and not allowed(e["message"])
    ]


def test_a_dispatched_task_arrives_live_is_accepted_and_handled_with_a_photo(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    app, driver = server.app, chromium_driver
    worker = a_worker(app)
    token = device_token(app, worker)
    lat, long = home(app, worker)
    stand_at(driver, server.url, lat, long)
    driver.get(f"{server.url}/field?token={token}")
    name = app.names.workers[worker].name
    wait(driver, 20).until(
        lambda d: d.find_element(By.ID, "field-worker").text == name, "never signed in"
    )
    assert "token" not in driver.current_url, "the token stayed in the address bar"
    assert driver.find_element(By.ID, "field-grid").text == app.names.unit_name(
        app.names.workers[worker].grid_id
    )
    wait(driver, 10).until(lambda d: conn(d)["state"] == "online", "never said 在线")
    assert conn(driver)["text"] == "在线"
    driver.execute_script("window.__sameDocument = true")

    # GPS: the first fix is sent at once, the bar says so.
    wait(driver, 10).until(
        lambda d: d.find_element(By.ID, "field-gps").get_attribute("data-status") == "ok"
    )
    assert driver.find_element(By.ID, "field-gps-text").text == "位置共享中 ±12 米"
    deadline = time.monotonic() + 10
    while not any(w["id"] == worker and w["lat"] for w in current_workers(app.core)):
        assert time.monotonic() < deadline, "the phone's position never reached the server"
        time.sleep(0.2)
    at = next(w for w in current_workers(app.core) if w["id"] == worker)
    assert (at["lat"], at["long"]) == pytest.approx((lat, long), abs=1e-6)

    # A task dispatched by the centre appears without a reload.
    dispatched_at = time.monotonic()
    case_id = dispatched(app, worker, "路面塌陷，需设置围挡")
    row = f"#field-tasks [data-case-id='{case_id}']"
    wait(driver, LIVE_WITHIN, 0.05).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, row), f"case {case_id} did not arrive"
    )
    took = time.monotonic() - dispatched_at
    text = driver.execute_script(f'return document.querySelector("{row}").innerText')
    for words in ("道路设施损坏", "派遣", "路面塌陷，需设置围挡", "金龙路"):
        assert words in text, text
    assert driver.find_element(By.ID, "field-nav-tasks").text.endswith("1")  # one to accept
    assert driver.execute_script("return window.__sameDocument") is True, "the page reloaded"
    driver.save_screenshot(str(artifacts_dir / "field-tasks-412x915.png"))

    # Accept (签收): the chip says so only once the server has it.
    tap(driver, row)
    wait(driver, 10).until(lambda d: d.find_elements(By.ID, "field-action-accept"))
    wait(driver, 10).until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('#field-task-map path').length") > 1
        ),
        "the map never drew the case and its grid",
    )
    tap(driver, "field-action-accept")
    wait(driver, 10).until(lambda d: shown_state(d) == "accepted", "never showed 签收")
    assert state_of(app, case_id) == "accepted"

    # The result, with a photo from the camera input.
    report_result(driver, "已设置围挡并通知市政抢修", photo(tmp_path))
    wait(driver, 15).until(lambda d: shown_state(d) == "handled", "never showed 已处置")
    assert state_of(app, case_id) == "handled"
    assert count(app, EventRow, EventRow.case_id == case_id, EventRow.type == "case.handled") == 1
    assert count(app, PhotoRow, PhotoRow.case_id == case_id, PhotoRow.kind == "result") == 1
    wait(driver, 10).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, "#field-task-photos [data-kind='result'] img[src]"
        )
    )
    assert driver.find_element(By.ID, "field-task-note").text == "已上报结果，等待中心核查结案"
    assert conn(driver)["queued"] == "0"
    time.sleep(0.5)  # let the thumbnail paint
    driver.save_screenshot(str(artifacts_dir / "field-task-412x915.png"))

    size = driver.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, innerWidth]"
    )
    assert size[0] <= size[1], f"the page scrolls sideways: {size}"
    assert console_errors(driver) == []
    print(f"dispatched task on the phone after {took:.2f} s")


def test_a_problem_found_on_patrol_is_reported_with_its_photo_where_the_worker_stands(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.support.select import Select

    app, driver = server.app, chromium_driver
    worker = a_worker(app)
    lat, long = home(app, worker)
    lat += 0.0003  # a little north of the grid's middle: the report must use the GPS fix
    stand_at(driver, server.url, lat, long)
    driver.get(f"{server.url}/field?token={device_token(app, worker)}#/report")
    wait(driver, 10).until(
        lambda d: d.find_element(By.ID, "field-report-loc").text.startswith("当前位置")
    )
    categories = Select(driver.find_element(By.ID, "field-report-category"))
    assert len(categories.options) == 22  # "请选择" and the 21 categories
    categories.select_by_value("garbage")
    driver.find_element(By.ID, "field-report-description").send_keys("巡查发现垃圾桶满溢")
    driver.find_element(By.ID, "field-report-address").send_keys("金龙路与环城路口")
    driver.find_element(By.ID, "field-report-camera").send_keys(str(photo(tmp_path, "found.jpg")))
    wait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#field-report-previews img"))
    wait(driver, 10).until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('#field-report-map path').length")
            > 1
        )
    )
    driver.save_screenshot(str(artifacts_dir / "field-report-412x915.png"))
    before = count(app, CaseRow, CaseRow.channel == "grid")
    tap(driver, "field-report-submit")
    toast = wait(driver, 10).until(
        lambda d: (e := d.find_element(By.ID, "field-toast")).text.startswith("已上报，编号") and e
    )
    with app.core.db.read() as session:
        row = session.scalars(select(CaseRow).where(CaseRow.channel == "grid")
                              .order_by(CaseRow.id.desc())).first()  # fmt: skip
        assert row is not None and count(app, CaseRow, CaseRow.channel == "grid") == before + 1
        assert (row.service_code, row.description, row.address) == (
            "garbage", "巡查发现垃圾桶满溢", "金龙路与环城路口",
        )  # fmt: skip
        assert (row.lat, row.long) == pytest.approx((lat, long), abs=1e-6)
        assert row.submitted_by == f"grid_worker:worker-{worker}"
        ticket = f"{row.reported_at:%y%m%d}-{row.id:05d}"
    assert toast.text == f"已上报，编号 {ticket}"
    assert count(app, PhotoRow, PhotoRow.case_id == row.id, PhotoRow.kind == "report") == 1
    # The form is empty again for the next problem.
    assert driver.find_element(By.ID, "field-report-description").get_attribute("value") == ""
    assert console_errors(driver) == []


@pytest.mark.parametrize("mode", ["lost_response", "dropped_request"])
def test_a_result_whose_sending_fails_twice_is_stored_exactly_once(
    server: LiveServer,
    proxy: FlakyProxy,
    chromium_driver: WebDriver,
    artifacts_dir: Path,
    tmp_path: Path,
    mode: str,
) -> None:
    app, driver = server.app, chromium_driver
    worker = a_worker(app)
    case_id = dispatched(app, worker, "绿化带内垃圾堆积", accept=True)
    url = f"/api/cases/{case_id}/actions/report_handled"
    rule = proxy.fail("POST", url, times=2, mode=mode)
    stand_at(driver, proxy.url, *home(app, worker))
    driver.get(f"{proxy.url}/field?token={device_token(app, worker)}#/task/{case_id}")

    report_result(driver, "垃圾已清运", photo(tmp_path))
    # Queued, and said so: the header counts it, the task shows it waiting, its state is not
    # claimed before the server confirms it.
    wait(driver, 5, 0.02).until(lambda d: conn(d)["queued"] == "1", "never showed as queued")
    assert "待发送 1" in conn(driver)["text"]
    pending = driver.find_element(By.ID, "field-task-pending").text
    assert "待发送：上报结果" in pending, pending
    # Only what the server says: when it lost the answer, the server has done it and its
    # event may already show 已处置, while the phone still holds the item until confirmed.
    assert shown_state(driver) in {"accepted", state_of(app, case_id)}
    driver.save_screenshot(str(artifacts_dir / f"field-queued-{mode}-412x915.png"))
    if mode == "lost_response":
        # The server did the work, the phone never heard: it still shows the item queued.
        wait(driver, 5, 0.02).until(
            lambda d: state_of(app, case_id) == "handled" and conn(d)["queued"] == "1",
            "the server's answer was not lost while the phone waited",
        )
    wait(driver, 20).until(lambda d: conn(d)["queued"] == "0", "the queue never cleared")
    wait(driver, 10).until(lambda d: shown_state(d) == "handled")
    assert driver.find_element(By.ID, "field-task-pending").text == ""

    assert rule.failed == 2
    assert len(rule.keys) == 3 and len(set(rule.keys)) == 1 and rule.keys[0], rule.keys
    assert count(app, EventRow, EventRow.case_id == case_id, EventRow.type == "case.handled") == 1
    assert count(app, PhotoRow, PhotoRow.case_id == case_id, PhotoRow.kind == "result") == 1
    # The resets show as failed loads in the console; nothing else may.
    assert console_errors(driver, allowed=lambda m: url in m and "Failed to load" in m) == []


def test_the_queue_survives_a_reload(
    server: LiveServer, proxy: FlakyProxy, chromium_driver: WebDriver
) -> None:
    app, driver = server.app, chromium_driver
    worker = a_worker(app)
    case_id = dispatched(app, worker, "路灯不亮")
    accept = f"/api/cases/{case_id}/actions/accept"
    rule = proxy.fail("POST", accept, times=3, mode="dropped_request")
    stand_at(driver, proxy.url, *home(app, worker))
    driver.get(f"{proxy.url}/field?token={device_token(app, worker)}#/task/{case_id}")
    wait(driver, 10).until(lambda d: d.find_elements(By.ID, "field-action-accept"))
    tap(driver, "field-action-accept")
    wait(driver, 5, 0.02).until(lambda d: rule.failed >= 1 and conn(d)["queued"] == "1")

    driver.refresh()  # the token is remembered; the queue is in IndexedDB
    wait(driver, 10, 0.02).until(
        lambda d: conn(d)["queued"] == "1", "the queued accept was lost on reload"
    )
    wait(driver, 20).until(lambda d: conn(d)["queued"] == "0" and shown_state(d) == "accepted")
    assert rule.failed == 3 and len(rule.keys) == 4 and len(set(rule.keys)) == 1
    assert count(app, EventRow, EventRow.case_id == case_id, EventRow.type == "case.accepted") == 1


def test_a_bad_token_shows_the_sign_in_screen_with_the_servers_message(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    app, driver = server.app, chromium_driver
    stand_at(driver, server.url, 25.6, 103.7)
    driver.get(f"{server.url}/field?token=dev_no-such-token")
    error = wait(driver, 20).until(lambda d: d.find_element(By.ID, "field-signin-error"))
    wait(driver, 10).until(lambda d: error.text)
    assert error.text == "令牌未通过：the device token is not valid (unknown)"
    assert driver.find_element(By.ID, "field-signin").text.startswith("网格员登录")
    driver.save_screenshot(str(artifacts_dir / "field-signin-412x915.png"))

    # Pasting a good token signs in; revoking it sends the phone back with the reason.
    worker = a_worker(app)
    driver.find_element(By.ID, "field-token-input").send_keys(device_token(app, worker))
    driver.find_element(By.ID, "field-signin-submit").click()
    name = app.names.workers[worker].name
    wait(driver, 10).until(lambda d: d.find_element(By.ID, "field-worker").text == name)
    accounts.revoke_device_tokens(app.core, accounts.worker_user(app.core, worker) or -1)
    driver.get(f"{server.url}/field?lang=en")
    message = wait(driver, 20).until(lambda d: d.find_element(By.ID, "field-signin-error").text)
    assert message == "Token refused: the device token has been revoked; ask for a new one"
    assert driver.find_element(By.ID, "field-signin-submit").text == "Sign in"
    assert driver.execute_script("return localStorage.getItem('commandhall.deviceToken')") is None
    # The revoked token is refused wherever it is sent first (tasks, or a batch of positions).
    assert console_errors(driver, allowed=lambda m: "status of 403" in m) == []


def test_the_page_is_a_small_shell_in_chinese_or_english(server: LiveServer) -> None:
    zh = requests.get(f"{server.url}/field", timeout=10)
    assert zh.status_code == 200 and zh.headers["Cache-Control"] == "no-store"
    assert '<html lang="zh-CN">' in zh.text and "网格员 · 综治中心" in zh.text
    for src in ("vendor/leaflet/leaflet.js", "vendor/socket.io.min.js", "phone/outbox.js",
                "phone/field.js"):  # fmt: skip
        assert f'<script src="/assets/{src}?v=' in zh.text
        assert requests.get(f"{server.url}/assets/{src}", timeout=10).status_code == 200
    config = json.loads(zh.text.split('id="field-config">')[1].split("</script>")[0])
    assert config["strings"]["field.action.accept"] == "签收"
    assert set(config["transitions"]) == {
        "accept", "return", "start_handling", "report_handled", "request_extension",
    }  # fmt: skip
    assert len(config["categories"]) == 21
    en = requests.get(f"{server.url}/field?lang=en", timeout=10).text
    assert '<html lang="en">' in en and "Grid worker · CommandHall" in en
    assert len(zh.content) < 40_000, "the shell should stay small for a slow link"
