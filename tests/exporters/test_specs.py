from __future__ import annotations

from types import SimpleNamespace

import pytest

from contentfab.core.errors import ExportError
from contentfab.exporters.specs import LlamaSpec, MistralSpec, spec_class, spec_for_config


def config(**overrides: object) -> SimpleNamespace:
    values: dict[str, object] = {
        "model_type": "llama",
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "hidden_size": 64,
        "vocab_size": 100,
        "max_position_embeddings": 512,
        "hidden_act": "silu",
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_registry_rejects_unknown_family_and_lists_supported() -> None:
    with pytest.raises(ExportError, match=r"'gpt2'.*supported families: llama, mistral, qwen2"):
        spec_class("gpt2")
    with pytest.raises(ExportError, match="gpt2"):
        spec_for_config(config(model_type="gpt2"))


def test_causal_lm_contract() -> None:
    spec = spec_for_config(config())
    assert isinstance(spec, LlamaSpec)
    assert (spec.num_layers, spec.num_kv_heads, spec.head_dim) == (2, 2, 16)
    assert [t.name for t in spec.inputs()] == [
        "input_ids",
        "attention_mask",
        "position_ids",
        "past_key_values.0.key",
        "past_key_values.0.value",
        "past_key_values.1.key",
        "past_key_values.1.value",
    ]
    assert [t.name for t in spec.outputs()] == [
        "logits",
        "present.0.key",
        "present.0.value",
        "present.1.key",
        "present.1.value",
    ]
    axes = spec.dynamic_axes()
    assert axes["attention_mask"] == {0: "batch", 1: "total_sequence"}
    assert axes["past_key_values.1.value"] == {0: "batch", 2: "past_sequence"}
    assert axes["present.0.key"] == {0: "batch", 2: "total_sequence"}
    assert axes["logits"] == {0: "batch"}


def test_unsupported_config_features_are_all_reported() -> None:
    with pytest.raises(ExportError) as error:
        spec_for_config(config(hidden_act="gelu", rope_parameters={"rope_type": "dynamic"}))
    assert "rope type 'dynamic'" in str(error.value)
    assert "hidden_act 'gelu'" in str(error.value)


def test_qwen2_sliding_window_is_refused() -> None:
    with pytest.raises(ExportError, match="use_sliding_window"):
        spec_for_config(config(model_type="qwen2", use_sliding_window=True))


def test_mistral_context_is_capped_by_its_sliding_window() -> None:
    spec = spec_for_config(config(model_type="mistral", sliding_window=128))
    assert isinstance(spec, MistralSpec)
    assert spec.max_context == 128
