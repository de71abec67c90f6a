"""What an exported model looks like from the outside: one spec per model family.

A spec declares the ONNX inputs and outputs with their dynamic axes and checks that a model's
config uses only what the exporter implements. Families share the decoder-only contract of
:class:`CausalLMSpec`; thin subclasses name the family and add its own checks. Unknown
families are rejected with the list of supported ones (optimum-onnx's ``TasksManager`` idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from contentfab.core.errors import ExportError
from exporters import external_data
from exporters.external_data import EXTERNAL_DATA_THRESHOLD

# Names of dynamic axes, as they appear in the ONNX graph and the manifest.
BATCH = "batch"
SEQUENCE = "sequence"
PAST = "past_sequence"
TOTAL = "total_sequence"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[str | int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    def dynamic_axes(self) -> dict[int, str]:
        return {i: axis for i, axis in enumerate(self.shape) if isinstance(axis, str)}


#: The ONNX opset every exporter writes (the legacy TorchScript exporter, tested here at 17).
OPSET = 17


def export_module(
    module: Any,
    args: tuple[Any, ...],
    path: Any,
    *,
    inputs: list[TensorSpec],
    outputs: list[TensorSpec],
    external_data_threshold: int = EXTERNAL_DATA_THRESHOLD,
) -> None:
    """``torch.onnx.export`` as every model family here uses it; failures become ExportError.

    The exporter writes into a private folder first: past 2 GiB it saves every weight as a file
    of its own beside the graph. :func:`exporters.external_data.save` then writes ``path`` as
    one file or as the graph plus one data file (``external_data_threshold`` bytes of weights
    decide), and the private folder goes.
    """
    import tempfile

    import torch

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.export-", dir=path.parent) as scratch:
        traced = Path(scratch) / path.name
        try:
            with torch.no_grad():
                torch.onnx.export(
                    module,
                    args,
                    str(traced),
                    input_names=[t.name for t in inputs],
                    output_names=[t.name for t in outputs],
                    dynamic_axes={t.name: t.dynamic_axes() for t in (*inputs, *outputs)},
                    opset_version=OPSET,
                    do_constant_folding=True,
                    dynamo=False,
                )
        except Exception as error:
            raise ExportError(f"torch.onnx.export failed: {error}") from error
        external_data.save(external_data.load(traced), path, threshold=external_data_threshold)


@dataclass(frozen=True)
class CausalLMSpec:
    """Decoder-only LM with a key/value cache, logits for the last position only.

    inputs:  input_ids [batch, sequence], attention_mask [batch, past+sequence],
             position_ids [batch, sequence], past_key_values.{i}.key/.value
             [batch, kv_heads, past, head_dim]
    outputs: logits [batch, vocab], present.{i}.key/.value [batch, kv_heads, past+sequence,
             head_dim]
    """

    family: ClassVar[str] = ""
    task: ClassVar[str] = "text-generation"
    # rope variants whose frequencies do not depend on the sequence length at run time
    supported_rope_types: ClassVar[frozenset[str]] = frozenset(
        {"default", "linear", "llama3", "yarn"}
    )

    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    hidden_size: int
    vocab_size: int
    max_context: int

    @classmethod
    def from_config(cls, config: Any) -> CausalLMSpec:
        cls.check_config(config)
        num_heads = int(config.num_attention_heads)
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // num_heads
        return cls(
            num_layers=int(config.num_hidden_layers),
            num_heads=num_heads,
            num_kv_heads=int(getattr(config, "num_key_value_heads", None) or num_heads),
            head_dim=int(head_dim),
            hidden_size=int(config.hidden_size),
            vocab_size=int(config.vocab_size),
            max_context=int(config.max_position_embeddings),
        )

    @classmethod
    def check_config(cls, config: Any) -> None:
        problems = []
        if config.model_type != cls.family:
            problems.append(f"model_type is '{config.model_type}', expected '{cls.family}'")
        rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None)
        rope_type = (rope or {}).get("rope_type") or (rope or {}).get("type") or "default"
        if rope_type not in cls.supported_rope_types:
            problems.append(
                f"rope type '{rope_type}' is not supported "
                f"(supported: {', '.join(sorted(cls.supported_rope_types))})"
            )
        if getattr(config, "hidden_act", "silu") != "silu":
            problems.append(f"hidden_act '{config.hidden_act}' is not supported (only 'silu')")
        problems.extend(cls.family_problems(config))
        if problems:
            raise ExportError(f"cannot export this {cls.family} model: " + "; ".join(problems))

    @classmethod
    def family_problems(cls, config: Any) -> list[str]:
        return []

    def past_names(self) -> list[str]:
        return [
            f"past_key_values.{i}.{kind}"
            for i in range(self.num_layers)
            for kind in ("key", "value")
        ]

    def present_names(self) -> list[str]:
        return [f"present.{i}.{kind}" for i in range(self.num_layers) for kind in ("key", "value")]

    def inputs(self) -> list[TensorSpec]:
        cache_shape = (BATCH, self.num_kv_heads, PAST, self.head_dim)
        return [
            TensorSpec("input_ids", "int64", (BATCH, SEQUENCE)),
            TensorSpec("attention_mask", "int64", (BATCH, TOTAL)),
            TensorSpec("position_ids", "int64", (BATCH, SEQUENCE)),
            *(TensorSpec(name, "float32", cache_shape) for name in self.past_names()),
        ]

    def outputs(self) -> list[TensorSpec]:
        cache_shape = (BATCH, self.num_kv_heads, TOTAL, self.head_dim)
        return [
            TensorSpec("logits", "float32", (BATCH, self.vocab_size)),
            *(TensorSpec(name, "float32", cache_shape) for name in self.present_names()),
        ]

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {t.name: t.dynamic_axes() for t in (*self.inputs(), *self.outputs())}


class LlamaSpec(CausalLMSpec):
    family = "llama"


class MistralSpec(CausalLMSpec):
    family = "mistral"

    @classmethod
    def family_problems(cls, config: Any) -> list[str]:
        # The exported attention is full causal attention; a sliding window is only equivalent
        # while the context stays inside it, so the spec caps max_context instead of refusing.
        return []

    @classmethod
    def from_config(cls, config: Any) -> CausalLMSpec:
        spec = super().from_config(config)
        window = getattr(config, "sliding_window", None)
        if window and window < spec.max_context:
            return cls(**{**spec.__dict__, "max_context": int(window)})
        return spec


class Qwen2Spec(CausalLMSpec):
    family = "qwen2"

    @classmethod
    def family_problems(cls, config: Any) -> list[str]:
        if getattr(config, "use_sliding_window", False):
            return ["use_sliding_window=True is not supported"]
        return []


SPECS: dict[str, type[CausalLMSpec]] = {
    spec.family: spec for spec in (LlamaSpec, MistralSpec, Qwen2Spec)
}


def spec_class(family: str) -> type[CausalLMSpec]:
    try:
        return SPECS[family]
    except KeyError:
        raise ExportError(
            f"no ONNX export spec for model family '{family}'; "
            f"supported families: {', '.join(sorted(SPECS))}"
        ) from None


def spec_for_config(config: Any) -> CausalLMSpec:
    return spec_class(str(config.model_type)).from_config(config)
