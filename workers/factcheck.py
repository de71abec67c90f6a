"""Whether the numbers in a piece of copy are facts from the product record.

A number in copy is a quantity (``2 kg``, ``12-hour``), a price (``€34.95``, ``36,000 JPY``), a
percentage (``30%``) or a bare number (``Chair 100``). Each must be backed by the product data:

* a quantity by a quantity of the same dimension and (after converting units) the same value,
  to the precision the copy writes it: ``1 kg`` is backed by ``weight_g=1029``, ``2 tons`` is
  not backed by ``2 kg``; an attribute's key suffix is its unit (``weight_g``, ``volume_ml``);
* a price by the product's own price and currency, whichever symbol or ISO code the copy uses;
  ``$`` is any dollar, ``¥`` yen or yuan, ``kr`` a Nordic krona/krone;
* a percentage by the same percentage in the data;
* a bare number by the same number anywhere in the data.

Numbers written as words are not checked (``two-year``). Pure functions; no model, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from contentfab.core.money import ISO_4217

__all__ = ["Quantity", "currency_signs", "quantities", "unsupported_numbers"]

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {}


def _units(dimension: str, factor: float, *names: str) -> None:
    for name in names:
        _UNITS[name] = (dimension, factor)


_units("mass", 0.001, "mg", "milligram", "milligrams")
_units("mass", 1, "g", "gr", "gram", "grams", "gramme", "grammes")
_units("mass", 1000, "kg", "kgs", "kilo", "kilos", "kilogram", "kilograms")
_units("mass", 1_000_000, "ton", "tons", "tonne", "tonnes")
_units("mass", 453.59237, "lb", "lbs", "pound", "pounds")
_units("mass", 28.349523, "oz", "ounce", "ounces")
_units("volume", 1, "ml", "millilitre", "millilitres", "milliliter", "milliliters")
_units("volume", 10, "cl")
_units("volume", 100, "dl")
_units("volume", 1000, "l", "litre", "litres", "liter", "liters", "ltr")
_units("volume", 3785.41, "gal", "gallon", "gallons")
_units("length", 1, "mm", "millimetre", "millimetres", "millimeter", "millimeters")
_units("length", 10, "cm", "centimetre", "centimetres", "centimeter", "centimeters")
_units("length", 1000, "m", "metre", "metres", "meter", "meters")
_units("length", 1_000_000, "km", "kilometre", "kilometres", "kilometer", "kilometers")
_units("length", 25.4, "inch", "inches", '"')  # not "in": "2 in 1"
_units("length", 304.8, "ft", "foot", "feet")
_units("time", 1, "sec", "secs", "second", "seconds")  # not "s": "100s of trails"
_units("time", 60, "min", "mins", "minute", "minutes")
_units("time", 3600, "h", "hr", "hrs", "hour", "hours")
_units("time", 86400, "day", "days")
_units("time", 604800, "week", "weeks", "wk", "wks")
_units("time", 2_629_800, "month", "months")
_units("time", 31_557_600, "year", "years", "yr", "yrs")
_units("power", 1, "w", "watt", "watts")
_units("power", 1000, "kw")
_units("charge", 1, "mah")
_units("data", 1, "mb")
_units("data", 1000, "gb")
_units("data", 1_000_000, "tb")
_units("temperature_c", 1, "°c", "℃")
_units("temperature_f", 1, "°f", "℉")
_units("percent", 1, "%", "percent", "per cent", "pct")

# symbol or code -> the ISO 4217 codes it may stand for
_CURRENCY_SIGNS: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}),
    "us$": frozenset({"USD"}),
    "ca$": frozenset({"CAD"}),
    "c$": frozenset({"CAD"}),
    "a$": frozenset({"AUD"}),
    "nz$": frozenset({"NZD"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "円": frozenset({"JPY"}),
    "元": frozenset({"CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "₽": frozenset({"RUB"}),
    "₺": frozenset({"TRY"}),
    "₪": frozenset({"ILS"}),
    "₫": frozenset({"VND"}),
    "₱": frozenset({"PHP"}),
    "฿": frozenset({"THB"}),
    "r$": frozenset({"BRL"}),
    "zł": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "fr": frozenset({"CHF"}),
    "fr.": frozenset({"CHF"}),
}


def currency_signs(code: str) -> list[str]:
    """The symbols and abbreviations that may stand for ISO 4217 ``code`` ("€" for EUR)."""
    return [sign for sign, codes in _CURRENCY_SIGNS.items() if code.upper() in codes]


_NUMBER = r"\d{1,3}(?:[,\u202f\u00a0]\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+,\d+|\d+(?:[.,]\d+)?"
_SIGN = "|".join(
    re.escape(s) for s in sorted(_CURRENCY_SIGNS, key=len, reverse=True) if not s.isalpha()
)
_UNIT = "|".join(re.escape(u) for u in sorted([*_UNITS, *_CURRENCY_SIGNS], key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?:(?P<pre>{_SIGN}|\b(?-i:[A-Z]{{3}}))\s?)?"
    rf"(?<![\w.,/])(?P<number>{_NUMBER})(?![.,]?\d)"
    rf"(?:[-\s\u00a0]?(?P<unit>(?:{_UNIT})(?!\w)|(?-i:[A-Z]{{3}})\b))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    """A number as the text writes it, with what it counts: a unit, a currency, or nothing."""

    value: Decimal
    decimals: int
    unit: str | None = None  # a key of the unit table, lower case
    currencies: frozenset[str] = frozenset()
    text: str = ""

    @property
    def dimension(self) -> str | None:
        return None if self.unit is None else _UNITS[self.unit][0]

    def base_value(self) -> float:
        factor = 1.0 if self.unit is None else _UNITS[self.unit][1]
        return float(self.value) * factor


def _decimal(number: str) -> tuple[Decimal, int] | None:
    text = number.replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", text):
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    return value, -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _currency(token: str | None) -> frozenset[str]:
    if token is None:
        return frozenset()
    if token in ISO_4217:
        return frozenset({token})
    return _CURRENCY_SIGNS.get(token.lower(), frozenset())


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its unit or currency."""
    found = []
    for match in _QUANTITY.finditer(text):
        parsed = _decimal(match["number"])
        if parsed is None:
            continue
        value, decimals = parsed
        unit_token, pre = match["unit"], match["pre"]
        unit: str | None = None
        # Three capitals that are no ISO code are just a word next to the number.
        currencies = _currency(pre)
        if unit_token is not None:
            if unit_token.lower() in _UNITS:
                unit = unit_token.lower()
            else:
                currencies = currencies or _currency(unit_token)
        found.append(Quantity(value, decimals, unit, currencies, match.group().strip()))
    return found


def _attribute_quantities(key: str, value: object) -> list[Quantity]:
    """An attribute such as ``weight_g=1029``: the key's last part is the value's unit."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return []
    unit = key.lower().rsplit("_", 1)[-1] if "_" in key else None
    if isinstance(value, int | float):
        parsed = _decimal(repr(value))
        if parsed is None:
            return []
        return [Quantity(parsed[0], parsed[1], unit if unit in _UNITS else None)]
    return quantities(value)


@dataclass(frozen=True)
class FactSheet:
    """The numbers a product record states, ready to check copy against."""

    quantities: tuple[Quantity, ...]
    price: Decimal | None
    currency: str | None

    @classmethod
    def of(
        cls,
        texts: list[str],
        attributes: dict[str, object],
        price: str | None,
        currency: str | None,
    ) -> FactSheet:
        found: list[Quantity] = []
        codes = frozenset({currency}) if currency else frozenset()
        for text in texts:
            found.extend(quantities(text))
        for key, value in attributes.items():
            found.extend(_attribute_quantities(key, value))
        amount = None
        if price is not None:
            parsed = _decimal(price)
            amount = None if parsed is None else parsed[0]
            if parsed is not None:
                found.append(Quantity(parsed[0], parsed[1], None, codes))
        return cls(tuple(found), amount, currency)


def _same_value(claimed: Quantity, fact: Quantity) -> bool:
    """Equal once units are converted, to the precision the copy writes the number."""
    if claimed.unit is None or fact.unit is None or claimed.unit == fact.unit:
        if claimed.unit is not None and fact.unit is not None:
            return _rounds_to(claimed, float(fact.value))
        return claimed.value == fact.value
    factor = _UNITS[claimed.unit][1]
    return _rounds_to(claimed, fact.base_value() / factor)


def _rounds_to(claimed: Quantity, fact_value: float) -> bool:
    shown = float(claimed.value)
    if round(fact_value, claimed.decimals) != round(shown, claimed.decimals):
        return False
    return abs(shown - fact_value) <= 0.05 * max(abs(fact_value), 1e-9)


def unsupported_numbers(text: str, facts: FactSheet) -> list[str]:
    """The numbers in ``text`` (as written) that the product data does not back."""
    wrong = []
    for claimed in quantities(text):
        if claimed.currencies:
            ok = (
                facts.price is not None
                and facts.currency in claimed.currencies
                and claimed.value == facts.price
            )
        elif claimed.unit == "%" or claimed.dimension == "percent":
            ok = any(
                f.dimension == "percent" and f.value == claimed.value for f in facts.quantities
            )
        elif claimed.unit is not None:
            ok = any(
                f.dimension == claimed.dimension and _same_value(claimed, f)
                for f in facts.quantities
            )
        else:
            ok = any(
                f.dimension != "percent" and f.value == claimed.value for f in facts.quantities
            )
        if not ok:
            wrong.append(claimed.text)
    return wrong
