"""The fused decoder graph (``exporters.fused_lm``) driven by the same decode loop: it must write
what the traced graph writes, and a row must write the same alone and in any batch."""

from __future__ import annotations

import numpy as np
import pytest

from contentfab.core.errors import ModelError
from contentfab.workers.textgen import SamplingParams, TextGenerator

from .test_textgen import PROMPTS, _chat_batch, with_manifest


@pytest.fixture(scope="module")
def fused(tiny_fused_generator: TextGenerator) -> TextGenerator:
    """The fused tiny model with no stop token, so every row runs to max_new_tokens."""
    return with_manifest(tiny_fused_generator, eos_token_ids=[-1])


@pytest.fixture(scope="module")
def traced(tiny_generator: TextGenerator) -> TextGenerator:
    return with_manifest(tiny_generator, eos_token_ids=[-1])


def _batch_of(prompts: list[str], size: int) -> list[str]:
    return [prompts[i % len(prompts)] for i in range(size)]


def test_the_manifest_names_the_fused_contract(tiny_fused_generator: TextGenerator) -> None:
    manifest = tiny_fused_generator.manifest
    assert manifest.name == "tiny-llama-fused"
    assert manifest.text_generation.decoder == "fused-gqa"
    assert [t["name"] for t in manifest.inputs[:3]] == [
        "input_ids",
        "seqlens_k",
        "total_sequence_length",
    ]
    assert manifest.parity["all_match"] and manifest.parity["top1_agreement"] == 1.0


def test_the_graph_has_fused_attention_and_no_cache_concatenation(
    tiny_fused_generator: TextGenerator,
) -> None:
    import onnx

    path = tiny_fused_generator.session._model_path  # type: ignore[attr-defined]
    ops = [node.op_type for node in onnx.load(path).graph.node]
    layers = int(tiny_fused_generator.manifest.text_generation.num_layers)
    assert ops.count("GroupQueryAttention") == layers
    assert not {"Concat", "Tile", "Expand", "Softmax"} & set(ops)


def test_greedy_tokens_equal_the_traced_graph(fused: TextGenerator, traced: TextGenerator) -> None:
    prompts, _ = _chat_batch(traced)
    prompts = [*PROMPTS, *prompts]
    params = [SamplingParams(max_new_tokens=12)] * len(prompts)
    ours = fused.generate(prompts, params)
    theirs = traced.generate(prompts, params)
    assert [g.token_ids for g in ours] == [g.token_ids for g in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert a.logprob_sum == pytest.approx(b.logprob_sum, abs=1e-3)


def test_forced_logits_equal_the_traced_graph(fused: TextGenerator, traced: TextGenerator) -> None:
    prompt_ids = [fused.encode(p) for p in PROMPTS]
    continuations = [[5, 9, 17, 33], [40], [7, 7, 8]]
    ours = fused.forced_logits(prompt_ids, continuations)
    theirs = traced.forced_logits(prompt_ids, continuations)
    for a, b, c in zip(ours, theirs, continuations, strict=True):
        assert a.shape == b.shape == (len(c), fused.vocab_size)
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=0)


@pytest.mark.parametrize("size", [8, 16])
def test_rows_write_the_same_alone_and_in_batches_of_8_and_16(
    fused: TextGenerator, size: int
) -> None:
    chats, _ = _chat_batch(fused)
    prompts = _batch_of([*PROMPTS, *chats], size)
    params = [
        SamplingParams(
            temperature=0.0 if i % 3 == 0 else 0.9,
            top_p=0.95,
            repetition_penalty=1.1 if i % 2 else 1.0,
            max_new_tokens=3 + i % 7,  # rows finish at different steps: the batch shrinks
            seed=i,
        )
        for i in range(size)
    ]
    batch = fused.generate(prompts, params)
    for prompt, p, in_batch in zip(prompts, params, batch, strict=True):
        [alone] = fused.generate([prompt], [p])
        assert alone.token_ids == in_batch.token_ids
        assert alone.logprob_sum == in_batch.logprob_sum  # bit for bit, not approximately


def test_rows_that_stop_early_leave_the_others_unchanged(fused: TextGenerator) -> None:
    prompts = _batch_of(PROMPTS, 8)
    [free] = fused.generate([PROMPTS[0]], [SamplingParams(max_new_tokens=10)])
    stop_token = free.token_ids[2]
    stopping = with_manifest(fused, eos_token_ids=[stop_token])
    params = [SamplingParams(max_new_tokens=10)] * len(prompts)
    rows = stopping.generate(prompts, params)
    assert rows[0].finish_reason == "stop"
    for prompt, row in zip(prompts, rows, strict=True):
        assert row.token_ids == stopping.generate([prompt], params[:1])[0].token_ids


def test_shared_heads_and_prompts_change_nothing(fused: TextGenerator) -> None:
    prompts, params = _chat_batch(fused)
    separate = with_manifest(fused)
    separate.share_prompts = False
    expected = separate.generate(prompts, params)
    shared = with_manifest(fused)
    got = shared.generate(prompts, params)
    assert [g.token_ids for g in got] == [g.token_ids for g in expected]
    head = shared._head[0]
    assert len(head) >= 16 and all(shared.encode(p)[: len(head)] == list(head) for p in prompts)
    # A later call reuses the cached head and still writes the same.
    later = shared.generate(prompts[3:], params[3:])
    assert [g.token_ids for g in later] == [g.token_ids for g in expected[3:]]


def test_prefix_logprobs_match_the_traced_graph(
    fused: TextGenerator, traced: TextGenerator
) -> None:
    prefixes = ["Meet the", "Free", " desk lamp"]
    ours = fused.prefix_logprobs(PROMPTS, prefixes)
    theirs = traced.prefix_logprobs(PROMPTS, prefixes)
    for (a, n), (b, m) in zip(ours, theirs, strict=True):
        assert n == m
        assert a == pytest.approx(b, abs=1e-3)


def test_the_fused_graph_refuses_another_provider(tiny_fused_generator: TextGenerator) -> None:
    with pytest.raises(ModelError, match="fused CPU decoder"):
        TextGenerator(
            tiny_fused_generator.manifest,
            tiny_fused_generator.session,
            tiny_fused_generator.tokenizer,
            "CUDAExecutionProvider",
        )


def test_prompts_of_equal_length_after_a_shared_head(fused: TextGenerator) -> None:
    # ONNX Runtime runs a multi-token call after a past one row at a time; distinct prompts of
    # the same length after the head must still each get their own cache.
    chat = fused.encode(fused.chat_prompt([{"role": "user", "content": "Write a headline."}]))
    prompts = [[*chat[:-2], token, chat[-1]] for token in (40, 41, 42, 43)]
    params = [SamplingParams(max_new_tokens=6)] * len(prompts)
    batch = fused.generate_ids(prompts, params)
    assert len(fused._head[0]) >= 16
    for ids, row in zip(prompts, batch, strict=True):
        separate = with_manifest(fused)
        separate.share_prompts = False
        assert separate.generate_ids([ids], params[:1])[0].token_ids == row.token_ids
    assert len({tuple(g.token_ids) for g in batch}) > 1
