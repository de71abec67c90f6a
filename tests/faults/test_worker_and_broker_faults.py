"""Fault injection with real processes and services: killed workers, a restarted broker.

Each test runs the real SmolLM2 export through a real Celery worker on Redis + PostgreSQL
(``slow`` and ``services``), injects one fault, and checks the promises in the README: the
campaign finishes, no slot gets two assets, and a job whose worker keeps dying is failed with
the reason instead of looping.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
from sqlalchemy import func, select

from contentfab.cli import app
from contentfab.db.migrate import upgrade
from contentfab.db.models import Asset, Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure
from tests.pipeline import (
    MODEL,
    environment,
    runner,
    start_worker,
    stop_worker,
    wait_for,
    worker_children,
    write_campaign,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _setup(
    tmp_path,
    store,
    pg_url,
    redis_url,
    *,
    products: int,
    extra: dict | None = None,
    channel: str = "email_subject",
):
    upgrade(pg_url)
    campaign = write_campaign(
        tmp_path, channels=[channel], variants=1, model=MODEL, products=products
    )
    env = environment(tmp_path, store.root, pg_url, redis_url, model=MODEL)
    env["CONTENTFAB_CHUNK_SIZE"] = "2"
    env.update(extra or {})
    result = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert result.exit_code == 0, result.output
    return env, configure(pg_url)


def _running_jobs(sessions) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING)))


def _finished(sessions) -> bool:
    with sessions() as session:
        return session.get(Campaign, 1).finished_at is not None


def _slot_counts(sessions) -> tuple[int, int]:
    with sessions() as session:
        assets = session.scalar(select(func.count()).select_from(Asset))
        slots = session.scalar(
            select(func.count()).select_from(
                select(Asset.product_id, Asset.channel, Asset.variant).distinct().subquery()
            )
        )
    return assets, slots


def test_killing_the_pool_process_mid_batch_loses_nothing(
    tmp_path, smollm2_store, pg_url, redis_url
):
    env, sessions = _setup(tmp_path, smollm2_store, pg_url, redis_url, products=4)
    worker = start_worker(env)
    try:
        killed = wait_for(lambda: _running_jobs(sessions), 180, "a job to start")
        for pid in worker_children(worker):
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: _finished(sessions), 300, "the campaign to finish")
    finally:
        stop_worker(worker)
    with sessions() as session:
        jobs = {j.id: j for j in session.scalars(select(Job))}
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
    assert all(j.status in (JobStatus.DONE, JobStatus.FAILED) for j in jobs.values())
    for job_id in killed:  # started twice: once by the killed process, once after redelivery
        assert jobs[job_id].deliveries == 1 and jobs[job_id].attempts == 2
    assets, slots = _slot_counts(sessions)
    assert assets == slots == sum(j.status == JobStatus.DONE for j in jobs.values())


def test_a_job_whose_worker_keeps_dying_is_failed_with_the_reason(
    tmp_path, smollm2_store, pg_url, redis_url
):
    env, sessions = _setup(
        tmp_path,
        smollm2_store,
        pg_url,
        redis_url,
        products=2,
        extra={"CONTENTFAB_CHUNK_SIZE": "2", "CONTENTFAB_MAX_DELIVERIES": "2"},
    )
    worker = start_worker(env)
    try:
        for attempt in (1, 2):

            def started(attempt=attempt):
                with sessions() as session:
                    jobs = session.scalars(select(Job)).all()
                    return all(
                        j.attempts == attempt and j.status == JobStatus.RUNNING for j in jobs
                    )

            wait_for(started, 180, f"delivery {attempt} to start")
            for pid in worker_children(worker):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: _finished(sessions), 180, "the campaign to give up")
    finally:
        stop_worker(worker)
    with sessions() as session:
        jobs = session.scalars(select(Job)).all()
        assert session.get(Campaign, 1).status == CampaignStatus.FAILED
    assert all(j.status == JobStatus.FAILED for j in jobs)
    assert all("gave up after 2 lost deliveries" in j.last_error for j in jobs)
    status = runner.invoke(app, ["status", "1", "--json"], env=env)
    assert "lost deliveries" in json.dumps(json.loads(status.stdout)["failures"])


def test_a_broker_restart_mid_campaign_loses_nothing(
    tmp_path, smollm2_store, pg_url, redis_url, redis_server
):
    if redis_server is None:
        pytest.skip("needs a private redis-server to restart")
    env, sessions = _setup(tmp_path, smollm2_store, pg_url, redis_url, products=6)
    worker = start_worker(env)
    try:
        wait_for(lambda: _running_jobs(sessions), 180, "a job to start")
        redis_server.stop()
        redis_server.start()  # same port, same append-only file
        wait_for(lambda: _finished(sessions), 300, "the campaign to finish")
        assert worker.poll() is None, "the worker must reconnect by itself, not exit"
    finally:
        stop_worker(worker)
    with sessions() as session:
        jobs = session.scalars(select(Job)).all()
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
    assert all(j.status in (JobStatus.DONE, JobStatus.FAILED) for j in jobs)
    assets, slots = _slot_counts(sessions)
    assert assets == slots == sum(j.status == JobStatus.DONE for j in jobs)
