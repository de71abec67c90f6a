"""`contentfab broker status|stop` and `contentfab db upgrade`."""

from __future__ import annotations

from contentfab.cli.common import (
    QUEUES,
    _only_embedded,
    _settings,
    _upgrade,
    broker_app,
    console,
    db_app,
    user_errors,
)
from contentfab.tasks.embedded_broker import answers, other_clients, queue_lengths, stop


@broker_app.command("status")
@user_errors
def broker_status() -> None:
    """Whether the embedded broker runs, where, and what waits in its queues."""
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
    broker = _only_embedded(_settings())
    console.print("embedded broker stopped" if stop(broker) else "embedded broker was not running")


# --------------------------------------------------------------------------- database / models


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    settings = _settings()
    _upgrade(settings)
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.migrate import current_revision

    console.print(f"database at revision {current_revision(settings.database_url)}")


# Built by `models build --all` next to the copy model: what the recommendation and image
# jobs of a campaign load by default.
