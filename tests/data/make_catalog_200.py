"""Writes catalog_200.csv next to this file: 200 varied products, the same every run.

Run `python tests/data/make_catalog_200.py` after changing it; the CSV is committed so tests
do not depend on this script.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

KINDS = [
    ("Tent", "Camping"),
    ("Sleeping Bag", "Camping"),
    ("Headlamp", "Lighting"),
    ("Lantern", "Lighting"),
    ("Water Bottle", "Hydration"),
    ("Rain Jacket", "Apparel"),
    ("Hiking Boot", "Footwear"),
    ("Wool Throw", "Home"),
    ("Cast-Iron Skillet", "Kitchen"),
    ("Doormat", "Home"),
    ("Daypack", "Bags"),
    ("Camp Chair", "Camp furniture"),
]
ADJECTIVES = [
    "Trailhead",
    "Ridgeline",
    "Alpine",
    "Emberglow",
    "Harbor",
    "Fjord",
    "Canyon",
    "Meadow",
]
UNICODE_TITLES = [
    "Fjällbacka Wool Throw Blanket",
    "Ångström Ultralight Tarp",
    "登山用ヘッドランプ 400ルーメン",
    "캠핑 의자 접이식",
    "Походный котелок 1,2 л",
    "Crème brûlée Ramekin Set (4)",
    "Ποτήρι ταξιδιού 500 ml",
    "Sac à dos « Randonnée » 30 L",
]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "SEK", "CHF", "CAD"]
COLORS = ["Glacier Blue", "Moss", "Rust", "Charcoal", "Sand", "Fjord Grey"]


def product(number: int, rng: random.Random) -> dict[str, str]:
    noun, category = rng.choice(KINDS)
    if number % 9 == 0:
        title = UNICODE_TITLES[(number // 9) % len(UNICODE_TITLES)]
    elif number % 23 == 0:
        title = ("Extra-Long Name " + " ".join(rng.choice(ADJECTIVES) for _ in range(40)))[:300]
    else:
        title = f"{rng.choice(ADJECTIVES)} {noun} {rng.randint(1, 9)}00"
    currency = CURRENCIES[number % len(CURRENCIES)]
    if number % 7 == 0:
        price, currency = "", ""
    elif currency == "JPY":
        price = str(rng.randint(9, 400) * 100)
    else:
        price = f"{rng.randint(5, 600)}.{rng.choice(['00', '50', '95', '99'])}"
    description = (
        f"A {noun.lower()} for people who spend their weekends outside. "
        f'Built to last, rated "{rng.choice(["good", "great", "excellent"])}" by testers, '
        "and backed by a two-year warranty."
    )
    if number % 11 == 0:
        description += "\nSecond paragraph: care instructions, wipe clean, store dry."
    if number % 2:
        attributes = f"color={rng.choice(COLORS)};weight_g={rng.randint(80, 4000)}"
    else:
        attributes = json.dumps({"color": rng.choice(COLORS), "recycled": bool(number % 3)})
    return {
        "id": f"SKU-{number:05d}",
        "title": title,
        "description": description,
        "category": category if number % 13 else "",
        "price": price,
        "currency": currency,
        "attributes": attributes,
    }


def main() -> None:
    rng = random.Random(200)
    path = Path(__file__).with_name("catalog_200.csv")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(product(1, rng)))
        writer.writeheader()
        for number in range(1, 201):
            writer.writerow(product(number, rng))


if __name__ == "__main__":
    main()
