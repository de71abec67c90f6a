"""The retry schedule of transient errors (a database or broker outage)."""

from __future__ import annotations

import random

from contentfab.core.settings import Settings
from contentfab.tasks.app import COPY_TASK, IMAGES_TASK, RECS_TASK, create_app
from contentfab.tasks.chunks import RETRY_BACKOFF_MAX, ChunkTask, retry_countdown


def test_every_retry_waits_at_least_half_its_step_and_at_most_the_step():
    rng = random.Random(7)
    for retries in range(12):
        step = min(RETRY_BACKOFF_MAX, 2 * 2**retries)
        waits = [retry_countdown(retries, rng) for _ in range(2000)]
        assert step / 2 <= min(waits) and max(waits) <= step
        assert max(waits) - min(waits) > step / 4  # still spread: workers do not return together


def test_the_default_retries_ride_out_a_five_minute_outage(tmp_path):
    settings = Settings(data_dir=tmp_path)
    floor = sum(min(RETRY_BACKOFF_MAX, 2 * 2**n) / 2 for n in range(settings.max_retries))
    ceiling = sum(min(RETRY_BACKOFF_MAX, 2 * 2**n) for n in range(settings.max_retries))
    assert floor >= 300 and ceiling <= 15 * 60
    # the first four retries can no longer all come within a 15 s restart (Celery's full jitter
    # could draw 0 s for each: 7% of five-retry schedules ended within 15 s)
    assert sum(min(RETRY_BACKOFF_MAX, 2 * 2**n) / 2 for n in range(5)) > 15


def test_the_chunk_tasks_use_the_schedule_and_the_configured_count(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, max_retries=3))
    app.loader.import_default_modules()
    for name in (COPY_TASK, IMAGES_TASK, RECS_TASK):
        task = app.tasks[name]
        assert isinstance(task, ChunkTask), name
        assert task.max_retries == 3, name
        assert not getattr(task, "retry_backoff", False), name  # Celery's own full jitter is off
