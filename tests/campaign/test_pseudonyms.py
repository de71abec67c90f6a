"""Pseudonymous user IDs (``recommendations.pseudonymize``), on SQLite and PostgreSQL: no column
of any table holds a shopper's own ID or the key; `forget` takes the own IDs; enqueue refuses
without the key and stores nothing; `assets --users` and `pseudonym` map lists back."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from contentfab.campaign.pseudonyms import pseudonym
from contentfab.cli import app as cli
from contentfab.cli.worker import _worker_env
from contentfab.core.settings import Settings
from contentfab.db.interaction_log import load_interactions
from contentfab.db.models import Campaign, Job, PrivacyAudit
from tests.db.privacy_seed import (
    FORGOTTEN,
    KEY,
    SHOPPERS,
    places_holding,
    seed,
    stored_id,
    user_lists,
    write_files,
)

run = CliRunner().invoke
EVERYONE = [*SHOPPERS, "new-shopper-9"]  # in the interactions file or a users list


def _env(tmp_path, database_url, key: str | None = KEY):
    env = {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_PSEUDONYM_KEY": key,
    }
    return env


def test_a_pseudonymised_campaign_stores_no_user_id_and_not_the_key(tmp_path, sessions):
    seeded = seed(sessions, tmp_path, pseudonymize=True)

    for user in EVERYONE:
        assert places_holding(sessions, user) == [], user
    assert places_holding(sessions, KEY) == []
    assert places_holding(sessions, stored_id(FORGOTTEN, True)) == [
        "asset.subject",
        "campaign.spec",
        "campaign_interactions.data",
        "interaction.user_id",
        "job.subject",
    ]
    with sessions() as session:
        blob = load_interactions(session, seeded.blob_all)
        listed = session.get(Campaign, seeded.blob_listed)
        subjects = {
            campaign_id: sorted(subject for (subject,) in rows)
            for campaign_id, rows in [
                (cid, session.execute(select(Job.subject).where(Job.campaign_id == cid)).all())
                for cid in (seeded.blob_all, seeded.blob_listed)
            ]
        }
    # The same shoppers, in the same order, each under one pseudonym everywhere.
    assert blob is not None and blob.user_ids == [stored_id(u, True) for u in SHOPPERS]
    assert listed is not None and listed.spec["recommendations"]["users"] == [
        {"id": stored_id(FORGOTTEN, True), "segment": "campers"},
        {"id": stored_id("C-1003", True), "segment": None},
        {"id": stored_id("new-shopper-9", True), "segment": None},
    ]
    assert listed.spec["recommendations"]["pseudonymize"] is True
    assert subjects[seeded.blob_all] == sorted(stored_id(u, True) for u in SHOPPERS)
    assert subjects[seeded.blob_listed] == sorted(
        [*(stored_id(u, True) for u in (FORGOTTEN, "C-1003", "new-shopper-9")), "campers"]
    )


def test_the_plain_seed_stores_the_ids_as_given(tmp_path, sessions):
    """The search above can fail: without the option the same files leave the IDs in place."""
    seed(sessions, tmp_path)
    assert places_holding(sessions, "bob@example.com") != []
    assert places_holding(sessions, "new-shopper-9") == [
        "asset.subject",
        "campaign.spec",
        "job.subject",
    ]


def test_forget_takes_the_shoppers_own_ids(tmp_path, database_url, sessions):
    seeded = seed(sessions, tmp_path, pseudonymize=True)
    before = user_lists(sessions)
    hashed = stored_id(FORGOTTEN, True)

    no_key = run(cli, ["forget", FORGOTTEN], env=_env(tmp_path, database_url, key=None))
    assert no_key.exit_code == 2, no_key.output
    assert "store pseudonyms, so nothing was removed" in no_key.output
    assert "CONTENTFAB_PSEUDONYM_KEY" in no_key.output
    assert user_lists(sessions) == before

    done = run(cli, ["forget", FORGOTTEN], env=_env(tmp_path, database_url))
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert f"campaign {seeded.blob_all} (Everyone): 1 shoppers, 3 events, 1 " in lines[0]
    assert "1 entries of its users list" in lines[1]
    assert "forgot 1 user IDs" in lines[-1] and "found in 3 campaigns" in lines[-1]
    assert places_holding(sessions, hashed) == []
    assert user_lists(sessions) == {k: v for k, v in before.items() if k[2] != hashed}
    with sessions() as session:
        audit = session.scalars(select(PrivacyAudit)).one()
    assert (audit.requested, audit.campaigns, audit.lists) == (1, 3, 3)

    # A pseudonym itself needs no key.
    bob = stored_id("bob@example.com", True)
    by_pseudonym = run(cli, ["forget", bob], env=_env(tmp_path, database_url, key=None))
    assert by_pseudonym.exit_code == 0, by_pseudonym.output
    assert places_holding(sessions, bob) == []


def test_enqueue_refuses_a_pseudonymised_campaign_without_the_key(tmp_path, database_url, sessions):
    write_files(tmp_path, pseudonymize=True)
    env = _env(tmp_path, database_url, key=None)
    for command in ("enqueue", "run"):
        result = run(cli, [command, str(tmp_path / "all.yaml")], env=env)
        assert result.exit_code == 2, result.output
        assert "recommendations.pseudonymize needs the pseudonym key" in result.output
        assert "CONTENTFAB_PSEUDONYM_KEY" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    short = run(
        cli, ["enqueue", str(tmp_path / "all.yaml")], env=_env(tmp_path, database_url, "short")
    )
    assert short.exit_code == 2 and "shorter than 32 characters" in short.output
    assert "short" not in short.output.replace("shorter", "")  # a secret is never echoed


def test_assets_map_back_only_the_ids_given_and_only_with_the_key(tmp_path, database_url, sessions):
    seeded = seed(sessions, tmp_path, pseudonymize=True)
    ids = tmp_path / "ours.txt"
    ids.write_text("bob@example.com\nC-1003\nsomeone-else\n")
    args = ["assets", "--campaign", str(seeded.blob_all), "--kind", "recommendation"]

    plain = run(cli, [*args, "--format", "json"], env=_env(tmp_path, database_url, key=None))
    assert plain.exit_code == 0, plain.output
    assert {json.loads(line)["subject"] for line in plain.stdout.splitlines()} == {
        stored_id(u, True) for u in SHOPPERS
    }
    refused = run(cli, [*args, "--users", str(ids)], env=_env(tmp_path, database_url, key=None))
    assert refused.exit_code == 2 and "--users needs the pseudonym key" in refused.output

    mapped = run(
        cli, [*args, "--format", "csv", "--users", str(ids)], env=_env(tmp_path, database_url)
    )
    assert mapped.exit_code == 0, mapped.output
    subjects = {row["subject"] for row in csv.DictReader(io.StringIO(mapped.stdout))}
    assert subjects == {
        "bob@example.com",
        "C-1003",
        stored_id(FORGOTTEN, True),  # not in the file: stays a pseudonym
        stored_id("dora@example.com", True),
    }


def test_pseudonym_prints_what_is_stored(tmp_path, database_url):
    result = run(cli, ["pseudonym", "bob@example.com", "=1+2"], env=_env(tmp_path, database_url))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["user_id", "pseudonym"],
        ["bob@example.com", pseudonym(KEY.encode(), "bob@example.com")],
        ["'=1+2", pseudonym(KEY.encode(), "=1+2")],  # a spreadsheet will not run it
    ]
    assert rows[1][1] == stored_id("bob@example.com", True)
    no_key = run(cli, ["pseudonym", "bob"], env=_env(tmp_path, database_url, key=None))
    assert no_key.exit_code == 2 and "CONTENTFAB_PSEUDONYM_KEY" in no_key.output


def test_workers_never_get_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTENTFAB_PSEUDONYM_KEY", KEY)
    settings = Settings(data_dir=tmp_path, pseudonym_key=KEY)
    env = _worker_env(settings, 1)
    assert "CONTENTFAB_PSEUDONYM_KEY" not in env and KEY not in env.values()
