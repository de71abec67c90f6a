"""The recommendation task: a chunk of job IDs (one user or segment each) in, ranked lists out.

The campaign's catalog matrix is built once per worker process and campaign: product texts
are embedded only when the ``product_embedding`` table has no vector for that text and model,
so a catalog is embedded once whatever the number of chunks, workers or campaigns; the
campaign's interactions (one blob, :mod:`db.interaction_log`) are read then too. A chunk makes
all its lists with one batched call of :func:`workers.recommender.recommend`.

With ``method: two_tower`` the two-tower model (:mod:`workers.two_tower`) is loaded once per
worker process and makes the vectors of users with history; segments and cold users keep the
text-embedding path (of the text model the two-tower was trained from), since the user tower
reads histories, not text. Every asset records the method that made it and that model.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from celery import Task, shared_task
from celery.utils.log import get_task_logger
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contentfab.campaign import LoadedCampaign
from contentfab.campaign.spec import RecommendationsRequest
from contentfab.core.errors import InputError, ModelError
from contentfab.core.manifest import ModelManifest
from contentfab.db import jobs
from contentfab.db.bulk import JobRow, ProductRow, complete_rows, insert_rows
from contentfab.db.interaction_log import load_interactions, store_interactions
from contentfab.db.models import (
    Campaign,
    ContentKind,
    Interaction,
    Job,
    Product,
    ProductEmbedding,
)
from contentfab.db.session import EncodedJSON, database_errors, transaction
from contentfab.tasks.app import RECS_TASK
from contentfab.tasks.chunks import CHUNK_TASK_OPTIONS, Outcomes, claimed_rows, failure, run_work
from contentfab.tasks.params import RecommendationParams, params_of
from contentfab.tasks.resources import WorkerResources
from contentfab.workers.embeddings import embed_with_cache, text_sha256
from contentfab.workers.recommender import (
    EVENTS,
    CandidateIndex,
    Catalog,
    HistoryIndex,
    Interactions,
    Recommendation,
    Rules,
    Subject,
    event_strength,
    popularity_prior,
    product_text,
    recommend,
)
from contentfab.workers.two_tower import TwoTower

logger = get_task_logger(__name__)
_INSERT_BATCH = 10_000
_IN_BATCH = 5_000  # bound parameters per IN (...) list, well under SQLite's limit
_CACHED_CAMPAIGNS = 4  # catalog matrices kept per worker process (20k products: ~30 MiB each)
# Lists per call of recommend(): FAISS answers 1,000 queries faster per query than 512
# (6,000 users x 20,000 products: 4.9-6.0 s against 6.5 s, load 3.5).
_RECOMMEND_BATCH = 1000


def store_recommendation_jobs(
    session: Session, campaign: Campaign, products: Sequence[ProductRow], loaded: LoadedCampaign
) -> None:
    """The interactions as one columnar blob, and one job per user and per segment.

    A file has millions of events: as rows they cost seconds to insert and every worker
    process read them all back anyway, so they are stored once (:mod:`db.interaction_log`).
    """
    request = loaded.spec.recommendations
    assert request is not None
    log = loaded.interactions
    if log is not None:
        product_id = {p.sku: p.id for p in products}
        store_interactions(
            session,
            campaign.id,
            log.users,
            map(product_id.__getitem__, log.skus),
            log.events,
            log.timestamps,
            log.weights,
            log.user_ids(),
        )
    subjects = [
        ("segment", segment.name, RecommendationParams(description=segment.description).stored())
        for segment in request.segments
    ]
    if request.users == "all":
        no_params = RecommendationParams().stored()  # one object: insert_rows encodes it once
        subjects += [("user", user, no_params) for user in (log.user_ids() if log else [])]
    elif request.users != "none":
        subjects += [
            ("user", entry.id, RecommendationParams(segment=entry.segment or None).stored())
            for entry in request.users
        ]
    job_rows = [
        {
            "campaign_id": campaign.id,
            "kind": ContentKind.RECOMMENDATION,
            "channel": channel,
            "variant": 0,
            "subject": subject,
            "params": params,
        }
        for channel, subject, params in subjects
    ]
    insert_rows(session, Job, job_rows)


@dataclass(frozen=True)
class CampaignCatalog:
    """What every chunk of one campaign shares: products as a matrix, and the time origin."""

    catalog: Catalog
    row_of: dict[int, int]  # product.id → catalog row
    now: float
    model: dict[str, Any]  # provenance of the embedding model
    device: str
    segment_vectors: dict[str, np.ndarray]
    histories: HistoryIndex  # every user's interactions, read once per worker and campaign
    index: CandidateIndex | None  # FAISS, for catalogs where it pays off (and faiss installed)
    tower: TowerCatalog | None = None  # method: two_tower


@dataclass(frozen=True)
class TowerCatalog:
    """The two-tower model's view of a campaign's catalog (same rows, the model's vectors)."""

    model: TwoTower
    catalog: Catalog
    model_rows: np.ndarray  # campaign catalog row → model row, -1 for unknown products
    provenance: dict[str, Any]
    index: CandidateIndex | None


def rules_from(request: RecommendationsRequest) -> Rules:
    band = request.price_band
    return Rules(
        k=request.k,
        exclude_purchased=request.exclude_purchased,
        exclude_seen=request.exclude_seen,
        in_stock_only=request.in_stock_only,
        price_band=None if band is None else (float(band[0]), float(band[1])),
        category_quota=request.category_quota,
        diversity=request.diversity,
        popularity_weight=request.popularity_weight,
    )


@shared_task(name=RECS_TASK, **CHUNK_TASK_OPTIONS)
def generate_recommendations(self: Task, campaign_id: int, job_ids: list[int]) -> dict[str, int]:
    with claimed_rows(self, campaign_id, job_ids) as chunk:
        res, claim = chunk.resources, chunk.claim
        request = chunk.campaign.recommendations if chunk.campaign is not None else None
        if request is None:
            raise InputError(f"campaign {campaign_id} has no recommendations section")
        params_by_job = params_of(RecommendationParams, claim.ready)
    slots = claim.ready
    by_id = {job.id: job for job in slots}
    methods: dict[int, str] = {}
    shared: CampaignCatalog | None = None

    def work() -> Outcomes[Recommendation]:
        nonlocal shared, methods
        shared = _campaign_catalog(res, campaign_id, request)
        lists, methods = _recommend(shared, request, slots, params_by_job)
        return {rec.key: (rec, None, {}) for rec in lists}

    outcomes = run_work(chunk, list(by_id), work, failure, fail_on=(ModelError,)) if slots else {}

    params = request.model_dump(mode="json", by_alias=True, exclude={"segments", "users"})
    failed: list[tuple[int, str]] = []
    results = []
    tails: dict[str, str] = {}  # per method: the meta every list of the chunk shares
    for key, (rec, error, _) in outcomes.items():
        if rec is None or shared is None:
            failed.append((key, error or "unknown error"))
            continue
        items = [item.as_dict() for item in rec.items]
        method = methods.get(key, "embedding")
        if request.method == "two_tower" and method == "embedding":
            for item in items:  # say why this list is not the two-tower model's
                item["reason"] += " (text embedding: the two-tower model ranks users with history)"
        text = json.dumps([item["sku"] for item in items])
        tail = tails.get(method)
        if tail is None:
            tail = tails[method] = shared_meta(
                {
                    "model": shared.tower.provenance
                    if method == "two_tower" and shared.tower
                    else shared.model,
                    "device": shared.device,
                    "params": params,
                    "worker": res.hostname,
                    "task_id": self.request.id,
                }
            )
        items_text = json.dumps(items, sort_keys=True)  # once, for the meta and the digest
        meta = list_meta(items_text, rec.strategy, rec.short, method, tail)
        digest = hashlib.sha256(items_text.encode()).hexdigest()
        results.append((by_id[key], text, digest, meta))
    with database_errors(), transaction(res.sessions) as session:
        if failed:
            for job in session.scalars(select(Job).where(Job.id.in_([k for k, _ in failed]))):
                jobs.fail_job(session, job, dict(failed)[job.id])
        complete_rows(session, campaign_id, ContentKind.RECOMMENDATION, results)
        jobs.finish_campaign_if_done(session, campaign_id)
    return {
        "done": len(results),
        "failed": len(failed) + len(claim.given_up),
        "skipped": claim.already_finished,
    }


def shared_meta(shared: dict[str, Any]) -> str:
    """The end of every list's meta document that carries ``shared`` (encoded once a chunk)."""
    return ", " + json.dumps(shared)[1:] if shared else "}"


def list_meta(items_text: str, strategy: str, short: bool, method: str, tail: str) -> EncodedJSON:
    """One list's asset meta as JSON text: ``{"items", "strategy", "short", "method"}`` and
    the chunk's shared part (:func:`shared_meta`), without encoding that part per list.

    ``items_text`` is the items already encoded as JSON (with sorted keys: the text the
    asset's digest is taken of), so a list's items are encoded once, not twice.
    """
    own = json.dumps({"strategy": strategy, "short": short, "method": method})
    return EncodedJSON('{"items": ' + items_text + ", " + own[1:-1] + tail)


def _campaign_catalog(
    res: WorkerResources, campaign_id: int, request: RecommendationsRequest
) -> CampaignCatalog:
    model_name = request.model
    key = (campaign_id, model_name)
    cached = res.recs_cache.get(key)
    if isinstance(cached, CampaignCatalog):
        return cached

    tower_manifest: ModelManifest | None = None
    if request.method == "two_tower":
        tower, tower_manifest = res.two_tower(model_name)
        model_name = (tower_manifest.source or {})["text_model"]["name"]
    embedder = res.text_embedder(model_name)
    with database_errors(), transaction(res.sessions) as session:
        # Columns, not ORM objects: 20,000 products as objects took ~1 s per worker process.
        products = session.execute(
            select(
                Product.id,
                Product.sku,
                Product.title,
                Product.description,
                Product.category,
                Product.price,
                Product.attributes,
            )
            .where(Product.campaign_id == campaign_id)
            .order_by(Product.id)
        ).all()
        facts = [
            (p.id, p.sku, p.title, product_text(p.title, p.description, p.category), p)
            for p in products
        ]
        digests = sorted({text_sha256(text) for *_, text, _ in facts})
        known: dict[str, np.ndarray] = {}
        for start in range(0, len(digests), _IN_BATCH):
            for digest, blob in session.execute(
                select(ProductEmbedding.text_sha256, ProductEmbedding.vector).where(
                    ProductEmbedding.model_sha256 == embedder.model_sha256,
                    ProductEmbedding.text_sha256.in_(digests[start : start + _IN_BATCH]),
                )
            ):
                known[digest] = np.frombuffer(blob, dtype="<f4")
        row_of = {p.id: i for i, p in enumerate(products)}
        inter, user_codes = _interactions(session, campaign_id, row_of)
        categories = [p.category for p in products]
        prices = [None if p.price is None else float(p.price) for p in products]
        in_stock = [_in_stock(p.attributes) for p in products]
    vectors, fresh = embed_with_cache(embedder, [text for *_, text, _ in facts], known)
    if fresh:
        _store_embeddings(res, embedder.model_sha256, fresh)
    catalog = Catalog.build(
        [sku for _, sku, *_ in facts],
        [title for _, _, title, *_ in facts],
        vectors,
        categories=categories,
        prices=prices,
        in_stock=in_stock,
    )
    now = float(inter.timestamps.max()) if len(inter) else 0.0
    strength = event_strength(inter, now=now, half_life_days=request.half_life_days)
    if len(inter):
        catalog = catalog.with_popularity(popularity_prior(inter.items, strength, len(catalog)))
    segments = request.segments
    segment_vectors = {}
    if segments:
        embedded = embedder.embed([s.description for s in segments])
        segment_vectors = {s.name: embedded[i] for i, s in enumerate(segments)}
    towers = None
    if tower_manifest is not None:
        vectors, model_rows = tower.for_catalog(catalog.skus)
        tower_catalog = Catalog.build(
            catalog.skus,
            catalog.titles,
            vectors,
            categories=categories,
            prices=prices,
            in_stock=in_stock,
        )
        if len(inter):
            tower_catalog = tower_catalog.with_popularity(catalog.popularity)
        towers = TowerCatalog(
            tower,
            tower_catalog,
            model_rows,
            {
                "name": tower_manifest.name,
                "version": tower_manifest.version,
                "sha256": tower_manifest.files["user_tower.onnx"],
                "item_vectors_sha256": tower_manifest.files["item_vectors.npy"],
                "text_model": embedder.provenance,
                "unknown_products": int((model_rows < 0).sum()),
            },
            CandidateIndex.build(tower_catalog, rules_from(request)),
        )
    shared = CampaignCatalog(
        catalog,
        row_of,
        now,
        embedder.provenance,
        embedder.provider,
        segment_vectors,
        HistoryIndex.build(inter, strength, user_codes),
        CandidateIndex.build(catalog, rules_from(request)),
        towers,
    )
    while len(res.recs_cache) >= _CACHED_CAMPAIGNS:  # a long-lived worker serves many campaigns
        res.recs_cache.pop(next(iter(res.recs_cache)))
        gc.unfreeze()  # what the evicted campaign leaves is the collector's again
    res.recs_cache[key] = shared
    # The campaign's objects (a user ID string per event, arrays per user: ~330,000 objects
    # for 100,000 users) live as long as the cache holds them, yet every full collection
    # walked them again: ~0.4 s per chunk of 5,000 lists, 0.1 s once frozen out of it.
    gc.freeze()
    return shared


def _interactions(
    session: Session, campaign_id: int, row_of: dict[int, int]
) -> tuple[Interactions, tuple[list[str], np.ndarray] | None]:
    """The campaign's events with catalog rows for product IDs, from its blob or, for a
    campaign stored before there were blobs, from its ``interaction`` rows; and with a blob,
    its users and each event's index into them (for :meth:`HistoryIndex.build`)."""
    stored = load_interactions(session, campaign_id)
    if stored is None:
        events = session.execute(
            select(
                Interaction.user_id,
                Interaction.product_id,
                Interaction.event,
                Interaction.occurred_at,
                Interaction.weight,
            ).where(Interaction.campaign_id == campaign_id)
        )
        return Interactions.from_records(
            (user, row_of[product], event, at, weight)
            for user, product, event, at, weight in events
        ), None
    ids = np.fromiter(row_of, dtype=np.int64, count=len(row_of))
    rows = np.fromiter(row_of.values(), dtype=np.int64, count=len(row_of))
    order = np.argsort(ids)
    at = np.searchsorted(ids[order], stored.product_id)
    if len(stored) and (
        at.max() >= len(ids) or not np.array_equal(ids[order][at], stored.product_id)
    ):
        raise ValueError(f"campaign {campaign_id}: interactions name products it does not have")
    event_code = np.array([EVENTS.index(name) for name in stored.event_names], dtype=np.int64)
    user_ids = np.array(stored.user_ids, dtype=object)
    return Interactions(
        users=user_ids[stored.user].tolist(),
        items=rows[order][at],
        events=event_code[stored.event] if len(stored) else np.zeros(0, np.int64),
        timestamps=stored.timestamp,
        weights=stored.weight.astype(np.float32),
    ), (stored.user_ids, stored.user)


def _recommend(
    shared: CampaignCatalog,
    request: RecommendationsRequest,
    slots: list[JobRow],
    params: dict[int, RecommendationParams],
) -> tuple[list[Recommendation], dict[int, str]]:
    """The chunk's lists, and the method that made each (by job ID)."""
    subjects = []
    for job in slots:
        name = job.subject or ""
        if job.channel == "segment":
            subjects.append(
                Subject(job.id, "segment", name, segment_vector=shared.segment_vectors[name])
            )
        else:
            segment = params[job.id].segment
            subjects.append(
                Subject(
                    job.id,
                    "user",
                    name,
                    history=shared.histories.history(name),
                    segment_vector=shared.segment_vectors.get(segment) if segment else None,
                    segment_name=segment,
                )
            )
    rules = rules_from(request)
    tower = shared.tower
    if tower is None:
        lists = recommend(
            shared.catalog, subjects, rules, batch_size=_RECOMMEND_BATCH, index=shared.index
        )
        return lists, {rec.key: "embedding" for rec in lists}
    users = [s for s in subjects if s.history is not None and not s.history.empty]
    vectors = tower.model.campaign_user_vectors(
        [s.history for s in users if s.history is not None], tower.model_rows
    )
    # A user whose history is only products the model does not know has no two-tower vector.
    towered = {s.key: v for s, v in zip(users, vectors, strict=True) if v.any()}
    by_tower = [replace(s, vector=towered[s.key]) for s in subjects if s.key in towered]
    by_text = [s for s in subjects if s.key not in towered]
    lists = recommend(tower.catalog, by_tower, rules, index=tower.index) if by_tower else []
    if by_text:
        lists += recommend(shared.catalog, by_text, rules, index=shared.index)
    return lists, {rec.key: "two_tower" if rec.key in towered else "embedding" for rec in lists}


def _in_stock(attributes: dict[str, Any]) -> bool:
    """Out of stock only when the catalog says so: in_stock false, or stock 0 or less."""
    flag = attributes.get("in_stock")
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, str) and flag.strip().lower() in ("false", "no", "0"):
        return False
    stock = attributes.get("stock")
    if isinstance(stock, int | float) and not isinstance(stock, bool):
        return stock > 0
    return True


def _store_embeddings(
    res: WorkerResources, model_sha256: str, fresh: dict[str, np.ndarray]
) -> None:
    rows = [
        {
            "model_sha256": model_sha256,
            "text_sha256": digest,
            "dim": int(vector.shape[0]),
            "vector": np.asarray(vector, dtype="<f4").tobytes(),
        }
        for digest, vector in fresh.items()
    ]
    try:
        with database_errors(), transaction(res.sessions) as session:
            for start in range(0, len(rows), _INSERT_BATCH):
                session.execute(insert(ProductEmbedding), rows[start : start + _INSERT_BATCH])
    except IntegrityError:
        # Another worker embedded the same texts at the same time; its vectors are as good.
        logger.info("embeddings for %d texts were stored concurrently", len(rows))
