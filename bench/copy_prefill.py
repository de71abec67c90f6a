"""What running shared prompts once saves: best-of-N copy batches with and without it.

The same batches (``--products`` products × best-of-``--candidates`` of one channel, the
prompts ``write_copy`` sends, answer prefixes included) are generated with
``TextGenerator.share_prompts`` off and on, alternately, ``--repeats`` times each, in one
process; the report gives both times, their ratio, and whether every row wrote the same tokens.

    python -m bench.copy_prefill [--products 16] [--channel search_headline] [--repeats 2]
        [--out bench/results-copy-prefill.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench.copy_quality import MODEL, products
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore, build_model
from contentfab.workers.copy.messages import build_messages, response_prefixes
from contentfab.workers.copy.slots import CopySlot
from contentfab.workers.copy.writer import _candidate_params
from contentfab.workers.textgen import SamplingParams, TextGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=16)
    parser.add_argument("--channel", default="search_headline")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    store = ModelStore(Settings().model_store)
    build_model(MODEL, store)
    generator = TextGenerator.load(store.model_dir(MODEL))
    prompts, params = [], []
    for i, product in enumerate(products(args.products)):
        sampling = SamplingParams(
            temperature=0.6, top_p=0.95, repetition_penalty=1.1, max_new_tokens=240, seed=i
        )
        slot = CopySlot(i, product, args.channel, "energetic", sampling, args.candidates)
        chat = generator.chat_prompt(build_messages(slot))
        for p, prefix in zip(_candidate_params(slot, 0), response_prefixes(slot, 0), strict=True):
            prompts.append(chat + prefix)
            params.append(p)
    load = [round(x, 2) for x in os.getloadavg()]
    seconds: dict[bool, list[float]] = {False: [], True: []}
    tokens: dict[bool, list[list[int]]] = {}
    for _ in range(args.repeats):
        for share in (False, True):
            generator.share_prompts = share
            generator._head = ((), [])  # each measured pass starts without a cached head
            started = time.perf_counter()
            rows = []
            for start in range(0, len(prompts), args.batch_size):
                rows += generator.generate(
                    prompts[start : start + args.batch_size],
                    params[start : start + args.batch_size],
                )
            seconds[share].append(time.perf_counter() - started)
            tokens[share] = [r.token_ids for r in rows]
    report = {
        "channel": args.channel,
        "rows": len(prompts),
        "distinct_prompts": len(set(prompts)),
        "batch_size": args.batch_size,
        "seconds_each_prompt_run_per_row": [round(s, 2) for s in seconds[False]],
        "seconds_shared": [round(s, 2) for s in seconds[True]],
        "speedup": round(sum(seconds[False]) / sum(seconds[True]), 2),
        "same_tokens": sum(a == b for a, b in zip(tokens[False], tokens[True], strict=True)),
        "load_average_at_start": load,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
