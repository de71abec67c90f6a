"""One chunk of image jobs → encoded creatives with their provenance. No Celery, no SQL.

Each product photo is matted once per chunk however many formats and variants use it; all
generated backgrounds of the chunk go through the CPPN in one batched call per canvas size.
A job that fails (unreadable photo, bad model) reports its reason; the rest go on. A photo
whose matte fails the quality gate (:func:`workers.images.matte_choice.check_matte`) is shown
whole instead of as a broken cut-out, and its meta says so.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from contentfab.core.formats import Format
from contentfab.workers import runtime
from contentfab.workers.images import background as bg
from contentfab.workers.images.compose import CreativeText, Cutout, compose, encode
from contentfab.workers.images.matte import Matte
from contentfab.workers.images.matte_choice import MODEL, cut_out
from contentfab.workers.images.text_to_image import TextToImagePipeline

MAX_PHOTO_PIXELS = 40_000_000


@dataclass(frozen=True)
class CreativeJob:
    key: int  # the job ID; opaque here
    fmt: Format
    text: CreativeText
    palette: list[bg.RGB]
    seed: int
    background: str  # generated | flat | gradient | image | text_to_image
    style: str = "studio"
    prompt: str | None = None  # text_to_image only
    pipeline: Path | None = None  # text_to_image only: the pipeline folder
    steps: int = 1
    photo: Path | None = None
    background_image: Path | None = None
    matte_model: Path | None = None  # the campaign's own model: it runs on every photo
    # The model-store default, run as matte_policy says (matte_choice's docstring); without
    # either model the studio matte runs.
    default_matte_model: Path | None = None
    matte_policy: str = MODEL
    logo: Path | None = None
    encoding: str = "png"


@dataclass
class CreativeOutcome:
    key: int
    data: bytes | None
    error: str | None
    meta: dict[str, Any] = field(default_factory=dict)


def make_creatives(
    jobs: Sequence[CreativeJob],
    generator: bg.BackgroundGenerator | None,
    *,
    providers: list[str] | None = None,
) -> list[CreativeOutcome]:
    outcomes: dict[int, CreativeOutcome] = {}
    timings: dict[int, dict[str, float]] = {job.key: {} for job in jobs}

    started = time.perf_counter()
    cutouts: dict[tuple[Path, Path | None], Cutout | str] = {}
    mattes: dict[tuple[Path, Path | None], Matte] = {}
    for job in jobs:
        key = _matte_key(job)
        if key is None or key in cutouts:
            continue
        photo, model = key
        try:
            rgb = _read_photo(photo)
            own = job.matte_model is not None
            matte = cut_out(
                rgb,
                model,
                policy=MODEL if own else job.matte_policy,
                providers=providers,
                why_model="the campaign's own images.matte_model" if own else "the default",
                studio_fallback=not own,
            )
        except Exception as error:  # a bad photo or matte model fails its jobs, not the chunk
            cutouts[key] = f"cannot cut out {photo.name}: {error}"
            continue
        if matte.meta["gate"]["passed"]:
            cutouts[key] = Cutout(rgb, matte.alpha)
        else:
            # A broken product is worse than none: the layout shows the whole photo instead.
            cutouts[key] = Cutout(rgb, np.ones_like(matte.alpha))
            matte.meta["fallback"] = "full-photo"
        mattes[key] = matte
    matte_seconds = time.perf_counter() - started

    started = time.perf_counter()
    backgrounds: dict[int, Image.Image] = {}
    generated = [job for job in jobs if job.background == "generated"]
    if generated:
        if generator is None:
            for job in generated:
                outcomes[job.key] = CreativeOutcome(job.key, None, "no background generator loaded")
        else:
            requests = [
                bg.BackgroundRequest(
                    job.seed,
                    job.style,
                    bg.backdrop_palette(job.style, job.palette),
                    job.fmt.width,
                    job.fmt.height,
                )
                for job in generated
            ]
            for job, image in zip(generated, generator.render(requests), strict=True):
                backgrounds[job.key] = image
    drawn_by: dict[int, dict[str, Any]] = {}  # text_to_image jobs: which pipeline drew them
    outcomes.update(_text_to_image(jobs, backgrounds, drawn_by, providers))
    background_seconds = time.perf_counter() - started

    for job in jobs:
        if job.key in outcomes:
            continue
        try:
            outcomes[job.key] = _one(job, backgrounds, cutouts, mattes, generator)
            if job.key in drawn_by:
                outcomes[job.key].meta["generator"] = drawn_by[job.key]
        except Exception as error:  # one job's failure is recorded on that job
            outcomes[job.key] = CreativeOutcome(job.key, None, f"{type(error).__name__}: {error}")
            continue
        share = 1 / max(1, len(jobs))
        outcomes[job.key].meta["timings_ms"] = {
            "matte_share": round(matte_seconds * share * 1000, 1),
            "background_share": round(background_seconds * share * 1000, 1),
            **timings[job.key],
            **outcomes[job.key].meta.get("timings_ms", {}),
        }
    return [outcomes[job.key] for job in jobs]


def _text_to_image(
    jobs: Sequence[CreativeJob],
    backgrounds: dict[int, Image.Image],
    drawn_by: dict[int, dict[str, Any]],
    providers: list[str] | None,
) -> dict[int, CreativeOutcome]:
    """Backgrounds from text-to-image pipelines, one batch per pipeline, size and step count."""

    failed: dict[int, CreativeOutcome] = {}
    groups: dict[tuple[Path, int, int, int], list[CreativeJob]] = {}
    for job in jobs:
        if job.background != "text_to_image":
            continue
        if job.pipeline is None or not job.prompt:
            failed[job.key] = CreativeOutcome(job.key, None, "no text-to-image pipeline or prompt")
            continue
        key = (job.pipeline, job.fmt.width, job.fmt.height, job.steps)
        groups.setdefault(key, []).append(job)
    for (folder, width, height, steps), group in groups.items():
        try:
            pipeline = TextToImagePipeline.load(folder, providers or [runtime.CPU])
            images = pipeline.generate(
                [job.prompt or "" for job in group],
                [job.seed for job in group],
                (width, height),
                steps=steps,
            )
        except Exception as error:  # a bad pipeline fails its jobs, not the chunk
            for job in group:
                failed[job.key] = CreativeOutcome(job.key, None, f"text-to-image: {error}")
            continue
        for job, image in zip(group, images, strict=True):
            backgrounds[job.key] = image
            drawn_by[job.key] = {
                **pipeline.model_info,
                "provider": pipeline.provider,
                "prompt": job.prompt,
                "steps": job.steps,
            }
    return failed


def _one(
    job: CreativeJob,
    backgrounds: dict[int, Image.Image],
    cutouts: dict[tuple[Path, Path | None], Cutout | str],
    mattes: dict[tuple[Path, Path | None], Matte],
    generator: bg.BackgroundGenerator | None,
) -> CreativeOutcome:
    size = (job.fmt.width, job.fmt.height)
    if job.background in ("generated", "text_to_image"):
        backdrop = backgrounds[job.key]
    elif job.background == "image" and job.background_image is not None:
        backdrop = bg.from_image(size, job.background_image)
    elif job.background == "gradient":
        light = max(job.palette, key=sum)
        backdrop = bg.gradient(size, light, _mix(light, min(job.palette, key=sum), 0.25))
    else:
        backdrop = bg.flat(size, max(job.palette, key=sum))
    cutout: Cutout | None = None
    matte_meta: dict[str, Any] | None = None
    key = _matte_key(job)
    if key is not None:
        found = cutouts[key]
        if isinstance(found, str):
            return CreativeOutcome(job.key, None, found)
        cutout = found
        matte = mattes[key]
        matte_meta = {"method": matte.method, **matte.meta}
    logo = None
    if job.logo is not None:
        with Image.open(job.logo) as opened:
            logo = opened.convert("RGBA")
    started = time.perf_counter()
    creative = compose(backdrop, cutout, job.text, job.fmt, palette=job.palette, logo=logo)
    composed = time.perf_counter()
    data = encode(creative.image, job.encoding)
    encoded = time.perf_counter()
    meta: dict[str, Any] = {
        "format": job.fmt.name,
        "width": job.fmt.width,
        "height": job.fmt.height,
        "encoding": job.encoding,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "card": cutout is None,
        "matte": matte_meta,
        "background": {"mode": job.background, "style": job.style, "seed": job.seed},
        "palette": [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in job.palette],
        "generator": generator.model_info if job.background == "generated" and generator else None,
        "device": generator.provider if generator else "CPUExecutionProvider",
        "headline": job.text.headline,
        "layout": creative.layout,
        "timings_ms": {
            "compose": round((composed - started) * 1000, 1),
            "encode": round((encoded - composed) * 1000, 1),
        },
    }
    return CreativeOutcome(job.key, data, None, meta)


def _matte_key(job: CreativeJob) -> tuple[Path, Path | None] | None:
    """(photo, model that may cut it out): mattes are shared by the jobs with the same key."""
    if job.photo is None:
        return None
    return job.photo, job.matte_model or job.default_matte_model


def _read_photo(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    with Image.open(path) as opened:
        if opened.width * opened.height > MAX_PHOTO_PIXELS:
            raise ValueError(f"{opened.width}×{opened.height} is over {MAX_PHOTO_PIXELS:,} pixels")
        image = opened.convert("RGBA")
    rgba = np.asarray(image)
    if rgba[..., 3].min() < 255:  # a photo with transparency is flattened onto white first
        alpha = rgba[..., 3:4].astype(np.float32) / 255
        flat = rgba[..., :3] * alpha + 255 * (1 - alpha)
        return np.round(flat).astype(np.uint8)
    return np.ascontiguousarray(rgba[..., :3])


def _mix(a: bg.RGB, b: bg.RGB, amount: float) -> bg.RGB:
    return (
        round(a[0] + (b[0] - a[0]) * amount),
        round(a[1] + (b[1] - a[1]) * amount),
        round(a[2] + (b[2] - a[2]) * amount),
    )
