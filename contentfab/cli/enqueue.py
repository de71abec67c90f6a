"""`contentfab enqueue`: load and check a campaign, check its models, store and send it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from contentfab.cli.common import (
    _broker_up,
    _sessions,
    _settings,
    _upgrade,
    app,
    console,
    user_errors,
)
from contentfab.core.errors import InputError
from contentfab.core.model_store import ModelStore
from contentfab.core.settings import Settings


def _enqueue(settings: Settings, path: Path, allow_duplicate: bool, loaded: Any = None) -> Any:
    import gc as garbage_collector  # `gc` in this module is the command

    # lazy: celery, sqlalchemy, numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
    from contentfab.campaign import load_campaign
    from contentfab.campaign.pseudonyms import campaign_key
    from contentfab.tasks.app import sending_app
    from contentfab.tasks.campaigns import enqueue

    # Checking and storing a campaign allocates objects by the hundred thousand and frees
    # almost none before the command ends, so the collector's passes over them find nothing
    # to collect: 100,000 users x 20,000 products stored in 1.9-2.0 s instead of 2.7-3.0 s
    # (it was frozen for the storing), and a 100,000-product copy campaign checked, stored and
    # sent in ~0.5 CPU s less (load 2-3). It is paused for the command only.
    collecting = garbage_collector.isenabled()
    garbage_collector.disable()
    try:
        if loaded is None:  # `run` has loaded it already: a large interactions file takes seconds
            loaded = load_campaign(path, settings.extra_file_roots)
        campaign_key(loaded, settings)  # before models are checked: the user's to fix first
        _check_models(settings, loaded)
        _upgrade(settings)
        _broker_up(settings)
        with sending_app(settings) as celery_app:
            return enqueue(
                loaded,
                settings=settings,
                sessions=_sessions(settings),
                app=celery_app,
                allow_duplicate=allow_duplicate,
            )
    finally:
        if collecting:
            garbage_collector.enable()


def _check_models(settings: Settings, loaded: Any) -> None:
    """Refuse a campaign whose models are not in the store, before anything is stored."""
    store = ModelStore(settings.model_store)
    for field, name in _models_of(settings, loaded):
        if not store.is_valid(name):
            raise InputError(
                f"{loaded.source_path}: field '{field}': model {name!r} is not in the model "
                f"store at {settings.model_store}. Build it with `contentfab models build {name}`."
            )
    for field, name, task in _model_tasks(settings, loaded):
        found = store.manifest(name).task
        if found is not None and found != task:  # a manifest names its task since it was built
            raise InputError(
                f"{loaded.source_path}: field '{field}': model {name!r} is a {found!r} model; "
                f"this field needs a {task!r} model"
            )
    recs = loaded.spec.recommendations
    if recs is not None and recs.method == "two_tower":
        _check_two_tower(store, loaded)
    if loaded.spec.images is not None:
        # lazy: numpy, yaml stay out of `contentfab --help` (cli/__init__.py)
        from contentfab.campaign.creatives import missing_models

        base = loaded.source_path.parent.resolve()
        for field, reason in missing_models(loaded.spec.images, base, settings):
            raise InputError(f"{loaded.source_path}: field '{field}': {reason}")


def _check_two_tower(store: Any, loaded: Any) -> None:
    # lazy: numpy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.workers.two_tower import MAX_UNKNOWN_SHARE, unknown_products

    name = loaded.spec.recommendations.model
    where = f"{loaded.source_path}: field 'recommendations.model'"
    manifest = store.manifest(name)  # present: checked by _models_of's loop
    if manifest.family != "two-tower":
        raise InputError(
            f"{where}: model {name!r} is a {manifest.family!r} model; method: two_tower "
            "needs one built with `contentfab models build two-tower`"
        )
    skus = [p.sku for p in loaded.products]
    unknown = unknown_products(manifest, skus)
    if len(unknown) > MAX_UNKNOWN_SHARE * len(skus):
        raise InputError(
            f"{where}: the two-tower model {name!r} does not know {len(unknown):,} of the "
            f"campaign's {len(skus):,} products (first: {', '.join(unknown[:3])}); at most "
            f"{MAX_UNKNOWN_SHARE:.0%} may be unknown. Train it on this catalog with `contentfab "
            "models build two-tower`, or use method: embedding."
        )


#: The task (``task`` in a model's manifest) each campaign model field needs.
MODEL_TASKS = {
    "copy.model": "text-generation",
    "recommendations.model": "sentence-embedding",
    "recommendations.model (its text model)": "sentence-embedding",
}


def _model_tasks(settings: Settings, loaded: Any) -> list[tuple[str, str, str]]:
    """(campaign field, model name, the task it needs) for every store model the campaign
    names, so that a model of the wrong family (an image model as the copy model, a text
    generator as the recommender's encoder) is refused at enqueue, not failed job by job."""
    recs = loaded.spec.recommendations
    two_tower = recs is not None and recs.method == "two_tower"
    found = []
    for field, name in _models_of(settings, loaded):
        if field == "recommendations.model" and two_tower:
            continue  # _check_two_tower names the build command of a two-tower model
        found.append((field, name, MODEL_TASKS[field]))
    return found


def _models_of(settings: Settings, loaded: Any) -> list[tuple[str, str]]:
    """(campaign field, model name) for every model the campaign needs."""
    models = []
    if loaded.spec.copy_request is not None:
        models.append(("copy.model", loaded.spec.copy_request.model or settings.copy_model))
    recs = loaded.spec.recommendations
    if recs is not None:
        models.append(("recommendations.model", recs.model))
        if recs.method == "two_tower":
            store = ModelStore(settings.model_store)
            if store.is_valid(recs.model):  # segments use the text model it was trained from
                source = store.manifest(recs.model).source or {}
                text = source.get("text_model")
                if isinstance(text, dict) and text.get("name"):
                    models.append(("recommendations.model (its text model)", text["name"]))
    return models


@app.command()
@user_errors
def enqueue(
    campaign_file: Annotated[Path, typer.Argument(help="Campaign YAML or JSON.")],
    allow_duplicate: Annotated[
        bool, typer.Option(help="Enqueue even if the same file+catalog was enqueued before.")
    ] = False,
) -> None:
    """Validate a campaign, store it, and send its work to the queue."""
    settings = _settings()
    result = _enqueue(settings, campaign_file, allow_duplicate)
    console.print(
        f"campaign [bold]{result.campaign_id}[/]: {result.jobs} jobs in {result.messages} "
        f"messages. Watch it with `contentfab status {result.campaign_id} --watch`."
    )
