"""The Docker image itself; runs when docker/test-image sets HUBBUB_E2E_CONTAINER."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import Target
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

CONTAINER = os.environ.get("HUBBUB_E2E_CONTAINER")
pytestmark = [
    pytest.mark.skipif(not CONTAINER, reason="tests a running container (docker/test-image)"),
    pytest.mark.smoke,
]


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def inspect(field: str) -> str:
    return docker("inspect", "--format", field, str(CONTAINER))


def test_runs_as_non_root_with_data_volume() -> None:
    assert docker("exec", str(CONTAINER), "id", "-u") != "0"
    mounts = json.loads(inspect("{{json .Mounts}}"))
    assert any(m["Destination"] == "/data" for m in mounts)
    assert docker("exec", str(CONTAINER), "sh", "-c", "test -w /data && echo writable") == "writable"


def test_health_check_reports_healthy() -> None:
    import time

    for _ in range(60):
        if inspect("{{.State.Health.Status}}") == "healthy":
            return
        time.sleep(1)
    pytest.fail(f"health: {inspect('{{json .State.Health}}')}")


def test_several_workers_without_a_shared_broker_are_refused() -> None:
    image = inspect("{{.Config.Image}}")
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", "-e", "WEB_CONCURRENCY=3", "-e", "PORT=1", image],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "HUBBUB_REDIS_URL" in result.stderr + result.stdout


def test_the_image_says_its_version_and_is_tagged_with_it(target: Target) -> None:
    import httpx

    image = inspect("{{.Config.Image}}")
    said = docker("run", "--rm", "--network", "none", image, "--version")
    config = httpx.get(f"{target.url}/api/config").json()
    assert said == f"hubbub {config['version']} (database schema {config['schema_version']})"
    tagged = f"{image.split(':')[0]}:{config['version']}"
    assert docker("image", "inspect", "--format", "{{.Id}}", tagged) == docker(
        "image", "inspect", "--format", "{{.Id}}", image
    )


def test_add_user_subcommand() -> None:
    image = inspect("{{.Config.Image}}")
    result = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", "none", image, "add-user", "olga", "--password-stdin"],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "user olga saved" in result.stdout


def test_stop_closes_sockets_with_restart_code_and_exits_cleanly(restartable_target: Target) -> None:
    target = restartable_target
    try:
        with connect(f"{target.ws_url}/api/ws?name=stopper") as ws:
            ws.recv()
            target.stop()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code in (1001, 1012)
        assert inspect("{{.State.ExitCode}}") == "0"
    finally:
        target.start()
