"""The shape of the demo county: boundary, townships, communities and grids as nested rings.

A noisy disc about 32 km across near 25.6°N 103.8°E; a denser urban core around the county seat
split into four street offices, the rural rest into two townships. Children are warped Voronoi
regions of well-spread seeds inside their parent; seeds crowd towards the seat, so grids there
are small. Everything follows from one `random.Random(seed)`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch.demo.outline import Borders, find_nodes, trace_rings
from dispatch.demo.partition import OUTSIDE, XY, Raster, Warp, assign, clean, spread_seeds

LON0, LAT0 = 103.80, 25.60
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(LAT0))

CELL_KM = 0.15
COUNTY_RADIUS_KM = 15.5
URBAN_RADIUS_KM = 4.6
STREET_COMMUNITIES = 20  # over the four street offices
VILLAGES = 10  # over the two townships
URBAN_GRIDS = 128
RURAL_GRIDS = 62
_JITTER = 0.22  # lattice vertices move up to this share of a cell, so borders are not staircases
_TOLERANCE_KM = 0.09


def to_lonlat(x: float, y: float) -> XY:
    return (round(LON0 + x / KM_PER_DEG_LON, 6), round(LAT0 + y / KM_PER_DEG_LAT, 6))


def medoid(points: Sequence[XY]) -> XY:
    """The point with the least total distance to the others: inside even a C-shaped region."""
    return min(points, key=lambda p: sum(math.dist(p, q) for q in points))


def to_km(lon: float, lat: float) -> XY:
    return ((lon - LON0) * KM_PER_DEG_LON, (lat - LAT0) * KM_PER_DEG_LAT)


@dataclass(frozen=True)
class Region:
    """One traced unit: its parent's index in the level above, closed CCW ring in (long, lat)."""

    parent: int
    ring: tuple[XY, ...]
    urban: bool
    weight: float  # how many people live there, relatively
    center: XY  # (long, lat) of the cells' mean


@dataclass(frozen=True)
class Shape:
    boundary: tuple[XY, ...]
    seat: XY  # the county seat (县城), (long, lat)
    townships: tuple[Region, ...]  # streets first, then townships; parent is 0
    communities: tuple[Region, ...]  # parent indexes townships
    grids: tuple[Region, ...]  # parent indexes communities


def build_shape(rng: random.Random) -> Shape:
    seat_km = (rng.uniform(-3.0, -1.0), rng.uniform(1.0, 3.0))
    raster, mask = _county_mask(rng)
    centers = raster.centers()
    density = [_density(c, seat_km) for c in centers]
    # how far borders wander, from 0 in the town centre to 1 in the country
    rural = [min(max((math.dist(c, seat_km) - URBAN_RADIUS_KM + 1) / 3, 0.0), 1.0) for c in centers]

    def displaced(wavelength: float, urban_km: float, rural_km: float) -> list[XY]:
        u, v = Warp(rng, wavelength).field(raster)
        out = []
        for (x, y), t, du, dv in zip(centers, rural, u, v, strict=True):
            amp = urban_km + (rural_km - urban_km) * t
            out.append((x + amp * du, y + amp * dv))
        return out

    zone = _urban_zone(rng, raster, centers, mask, seat_km)
    townships = _children(rng, centers, density, zone, {0: 4, 1: 2}, max_points=800)
    town_labels = assign(displaced(9.0, 0.5, 1.8), zone, townships)
    clean(town_labels, zone, raster)

    zone_of_town = {t: z for z, seeds in townships.items() for t, _ in seeds}
    counts = _split(STREET_COMMUNITIES, 4, rng) + _split(VILLAGES, 2, rng)
    communities = _children(rng, centers, density, town_labels, dict(enumerate(counts)), 400)
    comm_labels = assign(displaced(5.0, 0.25, 1.0), town_labels, communities)
    clean(comm_labels, town_labels, raster)

    grid_counts = _grid_counts(comm_labels, density, zone_of_town, communities)
    grids = _children(rng, centers, density, comm_labels, grid_counts, 250)
    grid_labels = assign(displaced(3.0, 0.05, 0.45), comm_labels, grids)
    clean(grid_labels, comm_labels, raster)

    coord = _Lattice(rng, raster)
    rings = [
        trace_rings(labels, raster) for labels in (mask, town_labels, comm_labels, grid_labels)
    ]
    borders = Borders(
        rings[3], find_nodes(grid_labels, raster), coord, _TOLERANCE_KM / KM_PER_DEG_LAT
    )
    polygon = borders.ring

    def regions(
        level: int, labels: list[int], parent: Mapping[int, int], parent_pos: Mapping[int, int]
    ) -> tuple[tuple[Region, ...], dict[int, int]]:
        stats: dict[int, list[float]] = {}
        for k, label in enumerate(labels):
            if label != OUTSIDE:
                s = stats.setdefault(label, [0.0, 0.0, 0.0, 0.0, float(zone[k] == 0)])
                s[0] += density[k]
                s[1] += centers[k][0]
                s[2] += centers[k][1]
                s[3] += 1
        made = tuple(
            Region(
                parent=parent_pos[parent[label]],
                ring=polygon(rings[level][label]),
                urban=s[4] > 0,
                weight=s[0],
                center=to_lonlat(s[1] / s[3], s[2] / s[3]),
            )
            for label, s in sorted(stats.items())
        )
        return made, {label: n for n, label in enumerate(sorted(stats))}

    towns, town_pos = regions(1, town_labels, _parents(townships), {0: 0, 1: 0})
    comms, comm_pos = regions(2, comm_labels, _parents(communities), town_pos)
    grid_regions, _ = regions(3, grid_labels, _parents(grids), comm_pos)
    shape = Shape(
        boundary=polygon(rings[0][0]),
        seat=to_lonlat(*seat_km),
        townships=towns,
        communities=comms,
        grids=grid_regions,
    )
    return _renumber(shape)


def _county_mask(rng: random.Random) -> tuple[Raster, list[int]]:
    """A noisy disc: cells inside 0, outside OUTSIDE, cropped to one cell beyond the county."""
    radius = _Radial(rng, COUNTY_RADIUS_KM, 0.16, range(2, 8))
    reach = radius.largest + 2.0
    n = math.ceil(2 * reach / CELL_KM) + 2
    square = Raster(-n * CELL_KM / 2, -n * CELL_KM / 2, CELL_KM, n, n)
    u, v = Warp(rng, 4.0).field(square)
    inside = [
        radius.inside(x + 0.9 * du, y + 0.9 * dv)
        for (x, y), du, dv in zip(square.centers(), u, v, strict=True)
    ]
    rows = [j for j in range(n) if any(inside[j * n : (j + 1) * n])]
    cols = [i for i in range(n) if any(inside[i::n])]
    i0, j0 = cols[0] - 1, rows[0] - 1
    w, h = cols[-1] - i0 + 2, rows[-1] - j0 + 2
    raster = Raster(square.x0 + i0 * CELL_KM, square.y0 + j0 * CELL_KM, CELL_KM, w, h)
    mask = [0 if inside[(j0 + j) * n + i0 + i] else OUTSIDE for j in range(h) for i in range(w)]
    clean(mask, [0] * raster.size, raster)
    return raster, mask


def _urban_zone(
    rng: random.Random, raster: Raster, centers: list[XY], mask: list[int], seat: XY
) -> list[int]:
    """0 for the urban core around the seat, 1 for the rural rest, OUTSIDE outside the county."""
    radius = _Radial(rng, URBAN_RADIUS_KM, 0.15, range(2, 6))
    u, v = Warp(rng, 2.5).field(raster)
    zone = [
        OUTSIDE
        if m == OUTSIDE
        else 0
        if radius.inside(x - seat[0] + 0.35 * du, y - seat[1] + 0.35 * dv)
        else 1
        for (x, y), m, du, dv in zip(centers, mask, u, v, strict=True)
    ]
    clean(zone, mask, raster, holes=False)
    return zone


class _Radial:
    """A closed curve r(θ) = r0 (1 + Σ a_k cos(kθ + φ_k)), tabulated at 1,024 angles."""

    _STEPS = 1024

    def __init__(self, rng: random.Random, r0: float, strength: float, ks: range) -> None:
        waves = [(k, rng.uniform(0.3, 1.0) * strength / k, rng.uniform(0, 2 * math.pi)) for k in ks]
        self.table = [
            r0 * (1 + sum(a * math.cos(k * 2 * math.pi * n / self._STEPS + p) for k, a, p in waves))
            for n in range(self._STEPS)
        ]
        self.largest = max(self.table)

    def inside(self, x: float, y: float) -> bool:
        n = round(math.atan2(y, x) / (2 * math.pi) * self._STEPS) % self._STEPS
        r = self.table[n]
        return x * x + y * y < r * r


def _density(c: XY, seat: XY) -> float:
    d = math.hypot(c[0] - seat[0], c[1] - seat[1])
    return 1 / math.pow(1 + d / 1.6, 1.6)


def _children(
    rng: random.Random,
    centers: list[XY],
    density: list[float],
    parent: list[int],
    counts: dict[int, int],
    max_points: int,
) -> dict[int, list[tuple[int, XY]]]:
    """Seeds for each parent label, numbered globally in parent order."""
    cells: dict[int, list[int]] = {}
    for k, p in enumerate(parent):
        if p != OUTSIDE:
            cells.setdefault(p, []).append(k)
    out: dict[int, list[tuple[int, XY]]] = {}
    label = 0
    for p in sorted(cells):
        members = cells[p]
        stride = max(1, len(members) // max_points)
        sample = members[::stride]
        seeds = spread_seeds(
            [centers[k] for k in sample], [density[k] for k in sample], counts[p], rng
        )
        out[p] = [(label + n, s) for n, s in enumerate(seeds)]
        label += len(seeds)
    return out


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` over `parts`, each within one of the even share."""
    base = total // parts
    counts = [base] * parts
    counts[0] += total - base * parts
    for _ in range(parts):
        a, b = rng.randrange(parts), rng.randrange(parts)
        if a != b and counts[a] >= base and counts[b] <= base:
            counts[a] -= 1
            counts[b] += 1
    return counts


def _grid_counts(
    comm_labels: list[int],
    density: list[float],
    zone_of_town: dict[int, int],
    communities: dict[int, list[tuple[int, XY]]],
) -> dict[int, int]:
    """Grids per community: in proportion to people, the urban and rural totals fixed."""
    town_of = {c: t for t, seeds in communities.items() for c, _ in seeds}
    mass: dict[int, float] = {}
    for k, c in enumerate(comm_labels):
        if c != OUTSIDE:
            urban = zone_of_town[town_of[c]] == 0
            mass[c] = mass.get(c, 0.0) + (density[k] if urban else 1.0)
    counts: dict[int, int] = {}
    for urban, total in ((True, URBAN_GRIDS), (False, RURAL_GRIDS)):
        group = sorted(c for c in mass if (zone_of_town[town_of[c]] == 0) == urban)
        whole = sum(mass[c] for c in group)
        shares = {c: max(3.0, total * mass[c] / whole) for c in group}
        scale = (total - 3 * len(group)) / sum(s - 3 for s in shares.values())
        exact = {c: 3 + (shares[c] - 3) * scale for c in group}
        counts.update({c: int(v) for c, v in exact.items()})
        short = total - sum(counts[c] for c in group)
        for c in sorted(group, key=lambda c: int(exact[c]) - exact[c])[:short]:
            counts[c] += 1
    return counts


def _parents(children: dict[int, list[tuple[int, XY]]]) -> dict[int, int]:
    return {c: p for p, seeds in children.items() for c, _ in seeds}


class _Lattice:
    """(long, lat) of a lattice vertex: the cell corner, jittered, rounded to 6 decimals."""

    def __init__(self, rng: random.Random, raster: Raster) -> None:
        self.raster = raster
        self.salt = rng.getrandbits(32)
        self.cache: dict[int, XY] = {}

    def __call__(self, v: int) -> XY:
        got = self.cache.get(v)
        if got is None:
            j, i = divmod(v, self.raster.width + 1)
            s = self.raster.cell
            x = self.raster.x0 + (i + _JITTER * _unit(v, self.salt)) * s
            y = self.raster.y0 + (j + _JITTER * _unit(v, self.salt ^ 0x5BD1E995)) * s
            got = self.cache[v] = to_lonlat(x, y)
        return got


def _unit(v: int, salt: int) -> float:
    """A hash of (v, salt) spread over [-1, 1): cheaper than a Random per vertex."""
    h = (v * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 31
    h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 29
    return (h & 0xFFFFFF) / 0x800000 - 1.0


def _renumber(shape: Shape) -> Shape:
    """Order townships streets-first, then everything in reading order (north-west first)."""
    t_order = sorted(
        range(len(shape.townships)),
        key=lambda t: (not shape.townships[t].urban, _reading(shape.townships[t].center)),
    )
    t_new = {old: new for new, old in enumerate(t_order)}
    c_order = sorted(
        range(len(shape.communities)),
        key=lambda c: (t_new[shape.communities[c].parent], _reading(shape.communities[c].center)),
    )
    c_new = {old: new for new, old in enumerate(c_order)}
    g_order = sorted(
        range(len(shape.grids)),
        key=lambda g: (c_new[shape.grids[g].parent], _reading(shape.grids[g].center)),
    )

    def moved(r: Region, parent: int) -> Region:
        return Region(parent, r.ring, r.urban, r.weight, r.center)

    return Shape(
        boundary=shape.boundary,
        seat=shape.seat,
        townships=tuple(moved(shape.townships[t], 0) for t in t_order),
        communities=tuple(
            moved(shape.communities[c], t_new[shape.communities[c].parent]) for c in c_order
        ),
        grids=tuple(moved(shape.grids[g], c_new[shape.grids[g].parent]) for g in g_order),
    )


def _reading(center: XY) -> tuple[int, float]:
    return (-round(center[1] / 0.03), center[0])
