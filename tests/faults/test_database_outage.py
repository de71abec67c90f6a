"""A PostgreSQL restart mid-campaign: transient errors are retried with backoff, nothing is lost
or written twice. Runs its own PostgreSQL server (the machine's binaries, a private data
directory and port) so that stopping it disturbs nobody else."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

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
    worker_log,
    write_campaign,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]


class PrivatePostgres:
    def __init__(self) -> None:
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not binaries or shutil.which("runuser") is None:
            raise RuntimeError("PostgreSQL server binaries or runuser not found")
        self.bin = binaries[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="contentfab-pg-"))
        self.data = self.root / "data"
        shutil.chown(self.root, "postgres", "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._as_postgres(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        )

    def _as_postgres(self, argv: list[str]) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=120
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.root / "log"),
                "-w",
                "start",
            ]
        )

    def stop(self) -> None:
        self._as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
        )

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_pg():
    if os.geteuid() != 0:
        pytest.skip("needs root to run a private PostgreSQL as the postgres user")
    server = PrivatePostgres()
    server.start()
    yield server
    server.remove()


def test_a_database_restart_mid_campaign_is_ridden_out(
    tmp_path, smollm2_store, private_pg, redis_url
):
    upgrade(private_pg.url)
    campaign = write_campaign(
        tmp_path, channels=["email_subject"], variants=1, model=MODEL, products=6
    )
    env = environment(tmp_path, smollm2_store.root, private_pg.url, redis_url, model=MODEL)
    env["CONTENTFAB_CHUNK_SIZE"] = "2"
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    sessions = configure(private_pg.url)

    def query(fn):
        try:
            with sessions() as session:
                return fn(session)
        except OperationalError:
            return None  # the database is down right now

    worker = start_worker(env)
    try:
        wait_for(
            lambda: query(
                lambda s: s.scalar(select(func.count()).where(Job.status == JobStatus.RUNNING))
            ),
            180,
            "a job to start",
        )
        private_pg.stop()  # drops every connection, mid-generation
        time.sleep(15)  # longer than a chunk takes: the worker meets the dead database
        private_pg.start()
        try:
            wait_for(
                lambda: query(lambda s: s.get(Campaign, 1).finished_at is not None),
                300,
                "the campaign to finish after the outage",
            )
        except AssertionError as exc:
            states = query(
                lambda s: [(j.id, j.status.value, j.attempts) for j in s.scalars(select(Job))]
            )
            raise AssertionError(
                f"{exc}; jobs: {states}; worker said:\n{worker_log(worker)}"
            ) from exc
        assert worker.poll() is None, worker_log(worker)
    finally:
        stop_worker(worker)
    with sessions() as session:
        jobs = session.scalars(select(Job)).all()
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
        assets = session.scalar(select(func.count()).select_from(Asset))
        slots = session.scalar(
            select(func.count()).select_from(
                select(Asset.product_id, Asset.channel, Asset.variant).distinct().subquery()
            )
        )
    sessions.kw["bind"].dispose()
    assert all(j.status in (JobStatus.DONE, JobStatus.FAILED) for j in jobs)
    assert not any("lost deliveries" in (j.last_error or "") for j in jobs)
    assert any(j.attempts >= 2 for j in jobs), "the outage should have forced a retry"
    assert assets == slots == sum(j.status == JobStatus.DONE for j in jobs)
