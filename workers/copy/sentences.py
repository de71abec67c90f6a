"""Long copy written one fact at a time, each sentence held to that fact's own words.

Grounded decoding over a whole product's vocabulary keeps invented words out, but a small model
still combines true words into false statements: the trimmer's "2.4 kg" becomes "a 2.4 kg
battery", a desk's width becomes its height. So copy that is sentences (product descriptions,
e-mail bodies, SMS, ad primary text, social posts) is written the way an editor would check it:
the record is split into facts (a sentence of its description, an attribute, the price), and
the model writes one sentence per fact with a vocabulary of only that fact's words, the product's
names, the brand kit and the lexicon of non-factual words. A number can only be the fact's own;
a word of another fact cannot be attached to it. Each sentence passes the gates on its own
(grounding to its fact, numbers, fragment, fluency, no negation the fact does not write), the
best of several candidates is kept, and the text is the kept sentences in the record's order,
checked again as a whole by every channel gate.

A fact the model says faithfully in no round is said with the record's own clause in a frame
the model chooses (:mod:`workers.copy.compose`): grounded by construction, and still held to
every gate. A slot whose facts give too little to say fails with that reason instead of
padding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from contentfab.core.errors import GenerationError
from contentfab.workers.grounding import gate_words
from contentfab.workers.textgen import Generation, SamplingParams

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import CopySlot, ProductFacts
    from contentfab.workers.textgen import TextGenerator
from contentfab.core.channels import limit, measure, word_count
from contentfab.workers.copy.compose import _compose_open
from contentfab.workers.copy.dedupe import near_duplicate
from contentfab.workers.copy.facts import (
    MULTI_SENTENCE,
    SENTENCE_CHANNELS,
    SENTENCE_TOKENS,
    Plan,
    SentenceCandidate,
    _named,
    fact_vocabulary,
    facts,
)
from contentfab.workers.copy.gates import check, find_term, says_a_point
from contentfab.workers.copy.plan import (
    _brand,
    _caveat,
    _consider,
    _lead,
    _messages,
    _open_facts,
    plan_for,
)
from contentfab.workers.copy.senses import plural_name
from contentfab.workers.copy.text import DANGLING, _plain


def write_planned(
    generator: TextGenerator,
    slots: Sequence[CopySlot],
    *,
    batch_size: int,
    max_rounds: int,
    variant_of: dict[int, int],
    compose: bool = True,
) -> dict[int, tuple[str | None, str | None, dict[str, Any]]]:
    """Write each slot fact by fact; per slot key: (text, error, meta). ``compose``: a fact
    the model said faithfully in no round gets its own clause in the frame the model finds
    likeliest (:func:`_compose_open`), through the same gates."""
    plans = {slot.key: plan_for(slot) for slot in slots}
    for plan in plans.values():
        opened = _open_facts(plan, variant_of.get(plan.slot.key, 0))
        if plan.slot.channel not in MULTI_SENTENCE and opened:
            plan.lead = _lead(plan, variant_of.get(plan.slot.key, 0))
    grounding = generator.grounding
    for round_ in range(max_rounds):
        rows: list[tuple[Plan, int, SamplingParams, str, Any, str]] = []
        for plan in plans.values():
            slot = plan.slot
            name = min(slot.product.names(), key=len)
            for index in _open_facts(plan, variant_of.get(slot.key, 0), round_):
                fact = plan.facts[index]
                if compose and fact.kind in ("price", "close"):
                    # The price is said in a frame ("It costs 14.50 GBP."): every price the
                    # model wrote around it was labelled clumsy or nonsense ("…, and the price
                    # is in the price of a towel", "is the price of a sheet A4"). So is the
                    # closing line (:func:`_closing_line`): of the six closing lines the model
                    # wrote in labelled descriptions of rounds 1-6, five scored 0 ("They can
                    # choose the Sunflower Hearts.", "Choose from 1077 kids' ski helmets.")
                    # and one 1; both composed ones scored 2.
                    continue
                vocabulary = fact_vocabulary(slot.product, slot.brand, fact)
                prompt = generator.chat_prompt(_messages(slot, fact, name))
                per_fact = slot.candidates if slot.channel in MULTI_SENTENCE else 2
                for i in range(per_fact):
                    seed = (slot.sampling.seed + 7919 * i + 104729 * round_ + 31 * index) % 2**31
                    params = replace(
                        slot.sampling,
                        seed=seed,
                        max_new_tokens=min(SENTENCE_TOKENS, slot.sampling.max_new_tokens),
                    )
                    if round_ == 0 and i < 2:
                        # The first two candidates of a fact are greedy: the model's plainest
                        # way to say it, which most often keeps to the fact; the others sample.
                        params = replace(params, temperature=0.0)
                    # Later sentences of a long text: half start with "It", so that the text
                    # does not name the product in every sentence; a sentence on its own (an
                    # SMS): half start with the product's name, which it must say.
                    prefix = ""
                    if i % 2 and slot.channel in MULTI_SENTENCE and index:
                        prefix = "They" if plural_name(name, slot.product) else "It"
                    elif i % 2 and slot.channel not in MULTI_SENTENCE:
                        prefix = _named(name)
                    constraint = grounding.constraint(vocabulary, written=prefix)
                    rows.append((plan, index, params, prompt + prefix, constraint, prefix))
        if not rows:
            break
        rows.sort(key=lambda row: len(row[3]))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            for (plan, index, params, _p, _c, prefix), generation in zip(
                batch, _generate(generator, batch), strict=True
            ):
                if generation is None:
                    plan.fail("generation: failed")
                    continue
                plan.sampled += 1
                plan.tokens += len(generation.token_ids)
                if prefix and generation.text[:1].isalnum():
                    plan.fail("truncated: ran on from its opening word")
                    continue
                text = prefix + generation.text if prefix else generation.text
                _consider(plan, index, params.seed, replace(generation, text=text))
    if compose:
        _compose_open(generator, plans, variant_of, batch_size)
    return {key: _assemble(plan) for key, plan in plans.items()}


def _assemble(plan: Plan) -> tuple[str | None, str | None, dict[str, Any]]:
    """The slot's text from its facts' passing sentences, in the record's order: the first
    sentence names the product (where the channel asks for it), no sentence repeats a phrase
    of an earlier one; checked as a whole by every channel gate."""

    slot = plan.slot
    chosen: list[SentenceCandidate] = []
    if slot.channel in MULTI_SENTENCE:
        order = sorted(plan.passed, key=lambda i: (_caveats_last(plan, i), i))
        opener = _opener(plan, order)
        if opener is not None:
            chosen.append(opener)
            order = [i for i in order if i != opener.fact]
        names = {w.casefold() for n in slot.product.names() for w in gate_words(n)}
        names |= {"the", "a", "an", "your", "our", "this"}
        for index in order:
            for candidate in plan.passed[index]:
                earlier = [c.text for c in chosen]
                if not _repeats(candidate.text, earlier, names) and not _repetitive(
                    " ".join([*earlier, candidate.text])
                ):
                    chosen.append(candidate)
                    break
        if slot.channel == "product_description":
            chosen = _fewest(plan, chosen, slot.spec.min_words or 0)
        # A product description ends on the product, not on a call to action, unless it
        # needs the closing line to reach the channel's length.
        if (
            slot.channel == "product_description"
            and len(chosen) > 1
            and plan.facts[chosen[-1].fact].kind == "close"
            and word_count(" ".join(c.text for c in chosen[:-1])) >= (slot.spec.min_words or 0)
        ):
            chosen.pop()
        # Too long for the channel: leave out the last facts (the closing line stays).
        while len(chosen) > 1 and _too_long(chosen, slot):
            closing = chosen[-1] if plan.facts[chosen[-1].fact].kind == "close" else None
            drop = -2 if closing is not None and len(chosen) > 2 else -1
            chosen.pop(drop)
        closing = _closing_line(plan, chosen)
        if closing is not None:
            chosen.append(closing)
        shorter = chosen[:1] + [_pronoun_for_name(c, slot.product) for c in chosen[1:]]
        if word_count(" ".join(c.text for c in shorter)) >= (slot.spec.min_words or 0):
            chosen = shorter  # not where the name's words are what reaches the length
        text = " ".join(c.text for c in chosen) if chosen else None
        failed = [] if text is None else check(text, slot.spec, slot.product, _brand(plan))
    else:
        # a sentence that says something beyond the title first ("The Ski Helmet is certified
        # to EN 1077" of a helmet titled "EN 1077 Certified" was labelled thin), then its own
        # lead fact (so SMS and ad text differ), then the score
        ranked = sorted(
            (c for found in plan.passed.values() for c in found),
            key=lambda c: (says_a_point(c.text, slot.product), c.fact == plan.lead, c.score),
            reverse=True,
        )
        text, failed = None, []
        for candidate in ranked:
            problems = check(candidate.text, slot.spec, slot.product, _brand(plan))
            if near_duplicate(candidate.text, slot.delivered) is not None:
                problems.append("duplicate: repeats a text the slot group has")
            if not problems:
                text, chosen = candidate.text, [candidate]
                break
            failed = failed or problems
    if text is not None and near_duplicate(text, slot.delivered) is not None:
        failed.append("duplicate: repeats a text the slot group has")
    composed = sum(c.composed for c in chosen)
    meta: dict[str, Any] = {
        # "composed": every sentence is a record clause in a frame, none written by the model
        "source": "composed" if chosen and composed == len(chosen) else "sentences",
        "facts": [f.text for f in plan.facts if f.kind != "close"],
        "sentences": [
            {
                "fact": plan.facts[c.fact].text or "(closing line)",
                "text": c.text,
                "source": "composed" if c.composed else "model",
                "logprob_per_token": round(c.logprob_per_token, 4),
                "coverage": round(c.coverage, 3),
                "seed": c.seed,
            }
            for c in chosen
        ],
        "composed_sentences": composed,
        "composed_offered": plan.composed,
        "candidates_sampled": plan.sampled,
        "tokens_sampled": plan.tokens,
    }
    if text is None or failed:
        for reason in failed:
            plan.fail(reason)
        meta["gate_failures"] = dict(plan.failures)
        if text is not None:
            meta["rejected_text"] = text
        return None, _failure(plan, "; ".join(failed) or None), meta
    meta["gate_failures"] = dict(plan.failures)
    return text, None, meta


#: The most sentences a product description says about what the product is and does (the
#: price, a closing line and, where the channel's length needs them, caveats come on top).
MOST_FACT_SENTENCES = 3


def _fewest(plan: Plan, chosen: list[SentenceCandidate], least: int) -> list[SentenceCandidate]:
    """A description's sentences cut to the first :data:`MOST_FACT_SENTENCES` facts in the
    record's order, caveats and instructions only where the channel's words need them. Each
    sentence is one more chance of a wrong one: of the 247 labelled descriptions of rounds
    9-19, those that said two or three facts (besides caveats and the price) scored 0 21-24%
    of the time without a caveat, four facts 32%, five 62%; a caveat adds to it (three facts:
    21% without, 37% with one), and score 2 falls with length (19% at three facts, 5% at
    four)."""
    tail = [c for c in chosen if plan.facts[c.fact].kind in ("price", "close")]
    body = [c for c in chosen if plan.facts[c.fact].kind not in ("price", "close")]
    plain = [c for k, c in enumerate(body) if k == 0 or not _caveat(plan.facts[c.fact].text)]
    spare = [c for c in body if c not in plain]
    kept, spare = plain[:MOST_FACT_SENTENCES], plain[MOST_FACT_SENTENCES:] + spare
    price = [c for c in tail if plan.facts[c.fact].kind == "price"]
    while spare and word_count(" ".join(c.text for c in [*kept, *price])) < least:
        kept.append(spare.pop(0))
    place = {id(c): k for k, c in enumerate(chosen)}
    # the order stays the one chosen: where no fact's sentence named the product, the price's
    # sentence that does opens (round 20's sausage stuffer failed once it was moved last)
    return sorted([*kept, *tail], key=lambda c: place[id(c)])


def _caveats_last(plan: Plan, index: int) -> int:
    """Where a fact goes in a description: what the product is and does first, then what it
    lacks, warns of or asks of the reader, then the price and the closing line, each group in
    the record's order. "The Seiryu Stone is not suitable for soft-water setups." opened round
    16's description (labelled "an awkward opening"); the slicker brush's said only caveats
    before its features were dropped for length."""
    fact = plan.facts[index]
    if fact.kind in ("price", "close"):
        return 2
    return 1 if _caveat(fact.text) else 0


def _closing_line(plan: Plan, chosen: list[SentenceCandidate]) -> SentenceCandidate | None:
    """A call to action of the brand kit's and the lexicon's words ("Order yours from Harbor &
    Pine today.") after a text that says everything its record gives and is still short of the
    channel's words (with ``compose`` off, where no closing line the model wrote passed).
    Four of round 5's five failed product descriptions were 19-24 words of passing sentences
    against 25; the demo's three failed slots were 22-24."""
    slot = plan.slot
    least = slot.spec.min_words or 0
    if not chosen or not least or word_count(" ".join(c.text for c in chosen)) >= least:
        return None
    if any(plan.facts[c.fact].kind == "close" for c in chosen):
        return None
    close = next((i for i, f in enumerate(plan.facts) if f.kind == "close"), None)
    if close is None:
        return None
    # "yours", not the name again: a third naming reads as repetition (and the gate says so)
    brand = f" from {slot.brand.name}" if slot.brand.name else ""
    return SentenceCandidate(close, f"Order yours{brand} today.", 0.0, 1, -1, composed=True)


def _pronoun_for_name(candidate: SentenceCandidate, product: ProductFacts) -> SentenceCandidate:
    """A later sentence of a description says "It"/"They" where it would open with the name
    again ("The Collage Frame is … The Collage Frame has …" was labelled clumsy, round 11)."""
    for name in sorted(product.names(), key=len, reverse=True):
        named = _named(name)
        rest = candidate.text[len(named) :]
        if (
            candidate.text.startswith(named + " ")
            and rest.split()[0][:1].islower()
            and rest.split()[0].casefold() in _PRONOUN_VERBS
        ):
            pronoun = "They" if plural_name(name, product) else "It"
            return replace(candidate, text=pronoun + rest)
    return candidate


#: Verbs after which a name can be "It"/"They" as it stands ("The Frame has" -> "It has").
_PRONOUN_VERBS = frozenset(
    [
        "is",
        "are",
        "has",
        "have",
        "comes",
        "come",
        "includes",
        "include",
        "weighs",
        "weigh",
        "measures",
        "measure",
        "holds",
        "hold",
        "fits",
        "fit",
        "folds",
        "fold",
        "keeps",
        "keep",
    ]
)


def _opener(plan: Plan, order: list[int]) -> SentenceCandidate | None:
    """The first sentence that names the product (facts in order, best candidate first)."""

    if not plan.slot.spec.requires_name:
        return None
    names = plan.slot.product.names()
    # The price last and the closing line never: "The Alpine Down Sleeping Bag is priced at
    # 189.50 USD." opened three of the demo's seven descriptions once prices were composed
    # with the product's name. Before the price, the first fact said with "It"/"They" opens,
    # the pronoun made the name.
    facts_first = [i for i in order if plan.facts[i].kind not in ("price", "close")]
    for index in facts_first:
        for candidate in plan.passed[index]:
            if any(find_term(name, candidate.text) for name in names):
                return candidate
    named = _named(min(names, key=len))
    for index in facts_first:
        for candidate in plan.passed[index]:
            pronoun = candidate.text.split(" ", 1)
            if len(pronoun) == 2 and pronoun[0] in ("It", "They"):
                return replace(candidate, text=f"{named} {pronoun[1]}")
    for index in order:
        if plan.facts[index].kind == "close":
            continue  # a closing line never opens ("Choose from a Wool Throw Blanket. It's …")
        for candidate in plan.passed[index]:
            if any(find_term(name, candidate.text) for name in names):
                return candidate
    return None


def _repeats(text: str, earlier: list[str], names: set[str]) -> bool:
    """Whether ``text`` repeats three words in a row of an earlier sentence (the product's
    name excepted: a text may name it more than once), or an earlier sentence's opening two
    words ("It is …" twice reads as a list, not as copy)."""

    def grams(words: list[str]) -> set[tuple[str, ...]]:
        found = set(zip(words, words[1:], words[2:], strict=False))
        return {g for g in found if not set(g) <= names}

    words = [w.casefold() for w in gate_words(text)]
    mine = grams(words)
    for other in earlier:
        theirs = [w.casefold() for w in gate_words(other)]
        if mine & grams(theirs) or (words[:2] == theirs[:2] and not set(words[:2]) <= names):
            return True
    if earlier and not _content(text) - {_plain(n) for n in names} - _content(" ".join(earlier)):
        return True  # "It has a 4x AA battery." after "It runs on 4 AA batteries."
    return near_duplicate(text, earlier) is not None


#: Words that say nothing of a product on their own: a sentence of only these, the product's
#: names and words an earlier sentence said adds nothing.
_SAYS_NOTHING = DANGLING | frozenset(
    [
        "is",
        "are",
        "was",
        "be",
        "it",
        "its",
        "it's",
        "they",
        "they're",
        "their",
        "them",
        "has",
        "have",
        "this",
        "these",
        "also",
    ]
)


def _content(text: str) -> set[str]:
    """The words and numbers ``text`` says, plain ("4x AA batteries" -> 4, aa, battery)."""
    found = set()
    for word in gate_words(text):
        for piece in re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:['’][^\W\d_]+)?", word):
            piece = piece.casefold()
            if piece not in _SAYS_NOTHING and piece != "x":
                found.add(_plain(piece))
    return found


def _repetitive(text: str) -> bool:
    """The whole-text repetition gate (:func:`workers.copy.gates.check`): a three-word phrase
    more than twice, a four-word phrase twice."""
    words = [w.casefold() for w in gate_words(text)]
    threes = Counter(zip(words, words[1:], words[2:], strict=False))
    fours = Counter(zip(words, words[1:], words[2:], words[3:], strict=False))
    return bool(threes and max(threes.values()) > 2) or bool(fours and max(fours.values()) > 1)


def _too_long(chosen: list[SentenceCandidate], slot: CopySlot) -> bool:

    text = " ".join(c.text for c in chosen)
    most = slot.spec.max_words
    return measure(slot.spec, text) > limit(slot.spec, text) or (
        most is not None and word_count(text) > most
    )


def _failure(plan: Plan, why: str | None) -> str:
    """A failed slot's reason, worded like the whole-text path's ("no candidate passed the
    gates after … samples (…)"), with what the assembled text failed, if it got that far."""
    ranked = sorted(plan.failures.items(), key=lambda kv: -kv[1])
    counts = ", ".join(f"{gate} ×{n}" for gate, n in ranked)
    details = "; ".join(part for part in (why, counts) if part)
    return f"no candidate passed the gates after {plan.sampled} sentence samples" + (
        f" ({details})" if details else ""
    )


def _generate(generator: TextGenerator, batch: Sequence[Any]) -> list[Generation | None]:
    prompts = [row[3] for row in batch]
    params = [row[2] for row in batch]
    constraints = [row[4] for row in batch]
    try:
        return list(generator.generate(prompts, params, constraints))
    except GenerationError:
        results: list[Generation | None] = []
        for prompt, param, constraint in zip(prompts, params, constraints, strict=True):
            try:
                results.extend(generator.generate([prompt], [param], [constraint]))
            except GenerationError:
                results.append(None)
        return results


def is_planned(slot: CopySlot) -> bool:
    """Whether the slot is written fact by fact (a preset sentence channel with facts)."""
    return (
        slot.channel_spec is None
        and slot.channel in SENTENCE_CHANNELS
        and bool(facts(slot.product))
    )
