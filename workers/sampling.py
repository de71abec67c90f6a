"""Choosing a row's next token: greedy or nucleus sampling with its own seeded generator, the
repetition penalty, a grounded row's word mask, and the chosen token's log-probability under
the model's raw logits."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from contentfab.workers.grounding import WordConstraint
    from contentfab.workers.textgen import SamplingParams

FloatArray = npt.NDArray[np.float32]


@dataclass
class Row:
    """One row of a batch while it generates."""

    prompt: list[int]
    params: SamplingParams
    rng: np.random.Generator
    seen: npt.NDArray[np.bool_] | None
    constraint: WordConstraint | None = None
    tokens: list[int] = field(default_factory=list)
    logprob_sum: float = 0.0
    finish_reason: str = ""


def choose_token(logits: FloatArray, row: Row) -> tuple[int, float]:
    """Pick the next token for one row; return it and its log-probability under raw logits."""
    raw = logits.astype(np.float64)
    params = row.params
    scores = raw
    if row.constraint is not None:
        allowed = row.constraint.allowed()
        if allowed.any():
            scores = np.where(allowed[: raw.size], raw, -np.inf)
    if row.seen is not None:
        # CTRL / Hugging Face repetition penalty: push seen tokens' logits towards less likely.
        scores = raw.copy() if scores is raw else scores
        seen = np.flatnonzero(row.seen)
        values = scores[seen]
        scores[seen] = np.where(
            values > 0, values / params.repetition_penalty, values * params.repetition_penalty
        )
    if params.temperature == 0.0:
        token = int(np.argmax(scores))
    else:
        scaled = scores / params.temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        if params.top_p < 1.0:
            order = by_probability(probs, params.top_p)
            sorted_probs = probs[order]
            # keep the smallest prefix whose mass reaches top_p (always at least one token)
            keep = (np.cumsum(sorted_probs) - sorted_probs) < params.top_p
            candidates, weights = order[keep], sorted_probs[keep]
        else:
            candidates, weights = np.arange(probs.size), probs
        cumulative = np.cumsum(weights)
        pick = int(np.searchsorted(cumulative, row.rng.random() * cumulative[-1], side="right"))
        token = int(candidates[min(pick, candidates.size - 1)])
    top = raw.max()
    logprob = raw[token] - (top + math.log(float(np.exp(raw - top).sum())))
    return token, float(logprob)


def by_probability(probs: npt.NDArray[np.float64], mass: float) -> npt.NDArray[np.intp]:
    """Token ids by falling probability (ties by id), at least until ``mass`` is covered.

    A full sort of a 49k vocabulary costs as much as a decode step on CPU, and the nucleus is
    almost always a few dozen tokens, so sort only the top candidates unless they fall short.
    """
    if probs.size > NUCLEUS_CANDIDATES:
        top = np.argpartition(-probs, NUCLEUS_CANDIDATES - 1)[:NUCLEUS_CANDIDATES]
        order = top[np.lexsort((top, -probs[top]))]
        if probs[order].sum() >= mass:
            return order
    return np.argsort(-probs, kind="stable")


NUCLEUS_CANDIDATES = 1024
