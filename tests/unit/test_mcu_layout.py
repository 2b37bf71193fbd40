"""The gallery layout: pure rectangles from a participant list and the active speaker."""

from __future__ import annotations

import itertools

import pytest

from media.conference import MAX_PARTICIPANTS
from media.mcu.layout import Rect, gallery

W, H = 640, 480


def ids(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def overlaps(a: Rect, b: Rect) -> bool:
    return not (a.x + a.width <= b.x or b.x + b.width <= a.x or
                a.y + a.height <= b.y or b.y + b.height <= a.y)  # fmt: skip


def test_nobody_gets_an_empty_layout() -> None:
    assert gallery([], None, W, H) == {}


def test_one_participant_fills_the_frame() -> None:
    assert gallery(["a"], None, W, H) == {"a": Rect(0, 0, W, H)}
    assert gallery(["a"], "a", W, H) == {"a": Rect(0, 0, W, H)}


def test_two_sit_side_by_side_letterboxed_at_the_frames_aspect() -> None:
    tiles = gallery(["a", "b"], "b", W, H)  # no enlargement for two
    assert tiles == {"a": Rect(0, 120, 320, 240), "b": Rect(320, 120, 320, 240)}


@pytest.mark.parametrize(("n", "size"), [(3, 2), (4, 2), (5, 3), (6, 3), (9, 3)])
def test_without_a_speaker_an_even_grid_in_join_order(n: int, size: int) -> None:
    tiles = gallery(ids(n), None, W, H)
    assert list(tiles) == ids(n)
    widths = {r.width for r in tiles.values()}
    assert len(widths) == 1 and abs(widths.pop() - W // size) <= 2
    assert tiles["p0"].x <= 4 and tiles["p0"].y <= 4  # the top-left (a rounding margin)
    assert tiles["p1"].y == 0 and tiles["p1"].x > tiles["p0"].x  # left to right, then down


@pytest.mark.parametrize("n", range(3, MAX_PARTICIPANTS + 1))
def test_the_speaker_is_enlarged_top_left_and_the_others_are_thumbnails(n: int) -> None:
    speaker = f"p{n - 1}"  # the last to join speaks
    tiles = gallery(ids(n), speaker, W, H)
    big = tiles[speaker]
    assert big.x <= 4 and big.y <= 4
    others = [r for p, r in tiles.items() if p != speaker]
    assert all(big.width >= 2 * r.width - 2 and big.height >= 2 * r.height - 2 for r in others)
    thumbs = [tiles[p] for p in ids(n) if p != speaker]
    assert len({(r.width, r.height) for r in thumbs}) == 1


@pytest.mark.parametrize("n", range(1, MAX_PARTICIPANTS + 1))
@pytest.mark.parametrize("with_speaker", [False, True])
def test_tiles_are_inside_even_disjoint_and_keep_the_aspect(n: int, with_speaker: bool) -> None:
    tiles = gallery(ids(n), "p0" if with_speaker else None, W, H)
    assert len(tiles) == n
    for r in tiles.values():
        assert r.x >= 0 and r.y >= 0 and r.x + r.width <= W and r.y + r.height <= H
        assert r.x % 2 == r.y % 2 == r.width % 2 == r.height % 2 == 0
        assert r.width > 0 and abs(r.width / r.height - W / H) < 0.03
    for a, b in itertools.combinations(tiles.values(), 2):
        assert not overlaps(a, b), (a, b)


def test_a_speaker_who_is_not_in_the_room_changes_nothing() -> None:
    assert gallery(ids(4), "gone", W, H) == gallery(ids(4), None, W, H)


def test_the_same_input_gives_the_same_layout() -> None:
    assert gallery(ids(7), "p3", W, H) == gallery(ids(7), "p3", W, H)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="unique"):
        gallery(["a", "a"], None, W, H)
    with pytest.raises(ValueError, match="641×480"):
        gallery(["a"], None, 641, 480)
