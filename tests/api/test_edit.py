"""Editing copy against its channel's limits, counted the way the channel counts, on SQLite and
PostgreSQL: the measuring endpoint the gallery's editor uses, and the 422 an edit gets."""

from __future__ import annotations

from tests.api.conftest import WRITE


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
        json={"reviewer": "sam", "text": "Go further"},
        headers=WRITE,
    ).json()
    assert (edited["text"], edited["original_text"], edited["edited_by"]) == (
        "Go further",
        before,
        "sam",
    )
