"""How a list is made: rules, user and segment vectors, candidates (exact or from an index), MMR re-ranking and a reason per item (the steps are in :mod:`workers.recommender`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contentfab.workers.recommender.data import (
    DEFAULT_POPULARITY_WEIGHT,
    EVENT_VERBS,
    NEG,
    PURCHASE,
    BoolArray,
    Catalog,
    FloatArray,
    History,
    IntArray,
)

#: A cold user with a segment gets the most popular of this many products closest to it.
COLD_POOL = 200


@dataclass(frozen=True)
class Rules:
    k: int = 10
    exclude_purchased: bool = True
    exclude_seen: bool = False
    in_stock_only: bool = True
    price_band: tuple[float, float] | None = None
    category_quota: int | None = None
    diversity: float = 0.0
    candidates: int = 50
    popularity_weight: float = DEFAULT_POPULARITY_WEIGHT

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if not 0.0 <= self.diversity <= 1.0:
            raise ValueError("diversity must be between 0 and 1")
        if self.category_quota is not None and self.category_quota < 1:
            raise ValueError("category_quota must be at least 1")
        if self.price_band is not None and self.price_band[0] > self.price_band[1]:
            raise ValueError("price_band must be [low, high] with low <= high")


@dataclass(frozen=True)
class Subject:
    """Whom a list is for. A user has a history (maybe empty); a segment has a vector."""

    key: int  # the job ID; opaque here
    kind: str  # "user" or "segment"
    name: str  # user id or segment name
    history: History | None = None
    segment_vector: FloatArray | None = None  # the segment's, or a cold user's segment
    segment_name: str | None = None
    vector: FloatArray | None = None  # a user vector made elsewhere (the two-tower model)


@dataclass(frozen=True)
class RecommendedItem:
    sku: str
    score: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "score": round(self.score, 5), "reason": self.reason}


@dataclass(frozen=True)
class Recommendation:
    key: int
    items: list[RecommendedItem]
    strategy: str  # "history", "segment", "cold-segment", "popular"
    short: bool = False  # fewer than k products passed the rules


def allowed_products(catalog: Catalog, rules: Rules) -> BoolArray:
    """The products every list may contain (stock and price band)."""
    allowed = np.ones(len(catalog), dtype=bool)
    if rules.in_stock_only:
        allowed &= catalog.in_stock
    if rules.price_band is not None:
        low, high = rules.price_band
        # A product without a price cannot be shown to fit a band, so it is left out.
        with np.errstate(invalid="ignore"):
            allowed &= (catalog.price >= low) & (catalog.price <= high)
    return allowed


def recommend(
    catalog: Catalog,
    subjects: Sequence[Subject],
    rules: Rules,
    batch_size: int = 512,
    index: CandidateIndex | None = None,
) -> list[Recommendation]:
    """One ranked list per subject, in the order given; batched matrix products inside.

    With an ``index`` (built for the same catalog and rules) the candidates of users with a
    history and of segments come from it instead of a product with every catalog row.
    """
    allowed = allowed_products(catalog, rules)
    results: list[Recommendation] = []
    for start in range(0, len(subjects), batch_size):
        batch = subjects[start : start + batch_size]
        results.extend(_recommend_batch(catalog, batch, rules, allowed, index))
    return results


#: From this many products that pass the stock and price rules up, candidates come from a
#: FAISS index when faiss is installed. Measured on this machine (``bench/recs_faiss.py``,
#: BENCHMARKS.md), 10,000 users: an exact ``IndexFlatIP`` took 0.68× numpy's product and
#: ``argpartition`` at 1,000 products, 0.50× at 5,000, 0.26× at 20,000 and 0.29× at 100,000;
#: HNSW and IVF were slower or lost too many of the exact candidates (the popularity
#: dimension defeats their partitioning). Below 1,000 (not measured) numpy stays.
ANN_MIN_PRODUCTS = 1_000


@dataclass(frozen=True)
class CandidateIndex:
    """An exact FAISS inner-product index over the allowed products, popularity folded in.

    Each product is stored as ``[vector, prior]`` and each query as ``[vector, w]``, so the
    inner product is the relevance the numpy path computes (cosine + w × prior) and the
    index returns the same candidates, faster: FAISS keeps a running top-m per query instead
    of materialising and partitioning a (users × products) score matrix.
    """

    rows: IntArray  # index position → catalog row
    index: Any
    popularity_weight: float

    @classmethod
    def build(
        cls, catalog: Catalog, rules: Rules, *, min_products: int = ANN_MIN_PRODUCTS
    ) -> CandidateIndex | None:
        """The index, or None below ``min_products`` or when faiss is not installed."""
        rows = np.flatnonzero(allowed_products(catalog, rules))
        if len(rows) < max(min_products, 1):
            return None
        try:
            import faiss
        except ImportError:
            return None
        prior = catalog.popularity if catalog.popularity.size else np.zeros(len(catalog))
        data = np.hstack([catalog.vectors[rows], prior[rows, None]]).astype(np.float32)
        index = faiss.IndexFlatIP(data.shape[1])
        index.add(data)
        return cls(rows.astype(np.int64), index, rules.popularity_weight)

    def search(self, vectors: FloatArray, m: int) -> tuple[IntArray, FloatArray]:
        """Per row of unit ``vectors``: up to ``m`` catalog rows, best first, and relevance
        (``-inf`` where the index had fewer)."""
        m = min(m, len(self.rows))
        queries = np.hstack(
            [vectors, np.full((len(vectors), 1), self.popularity_weight, np.float32)]
        ).astype(np.float32)
        scores, positions = self.index.search(queries, m)
        found = positions >= 0
        rows: IntArray = self.rows[np.where(found, positions, 0)]
        return rows, np.where(found, scores, NEG).astype(np.float32)


def subject_vectors(catalog: Catalog, subjects: Sequence[Subject]) -> tuple[FloatArray, list[str]]:
    """Unit vectors (zero rows for cold users) and the strategy of each subject."""
    d = catalog.vectors.shape[1]
    vectors = np.zeros((len(subjects), d), dtype=np.float32)
    strategies: list[str] = []
    owners: list[int] = []
    items: list[IntArray] = []
    strengths: list[FloatArray] = []
    for i, subject in enumerate(subjects):
        history = subject.history
        if subject.kind == "segment":
            if subject.segment_vector is None:
                raise ValueError(f"segment {subject.name!r} has no vector")
            vectors[i] = subject.segment_vector
            strategies.append("segment")
        elif subject.vector is not None and history is not None and not history.empty:
            vectors[i] = subject.vector
            strategies.append("history")
        elif history is not None and not history.empty:
            owners.append(i)
            items.append(history.items)
            strengths.append(history.strength)
            strategies.append("history")
        else:
            strategies.append("cold-segment" if subject.segment_vector is not None else "popular")
    if owners:
        # One reduceat over all users' weighted item vectors instead of a loop of small sums.
        flat_items = np.concatenate(items)
        weighted = catalog.vectors[flat_items] * np.concatenate(strengths)[:, None]
        starts = np.cumsum([0] + [len(x) for x in items[:-1]])
        vectors[owners] = np.add.reduceat(weighted, starts, axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors, strategies


def _recommend_batch(
    catalog: Catalog,
    subjects: Sequence[Subject],
    rules: Rules,
    allowed: BoolArray,
    index: CandidateIndex | None = None,
) -> list[Recommendation]:
    vectors, strategies = subject_vectors(catalog, subjects)
    m = min(max(rules.candidates, rules.k), len(catalog))
    warm = np.array([s in ("history", "segment") for s in strategies], dtype=bool)
    if index is not None and warm.any():
        # The index answers the users with a vector; the few cold ones take the exact path.
        top = np.zeros((len(subjects), m), np.int64)
        cand_scores = np.full((len(subjects), m), NEG, np.float32)
        warm_rows = np.flatnonzero(warm)
        top[warm_rows], cand_scores[warm_rows] = _indexed_candidates(
            index, vectors[warm_rows], [subjects[i] for i in warm_rows.tolist()], rules, m
        )
        cold_rows = np.flatnonzero(~warm)
        if cold_rows.size:
            cold = [subjects[i] for i in cold_rows.tolist()]
            scores = _exact_scores(
                catalog,
                cold,
                [strategies[i] for i in cold_rows.tolist()],
                vectors[cold_rows],
                rules,
            )
            scores[:, ~allowed] = NEG
            top[cold_rows], cand_scores[cold_rows] = top_candidates(scores, m)
    else:
        scores = _exact_scores(catalog, subjects, strategies, vectors, rules)
        scores[:, ~allowed] = NEG
        for i, subject in enumerate(subjects):
            scores[i, _excluded(subject, rules)] = NEG
        top, cand_scores = top_candidates(scores, m)
    chosen, chosen_scores = choose(catalog, top, cand_scores, rules)
    return [
        _explain(catalog, subject, strategy, rows, values, rules)
        for subject, strategy, rows, values in zip(
            subjects, strategies, chosen, chosen_scores, strict=True
        )
    ]


def _excluded(subject: Subject, rules: Rules) -> IntArray:
    """Catalog rows this subject's list may not contain (what they bought, or saw)."""
    history = subject.history
    if history is None or history.empty:
        return np.zeros(0, np.int64)
    if rules.exclude_seen:
        return history.items
    if rules.exclude_purchased:
        bought: IntArray = history.items[history.events == PURCHASE]
        return bought
    return np.zeros(0, np.int64)


def _exact_scores(
    catalog: Catalog,
    subjects: Sequence[Subject],
    strategies: Sequence[str],
    vectors: FloatArray,
    rules: Rules,
) -> FloatArray:
    prior = catalog.popularity if catalog.popularity.size else np.zeros(len(catalog), np.float32)
    scores = vectors @ catalog.vectors.T
    scores += np.float32(rules.popularity_weight) * prior[None, :]
    for i, (subject, strategy) in enumerate(zip(subjects, strategies, strict=True)):
        if strategy == "popular":
            scores[i] = prior
        elif strategy == "cold-segment":
            assert subject.segment_vector is not None
            closeness = catalog.vectors @ subject.segment_vector
            pool = np.argpartition(-closeness, min(COLD_POOL, len(catalog) - 1))[:COLD_POOL]
            row = np.full(len(catalog), NEG, dtype=np.float32)
            # Popularity first; closeness only breaks ties among equally popular products.
            row[pool] = prior[pool] + 1e-3 * closeness[pool]
            scores[i] = row
    return scores


def _indexed_candidates(
    index: CandidateIndex,
    vectors: FloatArray,
    subjects: Sequence[Subject],
    rules: Rules,
    m: int,
) -> tuple[IntArray, FloatArray]:
    excluded = [_excluded(subject, rules) for subject in subjects]
    # Ask for enough that m remain after each row's exclusions are dropped.
    rows, scores = index.search(vectors, m + max((len(x) for x in excluded), default=0))
    for i, drop in enumerate(excluded):
        if drop.size:
            scores[i, np.isin(rows[i], drop)] = NEG
    order = np.argsort(-scores, axis=1, kind="stable")[:, :m]
    top = np.take_along_axis(rows, order, axis=1)
    cand_scores = np.take_along_axis(scores, order, axis=1)
    if top.shape[1] < m:  # a catalog with fewer allowed products than m
        pad = m - top.shape[1]
        top = np.pad(top, ((0, 0), (0, pad)))
        cand_scores = np.pad(cand_scores, ((0, 0), (0, pad)), constant_values=NEG)
    return top, cand_scores


def top_candidates(scores: FloatArray, m: int) -> tuple[IntArray, FloatArray]:
    """Per row, the ``m`` best columns and their scores, best first."""
    n_rows, n_items = scores.shape
    top = (
        np.argpartition(-scores, m - 1, axis=1)[:, :m]
        if m < n_items
        else np.tile(np.arange(n_items), (n_rows, 1))
    )
    cand_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-cand_scores, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(cand_scores, order, axis=1)


def select(
    catalog: Catalog, scores: FloatArray, rules: Rules
) -> tuple[list[IntArray], list[FloatArray]]:
    """Per row: top candidates, then MMR and category quotas; -inf scores are never chosen."""
    m = min(max(rules.candidates, rules.k), scores.shape[1])
    return choose(catalog, *top_candidates(scores, m), rules)


def choose(
    catalog: Catalog, top: IntArray, cand_scores: FloatArray, rules: Rules
) -> tuple[list[IntArray], list[FloatArray]]:
    """From each row's candidates (best first): the first k, or MMR with category quotas."""
    if rules.diversity == 0.0 and rules.category_quota is None:
        picks = [
            (row[np.isfinite(vals)][: rules.k], vals[np.isfinite(vals)][: rules.k])
            for row, vals in zip(top, cand_scores, strict=True)
        ]
        return [p[0] for p in picks], [p[1] for p in picks]
    return mmr(catalog, top, cand_scores, rules)


def mmr(
    catalog: Catalog, candidates: IntArray, relevance: FloatArray, rules: Rules
) -> tuple[list[IntArray], list[FloatArray]]:
    """Greedy maximal marginal relevance over each row's candidates, vectorised over rows.

    ``candidates``/``relevance`` are (rows, m), best first. Returns chosen catalog rows and
    their relevance (not the MMR objective), at most ``rules.k`` per row.
    """
    n_rows, m = candidates.shape
    lam = 1.0 - rules.diversity
    cand_vectors = catalog.vectors[candidates]  # (rows, m, d)
    # Only the similarity to each step's pick is needed: k einsum passes over (rows, m, d),
    # single-threaded. The full (rows, m, m) batched matmul made one multi-threaded BLAS call
    # per row, and on a busy 2-core machine (or 2 worker processes) those threads waited on
    # each other: 1.2-1.4 s against 0.1-0.2 s per 512-1,000 rows at load 4.
    quota = rules.category_quota if rules.category_quota is not None else rules.k
    categories = catalog.category[candidates]
    # Products without a category are never held back by the quota: they get their own columns.
    n_cat = len(catalog.category_names)
    slots = np.where(categories >= 0, categories, n_cat + np.arange(m)[None, :])
    counts = np.zeros((n_rows, n_cat + m), dtype=np.int64)
    available = np.isfinite(relevance)
    max_sim = np.full((n_rows, m), -np.inf, dtype=np.float32)
    rel = np.where(available, relevance, 0.0).astype(np.float32)
    rows = np.arange(n_rows)
    picked = np.full((n_rows, rules.k), -1, dtype=np.int64)
    for step in range(rules.k):
        redundancy = np.where(np.isfinite(max_sim), max_sim, 0.0)
        objective = lam * rel - (1.0 - lam) * redundancy
        blocked = ~available | (np.take_along_axis(counts, slots, axis=1) >= quota)
        objective = np.where(blocked, -np.inf, objective)
        best = objective.argmax(axis=1)
        ok = np.isfinite(objective[rows, best])
        picked[ok, step] = best[ok]
        available[rows[ok], best[ok]] = False
        counts[rows[ok], slots[rows[ok], best[ok]]] += 1
        similarity = np.einsum("rmd,rd->rm", cand_vectors, cand_vectors[rows, best])
        max_sim[ok] = np.maximum(max_sim[ok], similarity[ok])
    chosen, chosen_scores = [], []
    for r in range(n_rows):
        cols = picked[r][picked[r] >= 0]
        chosen.append(candidates[r, cols])
        chosen_scores.append(relevance[r, cols])
    return chosen, chosen_scores


def _explain(
    catalog: Catalog,
    subject: Subject,
    strategy: str,
    rows: IntArray,
    values: FloatArray,
    rules: Rules,
) -> Recommendation:
    reasons: list[str]
    if strategy == "history":
        assert subject.history is not None
        history = subject.history
        closeness = catalog.vectors[rows] @ catalog.vectors[history.items].T  # (k, h)
        nearest = closeness.argmax(axis=1)
        pop_share = (
            rules.popularity_weight * catalog.popularity[rows]
            if catalog.popularity.size
            else np.zeros(len(rows))
        )
        reasons = []
        for j, row in enumerate(rows):
            if pop_share[j] > closeness[j, nearest[j]]:
                reasons.append(_popular_in(catalog, int(row), None))
                continue
            source = int(nearest[j])
            verb = EVENT_VERBS[int(history.events[source])]
            title = catalog.titles[int(history.items[source])]
            reasons.append(f"similar to {title} you {verb}")
    elif strategy == "segment":
        reasons = [f"matches {subject.name}" for _ in rows]
    elif strategy == "cold-segment":
        reasons = [f"popular in {subject.segment_name}" for _ in rows]
    else:
        reasons = [_popular_in(catalog, int(row), None) for row in rows]
    items = [
        RecommendedItem(catalog.skus[int(row)], float(value), reason)
        for row, value, reason in zip(rows, values, reasons, strict=True)
    ]
    return Recommendation(subject.key, items, strategy, short=len(items) < rules.k)


def _popular_in(catalog: Catalog, row: int, segment: str | None) -> str:
    if segment:
        return f"popular in {segment}"
    code = int(catalog.category[row])
    return f"popular in {catalog.category_names[code]}" if code >= 0 else "popular right now"
