import copy
from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers import daemonset
from clusters.controllers.actions import Create, Delete, Event, Patch, ref
from clusters.controllers.state import ClusterState
from tests.unit.controllers import world
from tests.unit.controllers.world import stamp

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_node(name: str, labels: dict | None = None, taints: list | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints} if taints else {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def make_daemon_set(**template_spec) -> dict:
    spec = {
        "containers": [{"name": "agent", "image": "fluentd:1.16"}],
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        **template_spec,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "agent",
            "namespace": "kube-system",
            "uid": "uid-agent",
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": stamp(NOW),
        },
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
    }


class World(world.World):
    """The shared world; a scheduler binds pods to the node their affinity names, and a kubelet
    runs them and finishes graceful deletions."""

    def __init__(self, *objects: dict, now: datetime = NOW):
        super().__init__(*objects, now=now)

    def pods_by_node(self) -> dict[str, str]:
        return {
            p["spec"]["nodeName"]: p["metadata"]["labels"]["controller-revision-hash"]
            for p in self.pods()
            if p["spec"].get("nodeName")
        }

    def daemon_set(self) -> dict:
        return self.get("DaemonSet", "agent", "kube-system")

    def kubelet(self) -> None:
        """Bind pending pods where their affinity points, run them Ready, finish deletions."""
        for pod in self.pods():
            if pod["metadata"].get("deletionTimestamp"):
                self.kubelet_done(pod)
                continue
            if not pod["spec"].get("nodeName"):
                terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                pod["spec"]["nodeName"] = terms["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
            if pod["status"]["phase"] == "Pending":
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp(self.now)}],
                }

    def settle(self, limit: int = 40) -> list:
        """Controller and kubelet take turns until the controller has nothing left to do."""
        done = []
        for _ in range(limit):
            actions = daemonset.plan(self.state(), now=self.now)
            if not actions:
                return done
            done += actions
            self.apply(actions)
            self.kubelet()
        raise AssertionError(f"no convergence: still planning {actions}")


def status_of(world: World) -> dict:
    return world.daemon_set()["status"]


# --- placing pods ----------------------------------------------------------------------------


def test_it_creates_a_pod_bound_to_each_node_through_node_affinity():
    ds = make_daemon_set()
    actions = daemonset.plan(ClusterState.of([ds, make_node("node-1")]), now=NOW)
    [create] = [a for a in actions if isinstance(a, Create)]
    pod = create.body
    revision = daemonset.template_hash(ds["spec"]["template"])
    assert pod["metadata"]["generateName"] == "agent-"
    assert pod["metadata"]["name"].startswith("agent-")
    assert pod["metadata"]["labels"] == {"app": "agent", "controller-revision-hash": revision}
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": "agent",
            "uid": "uid-agent",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "nodeName" not in pod["spec"]
    assert pod["spec"]["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}
                ]
            }
        }
    }
    assert pod["spec"]["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert pod["spec"]["containers"] == ds["spec"]["template"]["spec"]["containers"]
    assert Event(
        ref(ds), "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", source="daemonset-controller"
    ) in (actions)
    assert actions[-1] == Patch(
        "apps/v1",
        "DaemonSet",
        "kube-system",
        "agent",
        {
            "status": {
                "currentNumberScheduled": 0,
                "numberMisscheduled": 0,
                "desiredNumberScheduled": 1,
                "numberReady": 0,
                "observedGeneration": 1,
                "numberUnavailable": 1,
            }
        },
        subresource="status",
        resource_version="1",
    )


def test_it_follows_nodes_coming_and_going():
    world = World(make_daemon_set(), make_node("node-1"), make_node("node-2"))
    world.settle()
    assert sorted(world.pods_by_node()) == ["node-1", "node-2"]
    status = status_of(world)
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"]) == (2, 2, 2)
    assert (status["numberAvailable"], status["updatedNumberScheduled"]) == (2, 2)
    assert "numberUnavailable" not in status
    assert daemonset.plan(world.state(), now=world.now) == []

    world.put(make_node("node-3"))
    world.settle()
    assert sorted(world.pods_by_node()) == ["node-1", "node-2", "node-3"]
    assert status_of(world)["desiredNumberScheduled"] == 3

    [on_node_3] = [p for p in world.pods() if p["spec"]["nodeName"] == "node-3"]
    world.remove("Node", "node-3")
    actions = world.settle()
    name = on_node_3["metadata"]["name"]
    # Its kubelet is gone with the node: no grace period to wait for.
    assert Delete("v1", "Pod", "kube-system", name, uid=on_node_3["metadata"]["uid"], grace_period=0) in actions
    assert Event(
        ref(world.daemon_set()), "SuccessfulDelete", f"Deleted pod: {name}", source="daemonset-controller"
    ) in (actions)
    assert sorted(world.pods_by_node()) == ["node-1", "node-2"]
    assert status_of(world)["desiredNumberScheduled"] == 2


def test_node_selectors_and_affinity_pick_the_nodes():
    ds = make_daemon_set(
        nodeSelector={"disk": "ssd"},
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["b"]}]}]
                }
            }
        },
    )
    world = World(
        ds,
        make_node("node-1", {"disk": "ssd", "zone": "a"}),
        make_node("node-2", {"disk": "hdd", "zone": "a"}),
        make_node("node-3", {"disk": "ssd", "zone": "b"}),
    )
    world.settle()
    assert list(world.pods_by_node()) == ["node-1"]
    # The node stops matching: its pod goes.
    world.objects[("Node", "", "node-1")]["metadata"]["labels"]["disk"] = "hdd"
    world.settle()
    assert world.pods() == []
    assert status_of(world)["desiredNumberScheduled"] == 0


@pytest.mark.parametrize(
    ("taint", "should_run", "may_stay"),
    [
        ({"key": "dedicated", "value": "db", "effect": "NoSchedule"}, False, True),
        ({"key": "dedicated", "value": "db", "effect": "NoExecute"}, False, False),
        ({"key": "dedicated", "value": "db", "effect": "PreferNoSchedule"}, True, True),
        ({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, True, True),
        ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}, True, True),
        ({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}, False, True),
    ],
)
def test_taints_the_daemon_pod_does_not_tolerate_keep_it_off(taint, should_run, may_stay):
    node = make_node("node-1", taints=[taint])
    assert daemonset.node_should_run_daemon_pod(node, make_daemon_set()) == (should_run, may_stay)


def test_tolerations_in_the_template_count():
    node = make_node("node-1", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    tolerant = make_daemon_set(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db"}])
    assert daemonset.node_should_run_daemon_pod(node, tolerant) == (True, True)
    host_network = make_daemon_set(hostNetwork=True)
    unavailable = make_node(
        "node-1", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
    )
    assert daemonset.node_should_run_daemon_pod(unavailable, host_network) == (True, True)


def test_a_new_taint_keeps_the_running_pod_but_a_no_execute_one_evicts_it():
    world = World(make_daemon_set(), make_node("node-1"))
    world.settle()
    world.objects[("Node", "", "node-1")]["spec"]["taints"] = [{"key": "maintenance", "effect": "NoSchedule"}]
    world.settle()
    assert list(world.pods_by_node()) == ["node-1"]
    assert status_of(world)["numberMisscheduled"] == 1
    world.objects[("Node", "", "node-1")]["spec"]["taints"] = [{"key": "maintenance", "effect": "NoExecute"}]
    world.settle()
    assert world.pods() == []


def test_a_failed_daemon_pod_is_deleted_with_a_warning_and_replaced():
    world = World(make_daemon_set(), make_node("node-1"))
    world.settle()
    [pod] = world.pods()
    pod["status"] = {"phase": "Failed"}
    actions = daemonset.plan(world.state(), now=world.now)
    name = pod["metadata"]["name"]
    assert actions[:3] == [
        Event(
            ref(world.daemon_set()),
            "FailedDaemonPod",
            f"Found failed daemon pod kube-system/{name} on node node-1, will try to kill it",
            "Warning",
            "daemonset-controller",
        ),
        Delete("v1", "Pod", "kube-system", name, uid=pod["metadata"]["uid"]),
        Event(ref(world.daemon_set()), "SuccessfulDelete", f"Deleted pod: {name}", source="daemonset-controller"),
    ]
    world.settle()
    [replacement] = world.pods()
    assert replacement["metadata"]["name"] != name
    assert replacement["status"]["phase"] == "Running"


def test_extra_pods_on_a_node_are_deleted_keeping_the_oldest():
    world = World(make_daemon_set(), make_node("node-1"))
    world.settle()
    [first] = world.pods()
    duplicate = copy.deepcopy(first)
    duplicate["metadata"].update(name="agent-zzzzz", uid="uid-dup", creationTimestamp=stamp(NOW + timedelta(seconds=5)))
    world.put(duplicate)
    actions = world.settle()
    assert [a.name for a in actions if isinstance(a, Delete)] == ["agent-zzzzz"]
    assert [p["metadata"]["name"] for p in world.pods()] == [first["metadata"]["name"]]


# --- rolling updates -------------------------------------------------------------------------


def change_image(world: World, image: str) -> str:
    ds = world.daemon_set()
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = image
    ds["metadata"]["generation"] += 1
    return daemonset.template_hash(ds["spec"]["template"])


def test_a_template_change_rolls_out_one_node_at_a_time():
    world = World(make_daemon_set(), make_node("node-1"), make_node("node-2"), make_node("node-3"))
    world.settle()
    old = daemonset.template_hash(world.daemon_set()["spec"]["template"])
    new = change_image(world, "fluentd:1.17")
    assert new != old
    actions = daemonset.plan(world.state(), now=world.now)
    assert [a.name for a in actions if isinstance(a, Delete)] == [
        p["metadata"]["name"] for p in world.pods() if p["spec"]["nodeName"] == "node-1"
    ]
    assert status_of(world)["updatedNumberScheduled"] == 3
    replaced = []
    for _ in range(20):
        actions = daemonset.plan(world.state(), now=world.now)
        if not actions:
            break
        doomed = {a.name for a in actions if isinstance(a, Delete)}
        replaced += [p["spec"]["nodeName"] for p in world.pods() if p["metadata"]["name"] in doomed]
        world.apply(actions)
        # Never more than one node without an available pod.
        assert (
            sum(1 for p in world.pods() if p["metadata"].get("deletionTimestamp") or p["status"]["phase"] != "Running")
            <= 1
        )
        world.kubelet()
    assert replaced == ["node-1", "node-2", "node-3"]
    assert world.pods_by_node() == {"node-1": new, "node-2": new, "node-3": new}
    status = status_of(world)
    assert (status["updatedNumberScheduled"], status["numberAvailable"], status["observedGeneration"]) == (3, 3, 2)


def test_with_max_surge_the_new_pod_starts_before_the_old_one_goes():
    ds = make_daemon_set()
    ds["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 1}
    world = World(ds, make_node("node-1"), make_node("node-2"))
    world.settle()
    new = change_image(world, "fluentd:1.17")
    actions = daemonset.plan(world.state(), now=world.now)
    [create] = [a for a in actions if isinstance(a, Create)]
    assert not [a for a in actions if isinstance(a, Delete)]
    assert create.body["metadata"]["labels"]["controller-revision-hash"] == new
    world.apply(actions)
    world.kubelet()
    assert len(world.pods()) == 3  # old and new side by side on node-1
    world.settle()
    assert world.pods_by_node() == {"node-1": new, "node-2": new}
    assert len(world.pods()) == 2


def test_on_delete_replaces_pods_only_when_they_are_deleted():
    ds = make_daemon_set()
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    world = World(ds, make_node("node-1"))
    world.settle()
    old = daemonset.template_hash(world.daemon_set()["spec"]["template"])
    new = change_image(world, "fluentd:1.17")
    world.settle()
    assert world.pods_by_node() == {"node-1": old}
    assert "updatedNumberScheduled" not in status_of(world)
    [pod] = world.pods()
    world.apply([Delete("v1", "Pod", "kube-system", pod["metadata"]["name"])])
    world.kubelet()
    world.settle()
    assert world.pods_by_node() == {"node-1": new}


def test_the_template_hash_is_stable_and_follows_the_template():
    template = make_daemon_set()["spec"]["template"]
    assert daemonset.template_hash(template) == daemonset.template_hash(copy.deepcopy(template))
    changed = copy.deepcopy(template)
    changed["metadata"]["labels"]["tier"] = "x"
    assert daemonset.template_hash(changed) != daemonset.template_hash(template)
    assert set(daemonset.template_hash(template)) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_a_daemon_set_being_deleted_is_left_alone():
    ds = make_daemon_set()
    ds["metadata"]["deletionTimestamp"] = stamp(NOW)
    assert daemonset.plan(ClusterState.of([ds, make_node("node-1")]), now=NOW) == []


# --- why, in words ---------------------------------------------------------------------------


def whys(actions: list, kind: type) -> list[str]:
    return [a.why for a in actions if isinstance(a, kind)]


def test_its_creates_say_which_nodes_lack_a_pod_in_one_sentence():
    world = World(make_daemon_set(), make_node("node-1"), make_node("node-2"))
    actions = daemonset.plan(world.state(), now=world.now)
    assert whys(actions, Create) == ["DaemonSet agent wants a pod on every node: node-1 and node-2 have none"] * 2
    world.settle()
    world.put(make_node("node-3", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
    world.put(make_node("node-4"))
    assert whys(daemonset.plan(world.state(), now=world.now), Create) == [
        "DaemonSet agent wants a pod on 3 of 4 nodes: node-4 has none"
    ]


def test_its_deletes_say_why_each_pod_goes():
    world = World(make_daemon_set(), make_node("node-1"), make_node("node-2"))
    world.settle()
    failed, _ = world.pods()
    failed["status"] = {"phase": "Failed"}
    assert whys(daemonset.plan(world.state(), now=world.now), Delete) == [
        f"DaemonSet agent's pod {failed['metadata']['name']} on node-1 failed: deleting it"
    ]
    world.settle()
    world.remove("Node", "node-2")
    assert whys(daemonset.plan(world.state(), now=world.now), Delete) == [
        "node-2 is gone: deleting DaemonSet agent's pod there at once"
    ]
    world.settle()
    change_image(world, "fluentd:1.17")
    assert whys(daemonset.plan(world.state(), now=world.now), Delete) == [
        "DaemonSet agent rolls out a new pod template: replacing the old pod on node-1 (maxUnavailable 1)"
    ]


def test_its_status_says_how_many_nodes_have_a_ready_pod():
    world = World(make_daemon_set(), make_node("node-1"), make_node("node-2"))
    world.settle()
    world.put(make_node("node-3"))
    status = next(a for a in daemonset.plan(world.state(), now=world.now) if isinstance(a, Patch))
    assert status.why == "DaemonSet agent has a pod on 2 of 3 nodes, 2 ready: status updated"
