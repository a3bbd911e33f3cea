"""The garbage collector's planner: dependents follow their owners, in the background, the
foreground, or not at all (orphaned)."""

from __future__ import annotations

import copy
import functools
from datetime import UTC, datetime

from clusters.controllers import garbage_collector
from clusters.controllers.actions import Delete, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import applied, controller_of, stored

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STAMP = "2025-03-01T12:00:00Z"


def obj(api_version, kind, name, *, owners=(), ns="default", finalizers=(), deleting=False, rv="7"):
    metadata = {"name": name, "uid": f"uid-{name}", "resourceVersion": rv}
    if ns:
        metadata["namespace"] = ns
    if owners:
        metadata["ownerReferences"] = [dict(o) for o in owners]
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    if deleting:
        metadata["deletionTimestamp"] = STAMP
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": {}}


def deployment(**kwargs):
    return obj("apps/v1", "Deployment", "web", **kwargs)


def replica_set(owner=None, **kwargs):
    return obj("apps/v1", "ReplicaSet", "web-7d9f", owners=[controller_of(owner)] if owner else (), **kwargs)


def pod(name, owner=None, **kwargs):
    return obj("v1", "Pod", name, owners=[controller_of(owner)] if owner else (), **kwargs)


# --- plans applied as the store would (the shared world) ----------------------------------------


apply = functools.partial(applied, now=NOW)


def names(state: ClusterState) -> list[str]:
    return sorted(o["metadata"]["name"] for items in state.by_kind.values() for o in items)


# --- collecting ----------------------------------------------------------------------------------------


def test_it_deletes_an_object_whose_owner_is_gone():
    gone = replica_set()
    state = ClusterState.of([pod("web-7d9f-a", gone), pod("web-7d9f-b", gone), pod("solo")])

    assert garbage_collector.plan(state, now=NOW) == [
        Delete("v1", "Pod", "default", "web-7d9f-a", uid="uid-web-7d9f-a", propagation="Background"),
        Delete("v1", "Pod", "default", "web-7d9f-b", uid="uid-web-7d9f-b", propagation="Background"),
    ]


def test_it_leaves_objects_whose_owner_exists():
    owner = replica_set()
    state = ClusterState.of([owner, pod("web-7d9f-a", owner)])

    assert garbage_collector.plan(state, now=NOW) == []


def test_it_matches_owners_by_uid_not_by_name():
    old = replica_set()
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "uid-web-7d9f-recreated"
    state = ClusterState.of([new, pod("web-7d9f-a", old)])

    assert garbage_collector.plan(state, now=NOW) == [
        Delete("v1", "Pod", "default", "web-7d9f-a", uid="uid-web-7d9f-a", propagation="Background")
    ]


def test_it_does_not_look_for_a_namespaced_owner_in_another_namespace():
    owner = obj("v1", "ConfigMap", "settings", ns="other")
    dependent = obj("v1", "Secret", "derived", owners=[controller_of(owner)])

    assert garbage_collector.plan(ClusterState.of([owner, dependent]), now=NOW) == [
        Delete("v1", "Secret", "default", "derived", uid="uid-derived", propagation="Background")
    ]


def test_it_accepts_a_cluster_scoped_owner():
    node = obj("v1", "Node", "node-1", ns="")
    mirror = pod("static-web", node)

    assert garbage_collector.plan(ClusterState.of([node, mirror]), now=NOW) == []


def test_it_removes_only_the_dangling_reference_when_another_owner_remains():
    alive = obj("v1", "ConfigMap", "alive")
    gone = obj("v1", "ConfigMap", "gone")
    shared = obj(
        "v1", "Secret", "shared", owners=[controller_of(gone, controller=False), controller_of(alive, controller=False)]
    )

    assert garbage_collector.plan(ClusterState.of([alive, shared]), now=NOW) == [
        Patch(
            "v1",
            "Secret",
            "default",
            "shared",
            {"metadata": {"ownerReferences": [controller_of(alive, controller=False)]}},
            resource_version="7",
        )
    ]


def test_it_leaves_alone_an_owner_of_a_kind_it_cannot_look_up():
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "uid-w"}
    state = ClusterState.of([obj("v1", "ConfigMap", "made-by-widget", owners=[custom])])

    assert garbage_collector.plan(state, now=NOW) == []


def test_it_cleans_up_the_slices_of_a_deleted_service():
    service = obj("v1", "Service", "web")
    endpoint_slice = obj("discovery.k8s.io/v1", "EndpointSlice", "web-whhrn", owners=[controller_of(service)])

    assert garbage_collector.plan(ClusterState.of([endpoint_slice]), now=NOW) == [
        Delete(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "default",
            "web-whhrn",
            uid="uid-web-whhrn",
            propagation="Background",
        )
    ]


# --- foreground deletion --------------------------------------------------------------------------------


def test_it_deletes_a_deployment_in_the_foreground_from_the_bottom_up():
    owner = deployment(deleting=True, finalizers=["foregroundDeletion"])
    rs = replica_set(owner)
    pods = [pod("web-7d9f-a", rs), pod("web-7d9f-b", rs)]
    state = ClusterState.of([owner, rs, *pods])

    # The ReplicaSet has dependents of its own: it is deleted in the foreground too.
    first = garbage_collector.plan(state, now=NOW)
    assert first == [
        Delete("apps/v1", "ReplicaSet", "default", "web-7d9f", uid="uid-web-7d9f", propagation="Foreground")
    ]
    state = apply(state, first)

    second = garbage_collector.plan(state, now=NOW)
    assert second == [
        Delete("v1", "Pod", "default", "web-7d9f-a", uid="uid-web-7d9f-a", propagation="Background"),
        Delete("v1", "Pod", "default", "web-7d9f-b", uid="uid-web-7d9f-b", propagation="Background"),
    ]
    state = apply(state, second)

    third = garbage_collector.plan(state, now=NOW)
    marked = stored(state, "ReplicaSet", "web-7d9f")["metadata"]["resourceVersion"]  # by the first step
    assert third == [
        Patch(
            "apps/v1", "ReplicaSet", "default", "web-7d9f", {"metadata": {"finalizers": None}}, resource_version=marked
        )
    ]
    state = apply(state, third)

    fourth = garbage_collector.plan(state, now=NOW)
    assert fourth == [
        Patch("apps/v1", "Deployment", "default", "web", {"metadata": {"finalizers": None}}, resource_version="7")
    ]
    state = apply(state, fourth)
    assert names(state) == []
    assert garbage_collector.plan(state, now=NOW) == []


def test_it_waits_for_a_blocking_dependent_that_is_still_terminating():
    owner = replica_set(deleting=True, finalizers=["foregroundDeletion"])
    terminating = pod("web-7d9f-a", owner, deleting=True)

    assert garbage_collector.plan(ClusterState.of([owner, terminating]), now=NOW) == []


def test_it_does_not_wait_for_dependents_that_do_not_block():
    owner = replica_set(deleting=True, finalizers=["foregroundDeletion"])
    loose = obj("v1", "Pod", "loose", owners=[controller_of(owner, block=False)])

    assert garbage_collector.plan(ClusterState.of([owner, loose]), now=NOW) == [
        Patch("apps/v1", "ReplicaSet", "default", "web-7d9f", {"metadata": {"finalizers": None}}, resource_version="7"),
        Delete("v1", "Pod", "default", "loose", uid="uid-loose", propagation="Background"),
    ]


def test_it_frees_a_dependent_that_has_another_owner_from_a_foreground_deletion():
    going = obj("v1", "ConfigMap", "going", deleting=True, finalizers=["foregroundDeletion"])
    staying = obj("v1", "ConfigMap", "staying")
    shared = obj(
        "v1",
        "Secret",
        "shared",
        owners=[controller_of(going, controller=False), controller_of(staying, controller=False)],
    )
    state = ClusterState.of([going, staying, shared])

    first = garbage_collector.plan(state, now=NOW)
    assert first == [
        Patch(
            "v1",
            "Secret",
            "default",
            "shared",
            {"metadata": {"ownerReferences": [controller_of(staying, controller=False)]}},
            resource_version="7",
        )
    ]
    state = apply(state, first)
    assert garbage_collector.plan(state, now=NOW) == [
        Patch("v1", "ConfigMap", "default", "going", {"metadata": {"finalizers": None}}, resource_version="7")
    ]


# --- orphaning -----------------------------------------------------------------------------------------


def test_it_orphans_the_dependents_then_lets_the_owner_go():
    owner = replica_set(deleting=True, finalizers=["orphan"])
    pods = [pod("web-7d9f-a", owner), pod("web-7d9f-b", owner)]
    state = ClusterState.of([owner, *pods])

    first = garbage_collector.plan(state, now=NOW)
    assert first == [
        Patch("v1", "Pod", "default", "web-7d9f-a", {"metadata": {"ownerReferences": None}}, resource_version="7"),
        Patch("v1", "Pod", "default", "web-7d9f-b", {"metadata": {"ownerReferences": None}}, resource_version="7"),
    ]
    state = apply(state, first)

    second = garbage_collector.plan(state, now=NOW)
    assert second == [
        Patch("apps/v1", "ReplicaSet", "default", "web-7d9f", {"metadata": {"finalizers": None}}, resource_version="7")
    ]
    state = apply(state, second)
    assert names(state) == ["web-7d9f-a", "web-7d9f-b"]
    assert garbage_collector.plan(state, now=NOW) == []


def test_it_keeps_a_dependents_other_owners_when_orphaning_it():
    owner = replica_set(deleting=True, finalizers=["orphan", "example.com/keep"])
    other = obj("v1", "ConfigMap", "other")
    both = obj("v1", "Secret", "both", owners=[controller_of(owner), controller_of(other, controller=False)])

    assert garbage_collector.plan(ClusterState.of([owner, other, both]), now=NOW) == [
        Patch(
            "v1",
            "Secret",
            "default",
            "both",
            {"metadata": {"ownerReferences": [controller_of(other, controller=False)]}},
            resource_version="7",
        )
    ]
    without_reference = ClusterState.of([owner, other, obj("v1", "Secret", "both", owners=[controller_of(other)])])
    assert garbage_collector.plan(without_reference, now=NOW) == [
        Patch(
            "apps/v1",
            "ReplicaSet",
            "default",
            "web-7d9f",
            {"metadata": {"finalizers": ["example.com/keep"]}},
            resource_version="7",
        )
    ]


# --- why, in words ---------------------------------------------------------------------------------------


def test_it_says_which_owner_is_gone_when_it_deletes_or_frees_a_dependent():
    [delete] = garbage_collector.plan(ClusterState.of([pod("web-7d9f-a", replica_set())]), now=NOW)
    assert delete.why == "owner ReplicaSet web-7d9f is gone: deleting the orphan pod"
    alive, gone = obj("v1", "ConfigMap", "alive"), obj("v1", "ConfigMap", "gone")
    shared = obj(
        "v1", "Secret", "shared", owners=[controller_of(gone, controller=False), controller_of(alive, controller=False)]
    )
    [freed] = garbage_collector.plan(ClusterState.of([alive, shared]), now=NOW)
    assert freed.why == "owner ConfigMap gone is gone, another owner stays: removing the reference to it"


def test_foreground_and_orphan_deletions_say_why():
    owner = deployment(deleting=True, finalizers=["foregroundDeletion"])
    [waited] = garbage_collector.plan(ClusterState.of([owner, replica_set(owner)]), now=NOW)
    assert waited.why == "owner Deployment web is being deleted (foreground): deleting its dependent ReplicaSet"
    [done] = garbage_collector.plan(ClusterState.of([owner]), now=NOW)
    assert done.why == (
        "Deployment web waited for its blocking dependents, which are gone: removing its foregroundDeletion finalizer"
    )
    orphaning = replica_set(deleting=True, finalizers=["orphan"])
    [kept] = garbage_collector.plan(ClusterState.of([orphaning, pod("web-7d9f-a", orphaning)]), now=NOW)
    assert kept.why == (
        "owner ReplicaSet web-7d9f is deleted and orphans its dependents: "
        "removing the reference to it, so the pod stays"
    )
