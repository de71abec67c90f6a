from __future__ import annotations

import math

import numpy as np
import pytest

from contentfab.core.errors import GenerationError
from contentfab.workers.textgen import SamplingParams, TextGenerator

PROMPTS = [
    "Meet the lightweight running shoes you have been waiting for.",
    "Free shipping",
    "<|im_start|>user\nWrite a headline for a premium desk lamp.<|im_end|>\n"
    "<|im_start|>assistant\n",
]


def with_manifest(generator: TextGenerator, **changes: object) -> TextGenerator:
    return TextGenerator(
        generator.manifest.with_keys(**changes),
        generator.session,
        generator.tokenizer,
        generator.provider,
    )


@pytest.fixture(scope="module")
def endless(tiny_generator: TextGenerator) -> TextGenerator:
    """The tiny model with no stop token, so every row runs to max_new_tokens."""
    return with_manifest(tiny_generator, eos_token_ids=[-1])


def test_identity_comes_from_the_manifest(tiny_generator: TextGenerator) -> None:
    assert tiny_generator.name == "tiny-llama"
    assert tiny_generator.version == tiny_generator.manifest.version
    assert tiny_generator.model_sha256 == tiny_generator.manifest.files["model.onnx"]
    assert tiny_generator.provider == "CPUExecutionProvider"


def test_chat_prompt_renders_chatml(tiny_generator: TextGenerator) -> None:
    prompt = tiny_generator.chat_prompt([{"role": "user", "content": "Hi"}])
    assert prompt == (
        "<|im_start|>system\nYou are a helpful marketing copywriter.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_greedy_row_is_the_same_alone_and_in_a_batch(endless: TextGenerator) -> None:
    params = [SamplingParams(max_new_tokens=10)] * 3
    batch = endless.generate(PROMPTS, params)
    for prompt, in_batch in zip(PROMPTS, batch, strict=True):
        [alone] = endless.generate([prompt], params[:1])
        assert alone.token_ids == in_batch.token_ids
        assert alone.logprob_sum == pytest.approx(in_batch.logprob_sum, abs=1e-4)
    assert all(g.finish_reason == "length" and len(g.token_ids) == 10 for g in batch)


def test_sampled_row_with_a_seed_is_the_same_alone_and_in_a_batch(endless: TextGenerator) -> None:
    sampled = SamplingParams(temperature=1.0, top_p=0.9, max_new_tokens=12, seed=42)
    others = [SamplingParams(temperature=0.7, max_new_tokens=3, seed=1), SamplingParams()]
    [alone] = endless.generate([PROMPTS[0]], [sampled])
    in_batch = endless.generate(
        [PROMPTS[1], PROMPTS[0], PROMPTS[2]], [others[0], sampled, others[1]]
    )
    assert in_batch[1].token_ids == alone.token_ids
    assert in_batch[1].text == alone.text


def test_seed_changes_the_sample(endless: TextGenerator) -> None:
    samples = {
        tuple(
            endless.generate([PROMPTS[0]], [SamplingParams(temperature=1.5, seed=s)])[0].token_ids
        )
        for s in range(4)
    }
    assert len(samples) > 1


def test_top_p_near_zero_is_greedy(endless: TextGenerator) -> None:
    greedy = endless.generate(PROMPTS, [SamplingParams(max_new_tokens=8)] * 3)
    nucleus = endless.generate(
        PROMPTS,
        [SamplingParams(temperature=1.0, top_p=1e-6, max_new_tokens=8, seed=i) for i in range(3)],
    )
    assert [g.token_ids for g in nucleus] == [g.token_ids for g in greedy]


def test_logprob_sum_scores_the_chosen_tokens(endless: TextGenerator) -> None:
    [generation] = endless.generate([PROMPTS[0]], [SamplingParams(max_new_tokens=6)])
    [logits] = endless.forced_logits([endless.encode(PROMPTS[0])], [generation.token_ids])
    logits = logits.astype(np.float64)
    log_softmax = (
        logits
        - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - logits.max(-1, keepdims=True)
    )
    expected = sum(log_softmax[i, t] for i, t in enumerate(generation.token_ids))
    assert generation.logprob_sum == pytest.approx(expected, abs=1e-3)
    assert generation.logprob_sum < 0


def test_repetition_penalty_changes_the_output(endless: TextGenerator) -> None:
    plain = endless.generate(PROMPTS, [SamplingParams(max_new_tokens=16)] * 3)
    penalised = endless.generate(
        PROMPTS, [SamplingParams(max_new_tokens=16, repetition_penalty=1.8)] * 3
    )
    assert [g.token_ids for g in plain] != [g.token_ids for g in penalised]
    # A strong penalty lowers how often the greedy text repeats itself.
    repeats = lambda gs: sum(len(g.token_ids) - len(set(g.token_ids)) for g in gs)  # noqa: E731
    assert repeats(penalised) <= repeats(plain)


@pytest.mark.parametrize("penalty", [0.5, 1.0001, 50.0])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_any_repetition_penalty_generates(
    endless: TextGenerator, penalty: float, temperature: float
) -> None:
    params = SamplingParams(temperature=temperature, repetition_penalty=penalty, max_new_tokens=8)
    for generation in endless.generate(PROMPTS, [params] * 3):
        assert len(generation.token_ids) == 8
        assert all(0 <= t < endless.vocab_size for t in generation.token_ids)
        assert math.isfinite(generation.logprob_sum)


def test_rows_stop_on_their_own_stop_token(endless: TextGenerator) -> None:
    [free] = endless.generate([PROMPTS[0]], [SamplingParams(max_new_tokens=10)])
    stop_token = free.token_ids[3]
    first = free.token_ids.index(stop_token)
    stopping = with_manifest(endless, eos_token_ids=[stop_token])

    rows = stopping.generate(PROMPTS[:2], [SamplingParams(max_new_tokens=10)] * 2)

    assert rows[0].finish_reason == "stop"
    assert rows[0].token_ids == free.token_ids[: first + 1]
    assert rows[0].text == stopping.decode(free.token_ids[:first])
    # The other row runs on; dropping the finished row from the batch does not disturb it.
    [second_alone] = stopping.generate(PROMPTS[1:2], [SamplingParams(max_new_tokens=10)])
    assert rows[1].token_ids == second_alone.token_ids


def test_max_new_tokens_is_per_row(endless: TextGenerator) -> None:
    lengths = [1, 7, 3]
    rows = endless.generate(PROMPTS, [SamplingParams(max_new_tokens=n) for n in lengths])
    assert [len(g.token_ids) for g in rows] == lengths
    assert {g.finish_reason for g in rows} == {"length"}
    assert [g.prompt_tokens for g in rows] == [len(endless.encode(p)) for p in PROMPTS]


def test_empty_prompt_is_a_generation_error(tiny_generator: TextGenerator) -> None:
    with pytest.raises(GenerationError, match="prompt 1 is empty"):
        tiny_generator.generate(["Hello", ""], [SamplingParams()] * 2)


def test_token_outside_the_vocabulary_is_a_generation_error(tiny_generator: TextGenerator) -> None:
    with pytest.raises(GenerationError, match="outside the vocabulary"):
        tiny_generator.generate_ids([[5, 10**6]], [SamplingParams()])


def test_prompt_longer_than_the_context_is_a_generation_error(
    tiny_generator: TextGenerator,
) -> None:
    limit = tiny_generator.max_context
    with pytest.raises(GenerationError, match=f"reads at most {limit}"):
        tiny_generator.generate_ids([[5] * (limit + 88)], [SamplingParams()])


def test_a_failing_session_is_a_generation_error(tiny_generator: TextGenerator) -> None:
    wrong = with_manifest(tiny_generator, num_kv_heads=3)
    with pytest.raises(GenerationError, match="failed on a batch of 1"):
        wrong.generate(["Hello"], [SamplingParams()])


def test_invalid_sampling_params_are_refused() -> None:
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1.0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)


@pytest.mark.parametrize("mass", [0.5, 0.9, 0.999999])
@pytest.mark.parametrize("peaked", [True, False])
def test_nucleus_order_equals_a_full_sort(mass: float, peaked: bool) -> None:
    from contentfab.workers.sampling import by_probability as _by_probability

    rng = np.random.default_rng(0)
    logits = rng.normal(size=49152) * (8.0 if peaked else 0.01)
    logits[[3, 7, 11]] = logits.max()  # ties are broken by token id, as in a stable sort
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    full = np.argsort(-probs, kind="stable")
    fast = _by_probability(probs, mass)
    needed = int(np.searchsorted(np.cumsum(probs[full]), mass)) + 1
    assert len(fast) >= needed
    assert fast[:needed].tolist() == full[:needed].tolist()


def bound(generator: TextGenerator, **changes: object) -> TextGenerator:
    """The same model with its cache kept in ORT values through IOBinding (CPU device here)."""
    return TextGenerator(
        generator.manifest.with_keys(**changes),
        generator.session,
        generator.tokenizer,
        generator.provider,
        io_binding=True,
    )


def test_io_binding_is_off_on_cpu_unless_asked(tiny_generator: TextGenerator) -> None:
    assert not tiny_generator.io_binding
    assert bound(tiny_generator).io_binding


def test_io_bound_cache_generates_the_same_rows(endless: TextGenerator) -> None:
    """Rows that finish at different steps exercise the lazy compaction of the bound cache."""
    prompts = PROMPTS * 3
    params = [
        SamplingParams(
            temperature=0.9 if i % 2 else 0.0,
            top_p=0.9,
            repetition_penalty=1.1,
            max_new_tokens=2 + 3 * i,  # 2, 5, 8, ... finish one after another
            seed=i,
        )
        for i in range(len(prompts))
    ]
    plain = endless.generate(prompts, params)
    bound_generator = bound(endless, eos_token_ids=[-1])
    with_binding = bound_generator.generate(prompts, params)
    assert [g.token_ids for g in with_binding] == [g.token_ids for g in plain]
    for a, b in zip(with_binding, plain, strict=True):
        assert a.logprob_sum == pytest.approx(b.logprob_sum, abs=1e-4)
        assert a.finish_reason == b.finish_reason


def test_io_bound_cache_stops_rows_on_their_stop_token(endless: TextGenerator) -> None:
    [free] = endless.generate([PROMPTS[0]], [SamplingParams(max_new_tokens=10)])
    stop_token = free.token_ids[2]
    plain = with_manifest(endless, eos_token_ids=[stop_token])
    params = [SamplingParams(max_new_tokens=10)] * 3
    expected = plain.generate(PROMPTS, params)
    got = bound(endless, eos_token_ids=[stop_token]).generate(PROMPTS, params)
    assert [g.token_ids for g in got] == [g.token_ids for g in expected]
    assert got[0].finish_reason == "stop"


def test_io_bound_forced_logits_match(endless: TextGenerator) -> None:
    ids = [endless.encode(p) for p in PROMPTS]
    continuations = [[5, 6, 7], [8], [9, 10]]
    plain = endless.forced_logits(ids, continuations)
    got = bound(endless).forced_logits(ids, continuations)
    for a, b in zip(got, plain, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def _chat_batch(generator: TextGenerator) -> tuple[list[str], list[SamplingParams]]:
    """Best-of-3 for three requests whose prompts share a long system message and example."""
    head = [
        {"role": "system", "content": "You write short, factual marketing copy. " * 6},
        {"role": "user", "content": "Product: Alpine Trail Thermos\nWrite a headline."},
        {"role": "assistant", "content": "Alpine Trail Thermos"},
    ]
    asks = ["Product: Harbor Tent", "Product: Ridge Lamp 300 lm, rechargeable", "Product: Mug"]
    prompts = [
        generator.chat_prompt([*head, {"role": "user", "content": f"{ask}\nWrite a headline."}])
        for ask in asks
        for _ in range(3)
    ]
    params = [
        SamplingParams(
            temperature=0.9, top_p=0.95, repetition_penalty=1.1, max_new_tokens=2 + i, seed=i
        )
        for i in range(len(prompts))
    ]
    return prompts, params


@pytest.mark.parametrize("io_binding", [False, True])
def test_shared_prompts_and_heads_are_run_once_and_change_nothing(
    endless: TextGenerator, io_binding: bool
) -> None:
    prompts, params = _chat_batch(endless)
    separate = bound(endless, eos_token_ids=[-1]) if io_binding else with_manifest(endless)
    separate.share_prompts = False
    expected = separate.generate(prompts, params)
    shared = bound(endless, eos_token_ids=[-1]) if io_binding else with_manifest(endless)
    calls: list[int] = []
    run = shared._run

    def counting(input_ids: np.ndarray, *rest: object) -> object:
        calls.append(input_ids.shape[0])
        return run(input_ids, *rest)  # type: ignore[arg-type]

    shared._run = counting  # type: ignore[method-assign]
    got = shared.generate(prompts, params)
    assert [g.token_ids for g in got] == [g.token_ids for g in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.logprob_sum == pytest.approx(b.logprob_sum, abs=1e-4)
        assert a.finish_reason == b.finish_reason
    # The shared head once (a batch of one), then the three distinct prompts' own tokens.
    assert calls[:2] == [1, 3]
    head = shared._head[0]
    assert len(head) >= 16 and all(shared.encode(p)[: len(head)] == list(head) for p in prompts)

    # A later batch that shares the head reuses it; one that does not share it runs whole.
    calls.clear()
    later = shared.generate(prompts[3:], params[3:])
    assert calls[0] == 2  # no head run this time
    assert [g.token_ids for g in later] == [g.token_ids for g in expected[3:]]
    calls.clear()
    unrelated = shared.generate(PROMPTS, [SamplingParams(max_new_tokens=4)] * 3)
    alone = [separate.generate([p], [SamplingParams(max_new_tokens=4)])[0] for p in PROMPTS]
    assert [g.token_ids for g in unrelated] == [g.token_ids for g in alone]
    assert calls[0] == 3


def test_prefix_logprobs_score_the_prefix_as_generating_it_would(endless: TextGenerator) -> None:
    prompt = PROMPTS[1]  # its greedy tokens decode to text that encodes back to them
    [free] = endless.generate([prompt], [SamplingParams(max_new_tokens=3)])
    # The three greedy tokens, written into the prompt as the start of the answer.
    assert endless.encode(prompt + free.text) == endless.encode(prompt) + free.token_ids
    [(logprob, tokens)] = endless.prefix_logprobs([prompt], [free.text])
    assert tokens == 3
    assert logprob == pytest.approx(free.logprob_sum, abs=1e-4)
    assert endless.prefix_logprobs([prompt], [""]) == [(0.0, 0)]
