from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contentfab.core.errors import ExportError
from contentfab.exporters import ModelStore, build_from_hf
from contentfab.exporters.causal_lm import torch_greedy, validate_parity
from contentfab.workers.textgen import SamplingParams, TextGenerator

PROMPTS = [
    "Meet the lightweight running shoes",
    "<|im_start|>user\nWrite a headline for a premium desk lamp.<|im_end|>\n"
    "<|im_start|>assistant\n",
    "Free shipping on every",
]


def test_onnx_graph_matches_the_manifest_contract(tiny_generator: TextGenerator) -> None:
    manifest = tiny_generator.manifest
    graph_inputs = {i.name: i.type for i in tiny_generator.session.get_inputs()}
    graph_outputs = {o.name: o.type for o in tiny_generator.session.get_outputs()}
    types = {"int64": "tensor(int64)", "float32": "tensor(float)"}
    assert graph_inputs == {t["name"]: types[t["dtype"]] for t in manifest.inputs}
    assert graph_outputs == {t["name"]: types[t["dtype"]] for t in manifest.outputs}
    assert len(graph_inputs) == 3 + 2 * manifest.text_generation.num_layers


def test_greedy_tokens_equal_torch_on_a_left_padded_batch(
    tiny_generator: TextGenerator, tiny_torch_model: Any
) -> None:
    prompt_ids = [tiny_generator.encode(p) for p in PROMPTS]
    assert len({len(ids) for ids in prompt_ids}) == 3, "prompts must pad differently"
    reference, _ = torch_greedy(tiny_torch_model, prompt_ids, 12, tiny_generator.pad_token_id)
    # The tiny model's stop tokens would cut rows short; compare all 12 steps.
    no_stop = TextGenerator(
        tiny_generator.manifest.with_keys(eos_token_ids=[-1]),
        tiny_generator.session,
        tiny_generator.tokenizer,
        tiny_generator.provider,
    )
    generated = no_stop.generate_ids(prompt_ids, [SamplingParams(max_new_tokens=12)] * 3)
    assert [g.token_ids for g in generated] == reference


def test_manifest_records_parity(tiny_model_store: ModelStore) -> None:
    parity = tiny_model_store.manifest("tiny-llama").parity
    assert parity["all_match"] is True
    assert parity["top1_agreement"] == 1.0
    assert parity["max_abs_logit_diff"] < 1e-3
    assert len(parity["prompts"]) == 6


def test_parity_failure_lists_every_mismatching_prompt(tiny_generator: TextGenerator) -> None:
    from contentfab.exporters.tiny import build_tiny_model

    other_weights, _ = build_tiny_model("llama", seed=1)
    with pytest.raises(ExportError) as error:
        validate_parity(other_weights, tiny_generator, PROMPTS, max_new_tokens=8)
    message = str(error.value)
    assert "3 problem(s)" in message
    for i in range(3):
        assert f"prompt {i} " in message


def test_any_local_hf_checkpoint_of_a_second_family(tmp_path: Path) -> None:
    from contentfab.exporters.tiny import build_tiny_model, save_as_hf_directory

    model, tokenizer = build_tiny_model("qwen2", seed=3)
    save_as_hf_directory(model, tokenizer, tmp_path / "checkpoint")
    store = ModelStore(tmp_path / "store")

    manifest = build_from_hf(tmp_path / "checkpoint", "my-qwen", store, quantize="fp32")

    assert manifest.family == "qwen2"
    assert manifest.source["path"] == str((tmp_path / "checkpoint").resolve())
    assert manifest.parity["all_match"] is True
    assert store.is_valid("my-qwen")
    generator = TextGenerator.load(store.model_dir("my-qwen"))
    [generation] = generator.generate(["Save 20% on"], [SamplingParams(max_new_tokens=5)])
    assert generation.token_ids


def test_nbits8_quantization_builds_and_keeps_agreement(tmp_path: Path) -> None:
    from contentfab.exporters import build_model

    store = ModelStore(tmp_path)
    manifest = build_model("tiny-llama", store, quantize="nbits8")
    ops = _op_types(store.model_dir("tiny-llama") / "model.onnx")
    assert "MatMulNBits" in ops
    assert manifest.quantization == "nbits8"
    assert manifest.parity["exact_required"] is False
    assert manifest.parity["top1_agreement"] >= 0.85


def test_fp16_export_has_a_half_precision_cache_and_keeps_agreement(tmp_path: Path) -> None:
    import onnx

    from contentfab.exporters import build_model

    store = ModelStore(tmp_path)
    manifest = build_model("tiny-llama", store, quantize="fp16")
    model_dir = store.model_dir("tiny-llama")
    graph = onnx.load(str(model_dir / "model.onnx")).graph
    half = onnx.TensorProto.FLOAT16
    kinds = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.output]}
    assert kinds["past_key_values.0.key"] == half and kinds["present.0.value"] == half
    assert kinds["logits"] == half
    assert all(init.data_type != onnx.TensorProto.FLOAT for init in graph.initializer)
    assert manifest.quantization == "fp16"
    assert manifest.parity["exact_required"] is False
    assert manifest.parity["top1_agreement"] >= 0.85
    generator = TextGenerator.load(model_dir)
    [generation] = generator.generate(["Free shipping"], [SamplingParams(max_new_tokens=4)])
    assert len(generation.token_ids) >= 1
    [bound] = TextGenerator.load(model_dir, io_binding=True).generate(
        ["Free shipping"], [SamplingParams(max_new_tokens=4)]
    )
    assert bound.token_ids == generation.token_ids


def test_unknown_quantization_is_refused(tmp_path: Path) -> None:
    from contentfab.exporters import build_model

    with pytest.raises(ExportError, match="nbits8"):
        build_model("tiny-llama", ModelStore(tmp_path), quantize="int4")


def test_importing_exporters_does_not_import_torch() -> None:
    code = "import sys, exporters; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def _op_types(path: Path) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(str(path)).graph.node}
