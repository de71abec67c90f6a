"""`contentfab forget` and the retention part of `contentfab gc`, through the CLI runner, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from typer.testing import CliRunner

from contentfab.cli import app as cli
from contentfab.db.models import Asset, Interaction, PrivacyAudit
from contentfab.services import delivery
from tests.db.privacy_seed import FORGOTTEN, places_holding, seed, user_lists

run = CliRunner().invoke


def _env(tmp_path, database_url, **more):
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_DATABASE_URL": database_url,
        **more,
    }


def _exports(sessions, tmp_path) -> str:
    """Every asset as CSV, JSON lines and the zip's manifests, as one text."""
    with sessions() as session:
        assets = session.scalars(select(Asset).options(joinedload(Asset.product))).all()
        csv_text, jsonl_text, packed = io.StringIO(), io.StringIO(), io.BytesIO()
        delivery.write_csv(assets, csv_text)
        delivery.write_jsonl(assets, jsonl_text)
        delivery.write_zip(assets, packed, tmp_path)
    with zipfile.ZipFile(packed) as archive:
        manifests = [archive.read(name).decode() for name in archive.namelist()]
    return "\n".join([csv_text.getvalue(), jsonl_text.getvalue(), *manifests])


def test_forget_by_argument_and_file_reports_per_campaign_and_is_idempotent(
    tmp_path, database_url, sessions
):
    seeded = seed(sessions, tmp_path)
    before = user_lists(sessions)
    assert FORGOTTEN in _exports(sessions, tmp_path)
    ids = tmp_path / "erase.txt"
    ids.write_text(f"\n  {FORGOTTEN}  \nC-1003\n\n")
    env = _env(tmp_path, database_url)

    first = run(cli, ["forget", "never-seen", "--file", str(ids)], env=env)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert (
        f"campaign {seeded.blob_all} (Everyone): 2 shoppers, 6 events, 2 recommendation "
        in (lines[0])
    )
    assert "2 entries of its users list" in lines[1]  # campaign "Listed" named both
    assert lines[2].startswith(f"campaign {seeded.legacy} (Legacy): 1 shoppers, 2 events, 1 ")
    assert "forgot 3 user IDs" in lines[-1] and "found in 3 campaigns" in lines[-1]
    assert places_holding(sessions, FORGOTTEN) == []
    assert places_holding(sessions, "C-1003") == []
    exported = _exports(sessions, tmp_path)
    assert FORGOTTEN not in exported and "C-1003" not in exported and "bob@example.com" in exported
    kept = {key: value for key, value in before.items() if key[2] not in (FORGOTTEN, "C-1003")}
    assert user_lists(sessions) == kept

    again = run(cli, ["forget", FORGOTTEN, "C-1003"], env=env)
    assert again.exit_code == 0, again.output
    assert "found in no campaign: nothing was stored for them" in again.output
    assert user_lists(sessions) == kept
    with sessions() as session:
        audits = session.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id)).all()
    assert [(a.requested, a.campaigns, a.lists) for a in audits] == [(3, 3, 5), (2, 0, 0)]

    nothing = run(cli, ["forget"], env=env)
    assert nothing.exit_code == 2 and "name the user IDs to forget" in nothing.output


def test_gc_purges_interactions_past_the_retention_period(tmp_path, database_url, sessions):
    seed(sessions, tmp_path)
    env = _env(tmp_path, database_url)
    kept = run(cli, ["gc"], env=env)
    assert kept.exit_code == 0, kept.output
    assert "no retention period set" in kept.output

    env["CONTENTFAB_INTERACTION_RETENTION_DAYS"] = "30"
    listed = run(cli, ["gc"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "10 interaction events older than 30 days in 3 campaigns; nothing removed" in (
        listed.output
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 4

    purged = run(cli, ["gc", "--delete"], env=env)
    assert purged.exit_code == 0, purged.output
    assert "purged 10 interaction events older than 30 days in 3 campaigns" in purged.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2
        audit = session.scalars(select(PrivacyAudit)).one()
    assert (audit.action, audit.events) == ("retention", 10)
    again = run(cli, ["gc", "--delete"], env=env)
    assert "purged 0 interaction events" in again.output
