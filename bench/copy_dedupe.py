"""How far apart SmolLM2's candidates for one slot are, as the copy worker's embedder sees them.

Samples ``--candidates`` texts per product × channel with the pipeline's prompts and sampling,
keeps those that pass the gates, and records for every pair of one slot group: the MiniLM cosine
and whether the lexical dedupe (normalised text, word/char-trigram Jaccard) calls them
duplicates; for every passing text: its length-normalised log-likelihood and its cosine to the
product text. The embedding threshold and the relevance weight in ``workers/copy/``
were chosen from this output (see BENCHMARKS.md).

    python -m bench.copy_dedupe [--products 12] [--candidates 8]
        [--channels email_subject,search_description,sms] [--out bench/results-copy-dedupe.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from bench.copy_quality import MODEL, products
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore, build_model
from contentfab.workers.copy.dedupe import near_duplicate
from contentfab.workers.copy.messages import build_messages
from contentfab.workers.copy.slots import CopySlot, product_text
from contentfab.workers.copy.writer import _candidate_params, _first_publishable
from contentfab.workers.embeddings import TextEmbedder
from contentfab.workers.textgen import SamplingParams, TextGenerator

EMBEDDER = "minilm-l6-v2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=12)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--channels", default="email_subject,search_description,sms")
    parser.add_argument("--out", type=Path, default=Path("bench/results-copy-dedupe.json"))
    args = parser.parse_args()
    store = ModelStore(Settings().model_store)
    build_model(MODEL, store)
    build_model(EMBEDDER, store)
    generator = TextGenerator.load(store.model_dir(MODEL))
    embedder = TextEmbedder.load(store.model_dir(EMBEDDER))
    load = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    pairs: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    for channel in args.channels.split(","):
        for i, product in enumerate(products(args.products)):
            slot = CopySlot(
                key=i,
                product=product,
                channel=channel,
                tone="energetic",
                sampling=SamplingParams(
                    temperature=0.6, top_p=0.95, repetition_penalty=1.1, max_new_tokens=240
                ),
                candidates=args.candidates,
            )
            prompt = generator.chat_prompt(build_messages(slot))
            params = _candidate_params(slot, 0)
            kept = []
            for generation in generator.generate([prompt] * len(params), params):
                text, _ = _first_publishable(generation, slot.spec, product, slot.brand)
                if text is not None and text not in [k[0] for k in kept]:
                    lp = generation.logprob_sum / max(1, len(generation.token_ids))
                    kept.append((text, lp))
            if len(kept) < 1:
                continue
            vectors = embedder.embed([product_text(product), *[k[0] for k in kept]])
            for (text, lp), vector in zip(kept, vectors[1:], strict=True):
                relevance = float(vector @ vectors[0])
                texts.append(
                    {
                        "channel": channel,
                        "sku": product.sku,
                        "text": text,
                        "lp": lp,
                        "rel": relevance,
                    }
                )
            for a, b in combinations(range(len(kept)), 2):
                pairs.append(
                    {
                        "channel": channel,
                        "sku": product.sku,
                        "a": kept[a][0],
                        "b": kept[b][0],
                        "cosine": round(float(vectors[1 + a] @ vectors[1 + b]), 4),
                        "lexical_duplicate": near_duplicate(kept[a][0], [kept[b][0]]) is not None,
                    }
                )
        print(channel, len(texts), len(pairs), flush=True)
    cosines = np.array([p["cosine"] for p in pairs])
    lexical = np.array([p["lexical_duplicate"] for p in pairs])
    lps = np.array([t["lp"] for t in texts])
    rels = np.array([t["rel"] for t in texts])
    report = {
        "model": MODEL,
        "embedder": EMBEDDER,
        "load_average_at_start": load,
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - started, 1),
        "passing_texts": len(texts),
        "pairs": len(pairs),
        "lexical_duplicate_pairs": int(lexical.sum()),
        "cosine_quantiles_all": np.quantile(cosines, [0.5, 0.9, 0.95, 0.99]).round(3).tolist(),
        "cosine_of_lexical_duplicates_min": float(cosines[lexical].min())
        if lexical.any()
        else None,
        "pairs_at_or_above": {
            str(t): int((cosines >= t).sum()) for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95)
        },
        "pairs_at_or_above_not_lexical": {
            str(t): int(((cosines >= t) & ~lexical).sum())
            for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95)
        },
        "logprob_per_token_std": round(float(lps.std()), 4),
        "relevance_std": round(float(rels.std()), 4),
        "relevance_mean": round(float(rels.mean()), 4),
        "pairs_by_cosine": sorted(pairs, key=lambda p: -p["cosine"]),
        "texts": texts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps({k: v for k, v in report.items() if k not in ("pairs_by_cosine", "texts")}))


if __name__ == "__main__":
    main()
