"""The model store: one directory per exported model, described by its ``model.json`` manifest
(:class:`~contentfab.core.manifest.ModelManifest`).

A model is usable only when its manifest is present and every file it lists still has the
sha256 recorded at build time. Builds happen in a staging directory next to the final one and
are swapped in with a rename, so a crashed or interrupted build never leaves a half-written
model that looks valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentfab.core.errors import ModelError
from contentfab.core.manifest import MANIFEST_NAME, ModelManifest, write_json_atomic

__all__ = [
    "FUSED_SUFFIX",
    "MANIFEST_NAME",
    "PIPELINE_COMPONENTS",
    "ModelManifest",
    "ModelStore",
    "StoredModel",
    "hash_files",
    "missing_pipeline_files",
    "sha256_file",
]

# Remembers (size, mtime) → sha256 of files already hashed, the way git's index does, so that
# checking a large unchanged model does not re-read it. Any write to a file changes its mtime.
HASH_CACHE_NAME = ".sha256-cache.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: The store name of a decoder's fused CPU graph (``contentfab models build --fused``), kept
#: beside the traced graph of the same model: a CPU worker uses it when it is there.
FUSED_SUFFIX = "-fused"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_files(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` except the manifest, keyed by relative path."""
    return {
        path.relative_to(directory).as_posix(): sha256_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }


@dataclass(frozen=True)
class StoredModel:
    """One entry of :meth:`ModelStore.list`: ``manifest`` is None when it cannot be read."""

    name: str
    path: Path
    valid: bool
    manifest: ModelManifest | None


class ModelStore:
    """Exported models under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    def model_dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ModelError(
                f"'{name}' is not a valid model name: use lower-case letters, digits, '.', '_', '-'"
            )
        return self.root / name

    def manifest(self, name: str) -> ModelManifest:
        directory = self.model_dir(name)
        if not (directory / MANIFEST_NAME).is_file():
            raise ModelError(
                f"model '{name}' is not in the model store at {self.root}; "
                f"build it with `contentfab models build {name}`"
            )
        try:
            return ModelManifest.read(directory)
        except ModelError as error:
            raise ModelError(
                f"{error}; rebuild it with `contentfab models build {name} --force`"
            ) from error

    def problems(self, name: str) -> list[str]:
        """Everything wrong with a stored model; empty when it is valid."""
        try:
            manifest = self.manifest(name)
        except ModelError as error:
            return [str(error)]
        if not manifest.files:
            return [f"the manifest of model '{name}' lists no files"]
        directory = self.model_dir(name)
        found: list[str] = []
        for relpath, expected in manifest.files.items():
            path = directory / relpath
            if not path.is_file():
                found.append(f"{relpath}: missing")
            elif self._sha256(path) != expected:
                found.append(f"{relpath}: sha256 does not match the manifest (file changed)")
        return found

    def record_hashes(self, name: str, files: dict[str, str]) -> None:
        """Remember the sha256 of files just written into model ``name`` (build does this)."""
        directory = self.model_dir(name)
        cache = self._read_hash_cache()
        for relpath, digest in files.items():
            stat = (directory / relpath).stat()
            cache[self._cache_key(directory / relpath)] = [stat.st_size, stat.st_mtime_ns, digest]
        write_json_atomic(self.root / HASH_CACHE_NAME, cache)

    def _sha256(self, path: Path) -> str:
        stat = path.stat()
        key = self._cache_key(path)
        cache = self._read_hash_cache()
        entry = cache.get(key)
        if isinstance(entry, list) and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            return str(entry[2])
        digest = sha256_file(path)
        cache[key] = [stat.st_size, stat.st_mtime_ns, digest]
        with contextlib.suppress(OSError):  # a read-only store still validates, just slower
            write_json_atomic(self.root / HASH_CACHE_NAME, cache)
        return digest

    def _cache_key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _read_hash_cache(self) -> dict[str, Any]:
        try:
            cache = json.loads((self.root / HASH_CACHE_NAME).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return cache if isinstance(cache, dict) else {}

    def is_valid(self, name: str) -> bool:
        return not self.problems(name)

    def list(self) -> list[StoredModel]:
        """Every model in the store, with its manifest and whether it is valid."""
        if not self.root.is_dir():
            return []
        models = []
        for directory in sorted(self.root.iterdir()):
            if directory.name.startswith(".") or not (directory / MANIFEST_NAME).is_file():
                continue
            try:
                manifest: ModelManifest | None = self.manifest(directory.name)
            except ModelError:
                manifest = None
            valid = self.is_valid(directory.name)
            models.append(StoredModel(directory.name, directory, valid, manifest))
        return models

    def write_manifest(self, name: str, manifest: ModelManifest) -> Path:
        """Write ``model.json`` atomically (temp file + rename) into the model's directory."""
        directory = self.model_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        return manifest.write(directory)

    @contextlib.contextmanager
    def staging(self, name: str) -> Iterator[Path]:
        """A fresh directory to build model ``name`` in; swapped into place if the block succeeds.

        On an exception the staging directory is removed and any previous model is untouched.
        """
        final = self.model_dir(name)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(f".{name}.staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=self.root))
        staging.chmod(0o755)  # mkdtemp makes it private; workers may run as another user
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        retired = None
        if final.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{name}.retired-", dir=self.root))
            final.rename(retired / name)
        staging.rename(final)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


#: The ONNX models of a text-to-image pipeline folder, each ``<component>/model.onnx``.
PIPELINE_COMPONENTS = ("text_encoder", "unet", "vae_decoder")


def missing_pipeline_files(directory: Path) -> list[str]:
    """What a text-to-image pipeline folder (diffusers' ONNX layout: one folder per
    :data:`PIPELINE_COMPONENTS`, a scheduler, a tokenizer) lacks; empty when it looks complete."""
    missing = [
        f"{c}/model.onnx"
        for c in PIPELINE_COMPONENTS
        if not (directory / c / "model.onnx").is_file()
    ]
    if not (directory / "scheduler" / "scheduler_config.json").is_file():
        missing.append("scheduler/scheduler_config.json")
    tokenizer = directory / "tokenizer"
    if not (tokenizer / "tokenizer.json").is_file() and not (
        (tokenizer / "vocab.json").is_file() and (tokenizer / "merges.txt").is_file()
    ):
        missing.append("tokenizer/tokenizer.json (or vocab.json + merges.txt)")
    return missing
