"""Erasure and retention of shoppers' data: the queries behind `contentfab forget` and `gc`.

What the database holds of one shopper, by the user ID the interactions file gave (or its
keyed hash, :mod:`contentfab.campaign.pseudonyms`, for a pseudonymised campaign):

* their interaction events: in the campaign's columnar blob (:mod:`db.interaction_log`), or
  as ``interaction`` rows for a campaign stored before there were blobs;
* their recommendation list: a ``user`` job, its asset, and that asset's review history;
* their ID in the stored campaign spec, where ``recommendations.users`` lists them.

Nothing else is derived from one shopper alone: product embeddings are of product texts, and
the popularity prior and segment lists are sums over every shopper, kept as they are (so other
shoppers' lists do not change). Each run adds a :class:`~db.models.PrivacyAudit` row with the
counts, never the IDs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contentfab.db.interaction_log import keep_events, load_interactions, replace_interactions
from contentfab.db.jobs import finish_campaign_if_done
from contentfab.db.models import (
    Asset,
    AssetReview,
    Campaign,
    CampaignInteractions,
    ContentKind,
    Interaction,
    Job,
    PrivacyAudit,
)

_IN_BATCH = 5_000  # bound parameters per IN (...) list, well under SQLite's limit


@dataclass
class Removed:
    """What one campaign gave up."""

    campaign_id: int
    campaign_name: str
    events: int = 0
    users: int = 0  # shoppers no longer in the campaign's interactions
    lists: int = 0  # their recommendation lists (assets; jobs without an asset go too)
    reviews: int = 0  # review actions on those lists
    listed: int = 0  # entries of the spec's recommendations.users

    def __bool__(self) -> bool:
        return bool(self.events or self.users or self.lists or self.reviews or self.listed)


def forget_users(
    session: Session, user_ids: Collection[str], aliases: Collection[str] = ()
) -> list[Removed]:
    """Remove every trace of these shoppers from every campaign, in the session's transaction;
    the campaigns that held any, with what went. Running it again removes nothing.

    ``aliases`` are the same shoppers' other stored form (their pseudonyms): removed too, not
    counted as IDs asked for."""
    wanted = set(user_ids) | set(aliases)
    removed: dict[int, Removed] = {}
    names = dict(session.execute(select(Campaign.id, Campaign.name)).all())

    def of(campaign_id: int) -> Removed:
        return removed.setdefault(campaign_id, Removed(campaign_id, names[campaign_id]))

    _secure_delete(session)
    for batch in _batches(sorted(wanted)):
        counts = session.execute(
            select(
                Interaction.campaign_id, func.count(), func.count(Interaction.user_id.distinct())
            )
            .where(Interaction.user_id.in_(batch))
            .group_by(Interaction.campaign_id)
        )
        for campaign_id, events, users in counts:
            of(campaign_id).events += events
            of(campaign_id).users += users
        session.execute(delete(Interaction).where(Interaction.user_id.in_(batch)))
    for campaign_id in session.scalars(select(CampaignInteractions.campaign_id)).all():
        stored = load_interactions(session, campaign_id)
        if stored is None:
            continue
        gone = [code for code, user in enumerate(stored.user_ids) if user in wanted]
        if not gone:
            continue
        keep = ~np.isin(stored.user, np.asarray(gone, dtype=np.int32))
        replace_interactions(session, campaign_id, keep_events(stored, keep))
        of(campaign_id).events += int((~keep).sum())
        of(campaign_id).users += len(gone)
    for batch in _batches(sorted(wanted)):
        lists = (
            (Job.kind == ContentKind.RECOMMENDATION)
            & (Job.channel == "user")
            & Job.subject.in_(batch)
        )
        job_ids = session.execute(select(Job.id, Job.campaign_id).where(lists)).all()
        if not job_ids:
            continue
        ids = [job_id for job_id, _ in job_ids]
        assets = select(Asset.id).where(Asset.job_id.in_(ids))
        for campaign_id, reviews in session.execute(
            select(Asset.campaign_id, func.count())
            .join(AssetReview, AssetReview.asset_id == Asset.id)
            .where(Asset.job_id.in_(ids))
            .group_by(Asset.campaign_id)
        ):
            of(campaign_id).reviews += reviews
        for campaign_id, count in session.execute(
            select(Asset.campaign_id, func.count())
            .where(Asset.job_id.in_(ids))
            .group_by(Asset.campaign_id)
        ):
            of(campaign_id).lists += count
        session.execute(delete(AssetReview).where(AssetReview.asset_id.in_(assets)))
        session.execute(delete(Asset).where(Asset.job_id.in_(ids)))
        session.execute(delete(Job).where(Job.id.in_(ids)))
        for campaign_id in {campaign_id for _, campaign_id in job_ids}:
            of(campaign_id)  # a list not yet made still named them
            # The deleted jobs may have been the last ones a running campaign waited for.
            finish_campaign_if_done(session, campaign_id)
    for campaign in session.scalars(select(Campaign)):
        listed = _unlist(campaign, wanted)
        if listed:
            of(campaign.id).listed += listed
    found = sorted(removed.values(), key=lambda r: r.campaign_id)
    _audit(session, "forget", found, requested=len(set(user_ids)))
    return found


def pseudonymised_campaigns(session: Session) -> list[int]:
    """The campaigns whose stored user IDs are pseudonyms (``recommendations.pseudonymize``)."""
    return [
        campaign_id
        for campaign_id, spec in session.execute(select(Campaign.id, Campaign.spec))
        if isinstance((spec or {}).get("recommendations"), dict)
        and spec["recommendations"].get("pseudonymize") is True
    ]


def purge_interactions(session: Session, before: float, *, apply: bool) -> list[Removed]:
    """Interaction events older than ``before`` (seconds since the epoch), per campaign that
    has any; removed (and audited) only with ``apply``."""
    removed: dict[int, Removed] = {}
    names = dict(session.execute(select(Campaign.id, Campaign.name)).all())
    if apply:
        _secure_delete(session)
    old = Interaction.occurred_at < before
    for campaign_id, events in session.execute(
        select(Interaction.campaign_id, func.count()).where(old).group_by(Interaction.campaign_id)
    ):
        removed[campaign_id] = Removed(campaign_id, names[campaign_id], events=events)
    if apply:
        session.execute(delete(Interaction).where(old))
    for campaign_id in session.scalars(select(CampaignInteractions.campaign_id)).all():
        stored = load_interactions(session, campaign_id)
        if stored is None:
            continue
        keep = stored.timestamp >= before
        if keep.all():
            continue
        kept = keep_events(stored, keep)
        entry = removed.setdefault(campaign_id, Removed(campaign_id, names[campaign_id]))
        entry.events += int((~keep).sum())
        entry.users += len(stored.user_ids) - len(kept.user_ids)
        if apply:
            replace_interactions(session, campaign_id, kept)
    found = sorted(removed.values(), key=lambda r: r.campaign_id)
    if apply:
        _audit(session, "retention", found, before=before)
    return found


def _unlist(campaign: Campaign, wanted: set[str]) -> int:
    """Drop the wanted users from the stored spec's ``recommendations.users``; how many."""
    recs = (campaign.spec or {}).get("recommendations")
    if not isinstance(recs, dict) or not isinstance(recs.get("users"), list):
        return 0
    users = recs["users"]
    kept = [entry for entry in users if _entry_id(entry) not in wanted]
    if len(kept) == len(users):
        return 0
    # A new dict: the JSON column notices reassignment, not mutation in place.
    campaign.spec = {**campaign.spec, "recommendations": {**recs, "users": kept}}
    return len(users) - len(kept)


def _entry_id(entry: Any) -> str | None:
    if isinstance(entry, dict):
        value = entry.get("id")
        return None if value is None else str(value)
    return str(entry)


def _audit(
    session: Session,
    action: str,
    found: Sequence[Removed],
    *,
    requested: int | None = None,
    before: float | None = None,
) -> None:
    session.add(
        PrivacyAudit(
            action=action,
            requested=requested,
            before=before,
            campaigns=sum(1 for r in found if r),
            events=sum(r.events for r in found),
            lists=sum(r.lists for r in found),
            reviews=sum(r.reviews for r in found),
        )
    )
    session.flush()


def _secure_delete(session: Session) -> None:
    # SQLite leaves deleted rows in free pages of its file until they are reused; this
    # connection overwrites them with zeros instead (PostgreSQL: see the README's Privacy).
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA secure_delete=ON")


def checkpoint(session: Session) -> None:
    """SQLite: copy the write-ahead log into the database file and truncate it, so the old
    pages it held (with the erased rows) are gone too. Call after the commit."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.commit()


def _batches(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_BATCH):
        yield list(values[start : start + _IN_BATCH])
