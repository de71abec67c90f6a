"""A pluggable text-to-image pipeline on ONNX Runtime: the Stable-Diffusion-Turbo layout.

contentfab ships no text-to-image weights (none are reachable offline). A user who has them
exports their own pipeline with Hugging Face's tools (``optimum-cli export onnx --model
stabilityai/sd-turbo sd-turbo-onnx/``) and points a campaign or the settings at the folder:

    model_index.json               (optional)
    scheduler/scheduler_config.json
    tokenizer/tokenizer.json       or vocab.json + merges.txt (CLIP BPE), tokenizer_config.json
    text_encoder/model.onnx        input_ids [batch, 77] int32|int64 → last_hidden_state
    unet/model.onnx                sample [batch, 4, h, w], timestep [batch] (any numeric dtype),
                                   encoder_hidden_states [batch, 77, dim] → out_sample
    vae_decoder/model.onnx         latent_sample [batch, 4, h, w] → sample [batch, 3, 8h, 8w]
    vae_decoder/config.json        (optional) block_out_channels, scaling_factor

Nothing here imports torch or diffusers: the tokenizer is the ``tokenizers`` library, the
sampler is numpy. SD-Turbo is distilled for 1–4 steps without classifier-free guidance, so
the sampler is the Euler (or Euler-ancestral, by the scheduler config's ``_class_name``)
discrete scheduler with ``trailing`` timestep spacing and no guidance, as SD-Turbo's model
card prescribes. The dtypes of ``input_ids`` and ``timestep`` are read from the graphs, since
exporters disagree on them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from contentfab.core.errors import ModelError
from contentfab.core.model_store import PIPELINE_COMPONENTS, missing_pipeline_files
from contentfab.workers import runtime

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

Floats = npt.NDArray[np.float32]
MAX_STEPS = 4
RENDER_SHORT_SIDE = 512
#: The CLIP BPE pre-tokenizer pattern (what transformers' CLIPTokenizerFast uses).
CLIP_PATTERN = (
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"""
    r"""[^\s\p{L}\p{N}]+"""
)
_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}


@dataclass(frozen=True)
class Schedule:
    """Euler discrete sampling over the training noise levels, ``trailing`` spacing."""

    alphas_cumprod: Floats
    ancestral: bool
    prediction_type: str
    spacing: str
    steps_offset: int = 0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Schedule:
        steps = int(config.get("num_train_timesteps", 1000))
        start, end = float(config.get("beta_start", 0.00085)), float(config.get("beta_end", 0.012))
        kind = config.get("beta_schedule", "scaled_linear")
        if kind == "scaled_linear":
            betas = np.linspace(start**0.5, end**0.5, steps, dtype=np.float64) ** 2
        elif kind == "linear":
            betas = np.linspace(start, end, steps, dtype=np.float64)
        else:
            raise ModelError(f"beta_schedule {kind!r} is not supported (scaled_linear, linear)")
        prediction = config.get("prediction_type", "epsilon")
        if prediction not in ("epsilon", "v_prediction"):
            raise ModelError(f"prediction_type {prediction!r} is not supported")
        return cls(
            alphas_cumprod=np.cumprod(1.0 - betas).astype(np.float32),
            ancestral="Ancestral" in str(config.get("_class_name", "")),
            prediction_type=prediction,
            spacing=str(config.get("timestep_spacing", "trailing")),
            steps_offset=int(config.get("steps_offset", 0)),
        )

    def timesteps_and_sigmas(self, steps: int) -> tuple[npt.NDArray[np.float64], Floats]:
        train = len(self.alphas_cumprod)
        if self.spacing == "trailing":
            timesteps = np.round(np.arange(train, 0, -train / steps)) - 1
        elif self.spacing == "leading":
            timesteps = np.round(np.arange(0, steps) * (train // steps))[::-1].astype(np.float64)
            timesteps += self.steps_offset
        else:  # linspace
            timesteps = np.linspace(0, train - 1, steps)[::-1].copy()
        all_sigmas = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
        sigmas = np.interp(timesteps, np.arange(train), all_sigmas).astype(np.float32)
        return timesteps, np.append(sigmas, np.float32(0.0)).astype(np.float32)

    def init_noise_sigma(self, sigmas: Floats) -> float:
        """How far the starting latents are scaled (diffusers' rule for each spacing)."""
        largest = float(sigmas.max())
        return largest if self.spacing in ("linspace", "trailing") else (largest**2 + 1) ** 0.5


class TextToImagePipeline:
    """The three ONNX components, tokenizer and schedule of one pipeline folder."""

    def __init__(
        self,
        directory: Path,
        sessions: dict[str, onnxruntime.InferenceSession],
        tokenizer: Tokenizer,
        schedule: Schedule,
        provider: str,
    ) -> None:
        self.directory = directory
        self.sessions = sessions
        self.tokenizer = tokenizer
        self.schedule = schedule
        self.provider = provider
        config = _read_json(directory / "tokenizer" / "tokenizer_config.json", required=False)
        self.max_length = int(config.get("model_max_length", 77))
        if self.max_length > 1000:  # transformers' "no limit" sentinel
            self.max_length = 77
        vae = _read_json(directory / "vae_decoder" / "config.json", required=False)
        self.vae_scale = 2 ** (len(vae.get("block_out_channels", [0, 0, 0, 0])) - 1)
        self.scaling_factor = float(vae.get("scaling_factor", 0.18215))
        sample = next((i for i in sessions["unet"].get_inputs() if i.name == "sample"), None)
        shape = list(sample.shape) if sample is not None else []
        self.latent_channels = _static(shape[1] if len(shape) > 1 else None, 4)
        # Exporters disagree on these dtypes (int32/int64 ids and timesteps; fp16 exports).
        self.timestep_dtype = _input_dtype(sessions["unet"], "timestep", np.int64)
        self.ids_dtype = _input_dtype(sessions["text_encoder"], "input_ids", np.int32)
        self.unet_dtype = _input_dtype(sessions["unet"], "sample", np.float32)
        self.vae_dtype = _input_dtype(sessions["vae_decoder"], "latent_sample", np.float32)
        self.pad_id, self.eos_id, self.bos_id = self._special_ids(config)

    @classmethod
    def load(
        cls, directory: Path, providers: Sequence[str] = (runtime.CPU,), intra_op_threads: int = 0
    ) -> TextToImagePipeline:
        directory = Path(directory)
        missing = missing_pipeline_files(directory)
        if missing:
            raise ModelError(
                f"{directory} is not a text-to-image pipeline folder (missing: "
                f"{', '.join(missing)}); export one with `optimum-cli export onnx --model "
                "stabilityai/sd-turbo DIR` or build the tiny test one with `contentfab models "
                "build tiny-sd-turbo`"
            )
        sessions, provider = {}, runtime.CPU
        for component in PIPELINE_COMPONENTS:
            sessions[component], provider = runtime.get_session(
                directory / component / "model.onnx", providers, intra_op_threads
            )
        schedule = Schedule.from_config(
            _read_json(directory / "scheduler" / "scheduler_config.json", required=True)
        )
        return cls(directory, sessions, load_tokenizer(directory / "tokenizer"), schedule, provider)

    @property
    def model_info(self) -> dict[str, Any]:
        index = _read_json(self.directory / "model.json", required=False)
        return {
            "name": index.get("name", self.directory.name),
            "version": index.get("version", "user-export"),
            "path": str(self.directory),
        }

    def encode_prompts(self, prompts: Sequence[str]) -> Floats:
        rows = []
        for prompt in prompts:
            ids = self.tokenizer.encode(prompt, add_special_tokens=False).ids
            ids = [self.bos_id, *ids[: self.max_length - 2], self.eos_id]
            rows.append(ids + [self.pad_id] * (self.max_length - len(ids)))
        (hidden,) = self.sessions["text_encoder"].run(
            ["last_hidden_state"], {"input_ids": np.asarray(rows, dtype=self.ids_dtype)}
        )
        return np.asarray(hidden, dtype=np.float32)

    def generate(
        self,
        prompts: Sequence[str],
        seeds: Sequence[int],
        size: tuple[int, int],
        steps: int = 1,
        short_side: int = RENDER_SHORT_SIDE,
    ) -> list[Image.Image]:
        """One image per (prompt, seed) at ``size``, as one batch.

        The UNet runs on a latent grid that its down/up-sampling can halve and double back
        (multiples of 8 latents), so the pipeline renders at the model's native scale
        (``short_side``, SD-Turbo's 512) with the canvas's aspect and then scales to cover.
        """
        if not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be 1..{MAX_STEPS} for a Turbo-style pipeline")
        grid = self.vae_scale * 8
        scale = short_side / min(size)
        latent_w = max(1, round(size[0] * scale / grid)) * 8
        latent_h = max(1, round(size[1] * scale / grid)) * 8
        context = self.encode_prompts(prompts)
        rngs = [np.random.default_rng(seed) for seed in seeds]
        shape = (self.latent_channels, latent_h, latent_w)
        timesteps, sigmas = self.schedule.timesteps_and_sigmas(steps)
        noise = np.stack([rng.standard_normal(shape) for rng in rngs]).astype(np.float32)
        latents = noise * self.schedule.init_noise_sigma(sigmas)
        for index, timestep in enumerate(timesteps):
            sigma, sigma_next = float(sigmas[index]), float(sigmas[index + 1])
            model_input = (latents / (sigma**2 + 1) ** 0.5).astype(self.unet_dtype)
            (predicted,) = self.sessions["unet"].run(
                ["out_sample"],
                {
                    "sample": model_input,
                    "timestep": np.full(len(prompts), timestep, dtype=self.timestep_dtype),
                    "encoder_hidden_states": context.astype(self.unet_dtype),
                },
            )
            latents = self.step(np.asarray(predicted, np.float32), latents, sigma, sigma_next, rngs)
        (decoded,) = self.sessions["vae_decoder"].run(
            ["sample"], {"latent_sample": (latents / self.scaling_factor).astype(self.vae_dtype)}
        )
        pixels = np.clip(np.asarray(decoded, np.float32) / 2 + 0.5, 0.0, 1.0)
        return [
            _cover(Image.fromarray(np.round(p.transpose(1, 2, 0) * 255).astype(np.uint8)), size)
            for p in pixels
        ]

    def step(
        self,
        predicted: Floats,
        latents: Floats,
        sigma: float,
        sigma_next: float,
        rngs: Sequence[np.random.Generator],
    ) -> Floats:
        """One Euler (ancestral) step from noise level ``sigma`` to ``sigma_next``."""
        if self.schedule.prediction_type == "epsilon":
            denoised = latents - sigma * predicted
        else:  # v_prediction
            denoised = predicted * (-sigma / (sigma**2 + 1) ** 0.5) + latents / (sigma**2 + 1)
        if not self.schedule.ancestral or sigma_next == 0.0:
            return (latents + (latents - denoised) / sigma * (sigma_next - sigma)).astype(
                np.float32
            )
        up = (sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2) ** 0.5
        down = (sigma_next**2 - up**2) ** 0.5
        moved = latents + (latents - denoised) / sigma * (down - sigma)
        fresh = np.stack([rng.standard_normal(latents.shape[1:]) for rng in rngs])
        result: Floats = (moved + fresh * up).astype(np.float32)
        return result

    def _special_ids(self, config: dict[str, Any]) -> tuple[int, int, int]:
        def token_id(value: Any, default: str) -> int:
            text = value.get("content") if isinstance(value, dict) else value
            found = self.tokenizer.token_to_id(text or default)
            if found is None:
                found = self.tokenizer.token_to_id(default)
            if found is None:
                raise ModelError(f"the tokenizer has no {default} token")
            return int(found)

        eos = token_id(config.get("eos_token"), "<|endoftext|>")
        bos = token_id(config.get("bos_token"), "<|startoftext|>")
        pad = token_id(config.get("pad_token"), "<|endoftext|>")
        return pad, eos, bos


def load_tokenizer(directory: Path) -> Tokenizer:
    """tokenizer.json if the export has one, else CLIP's BPE rebuilt from vocab + merges."""
    from tokenizers import Tokenizer, models

    if (directory / "tokenizer.json").is_file():
        return Tokenizer.from_file(str(directory / "tokenizer.json"))
    bpe = models.BPE.from_file(
        str(directory / "vocab.json"),
        str(directory / "merges.txt"),
        unk_token="<|endoftext|>",  # noqa: S106 - a token, not a secret
        end_of_word_suffix="</w>",
    )
    return clip_tokenizer(bpe)


def clip_tokenizer(bpe: Any) -> Tokenizer:
    """CLIP's text pipeline around a BPE model: NFC, collapsed spaces, lower case, CLIP's word
    pattern, byte-level pieces (shared with the exporter that trains the tiny test vocabulary)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers

    tokenizer = Tokenizer(bpe)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = max(size[0] / image.width, size[1] / image.height)
    resized = image.resize(
        (max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ModelError(f"{path} is missing") from None
        return {}
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}") from error
    return data if isinstance(data, dict) else {}


def _input_dtype(session: onnxruntime.InferenceSession, name: str, default: type) -> type:
    for item in session.get_inputs():
        if item.name == name:
            return _ORT_TYPES.get(item.type, default)
    raise ModelError(f"the graph has no input named {name!r}")


def _static(value: Any, default: int) -> int:
    return value if isinstance(value, int) else default
