"""The `contentfab` command: one group, lazy set-up, heavy imports inside commands.

User errors (the InputError branch and friends) print one clean paragraph and exit non-zero;
they never show a traceback.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contentfab.core.errors import ContentfabError, InputError
from contentfab.core.settings import Settings

app = typer.Typer(
    name="contentfab",
    help="Batch content production: enqueue campaigns, run workers, query the asset database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
models_app = typer.Typer(help="The local ONNX model store.", no_args_is_help=True)
broker_app = typer.Typer(
    help="The embedded broker (a Valkey server in the data dir, started on demand).",
    no_args_is_help=True,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"contentfab {version('contentfab')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Batch content production: enqueue campaigns, run workers, query the asset database."""


app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(broker_app, name="broker")

console = Console()
err = Console(stderr=True)
EXAMPLE_CAMPAIGN = Path(__file__).with_name("examples") / "campaign.yaml"
QUEUES = "copy,images,recs"
SHOWN_FAILURES = 10  # failure reasons `status` prints; `status --json` gives them all

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn contentfab errors into a clean message and exit code (2 for bad input, 1 else)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ContentfabError as exc:
            kind = "error" if isinstance(exc, InputError) else type(exc).__name__
            err.print(f"[bold red]{kind}:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, InputError) else 1) from None

    return wrapper


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValueError as exc:
        raise InputError(f"invalid CONTENTFAB_* setting: {exc}") from exc
    settings.ensure_dirs()
    return settings


def _sessions(settings: Settings) -> Any:
    from db.session import configure

    return configure(settings.database_url)


def _embedded_broker(settings: Settings) -> Any:
    """The embedded broker of the data dir, or None when CONTENTFAB_BROKER_URL names another."""
    from tasks.embedded_broker import broker_for

    socket = settings.embedded_broker
    return None if socket is None else broker_for(settings.data_dir, socket)


def _broker_up(settings: Settings) -> None:
    """Start the embedded broker unless it runs (each command that sends or takes messages)."""
    from tasks.embedded_broker import ensure_running

    broker = _embedded_broker(settings)
    if broker is not None:
        ensure_running(broker)


def _broker_down_if_unused(settings: Settings) -> None:
    """After `run` / `demo`: stop the embedded broker unless another process (a worker, Flower,
    a command sending tasks) is connected to it. Its queued messages are kept on disk."""
    from tasks.embedded_broker import other_clients, stop

    broker = _embedded_broker(settings)
    if broker is None or other_clients(broker) > 0:
        return
    try:
        stop(broker)
    except ContentfabError as exc:  # never hides how the run itself ended
        err.print(f"[yellow]warning:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


def _upgrade(settings: Settings) -> None:
    from sqlalchemy.exc import OperationalError

    from contentfab.core.errors import DatabaseUnavailable
    from db.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {exc.orig}") from exc


# --------------------------------------------------------------------------- embedded broker


def _only_embedded(settings: Settings) -> Any:
    broker = _embedded_broker(settings)
    if broker is None:
        raise InputError(
            "CONTENTFAB_BROKER_URL names a broker of your own; `contentfab broker` manages only "
            "the embedded one (unset CONTENTFAB_BROKER_URL to use it)"
        )
    return broker


@broker_app.command("status")
@user_errors
def broker_status() -> None:
    """Whether the embedded broker runs, where, and what waits in its queues."""
    from tasks.embedded_broker import answers, other_clients, queue_lengths

    broker = _only_embedded(_settings())
    if not answers(broker):
        console.print(f"embedded broker: not running (data in {broker.directory})")
        return
    queued = ", ".join(f"{queue} {n}" for queue, n in queue_lengths(broker, QUEUES.split(",")))
    console.print(
        f"embedded broker: running on {broker.socket} · {other_clients(broker)} connections · "
        f"queued messages: {queued}",
        highlight=False,
    )


@broker_app.command("stop")
@user_errors
def broker_stop() -> None:
    """Stop the embedded broker (queued messages stay on disk; the next command starts it)."""
    from tasks.embedded_broker import stop

    broker = _only_embedded(_settings())
    console.print("embedded broker stopped" if stop(broker) else "embedded broker was not running")


# --------------------------------------------------------------------------- database / models


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    settings = _settings()
    _upgrade(settings)
    from db.migrate import current_revision

    console.print(f"database at revision {current_revision(settings.database_url)}")


# Built by `models build --all` next to the copy model: what the recommendation and image
# jobs of a campaign load by default.
DEFAULT_SUPPORT_MODELS = ("minilm-l6-v2", "cppn-backgrounds", "u2netp")


@models_app.command("build")
@user_errors
def models_build(
    name: Annotated[
        str | None, typer.Argument(help="Model to build (default: the copy model).")
    ] = None,
    from_hf: Annotated[
        Path | None, typer.Option("--from-hf", help="A local Hugging Face model dir or .gguf.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if a valid export exists.")] = False,
    quantize: Annotated[
        str | None, typer.Option(help="nbits8 (8-bit MatMulNBits, CPU) or fp16 (GPU).")
    ] = None,
    all_models: Annotated[
        bool,
        typer.Option(
            "--all", help="Build every default model: copy, embeddings, backgrounds, matte."
        ),
    ] = False,
    interactions: Annotated[
        Path | None, typer.Option(help="two-tower: the interactions file to train on.")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="two-tower: the catalog the interactions refer to.")
    ] = None,
    store_name: Annotated[
        str, typer.Option("--name", help="two-tower: the name in the model store.")
    ] = "two-tower",
    text_model: Annotated[
        str, typer.Option(help="two-tower: the text-embedding model its item tower starts from.")
    ] = DEFAULT_SUPPORT_MODELS[0],
) -> None:
    """Export a model to ONNX into the model store (idempotent).

    `models build two-tower --interactions FILE --catalog FILE [--name NAME]` trains the
    two-tower recommender (torch) on that data instead, and exports it.
    """
    settings = _settings()
    if name == "two-tower" or interactions is not None or catalog is not None:
        if name != "two-tower" or interactions is None or catalog is None:
            raise InputError("usage: models build two-tower --interactions FILE --catalog FILE")
        manifest = _build_two_tower(settings, interactions, catalog, store_name, text_model)
        training = manifest["source"]["training"]
        console.print(
            f"[green]ok[/] {manifest['name']} {manifest['version']} → "
            f"{settings.model_store / manifest['name']}: {training['examples']:,} examples, "
            f"{manifest['train_seconds']} s, final loss {manifest['final_loss']}, "
            f"{len(manifest['product_ids']):,} products"
        )
        return
    if all_models and (name or from_hf):
        raise InputError("--all builds the default models; give no name or --from-hf with it")
    names: list[str | None] = [None, *DEFAULT_SUPPORT_MODELS] if all_models else [name]
    for target in names:
        # --quantize is for the copy model; the encoder and the CPPN are exported in fp32.
        chosen = quantize if target is None or target == name else None
        manifest = _build_model(settings, target, from_hf=from_hf, force=force, quantize=chosen)
        console.print(
            f"[green]ok[/] {manifest['name']} {manifest.get('version', '')} → "
            f"{settings.model_store / manifest['name']}"
        )


def _build_model(
    settings: Settings,
    name: str | None,
    *,
    from_hf: Path | None = None,
    force: bool = False,
    quantize: str | None = None,
) -> dict[str, Any]:
    from exporters import ModelStore, build_from_hf, build_model

    store = ModelStore(settings.model_store)
    target = name or settings.copy_model
    with console.status(f"exporting {target} to ONNX (first time only; a minute or two)…"):
        if from_hf is not None:
            return build_from_hf(from_hf, target, store, force=force, quantize=quantize)
        return build_model(target, store, force=force, quantize=quantize)


def _build_two_tower(
    settings: Settings, interactions: Path, catalog: Path, name: str, text_model: str
) -> dict[str, Any]:
    from exporters import ModelStore, two_tower
    from workers.embeddings import TextEmbedder

    store = ModelStore(settings.model_store)
    if not store.is_valid(text_model):
        _build_model(settings, text_model)
    embedder = TextEmbedder.load(store.model_dir(text_model))
    with console.status(f"training the two-tower model {name} (torch) and exporting it…"):
        return two_tower.build_from_files(interactions, catalog, store, name, embedder)


@models_app.command("list")
@user_errors
def models_list() -> None:
    """List the models in the store."""
    from exporters import ModelStore

    settings = _settings()
    store = ModelStore(settings.model_store)
    table = Table("name", "version", "family", "quantization", "parity", "valid")
    for manifest in store.list():
        parity = manifest.get("parity") or {}
        table.add_row(
            manifest["name"],
            str(manifest.get("version")),
            str(manifest.get("family")),
            str(manifest.get("quantization")),
            _parity_text(parity),
            "yes" if store.is_valid(manifest["name"]) else "NO",
        )
    console.print(table)


def _parity_text(parity: dict[str, Any]) -> str:
    if not parity:
        return "-"
    if "min_cosine" in parity:  # sentence encoders
        return f"cosine {parity['min_cosine']:.6f}"
    if "max_abs_diff" in parity:  # the two-tower user tower
        return f"max abs diff {parity['max_abs_diff']:.1e}"
    verdict = "exact" if parity.get("all_match") else "approx"
    return f"{verdict}, top-1 {parity.get('top1_agreement', 0):.3f}"


# --------------------------------------------------------------------------- campaigns


def _enqueue(settings: Settings, path: Path, allow_duplicate: bool, loaded: Any = None) -> Any:
    import gc as garbage_collector  # `gc` in this module is the command

    from contentfab.campaign import load_campaign
    from contentfab.campaign.pseudonyms import campaign_key
    from tasks.app import sending_app
    from tasks.campaigns import enqueue

    if loaded is None:  # `run` has loaded it already: a large interactions file takes seconds
        loaded = load_campaign(path, settings.extra_file_roots)
    campaign_key(loaded, settings)  # before models are checked: the user's to fix first
    # While the campaign is stored, the garbage collector need not walk the checked campaign's
    # objects at each collection (100,000 users x 20,000 products: storing 2.7-3.0 s ->
    # 1.9-2.0 s); they return to it afterwards.
    garbage_collector.freeze()
    try:
        _check_models(settings, loaded)
        _upgrade(settings)
        _broker_up(settings)
        with sending_app(settings) as celery_app:
            return enqueue(
                loaded,
                settings=settings,
                sessions=_sessions(settings),
                app=celery_app,
                allow_duplicate=allow_duplicate,
            )
    finally:
        garbage_collector.unfreeze()


def _check_models(settings: Settings, loaded: Any) -> None:
    """Refuse a campaign whose models are not in the store, before anything is stored."""
    from exporters import ModelStore

    store = ModelStore(settings.model_store)
    for field, name in _models_of(settings, loaded):
        if not store.is_valid(name):
            raise InputError(
                f"{loaded.source_path}: field '{field}': model {name!r} is not in the model "
                f"store at {settings.model_store}. Build it with `contentfab models build {name}`."
            )
    for field, name, task in _model_tasks(settings, loaded):
        found = store.manifest(name).get("task")
        if found is not None and found != task:  # a manifest names its task since it was built
            raise InputError(
                f"{loaded.source_path}: field '{field}': model {name!r} is a {found!r} model; "
                f"this field needs a {task!r} model"
            )
    recs = loaded.spec.recommendations
    if recs is not None and recs.method == "two_tower":
        _check_two_tower(store, loaded)
    if loaded.spec.images is not None:
        from contentfab.campaign.creatives import missing_models

        base = loaded.source_path.parent.resolve()
        for field, reason in missing_models(loaded.spec.images, base, settings):
            raise InputError(f"{loaded.source_path}: field '{field}': {reason}")


def _check_two_tower(store: Any, loaded: Any) -> None:
    from workers.two_tower import MAX_UNKNOWN_SHARE, unknown_products

    name = loaded.spec.recommendations.model
    where = f"{loaded.source_path}: field 'recommendations.model'"
    manifest = store.manifest(name)  # present: checked by _models_of's loop
    if manifest.get("family") != "two-tower":
        raise InputError(
            f"{where}: model {name!r} is a {manifest.get('family')!r} model; method: two_tower "
            "needs one built with `contentfab models build two-tower`"
        )
    skus = [p.sku for p in loaded.products]
    unknown = unknown_products(manifest, skus)
    if len(unknown) > MAX_UNKNOWN_SHARE * len(skus):
        raise InputError(
            f"{where}: the two-tower model {name!r} does not know {len(unknown):,} of the "
            f"campaign's {len(skus):,} products (first: {', '.join(unknown[:3])}); at most "
            f"{MAX_UNKNOWN_SHARE:.0%} may be unknown. Train it on this catalog with `contentfab "
            "models build two-tower`, or use method: embedding."
        )


#: The task (``task`` in a model's manifest) each campaign model field needs.
MODEL_TASKS = {
    "copy.model": "text-generation",
    "recommendations.model": "sentence-embedding",
    "recommendations.model (its text model)": "sentence-embedding",
}


def _model_tasks(settings: Settings, loaded: Any) -> list[tuple[str, str, str]]:
    """(campaign field, model name, the task it needs) for every store model the campaign
    names, so that a model of the wrong family (an image model as the copy model, a text
    generator as the recommender's encoder) is refused at enqueue, not failed job by job."""
    recs = loaded.spec.recommendations
    two_tower = recs is not None and recs.method == "two_tower"
    found = []
    for field, name in _models_of(settings, loaded):
        if field == "recommendations.model" and two_tower:
            continue  # _check_two_tower names the build command of a two-tower model
        found.append((field, name, MODEL_TASKS[field]))
    return found


def _models_of(settings: Settings, loaded: Any) -> list[tuple[str, str]]:
    """(campaign field, model name) for every model the campaign needs."""
    models = []
    if loaded.spec.copy_request is not None:
        models.append(("copy.model", loaded.spec.copy_request.model or settings.copy_model))
    recs = loaded.spec.recommendations
    if recs is not None:
        models.append(("recommendations.model", recs.model))
        if recs.method == "two_tower":
            from exporters import ModelStore

            store = ModelStore(settings.model_store)
            if store.is_valid(recs.model):  # segments use the text model it was trained from
                source = store.manifest(recs.model).get("source")
                text = source.get("text_model") if isinstance(source, dict) else None
                if isinstance(text, dict) and text.get("name"):
                    models.append(("recommendations.model (its text model)", text["name"]))
    return models


@app.command()
@user_errors
def enqueue(
    campaign_file: Annotated[Path, typer.Argument(help="Campaign YAML or JSON.")],
    allow_duplicate: Annotated[
        bool, typer.Option(help="Enqueue even if the same file+catalog was enqueued before.")
    ] = False,
) -> None:
    """Validate a campaign, store it, and send its work to the queue."""
    settings = _settings()
    result = _enqueue(settings, campaign_file, allow_duplicate)
    console.print(
        f"campaign [bold]{result.campaign_id}[/]: {result.jobs} jobs in {result.messages} "
        f"messages. Watch it with `contentfab status {result.campaign_id} --watch`."
    )


@app.command()
@user_errors
def worker(
    queues: Annotated[str, typer.Option("-Q", "--queues", help="Queues to serve.")] = QUEUES,
    concurrency: Annotated[int | None, typer.Option("-c", "--concurrency")] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo, threads.")] = "prefork",
    loglevel: Annotated[str, typer.Option("-l", "--loglevel")] = "INFO",
    hostname: Annotated[str, typer.Option("-n", "--hostname", help="Worker name.")] = "",
) -> None:
    """Run a Celery worker (same as `celery -A tasks.worker worker`)."""
    settings = _settings()
    _upgrade(settings)
    _broker_up(settings)
    argv = worker_argv(queues, concurrency or settings.worker_concurrency, pool, loglevel, hostname)
    os.execvpe(argv[0], argv, _worker_env(settings, concurrency or settings.worker_concurrency))


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
        "tasks.worker",
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


@app.command()
@user_errors
def status(
    campaign_id: Annotated[int | None, typer.Argument(help="Campaign ID (default: list).")] = None,
    watch: Annotated[
        bool, typer.Option(help="Show a live progress bar until it finishes.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show a campaign's progress (or list campaigns)."""
    settings = _settings()
    _upgrade(settings)
    sessions = _sessions(settings)
    from db.queries import list_campaigns

    if campaign_id is None:
        with sessions() as session:
            table = Table("id", "name", "status", "created")
            for c in list_campaigns(session):
                table.add_row(str(c.id), c.name, str(c.status), f"{c.created_at:%Y-%m-%d %H:%M}")
        console.print(table)
        return
    if watch:
        _watch(sessions, campaign_id)
    summary = _summary(sessions, campaign_id)
    if as_json:
        console.print_json(json.dumps(_summary_dict(summary)))
    else:
        _print_summary(summary)


def _no_campaign(campaign_id: int) -> Exception:
    from contentfab.core.errors import NotFoundError

    return NotFoundError(f"there is no campaign {campaign_id}; `contentfab status` lists them")


def _summary(sessions: Any, campaign_id: int) -> Any:
    from db.queries import campaign_summary, get_campaign

    with sessions() as session:
        campaign = get_campaign(session, campaign_id)
        if campaign is None:
            raise _no_campaign(campaign_id)
        return campaign_summary(session, campaign)


def _progress(sessions: Any, campaign_id: int) -> Any:
    from db.queries import campaign_progress

    with sessions() as session:
        progress = campaign_progress(session, campaign_id)
    if progress is None:
        raise _no_campaign(campaign_id)
    return progress


def _finished_or_queued(sessions: Any, campaign_id: int) -> tuple[bool, bool]:
    from db.queries import finished_or_queued

    with sessions() as session:
        return finished_or_queued(session, campaign_id)


def _summary_dict(summary: Any) -> dict[str, Any]:
    return {
        "id": summary.id,
        "name": summary.name,
        "status": summary.status,
        "jobs": summary.jobs,
        "assets": summary.assets,
        "elapsed_seconds": summary.elapsed_seconds,
        "failures": [{"reason": r, "count": n} for r, n in summary.failures],
        "models": [{"model": m, "assets": n} for m, n in summary.models],
    }


def _print_summary(summary: Any) -> None:
    table = Table(
        "kind",
        "queued",
        "running",
        "done",
        "failed",
        "assets",
        title=f"campaign {summary.id} · {summary.name} · {summary.status}",
    )
    for kind, by_status in sorted(summary.jobs.items()):
        table.add_row(
            kind,
            *(str(by_status.get(s, 0)) for s in ("queued", "running", "done", "failed")),
            str(summary.assets.get(kind, 0)),
        )
    console.print(table)
    elapsed = summary.elapsed_seconds
    if elapsed:
        done = sum(summary.assets.values())
        console.print(f"elapsed {elapsed:.1f}s · {done / elapsed:.2f} assets/s")
    for model, n in summary.models:
        console.print(f"model {model}: {n} assets")
    for reason, n in summary.failures[:SHOWN_FAILURES]:
        console.print(f"[red]failed ×{n}[/]: {escape(str(reason))}")
    if len(summary.failures) > SHOWN_FAILURES:
        more = summary.failures[SHOWN_FAILURES:]
        console.print(
            f"… and {len(more)} more failure reasons ({sum(n for _, n in more)} jobs); "
            "`contentfab status --json` lists every one"
        )


class _RunWorker:
    """``run``'s own Celery worker process: started (again) with the same command and log."""

    def __init__(self, argv: list[str], env: dict[str, str], log: IO[bytes]) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        self.draining = False
        self.saw_queued = False  # drain only once the work this process was started for is taken
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self.proc

    def drain(self) -> None:
        """Celery's warm shutdown: the running tasks finish, nothing new is taken."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.draining = True


def _watch(
    sessions: Any,
    campaign_id: int,
    worker: _RunWorker | None = None,
    timeout: float | None = None,
) -> Any:
    """Show progress until the campaign finishes; then its summary with the details.

    With ``worker`` (``run``), the worker's warm shutdown starts as soon as no job of the
    campaign is waiting any more (the last chunks are running): its seconds (Celery's pool
    shutdown, ~2 s) then pass while those chunks finish, not after them. Should work come
    back after that (a chunk released for a retry after a database outage), the worker is
    started again once it has exited.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress_now = _progress(sessions, campaign_id)
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/]"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(
            f"campaign {campaign_id}", total=progress_now.total_jobs, done=0, failed=0
        )

        def show(summary: Any) -> None:  # a CampaignProgress or a CampaignSummary
            done, failed = summary.count_status("done"), summary.count_status("failed")
            progress.update(bar, completed=done + failed, done=done, failed=failed)

        counted_at = -1.0
        pause = 0.0
        while True:
            # Counting 100,000 jobs by status takes ~10 ms: count at most a tenth of the
            # time, so the watcher does not take a CPU from the workers it watches; in
            # between, two indexed lookups (finished? anything queued?) every 0.2 s notice
            # the end without waiting for the next count.
            if time.monotonic() - counted_at >= pause:
                counted_at = time.monotonic()
                progress_now = _progress(sessions, campaign_id)
                pause = max(1.0, 10 * (time.monotonic() - counted_at))
                show(progress_now)
                finished = progress_now.finished
                queued = progress_now.count_status("queued") > 0
            else:
                finished, queued = _finished_or_queued(sessions, campaign_id)
            if finished:
                if worker is not None:
                    worker.drain()
                break
            if worker is not None:
                if worker.proc.poll() is not None:
                    if not worker.draining:
                        raise ContentfabError(
                            f"the worker exited with code {worker.proc.returncode} before "
                            f"campaign {campaign_id} finished; see its log above"
                        )
                    # It finished what it was running; look again before starting another.
                    if not _progress(sessions, campaign_id).finished:
                        worker.start()
                    continue
                if not worker.draining:
                    if queued:
                        worker.saw_queued = True
                    elif worker.saw_queued:
                        worker.drain()
            if timeout is not None and time.monotonic() - started > timeout:
                raise ContentfabError(f"campaign {campaign_id} did not finish in {timeout:.0f}s")
            time.sleep(0.2)
        summary = _summary(sessions, campaign_id)  # the finished counts, with the details
        show(summary)
    return summary


@app.command()
@user_errors
def assets(
    campaign: Annotated[int | None, typer.Option(help="Campaign ID.")] = None,
    kind: Annotated[str | None, typer.Option(help="copy, image or recommendation.")] = None,
    channel: Annotated[str | None, typer.Option(help="Channel or format.")] = None,
    product: Annotated[str | None, typer.Option(help="Product ID (SKU) from the catalog.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    users: Annotated[
        Path | None,
        typer.Option(
            "--users",
            help="A file of user IDs, one a line: lists stored under their pseudonyms "
            "(recommendations.pseudonymize) show these IDs instead. Needs "
            "CONTENTFAB_PSEUDONYM_KEY.",
        ),
    ] = None,
) -> None:
    """Query generated assets."""
    from db.models import ContentKind
    from db.queries import list_assets

    if fmt not in ("table", "json", "csv"):
        raise InputError(f"--format must be table, json or csv, not {fmt!r}")
    try:
        kind_value = None if kind is None else ContentKind(kind)
    except ValueError:
        raise InputError(
            f"--kind must be one of {', '.join(k.value for k in ContentKind)}, not {kind!r}"
        ) from None
    settings = _settings()
    _upgrade(settings)
    with _sessions(settings)() as session:
        rows = [
            _asset_row(a)
            for a in list_assets(
                session,
                campaign_id=campaign,
                kind=kind_value,
                channel=channel,
                product_sku=product,
                limit=limit,
            )
        ]
    if users is not None:
        _map_back(settings, rows, _user_ids(None, users, f"{users} names no user IDs"))
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        fields = [
            "id",
            "campaign",
            "product",
            "subject",
            "kind",
            "channel",
            "variant",
            "status",
            "text",
            "uri",
            "sha256",
            "ai_generated",
            "model",
            "device",
            "created_at",
        ]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_safe(row.get(k)) for k in fields})
    else:
        table = Table("id", "product", "channel", "v", "text", "model", "device")
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["product"] or row["subject"] or "",
                row["channel"],
                str(row["variant"]),
                row["text"] or row["uri"] or "",
                row["model"],
                row["device"],
            )
        console.print(table)


def _map_back(settings: Settings, rows: list[dict[str, Any]], user_ids: list[str]) -> None:
    """Put each user's own ID in place of its pseudonym, for the users the caller names: a
    keyed hash cannot be reversed, only recomputed."""
    from contentfab.campaign.pseudonyms import key_of, pseudonyms

    key = key_of(settings, "--users")
    original = {hashed: user for user, hashed in pseudonyms(key, user_ids).items()}
    for row in rows:
        if row["channel"] == "user" and row["subject"] in original:
            row["subject"] = original[row["subject"]]


def _asset_row(asset: Any) -> dict[str, Any]:
    from contentfab.services.delivery import generation  # the export's label, not its other columns

    meta = asset.meta or {}
    ai_generated, model = generation(asset)
    return {
        "id": asset.id,
        "campaign": asset.campaign_id,
        "product": asset.product.sku if asset.product is not None else "",
        "subject": asset.subject,
        "kind": str(asset.kind),
        "channel": asset.channel,
        "variant": asset.variant,
        "status": str(asset.status),
        "text": asset.text,
        "uri": asset.uri,
        "sha256": asset.sha256,
        "ai_generated": ai_generated,
        "model": f"{model.get('name', '')}@{model.get('version', '')}",
        "device": meta.get("device", ""),
        "created_at": asset.created_at.isoformat(),
        "meta": meta,
    }


def _csv_safe(value: Any) -> Any:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@app.command()
@user_errors
def gc(
    delete: Annotated[
        bool, typer.Option("--delete", help="Remove the files (default: only list them).")
    ] = False,
    min_age: Annotated[
        float,
        typer.Option(
            help="Only files at least this many seconds old: a younger one may belong to a "
            "worker that is about to commit its row."
        ),
    ] = 3600,
) -> None:
    """List files under the asset directory that no asset row references, and interaction
    events older than CONTENTFAB_INTERACTION_RETENTION_DAYS; --delete removes them.

    Such files are left by a worker killed between writing a file and committing its row, or
    while writing it (.partial-* files).
    """
    from sqlalchemy import select

    from contentfab.services.orphans import find_orphans, referenced_paths, remove
    from db.models import Asset

    settings = _settings()
    _upgrade(settings)
    with _sessions(settings)() as session:
        referenced = referenced_paths(
            session.scalars(select(Asset.uri).where(Asset.uri.is_not(None)))
        )
    orphans = find_orphans(settings.asset_dir, referenced, min_age=min_age)
    for orphan in orphans:
        note = " (partial write)" if orphan.partial else ""
        console.print(
            f"{orphan.path}\t{orphan.size} bytes\t{orphan.age_seconds / 3600:.1f} h old{note}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    size = sum(orphan.size for orphan in orphans)
    summary = (
        f"{len(orphans)} files ({size / 1e6:.1f} MB) under {settings.asset_dir} that no asset "
        f"row references (older than {min_age:g}s)"
    )
    if delete:
        console.print(f"removed {remove(orphans, settings.asset_dir)} of {summary}", soft_wrap=True)
    else:
        console.print(f"{summary}; nothing removed: pass --delete to remove them", soft_wrap=True)
    _purge_old_interactions(settings, delete)


def _purge_old_interactions(settings: Settings, delete: bool) -> None:
    from db.privacy import checkpoint, purge_interactions
    from db.session import transaction

    days = settings.interaction_retention_days
    if days is None:
        console.print(
            "interactions: no retention period set (CONTENTFAB_INTERACTION_RETENTION_DAYS); "
            "all are kept",
            soft_wrap=True,
        )
        return
    before = time.time() - days * 86400
    sessions = _sessions(settings)
    with transaction(sessions) as session:
        found = purge_interactions(session, before, apply=delete)
    if delete:
        with sessions() as session:
            checkpoint(session)
    for entry in found:
        console.print(
            f"campaign {entry.campaign_id} ({entry.campaign_name}): {entry.events} events, "
            f"{entry.users} shoppers left without any",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    summary = (
        f"{sum(e.events for e in found)} interaction events older than {days:g} days in "
        f"{len(found)} campaigns"
    )
    if delete:
        console.print(f"purged {summary}", soft_wrap=True)
    else:
        console.print(f"{summary}; nothing removed: pass --delete to purge them", soft_wrap=True)


#: The shoppers `forget` and `pseudonym` take: IDs as arguments and/or a file of them.
UserIds = Annotated[
    list[str] | None, typer.Argument(help="Shoppers' user IDs, as in interactions files.")
]
UserIdFile = Annotated[Path | None, typer.Option("--file", help="A file of user IDs, one a line.")]


@app.command()
@user_errors
def forget(
    user_ids: UserIds = None,
    file: UserIdFile = None,
) -> None:
    """Erase shoppers from every campaign: their interaction events, recommendation lists
    and those lists' review history. Running it again changes nothing. An audit row records
    when and how much was removed, not whose data it was.

    Campaigns that pseudonymise user IDs are searched for the IDs' pseudonyms, which needs
    CONTENTFAB_PSEUDONYM_KEY (or pass the pseudonyms, p:..., themselves)."""
    from contentfab.campaign.pseudonyms import PREFIX, key_of, pseudonyms
    from db.privacy import checkpoint, forget_users, pseudonymised_campaigns
    from db.session import transaction

    wanted = _user_ids(user_ids, file, "name the user IDs to forget")
    settings = _settings()
    _upgrade(settings)
    sessions = _sessions(settings)
    started = time.perf_counter()
    aliases: list[str] = []
    if settings.pseudonym_key is not None:
        aliases = list(pseudonyms(key_of(settings, "forget"), wanted).values())
    elif any(not user.startswith(PREFIX) for user in wanted):
        with sessions() as session:
            hashed = pseudonymised_campaigns(session)
        if hashed:  # a partial erasure that reports success would be worse than none
            numbers = ", ".join(map(str, hashed))
            key_of(
                settings,
                f"campaigns {numbers} store pseudonyms, so nothing was removed: forgetting "
                "their shoppers by ID",
            )
    with transaction(sessions) as session:
        found = forget_users(session, wanted, aliases)
    with sessions() as session:
        checkpoint(session)
    for entry in found:
        listed = f", {entry.listed} entries of its users list" if entry.listed else ""
        console.print(
            f"campaign {entry.campaign_id} ({entry.campaign_name}): {entry.users} shoppers, "
            f"{entry.events} events, {entry.lists} recommendation lists, {entry.reviews} "
            f"review actions{listed}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    unique = len(set(wanted))
    where = f"{len(found)} campaigns" if found else "no campaign: nothing was stored for them"
    console.print(
        f"forgot {unique} user IDs in {time.perf_counter() - started:.1f}s; found in {where}",
        soft_wrap=True,
    )


def _user_ids(arguments: list[str] | None, file: Path | None, missing: str) -> list[str]:
    """User IDs from the command line and a --file of them (one a line, blanks skipped)."""
    wanted = [user.strip() for user in arguments or [] if user.strip()]
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {file}: {exc}") from exc
        wanted += [line.strip() for line in text.splitlines() if line.strip()]
    if not wanted:
        raise InputError(f"{missing}, or a --file of them (one a line)")
    return wanted


@app.command()
@user_errors
def pseudonym(
    user_ids: UserIds = None,
    file: UserIdFile = None,
) -> None:
    """Print user_id,pseudonym as CSV: what a campaign with recommendations.pseudonymize
    stores for each ID (keyed with CONTENTFAB_PSEUDONYM_KEY), to join its lists back to your
    own IDs."""
    from contentfab.campaign.pseudonyms import key_of, pseudonyms

    wanted = _user_ids(user_ids, file, "name the user IDs to hash")
    key = key_of(_settings(), "contentfab pseudonym")
    writer = csv.writer(sys.stdout)
    writer.writerow(["user_id", "pseudonym"])
    for user, hashed in pseudonyms(key, wanted).items():
        writer.writerow([_csv_safe(user), hashed])


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
    from tasks.app import sending_app
    from tasks.campaigns import resend

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
    from exporters import ModelStore

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
    from tasks.app import sending_app
    from tasks.campaigns import Enqueued, find_campaign, resend

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


@app.command()
@user_errors
def edit(
    asset_id: Annotated[int, typer.Argument(help="The copy asset's ID (see `assets`).")],
    text: Annotated[str, typer.Argument(help="The new text.")],
    reviewer: Annotated[str, typer.Option(help="Who is editing (recorded).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Publish even though gates fail (never over the channel's limits); "
            "needs --reason. The review history records the overridden gates.",
        ),
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why a forced edit may fail gates.")] = None,
) -> None:
    """Replace a copy asset's text after checking it against every copy gate.

    The text must fit the channel and pass the gates generated copy passed (facts and claims
    against the product record, the brand kit, the product's name, repetition, near-duplicates);
    a failing gate refuses the edit (exit 2) and changes nothing. The generated text is kept
    and the asset goes back to review.
    """
    from contentfab.services import edits
    from db.session import transaction

    settings = _settings()
    _upgrade(settings)
    with transaction(_sessions(settings)) as session:
        asset = edits.edit_text(
            session, asset_id, actor=reviewer, text=text, force=force, reason=reason
        )
        overridden = (asset.meta or {}).get("gates_overridden") if force else None
        console.print(f"edited asset {asset.id}: {escape(asset.text or '')}", highlight=False)
        if overridden:
            gates = ", ".join(f.split(":")[0] for f in overridden["failures"])
            console.print(f"[yellow]published over failing gates:[/] {gates}", highlight=False)


@app.command()
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Refuse every review action.")
    ] = False,
) -> None:
    """Serve the review API and the web gallery (http://HOST:PORT/, OpenAPI at /openapi.json)."""
    import secrets

    import uvicorn

    from contentfab.api import create_api

    settings = _settings()
    _upgrade(settings)
    if read_only:
        settings = settings.model_copy(update={"read_only": True})
    link = f"http://{host}:{port}/"
    if not settings.read_only and not settings.api_key:
        # No key configured: make one for this run, like a notebook token, and hand it to the
        # browser in the link's fragment (never sent to the server, kept for the tab only).
        settings = settings.model_copy(update={"api_key": secrets.token_urlsafe(18)})
        link += f"#key={settings.api_key}"
    mode = "read-only" if settings.read_only else "review actions need X-API-Key"
    console.print(f"gallery: {link}\nOpenAPI: http://{host}:{port}/openapi.json ({mode})")
    uvicorn.run(create_api(settings, hosts=[host]), host=host, port=port, log_level="warning")


FLOWER_AUTH = "FLOWER_BASIC_AUTH"
FLOWER_USER = "contentfab"  # the user of a password made for one run


@app.command()
@user_errors
def flower(
    address: Annotated[
        str, typer.Option(help="Interface to listen on; anything but loopback needs a firewall.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 5555,
) -> None:
    """Run Flower behind basic auth, on 127.0.0.1, against the current broker.

    The credentials are FLOWER_BASIC_AUTH (user:password) from the environment; without it,
    a password is made for this run and printed once (user `contentfab`). They stay in the
    environment (Flower reads FLOWER_* variables itself), never on the command line, where
    every user of the machine could read them with `ps`. Flower's /metrics and /healthcheck
    answer without auth: keep the port off public networks.
    """
    import re
    import secrets

    auth = os.environ.get(FLOWER_AUTH, "")
    if auth and not all(re.fullmatch(r"[^:\s]+:\S+", pair) for pair in auth.split(",")):
        raise InputError(
            f"{FLOWER_AUTH} must be user:password (several: a,b separated by commas); unset "
            "it to have a password made for this run. Credentials never go on the command line."
        )
    _broker_up(_settings())
    url = f"http://{address}:{port}/"
    if auth:
        console.print(f"Flower: {url} (basic auth from {FLOWER_AUTH})", highlight=False)
    else:
        # Like `serve`'s key: made for this run, shown here only, handed to Flower through
        # its environment.
        password = secrets.token_urlsafe(12)
        os.environ[FLOWER_AUTH] = f"{FLOWER_USER}:{password}"
        console.print(
            f"Flower: {url} user {FLOWER_USER} password {password} (made for this run; set "
            f"{FLOWER_AUTH}=user:password to choose your own)",
            highlight=False,
            soft_wrap=True,
        )
    argv = [sys.executable, "-m", "celery", "-A", "tasks.worker", "flower"]
    argv += [f"--address={address}", f"--port={port}"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # our own interpreter, fixed arguments


def main() -> None:
    app()
