"""Tiny random-weight causal LMs with a real tokenizer, built in-process in well under a second.

They exist so tests and development machines can exercise the whole export → store → generate
path without downloading anything. The tokenizer is a byte-level BPE trained on a small built-in
marketing corpus, with the ChatML special tokens and chat template of SmolLM2, so prompts are
built exactly as for the real model. Everything is seeded: the same call gives the same weights
and the same tokenizer.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from contentfab.core.errors import ExportError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]

# Same form as SmolLM2-Instruct's template, with a neutral default system prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful marketing copywriter.<|im_end|>\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

TINY_FAMILIES = ("llama", "qwen2")

_PRODUCTS = [
    "running shoes",
    "espresso machine",
    "linen shirt",
    "travel backpack",
    "desk lamp",
    "wireless earbuds",
    "yoga mat",
    "cast iron pan",
    "rain jacket",
    "smart watch",
    "ceramic mug",
    "office chair",
    "bike helmet",
    "face serum",
    "garden hose",
]
_QUALITIES = [
    "lightweight",
    "durable",
    "handcrafted",
    "eco-friendly",
    "award-winning",
    "comfortable",
    "affordable",
    "premium",
    "compact",
    "waterproof",
]
_TEMPLATES = [
    "Meet the {q} {p} you have been waiting for.",
    "Our {q} {p} is built for everyday life.",
    "Save 20% on the {q} {p} this week only!",
    "Write a headline for a {q} {p}.",
    "Discover why customers love our {p}: it is {q} and ready when you are.",
    "New in store: a {q} {p} in three colours.",
    "Free shipping on every {p}. Order today.",
    "The {p} that works as hard as you do, {q} by design.",
]


def corpus() -> list[str]:
    """A few hundred lines of marketing-ish text, always the same."""
    lines = [
        template.format(p=product, q=quality)
        for template, product, quality in itertools.product(_TEMPLATES, _PRODUCTS, _QUALITIES)
    ]
    # Deterministic thinning keeps training fast while covering every word.
    return lines[::3]


def build_tokenizer(vocab_size: int = 512) -> Tokenizer:
    """Train a byte-level BPE on :func:`corpus`; special tokens get ids 0, 1, 2."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    return tokenizer


def build_tiny_model(family: str = "llama", *, seed: int = 0) -> tuple[Any, Tokenizer]:
    """A random-weight ``LlamaForCausalLM`` or ``Qwen2ForCausalLM`` and its tokenizer."""
    return _random_model(family, seed, {})


#: Real models' shapes, for random-weight models that exercise an export at full size (memory,
#: time, files past protobuf's 2 GiB) without downloading any weights.
SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    # Qwen/Qwen2.5-1.5B-Instruct's config.json: 1.54B parameters, ~6.2 GB in float32.
    "qwen2.5-1.5b": (
        "qwen2",
        {
            "hidden_size": 1536,
            "intermediate_size": 8960,
            "num_hidden_layers": 28,
            "num_attention_heads": 12,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "max_position_embeddings": 32768,
            "rope_theta": 1000000.0,
            "rms_norm_eps": 1e-6,
            "tie_word_embeddings": True,
        },
    ),
}


def build_shaped_model(shape: str, *, seed: int = 0) -> tuple[Any, Tokenizer]:
    """A random-weight model of one of :data:`SHAPES`, with the tiny tokenizer (its ids are a
    corner of the model's vocabulary; generated ids may lie outside the tokenizer's)."""

    if shape not in SHAPES:
        raise ExportError(f"no model shape '{shape}'; choose one of {', '.join(sorted(SHAPES))}")
    family, overrides = SHAPES[shape]
    return _random_model(family, seed, overrides)


def _random_model(family: str, seed: int, overrides: dict[str, Any]) -> tuple[Any, Tokenizer]:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer()
    ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
    common: dict[str, Any] = {
        "vocab_size": tokenizer.get_vocab_size(),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        "rope_theta": 10000.0,
        # Larger than the usual 0.02 so logits are peaked and greedy decoding has no near-ties
        # that float rounding could flip between torch and ONNX Runtime.
        "initializer_range": 0.2,
        "tie_word_embeddings": False,
        "bos_token_id": ids[IM_START],
        "eos_token_id": ids[IM_END],
        "pad_token_id": ids[ENDOFTEXT],
        **overrides,
    }
    model: Any
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if family == "llama":
            model = LlamaForCausalLM(LlamaConfig(**common))
        elif family == "qwen2":
            model = Qwen2ForCausalLM(Qwen2Config(**common, use_sliding_window=False))
        else:
            raise ExportError(
                f"no tiny model for family '{family}'; choose one of {', '.join(TINY_FAMILIES)}"
            )
    model.eval()
    return model, tokenizer


def save_as_hf_directory(model: Any, tokenizer: Tokenizer, directory: Any) -> None:
    """Write a tiny model the way a Hugging Face checkpoint looks (safetensors + tokenizer)."""
    from transformers import PreTrainedTokenizerFast

    model.save_pretrained(directory)
    PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        bos_token=IM_START,
        chat_template=CHAT_TEMPLATE,
    ).save_pretrained(directory)
