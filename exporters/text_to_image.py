"""A tiny random-weight text-to-image pipeline in the layout optimum exports SD-Turbo to.

It exists to test :mod:`workers.images.text_to_image` end to end without real weights, which
are unreachable here: diffusers' ``UNet2DConditionModel`` and ``AutoencoderKL`` and
transformers' ``CLIPTextModel`` with tiny configs and seeded random weights, a CLIP-style BPE
tokenizer trained in a second by the ``tokenizers`` library on a few product words, and
SD-Turbo's scheduler config. Its images are coloured noise; what it proves is that the file
layout, tensor names, dtypes, tokenizer and sampler fit together. A user who wants real
backgrounds exports their own pipeline (``optimum-cli export onnx --model stabilityai/sd-turbo
DIR``) and names that folder in the campaign or settings.

    text_encoder/model.onnx   input_ids [batch, 77] int32 → last_hidden_state, pooler_output
    unet/model.onnx           sample, timestep [batch] int64, encoder_hidden_states → out_sample
    vae_decoder/model.onnx    latent_sample → sample
    tokenizer/, scheduler/scheduler_config.json, vae_decoder/config.json, model_index.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar

from contentfab.core.model_store import ModelManifest, ModelStore
from contentfab.exporters.pipeline import export_and_validate, up_to_date
from contentfab.exporters.specs import BATCH, Contract, ExportSpec, TensorSpec, export_module

TINY_SD_NAME = "tiny-sd-turbo"
EXPORTER_VERSION = "1"
SEED = 20260505
MAX_LENGTH = 77
TEXT_DIM = 32
VAE_CHANNELS = (4, 4, 8, 8)
#: SD-Turbo's scheduler/scheduler_config.json (stabilityai/sd-turbo), the fields that matter.
SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "trailing",
}
WORDS = (
    "a studio photo of a product on a soft pastel backdrop with gentle light and shadow "
    "minimal calm background for coffee thermos bag shoe lamp beauty bottle marble linen wood"
)
RECIPE = {"builder": "exporters.text_to_image", "seed": SEED, "text_dim": TEXT_DIM,
          "unet_channels": [8, 16], "vae_channels": [4, 4, 8, 8], "scheduler": SCHEDULER,
          "recipe_version": 1}  # fmt: skip


class TinySDSpec(ExportSpec):
    """The pipeline's three graphs and their contracts (the module docstring draws them).

    It has no parity check: its weights are random and its images noise, so there is no
    reference worth matching; what it proves is that the layout fits the worker. Its manifest
    has never listed opset, inputs and outputs (a worker reads the folder's layout).
    """

    family: ClassVar[str] = "sd-turbo-layout"
    task: ClassVar[str] = "text-to-image"
    exporter_version: ClassVar[str] = EXPORTER_VERSION
    build_seconds_digits: ClassVar[int | None] = 2

    def graphs(self) -> dict[str, Contract]:
        height, width = "height", "width"
        return {
            "text_encoder/model.onnx": (
                [TensorSpec("input_ids", "int32", (BATCH, "sequence"))],
                [
                    TensorSpec("last_hidden_state", "float32", (BATCH, "sequence", TEXT_DIM)),
                    TensorSpec("pooler_output", "float32", (BATCH, TEXT_DIM)),
                ],
            ),
            "unet/model.onnx": (
                [
                    TensorSpec("sample", "float32", (BATCH, 4, height, width)),
                    TensorSpec("timestep", "int64", (BATCH,)),
                    TensorSpec("encoder_hidden_states", "float32", (BATCH, "sequence", TEXT_DIM)),
                ],
                [TensorSpec("out_sample", "float32", (BATCH, 4, height, width))],
            ),
            "vae_decoder/model.onnx": (
                [TensorSpec("latent_sample", "float32", (BATCH, 4, height, width))],
                [TensorSpec("sample", "float32", (BATCH, 3, "image_height", "image_width"))],
            ),
        }

    def dummy_inputs(self, graph: str = "model.onnx") -> tuple[Any, ...]:
        import torch

        component = graph.split("/")[0]
        if component == "text_encoder":
            return (torch.zeros(1, MAX_LENGTH, dtype=torch.int32),)
        if component == "unet":
            return (
                torch.randn(1, 4, 8, 8),
                torch.tensor([999], dtype=torch.int64),
                torch.randn(1, MAX_LENGTH, TEXT_DIM),
            )
        return (torch.randn(1, 4, 8, 8),)

    def contract_keys(self) -> dict[str, Any]:
        return {}

    def manifest_section(self) -> dict[str, Any]:
        return {"trained": False}


def build_tiny_sd(store: ModelStore, *, force: bool = False) -> ModelManifest:
    """Build the tiny pipeline into ``store`` (idempotent) and return its manifest."""
    existing = None if force else up_to_date(store, TINY_SD_NAME, TinySDSpec, RECIPE)
    if existing is not None:
        return existing
    return export_and_validate(
        store,
        TINY_SD_NAME,
        TinySDSpec(),
        source=RECIPE,
        write=write_tiny_pipeline,
        validate=lambda staging, draft: {},
        version=lambda files: f"{RECIPE['recipe_version']}-fp32-tiny-random",
        started=time.perf_counter(),
    )


def write_tiny_pipeline(directory: Path) -> None:
    """Write the whole pipeline folder (no manifest) into ``directory``."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    # diffusers' and transformers' model classes are untyped; these are plain torch modules.
    unet_class: Any = UNet2DConditionModel
    vae_class: Any = AutoencoderKL
    text_class: Any = CLIPTextModel

    torch.manual_seed(SEED)
    vocab_size = write_tokenizer(directory / "tokenizer")
    _write_json(directory / "scheduler" / "scheduler_config.json", SCHEDULER)
    _write_json(
        directory / "model_index.json",
        {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "tiny-test"},
    )

    text = text_class(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=TEXT_DIM,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=MAX_LENGTH,
            bos_token_id=0,  # the special tokens come first in the trained vocab
            eos_token_id=1,
            pad_token_id=1,
        )
    ).eval()
    unet = unet_class(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=4,
    ).eval()
    vae = vae_class(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,  # 3 halvings: SD's 8x latent grid
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=VAE_CHANNELS,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        sample_size=16,
    ).eval()

    for part in (text, unet, vae):
        part.requires_grad_(False)

    class TextEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.text = text

        def forward(self, input_ids: Any) -> Any:
            out = self.text(input_ids=input_ids)
            return out.last_hidden_state, out.pooler_output

    class UNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unet = unet

        def forward(self, sample: Any, timestep: Any, encoder_hidden_states: Any) -> Any:
            return self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]

    class VaeDecoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vae = vae

        def forward(self, latent_sample: Any) -> Any:
            return self.vae.decode(latent_sample, return_dict=False)[0]

    modules = {"text_encoder": TextEncoder(), "unet": UNet(), "vae_decoder": VaeDecoder()}
    spec = TinySDSpec()
    for graph, (inputs, outputs) in spec.graphs().items():
        path = directory / graph
        path.parent.mkdir(parents=True, exist_ok=True)
        module = modules[path.parent.name]
        export_module(module, spec.dummy_inputs(graph), path, inputs=inputs, outputs=outputs)
    _write_json(
        directory / "vae_decoder" / "config.json",
        {"block_out_channels": list(VAE_CHANNELS), "latent_channels": 4, "scaling_factor": 0.18215},
    )


def write_tokenizer(directory: Path) -> int:
    """A CLIP-style byte-level BPE with ``</w>`` word ends, trained on a few words; vocab size."""
    from tokenizers import models, pre_tokenizers, trainers

    # lazy: the image pipeline imports Pillow and numpy, which `contentfab --help` must not load
    # (the CLI imports exporters.build, and so this module, to list models)
    from contentfab.workers.images.text_to_image import clip_tokenizer

    directory.mkdir(parents=True, exist_ok=True)
    bpe = models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>")  # noqa: S106 - a token
    tokenizer = clip_tokenizer(bpe)
    trainer = trainers.BpeTrainer(
        vocab_size=700,
        special_tokens=["<|startoftext|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tokenizer.train_from_iterator([WORDS] * 4, trainer)
    tokenizer.save(str(directory / "tokenizer.json"))
    tokenizer.model.save(str(directory))  # vocab.json + merges.txt, as CLIPTokenizer keeps them
    _write_json(
        directory / "tokenizer_config.json",
        {
            "model_max_length": MAX_LENGTH,
            "bos_token": "<|startoftext|>",
            "eos_token": "<|endoftext|>",
            "pad_token": "<|endoftext|>",
        },
    )
    return int(tokenizer.get_vocab_size())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
