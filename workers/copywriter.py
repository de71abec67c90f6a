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
)

#: Per channel: the instruction a small model follows best (words, not characters — it cannot
#: count characters), a one-shot example answer, and a token budget that fits the limit.
PROMPTS: dict[str, tuple[str, str, int]] = {
    "search_headline": (
        "Write one search ad headline of two to five words that names the product.",
        "Alpine Trail Thermos",
        16,
    ),
    "search_description": (
        "Write one search ad description: a single sentence of at most 14 words.",
        "Steel thermos that keeps drinks hot for 12 hours. Ready for the trail.",
        40,
    ),
    "email_subject": (
        "Write one short email subject line about this product.",
        "Your Alpine Trail Thermos: hot coffee at the summit",
        24,
    ),
    "social_post": (
        "Write one short social media post of one or two sentences.",
        "Cold summit, hot coffee: the Alpine Trail Thermos keeps drinks hot for 12 hours.",
        80,
    ),
    "sms": (
        "Write one short SMS marketing message of one sentence.",
        "Alpine Trail Thermos: your coffee stays hot for 12 hours on any trail.",
        56,
    ),
    "product_description": (
        "Write a product description of 50 to 150 words.",
        "Take your favourite hot drink further. The Alpine Trail Thermos holds 750 ml in a "
        "double-walled stainless steel body that keeps coffee or tea hot for 12 hours, from the "
        "first switchback to the summit. Its slim shape fits a pack's side pocket, and the sealed "
        "lid keeps your bag dry. A simple, sturdy companion for early starts and long days "
        "outside.",
        240,
    ),
}

CLAIM_WORDS = ("free", "guaranteed", "guarantee", "#1", "best", "cheapest", "lifetime", "sale")
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "with",
        "to",
        "in",
        "on",
        "at",
        "by",
        "from",
        "your",
        "our",
        "you",
        "we",
        "is",
        "are",
        "this",
        "that",
        "set",
        "new",
        "pack",
    ]
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+", re.UNICODE)
_PREFIX = re.compile(
    r"^(subject( line)?|email subject|headline|description|post|tweet|sms|copy|answer)\s*:\s*",
    re.IGNORECASE,
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


def _instruction(channel: Channel) -> tuple[str, str, int | None]:
    if channel.name in PROMPTS:
        return PROMPTS[channel.name]
    return channel.instruction, PROMPTS["social_post"][1], None


def token_budget(slot: CopySlot) -> int:
    """The campaign's max_new_tokens, capped by what the channel can hold."""
    cap = _instruction(CHANNELS[slot.channel])[2]
    return slot.sampling.max_new_tokens if cap is None else min(cap, slot.sampling.max_new_tokens)


def build_messages(slot: CopySlot) -> list[dict[str, str]]:
    instruction, example, _ = _instruction(CHANNELS[slot.channel])
    brand = f" for {slot.brand_name}" if slot.brand_name else ""
    voice = f" Brand voice: {slot.brand_voice}." if slot.brand_voice else ""
    system = (
        f"You are a marketing copywriter{brand}.{voice} You reply with the requested copy only. "
        "Use only the facts given: never invent prices, discounts, numbers or guarantees."
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{_facts_block(EXAMPLE_PRODUCT)}\n\n{instruction}"},
        {"role": "assistant", "content": example},
        {
            "role": "user",
            "content": f"{_facts_block(slot.product)}\nTone: {slot.tone}\n\n{instruction}",
        },
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
    fourgrams = Counter(zip(words, words[1:], words[2:], words[3:], strict=False))
    if (trigrams and trigrams.most_common(1)[0][1] > 2) or (
        fourgrams and fourgrams.most_common(1)[0][1] > 1
    ):
        failed.append("repetition: a phrase repeats")
    if not _mentions_product(words, product):
        failed.append("relevance: names nothing from the product's title or category")
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


_CLAUSE_END = re.compile(r"[.!?](?=\s|$)|[:;,–—](?=\s)|\s-\s")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def options(generation: Generation, channel: Channel) -> list[str]:
    """Publishable-looking texts in one generation, longest first.

    The whole text, unless the token budget cut it off mid-sentence; then, because a small model
    often writes a good opening clause and keeps going, each complete leading clause (single-line
    channels) or the complete leading sentences (multi-line channels).
    """
    raw = generation.text.strip()
    text = clean(raw, channel)
    cut_off = generation.finish_reason == "length" and (channel.multiline or "\n" not in raw)
    found = [] if cut_off else [text]
    ends = _CLAUSE_END if not channel.multiline else _SENTENCE_END
    for match in ends.finditer(text):
        keep = match.group() in ".!?"
        prefix = clean(text[: match.start() + (1 if keep else 0)], channel)
        if len(prefix.split()) >= 2 and prefix not in found:
            found.append(prefix)
    return sorted(found, key=len, reverse=True)


def _first_publishable(
    generation: Generation, channel: Channel, product: ProductFacts
) -> tuple[str | None, list[str]]:
    """The longest option passing every gate, or None and the gates the full text failed."""
    first_failures: list[str] | None = None
    for text in options(generation, channel):
        failed = check(text, channel, product)
        if not failed:
            return text, []
        if first_failures is None:
            first_failures = failed
    return None, first_failures or ["truncated: the token budget cut the text off"]


def _mentions_product(words: list[str], product: ProductFacts) -> bool:
    """At least one content word of the title or category (or its plural) appears."""
    keys = {
        w
        for w in _WORD.findall(f"{product.title} {product.category or ''}".lower())
        if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()
    }
    text_words = set(words)
    return any(
        k in text_words or f"{k}s" in text_words or k.rstrip("s") in text_words for k in keys
    )


def _candidate_params(slot: CopySlot, round_: int) -> list[SamplingParams]:
    base = replace(slot.sampling, max_new_tokens=token_budget(slot))
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
                text, failed = _first_publishable(generation, channel, slot.product)
                gate_counts[slot.key].update(reason.split(":")[0] for reason in failed)
                if text is None:
                    continue
                candidate = Candidate(text, generation, params.seed, [])
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
        generated: list[Generation | None] = list(
            generator.generate([prompts[s.key] for s, _ in batch], [p for _, p in batch])
        )
        return generated
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
