"""`contentfab run`, `demo` and `retry`: a campaign end to end on this machine."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from contentfab.cli.common import (
    EXAMPLE_CAMPAIGN,
    QUEUES,
    _broker_down_if_unused,
    _broker_up,
    _sessions,
    _settings,
    _upgrade,
    app,
    console,
    err,
    user_errors,
)
from contentfab.cli.enqueue import _enqueue, _models_of
from contentfab.cli.models import _build_model
from contentfab.cli.status import _print_summary, _RunWorker, _summary, _watch
from contentfab.cli.worker import _worker_env, worker_argv
from contentfab.core.errors import InputError
from contentfab.core.model_store import ModelStore
from contentfab.core.settings import Settings


@app.command()
@user_errors
def retry(
    campaign_id: Annotated[int, typer.Argument()],
    failed: Annotated[bool, typer.Option(help="Also re-run the jobs that failed.")] = False,
    lost_after: Annotated[
        float | None,
        typer.Option(
            help="Seconds after which a running job counts as lost and is sent again (default: "
            "the broker visibility timeout). Jobs of a dead worker process on this machine "
            "count as lost at once."
        ),
    ] = None,
) -> None:
    """Send a campaign's unfinished jobs to the queue again (after a broker loss or a killed
    worker, say)."""
    # lazy: celery, sqlalchemy stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.tasks.app import sending_app
    from contentfab.tasks.recovery import resend

    settings = _settings()
    _upgrade(settings)
    _broker_up(settings)
    with sending_app(settings) as celery_app:
        result = resend(
            campaign_id,
            settings=settings,
            sessions=_sessions(settings),
            app=celery_app,
            failed=failed,
            lost_after=lost_after,
        )
    console.print(
        f"campaign {campaign_id}: sent {result.jobs} jobs in {result.messages} messages"
        + _lost_note(result)
    )


def _lost_note(result: Any) -> str:
    notes = []
    if result.requeued:
        notes.append(f"{result.requeued} running jobs had lost their worker and were requeued")
        # ... their messages may be gone with it; a second message for a job is skipped.
    if result.given_up:
        notes.append(f"{result.given_up} failed after too many lost deliveries")
    return f" ({'; '.join(notes)})" if notes else ""


# --------------------------------------------------------------------------- end to end


FlowerOption = Annotated[
    bool,
    typer.Option(
        "--flower",
        help="Also run Flower on 127.0.0.1 (basic auth as `contentfab flower`) and keep it up "
        "after the run until Ctrl-C.",
    ),
]
FlowerPort = Annotated[int, typer.Option(help="Flower's TCP port with --flower.")]


@app.command()
@user_errors
def run(
    campaign_file: Annotated[Path, typer.Argument(help="Campaign YAML or JSON.")],
    concurrency: Annotated[int, typer.Option("-c", "--concurrency")] = 1,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            help="Start a new campaign even if this file+catalog ran before (default: resume "
            "the unfinished one, or show the finished one)."
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 3600,
    flower: FlowerOption = False,
    flower_port: FlowerPort = 5555,
) -> None:
    """Set up, enqueue a campaign, run a real Celery worker for it, and show progress.

    Running the same file again after an interruption resumes that campaign: no second campaign,
    no second asset for any slot, only the unfinished jobs are sent.
    """
    settings = _settings()
    _run(
        settings,
        campaign_file,
        concurrency=concurrency,
        allow_duplicate=allow_duplicate,
        timeout=timeout,
        flower_port=flower_port if flower else None,
    )


@app.command()
@user_errors
def demo(
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 3600,
    flower: FlowerOption = False,
    flower_port: FlowerPort = 5555,
) -> None:
    """Run the bundled example campaign end to end: copy, creatives headlined with that copy,
    and recommendations for the example's shoppers; build its models first if needed."""
    settings = _settings()
    console.print(f"[bold]contentfab demo[/] · data in {settings.data_dir}")
    # `run` refuses a campaign whose background generator is missing; the demo builds its own,
    # an untrained CPPN with seeded weights (torch export, seconds, nothing downloaded), beside
    # the campaign's other models.
    _run(
        settings,
        EXAMPLE_CAMPAIGN,
        concurrency=1,
        allow_duplicate=True,
        timeout=timeout,
        flower_port=flower_port if flower else None,
        then=functools.partial(_where_to_look, settings),
        also_build=(DEMO_GENERATOR,),
    )


DEMO_GENERATOR = "cppn-backgrounds"  # images.generator of the example campaign (the default)


def _where_to_look(settings: Settings, campaign_id: int) -> None:
    table = Table(title="Where to look", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    table.add_row(
        "assets",
        f"contentfab assets --campaign {campaign_id} --kind image --format table",
        "--kind copy, image or recommendation; --format table, json or csv",
    )
    table.add_row("files", f"{settings.asset_root}/images", "the creatives (PNG)")
    table.add_row(
        "gallery",
        "contentfab serve",
        "http://127.0.0.1:8000/ with the review key in the link it prints",
    )
    table.add_row(
        "Flower",
        "contentfab flower",
        "http://127.0.0.1:5555/, user contentfab and a password it prints. It sees what runs "
        "while it is up: start it before the run (another terminal), or run `contentfab demo "
        "--flower`, to watch the worker and its tasks",
    )
    console.print(table)


def _run(
    settings: Settings,
    path: Path,
    *,
    concurrency: int,
    allow_duplicate: bool,
    timeout: float,
    flower_port: int | None = None,
    then: Callable[[int], None] | None = None,
    also_build: Sequence[str] = (),
) -> None:
    """Run the campaign of ``path`` with a worker of its own; ``then`` gets the ID of a campaign
    that ran. With ``flower_port``, Flower runs beside it and stays up until Ctrl-C. The
    campaign's models, and those of ``also_build``, are built first where missing."""
    # lazy: numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.campaign import load_campaign
    from contentfab.campaign.pseudonyms import campaign_key

    # Validate first: bad input must not trigger a model build, nor a missing pseudonym key.
    loaded = load_campaign(path, settings.extra_file_roots)
    campaign_key(loaded, settings)
    recs = loaded.spec.recommendations
    trained = recs.model if recs is not None and recs.method == "two_tower" else None
    # A two-tower model is trained on data, not built by name.
    models = [*also_build, *(m for _, m in _models_of(settings, loaded) if m != trained)]
    _build_side_by_side(settings, models)
    for model in models:  # idempotent: a valid export is kept; a failed one fails here
        _build_model(settings, model)
    _upgrade(settings)
    _broker_up(settings)
    flower = None
    try:
        if flower_port is not None:
            flower = _start_flower(settings, flower_port)
        campaign_id = _run_loaded(settings, path, loaded, concurrency, allow_duplicate, timeout)
        if then is not None and campaign_id is not None:
            then(campaign_id)
        if flower is not None:
            console.print(
                f"Flower keeps running on http://127.0.0.1:{flower_port}/ with this run's "
                "worker and tasks; Ctrl-C stops it.",
                soft_wrap=True,
            )
            with contextlib.suppress(KeyboardInterrupt):
                flower.wait()
    finally:
        if flower is not None:
            _stop(flower)
        _broker_down_if_unused(settings)


def _build_side_by_side(settings: Settings, names: Sequence[str]) -> None:
    """Export the models of ``names`` missing from the store at the same time, each in a
    `contentfab models build` process of its own (log: data_dir/logs/models-build-NAME.log).

    From an empty store the demo's exports took ~3 of its minutes one after another, the copy
    model ~2 of them in torch, mostly on one core: the others now build beside it. A build that
    fails here is left to the caller's own build, which raises its error as before.
    """
    store = ModelStore(settings.model_store)
    missing = [name for name in dict.fromkeys(names) if not store.is_valid(name)]
    if len(missing) < 2:
        return
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    builds: list[subprocess.Popen[bytes]] = []
    try:
        with console.status(
            f"exporting {', '.join(missing)} to ONNX side by side (first time only; minutes)…"
        ):
            for name in missing:
                with (logs / f"models-build-{name}.log").open("wb") as log:
                    argv = [sys.executable, "-m", "contentfab", "models", "build", name]
                    builds.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
            for build in builds:
                build.wait()
    finally:
        for build in builds:
            if build.poll() is None:
                build.kill()
                build.wait()


def _start_flower(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    """`contentfab flower` beside a run (it prints its URL and password), once it answers."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:  # another server there would answer the health check
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise InputError(
                f"cannot run Flower on 127.0.0.1:{port} ({exc.strerror}); choose another port "
                "with --flower-port"
            ) from exc
    log_path = settings.data_dir / "logs" / "flower.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "contentfab", "flower", "--port", str(port)]
    with log_path.open("ab") as log:
        # Its own session: Ctrl-C reaches only us, and we stop it after the run's summary.
        flower = subprocess.Popen(argv, stderr=log, start_new_session=True)
    health = f"http://127.0.0.1:{port}/healthcheck"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(health, timeout=2):  # our own loopback URL
                return flower
        except (urllib.error.URLError, OSError):
            pass
        if flower.poll() is not None or time.monotonic() > deadline:
            _stop(flower)
            raise InputError(f"Flower did not start on 127.0.0.1:{port}; its log: {log_path}")
        time.sleep(0.3)


def _run_loaded(
    settings: Settings,
    path: Path,
    loaded: Any,
    concurrency: int,
    allow_duplicate: bool,
    timeout: float,
) -> int | None:
    started = time.monotonic()
    result = None if allow_duplicate else _resume(settings, loaded)
    if result is not None and result.jobs == 0:  # finished before; _resume showed it
        return None
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # A new campaign's worker starts before the campaign is stored, so that its boot (~2.4 s
    # of imports and broker set-up) overlaps the storing; its log is named after the
    # campaign once that has an ID.
    log_path = logs / (
        f"worker-run-{os.getpid()}.log"
        if result is None
        else f"worker-campaign-{result.campaign_id}.log"
    )
    argv = worker_argv(QUEUES, concurrency, name=f"run-{os.getpid()}@%h")
    with log_path.open("wb") as log:
        worker = _RunWorker(argv, _worker_env(settings, concurrency), log)
        try:
            if result is None:
                result = _enqueue(settings, path, allow_duplicate, loaded)
                console.print(
                    f"campaign [bold]{result.campaign_id}[/]: {result.jobs} jobs enqueued"
                )
                named = logs / f"worker-campaign-{result.campaign_id}.log"
                log_path = log_path.replace(named)
            summary = _watch(_sessions(settings), result.campaign_id, worker, timeout)
        except KeyboardInterrupt:
            _stop(worker.proc)  # warm shutdown: the running chunk finishes, the rest stays queued
            if result is None:  # while storing: a stored campaign is resumed by the next run
                log_path.unlink(missing_ok=True)
                raise
            err.print(
                f"interrupted: campaign {result.campaign_id} is kept as it is. Run the same "
                "`contentfab run` command again to resume it.",
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
        except BaseException:
            _stop(worker.proc)
            if result is None:  # refused before anything was stored: the worker had no part
                log_path.unlink(missing_ok=True)
                raise
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            err.print("\n".join(tail), markup=False, highlight=False)
            raise
        _stop(worker.proc)
    elapsed = time.monotonic() - started
    _print_summary(summary)
    produced = sum(summary.assets.values())
    console.print(
        f"wall time {elapsed:.1f}s · {produced} assets · {produced / elapsed:.2f} assets/s "
        f"· worker log {log_path}"
    )
    console.print(
        f"query: contentfab assets --campaign {result.campaign_id} "
        f"--kind {'|'.join(sorted(summary.jobs)) or 'copy'} --format table|json|csv"
    )
    if summary.status == "failed":
        err.print("[bold red]nothing could be delivered:[/] every job failed (reasons above)")
        raise typer.Exit(1)
    return int(result.campaign_id)


def _resume(settings: Settings, loaded: Any) -> Any:
    """Continue the campaign an earlier `run` of the same file and catalog left unfinished.

    Returns None when there is none (enqueue a new one); a finished one is shown, not redone.
    """
    # lazy: celery, sqlalchemy stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.tasks.app import sending_app
    from contentfab.tasks.campaigns import find_campaign
    from contentfab.tasks.recovery import resend
    from contentfab.tasks.sending import Enqueued

    sessions = _sessions(settings)
    existing = find_campaign(sessions, loaded.content_sha256)
    if existing is None:
        return None
    if existing.finished_at is not None:
        console.print(
            f"campaign [bold]{existing.id}[/] was already run from this file and catalog and "
            f"finished ({existing.status}); showing it. Pass --allow-duplicate to produce "
            "everything again."
        )
        summary = _summary(sessions, existing.id)
        _print_summary(summary)
        if summary.status == "failed":
            raise typer.Exit(1)
        return Enqueued(existing.id, jobs=0, messages=0)
    with sending_app(settings) as celery_app:
        result = resend(existing.id, settings=settings, sessions=sessions, app=celery_app)
    console.print(
        f"resuming campaign [bold]{existing.id}[/] (an earlier run of this file did not "
        f"finish): {result.jobs} jobs left, sent again{_lost_note(result)}"
    )
    return result


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # Celery's warm shutdown (again, if _watch began it)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
