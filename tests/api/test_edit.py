"""Editing copy against its channel's limits, counted the way the channel counts, and against
the gates generated copy passed (facts, claims, brand kit, product name, near-duplicates), on
SQLite and PostgreSQL: the endpoints the gallery's editor uses, the 422 an edit gets, and a
forced edit with its recorded override."""

from __future__ import annotations

from sqlalchemy import select

from contentfab.db.models import Asset, AssetReview, Campaign
from contentfab.db.session import transaction
from tests.api.conftest import WRITE

INVENTED_PRICE = "Trail Thermos, now $9.99"  # the catalog says 49.90 USD
VALID = "Trail Thermos for the Outdoors"  # every word from the product data or lexicon


def test_the_fit_endpoint_counts_like_the_channel(client):
    sms = client.get("/api/channels/sms/fit", params={"text": "Summer sale {20%} off"}).json()
    # GSM-7: braces are extension characters and take two septets each.
    assert (sms["length"], sms["limit"], sms["encoding"], sms["fits"]) == (23, 160, "gsm7", True)
    emoji = client.get("/api/channels/sms/fit", params={"text": "x" * 69 + "🙂"}).json()
    assert (emoji["length"], emoji["limit"], emoji["encoding"]) == (71, 70, "ucs2")
    assert not emoji["fits"] and "70-character SMS" in emoji["problem"]
    wide = client.get("/api/channels/search_headline/fit", params={"text": "保温" * 8}).json()
    assert (wide["length"], wide["limit"], wide["fits"]) == (32, 30, False)
    assert client.get("/api/channels/fax/fit", params={"text": "x"}).status_code == 404


def test_an_edit_must_fit_its_channel(client, seeded):
    asset_id = seeded.copy_ids[0]  # a search headline, at most 30
    before = client.get(f"/api/assets/{asset_id}").json()["text"]
    too_long = client.put(
        f"/api/assets/{asset_id}/text",
        json={"reviewer": "sam", "text": "A headline that runs well past thirty"},
        headers=WRITE,
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == (
        "Search ad headline allows 30 characters as it counts them; this is 37"
    )
    two_lines = client.put(
        f"/api/assets/{asset_id}/text",
        json={"reviewer": "sam", "text": "Line one\nline two"},
        headers=WRITE,
    )
    assert two_lines.status_code == 422 and "must be one line" in two_lines.json()["detail"]
    assert client.get(f"/api/assets/{asset_id}").json()["text"] == before  # nothing changed

    edited = client.put(
        f"/api/assets/{asset_id}/text",
        json={"reviewer": "sam", "text": VALID},
        headers=WRITE,
    ).json()
    assert (edited["text"], edited["original_text"], edited["edited_by"]) == (VALID, before, "sam")


def _state(sessions, asset_id):
    """Everything an edit may change: the asset's text, status, meta and its review rows."""
    with sessions() as session:
        asset = session.get_one(Asset, asset_id)
        reviews = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id))
        return (
            asset.text,
            asset.sha256,
            asset.status,
            asset.original_text,
            asset.meta,
            [(r.action, r.text_after) for r in reviews],
        )


def _put(client, asset_id, text, **extra):
    return client.put(
        f"/api/assets/{asset_id}/text",
        json={"reviewer": "sam", "text": text, **extra},
        headers=WRITE,
    )


def test_an_invented_price_is_refused_naming_the_gate(client, seeded, sessions):
    asset_id = seeded.copy_ids[0]  # Trail Thermos 750 ml, 49.90 USD, a search headline
    before = _state(sessions, asset_id)
    refused = _put(client, asset_id, INVENTED_PRICE)
    assert refused.status_code == 422
    body = refused.json()
    assert body["gates"] == [{"gate": "fact", "why": "not in the product data: $9.99"}]
    assert "fact: not in the product data: $9.99" in body["detail"]
    assert _state(sessions, asset_id) == before  # nothing changed, nothing recorded
    # The editor's live check says the same and stores nothing.
    live = client.get(f"/api/assets/{asset_id}/gates", params={"text": INVENTED_PRICE}).json()
    assert (live["passed"], live["failures"]) == (False, body["gates"])
    assert "fact" in live["checked"] and "truncated" not in live["checked"]
    assert _state(sessions, asset_id) == before


def test_a_forced_edit_records_the_override(client, seeded, sessions):
    asset_id = seeded.copy_ids[0]
    before = _state(sessions, asset_id)
    no_reason = _put(client, asset_id, INVENTED_PRICE, force=True)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    assert _state(sessions, asset_id) == before
    forced = _put(client, asset_id, INVENTED_PRICE, force=True, reason="agreed flash price")
    assert forced.status_code == 200, forced.text
    assert forced.json()["text"] == INVENTED_PRICE
    with sessions() as session:
        asset = session.get_one(Asset, asset_id)
        review = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id)).one()
    failure = "fact: not in the product data: $9.99"
    assert (review.action, review.actor, review.reason, review.overridden_gates) == (
        "edit",
        "sam",
        "agreed flash price",
        [failure],
    )
    # The asset never claims a gate it did not pass.
    assert "fact" not in asset.meta["gates_passed"] and "claim" in asset.meta["gates_passed"]
    assert asset.meta["gates_overridden"] == {
        "failures": [failure],
        "by": "sam",
        "reason": "agreed flash price",
    }
    assert asset.meta["model"]["name"]  # the generation provenance stays
    history = client.get(f"/api/assets/{asset_id}").json()["reviews"]
    assert history[-1]["overridden_gates"] == [failure]

    # A later edit that passes every gate drops the override from the asset's meta.
    assert _put(client, asset_id, VALID).status_code == 200
    with sessions() as session:
        asset = session.get_one(Asset, asset_id)
        reviews = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id))
        assert "gates_overridden" not in asset.meta and "fact" in asset.meta["gates_passed"]
        assert [(r.reason, r.overridden_gates) for r in reviews][-1] == (None, None)


def test_a_forced_edit_never_breaks_the_channel_limit(client, seeded, sessions):
    asset_id = seeded.copy_ids[0]
    before = _state(sessions, asset_id)
    over = _put(client, asset_id, "Trail Thermos " + "x" * 30, force=True, reason="please")
    assert over.status_code == 422 and "Search ad headline allows 30" in over.json()["detail"]
    assert _state(sessions, asset_id) == before


def test_the_brand_kit_and_the_other_variants_are_gates(client, seeded, sessions):
    with transaction(sessions) as session:
        campaign = session.get_one(Campaign, seeded.campaign_id)
        campaign.spec = {
            "brand": {
                "name": "Harbor & Pine",
                "banned_terms": ["cheap"],
                "claims": ["free shipping"],
            },
        }
    asset_id = seeded.copy_ids[1]  # "Shop the Thermos"; its sibling: "Thermos for Every Trip"
    before = _state(sessions, asset_id)
    banned = _put(client, asset_id, "Cheap Trail Thermos")
    assert banned.status_code == 422
    assert banned.json()["gates"] == [
        {"gate": "grounding", "why": "not in the product data, brand kit or lexicon: Cheap"},
        {"gate": "banned_term", "why": "cheap"},
    ]
    twin = _put(client, asset_id, "Trail Thermos for Every Trip")
    assert twin.status_code == 422
    assert [g["gate"] for g in twin.json()["gates"]] == ["grounding", "duplicate"]
    guaranteed = _put(client, asset_id, "Trail Thermos, Guaranteed Hot")
    assert [g["gate"] for g in guaranteed.json()["gates"]] == ["grounding", "claim"]
    # Every reviewer edit is held to the product's words like generated copy (issue #15).
    invented = _put(client, asset_id, "Trail Thermos from Bordeaux")
    assert invented.json()["gates"] == [
        {"gate": "grounding", "why": "not in the product data, brand kit or lexicon: Bordeaux"}
    ]
    assert _state(sessions, asset_id) == before
    # A claim the brand kit stands behind passes.
    ok = _put(client, asset_id, "Trail Thermos: Free Shipping")
    assert ok.status_code == 200, ok.text


def test_a_campaign_channel_sets_the_limits_and_gates_of_an_edit(client, seeded, sessions):
    """Copy for one of the campaign's own channels is checked as that channel defines it, and
    the live count knows the channel when told the campaign."""
    asset_id = seeded.copy_ids[0]
    with transaction(sessions) as session:
        campaign = session.get_one(Campaign, seeded.campaign_id)
        campaign.spec = {
            "copy": {"custom_channels": {"push_title": {"max": 24, "requires_name": True}}}
        }
        session.get_one(Asset, asset_id).channel = "push_title"
    before = _state(sessions, asset_id)
    over = _put(client, asset_id, "Trail Thermos, hot all day")  # 26 characters
    assert over.status_code == 422
    assert over.json()["detail"] == "Push title allows 24 characters as it counts them; this is 26"
    live = client.get(
        f"/api/assets/{asset_id}/gates", params={"text": "Trail Thermos, hot all day"}
    )
    assert (live.status_code, live.json()["passed"]) == (200, False)
    assert live.json()["problem"] == over.json()["detail"]
    unnamed = _put(client, asset_id, "Hot coffee, every trail")  # names no product
    assert [g["gate"] for g in unnamed.json()["gates"]] == ["product_name", "grounding"]
    assert _state(sessions, asset_id) == before
    assert _put(client, asset_id, "Trail Thermos, all day").status_code == 200
    fit = client.get(
        "/api/channels/push_title/fit",
        params={"text": "Trail Thermos, hot all day", "campaign": seeded.campaign_id},
    )
    assert fit.status_code == 200, fit.text
    assert (fit.json()["limit"], fit.json()["length"], fit.json()["fits"]) == (24, 26, False)
    assert fit.json()["problem"] == over.json()["detail"]
    assert client.get("/api/channels/push_title/fit", params={"text": "x"}).status_code == 404
    missing = client.get("/api/channels/push_title/fit", params={"text": "x", "campaign": 99999})
    assert missing.status_code == 404
