"""The fused decoder graph as a build writes it: the store entry beside the traced one, exact
parity with torch, the quantised variant, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contentfab.core.errors import ExportError
from contentfab.exporters import ModelStore, build_from_hf, build_model
from contentfab.workers.textgen import SamplingParams, TextGenerator


def _op_types(path: Path) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(str(path)).graph.node}


def test_a_second_family_with_biases_matches_torch(tmp_path: Path) -> None:
    from contentfab.exporters.tiny import build_tiny_model, save_as_hf_directory

    model, tokenizer = build_tiny_model("qwen2", seed=3)  # qwen2: q/k/v projections have biases
    save_as_hf_directory(model, tokenizer, tmp_path / "checkpoint")
    store = ModelStore(tmp_path / "store")

    manifest = build_from_hf(tmp_path / "checkpoint", "my-qwen", store, fused=True)

    assert manifest.name == "my-qwen-fused" and store.is_valid("my-qwen-fused")
    assert not store.is_valid("my-qwen")  # the fused graph goes beside, not instead
    assert manifest.parity["all_match"] is True
    assert manifest.parity["top1_agreement"] == 1.0
    assert "GroupQueryAttention" in _op_types(store.model_dir("my-qwen-fused") / "model.onnx")


def test_a_fused_build_is_idempotent_and_kept_apart_from_the_traced_one(
    tiny_fused_store: ModelStore, tiny_fused_generator: TextGenerator
) -> None:
    traced = tiny_fused_store.manifest("tiny-llama")
    again = build_model("tiny-llama", tiny_fused_store, fused=True)
    assert again == tiny_fused_generator.manifest  # up to date: nothing rebuilt
    assert traced.text_generation.decoder is None and again.text_generation.decoder == "fused-gqa"
    assert again.source == traced.source


def test_nbits8_fused_builds_and_stays_batch_invariant(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    manifest = build_model("tiny-llama", store, fused=True, quantize="nbits8")
    model_dir = store.model_dir("tiny-llama-fused")
    assert "MatMulNBits" in _op_types(model_dir / "model.onnx")
    assert manifest.quantization == "nbits8"
    assert manifest.parity["top1_agreement"] >= 0.85
    # int8 activations, yet no padding anywhere: a row is bit-identical alone and in a batch.
    generator = TextGenerator.load(model_dir)
    generator = TextGenerator(
        generator.manifest.with_keys(eos_token_ids=[-1]),
        generator.session,
        generator.tokenizer,
        generator.provider,
    )
    prompts = ["Meet the lightweight running shoes", "Free shipping", "Save 20% on the desk lamp"]
    params = [SamplingParams(temperature=0.8, max_new_tokens=8, seed=i) for i in range(8)]
    batch = generator.generate([prompts[i % 3] for i in range(8)], params)
    for i, row in enumerate(batch):
        [alone] = generator.generate([prompts[i % 3]], [params[i]])
        assert alone.token_ids == row.token_ids
        assert alone.logprob_sum == row.logprob_sum
        assert np.isfinite(row.logprob_sum)


def test_what_a_fused_build_refuses(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ExportError, match="fp32 or nbits8"):
        build_model("tiny-llama", store, fused=True, quantize="fp16")
    with pytest.raises(ExportError, match="not a decoder"):
        build_model("tiny-bert", store, fused=True)
