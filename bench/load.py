"""Load test of the queue and database machinery: a big campaign through real workers.

    python -m bench.load [--products 10000] [--workers 2] [--size 160x160] [--chunk-size 8]
                         [--database-url URL] [--broker-url URL] [--out bench/results-load.json]

Runs a typographic-card image campaign (catalog rows without photos, a flat background, a small
custom format: no model, tens of milliseconds a card) so that the per-item cost is small and
what is measured is the machinery — enqueue of every row and message, claim and completion
transactions, the broker — on Redis + PostgreSQL. By default it makes a fresh PostgreSQL
database on 127.0.0.1:5432 (dropped afterwards) and a private redis-server on a free port.

``--workers`` worker processes are started, each ``-c 1`` (one pool process each), so two
workers means two cards rendered at a time. While they run it samples, every half second, the
Redis queue length (LLEN of the queue and, apart, the messages handed out and not yet acked) and
each worker's resident memory (main process and pool child, from /proc); it reports throughput,
the largest queue, RSS when the first asset is stored, when a tenth of the jobs are done (every
pool process has worked by then) and at the end (a leak shows as growth from the tenth),
and checks that every job is done with exactly one asset per slot.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
QUEUE = "images"


def write_campaign(directory: Path, products: int, size: str, name: str | None = None) -> Path:
    """A catalog of ``products`` and a campaign of one typographic card each (no model needed)."""
    rows = ["id,title,price,currency"]
    rows += [f"L-{i:06d},Load product number {i},{10 + i % 90}.90,USD" for i in range(products)]
    (directory / "catalog.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = directory / "campaign.yaml"
    path.write_text(
        f"name: {name or f'Load {products}'}\n"
        "catalog: catalog.csv\n"
        "images:\n"
        f"  formats: ['{size}']\n"
        "  variants: 1\n"
        "  background: {mode: flat, palette: ['#1c3454', '#ebe2d2']}\n"
        "  output: png\n",
        encoding="utf-8",
    )
    return path


@contextlib.contextmanager
def fresh_postgres(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"contentfab_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _log_tails(logs: Path, lines: int = 15) -> str:
    """The last lines of each worker's log, for an error message."""
    parts = []
    for path in sorted(logs.glob("*.log")):
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
    return "\n".join(parts)


def worker_rss(worker: subprocess.Popen[bytes]) -> dict[str, int]:
    """Resident memory in KiB of a worker's main process and of its pool children together."""
    return {
        "main_kib": _rss_kib(worker.pid),
        "pool_kib": sum(_rss_kib(child) for child in _children(worker.pid)),
    }


def run(
    *,
    products: int,
    workers: int,
    size: str,
    chunk_size: int,
    database_url: str,
    broker_url: str,
    workdir: Path,
    timeout: float = 3600,
    stall_timeout: float | None = None,
) -> dict[str, Any]:
    """Enqueue, run the workers until the campaign finishes, and report (see the module doc).

    ``timeout`` bounds the whole run; ``stall_timeout`` (if given) gives up sooner when no job
    has finished for that long. Both guard against a hang, neither is a speed requirement:
    a slow machine finishes late, a stuck queue stops making progress.
    """
    import redis
    from sqlalchemy import func, select

    from contentfab.db.migrate import upgrade
    from contentfab.db.models import Asset, Campaign, Job, JobStatus
    from contentfab.db.session import configure

    env = {
        **os.environ,
        "CONTENTFAB_DATA_DIR": str(workdir / "data"),
        "CONTENTFAB_MODEL_STORE": str(workdir / "models"),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": broker_url,
        "CONTENTFAB_CHUNK_SIZE": str(chunk_size),
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }
    upgrade(database_url)
    campaign = write_campaign(workdir, products, size)
    load_before = os.getloadavg()
    started = time.monotonic()
    enqueued = subprocess.run(
        [sys.executable, "-m", "contentfab", "enqueue", str(campaign)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    enqueue_s = time.monotonic() - started
    if enqueued.returncode != 0:
        raise RuntimeError(f"enqueue failed: {enqueued.stdout}{enqueued.stderr}")
    client = redis.Redis.from_url(broker_url)
    queued_after_enqueue = int(client.llen(QUEUE))
    sessions = configure(database_url)
    with sessions() as session:
        campaign_id = session.scalar(select(func.max(Campaign.id)))

    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    procs = []
    for number in range(workers):
        argv = [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "worker", "-Q", QUEUE,
                "-c", "1", "-l", "WARNING", "-n", f"load{number}-{os.getpid()}@%h"]  # fmt: skip
        with (logs / f"worker-{number}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    workers_started = time.monotonic()
    samples: list[dict[str, Any]] = []
    rss_start: list[dict[str, int]] | None = None
    rss_warm: list[dict[str, int]] | None = None
    first_asset_at = None
    progress_at, progress = time.monotonic(), -1
    try:
        while True:
            now = time.monotonic()
            with sessions() as session:
                done_or_failed = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.status.in_([JobStatus.DONE, JobStatus.FAILED]))
                )
                finished = session.get(Campaign, campaign_id).finished_at is not None
            rss = [worker_rss(proc) for proc in procs]
            sample = {
                "t": round(now - workers_started, 2),
                "queue": int(client.llen(QUEUE)),
                "unacked": int(client.hlen("unacked")),
                "finished_jobs": int(done_or_failed or 0),
                "rss": rss,
            }
            samples.append(sample)
            if rss_start is None and sample["finished_jobs"] > 0:
                rss_start, first_asset_at = rss, now
            if rss_warm is None and sample["finished_jobs"] >= products // 10:
                rss_warm = rss  # every pool process has worked by now: the leak baseline
            if finished:
                break
            if sample["finished_jobs"] != progress:
                progress_at, progress = now, sample["finished_jobs"]
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError(f"a worker exited; see {logs}\n{_log_tails(logs)}")
            stalled = stall_timeout is not None and now - progress_at > stall_timeout
            if stalled or now - workers_started > timeout:
                why = (
                    f"no job finished for {stall_timeout:.0f}s"
                    if stalled
                    else f"not finished after {timeout:.0f}s"
                )
                raise RuntimeError(
                    f"{why}: {progress}/{products} jobs finished, last sample {sample}, "
                    f"load average {os.getloadavg()}\n{_log_tails(logs)}"
                )
            time.sleep(0.5)
        finished_at = time.monotonic()
        rss_end = [worker_rss(proc) for proc in procs]
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        client.close()

    with sessions() as session:
        by_status = {
            status: n
            for status, n in session.execute(select(Job.status, func.count()).group_by(Job.status))
        }
        assets = session.scalar(select(func.count()).select_from(Asset))
        slots = session.scalar(
            select(func.count()).select_from(
                select(Asset.product_id, Asset.kind, Asset.channel, Asset.variant)
                .distinct()
                .subquery()
            )
        )
        first_start = session.scalar(select(func.min(Job.started_at)))
        last_finish = session.scalar(select(func.max(Job.finished_at)))
    sessions.kw["bind"].dispose()
    jobs_done = int(by_status.get(JobStatus.DONE, 0))
    run_s = finished_at - workers_started
    busy_s = (last_finish - first_start).total_seconds() if first_start and last_finish else run_s
    return {
        "products": products,
        "workers": f"{workers} worker processes, -c 1 each",
        "format": size,
        "chunk_size": chunk_size,
        "messages": -(-products // chunk_size),
        "enqueue_seconds": round(enqueue_s, 2),
        "run_seconds": round(run_s, 2),
        "first_to_last_job_seconds": round(busy_s, 2),
        "assets_per_second": round(jobs_done / run_s, 1),
        "assets_per_second_while_busy": round(jobs_done / busy_s, 1),
        "jobs": {str(status): int(n) for status, n in by_status.items()},
        "assets": int(assets or 0),
        "distinct_slots": int(slots or 0),
        "queue_after_enqueue": queued_after_enqueue,
        "max_queue_length": max(s["queue"] for s in samples),
        "max_unacked": max(s["unacked"] for s in samples),
        "rss_kib_at_first_asset": rss_start,
        "rss_kib_at_10_percent": rss_warm,
        "rss_kib_at_end": rss_end,
        "seconds_to_first_asset": round((first_asset_at or finished_at) - workers_started, 2),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "samples": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", default="160x160")
    parser.add_argument("--chunk-size", type=int, default=8)
    parser.add_argument("--database-url", help="default: a fresh database on local PostgreSQL")
    parser.add_argument("--broker-url", help="default: a private redis-server")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="contentfab-load-"))
    try:
        with contextlib.ExitStack() as stack:
            database_url = args.database_url or stack.enter_context(fresh_postgres())
            broker_url = args.broker_url or stack.enter_context(private_redis(workdir))
            results = run(
                products=args.products,
                workers=args.workers,
                size=args.size,
                chunk_size=args.chunk_size,
                database_url=database_url,
                broker_url=broker_url,
                workdir=workdir,
            )
            text = json.dumps(results, indent=2)
            print(text, flush=True)
            if args.out:
                args.out.write_text(text + "\n", encoding="utf-8")
    finally:
        # Thousands of content-addressed folders: removing them can take a while.
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
