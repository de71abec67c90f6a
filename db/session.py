"""Engine and session factory, configured from a database URL (settings at the edge)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from contentfab.core.errors import DatabaseUnavailable, InputError


class EncodedJSON(str):
    """A JSON document already serialised, for a JSON column: stored as it is.

    For writers of many documents that share most of their text (a chunk of 5,000
    recommendation lists with one model description): they encode the shared parts once.
    """


def _json_serializer(value: Any) -> str:
    return value if isinstance(value, EncodedJSON) else json.dumps(value)


def _sqlite_pragmas(foreign_keys: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the CLI read progress while a worker writes; busy_timeout rides out locks.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    return on_connect


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and (normally) foreign keys.

    Migrations pass ``sqlite_foreign_keys=False``: Alembic's batch mode rebuilds a SQLite table
    by copying it and dropping the old one, and with foreign keys on, that DROP would cascade
    and delete every row that references the table.
    """
    kwargs.setdefault("json_serializer", _json_serializer)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_foreign_keys))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return create_engine(url, **kwargs)
    except ModuleNotFoundError as error:
        # psycopg comes with the `postgres` extra; SQLite needs nothing.
        raise InputError(
            f"the database URL needs the {error.name!r} driver, which is not installed "
            "(for PostgreSQL: pip install 'contentfab[postgres]')"
        ) from error


def configure(url: str, **kwargs: Any) -> sessionmaker[Session]:
    """Return a session factory bound to a new engine for ``url``."""
    return sessionmaker(bind=make_engine(url, **kwargs), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def database_errors(prefix: str = "") -> Iterator[None]:
    """The one mapping of database failures onto the error tree (as httpx's ``map_exceptions``
    maps transport errors): a refused, lost or invalidated connection is
    :class:`~contentfab.core.errors.DatabaseUnavailable`, which tasks retry and the CLI prints
    as one line; any other database error is a bug and propagates as it is."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseUnavailable(f"{prefix}{exc.orig or exc}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(f"{prefix}{exc.orig or exc}") from exc
        raise
