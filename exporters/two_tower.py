"""A two-tower recommender trained in torch on a campaign's interactions, exported to ONNX.

**Item tower**: a product's text embedding (the exported MiniLM's, fixed) through a linear
layer, plus a learned per-product vector, L2-normalised. **User tower**: the strength-weighted
mean of the item-tower vectors of the user's history (event weight × decay, as the embedding
method), through a residual linear layer, L2-normalised. Trained with a full softmax over the
catalog (it is small enough: 20,000 products × a batch of 512 is one matmul) on "next new
product" examples cut from each user's history: the products a user reached for the first
time, each predicted from what came before it.

The exported contract (:class:`TwoTowerSpec`): ``user_tower.onnx`` takes ``history_items``
int64 ``[batch, history]`` (catalog rows, padded with 0) and ``history_weights`` float32
``[batch, history]`` (strengths, 0 for padding) and returns ``user_vectors`` float32
``[batch, dim]``, unit length; the item tower is evaluated once at export and saved as
``item_vectors.npy`` ``[products, dim]``, unit rows — so a worker needs only ONNX Runtime and
an inner product. Parity: ONNX Runtime against torch on held-out histories, max abs
difference at most :data:`MAX_ABS_DIFF`.

The model is trained per catalog and interaction log, so it is only worth it when the data is
large enough (:data:`MIN_EVENTS`, :data:`MIN_USERS`); below that the text-embedding method
has more to go on than a model fitted to a few hundred users.

torch is imported inside the functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from contentfab.core.errors import ExportError
from contentfab.core.model_store import ModelManifest, ModelStore, hash_files
from exporters.specs import BATCH, OPSET, TensorSpec, export_module

EXPORTER_VERSION = "1"
HISTORY = "history"
MAX_HISTORY = 50  # the most recent events a user vector is made from
MAX_ABS_DIFF = 1e-4
MIN_EVENTS = 50_000
MIN_USERS = 2_000


@dataclass(frozen=True)
class TwoTowerSpec:
    family: ClassVar[str] = "two-tower"
    task: ClassVar[str] = "recommendation"

    products: int
    text_dim: int
    dim: int

    def inputs(self) -> list[TensorSpec]:
        return [
            TensorSpec("history_items", "int64", (BATCH, HISTORY)),
            TensorSpec("history_weights", "float32", (BATCH, HISTORY)),
        ]

    def outputs(self) -> list[TensorSpec]:
        return [TensorSpec("user_vectors", "float32", (BATCH, self.dim))]


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


def _modules(text_vectors: npt.NDArray[np.float32], dim: int) -> tuple[Any, Any]:
    import torch
    from torch import nn

    class ItemTower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("text", torch.from_numpy(text_vectors))
            self.project = nn.Linear(text_vectors.shape[1], dim)
            self.own = nn.Embedding(text_vectors.shape[0], dim)
            nn.init.normal_(self.own.weight, std=0.01)

        def forward(self) -> torch.Tensor:
            out = self.project(self.text) + self.own.weight
            return nn.functional.normalize(out, dim=-1)

    class UserTower(nn.Module):
        def __init__(self, item_vectors: torch.Tensor) -> None:
            super().__init__()
            self.register_buffer("items", item_vectors)
            self.mix = nn.Linear(dim, dim)
            nn.init.zeros_(self.mix.weight)
            nn.init.zeros_(self.mix.bias)

        def forward(
            self, history_items: torch.Tensor, history_weights: torch.Tensor
        ) -> torch.Tensor:
            items = cast(torch.Tensor, self.items)  # a buffer
            vectors = items[history_items]  # (batch, history, dim)
            total = (vectors * history_weights.unsqueeze(-1)).sum(dim=1)
            mean = total / history_weights.sum(dim=1, keepdim=True).clamp_min(1e-6)
            return nn.functional.normalize(mean + self.mix(mean), dim=-1)

    return ItemTower, UserTower


@dataclass
class TrainedTwoTower:
    spec: TwoTowerSpec
    item_vectors: npt.NDArray[np.float32]
    user_tower: Any  # torch module, item vectors inside
    train_seconds: float
    final_loss: float


def train(
    text_vectors: npt.NDArray[np.float32],
    examples: Histories,
    targets: npt.NDArray[np.int64],
    *,
    dim: int = 64,
    epochs: int = 4,
    batch_size: int = 512,
    temperature: float = 0.05,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> TrainedTwoTower:
    """Train both towers with a softmax over the whole catalog; deterministic for a seed."""
    import torch
    from torch import nn

    if len(targets) == 0:
        raise ExportError("no training examples: no user reached a second product")
    torch.manual_seed(seed)
    started = time.perf_counter()
    item_cls, user_cls = _modules(text_vectors.astype(np.float32), dim)
    item_tower = item_cls()
    mix = user_cls(torch.zeros(1, dim))  # trained together; rebuilt with fixed items below
    params = [*item_tower.parameters(), *mix.parameters()]
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    items_t = torch.from_numpy(examples.items)
    weights_t = torch.from_numpy(examples.weights)
    targets_t = torch.from_numpy(targets)
    generator = torch.Generator().manual_seed(seed)
    loss_value = float("nan")
    for _ in range(epochs):
        order = torch.randperm(len(targets_t), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            catalog = item_tower()
            mix.items = catalog
            users = mix(items_t[batch], weights_t[batch])
            logits = users @ catalog.T / temperature
            loss = nn.functional.cross_entropy(logits, targets_t[batch])
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            loss_value = float(loss.detach())
    with torch.no_grad():
        item_vectors = item_tower().detach().clone()
    user_tower = user_cls(item_vectors)
    user_tower.mix.load_state_dict(mix.mix.state_dict())
    user_tower.eval()
    spec = TwoTowerSpec(products=len(text_vectors), text_dim=text_vectors.shape[1], dim=dim)
    return TrainedTwoTower(
        spec,
        item_vectors.numpy().astype(np.float32),
        user_tower,
        round(time.perf_counter() - started, 1),
        loss_value,
    )


def export(
    trained: TrainedTwoTower,
    store: ModelStore,
    name: str,
    *,
    parity_histories: Histories,
    source: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> ModelManifest:
    """Write the user tower (ONNX) and the item vectors into ``store`` under ``name``,
    check ONNX Runtime against torch, and return the manifest."""
    spec = trained.spec
    example = pad_histories([(np.array([0], np.int64), np.array([1.0], np.float32))])
    import torch

    with store.staging(name) as staging:
        export_module(
            trained.user_tower,
            (torch.from_numpy(example.items), torch.from_numpy(example.weights)),
            staging / "user_tower.onnx",
            inputs=spec.inputs(),
            outputs=spec.outputs(),
        )
        np.save(staging / "item_vectors.npy", trained.item_vectors)
        manifest: dict[str, Any] = {
            "name": name,
            "version": "",
            "family": spec.family,
            "task": spec.task,
            "files": hash_files(staging),
            "source": source,
            "opset": OPSET,
            "inputs": [t.as_dict() for t in spec.inputs()],
            "outputs": [t.as_dict() for t in spec.outputs()],
            "dim": spec.dim,
            "products": spec.products,
            "max_history": MAX_HISTORY,
            "normalized": True,
            "quantization": None,
            "train_seconds": trained.train_seconds,
            "final_loss": round(trained.final_loss, 4),
            "parity": validate_parity(trained, staging / "user_tower.onnx", parity_histories),
            "exporter_version": EXPORTER_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        manifest["version"] = f"local-fp32-{manifest['files']['user_tower.onnx'][:8]}"
        built = ModelManifest.from_dict(manifest)
        built.write(staging)
    store.record_hashes(name, built.files)
    return built


def validate_parity(
    trained: TrainedTwoTower, onnx_path: Path, histories: Histories
) -> dict[str, Any]:
    """ONNX Runtime against torch on the same padded histories; raises when they differ."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(
        ["user_vectors"], {"history_items": histories.items, "history_weights": histories.weights}
    )[0]
    with torch.no_grad():
        want = trained.user_tower(
            torch.from_numpy(histories.items), torch.from_numpy(histories.weights)
        ).numpy()
    problems = []
    if got.shape != want.shape:
        problems.append(f"user_vectors shape {got.shape} != torch {want.shape}")
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    if diff > MAX_ABS_DIFF:
        problems.append(f"user_vectors max abs difference {diff:.2e} > {MAX_ABS_DIFF:g}")
    if problems:
        raise ExportError("two-tower parity check failed: " + "; ".join(problems))
    return {"histories": len(histories.items), "max_abs_diff": diff}


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
    import hashlib

    from contentfab.campaign.catalog import _load_catalog
    from contentfab.campaign.interactions import load_interactions
    from contentfab.campaign.problems import _read
    from contentfab.core.errors import CampaignFileError, InputError, Problem
    from workers.recommender import Interactions, event_strength, product_text

    problems: list[Problem] = []
    catalog_bytes = _read(catalog, 50 * 1024 * 1024)
    products = _load_catalog(catalog_bytes, catalog, problems)
    if problems:
        raise CampaignFileError(problems)
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
