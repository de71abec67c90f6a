"""SQLAlchemy 2.0 models: campaigns, their products, jobs (units of work) and assets.

A job is one deliverable slot: (campaign, product, kind, channel, variant). Its unique key is
what makes a redelivered task message harmless: the asset for a slot can be written once.
A recommendation is not about one product but for one *subject* (a user ID or an audience
segment's name): its slot is (campaign, kind, channel, subject) with ``channel`` "user" or
"segment", and ``product_id`` is empty. Each slot kind has its own unique key.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's documented class attribute
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class CampaignStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every job finished; some may have failed
    FAILED = "failed"  # every job failed


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @classmethod
    def terminal(cls) -> tuple[JobStatus, ...]:
        return (cls.DONE, cls.FAILED)


class ContentKind(enum.StrEnum):
    COPY = "copy"
    IMAGE = "image"
    RECOMMENDATION = "recommendation"


class AssetStatus(enum.StrEnum):
    GENERATED = "generated"
    APPROVED = "approved"
    REJECTED = "rejected"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native PG enum): adding a value needs no type migration.
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus), default=CampaignStatus.QUEUED
    )
    source_path: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    products: Mapped[list[Product]] = relationship(back_populates="campaign")
    jobs: Mapped[list[Job]] = relationship(back_populates="campaign")


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("campaign_id", "sku", name="uq_product_campaign_sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(200), default=None)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4, asdecimal=True), default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image_path: Mapped[str | None] = mapped_column(Text, default=None)

    campaign: Mapped[Campaign] = relationship(back_populates="products")


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "product_id", "kind", "channel", "variant", name="uq_job_slot"
        ),
        UniqueConstraint("campaign_id", "kind", "channel", "subject", name="uq_job_subject"),
        Index("ix_job_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(200), default=None)
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind))
    channel: Mapped[str] = mapped_column(String(60))
    variant: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    campaign: Mapped[Campaign] = relationship(back_populates="jobs")
    product: Mapped[Product | None] = relationship()
    asset: Mapped[Asset | None] = relationship(back_populates="job")


class Asset(Base):
    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "product_id", "kind", "channel", "variant", name="uq_asset_slot"
        ),
        UniqueConstraint("campaign_id", "kind", "channel", "subject", name="uq_asset_subject"),
        Index("ix_asset_campaign_kind", "campaign_id", "kind"),
        Index("ix_asset_campaign_status", "campaign_id", "status"),
        # Full-text search on copy (db/review.py); PostgreSQL only, SQLite searches without it.
        Index(
            "ix_asset_text_search",
            text("to_tsvector('english', coalesce(text, ''))"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(200), default=None)
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind))
    channel: Mapped[str] = mapped_column(String(60))
    variant: Mapped[int] = mapped_column(Integer)
    status: Mapped[AssetStatus] = mapped_column(_enum(AssetStatus), default=AssetStatus.GENERATED)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    uri: Mapped[str | None] = mapped_column(Text, default=None)
    sha256: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Review state (db/review.py). An edit keeps the generated text in original_text, so the
    # provenance in meta always describes a text we still have.
    reviewed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reject_reason: Mapped[str | None] = mapped_column(Text, default=None)
    original_text: Mapped[str | None] = mapped_column(Text, default=None)
    edited_by: Mapped[str | None] = mapped_column(String(200), default=None)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)

    job: Mapped[Job] = relationship(back_populates="asset")
    product: Mapped[Product | None] = relationship()


class AssetReview(Base):
    """One review action on an asset (approve, reject, edit): who, when, why, and what changed."""

    __tablename__ = "asset_review"
    __table_args__ = (Index("ix_asset_review_asset", "asset_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("asset.id", ondelete="CASCADE"),
    )
    action: Mapped[str] = mapped_column(String(20))  # approve, reject, edit
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    text_before: Mapped[str | None] = mapped_column(Text, default=None)
    text_after: Mapped[str | None] = mapped_column(Text, default=None)
    overridden_gates: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    """A forced edit's gate failures ("fact: not in the product data: $9.99"), published anyway
    by ``actor`` for ``reason``; None when nothing was overridden."""


class ModelRecord(Base):
    """A model a worker used, as its manifest described it (name, version, sha256)."""

    __tablename__ = "model"
    __table_args__ = (UniqueConstraint("name", "sha256", name="uq_model_name_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interaction(Base):
    """One event of a campaign's interactions file: a user viewed, carted or bought a product."""

    __tablename__ = "interaction"
    __table_args__ = (Index("ix_interaction_campaign_user", "campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(10))  # view, cart, purchase
    occurred_at: Mapped[float] = mapped_column(Double)  # seconds since the epoch, UTC
    weight: Mapped[float] = mapped_column(Double, default=1.0)


class CampaignInteractions(Base):
    """A campaign's whole interactions file, checked, as one columnar blob (see
    :mod:`db.interaction_log`): written once when the campaign is stored, read in one go by
    each worker process. Millions of events as rows cost seconds to insert and to read back
    and nobody queried them by row. Campaigns stored before this table keep their
    :class:`Interaction` rows.
    """

    __tablename__ = "campaign_interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), unique=True
    )
    format: Mapped[str] = mapped_column(String(20))
    events: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductEmbedding(Base):
    """A cached text embedding: the same text and model give the same vector in any campaign."""

    __tablename__ = "product_embedding"
    __table_args__ = (
        UniqueConstraint("model_sha256", "text_sha256", name="uq_product_embedding_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyAudit(Base):
    """One erasure (`contentfab forget`) or retention purge (`contentfab gc --delete`): when
    and how much was removed, never whose data it was."""

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(20))  # forget, retention
    at: Mapped[datetime] = mapped_column(default=utcnow)
    requested: Mapped[int | None] = mapped_column(Integer, default=None)
    """forget: how many IDs were asked for (found or not)."""
    before: Mapped[float | None] = mapped_column(Double, default=None)
    """retention: events older than this (seconds since the epoch) were purged."""
    campaigns: Mapped[int] = mapped_column(Integer, default=0)  # campaigns that held any
    events: Mapped[int] = mapped_column(Integer, default=0)
    lists: Mapped[int] = mapped_column(Integer, default=0)  # recommendation lists (assets)
    reviews: Mapped[int] = mapped_column(Integer, default=0)  # review actions on those lists
