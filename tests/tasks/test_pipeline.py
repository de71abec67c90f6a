"""The whole path, through real processes: CLI → SQL → broker → Celery worker → ONNX → assets.

Runs on the embedded default (SQLite + kombu's SQLAlchemy transport) and on Redis + PostgreSQL,
never with ``task_always_eager``. The model is the tiny random-weight export, so its text is
gibberish; what is checked is the plumbing and the provenance, not the prose.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from contentfab.cli import app
from db.models import Asset, Campaign, CampaignStatus, Job, JobStatus
from db.session import configure

EXAMPLE_CATALOG = Path(__file__).parents[2] / "contentfab" / "examples" / "catalog.csv"
runner = CliRunner()


def write_campaign(directory: Path, *, channels: list[str], variants: int = 2) -> Path:
    shutil.copy(EXAMPLE_CATALOG, directory / "catalog.csv")
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Pipeline test\n"
        "catalog: catalog.csv\n"
        "copy:\n"
        f"  channels: [{', '.join(channels)}]\n"
        "  tones: [energetic]\n"
        f"  variants: {variants}\n"
        "  model: tiny-llama\n"
        "  max_new_tokens: 8\n"
        "  candidates: 2\n"
    )
    return path


def environment(tmp_path: Path, store_root: Path, database_url: str, broker_url: str) -> dict:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(store_root),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": broker_url,
        "CONTENTFAB_COPY_MODEL": "tiny-llama",
        "CONTENTFAB_CHUNK_SIZE": "4",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }


def check_assets(database_url: str, campaign_id: int, *, expected_jobs: int) -> list[Asset]:
    sessions = configure(database_url)
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.finished_at is not None
        jobs = session.scalars(select(Job).where(Job.campaign_id == campaign_id)).all()
        assert len(jobs) == expected_jobs
        assert {j.status for j in jobs} <= {JobStatus.DONE, JobStatus.FAILED}
        assets = session.scalars(select(Asset).where(Asset.campaign_id == campaign_id)).all()
        done = [j for j in jobs if j.status == JobStatus.DONE]
        assert len(assets) == len(done) > 0
        slots = {(a.product_id, a.kind, a.channel, a.variant) for a in assets}
        assert len(slots) == len(assets)
        for asset in assets:
            assert asset.sha256 == hashlib.sha256(asset.text.encode()).hexdigest()
            meta = asset.meta
            assert meta["model"]["name"] == "tiny-llama"
            assert len(meta["model"]["sha256"]) == 64
            assert meta["device"] == "CPUExecutionProvider"
            assert meta["worker"] and meta["task_id"]
            assert meta["sampling"]["seed"] >= 0 and "prompt" in meta
        for job in jobs:
            if job.status == JobStatus.FAILED:
                assert job.last_error
    sessions.kw["bind"].dispose()
    return list(assets)


def test_run_on_the_embedded_default(tmp_path, tiny_model_store):
    """`contentfab run`: SQLite file, SQLite broker, a real worker process, a progress bar."""
    campaign = write_campaign(tmp_path, channels=["email_subject", "search_headline"])
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    env = environment(tmp_path, tiny_model_store.root, db_url,
                      f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}")
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output
    assert "query: contentfab assets --campaign 1" in result.output
    check_assets(db_url, 1, expected_jobs=8 * 2 * 2)

    as_json = runner.invoke(app, ["assets", "--campaign", "1", "--format", "json"], env=env)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert as_json.exit_code == 0 and rows
    assert {r["channel"] for r in rows} <= {"email_subject", "search_headline"}
    as_csv = runner.invoke(app, ["assets", "--campaign", "1", "--format", "csv"], env=env)
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == len(rows)
    status = runner.invoke(app, ["status", "1", "--json"], env=env)
    assert json.loads(status.stdout)["status"] in ("done", "failed")


@pytest.mark.services
def test_step_by_step_on_redis_and_postgresql(tmp_path, tiny_model_store, pg_url, redis_url):
    """enqueue → worker → status → assets, with Redis as broker and PostgreSQL as database."""
    from db.migrate import upgrade

    upgrade(pg_url)
    campaign = write_campaign(tmp_path, channels=["email_subject"], variants=1)
    env = environment(tmp_path, tiny_model_store.root, pg_url, redis_url)
    enqueued = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert enqueued.exit_code == 0, enqueued.output
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = runner.invoke(app, ["status", "1", "--json"], env=env)
            if json.loads(status.stdout)["status"] in ("done", "failed"):
                break
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.5)
        else:
            pytest.fail("campaign did not finish")
    finally:
        stop_worker(worker)
    check_assets(pg_url, 1, expected_jobs=8)
    again = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert again.exit_code == 2 and "already enqueued as campaign 1" in again.output


@pytest.mark.services
def test_bad_input_stores_nothing_and_sends_nothing(tmp_path, tiny_model_store, pg_url, redis_url):
    import redis

    from db.migrate import upgrade

    upgrade(pg_url)
    campaign = write_campaign(tmp_path, channels=["email_subject"])
    with (tmp_path / "catalog.csv").open("a") as f:
        f.write("NW-BAD,Broken price row,desc,Camping,-5,USD,\n")
    env = environment(tmp_path, tiny_model_store.root, pg_url, redis_url)
    result = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert result.exit_code == 2
    assert "catalog.csv, row 10, field 'price'" in result.output
    assert "Traceback" not in result.output
    sessions = configure(pg_url)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    sessions.kw["bind"].dispose()
    assert redis.Redis.from_url(redis_url).llen("copy") == 0


def test_a_missing_model_is_refused_before_anything_is_stored(tmp_path):
    campaign = write_campaign(tmp_path, channels=["email_subject"])
    db_url = f"sqlite:///{tmp_path / 'cf.db'}"
    env = environment(tmp_path, tmp_path / "empty-store", db_url,
                      f"sqla+sqlite:///{tmp_path / 'broker.db'}")
    result = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert result.exit_code == 2
    assert "contentfab models build tiny-llama" in result.output
    assert not (tmp_path / "cf.db").exists() or _campaigns(db_url) == 0


def _campaigns(db_url: str) -> int:
    sessions = configure(db_url)
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_a_failing_slot_fails_its_job_not_the_campaign(tmp_path, tiny_model_store):
    # The tiny model reads at most 512 tokens; the product-description prompt is longer, so
    # those jobs fail with the reason while the subject lines of the same campaign are made.
    campaign = write_campaign(tmp_path, channels=["email_subject", "product_description"],
                              variants=1)
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    env = environment(tmp_path, tiny_model_store.root, db_url,
                      f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}")
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output
    sessions = configure(db_url)
    with sessions() as session:
        campaign_row = session.get(Campaign, 1)
        assert campaign_row.status == CampaignStatus.DONE
        failed = session.scalars(select(Job).where(Job.status == JobStatus.FAILED)).all()
        assert {j.channel for j in failed} == {"product_description"}
        assert all("reads at most 512" in j.last_error for j in failed)
    assert "failed ×8" in result.output


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "-Q", "copy,images,recs",
         "-c", "1", "-l", "WARNING", "-n", f"test-{os.getpid()}@%h"],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
