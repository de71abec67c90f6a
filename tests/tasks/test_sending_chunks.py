"""Copy chunks keep every product × channel group whole (SQLite and PostgreSQL), so variants
that must not repeat each other are always written by one ``write_copy`` call."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from contentfab.db.models import Campaign, ContentKind, Job, Product
from contentfab.db.session import transaction
from contentfab.tasks.sending import chunk_jobs, queued_chunks

CHANNELS = ("email_subject", "search_headline")


def _campaign(sessions, *, products: int, variants: int) -> tuple[int, dict[int, tuple]]:
    """A campaign of queued copy jobs; returns its id and each job's (product, channel)."""
    with transaction(sessions) as session:
        campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
        session.add(campaign)
        jobs = []
        for i in range(products):
            product = Product(
                campaign=campaign, row=i + 2, sku=f"sku-{i}", title=f"Product {i}",
                price=Decimal("9.5"), currency="EUR", attributes={},
            )  # fmt: skip
            for channel in CHANNELS:
                for v in range(variants):
                    job = Job(
                        campaign=campaign, product=product, kind=ContentKind.COPY,
                        channel=channel, variant=v, params={"tone": "neutral"},
                    )  # fmt: skip
                    jobs.append(job)
        session.add_all(jobs)
        session.flush()
        return campaign.id, {job.id: (job.product_id, job.channel) for job in jobs}


def _groups_split(chunks: list[list[int]], group_of: dict[int, tuple]) -> set[tuple]:
    chunks_of: dict[tuple, set[int]] = defaultdict(set)
    for n, ids in enumerate(chunks):
        for job_id in ids:
            chunks_of[group_of[job_id]].add(n)
    return {group for group, where in chunks_of.items() if len(where) > 1}


def test_copy_chunks_never_split_a_product_channel_group(sessions):
    campaign_id, group_of = _campaign(sessions, products=3, variants=3)
    with sessions() as session:
        chunks = queued_chunks(session, campaign_id, chunk_size=4)
        packed = queued_chunks(session, campaign_id, chunk_size=6)
    # Cut in plain slices of 4 in the same order, groups of 3 straddle chunk boundaries.
    ordered = sorted(group_of, key=lambda i: (group_of[i][1], group_of[i][0], i))
    sliced = [ordered[i : i + 4] for i in range(0, len(ordered), 4)]
    assert _groups_split(sliced, group_of)

    ids = [ids for kind, ids in chunks]
    assert {kind for kind, _ in chunks} == {ContentKind.COPY}
    assert sorted(i for chunk in ids for i in chunk) == sorted(group_of)  # each job once
    assert _groups_split(ids, group_of) == set()
    assert [len(chunk) for chunk in ids] == [3] * 6  # 3 + 3 would exceed 4
    # Whole groups are packed together up to the chunk size.
    assert [len(chunk) for _, chunk in packed] == [6] * 3
    assert _groups_split([chunk for _, chunk in packed], group_of) == set()


def test_a_group_larger_than_a_chunk_stays_whole(sessions):
    campaign_id, group_of = _campaign(sessions, products=2, variants=5)
    with sessions() as session:
        chunks = [ids for _, ids in queued_chunks(session, campaign_id, chunk_size=4)]
    assert [len(chunk) for chunk in chunks] == [5] * 4
    assert _groups_split(chunks, group_of) == set()


def test_other_kinds_are_cut_from_ids_in_the_order_of_chunk_jobs(sessions):
    """Recommendation and image jobs are chunked from SQL-ordered IDs (no rows read): the
    chunks must be the ones chunk_jobs cuts from the rows, whatever order jobs were stored in."""
    with transaction(sessions) as session:
        campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
        session.add(campaign)
        session.add_all(
            Product(campaign=campaign, row=i + 2, sku=f"sku-{i}", title=f"P{i}", attributes={})
            for i in range(4)
        )
        session.flush()
        campaign_id = campaign.id
        product_ids = [p.id for p in campaign.products]
    slots = [
        (ContentKind.IMAGE, product, fmt, v, None)
        for product in product_ids
        for fmt in ("story", "Square", "banner")  # Python and SQL collations order these apart
        for v in range(2)
    ]
    slots += [
        (ContentKind.RECOMMENDATION, None, channel, 0, f"{channel}-{i}")
        for channel in ("user", "segment")
        for i in range(7)
    ]
    slots += [
        (ContentKind.COPY, product, channel, v, None)
        for product in product_ids
        for channel in ("email_subject", "SMS", "ad_headline")
        for v in range(2)
    ]
    random.Random(4).shuffle(slots)
    with transaction(sessions) as session:
        for kind, product, channel, variant, subject in slots:  # IDs in the shuffled order
            session.add(
                Job(campaign_id=campaign_id, product_id=product, kind=kind, channel=channel,
                    variant=variant, subject=subject)
            )  # fmt: skip
            session.flush()
    with sessions() as session:
        rows = session.execute(
            select(Job.id, Job.kind, Job.product_id, Job.channel, Job.variant)
        ).all()
        for size, recs_size in ((4, None), (5, 3), (100, 100)):
            expected = chunk_jobs(rows, size, recs_size)
            assert queued_chunks(session, campaign_id, size, recs_size) == expected
    assert {kind for kind, _ in expected} == set(ContentKind)
