"""Offline evaluation of the recommender: leave-last-out recall@10 and NDCG@10 against baselines.

Data: :mod:`bench.recs_data` (a synthetic shop whose product text carries topic signal and
whose popularity does not; see its docstring). Split, per user with at least three distinct
products: the **test item** is the product the user interacted with last *for the first time*
(re-visits of older products are not predictions); everything the user did before that moment
is training data. The same rule applied to the training data gives a **validation item**,
on which every method's settings are chosen; the test items are scored once, at the end.
Every method ranks all products except those already in the user's training history.

Methods:

* ``popularity`` — decayed, event-weighted interaction totals (the recommender's own prior);
* ``als`` — ``implicit`` AlternatingLeastSquares on the event-weighted user × product matrix,
  factors / regularisation / alpha chosen on validation;
* ``embedding`` — ``workers.recommender.recommend`` exactly as the workers run it: product
  vectors from the exported ONNX MiniLM, user vectors from weighted, decayed histories, plus
  the popularity prior; weight and half-life chosen on validation;
* ``two_tower`` — :mod:`exporters.two_tower` trained in torch on the test split's training
  events only, exported to ONNX with its parity check, and ranked through ``recommend`` with
  the ONNX Runtime user vectors (:mod:`workers.two_tower`); trained once (minutes on this
  machine), so nothing is tuned: no popularity prior, half-life the embedding method's.

    python -m bench.recs_eval [--users 20000] [--products 5000] [--model minilm-l6-v2]
                              [--out bench/results-recs-eval.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.recs_data import make_shop
from contentfab.workers.recommender import (
    Catalog,
    Interactions,
    Rules,
    Subject,
    event_strength,
    group_histories,
    popularity_prior,
    product_text,
    recommend,
)

K = 10


@dataclass(frozen=True)
class Split:
    train: Interactions
    users: list[str]  # evaluated users
    held_out: np.ndarray  # catalog row per evaluated user


def leave_last_out(inter: Interactions, min_items: int = 3) -> Split:
    """Hold out each user's last newly-interacted product; keep only what came before it."""
    user_names, user_idx = np.unique(np.asarray(inter.users), return_inverse=True)
    n_items = int(inter.items.max()) + 1
    pair = user_idx.astype(np.int64) * n_items + inter.items
    order = np.lexsort((inter.timestamps, pair))
    pair_sorted = pair[order]
    first = order[np.r_[True, pair_sorted[1:] != pair_sorted[:-1]]]  # first event of each pair
    first_user = user_idx[first]
    distinct = np.bincount(first_user, minlength=len(user_names))
    # The latest first-event per user is the held-out one.
    by_user_time = first[np.lexsort((inter.timestamps[first], first_user))]
    last_of_user = np.r_[by_user_time[:-1][np.diff(user_idx[by_user_time]) != 0], by_user_time[-1]]
    cutoff = np.full(len(user_names), np.inf)
    held = np.full(len(user_names), -1, dtype=np.int64)
    eligible = distinct >= min_items
    users_of_last = user_idx[last_of_user]
    keep = eligible[users_of_last]
    cutoff[users_of_last[keep]] = inter.timestamps[last_of_user[keep]]
    held[users_of_last[keep]] = inter.items[last_of_user[keep]]
    mask = inter.timestamps < cutoff[user_idx]
    train = Interactions(
        users=[u for u, m in zip(inter.users, mask, strict=True) if m],
        items=inter.items[mask],
        events=inter.events[mask],
        timestamps=inter.timestamps[mask],
        weights=inter.weights[mask],
    )
    chosen = np.flatnonzero(held >= 0)
    return Split(train, [str(user_names[i]) for i in chosen], held[chosen])


def metrics(recommended: list[np.ndarray], held_out: np.ndarray) -> dict[str, float]:
    hits = ndcg = 0.0
    for recs, target in zip(recommended, held_out, strict=True):
        where = np.flatnonzero(recs[:K] == target)
        if where.size:
            hits += 1
            ndcg += 1.0 / float(np.log2(where[0] + 2))
    n = max(len(held_out), 1)
    return {"recall@10": round(hits / n, 4), "ndcg@10": round(ndcg / n, 4)}


def seen_by_user(train: Interactions, users: list[str]) -> dict[str, np.ndarray]:
    histories = group_histories(train, train.weights, users)
    return {u: np.unique(h.items) for u, h in histories.items()}


def rank_popularity(
    train: Interactions, users: list[str], n_items: int, half_life: float
) -> list[np.ndarray]:
    now = float(train.timestamps.max())
    prior = popularity_prior(
        train.items, event_strength(train, now=now, half_life_days=half_life), n_items
    )
    order = np.argsort(-prior, kind="stable")
    seen = seen_by_user(train, users)
    out = []
    for user in users:
        mask = ~np.isin(order[: K + len(seen[user])], seen[user])
        out.append(order[: K + len(seen[user])][mask][:K])
    return out


def rank_embedding(
    catalog: Catalog,
    train: Interactions,
    users: list[str],
    *,
    popularity_weight: float,
    half_life: float,
) -> list[np.ndarray]:
    now = float(train.timestamps.max())
    strength = event_strength(train, now=now, half_life_days=half_life)
    prior = popularity_prior(train.items, strength, len(catalog))
    histories = group_histories(train, strength, users)
    subjects = [Subject(i, "user", u, histories[u]) for i, u in enumerate(users)]
    rules = Rules(
        k=K,
        exclude_seen=True,
        in_stock_only=False,
        popularity_weight=popularity_weight,
        candidates=K,
    )
    index = {sku: i for i, sku in enumerate(catalog.skus)}
    lists = recommend(catalog.with_popularity(prior), subjects, rules)
    return [np.array([index[item.sku] for item in rec.items]) for rec in lists]


def train_two_tower(
    text_vectors: np.ndarray, train: Interactions, half_life: float, store_root: Path, name: str
) -> tuple[Any, Any]:  # (TwoTower, ModelManifest)
    """Train on ``train`` only, export through exporters/, load back on ONNX Runtime."""
    from contentfab.exporters import ModelStore, two_tower
    from contentfab.workers.two_tower import TwoTower

    if len(train) < two_tower.MIN_EVENTS:
        raise SystemExit(f"{len(train):,} events: too few to train a two-tower model")
    now = float(train.timestamps.max())
    strength = event_strength(train, now=now, half_life_days=half_life)
    _, codes = np.unique(np.asarray(train.users), return_inverse=True)
    examples, targets = two_tower.training_examples(
        codes.astype(np.int64), train.items, train.timestamps, strength
    )
    trained = two_tower.train(text_vectors, examples, targets)
    parity = two_tower.pad_histories([(examples.items[i][examples.weights[i] > 0], examples.weights[i][
        examples.weights[i] > 0]) for i in range(64)])  # fmt: skip
    store = ModelStore(store_root)
    manifest = two_tower.export(
        trained,
        store,
        name,
        parity_histories=parity,
        source={"trained_on": f"{len(train)} events", "examples": len(targets)},
    )
    return TwoTower.load(store.model_dir(name), manifest), manifest


def rank_two_tower(
    model: Any,
    catalog: Catalog,
    train: Interactions,
    users: list[str],
    *,
    popularity_weight: float,
    half_life: float,
) -> list[np.ndarray]:
    """The worker's ranking with the two-tower vectors in place of the text embeddings."""
    now = float(train.timestamps.max())
    strength = event_strength(train, now=now, half_life_days=half_life)
    prior = popularity_prior(train.items, strength, len(catalog))
    histories = group_histories(train, strength, users)
    vectors = model.user_vectors([histories[u] for u in users])
    towers = Catalog.build(catalog.skus, catalog.titles, model.item_vectors)
    subjects = [Subject(i, "user", u, histories[u], vector=vectors[i]) for i, u in enumerate(users)]
    rules = Rules(
        k=K,
        exclude_seen=True,
        in_stock_only=False,
        popularity_weight=popularity_weight,
        candidates=K,
    )
    lists = recommend(towers.with_popularity(prior), subjects, rules)
    index = {sku: i for i, sku in enumerate(catalog.skus)}
    return [np.array([index[item.sku] for item in rec.items]) for rec in lists]


def rank_als(
    train: Interactions,
    users: list[str],
    n_items: int,
    *,
    factors: int,
    regularization: float,
    alpha: float,
) -> list[np.ndarray]:
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix

    names, user_idx = np.unique(np.asarray(train.users), return_inverse=True)
    strength = np.array([1.0, 3.0, 5.0], dtype=np.float32)[train.events] * train.weights
    matrix = csr_matrix(
        (strength, (user_idx, train.items)), shape=(len(names), n_items), dtype=np.float32
    )
    matrix.sum_duplicates()
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        alpha=alpha,
        iterations=15,
        random_state=0,
        calculate_training_loss=False,
    )
    model.fit(matrix, show_progress=False)
    row_of = {str(name): i for i, name in enumerate(names)}
    rows = np.array([row_of[u] for u in users])
    ids, _ = model.recommend(rows, matrix[rows], N=K, filter_already_liked_items=True)
    return list(ids)


def tune(
    name: str,
    grid: list[dict[str, Any]],
    run: Callable[..., list[np.ndarray]],
    held_out: np.ndarray,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tried = []
    for params in grid:
        started = time.perf_counter()
        result = metrics(run(**params), held_out)
        tried.append({**params, **result, "seconds": round(time.perf_counter() - started, 1)})
        print(f"  {name} {params}: {result}", flush=True)
    best = max(tried, key=lambda r: (r["ndcg@10"], r["recall@10"]))
    return {k: best[k] for k in grid[0]}, tried


def embed_catalog(shop_products: list[dict[str, str]], model: str) -> tuple[np.ndarray, float]:
    from contentfab.core.settings import Settings
    from contentfab.exporters import ModelStore, build_model
    from contentfab.workers.embeddings import TextEmbedder

    settings = Settings()
    store = ModelStore(settings.model_store)
    build_model(model, store)
    embedder = TextEmbedder.load(store.model_dir(model), intra_op_threads=0)
    texts = [product_text(p["title"], p["description"], p["category"]) for p in shop_products]
    # Re-runs with other grids reuse the vectors: same model file and same texts, same vectors.
    key = hashlib.sha256("\x1f".join([embedder.model_sha256, *texts]).encode()).hexdigest()
    cache = settings.data_dir / "bench-cache" / f"embeddings-{key[:16]}.npy"
    if cache.is_file():
        return np.load(cache), 0.0
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - started
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="minilm-l6-v2")
    parser.add_argument("--out", type=Path, default=Path("bench/results-recs-eval.json"))
    args = parser.parse_args()

    started = time.perf_counter()
    shop = make_shop(args.users, args.products, seed=args.seed)
    skus = [p["id"] for p in shop.products]
    index = {sku: i for i, sku in enumerate(skus)}
    inter = Interactions.from_records((u, index[s], e, t, w) for u, s, e, t, w in shop.events)
    print(f"{len(inter):,} events, {args.users:,} users, {args.products:,} products", flush=True)
    vectors, embed_seconds = embed_catalog(shop.products, args.model)
    print(f"embedded {len(skus):,} products in {embed_seconds:.1f}s", flush=True)
    catalog = Catalog.build(
        skus,
        [p["title"] for p in shop.products],
        vectors,
        categories=[p["category"] for p in shop.products],
    )
    n_items = len(skus)
    test = leave_last_out(inter)
    valid = leave_last_out(test.train)
    print(f"test users {len(test.users):,}, validation users {len(valid.users):,}", flush=True)

    tuned: dict[str, Any] = {}
    grids: dict[str, Any] = {}
    print("validation:", flush=True)
    tuned["popularity"], grids["popularity"] = tune(
        "popularity",
        [{"half_life": h} for h in (3.0, 7.0, 30.0, 1e6)],
        lambda half_life: rank_popularity(valid.train, valid.users, n_items, half_life),
        valid.held_out,
    )
    tuned["als"], grids["als"] = tune(
        "als",
        [
            {"factors": f, "regularization": r, "alpha": a}
            for f in (32, 64, 128)
            for r in (0.05, 0.5)
            for a in (1.0, 10.0, 40.0)
        ],
        lambda **p: rank_als(valid.train, valid.users, n_items, **p),
        valid.held_out,
    )
    embedding_grid = [
        {"popularity_weight": w, "half_life": h}
        for w in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
        for h in (3.0, 7.0, 30.0, 1e6)
    ] + [  # session emphasis: the last hours of a user's history outweigh the rest
        {"popularity_weight": w, "half_life": h} for w in (0.5, 1.0, 1.5) for h in (0.25, 1.0)
    ]
    tuned["embedding"], grids["embedding"] = tune(
        "embedding",
        embedding_grid,
        lambda **p: rank_embedding(catalog, valid.train, valid.users, **p),
        valid.held_out,
    )

    import tempfile

    store_root = Path(tempfile.mkdtemp(prefix="two-tower-"))
    tower_half_life = float(tuned["embedding"]["half_life"])
    started_tower = time.perf_counter()
    # Not tuned: one training costs minutes here, so the model is trained once, on the test
    # split's training events, and ranks without the popularity prior (its item vectors learn
    # popularity themselves); nothing about it is chosen on the test items.
    tuned["two_tower"] = {"popularity_weight": 0.0, "half_life": tower_half_life}
    grids["two_tower"] = []
    test_tower, tower_manifest = train_two_tower(
        vectors, test.train, tower_half_life, store_root, "tt-test"
    )
    tower_seconds = time.perf_counter() - started_tower

    print("test:", flush=True)
    results = {
        "popularity": metrics(
            rank_popularity(test.train, test.users, n_items, **tuned["popularity"]), test.held_out
        ),
        "als": metrics(rank_als(test.train, test.users, n_items, **tuned["als"]), test.held_out),
        "embedding": metrics(
            rank_embedding(catalog, test.train, test.users, **tuned["embedding"]), test.held_out
        ),
        "two_tower": metrics(
            rank_two_tower(test_tower, catalog, test.train, test.users, **tuned["two_tower"]),
            test.held_out,
        ),
    }
    for name, result in results.items():
        print(f"  {name:<11} {result}  settings {tuned[name]}")
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "data": {
            "generator": "bench.recs_data.make_shop",
            "users": args.users,
            "products": args.products,
            "events": len(inter),
            "seed": args.seed,
            "test_users": len(test.users),
            "validation_users": len(valid.users),
        },
        "model": args.model,
        "embed_seconds": round(embed_seconds, 1),
        "two_tower": {
            "train_and_export_seconds": round(tower_seconds, 1),
            "test_model": {
                k: tower_manifest.to_dict()[k]
                for k in ("dim", "max_history", "train_seconds", "final_loss", "parity", "source")
            },
        },
        "test": results,
        "chosen_on_validation": tuned,
        "validation_grid": grids,
        "goals": {
            "embedding >= als recall@10": results["embedding"]["recall@10"]
            >= results["als"]["recall@10"],
            "embedding >= 2 x popularity recall@10": results["embedding"]["recall@10"]
            >= 2 * results["popularity"]["recall@10"],
            "two_tower >= als recall@10": results["two_tower"]["recall@10"]
            >= results["als"]["recall@10"],
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["goals"]), f"→ {args.out}")


if __name__ == "__main__":
    main()
