"""Text on creatives: the font, wrapping to a width, and WCAG contrast with a scrim fallback.

The font is Aileron Regular, which Pillow (≥ 10.1) ships inside its own wheel and returns from
``ImageFont.load_default(size=...)`` as a scalable FreeType font, so text never depends on
the fonts a worker machine happens to have. Contrast is the WCAG 2.x ratio between the text
colour and *every* pixel behind the text's box (the worst pixel decides, not the average); when
no text colour reaches :data:`MIN_CONTRAST`, a scrim — a rounded panel — is laid under the text,
as opaque as needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

MIN_CONTRAST = 4.5
FONT_NAME = "Aileron Regular (bundled with Pillow)"
RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
INK: RGB = (17, 17, 17)


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):  # Pillow without FreeType
        raise RuntimeError("Pillow was built without FreeType; it cannot draw scalable text")
    return loaded


@lru_cache(maxsize=256)
def has_glyph(character: str) -> bool:
    """Whether the bundled font draws ``character`` (rather than its missing-glyph box)."""
    face = font(32)

    def pixels(text: str) -> bytes:
        image = Image.new("L", (64, 64), 0)
        ImageDraw.Draw(image).text((8, 8), text, font=face, fill=255)
        return image.tobytes()

    return pixels(character) != pixels("\uffff")


def relative_luminance(rgb: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """WCAG 2.x relative luminance of sRGB colours in 0..255 (any shape ending in 3)."""
    channel = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(channel <= 0.04045, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)
    return np.asarray(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(first: npt.ArrayLike, second: npt.ArrayLike) -> npt.NDArray[np.float64]:
    a, b = relative_luminance(first), relative_luminance(second)
    return np.asarray((np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05))


def worst_contrast(colour: RGB, behind: npt.NDArray[np.uint8]) -> float:
    """The lowest contrast between ``colour`` and any pixel of ``behind`` (H×W×3)."""
    return float(contrast_ratio(colour, behind.reshape(-1, 3)).min())


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; a word longer than a line is cut with a hyphen."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if face.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while face.getlength(word) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and face.getlength(word[:cut] + "-") > width:
                    cut -= 1
                lines.append(word[:cut] + "-")
                word = word[cut:]
            line = word
        if line:
            lines.append(line)
    return lines


@dataclass(frozen=True)
class TextBlock:
    lines: list[str]
    size: int
    line_height: int
    width: int
    height: int


def fit_text(
    text: str,
    box_width: int,
    box_height: int,
    *,
    max_size: int,
    min_size: int = 16,
    max_lines: int = 4,
) -> TextBlock | None:
    """The largest font size at which ``text`` wraps into the box; None if it never fits."""
    size = max_size
    while size >= min_size:
        face = font(size)
        lines = wrap(text, face, box_width)
        line_height = round(size * 1.2)
        height = line_height * len(lines)
        if len(lines) <= max_lines and height <= box_height:
            width = max((round(face.getlength(line)) for line in lines), default=0)
            return TextBlock(lines, size, line_height, width, height)
        size = int(size * 0.9)
    return None


@dataclass(frozen=True)
class Placed:
    """Where text went, its colour, the contrast it reached, and whether a scrim was needed."""

    box: tuple[int, int, int, int]
    colour: RGB
    contrast: float
    scrim_opacity: float


def draw_text(
    canvas: Image.Image,
    block: TextBlock,
    origin: tuple[int, int],
    *,
    align: str = "center",
    box_width: int | None = None,
    preferred: RGB | None = None,
    scrim_colour: RGB | None = None,
) -> Placed:
    """Draw ``block`` on ``canvas`` (RGB, in place) with WCAG contrast ≥ 4.5 guaranteed."""
    x, y = origin
    width = box_width or block.width
    pad = max(8, block.size // 3)
    box = (
        max(0, x - pad),
        max(0, y - pad),
        min(canvas.width, x + width + pad),
        min(canvas.height, y + block.height + pad),
    )
    behind = np.asarray(canvas.crop(box).convert("RGB"))
    candidates = [c for c in (preferred, INK, WHITE) if c is not None]
    colour = max(candidates, key=lambda c: worst_contrast(c, behind))
    if preferred is not None and worst_contrast(preferred, behind) >= MIN_CONTRAST:
        colour = preferred
    contrast = worst_contrast(colour, behind)
    opacity = 0.0
    if contrast < MIN_CONTRAST:
        panel = scrim_colour or (WHITE if colour == INK else INK)
        if contrast_ratio(colour, panel) < MIN_CONTRAST:
            panel = WHITE if colour == INK else INK
        behind_f = behind.astype(np.float64)
        for step in range(1, 21):  # the least opacity that gives every pixel enough contrast
            opacity = step / 20
            blended = behind_f * (1 - opacity) + np.asarray(panel, dtype=np.float64) * opacity
            contrast = float(contrast_ratio(colour, np.round(blended).reshape(-1, 3)).min())
            if contrast >= MIN_CONTRAST:
                break
        overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        ImageDraw.Draw(overlay).rounded_rectangle(
            box, radius=pad, fill=(*panel, round(opacity * 255))
        )
        canvas.paste(Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB"))
    draw = ImageDraw.Draw(canvas)
    face = font(block.size)
    for index, line in enumerate(block.lines):
        line_width = face.getlength(line)
        if align == "center":
            left = x + (width - line_width) / 2
        elif align == "right":
            left = x + width - line_width
        else:
            left = x
        draw.text((left, y + index * block.line_height), line, font=face, fill=colour)
    return Placed(box, colour, round(contrast, 2), opacity)
