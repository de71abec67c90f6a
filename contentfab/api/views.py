"""Database rows as wire models, shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from contentfab.api.schemas import (
    AssetDetail,
    AssetOut,
    CampaignOut,
    JobOut,
    ModelRef,
    ProductOut,
    ReviewOut,
)
from contentfab.core.errors import NotFoundError
from contentfab.db import review
from contentfab.db.models import Asset, AssetReview, Campaign
from contentfab.db.queries import campaign_summary

# --------------------------------------------------------------------------- helpers


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"there is no campaign {campaign_id}")
    return campaign


def _campaign_out(session: Session, campaign: Campaign) -> CampaignOut:
    summary = campaign_summary(session, campaign)
    done, failed = summary.count_status("done"), summary.count_status("failed")
    return CampaignOut(
        id=summary.id,
        name=summary.name,
        status=summary.status,
        created_at=summary.created_at,
        started_at=summary.started_at,
        finished_at=summary.finished_at,
        jobs=summary.jobs,
        assets=review.review_counts(session, campaign.id),
        total_jobs=summary.total_jobs,
        finished_jobs=done + failed,
        failed_jobs=failed,
        failures=[{"reason": r, "count": n} for r, n in summary.failures],
    )


def _asset_out(asset: Asset) -> AssetOut:
    return AssetOut(**_asset_fields(asset))


def _asset_fields(asset: Asset) -> dict[str, Any]:
    meta = asset.meta or {}
    model = meta.get("model") or meta.get("generator") or {}
    product = asset.product
    return {
        "id": asset.id,
        "campaign_id": asset.campaign_id,
        "product": None
        if product is None
        else ProductOut(
            id=product.id,
            sku=product.sku,
            title=product.title,
            category=product.category,
            price=None if product.price is None else format(product.price.normalize(), "f"),
            currency=product.currency,
        ),
        "subject": asset.subject,
        "kind": asset.kind,
        "channel": asset.channel,
        "variant": asset.variant,
        "status": asset.status,
        "text": asset.text,
        "original_text": asset.original_text,
        "file_url": f"/api/assets/{asset.id}/file" if asset.uri else None,
        "sha256": asset.sha256,
        "model": ModelRef(
            name=model.get("name"), version=model.get("version"), sha256=model.get("sha256")
        ),
        "device": meta.get("device"),
        "created_at": asset.created_at,
        "reviewed_by": asset.reviewed_by,
        "reviewed_at": asset.reviewed_at,
        "reject_reason": asset.reject_reason,
        "edited_by": asset.edited_by,
        "edited_at": asset.edited_at,
    }


def _asset_detail(asset: Asset, reviews: list[AssetReview]) -> AssetDetail:
    job = asset.job
    return AssetDetail(
        **_asset_fields(asset),
        meta=asset.meta or {},
        job=JobOut(
            id=job.id,
            params=job.params or {},
            attempts=job.attempts,
            worker=job.worker,
            started_at=job.started_at,
            finished_at=job.finished_at,
        ),
        reviews=[ReviewOut.model_validate(r) for r in reviews],
    )


def _page_params(params: Any, page: int) -> str:
    return urlencode({**{k: v for k, v in params.items() if v}, "page": page})


def _image_type(path: Path) -> str:
    return {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".webp": "image/webp",
    }.get(path.suffix.lower(), "application/octet-stream")


def _download(
    body: Any, media_type: str, filename: str, headers: dict[str, str]
) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        try:
            while block := body.read(65536):
                yield block
        finally:
            body.close()

    return StreamingResponse(
        chunks(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **headers},
    )
