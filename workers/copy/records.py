"""The copywriter's records built from a stored product and its campaign's brand kit.

One construction for both sides of the gates: the copy task builds the slots it samples for
from it, and a reviewer's edit is checked against exactly the same product facts, brand kit
and channel (preset or the campaign's custom one). Reads attributes only; no SQL here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from contentfab.campaign.spec import BrandKit
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


def product_facts(product: StoredProduct, brand: BrandKit | None) -> ProductFacts:
    """What copy about ``product`` may state, with the short names its brand kit allows."""
    short_names = tuple(brand.short_names.get(product.sku, ())) if brand is not None else ()
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


def brand_rules(brand: BrandKit | None) -> BrandRules:
    """The campaign's brand kit (``brand:`` in the campaign file) as the gates apply it; no
    rules but the defaults without one."""
    if brand is None:
        return BrandRules()
    return BrandRules(
        name=brand.name,
        voice=brand.voice,
        required_terms=tuple(brand.required_terms),
        banned_terms=tuple(brand.banned_terms),
        claims=tuple(brand.claims),
        vocabulary=tuple(brand.vocabulary),
        emoji=brand.style.emoji,
        max_exclamations=brand.style.max_exclamations,
        title_case_headlines=brand.style.title_case_headlines,
    )
