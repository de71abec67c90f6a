"""The one export path: graphs are held to their spec, a failed build leaves the store as it was."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from contentfab.core.errors import ExportError
from contentfab.core.manifest import ModelManifest
from contentfab.exporters import ModelStore
from contentfab.exporters.pipeline import check_graphs, export_and_validate
from contentfab.exporters.specs import BATCH, ExportSpec, TensorSpec

onnx = pytest.importorskip("onnx")


class AddSpec(ExportSpec):
    family: ClassVar[str] = "test-add"
    task: ClassVar[str] = "test"

    def inputs(self) -> list[TensorSpec]:
        return [TensorSpec("a", "float32", (BATCH, 2)), TensorSpec("b", "float32", (BATCH, 2))]

    def outputs(self) -> list[TensorSpec]:
        return [TensorSpec("sum", "float32", (BATCH, 2))]

    def manifest_section(self) -> dict[str, Any]:
        return {"width": 2}


def write_add(path: Path, names: tuple[str, str, str] = ("a", "b", "sum")) -> None:
    from onnx import TensorProto, helper

    a, b, out = names
    graph = helper.make_graph(
        [helper.make_node("Add", [a, b], [out])],
        "add",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 2]) for n in (a, b)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def test_a_graph_whose_names_differ_from_its_spec_is_refused(tmp_path):
    write_add(tmp_path / "model.onnx", ("a", "c", "total"))
    with pytest.raises(ExportError) as caught:
        check_graphs(tmp_path, AddSpec())
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert "inputs are ['a', 'c']" in message and "outputs are ['total']" in message


def test_the_manifest_comes_from_the_spec_and_the_checks(tmp_path):
    store = ModelStore(tmp_path / "store")
    built = export_and_validate(
        store,
        "add",
        AddSpec(),
        source={"recipe": 1},
        write=lambda staging: write_add(staging / "model.onnx"),
        validate=lambda staging, draft: {"parity": {"max_abs_diff": 0.0}},
        version=lambda files: f"1-{files['model.onnx'][:8]}",
        started=time.perf_counter(),
    )
    on_disk = ModelManifest.read(store.model_dir("add")).to_dict()
    assert on_disk == built.to_dict()
    assert on_disk["family"] == "test-add" and on_disk["opset"] == 17
    assert [t["name"] for t in on_disk["inputs"]] == ["a", "b"]
    assert on_disk["parity"] == {"max_abs_diff": 0.0} and on_disk["version"].startswith("1-")
    assert store.is_valid("add")


def test_a_failed_parity_check_leaves_the_stored_model_untouched(tmp_path):
    store = ModelStore(tmp_path / "store")
    arguments: dict[str, Any] = {
        "source": {"recipe": 1},
        "write": lambda staging: write_add(staging / "model.onnx"),
        "version": lambda files: "1",
        "started": time.perf_counter(),
    }
    first = export_and_validate(
        store, "add", AddSpec(), validate=lambda staging, draft: {}, **arguments
    )

    def refuse(staging: Path, draft: ModelManifest) -> dict[str, Any]:
        raise ExportError("parity check failed")

    with pytest.raises(ExportError, match="parity"):
        export_and_validate(store, "add", AddSpec(), validate=refuse, **arguments)
    assert store.manifest("add") == first and store.is_valid("add")
    assert not list(store.root.glob(".add.staging-*"))
