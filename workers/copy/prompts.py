"""What the copy model is asked: per-channel instructions, worked examples, the facts block.

A small model copies its worked example closely: its product words ("Alpine"), its opening
("Your …"), its structure. So there are several examples from different categories, one chosen
per product (stable, so a product's candidates share one prompt and its cached prefix), and
every example answer uses only words its own product data or the lexicon holds: the model
learns to say what the data says. Pure data and string building; no model, no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contentfab.core.channels import CHANNELS, Channel

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import ProductFacts

#: Per channel: the instruction a small model follows best (words, not characters — it cannot
#: count characters) and a token budget that fits the limit.
INSTRUCTIONS: dict[str, tuple[str, int]] = {
    "search_headline": (
        "Write one search ad headline of two to five words: the product's name and one thing "
        "from its details.",
        24,
    ),
    "search_description": (
        "Write one search ad description: a single sentence of at most 14 words, using only "
        "the details given.",
        40,
    ),
    "email_subject": ("Write one short email subject line about this product.", 24),
    "social_post": ("Write one short social media post of one or two sentences.", 80),
    "sms": ("Write one short SMS marketing message of one sentence.", 56),
    "email_preheader": ("Write one email preheader: a single sentence of at most 14 words.", 36),
    "email_body": (
        "Write a short marketing email body of 40 to 120 words that names the product.",
        200,
    ),
    "meta_primary_text": ("Write the primary text of a social media ad: one short sentence.", 40),
    "meta_headline": (
        "Write one ad headline of two to five words that names the product.",
        24,
    ),
    "meta_description": (
        "Write one ad link description of two to four words about the product.",
        20,
    ),
    "product_description": (
        "Write a product description of 25 to 150 words. Use only the details given.",
        240,
    ),
}


@dataclass(frozen=True)
class Example:
    """A worked example: a product record and one grounded answer per preset channel."""

    sku: str
    title: str
    description: str
    category: str
    answers: dict[str, str]


EXAMPLES: tuple[Example, ...] = (
    Example(
        sku="example-thermos",
        title="Alpine Trail Thermos 750 ml",
        description="Double-walled stainless steel bottle that keeps drinks hot for 12 hours.",
        category="Outdoor",
        answers={
            "search_headline": "Trail Thermos: Hot 12 Hours",
            "search_description": "Double-walled steel thermos that keeps drinks hot for 12 hours.",
            "email_subject": "Hot drinks for 12 hours with the Alpine Trail Thermos",
            "social_post": "Keep drinks hot for 12 hours: the Alpine Trail Thermos is a "
            "double-walled stainless steel bottle.",
            "sms": "Alpine Trail Thermos: a stainless steel bottle that keeps drinks hot for "
            "12 hours.",
            "email_preheader": "A double-walled steel thermos for hot drinks on the trail.",
            "email_body": "Hot drinks on the trail. The Alpine Trail Thermos is a double-walled stainless steel "
            "bottle that keeps drinks hot for 12 hours. It holds 750 ml, so there is a hot drink "
            "ready when you need it. Fill it, pack it and enjoy a hot drink on the trail.",
            "meta_primary_text": "The Alpine Trail Thermos keeps drinks hot for 12 hours.",
            "meta_headline": "Meet the Alpine Trail Thermos",
            "meta_description": "Trail thermos, hot 12 hours",
            "product_description": "The Alpine Trail Thermos is a double-walled stainless steel bottle that keeps drinks "
            "hot for 12 hours. It holds 750 ml, so there is a hot drink for the trail. The "
            "double-walled steel keeps drinks hot, and the bottle is ready to pack for a day "
            "outdoors. Fill it, take it with you and enjoy a hot drink hours into the trail. A "
            "simple, classic thermos for every outdoor day.",
        },
    ),
    Example(
        sku="example-lamp",
        title="Lumo Desk Lamp with USB-C Port",
        description="Dimmable LED desk lamp with three colour temperatures, a flexible neck "
        "and a USB-C port to charge your phone.",
        category="Home office",
        answers={
            "search_headline": "Lumo Desk Lamp, Dimmable LED",
            "search_description": "Dimmable LED desk lamp with three colour temperatures and "
            "a USB-C port.",
            "email_subject": "Three colour temperatures: the Lumo Desk Lamp",
            "social_post": "Three colour temperatures, a flexible neck and a USB-C port to charge your phone: "
            "meet the Lumo Desk Lamp.",
            "sms": "The Lumo Desk Lamp is a dimmable LED lamp with a USB-C port to charge your "
            "phone.",
            "email_preheader": "A dimmable LED desk lamp with a flexible neck.",
            "email_body": "A desk lamp that works your way. The Lumo Desk Lamp is a dimmable LED desk lamp with "
            "three colour temperatures and a flexible neck, so it turns where you need it. Its "
            "USB-C port charges your phone while you work. Set it up on your desk today.",
            "meta_primary_text": "The Lumo Desk Lamp: dimmable LED, three colour temperatures and a USB-C port.",
            "meta_headline": "Lumo Desk Lamp, USB-C Port",
            "meta_description": "Dimmable LED desk lamp",
            "product_description": "The Lumo Desk Lamp is a dimmable LED desk lamp for your home office. Choose from three "
            "colour temperatures for the way you work. The flexible neck turns the lamp where "
            "you need it, and the USB-C port lets you charge your phone on your desk. A simple, "
            "practical lamp with the features you use every day, ready for your desk.",
        },
    ),
    Example(
        sku="example-socks",
        title="Fellside Merino Hiking Socks (2 Pairs)",
        description="Cushioned hiking socks knitted from merino wool with a reinforced heel "
        "and toe. Two pairs in charcoal.",
        category="Apparel",
        answers={
            "search_headline": "Merino Hiking Socks, 2 Pairs",
            "search_description": "Cushioned merino wool hiking socks with a reinforced heel "
            "and toe.",
            "email_subject": "Merino Hiking Socks, cushioned for your hike",
            "social_post": "Merino wool, cushioned, with a reinforced heel and toe: Fellside Merino Hiking "
            "Socks come in two pairs.",
            "sms": "Fellside Merino Hiking Socks: cushioned merino wool with a reinforced heel "
            "and toe.",
            "email_preheader": "Two pairs of cushioned merino wool hiking socks in charcoal.",
            "email_body": "Ready for a hike? Fellside Merino Hiking Socks are knitted from merino wool and "
            "cushioned for hiking, with a reinforced heel and toe. You get two pairs in charcoal. "
            "Pack them for your hike today.",
            "meta_primary_text": "Cushioned merino wool hiking socks with a reinforced heel "
            "and toe.",
            "meta_headline": "Fellside Merino Hiking Socks",
            "meta_description": "Two pairs, merino wool",
            "product_description": "Fellside Merino Hiking Socks are knitted from merino wool and cushioned for hiking. "
            "The heel and toe are reinforced, so the socks are ready for every hike. You get "
            "two pairs in charcoal, so you have a pair to pack. Put them on and "
            "enjoy the day. Simple, cushioned merino wool socks for every hike.",
        },
    ),
)


def example_for(product: ProductFacts) -> Example:
    """The worked example a product's prompts use: stable per product (its candidates share
    the prompt), spread over the examples, and never the product's own category when another
    example fits."""
    digest = int(hashlib.sha256(product.sku.encode("utf-8")).hexdigest()[:8], 16)
    order = [EXAMPLES[(digest + i) % len(EXAMPLES)] for i in range(len(EXAMPLES))]
    category = (product.category or "").casefold()
    for example in order:
        if example.category.casefold() != category:
            return example
    return order[0]


def instruction(channel: Channel) -> tuple[str, str | None, int | None]:
    """The channel's instruction, the preset whose example answers it uses, and its token
    budget (None: the campaign's own max_new_tokens)."""
    if channel.name in INSTRUCTIONS and CHANNELS.get(channel.name) == channel:
        text, budget = INSTRUCTIONS[channel.name]
        return text, channel.name, budget
    # A custom channel: its own instruction, the example of the preset closest in size, and a
    # budget of about one token per three characters (or two per word) of its limit.
    if channel.count == "words":
        budget = 2 * channel.max_chars + 8
        nearest = "product_description"
    else:
        budget = channel.max_chars // 3 + 8
        sizes = {name: CHANNELS[name].max_chars for name in INSTRUCTIONS if name in CHANNELS}
        nearest = min(sizes, key=lambda name: abs(sizes[name] - channel.max_chars))
    if channel.max_words is not None:
        budget = max(budget, 2 * channel.max_words + 8)
    return channel.instruction, nearest, budget
