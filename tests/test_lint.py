"""The style gates of STYLE.md, as tests: ruff's curated rules and formatting, mypy strict."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (the dev extra)",
)
def test_ruff_rules_and_format():
    ruff = str(Path(sys.executable).parent / "ruff")
    checked = _run(ruff, "check", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = _run(ruff, "format", "--check", ".")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_strict_on_the_packages():
    typed = _run(sys.executable, "-m", "mypy")
    assert typed.returncode == 0, typed.stdout + typed.stderr
