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

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from contentfab.core.errors import GenerationError
from workers.copy_text import _NUMBER_WORDS, DANGLING, fragment
from workers.factcheck import FactSheet, unsupported_numbers
from workers.grounding import Vocabulary, gate_words, inflections
from workers.textgen import Generation, SamplingParams

if TYPE_CHECKING:
    from contentfab.core.channels import Channel
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
#: A sentence says its fact when it keeps at least this share of the fact's content words,
#: in the fact's order: a sentence that takes two words of a fact and builds its own statement
#: around them ("The Camp Table is great for carry bags" from "the table packs into a carry
#: bag") is how true words became false claims in the labelled runs.
FAITHFUL_SHARE = 0.7
#: Where each one-sentence channel starts in the facts, so that an SMS and an ad's primary
#: text for one product do not say the same sentence.
CHANNEL_OFFSET = {"meta_primary_text": 1, "email_preheader": 1, "social_post": 2}
#: A description sentence longer than this is split into its clauses (:func:`_clauses`).
LONG_FACT_WORDS = 12
#: Where a long sentence splits: semicolons, commas, and an "and" before an article or a verb
#: ("… and a 5,200 mAh battery", "… and keeps rain out"), never inside "warm and cool white".
_CLAUSE = re.compile(r"[;]\s+|,\s+(?:and\s+)?|\s+and\s+(?=(?:a|an|the|its)\s|[a-z]+s\b)")
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


_PRICE_AFTER = re.compile(r"\b(?:for|at|costs|is|are)\s+[^\w\s]{0,3}\s?\d", re.IGNORECASE)


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
    if len(gate_words(sentence)) <= LONG_FACT_WORDS or _subject(sentence):
        # A sentence about a part ("The cover is removable and machine washes at 40 °C")
        # stays whole: its later clauses would lose what they are said of.
        return [sentence]
    # A list's commas are no clause breaks ("for gas, electric and induction hobs").
    kept = _LIST.sub(
        lambda m: m.group().replace(",", _LIST_COMMA) if m.group(2) else m.group(), sentence
    )
    parts = [
        p.strip(" ,;.").replace(_LIST_COMMA, ",") for p in _CLAUSE.split(kept) if p.strip(" ,;.")
    ]
    if len(parts) < 2 or any(len(gate_words(p)) < 3 or fragment(p, sentences=False) for p in parts):
        return [sentence]
    if any(re.search(r"\b(?:a|an|the)\s+[\w-]+$", p, re.IGNORECASE) for p in parts[:-1]):
        return [sentence]  # "for a sweet, grassy cup": the comma is inside a noun phrase
    # "… lantern with warm and cool white modes and a 5,200 mAh battery …": the battery is
    # something the lantern has, not what it is.
    having = False
    for k in range(len(parts)):
        if having and re.match(r"(?:a|an)\s", parts[k], re.IGNORECASE):
            parts[k] = f"with {parts[k]}"
        having = having or bool(re.search(r"\bwith\b", parts[k], re.IGNORECASE))
    return parts


_BOUNDS = {
    "max": ("up to", "max", "maximum", "at most"),
    "maximum": ("up to", "max", "maximum", "at most"),
    "min": ("at least", "min", "minimum", "from"),
    "minimum": ("at least", "min", "minimum", "from"),
}


def _dropped_bound(text: str, fact: Fact) -> str | None:
    """An attribute whose key is a bound ("players_max": 5, "age_min": 10) said as a plain
    number: "It has 5 players" for up to five."""
    if fact.kind != "attribute":
        return None
    said = " ".join(w.casefold() for w in gate_words(text))
    for key, _value in fact.attributes:
        for part in re.split(r"[_\-\s]+", str(key).casefold()):
            ways = _BOUNDS.get(part)
            if ways is not None and not any(re.search(rf"\b{w}\b", said) for w in ways):
                return part
    return None


#: Key words after which "min" is minutes ("play_time_min", "charge_min").
_TIMED = frozenset(
    {"time", "duration", "runtime", "run", "cook", "play", "charge", "charging", "burn", "brew"}
)


def attribute_phrase(key: str, value: Any) -> str:
    """An attribute as a reader would write it: "max_load_kg", 40 -> "max load: 40 kg"."""
    parts = [p for p in re.split(r"[_\-\s]+", key.strip()) if p]
    unit = ""
    if len(parts) > 1 and parts[-1].casefold() in _UNITS:
        unit = parts.pop()
        if unit.casefold() == "min" and not {p.casefold() for p in parts} & _TIMED:
            # "players_min": the fewest players, not minutes ("a 2 min game")
            parts.append(unit)
            unit = ""
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
    composed: bool = False
    """The fact's own clause in a frame the model chose (:func:`framed_sentences`), not
    sampled."""

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
    composed: int = 0
    """Composed sentences offered to the gates (:func:`_compose_open`)."""
    lead: int | None = None
    """A one-sentence channel's own first fact: its sentence is preferred when one passes, so
    that an SMS and an ad's primary text for one product say different things."""

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
    bound = _dropped_bound(text, fact)
    if bound:
        failed.append(f"fact: a bound said as a plain number (its key says {bound})")
    if fact.kind not in ("close", "price"):
        share = coverage(text, fact, product)
        if share < FAITHFUL_SHARE:
            failed.append(
                f"relevance: says {share:.0%} of its fact (at least {FAITHFUL_SHARE:.0%})"
            )
        elif not _in_order(text, fact, product):
            failed.append("relevance: its fact's words out of the fact's order")
        lost = _lost_subject(text, fact, product)
        if lost:
            failed.append(f"claim: says of the product what its fact says of {' '.join(lost)}")
        partial = _cut_lists(text, fact)
        if partial:
            failed.append(
                f"claim: a list of its fact said in part (leaves out {'; '.join(partial)})"
            )
        moved = _moved_numbers(text, fact, product)
        if moved:
            failed.append(
                f"fact: numbers said with other words than the record: {'; '.join(moved[:3])}"
            )
        if _PRICE_PHRASE.search(text):
            failed.append("claim: a price phrase in a sentence without the price")
    elif fact.kind == "price" and not _says(text, fact, product):
        failed.append("relevance: says nothing of its fact")
    if fact.kind != "close":
        offers = [w for w in gate_words(text) if w.casefold() in _OFFER_WORDS - fact_words]
        if offers:
            failed.append(f"claim: an offer its fact does not make: {', '.join(offers)}")
    codes = codes_outside_names(text, product)
    if codes:
        failed.append(f"claim: a model code outside the product's name: {', '.join(codes)}")
    broken = _broken_copula(text)
    if broken:
        failed.append(f"fragment: a fact's words pasted after 'is': {broken!r}")
    # A price sentence may say the product "is 54.00 GBP"; its own gates check the amount.
    wrong = _misidentified(text, product, _subject(fact.text)) if fact.kind != "price" else None
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
            failed.append("claim: the price is not said as a price (for, at, costs or is it)")
    if ":" in text:
        failed.append("prompt_label: a colon (an attribute's label written out)")
    echoed = _example_echo(text, product)
    if echoed:
        failed.append(f"prompt_label: the worked example's words: {', '.join(echoed)}")
    glued = new_compounds(text, product, fact.text)
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


def _misidentified(text: str, product: ProductFacts, part: Sequence[str] = ()) -> str | None:
    """The noun a sentence calls the product when the record never calls it that ("The Steel
    Bottle is a leak-proof lid", "It is a glacier blue"): after "is a", the noun phrase's last
    word must be the head noun of one of its names (:func:`kind_heads`: "The Bike Light Set is a
    50-lumen rear light" calls a set one of its lights), a word of its category, or a generic
    noun of the lexicon ("choice"). ``part``: the subject of the sentence's fact when that names
    a part; what follows the part's own "is" is said of the part ("the linen shade is 22 cm
    across")."""
    from workers.copy_text import _adjective_like

    kinds = kind_heads(product) | _GENERIC_NOUNS
    # A set or a pair is also what it holds, said after "of" ("a set of three bamboo boards").
    held = {w.casefold() for name in product.names() for w in gate_words(name)}
    for match in _IDENTITY.finditer(text):
        before = gate_words(text[: match.start()])
        if part and before and before[-1].casefold() == part[-1]:
            continue  # "the linen shade is 22 cm across": said of the part its fact names
        words: list[str] = []
        allowed = kinds
        for word in _COMPOUND.findall(match.group(1)):
            folded = word.casefold()
            if folded == "of" and words and words[-1] in _COLLECTIVES:
                words = []  # "a pair of blackout curtains": the curtains are what it is
                if kinds & _COLLECTIVES:
                    allowed = kinds | held
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
#: Words after a product's head noun that name a model, not a kind ("Speaker Mini X2").
_MODEL_WORDS = frozenset(
    [
        "mini",
        "pro",
        "max",
        "plus",
        "lite",
        "ultra",
        "air",
        "classic",
        "compact",
        "original",
        "junior",
        "kids",
        "xl",
        "xs",
        "duo",
        "trio",
    ]
)


def kind_heads(product: ProductFacts) -> set[str]:
    """What the product is: the head noun of each of its names, cut at a "with", "for",
    bracket or comma ("Garden Hose 15 m with Spray Gun" is a hose, "Bike Light Set" a set,
    never a light), and the words of its category. A name without a plain head word gives
    all its words."""
    from workers.copy_text import _TITLE_CUT

    heads: set[str] = set()
    for name in product.names():
        words = [w for w in gate_words(_TITLE_CUT.split(name, maxsplit=1)[0]) if not w.isdigit()]
        plain = [
            w.casefold()
            for w in words
            if w.isalpha() and not w.isupper() and w.casefold() not in _UNITS
        ]
        while len(plain) > 1 and plain[-1] in _MODEL_WORDS:
            plain.pop()
        if plain:
            heads.add(plain[-1])
        else:
            heads.update(w.casefold() for w in words if w.casefold() not in _UNITS)
    heads |= {w.casefold() for w in gate_words(product.category or "")}
    return heads


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
        word = re.sub(r"['’]s$", "", word)  # "The Wall Lamp's shade": a name's possessive
        if word[:1].isupper() and word[1:].islower() and word not in proper:
            found.append(word)
    return found


def new_compounds(text: str, product: ProductFacts, also: str = "") -> list[str]:
    """Hyphenated words the record (and ``also``, a fact's text) does not write
    ("season-seasoned" from "3-season"): pieces of allowed words glued into a new one
    ("Like-Like", "bamboo-finished"). "go-to" and "must-have" pass."""
    written = {w.casefold() for w in _COMPOUND.findall(f"{product.corpus()} {also}")}
    found = []
    for word in _COMPOUND.findall(text):
        folded = word.casefold()
        if "-" not in folded or folded in written or folded in _GENERIC_NOUNS:
            continue
        found.append(word)
    return found


#: How a record qualifies a number: "up to 40 hours" is not "40 hours".
_QUALIFIERS = (
    ("up", "to"),
    ("at", "least"),
    ("less", "than"),
    ("more", "than"),
    ("under",),
    ("over",),
    ("about",),
    ("around",),
    ("approximately",),
    ("nearly",),
    ("almost",),
    ("within",),
    ("from",),
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[^\s\w-]")
_RANGE_WORDS = frozenset({"to", "–", "—", "-", "and"})


def _tokens(text: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(text)]


def _number_context(tokens: list[str], i: int) -> tuple[str, tuple[str, ...], str | None]:
    """What a number at ``tokens[i]`` is said with: the token after it, the qualifier before
    it, the other end of a range it belongs to."""
    after = tokens[i + 1] if i + 1 < len(tokens) else "."
    qualifier: tuple[str, ...] = ()
    for q in _QUALIFIERS:
        if tuple(tokens[max(0, i - len(q)) : i]) == q:
            qualifier = q
            break
    partner = None
    if i + 2 < len(tokens) and tokens[i + 1] in _RANGE_WORDS and tokens[i + 2][:1].isdigit():
        partner = tokens[i + 2]
        after = tokens[i + 3] if i + 3 < len(tokens) else "."
    elif i >= 2 and tokens[i - 1] in _RANGE_WORDS and tokens[i - 2][:1].isdigit():
        partner = tokens[i - 2]
        qualifier = ()
        for q in _QUALIFIERS:
            if tuple(tokens[max(0, i - 2 - len(q)) : i - 2]) == q:
                qualifier = q
                break
    return after, qualifier, partner


def _same_word(a: str, b: str) -> bool:
    return a == b or a.rstrip("s") == b.rstrip("s")


def _moved_numbers(text: str, fact: Fact, product: ProductFacts) -> list[str]:
    """Numbers said with other words than their fact says them with: a unit or noun swapped
    ("2 batteries" from "2 years"), a qualifier dropped ("300 m" from "up to 300 m"), a
    range cut to one end ("130 cm" from "110 to 130 cm"), a count left bare ("holds up to
    30." from "30 kg"). An attribute's number may be followed by its key ("8 eyelets")."""
    said = _tokens(text)
    source = _tokens(fact.text)
    names = {t for name in product.names() for t in _tokens(name)}
    keys = {t for key, _v in fact.attributes for t in _tokens(re.sub(r"[_-]+", " ", str(key)))}
    moved = []
    for i, token in enumerate(said):
        if not token[:1].isdigit():
            continue
        places = [j for j, t in enumerate(source) if t == token]
        if not places:
            continue  # a number of the names, or one the number gate answers for
        after, qualifier, partner = _number_context(said, i)
        fine = False
        for j in places:
            f_after, f_qualifier, f_partner = _number_context(source, j)
            if f_partner is not None and partner != f_partner:
                continue
            if f_qualifier and qualifier != f_qualifier:
                continue
            # a key word after the number ("8 eyelets"), but no unit the fact does not
            # give it ("2 min" of "players min: 2")
            keyed = after in keys and after not in _UNITS
            if _same_word(after, f_after) or (keyed and f_after in (".", ":")):
                fine = True
                break
            if fact.kind == "attribute" and f_after == "." and keyed:
                fine = True
                break
        if not fine and not (token in names and i and said[i - 1] in names):
            moved.append(" ".join(said[max(0, i - 2) : i + 2]))
    return moved


#: Verbs a record sentence's subject comes before ("The stainless steel bowl is dishwasher
#: safe"): the subject is what the rest is said of.
_VERBS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "can",
        "will",
        "stays",
        "stay",
        "keeps",
        "keep",
        "doubles",
        "double",
        "fits",
        "fit",
        "folds",
        "fold",
        "turns",
        "turn",
        "holds",
        "hold",
        "packs",
        "pack",
        "lasts",
        "last",
        "runs",
        "run",
        "works",
        "work",
        "gives",
        "give",
        "makes",
        "make",
        "comes",
        "come",
        "returns",
        "return",
        "charges",
        "charge",
        "lets",
        "let",
        "locks",
        "lock",
        "opens",
        "open",
        "closes",
        "close",
        "clips",
        "clip",
        "attaches",
        "attach",
        "converts",
        "convert",
        "connects",
        "connect",
        "covers",
        "cover",
        "includes",
        "include",
        "measures",
        "measure",
        "weighs",
        "weigh",
        "sits",
        "sit",
        "stands",
        "stand",
        "slides",
        "slide",
        "zips",
        "zip",
        "snaps",
        "snap",
        "lifts",
        "lift",
        "stores",
        "store",
        "shows",
        "show",
        "glows",
        "glow",
        "rotates",
        "rotate",
        "adjusts",
        "adjust",
    ]
)
_SUBJECT_OPENERS = frozenset({"the", "its", "each", "both", "every", "their", "this", "a", "an"})


def _subject(text: str) -> list[str]:
    """The words of a record sentence's subject when it names a part ("The stainless steel
    bowl is …" -> stainless, steel, bowl), else []."""
    words = gate_words(text)
    if not words or words[0].casefold() not in _SUBJECT_OPENERS:
        return []
    for k, word in enumerate(words[2:7], start=2):
        if word.casefold() in _VERBS:
            return [w.casefold() for w in words[1:k]]
    return []


def _lost_subject(text: str, fact: Fact, product: ProductFacts) -> list[str]:
    """The fact's subject words the sentence drops: "The Cat Water Fountain is dishwasher
    safe" from "The stainless steel bowl is dishwasher safe" says it of the whole product."""
    names = {w.casefold() for name in product.names() for w in gate_words(name)}
    subject = [w for w in _subject(fact.text) if w not in names and w not in DANGLING]
    opening = [w.casefold() for w in gate_words(fact.text)[:2]]
    if not subject and len(opening) == 2 and opening[0] == "the" and _one_of_several(opening[1]):
        # "the smaller 40 × 32 × 38 cm" (a clause of "the larger is …, the smaller …"): the
        # measure is one table's, not the set's
        subject = [opening[1]]
    written = {w.casefold() for w in gate_words(text)}
    return [w for w in subject if not _written(w, written)]


def _one_of_several(word: str) -> bool:
    """ "smaller", "larger", "other", "second": a word that picks one of a product's pieces."""
    return word in ("other", "first", "second", "third", "last") or (
        len(word) > 4 and word.isalpha() and word.endswith(("er", "est")) and word != "other"
    )


#: Verbs whose object a part gives the whole product: "the dual head fits Presta and
#: Schrader valves" (so does the pump); "the shade takes one E27 bulb" (so does the lamp).
_THROUGH_A_PART = frozenset({"fits", "fit", "takes", "take", "connects", "connect"})


def part_properties(text: str, product: ProductFacts) -> list[str]:
    """What the record says of a part that ``text`` says without the part: "Cat Water
    Fountain, dishwasher safe" when only "the stainless steel bowl is dishwasher safe". A
    property is its predicate's words (two in a row, or the one word a short predicate has);
    one the record also says elsewhere (of the product, in an attribute) is the product's too.
    """
    names = {w.casefold() for name in product.names() for w in gate_words(name)}
    parts: list[tuple[list[str], list[str]]] = []  # (the part's words, what is said of it)
    elsewhere: list[str] = [product.title, *(str(v) for v in product.attributes.values())]
    for sentence in _SENTENCE.findall(" ".join(product.description.split())):
        for clause in re.split(r";\s+", sentence.strip()):
            subject = [w for w in _subject(clause) if w not in names and w not in DANGLING]
            if not subject:
                elsewhere.append(clause)
                continue
            words = [w.casefold() for w in gate_words(clause)]
            verb = next(k for k in range(2, len(words)) if words[k] in _VERBS)
            if words[verb] in _THROUGH_A_PART:
                elsewhere.append(clause)  # what the part fits, the product fits
                continue
            parts.append((subject, words[verb + 1 :]))
    if not parts:
        return []
    said = [w.casefold() for w in gate_words(text)]
    said_pairs = set(itertools.pairwise(said))
    other = [w.casefold() for w in gate_words(" ".join(elsewhere))]
    other_pairs = set(itertools.pairwise(other))
    found: list[str] = []
    for subject, predicate in parts:
        if any(_written(w, set(said)) for w in subject[-1:]):
            continue  # the text names the part
        content = [w for w in predicate if w not in DANGLING and w not in _EMPTY]
        pairs = [p for p in itertools.pairwise(predicate) if p[0] in content and p[1] in content]
        if len(content) == 1 and not pairs:
            hits = [c for c in content if c in said and c not in other]
        else:
            hits = [" ".join(p) for p in pairs if p in said_pairs and p not in other_pairs]
        found.extend(f"{hit} (said of the {' '.join(subject)})" for hit in hits)
    return list(dict.fromkeys(found))


_LIST = re.compile(r"\b([^\W\d_][\w-]*)((?:,\s+[^\W\d_][\w-]*)*),?\s+(?:and|or)\s+([^\W\d_][\w-]*)")


def _cut_lists(text: str, fact: Fact) -> list[str]:
    """A list of the fact said in part ("a flat base for gas" from "for gas, electric and
    induction hobs"): a sentence that names one item names them all."""
    written = {w.casefold() for w in _COMPOUND.findall(text)} | {
        w.casefold() for w in gate_words(text)
    }
    cut = []
    for match in _LIST.finditer(fact.text):
        if not match.group(2):
            continue  # "fold to 38 cm and weigh 290 g" joins clauses, not a list's items
        items = [match.group(1), *re.findall(r"[\w-]+", match.group(2)), match.group(3)]
        items = [i.casefold() for i in items if i.casefold() not in DANGLING]
        if len(items) < 2:
            continue
        said = [i for i in items if _written(i, written)]
        if said and len(said) < len(items):
            cut.append(", ".join(i for i in items if i not in said))
    return cut


_LIST_COMMA = "\u2063"  # an invisible separator: a list's comma while clauses are split
_BROKEN_IS = re.compile(r"\b(?:is|are)\s+((?:[^\W\d_]+\s+){1,2})([^\W\d_]+s)\b", re.IGNORECASE)


def _broken_copula(text: str) -> str | None:
    """ "It is length adjusts from 110 to 130 cm": a fact's own subject and verb pasted after
    "is"."""
    for match in _BROKEN_IS.finditer(text):
        between = match.group(1).casefold().split()
        verb = match.group(2).casefold()
        if (
            verb in _VERBS
            and verb not in ("is", "has")
            and not set(between)
            & {
                "and",
                "that",
                "which",
                "who",
                "so",
                "it",
                "also",
            }
        ):
            return match.group().strip()
    return None


#: Words that make an offer: a sentence may use one only where its fact does (the closing
#: line invites; "You can buy a light blanket" sells something the record does not).
_OFFER_WORDS = frozenset({"buy", "choose", "order", "shop", "pick", "grab", "purchase"})
_PRICE_PHRASE = re.compile(r"\byours\s+for\b|\bfor\s+only\b|\bjust\s+for\b", re.IGNORECASE)


def codes_outside_names(text: str, product: ProductFacts) -> list[str]:
    """A name's model code ("G2", "AQ-3") put anywhere but in the name ("Shimano G2")."""
    from workers.copywriter import find_term

    record = [product.description, *(f"{k} {v}" for k, v in product.attributes.items())]
    described = {w.casefold() for w in _COMPOUND.findall(" ".join(record))}
    codes = {
        w.casefold()
        for name in product.names()
        for w in _COMPOUND.findall(name)
        if w[:1].isalpha() and any(c.isdigit() for c in w)
    } - described
    if not codes:
        return []
    rest = " ".join(text.split())
    for name in sorted(product.names(), key=len, reverse=True):
        if find_term(name, rest):
            pattern = r"\s+".join(re.escape(part) for part in name.split())
            rest = re.sub(pattern, " ", rest, flags=re.IGNORECASE)
    return [w for w in _COMPOUND.findall(rest) if w.casefold() in codes]


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


#: Words that say nothing of a fact by themselves: pronouns a sentence uses for the product.
_EMPTY = frozenset({"it", "you", "they", "them", "we", "i", "he", "she", "one", "own"})


def _content(fact: Fact, product: ProductFacts) -> list[str]:
    """The words of a fact that say something, in its order: not the names, not function
    words, not an attribute's key ("color" of "color: Glacier Blue"). Appeal words of the
    lexicon count when the fact writes them ("easy to grip" is a claim about this product)."""
    said = fact.text.split(":", 1)[1] if fact.kind in ("attribute", "price") else fact.text
    names = {w.casefold() for name in product.names() for w in gate_words(name)}
    words = [w.casefold() for w in gate_words(said)]
    words = [w for w in words if w not in DANGLING and w not in _EMPTY]
    kept = [w for w in words if w not in names]
    return list(dict.fromkeys(kept or words))


def _written(word: str, written: set[str]) -> bool:
    """Whether ``word`` is in ``written`` as it is, in its plural or singular, or another
    simple inflection ("holding" said as "holds": the same verb)."""
    if word in written or word.rstrip("s") in written or f"{word}s" in written:
        return True
    return word.endswith(("ing", "ed")) and not inflections(word).isdisjoint(written)


def coverage(text: str, fact: Fact, product: ProductFacts) -> float:
    """The share of the fact's content words (or their simple plurals) the sentence says."""
    content = _content(fact, product)
    if not content:
        return 0.0
    written = {w.casefold() for w in gate_words(text)}
    return sum(_written(w, written) for w in content) / len(content)


def _in_order(text: str, fact: Fact, product: ProductFacts) -> bool:
    """Whether the fact's words come in the fact's order ("rainfly is waterproof" kept as
    such, not turned into "waterproof ... rainfly")."""
    content = _content(fact, product)
    index = {w: i for i, w in enumerate(content)}
    for w in content:
        index.setdefault(f"{w}s", index[w])
        index.setdefault(w.rstrip("s"), index[w])
    # The product's names are no part of the fact's order: "The Watercolour Set has
    # twenty-four artist-grade watercolours" says the fact in its order.
    rest = text
    for name in sorted(product.names(), key=len, reverse=True):
        rest = re.sub(
            r"(?<!\w)" + r"\s+".join(re.escape(p) for p in name.split()) + r"(?!\w)",
            " ",
            rest,
            flags=re.IGNORECASE,
        )
    seen: list[int] = []
    for word in gate_words(rest):
        position = index.get(word.casefold())
        if position is not None and position not in seen:
            seen.append(position)
    return seen == sorted(seen)


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
#: The examples' own two-word phrases (not function words): a sentence that writes one the
#: product's record does not is copying the example, not saying its fact.
_EXAMPLE_PAIRS = frozenset(
    f"{a} {b}"
    for _product, _said, answer in EXAMPLES
    for a, b in zip(
        [w.casefold() for w in gate_words(answer)],
        [w.casefold() for w in gate_words(answer)][1:],
        strict=False,
    )
    if a not in DANGLING | _EMPTY | {"measures"}
    and b not in DANGLING | _EMPTY | {"measures"}
    and a.isalpha()
    and b.isalpha()
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


def _example_echo(text: str, product: ProductFacts) -> list[str]:
    """Two-word phrases of the worked examples' answers that the product's record does not
    write ("a great choice for your day pack" for an aquarium stone)."""
    record = " ".join(w.casefold() for w in gate_words(product.corpus()))
    words = [w.casefold() for w in gate_words(text)]
    found = []
    for first, second in itertools.pairwise(words):
        pair = f"{first} {second}"
        if pair in _EXAMPLE_PAIRS and pair not in record:
            found.append(pair)
    return found


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
    if compose:
        _compose_open(generator, plans, variant_of, batch_size)
    return {key: _assemble(plan) for key, plan in plans.items()}


def _assemble(plan: Plan) -> tuple[str | None, str | None, dict[str, Any]]:
    """The slot's text from its facts' passing sentences, in the record's order: the first
    sentence names the product (where the channel asks for it), no sentence repeats a phrase
    of an earlier one; checked as a whole by every channel gate."""
    from contentfab.core.channels import word_count
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
            key=lambda c: (c.fact == plan.lead, c.score),
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
    from contentfab.core.channels import limit, measure, word_count

    text = " ".join(c.text for c in chosen)
    most = slot.spec.max_words
    return measure(slot.spec, text) > limit(slot.spec, text) or (
        most is not None and word_count(text) > most
    )


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
    count = min(3 + 2 * round_, len(usable))
    return sorted({usable[(start + k) % len(usable)] for k in range(count)})


def _usable(plan: Plan) -> list[int]:
    return [i for i, f in enumerate(plan.facts) if f.kind != "price"] or list(
        range(len(plan.facts))
    )


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
    from workers.copywriter import FLUENCY_FLOOR

    slot = plan.slot
    fact = plan.facts[candidate.fact]
    text = candidate.text
    alone = slot.channel not in MULTI_SENTENCE
    failed = sentence_failures(text, fact, slot.product, slot.brand, slot.spec, alone=alone)
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
        return False
    found = plan.passed.setdefault(candidate.fact, [])
    if all(c.text != text for c in found):
        found.append(candidate)
        found.sort(key=lambda c: c.score, reverse=True)
    return True


#: How many facts of a one-sentence channel, from its own first fact on, get composed
#: sentences when the model wrote none that passed.
COMPOSE_FACTS = 4
#: Attribute keys whose value is what the product comes in ("comes in Glacier Blue").
_COMES_IN = frozenset({"colour", "color", "colourway", "colorway", "finish", "pattern"})


def framed_sentences(
    fact: Fact, product: ProductFacts, name: str, *, alone: bool
) -> dict[str, list[str]]:
    """Sentences that say ``fact`` in the record's own words: its clause copied as written,
    put in frames ("The Steel Bottle keeps …", "… is a …", "… has …"), per frame its
    sentences (opening with the product's name, then, where the sentence need not name the
    product, with "It"). Grounded by construction; the model picks the frame
    (:func:`_compose_open`) and the sentence gates judge the result like any other.
    An empty dict when no frame fits (the closing line: the model writes it or nobody does)."""
    named = _named(name)
    plural = _plural(name)
    owner = f"{named}'" if plural else f"{named}'s"  # "The Sewing Scissors' handles"
    be, have, come = ("are", "have", "come") if plural else ("is", "has", "comes")
    subjects = [named] if alone else [named, "They" if plural else "It"]
    frames: dict[str, list[str]] = {}

    def add(shape: str, body: str, *, verb_s: bool = False) -> None:
        # ``verb_s``: the body opens with a verb of the third person singular ("packs"),
        # which a plural name cannot take.
        if verb_s and plural:
            return
        frames[shape] = [f"{subject} {body}." for subject in subjects]

    if fact.kind == "price":
        amount = fact.text.split(":", 1)[1].strip()
        add("priced", f"{be} priced at {amount}")
        add("costs", f"{'cost' if plural else 'costs'} {amount}")
        return frames
    if fact.kind == "attribute":
        key, value = (part.strip() for part in fact.text.split(":", 1))
        if key.casefold() in _COMES_IN:
            add("comes in", f"{come} in {value}")
        if not any(c.isdigit() for c in value):
            add("is", f"{be} {value}")
        add("has a key of", f"{have} a {key} of {value}")
        add("has a value key", f"{have} {_article(value)} {value} {key}")
        return frames
    if fact.kind != "description":
        return frames
    clause = fact.text.strip().rstrip(".!?;,").strip()
    words = clause.split()
    if len(words) < 2:
        return frames
    first = words[0].casefold()
    as_written = [] if alone else [f"{clause[0].upper()}{clause[1:]}."]
    rest = " ".join(words[1:])
    if first in ("it", "they") or (first in ("its", "their") and not _subject(clause)):
        # The record's own subject is the product: its name takes the pronoun's place.
        own = f"{owner} {rest}." if first in ("its", "their") else f"{named} {rest}."
        frames["own subject"] = [own, *as_written]
        return frames
    if _subject(clause):
        # "The stainless steel bowl is dishwasher safe": the part stays the subject.
        if first in ("the", "its"):
            its = [] if alone else [f"{'Their' if plural else 'Its'} {rest}."]
            frames["possessive"] = [f"{owner} {rest}.", *its]
        if as_written:
            frames["as written"] = as_written
        return frames
    if _own_verb(words):
        # "Two to five players work together …": a clause with its own subject and verb is
        # no body for a frame ("The Game is two to five players work …"); as written only
        if as_written:
            frames["as written"] = as_written
        return frames
    body = _lowered(clause, product)
    determined = first in ("a", "an", "the") or first[:1].isdigit() or first in _NUMBER_WORDS
    if not determined:  # "The Scissors the carbon steel blades …" is no sentence
        add("verb", body, verb_s=first.endswith("s") and not first.endswith("ss"))
    if first.endswith("ing") and len(first) > 5 and first.isalpha() and not plural:
        # "holding 36 l" -> "holds 36 l" (or "-es"; the model picks the form it knows): the
        # record's verb, said of the product rather than "is holding"
        stem, tail = first[:-3], " ".join(body.split()[1:])
        add("verb from -ing", f"{stem}s {tail}")
        add("verb from -ing, e", f"{stem}es {tail}")
    add("is", f"{be} {body}")
    add("is for", f"{be} for {body}")  # "ages 10+"
    # What a noun phrase headed by the product's own kind names is the product, not a part
    # it has ("The Swimming Goggles have a silicone seal goggles with …").
    head = [
        w.casefold()
        for w in gate_words(re.split(r"\b(?:with|that|which|for|at)\b|,", body, maxsplit=1)[0])
    ]
    itself = bool(head) and (
        head[-1] in kind_heads(product) or head[-1].rstrip("s") in kind_heads(product)
    )
    if not itself:
        add("has", f"{have} {body}")
    if not determined and not plural:  # not "The Goggles are a silicone seal goggles"
        add("is a", f"{be} {_article(body)} {body}")
    if not determined and not itself:
        add("has a", f"{have} {_article(body)} {body}")
    if first in ("with", "in"):
        add("comes", f"{come} {body}")
    return frames


_MODALS = frozenset({"should", "must", "may", "might", "could", "would", "shall"})


def _own_verb(words: list[str]) -> bool:
    """Whether a clause has a verb of its own after its first word, before any relative
    clause ("players work together" yes; "lamp with an arm that folds flat" no)."""
    for k, word in enumerate(words[1:-1], start=1):  # the last word is a noun ("white glow")
        folded = word.casefold().strip(",;:")
        if folded in ("that", "which", "who", "whose", "where", "when") or word.endswith(","):
            return False
        if (folded in _VERBS or folded in _MODALS) and k >= 2:
            return True
    return False


def _plural(name: str) -> bool:
    """Whether a name reads as plural ("String Lights", "Trekking Poles"), so its sentences
    say "are", not "is"."""
    last = name.split()[-1].casefold() if name.split() else ""
    return last.isalpha() and last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _article(phrase: str) -> str:
    return "an" if phrase[:1].casefold() in "aeiou" else "a"


def _lowered(clause: str, product: ProductFacts) -> str:
    """A clause as it reads mid-sentence: its first word lower-cased unless the record writes
    it capitalised elsewhere (a name: "Aquila nylon strings")."""
    first = clause.split()[0]
    if not (first[:1].isupper() and first[1:].islower()):
        return clause
    proper = {w for n in product.names() for w in _COMPOUND.findall(n)}
    for sentence in _SENTENCE.findall(product.description):
        proper.update(_COMPOUND.findall(sentence.strip())[1:])
    word = _COMPOUND.findall(first)
    if word and word[0] in proper:
        return clause
    return first[:1].lower() + clause[1:]


def _compose_open(
    generator: TextGenerator,
    plans: dict[int, Plan],
    variant_of: dict[int, int],
    batch_size: int,
) -> None:
    """For each fact the model did not say faithfully in any round, the record's own clause in
    the frame the model finds likeliest (:func:`framed_sentences`; one teacher-forced pass per
    frame over the fact's own prompt). Only the likeliest frame is offered to the gates: where
    the model reads a noun phrase as what the product is ("is a hard-shell carry-on"), a frame
    that would make it a part ("has a hard-shell carry-on") is never the fallback."""
    rows: list[tuple[Plan, int, list[str], str]] = []
    for plan in plans.values():
        slot = plan.slot
        alone = slot.channel not in MULTI_SENTENCE
        if alone:
            if any(plan.passed.values()) or not plan.facts:
                continue
            usable = _usable(plan)
            start = usable.index(_lead(plan, variant_of.get(slot.key, 0)))
            count = min(COMPOSE_FACTS, len(usable))
            indices = [usable[(start + k) % len(usable)] for k in range(count)]
        else:
            indices = [i for i in _open_facts(plan, 0) if plan.facts[i].kind != "close"]
        name = min(slot.product.names(), key=len)
        for index in indices:
            fact = plan.facts[index]
            framed = framed_sentences(fact, slot.product, name, alone=alone)
            if not framed:
                continue
            prompt = generator.chat_prompt(_messages(slot, fact, name))
            rows.extend((plan, index, texts, prompt) for texts in framed.values())
    scores: list[tuple[float, int] | None] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        try:
            scores.extend(
                generator.prefix_logprobs([r[3] for r in batch], [r[2][0] for r in batch])
            )
        except GenerationError:
            scores.extend([None] * len(batch))
    best: dict[tuple[int, int], tuple[float, int, list[str], float]] = {}
    for (plan, index, texts, _prompt), score in zip(rows, scores, strict=True):
        if score is None:
            plan.fail("generation: scoring a composed sentence failed")
            continue
        total, tokens = score
        mean = total / max(1, tokens)
        key = (plan.slot.key, index)
        if key not in best or mean > best[key][3]:
            best[key] = (total, tokens, texts, mean)
    for plan in plans.values():
        for index in range(len(plan.facts)):
            chosen = best.get((plan.slot.key, index))
            if chosen is None:
                continue
            total, tokens, texts, _mean = chosen
            fact = plan.facts[index]
            for text in texts:
                plan.composed += 1
                _admit(
                    plan,
                    SentenceCandidate(
                        index,
                        text,
                        total,
                        max(1, tokens),
                        -1,
                        coverage(text, fact, plan.slot.product),
                        composed=True,
                    ),
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
