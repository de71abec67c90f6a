"""Copy generation benchmarks, each a ratio against a baseline measured in the same run.

1. pipeline vs raw: the bundled-style campaign through the whole embedded pipeline (CLI enqueue →
   SQLite → SQLite broker → one real Celery worker → ONNX → SQL) against the same jobs, same
   prompts, seeds, chunks and token budget run by calling ``workers.copy.writer.write_copy``
   directly in this process. Goal: pipeline throughput ≥ 0.90 × raw.
2. ONNX Runtime batched decode vs ``transformers`` ``generate`` at batch 1, greedy, same prompts,
   same number of new tokens. Goal: ≥ 8×.

    python -m bench.copy_pipeline [--products 16] [--skip-hf] [--out bench/results.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"


def _catalog(directory: Path, n: int) -> Path:
    source = ROOT / "tests" / "data" / "catalog_200.csv"
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [row for row, _ in zip(reader, range(n), strict=False)]
        fields = reader.fieldnames or []
    path = directory / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _campaign(directory: Path, n: int, max_new_tokens: int) -> Path:
    _catalog(directory, n)
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Benchmark\ncatalog: catalog.csv\n"
        "copy:\n  channels: [email_subject, search_headline]\n  tones: [energetic]\n"
        f"  variants: 1\n  candidates: 2\n  max_new_tokens: {max_new_tokens}\n"
    )
    return path


def pipeline_vs_raw(settings: Any, n_products: int, max_new_tokens: int) -> dict[str, Any]:
    from sqlalchemy import select

    from contentfab.campaign import load_campaign
    from contentfab.cli.worker import worker_argv
    from contentfab.db.migrate import upgrade
    from contentfab.db.models import Campaign, Job
    from contentfab.db.session import configure
    from contentfab.tasks.app import create_app
    from contentfab.tasks.campaigns import enqueue, queued_chunks
    from contentfab.tasks.copy import _slot
    from contentfab.workers.copy.writer import write_copy
    from contentfab.workers.textgen import TextGenerator

    work = Path(tempfile.mkdtemp(prefix="contentfab-bench-"))
    campaign_file = _campaign(work, n_products, max_new_tokens)
    upgrade(settings.database_url)
    sessions = configure(settings.database_url)
    env = {**os.environ, **settings.to_env()}
    worker = subprocess.Popen(
        worker_argv("copy", 1, loglevel="WARNING", name=f"bench-{os.getpid()}@%h"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Warm the worker: its first task loads the model (measured separately below).
        warm = _run_campaign(campaign_file, settings, sessions, n_warm=True)
        loaded = load_campaign(campaign_file)
        started = time.perf_counter()
        result = enqueue(
            loaded,
            settings=settings,
            sessions=sessions,
            app=create_app(settings),
            allow_duplicate=True,
        )
        _wait(sessions, result.campaign_id, worker)
        pipeline_seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    del warm

    with sessions() as session:
        campaign = session.get(Campaign, result.campaign_id)
        jobs = {
            j.id: j
            for j in session.scalars(select(Job).where(Job.campaign_id == result.campaign_id))
        }
        for job in jobs.values():
            job.status = "queued"  # only to rebuild the same chunks; not committed
        chunks = queued_chunks(session, result.campaign_id, settings.chunk_size)
        slot_chunks = [[_slot(jobs[i], campaign.spec) for i in ids] for _, ids in chunks]
        done = sum(1 for j in jobs.values() if j.asset is not None)
        session.rollback()

    load_started = time.perf_counter()
    from contentfab.core.model_store import ModelStore

    generator = TextGenerator.load(
        ModelStore(settings.model_store).model_dir(MODEL),
        providers=settings.providers,
        intra_op_threads=settings.intra_op_threads,
    )
    load_seconds = time.perf_counter() - load_started
    started = time.perf_counter()
    raw_done = 0
    for slots in slot_chunks:
        raw_done += sum(1 for o in write_copy(generator, slots) if o.text is not None)
    raw_seconds = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    return {
        "jobs": len(jobs),
        "chunks": len(slot_chunks),
        "chunk_size": settings.chunk_size,
        "pipeline_seconds": round(pipeline_seconds, 2),
        "pipeline_assets": done,
        "raw_seconds": round(raw_seconds, 2),
        "raw_assets": raw_done,
        "model_load_seconds": round(load_seconds, 2),
        "ratio_raw_over_pipeline": round(raw_seconds / pipeline_seconds, 3),
    }


def _run_campaign(path: Path, settings: Any, sessions: Any, n_warm: bool) -> int:
    from contentfab.campaign import load_campaign
    from contentfab.tasks.app import create_app
    from contentfab.tasks.campaigns import enqueue

    loaded = load_campaign(path)
    # A one-product campaign to make the worker load its model before timing starts.
    loaded = type(loaded)(
        loaded.spec, loaded.products[:1], loaded.source_path, loaded.content_sha256 + "-warm"
    )
    result = enqueue(
        loaded, settings=settings, sessions=sessions, app=create_app(settings), allow_duplicate=True
    )
    _wait(sessions, result.campaign_id, None)
    return result.campaign_id


def _wait(sessions: Any, campaign_id: int, worker: subprocess.Popen[bytes] | None) -> None:
    from contentfab.db.models import Campaign

    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        with sessions() as session:
            if session.get(Campaign, campaign_id).finished_at is not None:
                return
        if worker is not None and worker.poll() is not None:
            raise RuntimeError("worker exited")
        time.sleep(0.05)
    raise TimeoutError(campaign_id)


def ort_vs_transformers(settings: Any, n_prompts: int, new_tokens: int) -> dict[str, Any]:
    import torch

    from contentfab.core.model_store import ModelStore
    from contentfab.exporters.build import _smollm2_source
    from contentfab.workers.copy.messages import build_messages
    from contentfab.workers.copy.slots import CopySlot, ProductFacts
    from contentfab.workers.textgen import SamplingParams, TextGenerator

    generator = TextGenerator.load(
        ModelStore(settings.model_store).model_dir(MODEL),
        intra_op_threads=settings.intra_op_threads,
    )
    with (ROOT / "tests" / "data" / "catalog_200.csv").open(encoding="utf-8") as f:
        rows = [r for r, _ in zip(csv.DictReader(f), range(n_prompts), strict=False)]
    prompts = [
        generator.chat_prompt(
            build_messages(
                CopySlot(
                    key=i,
                    product=ProductFacts(
                        sku=r["id"], title=r["title"], description=r["description"]
                    ),
                    channel="social_post",
                    tone="energetic",
                    sampling=SamplingParams(),
                )
            )
        )
        for i, r in enumerate(rows)
    ]
    # Same number of new tokens on both sides: no stop token, greedy.
    greedy = SamplingParams(temperature=0.0, max_new_tokens=new_tokens)
    eos = generator.eos_token_ids
    generator.eos_token_ids = frozenset()
    try:
        started = time.perf_counter()
        outs = generator.generate(prompts, [greedy] * len(prompts))
        ort_seconds = time.perf_counter() - started
    finally:
        generator.eos_token_ids = eos
    ort_tokens = sum(len(g.token_ids) for g in outs)

    model, tokenizer = _smollm2_source().load()
    model.eval()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    hf_tokens = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            out = model.generate(
                **ids,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
            hf_tokens += out.shape[1] - ids["input_ids"].shape[1]
    hf_seconds = time.perf_counter() - started
    return {
        "prompts": len(prompts),
        "new_tokens": new_tokens,
        "ort_batched_tokens_per_s": round(ort_tokens / ort_seconds, 1),
        "hf_generate_batch1_tokens_per_s": round(hf_tokens / hf_seconds, 1),
        "speedup": round((ort_tokens / ort_seconds) / (hf_tokens / hf_seconds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--hf-prompts", type=int, default=8)
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from contentfab.core.settings import Settings
    from contentfab.exporters import ModelStore, build_model

    data = Path(tempfile.mkdtemp(prefix="contentfab-bench-data-"))
    settings = Settings(data_dir=data, database_url="", broker_url="")
    ModelStore(settings.model_store).root.mkdir(parents=True, exist_ok=True)
    build_model(MODEL, ModelStore(settings.model_store))
    report: dict[str, Any] = {
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()}",
        "command": " ".join(["python -m bench.copy_pipeline", *sys.argv[1:]]),
    }
    report["pipeline_vs_raw"] = pipeline_vs_raw(settings, args.products, args.max_new_tokens)
    print(json.dumps(report["pipeline_vs_raw"], indent=2), flush=True)
    if not args.skip_hf:
        report["ort_vs_transformers"] = ort_vs_transformers(
            settings, args.hf_prompts, args.max_new_tokens
        )
        print(json.dumps(report["ort_vs_transformers"], indent=2), flush=True)
    shutil.rmtree(data, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
