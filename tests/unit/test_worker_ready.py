"""What a worker does once it is ready: a first heartbeat, and following the Docker engine's events."""

import pytest
from celery.signals import worker_ready

# The worker imports its task modules before it is ready; importing them connects their hooks.
from clusters import engine_watch, tasks  # noqa: F401
from clusters.runtime import docker as engine
from tutor.health import tasks as health_tasks


@pytest.fixture
def done(monkeypatch):
    """What the ready worker set off: the heartbeat it sent, whether it follows the engine."""
    calls = []
    monkeypatch.setattr(health_tasks.heartbeat, "delay", lambda *args, **kwargs: calls.append("heartbeat"))
    monkeypatch.setattr(engine_watch, "follow_in_background", lambda: calls.append("follow the engine"))
    return calls


def test_a_ready_worker_sends_a_first_heartbeat_and_follows_an_engine_that_answers(done, monkeypatch):
    monkeypatch.setattr(engine, "engine_ping", lambda: (True, "Docker 27.0"))
    worker_ready.send(sender=None)
    assert sorted(done) == ["follow the engine", "heartbeat"]


def test_a_ready_worker_without_an_engine_only_sends_its_heartbeat(done, monkeypatch):
    monkeypatch.setattr(engine, "engine_ping", lambda: (False, "no engine"))
    worker_ready.send(sender=None)
    assert done == ["heartbeat"]
