"""The typed model manifest: old ``model.json`` files keep loading, and reading then writing one
leaves it as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contentfab.core.errors import ModelError
from contentfab.core.manifest import (
    MANIFEST_NAME,
    ModelManifest,
    Recommendation,
    SentenceEmbedding,
    TextGeneration,
)
from contentfab.core.model_store import ModelStore

#: A decoder's manifest as exporters/build.py wrote it before the manifest had a type, with a
#: key no reader knows and without the optional keys of later exporters.
OLD_DECODER = {
    "name": "old-llama",
    "version": "local-fp32-0123abcd",
    "family": "llama",
    "task": "text-generation",
    "files": {"model.onnx": "ab" * 32, "tokenizer.json": "cd" * 32},
    "source": {"package": "llm-old", "package_version": "0.1"},
    "opset": 17,
    "inputs": [{"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"]}],
    "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", "sequence", "vocab"]}],
    "num_layers": 2,
    "num_kv_heads": 1,
    "head_dim": 8,
    "vocab_size": 300,
    "eos_token_ids": [2, 0],
    "bos_token_id": 1,
    "chat_template": "{{ messages }}",
    "quantization": None,
    "parity": {"all_match": True, "top1_agreement": 1.0},
    "exporter_version": "1",
    "created_at": "2025-01-01T00:00:00+00:00",
    "a_key_from_the_past": {"anything": [1, 2]},
}


def _write(directory: Path, data: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
    return directory


def test_an_old_manifest_loads_ignoring_unknown_keys_and_defaulting_missing_ones(
    tmp_path: Path,
) -> None:
    manifest = ModelManifest.read(_write(tmp_path / "old-llama", OLD_DECODER))
    assert manifest.name == "old-llama" and manifest.task == "text-generation"
    assert manifest.files["model.onnx"] == "ab" * 32
    assert manifest.build_seconds is None and manifest.trained is None
    lm = manifest.section(TextGeneration)
    assert (lm.num_layers, lm.num_kv_heads, lm.head_dim, lm.vocab_size) == (2, 1, 8, 300)
    assert lm.eos_token_ids == [2, 0] and lm.bos_token_id == 1
    # Keys older exporters did not write take their defaults: a traced graph, no context limit.
    assert lm.decoder is None and lm.max_context is None and lm.pad_token_id is None
    assert "a_key_from_the_past" not in manifest.to_dict()
    assert manifest.sentence_embedding is None


def test_reading_and_writing_a_manifest_keeps_its_keys(tmp_path: Path) -> None:
    known = {k: v for k, v in OLD_DECODER.items() if k != "a_key_from_the_past"}
    manifest = ModelManifest.read(_write(tmp_path / "a", OLD_DECODER))
    assert manifest.to_dict() == known  # no key added, the unknown one dropped
    manifest.write(tmp_path / "a")
    assert ModelManifest.read(tmp_path / "a") == manifest
    assert json.loads((tmp_path / "a" / MANIFEST_NAME).read_text()) == known


def test_a_manifest_naming_only_its_task_loads_without_a_section(tmp_path: Path) -> None:
    # The wrong-model checks of tests/faults read such manifests: name, task, files.
    data = {"name": "m", "task": "sentence-embedding", "files": {"model.onnx": "00"}}
    manifest = ModelManifest.read(_write(tmp_path / "m", data))
    assert manifest.task == "sentence-embedding" and manifest.sentence_embedding is None
    with pytest.raises(ModelError, match=r"lacks the sentence-embedding fields.*--force"):
        manifest.section(SentenceEmbedding)


def test_each_task_fills_its_own_section() -> None:
    tower = ModelManifest.from_dict(
        {"name": "tt", "family": "two-tower", "task": "recommendation", "dim": 4,
         "products": 2, "max_history": 50, "product_ids": ["A", "B"]}
    )  # fmt: skip
    assert tower.section(Recommendation).product_ids == ["A", "B"]
    assert tower.sentence_embedding is None and tower.text_generation is None
    with pytest.raises(ModelError, match="'recommendation' model"):
        tower.section(TextGeneration)


def test_with_keys_changes_a_flat_key() -> None:
    manifest = ModelManifest.from_dict(OLD_DECODER)
    assert manifest.with_keys(eos_token_ids=[-1]).section(TextGeneration).eos_token_ids == [-1]
    assert manifest.section(TextGeneration).eos_token_ids == [2, 0]


def test_a_manifest_that_is_not_one_is_a_model_error(tmp_path: Path) -> None:
    _write(tmp_path / "list", [1, 2])
    with pytest.raises(ModelError, match="not a JSON object"):
        ModelManifest.read(tmp_path / "list")
    _write(tmp_path / "files", {"name": "files", "files": ["model.onnx"]})
    with pytest.raises(ModelError, match="not a model manifest"):
        ModelManifest.read(tmp_path / "files")
    wrong = {**OLD_DECODER, "num_layers": "two"}  # the task's keys, one of the wrong type
    with pytest.raises(ModelError, match="num_layers"):
        ModelManifest.read(_write(tmp_path / "wrong", wrong))
    assert (
        ModelStore(tmp_path)
        .problems("files")[0]
        .endswith("rebuild it with `contentfab models build files --force`")
    )
