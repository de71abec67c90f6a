"""SIGKILL to a whole worker (main process and pool children) mid-campaign, then a new worker.

On both setups, the embedded default (the data dir's own Valkey server) and Redis + PostgreSQL,
the broker brings the lost chunk back by itself: Redis keeps a delivered message in its
``unacked`` set, and a worker hands it out again once it is older than the visibility timeout
(made short here through ``CONTENTFAB_BROKER_VISIBILITY_TIMEOUT``). The new worker finishes the
campaign with no help from contentfab's own recovery, which runs on kombu's SQLAlchemy transport
only: that transport marks a message invisible when a consumer takes it and never shows it
again, so a worker starting on it requeues and sends again the RUNNING jobs whose worker process
is dead (``contentfab.tasks.chunks.recover_lost_jobs_on_ready``; ``contentfab retry`` does the same by hand).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from contentfab.cli import app
from contentfab.db.migrate import upgrade
from contentfab.db.models import Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure
from tests.faults.cards import (
    card_environment,
    embedded_urls,
    finished,
    job_counts,
    kill_group,
    slot_counts,
    sqla_urls,
    start_worker,
    stop,
    write_card_campaign,
)
from tests.pipeline import runner, wait_for

pytestmark = [pytest.mark.slow]


def _running(sessions) -> dict[int, str]:
    with sessions() as session:
        rows = session.execute(select(Job.id, Job.worker).where(Job.status == JobStatus.RUNNING))
        return {job_id: worker for job_id, worker in rows}


@pytest.mark.parametrize(
    "backend", ["embedded", "sqla", pytest.param("redis+pg", marks=pytest.mark.services)]
)
def test_killing_the_whole_worker_loses_and_doubles_nothing(tmp_path, backend, request):
    if backend == "embedded":
        db_url, broker = embedded_urls(tmp_path)
    elif backend == "sqla":
        db_url, broker = sqla_urls(tmp_path)
    else:
        db_url, broker = request.getfixturevalue("pg_url"), request.getfixturevalue("redis_url")
    (tmp_path / "data").mkdir()
    upgrade(db_url)
    env = card_environment(tmp_path, db_url, broker, CONTENTFAB_BROKER_VISIBILITY_TIMEOUT="8")
    campaign = write_card_campaign(tmp_path, products=48, size="640x640")
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    sessions = configure(db_url)
    log = tmp_path / "worker.log"

    first = start_worker(env, log, "first")
    try:
        wait_for(
            lambda: job_counts(sessions).get(JobStatus.DONE) and _running(sessions),
            120,
            "some jobs done and a chunk running",
            interval=0.02,
        )
        kill_group(first)  # SIGKILL: main process and pool child, no warm shutdown
        first.wait()
    finally:
        stop(first)
    killed = _running(sessions)
    assert killed, "the kill must land while a chunk runs"
    assert not finished(sessions)

    second = start_worker(env, log, "second")
    started = time.monotonic()
    try:
        wait_for(lambda: finished(sessions), 120, "the campaign to finish")
        recovered_in = time.monotonic() - started
    finally:
        stop(second)

    print(f"{backend}: {len(killed)} killed jobs recovered in {recovered_in:.1f}s")
    if backend == "sqla":  # the new worker sent them again as it started
        assert f"requeued {len(killed)} running jobs of a dead worker" in log.read_text()
    else:  # the broker handed them out again
        assert "running jobs of a dead worker" not in log.read_text()
    with sessions() as session:
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
        jobs = {j.id: j for j in session.scalars(select(Job))}
    assert all(j.status == JobStatus.DONE for j in jobs.values()), log.read_text()[-3000:]
    for job_id in killed:  # begun by the killed worker, done by the second one
        assert jobs[job_id].attempts == 2 and jobs[job_id].deliveries >= 1
        assert jobs[job_id].worker != killed[job_id]
    assets, slots, done = slot_counts(sessions)
    assert assets == slots == done == len(jobs) == 48
    sessions.kw["bind"].dispose()
