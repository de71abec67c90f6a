"""Which measure of the model's own surprise separates the labelled texts a reader kept (score 2)
from the ones a reader found clumsy or broken (issue #15).

Every text of the copy benchmark's labelled rounds (``bench/copy_eval*/X.jsonl`` with its
``X-labels.jsonl``) is fed to the copy model after a neutral prompt that holds its product's
record, teacher-forced, and each token's log-probability under the model's raw logits is kept.
A grounded sentence can be fluent on average and still hold one token the word mask forced on
the model ("They are wear gloves"): the mean hides it, the worst token shows it. The report
gives, for several per-text measures and thresholds, the share of texts of each score that a
gate at that threshold would refuse.

    python -m bench.copy_fluency --out bench/results-copy-fluency.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from bench.copy_quality import MODEL
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore
from contentfab.workers.textgen import TextGenerator

HERE = Path(__file__).parent
SYSTEM = "You write marketing copy from product data. Use only the facts given."


def _records() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for path in sorted(HERE.glob("copy_eval*/*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                found.setdefault(row["id"], row)
    return found


def labelled() -> list[dict[str, Any]]:
    """Each labelled text once: its record's sku, channel, text, score and note."""
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    for labels in sorted(HERE.glob("copy_eval*/*-labels*.jsonl")):
        name = labels.name.replace("-labels-3b", "").replace("-labels", "")
        texts = labels.with_name(name)
        if not texts.exists():
            continue
        by_id = {}
        for line in texts.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "asset_id" in row:  # the last line is the run's summary
                by_id[row["asset_id"]] = row
        for line in labels.read_text(encoding="utf-8").splitlines():
            label = json.loads(line)
            row = by_id.get(label["asset_id"])
            if row is None or not row.get("text"):
                continue
            key = (row["sku"], row["channel"], row["text"])
            items.setdefault(
                key,
                {
                    "sku": row["sku"],
                    "channel": row["channel"],
                    "text": row["text"],
                    "source": row.get("source"),
                    "score": label["score"],
                    "note": label.get("note", ""),
                    "unsupported": label.get("unsupported") or [],
                    "round": str(labels.parent.name) + "/" + name,
                },
            )
    return list(items.values())


def _prompt(generator: TextGenerator, record: dict[str, str]) -> str:
    attributes = record.get("attributes") or ""
    try:
        pairs = "; ".join(f"{k}: {v}" for k, v in json.loads(attributes).items())
    except (ValueError, AttributeError):
        pairs = attributes
    user = (
        f"Product: {record['title']}\nCategory: {record.get('category', '')}\n"
        f"Description: {record.get('description', '')}\nAttributes: {pairs}\n"
        "Write marketing copy for this product."
    )
    return generator.chat_prompt(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    )


def token_logprobs(
    generator: TextGenerator, prompts: list[str], texts: list[str]
) -> list[list[tuple[str, float]]]:
    """Each text's tokens with their log-probability after its prompt (teacher-forced)."""
    heads, tails = [], []
    for prompt, text in zip(prompts, texts, strict=True):
        head = generator.encode(prompt)
        heads.append(head)
        tails.append(generator.encode(prompt + text)[len(head) :])
    out = []
    for logits, tokens in zip(generator.forced_logits(heads, tails), tails, strict=True):
        raw = logits.astype(np.float64)
        top = raw.max(axis=1, keepdims=True)
        norm = top[:, 0] + np.log(np.exp(raw - top).sum(axis=1))
        lp = raw[np.arange(len(tokens)), tokens] - norm
        out.append([(generator.decode([t]), float(v)) for t, v in zip(tokens, lp, strict=True)])
    return out


def _words(tokens: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Tokens joined into words, each with its summed log-probability."""
    words: list[list[Any]] = []
    for token, value in tokens:
        if (
            not words
            or token.startswith(" ")
            or not token[:1].isalnum()
            or not words[-1][0][-1:].isalnum()
        ):
            words.append([token.strip(), value])
        else:
            words[-1][0] += token
            words[-1][1] += value
    return [(w, v) for w, v in words if w]


def measures(tokens: list[tuple[str, float]], record: dict[str, str]) -> dict[str, float]:
    """Per text: the mean and the worst token, and the worst word the record does not write
    (the words that hold a sentence together, where a forced choice would show)."""
    values = [v for _, v in tokens[1:]] or [0.0]  # the answer's first token: any opening
    vocabulary = {
        w.casefold() for w in re.findall(r"[^\W_]+", " ".join(record.get(k) or "" for k in record))
    }
    glue = [
        v
        for w, v in _words(tokens)[1:]
        if w[:1].isalpha() and re.sub(r"\W", "", w).casefold() not in vocabulary
    ]
    return {
        "mean": float(np.mean(values)),
        "min": min(values),
        "glue_min": min(glue) if glue else 0.0,
    }


def _auc(good: list[float], bad: list[float]) -> float:
    """The chance that a text of the better score measures higher than one of the worse."""
    if not good or not bad:
        return float("nan")
    worse = np.asarray(bad)
    return float(np.mean([(worse < g).mean() + 0.5 * (worse == g).mean() for g in good]))


def summarise(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Per measure: how well it ranks score 2 above 0 and above 1 (AUC), and what a gate at a
    few thresholds would refuse of each score."""
    out: dict[str, Any] = {"texts": len(items)}
    for measure, thresholds in (
        ("mean", (-3.0, -2.5, -2.0)),
        ("min", (-12.0, -10.0, -8.0)),
        ("glue_min", (-12.0, -10.0, -8.0)),
    ):
        by_score = {s: [i[measure] for i in items if i["score"] == s] for s in (0, 1, 2)}
        out[measure] = {
            "auc_2_over_0": round(_auc(by_score[2], by_score[0]), 3),
            "auc_2_over_1": round(_auc(by_score[2], by_score[1]), 3),
            "refused": {
                str(t): {
                    str(s): f"{sum(v < t for v in by_score[s])}/{len(by_score[s])}"
                    for s in by_score
                }
                for t in thresholds
            },
        }
    return out


#: The rounds whose texts were written with grounded decoding and the sentence gates.
GROUNDED = ("copy_eval6/", "copy_eval7/", "copy_eval8/", "copy_eval9/", "copy_eval10/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results-copy-fluency.json")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--tokens", type=Path, help="also write every text's token scores here")
    args = parser.parse_args()
    store = ModelStore(Settings().model_store)
    generator = TextGenerator.load(store.model_dir(MODEL))
    records = _records()
    items = [i for i in labelled() if i["sku"] in records]
    if args.limit:
        items = items[: args.limit]
    for start in range(0, len(items), args.batch):
        batch = items[start : start + args.batch]
        prompts = [_prompt(generator, records[i["sku"]]) for i in batch]
        for item, tokens in zip(
            batch, token_logprobs(generator, prompts, [i["text"] for i in batch]), strict=True
        ):
            item["tokens"] = [[t, round(v, 3)] for t, v in tokens]
            item.update(measures(tokens, records[item["sku"]]))
    result = {
        "all": summarise(items),
        "grounded": summarise([i for i in items if i["round"].startswith(GROUNDED)]),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.tokens:
        args.tokens.write_text(json.dumps(items) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
