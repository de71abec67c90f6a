"""Erasure and retention (db.privacy) on SQLite and PostgreSQL: after forgetting a shopper no
column of any table holds their ID, other shoppers' lists are unchanged, a second run removes
nothing; a retention purge removes only older events."""

from __future__ import annotations

from sqlalchemy import func, select

from contentfab.db.interaction_log import load_interactions
from contentfab.db.models import CampaignInteractions, Interaction, PrivacyAudit
from contentfab.db.privacy import checkpoint, forget_users, purge_interactions
from contentfab.db.session import transaction
from tests.db.privacy_seed import (
    DAY,
    FORGOTTEN,
    NOW,
    OLD,
    SHOPPERS,
    places_holding,
    seed,
    sqlite_file_holds,
    user_lists,
)


def test_forgetting_a_shopper_leaves_no_trace_and_others_untouched(
    tmp_path, sessions, database_url
):
    seeded = seed(sessions, tmp_path)
    places = places_holding(sessions, FORGOTTEN)
    # The seed puts them everywhere the database keeps a shopper.
    assert places == [
        "asset.subject",
        "campaign.spec",
        "campaign_interactions.data",
        "interaction.user_id",
        "job.subject",
    ]
    before = user_lists(sessions)
    with sessions() as session:
        blob_before = load_interactions(session, seeded.blob_all)

    with transaction(sessions) as session:
        found = forget_users(session, [FORGOTTEN, "nobody-we-know"])
    with sessions() as session:
        checkpoint(session)

    assert places_holding(sessions, FORGOTTEN) == []
    if database_url.startswith("sqlite"):  # not even in free pages or the write-ahead log
        assert not sqlite_file_holds(database_url, FORGOTTEN)
    by_campaign = {entry.campaign_id: entry for entry in found}
    assert set(by_campaign) == {seeded.blob_all, seeded.blob_listed, seeded.legacy}
    everyone = by_campaign[seeded.blob_all]
    assert (everyone.users, everyone.events, everyone.lists, everyone.reviews) == (1, 3, 1, 1)
    assert by_campaign[seeded.blob_listed].listed == 1
    assert by_campaign[seeded.legacy].events == 2
    after = user_lists(sessions)
    assert {key: value for key, value in before.items() if key[2] != FORGOTTEN} == after
    with sessions() as session:
        blob_after = load_interactions(session, seeded.blob_all)
        stored = session.scalars(
            select(CampaignInteractions).where(CampaignInteractions.campaign_id == seeded.blob_all)
        ).one()
        audit = session.scalars(select(PrivacyAudit)).one()
    assert blob_before is not None and blob_after is not None
    assert blob_after.user_ids == SHOPPERS[1:]
    assert (stored.events, stored.users) == (9, 3)

    def events(columns):
        return sorted(
            (columns.user_ids[u], int(p), columns.event_names[e], float(t))
            for u, p, e, t in zip(
                columns.user, columns.product_id, columns.event, columns.timestamp, strict=True
            )
        )

    assert events(blob_after) == [e for e in events(blob_before) if e[0] != FORGOTTEN]
    assert (audit.action, audit.requested, audit.campaigns) == ("forget", 2, 3)
    assert (audit.events, audit.lists, audit.reviews) == (3 + 3 + 2, 3, 3)

    with transaction(sessions) as session:
        assert not any(forget_users(session, [FORGOTTEN]))
    assert user_lists(sessions) == after
    with sessions() as session:
        audits = session.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id)).all()
    assert [(a.action, a.events, a.lists) for a in audits][1] == ("forget", 0, 0)


def test_retention_purges_only_older_events(tmp_path, sessions):
    seeded = seed(sessions, tmp_path)
    before = user_lists(sessions)
    cutoff = NOW - 30 * DAY
    with transaction(sessions) as session:
        listed = purge_interactions(session, cutoff, apply=False)
    assert sum(entry.events for entry in listed) == 4 + 4 + 2  # one old event per shopper
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 4  # dry run
        assert session.scalar(select(func.count()).select_from(PrivacyAudit)) == 0

    with transaction(sessions) as session:
        purged = purge_interactions(session, cutoff, apply=True)
    assert [(e.campaign_id, e.events) for e in purged] == [
        (seeded.blob_all, 4),
        (seeded.blob_listed, 4),
        (seeded.legacy, 2),
    ]
    with sessions() as session:
        stamps = session.scalars(select(Interaction.occurred_at)).all()
        blob = load_interactions(session, seeded.blob_all)
        audit = session.scalars(select(PrivacyAudit)).one()
    assert stamps == [NOW - DAY, NOW - DAY]
    assert blob is not None and len(blob) == 8 and blob.user_ids == SHOPPERS
    assert blob.timestamp.min() >= cutoff and OLD not in blob.timestamp.tolist()
    assert (audit.action, audit.events, audit.before) == ("retention", 10, cutoff)
    assert user_lists(sessions) == before  # lists are not interaction data
    with transaction(sessions) as session:
        assert purge_interactions(session, cutoff, apply=True) == []
