"""Roads of the demo county and the places along them where cameras hang.

Two trunk roads cross the county (an expressway west to east, a national road south-west to
north-east), two county roads run from the seat's ring road out across the townships, and the
seat has a small grid of streets inside its ring road. Lines are drawn in kilometres around the
county's origin (see `dispatch.demo.layout`) and clipped to the county boundary.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dispatch.demo.layout import to_lonlat
from dispatch.demo.names import COUNTY_NAME
from dispatch.demo.partition import XY
from dispatch.domain.geometry import point_in_polygon

EAST_WEST_STREETS = ("人民路", "解放路", "建设路")
NORTH_SOUTH_STREETS = ("龙华路", "珠江源大道", "西平路")
RING_ROAD = "环城路"


@dataclass(frozen=True)
class RoadLine:
    name: str
    kind: str  # "expressway" | "main" | "street"
    points: tuple[XY, ...]  # (long, lat)


def build_roads(
    rng: random.Random,
    seat: XY,
    boundary: Sequence[XY],
    towns: Sequence[str],
    township_at: Callable[[float, float], str | None],
) -> list[RoadLine]:
    """Every road as (long, lat) polylines; `seat` is in km, `township_at` takes (long, lat)."""
    sx, sy = seat

    def clipped(name: str, kind: str, line: list[XY]) -> RoadLine | None:
        ll = [to_lonlat(x, y) for x, y in line]
        runs: list[list[XY]] = [[]]
        for p in ll:
            if point_in_polygon(p[0], p[1], [list(boundary)]):
                runs[-1].append(p)
            elif runs[-1]:
                runs.append([])
        best = max(runs, key=len)
        return RoadLine(name, kind, tuple(best)) if len(best) >= 2 else None

    roads: list[RoadLine | None] = []
    south = sy - rng.uniform(2.6, 3.4)
    roads.append(
        clipped("沪昆高速", "expressway", _wavy((-40, south - 4), (40, south + 3), rng, 1.6))
    )
    tilt = math.radians(rng.uniform(30, 55))
    reach = (40 * math.cos(tilt), 40 * math.sin(tilt))
    east = sx + 1.1
    roads.append(
        clipped(
            "G320国道",
            "main",
            _wavy((east - reach[0], sy - reach[1]), (east + reach[0], sy + reach[1]), rng, 0.9),
        )
    )
    rx, ry = rng.uniform(2.8, 3.3), rng.uniform(2.4, 2.9)
    used = [tilt, tilt + math.pi, 0.0, math.pi]  # keep clear of the trunk roads
    for town in towns:
        # a county road leaves the ring road into each township, out to the county's edge,
        # named after the county and the township (云菱公路: 云岭 to 菱角)
        heading = _heading_into(town, (sx, sy), used, township_at, rng)
        if heading is None:
            continue
        used.append(heading)
        ux, uy = math.cos(heading), math.sin(heading)
        start = (sx + ux * rx * 0.95, sy + uy * ry * 0.95)
        line = _wavy(start, (sx + ux * 40, sy + uy * 40), rng, 0.6)
        roads.append(clipped(f"{COUNTY_NAME[0]}{town[0]}公路", "main", line))
    roads.append(clipped(RING_ROAD, "street", _ring(seat, rx, ry, rng)))
    angle = math.radians(rng.uniform(-12, 12))
    for n, name in enumerate(EAST_WEST_STREETS):
        offset = (n - 1) * 1.15
        line = _street(seat, angle, offset, rx + 0.3, rng, along_x=True)
        roads.append(clipped(name, "street", line))
    for n, name in enumerate(NORTH_SOUTH_STREETS):
        offset = (n - 1) * 1.25
        line = _street(seat, angle, offset, ry + 0.3, rng, along_x=False)
        roads.append(clipped(name, "street", line))
    return [r for r in roads if r is not None]


def _heading_into(
    town: str,
    seat: XY,
    used: list[float],
    township_at: Callable[[float, float], str | None],
    rng: random.Random,
) -> float | None:
    """A direction from the seat that runs into `town` and keeps 30° clear of `used` roads."""
    offset = rng.uniform(0, math.pi / 18)
    for n in range(36):
        heading = offset + n * math.pi / 18
        if any(abs((heading - u + math.pi) % (2 * math.pi) - math.pi) < math.pi / 6 for u in used):
            continue
        ux, uy = math.cos(heading), math.sin(heading)
        if all(
            township_at(*to_lonlat(seat[0] + ux * d, seat[1] + uy * d)) == town for d in (8, 12)
        ):
            return heading
    return None


def _wavy(a: XY, b: XY, rng: random.Random, wander: float) -> list[XY]:
    """A line from a to b that meanders sideways by about `wander` km, a point every 0.4 km."""
    length = math.dist(a, b)
    steps = max(2, int(length / 0.4))
    nx, ny = -(b[1] - a[1]) / length, (b[0] - a[0]) / length
    waves = [(rng.uniform(0.6, 2.2), rng.uniform(0, 2 * math.pi)) for _ in range(3)]
    out = []
    for s in range(steps + 1):
        t = s / steps
        side = wander * sum(math.sin(f * math.pi * t * 3 + p) for f, p in waves) / 2
        side *= math.sin(math.pi * t) ** 0.3  # the ends stay where they were asked to be
        out.append((a[0] + (b[0] - a[0]) * t + nx * side, a[1] + (b[1] - a[1]) * t + ny * side))
    return out


def _ring(seat: XY, rx: float, ry: float, rng: random.Random) -> list[XY]:
    bumps = [(k, rng.uniform(0.02, 0.06), rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5)]
    out = []
    for s in range(73):
        t = 2 * math.pi * s / 72
        r = 1 + sum(a * math.cos(k * t + p) for k, a, p in bumps)
        out.append((seat[0] + rx * r * math.cos(t), seat[1] + ry * r * math.sin(t)))
    return out


def _street(
    seat: XY, angle: float, offset: float, half: float, rng: random.Random, along_x: bool
) -> list[XY]:
    """A straight-ish town street `2 * half` km long through the seat's grid, turned by `angle`."""
    bend = rng.uniform(-0.15, 0.15)
    out = []
    for s in range(13):
        t = -half + 2 * half * s / 12
        u, v = (
            (t, offset + bend * (t / half) ** 2)
            if along_x
            else (offset + bend * (t / half) ** 2, t)
        )
        out.append(
            (
                seat[0] + u * math.cos(angle) - v * math.sin(angle),
                seat[1] + u * math.sin(angle) + v * math.cos(angle),
            )
        )
    return out


def crossings(a: RoadLine, b: RoadLine) -> list[XY]:
    """Points where two roads cross, in (long, lat)."""
    out = []
    for p1, p2 in zip(a.points, a.points[1:], strict=False):
        for q1, q2 in zip(b.points, b.points[1:], strict=False):
            hit = _segment_hit(p1, p2, q1, q2)
            if hit is not None:
                out.append(hit)
    return out


def _segment_hit(p1: XY, p2: XY, q1: XY, q2: XY) -> XY | None:
    rx, ry = p2[0] - p1[0], p2[1] - p1[1]
    sx, sy = q2[0] - q1[0], q2[1] - q1[1]
    den = rx * sy - ry * sx
    if den == 0:
        return None
    t = ((q1[0] - p1[0]) * sy - (q1[1] - p1[1]) * sx) / den
    u = ((q1[0] - p1[0]) * ry - (q1[1] - p1[1]) * rx) / den
    if 0 <= t < 1 and 0 <= u < 1:
        return (round(p1[0] + t * rx, 6), round(p1[1] + t * ry, 6))
    return None


def along(road: RoadLine, fraction: float) -> XY:
    """The point `fraction` of the way along a road, counting vertices (they are evenly spaced)."""
    pts = road.points
    x = fraction * (len(pts) - 1)
    n = min(int(x), len(pts) - 2)
    t = x - n
    (x0, y0), (x1, y1) = pts[n], pts[n + 1]
    return (round(x0 + (x1 - x0) * t, 6), round(y0 + (y1 - y0) * t, 6))
