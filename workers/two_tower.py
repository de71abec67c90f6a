"""The exported two-tower model on ONNX Runtime: user vectors from histories (no torch).

:mod:`exporters.two_tower` trains and exports it: ``user_tower.onnx`` (padded histories in,
unit user vectors out) and ``item_vectors.npy`` (one unit row per catalog product, in the
catalog's order). The recommender then ranks with these vectors exactly as with text
embeddings: pass the item vectors as the catalog's and each user's vector as
:attr:`workers.recommender.Subject.vector`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workers.recommender import FloatArray, History, IntArray

MAX_HISTORY = 50  # the exporter's, recorded in the manifest and checked on load


@dataclass(frozen=True)
class TwoTower:
    item_vectors: FloatArray  # (products, dim), unit rows
    session: Any  # onnxruntime.InferenceSession of the user tower
    max_history: int

    @classmethod
    def load(cls, directory: Path, manifest: dict[str, Any], threads: int = 0) -> TwoTower:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(
            str(directory / "user_tower.onnx"), options, providers=["CPUExecutionProvider"]
        )
        items = np.load(directory / "item_vectors.npy").astype(np.float32)
        if items.shape != (manifest["products"], manifest["dim"]):
            raise ValueError(f"item_vectors.npy is {items.shape}, the manifest says otherwise")
        return cls(items, session, int(manifest["max_history"]))

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
