"""The embedded broker: kombu's SQLAlchemy transport, polling every 0.1 s instead of every 1 s.

With ``worker_prefetch_multiplier=1`` and late acks, a worker asks for its next message only
after acking the last one; kombu's virtual transports then sleep ``polling_interval`` when the
queue looked empty, which at kombu's default of 1 s costs a second per task message. The stock
transport hands every transport option to ``create_engine()``, so the interval cannot be set
through ``broker_transport_options``; this subclass fixes it instead.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla

ALIAS = "contentfab-sqla"
POLLING_INTERVAL = 0.1


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self) -> Any:
        options = self.connection.client.transport_options
        polling = options.pop("polling_interval", None)
        try:
            return super()._engine_from_config()
        finally:
            if polling is not None:
                options["polling_interval"] = polling


class Transport(kombu_sqla.Transport):
    Channel = Channel
    polling_interval = POLLING_INTERVAL


TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:Transport")


def embedded_broker_url(url: str) -> str:
    """Route ``sqla+…`` URLs to this transport; leave every other broker URL alone."""
    return ALIAS + url[len("sqla") :] if url.startswith("sqla+") else url
