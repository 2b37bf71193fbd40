"""The case page's nearest cameras in real Chromium: four live tiles, a snapshot saved as
evidence, and the viewers gone again when the officer leaves the page.

The video is the demo cameras' H.264 through the real gateway (no re-encoding); whether it
plays is read from the page: each <video>'s size and the decoded frames counted by the
camera player (requestVideoFrameCallback) and by the peer connection's own statistics.
How many viewers the gateway serves is asked over the /media namespace (`status`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.adapters.orm import CaseRow
from dispatch.service import actions
from dispatch.service.suggest import nearest_cameras
from tests.e2e.test_console import report
from tests.integration.test_camera_gateway import media_socket
from tests.support import LiveServer, browser_sign_in, build_app, with_users

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("case-cameras")
    app = with_users(build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}"))
    live = LiveServer(app).start()
    yield live
    live.stop()


def wait(driver: WebDriver, timeout: float = 20) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, timeout, poll_frequency=0.2)


def viewers(server: LiveServer, camera_ids: list[int]) -> dict[int, int]:
    """How many viewers the gateway serves per camera, as its `status` ack says."""
    sio = media_socket(server.url)
    try:
        ack = sio.call("status", {"camera_ids": camera_ids}, namespace="/media", timeout=10)
    finally:
        sio.disconnect()
    return {c["camera_id"]: c["viewers"] for c in ack["cameras"]}


def tiles(driver: WebDriver) -> list[dict[str, Any]]:
    """Each tile's camera, video size, frames the player counted and status line."""
    found: list[dict[str, Any]] = driver.execute_script(
        """
        const players = (window.CommandHall.caseCameras || {players: () => []}).players();
        return [...document.querySelectorAll('#case-tiles .case-tile')].map(tile => {
          const video = tile.querySelector('video');
          const player = players.find(p => p.video === video);
          const status = tile.querySelector('.case-tile-status');
          return {camera: Number(tile.dataset.cameraId), width: video.videoWidth,
                  height: video.videoHeight, frames: player ? player.frames : -1,
                  status: status.className, text: status.innerText,
                  save: !!tile.querySelector('.case-tile-save')};
        });
        """
    )
    return found


def decoded_frames(driver: WebDriver) -> list[int]:
    """framesDecoded of every tile's inbound video, from its RTCPeerConnection's getStats."""
    result: list[int] = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        Promise.all(window.CommandHall.caseCameras.players().map(p => p.stats()))
          .then(all => done(all.map(s => (s ? s.framesDecoded : -1))));
        """
    )
    return result


def open_case(driver: WebDriver, server: LiveServer, username: str, case_id: int) -> None:
    browser_sign_in(driver, server.url, username)
    wait(driver).until(lambda d: "/login" not in d.current_url, "sign-in did not finish")
    driver.get(f"{server.url}/cases/{case_id}")
    wait(driver).until(
        lambda d: d.find_elements(By.ID, "case-ticket"), f"case {case_id} did not render"
    )


def test_duty_watches_the_four_nearest_cameras_and_saves_a_snapshot_as_evidence(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    case_id = report(server, 0, "十字路口垃圾乱堆，请调取附近视频")
    detail_cameras = [c["id"] for c in nearest_cameras(server.app.core, case_row(server, case_id))]
    assert len(detail_cameras) == 4
    assert set(viewers(server, detail_cameras).values()) == {0}

    open_case(driver, server, "duty", case_id)
    wait(driver).until(lambda d: len(tiles(d)) == 4, "four tiles")
    shown = tiles(driver)
    assert [t["camera"] for t in shown] == detail_cameras  # nearest first
    wait(driver, 40).until(
        lambda d: all(t["width"] > 0 and "is-playing" in t["status"] for t in tiles(d)),
        "all four tiles playing",
    )
    first, stats_first = tiles(driver), decoded_frames(driver)
    time.sleep(2.0)
    later, stats_later = tiles(driver), decoded_frames(driver)
    for before, after in zip(first, later, strict=True):
        assert (after["width"], after["height"]) == (640, 360)
        assert after["frames"] >= before["frames"] + 10, (before, after)  # ~12 fps
        assert after["save"] is True
    assert all(b < a for b, a in zip(stats_first, stats_later, strict=True)), stats_later
    assert viewers(server, detail_cameras) == {cid: 1 for cid in detail_cameras}

    # Save what the first camera shows: the photo and the timeline event appear in place.
    driver.execute_script("window.__sameDocument = true")
    driver.find_element(By.ID, "case-tile-save-1").click()
    wait(driver).until(
        lambda d: "is-ok" in d.find_element(By.ID, "case-tile-msg-1").get_attribute("class"),
        "the snapshot was not saved",
    )
    photo_id = driver.find_element(By.ID, "case-tile-msg-1").get_attribute("data-photo-id")
    wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#case-side .case-photo[data-kind='evidence']"
                                                   f"[data-photo-id='{photo_id}']"),
        "the evidence photo on the page",
    )  # fmt: skip
    event_css = "#case-timeline .case-event.is-case-evidence_added"
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, event_css), "the event")
    event = driver.find_element(By.CSS_SELECTOR, event_css).text
    assert "调取视频截图作为证据" in event
    assert driver.execute_script("return window.__sameDocument === true")  # no reload
    # The video went on playing through the refresh: the tiles are outside what it redraws.
    assert all("is-playing" in t["status"] for t in tiles(driver))
    time.sleep(0.5)  # let the thumbnail load before the picture is taken
    shot = artifacts_dir / "case-cameras.png"
    driver.save_screenshot(str(shot))
    assert Image.open(shot).size[0] >= 1900

    # Leaving the page (a client-side navigation, no reload) hangs every tile up.
    driver.find_element(By.CSS_SELECTOR, "a.case-back").click()
    wait(driver).until(lambda d: not d.find_elements(By.ID, "case-tiles"), "left the case")
    deadline = time.monotonic() + 10
    while set(viewers(server, detail_cameras).values()) != {0}:
        assert time.monotonic() < deadline, viewers(server, detail_cameras)
        time.sleep(0.3)


def case_row(server: LiveServer, case_id: int) -> CaseRow:
    with server.app.core.db.read() as session:
        row = session.get(CaseRow, case_id)
        assert row is not None
        session.expunge(row)
        return row


def test_a_department_office_watches_but_gets_no_save_button(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    case_id = report(server, 1, "占道经营，部门办理")
    for step, params in (("verify", {}), ("register", {}),
                         ("dispatch", {"department": "urbanmgmt"})):  # fmt: skip
        actions.perform(server.app.core, case_id, step, params, actor="duty:test")
    open_case(chromium_driver, server, "dept-urbanmgmt", case_id)
    wait(chromium_driver).until(lambda d: len(tiles(d)) == 4, "four tiles")
    wait(chromium_driver, 40).until(
        lambda d: all(t["width"] > 0 for t in tiles(d)), "the tiles playing"
    )
    assert not any(t["save"] for t in tiles(chromium_driver))
    assert not chromium_driver.find_elements(By.CSS_SELECTOR, ".case-tile-save")
