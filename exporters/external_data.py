"""How exported ONNX files are written: the graph in ``model.onnx``, a large model's weights in
``model.onnx.data`` beside it.

Protobuf cannot serialise a message over 2 GiB, so a model whose weights pass that cannot be one
file: a 1.5B-parameter decoder is ~6 GB in float32 and ~3 GB in float16. Once the weights pass
:data:`EXTERNAL_DATA_THRESHOLD`, every tensor of 1 KiB or more goes to one data file (offsets
recorded in the graph), which ``onnx.load`` and ONNX Runtime find from the graph's own path.
Below it a model stays one file, as every model in existing stores is: their files, hashes and
the tools that copy a single ``.onnx`` keep working, and nothing is rebuilt. The threshold is
1 GiB rather than just under 2 GiB so that a model near the limit (its graph and small constants
come on top of the weights) never fails half-way; every entry point takes it as a parameter so
tests can force the external layout on a tiny model.

Every writer goes through :func:`save`, every in-place rewrite (quantisation, float16) through
:func:`load` and :func:`save`, so a rewrite never leaves a stale data file behind.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

#: Weights (bytes) above which a model is saved with its tensors in an external data file.
EXTERNAL_DATA_THRESHOLD = 1 << 30
#: Tensors smaller than this stay inside the graph file (shapes, scalars, small constants).
INLINE_TENSOR_BYTES = 1024


def data_path(path: Path) -> Path:
    """The external data file of the model at ``path`` (whether or not it exists)."""
    return path.with_name(path.name + ".data")


def weight_bytes(model: Any) -> int:
    """Bytes of the model's initializers, from their shapes and element types (so the count
    is the same whether the data is loaded, inline or external)."""
    from onnx import helper

    total = 0
    for tensor in model.graph.initializer:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        total += itemsize * math.prod(tensor.dims)
    return total


def load(path: Path) -> Any:
    """The whole model at ``path``, external data included."""
    import onnx

    return onnx.load(str(path), load_external_data=True)


def save(model: Any, path: Path, *, threshold: int = EXTERNAL_DATA_THRESHOLD) -> None:
    """Write ``model`` to ``path``: one file up to ``threshold`` bytes of weights, the graph plus
    ``<path>.data`` above it. Replaces any model (and data file) already at ``path``; a model
    with its data in memory is changed to point at the new data file."""
    import onnx

    data = data_path(path)
    # onnx appends to an existing data file, and a one-file model must not leave a stale one.
    data.unlink(missing_ok=True)
    if weight_bytes(model) > threshold:
        onnx.save_model(
            model,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data.name,
            size_threshold=INLINE_TENSOR_BYTES,
        )
        # onnx creates the data file owner-only (0600); workers may run as another user and
        # must read it as they read the graph.
        data.chmod(path.stat().st_mode & 0o777)
    else:
        onnx.save_model(model, str(path))


def model_digest(files: dict[str, str], graph: str = "model.onnx") -> str:
    """The sha256 that identifies a model (its version tag), from a manifest's ``files``: the
    graph file's own for a one-file model, as before; with a data file, a hash over both, so
    new weights under the same graph get a new version."""
    data = data_path(Path(graph)).as_posix()
    if data not in files:
        return files[graph]
    return hashlib.sha256(f"{files[graph]}:{files[data]}".encode()).hexdigest()
