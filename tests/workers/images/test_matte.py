"""workers.images: matte quality on synthetic packshots, pixel fidelity, contrast, formats."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from contentfab.core.formats import FORMATS, parse_format
from contentfab.workers.images import compose as comp
from contentfab.workers.images.matte import iou, studio_matte
from contentfab.workers.images.packshots import packshot
from contentfab.workers.images.text import (
    MIN_CONTRAST,
    contrast_ratio,
    draw_text,
    fit_text,
    font,
    has_glyph,
    worst_contrast,
    wrap,
)

PALETTE = [(28, 52, 84), (235, 226, 210), (214, 99, 64)]


def test_studio_matte_reaches_the_iou_goal_on_synthetic_packshots():
    scores = [iou(studio_matte(p.rgb).mask, p.mask) for p in map(packshot, range(24))]
    assert np.mean(scores) >= 0.93, scores
    assert np.median(scores) >= 0.95, scores


def test_a_plain_backdrop_without_an_object_gives_an_empty_matte():
    rng = np.random.default_rng(0)
    plain = np.clip(240 + rng.normal(0, 2, (300, 400, 3)), 0, 255).astype(np.uint8)
    assert studio_matte(plain).mask.mean() < 0.01


def test_a_large_photo_is_matted_at_working_size_and_returned_at_full_size():
    shot = packshot(3, size=(1500, 1100))
    matte = studio_matte(shot.rgb)
    assert matte.alpha.shape == (1100, 1500)
    assert matte.meta["work_scale"] < 1
    assert iou(matte.mask, shot.mask) > 0.85


def test_wcag_contrast_matches_the_reference_values():
    assert float(contrast_ratio((0, 0, 0), (255, 255, 255))) == pytest.approx(21.0)
    assert float(contrast_ratio((119, 119, 119), (255, 255, 255))) == pytest.approx(4.48, abs=0.01)
    assert float(contrast_ratio((255, 0, 0), (255, 0, 0))) == pytest.approx(1.0)


@pytest.mark.parametrize("behind", ["white", "black", "noise", "mid-grey"])
def test_text_always_reaches_4_5_to_1_against_every_pixel_behind_it(behind):
    rng = np.random.default_rng(1)
    pixels = {
        "white": np.full((300, 600, 3), 255),
        "black": np.zeros((300, 600, 3)),
        "noise": rng.integers(0, 256, (300, 600, 3)),
        "mid-grey": np.full((300, 600, 3), 128),
    }[behind].astype(np.uint8)
    canvas = Image.fromarray(pixels)
    block = fit_text("Keeps coffee hot for twelve hours", 500, 200, max_size=48)
    assert block is not None
    placed = draw_text(canvas, block, (50, 50), box_width=500, preferred=(128, 128, 128))
    # The same call with blank lines lays the same scrim and draws no glyphs: what the text
    # really sits on.
    behind_text = Image.fromarray(pixels)
    blank = replace(block, lines=[""] * len(block.lines))
    again = draw_text(behind_text, blank, (50, 50), box_width=500, preferred=(128, 128, 128))
    assert again == placed
    left, top, right, bottom = placed.box
    pad = max(8, block.size // 3)
    inner = np.asarray(behind_text)[top + pad : bottom - pad, left + pad : right - pad]
    assert worst_contrast(placed.colour, inner) >= MIN_CONTRAST
    assert placed.contrast >= MIN_CONTRAST
    assert not np.array_equal(np.asarray(canvas), np.asarray(behind_text))  # text was drawn
    if behind == "noise":
        assert placed.scrim_opacity > 0


def test_wrapping_keeps_every_line_inside_the_width_and_all_words():
    face = font(40)
    text = "An extraordinarily long headline with supercalifragilisticexpialidocious words"
    lines = wrap(text, face, 260)
    assert all(face.getlength(line) <= 260 for line in lines)
    assert "".join(lines).replace("-", "").replace(" ", "") == text.replace(" ", "")


def test_the_bundled_font_is_scalable_and_missing_signs_fall_back_to_codes():
    assert font(72).getbbox("Hg")[3] > font(24).getbbox("Hg")[3] * 2
    assert has_glyph("$") and has_glyph("A")
    assert comp.format_price("49.9", "USD") == "$49.90"
    expected = "€19" if has_glyph("€") else "19 EUR"
    assert comp.format_price("19.00", "EUR") == expected
    assert comp.format_price("1200", "CHF") == "1200 CHF"


def test_formats_and_custom_sizes():
    assert (FORMATS["story"].width, FORMATS["story"].height) == (1080, 1920)
    assert parse_format("1.91:1").name == "landscape"
    assert (parse_format("1600x900").width, parse_format("1600x900").height) == (1600, 900)
    with pytest.raises(ValueError, match="unknown format"):
        parse_format("huge")
    with pytest.raises(ValueError, match="each side"):
        parse_format("9999x10")


def _cutout(seed=7):
    shot = packshot(seed)
    return shot, comp.Cutout(shot.rgb, studio_matte(shot.rgb).alpha)


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_creative_has_the_format_size_and_keeps_everything_in_the_safe_zone(name):
    fmt = FORMATS[name]
    _, cutout = _cutout()
    text = comp.CreativeText("Trail Thermos", "Hot for twelve hours", "$49.90", "Northwind")
    creative = comp.compose(
        Image.new("RGB", (fmt.width, fmt.height), (235, 226, 210)),
        cutout,
        text,
        fmt,
        palette=PALETTE,
    )
    assert creative.image.size == (fmt.width, fmt.height)
    left, top, right, bottom = fmt.safe_box
    x0, y0, x1, y1 = creative.layout["product_box"]
    assert left <= x0 < x1 <= right and top <= y0 < y1 <= bottom
    bx0, by0, bx1, by1 = creative.layout["price_badge"]["box"]
    assert left <= bx0 and top <= by0 and bx1 <= right and by1 <= bottom
    assert creative.layout["price_badge"]["contrast"] >= MIN_CONTRAST
    assert creative.layout["headline"]["contrast"] >= MIN_CONTRAST


def test_product_pixels_inside_the_matte_are_unchanged_at_scale_one():
    fmt = parse_format("800x800")
    shot = packshot(11, size=(320, 320))
    alpha = shot.coverage.astype(np.float32)  # the true matte: isolates the compositing
    product = comp.Cutout(shot.rgb, alpha)
    trimmed = product.rgba()
    # An area the trimmed product fits at exactly scale 1.
    area = (0, 0, round(trimmed.width / 0.9) + 1, round(trimmed.height / 0.86) + 1)
    canvas = Image.new("RGB", (fmt.width, fmt.height), (20, 120, 200))
    box = comp._place_product(canvas, product, area)
    assert (box[2] - box[0], box[3] - box[1]) == trimmed.size
    out = np.asarray(canvas)[box[1] : box[3], box[0] : box[2]]
    source = np.asarray(trimmed)
    opaque = source[..., 3] == 255
    assert opaque.sum() > 1000
    assert np.array_equal(out[opaque], source[..., :3][opaque])


def test_product_pixels_after_resampling_match_a_plain_resize():
    shot = packshot(12, size=(320, 320))
    product = comp.Cutout(shot.rgb, shot.coverage.astype(np.float32))
    canvas = Image.new("RGB", (1080, 1080), (250, 250, 250))
    box = comp._place_product(canvas, product, (0, 0, 1080, 1080))
    trimmed = product.rgba()
    resized = trimmed.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS)
    out = np.asarray(canvas)[box[1] : box[3], box[0] : box[2]].astype(int)
    source = np.asarray(resized)
    opaque = source[..., 3] == 255
    assert np.abs(out[opaque] - source[..., :3][opaque].astype(int)).max() <= 1


def test_a_product_without_a_photo_becomes_a_typographic_card():
    fmt = FORMATS["portrait"]
    text = comp.CreativeText(
        "Alpine Trail Thermos 750 ml", "Hot for twelve hours", "$49.90", "Northwind"
    )
    creative = comp.compose(
        Image.new("RGB", (1080, 1350), (28, 52, 84)), None, text, fmt, palette=PALETTE
    )
    assert creative.layout["card"] and "title" in creative.layout and "headline" in creative.layout
    assert creative.layout["title"]["contrast"] >= MIN_CONTRAST
    assert "product_box" not in creative.layout


@pytest.mark.parametrize("encoding", ["png", "jpeg", "webp"])
def test_encodings_round_trip(encoding):
    image = Image.new("RGB", (64, 48), (200, 10, 10))
    data = comp.encode(image, encoding)
    decoded = Image.open(io.BytesIO(data))
    assert decoded.size == (64, 48) and decoded.format == encoding.upper()
    assert comp.encode(image, encoding) == data
