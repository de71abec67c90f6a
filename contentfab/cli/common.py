"""The command group, its sub-groups, and what every command shares: settings, the database
sessions, the embedded broker's lifetime, and :func:`user_errors` (one clean paragraph and
exit 2, never a traceback)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from contentfab.core.errors import ContentfabError, InputError
from contentfab.core.settings import Settings
from contentfab.tasks.embedded_broker import broker_for, ensure_running, other_clients, stop

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
EXAMPLE_CAMPAIGN = Path(__file__).parents[1] / "examples" / "campaign.yaml"
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
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.session import configure

    return configure(settings.database_url)


def _embedded_broker(settings: Settings) -> Any:
    """The embedded broker of the data dir, or None when CONTENTFAB_BROKER_URL names another."""
    socket = settings.embedded_broker
    return None if socket is None else broker_for(settings.data_dir, socket)


def _broker_up(settings: Settings) -> None:
    """Start the embedded broker unless it runs (each command that sends or takes messages)."""
    broker = _embedded_broker(settings)
    if broker is not None:
        ensure_running(broker)


def _broker_down_if_unused(settings: Settings) -> None:
    """After `run` / `demo`: stop the embedded broker unless another process (a worker, Flower,
    a command sending tasks) is connected to it. Its queued messages are kept on disk."""
    broker = _embedded_broker(settings)
    if broker is None or other_clients(broker) > 0:
        return
    try:
        stop(broker)
    except ContentfabError as exc:  # never hides how the run itself ended
        err.print(f"[yellow]warning:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


def _upgrade(settings: Settings) -> None:
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.migrate import upgrade
    from contentfab.db.session import database_errors

    with database_errors("cannot reach the database: "):
        upgrade(settings.database_url)


# --------------------------------------------------------------------------- embedded broker


def _only_embedded(settings: Settings) -> Any:
    broker = _embedded_broker(settings)
    if broker is None:
        raise InputError(
            "CONTENTFAB_BROKER_URL names a broker of your own; `contentfab broker` manages only "
            "the embedded one (unset CONTENTFAB_BROKER_URL to use it)"
        )
    return broker


def _csv_safe(value: Any) -> Any:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
