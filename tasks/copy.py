"""The copy task: a chunk of job IDs in, copy assets out."""

from __future__ import annotations

import hashlib
from typing import Any

from celery import Task, shared_task
from celery.utils.log import get_task_logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from contentfab.campaign.spec import CampaignSpec, custom_channel
from contentfab.core.errors import ModelError
from contentfab.db import jobs
from contentfab.db.models import Asset, ContentKind, Job
from contentfab.tasks.app import COPY_TASK
from contentfab.tasks.chunks import (
    CHUNK_TASK_OPTIONS,
    claimed_chunk,
    failure,
    run_work,
    store_outcomes,
)
from contentfab.tasks.params import CopyParams, params_of
from contentfab.workers.copy.records import brand_rules, product_facts
from contentfab.workers.copy.slots import CopySlot
from contentfab.workers.copy.writer import write_copy
from contentfab.workers.textgen import SamplingParams

logger = get_task_logger(__name__)


def _delivered(session: Session, jobs_: list[Job]) -> dict[tuple[int | None, str], tuple[str, ...]]:
    """Copy already delivered (by earlier chunks) for each product and channel of these jobs."""
    if not jobs_:
        return {}
    rows = session.execute(
        select(Asset.product_id, Asset.channel, Asset.text).where(
            Asset.campaign_id == jobs_[0].campaign_id,
            Asset.kind == ContentKind.COPY,
            Asset.product_id.in_({j.product_id for j in jobs_}),
            Asset.channel.in_({j.channel for j in jobs_}),
            Asset.text.is_not(None),
        )
    )
    found: dict[tuple[int | None, str], tuple[str, ...]] = {}
    for product_id, channel, text in rows:
        key = (product_id, channel)
        found[key] = (*found.get(key, ()), str(text))
    return found


def _slot(
    job: Job,
    campaign: CampaignSpec | None,
    delivered: dict[tuple[int | None, str], tuple[str, ...]] | None = None,
    params: CopyParams | None = None,
) -> Any:
    product = job.product
    if product is None:  # only recommendation jobs have no product
        raise ValueError(f"copy job {job.id} has no product")
    if params is None:
        params = params_of(CopyParams, [job])[job.id]
    brand = campaign.brand if campaign is not None else None
    return CopySlot(
        key=job.id,
        product=product_facts(product, brand),
        channel=job.channel,
        tone=params.tone,
        sampling=SamplingParams(
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repetition_penalty,
            max_new_tokens=params.max_new_tokens,
            seed=params.seed,
        ),
        candidates=params.candidates,
        brand=brand_rules(brand),
        channel_spec=custom_channel(campaign, job.channel),
        delivered=(delivered or {}).get((product.id, job.channel), ()),
    )


@shared_task(name=COPY_TASK, **CHUNK_TASK_OPTIONS)
def generate_copy(self: Task, campaign_id: int, job_ids: list[int]) -> dict[str, int]:
    with claimed_chunk(self, campaign_id, job_ids) as chunk:
        settings, res, claim = chunk.settings, chunk.resources, chunk.claim
        params = params_of(CopyParams, claim.ready)
        delivered = _delivered(chunk.session, claim.ready)
        slots = [_slot(job, chunk.campaign, delivered, params[job.id]) for job in claim.ready]
        bundles = {job.id: params[job.id].bundle for job in claim.ready}
        models = {job.id: params[job.id].model or settings.copy_model for job in claim.ready}
    outcomes = run_work(chunk, [s.key for s in slots], lambda: _write(res, slots, models), failure)

    def complete(session: Session, job: Job, text: str, meta: dict[str, Any]) -> None:
        if bundles.get(job.id) is not None:
            meta["bundle"] = bundles[job.id]
        digest = hashlib.sha256(text.encode()).hexdigest()
        jobs.complete_job(session, job, text=text, uri=None, sha256=digest, meta=meta)

    done, failed = store_outcomes(self, chunk, campaign_id, outcomes, complete)
    return {"done": done, "failed": failed + len(claim.given_up), "skipped": claim.already_finished}


def _write(
    res: Any, slots: list[Any], models: dict[int, str]
) -> dict[int, tuple[str | None, str | None, dict[str, Any]]]:
    outcomes: dict[int, tuple[str | None, str | None, dict[str, Any]]] = {}
    embedder = res.copy_embedder()
    for model_name in sorted(set(models.values())):
        group = [s for s in slots if models[s.key] == model_name]
        try:
            generator = res.text_generator(model_name)
        except ModelError as exc:
            outcomes.update({s.key: (None, str(exc), {}) for s in group})
            continue
        for outcome in write_copy(generator, group, embedder=embedder):
            outcomes[outcome.key] = (outcome.text, outcome.error, outcome.meta)
    return outcomes
