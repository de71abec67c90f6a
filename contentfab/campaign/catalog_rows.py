"""Catalog rows: one CSV or JSON-lines product checked field by field into
:class:`ProductRecord` (:mod:`contentfab.campaign.catalog` reads the files)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from contentfab.campaign.spec import (
    _JSON_NUMBER,
    _PRICE_TEXT,
    CATALOG_COLUMNS,
    MAX_ATTRIBUTE_INT,
    MAX_ATTRIBUTES,
    MAX_PRICE,
    MAX_PRICE_DECIMALS,
    AttributeValue,
    PlainText,
    SingleLine,
    _single_line,
)
from contentfab.core.characters import forbidden_character
from contentfab.core.money import ISO_4217


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
    passes with the same values (tests/campaign/test_catalog_rows.py holds both to that).
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
