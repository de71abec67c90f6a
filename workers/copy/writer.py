"""Marketing copy from a product record: best-of-N sampling over the prompts, every candidate through the gates, selection by likelihood and relevance.

Pure functions over records and a :class:`~workers.textgen.TextGenerator`; no Celery, no SQL.
A candidate is only ever delivered if it passes every gate; otherwise the slot reports why.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from contentfab.core.channels import Channel
from contentfab.core.errors import GenerationError
from contentfab.workers.copy.facts import said_price
from contentfab.workers.copy.points import compose, feature_points, selling_points
from contentfab.workers.copy.senses import instruction_clauses
from contentfab.workers.copy.sentences import is_planned, write_planned
from contentfab.workers.textgen import Generation, SamplingParams, TextGenerator

if TYPE_CHECKING:
    from contentfab.workers.embeddings import TextEmbedder
    from contentfab.workers.grounding import WordConstraint
from contentfab.workers.copy.dedupe import _dedupe_meta, _Embeddings, _is_new
from contentfab.workers.copy.gates import (
    _MINOR_WORDS,
    _name_used,
    check,
    clean,
    name_only,
    says_a_point,
    writes_sentences,
)
from contentfab.workers.copy.messages import build_messages, response_prefixes, token_budget
from contentfab.workers.copy.slots import (
    FLUENCY_FLOOR,
    GATES,
    RELEVANCE_WEIGHT,
    BrandRules,
    Candidate,
    CopyOutcome,
    CopySlot,
    ProductFacts,
    product_text,
)

# Where a single-line text may be cut short: a sentence end, or the end of a label ("Trail
# Thermos: …"); never a comma, which leaves the tail of a list or a clause behind.
_CLAUSE_END = re.compile(r"[.!?](?=\s|$)|[:–—](?=\s)|\s-\s")


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def options(generation: Generation, channel: Channel) -> list[str]:
    """Publishable-looking texts in one generation, longest first.

    The whole text, unless the token budget cut it off mid-sentence; then, because a small model
    often writes a good opening clause and keeps going, each complete leading clause (single-line
    channels) or the complete leading sentences (multi-line channels). A single-line text that
    opens with a label ("A Must-Have: The Harbor Tent") also offers what follows the label.
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
    label = None if channel.multiline or cut_off else _LABEL_END.search(text)
    if label is not None:
        rest = clean(text[label.end() :], channel)
        if len(rest.split()) >= 2 and rest not in found:
            found.append(rest)
    return sorted(found, key=len, reverse=True)


_LABEL_END = re.compile(r"[:–—](?=\s)\s*|\s-\s+")


def _first_publishable(
    generation: Generation, channel: Channel, product: ProductFacts, brand: BrandRules
) -> tuple[str | None, list[str]]:
    """The longest option passing every gate, or None and the gates the full text failed."""
    first_failures: list[str] | None = None
    for text in options(generation, channel):
        failed = check(text, channel, product, brand)
        if not failed:
            return text, []
        if first_failures is None:
            first_failures = failed
    return None, first_failures or ["truncated: the token budget cut the text off"]


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
    embedder: TextEmbedder | None = None,
    batch_size: int = 16,
    max_rounds: int = 3,
    grounded: bool = True,
    compose_short: bool = True,
    compose_sentences: bool = True,
) -> list[CopyOutcome]:
    """Best-of-N copy for every slot; one outcome per slot, in order.

    All candidates of all slots are sampled together in batches (prompts of similar length side
    by side). After each round every open slot, in order, takes its best-scoring candidate that
    passed the gates and is no near-duplicate of a text its group already has (delivered
    earlier or taken by a slot before it). A slot left without one is sampled again with new
    seeds, up to ``max_rounds``; after that it reports every gate reason instead of delivering
    weak copy.

    The score is the length-normalised log-likelihood. With a sentence ``embedder`` it also
    counts the candidate's relevance (cosine to the product text, times
    :data:`RELEVANCE_WEIGHT`), and a candidate whose embedding is within
    :data:`DUPLICATE_COSINE` of a text its group has is a duplicate too.

    ``grounded``: every sampled word must be one the product's vocabulary allows
    (:mod:`workers.grounding`, enforced while decoding). ``compose_short``: short single-line
    channels also rank candidates composed of the product's name and a selling point from its
    data (:func:`composed_candidates`). ``compose_sentences``: a sentence channel's fact the
    model said faithfully in no round is offered to the same gates as its record clause in
    the frame the model finds likeliest (:func:`workers.copy.compose.framed_sentences`).
    """
    grounding = getattr(generator, "grounding", None) if grounded else None
    # Sentence channels are written fact by fact (workers.copy.sentences) when decoding is
    # grounded: each sentence held to one fact's words.
    planned_slots = [s for s in slots if grounding is not None and is_planned(s)]
    started = time.perf_counter()
    planned = (
        write_planned(
            generator,
            planned_slots,
            batch_size=batch_size,
            max_rounds=max_rounds,
            variant_of=_variants(planned_slots),
            compose=compose_sentences,
        )
        if planned_slots
        else {}
    )
    prompts = {slot.key: generator.chat_prompt(build_messages(slot)) for slot in slots}
    best: dict[int, Candidate | None] = {slot.key: None for slot in slots}
    gate_counts: dict[int, Counter[str]] = {slot.key: Counter() for slot in slots}
    taken: dict[str, list[str]] = {}
    for slot in slots:
        taken.setdefault(slot.group_key, list(slot.delivered))
    embeddings = None if embedder is None else _Embeddings(embedder)
    if embeddings is not None:
        embeddings.add(product_text(slot.product) for slot in slots)
        embeddings.add(text for slot in slots for text in slot.delivered)
    fallback: dict[int, Candidate] = {}
    sampled: Counter[int] = Counter()
    tokens_sampled: Counter[int] = Counter()
    errors: dict[int, str] = {}
    pending = [slot for slot in slots if slot.key not in planned]
    for round_ in range(max_rounds):
        if not pending:
            break
        passed: dict[int, list[Candidate]] = {slot.key: [] for slot in pending}
        if round_ == 0 and compose_short:
            for slot in pending:
                for line in composed_candidates(slot):
                    passed[slot.key].append(
                        Candidate(
                            line,
                            Generation(line, [], "stop", 0.0, 0),
                            slot.sampling.seed,
                            [],
                            prefix=line,
                            composed=True,
                        )
                    )
        rows = [
            _Request(
                slot,
                params,
                prompts[slot.key] + prefix,
                prefix,
                None
                if grounding is None
                else grounding.constraint(slot.product.vocabulary(slot.brand), written=prefix),
            )
            for slot in pending
            for params, prefix in zip(
                _candidate_params(slot, round_), response_prefixes(slot, round_), strict=True
            )
        ]
        # Prompts of similar length side by side (a slot's candidates stay together).
        rows.sort(key=lambda row: len(prompts[row.slot.key]))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            for row, generation in zip(
                batch, _generate_isolating_failures(generator, batch, errors), strict=True
            ):
                if generation is None:
                    continue
                slot = row.slot
                sampled[slot.key] += 1
                tokens_sampled[slot.key] += len(generation.token_ids)
                if row.prefix:
                    if _glued(row.prefix, generation.text):
                        gate_counts[slot.key]["truncated"] += 1
                        continue
                    generation = replace(generation, text=row.prefix + generation.text)
                text, failed = _first_publishable(generation, slot.spec, slot.product, slot.brand)
                gate_counts[slot.key].update(reason.split(":")[0] for reason in failed)
                if text is not None:
                    passed[slot.key].append(
                        Candidate(text, generation, row.params.seed, [], row.prefix)
                    )
        _score_prefixes(generator, prompts, passed, batch_size)
        if embeddings is not None:
            embeddings.add(c.text for found in passed.values() for c in found)
            for slot in pending:
                about = product_text(slot.product)
                for c in passed[slot.key]:
                    c.relevance = embeddings.cosine(c.text, about)
        for slot in pending:
            group = taken[slot.group_key]
            ranked = sorted(passed[slot.key], key=lambda c: c.score, reverse=True)
            fluent = [c for c in ranked if c.logprob_per_token >= FLUENCY_FLOOR]
            gate_counts[slot.key]["fluency"] += len(ranked) - len(fluent)
            ranked = fluent
            fresh = [c for c in ranked if _is_new(c.text, group, embeddings)]
            gate_counts[slot.key]["duplicate"] += len(ranked) - len(fresh)
            saying_more = [c for c in fresh if not name_only(c.text, slot.product)]
            # A short line says a selling point from the data whenever one passed: beyond
            # the name and the title's own words ("Steel Bottle 750 ml" says nothing new).
            points = saying_more
            if not writes_sentences(slot.spec):
                points = [
                    c
                    for c in saying_more
                    if says_a_point(c.text, slot.product) or _priced(c.text, slot.product)
                ]
            if points or (fresh and round_ == max_rounds - 1):
                choice = (points or saying_more or fresh)[0]
                best[slot.key] = choice
                group.append(choice.text)
            elif fresh:
                # Only the name or the title's words passed: publishable, but no copy. Try
                # another round and keep the best so far in case that finds nothing better.
                keep, kept = (saying_more or fresh)[0], fallback.get(slot.key)
                if kept is None or (
                    name_only(kept.text, slot.product) and not name_only(keep.text, slot.product)
                ):
                    fallback[slot.key] = keep
        pending = [s for s in pending if best[s.key] is None and s.key not in errors]
    for slot in slots:
        kept = fallback.get(slot.key)
        if best[slot.key] is None and kept is not None:
            group = taken[slot.group_key]
            if _is_new(kept.text, group, embeddings):
                best[slot.key] = kept
                group.append(kept.text)
            else:
                gate_counts[slot.key]["duplicate"] += 1
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
            "tokens_sampled": tokens_sampled[slot.key],
            "gate_failures": {k: v for k, v in gate_counts[slot.key].items() if v},
            "dedupe": _dedupe_meta(embeddings),
            "grounding": {
                "decoding": grounding is not None,
                "lexicon": "workers/lexicon.txt",
                "vocabulary_words": len(slot.product.vocabulary(slot.brand).words),
            },
            "batch_seconds": round(elapsed, 3),
        }
        if slot.key in planned:
            text, error, details = planned[slot.key]
            meta.update(details)
            meta["gate_failures"] = details["gate_failures"]
            if text is not None:
                meta.update(
                    name_used=_name_used(text, slot.product),
                    name_only=name_only(text, slot.product),
                    gates_passed=list(GATES[1:]),
                )
            outcomes.append(CopyOutcome(slot.key, text, error, meta))
            continue
        if chosen is not None:
            meta.update(
                seed=chosen.seed,
                score=round(chosen.score, 4),
                score_details={
                    "logprob_per_token": round(chosen.logprob_per_token, 4),
                    "relevance": None if chosen.relevance is None else round(chosen.relevance, 4),
                    "relevance_weight": None if chosen.relevance is None else RELEVANCE_WEIGHT,
                },
                tokens=len(chosen.generation.token_ids),
                response_prefix="" if chosen.composed else chosen.prefix,
                source="composed" if chosen.composed else "model",
                name_used=_name_used(chosen.text, slot.product),
                name_only=name_only(chosen.text, slot.product),
                finish_reason=chosen.generation.finish_reason,
                gates_passed=list(GATES[1:]),
            )
            outcomes.append(CopyOutcome(slot.key, chosen.text, None, meta))
        elif slot.key in errors:
            outcomes.append(CopyOutcome(slot.key, None, errors[slot.key], meta))
        else:
            reasons = ", ".join(f"{k} ×{v}" for k, v in gate_counts[slot.key].most_common() if v)
            outcomes.append(
                CopyOutcome(
                    slot.key,
                    None,
                    f"no candidate passed the gates after {sampled[slot.key]} samples ({reasons})",
                    meta,
                )
            )
    return outcomes


def _variants(slots: Sequence[CopySlot]) -> dict[int, int]:
    """Each slot's variant number within its group (what the group delivered before counts)."""
    seen: Counter[str] = Counter()
    found = {}
    for slot in slots:
        found[slot.key] = len(slot.delivered) + seen[slot.group_key]
        seen[slot.group_key] += 1
    return found


def _glued(prefix: str, continuation: str) -> bool:
    """Whether the model ran the prefix's last word on into a new one ("Camp ChairSourcing")."""
    return bool(continuation) and prefix[-1].isalnum() and continuation[0].isalnum()


def _score_prefixes(
    generator: TextGenerator,
    prompts: dict[int, str],
    passed: dict[int, list[Candidate]],
    batch_size: int,
) -> None:
    """Give each passing candidate that started from a prefix the model's log-probability of
    that prefix (one teacher-forced pass per distinct prompt and prefix)."""
    pairs = sorted({(key, c.prefix) for key, found in passed.items() for c in found if c.prefix})
    by_pair: dict[tuple[int, str], tuple[float, int]] = {}
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        try:
            scores = generator.prefix_logprobs(
                [prompts[k] for k, _ in batch], [p for _, p in batch]
            )
        except GenerationError:  # scored without it: the candidates are still publishable
            scores = [(0.0, 0)] * len(batch)
        by_pair.update(zip(batch, scores, strict=True))
    for key, found in passed.items():
        for candidate in found:
            if candidate.prefix:
                candidate.prefix_logprob = by_pair[(key, candidate.prefix)]


@dataclass(frozen=True)
class _Request:
    """One candidate to sample: its slot, sampling parameters, prompt, answer prefix and its
    grounded-decoding constraint (None: free)."""

    slot: CopySlot
    params: SamplingParams
    prompt: str
    prefix: str
    constraint: WordConstraint | None = None


def composed_candidates(slot: CopySlot, limit: int = 6) -> list[str]:
    """For short single-line channels: the product's shortest name and a selling point from
    its own data ("Trail Thermos: Keeps drinks hot for 12 hours"), the combinations that fit
    the channel and pass every gate, at most ``limit``. They are ranked with the sampled
    candidates by the same score, so the model's likelihood decides which reads best."""
    channel = slot.spec
    if channel.multiline or channel.count == "words" or channel.max_chars > 60:
        return []
    # The fullest name that fits beside the point, a plain one (no size, code or comma) first:
    # "Ryōba Pull Saw: Double-edged", not "Pull Saw: …"; "Sunflower Hearts: …", not "Hearts:
    # …" (a head noun alone was labelled thin where the name fitted).
    names = sorted(
        slot.product.headline_names() if channel.headline else slot.product.names(),
        key=lambda name: (any(c.isdigit() or c in ",()" for c in name), -len(name)),
    )
    product = slot.product
    points = selling_points(product.title, product.description, product.attributes)
    # "Vitamin Softgels: Store below 25 °C", "Snap Mouse Traps: Wear gloves when setting and
    # emptying" (round 11: an instruction or a warning was labelled no selling point each
    # time): said beside the name only where nothing else fits
    instructions = instruction_clauses(slot.product.description)
    found: list[str] = []
    # "DCC Sound Decoder: Decoder with 16-bit sound", "Backpacking Tent: Dome tent": the point
    # says the name's head noun again (labelled repetitive), so only where nothing else fits
    repeating: list[str] = []
    for point in points:
        if any(
            point.casefold() in clause and not clause.startswith(point.casefold())
            for clause in instructions
        ):
            # "fabric scissors" of "Cut it with sharp fabric scissors" (round 24's headline
            # "Tufting Cloth, fabric scissors"): what the reader is told to use, not what the
            # product has; the whole instruction stays a last resort
            continue
        for name in names:
            # every way of putting them together that passes, at most two: the model's
            # likelihood picks between "Chalk Bag: Drawstring closure" and "Chalk Bag with
            # Drawstring Closure"
            passing = []
            for text in compose(name, point):
                if channel.headline and slot.brand.title_case_headlines:
                    text = _title_case(text)
                if not check(text, channel, slot.product, slot.brand):
                    passing.append(text)
                if len(passing) == 2:
                    break
            last_resort = (
                _repeats_head(name, point)
                or any(point.casefold() in clause for clause in instructions)
                or _title_numbers(point, slot.product.title)
            )
            (repeating if last_resort else found).extend(passing)
            if passing:
                break
        if len(found) >= limit:
            return found[:limit]
    if not found and not repeating:
        # Where no point fits beside the name, a feature its own clause says it has: "Hedge
        # Trimmer: Laser-cut blade" (such headlines were the bare name before)
        for point in feature_points(product.title, product.description):
            found.extend(_beside_a_name(slot, names, point))
    if not found:
        # Where nothing of the description fits beside the name, its price: a selling point
        # by the rubric ("Casserole Dish: 189 EUR", "Focus Mitts, 349 SEK"). Of the 25 labelled
        # headlines and subjects of rounds 1-22 that said a name and a price, 16 scored 2 and
        # the 1s wrote the price unlike the shop ("29.9 EUR"); the model's own short lines
        # where no point fitted were the bare name or the title cut ("Lockout Padlocks",
        # "Cash Drawer: Cd-410", round 22: scored 1 or 0).
        price = said_price(product)
        if price is not None:
            found.extend(_beside_a_name(slot, names, price))
    return found[:limit] if found else repeating[:limit]


def _beside_a_name(slot: CopySlot, names: Sequence[str], point: str) -> list[str]:
    """The first of ``names`` that ``point`` passes every gate beside: at most two ways of
    putting them together."""
    for name in names:
        texts = list(compose(name, point))
        if slot.spec.headline and slot.brand.title_case_headlines:
            texts = [_title_case(text) for text in texts]
        passing = [t for t in texts if not check(t, slot.spec, slot.product, slot.brand)][:2]
        if passing:
            return passing
    return []


def _priced(text: str, product: ProductFacts) -> bool:
    """Whether a short line says the product's price as the shop writes it ("Casserole Dish:
    189.00 EUR"): a selling point by the rubric, beside the name where nothing else fits."""
    price = said_price(product)
    return (
        price is not None and re.search(rf"(?<![\d.,]){re.escape(price)}(?!\w)", text) is not None
    )


def _repeats_head(name: str, point: str) -> bool:
    """Whether the point says the name's head noun again ("Hot-Wax Kit: Waxing kit with a
    1000 W iron", "Spores: Spores on rice flour"): round 5's labellers called it repetitive."""
    words = name.split()
    if not words:
        return False
    head = words[-1].casefold().rstrip("s")
    return any(w.casefold().strip(",;:()").rstrip("s") == head for w in point.split())


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _title_numbers(point: str, title: str) -> bool:
    """Whether a point's numbers are all the title's ("Solder Wire: 0.8 mm diameter" of "Lead-
    Free Solder Wire 0.8 mm"): of the 44 labelled composed headlines and subjects whose point
    said only the title's numbers, 14 scored 2; of the 216 that said other numbers, 162."""
    said = _NUMBER.findall(point)
    return bool(said) and set(said) <= set(_NUMBER.findall(title))


def _title_case(text: str) -> str:
    words = text.split(" ")
    return " ".join(
        w if (i and w.lower() in _MINOR_WORDS) or not w[:1].isalpha() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def _generate_isolating_failures(
    generator: TextGenerator, batch: list[_Request], errors: dict[int, str]
) -> list[Generation | None]:
    """Generate a batch; if it fails, retry row by row so one poison item fails alone."""
    try:
        generated: list[Generation | None] = list(_generate(generator, batch))
        return generated
    except GenerationError as exc:
        if len(batch) == 1:
            errors[batch[0].slot.key] = f"generation failed: {exc}"
            return [None]
    results: list[Generation | None] = []
    for request in batch:
        if request.slot.key in errors:
            results.append(None)
            continue
        try:
            results.extend(_generate(generator, [request]))
        except GenerationError as exc:
            errors[request.slot.key] = f"generation failed: {exc}"
            results.append(None)
    return results


def _generate(generator: TextGenerator, batch: list[_Request]) -> list[Generation]:
    prompts, params = [r.prompt for r in batch], [r.params for r in batch]
    if all(r.constraint is None for r in batch):
        return generator.generate(prompts, params)
    return generator.generate(prompts, params, [r.constraint for r in batch])
