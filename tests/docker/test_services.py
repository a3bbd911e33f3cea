"""Services through DockerRuntime's proxies (kube-proxy's userspace mode) against the real engine."""

from __future__ import annotations

import uuid

import pytest

from clusters.runtime.base import PodRef
from clusters.runtime.docker import DockerRuntime, proxy_container_name, service_port_backends
from tests import services
from tests.docker.hardening import assert_hardened

pytestmark = pytest.mark.docker

WEB = {"name": "web", "image": "nginx:1.25", "ports": [{"name": "http", "containerPort": 80}]}
CLIENT = {"name": "client", "image": "busybox", "command": ["sleep", "3600"]}


@pytest.fixture
def sandbox():
    """A sandbox of its own; everything made for it is removed by label, even when a test fails."""
    services.docker_engine()
    runtime = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node="node-1")
    yield runtime
    try:
        assert_hardened(runtime.sandbox)
    finally:
        runtime.sandbox_remove()


@pytest.fixture
def other_sandbox():
    services.docker_engine()
    runtime = DockerRuntime(sandbox=f"test{uuid.uuid4().hex[:12]}", node="node-1")
    yield runtime
    try:
        assert_hardened(runtime.sandbox)
    finally:
        runtime.sandbox_remove()


def pod_run(runtime: DockerRuntime, name: str, container: dict, namespace: str = "default") -> tuple[PodRef, str]:
    pod = PodRef(runtime.sandbox, namespace, name, uuid.uuid4().hex)
    address = runtime.pod_sandbox_ensure(pod, hostname=name, volumes=[])
    assert runtime.image_pull(container["image"], policy="IfNotPresent").ok
    runtime.container_start(pod, container, restart=0, env={}, volumes=[])
    return pod, address


def service(name: str, ports: list[dict], namespace: str = "default", **spec) -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"ports": ports, **spec}}


def fetch(runtime: DockerRuntime, pod: PodRef, url: str, seconds: int = 5) -> tuple[int | None, str]:
    """wget from the pod's client container (busybox's `wget -T` crashes: `timeout` bounds it)."""
    return runtime.command_run(pod, "client", ["timeout", str(seconds), "wget", "-qO-", url], timeout=seconds + 5)


def test_a_service_spreads_requests_over_its_ready_endpoints_by_every_name(sandbox):
    _, address_a = pod_run(sandbox, "web-a", WEB)
    _, address_b = pod_run(sandbox, "web-b", WEB)
    client, _ = pod_run(sandbox, "client", CLIENT)
    spec = service("web", [{"name": "http", "port": 8080, "targetPort": 80, "protocol": "TCP"}])

    proxy = sandbox.service_sync(sandbox.sandbox, spec, [(address_a, 80), (address_b, 80)])

    assert proxy
    answers = []
    for url in ["http://web:8080/"] * 4 + ["http://web.default.svc.cluster.local:8080/"] * 2:
        code, body = fetch(sandbox, client, url)
        assert code == 0, body
        answers.append("web-a" if "Hello from web-a" in body else "web-b" if "Hello from web-b" in body else body)
    assert set(answers) == {"web-a", "web-b"}
    assert answers[:4] in (["web-a", "web-b"] * 2, ["web-b", "web-a"] * 2)  # round-robin
    for name in ("web.default", "web.default.svc"):
        assert fetch(sandbox, client, f"http://{name}:8080/")[0] == 0


def test_endpoints_follow_readiness_and_an_empty_service_refuses(sandbox):
    _, address_a = pod_run(sandbox, "web-a", WEB)
    _, address_b = pod_run(sandbox, "web-b", WEB)
    client, _ = pod_run(sandbox, "client", CLIENT)
    spec = service("web", [{"port": 80, "targetPort": 80, "protocol": "TCP"}])
    sandbox.service_sync(sandbox.sandbox, spec, [(address_a, 80), (address_b, 80)])

    sandbox.service_sync(sandbox.sandbox, spec, [(address_b, 80)])

    bodies = [fetch(sandbox, client, "http://web/")[1] for _ in range(3)]
    assert all("Hello from web-b" in body for body in bodies), bodies

    sandbox.service_sync(sandbox.sandbox, spec, [])

    code, _ = fetch(sandbox, client, "http://web/")
    assert code != 0


def test_pods_of_another_sandbox_cannot_reach_a_service(sandbox, other_sandbox):
    _, address = pod_run(sandbox, "web-a", WEB)
    proxy = sandbox.service_sync(sandbox.sandbox, service("web", [{"port": 8080, "targetPort": 80}]), [(address, 80)])
    stranger, _ = pod_run(other_sandbox, "client", CLIENT)

    by_name = fetch(other_sandbox, stranger, "http://web.default.svc.cluster.local:8080/", seconds=2)
    by_address = fetch(other_sandbox, stranger, f"http://{proxy}:8080/", seconds=2)
    to_the_pod = fetch(other_sandbox, stranger, f"http://{address}/", seconds=2)

    assert by_name[0] != 0
    assert by_address[0] != 0
    assert to_the_pod[0] != 0


def test_a_service_in_another_namespace_answers_to_its_qualified_names(sandbox):
    _, address = pod_run(sandbox, "api-1", WEB, namespace="backend")
    client, _ = pod_run(sandbox, "client", CLIENT)
    sandbox.service_sync(sandbox.sandbox, service("api", [{"port": 80}], namespace="backend"), [(address, 80)])

    assert "Hello from api-1" in fetch(sandbox, client, "http://api.backend/")[1]
    assert "Hello from api-1" in fetch(sandbox, client, "http://api.backend.svc.cluster.local/")[1]
    assert fetch(sandbox, client, "http://api/", seconds=6)[0] != 0  # the bare name is the client's namespace only


def test_a_multi_port_service_routes_each_port_to_its_named_endpoints(sandbox):
    _, address = pod_run(sandbox, "web-a", WEB)
    client, _ = pod_run(sandbox, "client", CLIENT)
    ports = [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "alt", "port": 8081, "targetPort": 80}]

    sandbox.service_sync(sandbox.sandbox, service("web", ports), [(address, 80, "http"), (address, 80, "alt")])

    assert "Hello from web-a" in fetch(sandbox, client, "http://web/")[1]
    assert "Hello from web-a" in fetch(sandbox, client, "http://web:8081/")[1]


def test_changed_ports_replace_the_proxy_and_removal_forgets_the_names(sandbox):
    _, address = pod_run(sandbox, "web-a", WEB)
    client, _ = pod_run(sandbox, "client", CLIENT)
    sandbox.service_sync(sandbox.sandbox, service("web", [{"port": 80}]), [(address, 80)])
    sandbox.service_sync(sandbox.sandbox, service("web", [{"port": 9090, "targetPort": 80}]), [(address, 80)])

    assert "Hello from web-a" in fetch(sandbox, client, "http://web:9090/")[1]
    assert sandbox.service_list(sandbox.sandbox) == [("default", "web")]

    assert sandbox.service_remove(sandbox.sandbox, "default", "web") is True

    assert sandbox.service_list(sandbox.sandbox) == []
    assert fetch(sandbox, client, "http://web:9090/", seconds=6)[0] != 0
    assert sandbox.service_remove(sandbox.sandbox, "default", "web") is False


def test_a_headless_service_gets_no_proxy(sandbox):
    _, address = pod_run(sandbox, "web-a", WEB)

    assert (
        sandbox.service_sync(sandbox.sandbox, service("web", [{"port": 80}], clusterIP="None"), [(address, 80)]) == ""
    )
    assert sandbox._inspect_own(proxy_container_name(sandbox.sandbox, "default", "web")) is None


def test_endpoints_are_matched_to_service_ports_by_name_or_number():
    spec = service(
        "web", [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "m", "port": 9, "targetPort": 9100}]
    )

    backends = service_port_backends(spec, [("10.0.0.1", 8080), ("10.0.0.2", 9100), ("10.0.0.3", 7, "m")])

    assert backends == {80: [("10.0.0.1", 8080)], 9: [("10.0.0.2", 9100), ("10.0.0.3", 7)]}
