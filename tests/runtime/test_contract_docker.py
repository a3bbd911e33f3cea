"""The runtime contract (tests/runtime/contract.py) against DockerRuntime and the real engine."""

from __future__ import annotations

import time
import uuid

import pytest

from clusters.runtime.docker import DockerRuntime
from tests import services
from tests.docker.hardening import assert_hardened
from tests.runtime.conftest import RuntimeUnderTest
from tests.runtime.contract import *  # noqa: F403 - pytest collects the suite's tests from here

pytestmark = pytest.mark.docker


@pytest.fixture
def docker_runtime():
    """A DockerRuntime of a fresh sandbox and node; everything made for the sandbox is removed by
    label afterwards, even when the test failed."""
    services.docker_engine()
    sandbox, node = f"contract{uuid.uuid4().hex[:12]}", "node-1"
    under_test = RuntimeUnderTest(
        DockerRuntime(sandbox=sandbox, node=node), node=node, sandbox=sandbox, advance=time.sleep, step=0.2
    )
    yield under_test
    try:
        assert_hardened(sandbox)
    finally:
        under_test.runtime.sandbox_remove()
        under_test.runtime.close()


@pytest.fixture
def runtime(docker_runtime):
    return docker_runtime
