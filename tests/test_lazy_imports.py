"""A function-level import of one of our modules says why, in a comment on its line or the line
above (one comment may head a run of consecutive imports): docs/architecture.md, "Imports".

Such an import is kept only where importing at the top would make a cycle or load something
heavy into a module that must stay light (``contentfab --help``, a worker's start); otherwise
it belongs at the top of the module.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import textwrap
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contentfab", "db", "tasks", "workers", "exporters")


def _statement_lists(function: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list inside ``function`` (its body, branches, handlers), not descending
    into nested functions, which are walked on their own."""
    pending: list[ast.AST] = [function]
    while pending:
        node = pending.pop()
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, field, None)
            if not isinstance(value, list):
                continue
            if value and isinstance(value[0], ast.stmt):
                yield value
            pending.extend(
                child
                for child in value
                if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            )


def _ours(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
    return any(alias.name.split(".")[0] in PACKAGES for alias in node.names)


def uncommented_lazy_imports(path: Path) -> list[tuple[int, str]]:
    """(line, statement) of each function-level import of our modules in ``path`` that no
    comment explains."""
    text = path.read_text()
    lines = text.splitlines()
    comments = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    }
    own_line = {n for n in comments if lines[n - 1].lstrip().startswith("#")}
    found = []
    for function in ast.walk(ast.parse(text)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for statements in _statement_lists(function):
            run: list[ast.stmt] = []  # the consecutive imports up to this statement
            for statement in statements:
                if not isinstance(statement, ast.Import | ast.ImportFrom):
                    run = []
                    continue
                run.append(statement)
                if not _ours(statement):
                    continue
                end = statement.end_lineno or statement.lineno
                inline = any(n in comments for n in range(statement.lineno, end + 1))
                headed = any(s.lineno - 1 in own_line for s in run)
                if not (inline or headed):
                    found.append((statement.lineno, ast.get_source_segment(text, statement) or ""))
    return found


def test_every_function_level_import_of_ours_says_why():
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for line, statement in uncommented_lazy_imports(path):
                missing.append(f"{relative}:{line}: {statement}")
    assert not missing, (
        "function-level imports of our modules without a comment saying why (a cycle, a heavy "
        "dependency kept out of a light module), or that belong at the top:\n" + "\n".join(missing)
    )


def test_the_check_sees_a_missing_comment(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        textwrap.dedent(
            """\
            import os


            def bare():
                from contentfab.db.models import Job
                return Job


            def commented():
                from contentfab.db.models import Job  # lazy: sqlalchemy
                # cycle: db.session imports this module
                from contentfab.db.session import configure
                from contentfab.tasks.app import create_app  # headed by the comment above

                import json
                from contentfab.tasks.chunks import claim_rows  # another run of imports, with a comment

                return Job, configure, create_app, json, claim_rows


            def nested():
                if os.sep:
                    import json

                    from contentfab.tasks.app import create_app
                    return create_app, json
            """
        )
    )
    assert uncommented_lazy_imports(module) == [
        (5, "from contentfab.db.models import Job"),
        (25, "from contentfab.tasks.app import create_app"),
    ]


def test_the_command_line_loads_none_of_what_its_lazy_imports_keep_out():
    # What the `# lazy:` comments in contentfab/cli promise: `contentfab --help` imports none
    # of these (contentfab/cli/__init__.py has the time it saves).
    heavy = ("sqlalchemy", "celery", "kombu", "numpy", "yaml", "fastapi", "onnxruntime", "torch")
    code = f"import sys, contentfab.cli; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert loaded.stdout.strip() == "[]"
