"""A command whose optional dependencies are not installed names the extra to install
(pyproject.toml: `images`, `serve`, `monitor`, `postgres`) instead of failing with a traceback."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from typer.testing import CliRunner

from contentfab.cli import app
from contentfab.cli import worker as worker_command
from contentfab.core.errors import InputError, MissingExtraError
from contentfab.core.settings import Settings
from contentfab.db.session import make_engine


@pytest.mark.parametrize(
    ("command", "module", "extra"),
    [(["serve"], "uvicorn", "serve"), (["flower"], "flower", "monitor")],
)
def test_a_command_without_its_extra_says_which_to_install(
    monkeypatch, tmp_path, command, module, extra
):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == module else find_spec(name, *a),
    )
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"contentfab[{extra}]" in result.output


def _without(monkeypatch, *modules: str) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in modules else find_spec(name, *a),
    )


@pytest.mark.parametrize("queues", [None, "images", "recs, images"])
def test_a_worker_for_the_images_queue_without_pillow_names_the_images_extra(
    monkeypatch, tmp_path, queues
):
    _without(monkeypatch, "PIL")
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(worker_command.os, "execvpe", pytest.fail)  # no worker may start
    result = CliRunner().invoke(app, ["worker"] + ([] if queues is None else ["-Q", queues]))
    assert result.exit_code == 2, result.output
    assert "pip install 'contentfab[images]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("asset_url", "missing"),
    [("", ["PIL", "scipy"]), ("memory://assets", ["PIL", "scipy", "fsspec"])],
)
def test_the_images_queue_needs_fsspec_only_for_an_asset_root_at_a_url(
    monkeypatch, tmp_path, asset_url, missing
):
    _without(monkeypatch, "PIL", "scipy", "fsspec")
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONTENTFAB_ASSET_URL", asset_url)
    with pytest.raises(MissingExtraError) as raised:
        worker_command._require_images_extra(Settings())
    assert raised.value.missing == missing and raised.value.extra == "images"


def test_a_copy_and_recs_worker_starts_without_the_images_extra(monkeypatch, tmp_path):
    _without(monkeypatch, "PIL", "scipy", "fsspec")
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONTENTFAB_BROKER_URL", f"sqla+sqlite:///{tmp_path / 'broker.db'}")
    started = []
    monkeypatch.setattr(worker_command.os, "execvpe", lambda *args: started.append(args[1]))
    result = CliRunner().invoke(app, ["worker", "-Q", "copy,recs"])
    assert result.exit_code == 0, result.output
    (argv,) = started
    assert argv[argv.index("-Q") + 1] == "copy,recs"


def test_a_postgres_url_without_psycopg_names_the_postgres_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    with pytest.raises(InputError, match=r"contentfab\[postgres\]"):
        make_engine("postgresql+psycopg://user@localhost/contentfab")
