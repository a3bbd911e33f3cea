"""The ReplicationController planner: the ReplicaSet planner's logic for the older kind, with a
selector that is a plain map of labels, Events from `replication-controller`, and a status
without `terminatingReplicas`. Whole runs use the world of `test_replicaset` (its scheduler and
kubelets over the shared world)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from clusters.controllers import garbage_collector, replicaset, replicationcontroller
from clusters.controllers.actions import Create, Delete, Event, Patch
from clusters.controllers.pods import format_time, is_ready
from clusters.controllers.state import ClusterState
from tests.unit.controllers.test_replicaset import T0, TEMPLATE, World, a_pod
from tests.unit.controllers.world import controller_of

INVOLVED = {
    "apiVersion": "v1",
    "kind": "ReplicationController",
    "namespace": "default",
    "name": "web",
    "uid": "uid-web",
}


def replication_controller(*, replicas: int = 3, selector: dict | None = None, template: dict = TEMPLATE) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "uid-web",
            "resourceVersion": "7",
            "generation": 1,
            "creationTimestamp": format_time(T0 - timedelta(hours=1)),
        },
        "spec": {"replicas": replicas, "selector": selector or {"app": "web"}, "template": copy.deepcopy(template)},
    }


def plan(*objects: dict, now: datetime = T0) -> list:
    return replicationcontroller.plan(ClusterState.of(objects), now=now)


def event(reason: str, message: str) -> Event:
    return Event(INVOLVED, reason, message, source="replication-controller")


def test_it_creates_the_missing_pods_under_its_own_name():
    rc = replication_controller()
    actions = plan(rc)
    creates = [a for a in actions if isinstance(a, Create)]
    names = [c.body["metadata"]["name"] for c in creates]
    assert len(set(names)) == 3
    assert all(c.body["metadata"]["ownerReferences"] == [controller_of(rc)] for c in creates)
    assert creates[0].body["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
    assert [a for a in actions if isinstance(a, Event)] == [
        event("SuccessfulCreate", f"Created pod: {n}") for n in names
    ]
    # A ReplicationController's status has no terminatingReplicas.
    assert actions[-1] == Patch(
        "v1",
        "ReplicationController",
        "default",
        "web",
        {"status": {"replicas": 0, "observedGeneration": 1}},
        subresource="status",
        resource_version="7",
    )


def test_every_label_of_its_selector_must_match():
    rc = replication_controller(replicas=2, selector={"app": "web", "tier": "front"})
    rc["spec"]["template"]["metadata"]["labels"] = {"app": "web", "tier": "front"}
    matching = a_pod("web-match", labels={"app": "web", "tier": "front"})
    partly = a_pod("web-partly", labels={"app": "web"})
    strayed = a_pod("web-stray", owner=rc, labels={"app": "web", "tier": "back"})
    actions = plan(rc, matching, partly, strayed)
    owner_patches = {
        a.name: a.patch["metadata"]["ownerReferences"] for a in actions if isinstance(a, Patch) and a.kind == "Pod"
    }
    assert owner_patches == {"web-match": [controller_of(rc)], "web-stray": None}  # adopted, released
    assert len([a for a in actions if isinstance(a, Create)]) == 1  # one matching pod of two wanted


def test_it_deletes_the_extra_pods_and_says_so():
    rc = replication_controller(replicas=1)
    pods = [a_pod(f"web-{n}", owner=rc) for n in ("aaaaa", "bbbbb", "ccccc")]
    actions = plan(rc, *pods)
    deleted = [a.name for a in actions if isinstance(a, Delete)]
    assert len(deleted) == 2
    assert [a for a in actions if isinstance(a, Event)] == [
        event("SuccessfulDelete", f"Deleted pod: {n}") for n in deleted
    ]


def test_it_leaves_replica_sets_alone_and_the_replica_set_planner_leaves_it_alone():
    rc = replication_controller()
    rs = {**replication_controller(), "apiVersion": "apps/v1", "kind": "ReplicaSet"}
    assert plan(rs) == []
    assert replicaset.plan(ClusterState.of([rc]), now=T0) == []


def test_it_converges_and_follows_its_replicas_down_and_up():
    world = World(replication_controller())
    world.settle([replicationcontroller.plan])
    pods = world.active_pods()
    assert len(pods) == 3
    assert all(is_ready(p) for p in pods)
    assert world.get("ReplicationController", "web")["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }
    for replicas in (1, 3):
        world.apply([Patch("v1", "ReplicationController", "default", "web", {"spec": {"replicas": replicas}})])
        world.settle([replicationcontroller.plan])
        assert len(world.active_pods()) == replicas
        assert world.get("ReplicationController", "web")["status"]["readyReplicas"] == replicas
    reasons = [e.reason for e in world.events]
    assert (reasons.count("SuccessfulCreate"), reasons.count("SuccessfulDelete")) == (5, 2)


def test_its_pods_are_collected_once_it_is_deleted():
    world = World(replication_controller(replicas=2))
    world.settle([replicationcontroller.plan])
    world.apply([Delete("v1", "ReplicationController", "default", "web", propagation="Background")])
    assert world.get("ReplicationController", "web") is None
    collected = garbage_collector.plan(world.state(), now=world.now)
    assert sorted(a.name for a in collected if isinstance(a, Delete)) == sorted(
        p["metadata"]["name"] for p in world.active_pods()
    )
