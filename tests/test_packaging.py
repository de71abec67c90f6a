"""The installed package: its version on the command line, its licence, its typing marker."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import metadata, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contentfab", "db", "tasks", "workers", "exporters")


def test_version_prints_the_installed_version_and_exits_zero():
    done = subprocess.run(
        [sys.executable, "-c", "from contentfab.cli import main; main()", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"contentfab {version('contentfab')}"


def test_the_licence_is_an_spdx_expression_with_its_file_and_every_package_is_typed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert metadata("contentfab").get("License-Expression") == "Apache-2.0"
    # db, tasks, workers and exporters are installed inside contentfab (contentfab/<name> ->
    # ../<name>), so the one marker covers them; tests/test_architecture.py checks the wheel.
    data = project["tool"]["setuptools"]["package-data"]
    assert (ROOT / "contentfab" / "py.typed").exists()
    assert "py.typed" in data["contentfab"]
    for package in PACKAGES[1:]:
        assert (ROOT / "contentfab" / package).resolve() == ROOT / package, package
