"""Model throughput per execution provider: the same command on a CPU machine and a GPU machine.

For every provider this onnxruntime build has (CPU always; CUDA with ``pip install -e .[gpu]``):

- copy decoder: SmolLM2-135M-Instruct, ``--batch`` chat prompts, exactly ``--tokens`` new tokens
  each (stop token disabled), greedy → generated tokens/s. On an accelerator it runs twice, with
  the key/value cache kept on the device (IOBinding, the default there) and with plain
  ``session.run`` (the cache copied to the host and back every step): their ratio is what
  IOBinding buys, measured in the same run;
- sentence embeddings: all-MiniLM-L6-v2 over ``--texts`` product texts in batches of 64 →
  embeddings/s;
- backgrounds: the CPPN generator, 1080×1080 creatives in batches of 8 → images/s.

Models come from the model store (``contentfab models build --all``).

    python -m bench.devices [--batch 16] [--tokens 48] [--texts 2000] [--images 32]
                            [--store DIR] [--out bench/results-devices.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"
PRODUCTS = [
    "Trail running shoe with a grippy outsole",
    "Premium espresso machine with a steam wand",
    "Waterproof rain jacket for city cyclists",
    "Eco-friendly cork yoga mat, 6 mm",
    "Smart watch for runners with GPS and heart-rate tracking",
    "Insulated steel water bottle, 750 ml",
    "Noise-cancelling over-ear headphones",
    "Cast-iron skillet, pre-seasoned, 26 cm",
]


def _timed(function: Any, repeats: int = 3) -> float:
    """Best wall time of ``repeats`` runs after one warm-up run."""
    function()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def decoder(store: Any, provider: str, batch: int, tokens: int) -> dict[str, Any]:
    from contentfab.workers.textgen import SamplingParams, TextGenerator

    loaded = TextGenerator.load(store.model_dir("smollm2-135m-instruct"), providers=[provider])
    results: dict[str, Any] = {"provider": loaded.provider}
    bindings = [True, False] if loaded.provider != CPU else [False]
    for io_binding in bindings:
        generator = TextGenerator(
            loaded.manifest.with_keys(eos_token_ids=[-1]),
            loaded.session,
            loaded.tokenizer,
            loaded.provider,
            io_binding=io_binding,
        )
        prompts = [
            generator.chat_prompt(
                [{"role": "user", "content": f"Write a headline for: {PRODUCTS[i % 8]}"}]
            )
            for i in range(batch)
        ]
        params = [SamplingParams(max_new_tokens=tokens)] * batch
        seconds = _timed(lambda g=generator, p=prompts, s=params: g.generate(p, s), repeats=2)
        key = "io_binding" if io_binding else "session_run"
        results[key] = {
            "seconds": round(seconds, 3),
            "tokens_per_s": round(batch * tokens / seconds, 1),
        }
    if "io_binding" in results:
        results["io_binding_speedup"] = round(
            results["io_binding"]["tokens_per_s"] / results["session_run"]["tokens_per_s"], 2
        )
    return results


def embeddings(store: Any, provider: str, texts: int) -> dict[str, Any]:
    from contentfab.workers.embeddings import TextEmbedder

    embedder = TextEmbedder.load(store.model_dir("minilm-l6-v2"), providers=[provider])
    corpus = [f"{PRODUCTS[i % 8]} — model {i}, colour {i % 13}" for i in range(texts)]
    seconds = _timed(lambda: embedder.embed(corpus), repeats=2)
    return {
        "provider": embedder.provider,
        "seconds": round(seconds, 3),
        "embeddings_per_s": round(texts / seconds, 1),
    }


def backgrounds(store: Any, provider: str, images: int) -> dict[str, Any]:
    from contentfab.workers.images.background import BackgroundGenerator, BackgroundRequest

    generator = BackgroundGenerator.load(store.model_dir("cppn-backgrounds"), providers=[provider])
    style = next(iter(generator.styles))
    requests = [
        BackgroundRequest(seed, style, [(20, 60, 120), (240, 230, 210)], 1080, 1080)
        for seed in range(images)
    ]

    def render() -> None:
        for start in range(0, images, 8):
            generator.render(requests[start : start + 8])

    seconds = _timed(render, repeats=2)
    return {
        "provider": generator.provider,
        "seconds": round(seconds, 3),
        "images_per_s": round(images / seconds, 2),
    }


def main(argv: list[str] | None = None) -> None:
    import onnxruntime as ort

    from contentfab.exporters import ModelStore

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--store", type=Path, default=None, help="Model store (default: settings).")
    parser.add_argument(
        "--providers", nargs="+", default=None, help="Only these providers (default: all here)."
    )
    args = parser.parse_args(argv)

    if args.store is None:
        # Settings needs pydantic; a GPU machine with only the worker's packages passes --store.
        from contentfab.core.settings import Settings

        args.store = Settings().model_store
    store = ModelStore(args.store)
    providers = [
        p
        for p in (CUDA, CPU)
        if p in ort.get_available_providers() and (args.providers is None or p in args.providers)
    ]
    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "onnxruntime": ort.__version__,
            "providers": providers,
        },
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "results": {},
    }
    for provider in providers:
        print(f"== {provider}", flush=True)
        row = {
            "decoder": decoder(store, provider, args.batch, args.tokens),
            "embeddings": embeddings(store, provider, args.texts),
            "backgrounds": backgrounds(store, provider, args.images),
        }
        report["results"][provider] = row
        print(json.dumps(row, indent=2), flush=True)
    if CUDA in report["results"] and CPU in report["results"]:
        gpu, cpu = report["results"][CUDA], report["results"][CPU]
        report["gpu_over_cpu"] = {
            "tokens_per_s": round(
                gpu["decoder"]["io_binding"]["tokens_per_s"]
                / cpu["decoder"]["session_run"]["tokens_per_s"],
                2,
            ),
            "embeddings_per_s": round(
                gpu["embeddings"]["embeddings_per_s"] / cpu["embeddings"]["embeddings_per_s"], 2
            ),
            "images_per_s": round(
                gpu["backgrounds"]["images_per_s"] / cpu["backgrounds"]["images_per_s"], 2
            ),
        }
        print("GPU/CPU:", report["gpu_over_cpu"])
    report["machine"]["load_average_after"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
