"""Creative formats: canvas sizes, their safe zones, and the file encodings we write.

Safe zones follow the platforms' published guidance: 9:16 stories/reels keep the top 250 px
and bottom 340 px of 1920 free of content (profile bar, reply box and call-to-action sit
there); the other formats keep a uniform margin. A custom size is written ``WIDTHxHEIGHT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ENCODINGS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MIN_SIDE, MAX_SIDE = 64, 4096
_CUSTOM = re.compile(r"(\d{2,4})x(\d{2,4})")


@dataclass(frozen=True)
class Format:
    name: str
    width: int
    height: int
    # Insets of the safe zone, in pixels: left, top, right, bottom.
    safe: tuple[int, int, int, int]

    @property
    def safe_box(self) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.safe
        return left, top, self.width - right, self.height - bottom


def _uniform(name: str, width: int, height: int, fraction: float = 0.06) -> Format:
    margin = round(min(width, height) * fraction)
    return Format(name, width, height, (margin, margin, margin, margin))


FORMATS: dict[str, Format] = {
    "square": _uniform("square", 1080, 1080),  # 1:1 feed
    "portrait": _uniform("portrait", 1080, 1350),  # 4:5 feed
    "story": Format("story", 1080, 1920, (65, 250, 65, 340)),  # 9:16 stories / reels
    "landscape": _uniform("landscape", 1200, 628),  # 1.91:1 link ads, display
}
ALIASES = {"1:1": "square", "4:5": "portrait", "9:16": "story", "1.91:1": "landscape"}


def parse_format(text: str) -> Format:
    """A named format, a ratio alias (``9:16``), or a custom ``WIDTHxHEIGHT`` size."""
    key = ALIASES.get(text.strip(), text.strip().lower())
    if key in FORMATS:
        return FORMATS[key]
    match = _CUSTOM.fullmatch(key)
    if match is None:
        known = ", ".join([*FORMATS, *ALIASES])
        raise ValueError(f"unknown format {text!r}; use one of {known} or WIDTHxHEIGHT")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"custom size {text!r}: each side must be {MIN_SIDE} to {MAX_SIDE} px")
    return _uniform(f"{width}x{height}", width, height)
