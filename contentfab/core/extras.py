"""The optional dependencies that commands and tasks look for at run time, by extra
(pyproject.toml's [project.optional-dependencies]), and how their absence is said: a
:class:`~contentfab.core.errors.MissingExtraError` naming the extra, never a traceback."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from contentfab.core.errors import MissingExtraError

#: The top-level modules each extra installs that our code imports.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "images": ("PIL", "scipy", "fsspec"),
    "serve": ("fastapi", "uvicorn"),
    "monitor": ("flower",),
}


def require_extra(extra: str, *modules: str, needed_by: str = "this command") -> None:
    """Raise MissingExtraError unless ``modules`` (default: all of ``extra``'s) can be imported;
    nothing is imported."""
    wanted = modules or EXTRA_MODULES[extra]
    missing = [module for module in wanted if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtraError(extra, missing, needed_by)


@contextmanager
def extra_imports(extra: str, needed_by: str = "this command") -> Iterator[None]:
    """Imports in this block that fail for want of one of ``extra``'s packages raise
    MissingExtraError; any other ImportError (a bug of ours) goes through as it is."""
    try:
        yield
    except ImportError as exc:
        module = (exc.name or "").partition(".")[0]
        if module not in EXTRA_MODULES[extra]:
            raise
        raise MissingExtraError(extra, [module], needed_by) from exc
