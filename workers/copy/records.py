"""The copywriter's records built from a stored product and its campaign's spec.

One construction for both sides of the gates: the copy task builds the slots it samples for
from it, and a reviewer's edit is checked against exactly the same product facts, brand kit
and channel (preset or the campaign's custom one). Reads attributes only; no SQL here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from contentfab.core.money import plain_decimal
from contentfab.workers.copy.slots import BrandRules, ProductFacts


class StoredProduct(Protocol):
    """What a product row offers (``db.models.Product``)."""

    @property
    def sku(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def attributes(self) -> dict[str, Any]: ...


def product_facts(product: StoredProduct, campaign_spec: dict[str, Any]) -> ProductFacts:
    """What copy about ``product`` may state, with the short names its brand kit allows."""
    brand = campaign_spec.get("brand") or {}
    short_names = tuple((brand.get("short_names") or {}).get(product.sku) or ())
    return ProductFacts(
        sku=product.sku,
        title=product.title,
        description=product.description,
        category=product.category,
        price=None if product.price is None else plain_decimal(product.price),
        currency=product.currency,
        attributes=product.attributes,
        short_names=short_names,
    )


def brand_rules(campaign_spec: dict[str, Any]) -> BrandRules:
    """The campaign's brand kit (``brand:`` in the campaign file) as the gates apply it."""
    brand = campaign_spec.get("brand") or {}
    style = brand.get("style") or {}
    return BrandRules(
        name=brand.get("name"),
        voice=brand.get("voice"),
        required_terms=tuple(brand.get("required_terms") or ()),
        banned_terms=tuple(brand.get("banned_terms") or ()),
        claims=tuple(brand.get("claims") or ()),
        vocabulary=tuple(brand.get("vocabulary") or ()),
        emoji=style.get("emoji", True),
        max_exclamations=style.get("max_exclamations"),
        title_case_headlines=style.get("title_case_headlines", False),
    )
