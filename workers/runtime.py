"""Per-process ONNX Runtime sessions.

Sessions are expensive to create and are not fork-safe, so each worker process keeps its own
cache, keyed by (model path, providers, threads), and drops it when it notices it is running in
a different process than the one that filled it. ``onnxruntime`` is imported only inside the
functions, never at module import.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from contentfab.core.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

_SessionKey = tuple[str, tuple[str, ...], int]
_sessions: dict[_SessionKey, tuple[onnxruntime.InferenceSession, str]] = {}
_owner_pid = os.getpid()
_gpu_libraries_loaded = False


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def resolve_providers(requested: Sequence[str]) -> list[str]:
    """The requested providers this build of ONNX Runtime has, in order, always ending in CPU."""
    available = set(available_providers())
    chosen = [p for p in dict.fromkeys(requested) if p in available and p != CPU]
    skipped = [p for p in requested if p not in available]
    if skipped:
        log.info("execution providers not available here, skipped: %s", ", ".join(skipped))
    return [*chosen, CPU]


def create_session(
    path: Path, providers: Sequence[str], intra_op_threads: int = 0
) -> tuple[onnxruntime.InferenceSession, str]:
    """A new session for ``path`` and the execution provider it actually runs on."""
    import onnxruntime as ort

    resolved = resolve_providers(providers)
    if CUDA in resolved:
        load_gpu_libraries()
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=resolved)
    except Exception as error:  # ORT raises its own untyped Fail/InvalidGraph/NoSuchFile
        raise ModelError(f"ONNX Runtime cannot load {path}: {error}") from error
    used = session.get_providers()[0]
    if used != resolved[0]:
        # ORT falls back quietly when a provider's libraries fail to load (CUDA/cuDNN missing or
        # of the wrong major version); every asset records the provider, but say it here too.
        log.warning(
            "%s: %s did not start (its libraries?); this session runs on %s",
            path,
            resolved[0],
            used,
        )
    return session, used


def load_gpu_libraries() -> None:
    """Load the CUDA and cuDNN libraries of pip's ``nvidia-*`` packages, once per process.

    ``onnxruntime-gpu[cuda,cudnn]`` (the Dockerfile's ``gpu`` variant) installs CUDA and cuDNN as
    pip packages, which are not on the loader's path: without this the CUDA provider cannot
    start and ONNX Runtime falls back to the CPU. ``onnxruntime.preload_dlls`` (ORT >= 1.21)
    finds them; where CUDA comes from the system (a CUDA base image) it loads those instead.
    """
    global _gpu_libraries_loaded
    if _gpu_libraries_loaded:
        return
    _gpu_libraries_loaded = True
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # it reports missing libraries with print()
        preload()
    for line in printed.getvalue().splitlines():
        log.warning("onnxruntime.preload_dlls: %s", line)


def get_session(
    path: Path, providers: Sequence[str], intra_op_threads: int = 0
) -> tuple[onnxruntime.InferenceSession, str]:
    """The cached session of this process for these arguments, created on first use."""
    global _owner_pid
    if os.getpid() != _owner_pid:
        # Inherited across fork: those sessions belong to the parent and must not be used.
        _sessions.clear()
        _owner_pid = os.getpid()
    key = (str(Path(path).resolve()), tuple(providers), intra_op_threads)
    if key not in _sessions:
        _sessions[key] = create_session(Path(path), providers, intra_op_threads)
    return _sessions[key]


def clear_sessions() -> None:
    _sessions.clear()
