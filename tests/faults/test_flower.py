"""Flower (issue 16, item 14): credentials from the environment, never on the command line;
loopback unless told otherwise; the compose file publishes it on loopback only, because
Flower's /metrics and /healthcheck answer without auth."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from contentfab.cli import app
from contentfab.db.session import configure
from tests.faults.cards import (
    card_environment,
    embedded_urls,
    finished,
    job_counts,
    kill_group,
    stop,
    write_card_campaign,
)
from tests.pipeline import runner, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _get_json(url: str, auth: str) -> object:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _get(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_compose_file_keeps_credentials_off_the_command_line_and_flower_off_the_network() -> (
    None
):
    flower = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["flower"]
    command = " ".join(flower["command"])
    assert "auth" not in command and "FLOWER_BASIC_AUTH" not in command
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])


def test_the_readme_documents_flower_without_credentials_in_its_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "flower --basic-auth" not in readme
    assert "contentfab flower" in readme and "FLOWER_BASIC_AUTH" in readme
    said = " ".join(readme.split())
    assert "/metrics` and `/healthcheck` answer without auth" in said


def test_flower_refuses_malformed_credentials_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value in ("admin", "admin:", ":pw", "a b:pw", "ops:pw,admin"):
        monkeypatch.setenv("FLOWER_BASIC_AUTH", value)
        result = runner.invoke(app, ["flower"])
        assert result.exit_code == 2, (value, result.output)
        assert isinstance(result.exception, SystemExit)
        assert "FLOWER_BASIC_AUTH" in result.output


def _start_flower(env: dict[str, str], port: int, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "contentfab", "flower", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.DEVNULL,
        )  # fmt: skip


def _stop_flower(flower: subprocess.Popen[bytes]) -> None:
    flower.terminate()
    try:
        flower.wait(timeout=30)
    except subprocess.TimeoutExpired:
        flower.kill()
        flower.wait()


def _wait_for_flower(flower: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while _get(f"{base}/healthcheck") != 200:  # no auth: documented
        assert flower.poll() is None, "flower exited"
        assert time.monotonic() < deadline, "flower did not start"
        time.sleep(0.3)


@pytest.mark.services
def test_without_credentials_flower_makes_a_password_for_the_run_and_requires_it(
    tmp_path: Path, redis_url: str
) -> None:
    """Issue 16's promise (no Flower without auth) kept the issue-17 way: instead of refusing,
    a password is made for the run, printed once, and Flower answers 401 without it."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    env |= {"CONTENTFAB_BROKER_URL": redis_url, "CONTENTFAB_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "flower.out"
    flower = _start_flower(env, port, out)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_flower(flower, base)
        said = out.read_text()
        found = re.search(rf"Flower: {base}/ user contentfab password (\S+) ", said)
        assert found, said
        password = found.group(1)
        assert len(password) >= 16 and said.count(password) == 1, said
        assert _get(f"{base}/api/workers") == 401
        assert _get(f"{base}/api/workers", auth="contentfab:wrong") == 401
        assert _get(f"{base}/api/workers", auth=f"admin:{password}") == 401
        assert _get(f"{base}/api/workers", auth=f"contentfab:{password}") == 200
        cmdline = Path(f"/proc/{flower.pid}/cmdline").read_bytes()
        assert b"flower" in cmdline and password.encode() not in cmdline, cmdline
    finally:
        _stop_flower(flower)
    again = _start_flower(env, port, tmp_path / "again.out")  # a new password each run
    try:
        _wait_for_flower(again, f"http://127.0.0.1:{port}")
        assert password not in (tmp_path / "again.out").read_text()
        assert _get(f"http://127.0.0.1:{port}/api/workers", auth=f"contentfab:{password}") == 401
    finally:
        _stop_flower(again)


@pytest.mark.services
def test_flower_binds_loopback_and_keeps_its_password_out_of_ps(
    tmp_path: Path, redis_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "CONTENTFAB_BROKER_URL": redis_url,
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "FLOWER_BASIC_AUTH": "ops:s3cret-Pa55",
    }
    flower = subprocess.Popen(
        [sys.executable, "-m", "contentfab", "flower", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while _get(f"{base}/healthcheck") != 200:  # no auth: documented
            assert flower.poll() is None, "flower exited"
            assert time.monotonic() < deadline, "flower did not start"
            time.sleep(0.3)
        assert _get(f"{base}/api/workers") == 401
        assert _get(f"{base}/api/workers", auth="ops:wrong") == 401
        assert _get(f"{base}/api/workers", auth="ops:s3cret-Pa55") == 200
        assert _get(f"{base}/metrics") == 200  # no auth either: hence loopback only
        cmdline = Path(f"/proc/{flower.pid}/cmdline").read_bytes().replace(b"\0", b" ")
        assert b"flower" in cmdline and b"s3cret" not in cmdline, cmdline
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert "s3cret" not in ps
        assert _listening(port) == {"0100007F"}, _listening(port)  # 127.0.0.1 only
    finally:
        _stop_flower(flower)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_flower_on_the_embedded_default_lists_the_worker_and_the_campaigns_tasks(
    tmp_path: Path,
) -> None:
    """No broker configured at all: Flower, a worker and enqueue share the data dir's own
    Valkey server, and Flower sees the worker (remote control) and the tasks (events)."""
    db_url, _ = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, "", FLOWER_BASIC_AUTH="ops:s3cret-Pa55")
    del env["CONTENTFAB_BROKER_URL"]  # the default, as on a fresh install
    env = {**{k: v for k, v in os.environ.items() if k != "CONTENTFAB_BROKER_URL"}, **env}
    port, auth = _free_port(), "ops:s3cret-Pa55"
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "logs.txt").open("wb") as log:
        flower = subprocess.Popen(
            [sys.executable, "-m", "contentfab", "flower", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        worker = None
        try:
            wait_for(lambda: _get(f"{base}/healthcheck") == 200, 60, "flower to answer", 0.3)
            worker = subprocess.Popen(
                [sys.executable, "-m", "contentfab", "worker", "-n", f"flowered-{os.getpid()}@%h"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            campaign = write_card_campaign(tmp_path, products=8, name="Flowered")
            enqueued = runner.invoke(app, ["enqueue", str(campaign)], env=env)
            assert enqueued.exit_code == 0, enqueued.output
            sessions = configure(db_url)
            wait_for(lambda: finished(sessions), 120, "the campaign to finish")
            sessions.kw["bind"].dispose()

            def tasks() -> list[dict[str, Any]]:
                found = _get_json(f"{base}/api/tasks", auth)
                assert isinstance(found, dict)
                return [t for t in found.values() if t.get("state") == "SUCCESS"]

            done = wait_for(lambda: len(tasks()) == 2 and tasks(), 30, "flower to see 2 tasks")
            assert {t["name"] for t in done} == {"contentfab.images.generate"}
            shown = sorted(t["args"] for t in done)
            assert all(a.startswith("campaign=1 'Flowered' image jobs=") for a in shown), shown
            assert shown[0].endswith("(4)") and shown[1].endswith("(4)")
            workers = _get_json(f"{base}/api/workers?refresh=1", auth)
            assert isinstance(workers, dict)
            assert any(name.startswith(f"flowered-{os.getpid()}@") for name in workers), workers
            assert all(t["worker"].startswith(f"flowered-{os.getpid()}@") for t in done)
        finally:
            for proc in (worker, flower):
                if proc is not None:
                    stop(proc)
                    kill_group(proc)


def test_the_address_is_given_to_flower_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "ops:pw")
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path / "data"))  # its embedded broker
    monkeypatch.setattr(os, "execv", lambda _path, argv: calls.append(list(argv)))
    assert runner.invoke(app, ["flower"]).exit_code == 0
    assert runner.invoke(app, ["flower", "--address", "0.0.0.0"]).exit_code == 0  # noqa: S104
    assert "--address=127.0.0.1" in calls[0] and "--address=0.0.0.0" in calls[1]
    assert not any(re.search("auth|pw", part) for call in calls for part in call)


def test_a_made_password_goes_to_flower_through_its_environment_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[list[str], str]] = []
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "")  # as good as unset; restored after the test
    monkeypatch.setenv("CONTENTFAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(
        os, "execv", lambda _path, argv: calls.append((list(argv), os.environ["FLOWER_BASIC_AUTH"]))
    )
    result = runner.invoke(app, ["flower", "--port", "5599"])
    assert result.exit_code == 0, result.output
    [(argv, auth)] = calls
    user, _, password = auth.partition(":")
    assert user == "contentfab" and len(password) >= 16
    assert f"http://127.0.0.1:5599/ user contentfab password {password} " in result.output
    assert not any(password in part for part in argv)


@pytest.mark.slow
def test_run_with_flower_shows_the_runs_worker_and_tasks_until_ctrl_c(tmp_path: Path) -> None:
    """`contentfab run --flower` on the embedded default: Flower (with a password made for the
    run) sees the run's own worker and tasks, stays up after the summary, and Ctrl-C stops it."""
    db_url, _ = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, "")
    del env["CONTENTFAB_BROKER_URL"]  # the default, as on a fresh install
    unset = ("CONTENTFAB_BROKER_URL", "FLOWER_BASIC_AUTH")
    env = {**{k: v for k, v in os.environ.items() if k not in unset}, **env}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    campaign = write_card_campaign(tmp_path, products=8, name="Flowered")
    out = tmp_path / "run.out"
    with out.open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "contentfab", "run", str(campaign), "--flower",
             "--flower-port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            # Ctrl-C as in a terminal, also when the suite runs in the background: a
            # non-interactive shell starts background jobs with SIGINT ignored, which Python
            # then keeps (tests/faults/test_resume.py does the same)
            preexec_fn=_default_sigint,
        )  # fmt: skip
    try:
        wait_for(lambda: "Ctrl-C stops it" in out.read_text(), 120, "the run's summary", 0.5)
        said = out.read_text()
        found = re.search(rf"Flower: {base}/ user contentfab password (\S+) ", said)
        assert found, said
        auth = f"contentfab:{found.group(1)}"
        assert _get(f"{base}/api/tasks") == 401
        tasks = _get_json(f"{base}/api/tasks", auth)
        assert isinstance(tasks, dict)
        done = [t for t in tasks.values() if t.get("state") == "SUCCESS"]
        assert len(done) == 2, tasks
        assert all(t["args"].startswith("campaign=1 'Flowered' image jobs=") for t in done)
        assert all(t["worker"].startswith(f"run-{run.pid}@") for t in done), done
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0, out.read_text()
        assert _get(f"{base}/healthcheck") == 0  # Flower went with it
    finally:
        stop(run)


def test_run_with_flower_on_a_taken_port_stops_before_storing_anything(tmp_path: Path) -> None:
    db_url, _ = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, "")
    env["CONTENTFAB_BROKER_URL"] = ""  # the embedded default
    campaign = write_card_campaign(tmp_path, products=4, name="Taken")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["run", str(campaign), "--flower", "--flower-port", str(port)], env=env
        )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"127.0.0.1:{port}" in result.output and "--flower-port" in result.output
    sessions = configure(db_url)
    assert not finished(sessions) and job_counts(sessions) == {}
    sessions.kw["bind"].dispose()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
