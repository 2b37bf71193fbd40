"""Demo cameras: a street drawn per frame and encoded live to H.264, only while watched.

Each demo camera is a side view of a street (sky, buildings, a road with traffic both ways,
people on the pavement) chosen from its source string, with its name and a running clock
burned in like a real camera's on-screen display. Drawing is PIL on a background painted
once; encoding is libx264 `ultrafast`/`zerolatency`, constrained baseline (what every
browser decodes), one slice per frame, an IDR every two seconds or when a viewer asks.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw, ImageFont

from media.annexb import AccessUnit, is_keyframe, split_nal_units

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "CST")
WEEKDAYS = "一二三四五六日"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
FONT_NAMES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Medium.ttc", "NotoSerifCJK-Regular.ttc")
FONT_INDEX_SC = 2  # face 2 of the Noto CJK collections is Simplified Chinese
CLOCK_RATE = 90_000
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class DemoConfig:
    """How demo cameras look and what they cost; 640×360 at 12 fps keeps 16 on two cores."""

    width: int = 640
    height: int = 360
    fps: int = 12
    keyframe_seconds: float = 2.0
    crf: int = 28  # libx264 quality: higher is smaller; 28 is ~150-300 kbit/s here
    font: Path | None = None  # a CJK font; None finds Noto CJK under /usr/share/fonts

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not 64 <= value <= 1920 or value % 2:
                raise ValueError(f"demo {name} must be even and 64-1920 pixels, got {value}")
        if not 1 <= self.fps <= 30:
            raise ValueError(f"demo fps must be 1-30, got {self.fps}")
        if not 0.5 <= self.keyframe_seconds <= 10:
            raise ValueError(f"demo keyframe_seconds must be 0.5-10, got {self.keyframe_seconds}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"demo crf must be 0-51 (libx264), got {self.crf}")
        if self.font is not None and not self.font.is_file():
            raise ValueError(f"demo font {str(self.font)!r} does not exist")

    @property
    def keyframe_interval(self) -> int:
        return max(1, round(self.fps * self.keyframe_seconds))


@lru_cache(maxsize=1)
def find_cjk_font() -> Path | None:
    """A font with Chinese glyphs (fonts-noto-cjk), or None."""
    for directory in FONT_DIRS:
        for name in FONT_NAMES:
            found = sorted(directory.rglob(name)) if directory.is_dir() else []
            if found:
                return found[0]
    return None


@lru_cache(maxsize=16)
def load_font(path: Path | None, size: int) -> Font:
    path = path or find_cjk_font()
    if path is None:
        log.warning("demo cameras: no CJK font (install fonts-noto-cjk); names show as boxes")
        return ImageFont.load_default(size)
    try:
        return ImageFont.truetype(str(path), size, index=FONT_INDEX_SC)
    except OSError:  # a plain .ttf/.otf has one face only
        return ImageFont.truetype(str(path), size)


def osd_time(now: datetime) -> str:
    """The clock line of a Chinese camera's on-screen display."""
    return f"{now:%Y-%m-%d} 星期{WEEKDAYS[now.weekday()]} {now:%H:%M:%S}"


@dataclass(frozen=True)
class _Mover:
    """Something crossing the frame: a vehicle in a lane, or a person on the pavement."""

    kind: str  # car, bus, truck, person
    y: int  # baseline
    speed: float  # pixels per second, negative leftwards
    phase: float  # pixels
    length: int
    height: int
    color: tuple[int, int, int]


class StreetScene:
    """A street picked by `seed`, drawn at any moment; `name` is burned in bottom right."""

    def __init__(self, name: str, seed: str, config: DemoConfig, *, hour: int = 12) -> None:
        self.name, self.config = name, config
        self.width, self.height = config.width, config.height
        digest = hashlib.sha256(seed.encode()).digest()
        self.rng = random.Random(int.from_bytes(digest[:8], "big"))
        self.night = hour < 6 or hour >= 19
        scale = self.height / 360
        self.font = load_font(config.font, max(10, round(18 * scale)))
        self.road_top, self.road_bottom = round(self.height * 0.60), round(self.height * 0.90)
        self.background = self._paint_background()
        self.movers = self._movers()
        self.label = self._overlay(self.name)
        # Where the name sits (bottom right), so a test can look for it in a decoded frame.
        self.label_box = (
            self.width - 10 - self.label.width, self.height - 6 - self.label.height,
            self.width - 10, self.height - 6,
        )  # fmt: skip
        self._clock_cache: tuple[str, Image.Image] | None = None

    # -- painted once ------------------------------------------------------------------

    def _paint_background(self) -> Image.Image:
        w, h, rng = self.width, self.height, self.rng
        image = Image.new("RGB", (w, h))
        draw = ImageDraw.Draw(image)
        top, bottom = (
            ((10, 14, 40), (40, 48, 90)) if self.night else ((96, 152, 214), (188, 214, 236))
        )
        horizon = round(h * 0.55)
        for y in range(horizon):
            t = y / max(1, horizon - 1)
            draw.line(
                [(0, y), (w, y)],
                fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
            )
        x = -rng.randrange(0, 40)
        while x < w:
            bw = rng.randrange(w // 12, w // 5)
            bh = rng.randrange(round(h * 0.18), round(h * 0.45))
            shade = rng.randrange(90, 170)
            tint = (shade, shade - rng.randrange(0, 20), shade - rng.randrange(0, 30))
            draw.rectangle([x, horizon - bh, x + bw, self.road_top], fill=tint)
            lit = (250, 220, 130) if self.night else (150, 180, 205)
            for wy in range(horizon - bh + 8, self.road_top - 22, max(8, h // 24)):
                for wx in range(x + 6, x + bw - 8, max(10, w // 48)):
                    on = rng.random() < (0.45 if self.night else 0.9)
                    draw.rectangle([wx, wy, wx + 5, wy + 6], fill=lit if on else (60, 60, 70))
            x += bw + rng.randrange(2, 14)
        pavement = (150, 148, 140) if not self.night else (70, 70, 76)
        draw.rectangle([0, round(h * 0.55), w, self.road_top], fill=pavement)
        draw.rectangle([0, self.road_bottom, w, h], fill=pavement)
        asphalt = (70, 72, 76) if not self.night else (36, 38, 42)
        draw.rectangle([0, self.road_top, w, self.road_bottom], fill=asphalt)
        middle = (self.road_top + self.road_bottom) // 2
        for dx in range(0, w, 48):
            draw.rectangle([dx, middle - 1, dx + 26, middle + 1], fill=(230, 230, 220))
        draw.line([(0, self.road_top + 2), (w, self.road_top + 2)], fill=(200, 200, 190))
        draw.line([(0, self.road_bottom - 2), (w, self.road_bottom - 2)], fill=(200, 200, 190))
        for px in range(rng.randrange(20, 80), w, rng.randrange(140, 220)):  # street lamps
            draw.rectangle([px, round(h * 0.30), px + 2, self.road_top], fill=(50, 50, 55))
            glow = (255, 240, 170) if self.night else (210, 210, 200)
            draw.ellipse([px - 5, round(h * 0.30) - 4, px + 7, round(h * 0.30) + 4], fill=glow)
        return image

    def _movers(self) -> list[_Mover]:
        rng, h = self.rng, self.height
        lanes = (
            (self.road_top + (self.road_bottom - self.road_top) // 2 - 4, -1),
            (self.road_bottom - 6, 1),
        )
        palette = [(200, 40, 40), (240, 240, 240), (30, 30, 34), (40, 90, 170), (220, 180, 40),
                   (120, 120, 125), (30, 130, 80)]  # fmt: skip
        movers: list[_Mover] = []
        for y, direction in lanes:
            for _ in range(rng.randrange(3, 6)):
                kind = rng.choices(("car", "bus", "truck"), (8, 1, 2))[0]
                length = {"car": 56, "bus": 130, "truck": 96}[kind] * h // 360
                height = {"car": 24, "bus": 40, "truck": 36}[kind] * h // 360
                speed = direction * rng.uniform(40, 110) * h / 360
                color = (40, 140, 90) if kind == "bus" else rng.choice(palette)
                movers.append(_Mover(kind, y, speed, rng.uniform(0, 2000), length, height, color))
        for y, direction in ((round(h * 0.58), 1), (h - 4, -1)):
            for _ in range(rng.randrange(2, 5)):
                color = rng.choice(palette)
                speed = direction * rng.uniform(12, 22) * h / 360
                movers.append(
                    _Mover("person", y, speed, rng.uniform(0, 2000), 8, 26 * h // 360, color)
                )
        return movers

    # -- drawn every frame -------------------------------------------------------------

    def render(self, seconds: float, now: datetime) -> Image.Image:
        """The picture `seconds` after the camera started, with `now` on its clock."""
        image = self.background.copy()
        draw = ImageDraw.Draw(image)
        span = self.width + 300
        for m in self.movers:
            x = (m.phase + m.speed * seconds) % span - 150
            self._draw_mover(draw, m, round(x))
        clock = self._clock(osd_time(now))
        image.paste(clock, (6, 4), clock)
        image.paste(self.label, self.label_box[:2], self.label)
        return image

    def _draw_mover(self, draw: ImageDraw.ImageDraw, m: _Mover, x: int) -> None:
        y, length, height = m.y, m.length, m.height
        if m.kind == "person":
            draw.ellipse([x, y - height, x + 7, y - height + 7], fill=(230, 190, 160))
            draw.rectangle([x, y - height + 7, x + 7, y - 7], fill=m.color)
            stride = 3 if (x // 6) % 2 else 0
            draw.line([(x + 2, y - 7), (x + 2 - stride, y)], fill=(30, 30, 40), width=2)
            draw.line([(x + 5, y - 7), (x + 5 + stride, y)], fill=(30, 30, 40), width=2)
            return
        body_top = y - height
        draw.rectangle([x, body_top + height // 3, x + length, y - 4], fill=m.color)
        if m.kind == "car":
            draw.rectangle([x + length // 5, body_top, x + length * 4 // 5, body_top + height // 3],
                           fill=m.color)  # fmt: skip
            draw.rectangle([x + length // 4, body_top + 3, x + length * 3 // 4,
                            body_top + height // 3], fill=(150, 190, 215))  # fmt: skip
        else:
            draw.rectangle([x, body_top, x + length, body_top + height // 3], fill=m.color)
            for wx in range(x + 6, x + length - 10, 16):
                draw.rectangle([wx, body_top + 4, wx + 10, body_top + height // 3 + 2],
                               fill=(150, 190, 215))  # fmt: skip
        wheel = max(4, height // 5)
        for wx in (x + length // 6, x + length * 5 // 6 - wheel * 2):
            draw.ellipse([wx, y - wheel * 2, wx + wheel * 2, y], fill=(20, 20, 20))
        if self.night:
            front = x + length if m.speed > 0 else x - 6
            draw.rectangle(
                [front, y - height // 2, front + 6, y - height // 2 + 4], fill=(255, 250, 200)
            )

    def _clock(self, text: str) -> Image.Image:
        """The clock line, drawn once per second."""
        if self._clock_cache is None or self._clock_cache[0] != text:
            self._clock_cache = (text, self._overlay(text))
        return self._clock_cache[1]

    def _overlay(self, text: str) -> Image.Image:
        """White text outlined in black on a transparent image, as camera OSDs draw it."""
        box = self.font.getbbox(text, stroke_width=2)
        overlay = Image.new("RGBA", (int(box[2]) + 4, int(box[3]) + 4), (0, 0, 0, 0))
        ImageDraw.Draw(overlay).text(
            (2, 2), text, font=self.font, fill=(255, 255, 255), stroke_width=2,
            stroke_fill=(0, 0, 0),
        )  # fmt: skip
        return overlay


class DemoSource:
    """A demo camera as a `Source`: each `read` draws the next frame and encodes it."""

    paced = False  # frames are made on demand; the upstream paces them by their timestamps

    def __init__(
        self,
        *,
        name: str,
        seed: str,
        config: DemoConfig,
        now: Callable[[], datetime] = lambda: datetime.now(CHINA),
    ) -> None:
        self.name, self.seed, self.config, self.now = name, seed, config, now
        self.description = f"demo camera {seed} ({name})"
        self.scene: StreetScene | None = None
        self.codec: Any = None
        self.frames = 0
        self._force_keyframe = False

    def open(self) -> None:
        c = self.config
        self.scene = StreetScene(self.name, self.seed, c, hour=self.now().hour)
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height, codec.pix_fmt = c.width, c.height, "yuv420p"
        codec.time_base = Fraction(1, c.fps)
        codec.framerate = Fraction(c.fps, 1)
        codec.gop_size = c.keyframe_interval
        codec.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",  # x264 writes constrained baseline (42c0xx)
            "level": "3.1",
            "crf": str(c.crf),
            "forced-idr": "1",  # a forced keyframe is an IDR a new decoder can start from
            # One thread, one slice per frame: 16 cameras share two cores better this way,
            # and every picture is one NAL unit. SPS/PPS go in front of every IDR.
            "threads": "1",
            "x264-params": f"keyint={c.keyframe_interval}:min-keyint={c.keyframe_interval}"
            ":scenecut=0:repeat-headers=1:sliced-threads=0",
        }
        codec.open()
        self.codec, self.frames = codec, 0
        self._force_keyframe = False

    def read(self) -> AccessUnit | None:
        if self.scene is None or self.codec is None:
            raise RuntimeError(f"{self.description} is not open")
        while True:
            index = self.frames
            self.frames += 1
            image = self.scene.render(index / self.config.fps, self.now())
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts, frame.time_base = index, self.codec.time_base
            if self._force_keyframe:
                self._force_keyframe = False
                frame.pict_type = av.video.frame.PictureType.I
            data = b"".join(bytes(p) for p in self.codec.encode(frame))
            if data:  # zerolatency has no lookahead: every frame comes straight out
                keyframe = is_keyframe(split_nal_units(data))
                return AccessUnit(data, index * CLOCK_RATE // self.config.fps, keyframe)

    def request_keyframe(self) -> bool:
        self._force_keyframe = True
        return True

    def close(self) -> None:
        self.codec, self.scene = None, None
