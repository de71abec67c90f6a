"""Image campaigns through real processes: CLI → SQL → broker → Celery worker → ONNX → files.

Runs on the embedded default (SQLite + kombu's SQLAlchemy transport) and on Redis + PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from contentfab.cli import app
from contentfab.db.models import Asset, Campaign, CampaignStatus, ContentKind, Job, JobStatus
from contentfab.db.session import configure
from contentfab.exporters import ModelStore, build_model
from contentfab.workers.images.packshots import packshot
from tests.pipeline import stop_worker, wait_for

runner = CliRunner()


@pytest.fixture(scope="module")
def cppn_store(tmp_path_factory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("cppn-pipeline-store"))
    build_model("cppn-backgrounds", store)
    return store


def write_image_campaign(directory: Path) -> Path:
    (directory / "photos").mkdir()
    for seed in (1, 2):
        Image.fromarray(packshot(seed, size=(400, 400)).rgb).save(
            directory / "photos" / f"p{seed}.png"
        )
    (directory / "catalog.csv").write_text(
        "id,title,price,currency,image\n"
        "P-1,Trail Thermos 750 ml,49.90,USD,photos/p1.png\n"
        "P-2,Canvas Weekender Bag,129,EUR,photos/p2.png\n"
        "P-3,Gift Card,25,USD,\n",
        encoding="utf-8",
    )
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Image pipeline test\n"
        "catalog: catalog.csv\n"
        "brand: {name: Northwind}\n"
        "images:\n"
        "  formats: [square, '9:16']\n"
        "  variants: 2\n"
        "  background: {mode: generated, style: soft, palette: ['#1c3454', '#ebe2d2', '#d66340']}\n"
        "  output: webp\n"
    )
    return path


def environment(tmp_path: Path, store: Path, database_url: str, broker_url: str) -> dict:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(store),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": broker_url,
        "CONTENTFAB_CHUNK_SIZE": "4",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("redis+pg", marks=pytest.mark.services)]
)
def test_an_image_campaign_makes_every_creative(tmp_path, cppn_store, backend, request):
    if backend == "embedded":
        db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
        broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    else:
        db_url, broker = request.getfixturevalue("pg_url"), request.getfixturevalue("redis_url")
    campaign = write_image_campaign(tmp_path)
    env = environment(tmp_path, cppn_store.root, db_url, broker)
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output

    sessions = configure(db_url)
    with sessions() as session:
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
        jobs = session.scalars(select(Job)).all()
        assert len(jobs) == 3 * 2 * 2
        assert all(j.status == JobStatus.DONE for j in jobs), [j.last_error for j in jobs]
        assets = session.scalars(select(Asset)).all()
        assert len(assets) == len(jobs)
        for asset in assets:
            path = Path(url2pathname(urlparse(asset.uri).path))
            data = path.read_bytes()
            assert hashlib.sha256(data).hexdigest() == asset.sha256 == path.stem
            assert path.is_relative_to(tmp_path / "data" / "assets")
            image = Image.open(path)
            assert image.format == "WEBP"
            assert image.size == {"square": (1080, 1080), "story": (1080, 1920)}[asset.channel]
            meta = asset.meta
            assert meta["bytes"] == len(data) and meta["encoding"] == "webp"
            assert meta["generator"]["name"] == "cppn-backgrounds"
            assert meta["background"]["seed"] >= 0 and meta["worker"] and meta["task_id"]
            if asset.product.sku == "P-3":
                assert meta["card"] is True and meta["matte"] is None
            else:  # this store holds no matting model: the studio matte, and it says why
                assert meta["matte"]["method"] == "studio-backdrop-v1"
                assert meta["matte"]["choice"]["policy"] == "model"
                assert "no matting model" in meta["matte"]["choice"]["reason"]
        seeds = {(a.product_id, a.channel, a.variant): a.meta["background"]["seed"] for a in assets}
        assert len(set(seeds.values())) == len(seeds)
    sessions.kw["bind"].dispose()


def test_bad_image_sections_are_refused_with_their_fields(tmp_path):
    campaign = write_image_campaign(tmp_path)
    campaign.write_text(
        campaign.read_text().replace("[square, '9:16']", "[square, huge]")
        + "  matte_model: missing.onnx\n  headline_from_channel: fax\n"
    )
    env = environment(tmp_path, tmp_path / "store", f"sqlite:///{tmp_path / 'x.db'}",
                      f"sqla+sqlite:///{tmp_path / 'b.db'}")  # fmt: skip
    result = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert result.exit_code == 2, result.output
    assert "images.formats.1" in result.output and "unknown format 'huge'" in result.output
    assert "images.headline_from_channel" in result.output


def test_text_to_image_backgrounds_through_a_worker(tmp_path, cppn_store):
    """A text-to-image campaign on the tiny SD-Turbo-layout pipeline, by store name."""
    build_model("tiny-sd-turbo", cppn_store)
    campaign = write_image_campaign(tmp_path)
    campaign.write_text(
        campaign.read_text()
        .replace("[square, '9:16']", "['1.91:1']")
        .replace("variants: 2", "variants: 1")
        .replace(
            "{mode: generated, style: soft,",
            "{mode: text_to_image, prompt: 'calm backdrop for {title}', pipeline: tiny-sd-turbo,"
            " steps: 2,",
        )
    )
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    env = environment(tmp_path, cppn_store.root, db_url, broker)
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output

    sessions = configure(db_url)
    with sessions() as session:
        assets = session.scalars(select(Asset)).all()
        assert len(assets) == 3, [j.last_error for j in session.scalars(select(Job))]
        for asset in assets:
            generator = asset.meta["generator"]
            assert generator["name"] == "tiny-sd-turbo" and generator["steps"] == 2
            assert generator["prompt"] == f"calm backdrop for {asset.product.title}"
            assert asset.meta["background"]["mode"] == "text_to_image"
            path = Path(url2pathname(urlparse(asset.uri).path))
            assert Image.open(path).size == (1200, 628)
    sessions.kw["bind"].dispose()


def _worker(env: dict, queues: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "worker", "-Q", queues, "-c", "1",
         "-l", "INFO", "-n", f"{queues}-{os.getpid()}@%h"],
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.slow
def test_image_jobs_wait_for_their_products_copy(tmp_path, smollm2_store):
    """Images whose headline comes from copy wait (in SQL, by countdown) until it is written."""
    build_model("cppn-backgrounds", smollm2_store)
    campaign = write_image_campaign(tmp_path)
    campaign.write_text(
        campaign.read_text()
        .replace("[square, '9:16']", "[square]")
        .replace("variants: 2", "variants: 1")
        + "  headline_from_channel: search_headline\n"
        "copy:\n  channels: [search_headline]\n  tones: [energetic]\n  variants: 1\n"
        "  model: smollm2-135m-instruct\n  max_new_tokens: 40\n  candidates: 1\n"
    )
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    env = environment(tmp_path, smollm2_store.root, db_url, broker)
    enqueued = runner.invoke(app, ["enqueue", str(campaign)], env=env)
    assert enqueued.exit_code == 0, enqueued.output

    # Only an image worker at first: it must defer the jobs, not make them without headlines.
    images_log, copy_log = tmp_path / "images.log", tmp_path / "copy.log"
    image_worker = _worker(env, "images", images_log)
    copy_worker = None
    sessions = configure(db_url)
    try:
        wait_for(lambda: "wait for their product's copy" in images_log.read_text(), 90,
                 "the image worker to defer")  # fmt: skip
        with sessions() as session:
            assert not session.scalars(select(Asset)).all()
        copy_worker = _worker(env, "copy", copy_log)

        def finished() -> bool:
            with sessions() as session:
                return session.get(Campaign, 1).status in (
                    CampaignStatus.DONE,
                    CampaignStatus.FAILED,
                )

        wait_for(finished, 400, "the campaign to finish", interval=1)
    finally:
        for worker in (image_worker, copy_worker):
            if worker is not None:
                stop_worker(worker)
    with sessions() as session:
        images = session.scalars(select(Asset).where(Asset.kind == ContentKind.IMAGE)).all()
        copy = {
            a.product_id: a.text
            for a in session.scalars(select(Asset).where(Asset.kind == ContentKind.COPY))
        }
        assert len(images) == 3 and copy, images_log.read_text()[-3000:]
        for image in images:
            assert image.meta["headline"] == copy.get(image.product_id)
            if image.product_id in copy:
                created = session.scalars(
                    select(Asset.created_at).where(
                        Asset.kind == ContentKind.COPY, Asset.product_id == image.product_id
                    )
                ).one()
                assert image.created_at >= created
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize(
    ("background", "expected"),
    [
        ("{mode: generated, style: soft}", "contentfab models build cppn-backgrounds"),
        (
            "{mode: text_to_image, prompt: backdrop, pipeline: tiny-sd-turbo}",
            "contentfab models build tiny-sd-turbo",
        ),
        ("{mode: text_to_image, prompt: backdrop}", "CONTENTFAB_TEXT_TO_IMAGE_PIPELINE"),
        (
            "{mode: text_to_image, prompt: backdrop, pipeline: photos}",
            "not a complete pipeline (missing text_encoder/model.onnx",
        ),
    ],
)
@pytest.mark.parametrize("command", ["enqueue", "run"])
def test_missing_image_models_are_refused_before_anything_is_stored(
    tmp_path, background, expected, command
):
    campaign = write_image_campaign(tmp_path)
    text = campaign.read_text()
    start = text.index("  background:")
    campaign.write_text(text[:start] + f"  background: {background}\n" + "  output: webp\n")
    db_file, broker_file = tmp_path / "cf.db", tmp_path / "broker.db"
    env = environment(tmp_path, tmp_path / "empty-store", f"sqlite:///{db_file}",
                      f"sqla+sqlite:///{broker_file}")  # fmt: skip
    result = runner.invoke(app, [command, str(campaign)], env=env)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert "images." in result.output  # names the field
    assert (
        _rows(db_file, "campaign") == _rows(db_file, "job") == 0
        and _rows(broker_file, "kombu_message") == 0
    )


def _rows(path: Path, table: str) -> int:
    """Rows in ``table`` of a SQLite file (0 when the file or table was never created)."""
    import sqlite3

    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        found = connection.execute(
            "select count(*) from sqlite_master where type = 'table' and name = ?", (table,)
        ).fetchone()[0]
        return connection.execute(f"select count(*) from {table}").fetchone()[0] if found else 0


def test_assets_at_a_file_url_through_a_worker_and_the_api(tmp_path, cppn_store):
    """CONTENTFAB_ASSET_URL elsewhere: the worker writes there, the API still serves the file."""
    from fastapi.testclient import TestClient

    from contentfab.api import create_api
    from contentfab.core.settings import Settings

    campaign = write_image_campaign(tmp_path)
    campaign.write_text(
        campaign.read_text()
        .replace("[square, '9:16']", "['1.91:1']")
        .replace("variants: 2", "variants: 1")
        .replace("{mode: generated, style: soft,", "{mode: flat,")
    )
    cdn = tmp_path / "cdn"
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    env = {**environment(tmp_path, cppn_store.root, db_url, broker),
           "CONTENTFAB_ASSET_URL": cdn.as_uri()}  # fmt: skip
    result = runner.invoke(app, ["run", str(campaign), "--timeout", "240"], env=env)
    assert result.exit_code == 0, result.output

    sessions = configure(db_url)
    with sessions() as session:
        assets = session.scalars(select(Asset)).all()
        assert len(assets) == 3
        files = {a.id: Path(url2pathname(urlparse(a.uri).path)) for a in assets}
    assert all(path.is_relative_to(cdn / "images") for path in files.values())
    assert not (tmp_path / "data" / "assets").exists()
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, asset_url=cdn.as_uri())
    with TestClient(create_api(settings, sessions), base_url="http://localhost") as client:
        for asset_id, path in files.items():
            response = client.get(f"/api/assets/{asset_id}/file")
            assert response.status_code == 200 and response.content == path.read_bytes()
    sessions.kw["bind"].dispose()
