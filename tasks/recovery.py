"""Sending a stored campaign's unfinished jobs again: those whose delivery was lost (a dead
worker, a message past the visibility timeout) and, on request, failed ones."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from celery import Celery
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from contentfab.core.errors import NotFoundError
from contentfab.core.settings import Settings
from contentfab.db import jobs as job_rows
from contentfab.db.models import Campaign, Job, JobStatus, utcnow
from contentfab.db.session import transaction
from contentfab.tasks.sending import Enqueued, chunk_jobs, queued_chunks, send_chunks


def worker_is_dead(worker: str | None) -> bool:
    """Whether the worker process named ``host:pid`` (a job's ``worker``) is known to be gone.

    Only a process on this machine can be checked; one elsewhere counts as alive, so its jobs
    are recovered by the staleness bound alone.
    """
    host, _, pid_text = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        stat = Path(f"/proc/{pid_text}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:  # no /proc here: ask the kernel instead
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]  # a zombie runs nothing


def recover_lost_jobs(
    *, settings: Settings, sessions: sessionmaker[Session], app: Celery
) -> list[Enqueued]:
    """Requeue and send again the lost running jobs of every unfinished campaign (only those:
    queued jobs still have their messages). What a worker does when it starts on the embedded
    broker, whose messages die with the worker that took them (see :func:`resend`).
    """
    with sessions() as session:
        campaign_ids = list(
            session.scalars(
                select(Campaign.id)
                .where(Campaign.finished_at.is_(None))
                .where(
                    exists().where(Job.campaign_id == Campaign.id, Job.status == JobStatus.RUNNING)
                )
            )
        )
    recovered = []
    for campaign_id in campaign_ids:
        with transaction(sessions) as session:
            lost = job_rows.requeue_lost_jobs(
                session,
                campaign_id,
                started_before=utcnow() - timedelta(seconds=settings.visibility_timeout),
                worker_is_dead=worker_is_dead,
                max_deliveries=settings.max_deliveries,
            )
            if lost.given_up:
                job_rows.finish_campaign_if_done(session, campaign_id)
            chunks = chunk_jobs(lost.ready, settings.chunk_size, settings.recs_chunk_size)
            name = session.get_one(Campaign, campaign_id).name
        if lost.ready or lost.given_up:
            messages = send_chunks(app, campaign_id, name, chunks) if chunks else 0
            recovered.append(
                Enqueued(
                    campaign_id, len(lost.ready), messages, len(lost.ready), len(lost.given_up)
                )
            )
    return recovered


def resend(
    campaign_id: int,
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    app: Celery,
    failed: bool = False,
    lost_after: float | None = None,
) -> Enqueued:
    """Send messages for the campaign's unfinished jobs again (and its failed ones, if asked).

    Running jobs whose delivery is lost are put back to queued first: those of a dead worker
    process on this machine, and any that started more than ``lost_after`` seconds ago
    (default: the broker's visibility timeout, longer than any task may run). Their messages
    may be gone for good — kombu's SQLAlchemy transport drops a message its consumer took and
    never acked, and Redis hands it out again only after the visibility timeout. A job whose
    message does still exist gets a second one; whichever arrives later finds it finished and
    skips it.
    """
    bound = settings.visibility_timeout if lost_after is None else lost_after
    with transaction(sessions) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFoundError(f"there is no campaign {campaign_id}")
        lost = job_rows.requeue_lost_jobs(
            session,
            campaign_id,
            started_before=utcnow() - timedelta(seconds=bound),
            worker_is_dead=worker_is_dead,
            max_deliveries=settings.max_deliveries,
        )
        if failed:
            job_rows.reopen_failed_jobs(session, campaign_id)
        chunks = queued_chunks(session, campaign_id, settings.chunk_size, settings.recs_chunk_size)
        if not chunks:
            job_rows.finish_campaign_if_done(session, campaign_id)
        name = campaign.name
    messages = send_chunks(app, campaign_id, name, chunks) if chunks else 0
    return Enqueued(
        campaign_id,
        sum(len(ids) for _, ids in chunks),
        messages,
        requeued=len(lost.ready),
        given_up=len(lost.given_up),
    )
