"""Recommendation slots: one per (campaign, kind, channel, subject), written once, in bulk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contentfab.db.models import Asset, Campaign, ContentKind, Job, JobStatus, Product
from contentfab.db.session import transaction


def _recs_campaign(session, users=("u1", "u2")) -> Campaign:
    campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
    session.add(campaign)
    for user in users:
        session.add(
            Job(
                campaign=campaign,
                kind=ContentKind.RECOMMENDATION,
                channel="user",
                variant=0,
                subject=user,
            )
        )
    session.flush()
    return campaign


def test_a_subject_holds_one_job(sessions):
    with transaction(sessions) as session:
        campaign_id = _recs_campaign(session).id
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(
            Job(
                campaign_id=campaign_id,
                kind=ContentKind.RECOMMENDATION,
                channel="user",
                variant=0,
                subject="u1",
            )
        )


def _rows_claim(sessions, ids, **kw):
    from contentfab.db.bulk import claim_rows

    with transaction(sessions) as session:
        return claim_rows(session, ids, worker="w:1", max_deliveries=3, **kw)


def test_claiming_rows_follows_the_rules_of_claim_jobs(sessions):
    with transaction(sessions) as session:
        campaign = _recs_campaign(session, users=("done", "queued", "lost", "lost-twice"))
        by_subject = {job.subject: job for job in campaign.jobs}
        by_subject["done"].status = JobStatus.DONE
        by_subject["lost"].status = JobStatus.RUNNING
        by_subject["lost-twice"].status = JobStatus.RUNNING
        by_subject["lost-twice"].deliveries = 2
        ids = {subject: job.id for subject, job in by_subject.items()}
    claim = _rows_claim(sessions, list(ids.values()))
    assert [job.subject for job in claim.ready] == ["queued", "lost"]
    assert [job.subject for job in claim.given_up] == ["lost-twice"]
    assert claim.already_finished == 1
    with sessions() as session:
        rows = {job.subject: job for job in session.scalars(select(Job))}
    assert rows["queued"].status == JobStatus.RUNNING and rows["queued"].attempts == 1
    assert rows["queued"].worker == "w:1" and rows["queued"].started_at is not None
    assert rows["lost"].deliveries == 1 and rows["lost"].status == JobStatus.RUNNING
    assert rows["lost-twice"].status == JobStatus.FAILED
    assert "3 lost deliveries" in rows["lost-twice"].last_error
    assert rows["done"].attempts == 0
    # A task's own retry after a transient error is no lost delivery.
    again = _rows_claim(sessions, [ids["queued"]], count_lost=False)
    assert [job.subject for job in again.ready] == ["queued"]
    with sessions() as session:
        job = session.get(Job, ids["queued"])
        assert job.deliveries == 0 and job.attempts == 2


def test_completing_rows_writes_each_slot_once(sessions):
    from contentfab.db.bulk import complete_rows

    with transaction(sessions) as session:
        campaign_id = _recs_campaign(session, users=("u1", "u2", "u3")).id
    claim = _rows_claim(sessions, [1, 2, 3])
    first, rest = claim.ready[:1], claim.ready[1:]
    with transaction(sessions) as session:  # an earlier delivery stored u1's list and died
        complete_rows(session, campaign_id, ContentKind.RECOMMENDATION, [
            (job, '["a"]', "a" * 64, {"items": ["a"]}) for job in first
        ])  # fmt: skip
    with transaction(sessions) as session:
        complete_rows(session, campaign_id, ContentKind.RECOMMENDATION, [
            (job, '["b"]', "b" * 64, {"items": ["b"]}) for job in first + rest
        ])  # fmt: skip
    with sessions() as session:
        assets = {a.subject: a for a in session.scalars(select(Asset))}
        assert {s: a.text for s, a in assets.items()} == {
            "u1": '["a"]',
            "u2": '["b"]',
            "u3": '["b"]',
        }
        assert assets["u2"].meta == {"items": ["b"]} and assets["u2"].created_at is not None
        assert all(a.kind == ContentKind.RECOMMENDATION for a in assets.values())
        assert set(session.scalars(select(Job.status))) == {JobStatus.DONE}


def test_rows_are_loaded_through_the_driver(sessions):
    from typing import cast

    from sqlalchemy import Table

    from contentfab.db.bulk import copy_rows
    from contentfab.db.models import Interaction

    with transaction(sessions) as session:
        campaign = _recs_campaign(session)
        product = Product(campaign=campaign, row=2, sku="p1", title="P", attributes={})
        session.add(product)
        session.flush()
        events = [("u1", product.id, "view", 1.5e9 + i, 1.0 + i) for i in range(2500)]
        copy_rows(
            session,
            cast(Table, Interaction.__table__),
            ("campaign_id", "user_id", "product_id", "event", "occurred_at", "weight"),
            ((campaign.id, *event) for event in events),
        )
        with pytest.raises(ValueError, match="no column"):
            copy_rows(session, cast(Table, Interaction.__table__), ("nope",), [])
    with sessions() as session:
        stored = session.execute(
            select(
                Interaction.user_id,
                Interaction.product_id,
                Interaction.event,
                Interaction.occurred_at,
                Interaction.weight,
            ).order_by(Interaction.id)
        ).all()
    assert [tuple(row) for row in stored] == events


def test_rows_inserted_through_the_driver_read_back_like_orm_rows(sessions):
    """insert_rows converts values as a Core insert would (enums, JSON, decimals, times) and
    fills the columns left out with their defaults."""
    from contentfab.db.bulk import insert_rows

    product = {
        "title": "Tent ☂",
        "description": "",
        "category": None,
        "price": Decimal("249.5"),
        "currency": "EUR",
        "attributes": {"in_stock": False, "size": "2P"},
        "image_path": None,
    }
    job = {
        "kind": ContentKind.RECOMMENDATION,
        "channel": "user",
        "variant": 0,
        "params": {"segment": "s"},
    }
    with transaction(sessions) as session:
        campaign = _recs_campaign(session, users=())
        session.add(Product(campaign=campaign, row=2, sku="orm", **product))
        session.add(Job(campaign=campaign, subject="orm", **job))
        session.flush()
        insert_rows(
            session, Product, [{"campaign_id": campaign.id, "row": 3, "sku": "core", **product}]
        )
        insert_rows(session, Job, [{"campaign_id": campaign.id, "subject": "core", **job}])

    def columns(row, skip=("id", "row", "sku", "subject", "created_at")):
        return {c.key: getattr(row, c.key) for c in row.__table__.c if c.key not in skip}

    with sessions() as session:
        products = {p.sku: p for p in session.scalars(select(Product))}
        jobs = {j.subject: j for j in session.scalars(select(Job))}
    assert columns(products["core"]) == columns(products["orm"])
    assert products["core"].price == Decimal("249.5")
    assert columns(jobs["core"]) == columns(jobs["orm"])
    assert jobs["core"].status == JobStatus.QUEUED and jobs["core"].attempts == 0
    created = [j.created_at.replace(tzinfo=None) for j in jobs.values()]
    assert abs(created[0] - created[1]) < timedelta(minutes=5)  # the same clock and zone


def test_values_shared_by_every_row_are_stored_in_every_row(sessions):
    """A column whose rows hold one object is converted once and, on SQLite, written into the
    statement as a literal (text with a quote, NULL, an integer) or bound (a Decimal); rows
    that are all one object still each make a row."""
    from contentfab.db.bulk import insert_rows

    shared = {
        "title": "O'Neill's \"Tent\" ☂",
        "description": "",
        "category": None,
        "price": Decimal("249.50"),
        "currency": "EUR",
        "attributes": {"size": "2P"},
        "image_path": None,
    }
    with transaction(sessions) as session:
        campaign = _recs_campaign(session, users=())
        insert_rows(
            session,
            Product,
            [
                {"campaign_id": campaign.id, "row": row, "sku": f"s{row}", **shared}
                for row in (2, 3)
            ],
        )
        jobs = [{"campaign_id": campaign.id, "kind": ContentKind.COPY, "channel": "sms",
                 "variant": 0, "subject": None, "params": {}}] * 3  # fmt: skip
        insert_rows(session, Job, jobs)  # one dict three times: every column is shared

    with sessions() as session:
        products = session.scalars(select(Product).order_by(Product.row)).all()
        stored_jobs = session.scalars(select(Job)).all()
    assert [p.sku for p in products] == ["s2", "s3"]
    for product in products:
        assert {key: getattr(product, key) for key in shared} == shared
        assert str(product.price) == "249.5000"
    assert len(stored_jobs) == 3
    assert [(j.kind, j.status, j.attempts, j.params, j.subject) for j in stored_jobs] == [
        (ContentKind.COPY, JobStatus.QUEUED, 0, {}, None)
    ] * 3


def test_a_slot_taken_by_a_concurrent_delivery_keeps_its_asset(sessions):
    """The bulk insert fails on a slot another delivery filled after the check for existing
    assets (here: an asset already holding u2's subject under another job); the other slots
    are stored one by one and the job is done."""
    from contentfab.db.bulk import complete_rows

    with transaction(sessions) as session:
        campaign = _recs_campaign(session, users=("u1", "u2", "u3"))
        other = Job(campaign=campaign, kind=ContentKind.RECOMMENDATION, channel="segment",
                    variant=0, subject="elsewhere")  # fmt: skip
        session.add(other)
        session.flush()
        session.add(Asset(job_id=other.id, campaign_id=campaign.id, subject="u2",
                          kind=ContentKind.RECOMMENDATION, channel="user", variant=0,
                          text='["won"]', sha256="w" * 64))  # fmt: skip
        campaign_id = campaign.id
    claim = _rows_claim(sessions, [1, 2, 3])
    with transaction(sessions) as session:
        complete_rows(session, campaign_id, ContentKind.RECOMMENDATION, [
            (job, '["b"]', "b" * 64, {"items": ["b"]}) for job in claim.ready
        ])  # fmt: skip
    with sessions() as session:
        texts = {a.subject: a.text for a in session.scalars(select(Asset))}
        statuses = {j.subject: j.status for j in session.scalars(select(Job))}
    assert texts == {"u1": '["b"]', "u2": '["won"]', "u3": '["b"]'}
    assert statuses["u1"] == statuses["u2"] == statuses["u3"] == JobStatus.DONE


def test_id_ranges_match_exactly_the_ids_of_an_in_list(sessions):
    """`id_in` (BETWEEN for runs of consecutive IDs) selects what `IN (...)` selects."""
    import random

    from sqlalchemy import Column, Integer, MetaData, Table, insert

    from contentfab.db.bulk import _MAX_RANGES, id_in

    probe = Table("id_probe", MetaData(), Column("id", Integer, primary_key=True))
    engine = sessions.kw["bind"]
    probe.create(engine)
    try:
        with engine.begin() as connection:
            connection.execute(insert(probe), [{"id": i} for i in range(1, 3001)])
        rng = random.Random(3)
        cases = [
            [],
            [5],
            list(range(1, 3001)),  # one chunk of consecutive jobs: one BETWEEN
            list(range(10, 20)) + list(range(21, 24)) + [2999, 3000, 4000],  # runs and strays
            [i for i in range(1, 3001) if i % 11],  # 273 runs of 10: more than _MAX_RANGES
            [7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 99999],  # duplicates, an unknown ID
        ]
        cases += [rng.sample(range(1, 3100), rng.randint(1, 2000)) for _ in range(20)]
        cases += [sorted(rng.sample(range(1, 3100), 2500)) for _ in range(5)]
        with engine.connect() as connection:
            for ids in cases:
                wanted = set(connection.scalars(select(probe.c.id).where(probe.c.id.in_(ids))))
                got = list(connection.scalars(select(probe.c.id).where(id_in(probe.c.id, ids))))
                assert sorted(got) == sorted(wanted), ids[:20]
        condition = id_in(probe.c.id, range(1, 3001))
        assert "BETWEEN" in str(condition) and "IN" not in str(condition)
        assert (
            str(id_in(probe.c.id, [i for i in range(1, 3001) if i % 11])).count("BETWEEN")
            == _MAX_RANGES
        )
    finally:
        probe.drop(engine)


def test_progress_counts_jobs_by_status_as_the_summary_does(sessions):
    from contentfab.db.models import utcnow
    from contentfab.db.queries import campaign_progress, campaign_summary

    with transaction(sessions) as session:
        campaign = _recs_campaign(session, users=("a", "b", "c", "d", "e"))
        statuses = [JobStatus.DONE, JobStatus.DONE, JobStatus.FAILED, JobStatus.RUNNING]
        for job, status in zip(campaign.jobs, statuses, strict=False):
            job.status = status
        other = _recs_campaign(session, users=("x",))  # another campaign's job is not counted
        campaign_id, other_id = campaign.id, other.id
    with sessions() as session:
        progress = campaign_progress(session, campaign_id)
        summary = campaign_summary(session, session.get(Campaign, campaign_id))
        assert progress.jobs == {"done": 2, "failed": 1, "running": 1, "queued": 1}
        assert progress.total_jobs == summary.total_jobs == 5
        for status in ("done", "failed", "running", "queued"):
            assert progress.count_status(status) == summary.count_status(status)
        assert not progress.finished
        assert campaign_progress(session, other_id).jobs == {"queued": 1}
    with transaction(sessions) as session:
        session.get(Campaign, campaign_id).finished_at = utcnow()
    with sessions() as session:
        assert campaign_progress(session, campaign_id).finished
        assert campaign_progress(session, other_id + 1000) is None
