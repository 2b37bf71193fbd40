"""Nested partitions on a raster: label fine cells, then make every region one simple shape.

The demo county is drawn on a plane in kilometres east and north of an origin, covered by square
cells. Every level (county, township, community, grid) labels cells; a child level only picks
among the children of the cell's parent, so each level partitions the one above by construction.
`clean` then enforces what tracing needs: each label one 4-connected piece, without holes and
without two cells that touch only at a corner. Outlines are traced in `dispatch.demo.outline`.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

OUTSIDE = -1
XY = tuple[float, float]

_MAX_CLEAN_ROUNDS = 50


@dataclass(frozen=True)
class Raster:
    """`width` × `height` square cells of `cell` km; cell k = j * width + i, j grows northward."""

    x0: float
    y0: float
    cell: float
    width: int
    height: int

    @property
    def size(self) -> int:
        return self.width * self.height

    def center(self, k: int) -> XY:
        j, i = divmod(k, self.width)
        return (self.x0 + (i + 0.5) * self.cell, self.y0 + (j + 0.5) * self.cell)

    def centers(self) -> list[XY]:
        return [self.center(k) for k in range(self.size)]

    def cell_at(self, x: float, y: float) -> int | None:
        i = math.floor((x - self.x0) / self.cell)
        j = math.floor((y - self.y0) / self.cell)
        if 0 <= i < self.width and 0 <= j < self.height:
            return j * self.width + i
        return None


class Warp:
    """A smooth random displacement field, four plane waves per axis, values mostly in ±2."""

    def __init__(self, rng: random.Random, wavelength_km: float) -> None:
        waves = 4
        self._terms: list[list[tuple[float, float, float]]] = []
        for _axis in range(2):
            terms = []
            for _ in range(waves):
                angle = rng.uniform(0, math.pi)
                k = 2 * math.pi / (wavelength_km * rng.uniform(0.7, 1.4))
                terms.append(
                    (k * math.cos(angle), k * math.sin(angle), rng.uniform(0, 2 * math.pi))
                )
            self._terms.append(terms)
        self._norm = 1 / math.sqrt(waves / 2)

    def field(self, raster: Raster) -> tuple[list[float], list[float]]:
        """The displacement at every cell centre (sin(a + b) split into row and column factors)."""
        xs = [raster.x0 + (i + 0.5) * raster.cell for i in range(raster.width)]
        ys = [raster.y0 + (j + 0.5) * raster.cell for j in range(raster.height)]
        out = []
        for terms in self._terms:
            columns = [
                tuple(f(a * x) * self._norm for a, _, _ in terms for f in (math.sin, math.cos))
                for x in xs
            ]
            values: list[float] = []
            for y in ys:
                c0, s0, c1, s1, c2, s2, c3, s3 = (
                    f(b * y + p) for _, b, p in terms for f in (math.cos, math.sin)
                )
                values += [
                    x0 * c0 + x1 * s0 + x2 * c1 + x3 * s1 + x4 * c2 + x5 * s2 + x6 * c3 + x7 * s3
                    for x0, x1, x2, x3, x4, x5, x6, x7 in columns
                ]
            out.append(values)
        return out[0], out[1]


def spread_seeds(
    points: Sequence[XY],
    weights: Sequence[float],
    k: int,
    rng: random.Random,
    iterations: int = 6,
) -> list[XY]:
    """`k` well-spread seeds: farthest-point start, then weighted Lloyd steps (denser → closer)."""
    if k <= 0 or not points:
        return []
    seeds = [points[rng.randrange(len(points))]]
    d2 = [(x - seeds[0][0]) ** 2 + (y - seeds[0][1]) ** 2 for x, y in points]
    while len(seeds) < min(k, len(points)):
        best = max(range(len(points)), key=lambda i: d2[i] * weights[i])
        sx, sy = points[best]
        seeds.append((sx, sy))
        d2 = [min(d, (x - sx) ** 2 + (y - sy) ** 2) for d, (x, y) in zip(d2, points, strict=True)]
    for _ in range(iterations):
        sums = [[0.0, 0.0, 0.0] for _ in seeds]
        for (x, y), w in zip(points, weights, strict=True):
            acc = sums[nearest(seeds, x, y)]
            acc[0] += w * x
            acc[1] += w * y
            acc[2] += w
        seeds = [
            (sx / sw, sy / sw) if sw > 0 else s for (sx, sy, sw), s in zip(sums, seeds, strict=True)
        ]
    return seeds


def nearest(seeds: Sequence[XY], x: float, y: float) -> int:
    best, best_d = 0, math.inf
    for n, (sx, sy) in enumerate(seeds):
        d = (x - sx) ** 2 + (y - sy) ** 2
        if d < best_d:
            best, best_d = n, d
    return best


def assign(
    points: Sequence[XY], parent: Sequence[int], children: dict[int, list[tuple[int, XY]]]
) -> list[int]:
    """Label each cell with the seed, among its parent's children, nearest its displaced point."""
    labels = [OUTSIDE] * len(points)
    for k, p in enumerate(parent):
        if p == OUTSIDE:
            continue
        options = children[p]
        x, y = points[k]
        best, best_d = OUTSIDE, math.inf
        for label, (sx, sy) in options:
            d = (x - sx) ** 2 + (y - sy) ** 2
            if d < best_d:
                best, best_d = label, d
        labels[k] = best
    return labels


def clean(labels: list[int], parent: Sequence[int], raster: Raster, *, holes: bool = True) -> None:
    """Make every label one piece without pinches (and without holes unless `holes`), in place.

    A cell only ever moves to a label of the same parent, so the parent level stays as it was.
    The raster's outer ring of cells must be OUTSIDE (or share one parent, for the top level).
    """
    for _ in range(_MAX_CLEAN_ROUNDS):
        changed = _fix_pinches(labels, parent, raster)
        changed |= _fix_fragments(labels, parent, raster)
        if not changed and holes:
            changed = _fix_holes(labels, parent, raster)
        if not changed:
            return
    raise RuntimeError(f"partition did not settle after {_MAX_CLEAN_ROUNDS} rounds")


def boundary_steps(labels: Sequence[int], raster: Raster) -> dict[int, dict[int, int]]:
    """For each label, its border as vertex → next vertex, counter-clockwise (north up).

    Lattice vertex (i, j) is the south-west corner of cell (i, j), numbered j * (width + 1) + i.
    """
    w, h = raster.width, raster.height
    vw = w + 1
    step: dict[int, dict[int, int]] = {}
    for j in range(h):
        row = j * w
        for i in range(w):
            k = row + i
            here = labels[k]
            if i < w - 1 and labels[k + 1] != here:
                lo, hi = j * vw + i + 1, (j + 1) * vw + i + 1
                if here != OUTSIDE:
                    step.setdefault(here, {})[lo] = hi
                if labels[k + 1] != OUTSIDE:
                    step.setdefault(labels[k + 1], {})[hi] = lo
            if j < h - 1 and labels[k + w] != here:
                left, right = (j + 1) * vw + i, (j + 1) * vw + i + 1
                if here != OUTSIDE:
                    step.setdefault(here, {})[right] = left
                if labels[k + w] != OUTSIDE:
                    step.setdefault(labels[k + w], {})[left] = right
    return step


def _fix_pinches(labels: list[int], parent: Sequence[int], raster: Raster) -> bool:
    """Two cells of one label meeting only at a corner: give one of the other two cells to it."""
    w, changed = raster.width, False
    for j in range(raster.height - 1):
        lo, mid, hi = j * w, (j + 1) * w, (j + 2) * w
        row, up = labels[lo:mid], labels[mid:hi]
        blocks = zip(row, row[1:], up, up[1:], strict=False)
        found = [
            lo + i
            for i, (a, b, c, d) in enumerate(blocks)
            if (a == d and a != b and a != c) or (b == c and b != a and b != d)
        ]
        for i in found:
            for p, q, r, s in ((i, i + w + 1, i + 1, i + w), (i + 1, i + w, i, i + w + 1)):
                lp = labels[p]
                if lp != labels[q] or labels[r] == lp or labels[s] == lp:
                    continue
                for t in (r, s):
                    if parent[t] == parent[p]:
                        labels[t] = lp
                        changed = True
                        break
                else:
                    raise RuntimeError(f"corner contact at cell {p} cannot be fixed in its parent")
    return changed


Run = tuple[int, int]  # cells [start, end) of one row


def _components(labels: Sequence[int], raster: Raster) -> list[tuple[int, int, list[Run]]]:
    """4-connected pieces as (label, cell count, runs): runs of a row joined to the row below."""
    w = raster.width
    runs: list[Run] = []
    run_label: list[int] = []
    root: list[int] = []

    def find(r: int) -> int:
        while root[r] != r:
            root[r] = root[root[r]]
            r = root[r]
        return r

    previous: list[int] = []
    for j in range(raster.height):
        current = []
        start = j * w
        for label, group in itertools.groupby(labels[j * w : (j + 1) * w]):
            end = start + len(list(group))
            current.append(len(runs))
            runs.append((start, end))
            run_label.append(label)
            root.append(len(root))
            start = end
        p = 0
        for r in current:
            s, e = runs[r][0] - w, runs[r][1] - w  # the same columns in the row below
            while p < len(previous) and runs[previous[p]][1] <= s:
                p += 1
            q = p
            while q < len(previous) and runs[previous[q]][0] < e:
                if run_label[previous[q]] == run_label[r]:
                    a, b = find(previous[q]), find(r)
                    if a != b:
                        root[max(a, b)] = min(a, b)
                q += 1
        previous = current
    pieces: dict[int, list[Run]] = {}
    for r in range(len(runs)):
        pieces.setdefault(find(r), []).append(runs[r])
    return [(run_label[r], sum(e - s for s, e in rs), rs) for r, rs in pieces.items()]


def _fix_fragments(labels: list[int], parent: Sequence[int], raster: Raster) -> bool:
    """Keep each label's largest piece; hand the others to their most common neighbour."""
    by_label: dict[int, list[tuple[int, int, list[Run]]]] = {}
    for piece in _components(labels, raster):
        by_label.setdefault(piece[0], []).append(piece)
    w, size, changed = raster.width, raster.size, False
    for pieces in by_label.values():
        pieces.sort(key=lambda piece: -piece[1])
        for _, _, runs in pieces[1:]:
            cells = [k for s, e in runs for k in range(s, e)]
            home = parent[cells[0]]
            votes: Counter[int] = Counter()
            members = set(cells)
            for k in cells:
                for n in (k - 1, k + 1, k - w, k + w):
                    if 0 <= n < size and n not in members and parent[n] == home:
                        votes[labels[n]] += 1
            if not votes:
                continue  # a whole piece of the parent: the parent level is not clean
            new = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            for k in cells:
                labels[k] = new
            changed = True
    return changed


def _fix_holes(labels: list[int], parent: Sequence[int], raster: Raster) -> bool:
    """A label whose border is more than one ring swallows what it encloses."""
    changed = False
    for label, step in sorted(boundary_steps(labels, raster).items()):
        start = min(step)
        v, n = step[start], 1
        while v != start:
            v, n = step[v], n + 1
        if n != len(step):
            changed |= _fill_enclosed(labels, parent, raster, label)
    return changed


def _fill_enclosed(labels: list[int], parent: Sequence[int], raster: Raster, label: int) -> bool:
    w = raster.width
    cells = [k for k, v in enumerate(labels) if v == label]
    i0 = max(min(k % w for k in cells) - 1, 0)
    i1 = min(max(k % w for k in cells) + 1, w - 1)
    j0 = max(min(k // w for k in cells) - 1, 0)
    j1 = min(max(k // w for k in cells) + 1, raster.height - 1)
    box = {j * w + i for j in range(j0, j1 + 1) for i in range(i0, i1 + 1)}
    border = [k for k in box if k % w in (i0, i1) or k // w in (j0, j1)]
    reached = {k for k in border if labels[k] != label}
    queue = deque(reached)
    while queue:
        k = queue.popleft()
        for n in (k - 1, k + 1, k - w, k + w):
            same_row_or_column = abs(n % w - k % w) <= 1
            if same_row_or_column and n in box and n not in reached and labels[n] != label:
                reached.add(n)
                queue.append(n)
    home = parent[cells[0]]
    enclosed = [k for k in box if labels[k] != label and k not in reached]
    for k in enclosed:
        if parent[k] != home:
            raise RuntimeError(f"label {label} encloses cell {k} of another parent")
        labels[k] = label
    return bool(enclosed)
