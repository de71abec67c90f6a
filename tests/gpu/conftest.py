"""GPU tests: skipped where ONNX Runtime has no CUDA device (CI never has one).

``CONTENTFAB_TEST_ACCELERATOR`` names the provider under test (default CUDA). Setting it to
``CPUExecutionProvider`` dry-runs these tests on a machine without a GPU: the same code paths
(IOBinding, OrtValues on "the device") with the CPU as the device, which catches mistakes in
the tests themselves before they reach a GPU machine.
"""

from __future__ import annotations

import os

import pytest

ACCELERATOR = os.environ.get("CONTENTFAB_TEST_ACCELERATOR", "CUDAExecutionProvider")
DEVICE_NAME = {"CUDAExecutionProvider": "cuda", "CPUExecutionProvider": "cpu"}[ACCELERATOR]


def _usable() -> str | None:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if ACCELERATOR not in available:
        return f"{ACCELERATOR} is not in this onnxruntime build ({', '.join(available)})"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A skip marker, not a skip inside a fixture: session fixtures such as the SmolLM2 export
    # would otherwise be built before the test found out it cannot run.
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    reason = _usable() if gpu_items else None
    for item in gpu_items if reason else []:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def accelerator() -> str:
    return ACCELERATOR


@pytest.fixture(scope="session")
def device_name() -> str:
    return DEVICE_NAME
