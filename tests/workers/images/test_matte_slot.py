"""The pluggable ONNX matte slot, with a tiny random-weight model of U²-Net's I/O."""

from __future__ import annotations

import numpy as np
import pytest

from contentfab.core.formats import FORMATS
from contentfab.workers.images.compose import CreativeText
from contentfab.workers.images.creative import CreativeJob, make_creatives
from contentfab.workers.images.matte import onnx_matte
from contentfab.workers.images.packshots import packshot

onnx = pytest.importorskip("onnx")


def tiny_u2net(path, side=64, outputs=7):
    """input.1 [1,3,S,S] → seven sigmoid maps [1,1,S,S], as U²-Net's export names them (d0…d6)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.normal(0, 0.5, (1, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["input.1", "w"], ["c"], pads=[1, 1, 1, 1])]
    names = [f"d{i}" for i in range(outputs)]
    nodes += [helper.make_node("Sigmoid", ["c"], [name]) for name in names]
    graph = helper.make_graph(
        nodes,
        "tiny-u2net",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, side, side]) for n in names],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_the_slot_runs_a_u2net_shaped_model_and_returns_a_full_size_matte(tmp_path):
    model = tiny_u2net(tmp_path / "u2net.onnx")
    shot = packshot(2, size=(300, 200))
    matte = onnx_matte(shot.rgb, model)
    assert matte.alpha.shape == (200, 300) and matte.alpha.dtype == np.float32
    assert matte.alpha.min() >= 0.0 and matte.alpha.max() <= 1.0
    assert matte.alpha.max() - matte.alpha.min() > 0.5  # min-max normalised, as rembg does
    assert matte.method == "onnx:u2net.onnx" and matte.meta["input_side"] == 64


def test_a_creative_job_uses_the_slot_when_it_names_a_model(tmp_path):
    from PIL import Image

    model = tiny_u2net(tmp_path / "isnet.onnx")
    photo = tmp_path / "p.png"
    Image.fromarray(packshot(4, size=(256, 256)).rgb).save(photo)
    job = CreativeJob(
        key=1, fmt=FORMATS["square"], text=CreativeText("Mug"), palette=[(240, 240, 240)],
        seed=1, background="flat", photo=photo, matte_model=model,
    )  # fmt: skip
    (outcome,) = make_creatives([job], None)
    assert outcome.error is None and outcome.meta["matte"]["method"] == "onnx:isnet.onnx"
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    (failed,) = make_creatives([CreativeJob(**{**job.__dict__, "matte_model": broken})], None)
    assert failed.data is None and "cannot cut out" in (failed.error or "")
