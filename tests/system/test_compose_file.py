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


def test_the_compose_file_validates_and_runs_every_part_of_the_app():
    config = compose_config()
    assert set(config["services"]) == {"web", "worker", "beat", "redis", "postgres"}
    for name in ("web", "worker", "beat", "redis", "postgres"):
        assert "healthcheck" in config["services"][name], f"{name} has no healthcheck"


def test_only_web_and_worker_are_given_the_docker_socket():
    """The worker runs the containers; web opens exec, attach and port-forward streams into them."""
    services_with_socket = {
        name
        for name, service in compose_config()["services"].items()
        if any("docker.sock" in str(volume) for volume in service.get("volumes", []))
    }
    assert services_with_socket == {"web", "worker"}


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
