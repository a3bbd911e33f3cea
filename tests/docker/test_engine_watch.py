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
        while not woken and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything else the engine says about it
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive(), "the watcher did not stop when asked"
    # The container's death; not the pause container's start nor the container's, the kubelet's own doing.
    assert [key for sandbox, key in woken if sandbox == runtime.sandbox] == ["kubelet/node-2"], woken


def test_containers_of_no_node_and_starts_wake_nobody():
    proxy = RuntimeEvent("die", "", "", "", "", 0, 0, time=None, sandbox="abc", node="")
    assert kubelet_to_wake(proxy) is None
    assert kubelet_to_wake(RuntimeEvent("start", "u", "ns", "p", "c", 0, None, None, "abc", "node-1")) is None
    assert kubelet_to_wake(RuntimeEvent("oom", "u", "ns", "p", "c", 1, 137, None, "abc", "node-1")) == (
        "abc",
        "kubelet/node-1",
    )


def test_a_look_right_after_a_die_event_sees_the_container_exited(runtime):
    """The engine's list still says "running" for a moment after the die event; the look the
    event brings must not take its word (nor an observation kept from before) for it."""
    pod = PodRef(runtime.sandbox, "default", "sleeper", uuid.uuid4().hex, "node-2")
    runtime.pod_sandbox_ensure(pod, hostname="sleeper", volumes=[])
    container = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
    runtime.container_start(pod, container, restart=0, env={}, volumes=[])
    (before,) = [seen for seen in runtime.node_look(node="node-2")[0] if seen.pod_uid == pod.uid]
    assert before.state == "running"  # and kept: the same status again needs no inspect
    looked: list[str] = []
    stop = threading.Event()

    def wake(sandbox: str, key: str) -> None:  # as the kubelet's run would look, at once
        if sandbox == runtime.sandbox and not looked:
            looked.extend(o.state for o in runtime.node_look(node="node-2")[0] if o.pod_uid == pod.uid)

    watcher = threading.Thread(target=follow, args=(stop,), kwargs={"wake": wake})  # from now on
    watcher.start()
    try:
        time.sleep(0.5)  # connected
        runtime.container_kill(pod, "c")
        deadline = time.monotonic() + 10
        while not looked and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert looked == ["exited"]
