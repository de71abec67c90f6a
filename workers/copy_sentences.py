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

The model writes every sentence (the facts are what it writes about, never pasted in); a slot
whose facts give too little to say fails with that reason instead of padding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from contentfab.errors import GenerationError
from workers.copy_text import DANGLING, fragment
from workers.factcheck import FactSheet, unsupported_numbers
from workers.grounding import Vocabulary, gate_words, load_lexicon
from workers.textgen import Generation, SamplingParams

if TYPE_CHECKING:
    from contentfab.channels import Channel
    from workers.copywriter import BrandRules, CopySlot, ProductFacts
    from workers.textgen import TextGenerator

#: Channels whose copy is sentences about the product and is written fact by fact. Short
#: single-line channels (headlines, subject lines) keep the whole-record prompt: they say one
#: thing, and composed name + selling-point lines compete with the model's there.
SENTENCE_CHANNELS = frozenset(
    {
        "product_description",
        "email_body",
        "sms",
        "meta_primary_text",
        "social_post",
        "search_description",
        "email_preheader",
    }
)
#: Channels whose text is several sentences (one per fact, up to the channel's limit); the
#: others are one sentence about one fact, the best of the first facts' candidates.
MULTI_SENTENCE = frozenset({"product_description", "email_body"})
#: Tokens a sentence may take (a sentence the budget cuts off is shortened or dropped).
SENTENCE_TOKENS = 48
#: Words that turn a statement around; a sentence may use one only where its fact does.
NEGATIONS = frozenset({"not", "no", "never", "without", "nothing", "nor", "none", "neither"})
#: Words a sentence about the price may use besides the price itself.
PRICE_WORDS = ("price", "priced", "costs", "for")
#: How much a sentence's coverage of its fact (the share of the fact's content words it
#: says, 0 to 1) counts beside its mean log-likelihood per token when ranking: a fluent
#: sentence that says the fact beats a fluent one that says nothing ("a great choice").
COVERAGE_WEIGHT = 1.5
#: Where each one-sentence channel starts in the facts, so that an SMS and an ad's primary
#: text for one product do not say the same sentence.
CHANNEL_OFFSET = {"meta_primary_text": 1, "email_preheader": 1, "social_post": 2}
#: A description sentence longer than this is split into its clauses (:func:`_clauses`).
LONG_FACT_WORDS = 12
_CLAUSE = re.compile(r"[;]\s+|,\s+(?:and\s+)?|\s+and\s+(?=[a-z])")
_SENTENCE = re.compile(r".+?(?:[.!?](?=\s|$)|$)", re.DOTALL)
_UNITS = frozenset(
    [
        "kg",
        "g",
        "mg",
        "lb",
        "oz",
        "ml",
        "l",
        "cl",
        "cm",
        "mm",
        "m",
        "km",
        "in",
        "ft",
        "w",
        "kw",
        "v",
        "mah",
        "wh",
        "h",
        "hr",
        "min",
        "s",
        "c",
        "f",
        "db",
        "lm",
        "pcs",
        "pct",
    ]
)


@dataclass(frozen=True)
class Fact:
    """One thing the record says: a sentence of its description, an attribute or its price."""

    text: str
    kind: str  # "description" | "attribute" | "price" | "close"
    attributes: tuple[tuple[str, Any], ...] = ()


def facts(product: ProductFacts) -> list[Fact]:
    """The product record as facts, in its own order: the description's sentences, then the
    attributes it does not already say (their keys read as words, a unit moved after the value:
    ``max_load_kg=40`` -> "max load: 40 kg"), then the price."""
    found: list[Fact] = []
    description = " ".join(product.description.split())
    for sentence in _SENTENCE.findall(description):
        for part in _clauses(sentence.strip()):
            if len(gate_words(part)) >= 2:
                found.append(Fact(part, "description"))
    said = {w.casefold() for w in gate_words(f"{product.title} {description}")}
    for key, value in product.attributes.items():
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            continue
        words = gate_words(str(value))
        if not words or {w.casefold() for w in words} <= said:
            continue
        found.append(Fact(attribute_phrase(str(key), value), "attribute", ((key, value),)))
    if product.price is not None and product.currency:
        found.append(Fact(f"price: {_money(product.price)} {product.currency}", "price"))
    return found


_PRICE_AFTER = re.compile(r"\b(?:for|at|costs)\s+[^\w\s]{0,3}\s?\d", re.IGNORECASE)


def _same_amount(written: str, amount: str) -> bool:
    try:
        return Decimal(written.replace(",", ".")) == Decimal(amount)
    except InvalidOperation:
        return False


def _money(price: str) -> str:
    """A stored price as a shop writes it: "189.5" -> "189.50", "249" -> "249.00"."""
    try:
        return f"{Decimal(price):.2f}"
    except InvalidOperation:
        return price


def _named(name: str) -> str:
    """How a sentence starts with the product's name: "The Steel Bottle" (a name in a script
    without articles, or one that has its own, as it is)."""
    first = name.split()[0] if name.split() else ""
    if first.casefold() in ("the", "a", "an") or not first[:1].isascii():
        return name
    return f"The {name}"


def _clauses(sentence: str) -> list[str]:
    """A long sentence as its clauses ("Packs down to 1.9 kg, pitches in under five minutes,
    and keeps rain out" -> three), so that each sentence the model writes says one thing; a
    sentence stays whole when a piece would be under three words or not end complete."""
    if len(gate_words(sentence)) <= LONG_FACT_WORDS:
        return [sentence]
    parts = [p.strip(" ,;.") for p in _CLAUSE.split(sentence) if p.strip(" ,;.")]
    if len(parts) < 2 or any(len(gate_words(p)) < 3 or fragment(p, sentences=False) for p in parts):
        return [sentence]
    return parts


def attribute_phrase(key: str, value: Any) -> str:
    """An attribute as a reader would write it: "max_load_kg", 40 -> "max load: 40 kg"."""
    parts = [p for p in re.split(r"[_\-\s]+", key.strip()) if p]
    unit = ""
    if len(parts) > 1 and parts[-1].casefold() in _UNITS:
        unit = parts.pop()
    return f"{' '.join(parts)}: {value}{f' {unit}' if unit else ''}"


@dataclass
class SentenceCandidate:
    fact: int
    text: str
    logprob: float
    tokens: int
    seed: int

    coverage: float = 0.0
    """The share of its fact's content words the sentence says (:func:`coverage`)."""

    @property
    def logprob_per_token(self) -> float:
        return self.logprob / max(1, self.tokens)

    @property
    def score(self) -> float:
        return self.logprob_per_token + COVERAGE_WEIGHT * self.coverage


@dataclass
class Plan:
    """One slot written fact by fact: the facts it says and each fact's passing sentences."""

    slot: CopySlot
    facts: list[Fact]
    passed: dict[int, list[SentenceCandidate]] = field(default_factory=dict)
    """Per fact (its index): the sentences that passed its gates, best first."""
    failures: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    tokens: int = 0

    def fail(self, reason: str) -> None:
        gate = reason.split(":")[0]
        self.failures[gate] = self.failures.get(gate, 0) + 1


def fact_vocabulary(product: ProductFacts, brand: BrandRules, fact: Fact) -> Vocabulary:
    """What a sentence about ``fact`` may say: the fact's words, the product's names and
    category, the brand kit and the lexicon; the price only in the price's sentence."""
    texts = [*product.names(), product.category or "", fact.text]
    brand_texts = [brand.name or "", *brand.required_terms, *brand.claims, *brand.vocabulary]
    price = product.price if fact.kind == "price" else None
    if fact.kind == "price":
        brand_texts.extend(PRICE_WORDS)
    return Vocabulary.of(texts, brand_texts, price=price, currency=product.currency)


def fact_sheet(product: ProductFacts, fact: Fact) -> FactSheet:
    """The numbers a sentence about ``fact`` may write: the fact's and the names'."""
    price = product.price if fact.kind == "price" else None
    return FactSheet.of(
        [*product.names(), fact.text], dict(fact.attributes), price, product.currency
    )


def sentence_failures(
    text: str,
    fact: Fact,
    product: ProductFacts,
    brand: BrandRules,
    channel: Channel,
    *,
    alone: bool = False,
) -> list[str]:
    """Why ``text`` is no publishable sentence about ``fact`` (gate names as in
    :data:`workers.copywriter.GATES`); empty means it is one. ``alone``: the sentence is the
    whole text (an SMS), so it must name the product rather than say "It"."""
    from workers.copywriter import brand_failures, invented_terms

    failed: list[str] = []
    cut = fragment(text, sentences=True)
    if cut is not None:
        failed.append(f"fragment: {cut}")
    ungrounded = fact_vocabulary(product, brand, fact).unsupported(text)
    if ungrounded:
        failed.append(f"grounding: not in its fact ({fact.text!r}): {', '.join(ungrounded[:6])}")
    numbers = unsupported_numbers(text, fact_sheet(product, fact))
    if numbers:
        failed.append(f"fact: numbers not in its fact: {', '.join(numbers[:3])}")
    capitals, notes = invented_terms(text, product, brand)
    if capitals or notes:
        failed.append(f"capitals: {capitals or ', '.join(notes)}")
    fact_words = {w.casefold() for w in gate_words(fact.text)}
    turned = [w for w in gate_words(text) if w.casefold() in NEGATIONS - fact_words]
    if turned:
        failed.append(f"claim: a negation its fact does not write: {', '.join(turned)}")
    if fact.kind != "close" and not _says(text, fact, product):
        failed.append("relevance: says nothing of its fact")
    wrong = _misidentified(text, product)
    if wrong:
        failed.append(f"claim: calls the product a {wrong!r}")
    stray = _stray_capitals(text, product, brand)
    if stray:
        failed.append(f"fragment: a sentence's opening pasted mid-sentence: {', '.join(stray)}")
    if fact.kind == "price" and product.price is not None:
        amount = fact.text.split(":", 1)[1].split()[0]
        said = [q for q in re.findall(r"\d+(?:[.,]\d+)?", text) if _same_amount(q, amount)]
        if len(said) != 1:
            failed.append(f"fact: a price sentence says the price once ({len(said)} times)")
        elif not _PRICE_AFTER.search(text):
            failed.append("claim: the price is not said as a price (for, at or costs it)")
    if ":" in text:
        failed.append("prompt_label: a colon (an attribute's label written out)")
    glued = _new_compounds(text, product, fact)
    if glued:
        failed.append(f"grounding: compounds the record does not write: {', '.join(glued)}")
    if alone and text.split()[0].casefold() in ("it", "it's", "it’s", "this", "they"):
        failed.append("product_name: a sentence on its own opens with a pronoun")
    if alone:
        from workers.copywriter import find_term

        if not any(find_term(name, text) for name in product.names()):
            failed.append("product_name: a sentence on its own must name the product")
    failed.extend(brand_failures(text, channel, brand))
    return failed


#: "is a …", "are the …", and "is 4 mm …" (a measure is no kind of product either).
_IDENTITY = re.compile(
    r"\b(?:is|are|'s)\s+(?:(?:a|an|the|your|this)\s+|(?=\d))((?:[^.,;:!?]|\.(?=\d))+)",
    re.IGNORECASE,
)
_PHRASE_END = frozenset(
    [
        "with",
        "that",
        "which",
        "for",
        "to",
        "in",
        "on",
        "and",
        "or",
        "from",
        "of",
        "by",
        "so",
        "who",
        "when",
        "while",
        "at",
        "as",
        "into",
        "than",
        "like",
        "you",
        "your",
        "it",
        "its",
    ]
)


def _misidentified(text: str, product: ProductFacts) -> str | None:
    """The noun a sentence calls the product when the record never calls it that ("The Steel
    Bottle is a leak-proof lid", "It is a glacier blue"): after "is a", the noun phrase's last
    word must be a word of its names or category, or a generic noun of the lexicon ("choice")."""
    from workers.copy_text import _TITLE_CUT, _adjective_like

    # What the product is: its names up to a "with", "for", bracket or comma ("Garden Hose
    # 15 m with Spray Gun" is a hose, not a spray gun), and its category.
    kinds = [_TITLE_CUT.split(name, maxsplit=1)[0] for name in product.names()]
    allowed = {w.casefold() for name in kinds for w in gate_words(name) if not w.isdigit()}
    allowed -= _UNITS
    allowed |= {w.casefold() for w in gate_words(product.category or "")}
    allowed |= _GENERIC_NOUNS
    for match in _IDENTITY.finditer(text):
        words: list[str] = []
        for word in _COMPOUND.findall(match.group(1)):
            folded = word.casefold()
            if folded == "of" and words and words[-1] in _COLLECTIVES:
                words = []  # "a pair of blackout curtains": the curtains are what it is
                continue
            participle = words and folded.endswith(("ed", "ing")) and "-" not in folded
            if folded in _PHRASE_END or participle:
                break
            words.append(folded)
        if not words:
            continue
        head = words[-1].rsplit("-", 1)[-1]
        if head in allowed or head.rstrip("s") in allowed:
            continue
        if f"{head}s" in allowed or (len(words) == 1 and _adjective_like(head)):
            continue
        return " ".join(words)
    return None


_COMPOUND = re.compile(r"[^\W_]+(?:(?:[-'’]|\.(?=\d))[^\W_]+)*")


def _stray_capitals(text: str, product: ProductFacts, brand: BrandRules) -> list[str]:
    """Capitalised words inside a sentence that no name writes capitalised: the opening of a
    record sentence pasted mid-sentence ("The Camp Pillow is in the Inflates in three
    breaths", "is a Divided plate"). Names, the category, the brand and words the record
    capitalises mid-sentence ("Shimano", "Wi-Fi") pass."""
    proper = set(
        _COMPOUND.findall(
            " ".join(
                [*product.names(), product.category or "", brand.name or "", *brand.vocabulary]
            )
        )
    )
    for sentence in _SENTENCE.findall(product.description):
        proper.update(_COMPOUND.findall(sentence.strip())[1:])
    for value in product.attributes.values():
        proper.update(_COMPOUND.findall(str(value)))
    found = []
    for word in _COMPOUND.findall(text)[1:]:
        if word[:1].isupper() and word[1:].islower() and word not in proper:
            found.append(word)
    return found


def _new_compounds(text: str, product: ProductFacts, fact: Fact) -> list[str]:
    """Hyphenated words the record does not write ("season-seasoned" from "3-season"): pieces
    of allowed words glued into a new one ("Like-Like"). "go-to" and "must-have" pass."""
    written = {w.casefold() for w in _COMPOUND.findall(f"{product.corpus()} {fact.text}")}
    found = []
    for word in _COMPOUND.findall(text):
        folded = word.casefold()
        if "-" not in folded or folded in written or folded in _GENERIC_NOUNS:
            continue
        found.append(word)
    return found


_COLLECTIVES = frozenset({"pair", "set", "pack", "kit", "box", "bundle", "duo", "trio"})
_GENERIC_NOUNS = frozenset(
    [
        "choice",
        "pick",
        "companion",
        "option",
        "way",
        "design",
        "feature",
        "moment",
        "routine",
        "day",
        "time",
        "price",
        "one",
        "must-have",
        "go-to",
    ]
)


def _content(fact: Fact, product: ProductFacts) -> set[str]:
    """The words of a fact that say something: not the names, not the lexicon, not an
    attribute's key ("color" of "color: Glacier Blue")."""
    plain = load_lexicon() | DANGLING
    said = fact.text.split(":", 1)[1] if fact.kind in ("attribute", "price") else fact.text
    names = {w.casefold() for name in product.names() for w in gate_words(name)}
    words = {w.casefold() for w in gate_words(said)} - plain
    return (words - names) or words


def coverage(text: str, fact: Fact, product: ProductFacts) -> float:
    """The share of the fact's content words (or their simple plurals) the sentence says."""
    content = _content(fact, product)
    if not content:
        return 0.0
    written = {w.casefold() for w in gate_words(text)}
    said = [w for w in content if w in written or w.rstrip("s") in written or f"{w}s" in written]
    return len(said) / len(content)


def _says(text: str, fact: Fact, product: ProductFacts) -> bool:
    """Whether the sentence carries a word of its fact beyond the names and the lexicon."""
    return coverage(text, fact, product) > 0


EXAMPLE_SYSTEM = (
    "You are a marketing copywriter{brand}.{voice} Write in a {tone} tone. "
    "You turn one fact about a product into one sentence of copy. Say the fact in its own "
    "words; add nothing it does not say."
)
#: Worked examples (invented products, not in any catalog): a description fact, an attribute,
#: a price and a closing line.
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    (
        "Alpine Trail Thermos",
        "Double-walled stainless steel bottle that keeps drinks hot for 12 hours.",
        "The Alpine Trail Thermos is a double-walled stainless steel bottle that keeps your "
        "drinks hot for 12 hours.",
    ),
    (
        "Alpine Trail Thermos",
        "Light enough for a day pack, with a lid that doubles as a cup.",
        "It is light enough for your day pack, and the lid doubles as a cup.",
    ),
    ("Lumo Desk Lamp", "colour temperatures: 3", "Choose from 3 colour temperatures."),
    ("Lumo Desk Lamp", "size: 40x12 cm", "It measures 40x12 cm."),
    ("Lumo Desk Lamp", "price: 59.00 EUR", "The Lumo Desk Lamp is yours for 59.00 EUR."),
)


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


def write_planned(
    generator: TextGenerator,
    slots: Sequence[CopySlot],
    *,
    batch_size: int,
    max_rounds: int,
    variant_of: dict[int, int],
) -> dict[int, tuple[str | None, str | None, dict[str, Any]]]:
    """Write each slot fact by fact; per slot key: (text, error, meta)."""
    plans = {slot.key: plan_for(slot) for slot in slots}
    grounding = generator.grounding
    for round_ in range(max_rounds):
        rows: list[tuple[Plan, int, SamplingParams, str, Any, str]] = []
        for plan in plans.values():
            slot = plan.slot
            name = min(slot.product.names(), key=len)
            for index in _open_facts(plan, variant_of.get(slot.key, 0)):
                fact = plan.facts[index]
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
                    # Later sentences of a long text: half start with "It", so that the text
                    # does not name the product in every sentence; a sentence on its own (an
                    # SMS): half start with the product's name, which it must say.
                    prefix = ""
                    if i % 2 and slot.channel in MULTI_SENTENCE and index:
                        prefix = "It"
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
    return {key: _assemble(plan) for key, plan in plans.items()}


def _assemble(plan: Plan) -> tuple[str | None, str | None, dict[str, Any]]:
    """The slot's text from its facts' passing sentences, in the record's order: the first
    sentence names the product (where the channel asks for it), no sentence repeats a phrase
    of an earlier one; checked as a whole by every channel gate."""
    from contentfab.channels import word_count
    from workers.copywriter import check, near_duplicate

    slot = plan.slot
    chosen: list[SentenceCandidate] = []
    if slot.channel in MULTI_SENTENCE:
        order = sorted(plan.passed)
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
        text = " ".join(c.text for c in chosen) if chosen else None
        failed = [] if text is None else check(text, slot.spec, slot.product, _brand(plan))
    else:
        ranked = sorted(
            (c for found in plan.passed.values() for c in found),
            key=lambda c: c.score,
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
    meta: dict[str, Any] = {
        "source": "sentences",
        "facts": [f.text for f in plan.facts if f.kind != "close"],
        "sentences": [
            {
                "fact": plan.facts[c.fact].text or "(closing line)",
                "text": c.text,
                "logprob_per_token": round(c.logprob_per_token, 4),
                "coverage": round(c.coverage, 3),
                "seed": c.seed,
            }
            for c in chosen
        ],
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


def _brand(plan: Plan) -> BrandRules:
    """The brand kit as the whole-text gates apply it: a price sentence's words ("priced")
    are allowed where the text says the price."""
    if not any(f.kind == "price" for f in plan.facts):
        return plan.slot.brand
    return replace(plan.slot.brand, vocabulary=(*plan.slot.brand.vocabulary, *PRICE_WORDS))


def _opener(plan: Plan, order: list[int]) -> SentenceCandidate | None:
    """The first sentence that names the product (facts in order, best candidate first)."""
    from workers.copywriter import find_term

    if not plan.slot.spec.requires_name:
        return None
    names = plan.slot.product.names()
    for index in order:
        for candidate in plan.passed[index]:
            if any(find_term(name, candidate.text) for name in names):
                return candidate
    return None


def _repeats(text: str, earlier: list[str], names: set[str]) -> bool:
    """Whether ``text`` repeats three words in a row of an earlier sentence (the product's
    name excepted: a text may name it more than once), or an earlier sentence's opening two
    words ("It is …" twice reads as a list, not as copy)."""
    from workers.copywriter import near_duplicate

    def grams(words: list[str]) -> set[tuple[str, ...]]:
        found = set(zip(words, words[1:], words[2:], strict=False))
        return {g for g in found if not set(g) <= names}

    words = [w.casefold() for w in gate_words(text)]
    mine = grams(words)
    for other in earlier:
        theirs = [w.casefold() for w in gate_words(other)]
        if mine & grams(theirs) or (words[:2] == theirs[:2] and not set(words[:2]) <= names):
            return True
    return near_duplicate(text, earlier) is not None


def _repetitive(text: str) -> bool:
    """The whole-text repetition gate (:func:`workers.copywriter.check`): a three-word phrase
    more than twice, a four-word phrase twice."""
    words = [w.casefold() for w in gate_words(text)]
    threes = Counter(zip(words, words[1:], words[2:], strict=False))
    fours = Counter(zip(words, words[1:], words[2:], words[3:], strict=False))
    return bool(threes and max(threes.values()) > 2) or bool(fours and max(fours.values()) > 1)


def _too_long(chosen: list[SentenceCandidate], slot: CopySlot) -> bool:
    from contentfab.channels import limit, measure, word_count

    text = " ".join(c.text for c in chosen)
    most = slot.spec.max_words
    return measure(slot.spec, text) > limit(slot.spec, text) or (
        most is not None and word_count(text) > most
    )


def _open_facts(plan: Plan, variant: int) -> list[int]:
    """The facts still without a passing sentence (multi-sentence channels), or, for a
    one-sentence channel without one yet, three facts from the variant's offset."""
    if plan.slot.channel in MULTI_SENTENCE:
        return [i for i in range(len(plan.facts)) if not plan.passed.get(i)]
    if any(plan.passed.values()) or not plan.facts:
        return []
    start = (variant + CHANNEL_OFFSET.get(plan.slot.channel, 0)) % len(plan.facts)
    return sorted({(start + k) % len(plan.facts) for k in range(min(3, len(plan.facts)))})


def _consider(plan: Plan, index: int, seed: int, generation: Generation) -> None:
    """Keep the generation's first sentence among its fact's candidates if it passes."""
    from workers.copywriter import FLUENCY_FLOOR

    slot = plan.slot
    fact = plan.facts[index]
    text = _first_sentence(generation)
    if text is None:
        plan.fail("truncated: no complete sentence")
        return
    alone = slot.channel not in MULTI_SENTENCE
    failed = sentence_failures(text, fact, slot.product, slot.brand, slot.spec, alone=alone)
    candidate = SentenceCandidate(
        index,
        text,
        generation.logprob_sum,
        max(1, len(generation.token_ids)),
        seed,
        coverage(text, fact, slot.product) if fact.kind != "close" else 0.0,
    )
    if not failed and candidate.logprob_per_token < FLUENCY_FLOOR:
        failed.append("fluency: below the floor")
    if not failed and alone:
        # A sentence that is the whole text passes the channel's gates now (an SMS that
        # needs UCS-2 has 70 characters), so that a slot without one samples another round.
        from workers.copywriter import check, near_duplicate

        failed = check(text, slot.spec, slot.product, _brand(plan))
        if near_duplicate(text, slot.delivered) is not None:
            failed.append("duplicate: repeats a text the slot group has")
    if failed:
        for reason in failed:
            plan.fail(reason)
        return
    found = plan.passed.setdefault(index, [])
    if all(c.text != text for c in found):
        found.append(candidate)
        found.sort(key=lambda c: c.score, reverse=True)


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
