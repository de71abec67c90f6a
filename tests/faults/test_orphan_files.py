"""Image files without an asset row: adopted on retry (content-addressed) or swept by `gc`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from contentfab.cli import app
from contentfab.db.models import Asset, Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure
from tests.faults.cards import (
    card_environment,
    embedded_urls,
    slot_counts,
    write_card_campaign,
)
from tests.pipeline import runner


def _files(asset_dir: Path) -> dict[Path, int]:
    return {p: p.stat().st_ino for p in asset_dir.rglob("*") if p.is_file()}


def _dead_worker() -> str:
    pid = 4_000_000  # above any pid_max: no such process
    assert not Path(f"/proc/{pid}").exists()
    return f"{socket.gethostname()}:{pid}"


@pytest.mark.slow
def test_files_written_before_a_lost_commit_are_adopted_on_resume(tmp_path):
    db_url, broker = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, broker)
    campaign = write_card_campaign(tmp_path, products=6)
    assert runner.invoke(app, ["run", str(campaign)], env=env).exit_code == 0
    asset_dir = tmp_path / "data" / "assets"
    files = _files(asset_dir)
    assert len(files) == 6

    # The state a worker killed between writing its files and committing their rows leaves:
    # files on disk, jobs RUNNING under a dead worker process, no asset rows.
    sessions = configure(db_url)
    with sessions.begin() as session:
        session.execute(delete(Asset))
        session.execute(update(Job).values(status=JobStatus.RUNNING, worker=_dead_worker()))
        session.execute(update(Campaign).values(status=CampaignStatus.RUNNING, finished_at=None))
    orphans = runner.invoke(app, ["gc", "--min-age", "0"], env=env)
    assert "6 files" in orphans.stdout, orphans.output

    resumed = runner.invoke(app, ["run", str(campaign)], env=env)
    assert resumed.exit_code == 0, resumed.output
    assert "6 running jobs had lost their worker" in resumed.stdout
    assert _files(asset_dir) == files  # the same files, not rewritten: adopted
    with sessions() as session:
        uris = set(session.scalars(select(Asset.uri)))
        assert all(j.attempts == 2 for j in session.scalars(select(Job)))
    assert {Path(u.removeprefix("file://")) for u in uris} == set(files)
    assert slot_counts(sessions) == (6, 6, 6)
    assert "0 files" in runner.invoke(app, ["gc", "--min-age", "0"], env=env).stdout
    sessions.kw["bind"].dispose()


def test_gc_lists_by_default_and_deletes_only_unreferenced_old_files(tmp_path, database_url):
    from tests.api.seed import seed_campaign, write_image

    data = tmp_path / "data"
    asset_dir = data / "assets"
    sessions = configure(database_url)
    seed_campaign(sessions, asset_dir)
    referenced = _files(asset_dir)
    assert referenced
    orphan_uri, _ = write_image(asset_dir, seed=999, size=(64, 64))  # a file with no row
    orphan = Path(orphan_uri.removeprefix("file://"))
    partial = orphan.parent / ".partial-k1ll3d"  # a write cut short
    partial.write_bytes(b"\x89PNG half")
    outside = tmp_path / "outside.png"  # linked from inside; must survive, link and all
    outside.write_bytes(b"not ours")
    link = asset_dir / "images" / "link.png"
    link.symlink_to(outside)
    sessions.kw["bind"].dispose()
    env = card_environment(tmp_path, database_url, f"sqla+sqlite:///{data / 'broker.db'}")
    past = orphan.stat().st_mtime - 7200
    for path in (orphan, partial):
        os.utime(path, (past, past))

    young = runner.invoke(app, ["gc", "--min-age", "86400"], env=env)
    assert young.exit_code == 0 and "0 files" in young.stdout

    listed = runner.invoke(app, ["gc"], env=env)  # default: an hour old or more, dry run
    assert listed.exit_code == 0, listed.output
    assert str(orphan) in listed.stdout and "(partial write)" in listed.stdout
    assert "nothing removed" in listed.stdout and orphan.exists() and partial.exists()

    removed = runner.invoke(app, ["gc", "--delete"], env=env)
    assert removed.exit_code == 0, removed.output
    assert "removed 2 of 2 files" in removed.stdout
    assert not orphan.exists() and not partial.exists()
    assert outside.read_bytes() == b"not ours" and link.is_symlink()
    assert all(path.exists() for path in referenced)
