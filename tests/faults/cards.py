"""Helpers for fault tests that need many cheap jobs: typographic image cards.

An image campaign of catalog rows without photos, flat backgrounds and a small custom format
needs no model and renders a card in tens of milliseconds, so a test can hold dozens of chunks
and still kill a worker while some of them run. Workers start in a session of their own, so
one ``killpg`` takes out the main process and its pool children together.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.load import write_campaign
from contentfab.core.settings import Settings
from contentfab.db.models import Asset, Campaign, Job, JobStatus


def write_card_campaign(
    directory: Path, *, products: int, size: str = "320x320", name: str = "Cards"
) -> Path:
    return write_campaign(directory, products, size, name=name)


def embedded_urls(tmp_path: Path) -> tuple[str, str]:
    """The embedded default: SQLite and the data dir's own Valkey server (the CLI starts it)."""
    data = tmp_path / "data"
    return f"sqlite:///{data / 'contentfab.db'}", Settings(data_dir=data).broker_url


def sqla_urls(tmp_path: Path) -> tuple[str, str]:
    """SQLite and kombu's SQLAlchemy transport, the broker contentfab can still be told to use."""
    data = tmp_path / "data"
    return f"sqlite:///{data / 'contentfab.db'}", f"sqla+sqlite:///{data / 'broker.db'}"


def card_environment(tmp_path: Path, database_url: str, broker_url: str, **extra: str) -> dict:
    return {
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(tmp_path / "models"),
        "CONTENTFAB_DATABASE_URL": database_url,
        "CONTENTFAB_BROKER_URL": broker_url,
        "CONTENTFAB_CHUNK_SIZE": "4",
        "CONTENTFAB_INTRA_OP_THREADS": "1",
        **extra,
    }


def start_worker(env: dict, log: Path, name: str, concurrency: int = 1) -> subprocess.Popen:
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "worker",
             "-Q", "copy,images,recs", "-c", str(concurrency), "-l", "INFO",
             "-n", f"{name}-{os.getpid()}@%h"],
            env={**os.environ, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process and everything it started (its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait()
    kill_group(proc)  # leftovers of a killed main process


def job_counts(sessions: sessionmaker[Session]) -> dict[JobStatus, int]:
    with sessions() as session:
        rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
        return {JobStatus(status): int(n) for status, n in rows}


def finished(sessions: sessionmaker[Session], campaign_id: int = 1) -> bool:
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        return campaign is not None and campaign.finished_at is not None


def slot_counts(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(assets, distinct (product, kind, format, variant) slots among them, jobs done)."""
    with sessions() as session:
        assets = session.scalar(select(func.count()).select_from(Asset))
        slots = session.scalar(
            select(func.count()).select_from(
                select(Asset.product_id, Asset.kind, Asset.channel, Asset.variant)
                .distinct()
                .subquery()
            )
        )
        done = session.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.DONE)
        )
    return int(assets or 0), int(slots or 0), int(done or 0)
