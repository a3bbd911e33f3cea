"""The namespace planner: a namespace being deleted is emptied, reports what remains, then goes."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from clusters.controllers import namespace as namespace_controller
from clusters.controllers.actions import Delete, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import applied

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 1, 12, 1, tzinfo=UTC)
STAMP = "2025-03-01T12:00:00Z"
LATER_STAMP = "2025-03-01T12:01:00Z"


def namespace(name="shop", *, deleting=True, finalizers=("kubernetes",), conditions=None):
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": "4"},
        "spec": {"finalizers": list(finalizers)},
        "status": {"phase": "Terminating" if deleting else "Active"},
    }
    if deleting:
        body["metadata"]["deletionTimestamp"] = "2025-03-01T11:59:00Z"
    if conditions:
        body["status"]["conditions"] = conditions
    return body


def obj(api_version, kind, name, ns="shop", **extra):
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}"}}
    body.update(extra)
    return body


def pod(name, *, node=None):
    spec = {"containers": [{"name": "app", "image": "nginx"}], "terminationGracePeriodSeconds": 30}
    if node:
        spec["nodeName"] = node
    return obj("v1", "Pod", name, spec=spec)


def shop_content():
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f", "uid": "uid-web-7d9f"}
    pods = [pod("web-7d9f-a", node="node-1"), pod("web-7d9f-b", node="node-2"), pod("web-7d9f-c")]
    for body in pods:
        body["metadata"]["ownerReferences"] = [{**owner, "controller": True, "blockOwnerDeletion": True}]
    return [
        obj("apps/v1", "Deployment", "web", spec={"replicas": 3}),
        obj("apps/v1", "ReplicaSet", "web-7d9f", spec={"replicas": 3}),
        *pods,
        obj("v1", "Service", "web", spec={"selector": {"app": "web"}}),
        obj("v1", "ConfigMap", "settings", data={}),
    ]


def conditions(content=None, finalizers=None, *, transition=STAMP, content_transition=None):
    content_transition = content_transition or transition
    remaining = (
        ("True", "SomeResourcesRemain", f"Some resources are remaining: {content}")
        if content
        else ("False", "ContentRemoved", "All content successfully removed")
    )
    finalizing = (
        ("True", "SomeFinalizerRemain", f"Some finalizers are remaining: {finalizers}")
        if finalizers
        else ("False", "ContentRemoved", "All content successfully removed")
    )
    rows = [
        ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        ("NamespaceContentRemaining", *remaining),
        ("NamespaceFinalizersRemaining", *finalizing),
    ]
    return [
        {
            "type": kind,
            "status": status,
            "lastTransitionTime": content_transition if kind == "NamespaceContentRemaining" else transition,
            "reason": reason,
            "message": message,
        }
        for kind, status, reason, message in rows
    ]


# --- plans applied as the store would (the shared world) ----------------------------------------


apply = functools.partial(applied, now=NOW)


def without(state: ClusterState, kind: str) -> ClusterState:
    return ClusterState.of(o for k, items in state.by_kind.items() if k != kind for o in items)


# --- tests ----------------------------------------------------------------------------------------------


def test_it_deletes_everything_in_a_terminating_namespace_and_says_what_remains():
    state = ClusterState.of([namespace(), *shop_content(), obj("v1", "ConfigMap", "elsewhere", ns="default")])

    assert namespace_controller.plan(state, now=NOW) == [
        Delete("v1", "ConfigMap", "shop", "settings", uid="uid-settings", propagation="Background"),
        Delete("apps/v1", "Deployment", "shop", "web", uid="uid-web", propagation="Background"),
        Delete("v1", "Pod", "shop", "web-7d9f-a", uid="uid-web-7d9f-a", propagation="Background"),
        Delete("v1", "Pod", "shop", "web-7d9f-b", uid="uid-web-7d9f-b", propagation="Background"),
        Delete("v1", "Pod", "shop", "web-7d9f-c", uid="uid-web-7d9f-c", propagation="Background"),
        Delete("apps/v1", "ReplicaSet", "shop", "web-7d9f", uid="uid-web-7d9f", propagation="Background"),
        Delete("v1", "Service", "shop", "web", uid="uid-web", propagation="Background"),
        Patch(
            "v1",
            "Namespace",
            "",
            "shop",
            {"status": {"conditions": conditions("pods. has 2 resource instances")}},
            "status",
        ),
    ]


def test_it_waits_quietly_while_pods_terminate_then_finalizes_and_deletes_the_namespace():
    state = ClusterState.of([namespace(), *shop_content()])
    state = apply(state, namespace_controller.plan(state, now=NOW))
    assert sorted(o["metadata"]["name"] for o in state.objects("Pod")) == ["web-7d9f-a", "web-7d9f-b"]

    assert namespace_controller.plan(state, now=NOW) == []

    emptied = without(state, "Pod")
    assert namespace_controller.plan(emptied, now=LATER) == [
        Patch(
            "v1",
            "Namespace",
            "",
            "shop",
            {"status": {"conditions": conditions(content_transition=LATER_STAMP)}},
            "status",
        ),
        Patch("v1", "Namespace", "", "shop", {"spec": {"finalizers": []}}),
        Delete("v1", "Namespace", "", "shop", uid="uid-shop"),
    ]
    # The store deletes the namespace as its last finalizer goes: the Delete after that loses its
    # race, and the actor drops it.
    gone = applied(emptied, namespace_controller.plan(emptied, now=LATER), now=LATER, races="drop")
    assert gone.get("Namespace", "", "shop") is None
    assert namespace_controller.plan(gone, now=LATER) == []


def test_it_reports_finalizers_that_hold_content():
    held = obj("apps/v1", "Deployment", "web")
    held["metadata"]["finalizers"] = ["foregroundDeletion"]
    held["metadata"]["deletionTimestamp"] = STAMP
    state = ClusterState.of([namespace(), held])

    assert namespace_controller.plan(state, now=NOW) == [
        Patch(
            "v1",
            "Namespace",
            "",
            "shop",
            {
                "status": {
                    "conditions": conditions(
                        "deployments.apps has 1 resource instances", "foregroundDeletion in 1 resource instances"
                    )
                }
            },
            "status",
        )
    ]


def test_it_finalizes_an_empty_namespace_at_once():
    state = ClusterState.of([namespace(conditions=conditions())])

    assert namespace_controller.plan(state, now=NOW) == [
        Patch("v1", "Namespace", "", "shop", {"spec": {"finalizers": []}}),
        Delete("v1", "Namespace", "", "shop", uid="uid-shop"),
    ]


def test_it_keeps_other_finalizers_when_it_removes_its_own():
    state = ClusterState.of([namespace(finalizers=("kubernetes", "example.com/cleanup"), conditions=conditions())])

    assert namespace_controller.plan(state, now=NOW)[0] == Patch(
        "v1", "Namespace", "", "shop", {"spec": {"finalizers": ["example.com/cleanup"]}}
    )


def test_it_deletes_a_namespace_already_finalized():
    assert namespace_controller.plan(ClusterState.of([namespace(finalizers=())]), now=NOW) == [
        Delete("v1", "Namespace", "", "shop", uid="uid-shop")
    ]


def test_it_leaves_active_and_system_namespaces_alone():
    state = ClusterState.of(
        [
            namespace("shop", deleting=False),
            namespace("kube-system"),
            obj("v1", "ConfigMap", "settings"),
            obj("v1", "ConfigMap", "coredns", ns="kube-system"),
        ]
    )

    assert namespace_controller.plan(state, now=NOW) == []


# --- why, in words --------------------------------------------------------------------------------------


def test_it_says_the_namespace_is_being_deleted_and_how_many_of_each_kind_go():
    actions = namespace_controller.plan(ClusterState.of([namespace(), *shop_content()]), now=NOW)
    whys = {a.name: a.why for a in actions if isinstance(a, Delete)}
    assert whys["web-7d9f-a"] == "Namespace shop is being deleted: deleting its 3 pods"
    assert whys["settings"] == "Namespace shop is being deleted: deleting its 1 ConfigMap"
    assert actions[-1].why == "Namespace shop is being deleted, 2 objects still going: status updated"


def test_an_empty_namespace_says_why_it_is_finalized_and_deleted():
    finalize, delete = namespace_controller.plan(ClusterState.of([namespace(conditions=conditions())]), now=NOW)
    assert finalize.why == "Namespace shop is being deleted and is empty: removing its kubernetes finalizer"
    assert delete.why == "Namespace shop is being deleted and is empty: deleting it"
