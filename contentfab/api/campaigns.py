"""Routes under /api/campaigns: list, progress, live events, export of approved assets."""

from __future__ import annotations

import io
import tempfile
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from contentfab.api.deps import AppSettings, Reader
from contentfab.api.feed import _campaign_feed, _feed_start
from contentfab.api.schemas import ERRORS, MAX_ASSET_ID, CampaignId, CampaignOut, ExportFormat, Text
from contentfab.api.views import _campaign, _campaign_out, _download
from contentfab.db import review
from contentfab.db.models import AssetStatus
from contentfab.services import delivery

router = APIRouter()


@router.get("/api/campaigns", response_model=list[CampaignOut], tags=["campaigns"])
def list_campaigns(
    session: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CampaignOut]:
    """Campaigns, newest first, with job and review counts."""
    return [_campaign_out(session, c) for c in review.campaigns(session, limit)]


@router.get(
    "/api/campaigns/{campaign_id}",
    response_model=CampaignOut,
    responses=ERRORS,
    tags=["campaigns"],
)
def get_campaign(session: Reader, campaign_id: CampaignId) -> CampaignOut:
    """One campaign's progress and review counts (the gallery polls this while it runs)."""
    return _campaign_out(session, _campaign(session, campaign_id))


@router.get(
    "/api/campaigns/{campaign_id}/events",
    response_class=StreamingResponse,
    responses={
        **ERRORS,
        200: {
            "description": "Server-sent events: `progress` (a Progress object) whenever "
            "the counts change, `asset` (an Asset) for each new asset, `done` (the last "
            "Progress) when the campaign has finished, then the stream ends.",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "event": {"enum": ["progress", "asset", "done"]},
                            "data": {"type": "string", "description": "JSON"},
                            "id": {"type": "string", "description": "asset id"},
                        },
                        "required": ["event", "data"],
                    }
                }
            },
        },
    },
    tags=["campaigns"],
)
async def campaign_events(
    request: Request,
    campaign_id: CampaignId,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_ASSET_ID,
            description="Send assets with a larger id (default: only assets made after "
            "connecting). A reconnecting EventSource's Last-Event-ID takes precedence.",
        ),
    ] = None,
) -> StreamingResponse:
    """A running campaign's live progress and new assets, as server-sent events."""
    last_event = request.headers.get("last-event-id", "").strip()
    if last_event.isascii() and last_event.isdigit():  # else: not one of our ids, ignored
        after = min(int(last_event[:20]), MAX_ASSET_ID)
    sessions = request.app.state.sessions
    start = await run_in_threadpool(_feed_start, sessions, campaign_id, after)
    return StreamingResponse(
        _campaign_feed(request, sessions, campaign_id, start, request.app.state.event_interval),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/api/campaigns/{campaign_id}/export",
    responses={
        **ERRORS,
        200: {
            "description": "The approved assets",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
    response_class=StreamingResponse,
    tags=["export"],
)
def export(
    session: Reader,
    settings: AppSettings,
    campaign_id: CampaignId,
    format: ExportFormat = ExportFormat.CSV,
    final_url: Annotated[
        Text | None,
        Query(max_length=2000, description="For google-ads-rsa; {sku} is replaced."),
    ] = None,
) -> StreamingResponse:
    """Approved assets as CSV, JSON lines, a zip of images + manifest, or Google Ads
    Editor responsive-search-ad rows (3–15 headlines, 2–4 descriptions per product)."""
    campaign = _campaign(session, campaign_id)
    where = review.AssetFilter(campaign_id=campaign_id, status=AssetStatus.APPROVED)
    assets = list(review.iter_assets(session, where))
    stem = f"campaign-{campaign_id}-approved"
    headers: dict[str, str] = {}
    if format == ExportFormat.ZIP:
        spool = tempfile.SpooledTemporaryFile(max_size=32 * 2**20)  # noqa: SIM115 - closed by the response
        missing = delivery.write_zip(assets, spool, settings.asset_dir)
        if missing:
            headers["X-Missing-Files"] = ",".join(map(str, missing))
        spool.seek(0)
        return _download(spool, "application/zip", f"{stem}.zip", headers)
    text = io.StringIO()
    if format == ExportFormat.JSONL:
        delivery.write_jsonl(assets, text)
        media, name = "application/x-ndjson", f"{stem}.jsonl"
    elif format == ExportFormat.GOOGLE_ADS_RSA:
        skipped = delivery.write_google_ads_rsa(
            assets, text, campaign_name=campaign.name, final_url=final_url
        )
        if skipped:
            # Percent-encoded UTF-8: a header holds Latin-1 only, a SKU may hold anything.
            encoded = ",".join(quote(sku, safe="") for sku in skipped)
            headers["X-Skipped-Products"] = encoded[:4000]
        media, name = "text/csv", f"{stem}-google-ads-rsa.csv"
    else:
        delivery.write_csv(assets, text)
        media, name = "text/csv", f"{stem}.csv"
    return _download(io.BytesIO(text.getvalue().encode()), media, name, headers)
