"""`contentfab serve` (the review API and gallery) and `contentfab flower` (the queue monitor)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from contentfab.cli.common import _broker_up, _settings, _upgrade, app, console, user_errors
from contentfab.core.errors import InputError
from contentfab.core.extras import require_extra


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

    require_extra("serve")
    import uvicorn

    # lazy: fastapi, sqlalchemy stay out of `contentfab --help` (cli/__init__.py)
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
    require_extra("monitor")
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
    argv = [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "flower"]
    argv += [f"--address={address}", f"--port={port}"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # our own interpreter, fixed arguments
