"""Marketing copy from a product record: prompts, best-of-N sampling, gates, selection.

Pure functions over records and a :class:`~workers.textgen.TextGenerator`; no Celery, no SQL.
A candidate is only ever delivered if it passes every gate; otherwise the slot reports why.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from contentfab.core.channels import CHANNELS, Channel, contains_emoji, limit, measure, word_count
from contentfab.core.errors import GenerationError
from workers.copy_prompts import example_for, instruction
from workers.copy_sentences import (
    PRICE_WORDS,
    codes_outside_names,
    is_planned,
    new_compounds,
    part_properties,
    write_planned,
)
from workers.copy_text import compose, dropped_qualifiers, fragment, head_name, selling_points
from workers.factcheck import FactSheet, unsupported_numbers
from workers.grounding import Vocabulary
from workers.recommender import product_text as _shopper_text
from workers.textgen import Generation, SamplingParams, TextGenerator

if TYPE_CHECKING:
    from workers.embeddings import FloatArray, TextEmbedder
    from workers.grounding import WordConstraint

#: Gate names as they appear in ``meta.gate_failures`` and in a failed job's error.
GATES = (
    "empty",
    "truncated",
    "length",
    "repetition",
    "relevance",
    "product_name",
    "fragment",
    "prompt_label",
    "grounding",
    "fact",
    "claim",
    "capitals",
    "banned_term",
    "required_term",
    "emoji",
    "exclamation",
    "title_case",
    "fluency",
    "duplicate",
)


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    title: str
    description: str = ""
    category: str | None = None
    price: str | None = None  # decimal as text, exactly as stored
    currency: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    short_names: tuple[str, ...] = ()
    """Names the brand kit allows for this product besides its title."""

    def corpus(self) -> str:
        """Everything the copy may state as fact, as one lower-cased text."""
        parts = [self.title, self.description, self.category or "", self.currency or ""]
        if self.price is not None:
            parts.append(self.price)
        parts.extend(f"{key} {value}" for key, value in self.attributes.items())
        return " ".join(parts).lower()

    def record_texts(self) -> list[str]:
        """The product record's texts as the vocabulary reads them."""
        texts = [self.title, self.description, self.category or "", self.currency or ""]
        for key, value in self.attributes.items():
            texts.append(str(key))
            texts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
        return texts

    def vocabulary(self, brand: BrandRules | None = None) -> Vocabulary:
        """The words copy about this product may use (:mod:`workers.grounding`)."""
        brand = brand or BrandRules()
        return _vocabulary(self, brand)

    def fact_sheet(self) -> FactSheet:
        texts = [self.title, self.description, self.category or ""]
        return FactSheet.of(texts, self.attributes, self.price, self.currency)

    def names(self) -> tuple[str, ...]:
        """The title, the brand kit's short names, and the title without its model number or
        size ("Alpine Trail Thermos 750 ml" -> "Alpine Trail Thermos") or its subtitle."""
        found = [self.title, *self.short_names]
        base = re.split(r"\s+[-–—|:]\s+|[,(]", self.title, maxsplit=1)[0].strip()
        found.append(base)
        found.append(_TRAILING_SPEC.sub("", base).strip())
        if not self.short_names:
            head = head_name(self.title)
            if head is not None:
                found.append(head)
        unique: list[str] = []
        for name in found:
            if len(name) >= 3 and name not in unique:
                unique.append(name)
        return tuple(unique)


def product_text(product: ProductFacts) -> str:
    """What a candidate's relevance is measured against: the text the recommender embeds a
    product from (title, category, description)."""
    return _shopper_text(product.title, product.description, product.category)


_TRAILING_SPEC = re.compile(r"(?:\s+(?:\d+(?:[.,]\d+)?\s*[a-zA-Z%]{0,3}|[IVX]+))+$")


@dataclass(frozen=True)
class BrandRules:
    """The brand kit as the gates apply it (see ``brand:`` in the campaign file)."""

    name: str | None = None
    voice: str | None = None
    required_terms: tuple[str, ...] = ()
    """Every text must contain each of these (word-boundary, case-insensitive)."""
    banned_terms: tuple[str, ...] = ()
    """No text may contain any of these (word-boundary, case-insensitive, unicode-aware)."""
    emoji: bool = True
    max_exclamations: int | None = None
    title_case_headlines: bool = False
    claims: tuple[str, ...] = ()
    """Claims the brand stands behind ("free shipping", "lifetime warranty"): their claim words
    are allowed inside these phrases."""
    vocabulary: tuple[str, ...] = ()
    """Words the brand kit adds to the lexicon of non-factual words (its own calls to action,
    say)."""


_VOCABULARIES: dict[tuple[str, str], Vocabulary] = {}


def _vocabulary(product: ProductFacts, brand: BrandRules) -> Vocabulary:
    key = (repr(product), repr(brand))  # a product's attributes dict makes it unhashable
    found = _VOCABULARIES.get(key)
    if found is None:
        if len(_VOCABULARIES) > 1024:
            _VOCABULARIES.clear()
        brand_texts = [
            brand.name or "",
            *brand.required_terms,
            *brand.claims,
            *brand.vocabulary,
            *product.short_names,
        ]
        if product.price is not None:
            # Copy that says the price may say it is one ("priced at 79.00 EUR"): the same
            # words a fact-by-fact price sentence may use (workers.copy_sentences).
            brand_texts.extend(PRICE_WORDS)
        found = _VOCABULARIES[key] = Vocabulary.of(
            product.record_texts(), brand_texts, price=product.price, currency=product.currency
        )
    return found


@dataclass(frozen=True)
class CopySlot:
    """One deliverable: a product × channel × tone × variant, with its sampling policy."""

    key: int  # the job ID; opaque here
    product: ProductFacts
    channel: str
    tone: str
    sampling: SamplingParams
    candidates: int = 4
    brand: BrandRules = BrandRules()
    channel_spec: Channel | None = None
    """A campaign's custom channel; None means the preset named ``channel``."""
    group: str | None = None
    """Slots of one group must not deliver near-duplicates (default: product and channel)."""
    delivered: tuple[str, ...] = ()
    """Texts already delivered in this slot's group (by earlier chunks)."""

    @property
    def spec(self) -> Channel:
        return self.channel_spec if self.channel_spec is not None else CHANNELS[self.channel]

    @property
    def group_key(self) -> str:
        return self.group if self.group is not None else f"{self.product.sku}\x1f{self.channel}"


@dataclass
class Candidate:
    text: str
    generation: Generation
    seed: int
    failed_gates: list[str]
    prefix: str = ""
    """What the answer was made to start with (:func:`response_prefixes`)."""
    composed: bool = False
    """Composed from the product's name and a selling point (:func:`composed_candidates`), not
    sampled; scored by the model's likelihood of it all the same."""
    prefix_logprob: tuple[float, int] = (0.0, 0)
    """The model's log-probability of the prefix, and its number of tokens."""
    relevance: float | None = None
    """Cosine between the text's and the product text's embeddings; None without an embedder."""

    @property
    def logprob_per_token(self) -> float:
        """Over the whole answer: a prefix counts as if the model had written it, so that an
        answer made to start with the product's name ranks like one that chose to."""
        total, tokens = self.prefix_logprob
        return (self.generation.logprob_sum + total) / max(
            1, len(self.generation.token_ids) + tokens
        )

    @property
    def score(self) -> float:
        if self.relevance is None:
            return self.logprob_per_token
        return self.logprob_per_token + RELEVANCE_WEIGHT * self.relevance


@dataclass
class CopyOutcome:
    key: int
    text: str | None
    error: str | None
    meta: dict[str, Any]


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


def token_budget(slot: CopySlot) -> int:
    """The campaign's max_new_tokens, capped by what the channel can hold."""
    cap = instruction(slot.spec)[2]
    return slot.sampling.max_new_tokens if cap is None else min(cap, slot.sampling.max_new_tokens)


def _brand_rules_text(brand: BrandRules, channel: Channel) -> str:
    rules = []
    if brand.required_terms:
        rules.append(f"Always use the words: {', '.join(brand.required_terms)}.")
    if brand.banned_terms:
        rules.append(f"Never use the words: {', '.join(brand.banned_terms)}.")
    if not brand.emoji:
        rules.append("No emoji.")
    if brand.max_exclamations == 0:
        rules.append("No exclamation marks.")
    if brand.title_case_headlines and channel.headline:
        rules.append("Write it in Title Case.")
    return " ".join(rules)


def build_messages(slot: CopySlot) -> list[dict[str, str]]:
    """The chat for one slot: a system message, one worked example (a product of another
    category, :func:`workers.copy_prompts.example_for`) and the product's own facts."""
    channel = slot.spec
    text, preset, _ = instruction(channel)
    example = example_for(slot.product)
    answer = example.answers[preset or "product_description"]
    brand = f" for {slot.brand.name}" if slot.brand.name else ""
    voice = f" Brand voice: {slot.brand.voice}." if slot.brand.voice else ""
    rules = _brand_rules_text(slot.brand, channel)
    system = (
        f"You are a marketing copywriter{brand}.{voice} Write in a {slot.tone} tone. "
        "You reply with the requested copy only. "
        "Use only the facts given and the product's own words: never invent features, "
        "materials, places, people, prices, discounts, numbers or guarantees."
        + (f" {rules}" if rules else "")
    )
    example_product = ProductFacts(
        sku=example.sku,
        title=example.title,
        description=example.description,
        category=example.category,
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{_prompt_facts(example_product, channel)}\n\n{text}"},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": f"{_prompt_facts(slot.product, channel)}\n\n{text}"},
    ]


def _prompt_facts(product: ProductFacts, channel: Channel) -> str:
    facts = _facts_block(product)
    points = selling_points(product.title, product.description, product.attributes)
    if points and not channel.multiline:
        facts += f"\nSelling points: {'; '.join(points[:4])}"
    return f"{facts}\nCall it: {short_name(product)}"


def short_name(product: ProductFacts) -> str:
    """The shortest name the copy may use for the product (the prompt asks for it, so that a
    small model does not make one up and a short headline still has room to say something)."""
    return min(product.names(), key=len)


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


def check(
    text: str, channel: Channel, product: ProductFacts, brand: BrandRules | None = None
) -> list[str]:
    """Reasons ``text`` is not publishable, each starting with its gate's name (:data:`GATES`);
    empty means publishable."""
    brand = brand or BrandRules()
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
    if channel.requires_name and not any(find_term(name, text) for name in product.names()):
        failed.append(f"product_name: {channel.name} must name the product")
    cut = fragment(text, sentences=writes_sentences(channel))
    if cut is not None:
        failed.append(f"fragment: {cut}")
    labels = _PROMPT_LABEL.findall(text)
    if labels:
        failed.append(f"prompt_label: a field label of the prompt: {', '.join(labels)}")
    ungrounded = product.vocabulary(brand).unsupported(text)
    if ungrounded:
        failed.append(
            "grounding: not in the product data, brand kit or lexicon: " + ", ".join(ungrounded[:8])
        )
    capitals, notes = invented_terms(text, product, brand)
    invented = unsupported_numbers(text, product.fact_sheet()) + notes
    if invented:
        failed.append(f"fact: not in the product data: {', '.join(invented[:3])}")
    if capitals:
        failed.append(f"capitals: words in capitals the product data does not write: {capitals}")
    unsupported = unsupported_claims(text, product, brand)
    if unsupported:
        failed.append(f"claim: not backed by the product data or brand kit: {unsupported}")
    if not channel.multiline:
        bare = bare_value(text)
        if bare is not None:
            failed.append(f"fragment: a bare data value after the name: {bare!r}")
    glued = new_compounds(text, product, " ".join([*brand.vocabulary, brand.name or ""]))
    if glued:
        failed.append(f"grounding: compounds the record does not write: {', '.join(glued)}")
    codes = codes_outside_names(text, product)
    if codes:
        failed.append(f"claim: a model code outside the product's name: {', '.join(codes)}")
    of_a_part = part_properties(text, product)
    if of_a_part:
        failed.append(f"claim: says of the product what the record says of a part: {of_a_part[0]}")
    unqualified = dropped_qualifiers(
        text, [product.title, product.description, product.category or ""], product.attributes
    )
    if unqualified:
        failed.append(
            "claim: without the word the record qualifies it with ('gold' of 'gold plating'): "
            + ", ".join(unqualified)
        )
    failed.extend(brand_failures(text, channel, brand))
    return failed


_NAME_TAIL = re.compile(r"^.+?(?:,|:|\s[–—-])\s+(.+?)[.!]?$")
_NOT_A_PHRASE = frozenset({"true", "false", "yes", "no", "none", "null", "n/a"})


def bare_value(text: str) -> str | None:
    """What follows a short line's name when it is a data value, not a phrase: a number
    without its unit ("Teak Bath Caddy, 105"), a flag ("Travel Neck Pillow, True"), a code of
    symbols ("Tabletop Easel, D*M")."""
    match = _NAME_TAIL.match(" ".join(text.split()))
    if match is None:
        return None
    tail = match.group(1).strip()
    symbols = [
        c
        for c in tail
        if not (c.isalnum() or c.isspace() or c in "-–'’&%°.,/×+\"!?()")
        # a currency sign ("$34.95"); an emoji has a gate of its own
        and unicodedata.category(c) not in ("Sc", "So")
    ]
    if re.fullmatch(r"[\d.,\s]+", tail) or tail.casefold() in _NOT_A_PHRASE or symbols:
        return tail
    return None


#: The prompt's field labels (``_facts_block``): copy that writes one is echoing the prompt.
_PROMPT_LABEL = re.compile(
    r"\b(Product|Category|Price|Details|Attributes|Selling points|Call it|Tone|Fact)\s*:"
)
_CAPS_WORD = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]+(?:[-'][A-Z0-9]+)*(?![\w-])")
_PARENTHETICAL = re.compile(r"\(([^()]*)\)")


def invented_terms(text: str, product: ProductFacts, brand: BrandRules) -> tuple[str, list[str]]:
    """Words in capitals that the product data and brand kit do not hold ("CHEFBARKER",
    "FINESIGHT": a small model invents model names and product lines; "CHEAP": shouting, which
    ad platforms refuse as gimmicky capitalisation), and bracketed notes ("(A)", "(brand)")
    that say nothing from the product data. Capitals the data writes ("LED", "USB-C") and its
    words written in capitals pass."""
    known = set(_WORD.findall(_fold(" ".join([product.corpus(), *product.short_names]))))
    known |= set(_WORD.findall(_fold(" ".join([brand.name or "", *brand.required_terms]))))
    known |= set(_WORD.findall(_fold(" ".join(brand.claims))))
    capitals = [
        word for word in _CAPS_WORD.findall(text) if not set(_WORD.findall(_fold(word))) <= known
    ]
    notes = []
    for note in _PARENTHETICAL.findall(text):
        words = set(_WORD.findall(_fold(note)))
        saying = {w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())}
        if not saying or not words <= known:
            notes.append(f"({note})")
    return ", ".join(dict.fromkeys(capitals)), list(dict.fromkeys(notes))


def writes_sentences(channel: Channel) -> bool:
    """Whether the channel's copy is sentences (ending with . ! ?), not a headline-like line."""
    return channel.multiline or (channel.count != "words" and channel.max_chars >= 90)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def find_term(term: str, text: str) -> list[str]:
    """Where ``term`` occurs in ``text`` as whole words: case-insensitive (``CAFÉ`` finds
    ``Café``), the same in composed or decomposed unicode, never inside another word, any run of
    whitespace matching a space. Returns the occurrences as written."""
    folded_term = _fold(term).split()
    if not folded_term:
        return []
    pattern = r"\s+".join(re.escape(part) for part in folded_term)
    # Scripts written without spaces (CJK) have no word boundaries to require.
    before = "" if _unspaced(folded_term[0][0]) else r"(?<!\w)"
    after = "" if _unspaced(folded_term[-1][-1]) else r"(?!\w)"
    folded = _fold(text)
    # casefold can change lengths (ß -> ss), so report the folded occurrences.
    return [m.group() for m in re.finditer(f"{before}{pattern}{after}", folded)]


def _unspaced(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def unsupported_claims(text: str, product: ProductFacts, brand: BrandRules) -> str:
    """Claim words ("free", "best", "#1") that neither the product data nor one of the brand
    kit's claims backs. A claim word is backed when it occurs in the product data together with
    a neighbouring word of the copy ("BPA-free" backs "BPA-free bottle", not "free shipping"),
    or inside a claim the brand kit lists ("free shipping")."""
    folded = _fold(text)
    for claim in brand.claims:
        pattern = r"\s+".join(re.escape(part) for part in _fold(claim).split())
        folded = re.sub(rf"(?<!\w){pattern}(?!\w)", " ", folded)
    tokens = _CLAIM_TOKEN.findall(folded)
    facts = " ".join(_CLAIM_TOKEN.findall(_fold(product.corpus())))
    bad = []
    for i, token in enumerate(tokens):
        if token not in CLAIM_WORDS:
            continue
        pairs = []
        if i > 0:
            pairs.append(f"{tokens[i - 1]} {token}")
        if i + 1 < len(tokens):
            pairs.append(f"{token} {tokens[i + 1]}")
        if not pairs:
            pairs.append(token)
        if not any(re.search(rf"(?<![\w#]){re.escape(p)}(?![\w])", facts) for p in pairs):
            bad.append(token)
    return ", ".join(dict.fromkeys(bad))


_CLAIM_TOKEN = re.compile(r"#?\w+")
_EXCLAMATION = re.compile("[!\uff01\u203c\u2757\u2755]")
_MINOR_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "but",
        "or",
        "nor",
        "for",
        "so",
        "yet",
        "of",
        "on",
        "at",
        "to",
        "by",
        "in",
        "up",
        "as",
        "via",
        "with",
        "from",
        "into",
        "per",
        "vs",
    ]
)


def brand_failures(text: str, channel: Channel, brand: BrandRules) -> list[str]:
    """The brand kit's gates: banned and required terms, emoji, exclamations, title case."""
    failed = []
    banned = [hit for term in brand.banned_terms for hit in find_term(term, text)]
    if banned:
        failed.append(f"banned_term: {', '.join(dict.fromkeys(banned))}")
    missing = [term for term in brand.required_terms if not find_term(term, text)]
    if missing:
        failed.append(f"required_term: missing {', '.join(missing)}")
    if not brand.emoji and contains_emoji(text):
        failed.append("emoji: the brand kit allows no emoji")
    if brand.max_exclamations is not None:
        count = len(_EXCLAMATION.findall(text))
        if count > brand.max_exclamations:
            failed.append(f"exclamation: {count} > {brand.max_exclamations}")
    if brand.title_case_headlines and channel.headline and not is_title_case(text):
        failed.append("title_case: headlines must be in Title Case")
    return failed


def is_title_case(text: str) -> bool:
    """Every word starts with a capital, except short function words after the first word.
    Words of scripts without case (CJK) and words starting with a digit pass as they are."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    for i, word in enumerate(words):
        if word[0].islower() and (i == 0 or word.lower() not in _MINOR_WORDS):
            return False
    return True


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


def response_prefixes(slot: CopySlot, round_: int) -> list[str]:
    """What each candidate's answer starts with, written into the prompt for the model to go on
    from ("" = the model starts the answer itself).

    A small model often renames the product ("Ångström Ultralight Tarp" -> "Ångström Elite
    Sport Tarp") or opens a short field with filler that leaves no room to say what it is about,
    so for the fields that must name the product, and the short single-line ones, some
    candidates start with the product's shortest allowed name. Half of them in the first round,
    three in four in later rounds (which only slots without a passing candidate reach); the
    others stay free, so the ranking still sees the model's own openings.
    """
    channel = slot.spec
    if not (channel.requires_name or (not channel.multiline and channel.max_chars <= 40)):
        return [""] * slot.candidates
    name = short_name(slot.product)
    if channel.count != "words" and len(name) > channel.max_chars:
        return [""] * slot.candidates
    return [
        name if (i % 2 == 1 if round_ == 0 else i % 4 != 0) else "" for i in range(slot.candidates)
    ]


def _candidate_params(slot: CopySlot, round_: int) -> list[SamplingParams]:
    base = replace(slot.sampling, max_new_tokens=token_budget(slot))
    return [
        replace(base, seed=(base.seed + 7919 * i + 104729 * round_) % (2**31))
        for i in range(slot.candidates)
    ]


def normalised(text: str) -> str:
    """``text`` as dedupe compares it: NFKC, case-folded, words only, single spaces."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _shingles(text: str, n: int = 3) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + n] for i in range(max(1, len(padded) - n + 1))}


def _jaccard(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


#: Above either similarity two texts are the same copy said twice.
DUPLICATE_WORD_JACCARD = 0.8
DUPLICATE_CHAR_JACCARD = 0.7
#: At or above this cosine of their MiniLM embeddings two texts of one slot group are the same
#: copy reworded: on SmolLM2's candidates, pairs above it were paraphrases, pairs just below it
#: mostly different angles (bench/copy_dedupe.py, see BENCHMARKS.md).
DUPLICATE_COSINE = 0.9
#: Below this mean log-likelihood per token (the model's own, unmasked) a candidate reads as
#: forced: grounded decoding steered the model through words it found unlikely, and the text
#: comes out as word salad ("Loungeres Loungers: a low-to-the-routine" at -4.8). Fluent
#: grounded copy from SmolLM2 scores above -2 (demo catalog, read by hand).
FLUENCY_FLOOR = -2.5
#: How much the relevance to the product text (a cosine) counts next to the per-token
#: log-likelihood when ranking: among one slot's passing SmolLM2 candidates the log-likelihood
#: spreads about 3.4 times as widely as the cosine, so at 3 both parts count about equally.
RELEVANCE_WEIGHT = 3.0


def near_duplicate(text: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that ``text`` nearly repeats: the same normalised text, or word
    or character-trigram sets (Jaccard) that overlap above the thresholds. None if none."""
    mine = normalised(text)
    words, chars = set(mine.split()), _shingles(mine)
    for other in others:
        theirs = normalised(other)
        if mine == theirs:
            return other
        if _jaccard(words, set(theirs.split())) >= DUPLICATE_WORD_JACCARD:
            return other
        if _jaccard(chars, _shingles(theirs)) >= DUPLICATE_CHAR_JACCARD:
            return other
    return None


class _Embeddings:
    """Sentence embeddings of the texts one :func:`write_copy` call compares, each computed once."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self.vectors: dict[str, FloatArray] = {}

    def add(self, texts: Iterable[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.embed(missing), strict=True))

    def cosine(self, text: str, other: str) -> float:
        return float(self.vectors[text] @ self.vectors[other])

    def twin(self, text: str, others: Sequence[str]) -> str | None:
        """The first of ``others`` whose embedding is within :data:`DUPLICATE_COSINE` of
        ``text``'s, or None."""
        if not others:
            return None
        cosines = np.stack([self.vectors[o] for o in others]) @ self.vectors[text]
        hits = np.flatnonzero(cosines >= DUPLICATE_COSINE)
        return others[int(hits[0])] if hits.size else None


def _dedupe_meta(embeddings: _Embeddings | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "methods": ["normalised_text", "word_jaccard", "char_trigram_jaccard"],
        "word_jaccard": DUPLICATE_WORD_JACCARD,
        "char_trigram_jaccard": DUPLICATE_CHAR_JACCARD,
    }
    if embeddings is not None:
        meta["methods"].append("embedding_cosine")
        meta["embedding_cosine"] = DUPLICATE_COSINE
        meta["embedding_model"] = embeddings.embedder.provenance
    return meta


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
    the frame the model finds likeliest (:func:`workers.copy_sentences.framed_sentences`).
    """
    grounding = getattr(generator, "grounding", None) if grounded else None
    # Sentence channels are written fact by fact (workers.copy_sentences) when decoding is
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
                points = [c for c in saying_more if says_a_point(c.text, slot.product)]
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


def _is_new(text: str, group: Sequence[str], embeddings: _Embeddings | None) -> bool:
    """Whether ``text`` is no near-duplicate of a text its slot group already has."""
    return near_duplicate(text, group) is None and (
        embeddings is None or embeddings.twin(text, group) is None
    )


def name_only(text: str, product: ProductFacts) -> bool:
    """Whether ``text`` says nothing but the product's names ("Camp Mug Set", "Enamel Camp Mug
    Set: Camp Mug Set"): what is left without them is function words and punctuation."""
    rest = normalised(text)
    for name in sorted((normalised(n) for n in product.names()), key=len, reverse=True):
        if name:
            rest = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", rest)
    return all(word in STOPWORDS for word in rest.split())


def says_a_point(text: str, product: ProductFacts) -> bool:
    """Whether a short line says something from the product's data beyond its names and its
    title's words: a word of the description or of an attribute value that is no function or
    lexicon word ("Backpacking Tent: Freestanding" does; "Steel Bottle 750 ml" and "Shop the
    Backpacking Tent today" do not; the category alone does not either)."""
    from workers.copy_text import DANGLING
    from workers.grounding import gate_words, load_lexicon

    plain = load_lexicon() | DANGLING | STOPWORDS
    named = {w.casefold() for name in (product.title, *product.names()) for w in gate_words(name)}
    record = " ".join(
        [product.description, *(str(v) for v in product.attributes.values() if v is not True)]
    )
    data = {w.casefold() for w in gate_words(record)}
    said = {w.casefold() for w in gate_words(text)} - plain - named
    return any(w in data or w.rstrip("s") in data or f"{w}s" in data for w in said)


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
    names = sorted(slot.product.names(), key=len)[:2]
    points = selling_points(slot.product.title, slot.product.description, slot.product.attributes)
    found: list[str] = []
    for point in points:
        for name in names:
            for text in compose(name, point):
                if channel.headline and slot.brand.title_case_headlines:
                    text = _title_case(text)
                if not check(text, channel, slot.product, slot.brand):
                    found.append(text)
                    break
            if len(found) >= limit:
                return found
    return found


def _title_case(text: str) -> str:
    words = text.split(" ")
    return " ".join(
        w if (i and w.lower() in _MINOR_WORDS) or not w[:1].isalpha() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def _name_used(text: str, product: ProductFacts) -> str | None:
    """The longest of the product's names the text writes (the title, a short name, or the
    head noun phrase derived from a long title)."""
    found = [name for name in product.names() if find_term(name, text)]
    return max(found, key=len) if found else None


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
