"""Recommendation slots: one per (campaign, kind, channel, subject), written once, in bulk."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db import jobs
from db.models import Asset, Campaign, ContentKind, Job, JobStatus
from db.session import transaction


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


def test_bulk_completion_writes_each_slot_once(sessions):
    with transaction(sessions) as session:
        campaign = _recs_campaign(session)
        results = [(job, '["a"]', "f" * 64, {"items": []}) for job in campaign.jobs]
        jobs.complete_jobs(session, results)
    with transaction(sessions) as session:
        again = [(job, '["b"]', "e" * 64, {}) for job in session.scalars(select(Job))]
        jobs.complete_jobs(session, again)  # a redelivery: the first assets stay
    with sessions() as session:
        assets = session.scalars(select(Asset)).all()
        assert len(assets) == 2 and {a.text for a in assets} == {'["a"]'}
        assert {a.subject for a in assets} == {"u1", "u2"}
        assert all(a.product_id is None for a in assets)
        statuses = session.scalars(select(Job.status)).all()
        assert statuses == [JobStatus.DONE, JobStatus.DONE]
        assert session.scalar(select(func.count()).select_from(Asset)) == 2
