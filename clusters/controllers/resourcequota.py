"""The resource quota controller's planner (upstream `pkg/controller/resourcequota`).

For every ResourceQuota of a sandbox, upstream's full recalculation: `status.hard` is what the
spec says, `status.used` what everything in the quota's namespace costs now (the evaluators of
clusters.objects.resource_quota; zero for a limited resource nothing uses), written when either
differs from the status, compared by amount (`1Gi` is `1024Mi`). So deleting a pod, or a pod
finishing, frees its share, and `kubectl get quota` / `kubectl describe quota` show used/hard.

Admission charges a new object to `status.used` as it admits it; this recount is what corrects
the total afterwards (for deletions, for finished pods, for a charge whose object was never
stored). The write is guarded by the quota's resourceVersion: a charge made since the snapshot
makes it lose the race, and the next pass counts again.

A pod being deleted is charged until its deletion time plus its grace period passes (upstream's
`QuotaV1Pod`); `next_wakeup` says when the next such pod stops counting. Events are not in the
planners' state: a `count/events` usage is kept as admission counted it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clusters.controllers.actions import Action, Patch
from clusters.controllers.pods import merge_patch
from clusters.controllers.state import ClusterState
from clusters.objects import resource_quota

KIND = "ResourceQuota"
# Resources counting kinds the planners never see (clusters.controllers.manager.UNWATCHED_KINDS).
UNOBSERVED = ("count/events", "count/events.events.k8s.io")
JUST_AFTER = timedelta(seconds=1)


def _namespaced(state: ClusterState) -> dict[str, list[dict]]:
    """Every object of the sandbox by namespace (cluster-scoped ones under "")."""
    by_namespace: dict[str, list[dict]] = {}
    for items in state.by_kind.values():
        for obj in items:
            by_namespace.setdefault(obj["metadata"].get("namespace", ""), []).append(obj)
    return by_namespace


def quota_status(quota: dict, objects: list[dict], now: datetime) -> dict:
    """What the controller would write: the recount, but for what it cannot see."""
    status = resource_quota.quota_status(quota, objects, now=now)
    current = (quota.get("status") or {}).get("used") or {}
    for name in UNOBSERVED:
        if name in status["used"]:
            status["used"][name] = current.get(name, "0")
    return status


def _why(quota: dict, status: dict) -> str:
    """`ResourceQuota mem-cpu-demo counts limits.cpu 800m/2, pods 1/2: status updated`."""
    used, hard = status["used"], status["hard"]
    counts = ", ".join(f"{name} {used[name]}/{hard[name]}" for name in sorted(used) if name in hard)
    return f"ResourceQuota {quota['metadata']['name']} counts {counts or 'nothing it limits'}: status updated"


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    """The status writes that bring every quota up to date."""
    quotas = sorted(state.objects(KIND), key=lambda q: (q["metadata"].get("namespace", ""), q["metadata"]["name"]))
    if not quotas:
        return []
    by_namespace = _namespaced(state)
    actions: list[Action] = []
    for quota in quotas:
        metadata = quota["metadata"]
        namespace = metadata.get("namespace", "")
        status = quota_status(quota, by_namespace.get(namespace, []), now)
        current = quota.get("status") or {}
        if resource_quota.status_equal(current, status):
            continue
        actions.append(
            Patch(
                "v1",
                KIND,
                namespace,
                metadata["name"],
                {"status": merge_patch(current, status)},
                subresource="status",
                resource_version=metadata.get("resourceVersion"),
                why=_why(quota, status),
            )
        )
    return actions


def next_wakeup(state: ClusterState, *, now: datetime) -> datetime | None:
    """Just after the next pod being deleted in a namespace with a quota stops counting."""
    namespaces = {q["metadata"].get("namespace", "") for q in state.objects(KIND)}
    moments = [
        moment
        for pod in state.objects("Pod")
        if pod["metadata"].get("namespace", "") in namespaces
        and (moment := resource_quota.pod_stops_counting_at(pod)) is not None
        and moment > now
        and resource_quota.pod_counts(pod, now)
    ]
    return min(moments) + JUST_AFTER if moments else None
