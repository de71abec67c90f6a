"""Image benchmark: matte IoU on synthetic packshots, throughput per format, a contact sheet.

    python -m bench.images [--packshots 60] [--products 8] [--variants 2] [--out bench/out]

* IoU of the default studio matte against the packshots' known masks (mean, median, worst,
  by shape), and — for a look only — the matte of scikit-image's bundled photos on the sheet.
* Throughput per format through the pipeline (enqueue → SQLite → broker → one real Celery
  worker → files + asset rows) against a raw loop in this process that mattes, renders one
  background, composes and encodes each of the same creatives on its own
  (:func:`pipeline_throughput`), with the machine's load average before and after.
* A contact sheet PNG of creatives in every format, written to ``--out``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from exporters import ModelStore, build_model
from workers.images import background as bg
from workers.images.compose import CreativeText
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


def pipeline_throughput(
    store: ModelStore, photos: list[Path], products: int, variants: int, work: Path
) -> dict[str, object]:
    """Creatives/s through the pipeline against the raw per-creative loop, per format.

    Pipeline: per format a campaign of ``products`` × ``variants`` creatives, enqueued with
    the CLI's own function (SQLite database, SQLite broker) and made by one real Celery worker
    process (``-c 1``, warmed up by a one-product campaign first), timed from enqueue until
    the campaign's row says it finished — claims, files written content-addressed, asset rows
    and all. Raw: the creatives of that campaign (the very ``CreativeJob``s the task built:
    same seeds, texts, photos) made one at a time in this process by ``make_creatives([job])``
    (matte, background, compose, encode each), nothing written. Then a second campaign of
    other SKUs (other seeds, new files) through the pipeline again: the pipeline time is the
    mean of the two runs around the raw loop, so a load that drifts during the measurement
    weighs on both sides alike.
    """
    from contentfab.campaign import load_campaign
    from contentfab.settings import Settings
    from db.migrate import upgrade
    from db.models import Asset, Campaign, Job
    from db.session import configure
    from tasks.app import create_app
    from tasks.campaigns import enqueue
    from tasks.images import _creative_job

    settings = Settings(
        data_dir=work / "data", model_store=store.root, intra_op_threads=1, chunk_size=8
    )
    settings.ensure_dirs()
    upgrade(settings.database_url)
    sessions = configure(settings.database_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "-Q", "images",
         "-c", "1", "-l", "WARNING", "-n", f"bench-images-{os.getpid()}@%h"],
        env={**os.environ, **settings.to_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    generator = bg.BackgroundGenerator.load(store.model_dir("cppn-backgrounds"), intra_op_threads=1)
    results: dict[str, object] = {"load_before": os.getloadavg()}
    try:
        for name in FORMATS:
            app = create_app(settings)
            timed = []
            for run, prefix in enumerate(("B", "C")):
                campaign = _image_campaign(work / f"{name}-{prefix}", photos, products, variants,
                                           name, prefix)  # fmt: skip
                loaded = load_campaign(campaign)
                if run == 0:  # warm the worker: its first task loads the generator
                    warm = type(loaded)(loaded.spec, loaded.products[:1], loaded.source_path,
                                        loaded.content_sha256 + "-w")  # fmt: skip
                    first = enqueue(warm, settings=settings, sessions=sessions, app=app,
                                    allow_duplicate=True)  # fmt: skip
                    _wait(sessions, first.campaign_id, worker)
                started = time.perf_counter()
                result = enqueue(loaded, settings=settings, sessions=sessions, app=app,
                                 allow_duplicate=True)  # fmt: skip
                _wait(sessions, result.campaign_id, worker)
                timed.append(time.perf_counter() - started)
                with sessions() as session:
                    spec = session.get(Campaign, result.campaign_id).spec
                    jobs = session.scalars(
                        select(Job).where(Job.campaign_id == result.campaign_id).order_by(Job.id)
                    ).all()
                    made = session.scalar(
                        select(func.count())
                        .select_from(Asset)
                        .where(Asset.campaign_id == result.campaign_id)
                    )
                    assert made == len(jobs), f"{made} of {len(jobs)} creatives made"
                    items = [_creative_job(job, spec, None, settings) for job in jobs]
                if run == 0:  # the raw loop runs between the two pipeline runs
                    started = time.perf_counter()
                    for item in items:
                        (outcome,) = make_creatives([item], generator)
                        assert outcome.data, outcome.error
                    raw = time.perf_counter() - started
            pipeline = statistics.fmean(timed)
            results[name] = {
                "creatives": len(items),
                "pipeline_seconds": [round(t, 2) for t in timed],
                "raw_seconds": round(raw, 2),
                "pipeline_images_per_s": round(len(items) / pipeline, 2),
                "raw_loop_images_per_s": round(len(items) / raw, 2),
                "ratio": round(raw / pipeline, 3),
                "load_1min": round(os.getloadavg()[0], 2),
            }
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        sessions.kw["bind"].dispose()
    results["load_after"] = os.getloadavg()
    return results


def _image_campaign(
    directory: Path, photos: list[Path], products: int, variants: int, fmt: str, prefix: str
) -> Path:
    (directory / "photos").mkdir(parents=True)
    rows = ["id,title,price,currency,image"]
    for i in range(products):
        title = TITLES[i % len(TITLES)]
        photo = photos[i % len(photos)]
        shutil.copy(photo, directory / "photos" / photo.name)
        rows.append(f"{prefix}-{i},{title} {i},{19 + i}.90,USD,photos/{photo.name}")
    (directory / "catalog.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = directory / "campaign.yaml"
    path.write_text(
        f"name: Image benchmark {fmt}\ncatalog: catalog.csv\nbrand: {{name: Northwind}}\n"
        f"images:\n  formats: [{fmt}]\n  variants: {variants}\n"
        "  background: {mode: generated, style: soft, palette: ['#1c3454', '#ebe2d2', "
        "'#d66340']}\n  output: png\n"
    )
    return path


def _wait(sessions: Any, campaign_id: int, worker: subprocess.Popen[bytes]) -> None:
    from db.models import Campaign

    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        with sessions() as session:
            if session.get(Campaign, campaign_id).finished_at is not None:
                return
        if worker.poll() is not None:
            raise RuntimeError("the worker exited")
        time.sleep(0.05)
    raise TimeoutError(f"campaign {campaign_id}")


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
    parser.add_argument("--products", type=int, default=8, help="per format, for throughput")
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--skip-sheet", action="store_true")
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
            "throughput": pipeline_throughput(
                store, photos, args.products, args.variants, Path(scratch) / "pipeline"
            ),
            "contact_sheet": None
            if args.skip_sheet
            else str(contact_sheet(generator, photos, args.out)),
        }
    print(json.dumps(report, indent=2))
    (args.out / "images.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
