"""Namespace lifecycle, as the namespace controller runs it (pkg/controller/namespace/deletion).

A Namespace being deleted (`deletionTimestamp` set, phase Terminating) that still carries the
`kubernetes` finalizer in `spec.finalizers`:

1. has everything in it deleted — every namespaced kind the sandbox holds, Background
   propagation, each Delete guarded by the object's uid;
2. reports progress in its status conditions, worded as upstream's condition updater words them
   (`NamespaceContentRemaining`: "Some resources are remaining: pods. has 2 resource instances",
   `NamespaceFinalizersRemaining`, and the three that stay False while nothing fails);
3. once nothing is left in it, is finalized — a Patch removing `kubernetes` from
   `spec.finalizers` — and deleted, which the store completes now that no finalizer remains.

What remains after this pass's Deletes is predicted the way the API server decides it: objects
already being deleted, objects with finalizers, and pods bound to a node (those end gracefully,
through their kubelet). The four system namespaces are never deleted.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from clusters.controllers.actions import Action, Delete, Patch
from clusters.controllers.pods import counted, noun
from clusters.controllers.state import ClusterState
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import format_time

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
FINALIZER = "kubernetes"

# The conditions the namespace deleter maintains, in upstream's order, with their "all is well" words.
CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
    "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
    "NamespaceDeletionContentFailure": "ContentDeleted",
    "NamespaceContentRemaining": "ContentRemoved",
    "NamespaceFinalizersRemaining": "ContentRemoved",
}
OK_MESSAGES = {
    "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
    "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    "NamespaceDeletionContentFailure": "All content successfully deleted, may be waiting on finalization",
    "NamespaceContentRemaining": "All content successfully removed",
    "NamespaceFinalizersRemaining": "All content successfully removed",
}


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    actions: list[Action] = []
    for namespace in sorted(state.objects("Namespace"), key=lambda ns: ns["metadata"]["name"]):
        metadata = namespace["metadata"]
        if not metadata.get("deletionTimestamp") or metadata["name"] in SYSTEM_NAMESPACES:
            continue
        actions.extend(_sync_terminating(state, namespace, now=now))
    return actions


def _sync_terminating(state: ClusterState, namespace: dict, *, now: datetime) -> list[Action]:
    metadata = namespace["metadata"]
    name = metadata["name"]
    finalizers = list((namespace.get("spec") or {}).get("finalizers") or [])
    deleting = f"Namespace {name} is being deleted"
    if FINALIZER not in finalizers:
        if not finalizers and not metadata.get("finalizers"):
            why = f"{deleting} and no finalizer holds it any more: deleting it"
            return [Delete("v1", "Namespace", "", name, uid=metadata["uid"], why=why)]
        return []  # someone else's finalizer still holds it
    content = _content(state, name)
    doomed = [obj for obj in content if not obj["metadata"].get("deletionTimestamp")]
    per_kind = Counter(obj["kind"] for obj in doomed)
    actions: list[Action] = [
        Delete(
            obj["apiVersion"],
            obj["kind"],
            name,
            obj["metadata"]["name"],
            uid=obj["metadata"]["uid"],
            propagation="Background",
            why=f"{deleting}: deleting its {counted(per_kind[obj['kind']], noun(obj['kind']))}",
        )
        for obj in doomed
    ]
    remaining = [obj for obj in content if _remains_after_delete(obj)]
    conditions = _conditions(namespace, remaining, now=now)
    if conditions is not None:
        left_over = f"{counted(len(remaining), 'object')} still going" if remaining else "nothing left in it"
        why = f"{deleting}, {left_over}: status updated"
        actions.append(Patch("v1", "Namespace", "", name, {"status": {"conditions": conditions}}, "status", why=why))
    if not content:
        left = [f for f in finalizers if f != FINALIZER]
        empty = f"{deleting} and is empty"
        # An empty list, not null: a Namespace without spec.finalizers is defaulted back to [kubernetes].
        actions.append(
            Patch(
                "v1",
                "Namespace",
                "",
                name,
                {"spec": {"finalizers": left}},
                why=f"{empty}: removing its {FINALIZER} finalizer",
            )
        )
        actions.append(Delete("v1", "Namespace", "", name, uid=metadata["uid"], why=f"{empty}: deleting it"))
    return actions


def _content(state: ClusterState, namespace: str) -> list[dict]:
    objects = [
        obj
        for kind in sorted(state.by_kind)
        if kind != "Namespace"
        for obj in state.by_kind[kind]
        if obj["metadata"].get("namespace") == namespace
    ]
    return sorted(objects, key=lambda obj: (obj["kind"], obj["metadata"]["name"]))


def _remains_after_delete(obj: dict) -> bool:
    metadata = obj["metadata"]
    if metadata.get("deletionTimestamp") or metadata.get("finalizers"):
        return True
    spec = obj.get("spec") or {}
    # A pod on a node is deleted gracefully: it stays until its kubelet has stopped it.
    return obj["kind"] == "Pod" and bool(spec.get("nodeName")) and spec.get("terminationGracePeriodSeconds", 30) != 0


def _conditions(namespace: dict, remaining: list[dict], *, now: datetime) -> list[dict] | None:
    """The status conditions after this pass, or None when they would not change."""
    wanted = {kind: _ok(kind) for kind in CONDITION_TYPES}
    by_resource = Counter(_resource_name(obj) for obj in remaining)
    if by_resource:
        listed = sorted(f"{resource} has {count} resource instances" for resource, count in by_resource.items())
        wanted["NamespaceContentRemaining"] = (
            "True",
            "SomeResourcesRemain",
            f"Some resources are remaining: {', '.join(listed)}",
        )
    by_finalizer = Counter(finalizer for obj in remaining for finalizer in obj["metadata"].get("finalizers") or [])
    if by_finalizer:
        listed = sorted(f"{finalizer} in {count} resource instances" for finalizer, count in by_finalizer.items())
        wanted["NamespaceFinalizersRemaining"] = (
            "True",
            "SomeFinalizerRemain",
            f"Some finalizers are remaining: {', '.join(listed)}",
        )
    conditions = [dict(c) for c in (namespace.get("status") or {}).get("conditions") or []]
    changed = False
    for kind in CONDITION_TYPES:
        status, reason, message = wanted[kind]
        current = next((c for c in conditions if c.get("type") == kind), None)
        if current is None:
            conditions.append(
                {
                    "type": kind,
                    "status": status,
                    "lastTransitionTime": format_time(now),
                    "reason": reason,
                    "message": message,
                }
            )
            changed = True
        elif (current.get("status"), current.get("reason"), current.get("message")) != (status, reason, message):
            if current.get("status") != status:
                current["lastTransitionTime"] = format_time(now)
            current.update(status=status, reason=reason, message=message)
            changed = True
    return conditions if changed else None


def _ok(kind: str) -> tuple[str, str, str]:
    return "False", OK_REASONS[kind], OK_MESSAGES[kind]


def _resource_name(obj: dict) -> str:
    """`<plural>.<group>` as upstream prints a GroupVersionResource here: `pods.` for the core group."""
    resource = resource_for_kind(obj["apiVersion"], obj["kind"])
    if resource is None:
        return f"{obj['kind'].lower()}s."
    return f"{resource.plural}.{resource.group}"
