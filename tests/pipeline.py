"""Shared helpers for tests that run campaigns through real worker processes."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from contentfab.cli.worker import worker_argv

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
    """A real Celery worker; its output goes to a file (:func:`worker_log`), never to a pipe
    that nobody reads: a worker logging retries while the database is down could fill one and
    block on its next write."""
    log = Path(tempfile.mkstemp(prefix="contentfab-worker-", suffix=".log")[1])
    with log.open("ab") as stream:
        worker = subprocess.Popen(
            worker_argv("copy,images,recs", 1, loglevel="WARNING", name=f"test-{os.getpid()}@%h"),
            env={**os.environ, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    _worker_logs[worker.pid] = log
    return worker


_worker_logs: dict[int, Path] = {}


def worker_log(worker: subprocess.Popen, tail: int = 8000) -> str:
    """The last ``tail`` characters a worker from :func:`start_worker` printed."""
    log = _worker_logs.get(worker.pid)
    if log is None or not log.exists():
        return ""
    return log.read_text(encoding="utf-8", errors="replace")[-tail:]


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    log = _worker_logs.pop(worker.pid, None)
    if log is not None:
        log.unlink(missing_ok=True)


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


#: The top-level modules of the `images` extra's packages (pyproject.toml).
IMAGES_EXTRA = ("PIL", "scipy", "fsspec")
#: Python that makes every later import of them fail, as where they are not installed.
BLOCK_IMAGES_EXTRA = f"import sys\nfor name in {IMAGES_EXTRA!r}:\n    sys.modules[name] = None\n"


def without_images_extra(directory: Path) -> dict[str, str]:
    """Environment variables under which every Python process started (a worker, the CLI) runs
    as if the `images` extra were not installed: a sitecustomize module that blocks it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(BLOCK_IMAGES_EXTRA)
    path = [str(directory), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(path)}
