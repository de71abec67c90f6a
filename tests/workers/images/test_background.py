"""The CPPN background generator: export (idempotent, manifest, parity) and the worker runner."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from contentfab.exporters import ModelStore, build_model
from contentfab.exporters.background import CPPN_NAME, STYLES
from contentfab.workers.images import background as bg
from contentfab.workers.images.text import contrast_ratio

PALETTE = [(28, 52, 84), (235, 226, 210), (214, 99, 64)]


@pytest.fixture(scope="module")
def cppn_store(tmp_path_factory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("cppn-store"))
    build_model(CPPN_NAME, store)
    return store


@pytest.fixture(scope="module")
def generator(cppn_store) -> bg.BackgroundGenerator:
    return bg.BackgroundGenerator.load(cppn_store.model_dir(CPPN_NAME), intra_op_threads=1)


def test_the_export_is_valid_idempotent_and_described(cppn_store):
    manifest = cppn_store.manifest(CPPN_NAME)
    assert cppn_store.is_valid(CPPN_NAME)
    assert manifest.family == "cppn" and manifest.trained is False
    assert manifest.parity["max_abs_diff"] < 1e-4
    assert set(manifest.background_generation.styles) == set(STYLES)
    assert [i["name"] for i in manifest.inputs] == ["coords", "latent", "style", "palette"]
    mtime = (cppn_store.model_dir(CPPN_NAME) / "model.onnx").stat().st_mtime_ns
    assert build_model(CPPN_NAME, cppn_store) == manifest
    assert (cppn_store.model_dir(CPPN_NAME) / "model.onnx").stat().st_mtime_ns == mtime


def test_seeded_and_independent_of_the_batch(generator):
    alone = generator.render([bg.BackgroundRequest(5, "soft", PALETTE, 300, 200)])[0]
    batch = generator.render(
        [
            bg.BackgroundRequest(9, "waves", PALETTE, 300, 200),
            bg.BackgroundRequest(5, "soft", PALETTE, 300, 200),
            bg.BackgroundRequest(5, "soft", PALETTE, 120, 90),
        ]
    )
    assert [im.size for im in batch] == [(300, 200), (300, 200), (120, 90)]
    assert np.abs(np.asarray(batch[1], int) - np.asarray(alone, int)).max() <= 1
    other = generator.render([bg.BackgroundRequest(6, "soft", PALETTE, 300, 200)])[0]
    assert np.abs(np.asarray(other, int) - np.asarray(alone, int)).mean() > 3


def test_resolution_independent(generator):
    small, large = generator.render(
        [
            bg.BackgroundRequest(3, "marble", PALETTE, 160, 160),
            bg.BackgroundRequest(3, "marble", PALETTE, 640, 640),
        ],
        scale=1.0,
    )
    reduced = np.asarray(large.resize((160, 160), Image.Resampling.BOX), dtype=float)
    assert np.abs(reduced - np.asarray(small, dtype=float)).mean() < 6


def test_colours_come_from_the_palette(generator):
    image = generator.render([bg.BackgroundRequest(1, "bold", PALETTE, 200, 200)])[0]
    pixels = np.asarray(image, dtype=float).reshape(-1, 3)
    low, high = np.min(PALETTE, axis=0), np.max(PALETTE, axis=0)
    # Mixes of the palette, lit by at most +12% / -10%, plus the ±1 dither.
    assert np.all(pixels >= low * 0.89 - 2) and np.all(pixels <= np.minimum(high * 1.13 + 2, 255))


def test_unknown_style_and_bad_colours_are_refused(generator):
    with pytest.raises(ValueError, match="unknown style"):
        generator.render([bg.BackgroundRequest(1, "glitter", PALETTE, 10, 10)])
    assert bg.parse_colour("#1C3454") == (28, 52, 84) and bg.parse_colour("fff") == (255,) * 3
    with pytest.raises(ValueError, match="not a colour"):
        bg.parse_colour("blue")


def test_flat_gradient_and_user_image(tmp_path):
    assert bg.flat((10, 5), (1, 2, 3)).getpixel((9, 4)) == (1, 2, 3)
    ramp = np.asarray(bg.gradient((4, 11), (0, 0, 0), (200, 100, 0)))
    assert tuple(ramp[0, 0]) == (0, 0, 0) and tuple(ramp[-1, 3]) == (200, 100, 0)
    path = tmp_path / "wall.png"
    Image.new("RGB", (300, 100), (9, 9, 9)).save(path)
    assert bg.from_image((120, 160), path).size == (120, 160)


def test_the_campaign_file_knows_the_same_styles_as_the_exporter():
    from contentfab.campaign import creatives

    assert set(creatives.STYLES) == set(STYLES)


@pytest.mark.parametrize("style", ["soft", "waves", "marble", "bold"])
def test_pattern_styles_are_calm_enough_to_post_on(generator, style):
    """Only large soft shapes, and dark brand ink reads on every pixel without a scrim."""
    for seed in range(3):
        request = bg.BackgroundRequest(seed, style, bg.backdrop_palette(style, PALETTE), 1080, 1350)
        pixels = np.asarray(generator.render([request])[0], dtype=float)
        ink = min(PALETTE, key=sum)
        assert contrast_ratio(np.array(ink), pixels.reshape(-1, 3)).min() >= 4.5
        # At a tenth of the size, neighbouring pixels (10 px apart in the canvas) differ by
        # a few levels at most: no edges, no camouflage (the raw CPPN patterns reach 30-90).
        reduced = np.asarray(Image.fromarray(pixels.astype(np.uint8)).resize((108, 135)), float)
        assert np.abs(np.diff(reduced, axis=0)).max() <= 6
        assert np.abs(np.diff(reduced, axis=1)).max() <= 6


def test_pattern_creatives_set_their_text_without_scrims(generator, tmp_path):
    from contentfab.core.formats import FORMATS
    from contentfab.workers.images.compose import CreativeText
    from contentfab.workers.images.creative import CreativeJob, make_creatives

    jobs = [
        CreativeJob(
            key=i,
            fmt=fmt,
            text=CreativeText("Ceramic Pour-Over Set", "Slow mornings, better coffee", "$49.90"),
            palette=PALETTE,
            seed=i,
            background="generated",
            style=style,
        )
        for i, (fmt, style) in enumerate(
            zip(FORMATS.values(), ["soft", "waves", "marble", "bold"], strict=False)
        )
    ]
    outcomes = make_creatives(jobs, generator)
    for outcome in outcomes:
        texts = [v for v in outcome.meta["layout"].values() if isinstance(v, dict) and "scrim" in v]
        assert texts and not any(v["scrim"] for v in texts), outcome.meta["layout"]
