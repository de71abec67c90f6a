"""Which running jobs `contentfab retry` treats as lost (``db.jobs.requeue_lost_jobs`` with
``tasks.recovery.worker_is_dead``), on SQLite and PostgreSQL, without processes or a broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from contentfab.db import jobs
from contentfab.db.models import Campaign, ContentKind, Job, JobStatus, Product, utcnow
from contentfab.db.session import transaction
from contentfab.tasks.recovery import worker_is_dead

HOST = socket.gethostname()


def _jobs(session, workers: list[str]) -> list[int]:
    campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
    product = Product(
        campaign=campaign, row=2, sku="s", title="T", price=Decimal(1), currency="EUR"
    )
    rows = [
        Job(campaign=campaign, product=product, kind=ContentKind.COPY, channel="email_subject",
            variant=v, params={}, status=JobStatus.RUNNING, worker=w, attempts=1,
            started_at=utcnow())
        for v, w in enumerate(workers)
    ]  # fmt: skip
    session.add_all([campaign, product, *rows])
    session.flush()
    return [job.id for job in rows]


def _exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_a_worker_is_dead_only_when_this_machine_can_tell():
    assert not worker_is_dead(f"{HOST}:{os.getpid()}")  # this very process
    assert worker_is_dead(f"{HOST}:{_exited_pid()}")
    assert not worker_is_dead(f"another-host:{_exited_pid()}")  # cannot check: alive
    assert not worker_is_dead(None) and not worker_is_dead("garbage")


def test_lost_running_jobs_are_requeued_counted_and_given_up(sessions):
    alive, dead = f"{HOST}:{os.getpid()}", f"{HOST}:{_exited_pid()}"
    with transaction(sessions) as session:
        ids = _jobs(session, [alive, dead, "elsewhere:1", "elsewhere:2"])
        session.execute(  # the last one started long ago
            update(Job)
            .where(Job.id == ids[3])
            .values(started_at=utcnow() - timedelta(hours=2), deliveries=2)
        )
    with transaction(sessions) as session:
        lost = jobs.requeue_lost_jobs(
            session,
            1,
            started_before=utcnow() - timedelta(hours=1),
            worker_is_dead=worker_is_dead,
            max_deliveries=3,
        )
        assert [j.id for j in lost.ready] == [ids[1]]
        assert [j.id for j in lost.given_up] == [ids[3]]
    with sessions() as session:
        status = {i: session.get(Job, i) for i in ids}
        assert status[ids[0]].status == JobStatus.RUNNING  # its worker lives: left alone
        assert status[ids[1]].status == JobStatus.QUEUED and status[ids[1]].deliveries == 1
        assert status[ids[2]].status == JobStatus.RUNNING  # elsewhere and recent: left alone
        assert status[ids[3]].status == JobStatus.FAILED
        assert "gave up after 3 lost deliveries" in (status[ids[3]].last_error or "")


def test_retry_requeues_the_jobs_of_a_dead_worker_and_sends_them(tmp_path):
    """`contentfab retry` by hand, on kombu's SQLAlchemy transport, whose taken messages die
    with their worker (no worker needed to check it)."""
    import sqlite3

    from contentfab.cli import app
    from contentfab.db.session import configure
    from tests.faults.cards import card_environment, sqla_urls, write_card_campaign
    from tests.pipeline import runner

    db_url, broker = sqla_urls(tmp_path)
    env = card_environment(tmp_path, db_url, broker)
    campaign = write_card_campaign(tmp_path, products=6)
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    broker_file = tmp_path / "data" / "broker.db"
    with sqlite3.connect(broker_file) as connection:  # as if a worker had taken them all
        connection.execute("update kombu_message set visible = 0")
    sessions = configure(db_url)
    dead, alive = f"{HOST}:{_exited_pid()}", f"{HOST}:{os.getpid()}"
    with transaction(sessions) as session:
        session.execute(
            update(Job).values(
                status=JobStatus.RUNNING, worker=dead, attempts=1, started_at=utcnow()
            )
        )
        session.execute(update(Job).where(Job.id == 1).values(worker=alive))

    result = runner.invoke(app, ["retry", "1"], env=env)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert (
        "sent 5 jobs in 2 messages (5 running jobs had lost their worker and were requeued)" in said
    )
    with sessions() as session:
        assert session.get(Job, 1).status == JobStatus.RUNNING
        assert {j.status for j in session.scalars(select(Job).where(Job.id > 1))} == {
            JobStatus.QUEUED
        }
    with sqlite3.connect(broker_file) as connection:
        visible = connection.execute("select count(*) from kombu_message where visible = 1")
        assert visible.fetchone()[0] == 2
    sessions.kw["bind"].dispose()
