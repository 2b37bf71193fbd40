"""Routing (属地管理): which grid, community and township a point falls in.

A uniform bucket grid over the area keeps lookups to a handful of polygon tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dispatch.domain.geometry import bbox, point_in_polygon
from dispatch.domain.org import OrgUnit, UnitKind


@dataclass(frozen=True)
class Location:
    grid_id: int | None
    community_id: int | None
    township_id: int | None


NOWHERE = Location(None, None, None)


class GridIndex:
    """Point-in-polygon over the grids, with each grid's community and township."""

    def __init__(self, units: Iterable[OrgUnit], *, cell_deg: float = 0.01) -> None:
        by_id = {u.id: u for u in units}
        self._cell = cell_deg
        self._grids = [u for u in by_id.values() if u.kind == UnitKind.GRID and u.polygon]
        self._parents: dict[int, Location] = {}
        for grid in self._grids:
            community = by_id.get(grid.parent_id) if grid.parent_id else None
            township = by_id.get(community.parent_id) if community and community.parent_id else None
            self._parents[grid.id] = Location(
                grid.id, community.id if community else None, township.id if township else None
            )
        self._buckets: dict[tuple[int, int], list[OrgUnit]] = defaultdict(list)
        for grid in self._grids:
            x0, y0, x1, y1 = bbox(grid.polygon)
            for i in range(self._key(x0), self._key(x1) + 1):
                for j in range(self._key(y0), self._key(y1) + 1):
                    self._buckets[(i, j)].append(grid)

    def _key(self, value: float) -> int:
        return int(value // self._cell)

    def locate(self, long: float, lat: float) -> Location:
        for grid in self._buckets.get((self._key(long), self._key(lat)), ()):
            if point_in_polygon(long, lat, grid.polygon):
                return self._parents[grid.id]
        return NOWHERE

    def __len__(self) -> int:
        return len(self._grids)
