"""docker-compose.yml validated by Debian's docker-compose (`make compose-smoke` brings it up: tests/compose)."""

import os
import subprocess

import yaml

from tests import services
from tests.system.stack import REPO


def run_compose_config(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [services.command("docker-compose"), "-f", "docker-compose.yml", "config"],
        cwd=REPO,
        env={**{k: v for k, v in os.environ.items() if k != "SECRET_KEY"}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def compose_config() -> dict:
    result = run_compose_config(SECRET_KEY="compose-validation")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


PARTS = {"web", "worker", "beat", "redis", "postgres", "docker-proxy", "docker-proxy-web"}


def test_the_compose_file_validates_and_runs_every_part_of_the_app():
    config = compose_config()
    assert set(config["services"]) == PARTS
    for name in PARTS:
        assert "healthcheck" in config["services"][name], f"{name} has no healthcheck"


def test_only_the_docker_api_proxies_hold_the_socket_and_web_and_worker_reach_the_engine_through_them():
    """The worker runs the containers and web opens exec, attach and port-forward streams into
    them, each through a proxy of its own (deploy/docker-proxy) that alone mounts the socket,
    read-only."""
    services = compose_config()["services"]
    holders = {
        name: [volume for volume in service.get("volumes", []) if "docker.sock" in str(volume)]
        for name, service in services.items()
    }
    assert {name for name, volumes in holders.items() if volumes} == {"docker-proxy", "docker-proxy-web"}
    for name in ("docker-proxy", "docker-proxy-web"):
        (volume,) = holders[name]
        # Debian's docker-compose prints the short form, source:target:mode
        assert str(volume).endswith(":ro"), volume
    assert services["worker"]["environment"]["DOCKER_HOST"] == "tcp://docker-proxy:2375"
    assert services["web"]["environment"]["DOCKER_HOST"] == "tcp://docker-proxy-web:2375"
    assert "DOCKER_HOST" not in services["beat"].get("environment", {})


def test_postgres_keeps_its_data_in_a_named_volume():
    config = compose_config()
    volumes = [str(v) for v in config["services"]["postgres"]["volumes"]]
    assert any("/var/lib/postgresql/data" in v for v in volumes)
    assert config["volumes"]


def test_the_stack_refuses_to_start_without_a_secret_key():
    result = run_compose_config()
    assert result.returncode != 0
    assert "set SECRET_KEY to a long random string" in result.stderr


def test_worker_and_beat_wait_for_the_web_service_to_have_migrated():
    config = compose_config()
    for name in ("worker", "beat"):
        assert config["services"][name]["depends_on"]["web"]["condition"] == "service_healthy"
