"""Image benchmark: matte IoU on synthetic packshots, throughput per format, a contact sheet.

    python -m bench.images [--packshots 60] [--creatives 8] [--out bench/out]

* IoU of the default studio matte against the packshots' known masks (mean, median, worst,
  by shape), and — for a look only — the matte of scikit-image's bundled photos on the sheet.
* Throughput per format: ``make_creatives`` in chunks, as the image task calls it (matte once
  per photo, one batched CPPN call per size) against a raw loop in the same process that
  mattes, renders one background, composes and encodes each creative on its own. This is the
  worker's function, not a run through Celery and the database.
* A contact sheet PNG of creatives in every format, written to ``--out``.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from exporters import ModelStore, build_model
from workers.images import background as bg
from workers.images.compose import CreativeText, Cutout, compose, encode
from workers.images.creative import CreativeJob, make_creatives
from workers.images.formats import FORMATS
from workers.images.matte import iou, studio_matte
from workers.images.packshots import packshot

PALETTE = [(28, 52, 84), (235, 226, 210), (214, 99, 64)]
TITLES = ["Trail Thermos 750 ml", "Canvas Weekender", "Ceramic Pour-Over Set", "Merino Beanie"]
HEADLINES = [
    "Hot coffee for twelve hours, on any trail",
    "Pack light, travel far",
    "Slow mornings, better coffee",
    None,
]


def matte_quality(count: int) -> dict[str, object]:
    scores, by_shape = [], defaultdict(list)
    seconds = []
    for seed in range(count):
        shot = packshot(seed)
        started = time.perf_counter()
        matte = studio_matte(shot.rgb)
        seconds.append(time.perf_counter() - started)
        score = iou(matte.mask, shot.mask)
        scores.append(score)
        by_shape[shot.shape].append(score)
    return {
        "packshots": count,
        "mean_iou": round(statistics.fmean(scores), 4),
        "median_iou": round(statistics.median(scores), 4),
        "worst_iou": round(min(scores), 4),
        "share_at_or_above_0.95": round(sum(s >= 0.95 for s in scores) / count, 3),
        "by_shape": {k: round(statistics.fmean(v), 4) for k, v in sorted(by_shape.items())},
        "ms_per_640px_photo": round(statistics.fmean(seconds) * 1000, 1),
    }


def throughput(
    generator: bg.BackgroundGenerator, photos: list[Path], creatives: int
) -> dict[str, object]:
    results = {}
    for name, fmt in FORMATS.items():
        jobs = [
            CreativeJob(
                key=i,
                fmt=fmt,
                text=CreativeText(TITLES[i % 4], HEADLINES[i % 4], "$49.90", "Northwind"),
                palette=PALETTE,
                seed=i,
                background="generated",
                style="soft",
                photo=photos[(i // 2) % len(photos)],  # two variants per photo, as campaigns do
            )
            for i in range(creatives)
        ]
        started = time.perf_counter()
        for start in range(0, len(jobs), 4):  # the default chunk is 8 IDs; 4 keeps sizes mixed
            outcomes = make_creatives(jobs[start : start + 4], generator)
            assert all(o.data for o in outcomes), [o.error for o in outcomes]
        pipeline = time.perf_counter() - started

        started = time.perf_counter()
        for job in jobs:
            assert job.photo is not None
            rgb = np.asarray(Image.open(job.photo).convert("RGB"))
            cutout = Cutout(rgb, studio_matte(rgb).alpha)
            request = bg.BackgroundRequest(job.seed, job.style, PALETTE, fmt.width, fmt.height)
            backdrop = generator.render([request])[0]
            encode(compose(backdrop, cutout, job.text, fmt, palette=PALETTE).image, "png")
        raw = time.perf_counter() - started
        results[name] = {
            "pipeline_images_per_s": round(creatives / pipeline, 2),
            "raw_loop_images_per_s": round(creatives / raw, 2),
            "ratio": round(raw / pipeline, 3),
        }
    return results


def contact_sheet(generator: bg.BackgroundGenerator, photos: list[Path], out: Path) -> Path:
    tiles: list[Image.Image] = []
    styles = ["studio", "soft", "waves", "marble"]
    for index, fmt in enumerate(FORMATS.values()):
        for variant in range(3):
            photo = photos[(index * 3 + variant) % len(photos)] if variant < 2 else None
            job = CreativeJob(
                key=0,
                fmt=fmt,
                text=CreativeText(
                    TITLES[variant], HEADLINES[(index + variant) % 3], "$49.90", "Northwind"
                ),
                palette=PALETTE,
                seed=index * 10 + variant,
                background="generated",
                style=styles[(index + variant) % 4],
                photo=photo,
            )
            (outcome,) = make_creatives([job], generator)
            assert outcome.data is not None, outcome.error
            image = Image.open(io.BytesIO(outcome.data)).convert("RGB")
            image.thumbnail((360, 360))
            tile = Image.new("RGB", (370, 370), (90, 90, 90))
            tile.paste(image, ((370 - image.width) // 2, (370 - image.height) // 2))
            tiles.append(tile)
    tiles.extend(_skimage_mattes())
    columns = 6
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (370 * columns, 370 * rows), (60, 60, 60))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (370 * (i % columns), 370 * (i // columns)))
    path = out / "images-contact-sheet.png"
    sheet.save(path)
    return path


def _skimage_mattes() -> list[Image.Image]:
    """The default matte on scikit-image's bundled photos, over a checkerboard: a look only."""
    try:
        from skimage import data
    except ImportError:
        return []
    tiles = []
    for name in ("coffee", "chelsea", "astronaut"):
        rgb = getattr(data, name)()
        alpha = studio_matte(rgb).alpha
        checks = ((np.indices(rgb.shape[:2]).sum(axis=0) // 16) % 2 * 60 + 150)[..., None]
        shown = rgb * alpha[..., None] + checks * (1 - alpha[..., None])
        image = Image.fromarray(shown.astype(np.uint8))
        image.thumbnail((360, 360))
        tile = Image.new("RGB", (370, 370), (90, 90, 90))
        tile.paste(image, ((370 - image.width) // 2, (370 - image.height) // 2))
        tiles.append(tile)
    return tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packshots", type=int, default=60)
    parser.add_argument("--creatives", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        store = ModelStore(Path(scratch) / "store")
        build_model("cppn-backgrounds", store)
        generator = bg.BackgroundGenerator.load(store.model_dir("cppn-backgrounds"))
        photos = []
        for seed in range(4):
            path = Path(scratch) / f"photo{seed}.png"
            Image.fromarray(packshot(100 + seed, size=(800, 800)).rgb).save(path)
            photos.append(path)
        report = {
            "matte": matte_quality(args.packshots),
            "throughput": throughput(generator, photos, args.creatives),
            "contact_sheet": str(contact_sheet(generator, photos, args.out)),
        }
    print(json.dumps(report, indent=2))
    (args.out / "images.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
