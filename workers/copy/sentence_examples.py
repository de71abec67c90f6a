"""The worked examples the sentence prompts show (one fact, one faithful sentence each), and the two-word phrases of them a sentence may not borrow."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from contentfab.workers.copy.text import DANGLING
from contentfab.workers.grounding import gate_words

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import ProductFacts
from contentfab.workers.copy.facts import _EMPTY

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
