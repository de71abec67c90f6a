"""The one path every model family's build takes into the store.

:func:`export_and_validate`: write the model's files into a staging folder (the family's
export), check every ONNX graph against the family's :class:`~exporters.specs.ExportSpec`,
fill the manifest from the spec, check ONNX Runtime against the reference within the spec's
tolerance, write ``model.json``, and move the folder into the store atomically (a failure at
any step leaves the previous model untouched). What differs between families is passed in:
how to write the files, how to check parity, how the version string is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contentfab.core.errors import ExportError
from contentfab.core.manifest import ModelManifest
from contentfab.core.model_store import ModelStore, hash_files
from contentfab.exporters.specs import ExportSpec

#: Writes the model's files (graphs, tokenizer, arrays) into the staging folder.
Write = Callable[[Path], None]
#: Checks the staged model against its reference given the draft manifest; returns the keys
#: it adds to the manifest (``parity``, or what a probe found).
Validate = Callable[[Path, ModelManifest], dict[str, Any]]


def up_to_date(
    store: ModelStore, name: str, spec: type[ExportSpec], source: dict[str, Any]
) -> ModelManifest | None:
    """The stored manifest of ``name`` when it is valid and was built from ``source`` by this
    exporter version; None when the model must be (re)built."""
    if not store.is_valid(name):
        return None
    existing = store.manifest(name)
    if existing.source == source and existing.exporter_version == spec.exporter_version:
        return existing
    return None


def export_and_validate(
    store: ModelStore,
    name: str,
    spec: ExportSpec,
    *,
    source: dict[str, Any],
    write: Write,
    validate: Validate,
    version: Callable[[dict[str, str]], str],
    started: float,
    extra: dict[str, Any] | None = None,
) -> ModelManifest:
    """Build model ``name`` into ``store`` and return its manifest.

    ``version`` makes the version string from the files' hashes; ``extra`` holds manifest keys
    the spec cannot know (a tokenizer's stop tokens, a training run's loss); ``started`` is
    when the build began (``time.perf_counter``), for ``build_seconds``.
    """
    with store.staging(name) as staging:
        write(staging)
        check_graphs(staging, spec)
        manifest = {**spec.manifest(name, source, hash_files(staging)), **(extra or {})}
        manifest["version"] = version(manifest["files"])
        manifest.update(validate(staging, ModelManifest.from_dict(manifest)))
        manifest["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        if spec.build_seconds_digits is not None:
            seconds = time.perf_counter() - started
            manifest["build_seconds"] = round(seconds, spec.build_seconds_digits)
        built = ModelManifest.from_dict(manifest)
        built.write(staging)
    store.record_hashes(name, built.files)
    return built


def check_graphs(directory: Path, spec: ExportSpec) -> None:
    """Every graph of ``spec`` passes ONNX's checker (where it holds standard operators only)
    and has the declared inputs and outputs, in order; one ExportError lists every problem."""
    graphs = spec.graphs()
    if not graphs:
        return
    import onnx

    problems: list[str] = []
    for file, (inputs, outputs) in graphs.items():
        path = directory / file
        try:
            if spec.standard_ops():
                # By path: the checker finds external data beside the graph and takes > 2 GiB.
                onnx.checker.check_model(str(path))
        except (onnx.checker.ValidationError, OSError) as error:
            problems.append(f"{file}: {error}")
            continue
        graph = onnx.load(str(path), load_external_data=False).graph
        weights = {tensor.name for tensor in graph.initializer}
        found = (
            [value.name for value in graph.input if value.name not in weights],
            [value.name for value in graph.output],
        )
        for kind, names, declared in zip(
            ("inputs", "outputs"), found, (inputs, outputs), strict=True
        ):
            expected = [t.name for t in declared]
            if names != expected:
                problems.append(f"{file}: {kind} are {names}, the {spec.family} spec {expected}")
    if problems:
        raise ExportError(
            f"the exported graph does not match its spec ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems)
        )
