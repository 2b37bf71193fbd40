"""Suggestions for the duty officer: category and urgency, where to dispatch, duplicates,
the nearest cameras. Everything here is a proposal the officer can change.

Routing (属地管理): the point gives the grid and township (point in polygon), the category
gives the department (谁主管、谁负责), and the nearest on-duty grid worker of that grid is
proposed (falling back to the grid's own on-duty worker when no phone has reported a
position, and to the nearest one elsewhere when the grid has nobody).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from dispatch.adapters.orm import CameraRow, CaseRow
from dispatch.domain.categories import CATEGORY_BY_CODE, suggest_category
from dispatch.domain.geometry import haversine_m
from dispatch.domain.lifecycle import OPEN
from dispatch.service.core import Core
from dispatch.service.directory import Directory

DUPLICATE_RADIUS_M = 300.0
DUPLICATE_WINDOW = timedelta(days=3)
NEAREST_CAMERAS = 4
CAMERA_SEARCH_M = 3_000.0  # the first box around a case; grown until it holds enough


def suggest_worker(core: Core, names: Directory, row: CaseRow) -> dict[str, Any] | None:
    """The grid worker to send: nearest on duty and online, its own grid first."""
    if core.positions is not None:
        try:
            near = core.positions.nearest(row.lat, row.long, limit=1, grid_id=row.grid_id)
        except Exception:  # the live map may be down; the grid's roster still answers
            near = []
        if near:
            return {"id": near[0]["id"], "name": near[0].get("name", ""), "source": "nearest"}
    roster = names.workers_in_grid(row.grid_id)
    if roster:
        worker = min(roster, key=lambda w: w.id)
        return {"id": worker.id, "name": worker.name, "source": "grid"}
    return None


def dispatch_plan(core: Core, names: Directory, row: CaseRow) -> dict[str, Any]:
    """What one click on 派遣 does: unit, department and worker for this case."""
    category = row.category or row.service_code
    cat = CATEGORY_BY_CODE.get(category)
    department = cat.department if cat else None
    worker = suggest_worker(core, names, row)
    return {
        "unit_id": row.township_id,
        "unit": names.unit_name(row.township_id),
        "department": department,
        "department_name": names.departments[department].name
        if department in names.departments
        else "",
        "worker_id": worker["id"] if worker else None,
        "worker": worker["name"] if worker else "",
        "worker_source": worker["source"] if worker else None,
    }


def registration(row: CaseRow) -> dict[str, str]:
    """Category and urgency to register with: from the text, else the reported service."""
    guess = suggest_category(f"{row.description} {row.address}")
    code = row.category or (guess.code if guess.code != "other" else row.service_code)
    cat = CATEGORY_BY_CODE.get(code) or CATEGORY_BY_CODE["other"]
    return {"category": cat.code, "urgency": row.urgency or cat.default_urgency}


def duplicates(
    core: Core, names: Directory, row: CaseRow, *, limit: int = 5
) -> list[dict[str, Any]]:
    """Open cases of the same category nearby, reported within the window either side."""
    from dispatch.service.queries import summary

    category = row.category or row.service_code
    lo, hi = row.reported_at - DUPLICATE_WINDOW, row.reported_at + DUPLICATE_WINDOW
    dlat = DUPLICATE_RADIUS_M / 111_000
    dlong = dlat * 2  # generous at these latitudes; the exact distance filters below
    with core.db.read() as session:
        rows = session.scalars(
            select(CaseRow).where(
                CaseRow.id != row.id,
                CaseRow.state.in_([s.value for s in OPEN]),
                (CaseRow.category == category) | (CaseRow.service_code == category),
                CaseRow.reported_at.between(lo, hi),
                CaseRow.lat.between(row.lat - dlat, row.lat + dlat),
                CaseRow.long.between(row.long - dlong, row.long + dlong),
                CaseRow.master_id.is_(None),
            )
        ).all()
    found = []
    for other in rows:
        distance = haversine_m((row.long, row.lat), (other.long, other.lat))
        if distance <= DUPLICATE_RADIUS_M:
            found.append({**summary(other, names), "distance_m": round(distance)})
    found.sort(key=lambda c: c["distance_m"])
    return found[:limit]


def nearest_cameras(
    core: Core, row: CaseRow, *, limit: int = NEAREST_CAMERAS
) -> list[dict[str, Any]]:
    """The cameras nearest the case. The case page asks on every change, and a city has
    thousands of cameras: look in a box around the point, grown until the `limit` nearest
    found are closer than any camera outside it could be."""
    metres = CAMERA_SEARCH_M
    with core.db.read() as session:
        total = session.scalar(select(func.count()).select_from(CameraRow)) or 0
        while True:
            lat_d = metres / 111_000  # a degree of longitude is shorter: 2× covers it here
            cameras = session.scalars(
                select(CameraRow).where(
                    CameraRow.lat.between(row.lat - lat_d, row.lat + lat_d),
                    CameraRow.long.between(row.long - 2 * lat_d, row.long + 2 * lat_d),
                )
            ).all()
            ranked = sorted(
                ((haversine_m((row.long, row.lat), (c.long, c.lat)), c) for c in cameras),
                key=lambda pair: pair[0],
            )
            enough = len(ranked) >= limit and ranked[limit - 1][0] <= metres
            if enough or len(ranked) >= total:
                break
            metres *= 4
    return [
        {"id": c.id, "code": c.code, "name": c.name, "status": c.status, "distance_m": round(d)}
        for d, c in ranked[:limit]
    ]
