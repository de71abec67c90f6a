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
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contracts_hold():
    linter = Path(sys.executable).parent / "lint-imports"
    checked = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


def _lint_a_copy_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    """import-linter over a copy of the tree where ``module`` (a path) ends with ``line``."""
    for package in ("contentfab", "db", "tasks", "workers", "exporters"):
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            symlinks=True,  # contentfab/db -> ../db, as in the repository
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a") as handle:
        handle.write(f"\n{line}\n")
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )


def test_a_layer_violation_is_reported(tmp_path):
    # The contract is live: in a copy of the tree where db imports a worker module, it breaks.
    checked = _lint_a_copy_with(tmp_path, "db/models.py", "import contentfab.workers.copy.writer")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "contentfab.db.models -> contentfab.workers.copy.writer" in checked.stdout


def test_a_top_level_card_name_is_reported(tmp_path):
    # `import workers...` would load a second copy of every module it reaches (two error trees,
    # two SQLAlchemy metadata); the one-namespace contract refuses it.
    checked = _lint_a_copy_with(tmp_path, "tasks/copy.py", "from workers.copy import writer")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "contentfab.tasks.copy -> workers" in checked.stdout


def test_the_wheel_installs_one_top_level_package(tmp_path):
    # The card's folders sit at the top of the repository and inside the package once built:
    # contentfab.db, contentfab.tasks, contentfab.workers, contentfab.exporters, with their data
    # files, and no top-level db/tasks/workers/exporters (names of other PyPI projects).
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("contentfab-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "site")
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"contentfab"}, tops
    for path in (
        "contentfab/workers/lexicon.txt",
        "contentfab/db/migrations/env.py",
        "contentfab/db/migrations/versions/0001_initial_schema.py",
        "contentfab/py.typed",
        "contentfab/tasks/celery.py",
        "contentfab/exporters/pipeline.py",
    ):
        assert path in names, path
    # Imported from the unpacked wheel alone (not the checkout), the worker app and the copy
    # writer load, and no top-level card name does.
    probe = (
        "import sys, contentfab.tasks.celery as c, contentfab.workers.copy.writer as w\n"
        "print(c.app.main, w.__file__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'db', 'tasks', 'workers', 'exporters'}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-P", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
    )
    assert ran.returncode == 0, ran.stderr
    first, second = ran.stdout.splitlines()
    assert first.startswith("contentfab " + str(tmp_path / "site")), first
    assert second == "[]"


def test_planning_code_creates_no_app_and_connects_no_worker_signal():
    # What `contentfab enqueue` imports to plan and send; the worker target (tasks.celery)
    # creates the app and connects the worker's signal handlers.
    probe = (
        "import contentfab.cli.enqueue, contentfab.tasks.campaigns, contentfab.tasks.copy\n"
        "import contentfab.tasks.images, contentfab.tasks.recs\n"
        "from celery import _state\n"
        "from celery.signals import worker_process_init as init, worker_ready as ready\n"
        "def count():\n"
        "    return len(_state._get_active_apps()), len(init.receivers), len(ready.receivers)\n"
        "print(count())\n"
        "import contentfab.tasks.celery\n"
        "print(count())\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split("\n")[:2] == ["(0, 0, 0)", "(1, 1, 1)"]
