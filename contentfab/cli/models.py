"""`contentfab models build|list`: the local ONNX model store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from contentfab.cli.common import _settings, console, models_app, user_errors
from contentfab.core.errors import InputError
from contentfab.core.manifest import Recommendation
from contentfab.core.model_store import ModelManifest, ModelStore
from contentfab.core.settings import Settings
from contentfab.exporters import build_from_hf, build_model

DEFAULT_SUPPORT_MODELS = ("minilm-l6-v2", "cppn-backgrounds", "u2netp")


@models_app.command("build")
@user_errors
def models_build(
    name: Annotated[
        str | None, typer.Argument(help="Model to build (default: the copy model).")
    ] = None,
    from_hf: Annotated[
        Path | None, typer.Option("--from-hf", help="A local Hugging Face model dir or .gguf.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if a valid export exists.")] = False,
    quantize: Annotated[
        str | None, typer.Option(help="nbits8 (8-bit MatMulNBits, CPU) or fp16 (GPU).")
    ] = None,
    fused: Annotated[
        bool,
        typer.Option(
            "--fused",
            help="The copy model as ONNX Runtime's fused CPU graph, stored as NAME-fused "
            "beside it; CPU workers use it when it is there (fp32 or --quantize nbits8).",
        ),
    ] = False,
    all_models: Annotated[
        bool,
        typer.Option(
            "--all", help="Build every default model: copy, embeddings, backgrounds, matte."
        ),
    ] = False,
    interactions: Annotated[
        Path | None, typer.Option(help="two-tower: the interactions file to train on.")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="two-tower: the catalog the interactions refer to.")
    ] = None,
    store_name: Annotated[
        str, typer.Option("--name", help="two-tower: the name in the model store.")
    ] = "two-tower",
    text_model: Annotated[
        str, typer.Option(help="two-tower: the text-embedding model its item tower starts from.")
    ] = DEFAULT_SUPPORT_MODELS[0],
) -> None:
    """Export a model to ONNX into the model store (idempotent).

    `models build two-tower --interactions FILE --catalog FILE [--name NAME]` trains the
    two-tower recommender (torch) on that data instead, and exports it.
    """
    settings = _settings()
    if name == "two-tower" or interactions is not None or catalog is not None:
        if name != "two-tower" or interactions is None or catalog is None:
            raise InputError("usage: models build two-tower --interactions FILE --catalog FILE")
        manifest = _build_two_tower(settings, interactions, catalog, store_name, text_model)
        training = (manifest.source or {})["training"]
        tower = manifest.section(Recommendation)
        console.print(
            f"[green]ok[/] {manifest.name} {manifest.version} → "
            f"{settings.model_store / manifest.name}: {training['examples']:,} examples, "
            f"{tower.train_seconds} s, final loss {tower.final_loss}, "
            f"{len(tower.product_ids):,} products"
        )
        return
    if all_models and (name or from_hf):
        raise InputError("--all builds the default models; give no name or --from-hf with it")
    names: list[str | None] = [None, *DEFAULT_SUPPORT_MODELS] if all_models else [name]
    for target in names:
        # --quantize is for the copy model; the encoder and the CPPN are exported in fp32.
        copy_model = target is None or target == name
        manifest = _build_model(
            settings,
            target,
            from_hf=from_hf,
            force=force,
            quantize=quantize if copy_model else None,
            fused=fused and copy_model,
        )
        console.print(
            f"[green]ok[/] {manifest.name} {manifest.version} → "
            f"{settings.model_store / manifest.name}"
        )


def _build_model(
    settings: Settings,
    name: str | None,
    *,
    from_hf: Path | None = None,
    force: bool = False,
    quantize: str | None = None,
    fused: bool = False,
) -> ModelManifest:
    store = ModelStore(settings.model_store)
    target = name or settings.copy_model
    with console.status(f"exporting {target} to ONNX (first time only; a minute or two)…"):
        if from_hf is not None:
            return build_from_hf(
                from_hf, target, store, force=force, quantize=quantize, fused=fused
            )
        return build_model(target, store, force=force, quantize=quantize, fused=fused)


def _build_two_tower(
    settings: Settings, interactions: Path, catalog: Path, name: str, text_model: str
) -> ModelManifest:
    # lazy: numpy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.services import two_tower
    from contentfab.workers.embeddings import TextEmbedder

    store = ModelStore(settings.model_store)
    if not store.is_valid(text_model):
        _build_model(settings, text_model)
    embedder = TextEmbedder.load(store.model_dir(text_model))
    with console.status(f"training the two-tower model {name} (torch) and exporting it…"):
        return two_tower.build_from_files(interactions, catalog, store, name, embedder)


@models_app.command("list")
@user_errors
def models_list() -> None:
    """List the models in the store."""
    settings = _settings()
    store = ModelStore(settings.model_store)
    table = Table("name", "version", "family", "quantization", "parity", "valid")
    for model in store.list():
        manifest = model.manifest
        table.add_row(
            model.name,
            str(manifest.version if manifest else None),
            str(manifest.family if manifest else None),
            str(manifest.quantization if manifest else None),
            _parity_text((manifest.parity if manifest else None) or {}),
            "yes" if model.valid else "NO",
        )
    console.print(table)


def _parity_text(parity: dict[str, Any]) -> str:
    if not parity:
        return "-"
    if "min_cosine" in parity:  # sentence encoders
        return f"cosine {parity['min_cosine']:.6f}"
    if "max_abs_diff" in parity:  # the two-tower user tower
        return f"max abs diff {parity['max_abs_diff']:.1e}"
    verdict = "exact" if parity.get("all_match") else "approx"
    return f"{verdict}, top-1 {parity.get('top1_agreement', 0):.3f}"


# --------------------------------------------------------------------------- campaigns
