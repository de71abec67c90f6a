"""The recommender's pure functions: vectors, rules, MMR, quotas, cold start, reasons."""

from __future__ import annotations

import numpy as np
import pytest

from contentfab.workers.embeddings import embed_with_cache, text_sha256
from contentfab.workers.recommender import (
    CandidateIndex,
    Catalog,
    History,
    HistoryIndex,
    Interactions,
    Rules,
    Subject,
    event_strength,
    group_histories,
    popularity_prior,
    product_text,
    recommend,
)

DAY = 86_400.0


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def catalog(**overrides) -> Catalog:
    """Six products on three axes: two 'boots', two 'coffee', two 'tents'."""
    vectors = np.stack(
        [
            unit(1, 0.05, 0),
            unit(1, 0, 0.05),
            unit(0, 1, 0.02),
            unit(0.02, 1, 0),
            unit(0, 0.05, 1),
            unit(0.05, 0, 1),
        ]
    )
    args = {
        "categories": ["Boots", "Boots", "Coffee", "Coffee", "Tents", "Tents"],
        "prices": [100, 50, 300, 20, 200, None],
        "in_stock": [True] * 6,
    }
    args.update(overrides)
    return Catalog.build(
        [f"P{i}" for i in range(6)],
        ["Trail Boot", "City Boot", "Espresso Pro", "Drip Kit", "Dome Tent", "Tarp"],
        vectors,
        **args,
    )


def history(items, events=None, strength=None) -> History:
    items = np.array(items, dtype=np.int64)
    return History(
        items,
        np.array(events if events is not None else [0] * len(items), dtype=np.int64),
        np.array(strength if strength is not None else [1.0] * len(items), dtype=np.float32),
    )


def skus(rec) -> list[str]:
    return [item.sku for item in rec.items]


def test_event_strength_weights_and_halves_at_the_half_life():
    inter = Interactions.from_records(
        [("u", 0, "view", 100 * DAY, 1.0), ("u", 1, "purchase", 100 * DAY, 1.0),
         ("u", 2, "view", 70 * DAY, 1.0), ("u", 3, "cart", 100 * DAY, 2.0)]
    )  # fmt: skip
    strength = event_strength(inter, now=100 * DAY, half_life_days=30)
    assert strength.tolist() == pytest.approx([1.0, 5.0, 0.5, 6.0])


def test_group_histories_gives_every_asked_user_an_entry():
    inter = Interactions.from_records(
        [("a", 0, "view", 1.0, 1.0), ("b", 1, "view", 2.0, 1.0), ("a", 2, "cart", 3.0, 1.0)]
    )
    groups = group_histories(inter, np.ones(3, np.float32), ["a", "c"])
    assert groups["a"].items.tolist() == [0, 2] and groups["a"].events.tolist() == [0, 1]
    assert groups["c"].empty and "b" not in groups


def test_the_history_index_slices_what_group_histories_splits():
    rng = np.random.default_rng(3)
    users = [f"u{i}" for i in rng.integers(0, 40, 500)]
    inter = Interactions.from_records(
        (u, int(rng.integers(0, 6)), ["view", "cart", "purchase"][int(rng.integers(0, 3))],
         float(rng.integers(0, 10**6)), 1.0) for u in users
    )  # fmt: skip
    strength = event_strength(inter, now=1e6)
    index = HistoryIndex.build(inter, strength)
    asked = [*sorted(set(users)), "nobody"]
    grouped = group_histories(inter, strength, asked)
    for user in asked:
        got, want = index.history(user), grouped[user]
        assert got.items.tolist() == want.items.tolist()
        assert got.events.tolist() == want.events.tolist()
        assert got.strength.tolist() == want.strength.tolist()
    assert index.history("nobody").empty
    # Users given as codes (as a stored blob has them) slice the same histories.
    names = sorted(set(users), reverse=True)
    codes = np.array([names.index(u) for u in users], dtype=np.int32)
    coded = HistoryIndex.build(inter, strength, (names, codes))
    for user in asked:
        got, want = coded.history(user), grouped[user]
        assert got.items.tolist() == want.items.tolist()
        assert got.strength.tolist() == want.strength.tolist()


def test_a_user_gets_products_like_their_history_first():
    (rec,) = recommend(
        catalog(), [Subject(1, "user", "u", history([2]))], Rules(k=2, popularity_weight=0)
    )
    assert skus(rec) == ["P2", "P3"]
    assert rec.strategy == "history"
    assert rec.items[1].reason == "similar to Espresso Pro you viewed"


def test_purchased_products_are_excluded_and_seen_ones_kept_unless_asked():
    subject = Subject(1, "user", "u", history([2, 0], events=[2, 0]))
    (rec,) = recommend(catalog(), [subject], Rules(k=6, popularity_weight=0))
    assert "P2" not in skus(rec) and "P0" in skus(rec)
    (rec,) = recommend(catalog(), [subject], Rules(k=6, popularity_weight=0, exclude_seen=True))
    assert {"P0", "P2"}.isdisjoint(skus(rec)) and rec.short


def test_stock_and_price_band_apply_before_the_cut_off():
    cat = catalog(in_stock=[True, True, False, True, True, True])
    subject = Subject(1, "user", "u", history([3]))
    (rec,) = recommend(cat, [subject], Rules(k=3, price_band=(10, 150), popularity_weight=0))
    # P2 out of stock, P4 (200) over the band, P5 has no price: what is left fills the list.
    assert skus(rec) == ["P3", "P0", "P1"]
    assert not rec.short


def test_category_quota_is_never_exceeded():
    subject = Subject(1, "user", "u", history([0, 1], strength=[1.0, 1.0]))
    (rec,) = recommend(catalog(), [subject], Rules(k=3, category_quota=1, popularity_weight=0))
    categories = [s[1] for s in skus(rec)]
    assert len(rec.items) == 3 and len(set(categories)) == 3


def test_mmr_diversity_trades_relevance_for_variety():
    vectors = np.stack([unit(1, 0), unit(1, 0.01), unit(1, 0.02), unit(0.8, 0.6)])
    cat = Catalog.build(["a", "b", "c", "d"], ["A", "B", "C", "D"], vectors)
    segment = Subject(1, "segment", "s", segment_vector=unit(1, 0))
    (plain,) = recommend(cat, [segment], Rules(k=2, popularity_weight=0))
    (diverse,) = recommend(cat, [segment], Rules(k=2, diversity=0.7, popularity_weight=0))
    assert skus(plain) == ["a", "b"]
    assert skus(diverse) == ["a", "d"]
    assert diverse.items[0].reason == "matches s"


def test_cold_users_get_popular_products_within_their_segment_or_overall():
    prior = popularity_prior(np.array([5, 5, 5, 3, 3, 0]), np.ones(6, np.float32), 6)
    cat = catalog().with_popularity(prior)
    cold = Subject(1, "user", "new", history([]))
    (rec,) = recommend(cat, [cold], Rules(k=2))
    assert skus(rec) == ["P5", "P3"] and rec.strategy == "popular"
    assert rec.items[0].reason == "popular in Tents"
    coffee = Subject(
        2, "user", "new", history([]), segment_vector=unit(0, 1, 0), segment_name="coffee fans"
    )
    import contentfab.workers.recommender.ranking as ranking

    old = ranking.COLD_POOL
    ranking.COLD_POOL = 2
    try:
        (rec,) = recommend(cat, [coffee], Rules(k=2))
    finally:
        ranking.COLD_POOL = old
    assert set(skus(rec)) == {"P2", "P3"} and skus(rec)[0] == "P3"
    assert rec.strategy == "cold-segment" and rec.items[0].reason == "popular in coffee fans"


def test_lists_do_not_depend_on_batching():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cat = Catalog.build(
        [f"p{i}" for i in range(50)],
        [f"t{i}" for i in range(50)],
        vectors,
        categories=[f"c{i % 4}" for i in range(50)],
    ).with_popularity(rng.random(50).astype(np.float32))
    subjects = [
        Subject(
            i,
            "user",
            f"u{i}",
            history(rng.choice(50, 4, replace=False).tolist(), events=[0, 1, 2, 0]),
        )
        for i in range(20)
    ]
    rules = Rules(k=5, diversity=0.3, category_quota=2)
    one = recommend(cat, subjects, rules, batch_size=1)
    many = recommend(cat, subjects, rules, batch_size=64)
    assert [skus(r) for r in one] == [skus(r) for r in many]
    for rec in many:
        assert len(rec.items) == 5 and len({s for s in skus(rec)}) == 5


def shop_catalog(n: int, seed: int = 0) -> Catalog:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, 16)).astype(np.float32)
    vectors = centres[rng.integers(0, 8, n)] + 0.4 * rng.standard_normal((n, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    shop = Catalog.build(
        [f"P{i}" for i in range(n)],
        [f"Product {i}" for i in range(n)],
        vectors,
        categories=[f"C{i % 7}" for i in range(n)],
        prices=[float(rng.integers(1, 300)) for _ in range(n)],
        in_stock=(rng.random(n) > 0.1).tolist(),
    )
    return shop.with_popularity(rng.random(n).astype(np.float32))


def shoppers(shop: Catalog, n: int, seed: int = 1) -> list[Subject]:
    rng = np.random.default_rng(seed)
    people = []
    for i in range(n):
        size = int(rng.integers(0, 12))  # some users are cold
        events = rng.integers(0, 3, size)
        people.append(
            Subject(i, "user", f"u{i}", history(rng.integers(0, len(shop), size), events))
        )
    people.append(Subject(n, "segment", "s", segment_vector=shop.vectors[0]))
    return people


@pytest.mark.parametrize("rules", [
    Rules(k=10, diversity=0.3, category_quota=3, price_band=(10, 250)),
    Rules(k=5, exclude_seen=True, popularity_weight=0.5),
])  # fmt: skip
def test_an_exact_index_gives_the_lists_of_the_exact_path(rules):
    pytest.importorskip("faiss")
    shop = shop_catalog(3000)
    people = shoppers(shop, 300)
    index = CandidateIndex.build(shop, rules, min_products=0)
    assert index is not None and len(index.rows) < len(shop)  # out of stock / price band
    assert CandidateIndex.build(shop, rules, min_products=len(shop)) is None
    exact = recommend(shop, people, rules)
    indexed = recommend(shop, people, rules, index=index)
    assert {r.strategy for r in indexed} == {"history", "popular", "segment"}
    for a, b in zip(exact, indexed, strict=True):
        assert skus(a) == skus(b) and a.strategy == b.strategy
        assert [i.score for i in a.items] == pytest.approx([i.score for i in b.items], abs=1e-5)


def test_rules_refuse_nonsense():
    with pytest.raises(ValueError):
        Rules(k=0)
    with pytest.raises(ValueError):
        Rules(diversity=1.5)
    with pytest.raises(ValueError):
        Rules(price_band=(10, 5))


def test_product_text_reads_like_the_catalog():
    assert product_text("Trail Boot", "Grippy.", "Footwear") == "Trail Boot. Footwear. Grippy."
    assert product_text("Trail Boot") == "Trail Boot"


class CountingEmbedder:
    dim = 2

    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_the_embedding_cache_embeds_each_new_text_once():
    embedder = CountingEmbedder()
    known = {text_sha256("old"): np.array([9.0, 9.0], dtype=np.float32)}
    matrix, fresh = embed_with_cache(embedder, ["old", "new", "new", "newer"], known)
    assert embedder.seen == ["new", "newer"]
    assert set(fresh) == {text_sha256("new"), text_sha256("newer")}
    assert matrix.tolist() == [[9, 9], [3, 1], [3, 1], [5, 1]]
