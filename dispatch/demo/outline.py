"""Outlines of labelled rasters: trace each region's ring, then smooth shared borders once.

Rings run along cell sides through lattice vertices (vertex v = j * (width + 1) + i), counter-
clockwise with north up. The finest level's borders are cut into arcs between nodes (vertices
where three or more labels meet); each arc is smoothed once (edge midpoints turn a staircase back
into the line it was drawn from, then Douglas–Peucker), so neighbours share exactly the same
points, and any coarser ring, made of the same arcs, is rebuilt from them: every level stays a
partition. An arc whose smoothed form would cross another, or change the order of the arcs around
a node, is smoothed less.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from dispatch.demo.partition import Raster, boundary_steps

XY = tuple[float, float]


def trace_rings(labels: Sequence[int], raster: Raster) -> dict[int, list[int]]:
    """Each label's outline: one counter-clockwise ring of vertex ids, the first not repeated."""
    rings = {}
    for label, nxt in boundary_steps(labels, raster).items():
        start = min(nxt)
        ring, v = [start], nxt[start]
        while v != start:
            ring.append(v)
            v = nxt[v]
        if len(ring) != len(nxt):
            raise RuntimeError(f"label {label} has {len(nxt) - len(ring)} edges off its outer ring")
        rings[label] = ring
    return rings


def find_nodes(labels: Sequence[int], raster: Raster) -> set[int]:
    """Vertices where three or more labels (OUTSIDE counts) meet."""
    w, h = raster.width, raster.height
    nodes = set()
    for j in range(1, h):
        for i in range(1, w):
            k = j * w + i
            if len({labels[k], labels[k - 1], labels[k - w], labels[k - w - 1]}) >= 3:
                nodes.add(j * (w + 1) + i)
    return nodes


class Borders:
    """The smoothed borders of the finest level, from which rings of every level are rebuilt.

    `coord` gives the final (long, lat) of a lattice vertex; `tolerance` is in degrees of latitude.
    """

    def __init__(
        self,
        rings: dict[int, list[int]],
        nodes: set[int],
        coord: Callable[[int], XY],
        tolerance: float,
    ) -> None:
        self._nodes = nodes
        arcs = _arcs(rings, nodes)
        lat = coord(arcs[0][0])[1]
        kx = math.cos(math.radians(lat))
        candidates = [_midpoints([coord(v) for v in arc]) for arc in arcs]
        scaled = [[(x * kx, y) for x, y in c] for c in candidates]
        tolerances = [tolerance] * len(arcs)
        kept = [_douglas_peucker(p, tolerance) for p in scaled]
        for _ in range(len(arcs)):
            paths = [[c[n] for n in k] for c, k in zip(candidates, kept, strict=True)]
            bad = _misturned(candidates, paths, kx) | _crossing(paths)
            if not bad:
                break
            for a in bad:  # smooth less; below an eighth of the tolerance keep every midpoint
                tolerances[a] /= 2
                fine = tolerances[a] >= tolerance / 8
                kept[a] = (
                    _douglas_peucker(scaled[a], tolerances[a])
                    if fine
                    else list(range(len(scaled[a])))
                )
        else:
            raise RuntimeError("border smoothing did not settle")
        self._paths = [tuple(p) for p in paths]
        self._arc_from: dict[tuple[int, int], tuple[int, bool]] = {}
        for a, arc in enumerate(arcs):
            self._arc_from[(arc[0], arc[1])] = (a, True)
            self._arc_from[(arc[-1], arc[-2])] = (a, False)
        self._lengths = [len(arc) for arc in arcs]

    def ring(self, ring: Sequence[int]) -> tuple[XY, ...]:
        """The smoothed, closed form of a traced ring of any level."""
        n = len(ring)
        start = next(i for i, v in enumerate(ring) if v in self._nodes)
        points: list[XY] = []
        i = start
        while True:
            a, forward = self._arc_from[(ring[i % n], ring[(i + 1) % n])]
            path = self._paths[a] if forward else self._paths[a][::-1]
            points += path[:-1]
            i += self._lengths[a] - 1
            if i % n == start:
                break
            if i > start + n:
                raise RuntimeError("a ring does not follow the arcs of the finest level")
        if len(points) < 3:
            raise RuntimeError(f"a ring of {n} edges smoothed to {len(points)} points")
        return (*points, points[0])


def _midpoints(points: list[XY]) -> list[XY]:
    """The two ends and the middle of every edge between them."""
    middle = [
        (round((x0 + x1) / 2, 6), round((y0 + y1) / 2, 6))
        for (x0, y0), (x1, y1) in itertools.pairwise(points)
    ]
    return [points[0], *middle, points[-1]]


def _arcs(rings: dict[int, list[int]], nodes: set[int]) -> list[list[int]]:
    """Every border piece between two nodes once, in a canonical direction."""
    seen: set[tuple[int, ...]] = set()
    arcs = []
    for label in sorted(rings):
        ring = rings[label]
        cut = [n for n, v in enumerate(ring) if v in nodes]
        if len(cut) < 2:
            raise RuntimeError(f"label {label} meets fewer than two nodes; it is enclosed")
        for a, b in zip(cut, [*cut[1:], cut[0] + len(ring)], strict=True):
            arc = [ring[n % len(ring)] for n in range(a, b + 1)]
            key = tuple(arc) if (arc[0], arc[1]) < (arc[-1], arc[-2]) else tuple(reversed(arc))
            if key not in seen:
                seen.add(key)
                arcs.append(list(key))
    return arcs


def _douglas_peucker(points: list[XY], tolerance: float) -> list[int]:
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy) or 1e-12
        worst, worst_d = -1, tolerance
        for n in range(a + 1, b):
            px, py = points[n]
            d = abs(dx * (py - ay) - dy * (px - ax)) / length
            if d > worst_d:
                worst, worst_d = n, d
        if worst >= 0:
            keep.add(worst)
            stack += [(a, worst), (worst, b)]
    return sorted(keep)


def _misturned(candidates: list[list[XY]], paths: list[list[XY]], kx: float) -> set[int]:
    """Arcs at nodes where smoothing changed the cyclic order of the arcs around it."""
    around: dict[XY, list[tuple[float, float, int]]] = {}
    for a, (c, p) in enumerate(zip(candidates, paths, strict=True)):
        for node, before, after in ((c[0], c[1], p[1]), (c[-1], c[-2], p[-2])):
            spoke = (_angle(node, before, kx), _angle(node, after, kx), a)
            around.setdefault(node, []).append(spoke)
    bad: set[int] = set()
    for spokes in around.values():
        old = [a for _, _, a in sorted(spokes)]
        new = [a for _, _, a in sorted(spokes, key=lambda s: s[1])]
        turned = old[old.index(new[0]) :] + old[: old.index(new[0])] != new
        if turned or len({round(s[1], 9) for s in spokes}) < len(spokes):
            bad.update(a for _, _, a in spokes)
    return bad


def _angle(origin: XY, to: XY, kx: float) -> float:
    return math.atan2(to[1] - origin[1], (to[0] - origin[0]) * kx)


def _crossing(paths: list[list[XY]]) -> set[int]:
    """Arcs with a segment that meets another anywhere but a shared end."""
    segments = [(p, q, a) for a, path in enumerate(paths) for p, q in itertools.pairwise(path)]
    size = 0.01
    buckets: dict[tuple[int, int], list[int]] = {}
    for s, ((x0, y0), (x1, y1), _) in enumerate(segments):
        for bx in range(math.floor(min(x0, x1) / size), math.floor(max(x0, x1) / size) + 1):
            for by in range(math.floor(min(y0, y1) / size), math.floor(max(y0, y1) / size) + 1):
                buckets.setdefault((bx, by), []).append(s)
    bad: set[int] = set()
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for n, s in enumerate(members):
            for t in members[n + 1 :]:
                if (s, t) in checked:
                    continue
                checked.add((s, t))
                p1, p2, a = segments[s]
                q1, q2, b = segments[t]
                if segments_meet(p1, p2, q1, q2):
                    bad.update((a, b))
    return bad


def segments_meet(p1: XY, p2: XY, q1: XY, q2: XY) -> bool:
    """True when two segments share any point other than one common end where they diverge."""
    shared = {p1, p2} & {q1, q2}
    if len(shared) == 2:
        return True
    if shared:
        (e,) = shared
        a = p2 if p1 == e else p1
        b = q2 if q1 == e else q1
        ax, ay, bx, by = a[0] - e[0], a[1] - e[1], b[0] - e[0], b[1] - e[1]
        return ax * by - ay * bx == 0 and ax * bx + ay * by > 0
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on(q1, q2, p1))
        or (d2 == 0 and _on(q1, q2, p2))
        or (d3 == 0 and _on(p1, p2, q1))
        or (d4 == 0 and _on(p1, p2, q2))
    )


def _orient(a: XY, b: XY, c: XY) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on(a: XY, b: XY, p: XY) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])
