"""The ``images`` section of a campaign file: which creatives to make and how they look.

    images:
      formats: [square, story, 1.91:1, 1600x900]   # names, ratios or WIDTHxHEIGHT
      variants: 2                                   # per product × format
      background:
        mode: generated        # generated | flat | gradient | image
        style: studio          # generated only: studio, soft, waves, marble, bold
        palette: ["#1c3454", "#ebe2d2", "#d66340"]
        image: backdrop.jpg    # mode image only, relative to the campaign file
        prompt: "soft pastel studio backdrop for {title}"  # mode text_to_image only
        pipeline: sd-turbo-onnx   # text_to_image: a folder (relative to the campaign file)
                                  # or a model-store name; default: settings
        steps: 1                  # text_to_image: 1-4 Turbo sampling steps
      headline_from_channel: search_headline       # the product's copy of this channel, if any;
                                                    # image jobs wait for that copy to finish
      price: true
      output: png              # png | jpeg | webp
      matte_model: models/u2net.onnx               # optional U²-Net/ISNet/BiRefNet-style file
      logo: logo.png           # optional; otherwise the brand name is set as a word mark

Paths are relative to the campaign file and must exist; :func:`check_files` reports those
that do not as problems with the field name, like every other campaign error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from contentfab.campaign.files import confine
from contentfab.core.channels import CHANNELS
from contentfab.core.errors import ModelError, Problem
from contentfab.core.formats import parse_format
from contentfab.core.model_store import ModelManifest, ModelStore, missing_pipeline_files

if TYPE_CHECKING:
    from contentfab.core.settings import Settings

TEST_PIPELINE = "tiny-sd-turbo"  # exporters.text_to_image.TINY_SD_NAME
STYLES = ("studio", "soft", "waves", "marble", "bold")  # exporters.background.STYLES
DEFAULT_PALETTE = ["#1c2a3a", "#f1ede6", "#c8553d"]
DEFAULT_GENERATOR = "cppn-backgrounds"
MAX_IMAGE_VARIANTS = 8
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_STORE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # campaign._MODEL_NAME


def _format(value: str) -> str:
    return parse_format(value).name


def _colour(value: str) -> str:
    if not _COLOUR.fullmatch(value):
        raise ValueError(f"{value!r} is not a colour; write #RRGGBB such as #1c3454")
    return value.lower()


def _channel(name: str) -> str:
    if name not in CHANNELS:
        raise ValueError(f"unknown channel {name!r}; known channels: {', '.join(CHANNELS)}")
    return name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class BackgroundRequest(_Section):
    mode: Literal["generated", "flat", "gradient", "image", "text_to_image"] = "generated"
    style: Literal["studio", "soft", "waves", "marble", "bold"] = "studio"
    palette: Annotated[
        list[Annotated[str, AfterValidator(_colour)]], Field(min_length=1, max_length=4)
    ] = DEFAULT_PALETTE
    image: Path | None = None
    prompt: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    pipeline: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    steps: int = Field(default=1, ge=1, le=4, strict=True)


class ImageRequest(_Section):
    formats: Annotated[
        list[Annotated[str, AfterValidator(_format)]], Field(min_length=1, max_length=12)
    ]
    variants: int = Field(default=1, ge=1, le=MAX_IMAGE_VARIANTS, strict=True)
    background: BackgroundRequest = BackgroundRequest()
    headline_from_channel: Annotated[str, AfterValidator(_channel)] | None = None
    price: bool = True
    output: Literal["png", "jpeg", "webp"] = "png"
    matte_model: Path | None = None
    logo: Path | None = None
    generator: str = DEFAULT_GENERATOR

    @field_validator("formats")
    @classmethod
    def _distinct(cls, formats: list[str]) -> list[str]:
        if len(set(formats)) != len(formats):
            raise ValueError("a format is listed twice")
        return formats

    @property
    def creatives_per_product(self) -> int:
        return len(self.formats) * self.variants


def check_files(
    request: ImageRequest,
    base: Path,
    file: str,
    row: int | None,
    extra_roots: Sequence[Path] = (),
) -> list[Problem]:
    """Problems with the files the section names: each must exist inside the campaign file's
    folder or an extra root (:func:`contentfab.campaign.files.confine`)."""
    problems = []
    named = {
        "images.matte_model": request.matte_model,
        "images.logo": request.logo,
        "images.background.image": request.background.image,
    }
    for field, path in named.items():
        if path is not None:
            try:
                confine(path, base, extra_roots)
            except ValueError as exc:
                problems.append(Problem(file, field, str(exc), row))
    pipeline = request.background.pipeline
    if pipeline is not None and not _is_store_name(pipeline, base):
        try:
            confine(pipeline, base, extra_roots, folder=True)
        except ValueError as exc:
            problems.append(Problem(file, "images.background.pipeline", str(exc), row))
    if request.background.mode == "image" and request.background.image is None:
        problems.append(Problem(file, "images.background.image", "required for mode 'image'", row))
    if request.background.mode == "text_to_image" and request.background.prompt is None:
        problems.append(
            Problem(file, "images.background.prompt", "required for mode 'text_to_image'", row)
        )
    return problems


def _is_store_name(reference: str, base: Path) -> bool:
    """A model-store name (such as sd-turbo-onnx) that is not also a folder next to the file."""
    if not _STORE_NAME.fullmatch(reference):
        return False
    try:
        return not (base / reference).exists()
    except OSError:
        return False


def resolve_pipeline(reference: str | None, settings: Settings) -> Path | None:
    """A pipeline reference (folder, or store name; None: the settings') as a folder."""
    reference = reference or settings.text_to_image_pipeline
    if reference is None:
        return None
    try:
        folder = Path(reference).expanduser()
    except RuntimeError:  # ~user of a user this machine does not know: a name like any other
        folder = Path(reference)
    if folder.is_absolute() or folder.is_dir():
        return folder
    return ModelStore(settings.model_store).model_dir(reference)


def missing_models(request: ImageRequest, base: Path, settings: Settings) -> list[tuple[str, str]]:
    """(field, reason) for each model the section needs that is not there, or is of the wrong
    family (a text model as the generator, pipeline or matte model), naming the fix."""
    store = ModelStore(settings.model_store)
    mode = request.background.mode
    if mode == "generated" and not store.is_valid(request.generator):
        return [
            (
                "images.generator",
                f"model {request.generator!r} is not in the model store at "
                f"{settings.model_store}. Build it with `contentfab models build "
                f"{request.generator}`.",
            )
        ]
    if mode == "generated":
        task = store.manifest(request.generator).task
        if task is not None and task != GENERATOR_TASK:
            return [
                (
                    "images.generator",
                    f"model {request.generator!r} is a {task!r} model, not a background "
                    f"generator ({GENERATOR_TASK!r}); use {DEFAULT_GENERATOR}.",
                )
            ]
    if request.matte_model is not None:
        reason = matte_model_problem(base / request.matte_model)
        if reason is not None:
            return [("images.matte_model", reason)]
    return _pipeline_problems(request, base, settings, store) if mode == "text_to_image" else []


#: The ``task`` in the manifest of a background generator and of a text-to-image pipeline.
GENERATOR_TASK = "background-generation"
PIPELINE_TASK = "text-to-image"


def matte_model_problem(path: Path) -> str | None:
    """Why the ONNX file at ``path`` cannot be a matte model, or None.

    A matte model (U²-Net / ISNet / BiRefNet conventions, :func:`workers.images.matte.onnx_matte`)
    takes one float image ``[1, 3, S, S]``. A text model's ``input_ids`` (int64, rank 2), or a
    file that is no ONNX model at all, is refused here rather than failing every image job.
    """
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:  # protobuf raises its own DecodeError; any failure: not a model
        return f"{path.name!r} is not an ONNX model ({type(exc).__name__})"
    initializers = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    described = ", ".join(f"{v.name}: {_onnx_type(v)}" for v in inputs[:4]) or "none"
    tensor = inputs[0].type.tensor_type if len(inputs) == 1 else None
    if tensor is not None:
        dims = tensor.shape.dim
        float_types = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16}
        channels = dims[1] if len(dims) == 4 else None
        if (
            tensor.elem_type in float_types
            and channels is not None
            and (not channels.HasField("dim_value") or channels.dim_value == 3)
        ):
            return None
    return (
        f"{path.name!r} is not a matte model: a matte model takes one float image "
        f"[1, 3, S, S] (U²-Net, ISNet, BiRefNet); this one takes {described}"
    )


def _onnx_type(value: object) -> str:
    import onnx

    tensor = value.type.tensor_type  # type: ignore[attr-defined]
    kind = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else "?"
    dims = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim
    ]
    return f"{kind}{dims}"


def _pipeline_problems(
    request: ImageRequest, base: Path, settings: Settings, store: ModelStore
) -> list[tuple[str, str]]:
    field = "images.background.pipeline"
    reference = pipeline_reference(request, base) or settings.text_to_image_pipeline
    how = (
        "Point it at your own Stable-Diffusion-Turbo ONNX export (`optimum-cli export onnx "
        "--model stabilityai/sd-turbo DIR`), or build the tiny random-weight test pipeline "
        f"with `contentfab models build {TEST_PIPELINE}`."
    )
    if reference is None:
        message = (
            "mode text_to_image needs a pipeline here or in CONTENTFAB_TEXT_TO_IMAGE_PIPELINE."
        )
        return [(field, f"{message} {how}")]
    folder = resolve_pipeline(reference, settings)
    assert folder is not None  # a reference always resolves
    if folder.is_relative_to(store.root) and not store.is_valid(folder.name):
        message = f"pipeline {reference!r} is not in the model store at {settings.model_store}."
        return [(field, f"{message} {how}")]
    task = _manifest_task(folder)
    if task is not None and task != PIPELINE_TASK:
        message = f"{reference[:120]!r} is a {task!r} model, not a text-to-image pipeline."
        return [(field, f"{message} {how}")]
    missing = missing_pipeline_files(folder)
    if missing:
        message = (
            f"{str(folder)[:120]!r} is not a complete pipeline (missing {', '.join(missing)})."
        )
        return [(field, f"{message} {how}")]
    return []


def _manifest_task(folder: Path) -> str | None:
    """The ``task`` of the model manifest in ``folder`` (None: no manifest, or none named)."""
    try:
        return ModelManifest.read(folder).task
    except ModelError:
        return None


def pipeline_reference(request: ImageRequest, base: Path) -> str | None:
    """The campaign's text-to-image pipeline: an absolute folder, a store name, or None."""
    named = request.background.pipeline
    if named is None:
        return None
    folder = (base / named).resolve()
    return str(folder) if folder.is_dir() else named
