"""The campaign file's schema: the brand kit, channels, copy, recommendations and image
requests, and the limits every file and row is held to."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

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

from contentfab.campaign.creatives import ImageRequest
from contentfab.core.channels import BUNDLES, CHANNELS, Channel, CountRule
from contentfab.core.characters import forbidden_character
from contentfab.core.errors import InputError

if typing.TYPE_CHECKING:
    pass


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

    ``model`` None means the default copy model from :class:`~contentfab.core.settings.Settings`.
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


def custom_channel(
    campaign_spec: CampaignSpec | Mapping[str, Any] | None, name: str
) -> Channel | None:
    """A campaign's own definition of channel ``name``, or None (a preset, or none). The spec
    is a validated :class:`CampaignSpec` (a chunk's) or the stored JSON (the copy worker's and
    a reviewer's edit, which also read hand-made rows that are not whole campaigns)."""
    if isinstance(campaign_spec, CampaignSpec):
        request = campaign_spec.copy_request
        if request is None or name not in request.custom_channels:
            return None
        return request.channel(name)
    custom = ((campaign_spec or {}).get("copy") or {}).get("custom_channels") or {}
    if name not in custom:
        return None
    request = CopyRequest.model_validate({"custom_channels": custom, "channels": [name]})
    return request.channel(name)


def resolve_channel(
    campaign_spec: CampaignSpec | Mapping[str, Any] | None, name: str
) -> Channel | None:
    """The channel ``name`` means in a campaign: its custom definition, else the preset; None
    if neither exists. The one resolver the copy task, the review edit and the API use (the
    copy worker's slot falls back to the preset itself: workers/copy/slots.py)."""
    return custom_channel(campaign_spec, name) or CHANNELS.get(name)


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
    # Store user IDs as keyed hashes (contentfab.campaign.pseudonyms); the key is a setting.
    pseudonymize: bool = False

    @field_validator("interactions", mode="before")
    @classmethod
    def _interactions_file(cls, value: object) -> object:
        if value is None:
            return None
        # cycle: contentfab.campaign.interactions imports this module
        from contentfab.campaign.interactions import interactions_reference

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


def stored_campaign(data: Mapping[str, Any]) -> CampaignSpec | None:
    """The campaign spec a campaign row stores (``CampaignSpec.model_dump(mode="json",
    by_alias=True)``), validated again, once, by whoever reads it (a chunk when it is claimed);
    None for a row without one (``{}``: made by hand, not by ``contentfab enqueue``).

    InputError when the stored JSON is no longer a campaign spec (a row older than a change
    to the schema): its jobs cannot be made as the campaign file said.
    """
    if not data:
        return None
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as error:
        raise InputError(
            f"the stored spec of campaign {data.get('name')!r} is not a campaign spec any more "
            f"({error.error_count()} problem(s)): {error}"
        ) from None


def stored_brand(data: Mapping[str, Any]) -> BrandKit | None:
    """The brand kit of a stored spec, validated; None where it has none. For readers of any
    campaign row, including rows made by hand that are no whole campaign (a reviewer's edit
    reads the brand kit only); a chunk reads :func:`stored_campaign`.

    InputError when the stored brand kit is no longer one.
    """
    brand = data.get("brand") if data else None
    if not brand:
        return None
    try:
        return BrandKit.model_validate(brand)
    except ValidationError as error:
        raise InputError(
            f"the stored brand kit of campaign {data.get('name')!r} is not a brand kit any more "
            f"({error.error_count()} problem(s)): {error}"
        ) from None


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
