"""Models over protobuf's 2 GiB: weights in ``model.onnx.data`` (exporters/external_data.py).

The fast tests force the external layout on tiny models (threshold 0) through every export and
conversion path; the slow one exports a random-weight model of Qwen2.5-1.5B's real shape.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from contentfab.exporters import ModelStore, build_model, external_data
from contentfab.workers.embeddings import TextEmbedder
from contentfab.workers.textgen import SamplingParams, TextGenerator

PROMPTS = ["Meet the lightweight running shoes", "Free shipping on every", "Save 20% on"]
# Set to 1 to run the 1.5B-shape export (`CONTENTFAB_TEST_LARGE=1 pytest -m slow -k 1_5b -s`).
LARGE_OPT_IN = "CONTENTFAB_TEST_LARGE"


def _matmul_model(weight: np.ndarray) -> onnx.ModelProto:
    """y = x @ weight, the weight an initializer."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, weight.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, weight.shape[1]])],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def _external_tensors(path: Path) -> dict[str, bool]:
    """Each initializer of the graph file: stored outside it?"""
    graph = onnx.load(str(path), load_external_data=False).graph
    return {t.name: t.data_location == TensorProto.EXTERNAL for t in graph.initializer}


def test_save_switches_layout_at_the_threshold_and_leaves_no_stale_data(tmp_path: Path) -> None:
    # Small integers: every sum is exact, whatever order ONNX Runtime adds in.
    weight = (np.arange(64 * 32) % 7).astype(np.float32).reshape(64, 32)
    x = np.ones((1, 64), dtype=np.float32)
    path = tmp_path / "model.onnx"
    data = external_data.data_path(path)
    assert external_data.weight_bytes(_matmul_model(weight)) == weight.nbytes

    external_data.save(_matmul_model(weight), path, threshold=weight.nbytes)
    assert not data.exists(), "at the threshold a model stays one file"

    external_data.save(_matmul_model(weight), path, threshold=weight.nbytes - 1)
    assert data.stat().st_size == weight.nbytes
    assert path.stat().st_size < 1024 and _external_tensors(path) == {"w": True}
    assert data.stat().st_mode == path.stat().st_mode
    np.testing.assert_array_equal(_run(path, x), x @ weight)

    # A rewrite in place (as quantisation and float16 do): load, change, save over it.
    model = external_data.load(path)
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weight * 2, "w"))
    external_data.save(model, path, threshold=0)
    assert data.stat().st_size == weight.nbytes, "onnx appended to the old data file"
    np.testing.assert_array_equal(_run(path, x), x @ (weight * 2))

    external_data.save(external_data.load(path), path)  # small again: back to one file
    assert not data.exists() and _external_tensors(path) == {"w": False}
    np.testing.assert_array_equal(_run(path, x), x @ (weight * 2))


def test_model_digest_covers_the_data_file() -> None:
    one_file = {"model.onnx": "a" * 64, "tokenizer.json": "b" * 64}
    assert external_data.model_digest(one_file) == "a" * 64, "one-file versions are unchanged"
    split = {**one_file, "model.onnx.data": "c" * 64}
    other_weights = {**one_file, "model.onnx.data": "d" * 64}
    assert external_data.model_digest(split) != external_data.model_digest(other_weights)


def _check_external_layout(model_dir: Path, manifest: dict) -> None:
    graph, data = model_dir / "model.onnx", model_dir / "model.onnx.data"
    assert data.is_file() and "model.onnx.data" in manifest.files
    assert graph.stat().st_size < data.stat().st_size
    assert data.stat().st_mode == graph.stat().st_mode, "workers read both as the same user"
    graph_proto = onnx.load(str(graph), load_external_data=False).graph
    for tensor in graph_proto.initializer:
        size = external_data.weight_bytes(
            helper.make_model(helper.make_graph([], "t", [], [], [tensor]))
        )
        if size >= external_data.INLINE_TENSOR_BYTES:
            assert tensor.data_location == TensorProto.EXTERNAL, tensor.name
    onnx.checker.check_model(str(graph))  # the path form resolves the data file


def test_a_forced_external_export_validates_and_generates_like_one_file(
    tmp_path: Path, tiny_generator: TextGenerator
) -> None:
    store = ModelStore(tmp_path)
    manifest = build_model("tiny-llama", store, external_data_threshold=0)
    model_dir = store.model_dir("tiny-llama")
    _check_external_layout(model_dir, manifest)
    assert manifest.parity["all_match"] is True
    assert store.is_valid("tiny-llama")

    generator = TextGenerator.load(model_dir)
    params = [SamplingParams(max_new_tokens=8)] * len(PROMPTS)
    split = [g.token_ids for g in generator.generate(PROMPTS, params)]
    whole = [g.token_ids for g in tiny_generator.generate(PROMPTS, params)]
    assert split == whole and all(split)
    assert manifest.version != tiny_generator.manifest.version

    # The data file is part of the model: a changed byte makes the store refuse it.
    with (model_dir / "model.onnx.data").open("r+b") as data:
        data.seek(100)
        byte = data.read(1)
        data.seek(100)
        data.write(bytes([byte[0] ^ 1]))
    assert any(p.startswith("model.onnx.data") for p in store.problems("tiny-llama"))


@pytest.mark.parametrize("quantize", ["nbits8", "fp16"])
def test_quantised_conversions_keep_external_data(tmp_path: Path, quantize: str) -> None:
    fp32 = ModelStore(tmp_path / "fp32")
    build_model("tiny-llama", fp32, external_data_threshold=0)
    fp32_data = (fp32.model_dir("tiny-llama") / "model.onnx.data").stat().st_size

    store = ModelStore(tmp_path / quantize)
    manifest = build_model("tiny-llama", store, quantize=quantize, external_data_threshold=0)
    model_dir = store.model_dir("tiny-llama")
    _check_external_layout(model_dir, manifest)
    # Rewritten in place: the data file holds the converted weights only (~1/2 for float16,
    # ~1/4 plus scales for 8-bit blocks), not the float32 ones with the new ones appended.
    assert (model_dir / "model.onnx.data").stat().st_size < 0.6 * fp32_data
    assert manifest.parity["top1_agreement"] >= 0.85
    names = {path.name for path in model_dir.iterdir()}
    assert names == {"model.onnx", "model.onnx.data", "tokenizer.json", "model.json"}
    [generation] = TextGenerator.load(model_dir).generate(
        ["Free shipping"], [SamplingParams(max_new_tokens=4)]
    )
    assert generation.token_ids


def test_a_forced_external_sentence_encoder(tmp_path: Path) -> None:
    import onnxruntime as ort

    from contentfab.exporters.embedding import MIN_COSINE

    store = ModelStore(tmp_path / "store")
    manifest = build_model("tiny-bert", store, external_data_threshold=0)
    model_dir = store.model_dir("tiny-bert")
    _check_external_layout(model_dir, manifest)
    assert manifest.parity["min_cosine"] >= MIN_COSINE  # torch against the split files
    embeddings = TextEmbedder.load(model_dir).embed(["yoga mat", "a durable travel backpack"])
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)

    # The same graph and weights as one file give the same numbers. (Two builds of tiny-bert
    # cannot be compared: its WordPiece tokenizer trains differently from call to call.)
    whole = tmp_path / "whole.onnx"
    external_data.save(external_data.load(model_dir / "model.onnx"), whole)
    assert not external_data.data_path(whole).exists()
    ids = np.array([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)}
    outputs = [
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]
        for path in (model_dir / "model.onnx", whole)
    ]
    np.testing.assert_array_equal(outputs[0], outputs[1])


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get(LARGE_OPT_IN) != "1",
    reason=f"opt-in ({LARGE_OPT_IN}=1): ~9 min, ~14 GiB of memory and ~14 GB of disk writes "
    "on a 2-core machine (BENCHMARKS.md, issue #19)",
)
def test_a_qwen2_5_1_5b_shaped_model_exports_validates_and_generates(tmp_path: Path) -> None:
    """Random weights in Qwen2.5-1.5B's real shape (28 layers, hidden 1536, vocab 151936,
    tied embeddings): ~6.6 GB of float32 weights, three times protobuf's limit. Built locally,
    nothing downloaded. Opt-in rather than merely slow: it alone would add a third to CI's
    ~24 min and needs torch's model and ONNX Runtime's session in memory at once."""
    started = time.perf_counter()
    phases: list[tuple[str, float]] = []
    store = ModelStore(tmp_path)
    manifest = build_model(
        "random-qwen2.5-1.5b",
        store,
        progress=lambda step: phases.append((step, time.perf_counter() - started)),
    )
    model_dir = store.model_dir("random-qwen2.5-1.5b")
    _check_external_layout(model_dir, manifest)
    assert (model_dir / "model.onnx.data").stat().st_size > 2**31
    assert (
        manifest.text_generation.num_layers == 28 and manifest.text_generation.vocab_size == 151936
    )
    assert manifest.parity["all_match"] is True

    generator = TextGenerator.load(model_dir)
    prompt_ids = [generator.encode(p) for p in PROMPTS]
    params = [SamplingParams(max_new_tokens=4)] * len(PROMPTS)
    together = [g.token_ids for g in generator.generate_ids(prompt_ids, params)]
    alone = [generator.generate_ids([ids], params[:1])[0].token_ids for ids in prompt_ids]
    assert together == alone and all(len(t) == 4 for t in together)
    print(  # the numbers BENCHMARKS.md records (pytest -s)
        f"\n1.5B-shape: {time.perf_counter() - started:.0f} s, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB, "
        f"graph {(model_dir / 'model.onnx').stat().st_size / 2**20:.1f} MiB, "
        f"data {(model_dir / 'model.onnx.data').stat().st_size / 2**30:.2f} GiB, "
        f"build {manifest.build_seconds} s; phases from the start: "
        + ", ".join(f"{step} at {at:.0f} s" for step, at in phases)
    )
