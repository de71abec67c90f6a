"""The image task: a chunk of job IDs in, creatives on disk and asset rows out.

Jobs are one per product × format × variant (``channel`` is the format name). The files are
content-addressed — ``<asset root>/images/ab/cd/<sha256>.<ext>``, the root a folder or an
fsspec URL (``CONTENTFAB_ASSET_URL``), written atomically (:func:`write_content_addressed`),
so a redelivered job rewrites the same bytes to the same name — and only the URI travels in
SQL, never the bytes through the broker.

The image pipeline (``contentfab.workers.images``: Pillow, SciPy) and fsspec come with the
`images` extra and are imported only where a chunk is made or stored: `contentfab enqueue` and a
worker without the extra import this module, and there each job of an image chunk fails with the
pip command that installs it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from celery import Task, shared_task
from celery.utils.log import get_task_logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from contentfab.campaign.creatives import pipeline_reference, resolve_pipeline
from contentfab.campaign.spec import CampaignSpec
from contentfab.core.errors import MissingExtraError, ModelError
from contentfab.core.extras import extra_imports
from contentfab.core.formats import parse_format
from contentfab.core.model_store import ModelStore
from contentfab.core.money import plain_decimal
from contentfab.core.settings import is_local, local_path
from contentfab.db import jobs
from contentfab.db.bulk import ProductRow, insert_rows
from contentfab.db.models import Asset, AssetStatus, Campaign, ContentKind, Job, JobStatus, Product
from contentfab.db.session import database_errors, transaction
from contentfab.tasks.app import IMAGES_TASK, settings_of
from contentfab.tasks.chunks import (
    CHUNK_TASK_OPTIONS,
    claimed_chunk,
    failure,
    run_work,
    store_outcomes,
)
from contentfab.tasks.params import ImageParams, params_of
from contentfab.tasks.resources import resources

logger = get_task_logger(__name__)
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
#: An image job whose headline comes from its product's copy waits for that copy this long at
#: most (seconds, counted in countdowns), then is made with whatever copy exists by then.
COPY_WAIT_LIMIT = 6 * 3600
#: fsspec protocols whose writes become visible whole (no temporary name needed).
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"}
COPY_WAIT_MAX_COUNTDOWN = 60


def image_seed(sku: str, fmt: str, variant: int) -> int:
    digest = hashlib.sha256(f"image\x1f{sku}\x1f{fmt}\x1f{variant}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def store_image_jobs(
    session: Session, campaign: Campaign, products: Sequence[ProductRow], loaded: Any
) -> None:
    """One job per product × format × variant; paths resolved against the campaign file."""
    request = loaded.spec.images
    base = loaded.source_path.parent.resolve()

    def resolved(path: Path | None) -> str | None:
        return None if path is None else str((base / path).resolve())

    shared = ImageParams(
        background=request.background.mode,
        prompt=request.background.prompt,
        pipeline=pipeline_reference(request, base),
        steps=request.background.steps,
        style=request.background.style,
        palette=list(request.background.palette),
        background_image=resolved(request.background.image),
        matte_model=resolved(request.matte_model),
        logo=resolved(request.logo),
        headline_from_channel=request.headline_from_channel,
        price=request.price,
        output=request.output,
        generator=request.generator,
        seed=0,  # each job's own, below
    ).stored()
    del shared["seed"]
    insert_rows(
        session,
        Job,
        [
            {
                "campaign_id": campaign.id,
                "product_id": product.id,
                "subject": None,
                "kind": ContentKind.IMAGE,
                "channel": fmt,
                "variant": variant,
                "params": {**shared, "seed": image_seed(product.sku, fmt, variant)},
            }
            for product in products
            for fmt in request.formats
            for variant in range(request.variants)
        ],
    )


def write_content_addressed(root: str | Path, data: bytes, extension: str) -> tuple[str, str]:
    """Store ``data`` under its sha256 below ``root``; returns (uri, sha256).

    ``root`` is a folder, a file:// URL or any fsspec URL. Object stores (s3, gcs, azure,
    memory) make one PUT visible whole, so the object is written in one call; everywhere else
    the bytes go to a temporary name that is then renamed, so a reader never sees half a file.
    An existing file of that name already holds these bytes and is left alone.
    """
    digest = hashlib.sha256(data).hexdigest()
    relative = f"images/{digest[:2]}/{digest[2:4]}/{digest}.{extension}"
    if is_local(str(root)):
        return _write_local(local_path(str(root)) / relative, data), digest
    with extra_imports("images", needed_by="an asset root at a URL"):
        import fsspec

    fs, base = fsspec.core.url_to_fs(str(root))
    target = f"{base.rstrip('/')}/{relative}"
    if not fs.exists(target):
        protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
        if protocols & OBJECT_STORES:
            fs.pipe_file(target, data)
        else:
            temporary = f"{target.rsplit('/', 1)[0]}/.partial-{uuid.uuid4().hex}"
            fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            fs.pipe_file(temporary, data)
            fs.mv(temporary, target)
    return str(fs.unstrip_protocol(target)), digest


def _write_local(target: Path, data: bytes) -> str:
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o644)  # noqa: PTH101 - on the path mkstemp gave
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target.as_uri()


def _headline(session: Session, job: Job, channel: str | None) -> str | None:
    if channel is None:
        return None
    text = session.scalar(
        select(Asset.text)
        .where(
            Asset.campaign_id == job.campaign_id,
            Asset.product_id == job.product_id,
            Asset.kind == ContentKind.COPY,
            Asset.channel == channel,
            Asset.status != AssetStatus.REJECTED,
        )
        .order_by(Asset.variant)
        .limit(1)
    )
    return text


def _prompt(template: str | None, product: Product) -> str | None:
    if template is None:
        return None
    return template.replace("{title}", product.title).replace("{category}", product.category or "")


def _creative_job(
    job: Job,
    campaign: CampaignSpec | None,
    headline: str | None,
    settings: Any,
    params: ImageParams,
) -> Any:
    with extra_imports("images", needed_by="an image job"):
        # lazy: the `images` extra's Pillow and SciPy stay out of `contentfab enqueue` and of
        # workers without it, which import this module
        from contentfab.workers.images.background import parse_colour
        from contentfab.workers.images.compose import CreativeText, format_price
        from contentfab.workers.images.creative import CreativeJob

    product = job.product
    if product is None:  # image jobs are always made per product
        raise ValueError(f"image job {job.id} has no product")
    price = None
    if params.price and product.price is not None:
        price = format_price(plain_decimal(product.price), product.currency)
    brand = campaign.brand.name if campaign is not None and campaign.brand is not None else None
    return CreativeJob(
        key=job.id,
        fmt=parse_format(job.channel),
        text=CreativeText(product.title, headline, price, brand),
        palette=[parse_colour(c) for c in params.palette],
        seed=params.seed,
        background=params.background,
        style=params.style,
        prompt=_prompt(params.prompt, product),
        pipeline=(
            resolve_pipeline(params.pipeline, settings)
            if params.background == "text_to_image"
            else None
        ),
        steps=params.steps,
        photo=None if product.image_path is None else Path(product.image_path),
        background_image=_path(params.background_image),
        matte_model=_path(params.matte_model),
        logo=_path(params.logo),
        encoding=params.output,
    )


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def waiting_for_copy(session: Session, campaign_id: int, job_ids: list[int]) -> list[int]:
    """The image jobs among ``job_ids`` whose headline comes from copy still being written.

    An image job waits while its product has an unfinished copy job in the campaign's
    ``headline_from_channel``; copy that failed or finished lets it go (with or without one).
    """
    rows = session.execute(
        select(Job.id, Job.product_id, Job.params).where(
            Job.id.in_(job_ids), Job.status.not_in(JobStatus.terminal())
        )
    ).all()
    params = params_of(ImageParams, rows)
    images = [
        (job_id, product, params[job_id].headline_from_channel) for job_id, product, _ in rows
    ]
    channels = {channel for _, _, channel in images} - {None}
    if not channels:
        return []
    busy = set(
        session.scalars(
            select(Job.product_id)
            .where(
                Job.campaign_id == campaign_id,
                Job.kind == ContentKind.COPY,
                Job.channel.in_(channels),
                Job.status.not_in(JobStatus.terminal()),
                Job.product_id.in_({product for _, product, _ in images}),
            )
            .distinct()
        )
    )
    return [
        job_id for job_id, product, channel in images if product in busy and channel in channels
    ]


def copy_wait_countdown(waited: int) -> int:
    """Seconds until a deferred chunk looks again: 2 s at first, backing off to a minute."""
    return min(COPY_WAIT_MAX_COUNTDOWN, max(2, waited // 4))


@shared_task(name=IMAGES_TASK, **CHUNK_TASK_OPTIONS)
def generate_images(
    self: Task, campaign_id: int, job_ids: list[int], waited: int = 0
) -> dict[str, int]:
    settings = settings_of(self.app)
    if waited < COPY_WAIT_LIMIT:
        with database_errors(), transaction(resources(settings).sessions) as session:
            waiting = waiting_for_copy(session, campaign_id, job_ids)
        if waiting:
            # Nothing was written: the deferred jobs stay queued and travel in a new message
            # that looks again later (a bounded countdown, never a chord).
            countdown = copy_wait_countdown(waited)
            logger.info(
                "campaign %s: image jobs %s wait for their product's copy (%ss so far)",
                campaign_id,
                waiting,
                waited,
            )
            self.apply_async(
                args=[campaign_id, waiting],
                kwargs={"waited": waited + countdown},
                countdown=countdown,
                queue="images",
            )
            job_ids = [job_id for job_id in job_ids if job_id not in set(waiting)]
            self.request.chunk_jobs = job_ids  # an error now fails these, not the deferred
            if not job_ids:
                return {"done": 0, "failed": 0, "skipped": 0, "deferred": len(waiting)}
    with claimed_chunk(self, campaign_id, job_ids) as chunk:
        settings, claim, session = chunk.settings, chunk.claim, chunk.session
        params = params_of(ImageParams, claim.ready)
        headlines = {
            job.id: _headline(session, job, params[job.id].headline_from_channel)
            for job in claim.ready
        }
        generators = {p.generator for p in params.values() if p.background == "generated"}

    def make() -> dict[int, tuple[bytes | None, str | None, dict[str, Any]]]:
        # Described here, in the model work, because that needs the `images` extra: without it
        # every job of the chunk fails with the pip command (MissingExtraError), no traceback.
        # The claimed jobs and their products stay loaded (expire_on_commit=False).
        items = [
            _creative_job(job, chunk.campaign, headlines[job.id], settings, params[job.id])
            for job in claim.ready
        ]
        return _make(settings, items, generators)

    outcomes = run_work(
        chunk, [job.id for job in claim.ready], make, failure, fail_on=(MissingExtraError,)
    )

    stored: dict[int, tuple[str, str]] = {}
    for key, (data, _, _) in outcomes.items():
        if data is not None:
            stored[key] = write_content_addressed(
                settings.asset_root, data, EXTENSIONS[params[key].output]
            )

    def complete(session: Session, job: Job, _: bytes, meta: dict[str, Any]) -> None:
        uri, digest = stored[job.id]
        jobs.complete_job(session, job, text=None, uri=uri, sha256=digest, meta=meta)

    done, failed = store_outcomes(self, chunk, campaign_id, outcomes, complete)
    return {"done": done, "failed": failed + len(claim.given_up), "skipped": claim.already_finished}


def _make(
    settings: Any, items: list[Any], generators: set[str]
) -> dict[int, tuple[bytes | None, str | None, dict[str, Any]]]:
    # lazy: the `images` extra's Pillow and SciPy (_creative_job has already imported them)
    from contentfab.workers.images.background import BackgroundGenerator
    from contentfab.workers.images.creative import make_creatives

    store = ModelStore(settings.model_store)
    matte_model = _default_matte_model(store, settings.matte_model)
    items = [
        replace(item, default_matte_model=matte_model, matte_policy=settings.matte_policy)
        if item.photo is not None
        else item
        for item in items
    ]
    generator = None
    if generators:
        # One generator per campaign section; a chunk never mixes campaigns.
        (name,) = sorted(generators)[:1]
        try:
            store.manifest(name)
            generator = BackgroundGenerator.load(
                store.model_dir(name),
                providers=settings.providers,
                intra_op_threads=settings.intra_op_threads,
            )
        except ModelError as error:
            return {item.key: (None, str(error), {}) for item in items}
    return {
        outcome.key: (outcome.data, outcome.error, outcome.meta)
        for outcome in make_creatives(items, generator, providers=settings.providers)
    }


def _default_matte_model(store: Any, name: str) -> Path | None:
    """The store's matting model file, or None (studio matte only) when it is not built."""
    if not name or not store.is_valid(name):
        if name:
            logger.info("matting model %s is not in the model store; studio matte only", name)
        return None
    return Path(store.model_dir(name)) / "model.onnx"
