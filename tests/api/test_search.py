"""Full-text search on copy through the API, on SQLite and PostgreSQL (db/review.py says how
they differ: PostgreSQL stems English words and ranks with ts_rank; SQLite matches words as
substrings and ranks by how often they occur)."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import text

from contentfab.db.models import Asset, Campaign, ContentKind, Job, JobStatus, Product
from contentfab.db.session import transaction
from tests.api.conftest import WRITE

TEXTS = {
    "run": "Made for the long run: the Trail Thermos keeps coffee hot.",
    "runs": "Trail runs start early. Trail mugs, trail snacks, trail coffee.",
    "running": "Running late? The Weekender packs in a minute.",
    "trail": "Hot coffee on every trail.",
    "other": "A gift card for the camper who has everything.",
}


def add_copy(sessions, campaign_id: int) -> dict[str, int]:
    ids: dict[str, Asset] = {}
    with transaction(sessions) as session:
        campaign = session.get(Campaign, campaign_id)
        product = session.query(Product).filter_by(campaign_id=campaign_id).first()
        for variant, (label, copy) in enumerate(TEXTS.items()):
            job = Job(
                campaign=campaign,
                product=product,
                kind=ContentKind.COPY,
                channel="social_post",
                variant=variant,
                params={},
                status=JobStatus.DONE,
            )
            asset = Asset(
                job=job,
                campaign_id=campaign_id,
                product=product,
                kind=ContentKind.COPY,
                channel="social_post",
                variant=variant,
                text=copy,
                sha256=hashlib.sha256(copy.encode()).hexdigest(),
                meta={},
            )
            session.add_all([job, asset])
            ids[label] = asset
        session.flush()
        return {label: asset.id for label, asset in ids.items()}


def search(client, campaign_id: int, q: str, **params) -> list[int]:
    response = client.get(
        "/api/assets",
        params={"campaign_id": campaign_id, "channel": "social_post", "q": q, **params},
    )
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["items"]]


def test_search_finds_ranks_and_pages(client, seeded, sessions, database_url):
    ids = add_copy(sessions, seeded.campaign_id)
    postgres = database_url.startswith("postgresql")

    # Stemming on PostgreSQL only: there "running" also finds "run" and "runs".
    expected = {"run", "runs", "running"} if postgres else {"running"}
    assert set(search(client, seeded.campaign_id, "running")) == {ids[k] for k in expected}
    # A shorter word finds the longer ones on both ("run" is a substring on SQLite, a stem on PG).
    assert {ids["run"], ids["runs"]} <= set(search(client, seeded.campaign_id, "run"))
    # Every word must match; case does not matter.
    assert set(search(client, seeded.campaign_id, "COFFEE hot")) == {ids["run"], ids["trail"]}
    assert search(client, seeded.campaign_id, "zeppelin") == []

    # Ranked: the text that says "trail" four times comes first, by default when q is given.
    ranked = search(client, seeded.campaign_id, "trail")
    assert set(ranked) == {ids["run"], ids["runs"], ids["trail"]}
    assert ranked[0] == ids["runs"]
    assert search(client, seeded.campaign_id, "trail", sort="id") == sorted(ranked)

    # Relevance pages with a cursor: every match once, in the same order as one page.
    paged: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 1, "sort": "relevance"} | ({"cursor": cursor} if cursor else {})
        page = client.get(
            "/api/assets",
            params={"campaign_id": seeded.campaign_id, "channel": "social_post", "q": "trail"}
            | params,
        ).json()
        paged += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    else:
        raise AssertionError(f"relevance pages never end: {paged}")
    assert paged == ranked

    # Relevance needs a query.
    response = client.get("/api/assets", params={"sort": "relevance"})
    assert response.status_code == 400 and "needs a text query" in response.json()["detail"]


def test_web_search_syntax_on_postgresql_and_the_index(client, seeded, sessions, database_url):
    ids = add_copy(sessions, seeded.campaign_id)
    if not database_url.startswith("postgresql"):
        # SQLite takes the words literally: quotes and minus signs are part of the words.
        assert search(client, seeded.campaign_id, "trail -coffee") == []
        return
    assert set(search(client, seeded.campaign_id, "trail -coffee")) == set()
    assert set(search(client, seeded.campaign_id, "trail -snacks")) == {ids["run"], ids["trail"]}
    assert search(client, seeded.campaign_id, '"gift card"') == [ids["other"]]
    assert set(search(client, seeded.campaign_id, "gift or weekender")) == {
        ids["other"],
        ids["running"],
    }
    # The planner can use the GIN index for the search expression.
    with sessions() as session:
        session.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            session.scalars(
                text(
                    "EXPLAIN SELECT id FROM asset WHERE to_tsvector('english', "
                    "coalesce(asset.text, '')) @@ websearch_to_tsquery('english', 'trail')"
                )
            )
        )
    assert "ix_asset_text_search" in plan


def test_the_gallery_and_bulk_approval_search_the_same_way(client, seeded, sessions, database_url):
    ids = add_copy(sessions, seeded.campaign_id)
    page = client.get(f"/campaigns/{seeded.campaign_id}", params={"q": "running"})
    assert page.status_code == 200
    shown = {int(i) for i in re.findall(r'data-id="(\d+)"', page.text)}
    postgres = database_url.startswith("postgresql")
    expected = {"run", "runs", "running"} if postgres else {"running"}
    assert shown == {ids[k] for k in expected}

    approved = client.post(
        "/api/assets/approve",
        json={"reviewer": "bo", "campaign_id": seeded.campaign_id, "q": "gift card"},
        headers=WRITE,
    )
    assert approved.json() == {"approved": 1}
    assert client.get(f"/api/assets/{ids['other']}").json()["status"] == "approved"
