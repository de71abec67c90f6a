"""Batched text generation over an exported causal LM: numpy, ONNX Runtime, tokenizers, jinja2.

The model's ONNX contract is the one written by ``exporters.causal_lm`` and recorded in its
manifest: ``input_ids``/``attention_mask``/``position_ids`` plus a flat key/value cache in,
last-position ``logits`` plus the grown cache out. Prompts are left-padded into one batch;
each row samples with its own seeded generator, so a row's text does not depend on which other
rows share its batch. Rows that finish are dropped from the batch (and their slice of the
cache), which keeps late steps as cheap as the rows still running. The prompt step runs each
distinct prompt once and the leading tokens that all of them share once (kept for the next call
too), since best-of-N repeats prompts and one channel's prompts share their instructions.

Three ways to run a step share that loop. A fused graph (``exporters.fused_lm``, the manifest's
``decoder``) keeps its cache in buffers that ONNX Runtime writes in place and never pads a row
(:mod:`workers.kv_buffer`). For the traced graph, on the CPU, numpy arrays go in and out of
``session.run``. On an accelerator (CUDA), the key/value cache is bound with ONNX Runtime's
IOBinding so it stays in device memory from step to step and only the last-position logits
come back to the host for sampling; finished rows are compacted out of the device cache only
when a quarter of the batch has finished, because each compaction is a device-host round trip.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from contentfab.core.errors import GenerationError, ModelError
from contentfab.core.manifest import ModelManifest, TextGeneration
from contentfab.workers import runtime
from contentfab.workers.grounding import Grounding
from contentfab.workers.kv_buffer import FUSED_DECODER, FusedRunner
from contentfab.workers.sampling import Row, choose_token

if TYPE_CHECKING:
    import jinja2
    import onnxruntime
    from tokenizers import Tokenizer

    from contentfab.workers.grounding import Grounding, WordConstraint

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0  # 0 → greedy
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.temperature >= 0.0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not self.repetition_penalty > 0.0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


@dataclass(frozen=True)
class Generation:
    text: str
    token_ids: list[int]  # generated tokens, including the stop token when there is one
    finish_reason: str  # "stop" | "length"
    logprob_sum: float  # log-softmax of each chosen token under the raw model logits, summed
    prompt_tokens: int


class TextGenerator:
    """One exported causal LM, ready to generate in this process."""

    def __init__(
        self,
        manifest: ModelManifest,
        session: onnxruntime.InferenceSession,
        tokenizer: Tokenizer,
        provider: str,
        *,
        io_binding: bool | None = None,
    ) -> None:
        self.manifest = manifest
        self.session = session
        self.tokenizer = tokenizer
        self.provider = provider
        #: The manifest's text-generation section: the cache layout and the special tokens.
        self.text_generation = lm = manifest.section(TextGeneration)
        self.name: str = manifest.name
        self.version: str = manifest.version
        self.model_sha256: str = manifest.files["model.onnx"]
        eos = lm.eos_token_ids
        self.eos_token_ids = frozenset(eos)
        # The first stop token is the tokenizer's own eos token, as the chat template knows it.
        self._eos_token_id = eos[0] if eos else None
        pad = lm.pad_token_id
        self.pad_token_id = pad if pad is not None else eos[0]
        self.vocab_size = lm.vocab_size
        self.max_context = lm.max_context or 1 << 62
        layers, kv_heads, head_dim = lm.num_layers, lm.num_kv_heads, lm.head_dim
        self._cache_shape = (kv_heads, head_dim)
        self._past_names = [
            f"past_key_values.{i}.{k}" for i in range(layers) for k in ("key", "value")
        ]
        self._output_names = ["logits"] + [
            f"present.{i}.{k}" for i in range(layers) for k in ("key", "value")
        ]
        self._template: jinja2.Template | None = None
        # The cache's element type is the model's (an fp16 export has an fp16 cache).
        past_types = {i.name: i.type for i in session.get_inputs() if i.name.startswith("past_")}
        self._cache_dtype = np.dtype(
            np.float16 if past_types.get(self._past_names[0]) == "tensor(float16)" else np.float32
        )
        #: Run a prompt that several rows of a batch share only once (see :meth:`_prefill`).
        self.share_prompts = True
        # The last shared prompt head this generator ran, and its cache (batch of one).
        self._head: tuple[tuple[int, ...], list[Any]] = ((), [])
        self._grounding: Grounding | None = None
        #: A fused graph (``exporters.fused_lm``) keeps its cache in a buffer of its own.
        self._fused: FusedRunner | None = None
        if lm.decoder == FUSED_DECODER:
            if provider != runtime.CPU:
                raise ModelError(
                    f"model '{self.name}' is a fused CPU decoder; it cannot run on {provider}"
                )
            self._fused = FusedRunner(session, layers, kv_heads, head_dim, self.max_context)
            io_binding = False
        if io_binding is None:
            io_binding = provider != runtime.CPU
        self._device = _bound_device(provider) if io_binding else None

    @property
    def io_binding(self) -> bool:
        """Whether the cache stays on the execution provider's device between steps."""
        return self._device is not None

    @classmethod
    def load(
        cls,
        model_dir: Path,
        *,
        providers: Sequence[str] = (runtime.CPU,),
        intra_op_threads: int = 0,
        io_binding: bool | None = None,
    ) -> TextGenerator:
        """Load from a model directory of the store (its manifest is trusted, not re-hashed)."""
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        manifest = ModelManifest.read(model_dir)
        if manifest.task != TextGeneration.task:
            raise ModelError(f"{model_dir} holds a '{manifest.task}' model, not text-generation")
        session, provider = runtime.get_session(
            model_dir / "model.onnx", providers, intra_op_threads
        )
        try:
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as error:  # tokenizers raises a bare Exception
            raise ModelError(f"cannot load {model_dir / 'tokenizer.json'}: {error}") from error
        return cls(manifest, session, tokenizer, provider, io_binding=io_binding)

    # -- text ---------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def decode(self, token_ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(token_ids), skip_special_tokens=True))

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """The prompt for a chat, rendered with the model's own chat template."""
        if self._template is None:
            self._template = _compile_chat_template(self.text_generation.chat_template)
        return self._template.render(
            messages=messages,
            add_generation_prompt=True,
            bos_token=self._token_text(self.text_generation.bos_token_id),
            eos_token=self._token_text(self._eos_token_id),
        )

    def _token_text(self, token_id: int | None) -> str:
        if token_id is None or token_id < 0:
            return ""
        return str(self.tokenizer.id_to_token(int(token_id)) or "")

    # -- generation ---------------------------------------------------------------------------

    @property
    def grounding(self) -> Grounding:
        """Word masks over this model's tokens (the token table is built on first use)."""
        if self._grounding is None:
            self._grounding = Grounding(self.tokenizer, self.vocab_size, self.eos_token_ids)
        return self._grounding

    def generate(
        self,
        prompts: list[str],
        params: Sequence[SamplingParams],
        constraints: Sequence[WordConstraint | None] | None = None,
    ) -> list[Generation]:
        return self.generate_ids([self.encode(p) for p in prompts], params, constraints)

    def generate_ids(
        self,
        prompt_ids: list[list[int]],
        params: Sequence[SamplingParams],
        constraints: Sequence[WordConstraint | None] | None = None,
    ) -> list[Generation]:
        """Generate a continuation of each prompt. A row's ``constraint`` (grounded decoding,
        :mod:`workers.grounding`) masks the tokens it may write at each step; its
        log-likelihood is still the model's own, so the ranking sees how natural the text is."""
        if len(prompt_ids) != len(params):
            raise ValueError(f"{len(prompt_ids)} prompts but {len(params)} sampling params")
        if constraints is None:
            constraints = [None] * len(params)
        if len(constraints) != len(params):
            raise ValueError(f"{len(constraints)} constraints but {len(params)} sampling params")
        if not prompt_ids:
            return []
        self._check_prompts(prompt_ids)
        rows = [
            Row(
                prompt=ids,
                params=p,
                rng=np.random.default_rng(p.seed),
                seen=self._seen(ids, grounded=c is not None)
                if p.repetition_penalty != 1.0
                else None,
                constraint=c,
            )
            for ids, p, c in zip(prompt_ids, params, constraints, strict=True)
        ]
        # batch[j] is the row at batch position j; finished rows may stay in the batch (fed
        # padding, their logits ignored) until the cache says they are worth dropping.
        batch = list(range(len(rows)))
        room = [
            min(p.max_new_tokens, self.max_context - len(ids))
            for ids, p in zip(prompt_ids, params, strict=True)
        ]
        logits, cache = self._prefill(prompt_ids, room)
        while True:
            for j, index in enumerate(batch):
                row = rows[index]
                if row.finish_reason:
                    continue
                token, logprob = choose_token(logits[j], row)
                row.tokens.append(token)
                row.logprob_sum += logprob
                if row.seen is not None:
                    row.seen[token] = True
                if row.constraint is not None:
                    row.constraint.update(token)
                if token in self.eos_token_ids:
                    row.finish_reason = "stop"
                elif (
                    len(row.tokens) >= row.params.max_new_tokens
                    or len(row.prompt) + len(row.tokens) >= self.max_context
                ):
                    row.finish_reason = "length"
            keep = [j for j, index in enumerate(batch) if not rows[index].finish_reason]
            if not keep:
                break
            if cache.should_compact(len(keep), len(batch)):
                cache.keep(keep)
                batch = [batch[j] for j in keep]
            live = np.asarray([not rows[i].finish_reason for i in batch])
            input_ids = np.asarray(
                [
                    [rows[i].tokens[-1] if live[j] else self.pad_token_id]
                    for j, i in enumerate(batch)
                ],
                dtype=np.int64,
            )
            logits = cache.step(input_ids, live)
        return [
            Generation(
                text=self.decode([t for t in row.tokens if t not in self.eos_token_ids]),
                token_ids=row.tokens,
                finish_reason=row.finish_reason,
                logprob_sum=row.logprob_sum,
                prompt_tokens=len(row.prompt),
            )
            for row in rows
        ]

    def _prefill(self, prompt_ids: list[list[int]], room: list[int]) -> tuple[FloatArray, _Cache]:
        """Run the prompts; return the first step's logits, one row per prompt, and the cache
        that the next steps extend (``room[i]``: how many tokens row ``i`` may still add).

        The prompt step is most of the work for short copy, and a batch's prompts repeat
        themselves: best-of-N sends each prompt N times, and prompts of one channel share their
        system message and worked example. So a prompt that several rows share is run once and
        its logits and cache are copied to each of its rows, and the leading tokens that all
        distinct prompts share are run once, as a cache the rest of each prompt then extends
        (the padding between the two is masked out). Each row samples with its own generator
        afterwards, so what a row writes does not change.
        """
        if not self.share_prompts:
            unique, source = prompt_ids, list(range(len(prompt_ids)))
        else:
            first: dict[tuple[int, ...], int] = {}
            source = [first.setdefault(tuple(ids), len(first)) for ids in prompt_ids]
            unique = [list(ids) for ids in first]
        shared = _common_prefix(unique) if self.share_prompts and len(unique) > 1 else 0
        # Every prompt keeps at least one token of its own after the shared part.
        shared = min(shared, min(len(ids) for ids in unique) - 1)
        head: tuple[int, list[Any]] | None = None
        if shared >= _MIN_SHARED_PREFIX:
            head_ids, head_past = self._head
            if not (
                _MIN_SHARED_PREFIX <= len(head_ids) <= shared
                and tuple(unique[0][: len(head_ids)]) == head_ids
            ):
                head_ids = tuple(unique[0][:shared])
                head_past = self._run_head(np.asarray([head_ids], dtype=np.int64))
                self._head = (head_ids, head_past)
            # The cached head of an earlier call (the same system message and example) may be
            # shorter than what this batch shares; the rest goes with each row's own tokens.
            head = (len(head_ids), head_past)
        if self._fused is not None:
            capacity = max(len(prompt_ids[i]) + room[i] for i in range(len(prompt_ids)))
            return self._fused.prefill(unique, source, head, min(capacity, self.max_context))
        if head is not None:
            shared, head_past = head
            past = self._take(head_past, [0] * len(unique))
            input_ids, tail_mask = self._left_pad([ids[shared:] for ids in unique])
            mask = np.concatenate([np.ones((len(unique), shared), dtype=np.int64), tail_mask], 1)
            position_ids = (np.cumsum(mask, axis=1) - 1)[:, shared:]
        else:
            input_ids, mask = self._left_pad(unique)
            position_ids = np.cumsum(mask, axis=1) - 1
            past = self._empty_cache(len(unique))
        logits, past = self._run(input_ids, mask, np.clip(position_ids, 0, None), past)
        if len(unique) < len(prompt_ids):
            rows = np.asarray(source)
            logits, mask, past = logits[rows], mask[rows], self._take(past, source)
        return logits, _GrownCache(self, past, mask)

    def _run_head(self, head: IntArray) -> list[Any]:
        """The cache of a prompt head (a batch of one, no padding)."""
        if self._fused is not None:
            return self._fused.run_prompt(head, None)[1]
        _, past = self._run(
            head, np.ones_like(head), np.arange(head.shape[1])[None, :], self._empty_cache(1)
        )
        return past

    def prefix_logprobs(self, prompts: list[str], prefixes: list[str]) -> list[tuple[float, int]]:
        """For each prompt, the log-probability the model gives its answer starting with the
        prefix (summed over the prefix's tokens) and how many tokens that is, so that a
        candidate made to start with a prefix is scored like one that wrote it itself."""
        prompt_ids, continuations = [], []
        for prompt, prefix in zip(prompts, prefixes, strict=True):
            head, whole = self.encode(prompt), self.encode(prompt + prefix)
            if whole[: len(head)] != head:  # the tokens merge across the seam: score from there
                head = whole[: _common_prefix([head, whole])]
            prompt_ids.append(head)
            continuations.append(whole[len(head) :])
        scores = []
        for logits, tokens in zip(
            self.forced_logits(prompt_ids, continuations), continuations, strict=True
        ):
            if not tokens:
                scores.append((0.0, 0))
                continue
            raw = logits.astype(np.float64)
            top = raw.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(raw - top).sum(axis=1))
            chosen = raw[np.arange(len(tokens)), tokens]
            scores.append((float((chosen - log_norm).sum()), len(tokens)))
        return scores

    def forced_logits(
        self, prompt_ids: list[list[int]], continuations: list[list[int]]
    ) -> list[FloatArray]:
        """Logits predicting each continuation token when the continuation is fed in (teacher
        forcing): row ``i`` gets an array ``[len(continuations[i]), vocab]``."""
        self._check_prompts(prompt_ids)
        steps = max((len(c) for c in continuations), default=0)
        collected: list[FloatArray] = []
        if steps:
            logits, cache = self._prefill(prompt_ids, [len(c) for c in continuations])
            collected.append(logits)
        for step in range(steps - 1):
            fed = [c[step] if step < len(c) else self.pad_token_id for c in continuations]
            live = np.asarray([step < len(c) for c in continuations])
            logits = cache.step(np.asarray(fed, dtype=np.int64)[:, None], live)
            collected.append(logits)
        stacked = np.stack(collected, axis=1) if collected else np.zeros((len(prompt_ids), 0, 0))
        return [stacked[i, : len(c)].astype(np.float32) for i, c in enumerate(continuations)]

    # -- internals ----------------------------------------------------------------------------

    def _check_prompts(self, prompt_ids: list[list[int]]) -> None:
        for i, ids in enumerate(prompt_ids):
            if not ids:
                raise GenerationError(f"prompt {i} is empty after tokenization")
            if len(ids) >= self.max_context:
                raise GenerationError(
                    f"prompt {i} has {len(ids)} tokens; model '{self.name}' reads at most "
                    f"{self.max_context}"
                )
            bad = [t for t in ids if not 0 <= t < self.vocab_size]
            if bad:
                raise GenerationError(
                    f"prompt {i} has token ids outside the vocabulary "
                    f"of {self.vocab_size}: {bad[:5]}"
                )

    def _seen(self, ids: list[int], *, grounded: bool = False) -> npt.NDArray[np.bool_]:
        """The tokens the repetition penalty pushes down: the prompt's and, as they come, the
        row's own. A grounded row (:mod:`workers.grounding`) is meant to reuse the product
        data's words, which its prompt holds, so only its own tokens count."""
        seen = np.zeros(self.vocab_size, dtype=np.bool_)
        if not grounded:
            seen[ids] = True
        return seen

    def _left_pad(self, prompt_ids: list[list[int]]) -> tuple[IntArray, IntArray]:
        width = max(len(ids) for ids in prompt_ids)
        input_ids = np.full((len(prompt_ids), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(prompt_ids), width), dtype=np.int64)
        for i, ids in enumerate(prompt_ids):
            input_ids[i, width - len(ids) :] = ids
            mask[i, width - len(ids) :] = 1
        return input_ids, mask

    def _empty_cache(self, batch: int) -> list[Any]:
        # ONNX Runtime accepts a zero-length past axis, so the prompt step uses the same graph.
        shape = (batch, self._cache_shape[0], 0, self._cache_shape[1])
        empty = np.zeros(shape, dtype=self._cache_dtype)
        if self._device is not None:
            import onnxruntime as ort

            device_type, device_id = self._device
            return [
                ort.OrtValue.ortvalue_from_numpy(empty, device_type, device_id)
                for _ in self._past_names
            ]
        return [empty] * len(self._past_names)

    def _should_compact(self, kept: int, batch: int) -> bool:
        if kept == batch:
            return False
        # Host arrays: dropping rows is a cheap slice. Device cache: a device-host round trip,
        # so wait until a quarter of the batch is dead weight.
        return self._device is None or kept <= batch * 3 // 4

    def _take(self, past: list[Any], keep: list[int]) -> list[Any]:
        rows = np.asarray(keep)
        if self._device is None:
            return [tensor[rows] for tensor in past]
        import onnxruntime as ort

        device_type, device_id = self._device
        return [
            ort.OrtValue.ortvalue_from_numpy(
                np.ascontiguousarray(value.numpy()[rows]), device_type, device_id
            )
            for value in past
        ]

    def _run(
        self, input_ids: IntArray, mask: IntArray, position_ids: IntArray, past: list[Any]
    ) -> tuple[FloatArray, list[Any]]:
        try:
            if self._device is not None:
                return self._run_bound(input_ids, mask, position_ids, past)
            feed: dict[str, Any] = {
                "input_ids": input_ids,
                "attention_mask": mask,
                "position_ids": position_ids,
                **dict(zip(self._past_names, past, strict=True)),
            }
            outputs = self.session.run(self._output_names, feed)
        except Exception as error:  # onnxruntime raises untyped runtime errors
            raise GenerationError(
                f"model '{self.name}' failed on a batch of {input_ids.shape[0]}: {error}"
            ) from error
        return outputs[0], outputs[1:]

    def _run_bound(
        self, input_ids: IntArray, mask: IntArray, position_ids: IntArray, past: list[Any]
    ) -> tuple[FloatArray, list[Any]]:
        assert self._device is not None
        device_type, device_id = self._device
        binding = self.session.io_binding()
        binding.bind_cpu_input("input_ids", input_ids)
        binding.bind_cpu_input("attention_mask", mask)
        binding.bind_cpu_input("position_ids", position_ids)
        for name, value in zip(self._past_names, past, strict=True):
            binding.bind_ortvalue_input(name, value)
        binding.bind_output("logits", "cpu")
        for name in self._output_names[1:]:
            # ONNX Runtime allocates the grown cache on the device; it is fed back next step.
            binding.bind_output(name, device_type, device_id)
        self.session.run_with_iobinding(binding)
        outputs = binding.get_outputs()
        return outputs[0].numpy(), list(outputs[1:])


class _Cache(Protocol):
    """What the decode loop needs of a cache: feed a token per row, drop rows."""

    def step(self, tokens: IntArray, live: npt.NDArray[np.bool_]) -> FloatArray: ...

    def keep(self, rows: list[int]) -> None: ...

    def should_compact(self, kept: int, batch: int) -> bool: ...


class _GrownCache:
    """The traced graph's cache (``exporters.causal_lm``): left-padded rows and their attention
    mask, the whole cache passed in and returned one position longer every step."""

    def __init__(self, generator: TextGenerator, past: list[Any], mask: IntArray) -> None:
        self.generator, self.past, self.mask = generator, past, mask

    def step(self, tokens: IntArray, live: npt.NDArray[np.bool_]) -> FloatArray:
        self.mask = np.concatenate([self.mask, np.ones((len(tokens), 1), dtype=np.int64)], axis=1)
        position_ids = self.mask.sum(axis=1, keepdims=True) - 1
        logits, self.past = self.generator._run(tokens, self.mask, position_ids, self.past)
        return logits

    def keep(self, rows: list[int]) -> None:
        self.past = self.generator._take(self.past, rows)
        self.mask = self.mask[np.asarray(rows)]

    def should_compact(self, kept: int, batch: int) -> bool:
        return self.generator._should_compact(kept, batch)


def _bound_device(provider: str) -> tuple[str, int]:
    """The ORT device name (and id) whose memory an IOBinding keeps the cache in."""
    if provider == "CUDAExecutionProvider":
        return "cuda", 0  # CUDA_VISIBLE_DEVICES picks the card; a session sees it as device 0
    return "cpu", 0


#: Fewer shared leading tokens than this are not worth a separate model call.
_MIN_SHARED_PREFIX = 16


def _common_prefix(prompts: list[list[int]]) -> int:
    """How many leading tokens all ``prompts`` have in common."""
    shortest = min(len(ids) for ids in prompts)
    first = np.asarray(prompts[0][:shortest])
    same = np.ones(shortest, dtype=np.bool_)
    for ids in prompts[1:]:
        same &= np.asarray(ids[:shortest]) == first
    differ = np.flatnonzero(~same)
    return int(differ[0]) if differ.size else shortest


def _compile_chat_template(source: str) -> jinja2.Template:
    # The same environment Hugging Face renders chat templates in: sandboxed, trimmed blocks.
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise GenerationError(f"chat template error: {message}")

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = lambda value, **kw: json.dumps(value, ensure_ascii=False, **kw)
    environment.globals["raise_exception"] = raise_exception
    return environment.from_string(source)
