"""Job state transitions: claim, complete, fail, and campaign completion — all in SQL.

Campaign completion is decided here, by counting job rows, rather than by Celery chords: the
database is the source of truth and survives broker restarts and redeliveries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from contentfab.db.models import Asset, Campaign, CampaignStatus, Job, JobStatus, utcnow


@dataclass
class Claim:
    """The jobs of one task message that this delivery should work on."""

    ready: list[Job]
    given_up: list[Job]  # handed to dying workers too often; now marked failed
    already_finished: int  # done or failed by an earlier delivery


def claim_jobs(
    session: Session,
    job_ids: Sequence[int],
    *,
    worker: str,
    max_deliveries: int,
    count_lost: bool = True,
) -> Claim:
    """Mark the unfinished jobs among ``job_ids`` as running by ``worker``.

    A job found already RUNNING was started by a delivery that never finished (the worker died,
    or its database went away): that counts as a lost delivery. After ``max_deliveries`` of those
    the job is failed with the reason instead of being tried again, so a poison item that kills
    its worker cannot loop forever. ``count_lost=False`` is for a task's own retry after a
    transient error (a database outage, say): its jobs may still read RUNNING because the
    database was not there to release them, and that is no lost delivery.
    """
    query = (
        select(Job)
        .where(Job.id.in_(job_ids))
        .order_by(Job.id)
        .options(selectinload(Job.product))
        .with_for_update(of=Job)
    )
    jobs = list(session.scalars(query))
    ready: list[Job] = []
    given_up: list[Job] = []
    finished = 0
    now = utcnow()
    for job in jobs:
        if job.status in JobStatus.terminal():
            finished += 1
            continue
        lost = job.status == JobStatus.RUNNING and count_lost
        if lost and _lost_delivery(job, max_deliveries, now):
            given_up.append(job)
            continue
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.worker = worker
        job.started_at = now
        ready.append(job)
    session.flush()
    return Claim(ready=ready, given_up=given_up, already_finished=finished)


def complete_job(
    session: Session,
    job: Job,
    *,
    text: str | None,
    uri: str | None,
    sha256: str,
    meta: dict[str, Any],
) -> Asset:
    """Store the asset for ``job``'s slot and mark the job done.

    If an earlier delivery already stored an asset for this slot (it died before marking the
    job done), that asset is kept and no second one is written.
    """
    existing = session.scalar(select(Asset).where(Asset.job_id == job.id))
    if existing is None:
        asset = Asset(
            job_id=job.id,
            campaign_id=job.campaign_id,
            product_id=job.product_id,
            subject=job.subject,
            kind=job.kind,
            channel=job.channel,
            variant=job.variant,
            text=text,
            uri=uri,
            sha256=sha256,
            meta=meta,
        )
        try:
            with session.begin_nested():
                session.add(asset)
        except IntegrityError:
            # A concurrent delivery won the race for this slot; keep its asset.
            existing = session.scalar(select(Asset).where(Asset.job_id == job.id))
            if existing is None:
                raise
            asset = existing
    else:
        asset = existing
    job.status = JobStatus.DONE
    job.finished_at = utcnow()
    job.last_error = None
    return asset


def fail_job(session: Session, job: Job, reason: str) -> None:
    job.status = JobStatus.FAILED
    job.finished_at = utcnow()
    job.last_error = reason[:4000]


def fail_unfinished_jobs(
    session: Session, job_ids: Sequence[int], *, worker: str, reason: str
) -> list[int]:
    """Fail the jobs among ``job_ids`` that are queued, or running by ``worker``; their ids."""
    rows = session.scalars(
        select(Job)
        .where(
            Job.id.in_(job_ids),
            (Job.status == JobStatus.QUEUED)
            | ((Job.status == JobStatus.RUNNING) & (Job.worker == worker)),
        )
        .order_by(Job.id)
        .with_for_update()
    )
    failed = []
    for job in rows:
        fail_job(session, job, reason)
        failed.append(job.id)
    session.flush()
    return failed


def release_jobs(session: Session, job_ids: Sequence[int]) -> None:
    """Put running jobs back to queued (before a transient-error retry)."""
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.QUEUED)
    )


def mark_campaign_running(session: Session, campaign_id: int) -> None:
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.QUEUED)
        .values(status=CampaignStatus.RUNNING, started_at=utcnow())
    )


def finish_campaign_if_done(session: Session, campaign_id: int) -> bool:
    """Close the campaign when no job is left unfinished. Safe to call from every task.

    The campaign row is locked first, so two workers storing the last two chunks at the same
    time take turns: without the lock each transaction saw the other's jobs still running
    (neither had committed), neither closed the campaign, and it read running for ever with
    every job finished (seen on PostgreSQL in the 500-product load test). Under READ
    COMMITTED the second one's next statement sees what the first committed. The lock is
    ``FOR NO KEY UPDATE``: a plain ``FOR UPDATE`` also waits for the ``KEY SHARE`` locks that
    every new asset row's foreign key takes on its campaign, so two stores deadlocked on each
    other's assets (PostgreSQL aborted one, the task retried, and a worker held more messages
    than its prefetch). SQLite has one writer at a time anyway and ignores the clause.
    """
    lock = select(Campaign.id).where(Campaign.id == campaign_id)
    session.execute(lock.with_for_update(key_share=True))
    unfinished = exists().where(
        Job.campaign_id == campaign_id, Job.status.not_in(JobStatus.terminal())
    )
    any_done = exists().where(Job.campaign_id == campaign_id, Job.status == JobStatus.DONE)
    result = session.execute(
        update(Campaign)
        .where(
            and_(
                Campaign.id == campaign_id,
                Campaign.status.in_([CampaignStatus.QUEUED, CampaignStatus.RUNNING]),
                ~unfinished,
            )
        )
        .values(
            status=case((any_done, CampaignStatus.DONE), else_=CampaignStatus.FAILED),
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def reopen_failed_jobs(session: Session, campaign_id: int) -> list[int]:
    """Reset the failed jobs of a campaign to queued; returns their IDs."""
    ids = list(
        session.scalars(
            select(Job.id).where(Job.campaign_id == campaign_id, Job.status == JobStatus.FAILED)
        )
    )
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(status=JobStatus.QUEUED, deliveries=0, last_error=None, finished_at=None)
        )
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(status=CampaignStatus.RUNNING, finished_at=None)
        )
    return ids


def requeue_lost_jobs(
    session: Session,
    campaign_id: int,
    *,
    started_before: datetime,
    worker_is_dead: Callable[[str | None], bool],
    max_deliveries: int,
) -> Claim:
    """Put back to queued the running jobs whose delivery is lost; returns them as ``ready``.

    A job is lost when its worker is known to be dead (``worker_is_dead``) or when it started
    before ``started_before`` (a staleness bound: longer ago than any task may run). Each counts
    as a lost delivery, like a redelivery found by :func:`claim_jobs`, so a job that kills every
    worker still ends failed with the reason rather than being resent forever.
    """
    running = session.scalars(
        select(Job)
        .where(Job.campaign_id == campaign_id, Job.status == JobStatus.RUNNING)
        .order_by(Job.id)
        .with_for_update()
    )
    requeued: list[Job] = []
    given_up: list[Job] = []
    now = utcnow()
    for job in running:
        started = job.started_at
        if started is not None and started.tzinfo is None:  # SQLite keeps no time zone
            started = started.replace(tzinfo=UTC)
        if not (worker_is_dead(job.worker) or started is None or started < started_before):
            continue
        if _lost_delivery(job, max_deliveries, now):
            given_up.append(job)
        else:
            job.status = JobStatus.QUEUED
            requeued.append(job)
    session.flush()
    return Claim(ready=requeued, given_up=given_up, already_finished=0)


def gave_up_reason(deliveries: int, worker: str | None) -> str:
    return (
        f"gave up after {deliveries} lost deliveries: the worker running this job "
        f"died or lost its database each time (last worker: {worker})"
    )


def _lost_delivery(job: Job, max_deliveries: int, now: datetime) -> bool:
    """Count one lost delivery of ``job``; fail it when that was one too many (True then)."""
    job.deliveries += 1
    if job.deliveries < max_deliveries:
        return False
    job.status = JobStatus.FAILED
    job.finished_at = now
    job.last_error = gave_up_reason(job.deliveries, job.worker)
    return True


def count_jobs(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Job.status, func.count()).where(Job.campaign_id == campaign_id).group_by(Job.status)
    )
    return {str(status): int(n) for status, n in rows}
