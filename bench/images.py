"""Image benchmark: matte IoU on synthetic packshots, throughput per format, a contact sheet.

    python -m bench.images [--packshots 60] [--products 8] [--variants 2] [--out bench/out]

* IoU of the default studio matte against the packshots' known masks (mean, median, worst,
  by shape), and — for a look only — the matte of scikit-image's bundled photos on the sheet.
* Throughput per format through the pipeline (enqueue → SQLite → broker → one real Celery
  worker → files + asset rows) against a raw loop in this process that mattes, renders one
  background, composes and encodes each of the same creatives on its own
  (:func:`pipeline_throughput`), with the machine's load average before and after; once per
  matte policy (``--matte-policies``: the studio matte, then u2netp on every photo, the default)
  so the cost of the model per creative is a ratio measured in the same run.
* ``--matte-only``: IoU, boundary F-score and time per matte method (also as a ratio to the
  studio matte's time in the same run) on 15 real photos with hand-drawn references
  (:mod:`bench.real_photos`) and the packshots, and a sheet of every real photo: the studio
  cut-out, the default's cut-out and the square creative the default delivers from it.
  ``--matte-experiments`` adds the ideas of :mod:`bench.matte_experiments` as rows.
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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image
from sqlalchemy import func, select

from contentfab.core.formats import FORMATS
from contentfab.exporters import ModelStore, build_model
from contentfab.workers.images import background as bg
from contentfab.workers.images.compose import CreativeText
from contentfab.workers.images.creative import CreativeJob, make_creatives
from contentfab.workers.images.matte import iou, studio_matte
from contentfab.workers.images.packshots import packshot

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


def matte_methods(store: ModelStore) -> dict[str, Callable[[Any], npt.NDArray[np.float32]]]:
    """Each way of cutting a photo out, as photo → alpha (the models those the store holds).

    Per model: its map blown up to the photo (``u2netp``), refined by the guided filter
    (``+guided``), and the map averaged with the map of the mirrored photo before refinement
    (``+flip+guided``, test-time augmentation, u2netp only; measured, not used by the
    pipeline).
    ``default`` is the pipeline's default (u2netp+guided on every photo, the studio matte where
    that fails the gate on a clean backdrop); ``auto`` the per-photo choice (studio on a clean
    backdrop, u2netp+guided elsewhere); ``delivered`` is what a creative shows by default after
    the gate: the whole photo where the gate rejected the cut-out.
    """
    from contentfab.workers.images.matte import onnx_matte
    from contentfab.workers.images.matte_choice import cut_out, refine_alpha

    methods: dict[str, Callable[[Any], npt.NDArray[np.float32]]] = {
        "studio": lambda rgb: studio_matte(rgb).alpha
    }
    for name in ("u2netp", "u2net"):
        if not store.is_valid(name):
            continue
        path = store.model_dir(name) / "model.onnx"

        def raw(rgb: Any, path: Path = path) -> npt.NDArray[np.float32]:
            return onnx_matte(rgb, path).alpha

        def refined(rgb: Any, path: Path = path) -> npt.NDArray[np.float32]:
            coarse = onnx_matte(rgb, path).coarse
            assert coarse is not None
            return refine_alpha(rgb, coarse)

        def flipped(rgb: Any, path: Path = path) -> npt.NDArray[np.float32]:
            coarse = onnx_matte(rgb, path).coarse
            mirrored = onnx_matte(np.ascontiguousarray(rgb[:, ::-1]), path).coarse
            assert coarse is not None and mirrored is not None
            return refine_alpha(rgb, ((coarse + mirrored[:, ::-1]) / 2).astype(np.float32))

        methods[name] = raw
        methods[f"{name}+guided"] = refined
        if name == "u2netp":  # u2net's flips measured worse and cost 2 × 1.6 s a photo
            methods[f"{name}+flip+guided"] = flipped
    if store.is_valid("u2netp"):
        path = store.model_dir("u2netp") / "model.onnx"
        methods["default"] = lambda rgb: cut_out(rgb, path).alpha
        methods["auto"] = lambda rgb: cut_out(rgb, path, policy="auto").alpha

        def delivered(rgb: Any) -> npt.NDArray[np.float32]:
            matte = cut_out(rgb, path)
            return matte.alpha if matte.meta["gate"]["passed"] else np.ones_like(matte.alpha)

        methods["delivered"] = delivered
    return methods


def matte_comparison(
    store: ModelStore, opencv_examples: Path | None, packshots: int, experiments: bool = False
) -> dict[str, object]:
    """IoU, boundary F-score and time per method on the real photos and the packshots.

    Every method runs on the same photos in the same process, one after the other; each
    method's time is also given as a ratio to the studio matte's in this run
    (``time_over_studio``), the figure to compare across runs on a loaded machine.
    ``experiments`` adds the rows of :mod:`bench.matte_experiments`.
    """
    from bench.matte_experiments import experiment_methods
    from bench.real_photos import boundary_f, real_photos
    from contentfab.workers.images.matte_choice import cut_out

    methods = matte_methods(store)
    if experiments:
        methods |= experiment_methods(store)
    photos = list(real_photos(opencv_examples))
    report: dict[str, Any] = {"real_photos": len(photos), "packshots": packshots}
    per_photo: dict[str, dict[str, object]] = {}
    for label, items in (
        ("real", [(p.name, p.rgb, p.mask, p.known) for p in photos]),
        ("synthetic", [(f"packshot-{s}", *_packshot_truth(s)) for s in range(packshots)]),
    ):
        table: dict[str, Any] = {}
        for method, run in methods.items():
            scores, fscores, seconds = [], [], []
            for name, rgb, truth, known in items:
                run(rgb[:8, :8])  # the first call of a model loads its session
                started = time.perf_counter()
                alpha = run(rgb)
                seconds.append(time.perf_counter() - started)
                predicted = (alpha >= 0.5) & known
                score = iou(predicted, truth & known)
                tolerance = 0.01 * float(np.hypot(*truth.shape))
                fscore = boundary_f(predicted, truth & known, tolerance)
                scores.append(score)
                fscores.append(fscore)
                if label == "real":
                    per_photo.setdefault(name, {})[method] = [round(score, 3), round(fscore, 3)]
            table[method] = {
                "mean_iou": round(statistics.fmean(scores), 4),
                "median_iou": round(statistics.median(scores), 4),
                "worst_iou": round(min(scores), 4),
                "mean_boundary_f": round(statistics.fmean(fscores), 4),
                "ms_per_photo": round(statistics.fmean(seconds) * 1000, 1),
            }
        studio_ms = table["studio"]["ms_per_photo"]
        for row in table.values():
            row["time_over_studio"] = round(row["ms_per_photo"] / studio_ms, 2)
        report[label] = table
    choices = {}
    for photo in photos:
        matte = cut_out(photo.rgb, store.model_dir("u2netp") / "model.onnx")
        choices[photo.name] = {
            "method": matte.method,
            "reason": matte.meta["choice"]["reason"],
            "gate": matte.meta["gate"]["problems"] or "passed",
        }
        per_photo[photo.name]["default_ran"] = matte.method
    report["per_photo_iou_boundary_f"] = per_photo
    report["default_choices"] = choices
    report["cpu_threads"] = os.cpu_count()
    return report


def _packshot_truth(seed: int) -> tuple[Any, Any, Any]:
    shot = packshot(seed)
    return shot.rgb, shot.mask, np.ones(shot.mask.shape, dtype=bool)


def real_photo_sheet(store: ModelStore, opencv_examples: Path | None, out: Path) -> Path:
    """Every real photo three times: the old default's cut-out (studio), the default's cut-out,
    and the square creative the default delivers from it (through ``make_creatives``, gate and
    all: the whole photo where the gate rejected the cut-out)."""
    from bench.real_photos import real_photos
    from contentfab.workers.images.matte_choice import cut_out

    path = store.model_dir("u2netp") / "model.onnx"
    tiles: list[Image.Image] = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, photo in enumerate(real_photos(opencv_examples)):
            matte = cut_out(photo.rgb, path)
            after = matte.alpha if matte.meta["gate"]["passed"] else np.ones_like(matte.alpha)
            caption = matte.method if matte.meta["gate"]["passed"] else "gate: whole photo"
            for alpha, text in ((studio_matte(photo.rgb).alpha, "before: studio"),
                                (after, caption)):  # fmt: skip
                tiles.append(_checker_tile(photo.rgb, alpha, f"{photo.name} {text}"))
            source = Path(scratch) / f"{photo.name}.png"
            Image.fromarray(photo.rgb).save(source)
            job = CreativeJob(
                key=index,
                fmt=FORMATS["square"],
                text=CreativeText(TITLES[index % len(TITLES)], None, "$49.90", "Northwind"),
                palette=PALETTE,
                seed=index,
                background="gradient",
                photo=source,
                default_matte_model=path,
            )
            (outcome,) = make_creatives([job], None)
            assert outcome.data is not None, outcome.error
            shown = outcome.meta["matte"]
            label = "whole photo" if shown.get("fallback") else shown["method"]
            creative = Image.open(io.BytesIO(outcome.data)).convert("RGB")
            tiles.append(_framed(creative, f"{photo.name} delivered: {label}"))
    columns = 6
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (260 * columns, 220 * rows), (60, 60, 60))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (260 * (i % columns), 220 * (i // columns)))
    target = out / "images-real-photos.png"
    sheet.save(target, optimize=True)
    return target


def _checker_tile(rgb: Any, alpha: Any, caption: str) -> Image.Image:
    checks = ((np.indices(rgb.shape[:2]).sum(axis=0) // 16) % 2 * 60 + 150)[..., None]
    shown = rgb * alpha[..., None] + checks * (1 - alpha[..., None])
    return _framed(Image.fromarray(shown.astype(np.uint8)), caption)


def _framed(image: Image.Image, caption: str) -> Image.Image:
    from PIL import ImageDraw

    image = image.copy()
    image.thumbnail((250, 196))
    tile = Image.new("RGB", (260, 220), (90, 90, 90))
    tile.paste(image, ((260 - image.width) // 2, 2))
    ImageDraw.Draw(tile).text((6, 202), caption, fill=(255, 255, 255))
    return tile


def pipeline_throughput(
    store: ModelStore,
    photos: list[Path],
    products: int,
    variants: int,
    work: Path,
    matte_policy: Literal["studio", "model", "auto"] = "studio",
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
    weighs on both sides alike. ``matte_policy`` is the setting both sides run (the store's
    u2netp, when it holds one, is the model).
    """
    from contentfab.campaign import load_campaign
    from contentfab.campaign.spec import stored_campaign
    from contentfab.core.settings import Settings
    from contentfab.db.migrate import upgrade
    from contentfab.db.models import Asset, Campaign, Job
    from contentfab.db.session import configure
    from contentfab.tasks.app import create_app
    from contentfab.tasks.campaigns import enqueue
    from contentfab.tasks.images import _creative_job
    from contentfab.tasks.params import ImageParams

    settings = Settings(
        data_dir=work / "data",
        model_store=store.root,
        intra_op_threads=1,
        chunk_size=8,
        matte_policy=matte_policy,
    )
    matte_model = store.model_dir("u2netp") / "model.onnx" if store.is_valid("u2netp") else None
    settings.ensure_dirs()
    upgrade(settings.database_url)
    sessions = configure(settings.database_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contentfab.tasks.worker", "worker", "-Q", "images",
         "-c", "1", "-l", "WARNING", "-n", f"bench-images-{os.getpid()}@%h"],
        env={**os.environ, **settings.to_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    generator = bg.BackgroundGenerator.load(store.model_dir("cppn-backgrounds"), intra_op_threads=1)
    results: dict[str, object] = {"matte_policy": matte_policy, "load_before": os.getloadavg()}
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
                    campaign_spec = stored_campaign(spec)
                    items = [
                        replace(_creative_job(job, campaign_spec, None, settings,
                                              ImageParams.model_validate(job.params)),
                                default_matte_model=matte_model, matte_policy=matte_policy)
                        for job in jobs
                    ]  # fmt: skip
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
    from contentfab.db.models import Campaign

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
    """The studio matte on scikit-image's bundled photos, over a checkerboard: a look only (the
    default matte, u2netp, is on the real-photo sheet of ``--matte-only``)."""
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
    parser.add_argument(
        "--matte-policies",
        nargs="+",
        default=["studio", "model"],
        choices=["studio", "model", "auto"],
        help="throughput per matte policy, in this order (model and auto build u2netp)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--opencv-examples",
        type=Path,
        default=None,
        help="opencv-doc's examples folder: the real photos beyond skimage's",
    )
    parser.add_argument(
        "--matte-store",
        type=Path,
        default=None,
        help="a model store holding u2netp (and u2net); default: build u2netp",
    )
    parser.add_argument(
        "--matte-only",
        action="store_true",
        help="only the matte comparison and the real-photo sheet",
    )
    parser.add_argument(
        "--matte-experiments",
        action="store_true",
        help="add the refinements and combinations of bench.matte_experiments to the comparison",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.matte_store is not None or args.matte_only:
        matte_store = ModelStore(args.matte_store or Path(tempfile.mkdtemp()) / "store")
        if not matte_store.is_valid("u2netp"):
            build_model("u2netp", matte_store)
        comparison = matte_comparison(
            matte_store, args.opencv_examples, args.packshots, args.matte_experiments
        )
        comparison["sheet"] = str(real_photo_sheet(matte_store, args.opencv_examples, args.out))
        print(json.dumps(comparison, indent=2))
        (args.out / "images-mattes.json").write_text(json.dumps(comparison, indent=2) + "\n")
        if args.matte_only:
            return
    with tempfile.TemporaryDirectory() as scratch:
        store = ModelStore(Path(scratch) / "store")
        build_model("cppn-backgrounds", store)
        generator = bg.BackgroundGenerator.load(store.model_dir("cppn-backgrounds"))
        photos = []
        for seed in range(4):
            path = Path(scratch) / f"photo{seed}.png"
            Image.fromarray(packshot(100 + seed, size=(800, 800)).rgb).save(path)
            photos.append(path)
        throughput = {}
        for policy in args.matte_policies:
            if policy != "studio" and not store.is_valid("u2netp"):
                build_model("u2netp", store)
            throughput[policy] = pipeline_throughput(
                store, photos, args.products, args.variants, Path(scratch) / policy, policy
            )
        report = {
            "matte": matte_quality(args.packshots),
            "throughput": throughput,
            "model_over_studio": {
                name: round(
                    throughput["model"][name]["pipeline_images_per_s"]  # type: ignore[index]
                    / throughput["studio"][name]["pipeline_images_per_s"],  # type: ignore[index]
                    3,
                )
                for name in FORMATS
            }
            if {"model", "studio"} <= set(throughput)
            else None,
            "contact_sheet": None
            if args.skip_sheet
            else str(contact_sheet(generator, photos, args.out)),
        }
    print(json.dumps(report, indent=2))
    (args.out / "images.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
