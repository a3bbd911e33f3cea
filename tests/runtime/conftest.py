"""The `runtime` fixture the contract suite (tests/runtime/contract.py) runs against.

A fixture yields a `RuntimeUnderTest`: the runtime itself (attribute access falls through to it)
plus the clock abstraction the suite needs for anything that takes time. `advance(seconds)` lets
that much of the runtime's time pass — the simulated runtime's test clock jumps, Docker sleeps —
and `eventually(check, within=…)` advances in small steps until `check()` holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from clusters.runtime.base import PodRef, Runtime
from clusters.runtime.simulated import ManualClock, SimulatedRuntime


@dataclass
class RuntimeUnderTest:
    runtime: Runtime
    node: str
    sandbox: str
    advance: Callable[[float], None]  # let `seconds` of the runtime's time pass
    step: float  # how far `eventually` advances between two checks
    pods: list[PodRef] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)

    def pod(self, name: str = "web") -> PodRef:
        """A pod of its own for one test, removed when the test ends."""
        made = PodRef(self.sandbox, "default", name, uuid.uuid4().hex, self.node)
        self.pods.append(made)
        return made

    def eventually(self, check: Callable[[], Any], *, within: float, what: str = "") -> Any:
        waited = 0.0
        while True:
            result = check()
            if result:
                return result
            if waited >= within:
                raise AssertionError(f"not within {within} s: {what or check}")
            self.advance(self.step)
            waited += self.step

    def cleanup(self) -> None:
        for pod in self.pods:
            self.runtime.pod_remove(pod)


@pytest.fixture
def simulated_runtime():
    clock = ManualClock()
    node = f"node-{uuid.uuid4().hex[:6]}"
    under_test = RuntimeUnderTest(
        SimulatedRuntime(clock, node=node), node=node, sandbox=uuid.uuid4().hex, advance=clock.advance, step=0.5
    )
    yield under_test
    under_test.cleanup()


@pytest.fixture
def runtime(simulated_runtime):
    """The runtime under test; a test module overrides this fixture to run the suite on another."""
    return simulated_runtime


# --- The Docker runtime's fixture goes here -------------------------------------------------------
# It yields a RuntimeUnderTest around a DockerRuntime of a fresh sandbox and node, with
# `advance=time.sleep` and a short `step` (0.2 s), and removes the sandbox afterwards; e.g.
#
#     @pytest.fixture
#     def docker_runtime():
#         services.docker_engine()
#         sandbox, node = f"contract{uuid.uuid4().hex[:12]}", "node-1"
#         under_test = RuntimeUnderTest(DockerRuntime(sandbox=sandbox, node=node), node=node,
#                                       sandbox=sandbox, advance=time.sleep, step=0.2)
#         yield under_test
#         under_test.runtime.sandbox_remove()
#
# and tests/runtime/test_contract_docker.py (marked `docker`) star-imports the suite as
# test_contract_simulated.py does, sets `pytestmark = pytest.mark.docker`, and overrides `runtime`:
#
#     @pytest.fixture
#     def runtime(docker_runtime):
#         return docker_runtime
