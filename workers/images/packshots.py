"""Synthetic studio packshots with known masks, for the matte tests and the image benchmark.

Each packshot is a product-like object (ellipse, box, bottle, mug with a handle, ring, star,
sneaker-like blob) with a flat, shaded, striped, checked or grainy surface, on a studio-like
backdrop (white, grey or pastel sweep with a gradient and vignette), with a soft contact shadow
and often a soft cast shadow, sensor noise, and sometimes JPEG compression. Shapes are drawn
at 4× and reduced, so edges are anti-aliased like a real photo's; the true mask is that
coverage at ≥ 0.5. Everything is seeded: the same seed gives the same image and mask.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

SHAPES = ("ellipse", "box", "bottle", "mug", "ring", "star", "sneaker")
SURFACES = ("flat", "shaded", "stripes", "checks", "grain")
BACKDROPS = ("white", "grey", "pastel")
SUPERSAMPLE = 4


@dataclass(frozen=True)
class Packshot:
    rgb: npt.NDArray[np.uint8]  # H×W×3
    mask: npt.NDArray[np.bool_]  # H×W, the object's true coverage ≥ 0.5
    coverage: npt.NDArray[np.float32]  # H×W in [0, 1], anti-aliased
    shape: str
    surface: str
    backdrop: str


def packshot(seed: int, size: tuple[int, int] = (640, 640)) -> Packshot:
    rng = np.random.default_rng(seed)
    width, height = size
    shape = SHAPES[seed % len(SHAPES)]
    surface = SURFACES[(seed // len(SHAPES)) % len(SURFACES)]
    backdrop = BACKDROPS[int(rng.integers(len(BACKDROPS)))]

    coverage, box = _shape_coverage(shape, width, height, rng)
    background = _backdrop(backdrop, width, height, rng)
    shadow = _shadows(coverage, box, width, height, rng)
    background = background * shadow[..., None]
    colour = _object_colour(rng, background[height // 2, width // 2])
    surface_rgb = _surface(surface, colour, width, height, rng)
    alpha = coverage[..., None]
    image = surface_rgb * alpha + background * (1.0 - alpha)
    image += rng.normal(0.0, rng.uniform(1.0, 4.0) / 255.0, image.shape)
    rgb = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", quality=int(rng.integers(85, 96)))
        rgb = np.asarray(Image.open(buffer).convert("RGB"))
    return Packshot(rgb, coverage >= 0.5, coverage, shape, surface, backdrop)


def packshot_set(count: int, size: tuple[int, int] = (640, 640)) -> list[Packshot]:
    return [packshot(seed, size) for seed in range(count)]


def _shape_coverage(
    shape: str, width: int, height: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float32], tuple[float, float, float, float]]:
    s = SUPERSAMPLE
    canvas = Image.new("L", (width * s, height * s), 0)
    draw = ImageDraw.Draw(canvas)
    w = rng.uniform(0.3, 0.6) * width * s
    h = rng.uniform(0.35, 0.7) * height * s
    cx = width * s * rng.uniform(0.4, 0.6)
    bottom = height * s * rng.uniform(0.78, 0.9)
    left, top, right = cx - w / 2, bottom - h, cx + w / 2
    if shape == "ellipse":
        draw.ellipse((left, top, right, bottom), fill=255)
    elif shape == "box":
        draw.rounded_rectangle((left, top, right, bottom), radius=int(0.08 * w), fill=255)
    elif shape == "bottle":
        neck = w * 0.3
        body_top = top + h * 0.35
        draw.rounded_rectangle((left, body_top, right, bottom), radius=int(0.15 * w), fill=255)
        draw.polygon(
            [(left, body_top + w * 0.15), (cx - neck / 2, top + h * 0.15),
             (cx + neck / 2, top + h * 0.15), (right, body_top + w * 0.15)],
            fill=255,
        )  # fmt: skip
        draw.rectangle((cx - neck / 2, top, cx + neck / 2, top + h * 0.2), fill=255)
    elif shape == "mug":
        body_right = left + w * 0.72
        draw.rounded_rectangle((left, top, body_right, bottom), radius=int(0.05 * w), fill=255)
        handle = (body_right - w * 0.12, top + h * 0.2, right, top + h * 0.7)
        draw.ellipse(handle, fill=255)
        inset = w * 0.08
        draw.ellipse(
            (handle[0] + inset, handle[1] + inset, handle[2] - inset, handle[3] - inset), fill=0
        )
        draw.rectangle((left, top, body_right, bottom), fill=255)
    elif shape == "ring":
        side = min(w, h)
        left, top = cx - side / 2, bottom - side
        right = cx + side / 2
        draw.ellipse((left, top, right, bottom), fill=255)
        hole = side * rng.uniform(0.2, 0.3)
        draw.ellipse((left + hole, top + hole, right - hole, bottom - hole), fill=0)
    elif shape == "star":
        points = int(rng.integers(5, 9))
        radius_out, radius_in = min(w, h) / 2, min(w, h) / 2 * rng.uniform(0.45, 0.7)
        cy = bottom - min(w, h) / 2
        vertices = []
        for i in range(points * 2):
            angle = math.pi * i / points - math.pi / 2
            radius = radius_out if i % 2 == 0 else radius_in
            vertices.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        draw.polygon(vertices, fill=255)
        top, bottom = cy - radius_out, cy + radius_out
    else:  # sneaker: a low, long blob with a sole
        h = h * 0.45
        top = bottom - h
        draw.ellipse((left, top, left + w * 0.6, bottom), fill=255)
        draw.rounded_rectangle(
            (left + w * 0.2, top + h * 0.35, right, bottom), radius=int(h * 0.3), fill=255
        )
        draw.rectangle((left + w * 0.05, bottom - h * 0.15, right - w * 0.02, bottom), fill=255)
    reduced = canvas.resize((width, height), Image.Resampling.BOX)
    coverage = np.asarray(reduced, dtype=np.float32) / 255.0
    return coverage, (left / s, top / s, right / s, bottom / s)


def _backdrop(
    kind: str, width: int, height: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    if kind == "white":
        base = np.full(3, rng.uniform(0.93, 1.0))
    elif kind == "grey":
        base = np.full(3, rng.uniform(0.7, 0.9)) + rng.uniform(-0.02, 0.02, 3)
    else:
        hue = rng.uniform(0, 1)
        base = 0.85 + 0.1 * np.cos(2 * math.pi * (hue + np.array([0.0, 1 / 3, 2 / 3])))
    y = np.linspace(-1.0, 1.0, height)[:, None]
    x = np.linspace(-1.0, 1.0, width)[None, :]
    sweep = 1.0 + rng.uniform(-0.06, 0.06) * y
    vignette = 1.0 - rng.uniform(0.0, 0.08) * (x**2 + y**2) / 2
    return np.clip(base[None, None, :] * (sweep * vignette)[..., None], 0.0, 1.0)


def _shadows(
    coverage: npt.NDArray[np.float32],
    box: tuple[float, float, float, float],
    width: int,
    height: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """A multiplicative darkening: contact shadow under the object, often a soft cast shadow."""
    left, _, right, bottom = box
    layer = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(layer)
    spread = (right - left) * rng.uniform(0.5, 0.65)
    centre = (left + right) / 2
    depth = (right - left) * rng.uniform(0.05, 0.1)
    draw.ellipse((centre - spread, bottom - depth, centre + spread, bottom + depth), fill=255)
    blur = max(3.0, min(width, height) * rng.uniform(0.015, 0.03))
    contact = np.asarray(layer.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float64) / 255.0
    darkness = contact * rng.uniform(0.3, 0.6)
    if rng.random() < 0.6:
        cast = Image.fromarray((coverage * 255).astype(np.uint8))
        dx, dy = int(rng.uniform(-0.08, 0.08) * width), int(rng.uniform(0.0, 0.04) * height)
        cast = cast.transform(cast.size, Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy))
        soft = cast.filter(ImageFilter.GaussianBlur(min(width, height) * rng.uniform(0.03, 0.06)))
        darkness = np.maximum(
            darkness, np.asarray(soft, dtype=np.float64) / 255.0 * rng.uniform(0.1, 0.3)
        )
    return 1.0 - darkness


def _object_colour(
    rng: np.random.Generator, backdrop: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    kind = rng.random()
    if kind < 0.5:  # saturated
        hue = rng.uniform(0, 1)
        colour = 0.5 + 0.4 * np.cos(2 * math.pi * (hue + np.array([0.0, 1 / 3, 2 / 3])))
        return colour * rng.uniform(0.5, 1.0)
    if kind < 0.75:  # dark or mid neutral
        return np.full(3, rng.uniform(0.08, 0.55)) + rng.uniform(-0.02, 0.02, 3)
    # light neutral, clearly apart from the backdrop
    level = float(backdrop.mean()) - rng.uniform(0.15, 0.3)
    return np.full(3, max(level, 0.3)) + rng.uniform(-0.02, 0.02, 3)


def _surface(
    kind: str, colour: npt.NDArray[np.float64], width: int, height: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    base = np.broadcast_to(colour, (height, width, 3)).astype(np.float64)
    if kind == "shaded":
        base = base * (1.15 - 0.3 * (0.6 * x + 0.4 * y))
    elif kind == "stripes":
        period = rng.uniform(0.03, 0.08)
        other = 1.0 - colour * 0.8
        band = (np.floor((x + 0.3 * y) / period) % 2).astype(np.float64)
        base = base * (1 - band) + other * band
    elif kind == "checks":
        cell = rng.uniform(0.04, 0.1)
        band = ((np.floor(x / cell) + np.floor(y / cell)) % 2).astype(np.float64)
        base = base * (1 - 0.35 * band)
    elif kind == "grain":
        base = base + rng.normal(0.0, 0.06, (height, width, 1))
    return np.clip(base, 0.0, 1.0)
