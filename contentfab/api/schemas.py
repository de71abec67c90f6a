"""The API's wire models and path/query types: what a client sends and gets back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contentfab.db.models import AssetStatus, ContentKind

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
    gate: str = Field(description="The gate's name (workers.copy.slots.GATES).")
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
