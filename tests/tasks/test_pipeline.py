"""The whole path, through real processes: CLI → SQL → broker → Celery worker → ONNX → assets.

Runs on the embedded default (SQLite + kombu's SQLAlchemy transport) and on Redis + PostgreSQL,
never with ``task_always_eager``. The asset-producing runs use the real SmolLM2 export (``slow``);
the fast runs use the tiny random-weight model, whose gibberish must never pass the copy gates,
so they prove the plumbing and the failure path: every job ends failed, with its reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time

import pytest
from sqlalchemy import func, select

from contentfab.cli import app
from contentfab.db.models import Asset, Campaign, CampaignStatus, Job, JobStatus, ModelRecord
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


def check_assets(
    database_url: str, campaign_id: int, *, expected_jobs: int, model: str = MODEL
) -> list[Asset]:
    """Every job finished; each asset is unique per slot, passes the gates, has provenance."""
    from contentfab.core.channels import CHANNELS
    from contentfab.workers.copy.gates import check
    from contentfab.workers.copy.slots import ProductFacts

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
            assert meta["model"]["name"] == model
            assert len(meta["model"]["sha256"]) == 64
            assert meta["device"] == "CPUExecutionProvider"
            assert meta["worker"] and meta["task_id"]
            assert meta["sampling"]["seed"] >= 0 and "prompt" in meta
            product = asset.product
            facts = ProductFacts(
                sku=product.sku,
                title=product.title,
                description=product.description,
                category=product.category,
                attributes=product.attributes,
                price=None if product.price is None else format(product.price.normalize(), "f"),
                currency=product.currency,
            )
            assert check(asset.text, CHANNELS[asset.channel], facts) == []
        for job in jobs:
            if job.status == JobStatus.FAILED:
                assert job.last_error
        # the worker registered the exact model file that made them
        registered = session.scalars(select(ModelRecord).where(ModelRecord.name == model)).all()
        assert [r.sha256 for r in registered] == [assets[0].meta["model"]["sha256"]]
    sessions.kw["bind"].dispose()
    return list(assets)


@pytest.mark.slow
def test_run_on_the_embedded_default(tmp_path, smollm2_store):
    """`contentfab run`: SQLite file, SQLite broker, a real worker process, a progress bar."""
    from contentfab.exporters import build_model

    build_model("minilm-l6-v2", smollm2_store)  # copy dedupe and ranking use it when present
    campaign = write_campaign(
        tmp_path, channels=["email_subject", "search_headline"], variants=1, model=MODEL
    )
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    env = environment(tmp_path, smollm2_store.root, db_url, broker, model=MODEL)
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "600"], env=env)
    assert result.exit_code == 0, result.output
    assert "query: contentfab assets --campaign 1" in result.output
    for asset in check_assets(db_url, 1, expected_jobs=8 * 2):
        assert asset.meta["dedupe"]["embedding_model"]["name"] == "minilm-l6-v2"
        assert -1.0 <= asset.meta["score_details"]["relevance"] <= 1.0

    as_json = runner.invoke(app, ["assets", "--campaign", "1", "--format", "json"], env=env)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert as_json.exit_code == 0 and rows
    assert {r["channel"] for r in rows} <= {"email_subject", "search_headline"}
    as_csv = runner.invoke(app, ["assets", "--campaign", "1", "--format", "csv"], env=env)
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == len(rows)
    status = runner.invoke(app, ["status", "1", "--json"], env=env)
    summary = json.loads(status.stdout)
    assert summary["status"] == "done"
    assert summary["models"][0]["model"].startswith(f"{MODEL}@")  # which model made them


@pytest.mark.slow
@pytest.mark.services
def test_step_by_step_on_redis_and_postgresql(tmp_path, smollm2_store, pg_url, redis_url):
    """enqueue → worker → status → assets, with Redis as broker and PostgreSQL as database."""
    from contentfab.db.migrate import upgrade

    upgrade(pg_url)
    campaign = write_campaign(tmp_path, channels=["email_subject"], variants=1, model=MODEL)
    env = environment(tmp_path, smollm2_store.root, pg_url, redis_url, model=MODEL)
    enqueued = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert enqueued.exit_code == 0, enqueued.output
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = runner.invoke(app, ["status", "1", "--json"], env=env)
            if json.loads(status.stdout)["status"] in ("done", "failed"):
                break
            assert worker.poll() is None, worker_log(worker)
            time.sleep(0.5)
        else:
            pytest.fail("campaign did not finish")
    finally:
        stop_worker(worker)
    check_assets(pg_url, 1, expected_jobs=8)
    listed = runner.invoke(app, ["assets", "--campaign", "1", "--format", "json"], env=env)
    assert len(listed.stdout.splitlines()) >= 1
    again = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert again.exit_code == 2 and "already enqueued as campaign 1" in again.output


@pytest.mark.services
def test_bad_input_stores_nothing_and_sends_nothing(tmp_path, tiny_model_store, pg_url, redis_url):
    import redis

    from contentfab.db.migrate import upgrade

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
    env = environment(
        tmp_path, tmp_path / "empty-store", db_url, f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    )
    result = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert result.exit_code == 2
    assert "contentfab models build tiny-llama" in result.output
    assert not (tmp_path / "cf.db").exists() or _campaigns(db_url) == 0


def _campaigns(db_url: str) -> int:
    sessions = configure(db_url)
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Campaign)) or 0


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("redis+pg", marks=pytest.mark.services)]
)
def test_gibberish_is_never_delivered(tmp_path, tiny_model_store, backend, request):
    """The tiny random model's text fails the gates: every job fails with its reason, no asset."""
    if backend == "embedded":
        db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
        broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    else:
        db_url, broker = request.getfixturevalue("pg_url"), request.getfixturevalue("redis_url")
    campaign = write_campaign(
        tmp_path, channels=["email_subject", "product_description"], variants=1, products=4
    )
    env = environment(tmp_path, tiny_model_store.root, db_url, broker)
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 1, result.output  # nothing could be delivered
    assert "failed ×" in result.output and "no candidate passed the gates" in result.output
    sessions = configure(db_url)
    with sessions() as session:
        assert session.get(Campaign, 1).status == CampaignStatus.FAILED
        jobs = session.scalars(select(Job)).all()
        assert len(jobs) == 8
        assert all(j.status == JobStatus.FAILED and j.attempts == 1 for j in jobs)
        assert all("no candidate passed the gates" in j.last_error for j in jobs)
        assert session.scalar(select(func.count()).select_from(Asset)) == 0

    # `retry --failed` re-runs exactly the failed jobs, through the queue, once more.
    again = runner.invoke(app, ["retry", "1", "--failed"], env=env)
    assert again.exit_code == 0 and "sent 8 jobs" in again.output, again.output
    worker = start_worker(env)
    try:
        wait_for(lambda: _finished(sessions, 1), 120, "the retried jobs")
    finally:
        stop_worker(worker)
    with sessions() as session:
        jobs = session.scalars(select(Job)).all()
        assert all(j.status == JobStatus.FAILED and j.attempts == 2 for j in jobs)
    sessions.kw["bind"].dispose()


def _finished(sessions, campaign_id: int) -> bool:
    with sessions() as session:
        session.expire_all()
        return session.get(Campaign, campaign_id).finished_at is not None
