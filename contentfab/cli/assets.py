"""`contentfab assets` (query and export) and `contentfab edit` (a reviewer's own text)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from contentfab.cli.common import (
    _csv_safe,
    _sessions,
    _settings,
    _upgrade,
    app,
    console,
    user_errors,
)
from contentfab.cli.privacy import _user_ids
from contentfab.core.errors import InputError
from contentfab.core.settings import Settings


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
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.models import ContentKind
    from contentfab.db.queries import list_assets

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
    # lazy: numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.campaign.pseudonyms import key_of, pseudonyms

    key = key_of(settings, "--users")
    original = {hashed: user for user, hashed in pseudonyms(key, user_ids).items()}
    for row in rows:
        if row["channel"] == "user" and row["subject"] in original:
            row["subject"] = original[row["subject"]]


def _asset_row(asset: Any) -> dict[str, Any]:
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
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
    # lazy: sqlalchemy, numpy stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.session import transaction
    from contentfab.services import edits

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
