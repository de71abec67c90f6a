"""The review HTTP API and the web gallery, one FastAPI app built by :func:`create_api`.

Reads are open; review actions (approve, reject, edit, bulk approve) need the ``X-API-Key``
header to equal ``settings.api_key`` and are refused outright when no key is configured or
``settings.read_only`` is set. Queries and review rules live in :mod:`db.review`; this module
only translates HTTP to those calls and back.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from contentfab.api.guard import RequestGuard
from contentfab.core.errors import DoesNotFitError, GatesFailedError, InputError, NotFoundError
from contentfab.core.settings import Settings
from contentfab.services import delivery, edits
from db import review
from db.models import Asset, AssetReview, AssetStatus, Campaign, ContentKind
from db.queries import campaign_summary

WEB = Path(__file__).parents[1] / "web"
EVENT_INTERVAL = 1.0
"""Seconds between two looks at the database for a campaign's live feed."""
HEARTBEAT_SECONDS = 15.0
FEED_BATCH = 200
MAX_ASSET_ID = 2**63 - 1
MAX_CAMPAIGN_ID = 2**31 - 1


def _printable(value: str) -> str:
    # PostgreSQL cannot store NUL; refuse it at the edge as bad input, not as a server error.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _aware(moment: datetime) -> datetime:
    # SQLite hands stored UTC times back without a zone; say which zone they are in.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Text = Annotated[str, AfterValidator(_printable)]
Time = Annotated[datetime, AfterValidator(_aware)]
Reviewer = Annotated[
    Text, Field(min_length=1, max_length=200, description="Who is reviewing (recorded).")
]
AssetId = Annotated[int, PathParam(ge=1, le=MAX_ASSET_ID)]
CampaignId = Annotated[int, PathParam(ge=1, le=MAX_CAMPAIGN_ID)]


# --------------------------------------------------------------------------- wire models


class ModelRef(BaseModel):
    name: str | None = None
    version: str | None = None
    sha256: str | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    title: str
    category: str | None
    price: str | None
    currency: str | None


class AssetOut(BaseModel):
    id: int
    campaign_id: int
    product: ProductOut | None
    subject: str | None
    kind: ContentKind
    channel: str
    variant: int
    status: AssetStatus
    text: str | None
    original_text: str | None
    file_url: str | None = Field(description="Where to download the image, if it has one.")
    sha256: str
    model: ModelRef
    device: str | None
    created_at: Time
    reviewed_by: str | None
    reviewed_at: Time | None
    reject_reason: str | None
    edited_by: str | None
    edited_at: Time | None


class JobOut(BaseModel):
    id: int
    params: dict[str, Any]
    attempts: int
    worker: str | None
    started_at: Time | None
    finished_at: Time | None


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    actor: str
    at: Time
    reason: str | None
    text_before: str | None
    text_after: str | None
    overridden_gates: list[str] | None = Field(
        None, description="A forced edit's failing gates, published anyway (reason says why)."
    )


class AssetDetail(AssetOut):
    meta: dict[str, Any] = Field(description="Full provenance: model, prompt, sampling, worker…")
    job: JobOut
    reviews: list[ReviewOut]


class AssetPageOut(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class CampaignOut(BaseModel):
    id: int
    name: str
    status: str
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    jobs: dict[str, dict[str, int]] = Field(description="kind → job status → count")
    assets: dict[str, dict[str, int]] = Field(description="kind → review status → count")
    total_jobs: int
    finished_jobs: int
    failed_jobs: int
    failures: list[dict[str, Any]]


class Progress(BaseModel):
    """One ``progress`` event of a campaign's live feed."""

    status: str
    finished: bool
    total_jobs: int
    done_jobs: int
    failed_jobs: int
    running_jobs: int
    queued_jobs: int
    assets: dict[str, dict[str, int]] = Field(description="kind → review status → count")


class FitOut(BaseModel):
    """How a text measures on its channel, counted the way that channel counts."""

    channel: str
    label: str
    length: int
    limit: int
    words: int
    encoding: str | None = Field(description="SMS only: gsm7 or ucs2.")
    fits: bool
    problem: str | None = Field(description="Why it cannot be published there.")


class Approval(BaseModel):
    reviewer: Reviewer


class Rejection(BaseModel):
    reviewer: Reviewer
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class Edit(BaseModel):
    reviewer: Reviewer
    text: Annotated[Text, Field(min_length=1, max_length=5000)]
    force: bool = Field(
        False,
        description="Publish even though gates fail (never over the channel's limits); "
        "needs a reason. The review history records the overridden gates, who and why.",
    )
    reason: Annotated[Text, Field(max_length=2000)] | None = Field(
        None, description="Why a forced edit may break its gates."
    )


class GateFailure(BaseModel):
    gate: str = Field(description="The gate's name (workers.copywriter.GATES).")
    why: str


def _gate_failures(failures: Sequence[str]) -> list[GateFailure]:
    out = []
    for reason in failures:
        gate, _, why = reason.partition(":")
        out.append(GateFailure(gate=gate, why=why.strip() or gate))
    return out


class GatesOut(BaseModel):
    """What the copy gates say about a text as an asset's new text."""

    checked: list[str]
    passed: bool
    failures: list[GateFailure]
    problem: str | None = Field(
        default=None,
        description="Why no edit, forced or not, can publish it: the channel's limits.",
    )


class BulkApproval(BaseModel):
    reviewer: Reviewer
    campaign_id: Annotated[int, Field(ge=1, le=MAX_CAMPAIGN_ID)]
    kind: ContentKind | None = None
    channel: Annotated[Text, Field(max_length=60)] | None = None
    product: Annotated[Text, Field(max_length=100)] | None = None
    model: Annotated[Text, Field(max_length=200)] | None = None
    q: Annotated[Text, Field(max_length=200)] | None = None


class BulkResult(BaseModel):
    approved: int


class Problem(BaseModel):
    detail: str


class Unprocessable(BaseModel):
    detail: str | list[dict[str, Any]]
    gates: list[GateFailure] | None = Field(
        None, description="An edit refused by the copy gates: each failing gate and why."
    )


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    ZIP = "zip"
    GOOGLE_ADS_RSA = "google-ads-rsa"


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Bad input"},
    404: {"model": Problem, "description": "Not found"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": Problem, "description": "Missing or wrong API key"},
    403: {"model": Problem, "description": "Read-only, or no API key configured"},
}


# --------------------------------------------------------------------------- dependencies

KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)


def _reader(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def _writer(
    request: Request, key: Annotated[str | None, Security(KEY_HEADER)]
) -> Iterator[Session]:
    settings: Settings = request.app.state.settings
    if settings.read_only:
        raise HTTPException(403, "this server is read-only")
    if not settings.api_key:
        raise HTTPException(403, "review actions need CONTENTFAB_API_KEY on the server")
    if key is None or not hmac.compare_digest(key.encode(), settings.api_key.encode()):
        raise HTTPException(401, "missing or wrong X-API-Key")
    with request.app.state.sessions() as session, session.begin():
        yield session


# scope="function": a review commits before its response is sent, so a client that sees 200 can
# rely on the change being stored.
Reader = Annotated[Session, Depends(_reader, scope="function")]
Writer = Annotated[Session, Depends(_writer, scope="function")]


# --------------------------------------------------------------------------- the app


def create_api(
    settings: Settings, sessions: sessionmaker[Session] | None = None, hosts: Sequence[str] = ()
) -> FastAPI:
    """The API under /api, the gallery under /, static files under /static; ``hosts`` are
    names the server answers to besides localhost and ``settings.allowed_hosts``
    (:mod:`contentfab.api.guard`). The OpenAPI spec is at /openapi.json; there is no /docs
    page, whose scripts would come from a CDN."""
    if sessions is None:
        from db.session import configure

        sessions = configure(settings.database_url)
    factory = sessions
    app = FastAPI(
        title="contentfab review API",
        version="1",
        description="Query generated assets, review them, export the approved ones.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(RequestGuard, settings=settings, hosts=[*settings.allowed_hosts, *hosts])
    templates = Jinja2Templates(directory=WEB / "templates")
    templates.env.filters["pageparams"] = _page_params
    app.state.settings = settings
    app.state.sessions = factory
    app.state.event_interval = EVENT_INTERVAL
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(DoesNotFitError)
    def _does_not_fit(_: Request, exc: DoesNotFitError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(GatesFailedError)
    def _gates_failed(_: Request, exc: GatesFailedError) -> JSONResponse:
        gates = [g.model_dump() for g in _gate_failures(exc.failures)]
        return JSONResponse({"detail": str(exc), "gates": gates}, status_code=422)

    @app.exception_handler(InputError)
    def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # ----------------------------------------------------------------------- campaigns

    @app.get("/api/campaigns", response_model=list[CampaignOut], tags=["campaigns"])
    def list_campaigns(
        session: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> list[CampaignOut]:
        """Campaigns, newest first, with job and review counts."""
        return [_campaign_out(session, c) for c in review.campaigns(session, limit)]

    @app.get(
        "/api/campaigns/{campaign_id}",
        response_model=CampaignOut,
        responses=ERRORS,
        tags=["campaigns"],
    )
    def get_campaign(session: Reader, campaign_id: CampaignId) -> CampaignOut:
        """One campaign's progress and review counts (the gallery polls this while it runs)."""
        return _campaign_out(session, _campaign(session, campaign_id))

    @app.get(
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
        start = await run_in_threadpool(_feed_start, factory, campaign_id, after)
        return StreamingResponse(
            _campaign_feed(request, factory, campaign_id, start, app.state.event_interval),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get(
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

    # ----------------------------------------------------------------------- assets

    @app.get("/api/assets", response_model=AssetPageOut, responses=ERRORS, tags=["assets"])
    def list_assets(
        session: Reader,
        campaign_id: Annotated[int | None, Query(ge=1, le=MAX_CAMPAIGN_ID)] = None,
        kind: ContentKind | None = None,
        channel: Annotated[
            Text | None, Query(max_length=60, description="Channel or format.")
        ] = None,
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

    @app.get(
        "/api/assets/{asset_id}", response_model=AssetDetail, responses=ERRORS, tags=["assets"]
    )
    def get_asset(session: Reader, asset_id: AssetId) -> AssetDetail:
        """One asset with its provenance, its job and its review history."""
        asset = review.get_asset(session, asset_id)
        return _asset_detail(asset, review.asset_reviews(session, asset_id))

    @app.get(
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
    def asset_file(session: Reader, asset_id: AssetId) -> FileResponse:
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

    @app.post(
        "/api/assets/{asset_id}/approve",
        response_model=AssetOut,
        responses=WRITE_ERRORS,
        tags=["review"],
    )
    def approve(session: Writer, asset_id: AssetId, body: Approval) -> AssetOut:
        return _asset_out(review.approve(session, asset_id, actor=body.reviewer))

    @app.post(
        "/api/assets/{asset_id}/reject",
        response_model=AssetOut,
        responses=WRITE_ERRORS,
        tags=["review"],
    )
    def reject(session: Writer, asset_id: AssetId, body: Rejection) -> AssetOut:
        return _asset_out(review.reject(session, asset_id, actor=body.reviewer, reason=body.reason))

    @app.get(
        "/api/channels/{channel}/fit",
        response_model=FitOut,
        responses=ERRORS,
        tags=["review"],
    )
    def channel_fit(
        channel: Annotated[Text, PathParam(max_length=60)],
        text: Annotated[Text, Query(max_length=5000)] = "",
    ) -> FitOut:
        """Measure a text as a channel counts it (the gallery's editor shows this live)."""
        fit = edits.check_fit(channel, text)
        if fit is None:
            raise NotFoundError(f"there is no channel preset {channel!r}")
        return FitOut(**vars(fit), fits=fit.problem is None)

    @app.put(
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

    @app.get(
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

    @app.post(
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

    # ----------------------------------------------------------------------- gallery

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, session: Reader) -> HTMLResponse:
        rows = [_campaign_out(session, c) for c in review.campaigns(session)]
        return templates.TemplateResponse(
            request, "campaigns.html", {"campaigns": rows, "read_only": settings.read_only}
        )

    @app.get("/campaigns/{campaign_id}", response_class=HTMLResponse, include_in_schema=False)
    def campaign_page(
        request: Request,
        session: Reader,
        campaign_id: CampaignId,
        kind: ContentKind | None = None,
        channel: Annotated[Text | None, Query(max_length=60)] = None,
        status: AssetStatus | None = None,
        q: Annotated[Text | None, Query(max_length=200)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> HTMLResponse:
        where = review.AssetFilter(
            kind=kind, channel=channel or None, status=status, text=q or None
        )
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
        return templates.TemplateResponse(
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

    return app


# --------------------------------------------------------------------------- live feed


def _feed_start(sessions: sessionmaker[Session], campaign_id: int, after: int | None) -> int:
    with sessions() as session:
        _campaign(session, campaign_id)
        return review.last_asset_id(session, campaign_id) if after is None else after


def _feed_snapshot(
    sessions: sessionmaker[Session], campaign_id: int, after: int
) -> tuple[Progress, list[AssetOut]]:
    # A fresh session each time: each look sees what the workers committed since.
    with sessions() as session:
        campaign = _campaign(session, campaign_id)
        summary = campaign_summary(session, campaign)
        progress = Progress(
            status=summary.status,
            finished=summary.finished,
            total_jobs=summary.total_jobs,
            done_jobs=summary.count_status("done"),
            failed_jobs=summary.count_status("failed"),
            running_jobs=summary.count_status("running"),
            queued_jobs=summary.count_status("queued"),
            assets=review.review_counts(session, campaign_id),
        )
        assets = review.assets_after(session, campaign_id, after, FEED_BATCH)
        return progress, [_asset_out(a) for a in assets]


def _event(name: str, data: str, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


async def _campaign_feed(
    request: Request,
    sessions: sessionmaker[Session],
    campaign_id: int,
    after: int,
    interval: float,
) -> AsyncIterator[str]:
    sent: Progress | None = None
    quiet_since = time.monotonic()
    # Tell EventSource how soon to reconnect if the connection drops.
    yield f"retry: {int(interval * 2000)}\n\n"
    while not await request.is_disconnected():
        progress, assets = await run_in_threadpool(_feed_snapshot, sessions, campaign_id, after)
        for asset in assets:
            yield _event("asset", asset.model_dump_json(), asset.id)
            after = asset.id
        if progress != sent:
            yield _event("progress", progress.model_dump_json())
            sent, quiet_since = progress, time.monotonic()
        if len(assets) == FEED_BATCH:
            continue  # more waiting: send them before sleeping
        if progress.finished:
            yield _event("done", progress.model_dump_json())
            return
        if time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            yield ": still running\n\n"  # keeps proxies from closing an idle stream
            quiet_since = time.monotonic()
        await asyncio.sleep(interval)


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
