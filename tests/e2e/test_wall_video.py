"""The wall's camera tiles play live video in real Chromium, through the real camera gateway:
every tile decodes frames, and a tile whose camera loses its stream says so and plays again by
itself when the camera is back, without anyone touching the wall."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.adapters.orm import CameraRow
from dispatch.service import cameras
from tests.integration.test_camera_gateway import write_video
from tests.support import LiveServer, build_app

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

# Each tile: its camera, what its status line says, what the player says, frames decoded.
TILES = """
const done = arguments[arguments.length - 1];
const playing = (window.CommandHall.wallVideo || {}).playing || {};
Promise.all([...document.querySelectorAll('#wall-tiles video')].map(async (v, i) => {
  const p = playing[i + 1];
  const stats = p ? await p.player.stats() : null;
  return {camera: Number(v.dataset.cameraId), width: v.videoWidth, player: v.dataset.player,
          status: v.closest('figure').querySelector('.wall-tile-status').textContent,
          frames: stats ? stats.framesDecoded : 0};
})).then(done);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("wall-video")
    app = build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}")
    live = LiveServer(app).start()
    yield live
    live.stop()
    app.core.db.dispose()


def tiles(driver: WebDriver) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = driver.execute_async_script(TILES)
    return found


def wait_all_playing(driver: WebDriver, timeout: float, what: str) -> list[dict[str, Any]]:
    WebDriverWait(driver, timeout, poll_frequency=0.25).until(
        lambda d: (
            (shown := tiles(d)) != []
            and all(t["width"] > 0 and t["player"] == "playing" for t in shown)
        ),
        what,
    )
    return tiles(driver)


def test_every_tile_plays_and_a_tile_that_loses_its_camera_recovers_by_itself(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path, tmp_path: Path
) -> None:
    app = server.app
    # The first camera of the patrol (the lowest id: no case is red) is a video file here,
    # so the test can take its stream away and give it back.
    with app.core.db.read() as session:
        first = min(session.scalars(CameraRow.__table__.select().with_only_columns(CameraRow.id)))
    video = tmp_path / "gate.h264"
    write_video(video, seconds=2, fmt="h264")
    kept = tmp_path / "kept.h264"
    shutil.copy(video, kept)
    cameras.save_camera(app.core, {"source": str(video)}, camera_id=first)

    driver = chromium_driver
    driver.set_script_timeout(20)
    driver.get(f"{server.url}/wall?tiles=4")
    began = time.monotonic()
    shown = wait_all_playing(driver, 30, "the four tiles never all played")
    started = time.monotonic() - began
    assert shown[0]["camera"] == first
    assert len({t["camera"] for t in shown}) == 4
    time.sleep(2)
    later = tiles(driver)
    for before, after in zip(shown, later, strict=True):
        assert after["frames"] > before["frames"], f"tile of camera {after['camera']} froze"
    assert later[0]["width"] == 320 and later[1]["width"] == 640  # the file; a demo camera
    driver.save_screenshot(str(artifacts_dir / "wall-video-1920x1080.png"))

    video.unlink()  # the gateway reads the file again at its end: the camera is gone
    seen: list[dict[str, Any]] = []
    WebDriverWait(driver, 15, poll_frequency=0.25).until(
        lambda d: seen.append(tiles(d)[0]) or seen[-1]["player"] == "offline",
        "the tile never said its video was lost",
    )
    lost = seen[-1]
    # The gateway says the camera went offline; or, first, the player saw the frames stop.
    assert "视频中断" in lost["status"] or "画面停止" in lost["status"], lost
    assert all(t["player"] == "playing" for t in tiles(driver)[1:])  # the others play on

    shutil.copy(kept, video)
    back = wait_all_playing(driver, 40, "the tile did not play again when its camera came back")
    assert back[0]["status"] == "实时" and back[0]["camera"] == first
    time.sleep(1.5)  # (the player may have watched anew: its frame count then starts over)
    assert tiles(driver)[0]["frames"] > back[0]["frames"], "frames stopped after the recovery"
    assert driver.find_element(By.ID, "wall-conn").get_attribute("class")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    print(f"four tiles playing {started:.2f} s after navigation")
