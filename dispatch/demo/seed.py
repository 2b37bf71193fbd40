"""Seed the demo county: organisation, workers, cameras, the base map and weeks of history.

History goes through the real domain and unit of work with a synthetic clock, so the event
log, SLA lights and KPIs of the seeded cases are exactly what live cases would produce.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from dispatch.adapters.orm import CameraRow, CaseRow, DepartmentRow, GridWorkerRow, OrgUnitRow
from dispatch.demo.county import DemoCounty, build_demo_county
from dispatch.demo.texts import ADDRESS_STREETS, report_text
from dispatch.domain.categories import CATEGORY_BY_CODE, DEPARTMENT_BY_CODE
from dispatch.domain.geometry import centroid
from dispatch.domain.lifecycle import Case, CaseState
from dispatch.domain.org import UnitKind
from dispatch.domain.routing import GridIndex
from dispatch.domain.sla import Urgency
from dispatch.service.core import Core
from dispatch.service.directory import Directory
from dispatch.service.unit_of_work import UnitOfWork
from dispatch.service.wall_stats import WINDOW_DAYS

log = logging.getLogger(__name__)

# Rough mix of the seeds: most reports are small everyday matters (90.6 % in Zhanyi).
CATEGORY_WEIGHTS = {
    "garbage": 14, "road": 13, "parking": 12, "cityscape": 8, "noise": 7, "property": 7,
    "utilities": 6, "safety": 5, "neighbour": 5, "pollution": 4, "firerisk": 3, "traffic": 3,
    "building": 3, "market": 2, "welfare": 2, "wages": 2, "publicorder": 2, "family": 1,
    "land": 1, "publicservice": 1, "other": 1,
}  # fmt: skip
CHANNEL_WEIGHTS = {"citizen": 45, "hotline": 25, "grid": 22, "camera": 4, "app": 4}
TODAY_SPAN = timedelta(hours=6)  # today's seeded intake falls in these last hours


def is_seeded(core: Core) -> bool:
    with core.db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(OrgUnitRow)))


def seed_organisation(core: Core, county: DemoCounty) -> None:
    """Units, departments, workers and cameras, in one transaction."""
    township_of: dict[int, int | None] = {}
    by_id = {u.id: u for u in county.units}

    def township(unit_id: int) -> int | None:
        unit = by_id[unit_id]
        while unit.kind not in (UnitKind.TOWNSHIP, UnitKind.STREET):
            if unit.parent_id is None:
                return None
            unit = by_id[unit.parent_id]
        return unit.id

    with core.db.writer() as session:
        for unit in sorted(county.units, key=lambda u: u.kind.depth):
            township_of[unit.id] = township(unit.id)
            cx, cy = centroid(unit.polygon[0]) if unit.polygon else (0.0, 0.0)
            session.add(
                OrgUnitRow(
                    id=unit.id, code=unit.code, name=unit.name, kind=unit.kind.value,
                    parent_id=unit.parent_id, township_id=township_of[unit.id],
                    polygon=[[list(p) for p in ring] for ring in unit.polygon],
                    center_long=cx, center_lat=cy,
                )
            )  # fmt: skip
        session.flush()  # units before the rows that point at them
        for d in county.departments:
            session.add(DepartmentRow(code=d.code, name=d.name, name_en=d.name_en))
        for w in county.workers:
            session.add(
                GridWorkerRow(
                    id=w.id, name=w.name, grid_id=w.grid_id, township_id=township_of[w.grid_id],
                    phone=w.phone, on_duty=w.on_duty,
                )
            )  # fmt: skip
        for c in county.cameras:
            session.add(
                CameraRow(
                    id=c.id, code=c.code, name=c.name, lat=c.lat, long=c.long, grid_id=c.grid_id,
                    township_id=township_of.get(c.grid_id), source=c.source, status="online",
                )
            )  # fmt: skip
        session.commit()


def write_basemap(county: DemoCounty, data_dir: Path) -> None:
    target = data_dir / "basemap"
    target.mkdir(parents=True, exist_ok=True)
    for layer in ("boundary", "townships", "communities", "grids", "roads", "cameras"):
        text = json.dumps(county.geojson(layer), ensure_ascii=False, separators=(",", ":"))
        (target / f"{layer}.geojson").write_text(text, encoding="utf-8")


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed_history(
    core: Core, county: DemoCounty, names: Directory, *, days: int = WINDOW_DAYS,
    per_day: int = 45, seed: int = 7,
) -> int:  # fmt: skip
    """`days` days of cases in every state, driven through the domain with a synthetic clock.

    Today's intake (a third of a day's) falls in the last TODAY_SPAN; each earlier day's in
    the 24 hours before that, with no gap. WINDOW_DAYS of them reach back past the start of
    the wall's first history row whatever the hour, so its thirty days are full from the
    start."""
    rng = random.Random(seed)
    now = core.clock.now()
    created = 0
    for day in range(days, -1, -1):
        count = per_day if day else max(5, per_day // 3)
        with core.uow() as uow:
            for _ in range(count):
                if day:
                    age = TODAY_SPAN + timedelta(days=day - 1, seconds=rng.uniform(0, 86_400))
                else:
                    age = timedelta(seconds=rng.uniform(0, TODAY_SPAN.total_seconds()))
                reported = now - age
                case = _seeded_case(uow, core, county, names, rng, reported)
                _progress(case, core, names, rng, reported, now)
                case.tick(now=now)
                created += 1
            uow.commit(now)
    return created


def _seeded_case(
    uow: UnitOfWork,
    core: Core,
    county: DemoCounty,
    names: Directory,
    rng: random.Random,
    reported: datetime,
) -> Case:
    """A new case somewhere in the county, as a citizen, the hotline or a worker reports it."""
    code = _pick(rng, CATEGORY_WEIGHTS)
    grid = rng.choice(county.grids())
    long, lat = county.random_point_in(grid.id, rng)
    where = core.grids.locate(long, lat)
    place = f"{names.unit_name(where.township_id)}{rng.choice(ADDRESS_STREETS)}"
    row = CaseRow(
        channel=_pick(rng, CHANNEL_WEIGHTS), service_code=code,
        description=report_text(code, place, rng), address=place, lat=lat, long=long,
        grid_id=where.grid_id, community_id=where.community_id,
        township_id=where.township_id, state="reported", reported_at=reported,
        updated_at=reported, submitted_by="seed",
    )  # fmt: skip
    return uow.cases.report(row, actor="seed")


def _progress(
    case: Case, core: Core, names: Directory, rng: random.Random, t: datetime, now: datetime
) -> None:
    """Move a seeded case along the loop, one step at a time, until it is done or `now`."""
    category = CATEGORY_BY_CODE[case.service_code]
    slow = rng.random() < 0.1  # some cases run late, as they do in real centres
    kw = {"actor": "seed"}
    while case.is_open or case.state == CaseState.CLOSED:
        state = case.state
        if state == CaseState.HANDLING and case.sla is not None:
            minutes = case.sla.budget.total_seconds() / 60 * (1.1 if slow else 0.2)
        else:
            minutes = STEP_MINUTES.get(state, 30.0)
        t = t + timedelta(minutes=rng.expovariate(1 / minutes))
        if t >= now:
            return
        if state == CaseState.REPORTED:
            if rng.random() < 0.05:
                case.reject(reason="重复或不属于受理范围", now=t, **kw)
            else:
                case.verify(now=t, **kw)
        elif state == CaseState.VERIFIED:
            urgency = Urgency(category.default_urgency)
            case.register(category=category.code, urgency=urgency, policy=core.policy, now=t, **kw)
        elif state in (CaseState.REGISTERED, CaseState.RETURNED, CaseState.REOPENED):
            workers = names.workers_in_grid(case.grid_id)
            case.dispatch(
                unit_id=case.township_id, department=category.department,
                worker_id=workers[0].id if workers else None, now=t, **kw,
            )  # fmt: skip
        elif state == CaseState.DISPATCHED:
            if rng.random() < 0.04 and case.reopen_count == 0:
                case.return_(reason="不属于本单位职责，请重新派遣", now=t, **kw)
            else:
                case.accept(now=t, **kw)
        elif state == CaseState.ACCEPTED:
            case.start_handling(now=t, **kw)
        elif state == CaseState.HANDLING:
            case.report_handled(result="已到现场处置完毕，现场已恢复正常。", now=t, **kw)
        elif state == CaseState.HANDLED:
            case.close(now=t, **kw)
        elif state == CaseState.CLOSED:
            weights = [60, 25, 8, 5, 2] if case.reopen_count == 0 else [50, 40, 10, 0, 0]
            rating = rng.choices([5, 4, 3, 2, 1], weights=weights)[0]
            case.record_callback(rating=rating, now=t, policy=core.policy, **kw)
        else:
            return


# Mean minutes a seeded case waits in each state before its next step.
STEP_MINUTES = {
    CaseState.REPORTED: 20.0,
    CaseState.VERIFIED: 15.0,
    CaseState.REGISTERED: 25.0,
    CaseState.RETURNED: 60.0,
    CaseState.REOPENED: 60.0,
    CaseState.DISPATCHED: 40.0,
    CaseState.ACCEPTED: 30.0,
    CaseState.HANDLED: 60.0,
    CaseState.CLOSED: 24 * 60.0,
}


# Side paths of the loop, so that every state of the table is on the map on first start.
SIDE_PATHS: dict[str, list[str]] = {
    "accepted": ["verify", "register", "dispatch", "accept"],
    "handled": ["verify", "register", "dispatch", "accept", "start_handling", "report_handled"],
    "returned": ["verify", "register", "dispatch", "return"],
    "suspended": ["verify", "register", "dispatch", "suspend"],
    "escalated": ["verify", "register", "dispatch", "escalate"],
    "reopened": ["verify", "register", "dispatch", "accept", "start_handling",
                 "report_handled", "close", "unsatisfied"],
    "merged": ["merge"],
    "cancelled": ["verify", "cancel"],
    # 吹哨报到: the lead answered, two co-handling departments are late (red on the console).
    "dispatched": ["verify", "register", "whistle", "acknowledge"],
}  # fmt: skip


def seed_side_paths(
    core: Core, county: DemoCounty, names: Directory, *, per_state: int = 2, seed: int = 11
) -> int:
    """A few recent cases in each side state, each driven there by real domain calls."""
    rng = random.Random(seed)
    now = core.clock.now()
    created = 0
    with core.uow() as uow:
        for target, steps in SIDE_PATHS.items():
            for _ in range(per_state):
                t = now - timedelta(hours=rng.uniform(3, 20))
                case = _seeded_case(uow, core, county, names, rng, t)
                category = CATEGORY_BY_CODE[case.service_code]
                for step in steps:
                    t += timedelta(minutes=rng.uniform(10, 40))
                    _side_step(case, step, category.code, category.department, core, uow, t)
                if case.state.value != target:  # a recipe that no longer fits the table
                    raise RuntimeError(f"side path to {target} ended in {case.state.value}")
                case.tick(now=now)
                created += 1
        uow.commit(now)
    return created


def _side_step(
    case: Case, step: str, category: str, department: str, core: Core, uow: UnitOfWork, t: datetime
) -> None:
    kw = {"now": t, "actor": "seed"}
    match step:
        case "verify":
            case.verify(**kw)
        case "register":
            urgency = Urgency(CATEGORY_BY_CODE[category].default_urgency)
            case.register(category=category, urgency=urgency, policy=core.policy, **kw)
        case "dispatch":
            case.dispatch(unit_id=case.township_id, department=department, **kw)
        case "whistle":
            others = sorted(d for d in DEPARTMENT_BY_CODE if d != department)
            case.blow_whistle(
                lead=department, co=others[:2], ack_within=timedelta(minutes=30),
                known_departments=frozenset(DEPARTMENT_BY_CODE), **kw,
            )  # fmt: skip
        case "acknowledge":
            case.acknowledge(department=department, **kw)
        case "accept":
            case.accept(**kw)
        case "start_handling":
            case.start_handling(**kw)
        case "report_handled":
            case.report_handled(result="已处置，等待中心核查。", **kw)
        case "return":
            case.return_(reason="该事项属于其他街道辖区，申请回退改派", **kw)
        case "suspend":
            case.suspend(reason="连续降雨，路面修复需待天晴后施工", **kw)
        case "escalate":
            case.escalate(reason="涉及多个部门职责，需区级统筹协调", **kw)
        case "close":
            case.close(**kw)
        case "unsatisfied":
            case.record_callback(rating=2, policy=core.policy, **kw)
        case "cancel":
            case.cancel(reason="群众来电撤回诉求", **kw)
        case "merge":
            master = _open_master(uow, case)
            if master is not None:
                case.merge_into(master=master, **kw)


def _open_master(uow: UnitOfWork, case: Case) -> Case | None:
    """An open case seeded earlier in this unit of work: the master a duplicate folds into."""
    for other, _row in uow.cases.seen.values():
        if other.id != case.id and other.is_open and other.master_id is None:
            return other
    return None


def seed_demo(core: Core, data_dir: Path, *, seed: int = 2024, history: bool = True) -> Directory:
    county = build_demo_county(seed)
    write_basemap(county, data_dir)
    if not is_seeded(core):
        seed_organisation(core, county)
        names = Directory.load(core.db)
        core.grids = GridIndex(names.units.values())
        if history:
            n = seed_history(core, county, names)
            n += seed_side_paths(core, county, names)
            log.info("seeded %d historical cases", n)
    return Directory.load(core.db)
