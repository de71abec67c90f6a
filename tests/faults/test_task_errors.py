"""A job whose task code raises is failed with that exception's message (issue 16, item 6).

Two real workers on the embedded broker, tiny image-card campaigns (no model):

* after the claim: the asset root is a file, so storing a creative raises ``OSError`` while
  the chunk's jobs read running by this worker;
* inside the claim: a stored job's palette is corrupted, so building its creative raises
  ``ValueError`` and the claim's transaction rolls back (the jobs read queued again).

Before, the message was acked and the jobs stayed running or queued, the campaign never
finished, and `contentfab retry` ended them as "gave up after 3 lost deliveries: the worker ...
died", which is not what happened.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from contentfab.cli import app
from contentfab.db.migrate import upgrade
from contentfab.db.models import Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure, transaction
from tests.faults.cards import (
    card_environment,
    embedded_urls,
    finished,
    start_worker,
    stop,
    write_card_campaign,
)
from tests.pipeline import runner, wait_for

pytestmark = [pytest.mark.slow]


def _run_until_finished(
    tmp_path, env: dict, sessions, status: CampaignStatus
) -> tuple[list[Job], str]:
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "raises")
    try:
        wait_for(lambda: finished(sessions), 90, "the campaign to finish")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None
    finally:
        stop(worker)
    with sessions() as session:
        assert session.get_one(Campaign, 1).status == status
        return list(session.scalars(select(Job).order_by(Job.id))), log.read_text()


def test_an_exception_after_the_claim_fails_the_jobs_with_its_message(tmp_path):
    db_url, broker = embedded_urls(tmp_path)
    (tmp_path / "data").mkdir()
    upgrade(db_url)
    not_a_folder = tmp_path / "assets-file"
    not_a_folder.write_text("a file where the asset folder should be\n")
    env = card_environment(tmp_path, db_url, broker, CONTENTFAB_ASSET_URL=str(not_a_folder))
    campaign = write_card_campaign(tmp_path, products=3)
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    sessions = configure(db_url)
    try:
        jobs, log = _run_until_finished(tmp_path, env, sessions, CampaignStatus.FAILED)
    finally:
        sessions.kw["bind"].dispose()
    assert jobs and all(j.status == JobStatus.FAILED for j in jobs), log[-3000:]
    for job in jobs:
        assert job.last_error is not None
        assert "lost deliveries" not in job.last_error
        assert job.last_error.startswith(("NotADirectoryError:", "FileExistsError:"))
        assert str(not_a_folder) in job.last_error
        assert job.deliveries == 0 and job.attempts == 1


def test_an_exception_inside_the_claim_fails_the_jobs_with_its_message(tmp_path):
    db_url, broker = embedded_urls(tmp_path)
    (tmp_path / "data").mkdir()
    upgrade(db_url)
    env = card_environment(tmp_path, db_url, broker)
    campaign = write_card_campaign(tmp_path, products=6)
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    sessions = configure(db_url)
    try:
        with transaction(sessions) as session:
            job = session.get_one(Job, 1)  # as a bug in the code that reads it would
            job.params = {**job.params, "palette": ["#zzzzzz"]}
        with sessions() as session:
            first_chunk = [
                j.id for j in session.scalars(select(Job).order_by(Job.id).limit(4))
            ]  # CONTENTFAB_CHUNK_SIZE=4
        jobs, log = _run_until_finished(tmp_path, env, sessions, CampaignStatus.DONE)
    finally:
        sessions.kw["bind"].dispose()
    by_id = {j.id: j for j in jobs}
    for job_id in first_chunk:  # the whole chunk raised with job 1
        assert by_id[job_id].status == JobStatus.FAILED, log[-3000:]
        assert by_id[job_id].last_error == (
            "ValueError: '#zzzzzz' is not a colour; write #RRGGBB such as #1c3454"
        )
    others = [j for j in jobs if j.id not in first_chunk]
    assert others and all(j.status == JobStatus.DONE for j in others)


def test_no_other_worker_s_running_jobs_are_failed(sessions):
    from contentfab.db import jobs as job_rows
    from tests.faults.test_lost_jobs import _jobs

    with transaction(sessions) as session:
        ids = _jobs(session, ["me:1", "other:2", "me:1"])
        session.execute(update(Job).where(Job.id == ids[2]).values(status=JobStatus.DONE))
        session.add(Job(campaign_id=1, product_id=1, kind="copy", channel="sms", variant=9,
                        params={}))  # fmt: skip
    with transaction(sessions) as session:
        failed = job_rows.fail_unfinished_jobs(session, [*ids, 4], worker="me:1", reason="boom")
    assert failed == [ids[0], 4]
    with sessions() as session:
        status = {i: session.get_one(Job, i).status for i in [*ids, 4]}
    assert status == {
        ids[0]: JobStatus.FAILED,
        ids[1]: JobStatus.RUNNING,
        ids[2]: JobStatus.DONE,
        4: JobStatus.FAILED,
    }
