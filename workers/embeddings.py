"""Text embeddings from an exported sentence encoder: numpy, ONNX Runtime and tokenizers only.

The model's contract is :class:`exporters.embedding.EncoderSpec`: token ids and a mask in,
unit-length vectors out (pooling and normalisation are inside the graph). Texts are sorted by
length before batching, so each batch pads to a length close to its own texts and a catalog of
short titles never pays for its one long description; the order is restored on the way out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from contentfab.core.errors import ModelError
from contentfab.core.manifest import ModelManifest, SentenceEmbedding
from contentfab.workers import runtime

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

FloatArray = npt.NDArray[np.float32]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextEmbedder:
    """One exported sentence encoder, ready to embed in this process."""

    def __init__(
        self,
        manifest: ModelManifest,
        session: onnxruntime.InferenceSession,
        tokenizer: Tokenizer,
        provider: str,
    ) -> None:
        self.manifest = manifest
        self.session = session
        self.tokenizer = tokenizer
        self.provider = provider
        self.dim = manifest.section(SentenceEmbedding).dim
        self.model_sha256 = manifest.files["model.onnx"]

    @classmethod
    def load(
        cls,
        model_dir: Path,
        providers: Sequence[str] = (runtime.CPU,),
        intra_op_threads: int = 0,
        *,
        manifest: ModelManifest | None = None,
    ) -> TextEmbedder:
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        if manifest is None:
            manifest = ModelManifest.read(model_dir)
        if manifest.task != SentenceEmbedding.task:
            raise ModelError(
                f"model {manifest.name!r} is a {manifest.task!r} model, "
                "not a sentence-embedding model"
            )
        session, provider = runtime.get_session(
            model_dir / "model.onnx", providers, intra_op_threads
        )
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        return cls(manifest, session, tokenizer, provider)

    @property
    def provenance(self) -> dict[str, Any]:
        return {
            "name": self.manifest.name,
            "version": self.manifest.version,
            "sha256": self.model_sha256,
        }

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> FloatArray:
        """Unit-length vectors, one row per text, in the order given."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (vectors,) = self.session.run(
                ["embeddings"], {"input_ids": ids, "attention_mask": mask}
            )
            out[rows] = vectors
        return out


def embed_with_cache(
    embedder: TextEmbedder, texts: Sequence[str], known: Mapping[str, FloatArray]
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Embed ``texts``, taking vectors already in ``known`` (text sha256 → vector) from there.

    Returns the matrix in the order of ``texts`` and the newly computed vectors by sha256, for
    the caller to store. Repeated texts are embedded once.
    """
    digests = [text_sha256(text) for text in texts]
    missing: dict[str, str] = {}
    for digest, text in zip(digests, texts, strict=True):
        if digest not in known and digest not in missing:
            missing[digest] = text
    fresh: dict[str, FloatArray] = {}
    if missing:
        vectors = embedder.embed(list(missing.values()))
        fresh = dict(zip(missing, vectors, strict=True))
    matrix = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for i, digest in enumerate(digests):
        matrix[i] = fresh[digest] if digest in fresh else known[digest]
    return matrix, fresh
