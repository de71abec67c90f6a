"""Lay a creative out: product cut-out, contact shadow, headline, price badge, brand mark.

Pure functions over PIL images. The product is scaled (premultiplied, so the old backdrop
never bleeds into its edge) to fit its area inside the format's safe zone and composited with
its matte, so wherever the matte is fully opaque the output pixel *is* the product pixel (bit
for bit at scale 1, up to resampling otherwise). Every piece of text goes through
:func:`workers.images.text.draw_text`, which guarantees WCAG contrast ≥ 4.5:1. A product
without a photo becomes a typographic card: background, name, headline, price.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

from contentfab.core.formats import ENCODINGS, Format
from contentfab.workers.images.text import (
    INK,
    RGB,
    WHITE,
    Placed,
    contrast_ratio,
    draw_text,
    fit_text,
    font,
    has_glyph,
    relative_luminance,
)

CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@dataclass(frozen=True)
class Cutout:
    """A product photo and its matte (both at the photo's size)."""

    rgb: npt.NDArray[np.uint8]
    alpha: npt.NDArray[np.float32]

    def rgba(self) -> Image.Image:
        """The product trimmed to its matte's bounding box, as an RGBA image."""
        alpha8 = np.round(np.clip(self.alpha, 0, 1) * 255).astype(np.uint8)
        image = Image.fromarray(np.dstack([self.rgb, alpha8]), "RGBA")
        box = Image.fromarray(alpha8).point(lambda v: 255 if v > 4 else 0).getbbox()
        return image.crop(box) if box else image


@dataclass(frozen=True)
class CreativeText:
    title: str
    headline: str | None = None
    price: str | None = None  # already formatted, e.g. "€49.90"
    brand: str | None = None


@dataclass
class Creative:
    image: Image.Image
    layout: dict[str, Any] = field(default_factory=dict)


def format_price(amount: str | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    if "." in amount:
        whole, _, cents = amount.partition(".")
        amount = f"{whole}.{(cents + '00')[:2]}" if cents.strip("0") else whole
    sign = CURRENCY_SIGNS.get(currency or "")
    if sign and has_glyph(sign):
        return f"{sign}{amount}"
    return f"{amount} {currency}" if currency else amount


def compose(
    background: Image.Image,
    cutout: Cutout | None,
    text: CreativeText,
    fmt: Format,
    *,
    palette: list[RGB],
    logo: Image.Image | None = None,
) -> Creative:
    """One creative in ``fmt`` on ``background`` (already at the format's size)."""
    if background.size != (fmt.width, fmt.height):
        raise ValueError(f"background is {background.size}, format {fmt.name} needs "
                         f"{(fmt.width, fmt.height)}")  # fmt: skip
    canvas = background.convert("RGB").copy()
    left, top, right, bottom = fmt.safe_box
    layout: dict[str, Any] = {"safe_box": [left, top, right, bottom]}
    ink = _darkest(palette)
    accent = _accent(palette)
    landscape = fmt.width > 1.3 * fmt.height
    unit = min(fmt.width, fmt.height)

    if landscape:
        text_box = (left, top, left + round((right - left) * 0.44), bottom)
        product_box = (text_box[2] + unit // 30, top, right, bottom)
    else:
        band = round((bottom - top) * (0.22 if text.headline or cutout is None else 0.0))
        text_box = (left, top, right, top + band)
        product_box = (left, top + band, right, bottom - round(unit * 0.09))

    if cutout is None:
        layout.update(_card(canvas, text, fmt, ink))
    else:
        layout["product_box"] = _place_product(canvas, cutout, product_box)
        if text.headline:
            placed = _text_in(canvas, text.headline, text_box, unit, ink, landscape)
            if placed is not None:
                layout["headline"] = _placed(placed)
    if text.price:
        card_text = layout.get("headline", layout.get("title"))
        if cutout is None and card_text is not None:
            layout["price_badge"] = _price_badge(
                canvas, text.price, card_text["box"], fmt, accent, anchor_below=True
            )
        else:
            anchor = layout.get("product_box") or list(product_box)
            layout["price_badge"] = _price_badge(canvas, text.price, anchor, fmt, accent)
    layout.update(_brand_mark(canvas, text.brand, logo, fmt, ink))
    return Creative(canvas, layout)


def encode(image: Image.Image, encoding: str, *, quality: int = 90) -> bytes:
    """The creative as PNG, JPEG or WebP bytes, deterministic for the same pixels."""
    buffer = io.BytesIO()
    kind = ENCODINGS[encoding]
    if kind == "PNG":
        image.save(buffer, kind, optimize=False, compress_level=6)
    elif kind == "JPEG":
        image.convert("RGB").save(buffer, kind, quality=quality, subsampling=0, optimize=True)
    else:
        image.save(buffer, kind, quality=quality, method=4)
    return buffer.getvalue()


# --- pieces ----------------------------------------------------------------------------------


def scale_to_fit(size: tuple[int, int], box: tuple[int, int]) -> float:
    return min(box[0] / size[0], box[1] / size[1])


def _place_product(
    canvas: Image.Image, cutout: Cutout, area: tuple[int, int, int, int]
) -> list[int]:
    product = cutout.rgba()
    area_w, area_h = area[2] - area[0], area[3] - area[1]
    # Room for the contact shadow under the product, and air around it.
    scale = scale_to_fit(product.size, (round(area_w * 0.9), round(area_h * 0.86)))
    # Within 2% of its own size the product is pasted as is: resampling by 1.01 would soften
    # every pixel for no visible gain in size.
    if abs(scale - 1.0) > 0.02:
        size = (max(1, round(product.width * scale)), max(1, round(product.height * scale)))
        product = product.resize(size, Image.Resampling.LANCZOS)  # premultiplies RGBA
    x = area[0] + (area_w - product.width) // 2
    y = area[0 + 1] + round((area_h - product.height) * 0.45)
    _contact_shadow(canvas, product, (x, y))
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    layer.paste(product, (x, y))
    canvas.paste(Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB"))
    return [x, y, x + product.width, y + product.height]


def _contact_shadow(canvas: Image.Image, product: Image.Image, origin: tuple[int, int]) -> None:
    """A soft ellipse under the product's base plus a faint blurred silhouette behind it."""
    x, y = origin
    width, height = product.size
    shade = Image.new("L", canvas.size, 0)
    draw = ImageDraw.Draw(shade)
    base_y = y + height - max(6.0, width * 0.045) * 0.4  # under the base, not below it
    spread = width * 0.42
    depth = max(6.0, width * 0.045)
    centre = x + width / 2
    draw.ellipse((centre - spread, base_y - depth, centre + spread, base_y + depth), fill=150)
    shade = shade.filter(ImageFilter.GaussianBlur(max(4.0, width * 0.035)))
    silhouette = Image.new("L", canvas.size, 0)
    silhouette.paste(
        product.getchannel("A").point(lambda v: v * 45 // 255), (x, y + round(height * 0.015))
    )
    silhouette = silhouette.filter(ImageFilter.GaussianBlur(max(3.0, width * 0.02)))
    darkness = np.maximum(np.asarray(shade), np.asarray(silhouette)).astype(np.float32) / 255.0
    pixels = np.asarray(canvas, dtype=np.float32)
    shaded = pixels * (1.0 - 0.6 * darkness[..., None])
    canvas.paste(Image.fromarray(np.round(shaded).astype(np.uint8)))


def _text_in(
    canvas: Image.Image,
    words: str,
    box: tuple[int, int, int, int],
    unit: int,
    ink: RGB,
    landscape: bool,
    *,
    scale: float = 0.075,
    max_lines: int = 3,
) -> Placed | None:
    width, height = box[2] - box[0], box[3] - box[1]
    block = fit_text(words, width, height, max_size=round(unit * scale), max_lines=max_lines)
    if block is None:
        return None
    if landscape:
        origin = (box[0], box[1] + (height - block.height) // 2)
        return draw_text(canvas, block, origin, align="left", box_width=width, preferred=ink)
    origin = (box[0], box[1] + (height - block.height) // 2)
    return draw_text(canvas, block, origin, align="center", box_width=width, preferred=ink)


def _card(canvas: Image.Image, text: CreativeText, fmt: Format, ink: RGB) -> dict[str, Any]:
    left, top, right, bottom = fmt.safe_box
    unit = min(fmt.width, fmt.height)
    height = bottom - top
    layout: dict[str, Any] = {}
    title_box = (left, top + round(height * 0.18), right, top + round(height * 0.5))
    placed = _text_in(canvas, text.title, title_box, unit, ink, False, scale=0.11, max_lines=4)
    if placed is not None:
        layout["title"] = _placed(placed)
        layout["title_box"] = list(placed.box)
    if text.headline:
        headline_box = (left, top + round(height * 0.53), right, top + round(height * 0.72))
        placed = _text_in(canvas, text.headline, headline_box, unit, ink, False, scale=0.055)
        if placed is not None:
            layout["headline"] = _placed(placed)
    layout["card"] = True
    return layout


def _price_badge(
    canvas: Image.Image,
    price: str,
    anchor: list[int],
    fmt: Format,
    accent: RGB,
    *,
    anchor_below: bool = False,
) -> dict[str, Any]:
    """A pill in the brand accent at the product's top-right (or centred below a card's text)."""
    unit = min(fmt.width, fmt.height)
    size = round(unit * 0.055)
    face = font(size)
    text_width = face.getlength(price)
    pad_x, pad_y = round(size * 0.7), round(size * 0.45)
    width, height = round(text_width + 2 * pad_x), round(size * 1.2 + 2 * pad_y)
    left, top, right, bottom = fmt.safe_box
    x = min(anchor[2] - width // 2, right - width)
    y = max(anchor[1] - height // 3, top)
    x, y = max(x, left), min(y, bottom - height)
    if anchor_below:
        x = (fmt.width - width) // 2
        y = min(anchor[3] + round(unit * 0.03), bottom - height)
    fill, colour = _badge_colours(accent)
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((x, y, x + width, y + height), radius=height // 2, fill=fill)
    draw.text((x + pad_x, y + pad_y), price, font=face, fill=colour)
    return {
        "box": [x, y, x + width, y + height],
        "colour": list(colour),
        "fill": list(fill),
        "contrast": round(float(contrast_ratio(colour, fill)), 2),
    }


def _badge_colours(accent: RGB) -> tuple[RGB, RGB]:
    """The accent as badge fill and the text colour for it, darkened or lightened to 4.5:1."""
    fill = np.asarray(accent, dtype=np.float64)
    for _ in range(20):
        fill_rgb: RGB = (int(fill[0]), int(fill[1]), int(fill[2]))
        colour = max((WHITE, INK), key=lambda c: float(contrast_ratio(c, fill_rgb)))
        if float(contrast_ratio(colour, fill_rgb)) >= 4.5:
            return fill_rgb, colour
        fill = fill * 0.85 if colour == WHITE else fill + (255 - fill) * 0.2
    return (0, 0, 0), WHITE


def _brand_mark(
    canvas: Image.Image, brand: str | None, logo: Image.Image | None, fmt: Format, ink: RGB
) -> dict[str, Any]:
    left, _, right, bottom = fmt.safe_box
    unit = min(fmt.width, fmt.height)
    height = round(unit * 0.06)
    if logo is not None:
        scale = height / logo.height
        mark = logo.convert("RGBA").resize(
            (max(1, round(logo.width * scale)), height), Image.Resampling.LANCZOS
        )
        mark.thumbnail(((right - left) // 3, height))
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        layer.paste(mark, (left, bottom - mark.height))
        canvas.paste(Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB"))
        return {"logo": [left, bottom - mark.height, left + mark.width, bottom]}
    if not brand:
        return {}
    block = fit_text(
        brand.upper(), (right - left) // 2, height, max_size=round(unit * 0.032), max_lines=1
    )
    if block is None:
        return {}
    placed = draw_text(canvas, block, (left, bottom - block.height), align="left", preferred=ink)
    return {"brand": _placed(placed)}


def _placed(placed: Placed) -> dict[str, Any]:
    return {
        "box": list(placed.box),
        "colour": list(placed.colour),
        "contrast": placed.contrast,
        "scrim": placed.scrim_opacity,
    }


def _darkest(palette: list[RGB]) -> RGB:
    return min(palette, key=lambda c: float(relative_luminance(c)))


def _accent(palette: list[RGB]) -> RGB:
    def saturation(colour: RGB) -> float:
        return float(max(colour) - min(colour))

    return max(palette, key=saturation)
