"""Shared helpers for tests that run campaigns through real worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

MODEL = "smollm2-135m-instruct"
EXAMPLE_CATALOG = Path(__file__).parents[1] / "contentfab" / "examples" / "catalog.csv"
runner = CliRunner()


def write_campaign(
    directory: Path,
    *,
    channels: list[str],
    variants: int = 2,
    model: str = "tiny-llama",
    products: int = 8,
) -> Path:
    lines = EXAMPLE_CATALOG.read_text(encoding="utf-8").splitlines(keepends=True)
    (directory / "catalog.csv").write_text("".join(lines[: products + 1]), encoding="utf-8")
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Pipeline test\n"
        "catalog: catalog.csv\n"
        "copy:\n"
        f"  channels: [{', '.join(channels)}]\n"
        "  tones: [energetic]\n"
        f"  variants: {variants}\n"
        f"  model: {model}\n"
        "  max_new_tokens: 160\n"
        "  candidates: 4\n"
    )
    return path


def environment(
    tmp_path: Path, store_root: Path, database_url: str, broker_url: str, model: str = "tiny-llama"
) -> dict:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(store_root),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": broker_url,
        "CONTENTFAB_COPY_MODEL": model,
        "CONTENTFAB_CHUNK_SIZE": "4",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
    }


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tasks.worker",
            "worker",
            "-Q",
            "copy,images,recs",
            "-c",
            "1",
            "-l",
            "WARNING",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def worker_children(worker: subprocess.Popen) -> list[int]:
    """PIDs of the prefork pool processes of a worker started by :func:`start_worker`."""
    path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
