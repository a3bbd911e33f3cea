"""The ReplicaSet planner: exact plans for one pass, and whole runs in a tiny in-test world."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from clusters.controllers import replicaset
from clusters.controllers.actions import Create, Delete, Event, Patch
from clusters.controllers.pods import format_time, is_active, is_ready, parse_time
from clusters.controllers.state import ClusterState
from tests.unit.controllers import world
from tests.unit.controllers.world import controller_of

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "restartPolicy": "Always"},
}
GENERATED = re.compile(r"^web-[bcdfghjklmnpqrstvwxz2456789]{5}$")


# --- a tiny API server, scheduler and kubelet -----------------------------------------------------


class World(world.World):
    """The shared world, with a scheduler and kubelets (`kubelet()`) that stop a deleted pod's
    containers `stop_seconds` after they were asked to."""

    def __init__(self, *objects: dict, now: datetime = T0, stop_seconds: int = 0) -> None:
        super().__init__(*objects, now=now)
        self.stop_seconds = stop_seconds

    def active_pods(self) -> list[dict]:
        return [p for p in self.all("Pod") if is_active(p)]

    def create(self, body: dict) -> dict:
        if body["kind"] in ("ReplicaSet", "Deployment"):
            assert "status" not in body, "a controller leaves the status of what it creates to the server"
        return super().create(body)

    def kubelet(self, ready: Callable[[dict], bool] = lambda pod: True) -> bool:
        """One round of scheduler and kubelets: bind pending pods to two nodes and start them,
        make running pods Ready or not as `ready(pod)` says, and finish the deletion of
        terminating pods once their containers stopped. Whether anything changed."""
        changed = False
        for number, pod in enumerate(self.all("Pod")):
            since = format_time(self.now)
            if pod["metadata"].get("deletionTimestamp"):
                grace = timedelta(seconds=pod["metadata"]["deletionGracePeriodSeconds"])
                asked = parse_time(pod["metadata"]["deletionTimestamp"]) - grace
                if self.now >= asked + timedelta(seconds=self.stop_seconds):
                    self.kubelet_done(pod)
                    changed = True
                continue
            if pod["status"].get("phase") == "Pending":
                pod["spec"]["nodeName"] = pod["spec"].get("nodeName") or f"node-{number % 2 + 1}"
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": since},
                        {"type": "Ready", "status": "False", "lastTransitionTime": since},
                    ],
                    "containerStatuses": [{"name": "web", "ready": False, "restartCount": 0}],
                }
                pod["metadata"]["resourceVersion"] = self.next_version()
                changed = True
            if is_ready(pod) != ready(pod):
                flag = ready(pod)
                for condition in pod["status"]["conditions"]:
                    if condition["type"] == "Ready":
                        condition.update(status="True" if flag else "False", lastTransitionTime=since)
                pod["status"]["containerStatuses"][0]["ready"] = flag
                pod["metadata"]["resourceVersion"] = self.next_version()
                changed = True
        return changed

    def settle(
        self,
        planners: list[Callable],
        *,
        ready: Callable[[dict], bool] = lambda pod: True,
        check: Callable[[World], None] = lambda world: None,
        steady: tuple[Callable, ...] = (),
        rounds: int = 60,
        step: timedelta = timedelta(seconds=1),
    ) -> int:
        """Run controllers and kubelets in turn, checking `check` after every write, until nothing
        changes; returns the number of rounds. Fails when it does not settle. A `steady` planner
        must plan nothing right after its own actions are applied."""
        for number in range(1, rounds + 1):
            planned = False
            for planner in planners:
                actions = planner(self.state(), now=self.now)
                self.apply(actions)
                check(self)
                if planner in steady:
                    assert planner(self.state(), now=self.now) == [], "planned again after its own writes"
                planned = planned or bool(actions)
            changed = self.kubelet(ready)
            check(self)
            stopping = any(p["metadata"].get("deletionTimestamp") for p in self.all("Pod"))
            if not planned and not changed and not stopping:
                for planner in planners:
                    assert planner(self.state(), now=self.now) == [], "a settled world plans nothing"
                return number
            self.now += step
        raise AssertionError(f"did not settle within {rounds} rounds")


# --- objects ----------------------------------------------------------------------------------


def replica_set(name="web", *, replicas=3, min_ready_seconds=0, template=TEMPLATE, **metadata) -> dict:
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": copy.deepcopy(template)}
    if min_ready_seconds:
        spec["minReadySeconds"] = min_ready_seconds
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "generation": 1,
            "creationTimestamp": format_time(T0 - timedelta(hours=1)),
            **metadata,
        },
        "spec": spec,
    }


def a_pod(
    name: str,
    *,
    owner: dict | None = None,
    labels: dict | None = None,
    node: str | None = "node-1",
    phase: str = "Running",
    ready: bool | None = True,
    ready_since: datetime = T0 - timedelta(minutes=30),
    created: datetime = T0 - timedelta(minutes=40),
    restarts: int = 0,
    deleting: bool = False,
    annotations: dict | None = None,
) -> dict:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "3",
            "creationTimestamp": format_time(created),
            "labels": labels if labels is not None else {"app": "web"},
        },
        "spec": copy.deepcopy(TEMPLATE["spec"]),
        "status": {"phase": phase, "containerStatuses": [{"name": "web", "restartCount": restarts}]},
    }
    if node:
        pod["spec"]["nodeName"] = node
    if ready is not None:
        pod["status"]["conditions"] = [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": format_time(ready_since)}
        ]
    if owner is not None:
        pod["metadata"]["ownerReferences"] = [controller_of(owner)]
    if deleting:
        pod["metadata"]["deletionTimestamp"] = format_time(T0)
    if annotations:
        pod["metadata"]["annotations"] = annotations
    return pod


def settled_status(rs: dict, count: int) -> dict:
    """The status of `count` ready pods, as the API serialises it (zero counts left out)."""
    counts = {"fullyLabeledReplicas": count, "readyReplicas": count, "availableReplicas": count} if count else {}
    return {
        "replicas": count,
        **counts,
        "terminatingReplicas": 0,
        "observedGeneration": rs["metadata"]["generation"],
    }


def with_status(rs: dict, status: dict) -> dict:
    return {**rs, "status": status}


def status_patch(rs: dict, patch: dict) -> Patch:
    return Patch(
        "apps/v1",
        "ReplicaSet",
        "default",
        rs["metadata"]["name"],
        {"status": patch},
        subresource="status",
        resource_version=rs["metadata"]["resourceVersion"],
    )


def rs_event(rs: dict, reason: str, message: str) -> Event:
    involved = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "namespace": "default", "name": "web", "uid": "uid-web"}
    assert rs["metadata"]["name"] == "web"
    return Event(involved, reason, message, source="replicaset-controller")


def plan(*objects: dict, now: datetime = T0) -> list:
    return replicaset.plan(ClusterState.of(objects), now=now)


# --- one pass, exactly ----------------------------------------------------------------------------


def test_it_creates_the_missing_pods_from_the_template():
    rs = replica_set(annotations={"deployment.kubernetes.io/revision": "1"})
    actions = plan(rs)

    names = [a.body["metadata"]["name"] for a in actions if isinstance(a, Create)]
    assert len(names) == 3
    assert all(GENERATED.match(name) for name in names), names
    assert len(set(names)) == 3
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": "web-",
                "name": name,
                "namespace": "default",
                "labels": {"app": "web"},
                "ownerReferences": [controller_of(rs)],
            },
            "spec": TEMPLATE["spec"],
        }
        for name in names
    ]
    assert actions == [
        Create(pods[0]),
        rs_event(rs, "SuccessfulCreate", f"Created pod: {names[0]}"),
        Create(pods[1]),
        rs_event(rs, "SuccessfulCreate", f"Created pod: {names[1]}"),
        Create(pods[2]),
        rs_event(rs, "SuccessfulCreate", f"Created pod: {names[2]}"),
        status_patch(rs, {"replicas": 0, "terminatingReplicas": 0, "observedGeneration": 1}),
    ]


def test_the_same_state_and_time_give_the_same_plan():
    rs = replica_set()
    assert plan(rs) == plan(rs)
    assert plan(rs) != plan(rs, now=T0 + timedelta(seconds=1)), "names derive from the time of the pass"


def test_generated_names_skip_names_already_taken():
    rs = replica_set()
    first = replicaset.generated_names(rs, count=1, taken=set(), now=T0)
    second = replicaset.generated_names(rs, count=1, taken=set(first), now=T0)
    assert first != second
    assert GENERATED.match(second[0])


def test_it_plans_nothing_when_the_pods_and_status_are_right():
    rs = replica_set()
    pods = [a_pod(f"web-{n}", owner=rs) for n in ("aaaaa", "bbbbb", "ccccc")]
    assert plan(with_status(rs, settled_status(rs, 3)), *pods) == []


def test_it_writes_only_the_status_fields_that_changed():
    rs = replica_set()
    pods = [a_pod("web-aaaaa", owner=rs), a_pod("web-bbbbb", owner=rs), a_pod("web-ccccc", owner=rs, ready=False)]
    stale = with_status(rs, settled_status(rs, 3))
    assert plan(stale, *pods) == [status_patch(rs, {"readyReplicas": 2, "availableReplicas": 2})]


def test_available_replicas_honour_min_ready_seconds():
    rs = replica_set(min_ready_seconds=60)
    pods = [
        a_pod("web-aaaaa", owner=rs, ready_since=T0 - timedelta(seconds=61)),
        a_pod("web-bbbbb", owner=rs, ready_since=T0 - timedelta(seconds=60)),
        a_pod("web-ccccc", owner=rs, ready_since=T0 - timedelta(seconds=5)),
    ]
    assert plan(rs, *pods) == [
        status_patch(
            rs,
            {
                "replicas": 3,
                "fullyLabeledReplicas": 3,
                "readyReplicas": 3,
                "availableReplicas": 1,
                "terminatingReplicas": 0,
                "observedGeneration": 1,
            },
        )
    ]


def test_fully_labeled_replicas_count_pods_with_every_template_label():
    template = {**TEMPLATE, "metadata": {"labels": {"app": "web", "tier": "front"}}}
    rs = replica_set(template=template, replicas=2)
    pods = [a_pod("web-aaaaa", owner=rs, labels={"app": "web", "tier": "front"}), a_pod("web-bbbbb", owner=rs)]
    [patch] = plan(rs, *pods)
    assert patch.patch["status"]["fullyLabeledReplicas"] == 1


def test_finished_and_terminating_pods_do_not_count_and_are_replaced():
    rs = replica_set(replicas=2)
    pods = [
        a_pod("web-aaaaa", owner=rs),
        a_pod("web-done1", owner=rs, phase="Succeeded", ready=False),
        a_pod("web-fail1", owner=rs, phase="Failed", ready=False),
        a_pod("web-going", owner=rs, deleting=True),
    ]
    actions = plan(rs, *pods)
    [create] = [a for a in actions if isinstance(a, Create)]
    assert create.body["metadata"]["ownerReferences"] == [controller_of(rs)]
    assert actions[-1] == status_patch(
        rs,
        {
            "replicas": 1,
            "fullyLabeledReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "terminatingReplicas": 1,
            "observedGeneration": 1,
        },
    )


def test_it_adopts_an_orphan_pod_that_matches_its_selector():
    rs = replica_set(replicas=1)
    orphan = a_pod("handmade")
    assert plan(with_status(rs, settled_status(rs, 1)), orphan) == [
        Patch(
            "v1",
            "Pod",
            "default",
            "handmade",
            {"metadata": {"ownerReferences": [controller_of(rs)]}},
            resource_version="3",
        )
    ]


def test_it_releases_an_owned_pod_that_no_longer_matches_and_replaces_it():
    rs = replica_set(replicas=1)
    relabelled = a_pod("web-debug", owner=rs, labels={"app": "debug"})
    actions = plan(with_status(rs, settled_status(rs, 1)), relabelled)
    assert actions[0] == Patch(
        "v1", "Pod", "default", "web-debug", {"metadata": {"ownerReferences": None}}, resource_version="3"
    )
    assert [type(a) for a in actions[1:]] == [Create, Event, Patch]


def test_it_leaves_pods_of_another_controller_alone():
    rs = replica_set(replicas=0)
    other = replica_set("other")
    assert plan(with_status(rs, settled_status(rs, 0)), a_pod("other-aaaaa", owner=other)) == []


def test_it_does_not_create_or_delete_while_being_deleted():
    rs = replica_set(replicas=3, deletionTimestamp=format_time(T0))
    pods = [a_pod("web-aaaaa", owner=rs), a_pod("handmade")]
    assert plan(rs, *pods) == [
        status_patch(
            rs,
            {
                "replicas": 1,
                "fullyLabeledReplicas": 1,
                "readyReplicas": 1,
                "availableReplicas": 1,
                "terminatingReplicas": 0,
                "observedGeneration": 1,
            },
        )
    ]


def test_one_pass_creates_at_most_a_burst_of_pods():
    actions = plan(replica_set(replicas=600))
    assert sum(isinstance(a, Create) for a in actions) == replicaset.BURST_REPLICAS


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({"node": None, "phase": "Pending", "ready": None}, {}, id="unscheduled-before-scheduled"),
        pytest.param({"phase": "Pending", "ready": None}, {}, id="pending-before-running"),
        pytest.param({"phase": "Unknown", "ready": None}, {}, id="unknown-before-running"),
        pytest.param({"ready": False}, {}, id="not-ready-before-ready"),
        pytest.param(
            {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-5"}}, {}, id="lower-deletion-cost"
        ),
        pytest.param({"node": "node-2"}, {"node": "node-3"}, id="doubled-up-before-alone"),
        pytest.param({"ready_since": T0 - timedelta(seconds=10)}, {}, id="ready-more-recently"),
        pytest.param({"ready": False, "restarts": 4}, {"ready": False, "restarts": 1}, id="more-restarts"),
        pytest.param(
            {"ready": False, "created": T0 - timedelta(seconds=20)},
            {"ready": False, "created": T0 - timedelta(hours=3)},
            id="newer-before-older",
        ),
    ],
)
def test_it_deletes_extras_in_upstreams_order(first, second):
    rs = replica_set(replicas=2)
    # A third pod shares node-2 with `first` in the doubled-up case; elsewhere it is just another pod.
    keeper = a_pod("web-zzzzz", owner=rs, node="node-2", created=T0 - timedelta(days=2))
    victim = a_pod("web-yyyyy", owner=rs, **first)
    spared = a_pod("web-aaaaa", owner=rs, **second)
    actions = plan(with_status(rs, settled_status(rs, 3)), keeper, victim, spared)
    assert actions[:2] == [
        Delete("v1", "Pod", "default", "web-yyyyy", uid="uid-web-yyyyy"),
        rs_event(rs, "SuccessfulDelete", "Deleted pod: web-yyyyy"),
    ]


def test_ready_times_within_the_same_power_of_two_tie_and_the_uid_decides():
    # Ready 100 s and 110 s ago fall in the same log2 bucket of nanoseconds: the uid breaks the tie.
    rs = replica_set(replicas=1)
    one = a_pod("web-bbbbb", owner=rs, ready_since=T0 - timedelta(seconds=110), restarts=9)
    two = a_pod("web-aaaaa", owner=rs, ready_since=T0 - timedelta(seconds=100))
    assert replicaset.pods_to_delete([one, two], [one, two], 1, T0) == [two]


def test_it_deletes_every_extra_pod_when_scaled_to_zero():
    rs = replica_set(replicas=0)
    pods = [a_pod("web-aaaaa", owner=rs), a_pod("web-bbbbb", owner=rs)]
    actions = plan(with_status(rs, settled_status(rs, 2)), *pods)
    assert [a for a in actions if isinstance(a, Delete)] == [
        Delete("v1", "Pod", "default", "web-aaaaa", uid="uid-web-aaaaa"),
        Delete("v1", "Pod", "default", "web-bbbbb", uid="uid-web-bbbbb"),
    ]


# --- why, in words ----------------------------------------------------------------------------


def test_its_creates_and_status_say_what_it_wants_and_has():
    rs = replica_set(replicas=3)
    actions = plan(rs, a_pod("web-aaaaa", owner=rs))
    assert {a.why for a in actions if isinstance(a, Create)} == {"ReplicaSet web wants 3 pods, has 1: creating 2"}
    assert actions[-1].why == "ReplicaSet web has 1 pod, 1 ready: status updated"


def test_its_deletes_say_which_pods_go_first_unless_all_go():
    rs = replica_set(replicas=1)
    pods = [a_pod(f"web-{n}", owner=rs) for n in ("aaaaa", "bbbbb", "ccccc")]
    deletes = [a for a in plan(with_status(rs, settled_status(rs, 3)), *pods) if isinstance(a, Delete)]
    assert [a.why for a in deletes] == [
        "ReplicaSet web wants 1 pod, has 3: deleting 2 (the newest and not-ready first)"
    ] * 2
    rs = replica_set(replicas=0)
    deletes = [a for a in plan(with_status(rs, settled_status(rs, 3)), *pods) if isinstance(a, Delete)]
    assert {a.why for a in deletes} == {"ReplicaSet web wants 0 pods, has 3: deleting 3"}


def test_a_pass_held_to_the_burst_says_so():
    creates = [a for a in plan(replica_set(replicas=600)) if isinstance(a, Create)]
    assert creates[0].why == "ReplicaSet web wants 600 pods, has 0: creating 500 (at most 500 a pass)"


def test_adopting_and_releasing_say_the_selector_decided():
    rs = replica_set(replicas=2)
    orphan = a_pod("handmade")
    relabelled = a_pod("web-debug", owner=rs, labels={"app": "debug"})
    adopt, release = plan(with_status(rs, settled_status(rs, 1)), orphan, relabelled)[:2]
    assert adopt.why == "pod handmade matches ReplicaSet web's selector and has no owner: adopting it"
    assert release.why == "pod web-debug no longer matches ReplicaSet web's selector: releasing it"


# --- whole runs -------------------------------------------------------------------------------


def test_a_replica_set_settles_with_ready_pods_and_a_settled_status():
    world = World(replica_set())
    world.settle([replicaset.plan])
    rs = world.get("ReplicaSet", "web")
    pods = world.active_pods()
    assert len(pods) == 3
    assert all(p["status"]["phase"] == "Running" and is_ready(p) for p in pods)
    assert rs["status"] == settled_status(rs, 3)
    assert [e.reason for e in world.events] == ["SuccessfulCreate"] * 3


def test_it_replaces_a_deleted_pod():
    world = World(replica_set())
    world.settle([replicaset.plan])
    before = {p["metadata"]["name"] for p in world.active_pods()}
    victim = sorted(before)[0]
    world.apply([Delete("v1", "Pod", "default", victim)])

    world.settle([replicaset.plan])

    after = {p["metadata"]["name"] for p in world.active_pods()}
    [replacement] = after - before
    assert len(after) == 3
    assert victim not in after
    assert world.events[-1] == rs_event(
        world.get("ReplicaSet", "web"), "SuccessfulCreate", f"Created pod: {replacement}"
    )


def test_scaling_up_and_down_follows_spec_replicas():
    world = World(replica_set())
    world.settle([replicaset.plan])
    rs = world.get("ReplicaSet", "web")
    world.apply([Patch("apps/v1", "ReplicaSet", "default", "web", {"spec": {"replicas": 5}})])
    world.settle([replicaset.plan])
    assert len(world.active_pods()) == 5
    world.apply([Patch("apps/v1", "ReplicaSet", "default", "web", {"spec": {"replicas": 2}})])
    world.settle([replicaset.plan])
    rs = world.get("ReplicaSet", "web")
    assert len(world.active_pods()) == 2
    assert rs["status"] == settled_status(rs, 2) | {"observedGeneration": 3}
    assert [e.reason for e in world.events].count("SuccessfulDelete") == 3
