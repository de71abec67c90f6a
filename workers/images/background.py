"""Backgrounds for creatives: flat or gradient brand colour, a user's image, or the CPPN.

The CPPN (``exporters.background``) is a coordinates → colour network, so it renders at any
size. Backgrounds are smooth, so it is evaluated at :data:`RENDER_SCALE` of the canvas and
scaled up with bicubic resampling, plus a seeded ±1 level dither against banding; that is
16× fewer network evaluations for no visible loss. Requests of the same size run as one
batch (one ONNX Runtime call per size).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from contentfab.core.manifest import BackgroundGeneration, ModelManifest
from contentfab.workers import runtime

if TYPE_CHECKING:
    import onnxruntime

RGB = tuple[int, int, int]
RENDER_SCALE = 0.25
#: Pattern styles are made calm enough to post on (see :func:`calm`): how much of the pattern
#: survives over the brand's light base colour at the canvas edges (0 = none, 1 = all).
CALM_STRENGTH = {"soft": 0.5, "waves": 0.45, "marble": 0.4, "bold": 0.6}
#: Pattern styles are evaluated on a grid of this short side and blurred: only large shapes.
CALM_GRID = 48


def parse_colour(text: str) -> RGB:
    value = text.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(f"{text!r} is not a colour; write #RRGGBB such as #1c3454")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def studio_palette(palette: Sequence[RGB]) -> list[RGB]:
    """A backdrop palette: the brand's lightest colour and tints of it toward white."""
    light = np.asarray(max(palette, key=lambda c: sum(c)), dtype=np.float64)
    tints = [light + (255.0 - light) * amount for amount in (0.0, 0.35, 0.6, 0.2)]
    return [(round(t[0]), round(t[1]), round(t[2])) for t in tints]


def backdrop_palette(style: str, palette: Sequence[RGB]) -> list[RGB]:
    """The colours the generator mixes for ``style``.

    studio: tints of the lightest brand colour. Pattern styles: the brand colours without the
    darkest one when there are three or more, since the darkest is the ink the text is set in
    (and mixed into the pattern it only greys it).
    """
    if style == "studio":
        return studio_palette(palette)
    if len(palette) >= 3:
        darkest = min(palette, key=sum)
        return [colour for colour in palette if colour != darkest]
    return list(palette)


def flat(size: tuple[int, int], colour: RGB) -> Image.Image:
    return Image.new("RGB", size, colour)


def gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    width, height = size
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return Image.fromarray(np.round(np.broadcast_to(rows, (height, width, 3))).astype(np.uint8))


def from_image(size: tuple[int, int], path: Path) -> Image.Image:
    """A user's background, scaled to cover the canvas and centre-cropped."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    scale = max(size[0] / image.width, size[1] / image.height)
    resized = image.resize(
        (max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


@dataclass(frozen=True)
class BackgroundRequest:
    seed: int
    style: str
    palette: Sequence[RGB]
    width: int
    height: int


class BackgroundGenerator:
    """The exported CPPN, loaded in this process."""

    def __init__(
        self, manifest: ModelManifest, session: onnxruntime.InferenceSession, provider: str
    ) -> None:
        self.manifest = manifest
        self.session = session
        self.provider = provider
        cppn = manifest.section(BackgroundGeneration)
        self.styles: dict[str, list[float]] = cppn.styles
        self.latent_size = cppn.latent_size
        self.palette_size = cppn.palette_size

    @classmethod
    def load(
        cls, model_dir: Path, providers: Sequence[str] = (runtime.CPU,), intra_op_threads: int = 0
    ) -> BackgroundGenerator:
        manifest = ModelManifest.read(Path(model_dir))
        session, provider = runtime.get_session(
            Path(model_dir) / "model.onnx", providers, intra_op_threads
        )
        return cls(manifest, session, provider)

    @property
    def model_info(self) -> dict[str, Any]:
        return {
            "name": self.manifest.name,
            "version": self.manifest.version,
            "sha256": self.manifest.files["model.onnx"],
        }

    def render(
        self, requests: Sequence[BackgroundRequest], scale: float = RENDER_SCALE
    ) -> list[Image.Image]:
        """One image per request, in order; requests of one size share one batched call."""
        unknown = sorted({r.style for r in requests} - set(self.styles))
        if unknown:
            raise ValueError(f"unknown style {unknown[0]!r}; styles: {', '.join(self.styles)}")
        results: list[Image.Image | None] = [None] * len(requests)
        grids = [_grid(r, scale) for r in requests]
        for low, width, height in sorted(set(grids)):
            indices = [i for i, g in enumerate(grids) if g == (low, width, height)]
            batch = [requests[i] for i in indices]
            (pixels,) = self.session.run(
                None,
                {
                    "coords": coordinates(*low),
                    "latent": np.stack([self.latent(r.seed) for r in batch]),
                    "style": np.array([self.styles[r.style] for r in batch], dtype=np.float32),
                    "palette": np.stack([self._palette(r.palette) for r in batch]),
                },
            )
            for index, request, flat_pixels in zip(indices, batch, pixels, strict=True):
                small = np.asarray(flat_pixels).reshape(low[1], low[0], 3)
                if request.style in CALM_STRENGTH:
                    small = calm(small, request.palette, CALM_STRENGTH[request.style])
                results[index] = _finish(small, (width, height), request.seed)
        return [image for image in results if image is not None]

    def latent(self, seed: int) -> npt.NDArray[np.float32]:
        return np.random.default_rng(seed).standard_normal(self.latent_size).astype(np.float32)

    def _palette(self, colours: Sequence[RGB]) -> npt.NDArray[np.float32]:
        if not colours:
            raise ValueError("a palette needs at least one colour")
        repeated = [colours[i % len(colours)] for i in range(self.palette_size)]
        return np.asarray(repeated, dtype=np.float32) / 255.0


def _grid(request: BackgroundRequest, scale: float) -> tuple[tuple[int, int], int, int]:
    width, height = request.width, request.height
    if request.style in CALM_STRENGTH:
        factor = CALM_GRID / min(width, height)
        return (max(2, round(width * factor)), max(2, round(height * factor))), width, height
    return (max(2, round(width * scale)), max(2, round(height * scale))), width, height


def calm(
    small: npt.NDArray[np.float32], palette: Sequence[RGB], strength: float
) -> npt.NDArray[np.float32]:
    """A pattern toned down to a backdrop a creative can carry text and a product on.

    Three things make a CPPN pattern postable: only large shapes (a Gaussian blur over a
    tenth of the short side), muted toward the brand's lightest colour (the pattern keeps
    ``strength`` of its distance from it), and a clear middle where the product and the text
    sit (the pattern fades in toward the edges only). Every output colour is still a mix of
    brand colours.
    """
    from scipy.ndimage import gaussian_filter

    height, width = small.shape[:2]
    sigma = 0.1 * min(width, height)
    blurred = np.stack(
        [gaussian_filter(small[..., c], sigma, mode="reflect") for c in range(3)], axis=2
    )
    base = np.asarray(max(palette, key=sum), dtype=np.float32) / 255.0
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x = (xs + 0.5) / width * 2 - 1
    y = (ys + 0.5) / height * 2 - 1
    edge = np.clip((np.hypot(x, y) - 0.55) / 0.75, 0.0, 1.0)
    keep = strength * (0.2 + 0.8 * edge * edge * (3 - 2 * edge))  # smoothstep
    result: npt.NDArray[np.float32] = (base + (blurred - base) * keep[..., None]).astype(np.float32)
    return result


def coordinates(width: int, height: int) -> npt.NDArray[np.float32]:
    """Pixel centres as (x, y, r), the short side spanning [-1, 1], so shapes keep proportions."""
    short = min(width, height)
    xs = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / (short / 2)
    ys = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / (short / 2)
    x, y = np.meshgrid(xs, ys)
    return np.stack([x.ravel(), y.ravel(), np.hypot(x, y).ravel()], axis=1).astype(np.float32)


def _finish(small: npt.NDArray[np.float32], size: tuple[int, int], seed: int) -> Image.Image:
    channels = [
        Image.fromarray(small[..., c].astype(np.float32), "F").resize(
            size, Image.Resampling.BICUBIC
        )
        for c in range(3)
    ]
    full = np.stack([np.asarray(c) for c in channels], axis=2) * 255.0
    digest = hashlib.sha256(f"dither\x1f{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    full += rng.uniform(-1.0, 1.0, full.shape[:2])[..., None]
    return Image.fromarray(np.clip(np.round(full), 0, 255).astype(np.uint8))
