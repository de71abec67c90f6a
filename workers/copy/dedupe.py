"""Near-duplicate detection among a slot's variants: normalised text, word and character-trigram Jaccard, and (with a sentence encoder) embedding cosine."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from contentfab.workers.embeddings import FloatArray, TextEmbedder


_WORD = re.compile(r"\w+", re.UNICODE)


def normalised(text: str) -> str:
    """``text`` as dedupe compares it: NFKC, case-folded, words only, single spaces."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _shingles(text: str, n: int = 3) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + n] for i in range(max(1, len(padded) - n + 1))}


def _jaccard(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


#: Above either similarity two texts are the same copy said twice.
DUPLICATE_WORD_JACCARD = 0.8


DUPLICATE_CHAR_JACCARD = 0.7


#: At or above this cosine of their MiniLM embeddings two texts of one slot group are the same
#: copy reworded: on SmolLM2's candidates, pairs above it were paraphrases, pairs just below it
#: mostly different angles (bench/copy_dedupe.py, see BENCHMARKS.md).
DUPLICATE_COSINE = 0.9


def near_duplicate(text: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that ``text`` nearly repeats: the same normalised text, or word
    or character-trigram sets (Jaccard) that overlap above the thresholds. None if none."""
    mine = normalised(text)
    words, chars = set(mine.split()), _shingles(mine)
    for other in others:
        theirs = normalised(other)
        if mine == theirs:
            return other
        if _jaccard(words, set(theirs.split())) >= DUPLICATE_WORD_JACCARD:
            return other
        if _jaccard(chars, _shingles(theirs)) >= DUPLICATE_CHAR_JACCARD:
            return other
    return None


class _Embeddings:
    """Sentence embeddings of the texts one :func:`write_copy` call compares, each computed once."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self.vectors: dict[str, FloatArray] = {}

    def add(self, texts: Iterable[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.embed(missing), strict=True))

    def cosine(self, text: str, other: str) -> float:
        return float(self.vectors[text] @ self.vectors[other])

    def twin(self, text: str, others: Sequence[str]) -> str | None:
        """The first of ``others`` whose embedding is within :data:`DUPLICATE_COSINE` of
        ``text``'s, or None."""
        if not others:
            return None
        cosines = np.stack([self.vectors[o] for o in others]) @ self.vectors[text]
        hits = np.flatnonzero(cosines >= DUPLICATE_COSINE)
        return others[int(hits[0])] if hits.size else None


def _dedupe_meta(embeddings: _Embeddings | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "methods": ["normalised_text", "word_jaccard", "char_trigram_jaccard"],
        "word_jaccard": DUPLICATE_WORD_JACCARD,
        "char_trigram_jaccard": DUPLICATE_CHAR_JACCARD,
    }
    if embeddings is not None:
        meta["methods"].append("embedding_cosine")
        meta["embedding_cosine"] = DUPLICATE_COSINE
        meta["embedding_model"] = embeddings.embedder.provenance
    return meta


def _is_new(text: str, group: Sequence[str], embeddings: _Embeddings | None) -> bool:
    """Whether ``text`` is no near-duplicate of a text its slot group already has."""
    return near_duplicate(text, group) is None and (
        embeddings is None or embeddings.twin(text, group) is None
    )
