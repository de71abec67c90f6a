"""The key/value buffer of a fused decoder graph (``exporters.fused_lm``): prompts in, steps out.

The fused graph's attention (ONNX Runtime's ``GroupQueryAttention``) keeps row ``b``'s tokens at
buffer positions ``0 .. length[b] - 1`` and takes no mask, so nothing here is padded:

* **prompts** run after the shared prompt head's cache one at a time (the operator takes
  several rows only for a prompt from nothing), or from nothing in groups of equal length (it
  assumes every row of a multi-token call has the same number of new tokens); each prompt's
  cache is copied into the rows that share it;
* **decode steps** run the whole batch with one token per row: one buffer per layer and kind,
  allocated once for the longest row the call can reach, bound with IOBinding as both the past
  input and the present output, so the operator writes each row's new key and value at its own
  length in place. A row that has finished is fed padding at a frozen length (it overwrites its
  own unused slot) until enough rows have finished to be worth copying the live rows out.

A row's logits depend only on its own tokens: every row sees exactly its own keys, which is what
keeps a seeded sample the same alone and in any batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnxruntime

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: The manifest's ``decoder`` value for a graph of this contract.
FUSED_DECODER = "fused-gqa"


class FusedRunner:
    """One fused decoder session and the names of its cache inputs and outputs."""

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        num_layers: int,
        kv_heads: int,
        head_dim: int,
        max_context: int,
    ) -> None:
        self.session = session
        self.past_names = [
            f"past_key_values.{i}.{k}" for i in range(num_layers) for k in ("key", "value")
        ]
        self.present_names = [
            f"present.{i}.{k}" for i in range(num_layers) for k in ("key", "value")
        ]
        self.kv_heads = kv_heads
        self.head_dim = head_dim
        self.max_context = max_context

    def run_prompt(
        self, input_ids: IntArray, past: Sequence[FloatArray] | None
    ) -> tuple[FloatArray, list[FloatArray]]:
        """Run rows of equal length after ``past`` (a cache of equal lengths, or none); return
        each row's last-position logits and its whole cache (past and prompt)."""
        batch, length = input_ids.shape
        if past is None:
            empty = np.zeros((batch, self.kv_heads, 0, self.head_dim), dtype=np.float32)
            past = [empty] * len(self.past_names)
        total = past[0].shape[2] + length
        feed: dict[str, Any] = {
            "input_ids": input_ids,
            "seqlens_k": np.full(batch, total - 1, dtype=np.int32),
            "total_sequence_length": np.asarray(total, dtype=np.int32),
            **dict(zip(self.past_names, past, strict=True)),
        }
        outputs = self.session.run(["logits", *self.present_names], feed)
        return outputs[0], outputs[1:]

    def prefill(
        self,
        prompts: list[list[int]],
        source: list[int],
        head: tuple[int, list[FloatArray]] | None,
        capacity: int,
    ) -> tuple[FloatArray, BufferCache]:
        """Run each distinct prompt of ``prompts`` (after the shared ``head``, its length and
        cache, when given) and lay out a buffer of ``capacity`` positions for the rows, row
        ``r`` holding prompt ``source[r]``. Returns the rows' first logits and their cache."""
        head_length, head_past = head if head is not None else (0, None)
        # ONNX Runtime's operator takes a multi-token call after a past one row at a time;
        # prompts from nothing run together, by length.
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, ids in enumerate(prompts):
            groups[len(ids) - head_length, index if head_past is not None else -1].append(index)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for row, index in enumerate(source):
            rows_of[index].append(row)
        shape = (len(source), self.kv_heads, capacity, self.head_dim)
        buffers = [np.zeros(shape, dtype=np.float32) for _ in self.past_names]
        logits: FloatArray | None = None
        for (tail, _), members in groups.items():
            input_ids = np.asarray([prompts[i][head_length:] for i in members], dtype=np.int64)
            past = None
            if head_past is not None:
                past = [np.repeat(tensor, len(members), axis=0) for tensor in head_past]
            group_logits, present = self.run_prompt(input_ids, past)
            if logits is None:
                logits = np.empty((len(source), group_logits.shape[1]), dtype=np.float32)
            for j, index in enumerate(members):
                rows = rows_of[index]
                logits[rows] = group_logits[j]
                for buffer, tensor in zip(buffers, present, strict=True):
                    buffer[rows, :, : head_length + tail] = tensor[j]
        assert logits is not None
        lengths = np.asarray([len(prompts[i]) for i in source], dtype=np.int32)
        return logits, BufferCache(self, buffers, lengths)


class BufferCache:
    """The rows' cache between decode steps: one preallocated buffer per layer and kind."""

    def __init__(self, runner: FusedRunner, buffers: list[FloatArray], lengths: Any) -> None:
        self.runner = runner
        self.lengths: npt.NDArray[np.int32] = lengths
        self._bind(buffers)

    def _bind(self, buffers: list[FloatArray]) -> None:
        import onnxruntime as ort

        self.buffers = buffers
        # An OrtValue over a host array shares its memory: the operator writes into the array.
        values = [ort.OrtValue.ortvalue_from_numpy(buffer) for buffer in buffers]
        binding = self.runner.session.io_binding()
        binding.bind_output("logits", "cpu")  # first: get_outputs() lists them as bound
        for past, present, value in zip(
            self.runner.past_names, self.runner.present_names, values, strict=True
        ):
            binding.bind_ortvalue_input(past, value)
            binding.bind_ortvalue_output(present, value)
        self._values, self._binding = values, binding

    def step(self, tokens: IntArray, live: npt.NDArray[np.bool_]) -> FloatArray:
        """Feed one token per row (padding for rows that are not ``live``); return the logits.
        A live row grows by one position; a finished row rewrites its next free slot."""
        capacity = self.buffers[0].shape[2]
        if int(self.lengths.max()) >= capacity:
            raise ValueError(f"the key/value buffer of {capacity} positions is full")
        seqlens = self.lengths.copy()  # the new token's position = its row's length - 1 after
        total = np.asarray(int(seqlens.max()) + 1, dtype=np.int32)
        binding = self._binding
        binding.bind_cpu_input("input_ids", tokens)
        binding.bind_cpu_input("seqlens_k", seqlens)
        binding.bind_cpu_input("total_sequence_length", total)
        self.runner.session.run_with_iobinding(binding)
        # A copy: the binding hands the next run the same logits memory to write into.
        logits: FloatArray = np.array(binding.get_outputs()[0].numpy())
        self.lengths = self.lengths + live.astype(np.int32)
        return logits

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows``: copies their used positions into buffers of the same capacity."""
        index = np.asarray(rows)
        used = int(self.lengths[index].max()) + 1
        kept = []
        for buffer in self.buffers:
            new = np.zeros((len(rows), *buffer.shape[1:]), dtype=buffer.dtype)
            new[:, :, :used] = buffer[index, :, :used]
            kept.append(new)
        self.lengths = self.lengths[index]
        self._bind(kept)

    @staticmethod
    def should_compact(kept: int, batch: int) -> bool:
        # A copy of every live row's cache: wait until a quarter of the batch is dead weight.
        return kept < batch and kept <= batch * 3 // 4
