"""Copy quality per channel on the shipped 200-product catalog (issue #3's numbers).

For each channel: share of slots filled, share of sampled candidates failing each gate, and
generated tokens per second, with best-of-N as the pipeline runs it. Every delivered text is
checked again (channel limit and every gate) and the share that passes is reported; ``--variants
2`` writes two variants per product so the ``duplicate`` gate is exercised.

    python -m bench.copy_quality [--products 24] [--candidates 4] [--variants 1] [--rounds 3]
        [--channels search_headline,sms] [--embedder minilm-l6-v2]
        [--out bench/results-copy-quality.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from contentfab.campaign import load_campaign
from contentfab.core.channels import CHANNELS, fits
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore, build_model
from contentfab.workers.copy.gates import check
from contentfab.workers.copy.records import product_facts
from contentfab.workers.copy.slots import CopySlot, ProductFacts
from contentfab.workers.copy.writer import write_copy
from contentfab.workers.textgen import SamplingParams, TextGenerator

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"


def products(n: int) -> list[ProductFacts]:
    """``n`` products spread over the catalog (unicode, long names, no price), read by the
    campaign loader as ``contentfab run`` reads them (attributes included)."""
    with tempfile.TemporaryDirectory() as folder:
        campaign = Path(folder) / "campaign.yaml"
        shutil.copy(ROOT / "tests" / "data" / "catalog_200.csv", Path(folder) / "catalog.csv")
        campaign.write_text("name: bench\ncatalog: catalog.csv\ncopy: {channels: [sms]}\n")
        records = load_campaign(campaign).products
    step = max(1, len(records) // n)
    return [product_facts(r, None) for r in records[::step][:n]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=24)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--channels", default=",".join(CHANNELS))
    parser.add_argument("--embedder", default=None, help="sentence encoder for dedupe/ranking")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings()
    store = ModelStore(settings.model_store)
    build_model(MODEL, store)
    generator = TextGenerator.load(store.model_dir(MODEL), intra_op_threads=0)
    embedder = None
    if args.embedder:
        from contentfab.workers.embeddings import TextEmbedder

        build_model(args.embedder, store)
        embedder = TextEmbedder.load(store.model_dir(args.embedder))
    catalog = products(args.products)
    report: dict[str, Any] = {
        "products": len(catalog),
        "candidates": args.candidates,
        "variants": args.variants,
        "rounds": args.rounds,
        "model": generator.version,
        "embedder": None if embedder is None else embedder.provenance["version"],
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "channels": {},
    }
    for channel in args.channels.split(","):
        slots = [
            CopySlot(
                key=i * args.variants + v,
                product=p,
                channel=channel,
                tone="energetic",
                sampling=SamplingParams(
                    temperature=0.6,
                    top_p=0.95,
                    repetition_penalty=1.1,
                    max_new_tokens=240,
                    seed=1000 + i * args.variants + v,
                ),
                candidates=args.candidates,
            )
            for i, p in enumerate(catalog)
            for v in range(args.variants)
        ]
        started = time.perf_counter()
        outcomes = write_copy(generator, slots, embedder=embedder, max_rounds=args.rounds)
        seconds = time.perf_counter() - started
        sampled = sum(o.meta["candidates_sampled"] for o in outcomes)
        gates: Counter[str] = Counter()
        for o in outcomes:
            gates.update(o.meta["gate_failures"])
        delivered = [o.text for o in outcomes if o.text is not None]
        passing = [
            o.text
            for o, slot in zip(outcomes, slots, strict=True)
            if o.text is not None
            and fits(CHANNELS[channel], o.text)
            and not check(o.text, CHANNELS[channel], slot.product)
        ]
        tokens = sum(o.meta.get("tokens", 0) for o in outcomes)
        report["channels"][channel] = {
            "slots": len(slots),
            "filled": round(len(delivered) / len(slots), 3),
            "delivered_within_limits": all(fits(CHANNELS[channel], t) for t in delivered),
            "delivered_passing_all_gates": round(len(passing) / max(1, len(delivered)), 3),
            "candidates_sampled": sampled,
            "rejected_by_gate": {g: round(n / sampled, 3) for g, n in gates.most_common()},
            "seconds": round(seconds, 1),
            "chosen_tokens_per_s": round(tokens / seconds, 1),
            "sampled_tokens_per_s": round(
                sum(o.meta["tokens_sampled"] for o in outcomes) / seconds, 1
            ),
            # How much of what was delivered the model wrote from the product's name on, and
            # how much is the bare name (a fair headline, but no copywriting).
            "delivered_starting_from_name": round(
                sum(bool(o.meta.get("response_prefix")) for o in outcomes if o.text is not None)
                / max(1, len(delivered)),
                3,
            ),
            "delivered_name_only": round(
                sum(
                    o.text is not None and o.text in slot.product.names()
                    for o, slot in zip(outcomes, slots, strict=True)
                )
                / max(1, len(delivered)),
                3,
            ),
            "examples": delivered[:3],
            "delivered": [
                {"sku": slot.product.sku, "text": o.text}
                for o, slot in zip(outcomes, slots, strict=True)
                if o.text is not None
            ],
        }
        shown = {k: v for k, v in report["channels"][channel].items() if k != "delivered"}
        print(channel, json.dumps(shown, ensure_ascii=False), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
