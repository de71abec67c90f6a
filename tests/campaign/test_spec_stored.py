"""The campaign spec as a campaign row stores it: validated again when a chunk is claimed, and
one resolver for a channel name whether the spec is typed or stored JSON (issue #18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentfab.campaign import load_campaign
from contentfab.campaign.spec import CampaignSpec, resolve_channel, stored_brand, stored_campaign
from contentfab.core.channels import CHANNELS
from contentfab.core.errors import InputError
from tests.campaign.test_spec_copy import CATALOG, FULL

RECS = """\
recommendations:
  users: [u1, {id: u2, segment: hikers}]
  segments: [{name: hikers, description: People who hike on weekends}]
  price_band: [10, 300]
  method: embedding
"""


def _stored(tmp_path: Path, campaign: str) -> tuple[CampaignSpec, dict[str, object]]:
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    path = tmp_path / "campaign.yaml"
    path.write_text(campaign, encoding="utf-8")
    spec = load_campaign(path).spec
    return spec, spec.model_dump(mode="json", by_alias=True)  # as store_campaign stores it


def test_a_stored_spec_validates_back_to_the_campaign_it_was(tmp_path: Path) -> None:
    spec, stored = _stored(tmp_path, FULL + RECS)
    again = stored_campaign(stored)
    assert again == spec
    assert again is not None and again.recommendations is not None
    assert again.recommendations.price_band == (10.0, 300.0)
    assert again.model_dump(mode="json", by_alias=True) == stored


def test_a_row_without_a_spec_has_none_and_a_broken_one_is_refused() -> None:
    assert stored_campaign({}) is None
    with pytest.raises(InputError, match=r"campaign 'Old' is not a campaign spec any more"):
        stored_campaign({"name": "Old", "catalog": "c.csv", "copy": {"channels": ["fax"]}})


def test_one_resolver_for_typed_and_stored_specs(tmp_path: Path) -> None:
    spec, stored = _stored(tmp_path, FULL)
    for campaign in (spec, stored):
        push = resolve_channel(campaign, "push")
        assert push is not None and (push.max_chars, push.count) == (12, "words")
        assert resolve_channel(campaign, "sms") == CHANNELS["sms"]
        assert resolve_channel(campaign, "fax") is None
    assert resolve_channel(None, "push") is None and resolve_channel({}, "sms") == CHANNELS["sms"]


def test_a_stored_brand_kit_is_read_typed_or_refused_with_its_reason():
    # The reviewer's edit reads only the brand kit of a row, which may be no whole campaign.
    assert stored_brand({}) is None
    assert stored_brand({"copy": {"channels": ["sms"]}}) is None
    kit = stored_brand({"brand": {"name": "Harbor & Pine", "short_names": {"p1": ["Thermos"]}}})
    assert kit is not None and kit.short_names == {"p1": ["Thermos"]}
    assert kit.style.emoji is True  # the defaults of a campaign file's brand kit
    with pytest.raises(InputError, match="stored brand kit of campaign 'c' is not a brand kit"):
        stored_brand({"name": "c", "brand": {"voice": "calm"}})  # no name
