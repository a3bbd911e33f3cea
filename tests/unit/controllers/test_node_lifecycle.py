from datetime import UTC, datetime, timedelta

from clusters.controllers import node_lifecycle
from clusters.controllers.actions import Delete, Event, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import stamp

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def node(heartbeat_age: float, status: str = "True", taints: list | None = None) -> dict:
    beat = stamp(NOW - timedelta(seconds=heartbeat_age))
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "uid": "n1"},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": status,
                    "reason": "KubeletReady",
                    "lastHeartbeatTime": beat,
                    "lastTransitionTime": beat,
                }
            ]
        },
    }


def pod(name: str = "web-1", tolerations: list | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"u-{name}"},
        "spec": {"nodeName": "node-1", "tolerations": tolerations or []},
    }


TAINT = {"key": node_lifecycle.UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW - timedelta(seconds=70))}


def test_a_node_with_a_fresh_heartbeat_needs_nothing():
    assert node_lifecycle.plan(ClusterState.of([node(5), pod()]), now=NOW) == []


def test_a_silent_node_turns_unknown_and_is_tainted_unreachable():
    actions = node_lifecycle.plan(ClusterState.of([node(41)]), now=NOW)
    status, taint, event = actions
    assert isinstance(status, Patch)
    assert status.subresource == "status"
    [ready] = status.patch["status"]["conditions"]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert taint.patch == {
        "spec": {"taints": [{"key": node_lifecycle.UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW)}]}
    }
    assert isinstance(event, Event)
    assert event.reason == "NodeNotReady"


def test_pods_on_an_unreachable_node_are_evicted_after_the_timeout_unless_tolerated():
    state = ClusterState.of(
        [
            node(100, "Unknown", [TAINT]),
            pod("web-1"),
            pod("agent", [{"key": node_lifecycle.UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]),
        ]
    )
    assert node_lifecycle.plan(state, now=NOW, eviction=timedelta(seconds=300)) == []
    actions = node_lifecycle.plan(state, now=NOW, eviction=timedelta(seconds=60))
    deletes = [a for a in actions if isinstance(a, Delete)]
    assert deletes == [Delete("v1", "Pod", "default", "web-1", uid="u-web-1", grace_period=0)]


def test_the_taint_goes_when_the_kubelet_reports_ready_again():
    [untaint] = node_lifecycle.plan(ClusterState.of([node(2, "True", [TAINT])]), now=NOW)
    assert untaint.patch == {"spec": {"taints": None}}


def test_it_wakes_up_when_a_heartbeat_would_go_stale_or_an_eviction_falls_due():
    assert node_lifecycle.next_wakeup(ClusterState.of([node(10)]), now=NOW) == NOW + timedelta(seconds=31)
    tainted = ClusterState.of([node(100, "Unknown", [TAINT])])
    assert node_lifecycle.next_wakeup(tainted, now=NOW, eviction=timedelta(seconds=300)) == NOW + timedelta(seconds=230)


def test_a_renewed_lease_keeps_a_node_ready_whose_status_is_old():
    """The kubelet writes the Node only every few minutes; its lease says it lives."""
    state = ClusterState.of([node(200), pod()])
    assert node_lifecycle.plan(state, now=NOW, leases={"node-1": NOW - timedelta(seconds=5)}) == []
    # The node monitor notices an expired lease; the sandbox does not wake itself for it.
    assert node_lifecycle.next_wakeup(state, now=NOW, leases={"node-1": NOW - timedelta(seconds=5)}) is None
    stale = {"node-1": NOW - timedelta(seconds=45)}
    assert [a.reason for a in node_lifecycle.plan(state, now=NOW, leases=stale) if isinstance(a, Event)] == [
        "NodeNotReady"
    ]


# --- why, in words ---------------------------------------------------------------------------


def test_a_silent_node_says_how_long_it_has_been_silent_and_by_which_sign():
    status, taint, _ = node_lifecycle.plan(
        ClusterState.of([node(100)]), now=NOW, leases={"node-1": NOW - timedelta(seconds=41)}
    )
    assert status.why == "node-1 has not renewed its lease for 41 s: marking it NotReady"
    assert taint.why == "node-1 has not renewed its lease for 41 s: tainting it unreachable"
    status, _, _ = node_lifecycle.plan(ClusterState.of([node(50)]), now=NOW)
    assert status.why == "node-1 has not posted its status for 50 s: marking it NotReady"


def test_an_eviction_and_a_returning_node_say_why():
    state = ClusterState.of([node(100, "Unknown", [TAINT]), pod("web-1")])
    [evicted] = [
        a for a in node_lifecycle.plan(state, now=NOW, eviction=timedelta(seconds=60)) if isinstance(a, Delete)
    ]
    assert evicted.why == "node-1 has been unreachable for 70 s, pod web-1 tolerates 60 s: evicting it"
    [untainted] = node_lifecycle.plan(ClusterState.of([node(5, "True", [TAINT])]), now=NOW)
    assert untainted.why == "node-1 is Ready again: removing its unreachable taint"


def ready_pod(name: str, ready: str = "True") -> dict:
    body = pod(name)
    body["metadata"]["resourceVersion"] = "7"
    body["status"] = {
        "phase": "Running",
        "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": ready}],
    }
    return body


def test_the_ready_pods_of_an_unknown_node_are_marked_not_ready_as_upstream_marks_them():
    unknown = node(70, status="Unknown", taints=[TAINT])
    state = ClusterState.of([unknown, ready_pod("web-1"), ready_pod("web-2", ready="False")])
    [marked] = [a for a in node_lifecycle.plan(state, now=NOW, eviction=timedelta(seconds=300)) if isinstance(a, Patch)]
    assert (marked.name, marked.subresource, marked.resource_version) == ("web-1", "status", "7")
    assert marked.patch["status"]["conditions"] == [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "False", "lastTransitionTime": stamp(NOW)},
    ]
    assert marked.why == "node-1 is unreachable: pod web-1 cannot be known to be ready"


def test_the_pods_of_a_ready_node_keep_their_readiness():
    assert node_lifecycle.plan(ClusterState.of([node(5), ready_pod("web-1")]), now=NOW) == []
