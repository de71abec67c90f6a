"""Exact numpy top-k against FAISS (flat, HNSW, IVF) over catalog sizes, on this machine.

What the recommender does per batch of users is a top-``m`` by inner product over the whole
catalog (m = 50 candidates for MMR), with the popularity prior folded in as one extra
dimension (user ``[u, w]`` · product ``[v, prior]`` = cosine + w × prior, so an inner-product
index returns exactly the blended ranking). This measures that retrieval alone:

* **numpy** — ``(batch × n)`` matmul and ``argpartition``, batches of 1,000 users (as now);
* **faiss flat** — ``IndexFlatIP``: exact, the same answer, FAISS's fused BLAS + heap;
* **faiss HNSW** — ``IndexHNSWFlat`` (M 32, inner product), efSearch 64 and 128;
* **faiss IVF** — ``IndexIVFFlat`` (nlist ≈ 4√n, inner product), nprobe 8 and 32.

Recall is recall@m of each index against the exact top-m (1.0 = the same candidates).
Vectors: clustered synthetic unit vectors (24 topics × sub-topics + noise, d = 384, the
shape of MiniLM product embeddings on the generated shop) with a Pareto popularity prior;
users are normalised sums of 2–12 products. Build times are per catalog (once per worker and
campaign), search times per 10,000 users.

    python -m bench.recs_faiss [--sizes 5000 20000 100000] [--users 10000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

D = 384
M = 50  # candidates per user, as Rules.candidates
POPULARITY_WEIGHT = 1.0


def catalog_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    topics = rng.standard_normal((24, D)).astype(np.float32)
    sub = topics[rng.integers(0, 24, 400)] + 0.6 * rng.standard_normal((400, D)).astype(np.float32)
    vectors = sub[rng.integers(0, 400, n)] + 0.5 * rng.standard_normal((n, D)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    prior = np.log1p(rng.pareto(1.2, n)).astype(np.float32)
    prior /= prior.max()
    return np.hstack([vectors, prior[:, None]]).astype(np.float32)


def user_vectors(items: np.ndarray, users: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros((users, D + 1), np.float32)
    for i in range(users):
        picks = items[rng.integers(0, len(items), rng.integers(2, 13)), :D]
        out[i, :D] = picks.sum(axis=0)
    out[:, :D] /= np.linalg.norm(out[:, :D], axis=1, keepdims=True)
    out[:, D] = POPULARITY_WEIGHT
    return out


def numpy_topk(users: np.ndarray, items: np.ndarray, batch: int = 1000) -> np.ndarray:
    out = np.empty((len(users), M), np.int64)
    for start in range(0, len(users), batch):
        scores = users[start : start + batch] @ items.T
        out[start : start + batch] = np.argpartition(-scores, M - 1, axis=1)[:, :M]
    return out


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    hits = sum(len(np.intersect1d(a, b)) for a, b in zip(found, exact, strict=True))
    return round(hits / exact.size, 4)


def measure(n: int, users: int, rng: np.random.Generator) -> dict[str, Any]:
    import faiss

    items = catalog_vectors(n, rng)
    queries = user_vectors(items, users, rng)
    row: dict[str, Any] = {"products": n, "users": users}
    started = time.perf_counter()
    exact = numpy_topk(queries, items)
    row["numpy_s"] = round(time.perf_counter() - started, 2)

    flat = faiss.IndexFlatIP(D + 1)
    flat.add(items)
    started = time.perf_counter()
    _, found = flat.search(queries, M)
    row["flat_s"] = round(time.perf_counter() - started, 2)
    row["flat_recall"] = recall(found, exact)

    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(D + 1, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(items)
    row["hnsw_build_s"] = round(time.perf_counter() - started, 2)
    for ef in (64, 128):
        hnsw.hnsw.efSearch = ef
        started = time.perf_counter()
        _, found = hnsw.search(queries, M)
        row[f"hnsw_ef{ef}_s"] = round(time.perf_counter() - started, 2)
        row[f"hnsw_ef{ef}_recall"] = recall(found, exact)

    nlist = int(4 * np.sqrt(n))
    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(D + 1)
    ivf = faiss.IndexIVFFlat(quantizer, D + 1, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(items[rng.permutation(n)[: min(n, 50 * nlist)]])
    ivf.add(items)
    row["ivf_nlist"] = nlist
    row["ivf_build_s"] = round(time.perf_counter() - started, 2)
    for nprobe in (8, 32):
        ivf.nprobe = nprobe
        started = time.perf_counter()
        _, found = ivf.search(queries, M)
        row[f"ivf_nprobe{nprobe}_s"] = round(time.perf_counter() - started, 2)
        row[f"ivf_nprobe{nprobe}_recall"] = recall(found, exact)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results-recs-faiss.json"))
    args = parser.parse_args()
    import faiss

    rng = np.random.default_rng(0)
    rows = []
    load_before = list(os.getloadavg())
    for n in args.sizes:
        rows.append(measure(n, args.users, rng))
        print(json.dumps(rows[-1]), flush=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(),
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
        "candidates": M,
        "rows": rows,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
