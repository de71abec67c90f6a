"""The `contentfab` command: one group, lazy set-up, heavy imports inside commands.

User errors (the InputError branch and friends) print one clean paragraph and exit non-zero;
they never show a traceback. Each module holds one group of commands and registers them on
:data:`~contentfab.cli.common.app` when imported; shared helpers live in ``common``.
"""

from contentfab.cli import (  # noqa: F401 - importing a module registers its commands
    admin,
    assets,
    enqueue,
    models,
    privacy,
    run,
    serve,
    status,
    worker,
)
from contentfab.cli.common import app

__all__ = ["app", "main"]

#: The order `contentfab --help` lists the commands in (modules register in import order).
ORDER = (
    "enqueue",
    "worker",
    "status",
    "assets",
    "gc",
    "forget",
    "pseudonym",
    "retry",
    "run",
    "demo",
    "edit",
    "serve",
    "flower",
)
app.registered_commands.sort(
    key=lambda command: ORDER.index(command.name or command.callback.__name__)  # type: ignore[union-attr]
)


def main() -> None:
    app()
