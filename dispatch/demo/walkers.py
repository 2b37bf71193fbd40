"""Demo grid workers on patrol: each walks its own grid and its phone sends fixes.

Every worker walks (or rides an e-bike) from one waypoint inside its grid to the next,
lingers there (sometimes long enough to show as idle), and now and then drops off the network
for a few minutes (offline). Its phone takes a fix every 5 s and uploads what it holds every
5–10 s through `POST /api/positions`, exactly as a real phone does, keeping the fixes for the
next try when an upload fails. One thread drives all 150 workers: about 20 small requests a
second for the whole county.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from dispatch.demo.county import DemoCounty
from dispatch.domain.geometry import haversine_m, point_in_polygon

if TYPE_CHECKING:
    from dispatch.bootstrap import App

log = logging.getLogger(__name__)

FIX_EVERY = 5.0  # seconds between fixes of a phone
UPLOAD_EVERY = (5.0, 10.0)  # seconds between uploads of a phone
WALK, EBIKE = (0.9, 1.6), (3.5, 6.5)  # m/s
MAX_SIM_SPEED = 40.0  # m/s: a faster demo factor is capped below the 50 m/s flag
DWELL = (20.0, 150.0)  # seconds at a waypoint; LONG_DWELL now and then, to show idle
LONG_DWELL, LONG_DWELL_P = (330.0, 480.0), 0.2
OFFLINE, OFFLINE_P = (150.0, 360.0), 0.002  # per upload: the phone drops off for a while
KEEP_FIXES = 60  # a phone keeps at most this many unsent fixes
M_PER_DEG = 111_195.0


@dataclass
class Walker:
    worker_id: int
    grid_id: int
    long: float
    lat: float
    target: tuple[float, float]
    speed: float
    moved_at: float  # monotonic time of the last step
    dwell_until: float = 0.0
    offline_until: float = 0.0
    next_fix: float = 0.0
    next_upload: float = 0.0
    battery: float = 100.0
    unsent: list[dict[str, Any]] = field(default_factory=list)


class Walkers:
    def __init__(
        self,
        app: App,
        county: DemoCounty,
        *,
        base_url: str,
        api_key: str = "",
        speed_factor: float = 1.0,
        seed: int | None = None,
    ) -> None:
        self.app, self.county = app, county
        self.url = base_url.rstrip("/") + "/api/positions"
        self.api_key = api_key
        self.speed_factor = speed_factor
        self.rng = random.Random(seed)
        self.walkers: list[Walker] = []
        self._stop = threading.Event()
        self.uploads = self.accepted = self.failures = 0

    def start(self) -> None:
        threading.Thread(target=self._run, name="walkers", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def setup(self, now: float) -> None:
        """Put every worker somewhere in its grid, phones out of step with each other."""
        rng, grids = self.rng, {g.id for g in self.county.grids()}
        self.walkers = []
        for worker in sorted(self.app.names.workers.values(), key=lambda w: w.id):
            if worker.grid_id not in grids:
                continue
            long, lat = self.county.random_point_in(worker.grid_id, rng)
            walker = Walker(worker.id, worker.grid_id, long, lat, (long, lat), 1.0, now)
            walker.battery = rng.uniform(40, 100)
            stay = LONG_DWELL if rng.random() < LONG_DWELL_P else DWELL
            walker.dwell_until = now + rng.uniform(0, stay[1])  # some start at a stop
            walker.next_fix = now + rng.uniform(0, FIX_EVERY)
            walker.next_upload = now + rng.uniform(0, UPLOAD_EVERY[1])
            self._new_leg(walker, now)
            self.walkers.append(walker)

    def _run(self) -> None:
        self._stop.wait(2.0)  # let the server come up
        session = requests.Session()
        if self.api_key:  # like a fleet gateway: one integration sends every phone's fixes
            session.headers["Authorization"] = f"Bearer {self.api_key}"
        self.setup(time.monotonic())
        while not self._stop.wait(0.5):
            try:
                self.tick(time.monotonic(), session)
            except Exception as exc:  # keep the demo alive; say what went wrong
                log.warning("walkers step failed: %s", exc)

    def tick(self, now: float, session: requests.Session) -> None:
        for walker in self.walkers:
            if now < walker.offline_until:
                continue
            if now >= walker.next_fix:
                self.step(walker, now)
                walker.unsent = [*walker.unsent, self.fix(walker, now)][-KEEP_FIXES:]
                walker.next_fix = now + FIX_EVERY
            if now >= walker.next_upload and walker.unsent:
                self.upload(walker, session)
                walker.next_upload = now + self.rng.uniform(*UPLOAD_EVERY)
                if self.rng.random() < OFFLINE_P:
                    walker.offline_until = now + self.rng.uniform(*OFFLINE)
                    walker.next_fix = walker.offline_until

    def step(self, walker: Walker, now: float) -> None:
        """Move along the current leg for the time since the last step."""
        elapsed, walker.moved_at = now - walker.moved_at, now
        if now < walker.dwell_until:
            return
        tx, ty = walker.target
        left = haversine_m((walker.long, walker.lat), (tx, ty))
        step = walker.speed * elapsed
        if step >= left:
            walker.long, walker.lat = tx, ty
            long_stay = self.rng.random() < LONG_DWELL_P
            walker.dwell_until = now + self.rng.uniform(*(LONG_DWELL if long_stay else DWELL))
            self._new_leg(walker, now)
        else:
            walker.long += (tx - walker.long) * step / left
            walker.lat += (ty - walker.lat) * step / left
        walker.battery = walker.battery - elapsed / 60 * 0.05 if walker.battery > 15 else 100.0

    def _new_leg(self, walker: Walker, now: float) -> None:
        """The next waypoint: inside the grid, on a line that stays inside it where we can."""
        polygon = self.county.unit(walker.grid_id).polygon
        target = self.county.random_point_in(walker.grid_id, self.rng)
        for _ in range(5):
            if all(
                point_in_polygon(
                    walker.long + (target[0] - walker.long) * f,
                    walker.lat + (target[1] - walker.lat) * f,
                    polygon,
                )
                for f in (0.25, 0.5, 0.75)
            ):
                break
            target = self.county.random_point_in(walker.grid_id, self.rng)
        walker.target = target
        base = self.rng.uniform(*(EBIKE if self.rng.random() < 0.3 else WALK))
        walker.speed = min(base * self.speed_factor, MAX_SIM_SPEED)

    def fix(self, walker: Walker, now: float) -> dict[str, Any]:
        """What the phone measures: the true position give or take a few metres."""
        rng = self.rng
        jitter = rng.uniform(0, 3.0)
        angle = rng.uniform(0, 2 * math.pi)
        lat = walker.lat + jitter * math.sin(angle) / M_PER_DEG
        long = walker.long + jitter * math.cos(angle) / (M_PER_DEG * math.cos(math.radians(lat)))
        moving = now >= walker.dwell_until
        return {
            "worker_id": walker.worker_id,
            "time": self.app.core.clock.now().isoformat(timespec="milliseconds"),
            "lat": round(lat, 7),
            "long": round(long, 7),
            "accuracy": round(rng.uniform(3, 15), 1),
            "speed": round(walker.speed * rng.uniform(0.9, 1.1), 2) if moving else 0.0,
            "battery": round(walker.battery),
        }

    def upload(self, walker: Walker, session: requests.Session) -> None:
        try:
            response = session.post(self.url, json={"fixes": walker.unsent}, timeout=5)
        except requests.RequestException as exc:
            self.failures += 1
            log.debug("walker %s upload failed: %s", walker.worker_id, exc)
            return  # keep the fixes for the next upload, as a phone does
        self.uploads += 1
        if response.status_code in (200, 400):  # 400: all refused; resending would not help
            self.accepted += int(response.json().get("accepted", 0))
            walker.unsent = []
        else:
            self.failures += 1
            log.debug("walker upload answered %s: %s", response.status_code, response.text[:200])
