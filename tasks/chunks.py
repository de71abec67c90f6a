"""What every chunk task shares: its Celery policy, the claim step, database error mapping.

A chunk task takes ``(campaign_id, [job ids])``. It claims the unfinished jobs in one
transaction, works on them outside any transaction (model time), and stores the outcomes in
another, so an outage between the two only costs a retry.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.log import get_task_logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from contentfab.campaign.spec import CampaignSpec, stored_campaign
from contentfab.core.errors import TransientError
from contentfab.core.settings import Settings
from contentfab.db import jobs
from contentfab.db.bulk import RowClaim, claim_rows
from contentfab.db.models import Campaign, Job
from contentfab.db.session import configure, database_errors, transaction
from contentfab.tasks.app import settings_of
from contentfab.tasks.recovery import recover_lost_jobs
from contentfab.tasks.resources import WorkerResources, counts_lost_deliveries, resources

logger = get_task_logger(__name__)

#: Retry delays of transient errors: the n-th retry waits between half and all of
#: min(RETRY_BACKOFF_MAX, RETRY_BACKOFF * 2**n) seconds.
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 120


def retry_countdown(retries: int, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``retries`` (0-based) of a transient error.

    "Equal jitter": half of the exponential step is fixed, half random. Celery's own
    ``retry_jitter`` draws from the whole step, so a retry can come at once: five retries then
    spent themselves within 15 s one time in fourteen and a short database restart failed the
    chunk. With a floor the default ten retries span at least 303 s (at most 606 s), and workers
    that failed together still come back spread out.
    """
    step = min(RETRY_BACKOFF_MAX, RETRY_BACKOFF * 2**retries)
    return float(step / 2 + (rng or random).uniform(0, step / 2))


class ChunkTask(Task):  # type: ignore[misc]  # celery ships no type hints
    """Base of the chunk tasks: transient errors retry on :func:`retry_countdown`'s schedule."""

    def retry(self, *args: Any, exc: BaseException | None = None, **kwargs: Any) -> Any:
        if isinstance(exc, TransientError) and kwargs.get("countdown") is None:
            kwargs["countdown"] = retry_countdown(self.request.retries)
        return super().retry(*args, exc=exc, **kwargs)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        if isinstance(exc, TransientError) and len(args) >= 2:
            campaign_id, job_ids = args[0], args[1]
            logger.error(
                "campaign %s: gave up on jobs %s after %s retries of a transient error (%s); "
                "those the database could not be told about still read running: once it is "
                "back, `contentfab retry %s` sends them again after the visibility timeout "
                "(at once with --lost-after 0 if no worker is busy with the campaign)",
                campaign_id,
                job_ids,
                self.request.retries,
                exc,
                campaign_id,
            )
        elif len(args) >= 2:
            _fail_chunk(self, args[0], getattr(self.request, "chunk_jobs", None) or args[1], exc)
        super().on_failure(exc, task_id, args, kwargs, einfo)


def failure_reason(exc: BaseException) -> str:
    """What a job failed by an exception of its task's code says: the exception's message."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _fail_chunk(task: Task, campaign_id: int, job_ids: list[int], exc: BaseException) -> None:
    """Fail the jobs a task's own code raised on, naming the exception.

    Its message is acked (``task_acks_on_failure_or_timeout``) and no other delivery will
    come: left as they were, its jobs would read running (claimed) or queued (the claim rolled
    back with the exception) until `contentfab retry` counted them as lost deliveries and gave
    up on "the worker died", which is not what happened. Only this delivery's jobs are failed:
    those still queued and those running by this worker process, never another's.
    """
    try:
        res = resources(settings_of(task.app))
        reason = failure_reason(exc)
        with transaction(res.sessions) as session:
            failed = jobs.fail_unfinished_jobs(session, job_ids, worker=res.hostname, reason=reason)
            if failed:
                jobs.finish_campaign_if_done(session, campaign_id)
        logger.error("campaign %s: failed jobs %s: %s", campaign_id, failed, reason)
    except Exception:  # the database may be what failed; `contentfab retry` still copes
        logger.warning("could not fail jobs %s after an error", job_ids, exc_info=True)


#: The decorator policy of every chunk task (warehouse-style: policy lives in the decorator).
CHUNK_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "base": ChunkTask,
    "acks_late": True,  # a message is acked only after its outcomes are stored
    "reject_on_worker_lost": True,  # ... and requeued if the process running it dies
    "autoretry_for": (TransientError,),  # countdown: ChunkTask.retry
    "max_retries": 10,  # overridden from settings by the app's task_annotations
}


ClaimT = TypeVar("ClaimT", jobs.Claim, RowClaim)


@dataclass
class Chunk(Generic[ClaimT]):
    settings: Settings
    resources: WorkerResources
    session: Session
    claim: ClaimT
    #: The campaign file as stored, validated once at the claim; None for a row without one.
    campaign: CampaignSpec | None


def claimed_chunk(
    task: Task, campaign_id: int, job_ids: list[int]
) -> AbstractContextManager[Chunk[jobs.Claim]]:
    """Claim the chunk's unfinished jobs; the block reads what it needs from the session."""
    return _claimed(task, campaign_id, job_ids, jobs.claim_jobs)


def claimed_rows(
    task: Task, campaign_id: int, job_ids: list[int]
) -> AbstractContextManager[Chunk[RowClaim]]:
    """:func:`claimed_chunk` as plain rows, for chunks of thousands of jobs (recommendations)."""
    return _claimed(task, campaign_id, job_ids, claim_rows)


@contextmanager
def _claimed(
    task: Task, campaign_id: int, job_ids: list[int], claim_with: Callable[..., ClaimT]
) -> Iterator[Chunk[ClaimT]]:
    settings = settings_of(task.app)
    res = resources(settings)
    with database_errors(), transaction(res.sessions) as session:
        row = session.get(Campaign, campaign_id)
        stored = row.spec if row is not None and row.spec else {}
        # Before anything is claimed: a stored spec that no longer validates fails the task
        # with the reason and leaves the jobs as they were.
        campaign = stored_campaign(stored)
        jobs.mark_campaign_running(session, campaign_id)
        claim = claim_with(
            session,
            job_ids,
            worker=res.hostname,
            max_deliveries=settings.max_deliveries,
            count_lost=counts_lost_deliveries(task.request),
        )
        yield Chunk(settings, res, session, claim, campaign)
    if claim.given_up:
        logger.warning(
            "campaign %s: gave up on jobs %s", campaign_id, [j.id for j in claim.given_up]
        )


OutcomeT = TypeVar("OutcomeT")

#: What a chunk's work yields per job id: the made thing (None on failure), why it failed, meta.
Outcomes = dict[int, tuple[OutcomeT | None, str | None, dict[str, Any]]]


def failure(reason: str) -> tuple[None, str, dict[str, Any]]:
    """The outcome of a job that failed for ``reason`` (nothing made, no meta)."""
    return None, reason, {}


def run_work(
    chunk: Chunk[Any],
    keys: Sequence[int],
    work: Callable[[], dict[int, OutcomeT]],
    failed: Callable[[str], OutcomeT],
    fail_on: tuple[type[Exception], ...] = (),
) -> dict[int, OutcomeT]:
    """Run a chunk's model work, outside any transaction, the way every kind does: a transient
    error gives the claimed jobs back and raises (the task retries); the soft time limit, or
    one of ``fail_on`` (a model that cannot load), fails every job of the chunk with the reason,
    made by ``failed``."""
    try:
        return work()
    except TransientError:
        release(chunk.resources, list(keys))
        raise
    except SoftTimeLimitExceeded:
        reason = f"time limit: took over {chunk.settings.task_soft_time_limit}s"
        return {key: failed(reason) for key in keys}
    except fail_on as exc:
        return {key: failed(str(exc)) for key in keys}


def store_outcomes(
    task: Task,
    chunk: Chunk[Any],
    campaign_id: int,
    outcomes: Outcomes[OutcomeT],
    complete: Callable[[Session, Job, OutcomeT, dict[str, Any]], None],
) -> tuple[int, int]:
    """Store a chunk's outcomes in one transaction: a failure fails its job with the reason, a
    made thing is completed by ``complete`` with the meta (plus which worker and task made it);
    the campaign finishes if these were its last jobs. Returns (done, failed)."""
    done = failed = 0
    with database_errors(), transaction(chunk.resources.sessions) as session:
        by_id = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(outcomes)))}
        for key, (made, error, meta) in outcomes.items():
            job = by_id[key]
            if made is None:
                jobs.fail_job(session, job, error or "unknown error")
                failed += 1
                continue
            meta.update(worker=chunk.resources.hostname, task_id=task.request.id)
            complete(session, job, made, meta)
            done += 1
        jobs.finish_campaign_if_done(session, campaign_id)
    return done, failed


def release(res: WorkerResources, job_ids: list[int]) -> None:
    """Put claimed jobs back to queued before a transient-error retry, if the database lets us."""
    try:
        with transaction(res.sessions) as session:
            jobs.release_jobs(session, job_ids)
    except Exception:  # the database may be what failed; the next claim copes either way
        logger.warning("could not release jobs %s before retrying", job_ids, exc_info=True)


def recover_lost_jobs_on_ready(sender: Any, **_: object) -> None:
    """On the embedded broker, send again the jobs of dead workers when a worker starts
    (``worker_ready``, connected by :mod:`contentfab.tasks.celery`).

    kombu's SQLAlchemy transport has no redelivery: a message taken by a worker that is then
    killed is gone, and its jobs would stay running for ever. Redis hands such a message out
    again by itself after the visibility timeout, so there this is left to the broker (and to
    `contentfab retry`). Runs in the worker's main process, after the pool has forked.
    """
    app = sender.app
    settings = settings_of(app)
    if not settings.broker_url.startswith("sqla+"):
        return

    sessions = configure(settings.database_url)
    try:
        for result in recover_lost_jobs(settings=settings, sessions=sessions, app=app):
            logger.warning(
                "campaign %s: requeued %s running jobs of a dead worker and sent them again "
                "in %s messages; %s failed after too many lost deliveries",
                result.campaign_id,
                result.requeued,
                result.messages,
                result.given_up,
            )
    except Exception:  # a worker must start even if this cannot run (no schema yet, say)
        logger.warning("could not look for jobs of dead workers", exc_info=True)
    finally:
        bind = sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()
