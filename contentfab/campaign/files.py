"""Files a campaign names stay inside the campaign file's folder.

A campaign file may come from someone who should not be able to read the machine's other
files through it: a logo of ``/etc/passwd`` or ``../../secrets.png`` would be read, stored,
composited into every creative and served by the review API. So every path a campaign names
(catalog, interactions, logo, background image, matte model, text-to-image pipeline folder)
must resolve, links followed, to the campaign's folder or below it, or below one of the extra
roots an operator allows with ``CONTENTFAB_EXTRA_FILE_ROOTS`` (shared model folders).
``~`` is never expanded: a campaign file means the same on every machine and for every user.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePath

from contentfab.core.characters import forbidden_character

__all__ = ["MAX_NAME_BYTES", "MAX_PATH_CHARS", "confine"]

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255  # one component, as most file systems allow


def confine(
    value: object,
    base: Path,
    extra_roots: Sequence[Path] = (),
    *,
    folder: bool = False,
    must_exist: bool = True,
) -> Path:
    """``value`` (relative to ``base``) as an existing file (or ``folder``) inside ``base`` or
    an extra root, resolved; ``ValueError`` saying why not (with ``must_exist`` False, a
    missing file is left for the reader to report) (no traceback-worthy error escapes:
    over-long names, loops of links and unreadable folders are reasons too)."""
    if isinstance(value, PurePath):
        value = str(value)
    what = "folder" if folder else "file"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a {what} name relative to the campaign file")
    text = value.strip()
    shown = repr(text[:80]) + ("…" if len(text) > 80 else "")
    if (problem := forbidden_character(text, newlines=False)) is not None:
        raise ValueError(problem)
    if len(text) > MAX_PATH_CHARS or any(
        len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in PurePath(text).parts
    ):
        raise ValueError(
            f"{shown}: the name is too long (at most {MAX_PATH_CHARS} characters, "
            f"{MAX_NAME_BYTES} bytes per folder or file name)"
        )
    if text.startswith("~"):
        raise ValueError(
            f"{shown}: '~' is not expanded; write the path relative to the campaign file"
        )
    try:
        roots = [base.resolve(), *(Path(root).resolve() for root in extra_roots)]
        resolved = (base / text).resolve()
        inside = any(resolved.is_relative_to(root) for root in roots)
        exists = inside and (resolved.is_dir() if folder else resolved.is_file())
    except (OSError, RuntimeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ValueError(f"cannot use {shown}: {reason}") from None
    if not inside:
        how = (
            "an absolute path"
            if PurePath(text).is_absolute()
            else "a path through '..'"
            if ".." in PurePath(text).parts
            else "a link"
        )
        raise ValueError(
            f"{shown} is {how} that leads outside the campaign's folder; files a campaign "
            "names must be in that folder or below it (an operator can allow more folders "
            "with CONTENTFAB_EXTRA_FILE_ROOTS)"
        )
    if not exists and must_exist:
        raise ValueError(f"{shown}: no such {what} next to the campaign file")
    return resolved
