"""A list's asset meta is encoded with the chunk's shared part written once; it must decode to
the same document as encoding the whole dict per list."""

from __future__ import annotations

import json

from contentfab.tasks.recs import list_meta, shared_meta


def test_meta_text_decodes_to_the_whole_document():
    items = [{"sku": "P1", "score": 0.5, "reason": 'similar to "Tent" you viewed'}]
    shared = {
        "model": {"name": "minilm-l6-v2", "version": "1", "sha256": "ab" * 32},
        "device": "CPUExecutionProvider",
        "params": {"k": 10, "price_band": [0, 150.5], "segment": None},
        "worker": "host:1",
        "task_id": None,
    }
    whole = {"items": items, "strategy": "history", "short": True, "method": "embedding"}
    text = list_meta(
        json.dumps(items, sort_keys=True), "history", True, "embedding", shared_meta(shared)
    )
    assert json.loads(text) == {**whole, **shared}
    assert list(json.loads(text)) == [*whole, *shared]  # same key order as before
    assert json.loads(list_meta("[]", "popular", False, "x", shared_meta({}))) == {
        "items": [], "strategy": "popular", "short": False, "method": "x"
    }  # fmt: skip
