"""Recommendation campaigns with shoppers in every place the database keeps them, and a search
of the raw database for an ID (every text, JSON and binary column of every table)."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import inspect, select, text

from contentfab.campaign import load_campaign
from contentfab.campaign.pseudonyms import pseudonym
from contentfab.core.settings import Settings
from contentfab.db.models import (
    Asset,
    AssetReview,
    Campaign,
    ContentKind,
    Interaction,
    Job,
    JobStatus,
    Product,
)
from contentfab.db.session import transaction
from contentfab.tasks.campaigns import store_campaign

FORGOTTEN = "alice.forgotten@example.com"
SHOPPERS = [FORGOTTEN, "bob@example.com", "C-1003", "dora@example.com"]
SKUS = [f"SKU-{i}" for i in range(1, 7)]
DAY = 86400.0
OLD = 1_500_000_000.0  # 2017: older than any retention period
NOW = time.time()
KEY = "5e1f0c3a9b7d2e4f" * 4  # CONTENTFAB_PSEUDONYM_KEY of the pseudonymised seed


@dataclass(frozen=True)
class Seeded:
    blob_all: int  # users: all, interactions in a blob
    blob_listed: int  # users listed in the spec (the forgotten one among them)
    legacy: int  # interactions as rows, stored before there were blobs


def stored_id(user: str, pseudonymize: bool) -> str:
    """What a campaign of the seed stores for ``user``."""
    return pseudonym(KEY.encode(), user) if pseudonymize else user


def write_files(directory: Path, pseudonymize: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["id,title,description,category,price,currency,attributes"]
    for i, sku in enumerate(SKUS):
        lines.append(f"{sku},Product {i},A fine product number {i},Cat{i % 2},{10 + i}.00,USD,")
    (directory / "catalog.csv").write_text("\n".join(lines) + "\n")
    rows = ["user_id,product_id,event,timestamp"]
    for u, user in enumerate(SHOPPERS):
        for j in range(3):
            stamp = OLD + u * 10 + j if j == 0 else NOW - (u + j) * DAY
            rows.append(
                f"{user},{SKUS[(u + j) % len(SKUS)]},{('view', 'cart', 'purchase')[j]},{stamp}"
            )
    (directory / "interactions.csv").write_text("\n".join(rows) + "\n")
    option = "  pseudonymize: true\n" if pseudonymize else ""
    (directory / "all.yaml").write_text(
        "name: Everyone\ncatalog: catalog.csv\n"
        f"recommendations:\n  interactions: interactions.csv\n  users: all\n{option}"
    )
    (directory / "listed.yaml").write_text(
        "name: Listed\ncatalog: catalog.csv\n"
        "recommendations:\n"
        "  interactions: interactions.csv\n"
        f"{option}"
        "  segments: [{name: campers, description: people who camp a lot}]\n"
        f"  users: [{{id: {FORGOTTEN}, segment: campers}}, C-1003, new-shopper-9]\n"
    )


def seed(sessions: Any, directory: Path, pseudonymize: bool = False) -> Seeded:
    """Two campaigns stored from files (with ``pseudonymize``: pseudonymised under
    :data:`KEY`) and a legacy one written as rows (holding what such a campaign would)."""
    write_files(directory, pseudonymize)
    settings = Settings(data_dir=directory / "data", database_url="sqlite://", pseudonym_key=KEY)
    ids = []
    for name in ("all.yaml", "listed.yaml"):
        with transaction(sessions) as session:
            ids.append(store_campaign(session, load_campaign(directory / name), settings).id)
    with transaction(sessions) as session:
        spec = {"recommendations": {"pseudonymize": True}} if pseudonymize else {}
        legacy = Campaign(name="Legacy", source_path="old.yaml", content_sha256="0" * 64, spec=spec)
        products = [
            Product(campaign=legacy, row=2 + i, sku=sku, title=sku, attributes={})
            for i, sku in enumerate(SKUS)
        ]
        session.add_all([legacy, *products])
        session.flush()
        for u, user in enumerate(SHOPPERS[:2]):
            for j, stamp in enumerate((OLD, NOW - DAY)):
                session.add(
                    Interaction(
                        campaign_id=legacy.id,
                        user_id=stored_id(user, pseudonymize),
                        product_id=products[u + j].id,
                        event="view",
                        occurred_at=stamp,
                    )
                )
            session.add(
                Job(
                    campaign=legacy,
                    kind=ContentKind.RECOMMENDATION,
                    channel="user",
                    variant=0,
                    subject=stored_id(user, pseudonymize),
                )
            )
        ids.append(legacy.id)
    with transaction(sessions) as session:
        for job in session.scalars(select(Job)).all():  # what the recs worker would write
            items = [
                {"sku": sku, "score": 0.5, "reason": "similar to what you viewed"}
                for sku in SKUS[:3]
            ]
            listed = json.dumps([item["sku"] for item in items])
            job.status = JobStatus.DONE
            session.add(
                Asset(
                    job=job,
                    campaign_id=job.campaign_id,
                    subject=job.subject,
                    kind=ContentKind.RECOMMENDATION,
                    channel=job.channel,
                    variant=0,
                    text=listed,
                    sha256=hashlib.sha256(listed.encode()).hexdigest(),
                    meta={"items": items, "model": {"name": "minilm-l6-v2", "version": "1"}},
                )
            )
        session.flush()
        for asset in session.scalars(select(Asset).where(Asset.channel == "user")).all():
            session.add(
                AssetReview(asset_id=asset.id, action="approve", actor="reviewer@shop.example")
            )
    return Seeded(*ids)


def user_lists(sessions: Any) -> dict[tuple[int, str, str], tuple[str | None, str, Any]]:
    """Every recommendation list: (campaign, channel, subject) -> (text, sha256, meta)."""
    with sessions() as session:
        return {
            (a.campaign_id, a.channel, a.subject or ""): (a.text, a.sha256, a.meta)
            for a in session.scalars(select(Asset))
        }


def places_holding(sessions: Any, needle: str) -> list[str]:
    """Every table.column whose raw value holds ``needle``; blobs are searched as stored and
    as the arrays of the .npz archive they hold."""
    engine = sessions.kw["bind"]
    found = []
    raw = needle.encode()
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for record in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in record.items():
                    if _holds(value, needle, raw):
                        found.append(f"{table}.{column}")
    return sorted(set(found))


def _holds(value: Any, needle: str, raw: bytes) -> bool:
    if value is None:
        return False
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        if raw in value:
            return True
        if value.startswith(b"PK"):  # an .npz archive: look inside every (maybe deflated) array
            with zipfile.ZipFile(io.BytesIO(value)) as archive:
                if any(raw in archive.read(name) for name in archive.namelist()):
                    return True
            with np.load(io.BytesIO(value), allow_pickle=False) as arrays:
                return any(raw in arrays[name].tobytes() for name in arrays.files)
        return False
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return needle in str(value)


def sqlite_file_holds(database_url: str, needle: str) -> bool:
    """Whether the SQLite database's files (and its write-ahead log) hold ``needle`` anywhere,
    free pages included."""
    path = Path(database_url.removeprefix("sqlite:///"))
    files = [path, path.with_name(path.name + "-wal")]
    return any(f.is_file() and needle.encode() in f.read_bytes() for f in files)
