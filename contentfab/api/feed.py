"""The live feed of a running campaign: progress and new assets as server-sent events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from contentfab.api.schemas import FEED_BATCH, HEARTBEAT_SECONDS, AssetOut, Progress
from contentfab.api.views import _asset_out, _campaign
from contentfab.db import review
from contentfab.db.queries import campaign_summary

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
