"""What an exported model looks like from the outside: one spec per model family.

:class:`ExportSpec` is what every family declares, the way optimum's ``OnnxConfig`` does: the
ONNX files it writes with each one's inputs, outputs and dynamic axes, the opset, the dummy
inputs a trace runs on, the parity tolerance, and the family's own keys of ``model.json``.
:func:`exporters.pipeline.export_and_validate` is the one path every family's build takes.
The families: :class:`CausalLMSpec` (llama, mistral, qwen2 as thin subclasses that add their
own config checks; traced or fused decoder), :class:`exporters.embedding.EncoderSpec`,
:class:`exporters.two_tower.TwoTowerSpec`, :class:`exporters.background.CPPNSpec`,
:class:`exporters.text_to_image.TinySDSpec` and :class:`exporters.matting.MattingSpec`.

A causal LM's spec also checks that a model's config uses only what the exporter implements.
Unknown decoder families are rejected with the list of supported ones (optimum-onnx's
``TasksManager`` idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from contentfab.core.errors import ExportError
from contentfab.exporters import external_data
from contentfab.exporters.external_data import EXTERNAL_DATA_THRESHOLD

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
#: The ``decoder`` of a causal LM written as ONNX Runtime's fused CPU graph
#: (:mod:`exporters.fused_lm`; the traced graph's is None); workers.kv_buffer.FUSED_DECODER.
FUSED = "fused-gqa"

#: An ONNX file's contract: its inputs and its outputs.
Contract = tuple[list[TensorSpec], list[TensorSpec]]


class ExportSpec:
    """One model family's export contract; a family subclasses it and fills in what differs.

    The class attributes are the family's constants; an instance describes one model of the
    family (its sizes), so its inputs, outputs and manifest section can name them.
    """

    family: ClassVar[str] = ""
    task: ClassVar[str] = ""
    #: The opset the graphs are written at; None where the family exports no graph of its own.
    opset: ClassVar[int | None] = OPSET
    #: How far ONNX Runtime may be from the reference in the family's parity check (its unit
    #: is the family's: a max abs difference, a min cosine); None where there is no reference.
    tolerance: ClassVar[float | None] = None
    #: Bumped when an export of the same source would differ; a stored model built by another
    #: version is rebuilt.
    exporter_version: ClassVar[str] = "1"
    #: Digits ``build_seconds`` keeps in the manifest; None where the manifest has no such key.
    build_seconds_digits: ClassVar[int | None] = 1

    def inputs(self) -> list[TensorSpec]:
        return []

    def outputs(self) -> list[TensorSpec]:
        return []

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {t.name: t.dynamic_axes() for t in (*self.inputs(), *self.outputs())}

    def graphs(self) -> dict[str, Contract]:
        """The ONNX files the family writes (paths in the model folder), each one's contract;
        :func:`exporters.pipeline.check_graphs` holds every file to it."""
        return {"model.onnx": (self.inputs(), self.outputs())}

    def standard_ops(self) -> bool:
        """Whether the graphs hold only standard ONNX operators, so ONNX's checker can read
        them (ONNX Runtime, which loads every graph for parity, checks the others)."""
        return True

    def dummy_inputs(self, graph: str = "model.onnx") -> tuple[Any, ...]:
        """The torch tensors ``graph`` is traced on (torch is imported here, not at the top)."""
        raise NotImplementedError(f"{type(self).__name__} traces no graph")

    def contract_keys(self) -> dict[str, Any]:
        """The manifest's ``opset``, ``inputs`` and ``outputs`` (of ``model.onnx``, or the one
        graph a worker drives)."""
        return {
            "opset": self.opset,
            "inputs": [t.as_dict() for t in self.inputs()],
            "outputs": [t.as_dict() for t in self.outputs()],
        }

    def manifest_section(self) -> dict[str, Any]:
        """The family's own keys of ``model.json`` (the task section and what else it records)."""
        return {}

    def manifest(self, name: str, source: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        """The manifest before validation: what the spec knows, ``version`` still empty."""
        return {
            "name": name,
            "version": "",
            "family": self.family,
            "task": self.task,
            "files": files,
            "source": source,
            **self.contract_keys(),
            **self.manifest_section(),
            "exporter_version": self.exporter_version,
        }


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
class CausalLMSpec(ExportSpec):
    """Decoder-only LM with a key/value cache, logits for the last position only.

    inputs:  input_ids [batch, sequence], attention_mask [batch, past+sequence],
             position_ids [batch, sequence], past_key_values.{i}.key/.value
             [batch, kv_heads, past, head_dim]
    outputs: logits [batch, vocab], present.{i}.key/.value [batch, kv_heads, past+sequence,
             head_dim]

    With ``decoder`` :data:`FUSED` the contract is the fused graph's (:mod:`exporters.fused_lm`):
    ``seqlens_k`` and ``total_sequence_length`` instead of the mask and positions. Parity is
    token by token: an fp32 export must give torch's greedy tokens exactly (tolerance 0); a
    quantised one keeps the source's teacher-forced agreement (``build.Source.min_agreement``).
    """

    task: ClassVar[str] = "text-generation"
    tolerance: ClassVar[float | None] = 0.0
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
    decoder: str | None = None

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
        if self.decoder == FUSED:
            steps = [
                TensorSpec("seqlens_k", "int32", (BATCH,)),
                TensorSpec("total_sequence_length", "int32", ()),
            ]
        else:
            steps = [
                TensorSpec("attention_mask", "int64", (BATCH, TOTAL)),
                TensorSpec("position_ids", "int64", (BATCH, SEQUENCE)),
            ]
        return [
            TensorSpec("input_ids", "int64", (BATCH, SEQUENCE)),
            *steps,
            *(TensorSpec(name, "float32", cache_shape) for name in self.past_names()),
        ]

    def outputs(self) -> list[TensorSpec]:
        cache_shape = (BATCH, self.num_kv_heads, TOTAL, self.head_dim)
        return [
            TensorSpec("logits", "float32", (BATCH, self.vocab_size)),
            *(TensorSpec(name, "float32", cache_shape) for name in self.present_names()),
        ]

    def standard_ops(self) -> bool:
        # The fused graph uses ONNX Runtime's contrib operators, some in the standard domain
        # (SimplifiedLayerNormalization), which ONNX's checker refuses.
        return self.decoder != FUSED

    def dummy_inputs(self, graph: str = "model.onnx") -> tuple[Any, ...]:
        """A batch of 2 rows, 3 new tokens after a past of 2 (the traced graph only: the
        fused one is written node by node, not traced)."""
        import torch

        batch, length, past_length = 2, 3, 2
        past = [
            torch.zeros(batch, self.num_kv_heads, past_length, self.head_dim)
            for _ in self.past_names()
        ]
        return (
            torch.ones(batch, length, dtype=torch.long),
            torch.ones(batch, past_length + length, dtype=torch.long),
            torch.arange(past_length, past_length + length).repeat(batch, 1),
            *past,
        )

    def manifest_section(self) -> dict[str, Any]:
        # The tokenizer's keys (stop tokens, chat template) come from the build, not the spec.
        return {
            "decoder": self.decoder,
            "num_layers": self.num_layers,
            "num_kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "max_context": self.max_context,
        }


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
