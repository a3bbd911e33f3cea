"""A sandbox's nodes on two worker hosts, on one machine: two Docker engines (the shared one and
a private one started here, tests/chaos/private.py) and two workers, each bound to one engine and
serving the nodes TUTOR_NODE_HOSTS gives its host (TUTOR_WORKER_HOST). A Deployment's pods run on
both engines, with addresses from each host's own share of the sandbox's pod range, and the two
engines' bridges of the sandbox are linked into one network (VXLAN over the loopback interface, each
host's links on a UDP port of its own): a Service answers from pods of both hosts, to pods of both
hosts. When one host's worker stops, its node turns NotReady and its pods are replaced on the other host; when it
comes back, its node is Ready again and what its engine still ran of the evicted pods is removed.

The stack runs on PostgreSQL and Redis, as a deployment across hosts would, with short node
timings (heartbeat every second, NotReady after 4 s of silence, eviction 3 s later)."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from clusters import host_links, node_hosts
from clusters.host_links import DEVICE_PREFIX
from clusters.runtime import links
from clusters.runtime.docker import SUBNET_POOL, sandbox_network_name
from tests import services
from tests.chaos.cluster import FAST_LOOP, Cluster, ready
from tests.chaos.private import PrivateDockerd
from tests.kubectl.conftest import Kubectl
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

NODE_HOSTS = "node-1=host-a,node-2=host-b"
MAPPING = node_hosts.node_hosts_parse(NODE_HOSTS)
SHORT_NODE_TIMINGS = {
    "TUTOR_NODE_HEARTBEAT_SECONDS": "1",
    "TUTOR_NODE_GRACE_SECONDS": "4",
    "TUTOR_POD_EVICTION_SECONDS": "3",
}
PODS = "/api/v1/namespaces/default/pods"
REPLICAS = 4
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": REPLICAS,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1},
                    }
                ],
            },
        },
    },
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
}


# A private engine runs with --iptables=false (tests/chaos/private.py), and so does not accept the
# frames its bridges forward between their own ports, as an engine on a host of its own does for
# each of its networks; the shared engine's FORWARD policy (DROP) would then drop host-b's pod
# traffic. This rule stands in for host-b's own: frames staying on one bridge, within the pool.
BRIDGED_IN_POOL = ["-m", "physdev", "--physdev-is-bridged", "-s", SUBNET_POOL, "-d", SUBNET_POOL, "-j", "ACCEPT"]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def engine_b(tmp_path_factory):
    """The second host's engine: its own socket, data and exec roots, pid file, default bridge
    and address pool, none overlapping the shared engine's; stopped by its PID afterwards."""
    services.docker_engine()
    private = PrivateDockerd(
        tmp_path_factory.mktemp("engine-b"),
        bridge="ktmulti0",
        bridge_address="172.31.253.1/24",
        name="multi",
        address_pool="base=172.30.0.0/16,size=24",
    )
    private.start()
    subprocess.run(["iptables", "-I", "DOCKER-USER", *BRIDGED_IN_POOL], check=True, capture_output=True)
    try:
        yield private
    finally:
        subprocess.run(["iptables", "-D", "DOCKER-USER", *BRIDGED_IN_POOL], check=False, capture_output=True)
        private.remove()


def start_host_worker(stack: Stack, host: str, docker_host: str = ""):
    """A worker as a host starts it: only the default queue on its command line; its host's
    queues come from TUTOR_WORKER_HOST and TUTOR_NODE_HOSTS."""
    celery = str(Path(sys.executable).with_name("celery"))
    env = {"TUTOR_WORKER_HOST": host, **({"DOCKER_HOST": docker_host} if docker_host else {})}
    args = ["-A", "tutor", "worker", "--loglevel", "INFO", "--pool", "threads", "--concurrency", "4"]
    process = stack.start(f"worker-{host}", [celery, *args, "--queues", "celery", "--hostname", f"{host}@%h"], env=env)
    wait_for(lambda: " ready." in stack.log(f"worker-{host}"), timeout=90, what=f"the worker of {host}")
    return process


@pytest.fixture(scope="module")
def link_ports() -> tuple[int, int]:
    """Both hosts are this machine: their links meet on the loopback interface, on ports of their own."""
    return free_udp_port(), free_udp_port()


@pytest.fixture(scope="module")
def cluster(engine_b, link_ports, tmp_path_factory):
    root = tmp_path_factory.mktemp("multihost-stack")
    scratch = ScratchPostgres(services.postgres_url())
    links_setting = f"host-a=127.0.0.1:{link_ports[0]},host-b=127.0.0.1:{link_ports[1]}"
    settings = {
        "TUTOR_RUNTIME": "docker",
        "TUTOR_NODE_HOSTS": NODE_HOSTS,
        "TUTOR_HOST_LINKS": links_setting,
        "TUTOR_HOST_ENGINES": f"host-b={engine_b.host}",  # for the web's kubectl exec into host-b's pods
        **FAST_LOOP,
        **SHORT_NODE_TIMINGS,
    }
    stack = Stack(root=root, database_url=scratch.url, redis_url=services.redis_url(), extra_env=settings)
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        assert stack.manage("migrate", "--noinput").returncode == 0
        created = stack.manage("sandbox", "create", "--owner", "alice", "--runtime", "docker")
        assert created.returncode == 0, created.stderr[-3000:]
        port = free_port()
        config = stack.manage("sandbox", "kubeconfig", "--owner", "alice", "--server", f"http://127.0.0.1:{port}")
        assert config.returncode == 0, config.stderr
        server = next(line.split("server:", 1)[1].strip() for line in config.stdout.splitlines() if "server:" in line)
        prefix = server.split(f":{port}", 1)[1]
        (root / "kubeconfig").write_text(config.stdout)
        running = Cluster(stack=stack, port=port, prefix=prefix, sandbox=prefix.split("/")[2], database_url=scratch.url)
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", "--port", str(port)])
        wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn")
        start_host_worker(stack, "host-a")
        start_host_worker(stack, "host-b", engine_b.host)
        stack.start_beat()
        yield running
    finally:
        stack.stop_all()
        removed = stack.manage("sandbox", "clean-engine")  # the shared engine; engine_b goes whole
        scratch.drop()
        # host-b's links stay on the bridges a stopped engine leaves behind: remove them by their port.
        for device in Path("/sys/class/net").iterdir():
            if device.name.startswith(DEVICE_PREFIX) and device.name.endswith(tuple(f"{p:04x}" for p in link_ports)):
                links.link_remove(device.name)
        assert removed.returncode == 0, removed.stderr


def engine(host: str) -> docker.DockerClient:
    return docker.DockerClient(base_url=host or "unix:///var/run/docker.sock", timeout=30)


def pod_sandboxes(client: docker.DockerClient, sandbox: str) -> dict[str, str]:
    """The running pod sandboxes (pause containers) of the sandbox on one engine: pod uid → node."""
    filters = {"label": [f"kube-tutor.sandbox={sandbox}", "io.kubernetes.docker.type=podsandbox"]}
    found = client.api.containers(filters=filters)
    return {c["Labels"]["io.kubernetes.pod.uid"]: c["Labels"]["kube-tutor.node"] for c in found}


def proxies(client: docker.DockerClient, sandbox: str) -> list[str]:
    filters = {"label": [f"kube-tutor.sandbox={sandbox}", "kube-tutor.role=service-proxy"]}
    return [c["Names"][0] for c in client.api.containers(filters=filters)]


def network_ip_range(client: docker.DockerClient, sandbox: str) -> tuple[str, str]:
    config = client.api.inspect_network(sandbox_network_name(sandbox))["IPAM"]["Config"][0]
    return config["Subnet"], config.get("IPRange", "")


def network_bridge(client: docker.DockerClient, sandbox: str) -> str:
    return links.bridge_name(client.api.inspect_network(sandbox_network_name(sandbox))["Id"])


def ready_pods(cluster: Cluster) -> list[dict]:
    return [p for p in cluster.items(f"{PODS}?labelSelector=app%3Dweb") if ready(p)]


def node_ready(cluster: Cluster, node: str) -> str:
    conditions = cluster.get(f"/api/v1/nodes/{node}")["status"]["conditions"]
    return next(c["status"] for c in conditions if c["type"] == "Ready")


def test_a_deployment_spreads_over_two_engines_and_fails_over_when_a_host_stops(cluster, engine_b, link_ports):
    stack = cluster.stack
    # Each worker consumes its host's queue and the kubelet queues of its host's nodes only.
    assert ".> kubelet.node-1" in stack.log("worker-host-a")
    assert ".> kubelet.node-2" not in stack.log("worker-host-a")
    assert ".> kubelet.node-2" in stack.log("worker-host-b")
    assert ".> host.host-b" in stack.log("worker-host-b")

    # Both nodes Ready first: the scheduler places pods on Ready nodes only, and a loaded machine
    # may not have had host-b's first lease renewal land yet when the workers say they are ready.
    for node in ("node-1", "node-2"):
        wait_for(lambda node=node: node_ready(cluster, node) == "True", timeout=60, what=f"{node} Ready")
    assert cluster.call("POST", "/apis/apps/v1/namespaces/default/deployments", DEPLOYMENT).status == 201
    assert cluster.call("POST", "/api/v1/namespaces/default/services", SERVICE).status == 201
    began = time.monotonic()

    def spread() -> list[dict] | None:
        found = ready_pods(cluster)
        if len(found) == REPLICAS and {p["spec"]["nodeName"] for p in found} == {"node-1", "node-2"}:
            return found
        return None

    try:
        pods = wait_for(spread, timeout=300, interval=0.5, what=f"{REPLICAS} ready pods on both nodes")
    except AssertionError as missed:  # say where the pods are and how the nodes stand
        placed = [(p["metadata"]["name"], p["spec"].get("nodeName"), ready(p)) for p in cluster.items(PODS)]
        nodes = {node: node_ready(cluster, node) for node in ("node-1", "node-2")}
        raise AssertionError(f"{missed}; pods (name, node, ready): {placed}; nodes Ready: {nodes}") from missed
    print(f"\nmultihost: {REPLICAS} pods ready on two engines in {time.monotonic() - began:.1f} s")

    # What runs where: each engine runs the pods of its host's node, and nothing else's.
    shared, private = engine(""), engine(engine_b.host)
    try:
        expected = {p["metadata"]["uid"]: p["spec"]["nodeName"] for p in pods}
        on_a = {uid: node for uid, node in pod_sandboxes(shared, cluster.sandbox).items() if uid in expected}
        on_b = {uid: node for uid, node in pod_sandboxes(private, cluster.sandbox).items() if uid in expected}
        assert set(on_a.values()) == {"node-1"}
        assert set(on_b.values()) == {"node-2"}
        assert {**on_a, **on_b} == expected

        # Pod addresses are unique across the sandbox: each engine hands out its host's share.
        subnet, range_a = network_ip_range(shared, cluster.sandbox)
        subnet_b, range_b = network_ip_range(private, cluster.sandbox)
        assert subnet == subnet_b
        assert range_a == node_hosts.pod_ip_range(subnet, MAPPING, "host-a")
        assert range_b == node_hosts.pod_ip_range(subnet, MAPPING, "host-b")
        addresses = [p["status"]["podIP"] for p in pods]
        assert len(set(addresses)) == REPLICAS
        for pod in pods:
            share = range_a if pod["spec"]["nodeName"] == "node-1" else range_b
            assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(share), pod["metadata"]["name"]

        # The Service's Endpoints list the pods of both hosts; its proxy runs on the first node's host.
        def endpoint_nodes() -> set[str]:
            subsets = cluster.get("/api/v1/namespaces/default/endpoints/web").get("subsets") or [{}]
            return {a.get("nodeName") for s in subsets for a in s.get("addresses") or []}

        wait_for(lambda: endpoint_nodes() == {"node-1", "node-2"}, timeout=60, what="endpoints on both nodes")
        wait_for(lambda: proxies(shared, cluster.sandbox), timeout=60, what="the Service's proxy on host-a")
        assert proxies(private, cluster.sandbox) == []

        # Each engine's bridge of the sandbox carries its host's link, both of the subnet's VXLAN id.
        vni = host_links.vxlan_id(subnet)
        for client, port in ((shared, link_ports[0]), (private, link_ports[1])):
            device = host_links.device_name(vni, port)
            assert links.bridge_links(network_bridge(client, cluster.sandbox)) == [device]
    finally:
        shared.close()
        private.close()

    # The Service's proxy runs on host-a; from a pod on host-b (kubectl exec reaches it through host-b's
    # engine, TUTOR_HOST_ENGINES) its ClusterIP answers, in turn from every ready pod, those of both
    # hosts. (By its ClusterIP: host-b's engine does not resolve the Service's name, docs/operations.md.)
    kubectl = Kubectl(kubeconfig=stack.root / "kubeconfig", home=stack.root, namespace="default")
    node_1 = sorted(p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == "node-1")
    node_2 = sorted(p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == "node-2")
    cluster_ip = cluster.get("/api/v1/namespaces/default/services/web")["spec"]["clusterIP"]
    answers = []
    for _ in range(2 * REPLICAS):
        # busybox's wget -T crashes: `timeout` bounds it instead
        fetched = kubectl("exec", node_2[0], "--", "timeout", "5", "wget", "-qO-", f"http://{cluster_ip}", timeout=60)
        answers.append(fetched.stdout.split("Hello from ", 1)[1].split("<", 1)[0])
    assert set(answers) == {p["metadata"]["name"] for p in pods}, answers
    # And from a pod on host-a, a pod on host-b straight at its address.
    address_b = next(p["status"]["podIP"] for p in pods if p["metadata"]["name"] == node_2[0])
    fetched = kubectl("exec", node_1[0], "--", "timeout", "5", "wget", "-qO-", f"http://{address_b}", timeout=60)
    assert f"Hello from {node_2[0]}<" in fetched.stdout, fetched.stdout

    # host-b's worker stops: node-2 goes silent, turns NotReady, and its pods are replaced on node-1.
    on_node_2 = {p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == "node-2"}
    worker_b = stack.process("worker-host-b")
    stopped = time.monotonic()
    stack.stop(worker_b)
    wait_for(lambda: node_ready(cluster, "node-2") != "True", timeout=120, interval=0.2, what="node-2 NotReady")
    not_ready = time.monotonic() - stopped

    def replaced() -> bool:
        found = ready_pods(cluster)
        names = {p["metadata"]["name"] for p in found}
        return len(found) == REPLICAS and {p["spec"]["nodeName"] for p in found} == {"node-1"} and not names & on_node_2

    wait_for(replaced, timeout=180, interval=0.2, what=f"{REPLICAS} ready pods on node-1 only")
    failover = time.monotonic() - stopped
    assert node_ready(cluster, "node-1") == "True"
    figures = {"node_not_ready_seconds": round(not_ready, 1), "failover_seconds": round(failover, 1)}
    print(f"multihost failover (heartbeat 1 s, grace 4 s, eviction 3 s): {json.dumps(figures)}")

    # As on a partitioned node, the evicted pods still run on host-b's engine: nobody there stops
    # them. When host-b's worker comes back, node-2 is Ready again and its kubelet removes them.
    evicted = {p["metadata"]["uid"] for p in pods if p["spec"]["nodeName"] == "node-2"}
    private = engine(engine_b.host)
    try:
        assert evicted <= set(pod_sandboxes(private, cluster.sandbox))
        start_host_worker(stack, "host-b", engine_b.host)
        wait_for(lambda: node_ready(cluster, "node-2") == "True", timeout=120, what="node-2 Ready again")
        wait_for(
            lambda: not evicted & set(pod_sandboxes(private, cluster.sandbox)),
            timeout=120,
            what="the evicted pods' containers removed from host-b's engine",
        )
    finally:
        private.close()
    artifacts = Path(__file__).resolve().parents[2] / "var" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "multihost.json").write_text(json.dumps(figures) + "\n")
