"""Image jobs taken by a worker without the `images` extra (Pillow, SciPy, fsspec) fail, each
with the pip command that installs it: no traceback, no job left running. Enqueueing the
campaign and starting the worker need none of it."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from contentfab.db.models import Asset, Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure
from tests.pipeline import start_worker, stop_worker, wait_for, without_images_extra, worker_log


def test_image_jobs_on_a_worker_without_the_images_extra_fail_naming_it(tmp_path):
    (tmp_path / "catalog.csv").write_text(
        "id,title,price,currency\nP-1,Trail Thermos 750 ml,49.90,USD\nP-2,Canvas Weekender Bag,129,EUR\n",
        encoding="utf-8",
    )
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "name: Without the images extra\n"
        "catalog: catalog.csv\n"
        "images:\n"
        "  formats: [square]\n"
        "  variants: 2\n"
        "  background: {mode: flat, palette: ['#1c3454']}\n"
    )
    database_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    env = {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(tmp_path / "models"),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}",
        "CONTENTFAB_CHUNK_SIZE": "4",
        **without_images_extra(tmp_path / "blocker"),
    }
    enqueued = subprocess.run(
        [sys.executable, "-m", "contentfab", "enqueue", str(campaign)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert enqueued.returncode == 0, enqueued.stdout + enqueued.stderr

    sessions = configure(database_url)

    def all_failed() -> list[Job] | None:
        with sessions() as session:
            jobs = session.scalars(select(Job)).all()
            return jobs if jobs and all(j.status == JobStatus.FAILED for j in jobs) else None

    worker = start_worker(env)
    try:
        jobs = wait_for(all_failed, 120, "the image jobs to fail")
        log = worker_log(worker)
    finally:
        stop_worker(worker)
    assert len(jobs) == 2 * 2  # products × variants
    for job in jobs:
        assert "pip install 'contentfab[images]'" in (job.last_error or ""), job.last_error
    assert "Traceback" not in log, log
    with sessions() as session:
        assert session.get(Campaign, 1).status == CampaignStatus.FAILED
        assert session.scalars(select(Asset)).all() == []
    sessions.kw["bind"].dispose()
