"""Grid workers on the live wall, in real Chromium against a real server.

The server's clock is a FixedClock, so presence can be moved on by the test: each worker
starts with a fix a minute old (online), except three probes: one that has not moved for
almost seven minutes (idle), one silent for over three (offline) and one silent for 100 s,
which the presence sweep turns offline once the clock has moved on by 30 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.adapters.clock import FixedClock
from dispatch.domain.geometry import centroid
from realtime.positions import sweep_presence
from tests.support import LiveServer, api_headers, build_app

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

LIVE_WITHIN = 2.0  # seconds from the POST (or the sweep) until the map shows it
M_PER_DEG = 111_195.0
IDLE, OFFLINE, GOES_OFFLINE = 5, 6, 7  # worker ids of the presence probes
PROBES = (IDLE, OFFLINE, GOES_OFFLINE)
PRESENCES = ("online", "idle", "offline")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("wall-workers")
    app = build_app(
        data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", clock=FixedClock(datetime.now(UTC))
    )
    live = LiveServer(app).start()
    start_positions(live)
    yield live
    live.stop()


def clock(server: LiveServer) -> FixedClock:
    fixed = server.app.core.clock
    assert isinstance(fixed, FixedClock)
    return fixed


def home(server: LiveServer, worker_id: int) -> tuple[float, float]:
    """(lat, long): the centre of the worker's grid, a little apart from its grid mates."""
    worker = server.app.names.workers[worker_id]
    long, lat = centroid(server.app.names.units[worker.grid_id].polygon[0])
    return lat, long + (worker_id % 5) * 40 / M_PER_DEG


def fix(worker_id: int, when: datetime, lat: float, long: float) -> dict[str, Any]:
    return {"worker_id": worker_id, "time": when.isoformat(timespec="milliseconds"),
            "lat": round(lat, 7), "long": round(long, 7), "speed": 1.2, "battery": 80}  # fmt: skip


def post(server: LiveServer, fixes: list[dict[str, Any]]) -> None:
    answer = requests.post(
        f"{server.url}/api/positions", json={"fixes": fixes}, headers=api_headers(server.app),
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == len(fixes) and not body["flagged"] and body["live"], body


def start_positions(server: LiveServer) -> None:
    now = clock(server).now()
    fixes = []
    for worker_id in sorted(server.app.names.workers):
        lat, long = home(server, worker_id)
        if worker_id == IDLE:  # fixes keep coming from the same spot: not moved for 400 s
            fixes.append(fix(worker_id, now - timedelta(seconds=400), lat, long))
            fixes.append(fix(worker_id, now - timedelta(seconds=30), lat, long))
        elif worker_id == OFFLINE:
            fixes.append(fix(worker_id, now - timedelta(seconds=200), lat, long))
        elif worker_id == GOES_OFFLINE:
            fixes.append(fix(worker_id, now - timedelta(seconds=100), lat, long))
        else:
            fixes.append(fix(worker_id, now - timedelta(seconds=60), lat, long))
    post(server, fixes)


def open_wall(driver: WebDriver, url: str, workers: int) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: "is-connected" in d.find_element(By.ID, "wall-conn").get_attribute("class"),
        "the wall never said it was connected",
    )
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return CommandHall.wallMap.workerMarkers().length") >= workers,
        f"the map never showed the {workers} workers",
    )


def shown_workers(driver: WebDriver) -> dict[int, dict[str, Any]]:
    """Every worker marker on the canvas: its LatLng, presence and position in the map."""
    rows = driver.execute_script(
        """
        const drawn = CommandHall.wallWorkers.drawn, out = {};
        for (const m of CommandHall.wallMap.workerMarkers()) {
          out[m.id] = Object.assign(m, {probe: drawn[m.id].probe || null});
        }
        return out;
        """
    )
    return {int(k): v for k, v in rows.items()}


def legend_counts(driver: WebDriver) -> dict[str, str]:
    return {p: driver.find_element(By.ID, f"wall-presence-{p}").text for p in PRESENCES}


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_wall_shows_every_worker_of_the_snapshot_coloured_by_presence(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    snapshot = requests.get(f"{server.url}/api/snapshot", timeout=10).json()["workers"]
    located = {w["id"]: w for w in snapshot if w["lat"] is not None}
    assert len(located) == len(snapshot) == len(server.app.names.workers)
    open_wall(chromium_driver, f"{server.url}/wall", len(located))

    shown = shown_workers(chromium_driver)
    assert shown.keys() == located.keys()
    for worker_id, worker in located.items():
        assert shown[worker_id]["lat"] == pytest.approx(worker["lat"], abs=1e-7)
        assert shown[worker_id]["long"] == pytest.approx(worker["long"], abs=1e-7)
        assert shown[worker_id]["presence"] == worker["presence"], worker_id
    assert (shown[IDLE]["presence"], shown[OFFLINE]["presence"]) == ("idle", "offline")

    counts = {p: sum(w["presence"] == p for w in snapshot) for p in PRESENCES}
    assert counts["idle"] == 1 and counts["offline"] == 1, counts
    assert legend_counts(chromium_driver) == {p: str(n) for p, n in counts.items()}
    kpi = chromium_driver.find_element(By.ID, "wall-kpi-workers_online").text
    assert kpi == f"{counts['online'] + counts['idle']}/{len(snapshot)}"
    # Workers are drawn above the grids and under the cases.
    z = chromium_driver.execute_script(
        "return ['wall-grids', 'wall-workers', 'wall-cases'].map(p =>"
        " +getComputedStyle(document.querySelector(`[class~=leaflet-${p}-pane-pane]`)).zIndex)"
    )
    assert z[0] < z[1] < z[2], z
    # Each worker and case is drawn at the pixel Leaflet itself would put it at (the marks'
    # own projection), on a canvas over the whole map.
    off = chromium_driver.execute_script(
        """
        const worst = (layer) => {
          const map = layer.marks._map;
          let most = 0;
          for (const id of Object.keys(layer.marks.marks)) {
            const m = layer.marks.marks[id], at = layer.marks.drawnAt(id);
            const p = map.latLngToContainerPoint([m.lat, m.long]);
            most = Math.max(most, Math.abs(at.x - p.x), Math.abs(at.y - p.y));
          }
          return most;
        };
        return [worst(CommandHall.wallWorkers), worst(CommandHall.wallCases),
                !!CommandHall.wallWorkers.marks.mercator];
        """
    )
    assert off[0] <= 0.5 and off[1] <= 0.5 and off[2] is True, off
    chromium_driver.save_screenshot(str(artifacts_dir / "wall-workers.png"))
    assert console_errors(chromium_driver) == []


def test_a_posted_fix_moves_the_workers_marker_in_place_within_two_seconds(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    open_wall(driver, f"{server.url}/wall", len(server.app.names.workers))
    mover = 42
    before = shown_workers(driver)[mover]
    # Mark the marker: moved in place, the same marker must still be there after.
    driver.execute_script("CommandHall.wallWorkers.drawn[arguments[0]].probe = 'x'", mover)
    lat, long = before["lat"] + 1000 / M_PER_DEG, before["long"]  # a kilometre north, in 30 s
    posted = time.monotonic()
    post(server, [fix(mover, clock(server).now() - timedelta(seconds=30), lat, long)])
    WebDriverWait(driver, LIVE_WITHIN, poll_frequency=0.05).until(
        lambda d: shown_workers(d)[mover]["lat"] == pytest.approx(lat, abs=1e-7),
        f"worker {mover}'s marker did not move within {LIVE_WITHIN} s",
    )
    took = time.monotonic() - posted

    after = shown_workers(driver)[mover]
    assert after["long"] == pytest.approx(long, abs=1e-7)
    assert after["probe"] == "x", "the marker was rebuilt, not moved"
    assert before["y"] - after["y"] > 5, (before, after)  # north is up the screen
    assert abs(before["x"] - after["x"]) < 1
    assert driver.execute_script("return location.href").endswith("/wall"), "the page reloaded"
    assert console_errors(driver) == []
    print(f"worker moved on the wall {took:.2f} s after the POST")


def test_the_map_draws_again_when_its_drawing_worker_dies(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """The cases and workers are drawn by a Web Worker (assets/js/wall_draw.js); if it dies,
    the layers take new canvases and a new worker, and every marker is drawn again."""
    driver = chromium_driver
    workers = len(server.app.names.workers)
    open_wall(driver, f"{server.url}/wall", workers)
    first = driver.execute_script(
        "const w = CommandHall.wallDraw.worker(); window.__firstWorker = w;"
        "return [!!w, CommandHall.wallWorkers.marks.board.offscreen]"
    )
    assert first == [True, True], "the wall does not draw off the main thread"
    # A message no board can take makes the worker throw: its error ends it for the page.
    driver.execute_script("CommandHall.wallDraw.worker().postMessage({board: 999, canvas: 1})")
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return CommandHall.wallDraw.worker() === null"),
        "the page never heard that its drawing worker failed",
    )
    mover = 44
    before = shown_workers(driver)[mover]
    lat, long = before["lat"] + 100 / M_PER_DEG, before["long"]
    # Older than the fixes the render test below sends, so that one still moves everybody.
    post(server, [fix(mover, clock(server).now() - timedelta(seconds=40), lat, long)])
    WebDriverWait(driver, 10, poll_frequency=0.1).until(
        lambda d: d.execute_script(
            "const w = CommandHall.wallDraw.worker();"
            "return !!w && w !== window.__firstWorker"
            " && CommandHall.wallWorkers.count() === arguments[0]", workers,
        ),
        "the workers were not drawn again by a new worker",
    )  # fmt: skip
    assert shown_workers(driver)[mover]["lat"] == pytest.approx(lat, abs=1e-7)
    assert driver.find_elements(By.CSS_SELECTOR, "#wall-map canvas.wall-marks")
    # The worker's own uncaught error and the page's note of it; nothing else.
    errors = [e["message"] for e in console_errors(driver)]
    assert any("drawing worker failed" in m for m in errors), errors
    assert all("drawing worker failed" in m or "getContext" in m for m in errors), errors


# Times each sync of the worker layer, and until the browser painted it (two animation frames).
TIME_SYNCS = """
const layer = CommandHall.wallWorkers, sync = layer.sync;
window.syncTimes = [];
layer.sync = function (workers) {
  const t0 = performance.now(), count = sync.call(layer, workers);
  if (count && count.moved) {
    requestAnimationFrame(() => requestAnimationFrame(() => window.syncTimes.push(
      {moved: count.moved, ms: layer.stats.lastMs, painted: performance.now() - t0})));
  }
  return count;
};
"""

# The same layer with a Wuwei-sized 2,500 workers: add them, then move them all, each time
# until painted; then the real workers are put back.
SYNTHETIC_2500 = """
const done = arguments[arguments.length - 1], layer = CommandHall.wallWorkers;
const real = layer.wanted, c = layer.group._map.getCenter();
const make = (dy, t) => {
  const out = {};
  for (let i = 0; i < 2500; i++) {
    out[100000 + i] = {id: 100000 + i, lat: c.lat + (i % 50 - 25) * 0.004 + dy,
      long: c.lng + (Math.floor(i / 50) - 25) * 0.004, at: t,
      presence: ['online', 'online', 'idle', 'offline'][i % 4]};
  }
  return out;
};
const paint = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
(async () => {
  let t0 = performance.now();
  layer.sync(make(0, '2026-01-01T00:00:00Z'));
  await paint();
  const added = performance.now() - t0;
  t0 = performance.now();
  const moved = layer.sync(make(0.0005, '2026-01-01T00:00:05Z')).moved;
  const ms = layer.stats.lastMs;
  await paint();
  const painted = performance.now() - t0;
  layer.sync(real);
  done({added, moved, ms, painted, removed: layer.stats.last.removed});
})();
"""


def test_the_render_cost_of_a_frame_that_moves_every_worker(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    workers = server.app.names.workers
    open_wall(driver, f"{server.url}/wall", len(workers))
    driver.execute_script(TIME_SYNCS)
    when = clock(server).now() - timedelta(seconds=20)
    moving = [w for w in sorted(workers) if w not in PROBES]
    shown = shown_workers(driver)
    post(
        server,
        [fix(w, when, shown[w]["lat"] + 50 / M_PER_DEG, shown[w]["long"]) for w in moving],
    )
    WebDriverWait(driver, LIVE_WITHIN + 1).until(
        lambda d: d.execute_script("return window.syncTimes.length"),
        "the frame never reached the map",
    )
    frame = driver.execute_script("return window.syncTimes[0]")
    assert frame["moved"] == len(moving), "the frame was not applied in one sync"

    driver.set_script_timeout(60)
    big = driver.execute_async_script(SYNTHETIC_2500)
    print(
        f"one frame moving {frame['moved']} of {len(workers)} workers: {frame['ms']:.1f} ms "
        f"in the layer, {frame['painted']:.0f} ms until painted; 2,500 workers: "
        f"{big['added']:.0f} ms to add and paint, {big['ms']:.0f} ms to move all, "
        f"{big['painted']:.0f} ms until painted"
    )
    # Timings depend on the machine (headless, software-rendered); the shape does not: a
    # frame is one sync that moves markers in place, never a rebuild of the layer.
    assert frame["ms"] < 100, frame
    assert big["moved"] == 2500 and big["removed"] == 2500, big
    assert len(shown_workers(driver)) == len(workers)
    assert console_errors(driver) == []


def test_a_click_on_a_workers_marker_offers_a_video_call(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """The markers are drawn on a canvas; its renderer still finds the one clicked."""
    driver = chromium_driver
    open_wall(driver, f"{server.url}/wall", len(server.app.names.workers))
    worker = shown_workers(driver)[IDLE]
    board = driver.find_element(By.ID, "wall-map")
    size = board.size
    ActionChains(driver).move_to_element_with_offset(
        board, round(worker["x"] - size["width"] / 2), round(worker["y"] - size["height"] / 2)
    ).click().perform()
    button = WebDriverWait(driver, 5).until(
        lambda d: next(
            (b for b in d.find_elements(By.CSS_SELECTOR, ".wall-worker-popup [data-call-worker]")
             if b.is_displayed()),
            None,
        ),
        "a click on the worker's marker opened no popup",
    )  # fmt: skip
    assert button.text == "视频通话" and button.get_attribute("data-call-worker") == str(IDLE)
    assert console_errors(driver) == []


def test_a_worker_silent_for_two_minutes_turns_offline_after_the_presence_sweep(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    driver = chromium_driver
    open_wall(driver, f"{server.url}/wall", len(server.app.names.workers))
    assert shown_workers(driver)[GOES_OFFLINE]["presence"] == "online"
    before = legend_counts(driver)

    clock(server).advance(timedelta(seconds=30))  # its last fix is now 130 s old
    changes = sweep_presence(server.app, clock(server).now())
    assert {(c.worker_id, c.after.value) for c in changes} >= {(GOES_OFFLINE, "offline")}
    WebDriverWait(driver, LIVE_WITHIN, poll_frequency=0.05).until(
        lambda d: shown_workers(d)[GOES_OFFLINE]["presence"] == "offline",
        f"worker {GOES_OFFLINE} still looks online {LIVE_WITHIN} s after the sweep",
    )
    WebDriverWait(driver, LIVE_WITHIN).until(
        lambda d: legend_counts(d)["offline"] == str(int(before["offline"]) + 1),
        f"the legend still counts {before['offline']} offline",
    )
    assert console_errors(driver) == []


def test_workers_who_went_offline_while_the_wall_was_away_show_offline_when_it_is_back(
    server: LiveServer, chromium_driver: WebDriver
) -> None:
    """Frames are not replayed: after a reconnect the bridge takes the workers afresh."""
    driver = chromium_driver
    total = len(server.app.names.workers)
    open_wall(driver, f"{server.url}/wall", total)
    refreshes = driver.execute_script("return CommandHall.live.stats.refreshes")
    driver.execute_script("CommandHall.live.socket.disconnect()")

    listed = requests.get(
        f"{server.url}/api/workers", headers=api_headers(server.app), timeout=10
    ).json()["workers"]
    newest = max(datetime.fromisoformat(w["at"]) for w in listed)
    clock(server).set(max(clock(server).now(), newest + timedelta(seconds=121)))
    assert len(sweep_presence(server.app, clock(server).now())) > 0
    time.sleep(1.5)  # the frame telling it goes out while the wall is away
    assert any(w["presence"] != "offline" for w in shown_workers(driver).values())

    driver.execute_script("CommandHall.live.socket.connect()")
    WebDriverWait(driver, 5, poll_frequency=0.1).until(
        lambda d: all(w["presence"] == "offline" for w in shown_workers(d).values()),
        "workers who went offline meanwhile still look online after the reconnect",
    )
    assert driver.execute_script("return CommandHall.live.stats.refreshes") == refreshes + 1
    WebDriverWait(driver, 2).until(
        lambda d: legend_counts(d) == {"online": "0", "idle": "0", "offline": str(total)}
    )
    assert driver.find_element(By.ID, "wall-kpi-workers_online").text == f"0/{total}"
    assert console_errors(driver) == []
