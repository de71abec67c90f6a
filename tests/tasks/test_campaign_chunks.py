"""Copy chunks keep every product × channel group whole (SQLite and PostgreSQL), so variants
that must not repeat each other are always written by one ``write_copy`` call."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from db.models import Campaign, ContentKind, Job, Product
from db.session import transaction
from tasks.campaigns import queued_chunks

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
