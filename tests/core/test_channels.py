"""Channel presets: each channel counts length the way the platform does."""

from __future__ import annotations

import pytest

from contentfab.core.channels import CHANNELS, fits, limit, measure, sms_encoding

HEADLINE = CHANNELS["search_headline"]
X_POST = CHANNELS["social_post"]
SMS = CHANNELS["sms"]
DESCRIPTION = CHANNELS["product_description"]
SUBJECT = CHANNELS["email_subject"]


def test_required_presets_exist_with_their_limits() -> None:
    expected = {
        "search_headline": 30,
        "search_description": 90,
        "email_subject": 60,
        "social_post": 280,
        "sms": 160,
        "product_description": 1000,
    }
    assert {name: CHANNELS[name].max_chars for name in expected} == expected
    assert (DESCRIPTION.min_words, DESCRIPTION.max_words) == (25, 150)
    for name, channel in CHANNELS.items():
        assert channel.name == name
        assert channel.instruction.startswith("Write")


def test_google_counts_cjk_as_double_width() -> None:
    assert measure(HEADLINE, "Warm tents") == 10
    assert measure(HEADLINE, "山のテント") == 10
    assert measure(HEADLINE, "Tent テント") == 5 + 6
    # 15 wide characters are 30: the limit exactly; one more does not fit.
    assert fits(HEADLINE, "山" * 15)
    assert not fits(HEADLINE, "山" * 16)
    assert fits(HEADLINE, "a" * 30) and not fits(HEADLINE, "a" * 31)


def test_x_counts_urls_as_23_and_emoji_and_cjk_as_2() -> None:
    url = "https://northwind.example.com/spring/tents?utm_source=x&utm_campaign=launch"
    assert measure(X_POST, url) == 23
    assert measure(X_POST, f"New tents: {url}") == len("New tents: ") + 23
    assert measure(X_POST, "Hi 👋") == 3 + 2
    assert measure(X_POST, "👨‍👩‍👧‍👦") == 2  # one ZWJ family is one emoji
    assert measure(X_POST, "👍🏽") == 2  # skin tone modifier joins its base
    assert measure(X_POST, "🇯🇵") == 2
    assert measure(X_POST, "テント") == 6
    assert measure(X_POST, "café") == 4  # Latin-1 supplement weighs 1


def test_x_limit_is_weighted() -> None:
    assert fits(X_POST, "a" * 280)
    assert not fits(X_POST, "a" * 281)
    assert fits(X_POST, "山" * 140)
    assert not fits(X_POST, "山" * 141)
    # A long URL costs 23, so this fits although len() is far above 280.
    long_url = "https://example.com/" + "x" * 400
    assert len(long_url) > 280 and fits(X_POST, long_url)


def test_sms_switches_to_ucs2_on_one_emoji() -> None:
    text = "Spring sale: 20% off all tents this weekend only. Reply STOP to opt out."
    assert sms_encoding(text) == "gsm7"
    assert measure(SMS, text) == len(text)
    assert limit(SMS, text) == 160

    with_emoji = text + " ⛺"
    assert sms_encoding(with_emoji) == "ucs2"
    assert limit(SMS, with_emoji) == 70
    assert measure(SMS, with_emoji) == len(with_emoji)
    assert not fits(SMS, with_emoji)  # 75 characters: fine in GSM-7, too long in UCS-2
    assert fits(SMS, text)


def test_sms_gsm7_extension_characters_take_two_septets() -> None:
    assert measure(SMS, "Price: 5€") == 8 + 2
    assert measure(SMS, "[x]") == 5
    assert fits(SMS, "€" * 80) and not fits(SMS, "€" * 81)


def test_sms_astral_emoji_take_two_utf16_units() -> None:
    assert measure(SMS, "🎉") == 2
    assert fits(SMS, "🎉" * 35) and not fits(SMS, "🎉" * 36)


def test_product_description_needs_25_to_150_words() -> None:
    assert not fits(DESCRIPTION, "word " * 24)
    assert fits(DESCRIPTION, "word " * 25)
    assert fits(DESCRIPTION, "word " * 150)
    assert not fits(DESCRIPTION, "word " * 151)
    assert not fits(DESCRIPTION, "longword " * 120)  # 120 words, but over 1000 characters
    assert fits(DESCRIPTION, "Two paragraphs.\n\n" + "word " * 60)


@pytest.mark.parametrize("text", ["", "   ", "Spring tents\nBcc: someone@example.com"])
def test_empty_or_multiline_subject_does_not_fit(text: str) -> None:
    assert not fits(SUBJECT, text)


def test_counting_normalises_to_nfc() -> None:
    decomposed = "Cafe\u0301"  # e + combining acute: one visible character
    assert measure(SUBJECT, decomposed) == 4
    assert sms_encoding(decomposed) == "gsm7"  # é is in the GSM-7 alphabet once composed
    assert measure(SMS, decomposed) == 4


def test_meta_and_email_field_presets_and_bundles() -> None:
    from contentfab.core.channels import BUNDLES

    limits = {
        "meta_primary_text": 125,
        "meta_headline": 40,
        "meta_description": 30,
        "email_preheader": 100,
    }
    assert {name: CHANNELS[name].max_chars for name in limits} == limits
    body = CHANNELS["email_body"]
    assert body.multiline and body.requires_name and (body.min_words, body.max_words) == (30, 150)
    rsa = BUNDLES["google_rsa"]
    assert [(f.channel, f.min_count, f.max_count) for f in rsa.fields] == [
        ("search_headline", 3, 15),
        ("search_description", 2, 4),
    ]
    assert [f.channel for f in BUNDLES["email"].fields] == [
        "email_subject",
        "email_preheader",
        "email_body",
    ]
    assert [f.channel for f in BUNDLES["meta_ad"].fields] == [
        "meta_primary_text",
        "meta_headline",
        "meta_description",
    ]


def test_emoji_detection_covers_sequences_but_not_plain_symbols() -> None:
    from contentfab.core.channels import contains_emoji

    assert contains_emoji("Warm tents 🔥")
    assert contains_emoji("family 👨‍👩‍👧")
    assert contains_emoji("Japan 🇯🇵")
    assert contains_emoji("Love ❤️")
    assert not contains_emoji("Northwind® Tent™ — 2 doors, café")
    assert not contains_emoji("山のテント")
