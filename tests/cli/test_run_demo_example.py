"""The bundled demo campaign (`contentfab demo`): all three kinds, and honest example data.

The demo's full run needs the real copy model (minutes); it is measured by hand (README, "Two
commands"). These tests hold what the run rests on, in well under a second.
"""

from __future__ import annotations

import csv
import importlib.util
import random
from pathlib import Path

import contentfab
from contentfab.campaign import load_campaign

EXAMPLES = Path(contentfab.__file__).parent / "examples"


def test_the_example_campaign_asks_for_copy_creatives_headlined_with_it_and_lists() -> None:
    loaded = load_campaign(EXAMPLES / "campaign.yaml")
    copy, images, recs = (
        loaded.spec.copy_request,
        loaded.spec.images,
        loaded.spec.recommendations,
    )
    assert copy is not None and images is not None and recs is not None
    assert images.formats == ["square", "story"]
    assert images.headline_from_channel == "email_subject" in copy.channels
    assert images.background.mode == "generated"  # the generator `contentfab demo` builds
    assert recs.users == "all" and [s.name for s in recs.segments] == ["first-campers"]
    assert loaded.interactions is not None
    assert len(loaded.interactions.user_ids()) == 36
    assert set(loaded.interactions.skus) == {p.sku for p in loaded.products}


def test_the_example_interactions_are_what_their_script_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_interactions", EXAMPLES / "make_interactions.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with (EXAMPLES / "interactions.csv").open(encoding="utf-8", newline="") as file:
        written = [tuple(row) for row in csv.reader(file)]
    assert written[0] == ("user_id", "product_id", "event", "timestamp")
    assert written[1:] == script.rows(random.Random(script.SEED))
