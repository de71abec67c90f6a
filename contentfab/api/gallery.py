"""The web gallery's HTML pages (server-rendered; no scripts from a CDN)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from contentfab.api.deps import AppSettings, Reader
from contentfab.api.schemas import CampaignId, Text
from contentfab.api.views import _campaign_out
from contentfab.db import review
from contentfab.db.models import AssetStatus, ContentKind

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, session: Reader, settings: AppSettings) -> HTMLResponse:
    rows = [_campaign_out(session, c) for c in review.campaigns(session)]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "campaigns.html", {"campaigns": rows, "read_only": settings.read_only}
    )


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse, include_in_schema=False)
def campaign_page(
    request: Request,
    session: Reader,
    settings: AppSettings,
    campaign_id: CampaignId,
    kind: ContentKind | None = None,
    channel: Annotated[Text | None, Query(max_length=60)] = None,
    status: AssetStatus | None = None,
    q: Annotated[Text | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    where = review.AssetFilter(kind=kind, channel=channel or None, status=status, text=q or None)
    view = review.gallery_page(session, campaign_id, where, page=page)
    summary = _campaign_out(session, view.campaign)
    channels = sorted(
        {
            a.channel
            for card in view.cards
            for group in (card.copy, card.images)
            for a in (x for v in group.values() for x in v)
        }
        | ({channel} if channel else set())
    )
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "campaign.html",
        {
            "view": view,
            "summary": summary,
            "filters": {"kind": kind, "channel": channel, "status": status, "q": q},
            "kinds": list(ContentKind),
            "statuses": list(AssetStatus),
            "channels": channels,
            "last_asset": review.last_asset_id(session, campaign_id),
            "read_only": settings.read_only,
        },
    )
