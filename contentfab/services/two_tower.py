"""Train a two-tower recommender on a campaign's files: read them, cut the training examples,
train and export (:mod:`exporters.two_tower`).

The exporter used to do this itself. Reading campaign files (:mod:`contentfab.campaign`) and
cutting examples from them with the recommender's own functions (:mod:`workers.recommender`,
:mod:`workers.two_tower`) is not export work, so the exporter now only trains and exports.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from contentfab.campaign.catalog import read_catalog
from contentfab.campaign.interactions import load_interactions
from contentfab.core.errors import CampaignFileError, InputError, Problem
from contentfab.core.manifest import ModelManifest
from contentfab.core.model_store import ModelStore
from contentfab.exporters.two_tower import MIN_EVENTS, MIN_USERS, export, train
from contentfab.workers.recommender import Interactions, event_strength, product_text
from contentfab.workers.two_tower import pad_histories, training_examples

#: The largest catalog a two-tower model is trained on (a campaign's may be larger).
MAX_TRAINING_CATALOG_BYTES = 50 * 1024 * 1024


def build_from_files(
    interactions: Path,
    catalog: Path,
    store: ModelStore,
    name: str,
    text_embedder: Any,
    *,
    half_life_days: float = 7.0,
    dim: int = 64,
    epochs: int = 4,
    seed: int = 0,
    min_events: int = MIN_EVENTS,
    min_users: int = MIN_USERS,
) -> ModelManifest:
    """Train on an interactions file and a catalog (the campaign formats) and export.

    ``text_embedder`` (a :class:`workers.embeddings.TextEmbedder`) embeds the product texts the
    item tower starts from; its name is recorded so a campaign embeds its segments with the same
    model. The manifest records the data (sha256, bytes, rows), the training parameters and the
    product ids the model knows (the item vectors' row order). Raises :class:`InputError` for
    unreadable files and for data below ``min_events`` events or ``min_users`` users.
    """
    catalog_bytes, products = read_catalog(catalog, MAX_TRAINING_CATALOG_BYTES)
    problems: list[Problem] = []
    interactions_bytes, log = load_interactions(interactions, {p.sku for p in products}, problems)
    if problems or log is None:
        raise CampaignFileError(problems)
    users = len(set(log.users))
    if len(log) < min_events or users < min_users:
        raise InputError(
            f"{interactions}: {len(log):,} events by {users:,} users; a two-tower model needs at "
            f"least {min_events:,} events by {min_users:,} users. It learns a vector per product "
            "and a mixing layer from the users' next new products; with less data it fits noise "
            "and the text-embedding method (method: embedding) ranks better."
        )
    row_of = {p.sku: i for i, p in enumerate(products)}
    inter = Interactions.from_records(
        (u, row_of[s], e, t, w)
        for u, s, e, t, w in zip(
            log.users, log.skus, log.events, log.timestamps, log.weights, strict=True
        )
    )
    strength = event_strength(
        inter, now=float(inter.timestamps.max()), half_life_days=half_life_days
    )
    _, codes = np.unique(np.asarray(inter.users), return_inverse=True)
    examples, targets = training_examples(
        codes.astype(np.int64), inter.items, inter.timestamps, strength
    )
    text_vectors = text_embedder.embed(
        [product_text(p.title, p.description, p.category) for p in products]
    )
    trained = train(text_vectors, examples, targets, dim=dim, epochs=epochs, seed=seed)
    kept = [i for i in range(min(64, len(targets))) if examples.weights[i].any()]
    parity = pad_histories(
        [(examples.items[i][examples.weights[i] > 0], examples.weights[i][examples.weights[i] > 0])
         for i in kept]
    )  # fmt: skip
    source = {
        "interactions": {
            "file": interactions.name,
            "sha256": hashlib.sha256(interactions_bytes).hexdigest(),
            "bytes": len(interactions_bytes),
            "events": len(log),
            "users": users,
        },
        "catalog": {
            "file": catalog.name,
            "sha256": hashlib.sha256(catalog_bytes).hexdigest(),
            "bytes": len(catalog_bytes),
            "products": len(products),
        },
        "text_model": text_embedder.provenance,
        "training": {
            "examples": len(targets),
            "dim": dim,
            "epochs": epochs,
            "seed": seed,
            "half_life_days": half_life_days,
            "batch_size": 512,
            "temperature": 0.05,
            "learning_rate": 3e-3,
            "min_events": min_events,
            "min_users": min_users,
        },
    }
    # The item vectors' row i is product_ids[i]; a campaign checks its catalog against them.
    return export(
        trained,
        store,
        name,
        parity_histories=parity,
        source=source,
        extra={"product_ids": [p.sku for p in products]},
    )
