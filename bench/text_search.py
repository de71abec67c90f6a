"""Text search on copy at scale: the query the API runs for ``q`` on PostgreSQL (GIN expression
index, migration 0004) and on SQLite (the word-by-word fallback, no index).

Fills a fresh database with ``--rows`` copy assets (texts drawn from a fixed vocabulary, seeded),
then times the first page (50) of ``GET /api/assets?q=…`` as :func:`db.review.find_assets`
builds it, sorted by relevance (the default with ``q``) and by id, and a whole-result count.

    python -m bench.text_search [--rows 100000] [--out bench/results-text-search.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

from contentfab.db.migrate import upgrade
from contentfab.db.models import Asset, Campaign, ContentKind, Job, JobStatus, Product
from contentfab.db.review import AssetFilter, TextMatch, find_assets
from contentfab.db.session import configure

PG_ADMIN = os.environ.get(
    "CONTENTFAB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WORDS = [
    "trail",
    "thermos",
    "coffee",
    "hot",
    "summit",
    "weekender",
    "bag",
    "canvas",
    "travel",
    "mug",
    "camp",
    "enamel",
    "tent",
    "light",
    "tough",
    "waterproof",
    "jacket",
    "city",
    "ride",
    "run",
    "running",
    "runs",
    "early",
    "start",
    "long",
    "free",
    "returns",
    "order",
    "today",
    "ships",
    "tomorrow",
    "gift",
    "card",
    "everything",
    "new",
    "shop",
    "meet",
    "bottle",
    "steel",
    "insulated",
    "lamp",
]
QUERIES = ["running", "hot coffee", "waterproof jacket city", "gift"]


def fill(url: str, rows: int, seed: int = 7) -> int:
    upgrade(url)
    sessions = configure(url)
    rng = random.Random(seed)
    with sessions.begin() as session:
        campaign = Campaign(
            name="bench", source_path="-", content_sha256="0" * 64, spec={}, status="done"
        )
        product = Product(campaign=campaign, row=2, sku="B-1", title="Bench", attributes={})
        session.add_all([campaign, product])
        session.flush()
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            job_ids = session.scalars(
                insert(Job).returning(Job.id),
                [
                    {
                        "campaign_id": campaign.id,
                        "product_id": product.id,
                        "kind": ContentKind.COPY,
                        "channel": "social_post",
                        "variant": start + i,
                        "params": {},
                        "status": JobStatus.DONE,
                    }
                    for i in range(n)
                ],
            ).all()
            texts = [" ".join(rng.choices(WORDS, k=rng.randint(5, 25))) for _ in range(n)]
            session.execute(
                insert(Asset),
                [
                    {
                        "job_id": job_id,
                        "campaign_id": campaign.id,
                        "product_id": product.id,
                        "kind": ContentKind.COPY,
                        "channel": "social_post",
                        "variant": start + i,
                        "text": body,
                        "sha256": hashlib.sha256(body.encode()).hexdigest(),
                        "meta": {},
                    }
                    for i, (job_id, body) in enumerate(zip(job_ids, texts, strict=True))
                ],
            )
        campaign_id = campaign.id
    if url.startswith("postgresql"):
        with sessions.begin() as session:
            session.execute(text("ANALYZE asset"))
    sessions.kw["bind"].dispose()
    return campaign_id


def measure(url: str, campaign_id: int, repeat: int) -> dict[str, Any]:
    sessions = configure(url)
    results: dict[str, Any] = {}
    with sessions() as session:
        for q in QUERIES:
            where = AssetFilter(campaign_id=campaign_id, text=q)
            row: dict[str, Any] = {
                "matches": session.scalar(
                    select(func.count()).select_from(Asset).where(*where.conditions())
                )
            }
            for sort in ("relevance", "id"):
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = find_assets(session, where, sort=sort, limit=50)
                    times.append(1000 * (time.perf_counter() - started))
                    assert len(page.items) == min(50, row["matches"])
                row[f"first_page_{sort}_ms_median"] = round(statistics.median(times), 2)
            results[q] = row
        if url.startswith("postgresql"):
            plan = session.scalars(text("EXPLAIN " + _compiled(session, campaign_id))).all()
            results["plan_uses_gin_index"] = any("ix_asset_text_search" in line for line in plan)
    sessions.kw["bind"].dispose()
    return results


def _compiled(session: Any, campaign_id: int) -> str:
    statement = select(Asset.id).where(Asset.campaign_id == campaign_id, TextMatch("hot coffee"))
    return str(
        statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tmp", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    report: dict[str, Any] = {"rows": args.rows, "queries": QUERIES}

    args.tmp.mkdir(parents=True, exist_ok=True)
    sqlite_path = args.tmp / f"text-search-{uuid.uuid4().hex[:8]}.db"
    sqlite_url = f"sqlite:///{sqlite_path}"
    try:
        started = time.perf_counter()
        campaign_id = fill(sqlite_url, args.rows)
        report["sqlite"] = {"fill_s": round(time.perf_counter() - started, 1)}
        report["sqlite"] |= measure(sqlite_url, campaign_id, args.repeat)
    finally:
        sqlite_path.unlink(missing_ok=True)

    name = f"contentfab_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        started = time.perf_counter()
        campaign_id = fill(pg_url, args.rows)
        report["postgresql"] = {"fill_s": round(time.perf_counter() - started, 1)}
        report["postgresql"] |= measure(pg_url, campaign_id, args.repeat)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report["load_average"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
