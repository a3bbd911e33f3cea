"""Runtime selection against the real Docker engine that `make test` starts."""

import pytest

from clusters.runtime.docker import engine_ping
from clusters.runtime.selection import runtime_status
from tests import services

pytestmark = pytest.mark.docker


def test_engine_ping_reaches_the_real_engine_and_names_its_version():
    services.docker_engine()
    answers, detail = engine_ping()
    assert answers is True
    assert detail.startswith("Docker engine ")


def test_auto_uses_docker_when_the_engine_answers(settings):
    services.docker_engine()
    settings.TUTOR_RUNTIME = "auto"
    assert runtime_status().kind == "docker"


def test_auto_falls_back_to_simulated_when_docker_host_points_nowhere(settings, monkeypatch, tmp_path):
    settings.TUTOR_RUNTIME = "auto"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    status = runtime_status()
    assert (status.kind, status.state) == ("simulated", "ok")
    assert "no-engine.sock" in status.detail or "No such file" in status.detail


def test_docker_required_but_unreachable_is_unavailable(settings, monkeypatch, tmp_path):
    settings.TUTOR_RUNTIME = "docker"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert runtime_status().state == "unavailable"
