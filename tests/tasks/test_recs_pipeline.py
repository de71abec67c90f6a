"""Recommendations through real processes: CLI → SQL → broker → Celery worker → ONNX → assets.

The tiny random-weight encoder proves the plumbing (its vectors carry no meaning); the lists
are checked against the campaign's rules, which hold whatever the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bench.recs_data import make_shop, write_shop
from contentfab.cli import app
from contentfab.db.models import (
    Asset,
    Campaign,
    CampaignStatus,
    ContentKind,
    Job,
    JobStatus,
    ProductEmbedding,
)
from contentfab.db.session import configure
from contentfab.exporters import ModelStore, build_model

runner = CliRunner()


@pytest.fixture(scope="session")
def tiny_bert_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("recs-store"))
    build_model("tiny-bert", store)
    return store


def write_recs_campaign(directory: Path, users: int = 30, products: int = 60) -> Path:
    shop = make_shop(users, products, seed=1)
    write_shop(shop, directory)
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Recs pipeline test\n"
        "catalog: catalog.csv\n"
        "recommendations:\n"
        "  interactions: interactions.csv\n"
        "  segments:\n"
        "    - {name: outdoor-budget, description: outdoor enthusiasts on a budget}\n"
        "    - {name: coffee, description: coffee lovers who want premium espresso gear}\n"
        "  users: all\n"
        "  k: 5\n"
        "  category_quota: 2\n"
        "  diversity: 0.3\n"
        "  price_band: [0, 150]\n"
        "  model: tiny-bert\n"
    )
    return path


def environment(tmp_path: Path, store: ModelStore, db_url: str, broker: str) -> dict:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(store.root),
        "CONTENTFAB_DATABASE_URL": db_url,
        "CONTENTFAB_BROKER_URL": broker,
        "CONTENTFAB_RECS_CHUNK_SIZE": "7",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }


def check_lists(db_url: str, directory: Path, users: int) -> None:
    import csv

    catalog = {row["id"]: row for row in csv.DictReader((directory / "catalog.csv").open())}
    purchased: dict[str, set[str]] = {}
    for row in csv.DictReader((directory / "interactions.csv").open()):
        if row["event"] == "purchase":
            purchased.setdefault(row["user_id"], set()).add(row["product_id"])
    sessions = configure(db_url)
    with sessions() as session:
        campaign = session.get(Campaign, 1)
        assert campaign.status == CampaignStatus.DONE
        jobs = session.scalars(select(Job)).all()
        assert len(jobs) == users + 2
        assert all(j.status == JobStatus.DONE and j.attempts == 1 for j in jobs)
        assets = session.scalars(select(Asset)).all()
        assert len(assets) == len(jobs)
        assert len({(a.channel, a.subject) for a in assets}) == len(assets)
        for asset in assets:
            assert asset.kind == ContentKind.RECOMMENDATION and asset.product_id is None
            items = asset.meta["items"]
            assert json.loads(asset.text) == [item["sku"] for item in items]
            assert 0 < len(items) <= 5 and len({i["sku"] for i in items}) == len(items)
            categories = [catalog[i["sku"]]["category"] for i in items]
            assert max(categories.count(c) for c in categories) <= 2
            for item in items:
                product = catalog[item["sku"]]
                assert 0 <= float(product["price"]) <= 150
                assert json.loads(product["attributes"])["in_stock"]
                assert item["reason"]
                assert item["sku"] not in purchased.get(asset.subject, set())
            assert asset.meta["model"]["name"] == "tiny-bert"
            assert asset.meta["device"] == "CPUExecutionProvider" and asset.meta["worker"]
        # The catalog was embedded once, whatever the number of chunks.
        embedded = session.scalar(select(func.count()).select_from(ProductEmbedding))
        assert embedded == len(catalog)
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("redis+pg", marks=pytest.mark.services)]
)
def test_recommendations_through_a_real_worker(tmp_path, tiny_bert_store, backend, request):
    if backend == "embedded":
        db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
        broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    else:
        db_url, broker = request.getfixturevalue("pg_url"), request.getfixturevalue("redis_url")
    campaign = write_recs_campaign(tmp_path)
    env = environment(tmp_path, tiny_bert_store, db_url, broker)
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output
    check_lists(db_url, tmp_path, users=30)
    listed = runner.invoke(
        app, ["assets", "--campaign", "1", "--kind", "recommendation", "--format", "json"], env=env
    )
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["channel"] for r in rows} == {"user", "segment"}
    assert {r["subject"] for r in rows if r["channel"] == "segment"} == {"outdoor-budget", "coffee"}


def test_a_redelivered_chunk_writes_no_second_list(tmp_path, tiny_bert_store):
    """Sending every job again after the campaign finished changes nothing."""
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    campaign = write_recs_campaign(tmp_path, users=8, products=40)
    env = environment(tmp_path, tiny_bert_store, db_url, broker)
    assert runner.invoke(app, ["run", str(campaign)], env=env).exit_code == 0
    from contentfab.core.settings import Settings
    from contentfab.tasks.app import RECS_TASK, create_app

    settings = Settings(**{k.removeprefix("CONTENTFAB_").lower(): v for k, v in env.items()})
    celery = create_app(settings)
    sessions = configure(db_url)
    with sessions() as session:
        ids = list(session.scalars(select(Job.id)))
    celery.send_task(RECS_TASK, args=[1, ids], queue="recs")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "worker", "-Q", "recs", "-c", "1",
         "-l", "WARNING", "-n", f"recs-{os.getpid()}@%h"],
        env={**os.environ, **env},
    )  # fmt: skip
    try:
        time.sleep(8)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Asset)) == len(ids)
        assert all(j.attempts == 1 for j in session.scalars(select(Job)))
    sessions.kw["bind"].dispose()
