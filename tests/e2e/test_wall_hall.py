"""The command-hall wall in real Chromium, at 1920x1080 and 3840x2160, against a real server
with three weeks of history: every panel filled, the screen filled exactly, a case turning
red seen in the warnings and pulsing on the map within two seconds, the camera tiles."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.adapters.clock import FixedClock
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.domain.sla import SlaPolicy, Urgency
from dispatch.service import actions
from dispatch.service.intake import NewReport, submit_report
from tests.support import LiveServer, build_app

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

LIVE_WITHIN = 2.0  # seconds from the commit until the wall shows it
SIZES = {"1920x1080": (1920, 1080), "3840x2160": (3840, 2160)}
PANELS = ("warnings", "latest", "tiles", "townships", "categories", "trend", "channels")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("wall-hall")
    app = build_app(
        data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", history=True,
        clock=FixedClock(datetime.now(UTC)),
    )  # fmt: skip
    live = LiveServer(app).start()
    yield live
    live.stop()


def clock(server: LiveServer) -> FixedClock:
    fixed = server.app.core.clock
    assert isinstance(fixed, FixedClock)
    return fixed


def geo(server: LiveServer, layer: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{server.url}/api/geo/{layer}.geojson", timeout=10)
    features: list[dict[str, Any]] = answer.json()["features"]
    return features


def open_wall(driver: WebDriver, server: LiveServer, query: str = "") -> None:
    """Open the wall and wait until it is connected and has drawn the map and the charts."""
    driver.get(f"{server.url}/wall{query}")
    WebDriverWait(driver, 30).until(
        lambda d: "is-connected" in (d.find_element(By.ID, "wall-conn").get_attribute("class")),
        "the wall never said it was connected",
    )
    grids, cameras = len(geo(server, "grids")), len(geo(server, "cameras"))
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.querySelectorAll('path.wall-grids').length >= arguments[0]"
            " && document.querySelectorAll('path.wall-camera').length >= arguments[1]"
            " && document.querySelectorAll('#wall-chart-townships .wall-bar').length > 0"
            " && document.querySelectorAll('#wall-tiles .wall-tile:not(.is-empty)').length > 0",
            grids, cameras,
        ),
        "the map, the charts or the tiles were never drawn",
    )  # fmt: skip


# Everything the test looks at, read in one go from the page.
READ_WALL = """
const q = (s) => [...document.querySelectorAll(s)];
const rect = (e) => { const r = e.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width,
          height: r.height}; };
const doc = document.documentElement;
return {
  size: [doc.scrollWidth, innerWidth, doc.scrollHeight, innerHeight],
  rootPx: parseFloat(getComputedStyle(doc).fontSize),
  panels: Object.fromEntries(q('.wall-panel').map((p) =>
    [[...p.classList].find((c) => c.startsWith('is-')).slice(3), rect(p)])),
  map: rect(document.querySelector('.wall-map-frame')),
  kpis: Object.fromEntries(q('[id^=wall-kpi-]').map((e) => [e.id.slice(9), e.textContent])),
  warnings: q('#wall-warnings .wall-warn').map((li) => ({key: li.dataset.key,
    caseId: li.dataset.caseId, cls: li.className,
    clock: li.querySelector('.wall-warn-clock-time').textContent,
    text: li.textContent})),
  latest: q('#wall-latest-list .wall-row').length,
  trend: q('#wall-chart-trend path.wall-trend-line').map((p) => p.getAttribute('d') || ''),
  arcs: q('#wall-chart-channels .wall-donut-arc').map((c) =>
    parseFloat(c.getAttribute('stroke-dasharray'))),
  channels: q('#wall-chart-channels .wall-channel').map((e) => e.textContent),
  townships: q('#wall-chart-townships .wall-bar').map((e) => e.textContent),
  categories: q('#wall-chart-categories .wall-bar').map((e) => e.textContent),
  grids: q('path.wall-grids').length,
  shaded: q('path.wall-grids').filter((p) => +p.getAttribute('fill-opacity') > 0).length,
  cases: Object.fromEntries(CommandHall.wallMap.caseMarkers().map((m) => [m.id, m.light])),
  cameras: q('path.wall-camera').length,
  hot: q('path.wall-hot').length,
  tiles: q('#wall-tiles .wall-tile').map((f) => ({
    video: f.querySelector('video').id,
    camera: f.querySelector('video').dataset.cameraId,
    name: f.querySelector('.wall-tile-name').textContent,
    status: f.querySelector('.wall-tile-status').textContent})),
  // Text cut by its box: what the hall could not read.
  clipped: q('.wall-kpi-name, .wall-panel-title, .wall-kpi-value, .wall-warn-clock-time,'
             + ' .wall-bar-value, .wall-title, .wall-clock')
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.className + ': ' + e.textContent),
};
"""


def read_wall(driver: WebDriver) -> dict[str, Any]:
    found: dict[str, Any] = driver.execute_script(READ_WALL)
    return found


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1
    )


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between (lat, long) points, as the tiles measure it."""
    rad = math.pi / 180
    x = (b[1] - a[1]) * rad * math.cos((a[0] + b[0]) / 2 * rad)
    y = (b[0] - a[0]) * rad
    return math.hypot(x, y) * 6_371_000


def newest_red(server: LiveServer) -> dict[str, Any]:
    cases = requests.get(f"{server.url}/api/snapshot", timeout=10).json()["cases"]
    red = [c for c in cases if c["status"] == "open" and c["light"] == "red"]
    assert red, "the seeded history has no red case"
    return max(red, key=lambda c: (c["deadline"] or "", c["id"]))


def nearest_cameras(server: LiveServer, case: dict[str, Any], count: int) -> list[str]:
    cameras = geo(server, "cameras")
    at = (case["lat"], case["long"])
    ranked = sorted(
        cameras,
        key=lambda f: (metres(at, tuple(reversed(f["geometry"]["coordinates"]))), f["id"]),
    )
    return [str(f["id"]) for f in ranked[:count]]


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize("chromium_viewport_size", SIZES.values(), ids=SIZES.keys())
def test_the_wall_fills_the_screen_exactly_and_every_panel_is_drawn_with_data(
    server: LiveServer,
    chromium_driver: WebDriver,
    chromium_viewport_size: tuple[int, int],
    artifacts_dir: Path,
) -> None:
    driver = chromium_driver
    width, height = chromium_viewport_size
    open_wall(driver, server)
    time.sleep(1.2)  # one more push: the charts and tiles settle
    wall = read_wall(driver)

    # The screen, exactly: no scrollbars, nothing outside, type that grows with the screen.
    assert wall["size"] == [width, width, height, height], wall["size"]
    assert wall["rootPx"] == pytest.approx(16 * height / 1080)
    boxes = {**wall["panels"], "map": wall["map"]}
    assert set(PANELS) <= boxes.keys(), boxes.keys()
    for name, box in boxes.items():
        assert box["width"] > 0.1 * width / 6 and box["height"] > height / 12, (name, box)
        assert box["left"] >= 0 and box["top"] >= 0, (name, box)
        assert box["right"] <= width and box["bottom"] <= height, (name, box)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not overlaps(boxes[a], boxes[b]), (a, b)
    assert wall["clipped"] == [], wall["clipped"]

    # KPIs: numbers everywhere, the server's five among them.
    number = re.compile(r"^(\d+|\d+(\.\d)?%|\d+/\d+)$")
    assert all(number.match(v) for v in wall["kpis"].values()), wall["kpis"]
    server_kpis = requests.get(f"{server.url}/api/kpis", timeout=10).json()
    assert {k: wall["kpis"][k] for k in server_kpis} == {k: str(v) for k, v in server_kpis.items()}

    # Warnings: red first, each with a running overrun or countdown.
    assert wall["warnings"], "no warnings on a wall with red cases"
    assert "is-red" in wall["warnings"][0]["cls"]
    assert all(re.search(r"\d\d:\d\d|已超期", w["clock"]) for w in wall["warnings"]), wall
    assert wall["latest"] >= 6

    # Charts: thirty days drawn, every channel and township, the busiest categories.
    assert len(wall["trend"]) == 2 and all(d.count("L") == 29 for d in wall["trend"])
    assert sum(wall["arcs"]) > 90 and len(wall["channels"]) == 5
    assert len(wall["townships"]) == len(server.app.names.townships())
    assert all("%" in t for t in wall["townships"])
    assert len(wall["categories"]) >= 5

    # The map: every grid, shaded where cases are open; every case, camera and hotspot.
    assert wall["grids"] == len(geo(server, "grids")) and wall["shaded"] > 5
    snapshot = requests.get(f"{server.url}/api/snapshot", timeout=10).json()
    # Every case on the map (its canvas, read through the layer), in the light it has.
    lights = {
        str(c["id"]): (c["light"] or "green") if c["status"] == "open" else "closed"
        for c in snapshot["cases"]
    }
    assert wall["cases"] == lights
    assert wall["cameras"] == len(geo(server, "cameras")) and wall["hot"] > 20

    # Tiles: 4 at 1080 lines, 9 at 4K, around the case that turned red last.
    count = 9 if height >= 2160 else 4
    tiles = wall["tiles"]
    assert [t["video"] for t in tiles] == [f"wall-tile-{n}" for n in range(1, count + 1)]
    assert all(t["name"] and t["status"] for t in tiles), tiles
    assert [t["camera"] for t in tiles] == nearest_cameras(server, newest_red(server), count)

    driver.save_screenshot(str(artifacts_dir / f"wall-{width}x{height}.png"))
    assert console_errors(driver) == []


def tiny_deadlines() -> SlaPolicy:
    return SlaPolicy(budgets={u: timedelta(minutes=10) for u in Urgency})


def test_a_case_turning_red_is_in_the_warnings_and_pulses_on_the_map_within_two_seconds(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    app = server.app
    open_wall(driver, server)
    grid = max((u for u in app.names.units.values() if u.kind == UnitKind.GRID), key=lambda u: u.id)
    long, lat = centroid(grid.polygon[0])
    report = NewReport(service_code="firerisk", lat=lat, long=long, description="楼道堆放杂物")
    case_id = submit_report(app.core, report).case_id
    actions.perform(app.core, case_id, "verify", {}, actor="test")
    policy = app.core.policy
    app.core.policy = tiny_deadlines()  # registered now, due in ten minutes
    try:
        actions.perform(app.core, case_id, "register", {}, actor="test")
    finally:
        app.core.policy = policy
    clock(server).advance(timedelta(minutes=10, seconds=1))
    turned = time.monotonic()
    lights = actions.tick(app.core)
    assert any(e.type == "sla.red" and e.case_id == case_id for e in lights)

    key = f"case-{case_id}"
    WebDriverWait(driver, LIVE_WITHIN, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "const li = document.querySelector(`#wall-warnings [data-key='${arguments[0]}']`);"
            "const drawn = CommandHall.wallMap.caseMarkers()"
            "  .find((c) => c.id === String(arguments[1]));"
            "return li && li.classList.contains('is-red') && drawn && drawn.light === 'red'"
            " && drawn.newRed && drawn.beacon",
            key, case_id,
        ),
        f"case {case_id} was not red in the warnings and on the map within {LIVE_WITHIN} s",
    )  # fmt: skip
    took = time.monotonic() - turned
    wall = read_wall(driver)
    reds = [w["caseId"] for w in wall["warnings"] if "is-red" in w["cls"]]
    assert reds[0] == str(case_id), f"the newest red case is not first: {reds}"
    assert "is-new" in wall["warnings"][0]["cls"]  # and the row flashes
    # Its beacon pulses over the marker: a glow and a ring the stylesheet animates, by
    # transform and opacity only (the compositor runs those without the main thread).
    pulse = driver.execute_script(
        "const b = document.querySelector(`.wall-beacon-${arguments[0]}`);"
        "return b && [...b.children].map((el) => {"
        "  const css = getComputedStyle(el);"
        "  return [css.animationName, css.willChange]; })",
        case_id,
    )
    assert pulse and len(pulse) == 2, pulse
    for name, will_change in pulse:
        assert name not in ("", "none") and will_change == "transform, opacity", pulse
    # The tiles turn to the cameras around it.
    WebDriverWait(driver, LIVE_WITHIN).until(
        lambda d: (
            [t["camera"] for t in read_wall(d)["tiles"]]
            == nearest_cameras(server, {"lat": lat, "long": long}, 4)
        ),
        "the camera tiles did not turn to the new red case",
    )
    assert driver.execute_script("return location.href").endswith("/wall"), "the page reloaded"
    driver.save_screenshot(str(artifacts_dir / "wall-1920x1080-new-red.png"))
    assert console_errors(driver) == []
    print(f"red case in the warnings and pulsing on the wall {took:.2f} s after the tick")


# Listens for the playback hook's event, then has the tiles patrol (no red case left).
PATROL = """
const done = arguments[arguments.length - 1], CH = window.CommandHall;
const heard = [];
document.addEventListener('commandhall:wall-tiles', (e) => heard.push(e.detail.map(
  (a) => [a.id, a.cameraId])));
CH.cameraTiles = {assign: (list) => heard.push(['hook', list.length])};
const calm = Object.assign({}, CH.live.state, {cases: {}});
const strings = JSON.parse(document.getElementById('wall-live').dataset.strings);
const t0 = Date.now();
CH.wallTiles.update(calm, t0, strings);
const first = CH.wallTiles.assign().map((a) => a.cameraId);
CH.wallTiles.tick(t0 + 30000, strings);
const second = CH.wallTiles.assign().map((a) => a.cameraId);
done({heard, first, second, mode: document.getElementById('wall-tiles-mode').textContent});
"""


def test_sixteen_tiles_on_request_and_a_patrol_every_thirty_seconds_when_nothing_is_red(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    open_wall(driver, server, "?tiles=16")
    tiles = read_wall(driver)["tiles"]
    assert len(tiles) == 16 and all(t["camera"] for t in tiles)
    assert len({t["camera"] for t in tiles}) == 16
    patrol = driver.execute_async_script(PATROL)
    cameras = sorted(int(f["id"]) for f in geo(server, "cameras"))
    assert patrol["first"] == cameras[:16] and patrol["second"] == cameras[16:32], patrol
    assert "视频轮巡" in patrol["mode"] and "2/" in patrol["mode"], patrol["mode"]
    # The playback side hears every change, by event and through its hook.
    events = [h for h in patrol["heard"] if h[0] != "hook"]
    assert events and events[-1][0] == ["wall-tile-1", cameras[16]]
    assert ["hook", 16] in patrol["heard"]
    assert console_errors(driver) == []
