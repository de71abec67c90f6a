from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from contentfab.core.errors import ModelError
from contentfab.exporters import ModelStore, build_model


def copy_model(store: ModelStore, name: str, tmp_path: Path) -> ModelStore:
    copy = ModelStore(tmp_path / "store")
    shutil.copytree(store.model_dir(name), copy.model_dir(name))
    return copy


def test_built_model_is_valid_and_listed(tiny_model_store: ModelStore) -> None:
    assert tiny_model_store.is_valid("tiny-llama")
    [entry] = tiny_model_store.list()
    assert entry.name == "tiny-llama"
    assert entry.valid is True
    assert entry.manifest is not None
    assert set(entry.manifest.files) == {"model.onnx", "tokenizer.json"}


def test_corrupted_file_makes_model_invalid(tiny_model_store: ModelStore, tmp_path: Path) -> None:
    store = copy_model(tiny_model_store, "tiny-llama", tmp_path)
    onnx_file = store.model_dir("tiny-llama") / "model.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_file.write_bytes(bytes(data))

    assert not store.is_valid("tiny-llama")
    assert store.problems("tiny-llama") == [
        "model.onnx: sha256 does not match the manifest (file changed)"
    ]


def test_missing_file_makes_model_invalid(tiny_model_store: ModelStore, tmp_path: Path) -> None:
    store = copy_model(tiny_model_store, "tiny-llama", tmp_path)
    (store.model_dir("tiny-llama") / "tokenizer.json").unlink()
    assert store.problems("tiny-llama") == ["tokenizer.json: missing"]


def test_missing_model_names_the_build_command(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelError, match="contentfab models build smollm2-135m-instruct"):
        store.manifest("smollm2-135m-instruct")
    assert not store.is_valid("smollm2-135m-instruct")
    assert store.list() == []


def test_unreadable_manifest_is_a_model_error(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.model_dir("broken").mkdir()
    (store.model_dir("broken") / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        store.manifest("broken")
    assert store.list()[0].valid is False


def test_model_names_cannot_escape_the_store(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a valid model name"):
        ModelStore(tmp_path).model_dir("../elsewhere")


def test_crashed_build_leaves_previous_model_untouched(
    tiny_model_store: ModelStore, tmp_path: Path
) -> None:
    store = copy_model(tiny_model_store, "tiny-llama", tmp_path)
    before = store.manifest("tiny-llama")
    with pytest.raises(RuntimeError), store.staging("tiny-llama") as staging:
        (staging / "model.onnx").write_bytes(b"half a model")
        raise RuntimeError("export crashed")
    assert store.manifest("tiny-llama") == before
    assert store.is_valid("tiny-llama")
    assert [p.name for p in store.root.iterdir() if not p.name.endswith("cache.json")] == [
        "tiny-llama"
    ]


def test_crashed_first_build_leaves_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(RuntimeError), store.staging("new-model") as staging:
        (staging / "model.onnx").write_bytes(b"half a model")
        raise RuntimeError("export crashed")
    assert list(tmp_path.iterdir()) == []
    assert not store.is_valid("new-model")


def test_staging_swaps_the_new_model_in(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    for content in (b"first", b"second"):
        with store.staging("m") as staging:
            (staging / "weights.bin").write_bytes(content)
    assert (store.model_dir("m") / "weights.bin").read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_rebuild_of_an_unchanged_model_is_a_no_op(tiny_model_store: ModelStore) -> None:
    onnx_file = tiny_model_store.model_dir("tiny-llama") / "model.onnx"
    before = (tiny_model_store.manifest("tiny-llama"), onnx_file.stat().st_mtime_ns)
    started = time.perf_counter()
    manifest = build_model("tiny-llama", tiny_model_store)
    assert time.perf_counter() - started < 1.0
    assert (manifest, onnx_file.stat().st_mtime_ns) == before
