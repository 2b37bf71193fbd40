"""The composite: participants' last frames scaled into their tiles, with names, as yuv420p.

The picture is assembled in yuv420p, the encoder's own format, so no colour conversion
happens per frame: each tile is one libswscale call (`VideoFrame.reformat`, in C) and then
row copies into the canvas planes. Names are drawn once with Pillow and kept as small
yuv420p patches; a scaled frame is kept while its participant sends no newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw

from media.demo import load_font
from media.mcu.layout import Rect

BACKGROUND = (24, 26, 32)  # RGB of the empty canvas
PLATE = (52, 64, 84)  # RGB of a tile without video
LABEL = (0, 0, 0)
CACHE = 64  # drawn names and plates kept; a room has at most 9 names in a few sizes


@dataclass(frozen=True)
class Tile:
    key: str  # the participant id: scaled frames are cached per participant
    rect: Rect
    name: str
    frame: av.VideoFrame | None  # None: the name plate (camera off, or no frame yet)


def _yuv(image: Image.Image) -> av.VideoFrame:
    frame: av.VideoFrame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
    return frame.reformat(format="yuv420p")


def _color_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    frame = _yuv(Image.new("RGB", (2, 2), rgb))
    return tuple(bytes(p)[0] for p in frame.planes)  # type: ignore[return-value]


class Compositor:
    def __init__(self, width: int, height: int, font: Path | None = None) -> None:
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise ValueError(
                f"composite size must be even and at least 16×16, got {width}×{height}"
            )
        self.width, self.height, self.font = width, height, font
        probe = av.VideoFrame(width, height, "yuv420p")
        self._strides = [p.line_size for p in probe.planes]
        self._heights = [height, height // 2, height // 2]
        y, u, v = _color_yuv(BACKGROUND)
        self._background = [
            bytes([value]) * (stride * rows)
            for value, stride, rows in zip((y, u, v), self._strides, self._heights, strict=True)
        ]
        self._scaled: dict[str, tuple[Any, int, int, av.VideoFrame]] = {}
        self._drawn: dict[tuple[Any, ...], av.VideoFrame] = {}

    def compose(self, tiles: Sequence[Tile]) -> av.VideoFrame:
        """One composite frame (pts unset) of `tiles`; tiles must lie inside the canvas."""
        planes = [bytearray(b) for b in self._background]
        for tile in tiles:
            r = tile.rect
            if r.x < 0 or r.y < 0 or r.x + r.width > self.width or r.y + r.height > self.height:
                raise ValueError(f"tile {tile.key!r} {r} is outside {self.width}×{self.height}")
            if tile.frame is None:
                self._blit(planes, r.x, r.y, self._plate(tile.name, r.width, r.height))
                continue
            self._blit(planes, r.x, r.y, self._scale(tile.key, tile.frame, r.width, r.height))
            label = self._label(tile.name, r.width, r.height)
            self._blit(planes, r.x, r.y + r.height - label.height, label)
        live = {t.key for t in tiles}
        for key in [k for k in self._scaled if k not in live]:
            del self._scaled[key]
        out = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, data in zip(out.planes, planes, strict=True):
            plane.update(bytes(data))
        return out

    def _blit(self, planes: list[bytearray], x: int, y: int, patch: av.VideoFrame) -> None:
        """Copy a yuv420p patch into the canvas at (x, y), both even."""
        for index, (canvas, src) in enumerate(zip(planes, patch.planes, strict=True)):
            shift = 0 if index == 0 else 1
            px, py = x >> shift, y >> shift
            w, h = patch.width >> shift, patch.height >> shift
            stride, src_stride = self._strides[index], src.line_size
            view = memoryview(src)
            for row in range(h):
                start = (py + row) * stride + px
                canvas[start : start + w] = view[row * src_stride : row * src_stride + w]

    def _scale(self, key: str, frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
        cached = self._scaled.get(key)
        if cached is not None and cached[0] is frame and cached[1:3] == (width, height):
            return cached[3]
        scaled = frame.reformat(width=width, height=height, format="yuv420p")
        self._scaled[key] = (frame, width, height, scaled)
        return scaled

    def _remember(self, key: tuple[Any, ...], frame: av.VideoFrame) -> av.VideoFrame:
        if len(self._drawn) >= CACHE:
            self._drawn.clear()
        self._drawn[key] = frame
        return frame

    def _label(self, name: str, width: int, height: int) -> av.VideoFrame:
        """The name on a dark strip along the bottom of a tile, as wide as the text."""
        strip = max(16, height // 8) // 2 * 2
        key = ("label", name, width, strip)
        if key in self._drawn:
            return self._drawn[key]
        font = load_font(self.font, max(10, strip * 3 // 4))
        text_width = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(name, font=font))
        w = min(width, (text_width + strip) // 2 * 2 + 2)
        image = Image.new("RGB", (w, strip), LABEL)
        ImageDraw.Draw(image).text((strip // 2, strip // 2), name, font=font, anchor="lm",
                                   fill=(255, 255, 255))  # fmt: skip
        return self._remember(key, _yuv(image))

    def _plate(self, name: str, width: int, height: int) -> av.VideoFrame:
        """A tile without video: the name in the middle of a plain plate."""
        key = ("plate", name, width, height)
        if key in self._drawn:
            return self._drawn[key]
        image = Image.new("RGB", (width, height), PLATE)
        font = load_font(self.font, max(12, height // 8))
        ImageDraw.Draw(image).text((width // 2, height // 2), name, font=font, anchor="mm",
                                   fill=(235, 240, 250))  # fmt: skip
        return self._remember(key, _yuv(image))
