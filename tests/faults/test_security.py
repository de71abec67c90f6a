"""Security promises with real processes: no pickle off the queue, no secret in any log line or
command output, formulas defused in the CLI's CSV export.

Flower's mandatory basic auth is checked in tests/test_compose.py, asset files confined to the
asset root in tests/api (file serving) and tests/campaign/test_load.py (catalog image paths).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import make_url

from contentfab.cli import app
from contentfab.core.settings import Settings
from contentfab.db.migrate import upgrade
from contentfab.db.models import Asset, Job, JobStatus
from contentfab.db.session import configure
from contentfab.tasks.app import IMAGES_TASK, create_app
from tests.faults.cards import (
    card_environment,
    finished,
    start_worker,
    stop,
    write_card_campaign,
)
from tests.pipeline import runner, wait_for


class _RunsCommandWhenUnpickled:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.slow
@pytest.mark.services
def test_a_pickle_message_is_refused_and_its_jobs_untouched(tmp_path, pg_url, redis_url):
    upgrade(pg_url)
    env = card_environment(tmp_path, pg_url, redis_url)
    campaign = write_card_campaign(tmp_path, products=4)
    assert runner.invoke(app, ["enqueue", str(campaign)], env=env).exit_code == 0
    client = redis.Redis.from_url(redis_url)
    client.delete("images")  # drop the real message: only the pickle one is on the queue
    sessions = configure(pg_url)
    with sessions() as session:
        ids = list(session.scalars(select(Job.id).order_by(Job.id)))

    marker = tmp_path / "unpickled"
    settings = Settings(**{k.removeprefix("CONTENTFAB_").lower(): v for k, v in env.items()})
    create_app(settings).send_task(
        IMAGES_TASK,
        args=[1, ids, _RunsCommandWhenUnpickled(marker)],
        queue="images",
        serializer="pickle",
    )
    assert client.llen("images") == 1
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "pickle")
    try:
        wait_for(lambda: "untrusted content" in log.read_text(), 60, "the worker to refuse it")
        time.sleep(1)
        assert not marker.exists(), "the worker unpickled the message"
        assert client.llen("images") == 0 and not client.hlen("unacked"), "refused, not requeued"
        with sessions() as session:
            jobs = list(session.scalars(select(Job)))
            assert session.scalar(select(Asset.id).limit(1)) is None
        assert all(j.status == JobStatus.QUEUED and j.attempts == 0 for j in jobs)
        assert worker.poll() is None, "the worker keeps serving after refusing"

        # The same jobs sent as JSON are done by the same worker.
        assert runner.invoke(app, ["retry", "1"], env=env).exit_code == 0
        wait_for(lambda: finished(sessions), 60, "the JSON message to be done")
    finally:
        stop(worker)
    with sessions() as session:
        assert all(
            j.status == JobStatus.DONE and j.attempts == 1 for j in session.scalars(select(Job))
        )
    assert not marker.exists()
    assert "application/x-python-serialize" in log.read_text()
    sessions.kw["bind"].dispose()
    client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_with_password(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port, password = _free_port(), "Br0ker-S3cret-pw"
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--requirepass", password, "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, password=password)
    wait_for(lambda: _pings(client), 10, "redis-server to start", 0.05)
    yield f"redis://:{password}@127.0.0.1:{port}/0", password
    client.close()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.mark.slow
@pytest.mark.services
def test_no_password_reaches_a_log_line_or_an_output(tmp_path, pg_url, redis_with_password):
    broker_url, broker_password = redis_with_password
    db_password = "Db-S3cret-pw"  # noqa: S105 - trust auth on the test server: never checked
    db_url = make_url(pg_url).set(password=db_password).render_as_string(hide_password=False)
    upgrade(db_url)
    env = card_environment(tmp_path, db_url, broker_url)
    campaign = write_card_campaign(tmp_path, products=8)
    outputs = [runner.invoke(app, ["enqueue", str(campaign)], env=env)]
    assert outputs[0].exit_code == 0, outputs[0].output
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "secrets")
    sessions = configure(db_url)
    try:
        wait_for(lambda: finished(sessions), 60, "the campaign to finish")
    finally:
        stop(worker)
    sessions.kw["bind"].dispose()
    for command in (["status", "1"], ["status", "1", "--json"], ["status"], ["retry", "1"],
                    ["assets", "--campaign", "1", "--format", "json"]):  # fmt: skip
        outputs.append(runner.invoke(app, command, env=env))
        assert outputs[-1].exit_code == 0, outputs[-1].output

    # Unreachable services with a password in their URL: the errors name them, masked.
    closed = _free_port()
    no_db = make_url(db_url).set(port=closed).render_as_string(hide_password=False)
    failed = runner.invoke(app, ["status"], env={**env, "CONTENTFAB_DATABASE_URL": no_db})
    assert failed.exit_code != 0 and "database" in failed.output.lower()
    outputs.append(failed)
    no_broker = f"redis://:{broker_password}@127.0.0.1:{closed}/0"
    failed = runner.invoke(
        app, ["enqueue", str(campaign)], env={**env, "CONTENTFAB_BROKER_URL": no_broker}
    )
    assert failed.exit_code != 0 and f"redis://:**@127.0.0.1:{closed}" in failed.output
    outputs.append(failed)

    text = log.read_text()
    assert "succeeded" in text and "redis://:**@127.0.0.1" in text  # the banner, masked
    for secret in (broker_password, db_password):
        assert secret not in text
        for result in outputs:
            assert secret not in result.output


def test_the_csv_export_defuses_formulas(tmp_path):
    from tests.api.seed import FORMULA, seed_campaign

    data = tmp_path / "data"
    data.mkdir()
    db_url = f"sqlite:///{data / 'contentfab.db'}"
    upgrade(db_url)
    sessions = configure(db_url)
    seed_campaign(sessions, data / "assets")
    sessions.kw["bind"].dispose()
    env = card_environment(tmp_path, db_url, f"sqla+sqlite:///{data / 'broker.db'}")
    result = runner.invoke(app, ["assets", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells  # kept, as text
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
