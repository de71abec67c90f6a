"""Copy quality judged by reading: generate a campaign's copy, then score it against hand labels.

The products (``bench/copy_eval/catalog.csv``: 64 invented products, 16 categories) were written
for this benchmark and are never used to tune prompts, gates or the lexicon. Each delivered text
is labelled by a person reading it against the product record with ``bench/copy_eval/RUBRIC.md``
(unsupported claims listed, fragment yes/no, selling point yes/no for short channels, a 0/1/2
score); the labels live beside the results.

    python -m bench.copy_labelled generate --out bench/copy_eval/after.jsonl [--every 1 --start 0]
        [--no-grounding] [--no-compose]
    python -m bench.copy_labelled pool bench/copy_eval/before.jsonl bench/copy_eval/after.jsonl
    (label bench/copy_eval/labelling/batch-N.jsonl into labels-N.jsonl by reading each text)
    python -m bench.copy_labelled unpool bench/copy_eval/labelling
    python -m bench.copy_labelled report bench/copy_eval/after.jsonl \
        --labels bench/copy_eval/after-labels.jsonl [--json OUT]

``generate`` builds the slots exactly as the copy task does (``tasks.copy._slot`` from the
stored spec: brand kit, channels, tones, sampling defaults, per-variant seeds), runs
:func:`workers.copy.writer.write_copy` in chunks of one product's channels, with the sentence
encoder when it is in the store, and writes one JSON line per slot plus a summary line
(seconds, tokens sampled, tokens/s per channel). ``report`` joins the labels and prints per
channel: fill, unsupported-claim share, fragment share, selling-point share (short channels),
score distribution, share of texts composed from a template (and, on sentence channels, of
sentences that are a record clause in a frame), tokens/s.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN = ROOT / "bench" / "copy_eval" / "campaign.yaml"
MODEL = "smollm2-135m-instruct"
SHORT_CHANNELS = {"search_headline", "email_subject", "sms", "meta_headline", "meta_description"}


def _slots(campaign_file: Path, every: int, start: int = 0) -> list[Any]:
    from contentfab.campaign import load_campaign
    from contentfab.tasks.campaigns import variant_seed
    from contentfab.workers.copy.records import brand_rules, product_facts
    from contentfab.workers.copy.slots import CopySlot
    from contentfab.workers.textgen import SamplingParams

    loaded = load_campaign(campaign_file)
    request = loaded.spec.copy_request
    assert request is not None
    slots = []
    key = 0
    for record in loaded.products[start::every]:
        product = product_facts(record, loaded.spec.brand)
        variants: dict[str, int] = {}
        for slot in request.slots():
            variant = variants[slot.channel] = variants.get(slot.channel, -1) + 1
            slots.append(
                CopySlot(
                    key=key,
                    product=product,
                    channel=slot.channel,
                    tone=slot.tone,
                    sampling=SamplingParams(
                        temperature=request.temperature,
                        top_p=request.top_p,
                        repetition_penalty=request.repetition_penalty,
                        max_new_tokens=request.max_new_tokens,
                        seed=variant_seed(product.sku, slot.channel, slot.tone, variant),
                    ),
                    candidates=request.candidates,
                    brand=brand_rules(loaded.spec.brand),
                )
            )
            key += 1
    return slots


def generate(args: argparse.Namespace) -> None:
    from contentfab.core.settings import Settings
    from contentfab.exporters import ModelStore
    from contentfab.workers.copy.writer import write_copy
    from contentfab.workers.embeddings import TextEmbedder
    from contentfab.workers.textgen import TextGenerator

    settings = Settings()
    store = ModelStore(settings.model_store)
    generator = TextGenerator.load(store.model_dir(MODEL), intra_op_threads=args.threads)
    embedder = None
    if (store.model_dir("minilm-l6-v2") / "model.json").exists():
        embedder = TextEmbedder.load(store.model_dir("minilm-l6-v2"))
    slots = _slots(args.campaign, args.every, args.start)
    options: dict[str, Any] = {}
    accepted = inspect.signature(write_copy).parameters
    if "grounded" in accepted:  # so the same script measures the code before grounding
        options = {"grounded": not args.no_grounding, "compose_short": not args.no_compose}
    by_product: dict[str, list[Any]] = defaultdict(list)
    for slot in slots:
        by_product[slot.product.sku].append(slot)
    seconds: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    started = time.perf_counter()
    with args.out.open("w", encoding="utf-8") as out:
        for done, group in enumerate(by_product.values(), 1):
            t0 = time.perf_counter()
            outcomes = write_copy(generator, group, embedder=embedder, **options)
            elapsed = time.perf_counter() - t0
            total = sum(o.meta.get("tokens_sampled", 0) for o in outcomes) or 1
            for slot, outcome in zip(group, outcomes, strict=True):
                sampled = outcome.meta.get("tokens_sampled", 0)
                seconds[slot.channel] += elapsed * sampled / total
                tokens[slot.channel] += sampled
                row = {
                    "asset_id": slot.key,
                    "sku": slot.product.sku,
                    "title": slot.product.title,
                    "channel": slot.channel,
                    "text": outcome.text,
                    "error": outcome.error,
                    "source": outcome.meta.get("source", "model"),
                    # sentence channels: how many of the text's sentences are a record clause
                    # in a frame (workers.copy.compose.framed_sentences), of how many
                    "composed_sentences": outcome.meta.get("composed_sentences", 0),
                    "sentences": len(outcome.meta.get("sentences", [])) if outcome.text else 0,
                    "name_used": outcome.meta.get("name_used"),
                    "score": outcome.meta.get("score"),
                    "tokens_sampled": sampled,
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            print(f"{done}/{len(by_product)} products, {time.perf_counter() - started:.0f} s")
        summary = {
            "summary": True,
            "seconds": round(time.perf_counter() - started, 1),
            "options": options,
            "embedder": embedder is not None,
            "tokens_per_second": {
                c: round(tokens[c] / seconds[c], 1) for c in sorted(tokens) if seconds[c]
            },
            "tokens_sampled": dict(tokens),
        }
        out.write(json.dumps(summary) + "\n")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def report(args: argparse.Namespace) -> dict[str, Any]:
    rows = _read(args.results)
    summary = next((r for r in rows if r.get("summary")), {})
    slots = [r for r in rows if not r.get("summary")]
    if args.same_products is not None:  # like for like with a run over fewer products
        skus = {r["sku"] for r in _read(args.same_products) if not r.get("summary")}
        slots = [s for s in slots if s["sku"] in skus]
    labels = {r["asset_id"]: r for r in _read(args.labels)} if args.labels else {}
    channels: dict[str, Any] = {}
    for channel in [*sorted({s["channel"] for s in slots}), "all"]:
        mine = [s for s in slots if channel in ("all", s["channel"])]
        delivered = [s for s in mine if s["text"]]
        labelled = [labels[s["asset_id"]] for s in delivered if s["asset_id"] in labels]
        line: dict[str, Any] = {
            "slots": len(mine),
            "fill": round(len(delivered) / len(mine), 3) if mine else None,
            "composed_share": round(
                sum(s["source"] == "composed" for s in delivered) / len(delivered), 3
            )
            if delivered
            else None,
            "labelled": len(labelled),
        }
        sentences = sum(s.get("sentences", 0) for s in delivered)
        if sentences:
            line["composed_sentence_share"] = round(
                sum(s.get("composed_sentences", 0) for s in delivered) / sentences, 3
            )
        if labelled:
            n = len(labelled)
            scores = Counter(int(label["score"]) for label in labelled)
            line.update(
                unsupported_share=round(sum(bool(x["unsupported"]) for x in labelled) / n, 3),
                fragment_share=round(sum(bool(x["fragment"]) for x in labelled) / n, 3),
                scores={str(k): scores.get(k, 0) for k in (0, 1, 2)},
                score2_share=round(scores.get(2, 0) / n, 3),
                score0_share=round(scores.get(0, 0) / n, 3),
            )
            short = [x for x in labelled if x.get("selling_point") is not None]
            if short:
                line["selling_point_share"] = round(
                    sum(bool(x["selling_point"]) for x in short) / len(short), 3
                )
        if channel != "all":
            line["tokens_per_second"] = summary.get("tokens_per_second", {}).get(channel)
        channels[channel] = line
    result = {
        "results": str(args.results),
        "same_products_as": None if args.same_products is None else str(args.same_products),
        "products": len({s["sku"] for s in slots}),
        "seconds": summary.get("seconds"),
        "channels": channels,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def pool(args: argparse.Namespace) -> None:
    """Every delivered text of several runs, shuffled together under neutral ids and cut into
    batches for labelling, each item with its product record: a labeller cannot tell which run
    (before or after a change) wrote a text. ``key.json`` maps the ids back."""
    import csv
    import random

    records = {}
    for catalog in args.catalog:  # the runs' catalogs (control texts come from an earlier one)
        with catalog.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                records[row["id"]] = row
    items, key = [], {}
    done = set()
    for earlier in args.skip:  # texts an earlier round already pooled
        done.update((w["run"], w["asset_id"]) for w in json.loads(earlier.read_text()).values())
    for run in args.results:
        for row in _read(run):
            if row.get("summary") or not row["text"] or (run.name, row["asset_id"]) in done:
                continue
            items.append((run.name, row))
    random.Random(args.seed).shuffle(items)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    size = -(-len(items) // args.batches)
    for batch in range(args.batches):
        with (args.out_dir / f"batch-{batch + 1}.jsonl").open("w", encoding="utf-8") as out:
            for uid, (run_name, row) in enumerate(items[batch * size : (batch + 1) * size]):
                label_id = f"{args.out_dir.name}-{batch + 1}-{uid + 1}"
                key[label_id] = {"run": run_name, "asset_id": row["asset_id"]}
                record = records[row["sku"]]
                item = {
                    "label_id": label_id,
                    "channel": row["channel"],
                    "text": row["text"],
                    "product": {k: record[k] for k in record if record[k]},
                }
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
    (args.out_dir / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    print(f"{len(items)} texts in {args.batches} batches of up to {size}")


def unpool(args: argparse.Namespace) -> None:
    """Labels of the pooled batches back to one label file per run (by asset id)."""
    key: dict[str, Any] = {}
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for folder in args.out_dir:
        key.update(json.loads((folder / "key.json").read_text()))
        for path in sorted(folder.glob("labels-*.jsonl")):
            for label in _read(path):
                where = key[label.pop("label_id")]
                by_run[where["run"]].append({"asset_id": where["asset_id"], **label})
    for run, labels in by_run.items():
        target = args.labels_dir / run.replace(".jsonl", "-labels.jsonl")
        labels.sort(key=lambda label: label["asset_id"])
        target.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in labels))
        print(f"{target}: {len(labels)} labels")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate")
    gen.add_argument("--campaign", type=Path, default=CAMPAIGN)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--every", type=int, default=1, help="every k-th product only")
    gen.add_argument("--start", type=int, default=0, help="the first product (with --every)")
    gen.add_argument("--threads", type=int, default=2)
    gen.add_argument("--no-grounding", action="store_true")
    gen.add_argument("--no-compose", action="store_true")
    rep = commands.add_parser("report")
    rep.add_argument("results", type=Path)
    rep.add_argument("--labels", type=Path, default=None)
    rep.add_argument("--json", type=Path, default=None)
    rep.add_argument(
        "--same-products", type=Path, default=None, help="only the products of this run"
    )
    pooled = commands.add_parser("pool")
    pooled.add_argument("results", type=Path, nargs="+")
    pooled.add_argument(
        "--catalog", type=Path, nargs="+", default=[CAMPAIGN.parent / "catalog.csv"]
    )
    pooled.add_argument("--out-dir", type=Path, default=CAMPAIGN.parent / "labelling")
    pooled.add_argument("--skip", type=Path, nargs="*", default=[], help="earlier key.json")
    pooled.add_argument("--batches", type=int, default=4)
    pooled.add_argument("--seed", type=int, default=15)
    unpooled = commands.add_parser("unpool")
    unpooled.add_argument("out_dir", type=Path, nargs="+", help="the pooled folders")
    unpooled.add_argument(
        "--labels-dir", type=Path, default=CAMPAIGN.parent, help="where the label files go"
    )
    args = parser.parse_args()
    {"generate": generate, "report": report, "pool": pool, "unpool": unpool}[args.command](args)


if __name__ == "__main__":
    main()
