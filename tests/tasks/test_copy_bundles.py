"""Bundles, custom channels and the brand kit from campaign file to job rows, copy slots and the
Google Ads Editor export, on SQLite and PostgreSQL (the copy itself: tests/workers)."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from sqlalchemy import select

from contentfab.campaign import load_campaign
from contentfab.campaign.spec import stored_campaign
from contentfab.core.settings import Settings
from contentfab.db import jobs as job_rows
from contentfab.db.models import Asset, Job
from contentfab.services.delivery import write_google_ads_rsa
from contentfab.tasks.campaigns import store_campaign
from contentfab.tasks.copy import _delivered, _slot

CATALOG = """\
id,title,description,category,price,currency,attributes
T-1,Trailhead Tent 2P,Two doors. Packs to 2.1 kg.,Camping,249.00,USD,capacity=2
T-2,Alpine Bag,,Camping,,,
"""

CAMPAIGN = """\
name: Bundles
catalog: catalog.csv
brand:
  name: Northwind
  banned_terms: [cheap]
  claims: [free shipping]
  short_names: {T-1: [Trailhead Tent]}
  style: {emoji: false, title_case_headlines: true}
copy:
  custom_channels:
    store_banner: {max: 40, requires_name: true}
  channels: [search_headline, google_rsa, store_banner]
  bundles: {google_rsa: {headlines: 4, descriptions: 2}}
  tones: [energetic, premium]
"""


def _store(tmp_path: Path, sessions) -> int:
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")
    loaded = load_campaign(tmp_path / "campaign.yaml")
    with sessions.begin() as session:
        return store_campaign(session, loaded, Settings()).id


def test_bundles_expand_to_one_job_per_field_slot(tmp_path, sessions):
    campaign_id = _store(tmp_path, sessions)
    with sessions() as session:
        jobs = session.scalars(
            select(Job).where(Job.campaign_id == campaign_id).order_by(Job.id)
        ).all()
        tent = [j for j in jobs if j.product.sku == "T-1"]
        # per tone: 1 plain headline + 4 RSA headlines + 2 RSA descriptions + 1 banner
        assert len(jobs) == 2 * len(tent) == 2 * 2 * 8
        headlines = [j for j in tent if j.channel == "search_headline"]
        # plain and bundled headlines share the channel, so variants keep counting
        assert [j.variant for j in headlines] == list(range(10))
        assert [j.params.get("bundle") for j in headlines[1:3]] == [
            None,  # the plain headline, second tone
            {"name": "google_rsa", "ad": 0, "field": "headlines", "index": 0},
        ]
        ads = {(j.params["bundle"]["ad"], j.params["tone"]) for j in tent if "bundle" in j.params}
        assert ads == {(0, "energetic"), (1, "premium")}
        banner = next(j for j in tent if j.channel == "store_banner")

        campaign = stored_campaign(banner.campaign.spec)  # as a chunk reads it at its claim
        slot = _slot(banner, campaign)
        assert slot.spec.max_chars == 40 and slot.spec.requires_name
        assert slot.brand.banned_terms == ("cheap",) and slot.brand.claims == ("free shipping",)
        assert slot.brand.emoji is False and slot.brand.title_case_headlines is True
        assert slot.product.short_names == ("Trailhead Tent",)
        assert slot.product.price == "249" and slot.product.currency == "USD"
        assert _slot(headlines[0], campaign).spec.name == "search_headline"


def test_delivered_copy_of_the_group_reaches_the_next_chunk(tmp_path, sessions):
    campaign_id = _store(tmp_path, sessions)
    with sessions.begin() as session:
        jobs = session.scalars(
            select(Job).where(Job.campaign_id == campaign_id, Job.channel == "search_headline")
        ).all()
        first, rest = jobs[0], jobs[1:]
        _complete(session, first, "Trailhead Tent For Two", {})
    with sessions() as session:
        rest = [session.get(Job, j.id) for j in rest]
        delivered = _delivered(session, rest)
        same_product = next(j for j in rest if j.product_id == first.product_id)
        other_product = next(j for j in rest if j.product_id != first.product_id)
        spec = stored_campaign(same_product.campaign.spec)
        assert _slot(same_product, spec, delivered).delivered == ("Trailhead Tent For Two",)
        assert _slot(other_product, spec, delivered).delivered == ()


def _complete(session, job: Job, text: str, meta: dict) -> None:
    job_rows.complete_job(
        session,
        job,
        text=text,
        uri=None,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        meta=meta,
    )


def test_google_ads_export_makes_one_row_per_bundled_ad(tmp_path, sessions):
    campaign_id = _store(tmp_path, sessions)
    with sessions.begin() as session:
        jobs = session.scalars(select(Job).where(Job.campaign_id == campaign_id)).all()
        for job in jobs:
            bundle = job.params.get("bundle")
            if job.product.sku != "T-1" or bundle is None:
                continue
            if (bundle["ad"], bundle["field"], bundle["index"]) == (1, "descriptions", 1):
                continue  # ad 1 is one description short
            text = f"{bundle['field'][:4]} {bundle['ad']}.{bundle['index']}"
            if (bundle["ad"], bundle["index"]) == (0, 2) and bundle["field"] == "headlines":
                text = '=HYPERLINK("http://evil")'
            _complete(session, job, text, {"bundle": bundle})
    with sessions() as session:
        assets = session.scalars(
            select(Asset).where(Asset.campaign_id == campaign_id).order_by(Asset.id.desc())
        ).all()
        out = io.StringIO()
        skipped = write_google_ads_rsa(assets, out, campaign_name="Bundles")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert skipped == ["T-1#1"]
    assert len(rows) == 1
    row = rows[0]
    assert row["Ad group"] == "Trailhead Tent 2P"
    # slot order, whatever order the assets come in; formulas defused
    assert [row[f"Headline {i}"] for i in range(1, 6)] == [
        "head 0.0",
        "head 0.1",
        '\'=HYPERLINK("http://evil")',
        "head 0.3",
        "",
    ]
    assert [row["Description 1"], row["Description 2"], row["Description 3"]] == [
        "desc 0.0",
        "desc 0.1",
        "",
    ]
