"""Decoders side by side (issue #19): the traced graph, the fused graph (fp32, and 8-bit when
built), onnxruntime-genai and transformers ``generate``, on the same copy prompts.

Every side gets the same prompts (the chats ``write_copy`` sends for ``--channel``, one product
per row) and writes exactly ``--tokens`` new tokens per row, greedy, the stop token disabled
(``min_length`` for onnxruntime-genai, ``min_new_tokens`` for transformers). A batch is
best-of-``--candidates`` copy rows, as the copy worker sends them (each product's chat that many
times; ``--candidates 1``: every row a different product). Each side runs each batch twice per
round, for one token (the prompt step) and for ``--tokens``; the difference is the cost of the
decode steps. Rounds are interleaved: each round runs every batch size on every side in turn,
so a change of load hits all sides alike; the report gives each side's best times and its speed
relative to the traced graph and to onnxruntime-genai in the same run (whole run, prompt step,
decode step). It also reports, per side, whether each row
writes the same tokens alone as in the batch (batch invariance), how many rows equal the traced
graph's tokens, and the 8-bit graph's teacher-forced top-1 agreement with the fp32 one.

onnxruntime-genai is optional (``pip install onnxruntime-genai``; the model folder comes from its
builder: ``python -m onnxruntime_genai.models.builder -i HF_DIR -o DIR -p fp32 -e cpu``).

    python -m bench.decoder_fused --fused-store DIR [--fused8-store DIR] [--genai DIR]
        [--hf] [--batches 1 8 16] [--tokens 48] [--candidates 4] [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.copy_quality import MODEL, products
from contentfab.core.model_store import FUSED_SUFFIX
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore
from contentfab.workers.copy.messages import build_messages
from contentfab.workers.copy.slots import CopySlot
from contentfab.workers.textgen import SamplingParams, TextGenerator

Side = Callable[[list[list[int]], int], list[list[int]]]


def endless(generator: TextGenerator) -> TextGenerator:
    """The same model with no stop token, so every row writes exactly the tokens asked for."""
    return TextGenerator(
        generator.manifest.with_keys(eos_token_ids=[-1]),
        generator.session,
        generator.tokenizer,
        generator.provider,
    )


def ours(generator: TextGenerator) -> Side:
    def run(prompt_ids: list[list[int]], tokens: int) -> list[list[int]]:
        params = [SamplingParams(max_new_tokens=tokens)] * len(prompt_ids)
        return [g.token_ids for g in generator.generate_ids(prompt_ids, params)]

    return run


def genai(model_dir: Path) -> Side:
    import onnxruntime_genai as og

    model = og.Model(str(model_dir))
    pad = int(json.loads((model_dir / "genai_config.json").read_text())["model"]["pad_token_id"])

    def run(prompt_ids: list[list[int]], tokens: int) -> list[list[int]]:
        # Left-padded as its tokenizer's encode_batch pads; the prompt ids are ours (the same
        # tokenizer.json), so every side reads the same tokens.
        width = max(len(ids) for ids in prompt_ids)
        batch = np.full((len(prompt_ids), width), pad, dtype=np.int32)
        for i, ids in enumerate(prompt_ids):
            batch[i, width - len(ids) :] = ids
        params = og.GeneratorParams(model)
        params.set_search_options(
            max_length=width + tokens,
            min_length=width + tokens,
            do_sample=False,
            batch_size=len(prompt_ids),
        )
        generator = og.Generator(model, params)
        generator.append_tokens(batch)
        while not generator.is_done():
            generator.generate_next_token()
        return [[int(t) for t in generator.get_sequence(i)[width:]] for i in range(len(prompt_ids))]

    return run


def transformers_generate() -> Side:
    import torch

    from contentfab.exporters.build import NAMED_MODELS

    model, _ = NAMED_MODELS[MODEL]().load()
    model.eval()

    def run(prompt_ids: list[list[int]], tokens: int) -> list[list[int]]:
        width = max(len(ids) for ids in prompt_ids)
        input_ids = torch.zeros((len(prompt_ids), width), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for i, ids in enumerate(prompt_ids):
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            mask[i, width - len(ids) :] = 1
        with torch.no_grad():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                max_new_tokens=tokens,
                min_new_tokens=tokens,
                do_sample=False,
                pad_token_id=0,
            )
        return [row[width:].tolist() for row in out]

    return run


def copy_prompts(
    generator: TextGenerator, count: int, channel: str, candidates: int = 1
) -> list[list[int]]:
    """``count`` rows of copy prompts: each product's chat ``candidates`` times in a row, as a
    best-of-N copy batch sends it (``candidates=1``: one product per row)."""
    sampling = SamplingParams()
    chats = [
        generator.encode(
            generator.chat_prompt(
                build_messages(CopySlot(i, product, channel, "energetic", sampling))
            )
        )
        for i, product in enumerate(products(-(-count // candidates)))
    ]
    return [chats[i // candidates] for i in range(count)]


def top1_agreement(
    reference: TextGenerator, other: TextGenerator, prompt_ids: list[list[int]], tokens: int
) -> float:
    """Teacher-forced: how often ``other``'s top token is the token ``reference`` wrote."""
    written = ours(reference)(prompt_ids, tokens)
    forced = other.forced_logits(prompt_ids, written)
    hits = [f.argmax(axis=-1) == np.asarray(w) for f, w in zip(forced, written, strict=True)]
    return float(np.concatenate(hits).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="traced model (settings' store)")
    parser.add_argument("--fused-store", type=Path, required=True)
    parser.add_argument("--fused8-store", type=Path, default=None)
    parser.add_argument("--genai", type=Path, default=None, help="onnxruntime-genai model folder")
    parser.add_argument("--hf", action="store_true", help="also transformers generate")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--channel", default="product_description")
    parser.add_argument(
        "--candidates", type=int, default=4, help="rows per product (best-of-N; 1: all distinct)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    store = ModelStore(args.store or Settings().model_store)
    fused_name = MODEL + FUSED_SUFFIX
    traced = endless(TextGenerator.load(store.model_dir(MODEL)))
    fused = endless(TextGenerator.load(ModelStore(args.fused_store).model_dir(fused_name)))
    sides: dict[str, Side] = {"traced": ours(traced), "fused": ours(fused)}
    versions = {"traced": traced.version, "fused": fused.version}
    fused8 = None
    if args.fused8_store is not None:
        fused8 = endless(TextGenerator.load(ModelStore(args.fused8_store).model_dir(fused_name)))
        sides["fused-nbits8"] = ours(fused8)
        versions["fused-nbits8"] = fused8.version
    if args.genai is not None:
        import onnxruntime_genai as og

        sides["onnxruntime-genai"] = genai(args.genai)
        versions["onnxruntime-genai"] = og.__version__
    if args.hf:
        import transformers

        sides["transformers"] = transformers_generate()
        versions["transformers"] = transformers.__version__

    prompt_ids = copy_prompts(traced, max(args.batches), args.channel, args.candidates)
    load_start = [round(x, 2) for x in os.getloadavg()]
    seconds: dict[str, dict[int, list[float]]] = {s: {b: [] for b in args.batches} for s in sides}
    first: dict[str, dict[int, list[float]]] = {s: {b: [] for b in args.batches} for s in sides}
    written: dict[str, dict[int, list[list[int]]]] = {s: {} for s in sides}
    for side in sides.values():  # warm-up: first-run allocations stay out of the timings
        side(prompt_ids[:2], 2)
    for round_ in range(args.rounds):
        for batch in args.batches:
            for name, side in sides.items():
                # The prompt step alone (one token), then the whole run: their difference is
                # what the decode steps cost.
                started = time.perf_counter()
                side(prompt_ids[:batch], 1)
                first[name][batch].append(time.perf_counter() - started)
                started = time.perf_counter()
                rows = side(prompt_ids[:batch], args.tokens)
                seconds[name][batch].append(time.perf_counter() - started)
                assert all(len(r) == args.tokens for r in rows), (name, [len(r) for r in rows])
                written[name][batch] = rows
        print(f"round {round_ + 1}/{args.rounds} done, load {os.getloadavg()[0]:.2f}", flush=True)

    results: dict[str, Any] = {}
    for batch in args.batches:
        best = {name: min(seconds[name][batch]) for name in sides}
        prompt_step = {name: min(first[name][batch]) for name in sides}
        step = {n: max(best[n] - prompt_step[n], 1e-9) / (args.tokens - 1) for n in sides}
        row: dict[str, Any] = {}
        for name in sides:
            row[name] = {
                "seconds": [round(s, 3) for s in seconds[name][batch]],
                "prompt_step_seconds": [round(s, 3) for s in first[name][batch]],
                "decode_step_ms": round(1000 * step[name], 1),
                "tokens_per_s": round(batch * args.tokens / best[name], 1),
                "speed_vs_traced": round(best["traced"] / best[name], 2),
                "decode_speed_vs_traced": round(step["traced"] / step[name], 2),
                "prompt_speed_vs_traced": round(prompt_step["traced"] / prompt_step[name], 2),
                "rows_equal_to_traced": sum(
                    a == b
                    for a, b in zip(written[name][batch], written["traced"][batch], strict=True)
                ),
            }
            if "onnxruntime-genai" in best:
                genai_step = step["onnxruntime-genai"]
                row[name]["speed_vs_genai"] = round(best["onnxruntime-genai"] / best[name], 2)
                row[name]["decode_speed_vs_genai"] = round(genai_step / step[name], 2)
                row[name]["prompt_speed_vs_genai"] = round(
                    prompt_step["onnxruntime-genai"] / prompt_step[name], 2
                )
            alone = written[name].get(1)
            if alone is not None and batch > 1:
                # Row 0 is the one prompt every batch size shares.
                row[name]["row0_same_as_batch1"] = written[name][batch][0] == alone[0]
        results[str(batch)] = row
    # Invariance over every row: each prompt alone against its place in the largest batch.
    largest = max(args.batches)
    invariance = {}
    for name, side in sides.items():
        if name == "transformers":
            continue  # the reference, minutes per pass here; row 0's check above covers it
        alone = [side([ids], args.tokens)[0] for ids in prompt_ids[:largest]]
        invariance[name] = sum(a == b for a, b in zip(alone, written[name][largest], strict=True))
    agreement = None
    if fused8 is not None:
        agreement = round(top1_agreement(fused, fused8, prompt_ids[:largest], args.tokens), 4)
    import onnxruntime as ort

    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "onnxruntime": ort.__version__,
            "load_average_at_start": load_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "prompt_tokens": [len(ids) for ids in prompt_ids[:largest]],
        "results": results,
        f"rows_alone_equal_to_batch_{largest}": invariance,
        "nbits8_top1_agreement_with_fused_fp32": agreement,
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
