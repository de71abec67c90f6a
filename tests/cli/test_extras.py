"""A command whose optional dependencies are not installed names the extra to install
(pyproject.toml: `serve`, `monitor`, `postgres`) instead of failing with a traceback."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from typer.testing import CliRunner

from contentfab.cli import app
from contentfab.core.errors import InputError
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


def test_a_postgres_url_without_psycopg_names_the_postgres_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    with pytest.raises(InputError, match=r"contentfab\[postgres\]"):
        make_engine("postgresql+psycopg://user@localhost/contentfab")
