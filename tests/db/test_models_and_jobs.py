"""Database behaviour on SQLite and PostgreSQL: migrations, idempotent slots, completion."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contentfab.db import jobs
from contentfab.db.models import (
    Asset,
    Base,
    Campaign,
    CampaignStatus,
    ContentKind,
    Job,
    JobStatus,
    Product,
)
from contentfab.db.session import transaction


def _campaign(session, n_products: int = 2, variants: int = 2) -> Campaign:
    campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
    session.add(campaign)
    for i in range(n_products):
        product = Product(
            campaign=campaign,
            row=i + 2,
            sku=f"sku-{i}",
            title=f"Product {i}",
            price=Decimal("19.99"),
            currency="EUR",
            attributes={"color": "red"},
        )
        session.add(product)
        for v in range(variants):
            session.add(
                Job(
                    campaign=campaign,
                    product=product,
                    kind=ContentKind.COPY,
                    channel="email_subject",
                    variant=v,
                    params={"tone": "neutral"},
                )
            )
    session.flush()
    return campaign


def test_migrations_match_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from contentfab.db.session import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_slot_holds_one_job_and_one_asset(sessions):
    with transaction(sessions) as session:
        job = _campaign(session, n_products=1, variants=1).jobs[0]
        slot = {
            "campaign_id": job.campaign_id,
            "product_id": job.product_id,
            "kind": ContentKind.COPY,
            "channel": "email_subject",
            "variant": 0,
        }
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(Job(**slot))
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add_all(
            [
                Asset(job_id=job.id, sha256="c" * 64, **slot),
                Asset(job_id=job.id, sha256="d" * 64, **slot),
            ]
        )


def test_completing_a_job_twice_keeps_one_asset(sessions):
    with transaction(sessions) as session:
        campaign = _campaign(session, n_products=1, variants=1)
        job_id, campaign_id = campaign.jobs[0].id, campaign.id
    for text in ("first delivery", "redelivered"):
        with transaction(sessions) as session:
            job = session.get(Job, job_id)
            job.status = JobStatus.RUNNING  # a delivery that died after writing its asset
            jobs.complete_job(session, job, text=text, uri=None, sha256="a" * 64, meta={})
    with sessions() as session:
        rows = session.scalars(select(Asset).where(Asset.campaign_id == campaign_id)).all()
        assert [a.text for a in rows] == ["first delivery"]
        assert session.get(Job, job_id).status == JobStatus.DONE


def test_claim_counts_lost_deliveries_and_gives_up(sessions):
    with transaction(sessions) as session:
        campaign = _campaign(session, n_products=1, variants=1)
        job_id = campaign.jobs[0].id
    outcomes = []
    for _ in range(5):
        with transaction(sessions) as session:
            claim = jobs.claim_jobs(session, [job_id], worker="w", max_deliveries=3)
            outcomes.append((len(claim.ready), len(claim.given_up), claim.already_finished))
    # started, then each claim finds it still running (its worker died): lost deliveries 1 and 2
    # are retried, the third gives up; after that the message is a no-op
    assert outcomes == [(1, 0, 0), (1, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job.status == JobStatus.FAILED
        assert "lost deliveries" in job.last_error
        assert job.attempts == 3


def test_campaign_finishes_only_when_every_job_is_terminal(sessions):
    with transaction(sessions) as session:
        campaign = _campaign(session, n_products=2, variants=1)
        campaign_id = campaign.id
        first, second = campaign.jobs
        jobs.mark_campaign_running(session, campaign_id)
        jobs.complete_job(session, first, text="x", uri=None, sha256="b" * 64, meta={})
        assert not jobs.finish_campaign_if_done(session, campaign_id)
        jobs.fail_job(session, second, "gates")
        assert jobs.finish_campaign_if_done(session, campaign_id)
        assert not jobs.finish_campaign_if_done(session, campaign_id)  # only once
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.status == CampaignStatus.DONE
        assert campaign.finished_at is not None


def _two_overlapping_stores(pg_url: str, *, first_looks_first: bool) -> tuple[object, list]:
    """Two workers store a campaign's last two jobs in overlapping transactions, each then
    closing the campaign if it can; returns the campaign's status and the second's errors.

    ``first_looks_first``: the first store looks before the second starts (without a lock
    each saw the other's job still running and neither closed the campaign: 500/500 jobs
    finished and the campaign read running for ever, the load test on PostgreSQL); else both
    have inserted their asset before either looks (a plain FOR UPDATE then waited for the
    other's foreign-key KEY SHARE lock on the campaign: a deadlock, one store aborted)."""
    from contentfab.db.migrate import upgrade
    from contentfab.db.session import configure

    upgrade(pg_url)
    sessions = configure(pg_url)
    errors: list[BaseException] = []
    try:
        with transaction(sessions) as session:
            campaign = _campaign(session, n_products=2, variants=1)
            campaign_id, (first_id, second_id) = campaign.id, [j.id for j in campaign.jobs]
            jobs.mark_campaign_running(session, campaign_id)
        first = sessions()
        first.begin()
        job = first.get(Job, first_id)
        jobs.complete_job(first, job, text="a", uri=None, sha256="a" * 64, meta={})
        if first_looks_first:
            jobs.finish_campaign_if_done(first, campaign_id)  # sees the second job running

        def second_worker() -> None:
            try:
                with transaction(sessions) as session:
                    job = session.get(Job, second_id)
                    jobs.complete_job(session, job, text="b", uri=None, sha256="b" * 64, meta={})
                    jobs.finish_campaign_if_done(session, campaign_id)
            except BaseException as exc:  # reported by the test
                errors.append(exc)

        second = threading.Thread(target=second_worker)
        second.start()
        second.join(timeout=1.0)  # with the lock it waits for the first store to commit
        if not first_looks_first:
            jobs.finish_campaign_if_done(first, campaign_id)
        first.commit()
        first.close()
        second.join(timeout=30)
        assert not second.is_alive()
        with sessions() as session:
            return session.get_one(Campaign, campaign_id).status, errors
    finally:
        sessions.kw["bind"].dispose()


@pytest.mark.services
@pytest.mark.parametrize("first_looks_first", [True, False], ids=["race", "deadlock"])
def test_the_last_two_chunks_stored_at_once_close_the_campaign(pg_url, first_looks_first):
    status, errors = _two_overlapping_stores(pg_url, first_looks_first=first_looks_first)
    assert errors == []
    assert status == CampaignStatus.DONE


def test_a_campaign_where_everything_failed_is_failed(sessions):
    with transaction(sessions) as session:
        campaign = _campaign(session, n_products=1, variants=2)
        for job in campaign.jobs:
            jobs.fail_job(session, job, "boom")
        jobs.finish_campaign_if_done(session, campaign.id)
        campaign_id = campaign.id
    with transaction(sessions) as session:
        assert session.get(Campaign, campaign_id).status == CampaignStatus.FAILED
        reopened = jobs.reopen_failed_jobs(session, campaign_id)
        assert len(reopened) == 2
    with sessions() as session:
        assert session.get(Campaign, campaign_id).status == CampaignStatus.RUNNING
        queued = session.scalar(select(func.count()).where(Job.status == JobStatus.QUEUED))
        assert queued == 2


def test_prices_keep_their_decimals(sessions):
    with transaction(sessions) as session:
        campaign_id = _campaign(session, n_products=1, variants=1).id
    with sessions() as session:
        product = session.scalars(select(Product).where(Product.campaign_id == campaign_id)).one()
        assert product.price == Decimal("19.99")


def test_a_database_at_head_is_recognised_without_alembic(tmp_path):
    """`upgrade` skips Alembic for a database at HEAD_REVISION, which must be the scripts' head;
    an older or empty database is still migrated."""
    from contentfab.db.migrate import (
        HEAD_REVISION,
        _at_head,
        current_revision,
        head_revision,
        upgrade,
    )

    assert head_revision() == HEAD_REVISION, "a new migration: set db.migrate.HEAD_REVISION"
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert not _at_head(url)  # no version table
    upgrade(url, "0001")
    assert not _at_head(url)
    upgrade(url)
    assert _at_head(url) and current_revision(url) == HEAD_REVISION
    upgrade(url)  # at head: nothing to do
    assert current_revision(url) == HEAD_REVISION


def test_upgrading_keeps_existing_rows(request, tmp_path):
    """Every migration after the first keeps the assets of campaigns made before it.

    (SQLite rebuilds tables in Alembic's batch mode; with foreign keys on, dropping the old
    table cascaded and deleted every asset.)"""
    from sqlalchemy import text

    from contentfab.db.migrate import upgrade
    from contentfab.db.session import make_engine

    for backend in ("sqlite", "postgresql"):
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            url = request.getfixturevalue("pg_url")
        upgrade(url, "0001")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "insert into campaign (id, name, status, source_path, content_sha256, spec, "
                    "created_at) values (1, 'c', 'done', 'c.yaml', 'x', '{}', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "insert into product (id, campaign_id, row, sku, title, description, attributes)"
                    " values (1, 1, 2, 's', 't', '', '{}')"
                )
            )
            connection.execute(
                text(
                    "insert into job (id, campaign_id, product_id, kind, channel, variant, params, "
                    "status, attempts, deliveries, created_at) values "
                    "(1, 1, 1, 'copy', 'email_subject', 0, '{}', 'done', 1, 0, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "insert into asset (id, job_id, campaign_id, product_id, kind, channel, variant, "
                    "status, text, sha256, meta, created_at) values (1, 1, 1, 1, 'copy', "
                    "'email_subject', 0, 'generated', 'hello', 'h', '{}', CURRENT_TIMESTAMP)"
                )
            )
        engine.dispose()
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("select text from asset")).scalars().all() == ["hello"]
            assert connection.execute(text("select count(*) from job")).scalar() == 1
        engine.dispose()
