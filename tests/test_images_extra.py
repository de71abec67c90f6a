"""Without the `images` extra (Pillow, SciPy, fsspec: pyproject.toml) only the image pipeline
is missing: a copy or recommendations worker, the CLI, the API and enqueueing import and run.

Each check runs in a fresh process whose ``sys.modules`` holds None for those packages, so any
import of them fails there as it would where they are not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.pipeline import BLOCK_IMAGES_EXTRA, IMAGES_EXTRA


def run_without_images_extra(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_IMAGES_EXTRA + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_blocker_blocks():
    result = run_without_images_extra("import PIL.Image")
    assert result.returncode != 0 and "PIL" in result.stderr


def test_everything_but_the_image_pipeline_imports_without_the_images_extra(tmp_path):
    result = run_without_images_extra(
        f"""
        import contentfab.api
        import contentfab.cli
        import contentfab.tasks.campaigns  # enqueue and planning of every kind
        import contentfab.tasks.copy
        import contentfab.tasks.recs
        from contentfab.api import create_api
        from contentfab.core.settings import Settings
        from contentfab.db.migrate import upgrade
        from contentfab.tasks.worker import app

        # What a worker does as it starts: import every module of TASK_MODULES, images included.
        app.loader.import_default_modules()
        assert "contentfab.images.generate" in app.tasks

        # The gallery and the API answer.
        from fastapi.testclient import TestClient

        settings = Settings(data_dir={str(tmp_path)!r}, read_only=True)
        settings.ensure_dirs()
        upgrade(settings.database_url)
        with TestClient(create_api(settings), base_url="http://localhost") as client:
            for path in ("/", "/api/campaigns", "/api/assets"):
                response = client.get(path)
                assert response.status_code == 200, (path, response.text)

        for name in {IMAGES_EXTRA!r}:
            assert sys.modules[name] is None, name
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("ok")
