"""Cut the product out of its photo: an alpha matte, by a classical studio method or an ONNX model.

The default, :func:`studio_matte`, is made for packshots on a plain or near-plain backdrop:

1. model the backdrop from the photo's border as a smooth colour field (a quadratic surface per
   channel, fitted robustly so an object touching the border does not bend it), which follows
   sweeps, gradients and vignetting;
2. call a pixel *object* where it differs from that field by clearly more than the border's
   noise — unless it looks like a *shadow*: darker than the backdrop by a factor, with the
   backdrop's chromaticity;
3. add *sharp* edges — where the gradient at a fine scale is well above the gradient at a
   coarse scale, which holds for an object's silhouette but not for a soft studio shadow —
   so that a neutral object that reads as "shadow-like" colour-wise is still outlined;
4. close small gaps, fill the enclosed interior, drop specks, reopen holes that show the
   backdrop exactly (a mug's handle), and anti-alias the edge.

It runs at a working resolution of at most :data:`WORK_SIDE` pixels (thresholds are in those
pixel units) and scales the matte back up. :func:`onnx_matte` runs a salient-object model with
the input/output conventions of U²-Net / ISNet / BiRefNet instead (see its docstring).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage

from contentfab.workers import runtime

FloatArray = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

WORK_SIDE = 640
STUDIO_METHOD = "studio-backdrop-v1"
BORDER_TOLERANCE = 0.06  # colour distance in [0, 1] RGB: a backdrop pixel, noise and all
CLOSING_RADIUS = 5  # working pixels; bridges breaks in an outline where its contrast dips
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Matte:
    """An alpha matte in [0, 1] at the photo's size, and how it was made."""

    alpha: FloatArray
    method: str
    meta: dict[str, Any] = field(default_factory=dict)
    # A model's own map at its input resolution, before the resize to the photo (refinement
    # starts from it); None for the studio matte.
    coarse: FloatArray | None = None

    @property
    def mask(self) -> Mask:
        return self.alpha >= 0.5


def iou(predicted: Mask, truth: Mask) -> float:
    union = np.logical_or(predicted, truth).sum()
    return float(np.logical_and(predicted, truth).sum() / union) if union else 1.0


def studio_matte(rgb: npt.NDArray[np.uint8]) -> Matte:
    """The classical matte of a studio packshot (see the module docstring)."""
    started = time.perf_counter()
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    work = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
    image = work.astype(np.float32) / 255.0
    backdrop, noise, border_fit = _fit_backdrop(image)
    mask = _object_mask(image, backdrop, noise)
    alpha = mask.astype(np.float32)
    # Anti-alias: the working mask is binary; a half-pixel blur gives the edge a ramp.
    alpha = ndimage.gaussian_filter(alpha, 0.7)
    if scale < 1.0:
        alpha = np.asarray(
            Image.fromarray(alpha).resize((width, height), Image.Resampling.BILINEAR)
        )
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    coverage = float(mask.mean())
    return Matte(
        alpha,
        STUDIO_METHOD,
        {
            "noise": round(float(noise), 5),
            "border_fit": round(border_fit, 4),
            "coverage": round(coverage, 4),
            "work_scale": round(scale, 4),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def _fit_backdrop(image: FloatArray) -> tuple[FloatArray, float, float]:
    """A quadratic colour surface fitted to the border, the border's noise level, and the share
    of the border within a fixed tolerance (:data:`BORDER_TOLERANCE`) of that surface."""
    height, width = image.shape[:2]
    band = max(4, round(0.03 * min(height, width)))
    border = np.zeros((height, width), dtype=bool)
    border[:band, :] = border[-band:, :] = True
    border[:, :band] = border[:, -band:] = True
    ys, xs = np.nonzero(border)
    if ys.size > 20000:  # a regular subsample is plenty for six coefficients per channel
        step = ys.size // 20000 + 1
        ys, xs = ys[::step], xs[::step]
    design = _design(xs, ys, width, height)
    values = image[ys, xs]
    keep = np.ones(len(values), dtype=bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = np.linalg.norm(values - design @ coef, axis=1)
        spread = 1.4826 * float(np.median(residual[keep])) + 1e-4
        keep = residual <= max(3.0 * spread, 0.02)
    noise = max(1.4826 * float(np.median(np.abs(values[keep] - design[keep] @ coef))), 1.5 / 255)
    # The adaptive cut above keeps most of a busy border too; a fixed one says how much of the
    # border really is one smooth backdrop.
    border_fit = float(np.mean(residual <= BORDER_TOLERANCE))
    grid_y, grid_x = np.mgrid[0:height, 0:width]
    full = _design(grid_x.ravel(), grid_y.ravel(), width, height) @ coef
    return full.reshape(height, width, 3).astype(np.float32), noise, border_fit


def _design(
    xs: npt.NDArray[np.intp], ys: npt.NDArray[np.intp], width: int, height: int
) -> FloatArray:
    u = xs.astype(np.float32) / max(width - 1, 1) * 2 - 1
    v = ys.astype(np.float32) / max(height - 1, 1) * 2 - 1
    return np.stack([np.ones_like(u), u, v, u * u, v * v, u * v], axis=1)


def _object_mask(image: FloatArray, backdrop: FloatArray, noise: float) -> Mask:
    height, width = image.shape[:2]
    difference = np.linalg.norm(image - backdrop, axis=2)
    luma, luma_bg = image @ _LUMA, np.maximum(backdrop @ _LUMA, 1e-3)
    ratio = luma / luma_bg
    chroma = image / np.maximum(image.sum(axis=2, keepdims=True), 1e-3)
    chroma_bg = backdrop / np.maximum(backdrop.sum(axis=2, keepdims=True), 1e-3)
    chroma_shift = np.linalg.norm(chroma - chroma_bg, axis=2)
    # A shadow darkens the backdrop without changing its colour; noise moves chromaticity
    # more in dark pixels, hence the luma-scaled tolerance.
    tolerance = 0.01 + 1.7 * noise / np.maximum(luma, 0.05)
    shadow_like = (ratio > 0.3) & (ratio < 1.02) & (chroma_shift < tolerance)
    strong = (difference > max(8 * noise, 0.06)) & ~shadow_like

    colour = [ndimage.gaussian_filter(image[..., c], 0.8) for c in range(3)]
    fine = np.max([_gradient(c) for c in colour], axis=0)
    coarse = np.max([_gradient(ndimage.gaussian_filter(c, 3.0)) for c in colour], axis=0)
    fine_noise = float(np.median(fine[:8, :])) + 1e-4
    # A step is ~3.8x steeper at the fine scale than at the coarse one; a soft ramp is not.
    sharp = (fine > max(6 * fine_noise, 0.025)) & (fine > 1.6 * coarse)

    seed = strong | sharp
    seed = ndimage.binary_closing(seed, structure=_disk(CLOSING_RADIUS), border_value=0)
    changed = difference > max(3 * noise, 0.03)
    filled = _fill_outlines(seed, changed)
    filled = ndimage.binary_opening(filled, structure=_disk(1))
    filled = _drop_specks(filled, min_fraction=0.002)

    # Holes that show the backdrop itself (a handle, a ring) are opened again.
    # A cast shadow may darken the hole a little, but far less than a neutral object would.
    backdrop_like = (
        ((difference < max(3 * noise, 0.03)) | (shadow_like & (ratio > 0.88)))
        & filled
        & ~ndimage.binary_dilation(sharp, _disk(1))
    )
    holes = _drop_specks(ndimage.binary_opening(backdrop_like, _disk(2)), min_fraction=0.002)
    filled &= ~holes
    # The edge band: the closing and fill can push the silhouette out by a pixel.
    return np.asarray(filled, dtype=bool).reshape(height, width)


def _fill_outlines(seed: Mask, changed: Mask) -> Mask:
    """Fill each outline. An outline left open — where an object meets its own contact shadow
    in the same colour there is no edge — is closed by its convex hull, cut back to the pixels
    that differ from the backdrop at all."""
    filled = np.asarray(ndimage.binary_fill_holes(seed), dtype=bool)
    labels, _ = ndimage.label(seed)
    height, width = seed.shape
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        box_area = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
        outline = labels[box] == index
        if box_area < 0.01 * height * width:
            continue
        hull = _convex_hull(outline)
        inside = ndimage.binary_fill_holes(outline)
        if inside.sum() > 0.4 * hull.sum():
            continue  # a solid region or a closed outline: the plain fill has it
        filled[box] |= hull & changed[box]
    return filled


def _convex_hull(mask: Mask) -> Mask:
    from scipy.spatial import ConvexHull, QhullError

    ys, xs = np.nonzero(mask)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        return mask
    canvas = Image.new("L", (mask.shape[1], mask.shape[0]), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(canvas).polygon([tuple(points[v]) for v in hull.vertices], fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)


def _gradient(channel: FloatArray) -> FloatArray:
    gy, gx = np.gradient(channel)
    return np.asarray(np.hypot(gx, gy), dtype=np.float32)


def _disk(radius: int) -> Mask:
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return np.asarray(x * x + y * y <= radius * radius + radius, dtype=bool)


def _drop_specks(mask: Mask, min_fraction: float) -> Mask:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= max(16, min_fraction * mask.size)
    return np.asarray(keep[labels], dtype=bool)


# --- the pluggable ONNX slot -----------------------------------------------------------------


def onnx_matte(
    rgb: npt.NDArray[np.uint8],
    model_path: Path,
    *,
    providers: list[str] | None = None,
    size: int | None = None,
    name: str | None = None,
) -> Matte:
    """Alpha from a salient-object ONNX model with the U²-Net / ISNet / BiRefNet conventions.

    Those files (what rembg keeps in ``~/.u2net``) take one float input ``[1, 3, S, S]``, the
    RGB image resized to S×S (320 for U²-Net, 1024 for ISNet/BiRefNet), scaled to [0, 1] and
    normalised with ImageNet mean/std, and return one or more ``[1, 1, S, S]`` maps of which
    the first is the saliency (already through a sigmoid for U²-Net/ISNet, logits for
    BiRefNet). As rembg does, the first output is min-max normalised to [0, 1] and resized back
    to the photo's size. S comes from the model's input shape when it is fixed. The method is
    ``onnx:<name>``, the file's name unless ``name`` (a model-store name) is given.
    """
    started = time.perf_counter()
    session, provider = runtime.get_session(model_path, providers or [runtime.CPU])
    (model_input,) = session.get_inputs()
    shape = model_input.shape
    side = size or (shape[2] if isinstance(shape[2], int) else 320)
    height, width = rgb.shape[:2]
    resized = np.asarray(
        Image.fromarray(rgb).resize((side, side), Image.Resampling.LANCZOS), dtype=np.float32
    )
    resized = resized / max(float(resized.max()), 1e-6)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    tensor = ((resized - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    outputs = session.run(None, {model_input.name: tensor})
    saliency = np.asarray(outputs[0], dtype=np.float32).reshape(side, side)
    low, high = float(saliency.min()), float(saliency.max())
    saliency = (saliency - low) / (high - low) if high > low else np.zeros_like(saliency)
    alpha = np.asarray(
        Image.fromarray(saliency).resize((width, height), Image.Resampling.BILINEAR),
        dtype=np.float32,
    )
    return Matte(
        np.clip(alpha, 0.0, 1.0),
        f"onnx:{name or Path(model_path).name}",
        {
            "input_side": side,
            "device": provider,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
        coarse=saliency,
    )
