"""Ideas measured against u2netp + guided filter on real photos (issue #20, round 3); none is used
by the pipeline.

``python -m bench.images --matte-only --matte-experiments ...`` adds each as a row of the matte
comparison, every one a photo → alpha function over the same photos in the same process:

* ``u2netp+colour+guided`` — :func:`colour_reweighted`: a colour model of the photo, learnt from
  the map's confident inside and outside, moves the map's uncertain pixels before the guided
  filter (numpy only, ~10 ms);
* ``u2netp+grabcut`` — OpenCV's GrabCut seeded by the map (confident inside and outside fixed,
  the rest "probably" by the 0.5 cut); only where ``cv2`` is importable, which contentfab does not
  depend on;
* ``u2netp+zoom`` — a second u2netp pass on the crop around the first mask (a quarter of its size
  added on each side), which sees the product at a higher resolution;
* ``u2netp|u2net+guided`` — the pixelwise larger of the two models' maps, refined (u2net finds
  parts that u2netp misses on some photos and loses whole products on others).

Other ideas were measured by ad hoc scripts over the same photos and references (numbers in
BENCHMARKS.md) and are not kept here: u2netp's six side outputs, input sides 256–384 and their
average, a 2 × 2 tiling joined to the mask it touches, superpixel (SLIC) snapping and closing
the gap between a mask and the photo's frame.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage

from contentfab.exporters import ModelStore
from contentfab.workers.images.matte import FloatArray, onnx_matte
from contentfab.workers.images.matte_choice import refine_alpha

Alpha = Callable[[Any], FloatArray]
# The colour model: RGB histograms of BINS³ cells, learnt where the map is above SURE_IN or
# below SURE_OUT, weighted against the map's own log-odds by COLOUR_WEIGHT.
BINS = 16
SURE_IN, SURE_OUT = 0.9, 0.1
COLOUR_WEIGHT = 0.5
ZOOM_MARGIN = 0.25


def experiment_methods(store: ModelStore) -> dict[str, Alpha]:
    """The experiments the store's models allow, by the name of their bench row."""
    if not store.is_valid("u2netp"):
        return {}
    small = store.model_dir("u2netp") / "model.onnx"
    methods: dict[str, Alpha] = {
        "u2netp+colour+guided": lambda rgb: refine_alpha(
            rgb, colour_reweighted(rgb, _coarse(rgb, small))
        ),
        "u2netp+zoom": lambda rgb: zoomed(rgb, small),
    }
    try:
        import cv2  # noqa: F401  # optional: only the bench's GrabCut row needs it
    except ImportError:
        pass
    else:
        methods["u2netp+grabcut"] = lambda rgb: grabcut(rgb, _coarse(rgb, small))
    if store.is_valid("u2net"):
        big = store.model_dir("u2net") / "model.onnx"
        methods["u2netp|u2net+guided"] = lambda rgb: refine_alpha(
            rgb, np.maximum(_coarse(rgb, small), _coarse(rgb, big))
        )
    return methods


def colour_reweighted(rgb: npt.NDArray[np.uint8], coarse: FloatArray) -> FloatArray:
    """The model's map with each pixel's log-odds moved by how much likelier its colour is inside
    the product than outside, both learnt from the map's confident pixels (at the map's size)."""
    height, width = coarse.shape
    small = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BOX))
    cells = small.astype(np.int32) * BINS // 256
    index = (cells[..., 0] * BINS + cells[..., 1]) * BINS + cells[..., 2]
    inside = np.bincount(index[coarse >= SURE_IN], minlength=BINS**3).astype(np.float32)
    outside = np.bincount(index[coarse <= SURE_OUT], minlength=BINS**3).astype(np.float32)
    if not inside.any() or not outside.any():
        return coarse
    cube = (BINS, BINS, BINS)
    inside = ndimage.gaussian_filter(inside.reshape(cube), 1.0).ravel()
    outside = ndimage.gaussian_filter(outside.reshape(cube), 1.0).ravel()
    ratio = np.log((inside / inside.sum() + 1e-6) / (outside / outside.sum() + 1e-6))
    evidence = ndimage.gaussian_filter(ratio[index].astype(np.float32), 0.5)
    clipped = np.clip(coarse, 1e-3, 1 - 1e-3)
    logit = np.log(clipped / (1 - clipped)) + COLOUR_WEIGHT * evidence
    return (1 / (1 + np.exp(-logit))).astype(np.float32)


def grabcut(rgb: npt.NDArray[np.uint8], coarse: FloatArray, iterations: int = 4) -> FloatArray:
    """GrabCut at the photo's size, seeded by the blown-up map: sure inside above
    :data:`SURE_IN`, sure outside below :data:`SURE_OUT`, "probably" by the 0.5 cut between."""
    import cv2

    height, width = rgb.shape[:2]
    mapped = _blown_up(coarse, width, height)
    labels = np.where(mapped >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[mapped >= SURE_IN] = cv2.GC_FGD
    labels[mapped <= SURE_OUT] = cv2.GC_BGD
    inside = mapped >= 0.5
    # Each side's colour model is a mixture of five Gaussians: it needs samples to fit.
    if min(inside.sum(), (~inside).sum()) < 64 or not (labels == cv2.GC_FGD).any():
        return mapped
    models = np.zeros((1, 65)), np.zeros((1, 65))
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    cv2.grabCut(bgr, labels, None, *models, iterations, cv2.GC_INIT_WITH_MASK)
    return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)


def zoomed(rgb: npt.NDArray[np.uint8], model: Path) -> FloatArray:
    """u2netp again on the crop around its first mask (:data:`ZOOM_MARGIN` of the mask's size
    added on each side); outside the crop nothing is kept."""
    height, width = rgb.shape[:2]
    first = onnx_matte(rgb, model).alpha
    ys, xs = np.nonzero(first >= 0.5)
    if ys.size == 0:
        return first
    margin_y = int(ZOOM_MARGIN * (ys.max() + 1 - ys.min()))
    margin_x = int(ZOOM_MARGIN * (xs.max() + 1 - xs.min()))
    top, bottom = max(0, ys.min() - margin_y), min(height, ys.max() + 1 + margin_y)
    left, right = max(0, xs.min() - margin_x), min(width, xs.max() + 1 + margin_x)
    alpha = np.zeros_like(first)
    crop = np.ascontiguousarray(rgb[top:bottom, left:right])
    alpha[top:bottom, left:right] = onnx_matte(crop, model).alpha
    return alpha


def _coarse(rgb: npt.NDArray[np.uint8], model: Path) -> FloatArray:
    coarse = onnx_matte(rgb, model).coarse
    assert coarse is not None
    return coarse


def _blown_up(coarse: FloatArray, width: int, height: int) -> FloatArray:
    image = Image.fromarray(coarse.astype(np.float32), "F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
