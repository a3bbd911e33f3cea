"""The ReplicaSet controller's planner (upstream `pkg/controller/replicaset`).

For every ReplicaSet of a sandbox, one pass:

1. claims pods: the active pods it controls that match its selector, plus matching orphans it
   adopts (a Patch adding its controller reference); pods it controls that no longer match are
   released (a Patch removing the reference);
2. unless the ReplicaSet is being deleted, creates the missing pods from its template
   (`SuccessfulCreate`) or deletes the extras in upstream's order (`SuccessfulDelete`), at most
   `BURST_REPLICAS` per pass;
3. writes its status — replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
   longer than `minReadySeconds`), terminatingReplicas, observedGeneration — when it differs.

A create the API server refuses (a ResourceQuota used up, a LimitRange's bounds) gets upstream's
Warning `FailedCreate` "Error creating: <the API's message>" and, unless one is there already, the
`ReplicaFailure` condition (reason FailedCreate, the message as its message), which the Deployment
controller copies to its Deployment. The owner is then `held` (clusters.controllers.refusals):
no creates until the quota or the ReplicaSet changes, or the back-off ends. The condition goes
once the ReplicaSet has the pods it wants (upstream removes it after a sync that made no error).

Only active pods count (not Succeeded/Failed, not being deleted). The status is what this pass
observed, before its own creates and deletes, as upstream writes it; the next pass catches up.

Pods get `generateName: <rs>-` as upstream, and also a name chosen here the way the API server
would choose it (five characters of upstream's alphabet), so that the Event can say which pod was
created. The name derives from the ReplicaSet's uid and `now`, so a plan stays a pure function of
its inputs, and it skips names already taken in the namespace.

The ReplicationController, the ReplicaSet's older form, is kept by this same logic (upstream's
replication manager is the ReplicaSet controller behind adapters): `ReplicaKind` says what differs,
and clusters.controllers.replicationcontroller passes its own.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, ref
from clusters.controllers.pods import (
    adopted_owner_references,
    claim,
    claim_why,
    controller_ref,
    counted,
    format_time,
    is_active,
    is_available,
    is_controlled_by,
    is_ready,
    is_terminating,
    merge_patch,
    parse_time,
    pod_from_template,
    pod_phase,
    ready_condition,
    released_owner_references,
    shortened,
)
from clusters.controllers.state import ClusterState
from clusters.objects.selectors import Requirement, labels_match, selector_from_match_labels

SOURCE = "replicaset-controller"
REPLICA_FAILURE = "ReplicaFailure"
# Upstream's --concurrent-replicaset-syncs burst: the most pods one pass creates or deletes.
BURST_REPLICAS = 500
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
# What the API server draws generated name suffixes from (no vowels, no look-alikes).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Upstream's SimpleNameGenerator keeps a generated name within 63 characters.
MAX_GENERATED_NAME_BASE = 58
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


@dataclass(frozen=True)
class ReplicaKind:
    """What sets the kinds kept by this logic apart: their API kind, the component their Events
    name, how their selector reads, and whether their status counts terminating pods."""

    api_version: str
    kind: str
    source: str
    selector: Callable[[dict], tuple[Requirement, ...]]
    counts_terminating: bool = True


REPLICA_SET = ReplicaKind(
    "apps/v1", "ReplicaSet", SOURCE, lambda rs: selector_from_match_labels(rs["spec"].get("selector"))
)


def plan(state: ClusterState, *, now: datetime, held: frozenset[str] = frozenset()) -> list[Action]:
    """Everything the ReplicaSet controller would do in this sandbox right now; the ReplicaSets
    whose uids are `held` create nothing (their last create was refused)."""
    return plan_kind(state, REPLICA_SET, now=now, held=held)


def plan_kind(
    state: ClusterState, kind: ReplicaKind, *, now: datetime, held: frozenset[str] = frozenset()
) -> list[Action]:
    """Everything the controller of `kind` would do in this sandbox right now."""
    actions: list[Action] = []
    owners = sorted(
        state.objects(kind.kind), key=lambda rs: (rs["metadata"].get("namespace", ""), rs["metadata"]["name"])
    )
    for owner in owners:
        actions.extend(plan_replica_set(state, owner, now=now, kind=kind, held=held))
    return actions


def plan_replica_set(
    state: ClusterState,
    rs: dict,
    *,
    now: datetime,
    kind: ReplicaKind = REPLICA_SET,
    held: frozenset[str] = frozenset(),
) -> list[Action]:
    namespace = rs["metadata"].get("namespace", "")
    selector = kind.selector(rs)
    pods = sorted(state.objects("Pod", namespace), key=lambda p: p["metadata"]["name"])
    owned, to_adopt, to_release = claim(rs, selector, [p for p in pods if is_active(p)])
    actions: list[Action] = [_adopt(pod, rs) for pod in to_adopt]
    actions += [_release(pod, rs) for pod in to_release]
    deleting = bool(rs["metadata"].get("deletionTimestamp"))
    if not deleting and rs["metadata"]["uid"] not in held:
        actions += _manage_replicas(state, rs, owned, pods, now, kind.source)
    terminating = [
        p
        for p in pods
        if is_terminating(p) and is_controlled_by(p, rs) and labels_match(selector, p["metadata"].get("labels"))
    ]
    # A failure to create stays reported while pods are still missing (a create may fail again).
    failing = not deleting and len(owned) < rs["spec"].get("replicas", 1)
    status = replica_set_status(rs, owned, terminating if kind.counts_terminating else None, now, keep_failure=failing)
    if status != (rs.get("status") or {}):
        actions.append(
            Patch(
                kind.api_version,
                kind.kind,
                namespace,
                rs["metadata"]["name"],
                {"status": merge_patch(rs.get("status") or {}, status)},
                subresource="status",
                resource_version=rs["metadata"].get("resourceVersion"),
                why=status_why(rs, status),
            )
        )
    return actions


def status_why(rs: dict, status: dict) -> str:
    """`ReplicaSet web has 3 pods, 2 ready: status updated`."""
    counts = [counted(status["replicas"], "pod"), f"{status.get('readyReplicas', 0)} ready"]
    if status.get("availableReplicas", 0) != status.get("readyReplicas", 0):
        counts.append(f"{status.get('availableReplicas', 0)} available")
    if status.get("terminatingReplicas"):
        counts.append(f"{status['terminatingReplicas']} terminating")
    return f"{rs['kind']} {rs['metadata']['name']} has {', '.join(counts)}: status updated"


def _adopt(pod: dict, rs: dict) -> Patch:
    return _owner_patch(pod, adopted_owner_references(pod, rs), claim_why(pod, rs, adopting=True))


def _release(pod: dict, rs: dict) -> Patch:
    return _owner_patch(pod, released_owner_references(pod, rs), claim_why(pod, rs, adopting=False))


def _owner_patch(pod: dict, references: list[dict] | None, why: str) -> Patch:
    metadata = pod["metadata"]
    return Patch(
        "v1",
        "Pod",
        metadata.get("namespace", ""),
        metadata["name"],
        {"metadata": {"ownerReferences": references}},
        resource_version=metadata.get("resourceVersion"),
        why=why,
    )


# --- creating and deleting pods ---------------------------------------------------------------


def _manage_replicas(
    state: ClusterState, rs: dict, owned: list[dict], pods: list[dict], now: datetime, source: str
) -> list[Action]:
    wanted = rs["spec"].get("replicas", 1)
    diff = len(owned) - wanted
    if diff < 0:
        names = generated_names(
            rs, count=min(-diff, BURST_REPLICAS), taken={p["metadata"]["name"] for p in pods}, now=now
        )
        why = replicas_why(rs, wanted, len(owned), "creating", len(names))
        actions: list[Action] = []
        refused = functools.partial(creation_refused, rs, source, now)
        for name in names:
            pod = pod_from_template(rs["spec"]["template"], rs, name=name)
            actions.append(Create(pod, why=why, refused=refused))
            actions.append(Event(ref(rs), "SuccessfulCreate", f"Created pod: {name}", source=source))
        return actions
    if diff > 0:
        related = _related_pods(state, rs, pods)
        doomed = pods_to_delete(owned, related, min(diff, BURST_REPLICAS), now)
        why = replicas_why(rs, wanted, len(owned), "deleting", len(doomed))
        actions = []
        for pod in doomed:
            metadata = pod["metadata"]
            actions.append(
                Delete("v1", "Pod", metadata.get("namespace", ""), metadata["name"], uid=metadata["uid"], why=why)
            )
            actions.append(Event(ref(rs), "SuccessfulDelete", f"Deleted pod: {metadata['name']}", source=source))
        return actions
    return []


def creation_refused(rs: dict, source: str, now: datetime, message: str) -> list[Action]:
    """What the controller records when the API server refuses one of its pods: the Warning
    FailedCreate Event, and the ReplicaFailure condition unless the ReplicaSet has one."""
    actions: list[Action] = [Event(ref(rs), "FailedCreate", f"Error creating: {message}", "Warning", source)]
    conditions = list((rs.get("status") or {}).get("conditions") or [])
    if not any(c.get("type") == REPLICA_FAILURE for c in conditions):
        condition = {
            "type": REPLICA_FAILURE,
            "status": "True",
            "lastTransitionTime": format_time(now),
            "reason": "FailedCreate",
            "message": message,
        }
        actions.append(
            Patch(
                rs["apiVersion"],
                rs["kind"],
                rs["metadata"].get("namespace", ""),
                rs["metadata"]["name"],
                {"status": {"conditions": [*copy.deepcopy(conditions), condition]}},
                subresource="status",
                why=f"{rs['kind']} {rs['metadata']['name']} could not create a pod: {shortened(message)}",
            )
        )
    return actions


def replicas_why(rs: dict, wanted: int, has: int, verb: str, count: int) -> str:
    """`ReplicaSet web wants 3 pods, has 2: creating 1`; a delete that picks among the pods says
    how (upstream's order, in short), and a pass held to `BURST_REPLICAS` says so."""
    why = f"{rs['kind']} {rs['metadata']['name']} wants {counted(wanted, 'pod')}, has {has}: {verb} {count}"
    if verb == "deleting" and count < has:
        why += " (the newest and not-ready first)"
    if count < abs(has - wanted):
        why += f" (at most {BURST_REPLICAS} a pass)"
    return why


def generated_names(rs: dict, *, count: int, taken: set[str], now: datetime) -> list[str]:
    """`count` pod names `<rs>-xxxxx`, free in the namespace, derived from the ReplicaSet and `now`."""
    base = f"{rs['metadata']['name']}-"[:MAX_GENERATED_NAME_BASE]
    seed = f"{rs['metadata'].get('uid', '')}/{now.isoformat()}"
    names: list[str] = []
    attempt = 0
    while len(names) < count:
        digest = hashlib.sha256(f"{seed}/{attempt}".encode()).digest()
        attempt += 1
        name = base + "".join(NAME_ALPHABET[byte % len(NAME_ALPHABET)] for byte in digest[:5])
        if name not in taken:
            taken = taken | {name}
            names.append(name)
    return names


def _related_pods(state: ClusterState, rs: dict, pods: list[dict]) -> list[dict]:
    """Pods of every ReplicaSet with the same controller as this one (upstream
    `getIndirectlyRelatedPods`): a Deployment's old and new pods share nodes."""
    owner = controller_ref(rs)
    namespace = rs["metadata"].get("namespace", "")
    if owner is None:
        siblings = {rs["metadata"]["uid"]}
    else:
        siblings = {
            other["metadata"]["uid"]
            for other in state.objects(rs["kind"], namespace)
            if (controller_ref(other) or {}).get("uid") == owner.get("uid")
        }
    return [p for p in pods if (controller_ref(p) or {}).get("uid") in siblings]


def pods_to_delete(owned: list[dict], related: list[dict], count: int, now: datetime) -> list[dict]:
    """The `count` pods to delete first, in upstream's order (`ActivePodsWithRanks`): unscheduled
    before scheduled, Pending before Unknown before Running, not ready before ready, lower
    `pod-deletion-cost` first, more pods of the family on the same node first, ready more recently
    first, more container restarts first, newer before older (times compared on a log2 scale)."""
    if count >= len(owned):
        return list(owned)
    on_node: dict[str, int] = {}
    for pod in related:
        if is_active(pod):
            node = pod["spec"].get("nodeName", "")
            on_node[node] = on_node.get(node, 0) + 1
    ranks = {p["metadata"]["uid"]: on_node.get(p["spec"].get("nodeName", ""), 0) for p in owned}

    def compare(left: dict, right: dict) -> int:
        if _delete_before(left, right, ranks, now):
            return -1
        if _delete_before(right, left, ranks, now):
            return 1
        return (left["metadata"]["name"] > right["metadata"]["name"]) - (
            left["metadata"]["name"] < right["metadata"]["name"]
        )

    return sorted(owned, key=functools.cmp_to_key(compare))[:count]


def _delete_before(a: dict, b: dict, ranks: dict[str, int], now: datetime) -> bool:
    """Upstream `ActivePodsWithRanks.Less`: whether pod `a` goes before pod `b`."""
    node_a, node_b = a["spec"].get("nodeName", ""), b["spec"].get("nodeName", "")
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a = _PHASE_ORDINAL.get(pod_phase(a), 0)
    phase_b = _PHASE_ORDINAL.get(pod_phase(b), 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    if is_ready(a) != is_ready(b):
        return not is_ready(a)
    cost_a, cost_b = _deletion_cost(a), _deletion_cost(b)
    if cost_a != cost_b:
        return cost_a < cost_b
    rank_a, rank_b = ranks[a["metadata"]["uid"]], ranks[b["metadata"]["uid"]]
    if rank_a != rank_b:
        return rank_a > rank_b
    if is_ready(a) and is_ready(b):
        ready_a = parse_time(ready_condition(a).get("lastTransitionTime"))
        ready_b = parse_time(ready_condition(b).get("lastTransitionTime"))
        if ready_a != ready_b:
            return _newer_first(a, b, ready_a, ready_b, now)
    restarts_a, restarts_b = _max_restarts(a), _max_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    created_a = parse_time(a["metadata"].get("creationTimestamp"))
    created_b = parse_time(b["metadata"].get("creationTimestamp"))
    if created_a != created_b:
        return _newer_first(a, b, created_a, created_b, now)
    return False


def _newer_first(a: dict, b: dict, time_a: datetime | None, time_b: datetime | None, now: datetime) -> bool:
    """LogarithmicScaleDown: times in the same power-of-two age bucket tie, and the uid decides."""
    if time_a is None or time_b is None:
        return time_a is None
    bucket_diff = _age_bucket(time_a, now) - _age_bucket(time_b, now)
    if bucket_diff == 0:
        return a["metadata"]["uid"] < b["metadata"]["uid"]
    return bucket_diff < 0


def _age_bucket(moment: datetime, now: datetime) -> int:
    age = now - moment
    nanoseconds = (age.days * 86_400 + age.seconds) * 1_000_000_000 + age.microseconds * 1_000
    return int(math.log2(nanoseconds)) if nanoseconds > 0 else -1


def _deletion_cost(pod: dict) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(POD_DELETION_COST)
    try:
        cost = int(value) if value is not None else 0
    except ValueError:
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


def _max_restarts(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((s.get("restartCount", 0) for s in statuses), default=0)


# --- status -----------------------------------------------------------------------------------


def replica_set_status(
    rs: dict, owned: list[dict], terminating: list[dict] | None, now: datetime, *, keep_failure: bool = True
) -> dict:
    """The status upstream's `calculateStatus` writes, as the API serialises it (zeros omitted,
    except `replicas` and the `terminatingReplicas` pointer, which a ReplicationController's status
    has not: `terminating` None); conditions are kept as they are, but for a ReplicaFailure
    condition without `keep_failure` (no create is left that could fail)."""
    template_labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready_seconds = rs["spec"].get("minReadySeconds", 0)
    fully_labeled = sum(1 for p in owned if _has_labels(p, template_labels))
    ready = sum(1 for p in owned if is_ready(p))
    available = sum(1 for p in owned if is_available(p, min_ready_seconds, now))
    status = {"replicas": len(owned)}
    for key, value in (
        ("fullyLabeledReplicas", fully_labeled),
        ("readyReplicas", ready),
        ("availableReplicas", available),
    ):
        if value:
            status[key] = value
    if terminating is not None:
        status["terminatingReplicas"] = len(terminating)
    if rs["metadata"].get("generation"):
        status["observedGeneration"] = rs["metadata"]["generation"]
    conditions = [
        c for c in (rs.get("status") or {}).get("conditions") or [] if keep_failure or c.get("type") != REPLICA_FAILURE
    ]
    if conditions:
        status["conditions"] = copy.deepcopy(conditions)
    return status


def _has_labels(pod: dict, labels: dict[str, str]) -> bool:
    pod_labels = pod["metadata"].get("labels") or {}
    return all(pod_labels.get(key) == value for key, value in labels.items())
