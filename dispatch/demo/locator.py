"""Which of many non-overlapping polygons holds a point, answered in microseconds.

A grid of small buckets covers the polygons' bounding box. A bucket that no polygon edge touches
lies wholly in one polygon (or in none), found once per connected run of such buckets; a bucket
that edges cross keeps the few polygons owning those edges and asks `point_in_polygon` of them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from dispatch.domain.geometry import Point, bbox, point_in_polygon

Polygon = Sequence[Sequence[Point]]


class PolygonLocator:
    def __init__(self, polygons: Sequence[Polygon], bucket: float = 0.002) -> None:
        self._polygons = polygons
        self._boxes = [bbox(poly) for poly in polygons]
        points = [p for poly in polygons for ring in poly for p in ring]
        self._x0 = min(p[0] for p in points)
        self._y0 = min(p[1] for p in points)
        self._size = bucket
        self._nx = math.floor((max(p[0] for p in points) - self._x0) / bucket) + 1
        self._ny = math.floor((max(p[1] for p in points) - self._y0) / bucket) + 1
        owners: list[set[int] | None] = [None] * (self._nx * self._ny)
        for n, poly in enumerate(polygons):
            for ring in poly:
                for a, b in itertools.pairwise(ring):
                    for k in self._touched(a, b):
                        got = owners[k]
                        if got is None:
                            owners[k] = {n}
                        else:
                            got.add(n)
        # an int: the polygon (-1: none) for the whole bucket; a tuple: the polygons to ask
        self._cells: list[int | tuple[int, ...]] = [
            tuple(sorted(o)) if o is not None else -1 for o in owners
        ]
        self._fill_quiet(owners)

    def find(self, lon: float, lat: float) -> int | None:
        """Index of the polygon holding (lon, lat), or None."""
        i = math.floor((lon - self._x0) / self._size)
        j = math.floor((lat - self._y0) / self._size)
        if not (0 <= i < self._nx and 0 <= j < self._ny):
            return None
        cell = self._cells[j * self._nx + i]
        if isinstance(cell, int):
            return cell if cell >= 0 else None
        for n in cell:
            if point_in_polygon(lon, lat, self._polygons[n]):
                return n
        return None

    def _touched(self, a: Point, b: Point) -> list[int]:
        eps = 1e-9
        i0 = max(math.floor((min(a[0], b[0]) - eps - self._x0) / self._size), 0)
        i1 = min(math.floor((max(a[0], b[0]) + eps - self._x0) / self._size), self._nx - 1)
        j0 = max(math.floor((min(a[1], b[1]) - eps - self._y0) / self._size), 0)
        j1 = min(math.floor((max(a[1], b[1]) + eps - self._y0) / self._size), self._ny - 1)
        return [j * self._nx + i for j in range(j0, j1 + 1) for i in range(i0, i1 + 1)]

    def _fill_quiet(self, owners: list[set[int] | None]) -> None:
        """Answer every edge-free bucket: one point-in-polygon test per connected run of them."""
        nx, total, polygons = self._nx, len(owners), self._polygons
        done = [o is not None for o in owners]
        for start in range(total):
            if done[start]:
                continue
            done[start] = True
            run = [start]
            for k in run:  # grows while iterating: a breadth-first walk
                i = k % nx
                for n in (k - 1 if i > 0 else -1, k + 1 if i < nx - 1 else -1, k - nx, k + nx):
                    if 0 <= n < total and not done[n]:
                        done[n] = True
                        run.append(n)
            j, i = divmod(start, nx)
            x = self._x0 + (i + 0.5) * self._size
            y = self._y0 + (j + 0.5) * self._size
            inside = [
                n
                for n, (bx0, by0, bx1, by1) in enumerate(self._boxes)
                if bx0 <= x <= bx1 and by0 <= y <= by1 and point_in_polygon(x, y, polygons[n])
            ]
            value = inside[0] if inside else -1
            for k in run:
                self._cells[k] = value
