"""A reviewed-looking campaign written straight to SQL (no model needed): products, copy per
channel, creatives as real image files in the asset directory, and recommendation lists."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PIL import Image

from contentfab.db.models import (
    Asset,
    Campaign,
    CampaignStatus,
    ContentKind,
    Job,
    JobStatus,
    Product,
)
from contentfab.db.session import transaction
from contentfab.workers.images.packshots import packshot

COPY_MODEL = {"name": "smollm2-135m-instruct", "version": "0.1.2", "sha256": "a" * 64}
REC_MODEL = {"name": "minilm-l6-v2", "version": "0.1.0", "sha256": "b" * 64}
IMAGE_MODEL = {"name": "cppn-backgrounds", "version": "1", "sha256": "c" * 64}

PRODUCTS = [
    ("TH-750", "Trail Thermos 750 ml", "Thermos", "Outdoor", Decimal("49.90"), "USD"),
    ("WK-01", "Canvas Weekender Bag", "Weekender", "Travel", Decimal("129"), "EUR"),
    ("MUG-2", "Enamel Camp Mug", "Camp Mug", "Outdoor", Decimal("14.50"), "USD"),
]
FORMULA = '=HYPERLINK("http://evil")'  # a spreadsheet must never run this


def copy_for(title: str, short: str, first: bool) -> dict[str, list[str]]:
    return {
        "search_headline": [
            f"{short} for Every Trip"[:30],
            f"Shop the {short}"[:30],
            FORMULA if first else f"New: {short}"[:30],
        ],
        "search_description": [
            f"The {title} is built for early starts and long trails. Free returns in 30 days.",
            f"Tough, light and made to last: the {title}. Order today, ships tomorrow.",
        ],
        "email_subject": [f"Your new {title} is here", f"Meet the {title}"],
    }


FORMATS = {"square": (360, 360), "story": (270, 480)}


@dataclass
class Seeded:
    campaign_id: int
    copy_ids: list[int]
    image_ids: list[int]
    rec_ids: list[int]


@functools.cache
def png(seed: int, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(packshot(seed, size=size).rgb).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_image(asset_dir: Path, seed: int, size: tuple[int, int]) -> tuple[str, str]:
    data = png(seed, size)
    digest = hashlib.sha256(data).hexdigest()
    target = asset_dir / "images" / digest[:2] / digest[2:4] / f"{digest}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target.as_uri(), digest


def seed_campaign(
    sessions, asset_dir: Path, *, name: str = "Spring launch 2026", finished: bool = True
) -> Seeded:
    now = datetime.now(UTC)
    copy_ids: list[int] = []
    image_ids: list[int] = []
    rec_ids: list[int] = []
    with transaction(sessions) as session:
        campaign = Campaign(
            name=name,
            source_path="campaign.yaml",
            content_sha256="0" * 64,
            spec={},
            status=CampaignStatus.DONE if finished else CampaignStatus.RUNNING,
            started_at=now - timedelta(minutes=3),
            finished_at=now if finished else None,
        )
        session.add(campaign)
        session.flush()
        assets: list[tuple[list[int], Asset]] = []

        def add(kind, channel, variant, product=None, subject=None, **fields):
            job = Job(
                campaign=campaign,
                product=product,
                subject=subject,
                kind=kind,
                channel=channel,
                variant=variant,
                params={"tone": "energetic"},
                status=JobStatus.DONE,
                attempts=1,
                worker="worker@test",
                started_at=now - timedelta(minutes=2),
                finished_at=now,
            )
            session.add(job)
            asset = Asset(
                job=job,
                campaign_id=campaign.id,
                product=product,
                subject=subject,
                kind=kind,
                channel=channel,
                variant=variant,
                created_at=now - timedelta(seconds=len(assets)),
                **fields,
            )
            session.add(asset)
            return asset

        products = []
        for row, (sku, title, short, category, price, currency) in enumerate(PRODUCTS, start=2):
            product = Product(
                campaign=campaign,
                row=row,
                sku=sku,
                title=title,
                category=category,
                price=price,
                currency=currency,
                attributes={},
            )
            session.add(product)
            products.append(product)
            for channel, texts in copy_for(title, short, first=row == 2).items():
                for variant, text in enumerate(texts):
                    asset = add(
                        ContentKind.COPY,
                        channel,
                        variant,
                        product,
                        text=text,
                        sha256=hashlib.sha256(text.encode()).hexdigest(),
                        meta={
                            "model": COPY_MODEL,
                            "device": "CPUExecutionProvider",
                            "prompt": f"Write a {channel} for {title}",
                            "sampling": {"seed": 7 + variant, "temperature": 0.8},
                            "worker": "worker@test",
                            "task_id": "t-1",
                        },
                    )
                    assets.append((copy_ids, asset))
            for fmt, size in FORMATS.items():
                uri, digest = write_image(asset_dir, row * 10 + len(fmt), size)
                asset = add(
                    ContentKind.IMAGE,
                    fmt,
                    0,
                    product,
                    uri=uri,
                    sha256=digest,
                    meta={
                        "format": fmt,
                        "width": size[0],
                        "height": size[1],
                        "generator": IMAGE_MODEL,
                        "device": "CPUExecutionProvider",
                    },
                )
                assets.append((image_ids, asset))
        for channel, subject in [("segment", "outdoor lovers"), ("user", "u-1042")]:
            items = [
                {"sku": p.sku, "score": round(0.9 - i / 10, 3), "reason": "similar to purchases"}
                for i, p in enumerate(reversed(products))
            ]
            text = str([i["sku"] for i in items]).replace("'", '"')
            asset = add(
                ContentKind.RECOMMENDATION,
                channel,
                0,
                subject=subject,
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                meta={"items": items, "strategy": "history", "model": REC_MODEL, "device": "CPU"},
            )
            assets.append((rec_ids, asset))
        session.flush()
        for bucket, asset in assets:
            bucket.append(asset.id)
        campaign_id = campaign.id
    return Seeded(campaign_id, copy_ids, image_ids, rec_ids)
