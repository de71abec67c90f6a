"""The campaign file and its product catalog: read both, check every field of every row, and
hand them over as plain records, or refuse with every problem found at once.

A campaign file is YAML (``.yaml``/``.yml``) or JSON (``.json``) shaped like
:class:`CampaignSpec`; its ``catalog`` names a CSV (``.csv``, with a header) or JSON-lines
(``.jsonl``/``.ndjson``) file of products relative to the campaign file. :func:`load_campaign`
either returns a complete :class:`LoadedCampaign` or raises: :class:`CampaignFileError` listing
every problem (up to :data:`MAX_PROBLEMS`), or :class:`NotImplementedKindError` when the file
asks for a content kind this build does not make. It never returns part of a campaign.

Row numbers in problems are line numbers as an editor shows them:

* CSV catalog: the header is line 1, so the first product is row 2; a record whose quoted cell
  spans several lines is numbered by the line it starts on.
* JSON-lines catalog: the line of the record; the first line is row 1.
* YAML campaign file: the line of the offending key (a missing key: the line of its section).
  A JSON campaign file gives no row.

Problems that are not about one field use a pseudo-field in parentheses: ``(encoding)``,
``(size)``, ``(file)``, ``(syntax)``, ``(header)``, ``(campaign)``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contentfab import campaign_yaml
from contentfab.channels import BUNDLES, CHANNELS, Channel, CountRule
from contentfab.characters import forbidden_character
from contentfab.creatives import ImageRequest
from contentfab.creatives import check_files as check_image_files
from contentfab.errors import CampaignFileError, NotImplementedKindError, Problem
from contentfab.files import confine

if typing.TYPE_CHECKING:
    from contentfab.interactions import InteractionLog

__all__ = [
    "CAMPAIGN_SUFFIXES",
    "CATALOG_COLUMNS",
    "CATALOG_SUFFIXES",
    "MAX_CAMPAIGN_BYTES",
    "MAX_CATALOG_BYTES",
    "MAX_COPY_VARIANTS",
    "MAX_PROBLEMS",
    "MAX_PRODUCTS",
    "AttributeValue",
    "BrandKit",
    "BrandStyle",
    "CampaignSpec",
    "CopyRequest",
    "CopySlotSpec",
    "CustomChannel",
    "LoadedCampaign",
    "ProductRecord",
    "RecommendationsRequest",
    "Segment",
    "load_campaign",
]

CAMPAIGN_SUFFIXES = (".yaml", ".yml", ".json")
CATALOG_SUFFIXES = (".csv", ".jsonl", ".ndjson")
CATALOG_COLUMNS = (
    "id",
    "title",
    "description",
    "category",
    "price",
    "currency",
    "attributes",
    "image",
)
MAX_CAMPAIGN_BYTES = 1 << 20
MAX_CATALOG_BYTES = 200 * (1 << 20)
MAX_PRODUCTS = 100_000
MAX_PROBLEMS = 200
MAX_COPY_VARIANTS = 1_000_000
"""Products × channels × tones × variants one campaign may ask for."""
MAX_PRICE = Decimal(10) ** 10  # fits the products.price column, Numeric(14, 4)
MAX_PRICE_DECIMALS = 4
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_INT = 2**63 - 1  # JSON columns and the recommender read numbers as int64/float64

AttributeValue = str | int | float | bool

# Active ISO 4217 codes, less XXX (no currency) and XTS (reserved for testing); a block of
# text reads and diffs better than 170 quoted strings.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG
    XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905
)

_NOT_PRODUCED_YET: dict[str, str] = {}
MAX_RECOMMENDATION_SUBJECTS = 200_000
"""Users plus segments one campaign may ask lists for (one job each)."""
DEFAULT_RECS_MODEL = "minilm-l6-v2"

_MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_PRICE_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _single_line(value: str) -> str:
    if (problem := forbidden_character(value, newlines=False)) is not None:
        raise ValueError(problem)
    return value


def _plain_text(value: str) -> str:
    if (problem := forbidden_character(value, newlines=True)) is not None:
        raise ValueError(problem)
    return value


SingleLine = Annotated[str, AfterValidator(_single_line)]
PlainText = Annotated[str, AfterValidator(_plain_text)]


def _known_channel(name: str, info: ValidationInfo) -> str:
    if "custom_channels" not in info.data:
        return name  # custom_channels is invalid and reported; do not add a knock-on problem
    custom = info.data["custom_channels"]
    if name not in CHANNELS and name not in BUNDLES and name not in custom:
        known = [*CHANNELS, *BUNDLES, *custom]
        raise ValueError(f"unknown channel {name!r}; known channels: {', '.join(known)}")
    return name


def _model_name(name: str) -> str:
    if not _MODEL_NAME.fullmatch(name):
        raise ValueError(
            "must be a model name from the model store: lowercase letters, digits, '.', '_' "
            "and '-', such as smollm2-135m-instruct"
        )
    return name


def _no_repeats(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value.casefold())
    return values


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


Term = Annotated[SingleLine, Field(min_length=1, max_length=100)]
TermList = Annotated[list[Term], Field(max_length=200), AfterValidator(_no_repeats)]


class BrandStyle(_Section):
    """House style every copy must follow (each rule is a gate of its own)."""

    emoji: bool = True
    max_exclamations: int | None = Field(default=None, ge=0, le=10, strict=True)
    title_case_headlines: bool = False


class BrandKit(_Section):
    """Who speaks and what they may say: passed to every prompt, enforced by the copy gates.

    Terms match whole words, case-insensitively and the same in any unicode form ("CAFÉ" is
    banned by "Café"; "cafés" and "Cafeteria" are not). ``claims`` are phrases the brand
    stands behind, so their claim words ("free" in "free shipping") are not rejected as
    unsupported. ``short_names`` maps a product ``id`` to other names the copy may use for it.
    ``vocabulary`` adds words to the lexicon of non-factual words every copy may use (the
    brand's own calls to action, say): copy is otherwise held to the words of the product data,
    the brand kit and that lexicon (grounded copy).
    """

    name: Annotated[SingleLine, Field(min_length=1, max_length=200)]
    voice: Annotated[PlainText, Field(max_length=500)] | None = None
    required_terms: TermList = []
    banned_terms: TermList = []
    claims: TermList = []
    vocabulary: TermList = []
    short_names: dict[
        Annotated[str, Field(min_length=1, max_length=200)],
        Annotated[
            list[Annotated[SingleLine, Field(min_length=2, max_length=200)]], Field(max_length=20)
        ],
    ] = {}
    style: BrandStyle = BrandStyle()

    @model_validator(mode="after")
    def _terms_agree(self) -> BrandKit:
        both = {t.casefold() for t in self.required_terms} & {
            t.casefold() for t in self.banned_terms
        }
        if both:
            raise ValueError(f"terms both required and banned: {sorted(both)}")
        return self


_CUSTOM_COUNTS: dict[str, CountRule] = {
    "characters": "chars",
    "double_width": "double_width",
    "weighted": "x_weighted",
    "gsm": "gsm7",
    "words": "words",
}


class CustomChannel(_Section):
    """A channel the campaign defines, with the same fields as a preset.

    ``max`` is counted as ``count`` says: ``characters`` (code points), ``double_width`` (CJK
    counts 2, as Google Ads), ``weighted`` (as X), ``gsm`` (SMS: ``max`` for GSM-7,
    ``max_ucs2`` once a character needs UCS-2) or ``words``.
    """

    label: Annotated[SingleLine, Field(min_length=1, max_length=100)] | None = None
    instruction: Annotated[SingleLine, Field(min_length=5, max_length=300)] | None = None
    max: int = Field(ge=1, le=10_000, strict=True)
    count: Literal["characters", "double_width", "weighted", "gsm", "words"] = "characters"
    max_ucs2: int | None = Field(default=None, ge=1, le=10_000, strict=True)
    min_words: int | None = Field(default=None, ge=1, le=2000, strict=True)
    max_words: int | None = Field(default=None, ge=1, le=2000, strict=True)
    requires_name: bool = False
    headline: bool = False
    multiline: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CustomChannel:
        if (
            self.min_words is not None
            and self.max_words is not None
            and self.min_words > self.max_words
        ):
            raise ValueError("min_words is larger than max_words")
        if self.max_ucs2 is not None and self.count != "gsm":
            raise ValueError("max_ucs2 only applies to count: gsm")
        return self

    def channel(self, name: str) -> Channel:
        count = _CUSTOM_COUNTS[self.count]
        unit = "words" if count == "words" else "characters"
        return Channel(
            name=name,
            label=self.label or name.replace("_", " ").capitalize(),
            instruction=self.instruction
            or f"Write one {self.label or name.replace('_', ' ')}, at most {self.max} {unit}.",
            max_chars=self.max,
            min_words=self.min_words,
            max_words=self.max_words,
            count=count,
            max_chars_ucs2=self.max_ucs2 if count == "gsm7" else None,
            multiline=self.multiline,
            requires_name=self.requires_name,
            headline=self.headline,
        )


_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")


def _custom_channel_names(value: dict[str, CustomChannel]) -> dict[str, CustomChannel]:
    for name in value:
        if not _CHANNEL_NAME.fullmatch(name):
            raise ValueError(
                f"channel name {name!r}: lowercase letters, digits and '_', at most 60"
            )
        if name in CHANNELS or name in BUNDLES:
            raise ValueError(f"{name!r} is a preset; pick another name for a custom channel")
    return value


@dataclass(frozen=True)
class CopySlotSpec:
    """One copy a request makes for each product: which channel, tone, and bundle field."""

    channel: str
    tone: str
    bundle: dict[str, Any] | None = None
    """For a field of a bundle: {"name", "ad", "field", "index"}; ``ad`` numbers the ads of
    this bundle per product, ``index`` the slot within the field (headline 0..14)."""


class CopyRequest(_Section):
    """The ``copy`` section: which channels and tones to write, and how to sample.

    ``model`` None means the default copy model from :class:`~contentfab.settings.Settings`.
    """

    custom_channels: Annotated[
        dict[str, CustomChannel], Field(max_length=50), AfterValidator(_custom_channel_names)
    ] = {}
    channels: Annotated[
        list[Annotated[str, AfterValidator(_known_channel)]],
        Field(min_length=1),
        AfterValidator(_no_repeats),
    ]
    bundles: dict[str, dict[str, int]] = {}
    """Slots per field of a bundle listed in ``channels``: google_rsa: {headlines: 15,
    descriptions: 4}. A bundle not named here gets its fields' minimum counts."""
    tones: Annotated[
        list[Annotated[SingleLine, Field(min_length=1, max_length=40)]],
        Field(min_length=1, max_length=10),
        AfterValidator(_no_repeats),
    ] = ["neutral"]
    variants: int = Field(default=1, ge=1, le=10, strict=True)
    model: Annotated[str, AfterValidator(_model_name)] | None = None
    max_new_tokens: int = Field(default=160, ge=8, le=512, strict=True)
    temperature: float = Field(default=0.6, gt=0, le=2, strict=True)
    top_p: float = Field(default=0.95, gt=0, le=1, strict=True)
    repetition_penalty: float = Field(default=1.1, ge=1, le=2, strict=True)
    candidates: int = Field(default=4, ge=1, le=16, strict=True)

    @field_validator("bundles")
    @classmethod
    def _bundle_counts(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for name, counts in value.items():
            bundle = BUNDLES.get(name)
            if bundle is None:
                raise ValueError(f"unknown bundle {name!r}; known bundles: {', '.join(BUNDLES)}")
            for field_name, count in counts.items():
                try:
                    field = bundle.field(field_name)
                except KeyError:
                    known = ", ".join(f.name for f in bundle.fields)
                    raise ValueError(
                        f"{name} has no field {field_name!r}; its fields: {known}"
                    ) from None
                if isinstance(count, bool) or not field.min_count <= count <= field.max_count:
                    raise ValueError(
                        f"{name}.{field_name} must be {field.min_count} to {field.max_count}, "
                        f"got {count!r}"
                    )
        return value

    @model_validator(mode="after")
    def _bundles_are_listed(self) -> CopyRequest:
        unlisted = sorted(set(self.bundles) - set(self.channels))
        if unlisted:
            raise ValueError(f"bundles configured but not listed in channels: {unlisted}")
        return self

    def channel(self, name: str) -> Channel:
        """The channel a slot writes for: a preset or one of ``custom_channels``."""
        custom = self.custom_channels.get(name)
        return custom.channel(name) if custom is not None else CHANNELS[name]

    def slots(self) -> list[CopySlotSpec]:
        """The copies made for each product, in order: a plain channel once per tone ×
        variant; a bundle once per field slot of each of its ads (one ad per tone × variant)."""
        found = []
        for name in self.channels:
            bundle = BUNDLES.get(name)
            for tone in self.tones:
                for variant in range(self.variants):
                    if bundle is None:
                        found.append(CopySlotSpec(name, tone))
                        continue
                    ad = self.tones.index(tone) * self.variants + variant
                    counts = self.bundles.get(name, {})
                    for field in bundle.fields:
                        for index in range(counts.get(field.name, field.min_count)):
                            where = {"name": name, "ad": ad, "field": field.name, "index": index}
                            found.append(CopySlotSpec(field.channel, tone, where))
        return found

    @property
    def variants_per_product(self) -> int:
        """Copies this request makes for each product: channel (or bundle field) slots × tones
        × variants."""
        return len(self.slots())


class Segment(_Section):
    """An audience described in words; its list comes from the embedding of ``description``."""

    name: Annotated[SingleLine, Field(min_length=1, max_length=100)]
    description: Annotated[PlainText, Field(min_length=3, max_length=1000)]


class UserEntry(_Section):
    """A user to make a list for; ``segment`` names a segment for cold-start fallback."""

    id: Annotated[SingleLine, Field(min_length=1, max_length=200)]
    segment: Annotated[SingleLine, Field(min_length=1, max_length=100)] | None = None


def _user_entry(value: object) -> object:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return {"id": str(value)}
    return value


class RecommendationsRequest(_Section):
    """The ``recommendations`` section: whom to make lists for, and the business rules.

    ``users: all`` means every user in the interactions file; a list names users (a user
    without interactions is cold-start: popular products, within their segment if given).

    ``method``: ``embedding`` (default) ranks by the text embeddings of ``model``;
    ``two_tower`` ranks users with history by the two-tower model ``model`` names (built with
    ``contentfab models build two-tower``), while segments and cold users keep the text
    embeddings of the model the two-tower was trained from.
    """

    interactions: Path | None = None
    segments: Annotated[list[Segment], Field(max_length=1000)] = []
    users: Literal["all", "none"] | list[Annotated[UserEntry, BeforeValidator(_user_entry)]] = "all"
    k: int = Field(default=10, ge=1, le=100, strict=True)
    exclude_purchased: bool = True
    exclude_seen: bool = False
    in_stock_only: bool = True
    price_band: tuple[float, float] | None = None
    category_quota: int | None = Field(default=None, ge=1, le=100, strict=True)
    diversity: float = Field(default=0.0, ge=0, le=1)
    # Both defaults were chosen on the validation split of bench/recs_eval.py.
    popularity_weight: float = Field(default=1.0, ge=0, le=5)
    half_life_days: float = Field(default=7.0, gt=0, le=3650)
    model: Annotated[str, AfterValidator(_model_name)] = DEFAULT_RECS_MODEL
    method: Literal["embedding", "two_tower"] = "embedding"
    # Store user IDs as keyed hashes (contentfab.pseudonyms); the key is a setting.
    pseudonymize: bool = False

    @field_validator("interactions", mode="before")
    @classmethod
    def _interactions_file(cls, value: object) -> object:
        if value is None:
            return None
        from contentfab.interactions import interactions_reference

        return interactions_reference(value)

    @field_validator("price_band")
    @classmethod
    def _band(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 <= value[0] <= value[1]:
            raise ValueError("must be [low, high] with 0 <= low <= high")
        return value

    @model_validator(mode="after")
    def _someone_to_recommend_for(self) -> RecommendationsRequest:
        names = [s.name.casefold() for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        if isinstance(self.users, list):
            ids = [u.id for u in self.users]
            if len(set(ids)) != len(ids):
                raise ValueError("users lists a user twice")
            unknown = {u.segment for u in self.users if u.segment} - {s.name for s in self.segments}
            if unknown:
                raise ValueError(f"users name segments that are not defined: {sorted(unknown)}")
        if self.users == "all" and self.interactions is None:
            raise ValueError("users: all needs an interactions file; list users or use 'none'")
        if self.users == "none" and not self.segments:
            raise ValueError("nothing to recommend for: list users or segments")
        if self.method == "two_tower" and "model" not in self.model_fields_set:
            raise ValueError(
                "method: two_tower needs 'model:' naming a two-tower model built with "
                "`contentfab models build two-tower`"
            )
        return self


class CampaignSpec(_Section):
    """The campaign file as written; ``catalog`` stays relative to the campaign file."""

    model_config = ConfigDict(populate_by_name=True)

    name: Annotated[SingleLine, Field(min_length=1, max_length=200)]
    catalog: Path
    brand: BrandKit | None = None
    # The YAML key is `copy`; an alias keeps BaseModel.copy intact.
    copy_request: CopyRequest | None = Field(default=None, alias="copy")
    recommendations: RecommendationsRequest | None = None
    images: ImageRequest | None = None

    @field_validator("catalog", mode="before")
    @classmethod
    def _catalog_file(cls, value: object) -> Path:
        return _catalog_reference(value)

    @model_validator(mode="after")
    def _something_to_produce(self) -> CampaignSpec:
        if self.copy_request is None and self.recommendations is None and self.images is None:
            raise ValueError(
                "nothing to produce: add a 'copy', 'images' or 'recommendations' section"
            )
        return self


def _catalog_reference(value: object) -> Path:
    if isinstance(value, PurePath):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("must be a file name such as catalog.csv")
    text = value.strip()
    _single_line(text)
    if not text.lower().endswith(CATALOG_SUFFIXES):
        raise ValueError(f"must be a {', '.join(CATALOG_SUFFIXES)} file, got {text!r}")
    return Path(text)


# --- catalog rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRecord:
    """One checked catalog row. ``sku`` is the catalog's ``id``; ``image`` is resolved."""

    row: int
    sku: str
    title: str
    description: str
    category: str | None
    price: Decimal | None
    currency: str | None
    attributes: dict[str, AttributeValue]
    image: Path | None


def _blank_is_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


class _CatalogRow(BaseModel):
    """Validation of one raw row (CSV cells or a JSON object); becomes a ProductRecord."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[SingleLine, Field(min_length=1, max_length=100)]
    title: Annotated[SingleLine, Field(min_length=1, max_length=300)]
    description: Annotated[PlainText, Field(max_length=5000)] = ""
    category: Annotated[SingleLine, Field(min_length=1, max_length=200)] | None = None
    price: Decimal | None = None
    currency: str | None = Field(default=None, validate_default=True)
    attributes: dict[str, Any] = {}
    image: Path | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # JSON catalogs often carry numeric ids; they are identifiers, not numbers.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _no_description(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("category", mode="before")
    @classmethod
    def _no_category(cls, value: object) -> object:
        return _blank_is_none(value)

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: object) -> Decimal | None:
        value = _blank_is_none(value)
        return None if value is None else _parse_price(value)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object, info: ValidationInfo) -> str | None:
        value = _blank_is_none(value)
        if value is None:
            if info.data.get("price") is not None:
                raise ValueError("required when a price is given (an ISO 4217 code such as EUR)")
            return None
        if not isinstance(value, str):
            raise ValueError("must be an ISO 4217 code such as EUR")
        code = value.strip().upper()
        if code not in ISO_4217:
            raise ValueError(f"{value.strip()[:20]!r} is not an ISO 4217 currency code such as EUR")
        return code

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, value: object) -> dict[str, AttributeValue]:
        value = _blank_is_none(value)
        return {} if value is None else _parse_attributes(value)

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, value: object, info: ValidationInfo) -> Path | None:
        value = _blank_is_none(value)
        if value is None:
            return None
        context = info.context or {}
        return _resolve_image(value, context["catalog_dir"])

    def record(self, row: int) -> ProductRecord:
        return ProductRecord(
            row=row,
            sku=self.id,
            title=self.title,
            description=self.description,
            category=self.category,
            price=self.price,
            currency=self.currency,
            attributes=self.attributes,
            image=self.image,
        )


# Whitespace that Python's str.strip() and pydantic's str_strip_whitespace (Rust's trim) both
# remove; what else either removes, the other removes too only in part.
_ASCII_SPACE = " \t\n\r\x0b\x0c"
_ROW_KEYS = frozenset(CATALOG_COLUMNS)


def _fast_text(value: object, shortest: int, longest: int, *, newlines: bool) -> str | None:
    """``value`` as a SingleLine/PlainText field of :class:`_CatalogRow` stores it, or None
    where that field would refuse it or this check cannot tell."""
    if type(value) is not str:
        return None
    text = value.strip(_ASCII_SPACE)
    if text != text.strip():  # other whitespace at an end: leave it to pydantic's trim
        return None
    if not shortest <= len(text) <= longest or forbidden_character(text, newlines=newlines):
        return None
    return text


def _fast_record(raw: Mapping[str, object], row: int, catalog_dir: Path) -> ProductRecord | None:
    """The record :class:`_CatalogRow` makes of a valid ``raw`` row, checked by the same rules
    and parsers without pydantic (~5x faster: 100,000 rows took 4.8 s through the model), or
    None for any row this cannot accept, which the model then checks and words the problems
    of. So a problem's wording has one source, and a row that passes here is one the model
    passes with the same values (tests/test_campaign_fast_rows.py holds both to that).
    """
    if not _ROW_KEYS.issuperset(raw):
        return None
    sku = raw.get("id")
    if isinstance(sku, int) and not isinstance(sku, bool):
        sku = str(sku)
    sku = _fast_text(sku, 1, 100, newlines=False)
    title = _fast_text(raw.get("title"), 1, 300, newlines=False)
    if sku is None or title is None:
        return None
    description = ""
    if (value := raw.get("description")) is not None:
        if (text := _fast_text(value, 0, 5000, newlines=True)) is None:
            return None
        description = text
    category = None
    if (value := _blank_is_none(raw.get("category"))) is not None:
        category = _fast_text(value, 1, 200, newlines=False)
        if category is None:
            return None
    try:
        price = None
        if (value := _blank_is_none(raw.get("price"))) is not None:
            price = _parse_price(value)
        currency = None
        if (value := _blank_is_none(raw.get("currency"))) is not None:
            if type(value) is not str or (currency := value.strip().upper()) not in ISO_4217:
                return None
        elif price is not None:
            return None
        attributes: dict[str, AttributeValue] = {}
        if (value := _blank_is_none(raw.get("attributes"))) is not None:
            attributes = _parse_attributes(value)
        image = None
        if (value := _blank_is_none(raw.get("image"))) is not None:
            image = _resolve_image(value, catalog_dir)
    except ValueError:
        return None
    return ProductRecord(row, sku, title, description, category, price, currency, attributes, image)


def _parse_price(value: object) -> Decimal:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise ValueError("must not be negative")
        if not _PRICE_TEXT.fullmatch(text):
            raise ValueError(
                f"{text[:30]!r} is not a price; write digits with an optional decimal point, "
                "such as 19.99, without currency sign or thousands separator"
            )
        amount = Decimal(text)
    elif isinstance(value, bool):
        raise ValueError("must be a number such as 19.99, not true/false")
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        raise ValueError("must be a number such as 19.99")
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount >= MAX_PRICE:
        raise ValueError(f"must be less than {MAX_PRICE:,}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PRICE_DECIMALS:
        raise ValueError(f"has more than {MAX_PRICE_DECIMALS} decimal places")
    if isinstance(exponent, int) and exponent > 0:
        amount = amount.quantize(Decimal(1))  # 1E+3 from JSON reads back as 1000
    return amount


def _parse_attributes(value: object) -> dict[str, AttributeValue]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(
                    text,
                    parse_float=Decimal,
                    parse_constant=_refuse_constant,
                    object_pairs_hook=_attribute_pairs,
                )
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"is not a valid JSON object: {exc}") from None
        else:
            value = _parse_key_values(text)
    if not isinstance(value, dict):
        raise ValueError('must be an object of names to values, such as {"color": "red"}')
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"has {len(value)} entries; at most {MAX_ATTRIBUTES} are allowed")
    attributes: dict[str, AttributeValue] = {}
    for raw_key, raw_item in value.items():
        key = str(raw_key).strip()
        if not key or len(key) > 100 or forbidden_character(key, newlines=False):
            raise ValueError(
                f"attribute name {key[:40]!r} must be 1 to 100 characters of visible text on one "
                "line"
            )
        if key in attributes:
            raise ValueError(f"attribute {key!r} is given twice")
        attributes[key] = _attribute_value(key, raw_item)
    return attributes


def _parse_key_values(text: str) -> dict[str, AttributeValue]:
    pairs: dict[str, AttributeValue] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, equals, item = part.partition("=")
        if not equals:
            raise ValueError(
                f"{part.strip()[:40]!r} is not key=value; write key=value;key=value "
                'or a JSON object such as {"color": "red"}'
            )
        if key.strip() in pairs:
            raise ValueError(f"attribute {key.strip()!r} is given twice")
        pairs[key.strip()] = _as_json_would(item.strip())
    return pairs


def _as_json_would(text: str) -> AttributeValue:
    """A key=value value as the same value written in JSON means it: ``stock=0`` is the number
    0 and ``in_stock=false`` the boolean, so every rule reads both forms alike; anything that
    is not a JSON number or true/false stays text (``zip=01234`` too: JSON has no such
    number)."""
    if text in ("true", "false"):
        return text == "true"
    if _JSON_NUMBER.fullmatch(text):
        try:
            number = json.loads(text, parse_float=Decimal)
        except ValueError:  # more digits than int() reads
            return text
        return number if isinstance(number, int) else float(number)
    return text


def _attribute_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ValueError(f"attribute {key!r} is given twice")
        mapping[key] = value
    return mapping


def _attribute_value(key: str, item: object) -> AttributeValue:
    if isinstance(item, bool):
        return item
    if isinstance(item, int):
        if not -MAX_ATTRIBUTE_INT <= item <= MAX_ATTRIBUTE_INT:
            raise ValueError(f"attribute {key!r} is a number too large to store (over 64 bits)")
        return item
    if isinstance(item, Decimal | float):
        number = float(item)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"attribute {key!r} must be a finite number")
        return number
    if isinstance(item, str):
        text = item.strip()
        if len(text) > 1000:
            raise ValueError(f"attribute {key!r} must be one line of at most 1000 characters")
        if (problem := forbidden_character(text, newlines=False)) is not None:
            raise ValueError(f"attribute {key!r} {problem}")
        return text
    raise ValueError(f"attribute {key!r} must be text, a number or true/false")


def _resolve_image(value: object, catalog_dir: Path) -> Path:
    if not isinstance(value, str):
        raise ValueError("must be a file path relative to the catalog")
    text = value.strip()
    _single_line(text)
    try:
        resolved = (catalog_dir / text).resolve()
        inside = resolved.is_relative_to(catalog_dir)
        exists = inside and resolved.is_file()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ValueError(f"cannot use {text[:80]!r}: {exc}") from None
    if not inside:
        raise ValueError(
            f"{text[:80]!r} points outside the catalog's folder; "
            "images must be in that folder or below it"
        )
    if not exists:
        raise ValueError(f"{text[:80]!r}: no such file next to the catalog")
    return resolved


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedCampaign:
    """A campaign whose file and catalog are fully checked.

    ``content_sha256`` covers the campaign file bytes and the catalog bytes (not image files),
    so submitting the same campaign twice can be recognised.
    """

    spec: CampaignSpec
    products: list[ProductRecord]
    source_path: Path
    content_sha256: str
    interactions: InteractionLog | None = None

    @property
    def catalog_path(self) -> Path:
        return self.source_path.parent / self.spec.catalog


def load_campaign(path: Path, extra_roots: Sequence[Path] = ()) -> LoadedCampaign:
    """Read and check a campaign file and its catalog (row numbers: see the module docstring).

    Every file the campaign names must be inside its folder or one of ``extra_roots``
    (:func:`contentfab.files.confine`).

    Raises :class:`CampaignFileError` with every problem found, or
    :class:`NotImplementedKindError` for a section this build does not produce.
    """
    path = Path(path)
    file = str(path)
    if path.suffix.lower() not in CAMPAIGN_SUFFIXES:
        raise CampaignFileError(
            [Problem(file, "(file)", f"must be a {', '.join(CAMPAIGN_SUFFIXES)} file")]
        )
    campaign_bytes = _read(path, MAX_CAMPAIGN_BYTES)
    text = _decode(campaign_bytes, file)
    problems: list[Problem] = []
    raw, line_of = _parse_campaign(text, file, path.suffix.lower() == ".json", problems)
    if not isinstance(raw, dict):
        problems.append(
            Problem(file, "(campaign)", "must be a mapping with keys such as name, catalog, copy")
        )
        raise CampaignFileError(problems)
    if asked := [reason for kind, reason in _NOT_PRODUCED_YET.items() if kind in raw]:
        raise NotImplementedKindError(f"{file}: " + "; ".join(asked))

    spec: CampaignSpec | None = None
    try:
        spec = CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        problems += _problems(exc, file, CampaignSpec, line_of)

    catalog_bytes = b""
    products: list[ProductRecord] = []
    try:
        reference = _catalog_reference(raw.get("catalog"))
    except ValueError:
        pass  # reported by the spec above
    else:
        catalog = path.parent / reference
        try:
            confine(reference, path.parent, extra_roots, must_exist=False)
        except ValueError as exc:
            problems.append(Problem(file, "catalog", str(exc), line_of(("catalog",))))
        else:
            try:
                catalog_bytes = _read(catalog, MAX_CATALOG_BYTES)
            except CampaignFileError as exc:
                problems += exc.problems
            else:
                products = _load_catalog(catalog_bytes, catalog, problems)

    copy_request = spec.copy_request if spec is not None else None
    if copy_request is not None and products:
        total = len(products) * copy_request.variants_per_product
        if total > MAX_COPY_VARIANTS:
            problems.append(
                Problem(
                    file,
                    "copy",
                    f"asks for {total:,} copies (products × channels × tones × variants); "
                    f"at most {MAX_COPY_VARIANTS:,} per campaign",
                    line_of(("copy",)),
                )
            )
    brand = spec.brand if spec is not None else None
    if brand is not None and brand.short_names and products:
        skus = {p.sku for p in products}
        problems += [
            Problem(
                file,
                f"brand.short_names.{sku}",
                "no product with this id in the catalog",
                line_of(("brand", "short_names", sku)),
            )
            for sku in brand.short_names
            if sku not in skus
        ]
    interactions = None
    parts = [campaign_bytes, catalog_bytes]
    recs = spec.recommendations if spec is not None else None
    if recs is not None:
        from contentfab.interactions import check_subjects, load_interactions

        if recs.interactions is not None:
            try:
                confine(recs.interactions, path.parent, extra_roots, must_exist=False)
            except ValueError as exc:
                where = line_of(("recommendations", "interactions"))
                problems.append(Problem(file, "recommendations.interactions", str(exc), where))
            else:
                interactions_bytes, interactions = load_interactions(
                    path.parent / recs.interactions, {p.sku for p in products}, problems
                )
                parts.append(interactions_bytes)
        check_subjects(recs, interactions, file, line_of(("recommendations",)), problems)
    if spec is not None and spec.images is not None:
        problems += check_image_files(
            spec.images, path.parent, file, line_of(("images",)), extra_roots
        )
    if problems or spec is None:
        raise CampaignFileError(problems[:MAX_PROBLEMS] + _cap_note(problems, file))

    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return LoadedCampaign(spec, products, path, digest.hexdigest(), interactions)


def _cap_note(problems: list[Problem], file: str) -> list[Problem]:
    if len(problems) < MAX_PROBLEMS:
        return []
    return [Problem(file, "(file)", f"stopped after {MAX_PROBLEMS} problems; fix these first")]


def _read(path: Path, limit: int) -> bytes:
    file = str(path)
    try:
        if not path.is_file():
            reason = "is not a file" if path.exists() else "no such file"
            raise CampaignFileError([Problem(file, "(file)", reason)])
        size = path.stat().st_size
        if size > limit:
            raise CampaignFileError([Problem(file, "(size)", _too_big(size, limit))])
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise CampaignFileError(
            [Problem(file, "(file)", f"cannot read: {exc.strerror or exc}")]
        ) from None
    if len(data) > limit:
        raise CampaignFileError([Problem(file, "(size)", _too_big(len(data), limit))])
    return data


def _too_big(size: int, limit: int) -> str:
    return (
        f"the file has {size:,} bytes; the limit is {limit:,} bytes "
        "(split a large catalog into several campaigns)"
    )


def _decode(data: bytes, file: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CampaignFileError(
            [Problem(file, "(encoding)", "the file is UTF-16; save it as UTF-8", 1)]
        )
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        reason = (
            f"not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}) "
            "cannot be decoded; save the file as UTF-8"
        )
        raise CampaignFileError([Problem(file, "(encoding)", reason, line)]) from None


LineOf = Callable[[tuple[int | str, ...]], int | None]


def _parse_campaign(
    text: str, file: str, is_json: bool, problems: list[Problem]
) -> tuple[object, LineOf]:
    """Parse YAML or JSON into plain data, and a function from a key path to its line."""
    if is_json:
        return _parse_json_campaign(text, file, problems), lambda loc: None
    loader = None
    try:
        node, loader = campaign_yaml.compose(text)
        if node is None:
            return None, lambda loc: None
        problems += _duplicate_keys(node, file, ())
        return campaign_yaml.construct(loader, node), lambda loc: _yaml_line(node, loc)
    except campaign_yaml.AliasBombError as exc:
        problems.append(Problem(file, "(syntax)", str(exc), exc.line))
    except campaign_yaml.YamlValueError as exc:
        problems.append(Problem(file, ".".join(exc.loc) or "(syntax)", str(exc), exc.line))
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML forbids (most control characters), before any mark.
        character = exc.character
        shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        reason = f"character {shown} is not allowed in YAML"
        problems.append(Problem(file, "(syntax)", reason, text.count("\n", 0, exc.position) + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        row = mark.line + 1 if mark is not None else None
        problems.append(Problem(file, "(syntax)", f"not valid YAML: {reason}", row))
    except RecursionError:
        problems.append(Problem(file, "(syntax)", "nested too deeply"))
    finally:
        if loader is not None:
            loader.dispose()
    raise CampaignFileError(problems)


def _parse_json_campaign(text: str, file: str, problems: list[Problem]) -> object:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping:
                problems.append(Problem(file, key, "given twice"))
            mapping[key] = value
        return mapping

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc.msg}", exc.lineno))
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc}"))
    raise CampaignFileError(problems)


def _duplicate_keys(node: yaml.Node, file: str, loc: tuple[str, ...]) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if isinstance(key, yaml.ScalarNode) and name in seen:
                dotted = ".".join((*loc, name))
                found.append(Problem(file, dotted, "given twice", key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, file, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, file, (*loc, str(index)))
    return found


def _yaml_line(node: yaml.Node, loc: tuple[int | str, ...]) -> int | None:
    line: int = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _problems(
    error: ValidationError,
    file: str,
    model: type[BaseModel],
    line_of: LineOf = lambda loc: None,
    row: int | None = None,
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        reason = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            known = _known_keys(model, loc[:-1])
            reason = "unknown key" + (f"; expected one of: {', '.join(known)}" if known else "")
        elif detail["type"] == "missing":
            reason = "required"
        field = ".".join(str(part) for part in loc) or "(campaign)"
        problems.append(Problem(file, field, reason, row if row is not None else line_of(loc)))
    return problems


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at ``loc`` inside ``model``, for 'unknown key' messages."""
    current: type[BaseModel] = model
    for part in loc:
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        annotation = fields[str(part)].annotation
        nested = [
            arg
            for arg in (annotation, *typing.get_args(annotation))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if not nested:
            return []
        current = nested[0]
    return [info.alias or name for name, info in current.model_fields.items()]


# --- catalog files ---------------------------------------------------------------------------


def _load_catalog(data: bytes, path: Path, problems: list[Problem]) -> list[ProductRecord]:
    """Check every row of a catalog, appending problems; the products are only whole if none."""
    file = str(path)
    try:
        text = _decode(data, file)
    except CampaignFileError as exc:
        problems += exc.problems
        return []
    catalog_dir = path.parent.resolve()
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(text, file, problems)
    else:
        rows = _jsonl_rows(text, file, problems)

    products: list[ProductRecord] = []
    first_row_of: dict[str, int] = {}
    context = {"catalog_dir": catalog_dir}
    count = 0
    for row, raw in rows:
        count += 1
        if count > MAX_PRODUCTS:
            reason = f"more than {MAX_PRODUCTS:,} products; split the catalog"
            problems.append(Problem(file, "(size)", reason, row))
            break
        product = _fast_record(raw, row, catalog_dir)
        try:
            if product is None:
                product = _CatalogRow.model_validate(raw, context=context).record(row)
        except ValidationError as exc:
            problems += _problems(exc, file, _CatalogRow, row=row)
        else:
            if product.sku in first_row_of:
                first = first_row_of[product.sku]
                reason = f"duplicate id {product.sku!r}; first used on row {first}"
                problems.append(Problem(file, "id", reason, row))
            else:
                first_row_of[product.sku] = row
                products.append(product)
        if len(problems) >= MAX_PROBLEMS:
            break
    if count == 0 and not problems:
        problems.append(Problem(file, "(file)", "the catalog has no products"))
    return products


def _jsonl_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, Mapping[str, object]]]:
    # Split on newlines only: str.splitlines() would also split inside JSON strings at U+2028.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        twice = _KeysGivenTwice()
        try:
            record = json.loads(
                line, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=twice
            )
        except json.JSONDecodeError as exc:
            problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc.msg}", number))
            continue
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc}", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(file, "(syntax)", "each line must be a JSON object", number))
            continue
        if twice.found:
            problems += [Problem(file, field, reason, number) for field, reason in twice.found]
            continue
        yield number, record


class _KeysGivenTwice:
    """A ``json.loads`` object hook that notes keys given twice in a record or in an object
    inside it (the record is the last object the decoder closes)."""

    def __init__(self) -> None:
        self.objects = 0
        self.nested: list[str] = []
        self.found: list[tuple[str, str]] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.objects += 1
        mapping: dict[str, Any] = {}
        twice = []
        for key, value in pairs:
            if key in mapping:
                twice.append(key)
            mapping[key] = value
        # Until a later object closes, this one may be the record itself.
        self.found = [(key, "given twice") for key in twice]
        self.found += [("attributes", f"{key!r} is given twice") for key in self.nested]
        self.nested += twice
        return mapping


def _csv_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, Mapping[str, object]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in some locales use ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [cell.strip().lower() for cell in header]
        if not _header_ok(columns, file, problems):
            return
        last_line = reader.line_num
        for cells in reader:
            row, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
                reason = f"the row has {len(cells)} cells but the header has {len(columns)}"
                problems.append(Problem(file, "(row)", reason, row))
                continue
            yield (
                row,
                {
                    column: cell
                    for column, cell in zip(columns, cells, strict=False)
                    if cell.strip()
                },
            )
    except csv.Error as exc:
        problems.append(Problem(file, "(syntax)", f"not valid CSV: {exc}", reader.line_num))


def _header_ok(columns: list[str], file: str, problems: list[Problem]) -> bool:
    before = len(problems)
    for position, column in enumerate(columns, start=1):
        if not column:
            reason = f"column {position} has no name"
        elif column not in CATALOG_COLUMNS:
            reason = f"unknown column {column[:40]!r}; expected: {', '.join(CATALOG_COLUMNS)}"
        elif columns.index(column) != position - 1:
            reason = f"column {column!r} appears twice"
        else:
            continue
        problems.append(Problem(file, "(header)", reason, 1))
    for required in ("id", "title"):
        if required not in columns:
            problems.append(Problem(file, "(header)", f"missing the {required!r} column", 1))
    return len(problems) == before
