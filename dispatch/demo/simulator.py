"""The living demo: citizens report through the public Open311 API, a virtual duty team
moves cases along the loop. Everything goes through the same doors real users use."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import requests
from sqlalchemy import select

from dispatch.adapters.orm import CaseRow, WhistlePartyRow
from dispatch.demo.county import DemoCounty
from dispatch.demo.seed import CATEGORY_WEIGHTS, CHANNEL_WEIGHTS, _pick
from dispatch.demo.texts import ADDRESS_STREETS, random_citizen_name, report_text
from dispatch.domain.categories import CATEGORY_BY_CODE, DEPARTMENTS
from dispatch.service import actions
from dispatch.service.errors import ServiceError
from dispatch.service.queries import OPEN_STATES

if TYPE_CHECKING:
    from dispatch.bootstrap import App

log = logging.getLogger(__name__)

# state → (action, params) the virtual duty team takes next; None: leave it alone.
NEXT_STEP: dict[str, tuple[str, dict[str, object]]] = {
    "reported": ("verify", {}),
    "verified": ("register", {}),
    "registered": ("dispatch", {}),
    "returned": ("dispatch", {}),
    "reopened": ("dispatch", {}),
    "escalated": ("dispatch", {}),
    "dispatched": ("accept", {}),
    "accepted": ("start_handling", {}),
    "handling": ("report_handled", {"result": "网格员已到现场处置完毕，已拍照留存。"}),
    "handled": ("close", {}),
    "closed": ("review", {}),
    "suspended": ("resume", {}),
}


# Share of dispatches the duty team turns into whistle-and-report (吹哨报到) instead.
WHISTLE_SHARE = 0.12


class Simulator:
    def __init__(
        self,
        app: App,
        county: DemoCounty,
        *,
        base_url: str,
        api_key: str,
        interval: float = 6.0,
        seed: int | None = None,
    ) -> None:
        self.app, self.county = app, county
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.interval = interval
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self.submitted = 0
        self.advanced = 0

    def start(self) -> None:
        threading.Thread(target=self._run, name="simulator", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        self._stop.wait(2.0)  # let the server come up
        while not self._stop.is_set():
            try:
                self.submit_one()
                # About ten steps close a case: move several for every new report.
                for _ in range(self.rng.randint(4, 10)):
                    self.advance_one()
            except Exception as exc:  # keep the demo alive; say what went wrong
                log.warning("simulator step failed: %s", exc)
            self._stop.wait(self.rng.expovariate(1 / self.interval))

    def submit_one(self) -> int:
        """One citizen report through the public Open311 API, as a phone app would send it."""
        rng = self.rng
        code = _pick(rng, CATEGORY_WEIGHTS)
        grid = rng.choice(self.county.grids())
        long, lat = self.county.random_point_in(grid.id, rng)
        township = self.app.names.unit_name(self.app.core.grids.locate(long, lat).township_id)
        place = f"{township}{rng.choice(ADDRESS_STREETS)}"
        first, last = random_citizen_name(rng)
        response = requests.post(
            f"{self.base_url}/open311/v2/requests.json",
            data={
                "api_key": self.api_key,
                "service_code": code,
                "lat": f"{lat:.6f}",
                "long": f"{long:.6f}",
                "address_string": place,
                "description": report_text(code, place, rng),
                "first_name": first,
                "last_name": last,
                "phone": f"13{rng.randint(100000000, 999999999)}",
                "attribute[channel]": _pick(rng, CHANNEL_WEIGHTS),
            },
            headers={"Idempotency-Key": str(uuid.UUID(int=rng.getrandbits(128)))},
            timeout=10,
        )
        response.raise_for_status()
        self.submitted += 1
        return int(response.json()[0]["service_request_id"])

    def advance_one(self) -> None:
        """Move one case that has waited a little one step along the loop."""
        core = self.app.core
        settle = core.clock.now() - timedelta(seconds=self.rng.uniform(8, 40))
        waiting = select(CaseRow.id, CaseRow.state).where(
            CaseRow.state.in_([*OPEN_STATES, "closed"]), CaseRow.updated_at < settle
        )
        with core.db.read() as session:
            # Like a duty team: today's new reports first, and now and then the oldest
            # waiting case, so the wall shows fresh cases moving and old ones closing.
            newest = session.execute(waiting.order_by(CaseRow.updated_at.desc()).limit(10))
            oldest = session.execute(waiting.order_by(CaseRow.updated_at).limit(5))
            rows = [*newest.all(), *oldest.all()]
        candidates = [(i, s) for i, s in rows if s in NEXT_STEP]
        if not candidates:
            return
        case_id, state = self.rng.choice(candidates)
        action, params = NEXT_STEP[state]
        params = dict(params)
        called = self._whistle_step(case_id)
        if called is not None:  # the called departments answer before the case moves on
            action, params = called
        if action == "review":
            params["rating"] = self.rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 8, 5, 2])[0]
        if action == "dispatch" and self.rng.random() < WHISTLE_SHARE:
            action, params = "whistle", self._whistle_params(case_id)
        elif action == "dispatch":
            row_workers = self._worker_for(case_id)
            if row_workers is not None:
                params["worker_id"] = row_workers
        try:
            actions.perform(core, case_id, action, params, actor="simulator")
            self.advanced += 1
        except ServiceError as exc:  # somebody else moved it first
            log.debug("simulator could not %s case %s: %s", action, case_id, exc.message)

    def _whistle_params(self, case_id: int) -> dict[str, object]:
        """The category's department leads; two others help."""
        with self.app.core.db.read() as session:
            category = session.scalar(select(CaseRow.category).where(CaseRow.id == case_id))
        lead = CATEGORY_BY_CODE[category or "other"].department
        others = [d.code for d in DEPARTMENTS if d.code != lead]
        return {"lead": lead, "co": self.rng.sample(others, 2), "ack_minutes": 30}

    def _whistle_step(self, case_id: int) -> tuple[str, dict[str, object]] | None:
        """Acknowledge or report the part of one called department still owing it."""
        with self.app.core.db.read() as session:
            parties = session.scalars(
                select(WhistlePartyRow).where(
                    WhistlePartyRow.case_id == case_id, WhistlePartyRow.reported_at.is_(None)
                )
            ).all()
        if not parties:
            return None
        party = self.rng.choice(parties)
        if party.acknowledged_at is None:
            return "acknowledge", {"department": party.department}
        return "report_part", {"department": party.department, "result": "本部门职责范围内已处置。"}

    def _worker_for(self, case_id: int) -> int | None:
        with self.app.core.db.read() as session:
            grid_id = session.scalar(select(CaseRow.grid_id).where(CaseRow.id == case_id))
        workers = self.app.names.workers_in_grid(grid_id)
        return workers[0].id if workers else None
