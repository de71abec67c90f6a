"""What grounded decoding costs: tokens/s with and without the word mask, same prompts.

Sixteen copy prompts (eight products of the tuning catalog ``tests/data/catalog_200.csv`` × a
headline and a product description), exactly ``--tokens`` new tokens per row (the stop token
is switched off so both sides write the same number), sampled at the campaign default
temperature, batch of 16, interleaved rounds; reports the median tokens/s of each side and
their ratio, and how many distinct mask states were computed.

    python -m bench.copy_grounding_cost [--rounds 3] [--tokens 48] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.copy_quality import products
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore
from contentfab.workers.copy.messages import build_messages
from contentfab.workers.copy.slots import CopySlot
from contentfab.workers.textgen import SamplingParams, TextGenerator

MODEL = "smollm2-135m-instruct"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    store = ModelStore(Settings().model_store)
    loaded = TextGenerator.load(store.model_dir(MODEL), intra_op_threads=args.threads)
    generator = TextGenerator(
        loaded.manifest.with_keys(eos_token_ids=[-1]),
        loaded.session,
        loaded.tokenizer,
        loaded.provider,
    )
    slots = [
        CopySlot(key=i, product=p, channel=c, tone="friendly", sampling=SamplingParams())
        for i, (p, c) in enumerate(
            (p, c) for p in products(8) for c in ("search_headline", "product_description")
        )
    ]
    prompts = [generator.chat_prompt(build_messages(s)) for s in slots]
    params = [
        SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=args.tokens, seed=s.key)
        for s in slots
    ]
    grounding = generator.grounding
    generator.generate(prompts[:2], params[:2])  # warm-up: session, shared head
    speeds: dict[str, list[float]] = {"free": [], "grounded": []}
    for _ in range(args.rounds):
        for side in ("free", "grounded"):
            constraints = (
                [grounding.constraint(s.product.vocabulary(s.brand)) for s in slots]
                if side == "grounded"
                else None
            )
            started = time.perf_counter()
            out = generator.generate(prompts, params, constraints)
            elapsed = time.perf_counter() - started
            speeds[side].append(sum(len(g.token_ids) for g in out) / elapsed)
    free, grounded = statistics.median(speeds["free"]), statistics.median(speeds["grounded"])
    result = {
        "model": MODEL,
        "batch": len(prompts),
        "new_tokens": args.tokens,
        "threads": args.threads,
        "tokens_per_second": {"free": round(free, 1), "grounded": round(grounded, 1)},
        "rounds": {k: [round(v, 1) for v in vs] for k, vs in speeds.items()},
        "grounded_over_free": round(grounded / free, 3),
        "mask_states_computed": sum(len(m._masks) for m in grounding._masks.values()),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
