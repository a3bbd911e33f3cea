"""The fault buttons, end to end: a service call as the page makes it (clusters.faults, in a
process of its own like the web server's), the worker's kubelets and controllers reacting, and
the real kubectl reading the outcome — on both runtimes.

The stack runs with short node timings (heartbeat every second, NotReady after 4 s of silence,
eviction 3 s later) and the fast back-off, as a class would."""

import json
import time

import pytest

from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import (
    DEPLOYMENT,
    SHORT_NODE_TIMINGS,
    containers_without_pod,
    eventually,
    node_ready,
    pod,
    pods,
    ready,
    watching,
)


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    with running_cluster(tmp_path_factory.mktemp(f"faults-{runtime}"), runtime, env=SHORT_NODE_TIMINGS) as running:
        yield running


def fault(stack, call: str) -> str:
    """Evaluate `call` (e.g. `faults.kubelet_stop(sandbox=sandbox, node='node-2')`) on the stack's
    sandbox in a process of its own, as a page would; what it returned, printed."""
    script = (
        "from clusters import faults; from clusters.models import Sandbox; sandbox = Sandbox.objects.get(); "
        f"print({call})"
    )
    done = stack.manage("shell", "--no-imports", "-c", script)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def measured(what: str, since: float) -> None:
    print(f"{what}: {time.monotonic() - since:.1f} s")  # read with -s: the timings of each fault


def test_a_killed_container_is_restarted_by_its_kubelet_and_ready_again(cluster, kubectl, runtime):
    stack, _ = cluster
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    victim = sorted(p["metadata"]["name"] for p in pods(kubectl))[0]

    started = time.monotonic()
    fault(
        stack,
        f"faults.container_kill(sandbox=sandbox, namespace={kubectl.namespace!r}, pod={victim!r}, container='web')",
    )

    def restarted_and_ready():
        """kubectl get pod shows the pod 1/1 Ready, Running, with RESTARTS 1"""
        columns = kubectl("get", "pod", victim, "--no-headers").stdout.split()
        return columns[1:4] == ["1/1", "Running", "1"] and columns

    eventually(restarted_and_ready, timeout=30, interval=0.2)
    measured(f"{runtime}: kill → RESTARTS 1 and Ready", started)
    status = pod(kubectl, victim)["status"]["containerStatuses"][0]
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "Error")
    events = json.loads(
        kubectl("get", "events", "--field-selector", f"involvedObject.name={victim}", "-o", "json").stdout
    )
    reasons = [e["reason"] for e in events["items"]]
    assert "Killing" not in reasons  # the kubelet killed nothing: the container died
    started_events = [e for e in events["items"] if e["reason"] == "Started"]
    assert sum(e.get("count", 1) for e in started_events) == 2  # the first run, and the one after the kill


def test_a_broken_image_stalls_a_rollout_while_the_old_pods_serve(cluster, kubectl, runtime):
    stack, _ = cluster
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    old = {p["metadata"]["name"] for p in pods(kubectl)}

    with watching(kubectl, "pods") as seen:
        started = time.monotonic()
        said = fault(
            stack,
            f"faults.image_break(sandbox=sandbox, namespace={kubectl.namespace!r}, kind='Deployment', name='web')",
        )
        assert (
            said == f'container "web" of Deployment "{kubectl.namespace}/web": image "nginx:1.27" → "nginx-typo:1.27"'
        )

        def reasons_of_new_pods() -> set[str]:
            return {
                status["state"]["waiting"]["reason"]
                for version in seen()
                if version["metadata"]["name"] not in old
                for status in version.get("status", {}).get("containerStatuses", [])
                if "waiting" in status["state"]
            }

        def pull_backing_off():
            """a new pod went ErrImagePull, then ImagePullBackOff"""
            return {"ErrImagePull", "ImagePullBackOff"} <= reasons_of_new_pods()

        eventually(pull_backing_off, timeout=30, interval=0.3)
        measured(f"{runtime}: break → ErrImagePull → ImagePullBackOff", started)
    current = pods(kubectl)
    new = [p for p in current if p["metadata"]["name"] not in old]
    assert len(new) == 1  # the rollout waits for it: maxSurge 1, maxUnavailable 0
    assert new[0]["spec"]["containers"][0]["image"] == "nginx-typo:1.27"
    serving = [p for p in current if p["metadata"]["name"] in old]
    assert len(serving) == 3
    assert all(ready(p) for p in serving)
    stalled = kubectl("rollout", "status", "deployment/web", "--timeout=2s", check=False, timeout=30)
    assert stalled.returncode != 0


def test_a_stopped_kubelets_node_goes_not_ready_its_pods_move_and_it_comes_back(cluster, kubectl, runtime):
    stack, _ = cluster
    kubectl("apply", "-f", "-", input=DEPLOYMENT.replace("replicas: 3", "replicas: 4"))
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    on_node_2 = {p["metadata"]["name"] for p in pods(kubectl) if p["spec"]["nodeName"] == "node-2"}
    assert on_node_2, "the scheduler spreads the replicas over both nodes"

    started = time.monotonic()
    fault(stack, "faults.kubelet_stop(sandbox=sandbox, node='node-2')")
    assert fault(stack, "sorted(faults.kubelets_stopped(sandbox=sandbox))") == "['node-2']"
    eventually(lambda: node_ready(kubectl, "node-2") == "Unknown", timeout=30)
    measured(f"{runtime}: stop → node-2 NotReady", started)

    def replaced():
        """four ready pods, all on node-1, none of them node-2's"""
        current = [p for p in pods(kubectl) if ready(p)]
        names = {p["metadata"]["name"] for p in current}
        return len(current) == 4 and {p["spec"]["nodeName"] for p in current} == {"node-1"} and not names & on_node_2

    eventually(replaced, timeout=60)
    measured(f"{runtime}: stop → node-2's pods replaced on node-1", started)
    reasons = {e["reason"] for e in json.loads(kubectl("get", "events", "-A", "-o", "json").stdout)["items"]}
    assert {"NodeNotReady", "TaintManagerEviction"} <= reasons
    if runtime == "docker":
        # A stopped kubelet stops no container: the evicted pods' containers still run on node-2.
        assert containers_without_pod(stack, node="node-2")

    started = time.monotonic()
    fault(stack, "faults.kubelet_start(sandbox=sandbox, node='node-2')")
    eventually(lambda: node_ready(kubectl, "node-2") == "True", timeout=30)
    measured(f"{runtime}: start → node-2 Ready", started)

    def untainted():
        """node-2 no longer tainted unreachable"""
        taints = json.loads(kubectl("get", "node", "node-2", "-o", "json").stdout)["spec"].get("taints", [])
        return not [t for t in taints if t["key"] == "node.kubernetes.io/unreachable"]

    eventually(untainted, timeout=30)
    if runtime == "docker":
        eventually(lambda: not containers_without_pod(stack, node="node-2"), timeout=60)  # its kubelet cleans up
