"""workers.images.matte_choice: the model by default, studio or model per photo under ``auto``,
guided refinement, the quality gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from contentfab.core.formats import FORMATS
from contentfab.workers.images.compose import CreativeText
from contentfab.workers.images.creative import CreativeJob, make_creatives
from contentfab.workers.images.matte import iou, studio_matte
from contentfab.workers.images.matte_choice import check_matte, cut_out, refine_alpha
from contentfab.workers.images.packshots import packshot

onnx = pytest.importorskip("onnx")


def brightness_model(path: Path, side: int = 32) -> Path:
    """A stand-in salient-object model in U²-Net's layout: saliency = sigmoid(4 × mean colour).

    On a bright product over a dark scene it finds the product, which is all these tests need
    of a real model.
    """
    from onnx import TensorProto, helper, numpy_helper

    gain = numpy_helper.from_array(np.array(4.0, dtype=np.float32), "gain")
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input.1"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Mul", ["m", "gain"], ["g"]),
            helper.make_node("Sigmoid", ["g"], ["d0"]),
        ],
        "brightness",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("d0", TensorProto.FLOAT, [1, 1, side, side])],
        [gain],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def lifestyle_photo(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A bright rounded product on a dark, textured scene (no clean border), and its mask."""
    rng = np.random.default_rng(seed)
    height, width = 360, 480
    scene = rng.integers(0, 60, (height // 8, width // 8, 3)).astype(np.uint8)
    rgb = np.asarray(Image.fromarray(scene).resize((width, height), Image.Resampling.NEAREST))
    rgb = rgb.copy()
    y, x = np.mgrid[0:height, 0:width]
    mask = ((x - 240) / 110) ** 2 + ((y - 180) / 130) ** 2 <= 1
    rgb[mask] = (235, 205, 170)
    return rgb, mask


def test_auto_gives_a_clean_backdrop_the_studio_matte_and_the_model_never_runs(tmp_path):
    shot = packshot(3)
    missing = tmp_path / "never-loaded.onnx"  # running it would raise
    matte = cut_out(shot.rgb, missing, policy="auto")
    assert matte.method == studio_matte(shot.rgb).method
    assert "a clean backdrop" in matte.meta["choice"]["reason"]
    assert matte.meta["gate"]["passed"]
    # The very alpha of the studio matte: the product's pixels stay bit-exact.
    assert np.array_equal(matte.alpha, studio_matte(shot.rgb).alpha)


def test_auto_gives_a_busy_border_the_model_refined_at_full_resolution(tmp_path):
    rgb, truth = lifestyle_photo()
    model = brightness_model(tmp_path / "bright.onnx")
    matte = cut_out(rgb, model, policy="auto")
    assert matte.method == "onnx:bright.onnx"
    assert "not a clean backdrop" in matte.meta["choice"]["reason"]
    assert matte.meta["refine"]["filter"] == "guided"
    assert matte.meta["gate"]["passed"], matte.meta["gate"]
    assert matte.alpha.shape == truth.shape
    assert iou(matte.mask, truth) > 0.97
    # Inside the product, past the filter's window, the alpha is exactly 1: its pixels pass
    # through compositing unchanged. (The stand-in's 32-pixel map makes that window wide.)
    inner = ndimage.binary_erosion(truth, iterations=30)
    assert inner.sum() > 10000 and (matte.alpha[inner] == 1.0).all()
    # The studio policy keeps the old behaviour whatever the photo.
    assert cut_out(rgb, model, policy="studio").method == studio_matte(rgb).method


def test_the_default_runs_the_model_on_every_photo_clean_backdrop_or_not(tmp_path):
    model = brightness_model(tmp_path / "bright.onnx")
    scene, truth = lifestyle_photo()
    backdrop = np.random.default_rng(0).normal(30, 1.5, scene.shape)
    clean = np.where(truth[..., None], scene, backdrop.round()).astype(np.uint8)
    assert cut_out(clean, model, policy="auto").method.startswith("studio")
    for rgb in (scene, clean):
        matte = cut_out(rgb, model)
        assert matte.method == "onnx:bright.onnx"
        assert matte.meta["choice"] == {
            "policy": "model",
            "reason": "model: policy 'model' (the default)",
        }


def test_the_default_falls_back_to_the_studio_matte_on_a_clean_backdrop_the_model_fails(
    tmp_path,
):
    shot = packshot(3)  # white sweep: the brightness stand-in takes the backdrop for the product
    matte = cut_out(shot.rgb, brightness_model(tmp_path / "bright.onnx"))
    assert matte.method == studio_matte(shot.rgb).method
    reason = matte.meta["choice"]["reason"]
    assert "the model's mask failed the gate" in reason and "a clean backdrop" in reason
    assert matte.meta["gate"]["passed"]
    assert np.array_equal(matte.alpha, studio_matte(shot.rgb).alpha)


def test_without_a_model_every_policy_runs_the_studio_matte_and_says_why():
    rgb, _ = lifestyle_photo()
    for policy in ("model", "auto", "studio"):
        matte = cut_out(rgb, None, policy=policy)
        assert matte.method == studio_matte(rgb).method
        assert "no matting model in the model store" in matte.meta["choice"]["reason"]


def test_refinement_follows_the_photo_edges_better_than_the_blown_up_map():
    shot = packshot(6, size=(800, 600))
    coarse = np.asarray(
        Image.fromarray(shot.mask.astype(np.float32)).resize((40, 40), Image.Resampling.BOX),
        dtype=np.float32,
    )
    blown_up = np.asarray(
        Image.fromarray(coarse, "F").resize((800, 600), Image.Resampling.BILINEAR)
    )
    refined = refine_alpha(shot.rgb, coarse)
    assert refined.shape == (600, 800) and refined.dtype == np.float32
    assert iou(refined >= 0.5, shot.mask) > iou(blown_up >= 0.5, shot.mask)


def test_refinement_keeps_soft_alpha_only_at_the_edge_no_ghost_of_a_faint_haze():
    # A product on a busy scene whose map also holds a faint haze far from it (a shelf behind
    # a motorcycle): the haze must not show through on the creative as a ghost.
    rgb, mask = lifestyle_photo()
    side = 40
    coarse = np.asarray(
        Image.fromarray(mask.astype(np.float32)).resize((side, side), Image.Resampling.BOX),
        dtype=np.float32,
    ).copy()
    coarse[2:8, 2:8] = 0.35  # the haze: well away from the product, under 0.5
    refined = refine_alpha(rgb, coarse)
    height, width = mask.shape
    haze = np.zeros_like(mask)
    haze[2 * height // side : 8 * height // side, 2 * width // side : 8 * width // side] = True
    assert refined[haze].max() == 0.0
    # Deep inside the product the alpha is exactly 1; in between values only near the edge.
    inside = ndimage.binary_erosion(mask, iterations=40)
    assert (refined[inside] == 1.0).all()
    edge_zone = ndimage.binary_dilation(mask, iterations=40) & ~inside
    soft = (refined > 0) & (refined < 1)
    assert soft.any() and not (soft & ~edge_zone).any()


def disk(height=200, width=300, radius=60, centre=(100, 150)):
    y, x = np.mgrid[0:height, 0:width]
    return (((y - centre[0]) ** 2 + (x - centre[1]) ** 2) <= radius**2).astype(np.float32)


def test_the_gate_passes_a_plausible_product_mask():
    gate = check_matte(disk())
    assert gate["passed"] and gate["problems"] == [] and gate["pieces"] == 1


@pytest.mark.parametrize(
    ("alpha", "problem"),
    [
        (np.zeros((200, 300), np.float32), "empty"),
        (1 - disk(radius=40), "touches"),
        (np.kron(np.indices((10, 15)).sum(axis=0) % 2, np.ones((20, 20))), "pieces"),
        (disk() * 0.55, "low-confidence"),
    ],
    ids=["empty", "border", "fragments", "unsure"],
)
def test_the_gate_rejects_an_implausible_mask(alpha, problem):
    gate = check_matte(alpha.astype(np.float32))
    assert not gate["passed"]
    assert any(problem in text for text in gate["problems"]), gate["problems"]


def test_the_gate_passes_a_real_photo_of_many_objects():
    """scikit-image's coins: 24 coins on a table, cut out as 18 solid pieces (touching coins
    merge). Counting pieces refused it, as it refused opencv's smarties (12 pieces) and stuff (5)
    in the matte bench; judged by area it passes."""
    data = pytest.importorskip("skimage.data")
    rgb = np.repeat(data.coins()[..., None], 3, axis=2)
    gate = check_matte(studio_matte(rgb).alpha)
    assert gate["passed"], gate["problems"]
    assert gate["pieces"] >= 10 and gate["speck_area"] < 0.01


def test_the_gate_rejects_a_product_lost_in_dust():
    alpha = disk(radius=40)
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, 196, 300), rng.integers(0, 296, 300), strict=True):
        alpha[y : y + 3, x : x + 3] = 1.0  # specks of 9 pixels, ~0.2 % of the mask each
    gate = check_matte(alpha)
    assert not gate["passed"] and gate["speck_area"] > 0.1
    assert any("specks" in text for text in gate["problems"]), gate["problems"]
    # A few specks beside a solid product are noise, not a broken mask.
    alpha = disk(radius=40)
    alpha[5:8, 5:8] = alpha[190:193, 290:293] = 1.0
    assert check_matte(alpha)["passed"]


def test_a_failed_gate_shows_the_whole_photo_and_says_so(tmp_path):
    rgb, _ = lifestyle_photo(1)
    rgb = 255 - rgb  # now the scene is bright and the product dark: the stand-in model fails
    photo = tmp_path / "scene.png"
    Image.fromarray(rgb).save(photo)
    job = CreativeJob(
        key=1, fmt=FORMATS["square"], text=CreativeText("Lamp"), palette=[(240, 240, 240)],
        seed=1, background="flat", photo=photo,
        default_matte_model=brightness_model(tmp_path / "bright.onnx"),
    )  # fmt: skip
    (outcome,) = make_creatives([job], None)
    assert outcome.error is None and outcome.data is not None
    matte = outcome.meta["matte"]
    assert matte["fallback"] == "full-photo"
    assert not matte["gate"]["passed"] and matte["gate"]["problems"]
    x0, y0, x1, y1 = outcome.meta["layout"]["product_box"]
    assert abs((x1 - x0) / (y1 - y0) - 480 / 360) < 0.02  # the whole photo's shape


def test_every_creative_records_which_matte_ran_and_why(tmp_path):
    photos = []
    for name, rgb in (("packshot", packshot(2).rgb), ("scene", lifestyle_photo(2)[0])):
        photos.append(tmp_path / f"{name}.png")
        Image.fromarray(rgb).save(photos[-1])
    model = brightness_model(tmp_path / "bright.onnx")
    jobs = [
        CreativeJob(key=i, fmt=FORMATS["square"], text=CreativeText("Mug"),
                    palette=[(240, 240, 240)], seed=i, background="flat", photo=photo,
                    default_matte_model=model)
        for i, photo in enumerate(photos)
    ]  # fmt: skip
    packshot_outcome, scene_outcome = make_creatives(jobs, None)
    assert packshot_outcome.meta["matte"]["method"].startswith("studio")
    assert scene_outcome.meta["matte"]["method"] == "onnx:bright.onnx"
    for outcome in (packshot_outcome, scene_outcome):
        assert outcome.meta["matte"]["choice"]["reason"]
        assert outcome.meta["matte"]["gate"]["passed"]
        assert "fallback" not in outcome.meta["matte"]
