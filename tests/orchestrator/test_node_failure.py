"""A node whose kubelet stops: it turns NotReady, its pods are evicted and replaced on the node
that is left, and when its kubelet comes back it is Ready again and cleans up what it still ran.

The stack runs with short timings (heartbeat every second, NotReady after 4 s of silence,
eviction 3 s later); a kubelet stops when no worker consumes its node's queue any more."""

import json

import pytest

from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import (
    DEPLOYMENT,
    SHORT_NODE_TIMINGS,
    containers_without_pod,
    eventually,
    node_ready,
    pods,
    ready,
)
from tests.system.stack import wait_for


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    with running_cluster(
        tmp_path_factory.mktemp(f"node-failure-{runtime}"), runtime, env=SHORT_NODE_TIMINGS
    ) as running:
        yield running


def test_a_silent_node_goes_not_ready_and_its_pods_are_replaced_elsewhere(cluster, kubectl, runtime):
    stack, _ = cluster
    kubectl("apply", "-f", "-", input=DEPLOYMENT.replace("replicas: 3", "replicas: 4"))
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
    on_node_2 = {p["metadata"]["name"] for p in pods(kubectl) if p["spec"]["nodeName"] == "node-2"}
    assert on_node_2, "the scheduler spreads the replicas over both nodes"

    # node-2's kubelet stops: the only worker left does not consume its queue.
    stack.stop(stack.process("worker"))
    stack.start_worker(name="worker-without-node-2", queues="celery,kubelet.node-1")
    wait_for(lambda: " ready." in stack.log("worker-without-node-2"), timeout=60, what="the worker")

    eventually(lambda: node_ready(kubectl, "node-2") == "Unknown", timeout=30)

    def replaced():
        """four ready pods, all on node-1, none of them node-2's"""
        current = [p for p in pods(kubectl) if ready(p)]
        names = {p["metadata"]["name"] for p in current}
        return len(current) == 4 and {p["spec"]["nodeName"] for p in current} == {"node-1"} and not names & on_node_2

    eventually(replaced, timeout=60)
    events = kubectl("get", "events", "-A", "-o", "json")
    reasons = {e["reason"] for e in json.loads(events.stdout)["items"]}
    assert {"NodeNotReady", "TaintManagerEviction"} <= reasons

    if runtime == "docker":
        # As on a partitioned node, the evicted pods' containers still run: nobody there stops them.
        assert containers_without_pod(stack, node="node-2")
    # The kubelet comes back: the node is Ready again and nothing of the evicted pods is left.
    stack.start_worker(name="worker-with-node-2", queues="kubelet.node-2")
    eventually(lambda: node_ready(kubectl, "node-2") == "True", timeout=30)
    if runtime == "docker":
        eventually(lambda: not containers_without_pod(stack, node="node-2"), timeout=60)
