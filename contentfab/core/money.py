"""Money as the catalog states it: ISO 4217 currency codes, prices as plain decimal text."""

from __future__ import annotations

from decimal import Decimal

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


#: ISO 4217 currencies whose minor unit is not the cent: none (a yen price is "24800 JPY", never
#: "24800.00 JPY", which labellers marked as odd) or three digits (dinars, rials).
_NO_MINOR = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_MINOR = "BHD IQD JOD KWD LYD OMR TND"
MINOR_DIGITS = {
    **{code: 0 for code in _NO_MINOR.split()},
    **{code: 3 for code in _THREE_MINOR.split()},
}


def shop_amount(value: Decimal, currency: str | None) -> str:
    """A price as a shop writes it in its currency: "189.5" EUR -> "189.50", "24800" JPY ->
    "24800" (no thousands separator: a comma would read as a decimal point to the fact gate)."""
    digits = MINOR_DIGITS.get((currency or "").upper(), 2)
    return f"{value:.{digits}f}"


def plain_decimal(value: Decimal) -> str:
    """A price as plain decimal text, without trailing zeros ("49.90" -> "49.9")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
