"""`run` drains its worker as soon as the last chunks are running, and starts it again when
work comes back after that (SQLite and PostgreSQL; the worker here is a real process that
exits on SIGTERM like Celery's warm shutdown, and the test plays the tasks in the database)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import update

from contentfab.cli.status import _RunWorker, _watch
from contentfab.db.jobs import finish_campaign_if_done
from contentfab.db.models import Campaign, ContentKind, Job, JobStatus, Product
from contentfab.db.session import transaction

# Exits 0 on SIGTERM, as a Celery worker does after a warm shutdown with nothing running.
SLEEPER = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "time.sleep(120)\n",
]


class _Recorded(_RunWorker):
    def __init__(self, log) -> None:
        self.started: list = []
        super().__init__(SLEEPER, {}, log)

    def start(self):
        proc = super().start()
        self.started.append(proc)
        return proc


def _campaign(sessions, jobs: int) -> int:
    with transaction(sessions) as session:
        campaign = Campaign(name="c", source_path="c.yaml", content_sha256="0" * 64, spec={})
        product = Product(
            campaign=campaign, row=2, sku="sku-0", title="Product 0",
            price=Decimal("9.5"), currency="EUR", attributes={},
        )  # fmt: skip
        session.add_all([campaign, product])
        for v in range(jobs):
            session.add(
                Job(campaign=campaign, product=product, kind=ContentKind.COPY,
                    channel="email_subject", variant=v, params={})
            )  # fmt: skip
        session.flush()
        return campaign.id


def _set(sessions, campaign_id: int, status: JobStatus) -> None:
    with transaction(sessions) as session:
        session.execute(update(Job).where(Job.campaign_id == campaign_id).values(status=status))
        if status == JobStatus.DONE:
            finish_campaign_if_done(session, campaign_id)


def _until(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def test_run_drains_early_and_restarts_its_worker_when_work_comes_back(sessions, tmp_path):
    campaign_id = _campaign(sessions, jobs=4)
    with (tmp_path / "worker.log").open("wb") as log:
        worker = _Recorded(log)
        first = worker.proc
        outcome: dict = {}
        watcher = threading.Thread(
            target=lambda: outcome.update(summary=_watch(sessions, campaign_id, worker, 60))
        )
        watcher.start()
        try:
            _until(lambda: worker.saw_queued, "the watcher to see queued jobs")
            assert first.poll() is None  # work is waiting: the worker keeps taking it

            _set(sessions, campaign_id, JobStatus.RUNNING)  # the last chunks started
            _until(lambda: first.poll() is not None, "the warm shutdown of the first worker")
            assert first.returncode == 0  # SIGTERM from the watcher, before the campaign ended

            # The drained worker exited with the campaign unfinished: another one is started,
            # and it is not drained while nothing new has been queued (no restart loop).
            _until(lambda: len(worker.started) == 2, "a second worker")
            second = worker.started[1]
            time.sleep(1.5)  # two polls at least
            assert second.poll() is None and len(worker.started) == 2

            _set(sessions, campaign_id, JobStatus.QUEUED)  # a chunk released for a retry
            _until(lambda: worker.saw_queued, "the watcher to see the retried jobs")
            _set(sessions, campaign_id, JobStatus.DONE)  # the second worker did them
            watcher.join(30)
            assert not watcher.is_alive()
            _until(lambda: second.poll() is not None, "the second worker's shutdown")
            assert second.returncode == 0
        finally:
            for proc in worker.started:
                proc.kill()
                proc.wait()
            watcher.join(5)
    assert outcome["summary"].finished
    assert len(worker.started) == 2
