"""Campaign bookkeeping: store a validated campaign as rows, then send its task messages.

Messages are sent (:mod:`tasks.sending`) only after the rows are committed, so a worker never
races its own rows, and they carry job IDs only — never product data or images. Sending a
stored campaign's unfinished jobs again is :mod:`tasks.recovery`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contentfab.campaign import CopyRequest, LoadedCampaign
from contentfab.campaign.pseudonyms import campaign_key, pseudonymize
from contentfab.core.errors import InputError
from contentfab.core.settings import Settings
from contentfab.db.bulk import ProductRow, first_column, insert_tuples
from contentfab.db.models import Campaign, ContentKind, Job, Product
from contentfab.db.session import EncodedJSON, transaction
from contentfab.tasks.images import store_image_jobs
from contentfab.tasks.params import CopyParams
from contentfab.tasks.recs import store_recommendation_jobs
from contentfab.tasks.sending import Enqueued, check_broker, queued_chunks, send_chunks
from contentfab.tasks.sending import publish as publish  # bench/enqueue.py imports it from here


class DuplicateCampaign(InputError):
    def __init__(self, existing_id: int) -> None:
        self.existing_id = existing_id
        super().__init__(
            f"this campaign file and catalog were already enqueued as campaign {existing_id}. "
            f"Check it with `contentfab status {existing_id}`, send its unfinished jobs again "
            f"(after a killed worker, say) with `contentfab retry {existing_id}` and its failed "
            f"ones with `contentfab retry {existing_id} --failed`, or pass --allow-duplicate to "
            "produce everything again."
        )


def variant_seed(sku: str, channel: str, tone: str, variant: int) -> int:
    digest = hashlib.sha256(f"{sku}\x1f{channel}\x1f{tone}\x1f{variant}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def store_campaign(session: Session, loaded: LoadedCampaign, settings: Settings) -> Campaign:
    key = campaign_key(loaded, settings)
    if key is not None:  # from here on, nothing sees the user IDs as the file gave them
        loaded = pseudonymize(loaded, key)
    spec = loaded.spec
    campaign = Campaign(
        name=spec.name,
        source_path=str(loaded.source_path),
        content_sha256=loaded.content_sha256,
        spec=spec.model_dump(mode="json", by_alias=True),
    )
    session.add(campaign)
    session.flush()
    products = _store_products(session, campaign.id, loaded)
    request = spec.copy_request
    if request is not None:
        insert_tuples(
            session, Job, _COPY_JOB_COLUMNS, _copy_jobs(campaign.id, products, request, settings)
        )
    if spec.recommendations is not None:
        store_recommendation_jobs(session, campaign, products, loaded)
    if spec.images is not None:
        store_image_jobs(session, campaign, products, loaded)
    session.flush()  # the interactions blob, the one ORM object left pending
    return campaign


_COPY_JOB_COLUMNS = ("campaign_id", "product_id", "subject", "kind", "channel", "variant", "params")


def _copy_jobs(
    campaign_id: int, products: Sequence[ProductRow], request: CopyRequest, settings: Settings
) -> list[tuple[Any, ...]]:
    """One job row per product and copy slot (bundles such as an RSA or an email expand to one
    slot per field), in :data:`_COPY_JOB_COLUMNS` order.

    A slot's params differ from product to product only in the seed, so each slot's JSON is
    written once around it (:class:`EncodedJSON`, the text ``json.dumps`` writes of the same
    dict): encoding 100,000 dicts took ~1 s of an enqueue.
    """
    model = request.model or settings.copy_model
    templates = []
    variants: dict[str, int] = {}
    for slot in request.slots():
        variant = variants[slot.channel] = variants.get(slot.channel, -1) + 1
        params = CopyParams(
            tone=slot.tone,
            model=model,
            seed=0,  # written per product between head and tail
            temperature=request.temperature,
            top_p=request.top_p,
            repetition_penalty=request.repetition_penalty,
            max_new_tokens=request.max_new_tokens,
            candidates=request.candidates,
            bundle=slot.bundle,
        ).stored()
        before = {key: params.pop(key) for key in ("tone", "model")}
        del params["seed"]
        head = json.dumps(before)[:-1] + ', "seed": '
        tail = ", " + json.dumps(params)[1:]
        templates.append((slot.channel, slot.tone, variant, head, tail))
    copy = ContentKind.COPY
    return [
        (
            campaign_id,
            product.id,
            None,
            copy,
            channel,
            variant,
            EncodedJSON(f"{head}{variant_seed(product.sku, channel, tone, variant)}{tail}"),
        )
        for product in products
        for channel, tone, variant, head, tail in templates
    ]


_NO_ATTRIBUTES = EncodedJSON("{}")


def _store_products(session: Session, campaign_id: int, loaded: LoadedCampaign) -> list[ProductRow]:
    """The catalog's rows, inserted through the driver (20,000 ORM objects took ~5 s), in
    catalog order."""
    columns = (
        "campaign_id",
        "row",
        "sku",
        "title",
        "description",
        "category",
        "price",
        "currency",
        "attributes",
        "image_path",
    )
    rows = [
        (
            campaign_id,
            record.row,
            record.sku,
            record.title,
            record.description,
            record.category,
            record.price,
            record.currency,
            EncodedJSON(json.dumps(record.attributes)) if record.attributes else _NO_ATTRIBUTES,
            None if record.image is None else str(record.image),
        )
        for record in loaded.products
    ]
    insert_tuples(session, Product, columns, rows)
    # A catalog row is one line of its file: rows are unique in a campaign, as SKUs are.
    ids = first_column(
        session, select(Product.id).where(Product.campaign_id == campaign_id).order_by(Product.row)
    )
    return [ProductRow(id, record.sku) for id, record in zip(ids, loaded.products, strict=True)]


def enqueue(
    loaded: LoadedCampaign,
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    app: Celery,
    allow_duplicate: bool = False,
    preflight: Callable[[LoadedCampaign], None] | None = None,
) -> Enqueued:
    """Store ``loaded`` and send its messages; on any error before commit nothing is stored."""
    if preflight is not None:
        preflight(loaded)
    campaign_key(loaded, settings)  # a missing key is the user's to fix, before the broker's
    check_broker(app)
    with transaction(sessions) as session:
        if not allow_duplicate:
            existing = session.scalar(
                select(Campaign.id)
                .where(Campaign.content_sha256 == loaded.content_sha256)
                .order_by(Campaign.id)
                .limit(1)
            )
            if existing is not None:
                raise DuplicateCampaign(existing)
        campaign = store_campaign(session, loaded, settings)
        campaign_id, name = campaign.id, campaign.name
        chunks = queued_chunks(session, campaign_id, settings.chunk_size, settings.recs_chunk_size)
    messages = send_chunks(app, campaign_id, name, chunks)
    return Enqueued(campaign_id, sum(len(ids) for _, ids in chunks), messages)


def find_campaign(sessions: sessionmaker[Session], content_sha256: str) -> Campaign | None:
    """The latest campaign stored from the same campaign file and catalog, if any."""
    with sessions() as session:
        return session.scalar(
            select(Campaign)
            .where(Campaign.content_sha256 == content_sha256)
            .order_by(Campaign.id.desc())
            .limit(1)
        )
