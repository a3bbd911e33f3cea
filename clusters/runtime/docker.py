"""The one door to the Docker engine: no other module imports the `docker` package."""

from __future__ import annotations

import docker
from docker.errors import DockerException

PING_TIMEOUT_SECONDS = 2


def engine_ping() -> tuple[bool, str]:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket), and what it said."""
    try:
        client = docker.from_env(timeout=PING_TIMEOUT_SECONDS)
    except DockerException as error:
        return False, f"no Docker engine: {error}"
    try:
        client.ping()
        version = client.version().get("Version", "unknown")
        return True, f"Docker engine {version}"
    except DockerException as error:
        return False, f"Docker engine did not answer: {error}"
    except OSError as error:
        return False, f"Docker engine did not answer: {error}"
    finally:
        client.close()
