"""Channel presets for marketing copy: what each channel is called, how long a text may be there,
and how that channel counts length.

Channels count differently, and a copy that "fits" by ``len()`` can still be cut off:

* ``chars``: code points after NFC normalisation (email subjects, product descriptions).
* ``double_width``: Google Ads counts East Asian wide and full-width characters (CJK, kana,
  hangul, full-width forms) as 2 towards the 30/90-character limits.
* ``x_weighted``: X (Twitter) weighting, twitter-text v3: code points in Latin, Greek, Cyrillic,
  Hebrew, Arabic and a few punctuation ranges count 1, everything else (CJK, most emoji) counts
  2; an emoji sequence (ZWJ family, skin tone, flag, keycap) counts 2 as a whole; every URL
  counts 23 however long it is.
* ``gsm7``: SMS. If every character is in the GSM 03.38 alphabet the text is sent as GSM-7 and
  counted in septets (the extension characters ``^{}\\[~]|€`` and form feed take 2); one
  character outside it (an emoji, a curly quote) switches the whole message to UCS-2, counted
  in UTF-16 code units, and the single-message limit drops from 160 to 70.
* ``words``: whitespace-separated words (a custom channel may be limited in words only).

A campaign may define its own channels with the same fields (:func:`contentfab.campaign.spec.custom_channel`), and ask
for a *bundle*: the fields of one ad or one email written together (:data:`BUNDLES`), such as a
Google responsive search ad (3–15 headlines, 2–4 descriptions) or an email (subject, preheader,
body). Each field slot is a channel of its own; the bundle only says which slots form one ad.

:func:`measure` gives the length as the channel counts it; :func:`fits` also checks the word
range, the single-line rule and the encoding-dependent SMS limit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BUNDLES",
    "CHANNELS",
    "COUNT_RULES",
    "Bundle",
    "BundleField",
    "Channel",
    "CountRule",
    "contains_emoji",
    "fits",
    "limit",
    "measure",
    "sms_encoding",
    "word_count",
]

CountRule = Literal["chars", "double_width", "x_weighted", "gsm7", "words"]
COUNT_RULES: tuple[CountRule, ...] = ("chars", "double_width", "x_weighted", "gsm7", "words")


@dataclass(frozen=True)
class Channel:
    """One place copy goes, with the limits that place enforces."""

    name: str
    label: str
    instruction: str
    """One sentence for the language-model prompt saying what to write and how long."""
    max_chars: int
    """Largest :func:`measure` the channel accepts (for ``gsm7``: the GSM-7 limit)."""
    min_words: int | None = None
    max_words: int | None = None
    count: CountRule = "chars"
    max_chars_ucs2: int | None = None
    """For ``gsm7`` channels: the limit once the text needs UCS-2."""
    multiline: bool = False
    """Whether a line break is allowed (never in a subject line: it would break the header)."""
    requires_name: bool = False
    """Whether the product's name (or an allowed short name) must appear in the text."""
    headline: bool = False
    """Whether the text is a headline (brand kits may ask for title case there)."""


CHANNELS: dict[str, Channel] = {
    channel.name: channel
    for channel in (
        Channel(
            name="search_headline",
            label="Search ad headline",
            instruction="Write one search ad headline, at most 30 characters.",
            max_chars=30,
            count="double_width",
            requires_name=True,
            headline=True,
        ),
        Channel(
            name="search_description",
            label="Search ad description",
            instruction="Write one search ad description, at most 90 characters.",
            max_chars=90,
            count="double_width",
        ),
        Channel(
            name="email_subject",
            label="Email subject line",
            instruction="Write one email subject line, at most 60 characters.",
            max_chars=60,
            requires_name=True,
        ),
        Channel(
            name="email_preheader",
            label="Email preheader",
            instruction="Write one email preheader (the preview line), at most 100 characters.",
            max_chars=100,
        ),
        Channel(
            name="email_body",
            label="Email body",
            instruction="Write a short marketing email body of 30 to 150 words.",
            max_chars=2000,
            min_words=30,
            max_words=150,
            multiline=True,
            requires_name=True,
        ),
        Channel(
            name="meta_primary_text",
            label="Meta ad primary text",
            instruction="Write the primary text of a Facebook ad, at most 125 characters.",
            max_chars=125,
            multiline=True,
        ),
        Channel(
            name="meta_headline",
            label="Meta ad headline",
            instruction="Write one Facebook ad headline, at most 40 characters.",
            max_chars=40,
            requires_name=True,
            headline=True,
        ),
        Channel(
            name="meta_description",
            label="Meta ad description",
            instruction="Write one Facebook ad link description, at most 30 characters.",
            max_chars=30,
        ),
        Channel(
            name="social_post",
            label="Social post (X)",
            instruction="Write one short social media post, at most 280 characters.",
            max_chars=280,
            count="x_weighted",
            multiline=True,
        ),
        Channel(
            name="sms",
            label="SMS",
            instruction="Write one SMS marketing message in plain text without emoji, "
            "at most 160 characters.",
            max_chars=160,
            count="gsm7",
            max_chars_ucs2=70,
        ),
        Channel(
            name="product_description",
            label="Product description",
            instruction="Write a product description of 25 to 150 words.",
            max_chars=1000,
            min_words=25,
            max_words=150,
            multiline=True,
            requires_name=True,
        ),
    )
}


@dataclass(frozen=True)
class BundleField:
    """One field of a bundle: the channel its slots use and how many slots one ad may have."""

    name: str
    channel: str
    min_count: int = 1
    max_count: int = 1


@dataclass(frozen=True)
class Bundle:
    """Fields written together for one ad or one email, one slot per field (or per headline)."""

    name: str
    label: str
    fields: tuple[BundleField, ...]

    def field(self, name: str) -> BundleField:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


BUNDLES: dict[str, Bundle] = {
    bundle.name: bundle
    for bundle in (
        Bundle(
            "google_rsa",
            "Google responsive search ad",
            (
                BundleField("headlines", "search_headline", 3, 15),
                BundleField("descriptions", "search_description", 2, 4),
            ),
        ),
        Bundle(
            "meta_ad",
            "Meta (Facebook/Instagram) ad",
            (
                BundleField("primary_text", "meta_primary_text"),
                BundleField("headline", "meta_headline"),
                BundleField("description", "meta_description"),
            ),
        ),
        Bundle(
            "email",
            "Marketing email",
            (
                BundleField("subject", "email_subject"),
                BundleField("preheader", "email_preheader"),
                BundleField("body", "email_body"),
            ),
        ),
    )
}


def measure(channel: Channel, text: str) -> int:
    """The length of ``text`` as ``channel`` counts it (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    if channel.count == "chars":
        return len(text)
    if channel.count == "double_width":
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    if channel.count == "x_weighted":
        return _x_weighted_length(text)
    if channel.count == "gsm7":
        return _sms_length(text)
    if channel.count == "words":
        return word_count(text)
    raise ValueError(f"unknown count rule {channel.count!r} on channel {channel.name!r}")


def limit(channel: Channel, text: str) -> int:
    """The largest :func:`measure` allowed for this text (for SMS it depends on the text)."""
    if (
        channel.count == "gsm7"
        and channel.max_chars_ucs2 is not None
        and sms_encoding(text) == "ucs2"
    ):
        return channel.max_chars_ucs2
    return channel.max_chars


def word_count(text: str) -> int:
    """Words as whitespace-separated runs (languages written without spaces count low)."""
    return len(text.split())


def fits(channel: Channel, text: str) -> bool:
    """Whether ``text`` can be published on ``channel`` as it is.

    Empty or whitespace-only text never fits, nor does a line break on a single-line channel.
    """
    if not text.strip():
        return False
    if not channel.multiline and ("\n" in text or "\r" in text):
        return False
    if measure(channel, text) > limit(channel, text):
        return False
    words = word_count(text)
    if channel.min_words is not None and words < channel.min_words:
        return False
    return channel.max_words is None or words <= channel.max_words


# --- SMS -------------------------------------------------------------------------------------

# GSM 03.38 default alphabet (the escape code 0x1B itself is not a character of the text).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape code, so each costs two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def sms_encoding(text: str) -> Literal["gsm7", "ucs2"]:
    """How a phone network would send ``text``: GSM-7 if every character allows it."""
    text = unicodedata.normalize("NFC", text)
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        return "gsm7"
    return "ucs2"


def _sms_length(text: str) -> int:
    if sms_encoding(text) == "gsm7":
        return sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
    # UCS-2 in practice is UTF-16: characters beyond the BMP (most emoji) take two units.
    return len(text.encode("utf-16-le")) // 2


# --- X (Twitter) weighting -------------------------------------------------------------------

# twitter-text v3 configuration: these code point ranges weigh 1, everything else 2.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_X_URL_LENGTH = 23
_X_EMOJI_WEIGHT = 2

# A simplified form of twitter-text's URL detection: scheme or www. links, and bare domains
# under common top-level domains; trailing sentence punctuation is not part of the URL.
_X_URL = re.compile(
    r"(?:https?://|www\.)[^\s]+[^\s.,:;!?'\")\]]"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|io|co|app|dev|shop|store|info|biz|eu|uk|de|fr|es|it|nl|jp|cn|us|ca|au)"
    r"\b(?:/[^\s]*[^\s.,:;!?'\")\]])?",
    re.IGNORECASE,
)

# Emoji presentation bases. Text-presentation symbols below U+2600 (©, ®, ™, arrows) count as
# emoji only when followed by VS16; everything from U+2600 up counts as emoji on its own.
_EMOJI_BASE = (
    "[\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff]"
)
_TEXT_SYMBOL = "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b"
_TEXT_SYMBOL += "\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe]"
_EMOJI_MODIFIERS = "(?:\ufe0f|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI_ATOM = f"(?:{_EMOJI_BASE}|{_TEXT_SYMBOL}\ufe0f){_EMOJI_MODIFIERS}"
_X_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # flag: a pair of regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # keycap
    f"|{_EMOJI_ATOM}(?:\u200d{_EMOJI_ATOM})*"  # ZWJ sequences count once
)


def contains_emoji(text: str) -> bool:
    """Whether ``text`` has an emoji (a pictograph, flag, keycap or emoji-styled symbol)."""
    return _X_EMOJI.search(unicodedata.normalize("NFC", text)) is not None


def _x_char_weight(ch: str) -> int:
    code = ord(ch)
    return 1 if any(start <= code <= end for start, end in _X_LIGHT_RANGES) else 2


def _x_weighted_length(text: str) -> int:
    total = 0
    position = 0
    for url in _X_URL.finditer(text):
        total += _x_plain_length(text[position : url.start()]) + _X_URL_LENGTH
        position = url.end()
    return total + _x_plain_length(text[position:])


def _x_plain_length(text: str) -> int:
    total = 0
    position = 0
    for emoji in _X_EMOJI.finditer(text):
        total += sum(map(_x_char_weight, text[position : emoji.start()])) + _X_EMOJI_WEIGHT
        position = emoji.end()
    return total + sum(map(_x_char_weight, text[position:]))
