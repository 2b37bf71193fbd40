"""The live wall in real Chromium against a real server with three weeks of history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import actions
from tests.support import LiveServer, api_key, build_app

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

KPI_KEYS = ("reported_today", "open", "closed_today", "overdue", "yellow")
LIVE_WITHIN = 2.0  # seconds from the POST until the case shows on the wall


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("wall")
    app = build_app(data_dir, f"sqlite:///{data_dir / 'commandhall.db'}", history=True)
    live = LiveServer(app).start()
    yield live
    live.stop()


def open_wall(driver: WebDriver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: "is-connected" in d.find_element(By.ID, "wall-conn").get_attribute("class"),
        "the wall never said it was connected",
    )


def grid_count(server: LiveServer) -> int:
    layer = requests.get(f"{server.url}/api/geo/grids.geojson", timeout=10).json()
    return len(layer["features"])


def shown_kpis(driver: WebDriver) -> dict[str, str]:
    return {k: driver.find_element(By.ID, f"wall-kpi-{k}").text for k in KPI_KEYS}


def latest_rows(driver: WebDriver) -> list[tuple[str, str]]:
    """(case id, text) of each row, read in one go: rows are replaced as updates land."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#wall-latest-list .wall-row')]"
        ".map(li => [li.dataset.caseId, li.textContent])"
    )
    return [(case_id, text) for case_id, text in rows]


def submit_through_open311(server: LiveServer, key: str) -> int:
    grid = min(
        (u for u in server.app.names.units.values() if u.kind == UnitKind.GRID),
        key=lambda u: u.id,
    )
    long, lat = centroid(grid.polygon[0])
    answer = requests.post(
        f"{server.url}/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "firerisk",
            "lat": f"{lat:.6f}",
            "long": f"{long:.6f}",
            "description": "楼道堆放杂物堵塞消防通道",
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()[0]["service_request_id"])


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_wall_is_live_fits_the_screen_and_shows_a_new_case_within_two_seconds(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    open_wall(driver, f"{server.url}/wall")
    grids = grid_count(server)
    WebDriverWait(driver, 20).until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('path.wall-grids').length") >= grids
        ),
        f"the map never drew the {grids} grids",
    )

    size = driver.execute_script(
        "const e = document.documentElement;"
        "return [e.scrollWidth, innerWidth, e.scrollHeight, innerHeight]"
    )
    assert size[0] <= size[1] and size[2] <= size[3], f"scrollbars: {size}"
    assert size[1:4:2] == [1920, 1080]

    expected = {k: str(v) for k, v in requests.get(f"{server.url}/api/kpis").json().items()}
    WebDriverWait(driver, 5).until(lambda d: shown_kpis(d) == expected, "KPIs differ")
    # The cases are drawn on a canvas: the layer says what it drew (assets/js/wall_cases.js).
    markers_before = driver.execute_script("return CommandHall.wallMap.caseMarkers().length")
    assert markers_before == len(requests.get(f"{server.url}/api/snapshot").json()["cases"])

    key = api_key(server.app)
    posted = time.monotonic()
    case_id = submit_through_open311(server, key)
    WebDriverWait(driver, LIVE_WITHIN, poll_frequency=0.05).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, f"#wall-latest-list [data-case-id='{case_id}']")
            and d.execute_script(
                "return CommandHall.wallMap.caseMarkers().some((m) => m.id === arguments[0])",
                str(case_id),
            )
        ),
        f"case {case_id} was not on the wall within {LIVE_WITHIN} s",
    )
    took = time.monotonic() - posted
    top_id, top_text = latest_rows(driver)[0]
    assert top_id == str(case_id), "the new case is not at the top of the list"
    assert "消防隐患" in top_text and "上报" in top_text, top_text
    assert driver.execute_script("return location.href").endswith("/wall"), "the page reloaded"
    expected_after = {k: str(v) for k, v in requests.get(f"{server.url}/api/kpis").json().items()}
    WebDriverWait(driver, 3).until(lambda d: shown_kpis(d) == expected_after, "KPIs lag")

    # A change in place (patched into the list, not prepended): the row says 核实 now.
    actions.perform(server.app.core, case_id, "verify", {}, actor="test")
    WebDriverWait(driver, LIVE_WITHIN).until(
        lambda d: "核实" in latest_rows(d)[0][1], "the verified case still shows its old state"
    )
    ids = [case for case, _ in latest_rows(driver)]
    assert ids[0] == str(case_id) and len(ids) == len(set(ids)), ids

    driver.save_screenshot(str(artifacts_dir / "wall-1920x1080.png"))
    assert console_errors(driver) == []
    print(f"new case on the wall after {took:.2f} s")


def test_the_start_page_links_to_the_wall_and_the_wall_speaks_english(
    server: LiveServer, chromium_driver: WebDriver, artifacts_dir: Path
) -> None:
    driver = chromium_driver
    driver.get(f"{server.url}/?lang=en")
    link = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "home-link-wall"))
    assert link.get_attribute("href").endswith("/wall?lang=en")
    open_wall(driver, link.get_attribute("href"))
    assert driver.find_element(By.CSS_SELECTOR, ".wall-title").text == "CommandHall wall"
    assert driver.find_element(By.ID, "wall-conn").text == "Connected"
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".wall-kpi-name")]
    assert labels == [
        "Reported today", "Registered today", "Closed today", "Open", "Closure rate",
        "On time", "Satisfaction", "Yellow", "Overdue", "Workers online", "Calls now",
    ]  # fmt: skip
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".wall-panel-title")]
    assert "Overdue warnings" in titles and "Cameras" in titles, titles
    legend = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".wall-legend-label")]
    assert legend == ["On patrol", "Stationary", "Offline"]
    WebDriverWait(driver, 5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-latest-list .wall-row-state")
    )
    strings = json.loads(
        driver.find_element(By.ID, "wall-live").get_attribute("data-strings") or "{}"
    )
    english_states = {v for k, v in strings.items() if k.startswith("state.")}
    # textContent, not .text: rows below the panel's edge are clipped and Selenium hides them.
    states = set(
        driver.execute_script(
            "return [...document.querySelectorAll('.wall-row-state')].map(e => e.textContent)"
        )
    )
    assert states and states <= english_states, states
    switch = driver.find_element(By.ID, "wall-lang")
    assert switch.text == "中文" and switch.get_attribute("href").endswith("/wall?lang=zh-CN")
    driver.save_screenshot(str(artifacts_dir / "wall-1920x1080-en.png"))
    assert console_errors(driver) == []
