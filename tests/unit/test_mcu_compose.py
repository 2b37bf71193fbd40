"""The composite: frames scaled into their tiles, names drawn, a plate where video is off."""

from __future__ import annotations

import av
import pytest
from PIL import Image

from media.mcu.compose import BACKGROUND, PLATE, Compositor, Tile
from media.mcu.layout import Rect, gallery

RED, BLUE = (220, 30, 30), (30, 40, 220)


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> av.VideoFrame:
    frame: av.VideoFrame = av.VideoFrame.from_image(Image.new("RGB", size, rgb))
    return frame.reformat(format="yuv420p")


def near(pixel: object, rgb: tuple[int, int, int], tolerance: int = 24) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], rgb, strict=True))


def test_each_frame_fills_its_tile_and_the_rest_is_background() -> None:
    rects = gallery(["a", "b"], None, 640, 480)
    out = Compositor(640, 480).compose(
        [
            Tile("a", rects["a"], "甲", solid(RED)),
            Tile("b", rects["b"], "乙", solid(BLUE, (64, 48))),
        ]
    )
    image = out.to_image()
    assert (out.width, out.height, out.format.name) == (640, 480, "yuv420p")
    assert near(image.getpixel((160, 200)), RED) and near(image.getpixel((480, 200)), BLUE)
    assert near(image.getpixel((320, 20)), BACKGROUND)  # letterbox above the side-by-side tiles


def test_a_tile_without_video_shows_the_name_plate_with_the_name() -> None:
    rect = Rect(0, 0, 320, 240)
    image = Compositor(320, 240).compose([Tile("a", rect, "张伟 · 网格员", None)]).to_image()
    assert near(image.getpixel((10, 10)), PLATE)
    middle = image.crop((60, 100, 260, 140)).convert("L")
    assert middle.getextrema()[1] > 200  # the name's light strokes on the plate


def test_the_name_is_drawn_on_a_strip_at_the_bottom_left() -> None:
    rect = Rect(0, 0, 320, 240)
    image = Compositor(320, 240).compose([Tile("a", rect, "李娜", solid(BLUE))]).to_image()
    strip = image.crop((0, 210, 60, 240)).convert("L")
    low, high = strip.getextrema()
    assert low < 40 and high > 200  # a dark strip, white text
    assert near(image.getpixel((300, 120)), BLUE)


def test_a_tile_outside_the_canvas_is_named() -> None:
    with pytest.raises(ValueError, match=r"'a'.*outside 320×240"):
        Compositor(320, 240).compose([Tile("a", Rect(300, 0, 64, 48), "x", None)])


def test_odd_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="641×480"):
        Compositor(641, 480)
