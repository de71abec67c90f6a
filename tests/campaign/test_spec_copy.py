"""The copy parts of a campaign file: brand kit, custom channels and bundles (issue #3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentfab.campaign import load_campaign
from contentfab.core.channels import fits, measure
from contentfab.core.errors import CampaignFileError, Problem

CATALOG = """\
id,title,description,category,price,currency,attributes
T-1,Trailhead Tent 2P,Two doors.,Camping,249.00,USD,capacity=2
T-2,Alpine Bag,,Camping,,,
"""

FULL = """\
name: Spring launch
catalog: catalog.csv
brand:
  name: Northwind
  voice: warm
  required_terms: [Northwind]
  banned_terms: [cheap, Café]
  claims: [free shipping]
  short_names: {T-1: [Trailhead Tent]}
  style: {emoji: false, max_exclamations: 1, title_case_headlines: true}
copy:
  custom_channels:
    store_banner: {max: 40, requires_name: true, headline: true}
    push: {max: 12, count: words, instruction: Write one push notification of a few words.}
    kiosk_sms: {max: 100, count: gsm, max_ucs2: 50}
  channels: [store_banner, push, kiosk_sms, google_rsa, meta_ad, email, sms]
  bundles:
    google_rsa: {headlines: 15, descriptions: 4}
  tones: [energetic, premium]
"""


def _load(tmp_path: Path, campaign: str) -> object:
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    path = tmp_path / "campaign.yaml"
    path.write_text(campaign, encoding="utf-8")
    return load_campaign(path)


def _problems(tmp_path: Path, campaign: str) -> set[tuple[int | None, str]]:
    with pytest.raises(CampaignFileError) as caught:
        _load(tmp_path, campaign)
    problems: list[Problem] = caught.value.problems
    return {(p.row, p.field) for p in problems}


def test_brand_kit_custom_channels_and_bundles_load(tmp_path: Path) -> None:
    loaded = _load(tmp_path, FULL)
    brand = loaded.spec.brand  # type: ignore[attr-defined]
    assert brand.banned_terms == ["cheap", "Café"]
    assert brand.style.emoji is False and brand.style.max_exclamations == 1
    assert brand.short_names == {"T-1": ["Trailhead Tent"]}
    request = loaded.spec.copy_request  # type: ignore[attr-defined]
    banner = request.channel("store_banner")
    assert (banner.max_chars, banner.count, banner.requires_name, banner.headline) == (
        40,
        "chars",
        True,
        True,
    )
    assert banner.instruction == "Write one store banner, at most 40 characters."
    push = request.channel("push")
    assert push.count == "words" and measure(push, "one two three") == 3
    assert fits(push, "word " * 12) and not fits(push, "word " * 13)
    kiosk = request.channel("kiosk_sms")
    assert fits(kiosk, "a" * 100) and not fits(kiosk, "é" * 51 + "🙂")  # UCS-2: 50

    slots = request.slots()
    by_channel: dict[str, int] = {}
    for slot in slots:
        by_channel[slot.channel] = by_channel.get(slot.channel, 0) + 1
    # per tone: 3 custom + 1 sms + RSA 15 + 4, Meta 3 fields, email 3 fields
    assert by_channel == {
        "store_banner": 2,
        "push": 2,
        "kiosk_sms": 2,
        "search_headline": 30,
        "search_description": 8,
        "meta_primary_text": 2,
        "meta_headline": 2,
        "meta_description": 2,
        "email_subject": 2,
        "email_preheader": 2,
        "email_body": 2,
        "sms": 2,
    }
    assert request.variants_per_product == len(slots) == 58
    rsa = [s for s in slots if s.bundle is not None and s.bundle["name"] == "google_rsa"]
    assert {s.bundle["ad"] for s in rsa} == {0, 1}  # one ad per tone
    assert [s.bundle["index"] for s in rsa if s.bundle["field"] == "headlines"][:15] == list(
        range(15)
    )
    email = [s.bundle for s in slots if s.bundle is not None and s.bundle["name"] == "email"]
    assert [b["field"] for b in email[:3]] == ["subject", "preheader", "body"]


def test_an_unconfigured_bundle_gets_its_minimum_fields(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "name: x\ncatalog: catalog.csv\ncopy:\n  channels: [google_rsa]\n")
    slots = loaded.spec.copy_request.slots()  # type: ignore[attr-defined]
    assert [s.channel for s in slots] == ["search_headline"] * 3 + ["search_description"] * 2


@pytest.mark.parametrize(
    ("brand", "field"),
    [
        ("{name: N, banned_terms: [cheap, CHEAP]}", "brand.banned_terms"),
        ("{name: N, banned_terms: ['']}", "brand.banned_terms.0"),
        ("{name: N, required_terms: [x], banned_terms: [X]}", "brand"),
        ("{name: N, style: {emoji: maybe}}", "brand.style.emoji"),
        ("{name: N, style: {max_exclamations: -1}}", "brand.style.max_exclamations"),
        ("{name: N, style: {shout: true}}", "brand.style.shout"),
        ("{name: N, claims: 3}", "brand.claims"),
        ("{name: N, short_names: {T-9: [Tent]}}", "brand.short_names.T-9"),
        ("{name: N, short_names: {T-1: [x]}}", "brand.short_names.T-1.0"),
    ],
)
def test_brand_kit_problems_name_the_field(tmp_path: Path, brand: str, field: str) -> None:
    campaign = f"name: x\ncatalog: catalog.csv\nbrand: {brand}\ncopy: {{channels: [sms]}}\n"
    assert _problems(tmp_path, campaign) == {(3, field)}


@pytest.mark.parametrize(
    ("copy", "field"),
    [
        ("{channels: [google_rsa], bundles: {google_rsa: {headlines: 2}}}", "copy.bundles"),
        ("{channels: [google_rsa], bundles: {google_rsa: {headlines: 16}}}", "copy.bundles"),
        ("{channels: [google_rsa], bundles: {google_rsa: {descriptions: 5}}}", "copy.bundles"),
        ("{channels: [google_rsa], bundles: {google_rsa: {images: 2}}}", "copy.bundles"),
        ("{channels: [sms], bundles: {google_rsa: {headlines: 3}}}", "copy"),
        ("{channels: [sms], bundles: {tiktok: {}}}", "copy.bundles"),
        ("{channels: [banner]}", "copy.channels.0"),
        (
            "{custom_channels: {banner: {count: words}}, channels: [banner]}",
            "copy.custom_channels.banner.max",
        ),
        (
            "{custom_channels: {banner: {max: 9, count: pigeons}}, channels: [banner]}",
            "copy.custom_channels.banner.count",
        ),
        ("{custom_channels: {sms: {max: 9}}, channels: [sms]}", "copy.custom_channels"),
        ("{custom_channels: {Big Banner: {max: 9}}, channels: [sms]}", "copy.custom_channels"),
        ("{custom_channels: {b: {max: 9, max_ucs2: 5}}, channels: [b]}", "copy.custom_channels.b"),
        (
            "{custom_channels: {b: {max: 9, min_words: 5, max_words: 2}}, channels: [b]}",
            "copy.custom_channels.b",
        ),
    ],
)
def test_copy_channel_problems_name_the_field(tmp_path: Path, copy: str, field: str) -> None:
    campaign = f"name: x\ncatalog: catalog.csv\ncopy: {copy}\n"
    assert {f for _, f in _problems(tmp_path, campaign)} == {field}
