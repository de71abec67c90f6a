"""method: two_tower end to end: `models build two-tower` (torch) → campaign → real worker → assets.

One synthetic shop (bench/recs_data.py) just above the training threshold; the two-tower model
trains on it in seconds. The same campaign is then run with the embedding method so the two
lists can be compared; validation refusals are checked through `enqueue` (nothing stored).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bench.recs_data import make_shop, write_shop
from contentfab.cli import app
from contentfab.db.models import Asset, Campaign, ModelRecord
from contentfab.db.session import configure
from contentfab.exporters import ModelStore, build_model
from contentfab.exporters.two_tower import MIN_EVENTS, MIN_USERS

runner = CliRunner()


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelStore, Path]:
    """tiny-bert, and a two-tower model `tt` trained through the CLI on a fresh shop."""
    store = ModelStore(tmp_path_factory.mktemp("tt-store"))
    build_model("tiny-bert", store)
    data = tmp_path_factory.mktemp("tt-shop")
    shop = make_shop(3100, 120, seed=1)
    assert len(shop.events) >= MIN_EVENTS and shop.n_users >= MIN_USERS
    write_shop(shop, data)
    env = {"CONTENTFAB_MODEL_STORE": str(store.root), "CONTENTFAB_DATA_DIR": str(data / "d")}
    result = runner.invoke(
        app,
        ["models", "build", "two-tower", "--interactions", str(data / "interactions.csv"),
         "--catalog", str(data / "catalog.csv"), "--name", "tt", "--text-model", "tiny-bert"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return store, data


def campaign(directory: Path, method: str, model: str, catalog: str = "catalog.csv") -> Path:
    users = [row["user_id"] for row in csv.DictReader((directory / "interactions.csv").open())]
    chosen = sorted(set(users))[:12]
    path = directory / f"campaign-{method}-{model}-{catalog}.yaml"
    path.write_text(
        "name: Two-tower test\n"
        f"catalog: {catalog}\n"
        "recommendations:\n"
        "  interactions: interactions.csv\n"
        "  segments:\n"
        "    - {name: coffee, description: coffee lovers who want premium espresso gear}\n"
        f"  users: [{', '.join([*chosen, 'nobody-yet'])}]\n"
        "  k: 5\n"
        "  in_stock_only: false\n"
        f"  method: {method}\n"
        f"  model: {model}\n"
    )
    return path


def env_for(tmp_path: Path, store: ModelStore) -> dict[str, str]:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(store.root),
        "CONTENTFAB_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}",
        "CONTENTFAB_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}",
        "CONTENTFAB_RECS_CHUNK_SIZE": "5",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }


def test_build_records_the_data_and_refuses_too_little(shop_store, tmp_path):
    store, data = shop_store
    manifest = store.manifest("tt")
    interactions = manifest.source["interactions"]
    import hashlib

    digest = hashlib.sha256((data / "interactions.csv").read_bytes()).hexdigest()
    assert interactions["sha256"] == digest and interactions["users"] == 3100
    assert interactions["events"] >= MIN_EVENTS
    assert manifest.source["catalog"]["products"] == 120 == len(manifest.recommendation.product_ids)
    assert manifest.source["text_model"]["name"] == "tiny-bert"
    assert manifest.source["training"]["epochs"] == 4 and manifest.family == "two-tower"
    assert manifest.parity["max_abs_diff"] <= 1e-4 and store.is_valid("tt")
    listed = runner.invoke(app, ["models", "list"], env={"CONTENTFAB_MODEL_STORE": str(store.root)})
    assert "max abs diff" in " ".join(listed.output.split()), listed.output

    small = tmp_path / "small"
    write_shop(make_shop(200, 40, seed=3), small)
    result = runner.invoke(
        app,
        ["models", "build", "two-tower", "--interactions", str(small / "interactions.csv"),
         "--catalog", str(small / "catalog.csv"), "--name", "tt-small", "--text-model",
         "tiny-bert"],
        env={"CONTENTFAB_MODEL_STORE": str(store.root)},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"needs at least {MIN_EVENTS:,} events by {MIN_USERS:,} users" in result.output
    assert not store.model_dir("tt-small").exists()
    no_data = runner.invoke(
        app, ["models", "build", "two-tower"], env={"CONTENTFAB_MODEL_STORE": str(store.root)}
    )
    assert no_data.exit_code == 2 and "--interactions FILE --catalog FILE" in no_data.output


@pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("redis+pg", marks=pytest.mark.services)]
)
def test_two_tower_lists_through_a_real_worker(shop_store, tmp_path, backend, request):
    store, data = shop_store
    for name in ("catalog.csv", "interactions.csv"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    env = env_for(tmp_path, store)
    if backend == "redis+pg":
        env["CONTENTFAB_DATABASE_URL"] = request.getfixturevalue("pg_url")
        env["CONTENTFAB_BROKER_URL"] = request.getfixturevalue("redis_url")
    for method, model in (("two_tower", "tt"), ("embedding", "tiny-bert")):
        result = runner.invoke(
            app, ["run", str(campaign(tmp_path, method, model)), "--timeout", "240"], env=env
        )
        assert result.exit_code == 0, result.output
    manifest = store.manifest("tt")
    sessions = configure(env["CONTENTFAB_DATABASE_URL"])
    with sessions() as session:
        lists: dict[int, dict[tuple[str, str], Asset]] = {1: {}, 2: {}}
        for asset in session.scalars(select(Asset)):
            lists[asset.campaign_id][(asset.channel, asset.subject)] = asset
        registered = session.scalars(select(ModelRecord).where(ModelRecord.name == "tt")).all()
        assert [r.sha256 for r in registered] == [manifest.files["user_tower.onnx"]]
    sessions.kw["bind"].dispose()
    assert lists[1].keys() == lists[2].keys() and len(lists[1]) == 12 + 1 + 1
    for (channel, subject), asset in lists[1].items():
        meta = asset.meta
        if channel == "user" and subject != "nobody-yet":
            assert meta["method"] == "two_tower" and meta["strategy"] == "history"
            assert meta["model"]["name"] == "tt"
            assert meta["model"]["version"] == manifest.version
            assert meta["model"]["sha256"] == manifest.files["user_tower.onnx"]
            assert meta["model"]["text_model"]["name"] == "tiny-bert"
            assert len(meta["items"]) == 5
        else:  # segments and cold users: the text path, and the reason says so
            assert meta["method"] == "embedding" and meta["model"]["name"] == "tiny-bert"
            assert all("text embedding" in item["reason"] for item in meta["items"])
        assert lists[2][channel, subject].meta["method"] == "embedding"
    users = [key for key in lists[1] if key[0] == "user" and key[1] != "nobody-yet"]
    differ = [key for key in users if lists[1][key].text != lists[2][key].text]
    assert len(differ) >= len(users) // 2, "the two-tower lists should not be the text lists"
    # Segments rank the same way under both methods (same text model, same rules).
    assert lists[1]["segment", "coffee"].text == lists[2]["segment", "coffee"].text


def test_a_two_tower_campaign_is_refused_before_anything_is_stored(shop_store, tmp_path):
    store, data = shop_store
    for name in ("catalog.csv", "interactions.csv"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    rows = list(csv.DictReader((data / "catalog.csv").open()))
    for row in rows[:80]:  # a catalog the model was mostly not trained on
        row["id"] = "NEW-" + row["id"]
    with (tmp_path / "other.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    known = {r["id"] for r in rows}
    with (tmp_path / "interactions.csv").open() as f:
        kept = [r for r in csv.DictReader(f) if r["product_id"] in known]
    with (tmp_path / "interactions.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(kept[0]))
        writer.writeheader()
        writer.writerows(kept)
    env = env_for(tmp_path, store)
    cases = [
        (campaign(tmp_path, "two_tower", "missing-tt"), "'missing-tt' is not in the model store"),
        (campaign(tmp_path, "two_tower", "tiny-bert"), "needs one built with `contentfab models"),
        (
            campaign(tmp_path, "two_tower", "tt", "other.csv"),
            "does not know 80 of the campaign's 120 products",
        ),
    ]
    for path, reason in cases:
        result = runner.invoke(app, ["enqueue", str(path)], env=env)
        assert result.exit_code == 2, result.output
        assert "field 'recommendations.model'" in result.output
        assert reason in " ".join(result.output.split()), result.output
    no_model = tmp_path / "no-model.yaml"
    no_model.write_text(
        campaign(tmp_path, "two_tower", "tt").read_text().replace("  model: tt\n", "")
    )
    result = runner.invoke(app, ["enqueue", str(no_model)], env=env)
    assert result.exit_code == 2 and "needs 'model:' naming a two-tower model" in " ".join(
        result.output.split()
    )
    database = tmp_path / "data" / "contentfab.db"
    if database.exists():  # nothing was stored, no message sent
        sessions = configure(env["CONTENTFAB_DATABASE_URL"])
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Campaign)) == 0
        sessions.kw["bind"].dispose()
    assert not (tmp_path / "data" / "broker.db").exists()
    # `run` starts its worker while the campaign is stored; a refusal there stops it again
    # and leaves no worker log of a campaign that does not exist.
    result = runner.invoke(app, ["run", str(cases[2][0]), "--timeout", "60"], env=env)
    assert result.exit_code == 2, result.output
    assert cases[2][1] in " ".join(result.output.split()), result.output
    sessions = configure(env["CONTENTFAB_DATABASE_URL"])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    sessions.kw["bind"].dispose()
    assert not list((tmp_path / "data" / "logs").glob("worker-*.log"))


def test_unknown_products_rank_on_popularity_alone(shop_store):
    """Below the refusal threshold, a product the model does not know gets a zero vector."""
    import numpy as np

    from contentfab.workers.recommender import History
    from contentfab.workers.two_tower import TwoTower, unknown_products

    store, _ = shop_store
    manifest = store.manifest("tt")
    model = TwoTower.load(store.model_dir("tt"), manifest)
    skus = [manifest.recommendation.product_ids[3], "NEW-1", manifest.recommendation.product_ids[0]]
    assert unknown_products(manifest, skus) == ["NEW-1"]
    vectors, rows = model.for_catalog(skus)
    assert rows.tolist() == [3, -1, 0] and not vectors[1].any()
    assert np.allclose(vectors[0], model.item_vectors[3])
    events = np.zeros(2, np.int64)
    strength = np.ones(2, np.float32)
    only_new = History(np.array([1, 1]), events, strength)
    mixed = History(np.array([1, 0]), events, strength)
    got = model.campaign_user_vectors([only_new, mixed], rows)
    assert not got[0].any()  # nothing the model knows: no two-tower vector
    want = model.user_vectors([History(np.array([3]), events[:1], strength[:1])])
    assert np.allclose(got[1], want[0], atol=1e-6)
