"""The `contentfab` command: one group, lazy set-up, heavy imports inside commands.

User errors (the InputError branch and friends) print one clean paragraph and exit non-zero;
they never show a traceback. Each module holds one group of commands and registers them on
:data:`~contentfab.cli.common.app` when imported; shared helpers live in ``common``.

Every command module is imported to register its commands, so what one imports at its top is
paid by every command, ``--help`` included. ``db``, ``tasks``, ``contentfab.campaign``,
``contentfab.api``, ``contentfab.services`` (edits, delivery) and ``workers`` are therefore
imported inside the commands that use them, each under a ``# lazy:`` comment naming what it
would load (sqlalchemy, celery, numpy, yaml, fastapi). ``contentfab --help`` took 0.33 s as
is and 1.35 s with those modules imported first (medians of 5 on 2 vCPU at load ~2; at load
~6, 1.3-2.0 s against 4.9-7.4 s). tests/test_lazy_imports.py keeps them out.
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
