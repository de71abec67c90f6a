"""What the copywriter works on and returns: a product's facts, the brand's rules, a slot to fill, its candidates and outcome; the gate names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contentfab.core.channels import CHANNELS, Channel
from contentfab.workers.copy.facts import PRICE_WORDS
from contentfab.workers.copy.text import (
    _TITLE_CUT,
    _adjective_like,
    before_rank,
    dropped_qualifiers,
    head_name,
)
from contentfab.workers.factcheck import FactSheet
from contentfab.workers.grounding import Vocabulary
from contentfab.workers.recommender import product_text as _shopper_text
from contentfab.workers.textgen import Generation, SamplingParams

if TYPE_CHECKING:
    pass


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
        base = re.split(r"\s+[-–—|:]\s+|:\s+|[,(]", self.title, maxsplit=1)[0].strip()
        base = before_rank(base)  # "Model Rocket Kit Skill Level 1" -> "Model Rocket Kit"
        found.append(base)
        # "Crimp Holds Set of 12" -> "Crimp Holds Set", not "… Set of" (round 14)
        found.append(_TRAILING_DANGLING.sub("", _TRAILING_SPEC.sub("", base).strip()))
        if not self.short_names:
            head = head_name(self.title, context=self.description)
            if head is not None:
                found.append(head)
        unique: list[str] = []
        for name in found:
            if len(name) >= 3 and name not in unique and not self._unqualified(name):
                unique.append(name)
        return tuple(unique)

    def _unqualified(self, name: str) -> bool:
        """A name cut from the title without the word that says what its material is:
        "Leather Basketball" of "Composite Leather Basketball" (round 25: four texts that used
        it scored 0, read as genuine leather)."""
        if name == self.title or name in self.short_names:
            return False
        record = [self.title, self.description, self.category or ""]
        return bool(dropped_qualifiers(name, record, self.attributes))

    def headline_names(self) -> tuple[str, ...]:
        """The names a headline may use: :meth:`names`, and where the brand kit gives no short
        name, the head noun of the title (:func:`headline_name`: "Dobsonian Telescope 8-inch
        f/6" -> "Telescope", "Starter Train Set, H0 Scale" -> "Train Set"), so a 30-character
        headline has room to say something."""
        found = self.names()
        head = None if self.short_names else headline_name(self.title)
        if head is None or head in found or self._unqualified(head):
            return found
        return (*found, head)


_TRAILING_DANGLING = re.compile(r"(?:\s+(?:of|and|with|for|in|the|a|an|&))+$", re.IGNORECASE)

#: Head words too plain to name a product on their own ("Set", "Kit").
_PLAIN_HEADS = frozenset(
    "set kit pack bundle case system edition collection pair box bag tool unit".split()  # noqa: SIM905
)


def headline_name(title: str) -> str | None:
    """The head noun of a title's head noun phrase (before a "with", "for" or comma, without
    sizes and codes): the last word where it names the product on its own (six letters or
    more, no plain word: "Telescope", "Coffee", "T-Shirt"), else the last two words up to 12
    characters ("Train Set", "Spinning Rod", "Base Layer"); None where neither fits."""
    words: list[str] = []
    for word in before_rank(_TITLE_CUT.split(title, maxsplit=1)[0]).split():
        if any(c.isdigit() for c in word):
            if words and not re.fullmatch(r"\d+-[^\W\d_]+", word):
                break  # "Graphite Pencil Set 12 Grades": the head phrase ends before a count
            continue  # "2-Person", "8-inch": a modifier
        if word.replace("-", "").replace("'", "").isalpha() and not word.isupper():
            words.append(word)
    while words and words[-1].casefold() in ("of", "and", "or", "with", "for", "the", "a", "an"):
        words.pop()  # "Cutting Board Set of" (a "Can" of "Watering Can" stays)
    if not words:
        return None
    last = words[-1]
    if _adjective_like(last.casefold()):
        return None  # "Portable" of "Portable SSD 1TB" (round 11: "The Portable is rated …")
    if len(last) >= 6 and last.casefold() not in _PLAIN_HEADS:
        return last
    if len(words) >= 2 and len(f"{words[-2]} {last}") <= 12:
        return f"{words[-2]} {last}"
    return None


def product_text(product: ProductFacts) -> str:
    """What a candidate's relevance is measured against: the text the recommender embeds a
    product from (title, category, description)."""
    return _shopper_text(product.title, product.description, product.category)


# a size or model number at the end: "750 ml", "XL", "II", and inches or feet written with a
# quote ("Recurve Bow 62\"", "Rug 5'6\"")
_TRAILING_SPEC = re.compile(r"(?:\s+(?:\d+(?:[.,'′]\d+)?(?:[\"″'′]|\s*[a-zA-Z%]{0,3})|[IVX]+))+$")


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
            # words a fact-by-fact price sentence may use (workers.copy.sentences).
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


def short_name(product: ProductFacts) -> str:
    """The shortest name the copy may use for the product (the prompt asks for it, so that a
    small model does not make one up and a short headline still has room to say something)."""
    return min(product.names(), key=len)


#: Below this mean log-likelihood per token (the model's own, unmasked) a candidate reads as
#: forced: grounded decoding steered the model through words it found unlikely, and the text
#: comes out as word salad ("Loungeres Loungers: a low-to-the-routine" at -4.8). Fluent
#: grounded copy from SmolLM2 scores above -2 (demo catalog, read by hand).
FLUENCY_FLOOR = -2.5


#: How much the relevance to the product text (a cosine) counts next to the per-token
#: log-likelihood when ranking: among one slot's passing SmolLM2 candidates the log-likelihood
#: spreads about 3.4 times as widely as the cosine, so at 3 both parts count about equally.
RELEVANCE_WEIGHT = 3.0
