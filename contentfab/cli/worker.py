"""`contentfab worker`: a Celery worker with the environment its ONNX sessions need."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from contentfab.cli.common import QUEUES, _broker_up, _settings, _upgrade, app, user_errors
from contentfab.core.extras import require_extra
from contentfab.core.settings import Settings, is_local


@app.command()
@user_errors
def worker(
    queues: Annotated[str, typer.Option("-Q", "--queues", help="Queues to serve.")] = QUEUES,
    concurrency: Annotated[int | None, typer.Option("-c", "--concurrency")] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo, threads.")] = "prefork",
    loglevel: Annotated[str, typer.Option("-l", "--loglevel")] = "INFO",
    hostname: Annotated[str, typer.Option("-n", "--hostname", help="Worker name.")] = "",
) -> None:
    """Run a Celery worker (same as `celery -A contentfab.tasks.worker worker`)."""
    settings = _settings()
    if "images" in {queue.strip() for queue in queues.split(",")}:
        _require_images_extra(settings)
    _upgrade(settings)
    _broker_up(settings)
    argv = worker_argv(queues, concurrency or settings.worker_concurrency, pool, loglevel, hostname)
    os.execvpe(argv[0], argv, _worker_env(settings, concurrency or settings.worker_concurrency))


def _require_images_extra(settings: Settings) -> None:
    """A worker for the images queue needs the `images` extra's Pillow and SciPy (and fsspec for
    an asset root at a URL): without them it would take image chunks only to fail their jobs."""
    modules = ("PIL", "scipy") if is_local(settings.asset_root) else ("PIL", "scipy", "fsspec")
    require_extra(
        "images", *modules, needed_by="serving the images queue (-Q copy,recs leaves it out)"
    )


def _worker_env(settings: Settings, concurrency: int) -> dict[str, str]:
    """The worker's environment: the settings, and with several pool processes, OpenMP
    threads that sleep when idle (unless ``OMP_WAIT_POLICY`` is set).

    FAISS and its OpenBLAS run an OpenMP thread per CPU in every pool process, and by default
    an idle OpenMP thread spins: N processes on N CPUs then wait on each other's spinning
    threads. 100,000 lists with two processes on two CPUs took 34.7 s of worker time, 28.7 s
    with passive threads. Fewer threads were faster still (26.6 s at one each), but
    OpenBLAS's sums depend on its thread count: a score's last digit changed in ~3 % of the
    lists, and the lists must not depend on the worker's concurrency.
    """
    env = {**os.environ, **settings.to_env()}
    env.pop("CONTENTFAB_PSEUDONYM_KEY", None)  # workers see pseudonyms only
    if concurrency > 1:
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def worker_argv(
    queues: str, concurrency: int, pool: str = "prefork", loglevel: str = "INFO", name: str = ""
) -> list[str]:
    """The command line of a Celery worker process (for `worker`, `run`, tests and benches)."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "contentfab.tasks.worker",
        "worker",
        "-Q",
        queues,
        "-c",
        str(concurrency),
        "-P",
        pool,
        "-l",
        loglevel,
        "-E",
    ]
    if name:
        argv += ["-n", name]
    return argv
