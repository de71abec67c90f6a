"""A synthetic but realistic shop: a product catalog with text, and users' interaction logs.

No public interaction data set can be reached from here, so this generator makes one in which
product text carries signal the way it does in a real shop, and where it does not:

* **Topics.** Each product belongs to one of :data:`TOPICS` (trail running, espresso, yoga, …,
  grouped into broader categories). Its title and description are written from the topic's own
  nouns and descriptive words, mixed with generic marketing words every topic shares and a
  random brand, so similar products read alike without being templates of each other.
* **Price tier.** About a third of products are budget and a third premium; the tier shows in
  the text ("affordable", "value" / "professional", "premium") and in the price.
* **Popularity** is a power law (Pareto, shape 1.1) and is *not* in the text: only interaction
  data reveals it — this is the signal popularity and ALS baselines live on.
* **Users** have a sparse topic mixture (Dirichlet α = 0.15: one to three interests), a price
  tier preference, and an activity level from a log-normal (a few heavy users, many light
  ones). Interests **drift**: a second mixture takes over gradually over the user's time line,
  so recent behaviour predicts the next item better than old behaviour.
* **Sessions.** A user's sessions are spread over 180 days; each picks one topic from the
  user's current mixture and browses 1–6 products of it, chosen in proportion to
  popularity × tier affinity (10 % of views are any popular product: noise). A view becomes a
  cart with probability 0.15 and a cart a purchase with probability 0.5; some products are
  viewed again later.

Everything is seeded. ``python -m bench.recs_data OUT_DIR --users N --products M`` writes
``catalog.csv``, ``interactions.csv`` and ``segments.json`` (a few audience descriptions) there.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# topic: (category, nouns, descriptive words, audience)
TOPICS: dict[str, tuple[str, list[str], list[str], str]] = {
    "trail running": (
        "Footwear",
        ["trail running shoe", "running sock", "hydration vest", "trail gaiter", "running cap"],
        ["grippy", "breathable", "cushioned", "rock plate", "lugged", "fast-drying"],
        "runners who love technical mountain trails",
    ),
    "hiking": (
        "Footwear",
        ["hiking boot", "trekking pole", "hiking sock", "approach shoe", "boot insole"],
        ["waterproof", "ankle support", "vibram sole", "sturdy", "all-day comfort"],
        "hikers covering long distances on rough paths",
    ),
    "camping": (
        "Outdoor",
        ["tent", "sleeping bag", "sleeping pad", "camp stove", "camp lantern"],
        ["weatherproof", "packable", "warm", "easy to pitch", "three-season"],
        "campers spending nights under the stars",
    ),
    "climbing": (
        "Outdoor",
        ["climbing harness", "chalk bag", "climbing shoe", "belay device", "carabiner set"],
        ["secure grip", "precise edging", "certified", "lightweight alloy", "crag-ready"],
        "climbers on boulders and big walls",
    ),
    "cycling": (
        "Sports",
        ["bike helmet", "cycling jersey", "bike light", "saddle bag", "cycling glove"],
        ["aerodynamic", "reflective", "padded", "ventilated", "road and gravel"],
        "cyclists commuting and riding long weekend loops",
    ),
    "swimming": (
        "Sports",
        ["swim goggles", "swimsuit", "swim cap", "kickboard", "training fins"],
        ["chlorine-resistant", "anti-fog", "streamlined", "quick-dry", "pool and open water"],
        "swimmers training laps in the pool",
    ),
    "yoga": (
        "Fitness",
        ["yoga mat", "yoga block", "yoga strap", "meditation cushion", "yoga towel"],
        ["non-slip", "eco-friendly cork", "cushioned", "calming", "balance and flexibility"],
        "yogis practising mindful flows at home",
    ),
    "strength training": (
        "Fitness",
        ["dumbbell set", "kettlebell", "resistance band", "weight bench", "lifting belt"],
        ["heavy-duty", "adjustable", "knurled grip", "home gym", "progressive overload"],
        "lifters building strength in a home gym",
    ),
    "espresso": (
        "Kitchen",
        ["espresso machine", "coffee grinder", "milk frother", "tamper", "espresso cup set"],
        ["barista-quality", "rich crema", "burr", "pressure-stable", "latte art"],
        "coffee lovers who pull shots every morning",
    ),
    "baking": (
        "Kitchen",
        ["stand mixer", "baking sheet", "bread proofing basket", "rolling pin", "cake tin"],
        ["non-stick", "even heat", "sourdough", "pastry", "golden crust"],
        "home bakers making bread and cakes on weekends",
    ),
    "grilling": (
        "Kitchen",
        ["charcoal grill", "meat thermometer", "grill brush", "smoker box", "grill tongs"],
        ["smoky flavour", "cast iron grate", "high heat", "barbecue", "backyard cookout"],
        "barbecue fans cooking outdoors all summer",
    ),
    "tea": (
        "Kitchen",
        ["tea kettle", "loose leaf tea", "teapot", "tea infuser", "matcha whisk"],
        ["fragrant", "gooseneck spout", "ceramic", "slow steeped", "calming ritual"],
        "tea drinkers who enjoy a slow afternoon cup",
    ),
    "gaming": (
        "Electronics",
        ["gaming mouse", "mechanical keyboard", "gaming headset", "controller", "mouse pad"],
        ["rgb lighting", "low latency", "tactile switches", "surround sound", "esports"],
        "gamers chasing wins in competitive matches",
    ),
    "home audio": (
        "Electronics",
        ["bookshelf speaker", "turntable", "soundbar", "subwoofer", "stereo amplifier"],
        ["hi-fi", "warm bass", "vinyl", "room-filling sound", "audiophile"],
        "music lovers listening to records at home",
    ),
    "photography": (
        "Electronics",
        ["camera tripod", "camera bag", "lens filter", "memory card", "camera strap"],
        ["sharp images", "stable", "padded dividers", "weather-sealed", "travel photography"],
        "photographers shooting landscapes and portraits",
    ),
    "smart home": (
        "Electronics",
        ["smart plug", "smart bulb", "video doorbell", "smart thermostat", "motion sensor"],
        ["voice control", "energy saving", "app controlled", "automation", "wifi"],
        "people automating lights and heating at home",
    ),
    "gardening": (
        "Home",
        ["garden hose", "pruning shears", "raised garden bed", "watering can", "seed starter kit"],
        ["rust-proof", "ergonomic", "organic vegetables", "flower beds", "backyard"],
        "gardeners growing vegetables and flowers",
    ),
    "bedding": (
        "Home",
        [
            "duvet cover",
            "memory foam pillow",
            "weighted blanket",
            "linen sheet set",
            "mattress topper",
        ],
        ["soft", "breathable linen", "deep sleep", "hypoallergenic", "cosy"],
        "sleepers who want a cosy restful bedroom",
    ),
    "skincare": (
        "Beauty",
        ["face serum", "moisturiser", "sunscreen", "cleanser", "eye cream"],
        ["hydrating", "vitamin c", "fragrance-free", "gentle", "glowing skin"],
        "people with a careful daily skincare routine",
    ),
    "baby": (
        "Kids",
        ["baby stroller", "baby carrier", "changing bag", "baby monitor", "high chair"],
        ["newborn", "safe", "foldable", "gentle on baby", "parent-friendly"],
        "new parents caring for a newborn",
    ),
    "pets": (
        "Pets",
        ["dog bed", "cat tree", "dog leash", "pet feeder", "chew toy"],
        ["durable", "washable", "playful", "for dogs and cats", "vet approved"],
        "pet owners spoiling their dogs and cats",
    ),
    "travel": (
        "Bags",
        [
            "carry-on suitcase",
            "travel pillow",
            "packing cubes",
            "passport wallet",
            "travel adapter",
        ],
        ["cabin size", "tsa lock", "organised packing", "long-haul flights", "lightweight shell"],
        "frequent travellers flying several times a year",
    ),
    "office": (
        "Office",
        ["ergonomic chair", "standing desk", "monitor arm", "desk lamp", "notebook"],
        ["posture support", "height adjustable", "productive", "cable management", "focus"],
        "remote workers setting up a home office",
    ),
    "fishing": (
        "Outdoor",
        ["fishing rod", "fishing reel", "tackle box", "fishing line", "landing net"],
        ["sensitive tip", "smooth drag", "freshwater and sea", "lure", "angler"],
        "anglers spending quiet mornings by the lake",
    ),
}
GENERIC = ["classic", "new", "everyday", "versatile", "best-selling", "modern", "essential"]
BRANDS = [
    "Northwind", "Alder", "Summit", "Brightline", "Oakridge", "Luma", "Kestrel", "Harbor",
    "Fjord", "Copperleaf", "Nimbus", "Ridgeway", "Solace", "Tandem", "Vireo", "Wren",
]  # fmt: skip
TIER_WORDS = {
    0: ["affordable", "value", "budget-friendly", "basic"],
    1: ["reliable", "well-made", "popular"],
    2: ["premium", "professional", "luxury", "expedition-grade"],
}
SEGMENTS = [
    ("outdoor-budget", "outdoor enthusiasts on a budget: hiking, camping and trail running"),
    ("coffee-premium", "coffee lovers who want premium espresso gear"),
    ("home-comfort", "people making their home cosy: bedding, smart home and tea"),
    ("new-parents", "new parents looking for safe baby products"),
]
EVENT_NAMES = ("view", "cart", "purchase")
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Shop:
    """The generated data set, as arrays and rows ready for CSV."""

    products: list[dict[str, str]]  # catalog rows
    topic: np.ndarray  # topic index per product
    tier: np.ndarray
    popularity: np.ndarray
    events: list[tuple[str, str, str, float, float]]  # user, sku, event, timestamp, weight
    n_users: int


def make_shop(n_users: int = 20_000, n_products: int = 5_000, *, seed: int = 0) -> Shop:
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    n_topics = len(names)
    topic = rng.integers(0, n_topics, n_products)
    tier = rng.choice(3, n_products, p=[0.35, 0.35, 0.30])
    popularity = (rng.pareto(1.1, n_products) + 1.0).astype(np.float64)
    products = []
    for i in range(n_products):
        category, nouns, words, audience = TOPICS[names[topic[i]]]
        noun = nouns[rng.integers(len(nouns))]
        chosen = rng.choice(words, size=2, replace=False)
        tier_word = TIER_WORDS[int(tier[i])][rng.integers(len(TIER_WORDS[int(tier[i])]))]
        generic = GENERIC[rng.integers(len(GENERIC))]
        brand = BRANDS[rng.integers(len(BRANDS))]
        title = f"{brand} {chosen[0].title()} {noun.title()} {100 + i}"
        description = (
            f"{_article(tier_word)} {tier_word}, {generic} {noun} that is {chosen[1]} and "
            f"{chosen[0]}, "
            f"made for {audience}."
        )
        base = float(np.exp(rng.normal(3.6, 0.5)))
        price = base * (0.55, 1.0, 2.2)[int(tier[i])]
        products.append(
            {
                "id": f"P{i:06d}",
                "title": title,
                "description": description,
                "category": category,
                "price": f"{price:.2f}",
                "currency": "EUR",
                "attributes": json.dumps({"in_stock": bool(rng.random() > 0.03)}),
            }
        )

    by_topic = [np.flatnonzero(topic == t) for t in range(n_topics)]
    tier_affinity = np.array([[3.0, 1.0, 0.4], [1.0, 2.0, 1.0], [0.4, 1.0, 3.0]])
    global_p = popularity / popularity.sum()
    events: list[tuple[str, str, str, float, float]] = []
    skus = [p["id"] for p in products]
    for u in range(n_users):
        user = f"U{u:07d}"
        early = rng.dirichlet(np.full(n_topics, 0.15))
        late = 0.5 * early + 0.5 * rng.dirichlet(np.full(n_topics, 0.15))
        taste = int(rng.choice(3, p=[0.4, 0.35, 0.25]))
        sessions = 1 + int(min(rng.lognormal(0.9, 0.8), 40))
        times = np.sort(rng.uniform(0.0, 180.0, sessions)) * DAY + START
        seen: list[int] = []
        for s, start in enumerate(times):
            share = s / max(sessions - 1, 1)
            mixture = (1 - share) * early + share * late
            t = int(rng.choice(n_topics, p=mixture / mixture.sum()))
            pool = by_topic[t]
            weight = popularity[pool] * tier_affinity[taste][tier[pool]]
            n_views = int(rng.integers(1, 7))
            clock = float(start)
            for _ in range(n_views):
                if seen and rng.random() < 0.1:
                    item = seen[int(rng.integers(len(seen)))]  # back to something seen before
                elif rng.random() < 0.1 or not len(pool):
                    item = int(rng.choice(n_products, p=global_p))
                else:
                    item = int(pool[rng.choice(len(pool), p=weight / weight.sum())])
                clock += float(rng.uniform(20, 400))
                events.append((user, skus[item], "view", clock, 1.0))
                seen.append(item)
                if rng.random() < 0.15:
                    clock += float(rng.uniform(10, 120))
                    events.append((user, skus[item], "cart", clock, 1.0))
                    if rng.random() < 0.5:
                        clock += float(rng.uniform(30, 600))
                        events.append((user, skus[item], "purchase", clock, 1.0))
    return Shop(products, topic, tier, popularity, events, n_users)


def _article(word: str) -> str:
    return "An" if word[0] in "aeiou" else "A"


def write_shop(shop: Shop, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    catalog = directory / "catalog.csv"
    with catalog.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(shop.products[0]))
        writer.writeheader()
        writer.writerows(shop.products)
    interactions = directory / "interactions.csv"
    with interactions.open("w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["user_id", "product_id", "event", "timestamp"])
        for user, sku, event, ts, _ in shop.events:
            rows.writerow([user, sku, event, f"{ts:.0f}"])
    segments = directory / "segments.json"
    segments.write_text(
        json.dumps([{"name": n, "description": d} for n, d in SEGMENTS], indent=2) + "\n"
    )
    return {"catalog": catalog, "interactions": interactions, "segments": segments}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shop = make_shop(args.users, args.products, seed=args.seed)
    paths = write_shop(shop, args.out)
    print(f"{len(shop.events):,} events by {shop.n_users:,} users → {paths['interactions']}")


if __name__ == "__main__":
    main()
