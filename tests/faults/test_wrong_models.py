"""A model of the wrong family named in a campaign is refused at enqueue (issue 16, item 6).

A text generator as the image generator, the text-to-image pipeline or the matte model, an
image model as the copy model or the recommender's encoder: each is refused with exit 2, the
field named, nothing stored. Before, each was stored and failed job by job in the workers.
The store models here are small fake entries (a two-node ONNX graph and a manifest naming its
task): the check reads manifests and graph inputs, never runs a model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from bench.recs_data import make_shop, write_shop
from contentfab.campaign.creatives import matte_model_problem
from contentfab.cli import app
from tests.faults.test_bad_input import _counts
from tests.faults.test_hostile_campaigns import HEADER
from tests.pipeline import environment, runner

TASKS = {
    "text-model": "text-generation",
    "image-model": "background-generation",
    "encoder": "sentence-embedding",
    "pipeline": "text-to-image",
}


def _text_graph() -> onnx.ModelProto:
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    out = helper.make_tensor_value_info("logits", TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input_ids"], ["logits"])], "t", [ids], [out]
    )
    return helper.make_model(graph)


def _matte_graph(channels: int | str = 3) -> onnx.ModelProto:
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, channels, 320, 320])
    out = helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, channels, 320, 320])
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["input"], ["mask"])], "m", [image], [out]
    )
    return helper.make_model(graph)


def _store(root: Path) -> Path:
    for name, task in TASKS.items():
        folder = root / name
        folder.mkdir(parents=True)
        onnx.save(_text_graph(), folder / "model.onnx")
        digest = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
        manifest = {"name": name, "task": task, "files": {"model.onnx": digest}}
        (folder / "model.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def _enqueue(tmp_path: Path, campaign: str):
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "catalog.csv").write_text(HEADER + "A,Mug,,,,,,\n", encoding="utf-8")
    onnx.save(_text_graph(), folder / "text.onnx")
    onnx.save(_matte_graph(), folder / "matte.onnx")
    (folder / "garbage.onnx").write_bytes(b"not an onnx model\n" * 8)
    write_shop(make_shop(4, 6, seed=1), folder / "shop")
    (folder / "campaign.yaml").write_text("name: Wrong models\n" + campaign, encoding="utf-8")
    data = tmp_path / "data"
    env = environment(
        tmp_path,
        _store(tmp_path / "models"),
        f"sqlite:///{data / 'contentfab.db'}",
        f"sqla+sqlite:///{data / 'broker.db'}",
        model="text-model",
    )
    result = runner.invoke(app, ["enqueue", str(folder / "campaign.yaml")], env=env)
    return result, _counts(data)


COPY = "catalog: catalog.csv\ncopy:\n  channels: [email_subject]\n"
IMAGES = "catalog: catalog.csv\nimages:\n  formats: [square]\n"
RECS = (
    "catalog: shop/catalog.csv\nrecommendations:\n  interactions: shop/interactions.csv\n"
    "  users: all\n  model: {model}\n"
)
WRONG = {
    "copy.model": (COPY + "  model: image-model\n", "'image-model' is a 'background-generation'"),
    "recommendations.model": (RECS.format(model="text-model"), "'text-model' is a 'text-gen"),
    "images.generator": (IMAGES + "  generator: text-model\n", "'text-model' is a 'text-gen"),
    "images.background.pipeline": (
        IMAGES + "  background:\n    mode: text_to_image\n    prompt: a studio\n"
        "    pipeline: text-model\n",
        "'text-model' is a 'text-generation' model, not a text-to-image pipeline",
    ),
    "images.matte_model": (
        IMAGES + "  background:\n    mode: flat\n  matte_model: text.onnx\n",
        "'text.onnx' is not a matte model",
    ),
    "images.matte_model ": (
        IMAGES + "  background:\n    mode: flat\n  matte_model: garbage.onnx\n",
        "'garbage.onnx' is not an ONNX model",
    ),
}


@pytest.mark.parametrize("field", list(WRONG))
def test_a_model_of_the_wrong_family_is_refused_naming_the_field(tmp_path, field):
    campaign, says = WRONG[field]
    result, counts = _enqueue(tmp_path, campaign)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert counts == (0, 0)
    output = " ".join(result.output.split())
    assert f"field '{field.strip()}'" in output and says in output, output


@pytest.mark.parametrize(
    "campaign",
    [
        COPY,  # the settings' copy model: text-model
        COPY + "  model: text-model\n",
        RECS.format(model="encoder"),
        IMAGES + "  background:\n    mode: flat\n  matte_model: matte.onnx\n",
    ],
)
def test_a_model_of_the_right_family_is_accepted(tmp_path, campaign):
    result, counts = _enqueue(tmp_path, campaign)
    assert result.exit_code == 0, result.output
    assert counts[0] == 1


def test_matte_models_are_told_by_their_input(tmp_path):
    for name, graph in {
        "u2net.onnx": _matte_graph(),
        "dynamic.onnx": _matte_graph("channels"),
        "one-channel.onnx": _matte_graph(1),
        "text.onnx": _text_graph(),
    }.items():
        onnx.save(graph, tmp_path / name)
    assert matte_model_problem(tmp_path / "u2net.onnx") is None
    assert matte_model_problem(tmp_path / "dynamic.onnx") is None
    assert "float32[1, 1, 320, 320]" in str(matte_model_problem(tmp_path / "one-channel.onnx"))
    assert "input_ids: int64['batch', 'sequence']" in str(
        matte_model_problem(tmp_path / "text.onnx")
    )
