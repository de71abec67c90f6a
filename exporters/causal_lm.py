"""Export a Hugging Face decoder-only LM to the ONNX contract of :class:`CausalLMSpec`.

The exported graph is a small explicit forward pass over the model's own modules (embedding,
decoder layers' projections and norms, rotary embedding, LM head) rather than a trace through
Hugging Face's cache and mask machinery, which changes between transformers releases and does
not trace cleanly. :func:`validate_parity` is what proves the two forward passes agree: torch's
greedy tokens against ONNX Runtime's, on a left-padded batch.

This module imports torch at import time; import it only from export code.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contentfab.core.errors import ExportError
from contentfab.exporters import external_data
from contentfab.exporters.external_data import EXTERNAL_DATA_THRESHOLD
from contentfab.exporters.specs import CausalLMSpec, export_module
from contentfab.workers.textgen import SamplingParams

QUANTIZATIONS = ("nbits8", "fp16")


class OnnxCausalLM(nn.Module):
    """Flat-tensor forward pass of a llama-style model, sharing the Hugging Face weights."""

    def __init__(self, hf_model: Any, spec: CausalLMSpec) -> None:
        super().__init__()
        base = hf_model.model
        self.spec = spec
        self.embed_tokens = base.embed_tokens
        self.layers = base.layers
        self.norm = base.norm
        self.rotary_emb = base.rotary_emb
        self.lm_head = hf_model.lm_head
        self.groups = spec.num_heads // spec.num_kv_heads

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        *past: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        batch, length = input_ids.shape[0], input_ids.shape[1]
        head_dim = self.spec.head_dim
        hidden = self.embed_tokens(input_ids)
        cos, sin = self.rotary_emb(hidden, position_ids)

        # Query i sits at absolute position past + i and sees keys up to it that are not padding.
        past_length = past[0].shape[2]
        query_at = torch.arange(length, device=input_ids.device) + past_length
        key_at = torch.arange(attention_mask.shape[1], device=input_ids.device)
        visible = (key_at[None, :] <= query_at[:, None])[None, None] & (
            attention_mask[:, None, None, :] > 0
        )
        # A finite minimum, not -inf: a padding query that sees nothing stays finite.
        bias = torch.where(
            visible,
            torch.zeros((), dtype=hidden.dtype),
            torch.full((), torch.finfo(hidden.dtype).min, dtype=hidden.dtype),
        )

        presents: list[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            attention = layer.self_attn
            x = layer.input_layernorm(hidden)
            q = attention.q_proj(x).view(batch, length, -1, head_dim).transpose(1, 2)
            k = attention.k_proj(x).view(batch, length, -1, head_dim).transpose(1, 2)
            v = attention.v_proj(x).view(batch, length, -1, head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            if self.groups > 1:
                k = k.repeat_interleave(self.groups, dim=1)
                v = v.repeat_interleave(self.groups, dim=1)
            scores = torch.matmul(q, k.transpose(2, 3)) * attention.scaling + bias
            weights = torch.softmax(scores, dim=-1)
            out = torch.matmul(weights, v).transpose(1, 2).reshape(batch, length, -1)
            hidden = hidden + attention.o_proj(out)
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
        last = self.norm(hidden[:, -1, :])
        return (self.lm_head(last), *presents)


def export_onnx(
    hf_model: Any,
    spec: CausalLMSpec,
    path: Path,
    *,
    external_data_threshold: int = EXTERNAL_DATA_THRESHOLD,
) -> None:
    """Trace ``hf_model`` through :class:`OnnxCausalLM` and write ``path`` (opset 17), with
    its weights in ``path.data`` above ``external_data_threshold`` bytes."""
    wrapper = OnnxCausalLM(hf_model, spec).eval()
    args = spec.dummy_inputs()
    export_module(
        wrapper,
        args,
        path,
        inputs=spec.inputs(),
        outputs=spec.outputs(),
        external_data_threshold=external_data_threshold,
    )


def quantize_nbits8(
    path: Path, *, block_size: int = 32, external_data_threshold: int = EXTERNAL_DATA_THRESHOLD
) -> None:
    """Replace every constant-weight MatMul by an 8-bit ``MatMulNBits`` (in place).

    Weights are stored in 8-bit blocks of ``block_size``; ``accuracy_level=4`` lets ONNX Runtime
    multiply with int8 activations quantised per block. On a 2-core CPU that path decodes
    SmolLM2 at 2x the fp32 speed, while the fp32-compute 8-bit path (accuracy levels 0/1)
    ran at a tenth of fp32. Per-block activation quantisation keeps ~95% teacher-forced top-1
    agreement; per-tensor dynamic int8 (``quantize_dynamic``) fell to 79% with degenerate text,
    so it is never used. Caveat: with int8 activations a row's logits depend on the other rows
    of its batch (padding included), so sampled text is not batch-invariant.
    """
    import logging

    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # The quantizer logs one INFO line per graph node.
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    model = external_data.load(path)
    quantizer = MatMulNBitsQuantizer(
        model, bits=8, block_size=block_size, is_symmetric=False, accuracy_level=4
    )
    quantizer.process()
    external_data.save(quantizer.model.model, path, threshold=external_data_threshold)


def convert_fp16(path: Path, *, external_data_threshold: int = EXTERNAL_DATA_THRESHOLD) -> None:
    """Convert weights, activations, the key/value cache and the logits to float16 (in place).

    Meant for GPUs: it halves the weights and the cache that IOBinding keeps on the device.
    Inputs and outputs become float16 too (``keep_io_types=False``), so the cache never
    round-trips through float32; the decoder reads the cache's element type from the model.
    Constants beyond float16's range (the attention mask's large negative fill) are clamped
    by the converter, which keeps left-padded rows finite.

    The converter is given the path, not a loaded model: its shape inference then runs on the
    file (``infer_shapes_path``), which works past protobuf's 2 GiB where ``infer_shapes`` on an
    in-memory model fails.
    """
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(str(path), keep_io_types=False)
    external_data.save(model, path, threshold=external_data_threshold)


# -- parity -----------------------------------------------------------------------------------


def torch_greedy(
    hf_model: Any, prompt_ids: list[list[int]], max_new_tokens: int, pad_token_id: int
) -> tuple[list[list[int]], list[np.ndarray]]:
    """Reference greedy decode with the Hugging Face model itself and its own cache, so nothing
    of the exported forward pass is shared with the reference.

    Returns each row's tokens (all ``max_new_tokens``, not cut at a stop token) and the logits
    ``[max_new_tokens, vocab]`` that chose them."""
    width = max(len(ids) for ids in prompt_ids)
    input_ids = torch.full((len(prompt_ids), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompt_ids), width), dtype=torch.long)
    for i, ids in enumerate(prompt_ids):
        input_ids[i, width - len(ids) :] = torch.tensor(ids)
        mask[i, width - len(ids) :] = 1
    steps = []
    step_ids, positions, cache = input_ids, (mask.cumsum(dim=1) - 1).clamp(min=0), None
    with torch.no_grad():
        for _ in range(max_new_tokens):
            output = hf_model(
                input_ids=step_ids,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
            )
            cache = output.past_key_values
            logits = output.logits[:, -1, :]
            steps.append(logits.float().numpy())
            step_ids = logits.argmax(dim=-1, keepdim=True)
            input_ids = torch.cat([input_ids, step_ids], dim=1)
            mask = torch.cat([mask, torch.ones_like(step_ids)], dim=1)
            positions = mask.sum(dim=1, keepdim=True) - 1
    tokens = input_ids[:, width:].tolist()
    per_row = np.stack(steps, axis=1)
    return tokens, [per_row[i] for i in range(len(prompt_ids))]


def validate_parity(
    hf_model: Any,
    generator: Any,
    prompts: list[str],
    *,
    max_new_tokens: int = 16,
    exact: bool = True,
    min_agreement: float = 0.95,
    reference_encode: Any = None,
) -> dict[str, Any]:
    """Greedy-decode ``prompts`` in one left-padded batch with torch and with ONNX Runtime
    (through ``generator``, a :class:`workers.textgen.TextGenerator`) and compare.

    ``exact`` requires identical greedy tokens (fp32 exports); otherwise the teacher-forced
    top-1 agreement must reach ``min_agreement`` (quantised exports). Every failing check is
    collected and raised as one :class:`ExportError`; on success the results are returned for
    the manifest.
    """

    problems: list[str] = []
    prompt_ids = [generator.encode(p) for p in prompts]
    if reference_encode is not None:
        for prompt, ids in zip(prompts, prompt_ids, strict=True):
            expected = list(reference_encode(prompt))
            if expected != ids:
                problems.append(
                    f"tokenizer.json encodes {prompt[:40]!r} as {ids[:8]}..., "
                    f"the source tokenizer as {expected[:8]}..."
                )
    eos = generator.eos_token_ids
    reference, reference_logits = torch_greedy(
        hf_model, prompt_ids, max_new_tokens, generator.pad_token_id
    )
    reference = [_cut_at_stop(tokens, eos) for tokens in reference]
    params = [SamplingParams(max_new_tokens=max_new_tokens)] * len(prompts)
    onnx_tokens = [g.token_ids for g in generator.generate_ids(prompt_ids, params)]
    forced = generator.forced_logits(prompt_ids, reference)

    rows = []
    agree = total = 0
    max_logit_diff = 0.0
    for i, prompt in enumerate(prompts):
        steps = len(reference[i])
        ours = forced[i].argmax(axis=-1).tolist()
        row_agree = sum(int(a == b) for a, b in zip(ours, reference[i], strict=True))
        agree, total = agree + row_agree, total + steps
        max_logit_diff = max(
            max_logit_diff, float(np.abs(forced[i] - reference_logits[i][:steps]).max())
        )
        match = onnx_tokens[i] == reference[i]
        rows.append(
            {
                "prompt": prompt,
                "torch_tokens": reference[i],
                "onnx_tokens": onnx_tokens[i],
                "match": match,
                "top1_agreement": round(row_agree / max(steps, 1), 4),
            }
        )
        if exact and not match:
            first = next(
                (
                    t
                    for t, (a, b) in enumerate(zip(onnx_tokens[i], reference[i], strict=False))
                    if a != b
                ),
                min(len(onnx_tokens[i]), len(reference[i])),
            )
            problems.append(
                f"prompt {i} ({prompt[:40]!r}): greedy tokens differ from step {first}: "
                f"onnx {onnx_tokens[i][first : first + 4]} "
                f"vs torch {reference[i][first : first + 4]}"
            )
    agreement = agree / max(total, 1)
    if not exact and agreement < min_agreement:
        problems.append(
            f"teacher-forced top-1 agreement {agreement:.3f} is below {min_agreement:.3f}"
        )
    if problems:
        raise ExportError(
            f"parity check failed ({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )
    return {
        "max_new_tokens": max_new_tokens,
        "exact_required": exact,
        "all_match": all(r["match"] for r in rows),
        "top1_agreement": round(agreement, 4),
        "max_abs_logit_diff": _round_sig(max_logit_diff),
        "prompts": rows,
    }


def _cut_at_stop(tokens: list[int], eos: frozenset[int]) -> list[int]:
    for i, token in enumerate(tokens):
        if token in eos:
            return tokens[: i + 1]
    return tokens


def _round_sig(value: float) -> float:
    return 0.0 if value == 0 else round(value, 3 - math.floor(math.log10(abs(value))))
