"""The engine's events wake the kubelet of the node whose container died, and nothing else."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from clusters.engine_watch import follow, kubelet_to_wake
from clusters.runtime.base import PodRef
from clusters.runtime.docker import DockerRuntime, RuntimeEvent, engine_events
from tests import services
from tests.docker.hardening import assert_hardened

pytestmark = pytest.mark.docker


@pytest.fixture
def runtime():
    services.docker_engine()
    made = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node="node-2")
    yield made
    try:
        assert_hardened(made.sandbox)
    finally:
        made.sandbox_remove()


def test_a_dying_container_wakes_its_nodes_kubelet(runtime):
    woken: list[tuple[str, str]] = []
    stop = threading.Event()
    began = datetime.now(UTC)  # the stream starts here even if the watcher connects later

    def events(since):
        return engine_events(since=since or began)

    options = {"wake": lambda *key: woken.append(key), "events": events}
    watcher = threading.Thread(target=follow, args=(stop,), kwargs=options)
    watcher.start()
    try:
        pod = PodRef(runtime.sandbox, "default", "crash", uuid.uuid4().hex, "node-2")
        runtime.pod_sandbox_ensure(pod, hostname="crash", volumes=[])
        container = {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 3"]}
        runtime.container_start(pod, container, restart=0, env={}, volumes=[])
        deadline = time.monotonic() + 10
        while woken.count((runtime.sandbox, "kubelet/node-2")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive(), "the watcher did not stop when asked"
    # The pause container's start, then the container's start and its death.
    assert woken.count((runtime.sandbox, "kubelet/node-2")) >= 3, woken
    assert {key for sandbox, key in woken if sandbox == runtime.sandbox} == {"kubelet/node-2"}


def test_containers_of_no_node_wake_nobody():
    proxy = RuntimeEvent("die", "", "", "", "", 0, 0, time=None, sandbox="abc", node="")
    assert kubelet_to_wake(proxy) is None
    assert kubelet_to_wake(RuntimeEvent("oom", "u", "ns", "p", "c", 1, 137, None, "abc", "node-1")) == (
        "abc",
        "kubelet/node-1",
    )
