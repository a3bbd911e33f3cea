"""A worker killed with SIGKILL in the middle of a rollout, and a new one started: the cluster
converges as if nothing had happened — the rollout completes, no ReplicaSet ever runs more pods
than it should, and (Docker) no container is left behind for a pod that no longer exists.

The stack is this module's own, since the test kills its worker."""

import signal

import pytest

from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import DEPLOYMENT, containers_without_pod, eventually, names, pods, ready, watching
from tests.system.stack import wait_for


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    with running_cluster(tmp_path_factory.mktemp(f"worker-crash-{runtime}"), runtime) as running:
        yield running


def test_a_worker_killed_mid_rollout_is_replaced_and_the_cluster_converges(cluster, kubectl, runtime):
    stack, _ = cluster
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    with watching(kubectl, "pods", "-l", "app=web", events=True) as seen:
        kubectl("set", "image", "deployment/web", "web=nginx:1.28")
        eventually(lambda: len(names(kubectl, "replicasets", "app=web")) == 2, timeout=30)
        worker = stack.process("worker")
        assert worker.poll() is None
        stack.stop(worker, sig=signal.SIGKILL)

        stack.start_worker(name="worker-after-crash")
        wait_for(lambda: " ready." in stack.log("worker-after-crash"), timeout=60, what="the new worker")
        result = kubectl("rollout", "status", "deployment/web", "--timeout=150s", timeout=180)
        assert 'deployment "web" successfully rolled out' in result.stdout

        def converged():
            """three ready pods, all of the new template, and nothing else"""
            current = pods(kubectl)
            images = {p["spec"]["containers"][0]["image"] for p in current}
            return len(current) == 3 and images == {"nginx:1.28"} and all(ready(p) for p in current)

        eventually(converged, timeout=90)
        history = seen()
    # Never more live pods for one ReplicaSet than the Deployment's 3 replicas, nor more in all
    # than 3 + maxSurge (25 %, rounded up: 1), at any point of the watch.
    live: dict[str, dict] = {}
    for event in history:
        pod = event["object"]
        if event["type"] == "DELETED" or pod["metadata"].get("deletionTimestamp"):
            live.pop(pod["metadata"]["name"], None)
        else:
            live[pod["metadata"]["name"]] = pod
        owners = [r["name"] for p in live.values() for r in p["metadata"].get("ownerReferences", [])]
        assert all(owners.count(owner) <= 3 for owner in owners), sorted(live)
        assert len(live) <= 4, sorted(live)
    new_set = {r["name"] for p in pods(kubectl) for r in p["metadata"]["ownerReferences"]}
    assert len(new_set) == 1
    if runtime == "docker":
        eventually(lambda: not containers_without_pod(stack), timeout=90)
