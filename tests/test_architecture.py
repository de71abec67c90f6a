"""The layers of docs/architecture.md, as a test: import-linter's contracts in pyproject.toml.

A module may import only from layers below its own (core < campaign < workers | db < exporters
< services < tasks < api < cli); workers and the database never import each other; workers
import no torch, SQL or Celery; core and campaign open no database, queue or model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contracts_hold():
    linter = Path(sys.executable).parent / "lint-imports"
    checked = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


def test_a_layer_violation_is_reported(tmp_path):
    # The contract is live: in a copy of the tree where db imports a worker module, it breaks.
    for package in ("contentfab", "db", "tasks", "workers", "exporters"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "db" / "models.py").open("a") as handle:
        handle.write("\nimport workers.copy.writer\n")
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "db.models -> workers.copy.writer" in checked.stdout
