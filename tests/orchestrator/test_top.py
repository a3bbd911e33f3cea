"""`kubectl top` with the real kubectl, on both runtimes: pods and nodes as metrics-server would
show them once the kubelets have measured them, and `kubectl describe node`'s allocated resources."""

from __future__ import annotations

import json
import textwrap

from clusters.objects.quantity import quantity_from_json
from tests.orchestrator.helpers import DEPLOYMENT, eventually, pods, ready

WORKLOADS = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: burner, labels: {app: load}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "while true; do :; done"]
        resources: {requests: {cpu: 100m, memory: 16Mi}, limits: {cpu: 200m, memory: 32Mi}}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: sleeper, labels: {app: load}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "sleep 3600"]
    """
)


RESERVED = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: reserved}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "sleep 3600"]
        resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
    """
)


def top(kubectl, *args: str) -> list[list[str]] | None:
    """The rows `kubectl top <args>` prints (headers included), or None while it fails."""
    result = kubectl("top", *args, check=False)
    return [line.split() for line in result.stdout.splitlines()] if result.returncode == 0 else None


def millicores(text: str) -> int:
    assert text.endswith("m"), text
    return int(text[:-1])


def mebibytes(text: str) -> int:
    assert text.endswith("Mi"), text
    return int(text[:-2])


def measured_pods(kubectl, names: set[str], *args: str) -> dict[str, tuple[str, ...]]:
    """`kubectl top pods <args>` (CPU, memory) by pod name, once every pod of `names` is in it."""

    def rows():
        """every pod measured"""
        found = top(kubectl, "pods", *args)
        by_name = {row[0]: tuple(row[1:]) for row in found[1:]} if found else {}
        return by_name if names <= set(by_name) else None

    return eventually(rows, timeout=150, interval=2)


def test_top_pods_shows_a_deployments_pods_once_measured(kubectl, runtime):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    eventually(lambda: len([p for p in pods(kubectl) if ready(p)]) == 3, timeout=120)
    names = {p["metadata"]["name"] for p in pods(kubectl)}
    usage = measured_pods(kubectl, names)
    for cpu, memory in usage.values():
        assert millicores(cpu) > 0
        assert memory.endswith("Mi")  # whole MiB, rounded down: Docker's small web server shows 0Mi
    # The API itself has every byte: metrics-server's PodMetrics, as kubectl reads them.
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{kubectl.namespace}/pods"
    listed = json.loads(kubectl("get", "--raw", path).stdout)
    assert listed["kind"] == "PodMetricsList"
    by_name = {item["metadata"]["name"]: item for item in listed["items"]}
    assert set(by_name) == names
    for item in by_name.values():
        [container] = item["containers"]
        assert container["name"] == "web"
        assert quantity_from_json(container["usage"]["cpu"]).value > 0
        assert quantity_from_json(container["usage"]["memory"]).value > 0
        assert item["window"].endswith("s")
    if runtime == "simulated":
        assert set(usage.values()) == {("2m", "8Mi")}  # an idle web server, as modelled

    header, *rows = top(kubectl, "pods", "-l", "app=web", "--containers")
    assert header == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert {(row[0], row[1]) for row in rows} == {(name, "web") for name in names}

    header, *rows = top(kubectl, "pods", "-A")
    assert header == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert {(row[0], row[1]) for row in rows} >= {(kubectl.namespace, name) for name in names}

    name = sorted(names)[0]
    header, row = top(kubectl, "pod", name)
    assert (header, row[0]) == (["NAME", "CPU(cores)", "MEMORY(bytes)"], name)


def test_top_nodes_lists_both_nodes_with_their_share_of_allocatable(kubectl):
    def both():
        """both nodes measured"""
        found = top(kubectl, "nodes")
        rows = {row[0]: row[1:] for row in found[1:]} if found else {}
        measured = all("<unknown>" not in row for row in rows.values())
        return rows if set(rows) == {"node-1", "node-2"} and measured else None

    rows = eventually(both, timeout=90, interval=2)
    for cpu, cpu_share, memory, memory_share in rows.values():
        assert millicores(cpu) > 0  # the node's own system, at least
        assert mebibytes(memory) > 0
        assert cpu_share.endswith("%")
        assert memory_share.endswith("%")


def test_a_cpu_burner_shows_more_cpu_than_an_idle_sleeper(kubectl, runtime):
    kubectl("apply", "-f", "-", input=WORKLOADS)
    # Just made: neither is measured yet, and kubectl says so.
    early = kubectl("top", "pods", "-l", "app=load", check=False)
    assert (early.returncode, early.stderr.strip()) == (1, "error: metrics not available yet")
    missing = kubectl("top", "pod", "sleeper", check=False)
    assert f'podmetrics.metrics.k8s.io "{kubectl.namespace}/sleeper" not found' in missing.stderr

    usage = measured_pods(kubectl, {"burner", "sleeper"}, "-l", "app=load")
    burner, sleeper = millicores(usage["burner"][0]), millicores(usage["sleeper"][0])
    assert burner > sleeper
    assert burner > 100  # most of its 200m limit
    if runtime == "simulated":
        assert (usage["burner"], usage["sleeper"]) == (("200m", "1Mi"), ("0m", "1Mi"))


def test_describe_node_shows_what_its_pods_request_against_allocatable(kubectl):
    kubectl("apply", "-f", "-", input=RESERVED)
    node = eventually(lambda: kubectl.json("get", "pod", "reserved")["spec"].get("nodeName"))
    described = kubectl("describe", "node", node).stdout
    assert "Non-terminated Pods:" in described
    pod_line = next(line.split() for line in described.splitlines() if "reserved" in line.split())
    assert pod_line[:4] == [kubectl.namespace, "reserved", "250m", "(12%)"]
    allocated = described.split("Allocated resources:", 1)[1].splitlines()
    cpu = next(line.split() for line in allocated if line.split()[:1] == ["cpu"])
    memory = next(line.split() for line in allocated if line.split()[:1] == ["memory"])
    # What this pod asks for, with any other pod's on the node, against its 2 CPUs and 4Gi.
    assert millicores(cpu[1]) >= 250
    assert millicores(cpu[3]) >= 500
    assert mebibytes(memory[1]) >= 64
    assert mebibytes(memory[3]) >= 128
