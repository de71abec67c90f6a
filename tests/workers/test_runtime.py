from __future__ import annotations

from pathlib import Path

import pytest

from contentfab.core.errors import ModelError
from contentfab.workers import runtime

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "available_providers", lambda: [CPU])


@pytest.fixture
def onnx_path(tiny_model_store) -> Path:
    return tiny_model_store.model_dir("tiny-llama") / "model.onnx"


def test_cuda_requested_but_unavailable_falls_back_to_cpu(cpu_only: None, onnx_path: Path) -> None:
    session, provider = runtime.create_session(onnx_path, [CUDA, CPU], 1)
    assert provider == CPU
    assert session.get_providers() == [CPU]


def test_provider_order_is_kept_and_cpu_always_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "available_providers", lambda: [CUDA, "XnnpackProvider", CPU])
    assert runtime.resolve_providers([CUDA]) == [CUDA, CPU]
    assert runtime.resolve_providers([CPU, CUDA]) == [CUDA, CPU]
    assert runtime.resolve_providers(["TensorrtExecutionProvider"]) == [CPU]


def test_sessions_are_cached_per_process(
    cpu_only: None, onnx_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.clear_sessions()
    first = runtime.get_session(onnx_path, [CPU], 1)
    assert runtime.get_session(onnx_path, [CPU], 1) is first
    assert runtime.get_session(onnx_path, [CPU], 2) is not first

    real_pid = runtime.os.getpid()
    monkeypatch.setattr(runtime.os, "getpid", lambda: real_pid + 1)  # as after a fork
    assert runtime.get_session(onnx_path, [CPU], 1)[0] is not first[0]


def test_unloadable_model_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="cannot load"):
        runtime.create_session(broken, [CPU], 1)


def test_workers_import_neither_torch_nor_onnxruntime() -> None:
    import subprocess
    import sys

    code = (
        "import sys, workers.textgen, workers.runtime; "
        "assert 'torch' not in sys.modules, 'torch'; "
        "assert 'onnxruntime' not in sys.modules, 'onnxruntime'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_a_provider_that_does_not_start_is_logged(
    monkeypatch: pytest.MonkeyPatch, onnx_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # As on a GPU host whose CUDA libraries are missing: the build lists CUDA, the session
    # cannot start it, and ONNX Runtime runs the model on the CPU without raising.
    monkeypatch.setattr(runtime, "available_providers", lambda: [CUDA, CPU])
    with caplog.at_level("WARNING", logger="contentfab.workers.runtime"):
        session, provider = runtime.create_session(onnx_path, [CUDA, CPU], 1)
    assert provider == CPU == session.get_providers()[0]
    assert any(f"{CUDA} did not start" in r.getMessage() for r in caplog.records)
