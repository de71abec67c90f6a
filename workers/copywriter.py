"""Marketing copy from a product record: prompts, best-of-N sampling, gates, selection.

Pure functions over records and a :class:`~workers.textgen.TextGenerator`; no Celery, no SQL.
A candidate is only ever delivered if it passes every gate; otherwise the slot reports why.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from contentfab.channels import CHANNELS, Channel, limit, measure, word_count
from contentfab.errors import GenerationError
from workers.textgen import Generation, SamplingParams, TextGenerator


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    title: str
    description: str = ""
    category: str | None = None
    price: str | None = None  # decimal as text, exactly as stored
    currency: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def corpus(self) -> str:
        """Everything the copy may state as fact, as one lower-cased text."""
        parts = [self.title, self.description, self.category or "", self.currency or ""]
        if self.price is not None:
            parts.append(self.price)
        parts.extend(f"{key} {value}" for key, value in self.attributes.items())
        return " ".join(parts).lower()


@dataclass(frozen=True)
class CopySlot:
    """One deliverable: a product × channel × tone × variant, with its sampling policy."""

    key: int  # the job ID; opaque here
    product: ProductFacts
    channel: str
    tone: str
    sampling: SamplingParams
    candidates: int = 4
    brand_name: str | None = None
    brand_voice: str | None = None


@dataclass
class Candidate:
    text: str
    generation: Generation
    seed: int
    failed_gates: list[str]

    @property
    def score(self) -> float:
        return self.generation.logprob_sum / max(1, len(self.generation.token_ids))


@dataclass
class CopyOutcome:
    key: int
    text: str | None
    error: str | None
    meta: dict[str, Any]


EXAMPLE_PRODUCT = ProductFacts(
    sku="example",
    title="Alpine Trail Thermos 750 ml",
    description="Double-walled stainless steel bottle that keeps drinks hot for 12 hours.",
    category="Outdoor",
    price="29.90",
    currency="EUR",
)

#: One built-in example answer per channel, for the one-shot prompt.
EXAMPLES = {
    "search_headline": "Hot Coffee on Every Trail",
    "search_description": "Stainless steel thermos that keeps drinks hot for 12 hours. Shop now.",
    "email_subject": "Your trail coffee, still hot at the summit",
    "social_post": "Cold summit, hot coffee. The Alpine Trail Thermos keeps drinks hot for 12 "
    "hours in double-walled stainless steel.",
    "sms": "Alpine Trail Thermos: drinks stay hot for 12 hours. 29.90 EUR.",
    "product_description": "Take your favourite hot drink further. The Alpine Trail Thermos holds "
    "750 ml in a double-walled stainless steel body that keeps coffee or tea hot for 12 hours, "
    "from the first switchback to the summit. Its slim shape fits a pack's side pocket, and the "
    "sealed lid keeps your bag dry. A simple, sturdy companion for early starts and long days "
    "outside.",
}

CLAIM_WORDS = ("free", "guaranteed", "guarantee", "#1", "best", "cheapest", "lifetime", "sale")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+", re.UNICODE)
_PREFIX = re.compile(
    r"^(subject( line)?|headline|description|post|tweet|sms|copy|answer)\s*:\s*", re.IGNORECASE
)


def _facts_block(product: ProductFacts) -> str:
    lines = [f"Product: {product.title}"]
    if product.category:
        lines.append(f"Category: {product.category}")
    if product.price is not None:
        lines.append(f"Price: {product.price} {product.currency or ''}".rstrip())
    if product.description:
        lines.append(f"Details: {product.description[:600]}")
    if product.attributes:
        attrs = "; ".join(f"{k}: {v}" for k, v in list(product.attributes.items())[:12])
        lines.append(f"Attributes: {attrs}")
    return "\n".join(lines)


def build_messages(slot: CopySlot) -> list[dict[str, str]]:
    channel = CHANNELS[slot.channel]
    brand = f" for {slot.brand_name}" if slot.brand_name else ""
    voice = f" Brand voice: {slot.brand_voice}." if slot.brand_voice else ""
    system = (
        f"You are an expert marketing copywriter{brand}.{voice} Use only the facts given. Never "
        "invent prices, discounts, numbers, awards or guarantees. Reply with the copy only: no "
        "quotes, no labels, no explanations."
    )

    def ask(product: ProductFacts, tone: str) -> str:
        return f"{_facts_block(product)}\nTone: {tone}\nTask: {channel.instruction}"

    return [
        {"role": "system", "content": system},
        {"role": "user", "content": ask(EXAMPLE_PRODUCT, "neutral")},
        {"role": "assistant", "content": EXAMPLES.get(slot.channel, EXAMPLES["social_post"])},
        {"role": "user", "content": ask(slot.product, slot.tone)},
    ]


def clean(text: str, channel: Channel) -> str:
    """Strip the wrapping a small model adds around the copy itself."""
    text = text.strip()
    if channel.multiline:
        text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    else:
        text = text.splitlines()[0].strip() if text else text
    text = _PREFIX.sub("", text).strip()
    if len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        text = text[1:-1].strip()
    return text


def check(text: str, channel: Channel, product: ProductFacts) -> list[str]:
    """Names (with reasons) of the gates ``text`` fails; empty means publishable."""
    failed: list[str] = []
    if not text:
        return ["empty"]
    size, most = measure(channel, text), limit(channel, text)
    if size > most:
        failed.append(f"length: {size} > {most} ({channel.count}) for {channel.name}")
    n_words = word_count(text)
    if channel.min_words is not None and n_words < channel.min_words:
        failed.append(f"length: {n_words} words, fewer than {channel.min_words}")
    if channel.max_words is not None and n_words > channel.max_words:
        failed.append(f"length: {n_words} words, more than {channel.max_words}")
    words = _WORD.findall(text.lower())
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    if trigrams and trigrams.most_common(1)[0][1] > 1:
        failed.append("repetition: a three-word phrase repeats")
    facts = product.corpus()
    fact_numbers = {n.replace(",", ".") for n in _NUMBER.findall(facts)}
    invented = [n for n in _NUMBER.findall(text) if n.replace(",", ".") not in fact_numbers]
    if invented:
        failed.append(f"fact: number(s) not in the product data: {', '.join(invented[:3])}")
    claims = [w for w in CLAIM_WORDS if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text.lower())]
    unsupported = [w for w in claims if w not in facts]
    if unsupported:
        failed.append(f"fact: claim word(s) not in the product data: {', '.join(unsupported)}")
    return failed


def _candidate_params(slot: CopySlot, round_: int) -> list[SamplingParams]:
    base = slot.sampling
    return [
        replace(base, seed=(base.seed + 7919 * i + 104729 * round_) % (2**31))
        for i in range(slot.candidates)
    ]


def write_copy(
    generator: TextGenerator,
    slots: Sequence[CopySlot],
    *,
    batch_size: int = 16,
    max_rounds: int = 2,
) -> list[CopyOutcome]:
    """Best-of-N copy for every slot; one outcome per slot, in order.

    All candidates of all slots are sampled together in batches (prompts of similar length side
    by side). A slot whose candidates all fail a gate is sampled again with new seeds, up to
    ``max_rounds``; after that it reports every gate reason instead of delivering weak copy.
    """
    prompts = {slot.key: generator.chat_prompt(build_messages(slot)) for slot in slots}
    best: dict[int, Candidate | None] = {slot.key: None for slot in slots}
    gate_counts: dict[int, Counter[str]] = {slot.key: Counter() for slot in slots}
    sampled: Counter[int] = Counter()
    errors: dict[int, str] = {}
    started = time.perf_counter()
    pending = list(slots)
    for round_ in range(max_rounds):
        if not pending:
            break
        rows = [(slot, p) for slot in pending for p in _candidate_params(slot, round_)]
        rows.sort(key=lambda row: len(prompts[row[0].key]))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            for (slot, params), generation in zip(
                batch, _generate_isolating_failures(generator, prompts, batch, errors), strict=True
            ):
                if generation is None:
                    continue
                sampled[slot.key] += 1
                channel = CHANNELS[slot.channel]
                text = clean(generation.text, channel)
                failed = check(text, channel, slot.product)
                gate_counts[slot.key].update(reason.split(":")[0] for reason in failed)
                if failed:
                    continue
                candidate = Candidate(text, generation, params.seed, failed)
                current = best[slot.key]
                if current is None or candidate.score > current.score:
                    best[slot.key] = candidate
        pending = [s for s in pending if best[s.key] is None and s.key not in errors]
    elapsed = time.perf_counter() - started

    outcomes = []
    for slot in slots:
        chosen = best[slot.key]
        meta: dict[str, Any] = {
            "model": {
                "name": generator.name,
                "version": generator.version,
                "sha256": generator.model_sha256,
            },
            "device": generator.provider,
            "prompt": prompts[slot.key],
            "tone": slot.tone,
            "sampling": {
                "temperature": slot.sampling.temperature,
                "top_p": slot.sampling.top_p,
                "repetition_penalty": slot.sampling.repetition_penalty,
                "max_new_tokens": slot.sampling.max_new_tokens,
                "seed": slot.sampling.seed,
            },
            "candidates_per_round": slot.candidates,
            "candidates_sampled": sampled[slot.key],
            "gate_failures": dict(gate_counts[slot.key]),
            "batch_seconds": round(elapsed, 3),
        }
        if chosen is not None:
            meta.update(
                seed=chosen.seed,
                score=round(chosen.score, 4),
                tokens=len(chosen.generation.token_ids),
                finish_reason=chosen.generation.finish_reason,
            )
            outcomes.append(CopyOutcome(slot.key, chosen.text, None, meta))
        elif slot.key in errors:
            outcomes.append(CopyOutcome(slot.key, None, errors[slot.key], meta))
        else:
            reasons = ", ".join(f"{k} ×{v}" for k, v in gate_counts[slot.key].most_common())
            outcomes.append(
                CopyOutcome(
                    slot.key,
                    None,
                    f"no candidate passed the gates after {sampled[slot.key]} samples ({reasons})",
                    meta,
                )
            )
    return outcomes


def _generate_isolating_failures(
    generator: TextGenerator,
    prompts: dict[int, str],
    batch: list[tuple[CopySlot, SamplingParams]],
    errors: dict[int, str],
) -> list[Generation | None]:
    """Generate a batch; if it fails, retry row by row so one poison item fails alone."""
    try:
        return generator.generate([prompts[s.key] for s, _ in batch], [p for _, p in batch])
    except GenerationError as exc:
        if len(batch) == 1:
            errors[batch[0][0].key] = f"generation failed: {exc}"
            return [None]
    results: list[Generation | None] = []
    for slot, params in batch:
        if slot.key in errors:
            results.append(None)
            continue
        try:
            results.extend(generator.generate([prompts[slot.key]], [params]))
        except GenerationError as exc:
            errors[slot.key] = f"generation failed: {exc}"
            results.append(None)
    return results
