"""Files under the asset directory that no asset row references (`contentfab gc`).

A worker writes an image file first and its asset row after (the file is content-addressed, so
a redelivered job that renders the same bytes finds the file there and adopts it). A worker that
dies between the two — or a job whose bytes come out different on retry, or a campaign deleted
later — leaves a file no row points at; a kill during the write leaves a ``.partial-*`` file.
This module finds them. Only regular files inside the asset directory are considered (symbolic
links are never followed nor removed), and only ones older than ``min_age`` seconds, so a file
whose row a live worker is about to commit is left alone.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname


@dataclass(frozen=True)
class Orphan:
    path: Path
    size: int
    age_seconds: float

    @property
    def partial(self) -> bool:
        return self.path.name.startswith(".partial-")


def referenced_paths(uris: Iterable[str | None]) -> set[Path]:
    """The local files that asset URIs name (``file:`` URIs only), resolved."""
    paths = set()
    for uri in uris:
        if uri and urlparse(uri).scheme == "file":
            paths.add(Path(url2pathname(urlparse(uri).path)).resolve())
    return paths


def find_orphans(
    asset_dir: Path, referenced: set[Path], *, min_age: float, now: float | None = None
) -> list[Orphan]:
    root = asset_dir.resolve()
    now = time.time() if now is None else now
    orphans = []
    for folder, _, names in os.walk(root):  # does not descend into linked folders
        for name in sorted(names):
            path = Path(folder) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):  # a link, a socket...: not ours to remove
                continue
            age = now - info.st_mtime
            if path not in referenced and age >= min_age:
                orphans.append(Orphan(path, info.st_size, age))
    return sorted(orphans, key=lambda orphan: orphan.path)


def remove(orphans: Iterable[Orphan], asset_dir: Path) -> int:
    """Delete the orphans, then the folders they leave empty; returns the files removed."""
    root = asset_dir.resolve()
    removed = 0
    for orphan in orphans:
        if not orphan.path.is_relative_to(root):  # never outside the asset directory
            continue
        orphan.path.unlink(missing_ok=True)
        removed += 1
        folder = orphan.path.parent
        while folder != root and folder.is_relative_to(root) and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return removed
