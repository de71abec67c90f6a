"""The CUDA execution provider is really used, and its outputs match the CPU's.

Run on a GPU machine with ``pip install -e .[gpu]`` (onnxruntime-gpu instead of onnxruntime):
``pytest -m gpu``. Results of the last run are in BENCHMARKS.md ("GPU").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contentfab.exporters import ModelStore, build_model
from contentfab.workers import runtime
from contentfab.workers.textgen import SamplingParams, TextGenerator

pytestmark = pytest.mark.gpu

PROMPTS = [
    "Meet the lightweight running shoes you have been waiting for.",
    "Free shipping",
    "<|im_start|>user\nWrite a headline for a premium desk lamp.<|im_end|>\n"
    "<|im_start|>assistant\n",
]


def _endless(generator: TextGenerator) -> TextGenerator:
    return TextGenerator(
        {**generator.manifest, "eos_token_ids": [-1]},
        generator.session,
        generator.tokenizer,
        generator.provider,
        io_binding=generator.io_binding,
    )


def test_decoder_runs_on_the_device_and_keeps_its_cache_there(
    tiny_model_store: ModelStore, accelerator: str, device_name: str
) -> None:
    model_dir = tiny_model_store.model_dir("tiny-llama")
    generator = TextGenerator.load(model_dir, providers=[accelerator, runtime.CPU])
    assert generator.provider == accelerator
    assert generator.session.get_providers()[0] == accelerator
    if accelerator != runtime.CPU:
        assert generator.io_binding, "an accelerator keeps the cache on the device by default"
    generator = TextGenerator.load(model_dir, providers=[accelerator], io_binding=True)
    ids, mask = generator._left_pad([generator.encode(p) for p in PROMPTS])
    positions = np.clip(np.cumsum(mask, axis=1) - 1, 0, None)
    logits, past = generator._run(ids, mask, positions, generator._empty_cache(len(PROMPTS)))
    assert isinstance(logits, np.ndarray) and logits.shape[0] == len(PROMPTS)
    assert {value.device_name().lower() for value in past} == {device_name}


def test_decoder_logits_match_the_cpu(tiny_model_store: ModelStore, accelerator: str) -> None:
    model_dir = tiny_model_store.model_dir("tiny-llama")
    cpu = _endless(TextGenerator.load(model_dir))
    device = _endless(TextGenerator.load(model_dir, providers=[accelerator]))
    reference = cpu.generate(PROMPTS, [SamplingParams(max_new_tokens=12)] * 3)
    ids = [cpu.encode(p) for p in PROMPTS]
    forced = [g.token_ids for g in reference]
    for on_cpu, on_device in zip(
        cpu.forced_logits(ids, forced), device.forced_logits(ids, forced), strict=True
    ):
        # ONNX Runtime's CUDA provider runs float32 matrix products in TF32 on Ampere and newer
        # (its use_tf32 option, on by default): 10-bit mantissas. On an H100 the largest logit
        # difference was 2.2e-3 of the largest logit; a wrong cache position or mask is off by
        # the order of the logits themselves.
        scale = max(float(np.abs(on_cpu).max()), 1.0)
        tolerance = 5e-3 * scale
        assert float(np.abs(on_cpu - on_device).max()) <= tolerance
        # Where the CPU's choice is clear of that tolerance, the device makes the same choice.
        top2 = np.sort(on_cpu, axis=-1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 2 * tolerance
        assert np.array_equal(on_cpu.argmax(-1)[clear], on_device.argmax(-1)[clear])


@pytest.mark.slow
def test_smollm2_greedy_text_on_the_device_matches_the_cpu(
    smollm2_store: ModelStore, accelerator: str
) -> None:
    model_dir = smollm2_store.model_dir("smollm2-135m-instruct")
    cpu = TextGenerator.load(model_dir)
    device = TextGenerator.load(model_dir, providers=[accelerator])
    assert device.provider == accelerator
    prompts = [cpu.chat_prompt([{"role": "user", "content": p}]) for p in PROMPTS[:2]]
    prompts += [PROMPTS[2]]
    params = [SamplingParams(max_new_tokens=32)] * len(prompts)
    expected = cpu.generate(prompts, params)
    got = device.generate(prompts, params)
    # Kernels differ (TF32/cuBLAS vs MLAS), so a near-tie may flip late in a row; demand the
    # teacher-forced top-1 choices agree almost everywhere instead of exact text.
    ids = [cpu.encode(p) for p in prompts]
    forced = [g.token_ids for g in expected]
    agree = total = 0
    for a, b in zip(cpu.forced_logits(ids, forced), device.forced_logits(ids, forced), strict=True):
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
        total += a.shape[0]
    assert agree / total >= 0.97
    assert sum(g.text == e.text for g, e in zip(got, expected, strict=True)) >= 2


def test_fp16_export_on_the_device_agrees_with_fp32(tmp_path: Path, accelerator: str) -> None:
    fp32_store, fp16_store = ModelStore(tmp_path / "fp32"), ModelStore(tmp_path / "fp16")
    build_model("tiny-llama", fp32_store)
    build_model("tiny-llama", fp16_store, quantize="fp16")
    reference = _endless(TextGenerator.load(fp32_store.model_dir("tiny-llama")))
    half = _endless(TextGenerator.load(fp16_store.model_dir("tiny-llama"), providers=[accelerator]))
    assert half.provider == accelerator
    expected = reference.generate(PROMPTS, [SamplingParams(max_new_tokens=12)] * 3)
    ids = [reference.encode(p) for p in PROMPTS]
    forced = [g.token_ids for g in expected]
    agree = total = 0
    for a, b in zip(
        reference.forced_logits(ids, forced), half.forced_logits(ids, forced), strict=True
    ):
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
        total += a.shape[0]
    assert agree / total >= 0.85  # random weights: small top-1 margins (see exporters/build.py)


def test_sentence_embeddings_on_the_device_match_the_cpu(tmp_path: Path, accelerator: str) -> None:
    from contentfab.workers.embeddings import TextEmbedder

    store = ModelStore(tmp_path)
    build_model("tiny-bert", store)
    texts = ["trail running shoe", "premium espresso machine with a steam wand", "yoga mat"]
    cpu = TextEmbedder.load(store.model_dir("tiny-bert"))
    device = TextEmbedder.load(store.model_dir("tiny-bert"), providers=[accelerator])
    assert device.provider == accelerator
    cosine = (cpu.embed(texts) * device.embed(texts)).sum(axis=1)
    assert float(cosine.min()) >= 0.9999


def test_cppn_backgrounds_on_the_device_match_the_cpu(tmp_path: Path, accelerator: str) -> None:
    from contentfab.workers.images.background import BackgroundGenerator, BackgroundRequest

    store = ModelStore(tmp_path)
    build_model("cppn-backgrounds", store)
    model_dir = store.model_dir("cppn-backgrounds")
    cpu = BackgroundGenerator.load(model_dir)
    device = BackgroundGenerator.load(model_dir, providers=[accelerator])
    assert device.provider == accelerator
    style = next(iter(cpu.styles))
    requests = [
        BackgroundRequest(seed, style, [(20, 60, 120), (240, 230, 210)], 320, 200)
        for seed in range(4)
    ]
    for a, b in zip(cpu.render(requests), device.render(requests), strict=True):
        difference = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
        assert int(difference.max()) <= 2  # 8-bit pixels, rounding only
