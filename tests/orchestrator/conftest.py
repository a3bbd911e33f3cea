"""A whole stack as `make run` starts it — web, worker and beat as separate processes — with the
real kubectl pointed at a sandbox. Parametrized over the runtimes the machine can run."""

from __future__ import annotations

import contextlib
import sys
import uuid
from pathlib import Path

import pytest

from tests import services
from tests.docker import hardening
from tests.kubectl.conftest import Kubectl
from tests.system.stack import Stack, free_port, wait_for


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/orchestrator/" in str(item.fspath):
            item.add_marker(pytest.mark.system)


@contextlib.contextmanager
def running_cluster(root: Path, runtime: str, *, env: dict | None = None, queues: str | None = None):
    """A stack (web, worker, beat) with alice's sandbox on `runtime`; yields (stack, kubeconfig).
    `env` adds settings; `queues` limits the worker to some queues (a node without its kubelet)."""
    if runtime == "docker":
        services.docker_engine()
    settings = {"TUTOR_RUNTIME": runtime, "TUTOR_RESYNC_INTERVAL": "5", "TUTOR_FAST_BACKOFF": "1"}
    stack = Stack(root=root, extra_env={**settings, **(env or {})})
    assert stack.manage("migrate", "--noinput").returncode == 0
    created = stack.manage("sandbox", "create", "--owner", "alice", "--runtime", runtime)
    assert created.returncode == 0, created.stderr
    port = free_port()
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(port)])
    stack.start_worker(**({"queues": queues} if queues else {}))
    stack.start_beat()
    wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn")
    wait_for(lambda: " ready." in stack.log("worker"), timeout=60, what="the worker")
    kubeconfig = stack.manage("sandbox", "kubeconfig", "--owner", "alice", "--server", f"http://127.0.0.1:{port}")
    path = root / "kubeconfig"
    path.write_text(kubeconfig.stdout)
    try:
        yield stack, path
        if runtime == "docker":
            # Every container the tests made is held to the hardening rules before it is removed.
            hardening.stack_audit(path)
    finally:
        stack.stop_all()
        if runtime == "docker":
            # Leave the engine as we found it: every container, volume and network of the sandbox.
            removed = stack.manage("sandbox", "clean-engine")
            assert removed.returncode == 0, removed.stderr


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    with running_cluster(tmp_path_factory.mktemp(f"cluster-{runtime}"), runtime) as running:
        yield running


@pytest.fixture
def kubectl(cluster, tmp_path):
    _, kubeconfig = cluster
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    tool = Kubectl(kubeconfig=kubeconfig, home=tmp_path, namespace=namespace)
    tool("create", "namespace", namespace)
    tool("config", "set-context", "--current", "--namespace", namespace)
    return tool


@pytest.fixture
def runtime(request) -> str:
    """Which runtime this test's stack runs: "simulated" or "docker"."""
    return request.node.callspec.params["cluster"]
