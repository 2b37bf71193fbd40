"""The wall of a Wuwei-sized city in headless Chromium: 2,500 moving grid workers, 10,000 open
cases. Goals: main-thread time per position frame under 16 ms, navigation to fully drawn
under 3 s.

A throwaway PostgreSQL database gets the demo county, synthetic grid workers up to
`--workers` (bench_positions.add_workers), and `--cases` open cases over every open state
and light, reported over the last thirty days and spread over every grid (COPY, with
bench_console's generator, and their whistle parties). The app runs on a real port in this
process; a pusher, in a process of its own as phones are other machines, moves every worker
round a 60 m circle at `--speed` (3 m/s) through POST /api/positions (batches of 500 every
200 ms), so the server's own frame builder
(realtime/frames.py) sends the wall one `positions` frame a second holding every worker. At
the wall's zoom a pixel is about 56 m: most 3 m moves stay in their pixel and are not redrawn
(wall_workers.js); `--speed 40` redraws nearly every worker every frame. The wall is opened at
1920x1080 (`--size 3840x2160` for a 4K wall) with the demo kiosk account's device token
(`/wall?token=dev_...`).

Fully drawn: navigation start (performance.now() = 0) to the first animation frame after a
watcher installed before the page's own scripts (CDP Page.addScriptToEvaluateOnNewDocument,
polling every 50 ms) sees all of: `#wall-conn` has class `is-connected`; `#wall-kpi-open`
reads the number of open cases; `.wall-grids` paths for every grid; a marker per case of the
snapshot and per worker (both on canvases: CommandHall.wallCases/wallWorkers.count(), and the
animation frame after that paints them); the four charts drawn (an SVG
path in `#wall-chart-trend`, rows in `#wall-chart-channels`, `-townships`, `-categories`);
rows in `#wall-warnings`; the case and worker counts are what the drawing worker says it has
drawn (assets/js/wall_draw.js). Each load is a fresh browser with an empty profile (a kiosk
that boots), `--loads` of them, in two rounds: first with each phone sending a fix every
`--phone-every` seconds (5: docs/realtime.md, "every 5–10 s while it is online"), the goal's
round; then with every worker sending a fix every second into this one web process (2,500
fixes a second, the stress the frames are measured under). On this benchmark's two cores
the server's GIL, PostgreSQL, the pusher and Chromium share the CPUs, so the second round
measures the machine as much as the wall. The heap is read after the last load (CDP
HeapProfiler GC, then Runtime.getHeapUsage).

Per frame: chromedriver's performance log records a Chrome trace
(disabled-by-default-devtools.timeline); the bench wraps the page's `positions` socket
listener from outside (no bench code in the page's scripts) to put a user-timing mark on
each frame. Main-thread time per frame is the time of the page main thread's tasks (RunTask
events) from the task that receives one frame to the task that receives the next: the
frame's handler, the bridge's push, the wall view, Leaflet moving the workers, Dash, style,
layout, paint, plus the clock tick and the CSS animations of that second. It is given as CPU
time (the trace's `tdur`, the thread's own CPU clock), which the goal is checked against, and
as wall time (`dur`). On this benchmark's machine the server, the pusher and Chromium's other
threads share two cores with the page, so a task's wall time is mostly time spent waiting for
a core (a 50 ms busy loop measured 1 to 27 ms of CPU at a load average of 11); on a wall's
own PC the two are close. What a position frame costs the page is measured in rounds: the
workers move for a while (frames come), then stand still as long (the pusher pauses, no
frames come), and the difference of the main thread's CPU a second between the two, divided
by the frames a second, is the frame's cost, with the clock, the video tiles and the
animations that run either way taken out; the goal is checked against its p95 over the
rounds. The CPU of the frame's own task (parse + apply) is reported too,
the longest single task, the split by kind of work (Paint, Layerize, ...) from the same
trace, and the in-page split (handler, view, worker layer, set_props) from the wrappers.

    .venv/bin/python bench/bench_wall.py [--loads 5] [--frames 60] [--workers 2500]
        [--cases 10000] [--speed 3] [--size 1920x1080] [--what-if-plain] [--profile]

--what-if-plain injects a style that turns off the CSS animations (the red cases' drop-shadow
it also turned off is gone from the wall since the cases are on a canvas), to measure what they
cost (not the wall as shipped).

--profile writes a CPU profile of 10 s of frames (test-artifacts/bench-wall.cpuprofile;
open it in Chromium's DevTools) and prints the heaviest functions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from bench_console import (
    COLUMNS,
    OPEN_MIX,
    PARTY_COLUMNS,
    CaseMaker,
    Loaded,
    _weighted,
    party_rows,
)
from bench_positions import add_workers
from common import ROOT, Out, percentile, quiet_logs, temp_postgres
from sqlalchemy import func, select

from dispatch.adapters.orm import CaseRow
from dispatch.bootstrap import App, create_app
from dispatch.config import Settings
from dispatch.demo.seed import seed_demo
from dispatch.domain.geometry import centroid
from dispatch.domain.org import UnitKind
from dispatch.service import accounts
from dispatch.service.apikeys import create_api_key
from dispatch.service.queries import OPEN_STATES
from tests.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS
from tests.support import LiveServer, with_users

# Kinds of main-thread work the trace names, for the split of a frame's time.
KINDS = frozenset({
    "FunctionCall", "TimerFire", "EventDispatch", "FireAnimationFrame", "RunMicrotasks",
    "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "MajorGC", "MinorGC",
    "HitTest", "ScheduleStyleRecalculation", "UpdateLayer", "UpdateLayerTree",
})  # fmt: skip
GOAL_FRAME_MS = 16.0
GOAL_DRAWN_S = 3.0
M_PER_DEG = 111_195.0
BATCH = 500  # realtime/fixes.py MAX_BATCH
SLICES_PER_S = 5  # the pusher posts one slice of the workers every 200 ms
Home = tuple[int, float, float, float]  # a worker's id, the centre of its round and a phase

# Installed before the page's scripts: notes when each part of the wall is first drawn, and
# the first animation frame after all of them are.
DRAWN_WATCHER = """
(() => {
  const want = %(want)s, first = {}, byClass = {};
  const count = (cls) =>
    (byClass[cls] = byClass[cls] || document.getElementsByClassName(cls)).length;
  const byId = (id) => document.getElementById(id);
  // Cases and workers are drawn on canvases: their layers count what they drew.
  const drawn = (layer) => {
    const CH = window.CommandHall;
    return CH && CH[layer] && CH[layer].count ? CH[layer].count() : 0;
  };
  const rows = (id) => (byId(id) ? byId(id).getElementsByTagName('li').length : 0);
  const checks = {
    connected: () => !!byId('wall-conn') && byId('wall-conn').classList.contains('is-connected'),
    kpis: () => !!byId('wall-kpi-open')
      && byId('wall-kpi-open').textContent.trim() === String(want.open),
    grids: () => count('wall-grids') >= want.grids,
    cases: () => drawn('wallCases') >= want.cases,
    workers: () => drawn('wallWorkers') >= want.workers,
    charts: () => { const t = document.getElementById('wall-chart-trend');
      return !!t && t.getElementsByTagName('path').length > 0 && rows('wall-chart-channels') > 0
        && rows('wall-chart-townships') > 0 && rows('wall-chart-categories') > 0; },
    warnings: () => rows('wall-warnings') > 0,
  };
  window.__wallDrawn = {first: first, at: null};
  const timer = setInterval(() => {
    let all = true;
    for (const name of Object.keys(checks)) {
      if (first[name] === undefined) {
        if (checks[name]()) { first[name] = performance.now(); } else { all = false; }
      }
    }
    if (all) {
      clearInterval(timer);
      requestAnimationFrame(() => { window.__wallDrawn.at = performance.now(); });
    }
  }, 50);
})();
"""

# --what-if-plain: the wall without its infinite CSS animations and the drop-shadow filter on
# red case markers (assets/commandhall.css), to measure what they cost. Not the wall as shipped.
PLAIN_STYLE = """
document.addEventListener('DOMContentLoaded', () => {
  const style = document.createElement('style');
  style.textContent = '* { animation: none !important; }'
    + ' .wall-case.is-red { filter: none !important; }';
  document.head.appendChild(style);
});
"""

# Wraps the page's own `positions` listener, the wall view and set_props, from outside.
FRAME_PROBE = """
const CH = window.CommandHall, socket = CH.live.socket;
const rec = (window.__frames = []);
let current = null;
const handler = socket.listeners('positions')[0];
socket.off('positions', handler);
socket.on('positions', function (frame) {
  performance.mark('ch-frame');
  const t0 = performance.now();
  handler.call(this, frame);
  current = {t: t0, workers: (frame.workers || []).length, handler: performance.now() - t0,
             view: null, setProps: 0, sync: null};
  rec.push(current);
});
const view = CH.views.wall;
CH.views.wall = function (ctx) {
  if (ctx.dirty) { performance.mark('ch-push'); }
  const t0 = performance.now(), out = view.call(this, ctx);
  if (ctx.dirty && current && current.view === null) {
    current.view = performance.now() - t0;
    current.sync = CH.wallWorkers.stats.lastMs;
    current.redrawn = (CH.wallWorkers.stats.last || {}).redrawn;
    current.pushing = true;
  }
  return out;
};
const setProps = window.dash_clientside.set_props;
window.dash_clientside.set_props = function () {
  const t0 = performance.now(), out = setProps.apply(this, arguments);
  if (current && current.pushing) { current.setProps += performance.now() - t0; }
  return out;
};
"""


# -- the data ---------------------------------------------------------------------------------


def load_cases(app: App, n: int) -> int:
    """COPY n open cases (reported over the last 30 days) and their whistle parties."""
    rng = random.Random(42)
    now = app.core.clock.now()
    with app.core.db.read() as session:
        if session.scalar(select(func.count()).select_from(CaseRow)):
            raise SystemExit("bench_wall: the cases table is not empty; ids would clash")
    maker = CaseMaker(app, n, now, rng)
    # Every case open, reported in the last thirty days: the wall's window.
    maker.open = set(range(n))
    maker.open_states = _weighted(rng, OPEN_MIX, n)
    maker.start = now - timedelta(days=30)
    maker.step = timedelta(days=30).total_seconds() / n
    loaded = Loaded(cases=n)
    engine = app.core.db.write_engine
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join(maker.row(i, loaded) for i in range(n)))
        with cursor.copy(f"COPY whistle_parties ({', '.join(PARTY_COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join(party_rows(loaded, now, rng)))
        conn.exec_driver_sql("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) cases")
    return loaded.parties


def open_cases(app: App) -> int:
    with app.core.db.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(CaseRow).where(CaseRow.state.in_(OPEN_STATES))
            )
            or 0
        )


# -- the moving workers -----------------------------------------------------------------------


def _fixes(workers: list[Home], speed: float) -> list[dict[str, Any]]:
    """Each worker goes round a circle of 60 m radius about its spot at `speed`."""
    now = datetime.now(UTC)
    t = now.timestamp()
    out = []
    for worker_id, lat, long, phase in workers:
        angle = phase + t * speed / 60
        out.append(
            {
                "worker_id": worker_id,
                "time": now.isoformat(timespec="milliseconds"),
                "lat": round(lat + 60 * math.sin(angle) / M_PER_DEG, 7),
                "long": round(long + 60 * math.cos(angle) / M_PER_DEG, 7),
                "speed": speed,
                "battery": 80,
            }
        )
    return out


def _post(session: requests.Session, target: tuple[str, dict[str, str], float],
          workers: list[Home]) -> str | None:  # fmt: skip
    """POST the workers' next fixes in batches; the first error, if any."""
    url, headers, speed = target
    error = None
    for i in range(0, len(workers), BATCH):
        fixes = _fixes(workers[i : i + BATCH], speed)
        try:
            answer = session.post(url, data=json.dumps({"fixes": fixes}), headers=headers,
                                  timeout=30)  # fmt: skip
            body = answer.json()
            if answer.status_code != 200 or body["accepted"] != len(fixes) or body["flagged"]:
                raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        except Exception as exc:
            error = error or f"{type(exc).__name__}: {exc}"[:300]
    return error


def _push(target: tuple[str, dict[str, str], float], homes: list[Home], stop: Any,
          paused: Any, every: Any, posts: Any, errors: Any) -> None:  # fmt: skip
    """The pusher's process: one slice of the workers every 200 ms until `stop`, so that
    each worker sends a fix every `every.value` seconds."""
    parent = os.getppid()
    cadence, slices = 0.0, [homes]
    with requests.Session() as session:
        tick = time.monotonic()
        n = 0
        while not stop.is_set() and os.getppid() == parent:  # the bench may be killed
            if every.value != cadence:
                cadence = every.value
                count = max(1, round(SLICES_PER_S * cadence))
                slices = [homes[i::count] for i in range(count)]
            if not paused.is_set():
                error = _post(session, target, slices[n % len(slices)])
                with posts.get_lock():
                    posts.value += 1
                if error:
                    errors.put(error)
            n += 1
            tick += 1 / SLICES_PER_S
            stop.wait(max(0.0, tick - time.monotonic()))


class Pusher:
    """Moves every worker ~3 m a second through POST /api/positions: one slice of the
    workers every 200 ms, so every worker has moved once in each second. It runs in a process
    of its own, as phones are other machines: in the server's process its JSON and HTTP
    would take the GIL from the server it measures."""

    def __init__(self, app: App, url: str, key: str, speed: float) -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.target = (f"{url}/api/positions", headers, speed)
        rng = random.Random(5)
        self.homes: list[Home] = []  # (id, lat, long, phase)
        for worker_id in sorted(app.names.workers):
            grid = app.names.units[app.names.workers[worker_id].grid_id]
            long, lat = centroid(grid.polygon[0])
            lat += rng.uniform(-150, 150) / M_PER_DEG
            long += rng.uniform(-150, 150) / M_PER_DEG
            self.homes.append((worker_id, lat, long, rng.uniform(0, 2 * math.pi)))
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.paused = context.Event()  # set: everybody stands still (no fixes, no frames)
        self.every = context.Value("d", 1.0)  # seconds between two fixes of a worker
        self._posts = context.Value("i", 0)
        self._errors = context.Queue()
        self._error_list: list[str] = []
        self.process = context.Process(
            target=_push,
            args=(
                self.target,
                self.homes,
                self.stop,
                self.paused,
                self.every,
                self._posts,
                self._errors,
            ),
            name="pusher",
            daemon=True,
        )

    @property
    def posts(self) -> int:
        return int(self._posts.value)

    @property
    def errors(self) -> list[str]:
        while not self._errors.empty():
            self._error_list.append(self._errors.get())
        return self._error_list

    def place_all(self) -> None:
        """One fix for everybody, before the wall opens: every worker is on the map."""
        with requests.Session() as session:
            error = _post(session, self.target, self.homes)
        if error:
            self._error_list.append(error)

    def start(self) -> None:
        self.process.start()

    def join(self, timeout: float) -> None:
        self.process.join(timeout)


# -- the browser ------------------------------------------------------------------------------


def chromium(profile: Path, *, trace: bool, size: tuple[int, int] = (1920, 1080)) -> Any:
    """Headless Chromium whose page is `size` (tests/conftest.py's flags); with `trace`,
    chromedriver records a Chrome trace of every task into its performance log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    width, height = size
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile}")
    logs = {"browser": "ALL"}
    if trace:
        logs["performance"] = "ALL"
        options.add_experimental_option(
            "perfLoggingPrefs",
            {
                "enableNetwork": False,
                "enablePage": False,
                "traceCategories": "devtools.timeline,disabled-by-default-devtools.timeline,"
                "blink.user_timing",
            },
        )
    options.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    ui_w, ui_h = driver.execute_script(
        "return [outerWidth - innerWidth, outerHeight - innerHeight]"
    )
    driver.set_window_size(width + ui_w, height + ui_h)
    return driver


def heap_mb(driver: Any) -> float:
    """JS heap in use after a full garbage collection, in MB."""
    driver.execute_cdp_cmd("HeapProfiler.enable", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    used = float(driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"])
    return round(used / 2**20, 1)


def severe(driver: Any) -> list[str]:
    return [e["message"][:300] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def load_once(
    url: str,
    want: dict[str, int],
    profile: Path,
    *,
    trace: bool,
    plain: bool,
    size: tuple[int, int] = (1920, 1080),
) -> tuple[Any, dict[str, Any]]:
    """A fresh browser opens the wall; returns it and when each part was first drawn (ms)."""
    driver = chromium(profile, trace=trace, size=size)
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": DRAWN_WATCHER % {"want": json.dumps(want)}},
    )
    if plain:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PLAIN_STYLE})
    driver.get(url)
    deadline = time.monotonic() + 120
    drawn = None
    while time.monotonic() < deadline:
        drawn = driver.execute_script("return window.__wallDrawn")
        if drawn and drawn["at"] is not None:
            return driver, drawn
        time.sleep(0.2)
    driver.quit()
    raise RuntimeError(f"the wall was not fully drawn within 120 s: {drawn}")


# -- the frames -------------------------------------------------------------------------------


@dataclass
class Trace:
    """The page's main-thread tasks and frame marks, from chromedriver's performance log."""

    main: tuple[int, int] | None = None  # (pid, tid) of the page's main thread
    marks: list[float] = field(default_factory=list)
    pushes: list[float] = field(default_factory=list)  # a data push reached the wall's view
    windows: dict[str, list[float]] = field(default_factory=dict)  # window mark → its times
    # (start µs, end µs, CPU µs) of each task, by thread
    by_thread: dict[tuple[int, int], list[tuple[float, float, float]]] = field(default_factory=dict)
    kinds: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)  # name → µs
    kinds_cpu: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    counts: dict[tuple[int, int], Counter[str]] = field(default_factory=dict)  # name → events

    def split(self) -> dict[str, list[float]]:
        """Per frame, for each kind of work on the main thread: wall ms, CPU ms, and how many
        times (nested kinds overlap)."""
        if self.main is None or len(self.marks) < 2:
            return {}
        frames = len(self.marks)
        spent, times = self.kinds.get(self.main, {}), self.counts.get(self.main, Counter())
        cpu = self.kinds_cpu.get(self.main, {})
        return {
            name: [round(us / 1000 / frames, 1), round(cpu.get(name, 0.0) / 1000 / frames, 1),
                   round(times[name] / frames, 1)]
            for name, us in sorted(spent.items(), key=lambda kv: -kv[1])
        }  # fmt: skip

    def take(self, driver: Any) -> None:
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] != "Tracing.dataCollected":
                continue
            event = message["params"]
            where = (event.get("pid"), event.get("tid"))
            # dur: wall time; tdur: the thread's CPU time (what the page cost, however busy
            # the machine's other processes kept the cores meanwhile)
            if event.get("name") == "RunTask" and event.get("ph") == "X":
                ts = float(event["ts"])
                self.by_thread.setdefault(where, []).append(
                    (ts, ts + float(event.get("dur", 0)), float(event.get("tdur", 0)))
                )
            elif event.get("name") in KINDS and event.get("ph") == "X":
                name = event["name"]
                spent = self.kinds.setdefault(where, {})
                spent[name] = spent.get(name, 0.0) + float(event.get("dur", 0))
                cpu = self.kinds_cpu.setdefault(where, {})
                cpu[name] = cpu.get(name, 0.0) + float(event.get("tdur", 0))
                self.counts.setdefault(where, Counter())[name] += 1
            elif event.get("name") == "ch-frame":
                self.main = where
                self.marks.append(float(event["ts"]))
            elif event.get("name") == "ch-push":
                self.pushes.append(float(event["ts"]))
            elif str(event.get("name", "")).startswith("ch-window-"):
                self.windows.setdefault(event["name"], []).append(float(event["ts"]))

    def cpu_rate(self, start: float, end: float) -> float:
        """Main-thread CPU ms a second between two trace times (a task cut by an end counts
        in proportion)."""
        if self.main is None or end <= start:
            return math.nan
        cpu = 0.0
        for s, e, c in self.by_thread.get(self.main, []):
            if e > start and s < end and e > s:
                cpu += c * (min(e, end) - max(s, start)) / (e - s)
        return cpu / 1000 / ((end - start) / 1e6)

    def direct(self) -> list[float]:
        """Per frame, the CPU (ms) of the task that took it in plus the task of the data push
        that drew it (the first after it, before the next frame)."""
        tasks = sorted(self.by_thread.get(self.main or (0, 0), []))

        def cpu_at(ts: float) -> float | None:
            for s, e, c in tasks:
                if s <= ts <= e:
                    return c / 1000
            return None

        marks, pushes = sorted(set(self.marks)), sorted(set(self.pushes))
        out = []
        for a, b in itertools.pairwise([*marks, math.inf]):
            own = cpu_at(a)
            push = next((p for p in pushes if a < p < b), None)
            drawn = cpu_at(push) if push is not None else None
            if own is not None and drawn is not None:
                out.append(own + drawn)
        return out

    def frames_between(self, start: float, end: float) -> int:
        return sum(start <= m < end for m in set(self.marks))

    def per_frame(self) -> dict[str, list[float]]:
        """From each frame's task to the next frame's, in ms: `busy` (wall time of the main
        thread's tasks), `cpu` (their CPU time), `longest` (the longest task, wall), and
        `own` (CPU of the task that received the frame: parsing and applying it); `seconds`,
        how long each interval was."""
        if self.main is None:
            raise RuntimeError("no frame marks in the trace")
        tasks = sorted(self.by_thread.get(self.main, []))
        merged: list[list[float]] = []  # [start, end, cpu]
        for start, end, cpu in tasks:  # nested tasks (a nested run loop) count once
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)  # the outer task's CPU includes it
            else:
                merged.append([start, end, cpu])
        marks = sorted(set(self.marks))

        def task_of(mark: float) -> list[float] | None:
            for task in merged:
                if task[0] <= mark <= task[1]:
                    return task
            return None

        found = [task_of(m) for m in marks]
        bounds = [t[0] if t else m for t, m in zip(found, marks, strict=True)]
        out: dict[str, list[float]] = {"busy": [], "cpu": [], "longest": [], "own": [],
                                       "seconds": []}  # fmt: skip
        for (a, b), task in zip(itertools.pairwise(bounds), found, strict=False):
            if b - a > 2.5e6:
                continue  # across a quiet window (measure_frames pauses the workers)
            spans = [(max(s, a), min(e, b), c) for s, e, c in merged if e > a and s < b]
            out["busy"].append(sum(e - s for s, e, _ in spans) / 1000)
            out["cpu"].append(sum(c for _, _, c in spans) / 1000)
            out["longest"].append(max((e - s for s, e, _ in spans), default=0.0) / 1000)
            out["own"].append(task[2] / 1000 if task else math.nan)
            out["seconds"].append((b - a) / 1e6)
        return out


def median(values: list[float]) -> float:
    return percentile(sorted(values), 50)


def stats_ms(values: list[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50), 1),
        "p95_ms": round(percentile(ordered, 95), 1),
        "max_ms": round(ordered[-1], 1) if ordered else math.nan,
    }


# Metres a pixel spans in the middle of the wall's map, at the zoom it opens at.
METRES_PER_PIXEL = """
const map = CommandHall.wallWorkers.group._map, c = map.getSize().divideBy(2);
return map.distance(map.containerPointToLatLng(c), map.containerPointToLatLng(c.add([1, 0])));
"""


def mark(driver: Any, name: str) -> None:
    driver.execute_script("performance.mark(arguments[0])", name)


def measure_frames(driver: Any, pusher: Pusher, frames: int, out: Out) -> dict[str, Any]:
    """Trace the page in rounds: workers moving for a while, then standing still (the pusher
    paused: no frames come) as long. Per round, the main thread's CPU a second in each, and
    their difference per frame: what a position frame costs the page, with the clock, the
    video tiles and the animations that run either way taken out."""
    driver.execute_script(FRAME_PROBE)
    trace = Trace()
    time.sleep(3)  # let the first wrapped frames through, then start from a clean log
    driver.get_log("performance")
    rounds = max(2, math.ceil(frames / 15))
    window = max(8.0, frames / rounds)  # seconds each way

    def wait(seconds: float) -> None:
        """Sleep, reading the trace every few seconds (chromedriver's buffer is finite)."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 4.0))
            trace.take(driver)

    for n in range(rounds):
        mark(driver, "ch-window-moving")
        wait(window)
        mark(driver, "ch-window-moving-end")
        pusher.paused.set()
        wait(2.5)  # the last frame and its push are through
        mark(driver, "ch-window-still")
        wait(window)
        mark(driver, "ch-window-still-end")
        pusher.paused.clear()
        wait(2.5)
        out.say(f"  round {n + 1}/{rounds}: {len(trace.marks)} frames traced")
    wait(3)
    moving = list(
        zip(
            trace.windows.get("ch-window-moving", []),
            trace.windows.get("ch-window-moving-end", []),
            strict=False,
        )
    )
    still = list(zip(trace.windows.get("ch-window-still", []),
                     trace.windows.get("ch-window-still-end", []), strict=False))  # fmt: skip
    rates: dict[str, list[float]] = {"moving": [], "still": [], "frames_per_s": [], "cost": []}
    for (a, b), (c, d) in zip(moving, still, strict=False):
        on, off = trace.cpu_rate(a, b), trace.cpu_rate(c, d)
        per_s = trace.frames_between(a, b) / ((b - a) / 1e6)
        rates["moving"].append(on)
        rates["still"].append(off)
        rates["frames_per_s"].append(per_s)
        rates["cost"].append((on - off) / per_s if per_s else math.nan)
    per = trace.per_frame()
    probe = driver.execute_script("return window.__frames")
    pushed = [f for f in probe if f.get("view") is not None]
    split = trace.split()
    out.say(
        "main thread per frame, by kind (wall ms / CPU ms, nested kinds overlap): "
        + ", ".join(f"{k} {v[0]}/{v[1]} ({v[2]}×)" for k, v in split.items())
    )
    seconds = sum(per["seconds"])
    cost = [x for x in rates["cost"] if not math.isnan(x)]
    return {
        "frame_cost_cpu": stats_ms(cost),
        "frame_direct_cpu": stats_ms(trace.direct()),
        "cpu_ms_per_s_moving": round(median(rates["moving"]), 1),
        "cpu_ms_per_s_still": round(median(rates["still"]), 1),
        "frames_per_s_moving": round(median(rates["frames_per_s"]), 2),
        "rounds": {k: [round(v, 2) for v in vs] for k, vs in rates.items()},
        "main_thread": stats_ms(per["busy"]),
        "main_thread_cpu": stats_ms(per["cpu"]),
        "frame_task_cpu": stats_ms([x for x in per["own"] if not math.isnan(x)]),
        "cpu_ms_per_s": round(sum(per["cpu"]) / seconds, 1) if seconds else math.nan,
        "frames_per_s": round(len(per["cpu"]) / seconds, 2) if seconds else math.nan,
        "split_ms": split,
        "longest_task": stats_ms(per["longest"]),
        "frames_over_goal": sum(c >= GOAL_FRAME_MS for c in per["cpu"]),
        "workers_per_frame": round(sum(f["workers"] for f in probe) / max(1, len(probe))),
        "m_per_px": round(driver.execute_script(METRES_PER_PIXEL), 1),
        "redrawn_per_frame": round(median([f.get("redrawn") or 0 for f in pushed] or [0])),
        "handler": stats_ms([f["handler"] for f in probe]),
        "view": stats_ms([f["view"] for f in pushed]),
        "worker_sync": stats_ms([f["sync"] for f in pushed if f["sync"] is not None]),
        "set_props": stats_ms([f["setProps"] for f in pushed]),
    }


def profile_frames(driver: Any, seconds: float, path: Path, out: Out) -> None:
    """A CPU profile of some frames, written for DevTools, and the heaviest functions."""
    driver.execute_cdp_cmd("Profiler.enable", {})
    driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 200})
    driver.execute_cdp_cmd("Profiler.start", {})
    time.sleep(seconds)
    profile = driver.execute_cdp_cmd("Profiler.stop", {})["profile"]
    path.write_text(json.dumps(profile))
    nodes = {n["id"]: n for n in profile["nodes"]}
    hits = Counter(profile.get("samples", []))
    self_time: Counter[str] = Counter()
    for node_id, n in hits.items():
        frame = nodes[node_id]["callFrame"]
        where = f"{Path(frame['url']).name}:{frame['lineNumber'] + 1}"
        name = f"{frame['functionName'] or '(anonymous)'} {where}"
        self_time[name] += n
    total = sum(hits.values()) or 1
    out.say(f"CPU profile ({seconds:g} s) written to {path}; heaviest (self time):")
    for name, n in self_time.most_common(15):
        out.say(f"  {100 * n / total:5.1f}%  {name}")


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ch-bench-wall-")))
        url = stack.enter_context(temp_postgres())
        settings = Settings(
            data_dir=tmp, database_url=url, secret_key="bench", simulator=False,
            anonymous_screens=False,
        )  # fmt: skip
        app = create_app(settings)
        app.reload_directory(seed_demo(app.core, tmp, history=False))
        stack.callback(app.core.db.dispose)
        with_users(app)
        began = time.monotonic()
        add_workers(app, args.workers, random.Random(7))
        parties = load_cases(app, args.cases)
        out.say(
            f"seeded {len(app.names.workers):,} workers, {args.cases:,} open cases and "
            f"{parties} whistle parties in {time.monotonic() - began:.1f} s"
        )
        server = LiveServer(app).start()
        stack.callback(server.stop)
        pusher = Pusher(app, server.url, create_api_key(app.core, "bench-wall"), args.speed)
        pusher.place_all()
        pusher.start()
        stack.callback(pusher.join, 10)
        stack.callback(pusher.stop.set)

        user_id = accounts.user_id_by_name(app.core, "wall")
        if user_id is None:
            raise SystemExit("bench_wall: the demo has no kiosk account `wall`")
        token = accounts.issue_device_token(app.core, user_id, label="bench wall")
        wall = f"{server.url}/wall?token={token}"
        grids = sum(1 for u in app.names.units.values() if u.kind == UnitKind.GRID)
        want = {"open": open_cases(app), "cases": open_cases(app), "grids": grids,
                "workers": len(app.names.workers)}  # fmt: skip

        errors: list[str] = []
        driver = None

        def load_round(label: str, every: float) -> dict[str, Any]:
            """`args.loads` fresh browsers open the wall while every worker sends a fix
            every `every` seconds; the last browser stays open (traced) in `driver`."""
            nonlocal driver, errors
            pusher.every.value = every
            time.sleep(2 * every)  # the server at this cadence before the first load
            loads, parts = [], []
            for n in range(args.loads):
                if driver is not None:
                    errors += severe(driver)
                    driver.quit()
                last = n == args.loads - 1
                profile = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ch-")))
                driver, drawn = load_once(wall, want, profile, trace=last,
                                          plain=args.what_if_plain, size=args.size)  # fmt: skip
                loads.append(drawn["at"] / 1000)
                link = driver.execute_script("return CommandHall.live.timing")
                firsts = {**drawn["first"], **{f"link {k}": v for k, v in link.items() if v}}
                parts.append(firsts)
                out.say(
                    f"{label} load {n + 1}: fully drawn at {drawn['at'] / 1000:.2f} s ("
                    + ", ".join(
                        f"{k} {v / 1000:.2f}"
                        for k, v in sorted(firsts.items(), key=lambda kv: kv[1])
                    )
                    + ")"
                )
            ordered = sorted(loads)
            return {
                "fix_every_s": every,
                "n": len(loads),
                "p50_s": round(percentile(ordered, 50), 2),
                "p95_s": round(percentile(ordered, 95), 2),
                "max_s": round(ordered[-1], 2),
                "first_s": round(loads[0], 2),
                "parts_p50_s": {
                    k: round(median([p[k] for p in parts if k in p]) / 1000, 2) for k in parts[0]
                },
            }

        # Phones send a fix every 5 to 10 s (docs/realtime.md): the wall opened in that
        # city; then with every worker sending every second into this one web process, the
        # stress the frames are measured under.
        drawn_phones = load_round("phones", args.phone_every)
        drawn_stress = load_round("every second", 1.0)
        assert driver is not None
        stack.callback(driver.quit)
        time.sleep(2)
        heap_after_load = heap_mb(driver)
        out.say(
            f"JS heap after load (after GC): {heap_after_load} MB; tracing {args.frames} frames"
        )
        frames = measure_frames(driver, pusher, args.frames, out)
        if args.profile:
            profile_frames(driver, 10, ROOT / "test-artifacts" / "bench-wall.cpuprofile", out)
        heap_after_frames = heap_mb(driver)
        errors += severe(driver)
        return {
            "load_average": round(os.getloadavg()[0], 1),
            "workers": len(app.names.workers),
            "open_cases": want["open"],
            "grids": grids,
            "drawn": drawn_phones,
            "drawn_stress": drawn_stress,
            "frames": frames,
            "heap_after_load_mb": heap_after_load,
            "heap_after_frames_mb": heap_after_frames,
            "pusher_posts": pusher.posts,
            "pusher_errors": len(pusher.errors),
            "first_pusher_error": pusher.errors[0] if pusher.errors else "",
            "console_errors": errors,
        }


def screen_size(text: str) -> tuple[int, int]:
    """`WIDTHxHEIGHT`, as `--size` takes it."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 3840x2160") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: a screen from 320x240 to 7680x4320")
    return width, height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="fresh browsers opening the wall (5)")
    parser.add_argument("--frames", type=int, default=60, help="position frames traced (60)")
    parser.add_argument("--workers", type=int, default=2500, help="grid workers (2500)")
    parser.add_argument("--cases", type=int, default=10_000, help="open cases (10000)")
    parser.add_argument(
        "--speed", type=float, default=3.0, help="m/s every worker moves (3; 40 redraws all)"
    )
    parser.add_argument(
        "--what-if-plain",
        action="store_true",
        help="measure the wall without CSS animations and the red cases' drop-shadow",
    )
    parser.add_argument(
        "--phone-every",
        type=float,
        default=5.0,
        help="seconds between a phone's fixes while the wall opens in the first round (5)",
    )
    parser.add_argument("--profile", action="store_true", help="also take a CPU profile")
    parser.add_argument("--size", type=screen_size, default=(1920, 1080),
                        help="the wall's screen, WIDTHxHEIGHT (1920x1080; 3840x2160)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    if args.loads < 1 or args.frames < 5:
        parser.error("--loads must be at least 1 and --frames at least 5")
    quiet_logs()
    out = Out(args.quiet)
    r = run(args, out)
    f, d, stress = r["frames"], r["drawn"], r["drawn_stress"]
    out.say("")
    out.stats(
        f"wall, {r['workers']:,} workers, {r['open_cases']:,} cases",
        {
            "a frame's cost: main-thread CPU": f["frame_cost_cpu"],
            "  its own task + its push, CPU": f["frame_direct_cpu"],
            "main thread CPU, frame to frame": f["main_thread_cpu"],
            "  the frame's own task, CPU": f["frame_task_cpu"],
            "main thread wall per frame": f["main_thread"],
            "longest task per frame (wall)": f["longest_task"],
            "  positions handler": f["handler"],
            "  wall view (dirty push)": f["view"],
            "    worker layer sync": f["worker_sync"],
            "  set_props (Dash)": f["set_props"],
        },
        ("n", "p50_ms", "p95_ms", "max_ms"),
    )
    out.say(
        f"navigation → fully drawn, a fix every {d['fix_every_s']:g} s per worker: p50 "
        f"{d['p50_s']} s, p95 {d['p95_s']} s over {d['n']} loads (first {d['first_s']} s)"
    )
    out.say(
        f"navigation → fully drawn, a fix every second per worker: p50 {stress['p50_s']} s, "
        f"p95 {stress['p95_s']} s over {stress['n']} loads (first {stress['first_s']} s); "
        f"JS heap {r['heap_after_load_mb']} MB after load, {r['heap_after_frames_mb']} MB "
        "after the frames"
    )
    out.say(
        f"main thread CPU {f['cpu_ms_per_s_moving']} ms a second with the workers moving "
        f"({f['frames_per_s_moving']} frames a second), {f['cpu_ms_per_s_still']} ms standing "
        f"still: {f['frame_cost_cpu']['p50_ms']} ms a frame (p50 over {f['frame_cost_cpu']['n']} "
        f"rounds; machine load average {r['load_average']})"
    )
    out.say(
        f"{f['workers_per_frame']} workers per frame at {args.speed:g} m/s, "
        f"{f['redrawn_per_frame']} redrawn (a pixel is {f['m_per_px']} m)"
    )
    failures = []
    if not f["frame_cost_cpu"]["n"] or f["frame_cost_cpu"]["p95_ms"] >= GOAL_FRAME_MS:
        p95 = f["frame_cost_cpu"]["p95_ms"]
        failures.append(f"main-thread CPU a frame costs, p95 {p95} ms ≥ {GOAL_FRAME_MS}")
    if d["p95_s"] >= GOAL_DRAWN_S:
        failures.append(f"fully drawn p95 {d['p95_s']} s ≥ {GOAL_DRAWN_S}")
    if r["console_errors"]:
        failures.append(f"{len(r['console_errors'])} console errors: {r['console_errors'][:3]}")
    if r["pusher_errors"]:
        failures.append(f"{r['pusher_errors']} position posts failed: {r['first_pusher_error']}")
    for failure in failures:
        print(f"bench_wall: FAILED {failure}", file=sys.stderr)
    out.result({"bench": "wall", "ok": not failures, "goal_frame_ms": GOAL_FRAME_MS,
                "goal_drawn_s": GOAL_DRAWN_S, "size": "x".join(map(str, args.size)),
                **r})  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
