"""24/7: one wall against a busy demo for SOAK_MINUTES (10 by default), in headless Chromium.

`commandhall demo` runs as a newcomer starts it, with the simulator at high speed: a citizen
report every 0.3 s on average, each followed by 4-10 steps of the virtual duty team, and the
walkers 100 times faster than life, so every worker on the map moves. Every 30 s the test
forces a garbage collection in the page and reads the JS heap (CDP HeapProfiler +
Runtime.getHeapUsage), the DOM nodes and listeners (Performance.getMetrics), how far the
wall has followed the event log, and the console. Two disturbances on the way: at a third of
the run the socket's transport is closed under the wall (a network blip), at two thirds the
server is killed and started again (a restart); each time the wall must notice, reconnect
and catch up by itself.

Asserts: heap growth (last sample minus the first after a minute of warm-up) under 30 MB; no
SEVERE console entry, bar the refused connections while the server is down; the wall
connected at the end, and its KPIs still moving. Samples go to test-artifacts/soak-wall.csv
and the last screen to test-artifacts/soak-wall.png.

Not part of the normal suite (marker `soak`, deselected by pyproject's addopts): `make soak`.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import free_port

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

MINUTES = float(os.environ.get("SOAK_MINUTES") or 10)
SAMPLE_EVERY = 30.0  # seconds
WARM_UP = 60.0  # seconds before the heap baseline
HEAP_GROWTH_MB = 30.0
RECONNECT_WITHIN = 60.0  # seconds, after a blip or after the server is back
# While the server is down Chromium itself logs the refused polls and websockets.
REFUSED = ("ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE",
           "WebSocket connection to")  # fmt: skip
BUSY_DEMO = {
    "COMMANDHALL_SIMULATOR_INTERVAL": "0.3",  # mean seconds between citizen reports
    "COMMANDHALL_SIMULATOR_SPEED": "100",  # the walkers' speed factor (the most allowed)
}

pytestmark = [pytest.mark.soak, pytest.mark.browser, pytest.mark.timeout(int(MINUTES * 60) + 900)]


def settled(cases: list[list[Any]], before: datetime) -> dict[int, tuple[str, str, str]]:
    """Cases ([id, state, light, updated_at]) last changed before `before`, by id."""
    return {int(c[0]): (c[1], c[2], c[3]) for c in cases if datetime.fromisoformat(c[3]) < before}


def start_demo(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`commandhall demo` with the busy simulator, its output in `log`; returns once it serves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDHALL_")}
    env.update(BUSY_DEMO)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatch.cli", "demo", "--port", str(port),
             "--data-dir", str(data_dir)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while b"Press Ctrl+C" not in log.read_bytes().split(b"\n=== ")[-1]:
        assert proc.poll() is None, f"the demo exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the demo did not start:\n{log.read_text()[-3000:]}"
        time.sleep(0.5)
    return proc


@dataclass
class Sample:
    t_s: float
    heap_mb: float
    dom_nodes: int
    listeners: int
    seq: int
    batches: int
    frames: int
    snapshots: int
    catchups: int
    reported_today: str
    open: str
    workers_online: str
    status: str
    severe: int


class Wall:
    """The wall under test, seen through CDP and its own objects."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self.severe: list[tuple[float, str]] = []  # (seconds into the run, message)
        self.started = time.monotonic()
        driver.execute_cdp_cmd("HeapProfiler.enable", {})
        driver.execute_cdp_cmd("Performance.enable", {})

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def conn(self) -> str:
        return self.driver.find_element(By.ID, "wall-conn").get_attribute("class") or ""

    def kpi(self, key: str) -> str:
        return self.driver.find_element(By.ID, f"wall-kpi-{key}").text.replace("\n", "")

    def heap_mb(self) -> float:
        """JS heap in use after a forced full garbage collection."""
        self.driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        used = float(self.driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"])
        return round(used / 2**20, 2)

    def read_console(self) -> None:
        now = self.elapsed()
        for entry in self.driver.get_log("browser"):  # type: ignore[no-untyped-call]
            if entry["level"] == "SEVERE":
                self.severe.append((now, entry["message"]))

    def sample(self) -> Sample:
        heap = self.heap_mb()
        metrics = {
            m["name"]: m["value"]
            for m in self.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
        }
        live: dict[str, Any] = self.driver.execute_script(
            "const l = CommandHall.live; return {seq: l.state ? l.state.seq : -1,"
            " status: l.status(), ...l.stats}"
        )
        self.read_console()
        return Sample(
            t_s=round(self.elapsed(), 1), heap_mb=heap, dom_nodes=int(metrics["Nodes"]),
            listeners=int(metrics["JSEventListeners"]), seq=live["seq"],
            batches=live["batches"], frames=live["frames"], snapshots=live["snapshots"],
            catchups=live["catchups"], reported_today=self.kpi("reported_today"),
            open=self.kpi("open"), workers_online=self.kpi("workers_online"),
            status=live["status"], severe=len(self.severe),
        )  # fmt: skip

    def socket_id(self) -> str | None:
        found: str | None = self.driver.execute_script(
            "const l = window.CommandHall && CommandHall.live; return l ? l.socket.id : null"
        )
        return found

    def status(self) -> str | None:
        """The bridge's own word for the link (null until the page has made it)."""
        found: str | None = self.driver.execute_script(
            "const l = window.CommandHall && CommandHall.live; return l ? l.status() : null"
        )
        return found

    def same_as_a_fresh_snapshot(self, base_url: str) -> tuple[int, list[Any]]:
        """The wall's cases against GET /api/snapshot, once the wall has reached its seq.
        Cases changed in the last 10 s are left out (the simulator never rests): what is
        left must be identical. Returns how many were compared, and the differences."""
        snap = requests.get(f"{base_url}/api/snapshot", timeout=60).json()
        WebDriverWait(self.driver, 30, poll_frequency=0.2).until(
            lambda d: d.execute_script("return CommandHall.live.state.seq") >= snap["seq"],
            "the wall did not reach the snapshot's seq",
        )
        mine: list[list[Any]] = self.driver.execute_script(
            "return Object.values(CommandHall.live.state.cases)"
            ".map(c => [c.id, c.state, c.light, c.updated_at])"
        )
        cutoff = datetime.fromisoformat(snap["server_time"]) - timedelta(seconds=10)
        theirs = settled(
            [[c["id"], c["state"], c["light"], c["updated_at"]] for c in snap["cases"]], cutoff
        )
        shown = {int(c[0]): (c[1], c[2], c[3]) for c in mine}
        later = datetime.fromisoformat(snap["server_time"])
        differences: list[Any] = [
            (case_id, "snapshot", theirs[case_id], "wall", shown.get(case_id))
            for case_id in theirs
            if shown.get(case_id) != theirs[case_id]
            # changed again after the snapshot was read: the wall is ahead, not wrong
            and not (case_id in shown and datetime.fromisoformat(shown[case_id][2]) > later)
        ]
        differences += [
            (case_id, "only on the wall", c) for case_id, c in settled(mine, cutoff).items()
            if case_id not in theirs
        ]  # fmt: skip
        return len(theirs), differences

    def wait_connected(self, what: str, *, not_on: str | None = None) -> None:
        """Until the wall is synced and says so; on a connection other than `not_on`."""
        WebDriverWait(self.driver, RECONNECT_WITHIN, poll_frequency=0.5).until(
            lambda d: (
                self.status() == "connected"
                and self.socket_id() not in (None, not_on)
                and "is-connected" in self.conn()
            ),
            f"the wall did not reconnect after {what}",
        )


def test_a_wall_on_a_busy_demo_keeps_up_reconnects_by_itself_and_does_not_grow(
    chromium_driver: WebDriver, tmp_path: Path, artifacts_dir: Path
) -> None:
    port, data_dir, log = free_port(), tmp_path / "data", tmp_path / "demo.log"
    proc = start_demo(data_dir, port, log)
    try:
        driver = chromium_driver
        driver.get(f"http://127.0.0.1:{port}/wall")
        wall = Wall(driver)
        wall.wait_connected("opening")
        WebDriverWait(driver, 30).until(lambda d: wall.kpi("open").isdigit(), "no KPIs shown")

        samples: list[Sample] = []
        outage: tuple[float, float] | None = None  # the server was down from, to (s)
        blip_at, restart_at = MINUTES * 60 / 3, MINUTES * 60 * 2 / 3
        blipped = restarted = False
        next_sample = 0.0
        while wall.elapsed() < MINUTES * 60:
            if not blipped and wall.elapsed() >= blip_at:
                blipped = True
                snapshots = driver.execute_script("return CommandHall.live.stats.snapshots")
                before = wall.socket_id()
                driver.execute_script("CommandHall.live.socket.io.engine.close()")
                wall.wait_connected("a network blip", not_on=before)
                seq, after = driver.execute_script(
                    "const l = CommandHall.live; return [l.state.seq, l.stats.snapshots]"
                )
                print(f"{wall.elapsed():.0f} s: blip; reconnected at seq {seq}, "
                      f"snapshots {snapshots} → {after}")  # fmt: skip
            if not restarted and wall.elapsed() >= restart_at:
                restarted = True
                down = wall.elapsed()
                proc.send_signal(signal.SIGKILL)  # no goodbye to the screens
                proc.wait(timeout=10)
                WebDriverWait(driver, RECONNECT_WITHIN, poll_frequency=0.5).until(
                    lambda d: "is-connected" not in wall.conn(),
                    "the wall did not notice that the server was gone",
                )
                with log.open("ab") as out:
                    out.write(b"\n=== restarted\n")
                proc = start_demo(data_dir, port, log)
                wall.wait_connected("a server restart")
                outage = (down, wall.elapsed())
                print(f"{down:.0f} s: server killed; the wall was connected again "
                      f"{outage[1] - down:.1f} s later")  # fmt: skip
            if wall.elapsed() >= next_sample:
                samples.append(wall.sample())
                s = samples[-1]
                print(f"{s.t_s:6.0f} s  heap {s.heap_mb:6.2f} MB  nodes {s.dom_nodes:6d}  "
                      f"listeners {s.listeners:5d}  seq {s.seq:6d}  frames {s.frames:4d}  "
                      f"today {s.reported_today}  {s.status}")  # fmt: skip
                next_sample += SAMPLE_EVERY
            time.sleep(1)
        samples.append(wall.sample())
        previous_kpi = samples[-1].reported_today
        time.sleep(20)
        samples.append(wall.sample())
        # A case may change between reading the snapshot and reading the wall (the SLA clock
        # turns lights without touching updated_at): a difference counts only when it stays.
        compared, differences = wall.same_as_a_fresh_snapshot(f"http://127.0.0.1:{port}")
        for _ in range(3):
            if not differences:
                break
            time.sleep(2)
            again = {d[0] for d in wall.same_as_a_fresh_snapshot(f"http://127.0.0.1:{port}")[1]}
            differences = [d for d in differences if d[0] in again]
        print(f"the wall's state against a fresh snapshot: {compared} cases compared, "
              f"{len(differences)} differences")  # fmt: skip
        driver.save_screenshot(str(artifacts_dir / "soak-wall.png"))
        shown = wall.conn()  # read now: the server stops below
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    with (artifacts_dir / "soak-wall.csv").open("w", newline="") as sheet:
        writer = csv.DictWriter(sheet, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)

    warm = [s for s in samples if s.t_s >= WARM_UP]
    growth = warm[-1].heap_mb - warm[0].heap_mb
    events = samples[-1].seq - samples[0].seq
    print(
        f"heap after warm-up {warm[0].heap_mb} MB, last {warm[-1].heap_mb} MB, max "
        f"{max(s.heap_mb for s in warm)} MB: growth {growth:+.2f} MB; DOM nodes "
        f"{warm[0].dom_nodes} → {warm[-1].dom_nodes}; {events} events followed "
        f"({events / (samples[-1].t_s / 60):.0f}/min), {samples[-1].frames} position frames, "
        f"{samples[-1].snapshots} snapshots, {samples[-1].catchups} catch-ups"
    )

    def while_down(t: float, message: str) -> bool:
        """A refused connection logged while the server was down (or by the next sample)."""
        down = outage is not None and outage[0] <= t <= outage[1] + SAMPLE_EVERY
        return down and any(r in message for r in REFUSED)

    unexpected = [(t, m) for t, m in wall.severe if not while_down(t, m)]
    assert unexpected == [], f"console errors: {unexpected[:5]}"
    assert growth < HEAP_GROWTH_MB, f"the JS heap grew {growth:.1f} MB: {[s.heap_mb for s in warm]}"
    assert samples[-1].status == "connected" and "is-connected" in shown, shown
    assert samples[-1].reported_today != previous_kpi, "reported today did not move in 20 s"
    assert samples[-1].seq > samples[-2].seq, "the wall stopped following the event log"
    assert blipped and restarted and outage is not None
    # Nothing was lost across the blip and the restart: stale state + events == fresh fetch.
    assert compared > 0 and differences == [], differences[:10]
