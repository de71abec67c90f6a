"""The exported two-tower model on ONNX Runtime: user vectors from histories (no torch).

:mod:`exporters.two_tower` trains and exports it: ``user_tower.onnx`` (padded histories in,
unit user vectors out) and ``item_vectors.npy`` (one unit row per catalog product, in the
catalog's order). The recommender then ranks with these vectors exactly as with text
embeddings: pass the item vectors as the catalog's and each user's vector as
:attr:`workers.recommender.Subject.vector`.

A campaign's catalog need not be the one the model was trained on: :meth:`TwoTower.for_catalog`
lays the item vectors out in the campaign's product order. A product the model does not know
gets a zero vector, so in a two-tower list it ranks on the popularity prior alone (it can still
appear, never as "similar to" something); events on such products are left out of the user's
history. A campaign where more than :data:`MAX_UNKNOWN_SHARE` of the products are unknown is
refused before anything is stored (see :func:`unknown_products`): its lists would be mostly
popularity under the two-tower name.

The training data is cut here too, as plain arrays (:func:`training_examples`,
:func:`pad_histories`): :mod:`contentfab.services.two_tower` reads the files and hands the
examples to the exporter, which only trains and exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from contentfab.core.manifest import ModelManifest, Recommendation
from contentfab.workers.recommender import FloatArray, History, IntArray

MAX_HISTORY = 50  # the most recent events a user vector is made from; in the manifest
MAX_UNKNOWN_SHARE = 0.5


def unknown_products(manifest: ModelManifest, skus: Sequence[str]) -> list[str]:
    """The campaign's product ids that the two-tower model in ``manifest`` was not trained on."""
    tower = manifest.recommendation
    known = set(tower.product_ids if tower is not None else ())
    return [sku for sku in skus if sku not in known]


# --- training data: the user tower's padded histories, "next new product" examples -----


@dataclass(frozen=True)
class Histories:
    """Padded histories: row i is one user (or one training example)."""

    items: npt.NDArray[np.int64]  # (n, MAX_HISTORY), 0 where padded
    weights: npt.NDArray[np.float32]  # (n, MAX_HISTORY), 0 where padded


def pad_histories(
    histories: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]],
) -> Histories:
    """Keep each history's last :data:`MAX_HISTORY` events (given oldest first)."""
    items = np.zeros((len(histories), MAX_HISTORY), np.int64)
    weights = np.zeros((len(histories), MAX_HISTORY), np.float32)
    for i, (rows, strength) in enumerate(histories):
        rows, strength = rows[-MAX_HISTORY:], strength[-MAX_HISTORY:]
        items[i, : len(rows)] = rows
        weights[i, : len(rows)] = strength
    return Histories(items, weights)


def training_examples(
    users: npt.NDArray[np.int64],
    items: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.float64],
    strength: npt.NDArray[np.float32],
    *,
    per_user: int = 8,
) -> tuple[Histories, npt.NDArray[np.int64]]:
    """ "Next new product" examples: each product a user reached for the first time (after
    their first), predicted from the events before it; at most ``per_user`` per user."""
    order = np.lexsort((timestamps, users))
    users, items, strength = users[order], items[order], strength[order]
    bounds = np.flatnonzero(np.r_[True, users[1:] != users[:-1], True])
    histories: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]] = []
    targets: list[int] = []
    for start, end in pairwise(bounds.tolist()):
        seen: set[int] = set()
        firsts = []
        for j in range(start, end):
            item = int(items[j])
            if item not in seen:
                seen.add(item)
                if j > start:
                    firsts.append(j)
        for j in firsts[-per_user:]:
            histories.append((items[start:j], strength[start:j]))
            targets.append(int(items[j]))
    return pad_histories(histories), np.array(targets, np.int64)


@dataclass(frozen=True)
class TwoTower:
    item_vectors: FloatArray  # (products, dim), unit rows
    session: Any  # onnxruntime.InferenceSession of the user tower
    max_history: int
    product_ids: tuple[str, ...] = ()

    @classmethod
    def load(cls, directory: Path, manifest: ModelManifest, threads: int = 0) -> TwoTower:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(
            str(directory / "user_tower.onnx"), options, providers=["CPUExecutionProvider"]
        )
        tower = manifest.section(Recommendation)
        items = np.load(directory / "item_vectors.npy").astype(np.float32)
        if items.shape != (tower.products, tower.dim):
            raise ValueError(f"item_vectors.npy is {items.shape}, the manifest says otherwise")
        ids = tuple(tower.product_ids)
        if ids and len(ids) != len(items):
            raise ValueError(f"the manifest lists {len(ids)} product ids for {len(items)} vectors")
        return cls(items, session, tower.max_history, ids)

    def for_catalog(self, skus: Sequence[str]) -> tuple[FloatArray, IntArray]:
        """Item vectors in the order of ``skus`` (zero rows for unknown products), and each
        product's row in the model (-1 where unknown)."""
        row = {sku: i for i, sku in enumerate(self.product_ids)}
        model_rows: IntArray = np.array([row.get(sku, -1) for sku in skus], np.int64)
        vectors: FloatArray = np.zeros((len(skus), self.item_vectors.shape[1]), np.float32)
        known = model_rows >= 0
        vectors[known] = self.item_vectors[model_rows[known]]
        return vectors, model_rows

    def campaign_user_vectors(self, histories: list[History], model_rows: IntArray) -> FloatArray:
        """User vectors from histories over a campaign's catalog rows (see :meth:`for_catalog`);
        events on products the model does not know are left out (zeros when none is left)."""
        translated = []
        for history in histories:
            rows = model_rows[history.items]
            keep = rows >= 0
            translated.append(History(rows[keep], history.events[keep], history.strength[keep]))
        return self.user_vectors(translated)

    def user_vectors(self, histories: list[History], batch_size: int = 4096) -> FloatArray:
        """One unit vector per history (zeros for an empty one: a cold user)."""
        out = np.zeros((len(histories), self.item_vectors.shape[1]), np.float32)
        for start in range(0, len(histories), batch_size):
            chunk = histories[start : start + batch_size]
            items: IntArray = np.zeros((len(chunk), self.max_history), np.int64)
            weights: FloatArray = np.zeros((len(chunk), self.max_history), np.float32)
            for i, history in enumerate(chunk):
                rows = history.items[-self.max_history :]
                items[i, : len(rows)] = rows
                weights[i, : len(rows)] = history.strength[-self.max_history :]
            vectors = self.session.run(
                ["user_vectors"], {"history_items": items, "history_weights": weights}
            )[0]
            empty = weights.sum(axis=1) == 0
            vectors[empty] = 0.0
            out[start : start + len(chunk)] = vectors
        return out
