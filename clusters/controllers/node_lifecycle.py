"""The node lifecycle controller: a node whose kubelet stops posting status becomes NotReady,
is tainted unreachable, and after a while its pods are evicted so their owners replace them.

A kubelet lives as long as it renews its node's lease (`leases`: node name → the lease's renew
time, kept outside the API, see NodeRuntimeState) or posts the node's status, whichever is newer.
Upstream waits 40 s (node-monitor-grace-period) and evicts after 300 s (the default toleration
of `node.kubernetes.io/unreachable`); both are arguments here so a class can use short ones.
Deviation: an evicted pod is deleted with grace 0 — its kubelet is gone and cannot confirm —
where upstream leaves it Terminating until the node returns or is removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clusters.controllers.actions import Action, Delete, Event, Patch, ref
from clusters.controllers.pods import is_ready
from clusters.objects.times import format_time, parse_time

UNREACHABLE = "node.kubernetes.io/unreachable"
SOURCE = "node-controller"


def _ready_condition(node: dict) -> dict:
    return next((c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"), {})


def _unreachable_taint(node: dict) -> dict | None:
    return next((t for t in node.get("spec", {}).get("taints", []) if t["key"] == UNREACHABLE), None)


def _tolerates_forever(pod: dict) -> bool:
    return any(
        t.get("key") in (UNREACHABLE, None, "")
        and t.get("operator", "Equal") in ("Exists",)
        and t.get("effect") in (None, "", "NoExecute")
        and t.get("tolerationSeconds") is None
        for t in pod["spec"].get("tolerations", [])
    )


def _toleration_seconds(pod: dict, default: timedelta) -> timedelta:
    for toleration in pod["spec"].get("tolerations", []):
        if toleration.get("key") == UNREACHABLE and toleration.get("tolerationSeconds") is not None:
            return timedelta(seconds=toleration["tolerationSeconds"])
    return default


def _mark_unknown(node: dict, now: datetime, silence: str) -> list[Action]:
    stamp = format_time(now)
    conditions = [
        {
            **condition,
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
            "lastTransitionTime": stamp,
        }
        for condition in node.get("status", {}).get("conditions", [])
    ]
    taints = [*node.get("spec", {}).get("taints", []), {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp}]
    name = node["metadata"]["name"]
    return [
        Patch(
            "v1",
            "Node",
            "",
            name,
            {"status": {"conditions": conditions}},
            subresource="status",
            why=f"{silence}: marking it NotReady",
        ),
        Patch("v1", "Node", "", name, {"spec": {"taints": taints}}, why=f"{silence}: tainting it unreachable"),
        Event(ref(node), "NodeNotReady", f"Node {name} status is now: NodeNotReady", "Normal", SOURCE),
    ]


def _pods_not_ready(state, node: str, now: datetime) -> list[Action]:
    """Upstream's MarkPodsNotReady: the pods of a node nobody hears from cannot be known to be
    ready, so their Ready condition turns False (and Services stop sending them traffic) until
    the node's kubelet reports again."""
    actions: list[Action] = []
    for pod in state.objects("Pod"):
        conditions = pod.get("status", {}).get("conditions") or []
        if pod["spec"].get("nodeName") != node or not is_ready(pod):
            continue
        stamp = format_time(now)
        marked = [
            {**c, "status": "False", "lastTransitionTime": stamp} if c.get("type") == "Ready" else c for c in conditions
        ]
        metadata = pod["metadata"]
        actions.append(
            Patch(
                "v1",
                "Pod",
                metadata["namespace"],
                metadata["name"],
                {"status": {"conditions": marked}},
                subresource="status",
                resource_version=metadata.get("resourceVersion"),
                why=f"{node} is unreachable: pod {metadata['name']} cannot be known to be ready",
            )
        )
    return actions


def _silence(node: dict, ready: dict, leases: dict[str, datetime], now: datetime) -> str:
    """`node-2 has not renewed its lease for 41 s` (or posted its status, when that is the newer sign)."""
    posted = parse_time(ready.get("lastHeartbeatTime"))
    renewed = leases.get(node["metadata"]["name"])
    sign = "renewed its lease" if renewed is not None and (posted is None or renewed >= posted) else "posted its status"
    seconds = int((now - _heartbeat(node, ready, leases)).total_seconds())
    return f"{node['metadata']['name']} has not {sign} for {seconds} s"


def _heartbeat(node: dict, ready: dict, leases: dict[str, datetime]) -> datetime | None:
    posted = parse_time(ready.get("lastHeartbeatTime"))
    renewed = leases.get(node["metadata"]["name"])
    return max((moment for moment in (posted, renewed) if moment is not None), default=None)


def plan(
    state,
    *,
    now: datetime,
    grace: timedelta = timedelta(seconds=40),
    eviction: timedelta = timedelta(seconds=300),
    leases: dict[str, datetime] | None = None,
) -> list[Action]:
    actions: list[Action] = []
    for node in state.objects("Node"):
        ready = _ready_condition(node)
        heartbeat = _heartbeat(node, ready, leases or {})
        taint = _unreachable_taint(node)
        silent = heartbeat is not None and now - heartbeat > grace
        name = node["metadata"]["name"]
        if silent and ready.get("status") != "Unknown":
            actions += _mark_unknown(node, now, _silence(node, ready, leases or {}, now))
            continue
        if ready.get("status") == "Unknown":
            actions += _pods_not_ready(state, name, now)
        if taint and ready.get("status") == "True" and not silent:
            remaining = [t for t in node["spec"]["taints"] if t["key"] != UNREACHABLE]
            why = f"{name} is Ready again: removing its unreachable taint"
            actions.append(Patch("v1", "Node", "", name, {"spec": {"taints": remaining or None}}, why=why))
            continue
        if taint:
            tainted_at = parse_time(taint.get("timeAdded")) or now
            for pod in state.objects("Pod"):
                if pod["spec"].get("nodeName") != node["metadata"]["name"] or _tolerates_forever(pod):
                    continue
                tolerated = _toleration_seconds(pod, eviction)
                if now - tainted_at >= tolerated:
                    metadata = pod["metadata"]
                    why = (
                        f"{name} has been unreachable for {int((now - tainted_at).total_seconds())} s, pod "
                        f"{metadata['name']} tolerates {int(tolerated.total_seconds())} s: evicting it"
                    )
                    actions.append(
                        Event(
                            ref(pod),
                            "TaintManagerEviction",
                            f"Marking for deletion Pod {metadata['namespace']}/{metadata['name']}",
                            "Normal",
                            "taint-eviction-controller",
                        )
                    )
                    actions.append(
                        Delete(
                            "v1",
                            "Pod",
                            metadata["namespace"],
                            metadata["name"],
                            uid=metadata["uid"],
                            grace_period=0,
                            why=why,
                        )
                    )
    return actions


def next_wakeup(
    state,
    *,
    now: datetime,
    grace: timedelta = timedelta(seconds=40),
    eviction: timedelta = timedelta(seconds=300),
    leases: dict[str, datetime] | None = None,
) -> datetime | None:
    """When a taint's eviction falls due, or a node without a lease goes silent for longer than
    the grace period. A lease that expires is noticed by the node monitor (clusters.tasks), once
    for all sandboxes, instead of every sandbox waking itself at every renewal."""
    moments = []
    leases = leases or {}
    for node in state.objects("Node"):
        ready = _ready_condition(node)
        heartbeat = _heartbeat(node, ready, leases)
        if heartbeat and ready.get("status") == "True" and node["metadata"]["name"] not in leases:
            moments.append(heartbeat + grace + timedelta(seconds=1))
        taint = _unreachable_taint(node)
        if taint and taint.get("timeAdded"):
            due = parse_time(taint["timeAdded"]) + eviction
            if due > now:
                moments.append(due)
    future = [m for m in moments if m > now]
    return min(future, default=None)
