"""Routes under /api/assets and /api/channels: query, approve, reject, edit, bulk approval."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from contentfab.api.deps import AppSettings, Reader, Writer
from contentfab.api.schemas import (
    ERRORS,
    MAX_CAMPAIGN_ID,
    WRITE_ERRORS,
    Approval,
    AssetDetail,
    AssetId,
    AssetOut,
    AssetPageOut,
    BulkApproval,
    BulkResult,
    Edit,
    FitOut,
    GatesOut,
    Rejection,
    Text,
    Unprocessable,
    _gate_failures,
)
from contentfab.api.views import _asset_detail, _asset_out, _campaign, _image_type
from contentfab.core.errors import DoesNotFitError, NotFoundError
from contentfab.db import review
from contentfab.db.models import AssetStatus, ContentKind
from contentfab.services import delivery, edits

router = APIRouter()


@router.get("/api/assets", response_model=AssetPageOut, responses=ERRORS, tags=["assets"])
def list_assets(
    session: Reader,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_CAMPAIGN_ID)] = None,
    kind: ContentKind | None = None,
    channel: Annotated[Text | None, Query(max_length=60, description="Channel or format.")] = None,
    product: Annotated[Text | None, Query(max_length=100, description="Product SKU.")] = None,
    status: AssetStatus | None = None,
    model: Annotated[Text | None, Query(max_length=200, description="Model name.")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    q: Annotated[
        Text | None,
        Query(
            max_length=200,
            description="Full-text search on the copy. PostgreSQL: web-search syntax "
            '(words, "phrases", -word, or) with English stemming. SQLite: every word must '
            "occur in the text (no stemming).",
        ),
    ] = None,
    sort: Annotated[
        Literal[
            "relevance",
            "id",
            "-id",
            "created_at",
            "-created_at",
            "channel",
            "-channel",
            "status",
            "-status",
            "kind",
            "-kind",
        ]
        | None,
        Query(description="Default: relevance when `q` is given, else id."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> AssetPageOut:
    """Find assets; every filter given must match. Page on with `next_cursor`."""
    where = review.AssetFilter(
        campaign_id=campaign_id,
        kind=kind,
        channel=channel,
        product_sku=product,
        status=status,
        model=model,
        created_from=created_from,
        created_to=created_to,
        text=q,
    )
    if sort is None:
        sort = "relevance" if q and q.split() else "id"
    page = review.find_assets(session, where, sort=sort, limit=limit, cursor=cursor)
    return AssetPageOut(items=[_asset_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/api/assets/{asset_id}", response_model=AssetDetail, responses=ERRORS, tags=["assets"])
def get_asset(session: Reader, asset_id: AssetId) -> AssetDetail:
    """One asset with its provenance, its job and its review history."""
    asset = review.get_asset(session, asset_id)
    return _asset_detail(asset, review.asset_reviews(session, asset_id))


@router.get(
    "/api/assets/{asset_id}/file",
    response_class=FileResponse,
    responses={
        **ERRORS,
        200: {
            "description": "The image",
            "content": {
                f"image/{t}": {"schema": {"type": "string", "format": "binary"}}
                for t in ("png", "jpeg", "webp")
            },
        },
    },
    tags=["assets"],
)
def asset_file(session: Reader, settings: AppSettings, asset_id: AssetId) -> FileResponse:
    """Download an image asset's file (content-addressed: cache it forever)."""
    asset = review.get_asset(session, asset_id)
    path = delivery.asset_file(asset.uri, settings.asset_dir)
    return FileResponse(
        path,
        media_type=_image_type(path),
        filename=Path(delivery.file_name(asset)).name,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.post(
    "/api/assets/{asset_id}/approve",
    response_model=AssetOut,
    responses=WRITE_ERRORS,
    tags=["review"],
)
def approve(session: Writer, asset_id: AssetId, body: Approval) -> AssetOut:
    return _asset_out(review.approve(session, asset_id, actor=body.reviewer))


@router.post(
    "/api/assets/{asset_id}/reject",
    response_model=AssetOut,
    responses=WRITE_ERRORS,
    tags=["review"],
)
def reject(session: Writer, asset_id: AssetId, body: Rejection) -> AssetOut:
    return _asset_out(review.reject(session, asset_id, actor=body.reviewer, reason=body.reason))


@router.get(
    "/api/channels/{channel}/fit",
    response_model=FitOut,
    responses=ERRORS,
    tags=["review"],
)
def channel_fit(
    session: Reader,
    channel: Annotated[Text, PathParam(max_length=60)],
    text: Annotated[Text, Query(max_length=5000)] = "",
    campaign: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_CAMPAIGN_ID,
            description="A campaign whose own channels (copy.custom_channels) count too.",
        ),
    ] = None,
) -> FitOut:
    """Measure a text as a channel counts it (the gallery's editor shows this live): a preset,
    or with ``campaign`` that campaign's own channel of this name."""
    spec = None if campaign is None else (_campaign(session, campaign).spec or {})
    fit = edits.check_fit(channel, text, spec)
    if fit is None:
        where = "" if campaign is None else f" or in campaign {campaign}"
        raise NotFoundError(f"there is no channel {channel!r} among the presets{where}")
    return FitOut(**vars(fit), fits=fit.problem is None)


@router.put(
    "/api/assets/{asset_id}/text",
    response_model=AssetOut,
    responses={
        **WRITE_ERRORS,
        422: {
            "model": Unprocessable,
            "description": "The text does not fit its channel, or fails the copy gates "
            "(detail says why; gates lists each failing gate), or the request is malformed "
            "(detail lists the validation errors)",
        },
    },
    tags=["review"],
)
def edit(session: Writer, asset_id: AssetId, body: Edit) -> AssetOut:
    """Replace a copy asset's text; the generated text is kept and the asset goes back to
    review. The text must fit its channel's limits and pass the gates generated copy
    passed (facts and claims against the product record, the brand kit, the product's
    name, repetition, near-duplicates of its other variants); ``force`` with a ``reason``
    publishes it over failing gates, and the review history records that."""
    return _asset_out(
        edits.edit_text(
            session,
            asset_id,
            actor=body.reviewer,
            text=body.text,
            force=body.force,
            reason=body.reason,
        )
    )


@router.get(
    "/api/assets/{asset_id}/gates",
    response_model=GatesOut,
    responses=ERRORS,
    tags=["review"],
)
def edit_gates(
    session: Reader,
    asset_id: AssetId,
    text: Annotated[Text, Query(min_length=1, max_length=5000)],
) -> GatesOut:
    """Run the copy gates on a text as this asset's new text, storing nothing (the
    gallery's editor shows this live, beside the channel's count)."""
    try:
        result = edits.check_edit(session, asset_id, text)
    except DoesNotFitError as exc:
        return GatesOut(checked=[], passed=False, failures=[], problem=str(exc))
    return GatesOut(
        checked=list(result.checked),
        passed=not result.failures,
        failures=_gate_failures(result.failures),
    )


@router.post(
    "/api/assets/approve",
    response_model=BulkResult,
    responses=WRITE_ERRORS,
    tags=["review"],
)
def bulk_approve(session: Writer, body: BulkApproval) -> BulkResult:
    """Approve every not-yet-reviewed asset of a campaign that matches the filter.
    Rejected assets stay rejected."""
    _campaign(session, body.campaign_id)
    where = review.AssetFilter(
        campaign_id=body.campaign_id,
        kind=body.kind,
        channel=body.channel,
        product_sku=body.product,
        model=body.model,
        text=body.q,
    )
    return BulkResult(approved=review.bulk_approve(session, where, actor=body.reviewer))
