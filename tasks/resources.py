"""Per-process resources of a worker: the SQL session factory and loaded models.

Built lazily in the process that runs tasks — after the prefork pool has forked — and rebuilt if
the process ID changes, because neither database connections nor ONNX Runtime sessions survive a
fork. Nothing heavy happens in ``worker_process_init`` (Celery kills slow init handlers after 4 s).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contentfab.core.errors import ModelError
from contentfab.core.model_store import FUSED_SUFFIX, MANIFEST_NAME, ModelManifest, ModelStore
from contentfab.core.settings import Settings
from contentfab.db.registry import register_model
from contentfab.db.session import configure, database_errors, transaction
from contentfab.workers import runtime
from contentfab.workers.embeddings import TextEmbedder
from contentfab.workers.textgen import TextGenerator
from contentfab.workers.two_tower import TwoTower

logger = logging.getLogger(__name__)


class WorkerResources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.hostname = f"{socket.gethostname()}:{self.pid}"
        self.sessions: sessionmaker[Session] = configure(settings.database_url)
        self._generators: dict[str, TextGenerator] = {}
        self._embedders: dict[str, TextEmbedder] = {}
        self._two_towers: dict[str, tuple[TwoTower, ModelManifest]] = {}
        #: Per-campaign data the recommendation task reuses across chunks (catalog matrix).
        self.recs_cache: dict[tuple[int, str], object] = {}

    def text_generator(self, model_name: str) -> TextGenerator:
        generator = self._generators.get(model_name)
        if generator is None:
            store = ModelStore(self.settings.model_store)
            store.manifest(model_name)  # raises ModelError naming the build command if missing
            generator = TextGenerator.load(
                store.model_dir(self._decoder_variant(store, model_name)),
                providers=self.settings.providers,
                intra_op_threads=self.settings.intra_op_threads,
            )
            self._register(
                generator.name, generator.version, generator.model_sha256, generator.manifest
            )
            self._generators[model_name] = generator
        return generator

    def _decoder_variant(self, store: ModelStore, model_name: str) -> str:
        """The fused CPU graph of ``model_name`` when the store has it and this worker runs on
        the CPU (``contentfab models build --fused``); the traced graph otherwise. Assets
        record the variant's name and version."""
        fused = model_name + FUSED_SUFFIX
        on_cpu = runtime.resolve_providers(self.settings.providers)[0] == runtime.CPU
        return fused if on_cpu and store.is_valid(fused) else model_name

    def _register(self, name: str, version: str, sha256: str, manifest: ModelManifest) -> None:
        with database_errors(), transaction(self.sessions) as session:
            register_model(
                session,
                name=name,
                version=version,
                task=manifest.task or "",
                sha256=sha256,
                manifest=manifest.to_dict(),
            )

    def text_embedder(self, model_name: str) -> TextEmbedder:
        embedder = self._embedders.get(model_name)
        if embedder is None:
            store = ModelStore(self.settings.model_store)
            store.manifest(model_name)  # raises ModelError naming the build command if missing
            embedder = TextEmbedder.load(
                store.model_dir(model_name),
                providers=self.settings.providers,
                intra_op_threads=self.settings.intra_op_threads,
            )
            manifest = embedder.manifest
            self._register(manifest.name, manifest.version, embedder.model_sha256, manifest)
            self._embedders[model_name] = embedder
        return embedder

    def copy_embedder(self) -> TextEmbedder | None:
        """The sentence encoder copy dedupe and ranking use (``copy_embedding_model``), or None
        when it is not in the model store or not a sentence encoder: copy is then deduped by its
        text alone (each asset's ``meta.dedupe`` says so)."""
        name = self.settings.copy_embedding_model
        if not name or name in self._embedders:
            return self._embedders.get(name) if name else None
        if not (ModelStore(self.settings.model_store).model_dir(name) / MANIFEST_NAME).exists():
            return None
        try:
            return self.text_embedder(name)
        except ModelError as exc:
            logger.warning("copy is deduped by its text alone: %s", exc)
            return None

    def two_tower(self, model_name: str) -> tuple[TwoTower, ModelManifest]:
        """The two-tower recommender ``model_name`` on ONNX Runtime, and its manifest."""
        loaded = self._two_towers.get(model_name)
        if loaded is None:
            store = ModelStore(self.settings.model_store)
            manifest = store.manifest(model_name)  # raises ModelError if missing
            if manifest.family != "two-tower":
                raise ModelError(f"model {model_name!r} is not a two-tower model")
            tower = TwoTower.load(
                store.model_dir(model_name), manifest, threads=self.settings.intra_op_threads
            )
            self._register(
                model_name, manifest.version, manifest.files["user_tower.onnx"], manifest
            )
            loaded = self._two_towers[model_name] = (tower, manifest)
        return loaded

    def close(self) -> None:
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()
        self._generators.clear()
        self._embedders.clear()
        self._two_towers.clear()
        self.recs_cache.clear()


def counts_lost_deliveries(request: Any) -> bool:
    """Whether RUNNING jobs found by this delivery count as lost deliveries (see claim_jobs).

    Not for a task's own retry after a transient error; yes for a message the broker handed out
    again because the worker holding it died (kombu marks those ``redelivered``).
    """
    redelivered = bool((request.delivery_info or {}).get("redelivered"))
    return redelivered or not request.retries


_current: WorkerResources | None = None


def resources(settings: Settings) -> WorkerResources:
    global _current
    if _current is None or _current.pid != os.getpid() or _current.settings is not settings:
        _current = WorkerResources(settings)
    return _current


def forget_parent_resources(**_: object) -> None:
    """``worker_process_init`` (connected by :mod:`contentfab.tasks.celery`, where a worker
    starts): whatever the parent built belongs to the parent; the child builds its own on first
    use."""
    global _current
    _current = None
