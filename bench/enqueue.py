"""Enqueue at scale: a copy campaign of many products validated, stored and sent, end to end.

    python -m bench.enqueue [--products 100000] [--setups embedded redis+pg] [--repeat 2]
                            [--baseline DIR] [--no-send] [--out bench/results-enqueue.json]

Runs `contentfab enqueue` as a user does (a fresh process; the copy model must be in the model
store: `contentfab models build`) on a campaign of one copy channel, one variant, over a catalog
of ``--products`` rows, on each setup:

* ``embedded``: the default of a fresh install: SQLite and the data dir's own Valkey server
  (started before the timing, as a previous command would have; its start is reported apart);
* ``redis+pg``: a fresh PostgreSQL database on 127.0.0.1:5432 and a private redis-server.

Reports the command's wall time, its CPU seconds (user + system: less swayed by other load
on the machine than wall time) and the messages in the queue afterwards. With ``--baseline
DIR`` (a checkout of an older commit, e.g. ``git archive BASE | tar -x -C DIR``), the same
command from that code runs too, alternating with this one on fresh data, and each setup
reports the ratio of the two medians. Then (unless ``--no-send``), on the stored campaign, the
send alone (its chunks published again) as `send_chunks` does it (a Redis
pipeline per batch) and as it did before (`send_task` one message at a time, two round trips a
message: the task and its task-sent event), alternating, with their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import fresh_postgres, private_redis


def write_campaign(directory: Path, products: int) -> Path:
    rows = ["id,title,description,category,price,currency"]
    rows += [
        f"E-{i:06d},Trail product number {i},A sturdy product for the trail number {i}.,"
        f"Camping,{10 + i % 90}.90,USD"
        for i in range(products)
    ]
    (directory / "catalog.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = directory / "campaign.yaml"
    path.write_text(
        f"name: Enqueue {products}\n"
        "catalog: catalog.csv\n"
        "copy:\n"
        "  channels: [email_subject]\n"
        "  tones: [energetic]\n"
        "  variants: 1\n",
        encoding="utf-8",
    )
    return path


def _queued(broker_url: str) -> int:
    import redis

    if broker_url.startswith("redis+socket://"):
        client = redis.Redis(unix_socket_path=broker_url[len("redis+socket://") :])
    else:
        client = redis.Redis.from_url(broker_url)
    try:
        return int(client.llen("copy"))
    finally:
        client.close()


def enqueue_once(
    workdir: Path, campaign: Path, env: dict[str, str], code: Path | None = None
) -> dict[str, Any]:
    """`contentfab enqueue` in a fresh process, from ``code`` (a checkout) if given."""
    from contentfab.core.settings import Settings

    settings = Settings(data_dir=Path(env["CONTENTFAB_DATA_DIR"]), **_broker_of(env))
    run_env = {**os.environ, **env}
    if code is not None:  # ahead of the installed (editable) package on sys.path
        run_env["PYTHONPATH"] = str(code)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "contentfab", "enqueue", "--allow-duplicate", str(campaign)],
        env=run_env,
        cwd=code or Path.cwd(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"enqueue failed: {done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "queued": _queued(settings.broker_url),
    }


def _broker_of(env: dict[str, str]) -> dict[str, str]:
    url = env.get("CONTENTFAB_BROKER_URL")
    return {"broker_url": url} if url else {}


def _send_unbatched(app: Any, campaign_id: int, chunks: list[Any]) -> None:
    """The loop of `send_chunks` before publish batches: the baseline."""
    from contentfab.tasks.campaigns import publish

    with app.producer_or_acquire() as producer:
        publish(app, producer, campaign_id, "again", chunks)


def send_seconds(env: dict[str, str], products: int, repeat: int) -> dict[str, Any]:
    """The send alone, batched and unbatched in turn: the stored campaign's jobs cut into
    chunks and published again."""
    from contentfab.core.settings import Settings
    from contentfab.db.session import configure
    from contentfab.tasks.app import sending_app
    from contentfab.tasks.campaigns import queued_chunks, send_chunks

    settings = Settings(
        data_dir=Path(env["CONTENTFAB_DATA_DIR"]),
        database_url=env["CONTENTFAB_DATABASE_URL"],
        **_broker_of(env),
    )
    sessions = configure(settings.database_url)
    with sessions() as session:
        chunks = queued_chunks(session, 1, settings.chunk_size, settings.recs_chunk_size)
    sessions.kw["bind"].dispose()
    assert sum(len(ids) for _, ids in chunks) == products
    batched, unbatched = [], []
    with sending_app(settings) as app:
        for _ in range(repeat):
            started = time.monotonic()
            send_chunks(app, 1, "again", chunks)
            batched.append(round(time.monotonic() - started, 2))
            started = time.monotonic()
            _send_unbatched(app, 1, chunks)
            unbatched.append(round(time.monotonic() - started, 2))
    return {
        "messages": len(chunks),
        "send_batched_seconds": batched,
        "send_unbatched_seconds": unbatched,
        "send_speedup": round(min(unbatched) / min(batched), 2),
    }


def run_setup(
    setup: str,
    products: int,
    repeat: int,
    workdir: Path,
    baseline: Path | None = None,
    send: bool = True,
) -> dict[str, Any]:
    from contextlib import ExitStack

    from contentfab.core.settings import embedded_socket
    from contentfab.tasks.embedded_broker import broker_for, ensure_running, stop

    campaign = write_campaign(workdir, products)
    runs = []
    codes: list[Path | None] = [None] if baseline is None else [None, baseline]
    for attempt, code in [(a, c) for a in range(repeat) for c in codes]:
        which = "baseline" if code is not None else "current"
        data = workdir / f"data-{setup}-{attempt}-{which}"
        env = {"CONTENTFAB_DATA_DIR": str(data), "CONTENTFAB_INTRA_OP_THREADS": "1"}
        with ExitStack() as stack:
            broker = None
            if setup == "embedded":
                env["CONTENTFAB_DATABASE_URL"] = f"sqlite:///{data / 'contentfab.db'}"
                broker = broker_for(data, embedded_socket(data))
                started = time.monotonic()
                ensure_running(broker)
                start_s = round(time.monotonic() - started, 3)
            else:
                env["CONTENTFAB_DATABASE_URL"] = stack.enter_context(fresh_postgres())
                data.mkdir(parents=True)
                env["CONTENTFAB_BROKER_URL"] = stack.enter_context(private_redis(data))
                start_s = None
            try:
                result = {"code": which, **enqueue_once(workdir, campaign, env, code)}
                if send and code is None:
                    result.update(send_seconds(env, products, repeat=2))
            finally:
                if broker is not None:
                    stop(broker)
            result["broker_start_seconds"] = start_s
            runs.append(result)
            print(f"{setup} #{attempt + 1}: {result}", flush=True)
    report: dict[str, Any] = {"setup": setup, "runs": runs}
    if baseline is not None:
        for key in ("seconds", "cpu_seconds"):
            now = statistics.median(r[key] for r in runs if r["code"] == "current")
            then = statistics.median(r[key] for r in runs if r["code"] == "baseline")
            report[f"baseline_over_current_{key}"] = round(then / now, 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--setups", nargs="+", default=["embedded", "redis+pg"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--baseline", type=Path, help="A checkout of older code to time alternately with this."
    )
    parser.add_argument(
        "--no-send", action="store_true", help="Skip the batched/unbatched send comparison."
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-enqueue-") as tmp:
        results = [
            run_setup(
                s,
                args.products,
                args.repeat,
                Path(tmp),
                args.baseline.resolve() if args.baseline else None,
                send=not args.no_send,
            )
            for s in args.setups
        ]
    report = {
        "products": args.products,
        "machine": f"{platform.node()} · {os.cpu_count()} CPUs",
        # Other processes on the machine slow wall times down: the 1-minute load average
        # before and after the runs.
        "load_average": [load_before[0], os.getloadavg()[0]],
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
