"""A task goes from a client process through the broker to a real worker process and its effect
lands in the database — with each broker, on each database."""

import re

import pytest

from tests.system.stack import wait_for


@pytest.mark.parametrize("broker", ["embedded", "redis"])
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_task_reaches_a_real_worker_and_its_write_lands(stack_factory, database, broker):
    stack = stack_factory(database=database, broker=broker)
    migrate = stack.manage("migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    stack.start_worker()
    wait_for(lambda: " ready." in stack.log("worker"), timeout=60, what="the worker to be ready")

    ping = stack.manage("worker_ping", "--timeout", "60")

    assert ping.returncode == 0, ping.stderr + stack.log("worker")
    assert re.fullmatch(r"pong from celery@\S+ in \d+\.\d ms\n", ping.stdout), ping.stdout


def test_worker_ping_fails_when_no_worker_is_running(stack_factory):
    stack = stack_factory()
    assert stack.manage("migrate", "--noinput").returncode == 0

    ping = stack.manage("worker_ping", "--timeout", "1")

    assert ping.returncode == 1
    assert "no worker recorded the heartbeat within 1 s" in ping.stderr
