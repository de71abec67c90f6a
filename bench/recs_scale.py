"""Recommendations at scale: the whole pipeline against the raw scoring loop, same machine.

Data: :func:`bench.recs_data.make_shop` (default 100,000 users × 20,000 products, k = 10,
diversity 0.3, category quota 3, in-stock only), written once to a cache folder.

* **raw** — one process: read the catalog and interactions CSVs, popularity, every user's
  history, :func:`workers.recommender.recommend` over all users in batches (with the same
  candidate index as the worker), and each list turned into its asset dict. No SQL, no broker.
* **pipeline** — ``contentfab run`` in a subprocess on the embedded default (SQLite + SQLite
  broker + one Celery worker process): validate the files, store products, interactions and one
  job per user, send chunks, make the lists, write one asset row per user.

Both start from the same product vectors: the catalog embedding (reported separately, the same
for both) is taken from the embedding cache, as it is for any catalog embedded before. The
ratio is raw seconds / pipeline seconds (goal ≥ 0.90), within each round; the
bracketed ratio takes the mean of the raw loop before the round's pipeline runs and after them
(the next round's, or a closing run), since this machine's speed drifts between minutes.
Peak memory is the largest resident set of any one process: ru_maxrss for the raw loop, /proc
sampled every 0.25 s for the pipeline's process tree (a child's ru_maxrss would start from the
bench process's own).

    python -m bench.recs_scale [--users 100000] [--products 20000] [--concurrency 1 2]
        [--repeat 3] [--raw-gc-freeze] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.recs_data import make_shop, write_shop
from contentfab.workers.recommender import (
    CandidateIndex,
    Catalog,
    Interactions,
    Rules,
    Subject,
    event_strength,
    group_histories,
    popularity_prior,
    product_text,
    recommend,
)

MODEL = "minilm-l6-v2"
RULES: dict[str, Any] = {"k": 10, "diversity": 0.3, "category_quota": 3, "in_stock_only": True}
HALF_LIFE = 7.0


def dataset(users: int, products: int, root: Path) -> Path:
    directory = root / f"recs-scale-{users}x{products}"
    if not (directory / "interactions.csv").is_file():
        started = time.perf_counter()
        write_shop(make_shop(users, products, seed=0), directory)
        print(f"generated data in {time.perf_counter() - started:.0f}s", flush=True)
    return directory


def product_vectors(directory: Path, store_root: Path) -> tuple[np.ndarray, str, float]:
    from contentfab.exporters import ModelStore, build_model
    from contentfab.workers.embeddings import TextEmbedder

    store = ModelStore(store_root)
    build_model(MODEL, store)
    embedder = TextEmbedder.load(store.model_dir(MODEL))
    cache = directory / f"vectors-{embedder.model_sha256[:16]}.npy"
    if cache.is_file():
        seconds = json.loads((directory / "embed-seconds.json").read_text())["seconds"]
        return np.load(cache), embedder.model_sha256, seconds
    rows = list(csv.DictReader((directory / "catalog.csv").open(encoding="utf-8")))
    texts = [product_text(r["title"], r["description"], r["category"]) for r in rows]
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - started
    np.save(cache, vectors)
    (directory / "embed-seconds.json").write_text(json.dumps({"seconds": seconds}))
    return vectors, embedder.model_sha256, seconds


def raw(directory: Path, vectors: np.ndarray, freeze: bool = False) -> dict[str, Any]:
    """The raw loop; ``freeze``: with the data's objects frozen out of the garbage collector
    before scoring, as the worker does with a campaign's (``--raw-gc-freeze``)."""
    import gc

    started = time.perf_counter()
    rows = list(csv.DictReader((directory / "catalog.csv").open(encoding="utf-8")))
    catalog = Catalog.build(
        [r["id"] for r in rows],
        [r["title"] for r in rows],
        vectors,
        categories=[r["category"] for r in rows],
        prices=[float(r["price"]) for r in rows],
        in_stock=[json.loads(r["attributes"])["in_stock"] for r in rows],
    )
    row_of = {sku: i for i, sku in enumerate(catalog.skus)}
    with (directory / "interactions.csv").open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        inter = Interactions.from_records(
            (user, row_of[sku], event, float(ts), 1.0) for user, sku, event, ts in reader
        )
    now = float(inter.timestamps.max())
    strength = event_strength(inter, now=now, half_life_days=HALF_LIFE)
    catalog = catalog.with_popularity(popularity_prior(inter.items, strength, len(catalog)))
    users = list(dict.fromkeys(inter.users))
    histories = group_histories(inter, strength, users)
    subjects = [Subject(i, "user", u, histories[u]) for i, u in enumerate(users)]
    if freeze:
        gc.freeze()
    loaded = time.perf_counter()
    rules = Rules(**RULES)
    # The same candidate path as the worker: FAISS above its threshold when installed.
    index = CandidateIndex.build(catalog, rules)
    lists = recommend(catalog, subjects, rules, batch_size=1000, index=index)  # as the worker
    assets = [[item.as_dict() for item in rec.items] for rec in lists]
    finished = time.perf_counter()
    if freeze:
        gc.unfreeze()
    return {
        "seconds": round(finished - started, 1),
        "load_seconds": round(loaded - started, 1),
        "scoring_seconds": round(finished - loaded, 1),
        "lists": len(assets),
        "candidates": "faiss IndexFlatIP" if index is not None else "numpy",
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # Every 97th user's list, to compare with the pipeline's (not part of the timing).
        "sample": {users[i]: assets[i] for i in range(0, len(users), 97)},
    }


def compare_lists(db_url: str, sample: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """How many of the raw loop's sampled lists the pipeline stored exactly (skus, scores and
    reasons, in order), and the first that differs."""
    from sqlalchemy import select

    from contentfab.db.models import Asset
    from contentfab.db.session import configure

    sessions = configure(db_url)
    with sessions() as session:
        stored: dict[str | None, dict[str, Any]] = {
            subject: meta
            for subject, meta in session.execute(
                select(Asset.subject, Asset.meta).where(
                    Asset.channel == "user", Asset.subject.in_(list(sample))
                )
            )
        }
    sessions.kw["bind"].dispose()
    differing = [
        user for user, items in sample.items() if stored.get(user, {}).get("items") != items
    ]
    return {
        "lists_compared": len(sample),
        "lists_equal": len(sample) - len(differing),
        "first_difference": None
        if not differing
        else {
            "user": differing[0],
            "raw": sample[differing[0]],
            "pipeline": stored.get(differing[0], {}).get("items"),
        },
    }


def pipeline(
    directory: Path,
    vectors: np.ndarray,
    model_sha256: str,
    store_root: Path,
    work: Path,
    sample: dict[str, list[dict[str, Any]]],
    concurrency: int = 1,
) -> dict[str, Any]:
    from sqlalchemy import insert

    from contentfab.db.migrate import upgrade
    from contentfab.db.models import ProductEmbedding
    from contentfab.db.session import configure
    from contentfab.workers.embeddings import text_sha256

    data = work / "data"
    data.mkdir(parents=True)
    db_url = f"sqlite:///{data / 'contentfab.db'}"
    upgrade(db_url)
    rows = list(csv.DictReader((directory / "catalog.csv").open(encoding="utf-8")))
    texts = [product_text(r["title"], r["description"], r["category"]) for r in rows]
    sessions = configure(db_url)
    with sessions.begin() as session:  # the catalog was embedded before, by an earlier run
        session.execute(
            insert(ProductEmbedding),
            [
                {
                    "model_sha256": model_sha256,
                    "text_sha256": text_sha256(t),
                    "dim": vectors.shape[1],
                    "vector": v.astype("<f4").tobytes(),
                }
                for t, v in dict(zip(texts, vectors, strict=True)).items()
            ],
        )
    sessions.kw["bind"].dispose()
    campaign = directory / "campaign.yaml"
    campaign.write_text(
        "name: Recommendations at scale\ncatalog: catalog.csv\nrecommendations:\n"
        "  interactions: interactions.csv\n  users: all\n"
        + "".join(f"  {k}: {str(v).lower()}\n" for k, v in RULES.items())
        + f"  half_life_days: {HALF_LIFE}\n  model: {MODEL}\n"
    )
    env = {
        **os.environ,
        "CONTENTFAB_DATA_DIR": str(data),
        "CONTENTFAB_MODEL_STORE": str(store_root),
        "CONTENTFAB_DATABASE_URL": db_url,
        "CONTENTFAB_BROKER_URL": f"sqla+sqlite:///{data / 'broker.db'}",
        "CONTENTFAB_PROVIDERS": '["CPUExecutionProvider"]',
        "CONTENTFAB_TASK_SOFT_TIME_LIMIT": "3000",
        "CONTENTFAB_TASK_TIME_LIMIT": "3600",
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contentfab",
            "run",
            str(campaign),
            "--timeout",
            "7200",
            "--concurrency",
            str(concurrency),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # ru_maxrss of a child is useless here: Linux carries the bench process's own high-water
    # mark across fork and exec. Sample the process tree from /proc instead.
    peak, stdout, stderr = _sample_peak_rss(process)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"pipeline failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return {
        "seconds": round(seconds, 1),
        "worker_processes": concurrency,
        "peak_rss_mib": round(peak / 1024),  # largest single process of the tree, sampled
        "output_tail": stdout.strip().splitlines()[-4:],
        "same_lists_as_raw": compare_lists(db_url, sample),
    }


def _sample_peak_rss(process: subprocess.Popen[str], every: float = 0.25) -> tuple[int, str, str]:
    """Largest resident set (KiB) of any process in ``process``'s tree until it exits, and
    its stdout and stderr.

    Sampled, so a peak shorter than ``every`` can be missed; the tree's output is drained by a
    thread meanwhile so that a full pipe never blocks it.
    """
    import threading

    drained: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:
        drained[name] = stream.read()

    threads = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for thread in threads:
        thread.start()
    peak = 0
    while process.poll() is None:
        pids, seen = [process.pid], set()
        while pids:
            pid = pids.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    peak = max(peak, int(line.split()[1]))
            pids.extend(int(child) for child in children)
        time.sleep(every)
    for thread in threads:
        thread.join()
    return peak, drained.get("out", ""), drained.get("err", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1],
        help="worker processes for the pipeline run(s); one run per value",
    )
    parser.add_argument(
        "--raw-gc-freeze",
        action="store_true",
        help="also time the raw loop with its data frozen out of the garbage collector, as "
        "the worker freezes a campaign's (reported beside the plain raw loop, which stays the "
        "baseline of the ratio)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of raw loop + pipeline run(s); median ratio"
    )
    parser.add_argument("--cache", type=Path, default=None, help="where generated data is kept")
    parser.add_argument("--out", type=Path, default=Path("bench/results-recs-scale.json"))
    args = parser.parse_args()

    from contentfab.core.settings import Settings

    settings = Settings()
    directory = dataset(args.users, args.products, args.cache or settings.data_dir / "bench-cache")
    vectors, model_sha256, embed_seconds = product_vectors(directory, settings.model_store)
    print(f"catalog embedding: {embed_seconds:.0f}s (cached after the first run)", flush=True)
    load_before = list(os.getloadavg())  # other work on the machine inflates both runs
    rounds = []
    for number in range(1, args.repeat + 1):
        # Each round times the raw loop again: the ratio is taken within a round, since this
        # machine's speed drifts by 20% or more between minutes.
        raw_result = raw(directory, vectors)
        print(f"round {number} raw: {_shown(raw_result)}", flush=True)
        frozen = raw(directory, vectors, freeze=True) if args.raw_gc_freeze else None
        if frozen is not None:
            print(f"round {number} raw, gc.freeze: {_shown(frozen)}", flush=True)
        runs = []
        for concurrency in args.concurrency:
            work = Path(tempfile.mkdtemp(prefix="recs-scale-"))
            try:
                pipe = pipeline(
                    directory,
                    vectors,
                    model_sha256,
                    settings.model_store,
                    work,
                    raw_result["sample"],
                    concurrency,
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(f"round {number} pipeline: {pipe}", flush=True)
            runs.append(pipe)
        rounds.append(
            {
                "raw": _shown(raw_result),
                "raw_seconds": raw_result["seconds"],
                "raw_gc_freeze": None if frozen is None else _shown(frozen),
                "pipeline": runs,
                "ratio_raw_over_pipeline": [
                    round(raw_result["seconds"] / p["seconds"], 3) for p in runs
                ],
                "ratio_raw_gc_freeze_over_pipeline": None
                if frozen is None
                else [round(frozen["seconds"] / p["seconds"], 3) for p in runs],
                "load_average_after": list(os.getloadavg()),
            }
        )
    # The raw loop once more after the last round: each round's pipeline runs then have a raw
    # time from before them and one from after them (the next round's), and the bracketed
    # ratio divides their mean by the pipeline's time, so a drift of the machine's speed
    # during a round weighs on both sides alike.
    closing = raw(directory, vectors) if rounds else None
    if closing is not None:
        print(f"closing raw: {_shown(closing)}", flush=True)
        after = [r["raw_seconds"] for r in rounds[1:]] + [closing["seconds"]]
        for entry, later in zip(rounds, after, strict=True):
            baseline = (entry["raw_seconds"] + later) / 2
            entry["raw_seconds_after"] = later
            entry["ratio_bracketed"] = [
                round(baseline / p["seconds"], 3) for p in entry["pipeline"]
            ]
    events = sum(1 for _ in (directory / "interactions.csv").open()) - 1
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "users": args.users,
        "products": args.products,
        "events": events,
        "rules": RULES,
        "model": MODEL,
        "catalog_embedding_seconds": round(embed_seconds, 1),
        "load_average_before": load_before,
        "worker_processes": args.concurrency,
        "rounds": rounds,
        "median_ratio_raw_over_pipeline": [
            round(float(np.median([r["ratio_raw_over_pipeline"][i] for r in rounds])), 3)
            for i in range(len(args.concurrency))
        ],
        "median_ratio_bracketed": None
        if closing is None
        else [
            round(float(np.median([r["ratio_bracketed"][i] for r in rounds])), 3)
            for i in range(len(args.concurrency))
        ],
        "closing_raw": None if closing is None else _shown(closing),
        "goal": ">= 0.90",
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    shown = (
        "worker_processes",
        "median_ratio_raw_over_pipeline",
        "median_ratio_bracketed",
        "goal",
    )
    print(json.dumps({k: report[k] for k in shown}), "→", args.out)


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "sample"}


if __name__ == "__main__":
    main()
