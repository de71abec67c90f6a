"""The two-tower model: trained in torch, exported to ONNX, the same vectors on ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest

from bench.recs_data import make_shop
from contentfab.exporters import ModelStore
from contentfab.exporters.two_tower import (
    MAX_HISTORY,
    export,
    pad_histories,
    train,
    training_examples,
)
from contentfab.workers.recommender import History, Interactions, event_strength
from contentfab.workers.two_tower import TwoTower


def test_next_new_product_examples_only_look_back():
    users = np.array([0, 0, 0, 0, 1, 1], np.int64)
    items = np.array([5, 5, 7, 9, 3, 4], np.int64)
    times = np.array([1.0, 2.0, 3.0, 4.0, 2.0, 1.0])
    strength = np.ones(6, np.float32)
    examples, targets = training_examples(users, items, times, strength)
    assert targets.tolist() == [7, 9, 3]  # user 1 reached 4 first, then 3
    assert examples.items[0][:2].tolist() == [5, 5] and examples.weights[0][2:].sum() == 0
    assert examples.items[1][:3].tolist() == [5, 5, 7]
    assert examples.items[2][:1].tolist() == [4] and examples.items.shape[1] == MAX_HISTORY


def test_trained_towers_export_with_parity_and_learn_the_next_product(tmp_path):
    shop = make_shop(400, 120, seed=2)
    skus = {p["id"]: i for i, p in enumerate(shop.products)}
    inter = Interactions.from_records((u, skus[s], e, t, w) for u, s, e, t, w in shop.events)
    strength = event_strength(inter, now=float(inter.timestamps.max()), half_life_days=30)
    _, codes = np.unique(np.asarray(inter.users), return_inverse=True)
    examples, targets = training_examples(codes, inter.items, inter.timestamps, strength)
    rng = np.random.default_rng(0)
    text = rng.standard_normal((len(skus), 24)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    untrained = train(text, examples, targets, dim=16, epochs=0)
    trained = train(text, examples, targets, dim=16, epochs=6)

    def hit_rate(model) -> float:
        import torch

        with torch.no_grad():
            users = model.user_tower(
                torch.from_numpy(examples.items), torch.from_numpy(examples.weights)
            ).numpy()
        top = np.argsort(-(users @ model.item_vectors.T), axis=1)[:, :10]
        return float(np.mean([t in row for t, row in zip(targets, top, strict=True)]))

    assert hit_rate(trained) > hit_rate(untrained) + 0.05
    store = ModelStore(tmp_path)
    parity = pad_histories([(inter.items[:5], strength[:5]), (inter.items[5:40], strength[5:40])])
    manifest = export(trained, store, "tt", parity_histories=parity, source={"test": True})
    assert manifest.parity["max_abs_diff"] <= 1e-4 and store.is_valid("tt")
    model = TwoTower.load(store.model_dir("tt"), manifest)
    histories = [History(inter.items[:5], inter.events[:5], strength[:5]),
                 History(inter.items[:0], inter.events[:0], strength[:0])]  # fmt: skip
    vectors = model.user_vectors(histories)
    import torch

    with torch.no_grad():
        want = trained.user_tower(
            torch.from_numpy(parity.items[:1]), torch.from_numpy(parity.weights[:1])
        ).numpy()
    assert vectors[0] == pytest.approx(want[0], abs=1e-5)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any()  # a cold user has no vector
