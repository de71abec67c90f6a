"""The environment `run` and `worker` give their Celery worker: with several pool processes,
OpenMP threads (FAISS, OpenBLAS) sleep when idle instead of spinning against each other;
their number stays, since OpenBLAS's sums depend on it."""

from __future__ import annotations

import pytest

from contentfab.cli.worker import _worker_env
from contentfab.core.settings import Settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return Settings(data_dir=tmp_path, model_store=tmp_path / "models")


def test_several_processes_get_passive_openmp_threads(settings):
    env = _worker_env(settings, 2)
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "OMP_NUM_THREADS" not in env  # the thread count, and so every score, is unchanged
    assert env["CONTENTFAB_DATA_DIR"] == str(settings.data_dir)


def test_one_process_or_a_chosen_policy_is_left_alone(settings, monkeypatch):
    assert "OMP_WAIT_POLICY" not in _worker_env(settings, 1)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert _worker_env(settings, 4)["OMP_WAIT_POLICY"] == "ACTIVE"
