"""A campaign's interactions stored once as a columnar blob, and read back the same."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.exc import IntegrityError

from contentfab.db.interaction_log import decode, encode, load_interactions, store_interactions
from contentfab.db.models import Campaign, Product
from contentfab.db.session import transaction


def _campaign(session) -> tuple[Campaign, list[Product]]:
    campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
    products = [
        Product(campaign=campaign, row=2 + i, sku=f"p{i}", title="P", attributes={})
        for i in range(3)
    ]
    session.add_all([campaign, *products])
    session.flush()
    return campaign, products


def test_interactions_round_trip_through_the_database(sessions):
    users = ["ü-1", "u2", "ü-1", "user with spaces", "u2"]
    events = ["view", "purchase", "cart", "view", "view"]
    stamps = [1.5e9, 1.5e9 + 0.25, 1.7e9, 0.0, 99_999_999_999.5]
    weights = [1.0, 2.5, 1e6, 0.001, 1.0]
    with transaction(sessions) as session:
        campaign, products = _campaign(session)
        ids = [products[i].id for i in (2, 0, 1, 2, 2)]
        store_interactions(session, campaign.id, users, iter(ids), events, stamps, weights)
        empty, _ = _campaign(session)
    with sessions() as session:
        stored = load_interactions(session, campaign.id)
        assert load_interactions(session, empty.id) is None  # nothing stored for it
    assert stored is not None and len(stored) == 5
    assert stored.user_ids == ["ü-1", "u2", "user with spaces"]  # order of first appearance
    assert [stored.user_ids[c] for c in stored.user] == users
    assert stored.product_id.tolist() == ids
    assert [stored.event_names[c] for c in stored.event] == events
    assert stored.timestamp.tolist() == stamps  # float64: nothing rounded
    assert stored.weight.tolist() == weights
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        store_interactions(session, campaign.id, ["u"], [ids[0]], ["view"], [1.0], [1.0])


def test_an_empty_log_and_a_newline_in_an_id():
    stored = decode(encode([], [], [], [], [])[0])
    assert len(stored) == 0 and stored.user_ids == [] and stored.event_names == []
    with pytest.raises(ValueError, match="newline"):
        encode(["a\nb"], [1], ["view"], [1.0], [1.0])
    assert decode(encode(["a"], [7], ["view"], [1.0], [1.0])[0]).product_id.dtype == np.int64
