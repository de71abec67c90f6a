"""`contentfab demo` (and `run`) export the models a campaign needs that are missing from the
store side by side, each in a `contentfab models build` process of its own; a build that fails
there is left to the in-process build after it, which reports it as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentfab.cli.models import _build_model
from contentfab.cli.run import _build_side_by_side
from contentfab.core.settings import Settings
from contentfab.exporters import ModelStore


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The child processes read their settings from the environment, as the CLI's do.
    monkeypatch.setenv("CONTENTFAB_MODEL_STORE", str(tmp_path / "models"))
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path / "data"))
    return Settings()


def test_missing_models_are_built_side_by_side(settings: Settings) -> None:
    names = ["cppn-backgrounds", "minilm-l6-v2", "cppn-backgrounds"]
    _build_side_by_side(settings, names)
    store = ModelStore(settings.model_store)
    assert store.is_valid("cppn-backgrounds") and store.is_valid("minilm-l6-v2")
    logs = sorted(p.name for p in (settings.data_dir / "logs").glob("models-build-*.log"))
    assert logs == ["models-build-cppn-backgrounds.log", "models-build-minilm-l6-v2.log"]
    # Built: the in-process builds after it keep the exports.
    manifest = store.manifest("cppn-backgrounds")
    assert _build_model(settings, "cppn-backgrounds") == manifest


def test_a_failed_build_is_reported_by_the_build_after_it(settings: Settings) -> None:
    _build_side_by_side(settings, ["cppn-backgrounds", "no-such-model"])
    assert ModelStore(settings.model_store).is_valid("cppn-backgrounds")
    log = settings.data_dir / "logs" / "models-build-no-such-model.log"
    assert "no-such-model" in log.read_text()
    with pytest.raises(Exception, match="no-such-model"):
        _build_model(settings, "no-such-model")


def test_one_missing_model_is_left_to_the_build_in_process(settings: Settings) -> None:
    _build_side_by_side(settings, ["cppn-backgrounds"])
    assert not ModelStore(settings.model_store).is_valid("cppn-backgrounds")
    assert not (settings.data_dir / "logs").exists()
