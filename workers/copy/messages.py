"""The chat prompt of a slot: facts block, brand rules, channel instruction, worked example, token budget, forced response openings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contentfab.core.channels import Channel
from contentfab.workers.copy.points import selling_points
from contentfab.workers.copy.prompts import example_for, instruction

if TYPE_CHECKING:
    pass
from contentfab.workers.copy.slots import BrandRules, CopySlot, ProductFacts, short_name


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
    category, :func:`workers.copy.prompts.example_for`) and the product's own facts."""
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
