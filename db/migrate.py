"""Alembic migrations, run from code (``contentfab db upgrade``) — no alembic.ini needed.

Every command that touches the database upgrades it first; a database already at
:data:`HEAD_REVISION` is recognised by one query, without importing Alembic (which, with Mako
and Pygments, took ~0.2 s of every command).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from contentfab.db.session import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

#: The newest migration's revision (tests/db/test_models_and_jobs.py holds it to the scripts').
HEAD_REVISION = "0007_privacy_audit"


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # only where a migration is read or run: see above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is ConfigParser-based: a literal % in a URL (passwords) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    if revision == "head" and _at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _at_head(url: str) -> bool:
    """Whether the database at ``url`` is at :data:`HEAD_REVISION`. Any error (no database,
    no version table yet) is False: Alembic then runs, and reports what is wrong."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return [row[0] for row in found] == [HEAD_REVISION]
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
