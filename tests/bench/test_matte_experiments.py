"""bench.matte_experiments: the refinements measured for issue #20 do what their names say on
tiny synthetic photos (their value on real photos is the bench's to measure)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.matte_experiments import colour_reweighted, grabcut


def red_square_half_seen() -> tuple[np.ndarray, np.ndarray]:
    """A red square on grey; the map is sure of its left half only, unsure (0.4) of its right
    half and of a grey strip beside it, sure of the rest of the grey."""
    rgb = np.full((64, 64, 3), 128, dtype=np.uint8)
    rgb[16:48, 16:48] = (200, 30, 30)
    coarse = np.full((64, 64), 0.02, dtype=np.float32)
    coarse[16:48, 16:32] = 0.97
    coarse[16:48, 32:56] = 0.4  # the square's right half, then grey from x = 48
    return rgb, coarse


def test_the_colour_model_takes_in_what_looks_like_the_sure_inside_and_leaves_the_rest():
    rgb, coarse = red_square_half_seen()
    moved = colour_reweighted(rgb, coarse)
    assert (moved[20:44, 34:46] >= 0.5).all()  # red: like the sure inside
    assert (moved[20:44, 50:56] < 0.5).all()  # grey: like the sure outside
    assert (moved[:, :12] < 0.05).all()


def test_the_colour_model_leaves_a_map_without_a_sure_inside_as_it_is():
    rgb, coarse = red_square_half_seen()
    unsure = np.minimum(coarse, 0.6)
    assert np.array_equal(colour_reweighted(rgb, unsure), unsure)


def test_grabcut_seeded_by_the_map_completes_the_square():
    pytest.importorskip("cv2")
    rgb, coarse = red_square_half_seen()
    rgb = rgb.copy()
    rgb += np.random.default_rng(0).integers(0, 6, rgb.shape, dtype=np.uint8)  # GMMs need spread
    mask = grabcut(rgb, coarse) >= 0.5
    square = np.zeros_like(mask)
    square[16:48, 16:48] = True
    assert (mask & square).sum() / (mask | square).sum() > 0.95
