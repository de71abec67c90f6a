"""The plan of a sentence channel's text: which facts to say, in what order, how many candidates each, and which of them to keep."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from contentfab.workers.textgen import Generation

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import BrandRules, CopySlot, ProductFacts
from contentfab.workers.copy.dedupe import near_duplicate
from contentfab.workers.copy.facts import (
    _SENTENCE,
    CHANNEL_OFFSET,
    MULTI_SENTENCE,
    PRICE_WORDS,
    Fact,
    Plan,
    SentenceCandidate,
    coverage,
    facts,
)
from contentfab.workers.copy.faithful import sentence_failures
from contentfab.workers.copy.gates import check
from contentfab.workers.copy.senses import INSTRUCTIONS
from contentfab.workers.copy.sentence_examples import EXAMPLE_SYSTEM, EXAMPLES
from contentfab.workers.copy.slots import FLUENCY_FLOOR
from contentfab.workers.copy.text import _WORDS, fix_articles


def _messages(slot: CopySlot, fact: Fact, name: str) -> list[dict[str, str]]:
    brand = f" for {slot.brand.name}" if slot.brand.name else ""
    voice = f" Brand voice: {slot.brand.voice}." if slot.brand.voice else ""
    system = EXAMPLE_SYSTEM.format(brand=brand, voice=voice, tone=slot.tone)
    messages = [{"role": "system", "content": system}]
    for product, said, answer in EXAMPLES:
        messages.append({"role": "user", "content": _ask(product, said)})
        messages.append({"role": "assistant", "content": answer})
    if fact.kind == "close":
        ask = (
            f"Product: {name}\nWrite one short closing sentence that invites the reader to "
            f"choose the {name}."
        )
    else:
        ask = _ask(name, fact.text)
    messages.append({"role": "user", "content": ask})
    return messages


def _ask(name: str, fact: str) -> str:
    return f"Product: {name}\nFact: {fact}\nWrite one sentence."


def plan_for(slot: CopySlot) -> Plan:
    """The facts a slot says: every fact (then a closing line) for multi-sentence channels;
    for one-sentence channels the first facts, starting at the slot's variant."""
    found = facts(slot.product)
    if slot.channel in MULTI_SENTENCE:
        return Plan(slot, [*found, Fact("", "close")])
    return Plan(slot, found)


def _brand(plan: Plan) -> BrandRules:
    """The brand kit as the whole-text gates apply it: a price sentence's words ("priced")
    are allowed where the text says the price."""
    if not any(f.kind == "price" for f in plan.facts):
        return plan.slot.brand
    return replace(plan.slot.brand, vocabulary=(*plan.slot.brand.vocabulary, *PRICE_WORDS))


def _open_facts(plan: Plan, variant: int, round_: int = 0) -> list[int]:
    """The facts still without a passing sentence (multi-sentence channels), or, for a
    one-sentence channel without one yet, three facts from the variant's offset (two more in
    each later round)."""
    if plan.slot.channel in MULTI_SENTENCE:
        return [i for i in range(len(plan.facts)) if not plan.passed.get(i)]
    if any(plan.passed.values()) or not plan.facts:
        return []
    # A one-sentence text says something about the product; the price alone only when the
    # record says nothing else.
    usable = _usable(plan)
    start = usable.index(_lead(plan, variant))
    order = [usable[(start + k) % len(usable)] for k in range(len(usable))]
    # a caveat or an instruction after every other fact, so that a later round still finds a
    # sentence (round 16's slicker brush had no SMS or ad text once caveats were left out)
    order += [i for i, f in enumerate(plan.facts) if f.kind != "price" and i not in order]
    count = min(3 + 2 * round_, len(order) if round_ else len(usable))
    return sorted(order[:count])


def _usable(plan: Plan) -> list[int]:
    """The facts a one-sentence text may lead with: neither the price nor a caveat or an
    instruction while the record says something else ("The Letterpress Paper is not
    recommended for laser printers." was round 14's SMS and Meta text for a 600 gsm cotton
    paper; of the 29 labelled SMS and Meta texts that deny or warn, 2 scored 2)."""
    others = [i for i, f in enumerate(plan.facts) if f.kind != "price"]
    return (
        [i for i in others if not _caveat(plan.facts[i].text)]
        or others
        or list(range(len(plan.facts)))
    )


#: Words that make a fact a caveat: what the product lacks, must not meet or cannot do.
_CAVEATS = frozenset(
    "not no never avoid cannot can't don't separately excluded warning caution".split()  # noqa: SIM905
)


def _caveat(fact: str) -> bool:
    """Whether a fact warns, denies or instructs ("Not recommended for laser printers", "Bolts
    sold separately", "Wipe clean with a damp cloth") rather than says what the product is
    or does."""
    words = [w.casefold() for w in _WORDS.findall(fact)]
    return bool(words) and (words[0] in INSTRUCTIONS or bool(_CAVEATS & set(words)))


def _lead(plan: Plan, variant: int) -> int:
    """The fact a one-sentence channel starts at: its variant, offset per channel."""
    usable = _usable(plan)
    return usable[(variant + CHANNEL_OFFSET.get(plan.slot.channel, 0)) % len(usable)]


def _consider(plan: Plan, index: int, seed: int, generation: Generation) -> None:
    """Keep the generation's first sentence among its fact's candidates if it passes."""
    text = _first_sentence(generation)
    if text is None:
        plan.fail("truncated: no complete sentence")
        return
    fact = plan.facts[index]
    candidate = SentenceCandidate(
        index,
        text,
        generation.logprob_sum,
        max(1, len(generation.token_ids)),
        seed,
        coverage(text, fact, plan.slot.product) if fact.kind != "close" else 0.0,
    )
    _admit(plan, candidate)


def _admit(plan: Plan, candidate: SentenceCandidate) -> bool:
    """Keep ``candidate`` among its fact's sentences if it passes every gate a sentence
    passes (the same gates whether the model wrote it or it was composed); else count why."""

    slot = plan.slot
    fact = plan.facts[candidate.fact]
    text = fix_articles(candidate.text)  # "an 18/10 kettle": grammar, not a claim
    candidate = replace(candidate, text=text)
    alone = slot.channel not in MULTI_SENTENCE
    failed = sentence_failures(text, fact, slot.product, slot.brand, slot.spec, alone=alone)
    if not failed and candidate.logprob_per_token < FLUENCY_FLOOR:
        failed.append("fluency: below the floor")
    if not failed and fact.kind not in ("close", "price") and _addresses_reader(text, slot.product):
        failed.append("style: a fact said to the reader")
    if not failed and alone:
        # A sentence that is the whole text passes the channel's gates now (an SMS that
        # needs UCS-2 has 70 characters), so that a slot without one samples another round.

        failed = check(text, slot.spec, slot.product, _brand(plan))
        if near_duplicate(text, slot.delivered) is not None:
            failed.append("duplicate: repeats a text the slot group has")
    if failed:
        for reason in failed:
            plan.fail(reason)
        return False
    found = plan.passed.setdefault(candidate.fact, [])
    if all(c.text != text for c in found):
        found.append(candidate)
        found.sort(key=lambda c: c.score, reverse=True)
    return True


_READER = re.compile(r"\b(?:you|your|yours|you['’]re|you['’]ll)\b", re.IGNORECASE)


def _addresses_reader(text: str, product: ProductFacts) -> bool:
    """Whether a sentence about a fact speaks to the reader where the record
    does not ("It is easy to compare your assembly …", "a rope that you can climb with your
    climbing ropes", "a 34 x 78 cm bag of your choice"): of the 20 labelled descriptions of
    rounds 9-19 with "your", 16 scored 0, 4 scored 1, none 2; of the 14 SMS and ad texts, 4
    scored 0, 9 scored 1, one 2. The closing line and the price may ("Order yours …")."""
    return bool(_READER.search(text)) and not _READER.search(
        f"{product.title} {product.description}"
    )


def _first_sentence(generation: Generation) -> str | None:
    """The generation's first complete sentence, on one line, or None."""
    text = " ".join(generation.text.split()).strip().strip('"“”').strip()
    match = _SENTENCE.match(text)
    if match is None:
        return None
    sentence = match.group().strip()
    if sentence[-1:] in (".", "!", "?") and len(sentence.split()) >= 3:
        return sentence
    return None
