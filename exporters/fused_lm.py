"""Write a llama-style decoder as an ONNX graph of ONNX Runtime's fused CPU operators.

The graph of :mod:`exporters.causal_lm` is a trace of the model's own forward pass: per step it
repeats each key/value head for its query heads, concatenates the new keys to the whole cache and
returns the grown cache as new arrays (about 4,900 nodes for SmolLM2). This one is written node by
node from the weights, the way onnxruntime-genai's model builder writes its graphs (336 nodes
for SmolLM2): per layer one RMS norm fused with the residual add
(``SkipSimplifiedLayerNormalization``), one matrix product for query, key and value together,
``com.microsoft.GroupQueryAttention`` with the rotary embedding inside it, and the MLP as one
matrix product for gate and up. The attention reads and writes a key/value buffer that the caller
allocates once and binds as both the past input and the present output, so a decode step writes
one position per row in place instead of copying the cache.

GroupQueryAttention has no attention mask: row ``b`` holds its own tokens at buffer positions
``0 .. seqlens_k[b]``, with no padding before them, and attends to exactly those. So a row never
sees another row's padding, and its logits are the same whatever shares its batch
(:class:`workers.kv_buffer.BufferCache` drives it that way).

Contract (:func:`inputs`, :func:`outputs`):

    inputs:  input_ids [batch, sequence] int64; seqlens_k [batch] int32 (each row's length
             after this call, minus one); total_sequence_length [] int32 (the largest row's
             length after this call); past_key_values.{i}.key/.value [batch, kv_heads, past,
             head_dim] (past = the buffer's length when it is shared with the present)
    outputs: logits [batch, vocab] (the last position of each row); present.{i}.key/.value
             [batch, kv_heads, total, head_dim]

Every row of a call with ``sequence > 1`` must have the same number of new tokens (the operator
assumes no padding inside a row), and such a call after a past takes one row (ONNX Runtime 1.32
refuses more); the caller groups prompts by length.

This module imports torch (for the weights and the model's rotary tables) only inside
:func:`export_fused`; import it only from export code.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from contentfab.core.errors import ExportError
from contentfab.exporters import external_data
from contentfab.exporters.external_data import EXTERNAL_DATA_THRESHOLD
from contentfab.exporters.specs import FUSED, CausalLMSpec, TensorSpec

OPSET = 17
MS_OPSET = 1


def inputs(spec: CausalLMSpec) -> list[TensorSpec]:
    return dataclasses.replace(spec, decoder=FUSED).inputs()


def outputs(spec: CausalLMSpec) -> list[TensorSpec]:
    return dataclasses.replace(spec, decoder=FUSED).outputs()


def export_fused(
    hf_model: Any,
    spec: CausalLMSpec,
    path: Path,
    *,
    external_data_threshold: int = EXTERNAL_DATA_THRESHOLD,
) -> None:
    """Write ``hf_model`` (llama, mistral or qwen2) to ``path`` as the fused graph.

    A model whose LM head is its embedding multiplies by the embedding itself (``Gemm``, no
    copy); the 8-bit quantiser replaces only ``MatMul`` nodes, so that head stays float32."""
    import torch

    config = hf_model.config
    base = hf_model.model
    weights = {
        name: tensor.detach().to(torch.float32).numpy()
        for name, tensor in hf_model.state_dict().items()
    }
    positions = torch.arange(spec.max_context)[None, :]
    with torch.no_grad():
        probe = torch.zeros((1, 1, spec.hidden_size), dtype=torch.float32)
        cos, sin = base.rotary_emb(probe, positions)
    half = spec.head_dim // 2
    # Hugging Face's rotary tables repeat their first half (rotate_half layout); the operator
    # takes that half, as the model computes it (scaling variants included).
    cos_cache = cos[0, :, :half].to(torch.float32).numpy()
    sin_cache = sin[0, :, :half].to(torch.float32).numpy()
    if not np.allclose(cos[0, :, half:].numpy(), cos_cache):
        raise ExportError("the rotary embedding is not in the rotate-half layout GQA expects")
    model = build_graph(
        spec,
        weights,
        cos_cache=cos_cache,
        sin_cache=sin_cache,
        eps=float(config.rms_norm_eps),
        tied=bool(getattr(config, "tie_word_embeddings", False)) or "lm_head.weight" not in weights,
    )
    external_data.save(model, path, threshold=external_data_threshold)


def build_graph(
    spec: CausalLMSpec,
    weights: dict[str, np.ndarray],
    *,
    cos_cache: np.ndarray,
    sin_cache: np.ndarray,
    eps: float,
    tied: bool,
) -> Any:
    """The fused ONNX model from a Hugging Face state dict (as float32 numpy arrays)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    initializers: list[Any] = []

    def constant(name: str, array: np.ndarray) -> str:
        # (np.ascontiguousarray would turn a scalar into a one-element vector)
        initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def node(op: str, ins: list[str], outs: list[str], domain: str = "", **attrs: Any) -> None:
        nodes.append(
            helper.make_node(op, ins, outs, name=f"{op}_{len(nodes)}", domain=domain, **attrs)
        )

    def linear(x: str, prefix: str, out: str) -> str:
        """``x @ W.T (+ b)`` of one Hugging Face ``nn.Linear`` (several fused along out)."""
        names = prefix.split("|")
        matrix = np.concatenate([weights[f"{n}.weight"] for n in names], axis=0).T
        node("MatMul", [x, constant(f"{names[0]}.matmul", matrix)], [f"{out}_mm"])
        if all(f"{n}.bias" in weights for n in names):
            bias = np.concatenate([weights[f"{n}.bias"] for n in names])
            node("Add", [f"{out}_mm", constant(f"{names[0]}.add", bias)], [out])
        elif any(f"{n}.bias" in weights for n in names):
            raise ExportError(f"only some of {names} have a bias")
        else:
            nodes[-1].output[0] = out
        return out

    embed = constant("model.embed_tokens.weight", weights["model.embed_tokens.weight"])
    node("Gather", [embed, "input_ids"], ["embedded"])
    cos_name = constant("cos_cache", cos_cache)
    sin_name = constant("sin_cache", sin_cache)
    residual, pending = "embedded", ""
    for i in range(spec.num_layers):
        prefix = f"model.layers.{i}"
        norm_in = constant(
            f"{prefix}.input_layernorm.weight", weights[f"{prefix}.input_layernorm.weight"]
        )
        if not pending:
            node(
                "SimplifiedLayerNormalization",
                [residual, norm_in],
                [f"l{i}_attn_in"],
                axis=-1,
                epsilon=eps,
            )
        else:
            node(
                "SkipSimplifiedLayerNormalization",
                [pending, residual, norm_in],
                [f"l{i}_attn_in", "", "", f"l{i}_residual_a"],
                domain="com.microsoft",
                epsilon=eps,
            )
            residual = f"l{i}_residual_a"
        attention = f"{prefix}.self_attn"
        qkv = linear(
            f"l{i}_attn_in",
            f"{attention}.q_proj|{attention}.k_proj|{attention}.v_proj",
            f"l{i}_qkv",
        )
        node(
            "GroupQueryAttention",
            [
                qkv,
                "",
                "",
                f"past_key_values.{i}.key",
                f"past_key_values.{i}.value",
                "seqlens_k",
                "total_sequence_length",
                cos_name,
                sin_name,
            ],
            [f"l{i}_attn", f"present.{i}.key", f"present.{i}.value"],
            domain="com.microsoft",
            num_heads=spec.num_heads,
            kv_num_heads=spec.num_kv_heads,
            scale=float(spec.head_dim**-0.5),
            do_rotary=1,
            rotary_interleaved=0,
        )
        linear(f"l{i}_attn", f"{attention}.o_proj", f"l{i}_attn_out")
        norm_post = constant(
            f"{prefix}.post_attention_layernorm.weight",
            weights[f"{prefix}.post_attention_layernorm.weight"],
        )
        node(
            "SkipSimplifiedLayerNormalization",
            [f"l{i}_attn_out", residual, norm_post],
            [f"l{i}_mlp_in", "", "", f"l{i}_residual_m"],
            domain="com.microsoft",
            epsilon=eps,
        )
        residual = f"l{i}_residual_m"
        mlp = f"{prefix}.mlp"
        intermediate = int(weights[f"{mlp}.gate_proj.weight"].shape[0])
        linear(f"l{i}_mlp_in", f"{mlp}.gate_proj|{mlp}.up_proj", f"l{i}_gate_up")
        node(
            "Split",
            [f"l{i}_gate_up", constant(f"{mlp}.split", np.asarray([intermediate] * 2))],
            [f"l{i}_gate", f"l{i}_up"],
            axis=-1,
        )
        node("Sigmoid", [f"l{i}_gate"], [f"l{i}_gate_sigmoid"])
        node("Mul", [f"l{i}_gate", f"l{i}_gate_sigmoid"], [f"l{i}_silu"])
        node("Mul", [f"l{i}_silu", f"l{i}_up"], [f"l{i}_act"])
        pending = linear(f"l{i}_act", f"{mlp}.down_proj", f"l{i}_mlp_out")
    # Only each row's last position goes through the final norm and the LM head.
    last = constant("last_position", np.asarray(-1, dtype=np.int64))
    node("Gather", [pending, last], ["last_mlp_out"], axis=1)
    node("Gather", [residual, last], ["last_residual"], axis=1)
    node("Add", ["last_mlp_out", "last_residual"], ["last_sum"])
    norm = constant("model.norm.weight", weights["model.norm.weight"])
    node("SimplifiedLayerNormalization", ["last_sum", norm], ["last_hidden"], axis=-1, epsilon=eps)
    if tied:
        # The LM head is the embedding itself: multiply by its transpose instead of a copy.
        node("Gemm", ["last_hidden", embed], ["logits"], transB=1)
    else:
        linear("last_hidden", "lm_head", "logits")

    def value_info(tensor: TensorSpec) -> Any:
        dtype = {"int64": TensorProto.INT64, "int32": TensorProto.INT32}.get(
            tensor.dtype, TensorProto.FLOAT
        )
        return helper.make_tensor_value_info(tensor.name, dtype, list(tensor.shape))

    graph = helper.make_graph(
        nodes,
        "contentfab-fused-decoder",
        [value_info(t) for t in inputs(spec)],
        [value_info(t) for t in outputs(spec)],
        initializers,
    )
    return helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", OPSET),
            helper.make_opsetid("com.microsoft", MS_OPSET),
        ],
        producer_name="contentfab",
    )
