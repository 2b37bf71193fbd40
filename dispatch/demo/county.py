"""The demo county, 云岭县 of 珠源市: its organisation, grid workers, cameras and roads.

Everything is generated, nothing downloaded: `build_demo_county(seed)` draws the whole county from
one `random.Random(seed)`, so the same seed gives the same county. Ids are small and stable: city
1, county 2, township-level units 10.., communities 100.., grids 1000..; codes read like `T01`,
`T01C03`, `T01C03G02`. Polygons are closed counter-clockwise (long, lat) rings, rounded to six
decimals, and each level partitions the one above (see `dispatch.demo.layout`).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from dispatch.demo import names
from dispatch.demo.layout import Shape, build_shape, to_km
from dispatch.demo.locator import PolygonLocator
from dispatch.demo.roads import build_roads
from dispatch.demo.staff import place_cameras, staff_grids
from dispatch.domain.categories import DEPARTMENTS
from dispatch.domain.errors import InvalidValue
from dispatch.domain.geometry import bbox, point_in_polygon
from dispatch.domain.org import Department, GridWorker, OrgUnit, UnitKind

CITY_ID, COUNTY_ID = 1, 2
LAYERS = ("boundary", "townships", "communities", "grids", "roads", "cameras")
_TOWNSHIP_KINDS = (UnitKind.TOWNSHIP, UnitKind.STREET)


@dataclass(frozen=True)
class Camera:
    id: int
    code: str
    name: str
    lat: float
    long: float
    grid_id: int
    source: str  # "demo:<code>": a synthetic stream the media process generates


@dataclass(frozen=True)
class Road:
    name: str
    kind: str  # "expressway" | "main" | "street"
    coords: tuple[tuple[float, float], ...]  # (long, lat)


@dataclass(frozen=True)
class DemoCounty:
    units: tuple[OrgUnit, ...]
    departments: tuple[Department, ...]
    workers: tuple[GridWorker, ...]
    cameras: tuple[Camera, ...]
    roads: tuple[Road, ...]

    def unit(self, unit_id: int) -> OrgUnit:
        try:
            return self._index.by_id[unit_id]
        except KeyError:
            raise InvalidValue(
                f"no unit {unit_id} in the demo county; ids are 1, 2, 10–15, 100.. and 1000..",
                field="unit_id",
            ) from None

    def children(self, unit_id: int) -> list[OrgUnit]:
        self.unit(unit_id)
        return list(self._index.children.get(unit_id, ()))

    def grids(self) -> list[OrgUnit]:
        return list(self._index.grids)

    def townships(self) -> list[OrgUnit]:
        return [u for u in self.units if u.kind in _TOWNSHIP_KINDS]

    def township_of(self, unit_id: int) -> OrgUnit | None:
        """The township-level unit (乡镇 or 街道) a unit lies in; None above that level."""
        unit = self.unit(unit_id)
        while unit.kind not in _TOWNSHIP_KINDS:
            if unit.parent_id is None or unit.kind in (UnitKind.COUNTY, UnitKind.CITY):
                return None
            unit = self.unit(unit.parent_id)
        return unit

    def locate(self, long: float, lat: float) -> tuple[OrgUnit | None, OrgUnit | None]:
        """(grid, township) holding the point, or (None, None) outside the county."""
        n = self._index.locator.find(long, lat)
        if n is None:
            return (None, None)
        return self._index.grids[n], self._index.grid_township[n]

    def random_point_in(self, unit_id: int, rng: random.Random) -> tuple[float, float]:
        """A uniformly random (long, lat) inside the unit's polygon."""
        polygon = self.unit(unit_id).polygon
        if not polygon:
            polygon = self.unit(COUNTY_ID).polygon
        x0, y0, x1, y1 = bbox(polygon)
        while True:
            lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if point_in_polygon(lon, lat, polygon):
                return (lon, lat)

    def geojson(self, layer: str) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of one of LAYERS."""
        if layer == "roads":
            features = [_road_feature(n, road) for n, road in enumerate(self.roads, start=1)]
        elif layer == "cameras":
            features = [self._camera_feature(c) for c in self.cameras]
        elif layer in _UNIT_LAYERS:
            kinds = _UNIT_LAYERS[layer]
            features = [self._unit_feature(u) for u in self.units if u.kind in kinds]
        else:
            raise InvalidValue(
                f"unknown map layer {layer!r}; layers are {', '.join(LAYERS)}", field="layer"
            )
        return {"type": "FeatureCollection", "features": features}

    @functools.cached_property
    def _index(self) -> _Index:
        return _Index(self.units)

    def _unit_feature(self, unit: OrgUnit) -> dict[str, Any]:
        props: dict[str, Any] = {
            "id": unit.id,
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind.value,
            "parent_id": unit.parent_id,
        }
        township = self.township_of(unit.id)
        if township is not None:
            props["township_id"] = township.id
        return {
            "type": "Feature",
            "id": unit.id,
            "properties": props,
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, y] for x, y in ring] for ring in unit.polygon],
            },
        }

    def _camera_feature(self, camera: Camera) -> dict[str, Any]:
        township = self.township_of(camera.grid_id)
        return {
            "type": "Feature",
            "id": camera.id,
            "properties": {
                "id": camera.id,
                "code": camera.code,
                "name": camera.name,
                "kind": "camera",
                "parent_id": camera.grid_id,
                "grid_id": camera.grid_id,
                "township_id": township.id if township else None,
                "source": camera.source,
            },
            "geometry": {"type": "Point", "coordinates": [camera.long, camera.lat]},
        }


_UNIT_LAYERS = {
    "boundary": (UnitKind.COUNTY,),
    "townships": _TOWNSHIP_KINDS,
    "communities": (UnitKind.COMMUNITY,),
    "grids": (UnitKind.GRID,),
}


def _road_feature(n: int, road: Road) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": n,
        "properties": {
            "id": n,
            "code": f"R{n:02d}",
            "name": road.name,
            "kind": road.kind,
            "parent_id": COUNTY_ID,
        },
        "geometry": {"type": "LineString", "coordinates": [[x, y] for x, y in road.coords]},
    }


class _Index:
    """Lookups a DemoCounty answers often: by id, by parent, and which grid holds a point."""

    def __init__(self, units: tuple[OrgUnit, ...]) -> None:
        self.by_id = {u.id: u for u in units}
        self.children: dict[int, list[OrgUnit]] = {}
        for u in units:
            if u.parent_id is not None:
                self.children.setdefault(u.parent_id, []).append(u)
        self.grids = [u for u in units if u.kind == UnitKind.GRID]
        self.grid_township = [self._up(self._up(g)) for g in self.grids]
        self.locator = PolygonLocator([g.polygon for g in self.grids])

    def _up(self, unit: OrgUnit) -> OrgUnit:
        if unit.parent_id is None:
            raise ValueError(f"unit {unit.code} has no parent")
        return self.by_id[unit.parent_id]


@functools.lru_cache(maxsize=8)
def build_demo_county(seed: int = 2024) -> DemoCounty:
    """The demo county for `seed`; the same seed always gives an equal county."""
    rng = random.Random(seed)
    shape = build_shape(rng)
    units = _units(shape)
    rural = [u for u in units if u.kind == UnitKind.TOWNSHIP]

    def township_at(lon: float, lat: float) -> str | None:
        return next((t.name for t in rural if point_in_polygon(lon, lat, t.polygon)), None)

    towns = [t.name for t in rural]
    lines = build_roads(rng, to_km(*shape.seat), shape.boundary, towns, township_at)
    roads = tuple(Road(r.name, r.kind, r.points) for r in lines)
    plain = DemoCounty(units, DEPARTMENTS, (), (), roads)

    workers = tuple(
        GridWorker(id=n, name=name, grid_id=grid_id, phone=phone)
        for n, (grid_id, name, phone) in enumerate(staff_grids(plain, shape, rng), start=1)
    )
    spots = place_cameras(plain, shape, lines, rng)
    cameras = tuple(
        Camera(
            id=n,
            code=f"CAM{n:03d}",
            name=spot.name,
            lat=spot.lat,
            long=spot.long,
            grid_id=spot.grid_id,
            source=f"demo:CAM{n:03d}",
        )
        for n, spot in enumerate(spots, start=1)
    )
    return DemoCounty(units, DEPARTMENTS, workers, cameras, roads)


def _units(shape: Shape) -> tuple[OrgUnit, ...]:
    pools = [*names.STREETS, *names.TOWNSHIPS]
    kinds = [UnitKind.STREET] * len(names.STREETS) + [UnitKind.TOWNSHIP] * len(names.TOWNSHIPS)
    drawn = [UnitKind.STREET if t.urban else UnitKind.TOWNSHIP for t in shape.townships]
    if drawn != kinds:
        raise RuntimeError(f"expected 4 streets, then 2 townships; drew {drawn}")
    county = OrgUnit(
        COUNTY_ID, "COUNTY", names.COUNTY_NAME, UnitKind.COUNTY, CITY_ID, (list(shape.boundary),)
    )
    units = [OrgUnit(CITY_ID, "CITY", names.CITY_NAME, UnitKind.CITY, None), county]
    towns = [
        OrgUnit(10 + t, f"T{t + 1:02d}", pools[t][0], kinds[t], COUNTY_ID, (list(town.ring),))
        for t, town in enumerate(shape.townships)
    ]
    communities: list[OrgUnit] = []
    for c, region in enumerate(shape.communities):
        town = towns[region.parent]
        n = 1 + sum(u.parent_id == town.id for u in communities)
        pool = pools[region.parent][1]
        suffix = "社区" if town.kind == UnitKind.STREET else "村"
        name = pool[n - 1] if n <= len(pool) else f"{town.name[:2]}{n}{suffix}"
        communities.append(
            OrgUnit(
                100 + c,
                f"{town.code}C{n:02d}",
                name,
                UnitKind.COMMUNITY,
                town.id,
                (list(region.ring),),
            )
        )
    grids: list[OrgUnit] = []
    for g, region in enumerate(shape.grids):
        community = communities[region.parent]
        n = 1 + sum(u.parent_id == community.id for u in grids)
        grids.append(
            OrgUnit(
                1000 + g,
                f"{community.code}G{n:02d}",
                f"{community.name}第{n}网格",
                UnitKind.GRID,
                community.id,
                (list(region.ring),),
            )
        )
    return (*units, *towns, *communities, *grids)
