"""A video call in real Chromium with fake camera and microphone: the duty officer clicks
视频通话 on the case page in one browser, the grid worker's /field page rings in another and
accepts, both see the MCU's composite (videoWidth > 0, framesDecoded rising), and after the
officer ends it the recording is on the case timeline and plays.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.bootstrap import App
from tests.conftest import new_chromium
from tests.e2e.test_field import dispatched
from tests.support import LiveServer, browser_sign_in, build_app, device_token, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("calls-e2e")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    live = LiveServer(app).start()
    yield live
    live.stop()


def wait(driver: WebDriver, timeout: float = 15) -> WebDriverWait[WebDriver]:
    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )


def call_stats(driver: WebDriver) -> dict[str, Any]:
    """What assets/js/call.js says of the call: remote video size, frames decoded (getStats)."""
    stats: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "CommandHall.calls.stats().then(done, (e) => done({error: String(e)}));"
    )
    return stats


def sees_remote_video(driver: WebDriver, who: str) -> dict[str, Any]:
    """Remote video with a size, and frames decoded rising (by more than 3: a second at
    15 fps; a loaded machine may take longer, so up to 10 s)."""
    wait(driver, 20).until(lambda d: call_stats(d)["videoWidth"] > 0, f"{who}: no remote video")
    first = call_stats(driver)["framesDecoded"]
    wait(driver, 10).until(
        lambda d: call_stats(d)["framesDecoded"] > first + 3,
        f"{who}: frames decoded stayed at {first} and a few more",
    )
    return call_stats(driver)


def redraws_while_connecting(driver: WebDriver) -> int:
    """Dash server callbacks (the page re-reading the case) the page started between its
    call's click and its first picture (at most SETUP_MS, 4 s, in assets/js/call.js)."""
    count: int = driver.execute_script(
        "const t = CommandHall.calls._state.timings[0];"
        "const end = Math.min(t.firstFrame, t.clicked + 4000);"
        "return performance.getEntriesByType('resource')"
        "  .filter((e) => e.name.includes('_dash-update-component'))"
        "  .map((e) => performance.timeOrigin + e.startTime)"
        "  .filter((at) => at > t.clicked && at < end).length;"
    )
    return count


def sign_in(driver: WebDriver, url: str, username: str) -> None:
    """Sign in through the form and wait until it has landed (else the next get() races it)."""
    browser_sign_in(driver, url, username)
    wait(driver).until(lambda d: "/login" not in d.current_url, "the sign-in never finished")


def a_worker(app: App) -> int:
    return max(app.names.workers)


def calls_socket_up(driver: WebDriver) -> bool:
    connected: bool = driver.execute_script(
        "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
    )
    return connected


def open_field_page(phone: WebDriver, server: LiveServer, worker: int) -> None:
    """The worker's /field page, signed in by device token, its /calls socket up."""
    phone.get(f"{server.url}/field?token={device_token(server.app, worker)}")
    name = server.app.names.workers[worker].name
    wait(phone).until(lambda d: d.find_element(By.ID, "field-worker").text == name)
    wait(phone).until(calls_socket_up, "the phone's /calls socket never connected")


def open_case_page(officer: WebDriver, server: LiveServer, case_id: int) -> Any:
    """The duty officer signed in on the case page, its /calls socket up; the call button."""
    sign_in(officer, server.url, "duty")
    officer.get(f"{server.url}/cases/{case_id}")
    button = wait(officer).until(lambda d: d.find_element(By.ID, "case-call-worker"))
    wait(officer).until(calls_socket_up, "the officer's /calls socket never connected")
    return button


def test_the_officer_calls_the_worker_from_the_case_and_the_recording_plays_on_the_timeline(
    server: LiveServer, chromium_driver: WebDriver, phone_driver: WebDriver, artifacts_dir: Path
) -> None:
    app = server.app
    worker = a_worker(app)
    case_id = dispatched(app, worker, "路灯倒伏，需视频核实现场")
    name = app.names.workers[worker].name

    phone = phone_driver
    open_field_page(phone, server, worker)
    officer = chromium_driver
    button = open_case_page(officer, server, case_id)
    assert button.text == "视频通话" and button.get_attribute("data-call-worker") == str(worker)
    clicked = time.monotonic()
    button.click()

    # The phone rings: accept / decline, in Chinese.
    accept = wait(phone).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept"), "no ring"
    )
    rang_after = time.monotonic() - clicked
    ring_text = phone.find_element(By.CSS_SELECTOR, "#ch-call-ring .ch-call-ring-text").text
    assert ring_text == "值班员 李明 邀请您视频通话"
    assert phone.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-decline").text == "拒绝"
    phone.save_screenshot(str(artifacts_dir / "calls-field-ringing.png"))
    accept.click()

    officer_stats = sees_remote_video(officer, "officer")
    phone_stats = sees_remote_video(phone, "worker")
    wait(officer).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ch-call-people li")) == 2,
        "the participant list never showed both",
    )
    # The call's own events changed the case, but the page held its redraw (Dash work on the
    # main thread the call's answer would wait behind) until the first picture, then caught
    # up: the timeline shows the call answered.
    assert redraws_while_connecting(officer) == 0
    wait(officer).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".case-event.is-call-answered"),
        "the case page never caught up with the call",
    )
    people = [li.text for li in officer.find_elements(By.CSS_SELECTOR, "#ch-call-people li")]
    assert any("李明" in p for p in people) and any(name in p for p in people)
    assert officer.find_element(By.ID, "ch-call-status").text == "通话中"
    # Mute shows in the list for everybody.
    phone.find_element(By.ID, "ch-call-mute").click()
    people_css = "#ch-call-people li"
    wait(officer).until(
        lambda d: any("已静音" in li.text for li in d.find_elements(By.CSS_SELECTOR, people_css))
    )
    time.sleep(1.5)  # a little more recording
    officer.save_screenshot(str(artifacts_dir / "calls-case-page-in-call.png"))
    phone.save_screenshot(str(artifacts_dir / "calls-field-in-call.png"))

    officer.find_element(By.ID, "ch-call-end").click()
    for driver in (officer, phone):
        wait(driver).until(
            lambda d: not d.find_element(By.ID, "ch-call").is_displayed(), "the call stayed open"
        )

    # The recording reaches the case timeline through the live push, and plays.
    video = wait(officer, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".case-event.is-call-recorded video"),
        "no recording on the timeline",
    )
    label = officer.find_element(By.CSS_SELECTOR, ".case-event.is-call-recorded .case-event-type")
    assert label.text == "通话录像"
    officer.execute_script("arguments[0].scrollIntoView(); arguments[0].muted = true;"
                           "arguments[0].play();", video)  # fmt: skip
    wait(officer, 20).until(
        lambda d: d.execute_script("return arguments[0].currentTime", video) > 0.2,
        "the recording does not play",
    )
    duration = officer.execute_script("return arguments[0].duration", video)
    width = officer.execute_script("return arguments[0].videoWidth", video)
    assert duration > 1.0 and width > 0
    officer.save_screenshot(str(artifacts_dir / "calls-case-timeline-recording.png"))
    print(
        f"\nring after {rang_after:.2f} s; officer {officer_stats['framesDecoded']} frames, "
        f"phone {phone_stats['framesDecoded']} frames; timings {officer_stats['timings']}; "
        f"recording {duration:.1f} s {width} px"
    )


def test_a_phone_whose_socket_drops_mid_call_rejoins_by_itself_and_the_call_goes_on(
    server: LiveServer, chromium_driver: WebDriver, phone_driver: WebDriver
) -> None:
    """A field phone's network blips in a call: its /calls socket closes under it (the
    server lets its participant go, the officer stays); when the socket is back the phone
    offers again on a new connection, and both see each other again, with no one clicking."""
    app = server.app
    worker = a_worker(app)
    case_id = dispatched(app, worker, "井盖缺失，现场视频")
    phone, officer = phone_driver, chromium_driver
    open_field_page(phone, server, worker)
    open_case_page(officer, server, case_id).click()
    wait(phone).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept"), "no ring"
    ).click()
    sees_remote_video(officer, "officer")
    sees_remote_video(phone, "worker")
    people = "#ch-call-people li"
    wait(officer).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, people)) == 2)

    # The transport closes as a lost network closes it (not a hang-up): socket.io reconnects.
    phone.execute_script(
        "window.__before = CommandHall.calls._state.pc;"
        "CommandHall.calls._state.socket.io.engine.close();"
    )
    wait(officer).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, people)) == 1,
        "the server never let the phone's participant go",
    )
    assert officer.find_element(By.ID, "ch-call").is_displayed()  # the officer's call goes on
    wait(phone, 20).until(
        lambda d: (
            d.execute_script("return CommandHall.calls._state.pc !== window.__before")
            and call_stats(d)["connection"] == "connected"
        ),
        "the phone never rejoined on a new connection",
    )
    sees_remote_video(phone, "worker, after rejoining")
    wait(officer).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, people)) == 2,
        "the officer never saw the phone back",
    )
    sees_remote_video(officer, "officer, after the phone rejoined")
    assert phone.find_element(By.ID, "ch-call-status").text == "通话中"
    officer.find_element(By.ID, "ch-call-end").click()
    wait(phone).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())


MICROPHONE_SENT = """
const done = arguments[arguments.length - 1];
const pc = CommandHall.calls._state.pc;
const sender = pc.getSenders().find((s) => s.track && s.track.kind === "audio");
sender.getStats().then((report) => {
  let sent = 0;
  report.forEach((r) => { if (r.type === "outbound-rtp") sent = r.packetsSent; });
  done({label: sender.track.label, live: sender.track.readyState, sent: sent,
        signaling: pc.signalingState, same: pc === window.__pc});
});
"""


def test_switching_the_microphone_mid_call_keeps_the_connection_and_sends_the_new_one(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """Chromium's fake devices give three microphones: picking another in the call's list
    replaces the track on the same connection (no new offer) and its sound goes out."""
    app = server.app
    case_id = dispatched(app, a_worker(app), "噪音扰民，切换麦克风")
    officer = chromium_driver
    open_case_page(officer, server, case_id).click()
    wait(officer, 20).until(lambda d: call_stats(d)["connection"] == "connected")
    select = Select(wait(officer).until(lambda d: d.find_element(By.ID, "ch-call-mic-select")))
    wait(officer).until(lambda d: len(select.options) == 3 and select.first_selected_option)
    officer.execute_script("window.__pc = CommandHall.calls._state.pc")
    now = officer.execute_async_script(MICROPHONE_SENT)
    assert now["label"] == select.first_selected_option.text
    select.select_by_visible_text("Fake Audio Input 2")
    wait(officer).until(
        lambda d: d.execute_async_script(MICROPHONE_SENT)["label"] == "Fake Audio Input 2",
        "the call never sent the new microphone",
    )
    switched = officer.execute_async_script(MICROPHONE_SENT)
    assert switched["same"] and switched["signaling"] == "stable" and switched["live"] == "live"
    wait(officer).until(
        lambda d: d.execute_async_script(MICROPHONE_SENT)["sent"] > switched["sent"] + 25,
        "no sound went out from the new microphone (half a second of packets)",
    )
    assert call_stats(officer)["connection"] == "connected"
    officer.find_element(By.ID, "ch-call-leave").click()


def test_without_a_camera_the_call_continues_with_audio_and_says_so(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """getUserMedia failing for video: the overlay says so in Chinese, the call goes on."""
    app = server.app
    worker = min(app.names.workers)
    case_id = dispatched(app, worker, "噪音扰民，视频沟通")
    officer = chromium_driver
    sign_in(officer, server.url, "duty")
    officer.get(f"{server.url}/cases/{case_id}")
    button = wait(officer).until(lambda d: d.find_element(By.ID, "case-call-worker"))
    # No camera on this machine: video requests fail as Chromium fails them.
    officer.execute_script(
        "const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);"
        "navigator.mediaDevices.getUserMedia = (c) => c.video"
        "  ? Promise.reject(new DOMException('Requested device not found', 'NotFoundError'))"
        "  : real(c);"
    )
    button.click()
    note = wait(officer).until(lambda d: d.find_element(By.ID, "ch-call-note"))
    wait(officer).until(lambda d: note.is_displayed() and note.text)
    assert note.text == "未找到摄像头，已改为语音通话。"
    wait(officer, 20).until(lambda d: call_stats(d)["connection"] == "connected")
    assert officer.find_element(By.ID, "ch-call-mute").is_enabled()  # the microphone is there
    assert not officer.find_element(By.ID, "ch-call-camera").is_enabled()
    assert not officer.find_element(By.ID, "ch-call-self").is_displayed()
    officer.find_element(By.ID, "ch-call-leave").click()
    wait(officer).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())


def test_with_camera_and_microphone_denied_the_officer_is_told_how_and_can_still_watch(
    server: LiveServer, tmp_path: Path, artifacts_dir: Path
) -> None:
    """The site's permissions say no to both (a browser that does not answer prompts by
    itself): the overlay says what to do, in Chinese, and the call goes on receive-only."""
    app = server.app
    case_id = dispatched(app, min(app.names.workers), "占道经营，视频核实")
    officer = new_chromium((1920, 1080), tmp_path / "profile", fake_ui=False)
    try:
        for name in ("camera", "microphone"):
            officer.execute_cdp_cmd(
                "Browser.setPermission",
                {"origin": server.url, "permission": {"name": name}, "setting": "denied"},
            )
        sign_in(officer, server.url, "duty")
        officer.get(f"{server.url}/cases/{case_id}")
        wait(officer).until(lambda d: d.find_element(By.ID, "case-call-worker")).click()
        note = wait(officer).until(lambda d: d.find_element(By.ID, "ch-call-note"))
        wait(officer).until(lambda d: note.is_displayed() and note.text)
        assert note.text == (
            "摄像头或麦克风权限被拒绝。请在浏览器地址栏的权限设置中允许后重试；本次仅能收看收听。"
        )
        wait(officer, 20).until(lambda d: call_stats(d)["connection"] == "connected")
        wait(officer, 20).until(lambda d: call_stats(d)["framesDecoded"] > 0)
        # nothing to mute, turn off or show of oneself
        for control in ("ch-call-mute", "ch-call-camera"):
            assert not officer.find_element(By.ID, control).is_enabled(), control
        assert not officer.find_element(By.ID, "ch-call-self").is_displayed()
        officer.save_screenshot(str(artifacts_dir / "calls-media-denied.png"))
        officer.find_element(By.ID, "ch-call-leave").click()
        wait(officer).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())
    finally:
        officer.quit()


def test_a_conference_rings_the_township_console_which_joins_with_one_click(
    server: LiveServer, chromium_driver: WebDriver, tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> None:  # fmt: skip
    """召开视频会商 with the picker's defaults (the case's township, department and worker):
    the township office's console shows the invitation and joins with one click."""
    from tests.conftest import new_chromium

    app = server.app
    worker = sorted(app.names.workers)[1]
    case_id = dispatched(app, worker, "邻里纠纷，需要乡镇与部门会商")
    township = app.names.workers[worker].township_id
    assert township is not None
    office = new_chromium((1280, 800), tmp_path_factory.mktemp("office-profile"))
    try:
        sign_in(office, server.url, f"town-{app.names.units[township].code.lower()}")
        office.get(f"{server.url}/console")
        wait(office).until(
            lambda d: d.execute_script(
                "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
            )
        )
        officer = chromium_driver
        sign_in(officer, server.url, "duty")
        officer.get(f"{server.url}/cases/{case_id}")
        wait(officer).until(lambda d: d.find_element(By.ID, "case-call-conference")).click()
        ticked = [
            box.get_attribute("value")
            for box in officer.find_elements(By.CSS_SELECTOR, "#ch-call-picker input:checked")
        ]
        assert f"township:{township}" in ticked and f"worker:{worker}" in ticked
        officer.find_element(By.ID, "ch-call-picker-start").click()

        join = wait(office).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept"), "no invitation"
        )
        assert join.text == "加入"
        text = office.find_element(By.CSS_SELECTOR, "#ch-call-ring .ch-call-ring-text").text
        assert text == "值班员 李明 邀请您参加视频会商"
        office.save_screenshot(str(artifacts_dir / "calls-office-invitation.png"))
        join.click()
        sees_remote_video(office, "office")
        sees_remote_video(officer, "officer")
        wait(officer).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ch-call-people li")) == 2
        )
        assert officer.find_element(By.ID, "ch-call-title").text == "视频会商"
        office.find_element(By.ID, "ch-call-leave").click()  # the conference goes on
        wait(officer).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ch-call-people li")) == 1
        )
        assert officer.find_element(By.ID, "ch-call").is_displayed()
        officer.find_element(By.ID, "ch-call-end").click()
        wait(officer).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())
    finally:
        office.quit()


def test_a_worker_calls_the_centre_the_wall_shows_it_and_a_duty_console_answers(
    server: LiveServer, chromium_driver: WebDriver, phone_driver: WebDriver,
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path,
) -> None:  # fmt: skip
    from tests.conftest import new_chromium

    app = server.app
    worker = sorted(app.names.workers)[2]
    name = app.names.workers[worker].name
    wall = new_chromium((1920, 1080), tmp_path_factory.mktemp("wall-profile"))
    try:
        wall.get(f"{server.url}/wall")
        wait(wall, 30).until(lambda d: d.find_element(By.ID, "wall-call-banner"))
        officer = chromium_driver
        sign_in(officer, server.url, "duty")
        officer.get(f"{server.url}/console")
        wait(officer).until(
            lambda d: d.execute_script(
                "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
            )
        )
        phone = phone_driver
        phone.get(f"{server.url}/field?token={device_token(app, worker)}")
        wait(phone).until(lambda d: d.find_element(By.ID, "field-worker").text == name)
        button = wait(phone).until(lambda d: d.find_element(By.ID, "field-call-centre"))
        assert button.text == "呼叫指挥中心"
        wait(phone).until(
            lambda d: d.execute_script(
                "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
            )
        )
        button.click()

        banner = wall.find_element(By.ID, "wall-call-banner")
        wait(wall, 15).until(lambda d: banner.is_displayed(), "the wall shows no incoming call")
        assert name in wall.find_element(By.ID, "wall-call-text").text
        wall.save_screenshot(str(artifacts_dir / "calls-wall-incoming.png"))
        answer = wait(officer).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept")
        )
        ring = officer.find_element(By.CSS_SELECTOR, "#ch-call-ring .ch-call-ring-text").text
        assert ring == f"网格员 {name} 呼叫指挥中心"
        answer.click()
        sees_remote_video(officer, "officer")
        sees_remote_video(phone, "worker")
        wait(wall, 15).until(lambda d: not banner.is_displayed(), "the banner stayed after answer")
        phone.find_element(By.ID, "ch-call-leave").click()  # hanging up ends a one-to-one call
        wait(officer).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())
    finally:
        wall.quit()


def test_an_officer_at_the_wall_calls_a_worker_from_its_marker(
    server: LiveServer, chromium_driver: WebDriver, phone_driver: WebDriver
) -> None:
    import requests
    from selenium.webdriver.common.action_chains import ActionChains

    from dispatch.domain.geometry import centroid
    from tests.support import api_headers

    app = server.app
    worker = sorted(app.names.workers)[3]
    name = app.names.workers[worker].name
    long, lat = centroid(app.names.units[app.names.workers[worker].grid_id].polygon[0])
    when = app.core.clock.now().isoformat(timespec="milliseconds")
    fixes = [{"worker_id": worker, "time": when, "lat": lat, "long": long}]
    posted = requests.post(f"{server.url}/api/positions", json={"fixes": fixes},
                           headers=api_headers(app), timeout=10)  # fmt: skip
    assert posted.status_code == 200, posted.text

    phone = phone_driver
    phone.get(f"{server.url}/field?token={device_token(app, worker)}")
    wait(phone).until(lambda d: d.find_element(By.ID, "field-worker").text == name)
    officer = chromium_driver
    sign_in(officer, server.url, "duty")
    officer.get(f"{server.url}/wall")
    # The workers are drawn on a canvas: click where the layer says this one is.
    marker = wait(officer, 30).until(
        lambda d: d.execute_script(
            "const w = window.CommandHall && CommandHall.wallWorkers;"
            "return w && w.drawn[arguments[0]] ? CommandHall.wallMap.workerMarkers()"
            "  .find((m) => m.id === String(arguments[0])) : null;", worker
        ),
        "the worker's marker never showed",
    )  # fmt: skip
    board = officer.find_element(By.ID, "wall-map")
    ActionChains(officer).move_to_element_with_offset(
        board, round(marker["x"] - board.size["width"] / 2),
        round(marker["y"] - board.size["height"] / 2),
    ).click().perform()  # fmt: skip
    button = wait(officer).until(
        lambda d: next(
            (b for b in d.find_elements(By.CSS_SELECTOR, ".wall-worker-popup [data-call-worker]")
             if b.is_displayed()),
            None,
        )
    )  # fmt: skip
    assert button.text == "视频通话" and button.get_attribute("data-call-worker") == str(worker)
    button.click()
    wait(phone).until(lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept")).click()
    sees_remote_video(phone, "worker")
    sees_remote_video(officer, "officer at the wall")
    officer.find_element(By.ID, "ch-call-end").click()
    wait(phone).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())


def test_a_township_console_calls_a_cases_worker_from_the_row(
    server: LiveServer, chromium_driver: WebDriver, phone_driver: WebDriver
) -> None:
    app = server.app
    worker = sorted(app.names.workers)[5]
    case_id = dispatched(app, worker, "井盖缺失，请网格员视频说明")
    phone = phone_driver
    phone.get(f"{server.url}/field?token={device_token(app, worker)}")
    wait(phone).until(
        lambda d: d.execute_script(
            "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
        ),
        "the phone's /calls socket never connected",
    )
    township = app.names.workers[worker].township_id
    assert township is not None
    officer = chromium_driver
    sign_in(officer, server.url, f"town-{app.names.units[township].code.lower()}")
    officer.get(f"{server.url}/console")
    wait(officer).until(
        lambda d: d.execute_script(
            "const s = CommandHall.calls._state.socket; return !!(s && s.connected)"
        )
    )
    # Dispatched to the township: the first of its lists (待签收), its row with a call button.
    row_button = f"tr[data-case-id='{case_id}'] [data-call-worker]"
    button = wait(officer, 20).until(
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, row_button)), None),
        "no call button on the case's console row",
    )
    assert button.text == "视频通话"
    assert button.get_attribute("data-call-worker") == str(worker)
    assert button.get_attribute("data-call-case") == str(case_id)
    button.click()
    wait(phone).until(lambda d: d.find_element(By.CSS_SELECTOR, "#ch-call-ring .is-accept")).click()
    sees_remote_video(phone, "worker")
    sees_remote_video(officer, "the township office at its console")
    officer.find_element(By.ID, "ch-call-end").click()
    wait(phone).until(lambda d: not d.find_element(By.ID, "ch-call").is_displayed())


def test_a_connection_the_server_drops_is_made_again_by_the_page(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """The MCU's side of the officer's connection closes (its connection failed or timed out
    there): the room's state no longer lists the officer, so the page offers again at once
    and is back in the call by itself, without waiting 15-30 s for its own ICE consent
    check to notice (18.7 s measured before the page listened to the room)."""
    from media.mcu.service import EmbeddedConferences

    app = server.app
    case_id = dispatched(app, a_worker(app), "连接中断，自动重连")
    officer = chromium_driver
    open_case_page(officer, server, case_id).click()
    wait(officer, 20).until(lambda d: call_stats(d)["connection"] == "connected")
    sees_remote_video(officer, "officer")
    rooms = app.flask.extensions["commandhall.calls"].rooms
    assert isinstance(rooms, EmbeddedConferences)
    room_id = officer.execute_script("return CommandHall.calls._state.roomId")
    room = rooms.room(room_id)
    assert room is not None and len(room.members) == 1
    (member,) = room.members.values()
    officer.execute_script("window.__before = CommandHall.calls._state.pc")
    started = time.monotonic()
    rooms.loop.call(member.pc.close(), timeout=5)
    wait(officer, 10).until(
        lambda d: (
            d.execute_script("return CommandHall.calls._state.pc !== window.__before")
            and call_stats(d)["connection"] == "connected"
        ),
        "the page did not make its connection again within 10 s",
    )
    print(f"\nback after {time.monotonic() - started:.1f} s")
    sees_remote_video(officer, "officer, connected again")
    officer.find_element(By.ID, "ch-call-leave").click()
