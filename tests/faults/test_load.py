"""A small version of the load benchmark (bench/load.py): 500 products, 2 workers, Redis + PG.

The 10,000-product run is a command (``make bench-load``), not a test; this one checks that the
machinery holds at a few hundred messages and that the benchmark itself keeps working.
"""

from __future__ import annotations

import pytest

from bench.load import run

pytestmark = [pytest.mark.slow, pytest.mark.services]


def test_500_products_on_two_workers_finish_with_one_asset_each(tmp_path, pg_url, redis_url):
    results = run(
        products=500,
        workers=2,
        size="160x160",
        chunk_size=8,
        database_url=pg_url,
        broker_url=redis_url,
        workdir=tmp_path,
        timeout=1800,  # a hang guard, not a speed bound: a loaded CI machine is slow
        stall_timeout=120,  # no job finished for two minutes: the queue is stuck
    )
    print(results)
    assert results["jobs"] == {"done": 500}
    assert results["assets"] == results["distinct_slots"] == 500
    assert results["queue_after_enqueue"] == results["messages"] == 63
    assert results["max_unacked"] <= 2  # prefetch 1, late acks: one message per pool process
    for start, end in zip(results["rss_kib_at_10_percent"], results["rss_kib_at_end"], strict=True):
        assert 0 < end["pool_kib"] < 1.5 * start["pool_kib"]
