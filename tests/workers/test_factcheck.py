"""The fact check reads numbers with their units, currencies and percent signs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contentfab.workers.factcheck import FactSheet, quantities, unsupported_numbers

BOTTLE = FactSheet.of(
    ["Insulated Steel Bottle 750 ml", "Keeps drinks cold for 24 hours. Weighs 2 kg. 30% lighter."],
    {"weight_g": 1029, "color": "Moss", "recycled": True},
    "34.95",
    "USD",
)


def test_numbers_are_read_with_their_units_and_currencies() -> None:
    found = quantities("Up to 2 tons, 24-hour warmth, €34.95, 36,000 JPY, 1,5 l, 30 %")
    assert [(str(q.value), q.unit, sorted(q.currencies)) for q in found] == [
        ("2", "tons", []),
        ("24", "hour", []),
        ("34.95", None, ["EUR"]),
        ("36000", None, ["JPY"]),
        ("1.5", "l", []),
        ("30", "%", []),
    ]
    # Three capitals that are no ISO 4217 code are a word, not a currency.
    assert quantities("NEW 3 colours")[0].currencies == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "2 kg",
        "2000 g",  # converted
        "1 kg",  # the weight_g attribute, to the precision written
        "1.03 kg",
        "750 ml",
        "750ml",
        "0.75 l",
        "cold for 24 hours",
        "a 24-hour chill",
        "$34.95",
        "34.95 USD",
        "USD 34.95",
        "30% lighter",
        "30 percent lighter",
        "Bottle 750",  # a bare number from the title
    ],
)
def test_numbers_backed_by_the_product_pass(text: str) -> None:
    assert unsupported_numbers(text, BOTTLE) == []


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("holds up to 2 tons", "2 tons"),  # data says 2 kg: same number, another magnitude
        ("only 1.5 kg", "1.5 kg"),
        ("cold for 48 hours", "48 hours"),
        ("750 l of water", "750 l"),
        ("750 cm tall", "750 cm"),  # a number of the data, with a unit it never had
        ("€34.95", "€34.95"),  # right amount, wrong currency
        ("just $35", "$35"),  # rounded price
        ("USD 29.99", "USD 29.99"),
        ("50% off", "50%"),
        ("3-pack", "3"),
    ],
)
def test_numbers_the_product_does_not_back_are_named(text: str, wrong: str) -> None:
    assert unsupported_numbers(text, BOTTLE) == [wrong]


def test_a_product_without_price_backs_no_price() -> None:
    no_price = FactSheet.of(["Ridgeline Camp Chair 600"], {}, None, None)
    assert unsupported_numbers("Camp Chair 600 for £49", no_price) == ["£49"]
    assert unsupported_numbers("Camp Chair 600", no_price) == []


def test_currency_symbols_and_codes_of_other_currencies() -> None:
    yen = FactSheet.of(["Canyon Wool Throw 400"], {}, "36000", "JPY")
    assert unsupported_numbers("Only ¥36,000", yen) == []
    assert unsupported_numbers("36000 JPY", yen) == []
    assert unsupported_numbers("36,000 円", yen) == []
    assert unsupported_numbers("$36,000", yen) == ["$36,000"]
    krona = FactSheet.of(["Ridgeline Sleeping Bag 400"], {}, "70.50", "SEK")
    assert unsupported_numbers("Now 70,50 kr", krona) == []
    assert unsupported_numbers("Now 70.50 SEK", krona) == []
    assert unsupported_numbers("Now 70.50 NOK", krona) == ["70.50 NOK"]
    assert krona.price == Decimal("70.50")
