"""Read-side queries over the asset database (CLI, API and gallery share these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from contentfab.db.models import Asset, Campaign, ContentKind, Job, JobStatus, Product


@dataclass
class CampaignSummary:
    id: int
    name: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> count
    assets: dict[str, int] = field(default_factory=dict)  # kind -> count
    failures: list[tuple[str, int]] = field(default_factory=list)  # (reason, count)
    models: list[tuple[str, int]] = field(default_factory=list)  # ("name@version", assets)

    @property
    def total_jobs(self) -> int:
        return sum(sum(by_status.values()) for by_status in self.jobs.values())

    def count_status(self, status: str) -> int:
        return sum(by_status.get(status, 0) for by_status in self.jobs.values())

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def elapsed_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or datetime.now(self.started_at.tzinfo)
        return (end - self.started_at).total_seconds()


def get_campaign(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def finished_or_queued(session: Session, campaign_id: int) -> tuple[bool, bool]:
    """Whether the campaign has finished, and whether any of its jobs waits in the queue:
    two indexed lookups, cheap enough to ask every fraction of a second (a full
    :func:`campaign_summary` counts every job and asset)."""
    finished_at, queued = session.execute(
        select(
            Campaign.finished_at,
            exists().where(Job.campaign_id == campaign_id, Job.status == JobStatus.QUEUED),
        ).where(Campaign.id == campaign_id)
    ).one()
    return finished_at is not None, bool(queued)


@dataclass(frozen=True)
class CampaignProgress:
    """What a progress bar needs: jobs by status, and whether the campaign has finished."""

    jobs: dict[str, int]  # status -> count
    finished: bool

    @property
    def total_jobs(self) -> int:
        return sum(self.jobs.values())

    def count_status(self, status: str) -> int:
        return self.jobs.get(status, 0)


def campaign_progress(session: Session, campaign_id: int) -> CampaignProgress | None:
    """Jobs by status from the ``(campaign_id, status)`` index alone, or None when there is
    no such campaign: ~8 ms for 100,000 jobs on SQLite, where counting them by kind and status
    as :func:`campaign_summary` does reads every job row (~50 ms), so a watcher can ask every
    second."""
    found = session.execute(
        select(Campaign.finished_at).where(Campaign.id == campaign_id)
    ).one_or_none()
    if found is None:
        return None
    jobs = {
        str(status): int(n)
        for status, n in session.execute(
            select(Job.status, func.count())
            .where(Job.campaign_id == campaign_id)
            .group_by(Job.status)
        )
    }
    return CampaignProgress(jobs, found.finished_at is not None)


def list_campaigns(session: Session, limit: int = 50) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


def campaign_summary(session: Session, campaign: Campaign) -> CampaignSummary:
    """Job and asset counts, models and failure reasons.

    The models come from every asset's JSON meta (~1 s for 100,000 lists on SQLite): a
    progress poll asks :func:`campaign_progress` instead.
    """
    summary = CampaignSummary(
        id=campaign.id,
        name=campaign.name,
        status=str(campaign.status),
        created_at=campaign.created_at,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
    )
    rows = session.execute(
        select(Job.kind, Job.status, func.count())
        .where(Job.campaign_id == campaign.id)
        .group_by(Job.kind, Job.status)
    )
    for kind, status, n in rows:
        summary.jobs.setdefault(str(kind), {})[str(status)] = int(n)
    for kind, n in session.execute(
        select(Asset.kind, func.count())
        .where(Asset.campaign_id == campaign.id)
        .group_by(Asset.kind)
    ):
        summary.assets[str(kind)] = int(n)
    model_name = Asset.meta["model"]["name"].as_string()
    model_version = Asset.meta["model"]["version"].as_string()
    summary.models = [
        (f"{name}@{version}", int(n))
        for name, version, n in session.execute(
            select(model_name, model_version, func.count())
            .where(Asset.campaign_id == campaign.id)
            .group_by(model_name, model_version)
        )
        if name is not None
    ]
    summary.failures = [
        (str(reason), int(n))
        for reason, n in session.execute(
            select(Job.last_error, func.count())
            .where(Job.campaign_id == campaign.id, Job.status == JobStatus.FAILED)
            .group_by(Job.last_error)
            .order_by(func.count().desc(), Job.last_error)
        )
    ]
    return summary


def list_assets(
    session: Session,
    *,
    campaign_id: int | None = None,
    kind: ContentKind | None = None,
    channel: str | None = None,
    product_sku: str | None = None,
    limit: int | None = None,
) -> list[Asset]:
    query = select(Asset).options(joinedload(Asset.product)).order_by(Asset.id)
    if campaign_id is not None:
        query = query.where(Asset.campaign_id == campaign_id)
    if kind is not None:
        query = query.where(Asset.kind == kind)
    if channel is not None:
        query = query.where(Asset.channel == channel)
    if product_sku is not None:
        query = query.join(Product, Asset.product_id == Product.id).where(
            Product.sku == product_sku
        )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
