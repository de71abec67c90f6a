"""A stored campaign's rows are what the campaign asks for, on SQLite and PostgreSQL: one
product per catalog row in catalog order, one copy job per product and slot with the params
(and their exact JSON text) built field by field from the request."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from contentfab.campaign import load_campaign
from contentfab.core.settings import Settings
from contentfab.db.models import ContentKind, Job, Product
from contentfab.tasks.campaigns import store_campaign, variant_seed

CATALOG = """\
id,title,description,category,price,currency,attributes
B-9,Bivvy Bag,,Camping,89.90,EUR,
T-1,Trailhead Tent 2P,Two doors.,Camping,249.00,USD,capacity=2;season=3-season
A-3,Alpine Mug,"Enamel,
steel rim.",,1000,usd,"{""color"": ""red"", ""n"": 2.5}"
"""

CAMPAIGN = """\
name: Store
catalog: catalog.csv
copy:
  channels: [search_headline, google_rsa]
  bundles: {google_rsa: {headlines: 3, descriptions: 2}}
  tones: [energetic, premium]
  variants: 2
  temperature: 0.7
"""


def test_rows_hold_the_catalog_and_one_job_per_product_and_slot(tmp_path: Path, sessions):
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")
    loaded = load_campaign(tmp_path / "campaign.yaml")
    settings = Settings()
    with sessions.begin() as session:
        campaign_id = store_campaign(session, loaded, settings).id

    with sessions() as session:
        products = session.scalars(
            select(Product).where(Product.campaign_id == campaign_id).order_by(Product.id)
        ).all()
        assert [(p.row, p.sku) for p in products] == [(2, "B-9"), (3, "T-1"), (4, "A-3")]
        mug = products[2]
        assert (mug.description, mug.category, mug.price, mug.currency) == (
            "Enamel,\nsteel rim.",
            None,
            Decimal("1000"),
            "USD",
        )
        assert mug.attributes == {"color": "red", "n": 2.5}
        assert products[0].attributes == {} and products[0].price == Decimal("89.90")
        assert products[1].attributes == {"capacity": 2, "season": "3-season"}

        jobs = session.scalars(
            select(Job).where(Job.campaign_id == campaign_id).order_by(Job.id)
        ).all()
        stored_text = dict(
            session.execute(
                text("SELECT id, CAST(params AS TEXT) FROM job WHERE campaign_id = :c"),
                {"c": campaign_id},
            ).all()
        )

    request = loaded.spec.copy_request
    assert request is not None
    expected = []
    for product in products:
        variants: dict[str, int] = {}
        for slot in request.slots():
            variant = variants[slot.channel] = variants.get(slot.channel, -1) + 1
            params = {
                "tone": slot.tone,
                "model": settings.copy_model,
                "seed": variant_seed(product.sku, slot.channel, slot.tone, variant),
                "temperature": 0.7,
                "top_p": request.top_p,
                "repetition_penalty": request.repetition_penalty,
                "max_new_tokens": request.max_new_tokens,
                "candidates": request.candidates,
            }
            if slot.bundle is not None:
                params["bundle"] = slot.bundle
            expected.append((product.id, slot.channel, variant, params))
    assert len(expected) == 3 * len(request.slots())
    assert [(j.product_id, j.channel, j.variant, j.params) for j in jobs] == expected
    assert {(j.kind, j.subject, j.status.value, j.attempts) for j in jobs} == {
        (ContentKind.COPY, None, "queued", 0)
    }
    # The JSON text is what json.dumps writes of the params, key order included.
    for job, (*_, params) in zip(jobs, expected, strict=True):
        assert json.loads(stored_text[job.id]) == params
        if sessions.kw["bind"].dialect.name == "sqlite":  # PostgreSQL's JSON keeps the text too
            assert stored_text[job.id] == json.dumps(params)
