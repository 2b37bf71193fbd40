"""Who and what watches the demo county: grid workers in their grids, cameras on its roads.

Town grids nearly all have a grid worker (网格员) and the busiest have two; country grids share
the rest. Cameras hang mostly at the crossings of the county seat's streets, the rest at town
landmarks, village committees, township governments and along the trunk roads.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dispatch.demo import names
from dispatch.demo.layout import Shape, medoid
from dispatch.demo.roads import NORTH_SOUTH_STREETS, RING_ROAD, RoadLine, along, crossings
from dispatch.domain.org import OrgUnit, UnitKind

if TYPE_CHECKING:
    from dispatch.demo.county import DemoCounty

WORKERS = 150
CAMERAS = 60
RURAL_CAMERAS = 15
_MIN_APART_DEG = 0.0012  # about 120 m: two cameras closer than that would watch the same spot
_TOWN_PLACES = ("农贸市场", "文化广场", "人民医院门口", "第一中学门口", "客运站", "商业步行街",
                "体育馆", "中心小学门口", "城市公园东门", "火车站广场", "政务服务中心", "购物中心",
                "老年活动中心", "实验小学门口", "夜市")  # fmt: skip


@dataclass(frozen=True)
class CameraSpot:
    name: str
    long: float
    lat: float
    grid_id: int


def staff_grids(county: DemoCounty, shape: Shape, rng: random.Random) -> list[tuple[int, str, str]]:
    """(grid id, name, phone) of every grid worker, ordered by grid."""
    grids = county.grids()
    weight = {g.id: shape.grids[g.id - 1000].weight for g in grids}
    town = [g.id for g in grids if _township_kind(county, g.id) == UnitKind.STREET]
    country = [g.id for g in grids if g.id not in set(town)]
    lacking = set(rng.sample(town, k=max(1, len(town) // 25)))
    busiest = sorted(town, key=lambda g: -weight[g])[:4]
    posts = [g for g in town if g not in lacking] + busiest
    ranked = sorted(country, key=lambda g: -weight[g] * rng.uniform(0.4, 1.6))
    while len(posts) < WORKERS and ranked:
        posts += ranked[: WORKERS - len(posts)]
    taken_names: set[str] = set()
    taken_phones: set[str] = set()
    out = []
    for grid_id in sorted(posts):
        name = names.person_name(rng)
        while name in taken_names:
            name = names.person_name(rng)
        phone = names.phone_number(rng)
        while phone in taken_phones:
            phone = names.phone_number(rng)
        taken_names.add(name)
        taken_phones.add(phone)
        out.append((grid_id, name, phone))
    return out


def place_cameras(
    county: DemoCounty, shape: Shape, roads: list[RoadLine], rng: random.Random
) -> list[CameraSpot]:
    """About 60 camera spots, three in four in the street offices, ordered by township."""
    seat = shape.seat
    town_roads = [r for r in roads if r.kind == "street" or r.name == "G320国道"]
    town: list[tuple[str, tuple[float, float]]] = []
    for n, a in enumerate(town_roads):
        for b in town_roads[n + 1 :]:
            for p in crossings(a, b):
                town.append((f"{_side_name(a, p, seat)}与{_side_name(b, p, seat)}交叉口", p))
    grids = county.grids()
    town_grids = [g for g in grids if _township_kind(county, g.id) == UnitKind.STREET]
    town_grids.sort(key=lambda g: math.dist(shape.grids[g.id - 1000].center, seat))
    by_community: dict[int, OrgUnit] = {}
    for grid in town_grids[: len(town_grids) * 2 // 3]:
        by_community.setdefault(grid.parent_id or 0, grid)
    chosen = rng.sample(sorted(by_community.values(), key=lambda g: g.id), len(by_community))
    for place, grid in zip(_TOWN_PLACES, chosen, strict=False):
        community = county.unit(grid.parent_id or 0)
        town.append((f"{community.name}{place}", shape.grids[grid.id - 1000].center))
    for f, parts in ((0.5, "中中"), (0.8, "东北"), (0.2, "西南")):
        for road in roads:
            if road.kind == "street" and road.name != RING_ROAD:
                part = parts[road.name in NORTH_SOUTH_STREETS]
                town.append((f"{road.name}{part}段", along(road, f)))

    country: list[tuple[str, tuple[float, float]]] = []
    for rural in county.townships():
        if rural.kind != UnitKind.TOWNSHIP:
            continue
        everywhere = []
        for village in county.children(rural.id):
            centers = [shape.grids[g.id - 1000].center for g in county.children(village.id)]
            country.append((f"{village.name}委会门口", medoid(centers)))
            everywhere += centers
        country.append((f"{rural.name[-1]}政府门口", medoid(everywhere)))
    for road in roads:
        if road.kind == "expressway":
            toll = min(road.points, key=lambda p: math.dist(p, seat))
            country.append((f"{road.name}{names.COUNTY_NAME[:2]}收费站", toll))
        if road.kind != "street":
            for f in (0.15, 0.85):
                p = along(road, f)
                on, _ = county.locate(*p)
                stretch = county.unit(on.parent_id or 0).name if on else ""
                country.append((f"{road.name}{stretch}段", p))

    spots: list[CameraSpot] = []
    for pool, limit in ((country, RURAL_CAMERAS), (town, CAMERAS)):
        for name, (lon, lat) in pool:
            if len(spots) >= limit:
                break
            at, township = county.locate(lon, lat)
            if at is None or township is None:
                continue
            if any(math.dist((s.long, s.lat), (lon, lat)) < _MIN_APART_DEG for s in spots):
                continue
            full = f"{township.name}·{name}"
            if any(s.name == full for s in spots):
                continue
            spots.append(CameraSpot(full, round(lon, 6), round(lat, 6), at.id))
    return sorted(spots, key=lambda s: (_township_code(county, s.grid_id), s.name))


def _side_name(road: RoadLine, p: tuple[float, float], seat: tuple[float, float]) -> str:
    """The ring road's name for the side a point is on (环城东路 ...); other roads as they are."""
    if road.name != RING_ROAD:
        return road.name
    angle = math.degrees(math.atan2(p[1] - seat[1], (p[0] - seat[0]) * 0.9))
    side = "东北西南"[round(angle / 90) % 4]
    return f"环城{side}路"


def _township_kind(county: DemoCounty, unit_id: int) -> UnitKind | None:
    township = county.township_of(unit_id)
    return township.kind if township else None


def _township_code(county: DemoCounty, unit_id: int) -> str:
    township = county.township_of(unit_id)
    return township.code if township else ""
