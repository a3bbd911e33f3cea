"""Services: endpoints follow readiness (both runtimes); in Docker mode a request through the
Service's name, from another pod, reaches the ready endpoints' targetPort and spreads over them."""

import json
import textwrap
import urllib.request

import pytest

from tests.orchestrator.helpers import DEPLOYMENT, SLEEPER, eventually, pods

FLAKY = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: flaky}
    spec:
      selector: {app: flaky}
      ports: [{port: 80}]
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: flaky, labels: {app: flaky}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "touch /tmp/ready; sleep 6; rm /tmp/ready; sleep 3600"]
        readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
    """
)

SERVICE = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 8080, targetPort: http}]
    """
)

CLIENT = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: client}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        env: [{name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
        command:
        - sh
        - -c
        - |
          for i in $(seq 1 12); do timeout 5 wget -qO- http://web:8080/ | grep -o 'Hello from [a-z0-9-]*'; done
          page=$(timeout 5 wget -qO- http://web.$NS.svc.cluster.local:8080/)
          echo "$page" | grep -o 'Hello from [a-z0-9-]*' | sed 's/^/fqdn /'
    """
)


def addresses(kubectl, name: str) -> tuple[list[str], list[str]]:
    """The ready and not-ready addresses of a Service's Endpoints."""
    found = kubectl("get", "endpoints", name, "-o", "json", check=False)
    if found.returncode != 0:
        return [], []
    subsets = json.loads(found.stdout).get("subsets") or []
    ready = [a["ip"] for s in subsets for a in s.get("addresses") or []]
    not_ready = [a["ip"] for s in subsets for a in s.get("notReadyAddresses") or []]
    return ready, not_ready


def test_endpoints_follow_readiness(kubectl):
    kubectl("apply", "-f", "-", input=FLAKY)
    [ip] = eventually(lambda: addresses(kubectl, "flaky")[0])
    assert pods(kubectl, "app=flaky")[0]["status"]["podIP"] == ip
    # The probe starts failing once the file is gone: the address moves to notReadyAddresses.
    assert eventually(lambda: addresses(kubectl, "flaky") == ([], [ip]), timeout=30)


def test_a_request_through_the_service_reaches_more_than_one_ready_endpoint(kubectl, runtime):
    if runtime != "docker":
        pytest.skip("the simulated runtime has no network inside containers")
    kubectl("apply", "-f", "-", input=DEPLOYMENT + "---\n" + SERVICE)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    names = {p["metadata"]["name"] for p in pods(kubectl)}
    eventually(lambda: len(addresses(kubectl, "web")[0]) == 3)
    kubectl("apply", "-f", "-", input=CLIENT)

    def finished():
        phase = json.loads(kubectl("get", "pod", "client", "-o", "json").stdout)["status"].get("phase")
        return phase in ("Succeeded", "Failed") and phase

    assert eventually(finished, timeout=90) == "Succeeded"
    lines = kubectl("logs", "client").stdout.splitlines()
    answered = [line.rsplit(" ", 1)[-1] for line in lines if line.startswith("Hello from ")]
    assert len(answered) == 12
    assert set(answered) <= names
    assert len(set(answered)) > 1, f"every request reached the same pod: {answered}"
    assert any(line.startswith("fqdn Hello from ") for line in lines)


def test_a_request_to_the_cluster_ip_from_a_pod_reaches_an_endpoint(kubectl, runtime):
    if runtime != "docker":
        pytest.skip("ClusterIPs are real addresses on the Docker runtime's sandbox network")
    kubectl("apply", "-f", "-", input=DEPLOYMENT + "---\n" + SERVICE + "---\n" + SLEEPER)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    eventually(lambda: len(addresses(kubectl, "web")[0]) == 3)
    kubectl("wait", "--for=condition=Ready", "pod/sleeper", "--timeout=90s", timeout=120)
    cluster_ip = json.loads(kubectl("get", "service", "web", "-o", "json").stdout)["spec"]["clusterIP"]
    names = {p["metadata"]["name"] for p in pods(kubectl)}

    def answered():
        """the ClusterIP answers from inside the sandbox network"""
        got = kubectl(
            "exec", "sleeper", "--", "timeout", "5", "wget", "-qO-", f"http://{cluster_ip}:8080/", check=False
        )
        return got.returncode == 0 and got.stdout

    page = eventually(answered, timeout=30)
    assert any(f"Hello from {name}" in page for name in names), page


def test_a_node_port_service_answers_on_this_hosts_loopback(kubectl, runtime):
    if runtime != "docker":
        pytest.skip("node ports are published on the host by the Docker runtime")
    node_port_service = SERVICE.replace("spec:\n", "spec:\n  type: NodePort\n", 1)
    kubectl("apply", "-f", "-", input=DEPLOYMENT + "---\n" + node_port_service)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    eventually(lambda: len(addresses(kubectl, "web")[0]) == 3)
    service = json.loads(kubectl("get", "service", "web", "-o", "json").stdout)
    node_port = service["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767

    def answered():
        """the node port answers on 127.0.0.1"""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=5) as response:
                return response.read().decode()
        except OSError:
            return ""

    assert "Hello from web-" in eventually(answered, timeout=30)
    taken = kubectl("create", "service", "nodeport", "other", "--tcp=80", f"--node-port={node_port}", check=False)
    assert taken.returncode == 1
    assert "provided port is already allocated" in taken.stderr
