"""The recommendation task reads a campaign's interactions from its blob, or from the rows of
a campaign stored before there were blobs, and gets the same events either way."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest
from sqlalchemy import Table

from contentfab.db.bulk import copy_rows
from contentfab.db.interaction_log import store_interactions
from contentfab.db.models import Campaign, Interaction, Product
from contentfab.db.session import transaction
from contentfab.tasks.recs import _interactions
from contentfab.workers.recommender import EVENTS


def test_blob_and_rows_give_the_same_events(sessions):
    rng = np.random.default_rng(3)
    events = [
        (f"u{rng.integers(40)}", int(rng.integers(6)), EVENTS[rng.integers(3)], 1.6e9 + i, 1.0)
        for i in range(500)
    ]
    read = []
    with transaction(sessions) as session:
        for as_rows in (True, False):
            campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
            # Product IDs out of catalog-row order, so the mapping is exercised.
            products = [
                Product(campaign=campaign, row=2 + i, sku=f"p{i}", title="P", attributes={})
                for i in (5, 2, 0, 4, 1, 3)
            ]
            session.add_all([campaign, *products])
            session.flush()
            ids = [products[item].id for _, item, *_ in events]
            if as_rows:
                copy_rows(
                    session,
                    cast(Table, Interaction.__table__),
                    ("campaign_id", "user_id", "product_id", "event", "occurred_at", "weight"),
                    (
                        (campaign.id, user, pid, event, at, w)
                        for (user, _, event, at, w), pid in zip(events, ids, strict=True)
                    ),
                )
            else:
                columns = list(zip(*events, strict=True))
                store_interactions(
                    session, campaign.id, columns[0], ids, columns[2], columns[3], columns[4]
                )
            row_of = {p.id: i for i, p in enumerate(sorted(products, key=lambda p: -p.id))}
            read.append((*_interactions(session, campaign.id, row_of), row_of, ids, campaign.id))
    (rows, no_codes, *_), (blob, codes, row_of, ids, blob_campaign) = read
    # The blob keeps the file's order; the rows come back in index order, each user's events
    # still in file order, which is the order a history needs.
    assert list(blob.users) == [user for user, *_ in events]
    assert no_codes is None  # the blob's user codes come along for HistoryIndex.build
    assert codes is not None and [codes[0][c] for c in codes[1]] == list(blob.users)
    assert blob.items.tolist() == [row_of[i] for i in ids]
    assert blob.weights.dtype == rows.weights.dtype

    def by_user(inter):
        grouped = {}
        for i, user in enumerate(inter.users):
            grouped.setdefault(user, []).append(
                (int(inter.items[i]), int(inter.events[i]), inter.timestamps[i], inter.weights[i])
            )
        return grouped

    assert by_user(blob) == by_user(rows)
    with pytest.raises(ValueError, match="products it does not have"), sessions() as session:
        _interactions(session, blob_campaign, {})  # the blob without its campaign's products
