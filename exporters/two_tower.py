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
has more to go on than a model fitted to a few hundred users. Reading a campaign's files into
training examples is :mod:`contentfab.services.two_tower`'s; this module trains and exports.

torch is imported inside the functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from contentfab.core.errors import ExportError
from contentfab.core.model_store import ModelManifest, ModelStore
from contentfab.exporters.pipeline import export_and_validate
from contentfab.exporters.specs import BATCH, Contract, ExportSpec, TensorSpec, export_module

# The training data is cut in workers.two_tower (plain arrays); re-exported for the callers
# that train here.
from contentfab.workers.two_tower import MAX_HISTORY, Histories, pad_histories, training_examples

__all__ = [
    "MAX_HISTORY",
    "MIN_EVENTS",
    "MIN_USERS",
    "Histories",
    "TrainedTwoTower",
    "TwoTowerSpec",
    "export",
    "pad_histories",
    "train",
    "training_examples",
    "validate_parity",
]

EXPORTER_VERSION = "1"
HISTORY = "history"
USER_TOWER = "user_tower.onnx"
MAX_ABS_DIFF = 1e-4
MIN_EVENTS = 50_000
MIN_USERS = 2_000


@dataclass(frozen=True)
class TwoTowerSpec(ExportSpec):
    """The user tower's contract (the module docstring draws it); the item vectors are an
    array beside it. Parity is the max abs difference from torch on held-out histories. The
    manifest records the training time, not a build time."""

    family: ClassVar[str] = "two-tower"
    task: ClassVar[str] = "recommendation"
    tolerance: ClassVar[float | None] = MAX_ABS_DIFF
    exporter_version: ClassVar[str] = EXPORTER_VERSION
    build_seconds_digits: ClassVar[int | None] = None

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

    def graphs(self) -> dict[str, Contract]:
        return {USER_TOWER: (self.inputs(), self.outputs())}

    def dummy_inputs(self, graph: str = USER_TOWER) -> tuple[Any, ...]:
        import torch

        example = pad_histories([(np.array([0], np.int64), np.array([1.0], np.float32))])
        return (torch.from_numpy(example.items), torch.from_numpy(example.weights))

    def manifest_section(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "products": self.products,
            "max_history": MAX_HISTORY,
            "normalized": True,
            "quantization": None,
        }


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

    def write(staging: Path) -> None:
        export_module(
            trained.user_tower,
            spec.dummy_inputs(),
            staging / USER_TOWER,
            inputs=spec.inputs(),
            outputs=spec.outputs(),
        )
        np.save(staging / "item_vectors.npy", trained.item_vectors)

    def validate(staging: Path, draft: ModelManifest) -> dict[str, Any]:
        return {"parity": validate_parity(trained, staging / USER_TOWER, parity_histories)}

    return export_and_validate(
        store,
        name,
        spec,
        source=source,
        write=write,
        validate=validate,
        version=lambda files: f"local-fp32-{files[USER_TOWER][:8]}",
        started=time.perf_counter(),
        extra={
            "train_seconds": trained.train_seconds,
            "final_loss": round(trained.final_loss, 4),
            **(extra or {}),
        },
    )


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
