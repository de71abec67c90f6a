"""Content-addressed image files under a folder or any fsspec URL (tasks.images)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import fsspec
import pytest

from contentfab.core.settings import Settings
from contentfab.tasks.images import write_content_addressed

DATA = b"\x89PNG fake creative bytes"
DIGEST = hashlib.sha256(DATA).hexdigest()
RELATIVE = f"images/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}.png"


@pytest.mark.parametrize("form", ["path", "file-url"])
def test_local_roots_get_a_file_uri_and_no_leftovers(tmp_path, form):
    root = tmp_path / "assets"
    uri, digest = write_content_addressed(root if form == "path" else root.as_uri(), DATA, "png")
    path = Path(url2pathname(urlparse(uri).path))
    assert digest == DIGEST and uri.startswith("file://") and path == root / RELATIVE
    assert path.read_bytes() == DATA
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no .partial- file left


def test_an_object_store_url_gets_one_whole_object(tmp_path):
    root = f"memory://contentfab-test-{tmp_path.name}/assets"
    uri, digest = write_content_addressed(root, DATA, "png")
    assert uri.startswith("memory://") and uri.endswith(f"/assets/{RELATIVE}")
    assert digest == DIGEST
    with fsspec.open(uri, "rb") as stream:
        assert stream.read() == DATA
    fs, path = fsspec.core.url_to_fs(uri)
    modified = fs.modified(path)
    assert write_content_addressed(root, DATA, "png") == (uri, DIGEST)  # same name, same bytes
    assert fs.modified(path) == modified  # ... and not written again
    fs.rm(f"/contentfab-test-{tmp_path.name}", recursive=True)


def test_other_fsspec_file_systems_write_a_temporary_name_then_rename(tmp_path):
    # "local://" is fsspec's local file system reached through fsspec (not an object store).
    uri, _ = write_content_addressed(f"local://{tmp_path}/assets", DATA, "png")
    assert uri.endswith(RELATIVE)
    written = tmp_path / "assets" / RELATIVE
    assert written.read_bytes() == DATA
    assert [p.name for p in written.parent.iterdir()] == [written.name]


def test_settings_keep_a_local_asset_dir_for_downloads(tmp_path):
    default = Settings(data_dir=tmp_path)
    assert default.asset_dir == tmp_path / "assets" and default.asset_root == str(
        tmp_path / "assets"
    )
    elsewhere = Settings(data_dir=tmp_path, asset_url=(tmp_path / "cdn").as_uri())
    assert elsewhere.asset_dir == tmp_path / "cdn"
    remote = Settings(data_dir=tmp_path, asset_url="s3://bucket/creatives")
    assert remote.asset_root == "s3://bucket/creatives" and remote.asset_dir == tmp_path / "assets"
