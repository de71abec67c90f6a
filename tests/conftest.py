"""Shared fixtures: real databases (SQLite and PostgreSQL) and the real Redis.

Service-backed tests skip when the service is down on a developer machine, but fail under
``CI=true``: a green CI run must mean they ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.conftest_models"]

PG_ADMIN_URL = os.environ.get(
    "CONTENTFAB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Used only where no redis-server binary is on PATH to start a private one.
REDIS_URL = os.environ.get("CONTENTFAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _service_missing(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: service tests must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        _service_missing("PostgreSQL", exc)
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"contentfab_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class RedisServer:
    """A real redis-server of our own on a free loopback port, so that concurrent test runs
    (a developer's tree and a fresh clone, say) never flush each other's queues, and fault tests
    can stop and restart it without touching the machine's shared instance."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                # Like production (docker-compose.yml): messages survive a broker restart.
                "--appendonly",
                "yes",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer | None]:
    if shutil.which("redis-server") is None:
        yield None
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer | None) -> str:
    import redis

    url = REDIS_URL if redis_server is None else redis_server.url
    if redis_server is not None and redis_server.process is None:
        redis_server.start()  # a fault test stopped it
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except Exception as exc:
        _service_missing("Redis", exc)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(autouse=True)
def _stop_embedded_brokers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Stop the embedded broker a test's commands started in its tmp_path (it outlives them)."""
    yield
    tmp_path = request.node.funcargs.get("tmp_path")
    if tmp_path is None:
        return
    from contentfab.core.settings import embedded_socket
    from contentfab.tasks.embedded_broker import broker_for, stop

    for pid_file in tmp_path.glob("**/broker/valkey.pid"):
        data_dir = pid_file.parent.parent
        stop(broker_for(data_dir, embedded_socket(data_dir)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database migrated to head, on SQLite and on PostgreSQL."""
    from contentfab.db.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contentfab.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    return url


@pytest.fixture
def sessions(database_url: str):
    from contentfab.db.session import configure

    factory = configure(database_url)
    yield factory
    factory.kw["bind"].dispose()
