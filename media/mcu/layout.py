"""The gallery: where each participant's picture goes in the composite, as a pure function.

No speaker (or two people or fewer): an even grid, 1 → the whole frame, 2 → side by side,
3-4 → 2×2, 5-9 → 3×3, tiles in join order. With an active speaker and three or more people,
the speaker takes a 2×2 block of cells in the top-left corner and the others are thumbnails
in the cells around it, in join order: 3-6 people on a 3×3 grid, 7-9 on a 4×4 grid. Every
tile keeps the composite's aspect ratio (letterboxed inside its cell) and has even
coordinates and sizes, because the composite is yuv420p (chroma at half resolution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def _even(value: float) -> int:
    return int(value) // 2 * 2


def _grid_size(n: int) -> int:
    """Columns (= rows) of the even grid for n tiles; 2 is special-cased as 2×1."""
    if n <= 1:
        return 1
    if n <= 4:
        return 2
    return 3


def _cell(col: int, row: int, span: int, cols: int, rows: int, width: int, height: int) -> Rect:
    """The cell block (col, row) spanning `span` cells. Cells are all the same even size;
    the few pixels rounding leaves over are shared out as a margin around the grid."""
    cw, ch = _even(width / cols), _even(height / rows)
    left, top = _even((width - cols * cw) / 2), _even((height - rows * ch) / 2)
    return Rect(left + col * cw, top + row * ch, span * cw, span * ch)


def _fit(cell: Rect, width: int, height: int) -> Rect:
    """The largest rectangle of the composite's aspect ratio inside `cell`, centred."""
    w = min(cell.width, _even(cell.height * width / height))
    h = min(cell.height, _even(cell.width * height / width))
    return Rect(cell.x + _even((cell.width - w) / 2), cell.y + _even((cell.height - h) / 2), w, h)


def gallery(
    participants: Sequence[str], speaker: str | None, width: int, height: int
) -> dict[str, Rect]:
    """Each participant id → its tile in a `width`×`height` composite (join order kept)."""
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"the composite must be even and at least 16×16, got {width}×{height}")
    if len(set(participants)) != len(participants):
        raise ValueError(f"participant ids must be unique, got {list(participants)}")
    n = len(participants)
    if n == 0:
        return {}
    if speaker is not None and speaker in participants and n >= 3:
        return _spotlight(list(participants), speaker, width, height)
    if n == 2:
        cells = [_cell(i, 0, 1, 2, 1, width, height) for i in range(2)]
    else:
        size = _grid_size(n)
        cells = [_cell(i % size, i // size, 1, size, size, width, height) for i in range(n)]
    return {p: _fit(c, width, height) for p, c in zip(participants, cells, strict=False)}


def _spotlight(participants: list[str], speaker: str, width: int, height: int) -> dict[str, Rect]:
    size = 3 if len(participants) <= 6 else 4
    tiles = {speaker: _cell(0, 0, 2, size, size, width, height)}
    # The cells around the 2×2 block: down the columns on the right, then along the rows below.
    around = [(c, r) for c in range(2, size) for r in range(size)]
    around += [(c, r) for r in range(2, size) for c in range(2)]
    others = [p for p in participants if p != speaker]
    for p, (c, r) in zip(others, around, strict=False):
        tiles[p] = _cell(c, r, 1, size, size, width, height)
    return {p: _fit(tiles[p], width, height) for p in participants}
