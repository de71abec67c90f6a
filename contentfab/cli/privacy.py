"""`contentfab gc`, `forget` and `pseudonym`: stored data's lifetime and people's rights."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from contentfab.cli.common import (
    _csv_safe,
    _sessions,
    _settings,
    _upgrade,
    app,
    console,
    user_errors,
)
from contentfab.core.errors import InputError
from contentfab.core.settings import Settings
from contentfab.services.orphans import find_orphans, referenced_paths, remove


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
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from sqlalchemy import select

    from contentfab.db.models import Asset

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
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.privacy import checkpoint, purge_interactions
    from contentfab.db.session import transaction

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
    # lazy: sqlalchemy, numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.campaign.pseudonyms import PREFIX, key_of, pseudonyms
    from contentfab.db.privacy import checkpoint, forget_users, pseudonymised_campaigns
    from contentfab.db.session import transaction

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
    # lazy: numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.campaign.pseudonyms import key_of, pseudonyms

    wanted = _user_ids(user_ids, file, "name the user IDs to hash")
    key = key_of(_settings(), "contentfab pseudonym")
    writer = csv.writer(sys.stdout)
    writer.writerow(["user_id", "pseudonym"])
    for user, hashed in pseudonyms(key, wanted).items():
        writer.writerow([_csv_safe(user), hashed])
