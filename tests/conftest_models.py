"""Session fixtures with exported models, built once per test session.

Registered from ``tests/conftest.py`` as a pytest plugin. The tiny random-weight model builds in
a few seconds; the real SmolLM2 export takes minutes and is used only by ``slow`` tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contentfab.exporters import ModelStore, build_model
from contentfab.workers.textgen import TextGenerator


@pytest.fixture(scope="session")
def tiny_model_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("model-store"))
    build_model("tiny-llama", store)
    return store


@pytest.fixture(scope="session")
def tiny_generator(tiny_model_store: ModelStore) -> TextGenerator:
    return TextGenerator.load(tiny_model_store.model_dir("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_fused_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """``tiny-llama`` twice: the traced graph and the fused one (``tiny-llama-fused``)."""
    store = ModelStore(tmp_path_factory.mktemp("fused-model-store"))
    build_model("tiny-llama", store)
    build_model("tiny-llama", store, fused=True)
    return store


@pytest.fixture(scope="session")
def tiny_fused_generator(tiny_fused_store: ModelStore) -> TextGenerator:
    """``tiny-llama`` written as the fused GroupQueryAttention graph."""
    return TextGenerator.load(tiny_fused_store.model_dir("tiny-llama-fused"))


@pytest.fixture(scope="session")
def tiny_torch_model() -> Any:
    """The same random weights as ``tiny-llama``, as a torch ``LlamaForCausalLM``."""
    from contentfab.exporters.tiny import build_tiny_model

    return build_tiny_model("llama", seed=0)[0]


@pytest.fixture(scope="session")
def smollm2_store() -> ModelStore:
    # Kept between runs in the checkout's ignored .contentfab/ folder: the export is idempotent
    # (a valid one is reused in well under a second), so only a fresh clone pays for it.
    store = ModelStore(Path(__file__).resolve().parents[1] / ".contentfab" / "test-models")
    build_model("smollm2-135m-instruct", store)
    return store


@pytest.fixture(scope="session")
def smollm2_generator(smollm2_store: ModelStore) -> TextGenerator:
    return TextGenerator.load(smollm2_store.model_dir("smollm2-135m-instruct"))


@pytest.fixture(scope="session")
def tiny_bert_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """The random-weight sentence encoder (``tiny-bert``): seconds to build."""
    store = ModelStore(tmp_path_factory.mktemp("bert-store"))
    build_model("tiny-bert", store)
    return store
