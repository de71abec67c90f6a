"""A model's manifest: the ``model.json`` beside its files, as one typed object.

On disk a manifest is one flat JSON object: the keys every model has (name, version, family,
task, files, source, ...) and the keys of its task (a decoder's layer count, an encoder's
dimension, a CPPN's styles). In Python the keys of a task are a section of their own
(:class:`TextGeneration`, :class:`SentenceEmbedding`, :class:`Recommendation`,
:class:`BackgroundGeneration`, :class:`Matting`), filled when the manifest names that task and
holds its keys, so a reader asks for the section it needs and gets a typed object or a
:class:`ModelError` naming the rebuild.

Manifests written by older exporters keep loading: unknown keys are ignored and missing
optional keys take their defaults. :meth:`ModelManifest.to_dict` writes back exactly the keys
that were read or given, so reading and writing a manifest leaves it as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from contentfab.core.errors import ModelError

MANIFEST_NAME = "model.json"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    #: The manifest's ``task`` that this section belongs to.
    task: ClassVar[str]


class TextGeneration(_Section):
    """A causal LM (``exporters.build``): the cache layout and the tokens generation needs."""

    task: ClassVar[str] = "text-generation"
    #: None for the traced graph; ``workers.kv_buffer.FUSED_DECODER`` for the fused CPU graph.
    decoder: str | None = None
    num_layers: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_context: int | None = None
    eos_token_ids: list[int]
    bos_token_id: int | None = None
    pad_token_id: int | None = None
    chat_template: str


class SentenceEmbedding(_Section):
    """A sentence encoder (``exporters.embedding``): unit vectors of ``dim``."""

    task: ClassVar[str] = "sentence-embedding"
    dim: int
    max_tokens: int
    pooling: str = "mean"
    normalized: bool = True


class Recommendation(_Section):
    """The two-tower recommender (``exporters.two_tower``): item vectors and the user tower."""

    task: ClassVar[str] = "recommendation"
    dim: int
    products: int
    max_history: int
    normalized: bool = True
    train_seconds: float | None = None
    final_loss: float | None = None
    #: Row i of ``item_vectors.npy`` is ``product_ids[i]``.
    product_ids: list[str] = []


class BackgroundGeneration(_Section):
    """The CPPN background generator (``exporters.background``)."""

    task: ClassVar[str] = "background-generation"
    styles: dict[str, list[float]]
    latent_size: int
    palette_size: int


class Matting(_Section):
    """A salient-object matte model (``exporters.matting``)."""

    task: ClassVar[str] = "matting"
    input_side: int
    preprocess: dict[str, Any] = {}


#: The manifest field that holds each task's section.
_SECTIONS: dict[str, type[_Section]] = {
    "text_generation": TextGeneration,
    "sentence_embedding": SentenceEmbedding,
    "recommendation": Recommendation,
    "background_generation": BackgroundGeneration,
    "matting": Matting,
}
_FIELD_OF_TASK = {kind.task: field for field, kind in _SECTIONS.items()}

S = TypeVar("S", bound=_Section)


class ModelManifest(BaseModel):
    """What ``model.json`` says about one exported model."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    version: str = ""
    family: str | None = None
    task: str | None = None
    #: sha256 of every file of the model, keyed by its path relative to the model directory.
    files: dict[str, str] = {}
    #: Where the model came from; its shape is the exporter's (a package, a recipe, data).
    source: dict[str, Any] | None = None
    opset: int | None = None
    inputs: list[dict[str, Any]] | None = None
    outputs: list[dict[str, Any]] | None = None
    quantization: str | None = None
    #: The exporter's check against the source model; its keys are the family's.
    parity: dict[str, Any] | None = None
    trained: bool | None = None
    exporter_version: str | None = None
    created_at: str | None = None
    build_seconds: float | None = None

    text_generation: TextGeneration | None = None
    sentence_embedding: SentenceEmbedding | None = None
    recommendation: Recommendation | None = None
    background_generation: BackgroundGeneration | None = None
    matting: Matting | None = None

    @model_validator(mode="before")
    @classmethod
    def _task_section(cls, data: Any) -> Any:
        """Gather a flat manifest's task keys into the task's section. A manifest without
        them (only a name, a task and files) loads without a section; one whose task keys are
        there but wrong is not a manifest."""
        if not isinstance(data, dict):
            return data
        field = _FIELD_OF_TASK.get(str(data.get("task")))
        if field is None or field in data:
            return data
        try:
            section = _SECTIONS[field].model_validate(data)
        except ValidationError as error:
            if all(problem["type"] == "missing" for problem in error.errors()):
                return data
            raise ValueError(str(error)) from None
        return {**data, field: section}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelManifest:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ModelError(f"not a model manifest: {error}") from error

    @classmethod
    def read(cls, directory: Path) -> ModelManifest:
        """The manifest in model directory ``directory``; ModelError when it is missing,
        unreadable or not a manifest."""
        path = Path(directory) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ModelError(f"cannot read the manifest of {directory}: {error}") from error
        except json.JSONDecodeError as error:
            raise ModelError(f"the manifest {path} is not valid JSON ({error})") from error
        if not isinstance(data, dict):
            raise ModelError(f"the manifest {path} is not a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ModelError(f"the manifest {path} is not a model manifest: {error}") from error

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON object of ``model.json``: the keys read or given, none added."""
        data = self.model_dump(exclude_unset=True, exclude=set(_SECTIONS))
        for field in _SECTIONS:
            section = getattr(self, field)
            if section is not None:
                data.update(section.model_dump(exclude_unset=True))
        return data

    def with_keys(self, **changes: Any) -> ModelManifest:
        """This manifest with some ``model.json`` keys changed (a test's or a benchmark's
        variant of a model: another stop token, say)."""
        return self.from_dict({**self.to_dict(), **changes})

    def write(self, directory: Path) -> Path:
        """Write ``model.json`` into ``directory`` atomically (temp file + rename)."""
        return write_json_atomic(Path(directory) / MANIFEST_NAME, self.to_dict())

    def section(self, kind: type[S]) -> S:
        """The section of ``kind``; ModelError when the manifest has none (another task, or an
        export too old to hold its keys)."""
        for field, section_kind in _SECTIONS.items():
            if section_kind is kind:
                found = getattr(self, field)
                if isinstance(found, kind):
                    return found
        raise ModelError(
            f"model '{self.name}' is a {self.task!r} model whose manifest lacks the "
            f"{kind.task} fields; rebuild it with `contentfab models build {self.name} --force`"
        )


def write_json_atomic(path: Path, data: dict[str, Any]) -> Path:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(handle, 0o644)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=False)
        stream.write("\n")
    Path(temp).replace(path)
    return path
