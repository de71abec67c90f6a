"""Write interactions.csv, the demo's shopping history: `python make_interactions.py`.

Invented and deterministic (a fixed seed): 36 shoppers of the Northwind demo catalog over the
two weeks before 2026-03-20, each leaning to one of three interests (camping nights, drinks on
the trail, slow evenings outside) and browsing the other products now and then. Views lead to
some carts and carts to some purchases. No real person's data; the file exists so that
`contentfab demo` has users to recommend for.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 17
SHOPPERS = 36
END = datetime(2026, 3, 20, 18, 0, tzinfo=UTC)
INTERESTS = {
    "camping": ["NW-TENT-2P", "NW-BAG-0C", "NW-HEADLAMP", "NW-LANTERN"],
    "trail-drinks": ["NW-BOTTLE-750", "NW-MUG-SET", "NW-HEADLAMP"],
    "evenings": ["NW-CHAIR", "NW-THROW-WOOL", "NW-LANTERN", "NW-MUG-SET"],
}
EVERYTHING = sorted({sku for skus in INTERESTS.values() for sku in skus})


def rows(rng: random.Random) -> list[tuple[str, str, str, str]]:
    found = []
    interests = list(INTERESTS)
    for number in range(1, SHOPPERS + 1):
        user = f"shopper-{number:02d}"
        liked = INTERESTS[interests[(number - 1) % len(interests)]]
        seen = rng.sample(liked, k=rng.randint(1, min(3, len(liked))))
        if rng.random() < 0.4:  # a look outside their interest
            seen.append(rng.choice([sku for sku in EVERYTHING if sku not in seen]))
        moment = END - timedelta(days=rng.uniform(0.5, 14))
        for sku in seen:
            moment += timedelta(minutes=rng.randint(1, 90))
            found.append((user, sku, "view", moment))
            if rng.random() < 0.45:
                moment += timedelta(minutes=rng.randint(1, 30))
                found.append((user, sku, "cart", moment))
                if rng.random() < 0.6:
                    moment += timedelta(minutes=rng.randint(1, 20))
                    found.append((user, sku, "purchase", moment))
    found.sort(key=lambda row: row[3])
    return [(u, s, e, t.strftime("%Y-%m-%dT%H:%M:%SZ")) for u, s, e, t in found]


def main() -> None:
    path = Path(__file__).with_name("interactions.csv")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["user_id", "product_id", "event", "timestamp"])
        writer.writerows(rows(random.Random(SEED)))


if __name__ == "__main__":
    main()
