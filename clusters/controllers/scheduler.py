"""The scheduler: place every pending, unbound pod on a node, as kube-scheduler's default profile does.

Per pod, in queue order (priority, then age), the plugins run as upstream chains them:

1. PreFilter — NodeAffinity narrows the nodes to those named by `matchFields` on `metadata.name`
   (how DaemonSet pods target their node); VolumeBinding refuses pods whose claims are missing,
   being deleted, or unbound with an Immediate class.
2. Filter, node by node, stopping at the first plugin that rejects: NodeUnschedulable,
   TaintToleration (NoSchedule/NoExecute; a node that is not Ready carries the taint the node
   lifecycle controller would put on it), NodeAffinity (`nodeSelector` and required affinity),
   NodePorts, NodeResourcesFit (requests against allocatable minus what the node's pods request).
3. Score, lowest first: untolerated PreferNoSchedule taints, preferred node affinity, spreading
   (fewest pods of the same owner, or with the same labels), least requested; ties go to the
   node name, so the same state always gives the same placement.
4. Bind — as the Binding subresource, one write sets `spec.nodeName` and the `PodScheduled=True`
   condition (guarded by the pod's resourceVersion: a bind fails on a pod that changed), then a
   `Scheduled` Event.
5. A pod that fits nowhere gets `PodScheduled=False`/`Unschedulable` with upstream's FitError
   message (reasons counted per node, sorted as strings), the DefaultPreemption PostFilter's
   verdict appended, and a `FailedScheduling` Warning — only when the condition changes, so a
   pass over an unchanged cluster plans nothing. When evicting lower-priority pods would make
   room, the victims are preempted and the pod is nominated to that node.

Pods already placed in this pass count on their node for the pods that follow (the scheduler's
"assume"), which is what spreads four replicas over two nodes two and two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from clusters.controllers.actions import Action, Bind, Delete, Event, Patch, ref
from clusters.controllers.pods import controller_ref, counted, is_being_deleted, is_terminal, shortened
from clusters.controllers.state import ClusterState
from clusters.objects.quantity import QuantityError, quantity_from_json
from clusters.objects.times import format_time

SCHEDULER_NAME = "default-scheduler"

# Filter status codes: preemption may help only with the first.
UNSCHEDULABLE = "Unschedulable"
UNRESOLVABLE = "UnschedulableAndUnresolvable"

# Upstream plugin reasons, word for word.
REASON_UNSCHEDULABLE_NODE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_NODE_AFFINITY_PREFILTER = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
REASON_AFFINITY_CONFLICT = "pod affinity terms conflict"
REASON_UNBOUND_IMMEDIATE_CLAIMS = "pod has unbound immediate PersistentVolumeClaims"
NO_NODES = "no nodes available to schedule pods"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_POLICY = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNREACHABLE_TAINT = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}
SELECTED_NODE = "volume.kubernetes.io/selected-node"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"

# What a container without requests counts as when scoring (upstream's non-zero defaults).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


@dataclass(frozen=True)
class _Status:
    code: str
    reasons: tuple[str, ...]


@dataclass
class _Node:
    body: dict
    pods: list[dict] = field(default_factory=list)
    requested: Counter = field(default_factory=Counter)
    non_zero: Counter = field(default_factory=Counter)
    ports: set[tuple[str, str, int]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.body["metadata"]["name"]

    @property
    def labels(self) -> dict:
        return self.body["metadata"].get("labels") or {}

    @property
    def allocatable(self) -> dict[str, int]:
        raw = (self.body.get("status") or {}).get("allocatable") or {}
        return {resource: _amount(resource, value) for resource, value in raw.items()}

    def add(self, pod: dict) -> None:
        self.pods.append(pod)
        self.requested.update(_pod_requests(pod["spec"]))
        self.non_zero.update(_pod_requests(pod["spec"], non_zero=True))
        self.ports.update(_host_ports(pod["spec"]))

    def without(self, victims: list[dict]) -> _Node:
        """The node as it would be once `victims` are gone (preemption's dry run)."""
        gone = {victim["metadata"]["uid"] for victim in victims}
        copy = _Node(self.body)
        for pod in self.pods:
            if pod["metadata"]["uid"] not in gone:
                copy.add(pod)
        return copy


# --- public ------------------------------------------------------------------------------------


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    pending = sorted(_pending_pods(state), key=_queue_order)
    if not pending:
        return []  # most passes: nothing to place, so no need to add up every node's pods
    nodes = _node_infos(state)
    actions: list[Action] = []
    for pod in pending:
        actions.extend(_schedule_one(state, pod, nodes, now=now))
    return actions


# --- the scheduling cycle -----------------------------------------------------------------------


def _pending_pods(state: ClusterState) -> Iterable[dict]:
    for pod in state.objects("Pod"):
        spec = pod.get("spec") or {}
        if spec.get("nodeName") or is_being_deleted(pod):
            continue
        if spec.get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME:
            continue
        if spec.get("schedulingGates"):
            continue  # the SchedulingGates plugin keeps gated pods out of the queue
        if is_terminal(pod):
            continue
        yield pod


def _queue_order(pod: dict) -> tuple:
    # PrioritySort: higher priority first, then the pod that has waited longest.
    metadata = pod["metadata"]
    return (-_priority(pod), metadata.get("creationTimestamp", ""), metadata.get("namespace", ""), metadata["name"])


def _node_infos(state: ClusterState) -> dict[str, _Node]:
    nodes = {node["metadata"]["name"]: _Node(node) for node in sorted(state.objects("Node"), key=_name)}
    for pod in state.objects("Pod"):
        node = nodes.get((pod.get("spec") or {}).get("nodeName") or "")
        # The scheduler's cache leaves out pods that have finished; pods being deleted still count.
        if node is not None and not is_terminal(pod):
            node.add(pod)
    return nodes


def _schedule_one(state: ClusterState, pod: dict, nodes: dict[str, _Node], *, now: datetime) -> list[Action]:
    if not nodes:
        return _unschedulable(pod, NO_NODES, _no_fit_why(pod, NO_NODES), now=now)
    # PreFilter plugins in upstream order: NodeAffinity before VolumeBinding.
    prefilter = _affinity_prefilter(pod)
    if not isinstance(prefilter, _Status):
        prefilter = _volume_prefilter(state, pod) or prefilter
    if isinstance(prefilter, _Status):
        message = _fit_error(len(nodes), prefilter_message=", ".join(prefilter.reasons), statuses={})
        statuses = dict.fromkeys(nodes, prefilter)
        return _after_failure(pod, nodes, statuses, message, prefilter_failed=True, now=now)
    candidates = [node for name, node in nodes.items() if prefilter is None or name in prefilter]
    statuses: dict[str, _Status] = {}
    feasible = []
    for node in candidates:
        status = _filter(pod, node)
        if status is None:
            feasible.append(node)
        else:
            statuses[node.name] = status
    if prefilter is not None:
        absent = _Status(UNRESOLVABLE, (REASON_NODE_AFFINITY_PREFILTER,))
        statuses.update({name: absent for name in nodes if name not in prefilter})
    if not feasible:
        message = _fit_error(len(nodes), statuses=statuses)
        return _after_failure(pod, nodes, statuses, message, prefilter_failed=False, now=now)
    ranked = sorted(feasible, key=lambda node: _score(pod, node))
    best = ranked[0]
    waiting = _claims_waiting_for_a_node(state, pod, best.name)
    if waiting is not None:
        return waiting
    why = _choice_why(pod, best, ranked[1] if len(ranked) > 1 else None)
    best.add(pod)
    return _bind(pod, best.name, why, now=now)


def _bind(pod: dict, node_name: str, why: str, *, now: datetime) -> list[Action]:
    metadata = pod["metadata"]
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    conditions = _with_condition(pod, _condition(pod, "True", now=now))
    return [
        Bind(namespace, name, node_name, tuple(conditions), resource_version=metadata.get("resourceVersion"), why=why),
        Event(
            ref(pod),
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {node_name}",
            "Normal",
            SCHEDULER_NAME,
        ),
    ]


def _unschedulable(pod: dict, message: str, why: str, *, now: datetime, nominated: str | None = None) -> list[Action]:
    condition = _condition(pod, "False", reason="Unschedulable", message=message, now=now)
    status = (pod.get("status") or {}).get("conditions") or []
    current = next((c for c in status if c.get("type") == "PodScheduled"), None)
    unchanged = current is not None and all(
        current.get(key) == condition.get(key) for key in ("status", "reason", "message")
    )
    nominated_now = (pod.get("status") or {}).get("nominatedNodeName")
    if unchanged and (nominated is None or nominated == nominated_now):
        return []  # quiet: the condition already says so
    patch: dict = {"conditions": _with_condition(pod, condition)}
    if nominated is not None and nominated != nominated_now:
        patch["nominatedNodeName"] = nominated
    metadata = pod["metadata"]
    actions: list[Action] = [
        Patch("v1", "Pod", metadata.get("namespace", ""), metadata["name"], {"status": patch}, "status", why=why)
    ]
    if not unchanged:
        actions.append(Event(ref(pod), "FailedScheduling", message, "Warning", SCHEDULER_NAME))
    return actions


# --- prefilter ---------------------------------------------------------------------------------


def _affinity_prefilter(pod: dict) -> set[str] | _Status | None:
    """NodeAffinity's PreFilter: the node names required through `matchFields` on
    `metadata.name`, or None when some term leaves every node eligible."""
    terms = _required_terms(pod["spec"])
    if not terms:
        return None
    names: set[str] = set()
    for term in terms:
        term_names: set[str] | None = None
        for requirement in term.get("matchFields") or []:
            if requirement.get("key") == "metadata.name" and requirement.get("operator") == "In":
                values = set(requirement.get("values") or [])
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return None  # terms are ORed: one term without a name constraint admits every node
        names |= term_names
    if not names:
        return _Status(UNRESOLVABLE, (REASON_AFFINITY_CONFLICT,))
    return names


def _volume_prefilter(state: ClusterState, pod: dict) -> _Status | None:
    """VolumeBinding's PreFilter: every claim must exist, not be going away, and be bound
    unless its class waits for the first consumer."""
    namespace = pod["metadata"].get("namespace", "")
    unbound_immediate = False
    for claim_name in _claim_names(pod):
        claim = state.get("PersistentVolumeClaim", namespace, claim_name)
        if claim is None:
            return _Status(UNRESOLVABLE, (f'persistentvolumeclaim "{claim_name}" not found',))
        if claim["metadata"].get("deletionTimestamp"):
            return _Status(UNRESOLVABLE, (f'persistentvolumeclaim "{claim_name}" is being deleted',))
        if not _claim_bound(claim) and not _waits_for_first_consumer(state, claim):
            unbound_immediate = True
    if unbound_immediate:
        return _Status(UNRESOLVABLE, (REASON_UNBOUND_IMMEDIATE_CLAIMS,))
    return None


def _claims_waiting_for_a_node(state: ClusterState, pod: dict, node_name: str) -> list[Action] | None:
    """VolumeBinding's PreBind: claims of a WaitForFirstConsumer class learn the chosen node
    (`volume.kubernetes.io/selected-node`) and the pod waits, unbound, until they are bound."""
    namespace = pod["metadata"].get("namespace", "")
    claims = [state.get("PersistentVolumeClaim", namespace, name) for name in _claim_names(pod)]
    unbound = [claim for claim in claims if claim is not None and not _claim_bound(claim)]
    if not unbound:
        return None
    return [
        Patch(
            "v1",
            "PersistentVolumeClaim",
            namespace,
            claim["metadata"]["name"],
            {"metadata": {"annotations": {SELECTED_NODE: node_name}}},
            why=(
                f"pod {_name(pod)} fits {node_name} and its claim {claim['metadata']['name']} waits for the first "
                f"pod using it: asking for a volume on {node_name}"
            ),
        )
        for claim in unbound
        if (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE) is None
    ]


def _claim_names(pod: dict) -> list[str]:
    names = []
    for volume in pod["spec"].get("volumes") or []:
        source = volume.get("persistentVolumeClaim")
        if isinstance(source, dict) and source.get("claimName"):
            names.append(source["claimName"])
    return names


def _claim_bound(claim: dict) -> bool:
    """isPVCFullyBound: a volume named and the binder's `bind-completed` annotation set."""
    annotations = claim["metadata"].get("annotations") or {}
    return bool((claim.get("spec") or {}).get("volumeName")) and BIND_COMPLETED in annotations


def _waits_for_first_consumer(state: ClusterState, claim: dict) -> bool:
    class_name = (claim.get("spec") or {}).get("storageClassName")
    storage_class = state.get("StorageClass", "", class_name) if class_name else None
    return storage_class is not None and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"


# --- filters -------------------------------------------------------------------------------------


def _filter(pod: dict, node: _Node) -> _Status | None:
    for plugin in (_node_unschedulable, _taint_toleration, _node_affinity, _node_ports, _node_resources_fit):
        status = plugin(pod, node)
        if status is not None:
            return status
    return None


def _node_unschedulable(pod: dict, node: _Node) -> _Status | None:
    if (node.body.get("spec") or {}).get("unschedulable") and not _tolerated(pod, UNSCHEDULABLE_TAINT):
        return _Status(UNRESOLVABLE, (REASON_UNSCHEDULABLE_NODE,))
    return None


def _taint_toleration(pod: dict, node: _Node) -> _Status | None:
    for taint in _taints(node.body):
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(pod, taint):
            reason = f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"
            return _Status(UNRESOLVABLE, (reason,))
    return None


def _node_affinity(pod: dict, node: _Node) -> _Status | None:
    selector = pod["spec"].get("nodeSelector") or {}
    if any(node.labels.get(key) != value for key, value in selector.items()):
        return _Status(UNRESOLVABLE, (REASON_AFFINITY,))
    terms = _required_terms(pod["spec"])
    if terms and not any(_term_matches(term, node.body) for term in terms):
        return _Status(UNRESOLVABLE, (REASON_AFFINITY,))
    return None


def _node_ports(pod: dict, node: _Node) -> _Status | None:
    for ip, protocol, port in _host_ports(pod["spec"]):
        for used_ip, used_protocol, used_port in node.ports:
            if (used_protocol, used_port) != (protocol, port):
                continue
            if ip == "0.0.0.0" or used_ip == "0.0.0.0" or ip == used_ip:  # noqa: S104 (the wildcard, not a bind)
                return _Status(UNSCHEDULABLE, (REASON_PORTS,))
    return None


def _node_resources_fit(pod: dict, node: _Node) -> _Status | None:
    allocatable = node.allocatable
    reasons, unresolvable = [], False
    if len(node.pods) + 1 > allocatable.get("pods", 0):
        reasons.append(REASON_TOO_MANY_PODS)
    request = _pod_requests(pod["spec"])
    for resource in sorted(request, key=_resource_order):
        wanted = request[resource]
        if wanted <= 0 or resource == "pods":
            continue
        if wanted > allocatable.get(resource, 0) - node.requested.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
            unresolvable = unresolvable or wanted > allocatable.get(resource, 0)
    if not reasons:
        return None
    return _Status(UNRESOLVABLE if unresolvable else UNSCHEDULABLE, tuple(reasons))


def _resource_order(resource: str) -> tuple[int, str]:
    known = ("cpu", "memory", "ephemeral-storage")
    return (known.index(resource) if resource in known else len(known), resource)


# --- scoring ---------------------------------------------------------------------------------------


def _score(pod: dict, node: _Node) -> tuple:
    return (
        _untolerated_prefer_no_schedule(pod, node),
        -_preferred_affinity_weight(pod, node),
        _same_group_pods(pod, node),
        _requested_fraction(pod, node),
        node.name,
    )


def _untolerated_prefer_no_schedule(pod: dict, node: _Node) -> int:
    return sum(
        1 for taint in _taints(node.body) if taint.get("effect") == "PreferNoSchedule" and not _tolerated(pod, taint)
    )


def _preferred_affinity_weight(pod: dict, node: _Node) -> int:
    affinity = ((pod["spec"].get("affinity") or {}).get("nodeAffinity")) or {}
    preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    return sum(
        int(term.get("weight") or 0) for term in preferred if _term_matches(term.get("preference") or {}, node.body)
    )


def _same_group_pods(pod: dict, node: _Node) -> int:
    """Spreading: pods of the same controller on the node; for a pod without one, pods in the
    same namespace with the same labels."""
    namespace = pod["metadata"].get("namespace", "")
    owner = _controller_uid(pod)
    labels = pod["metadata"].get("labels") or {}
    count = 0
    for other in node.pods:
        if other["metadata"].get("namespace", "") != namespace:
            continue
        if owner is not None:
            count += _controller_uid(other) == owner
        elif labels:
            count += (other["metadata"].get("labels") or {}) == labels
    return count


def _requested_fraction(pod: dict, node: _Node) -> float:
    allocatable = node.allocatable
    request = _pod_requests(pod["spec"], non_zero=True)
    fractions = []
    for resource in ("cpu", "memory"):
        capacity = allocatable.get(resource, 0)
        used = node.non_zero.get(resource, 0) + request.get(resource, 0)
        fractions.append(used / capacity if capacity else 1.0)
    return sum(fractions) / len(fractions)


def _controller_uid(pod: dict) -> str | None:
    reference = controller_ref(pod)
    return reference.get("uid") if reference else None


# --- preemption (the DefaultPreemption PostFilter) ------------------------------------------------


def _after_failure(
    pod: dict,
    nodes: dict[str, _Node],
    statuses: dict[str, _Status],
    message: str,
    *,
    prefilter_failed: bool,
    now: datetime,
) -> list[Action]:
    no_fit = _no_fit_why(pod, message)
    eligible, why_not = _eligible_to_preempt(pod, nodes, statuses)
    if not eligible:
        return _unschedulable(pod, f"{message} preemption: {why_not}", no_fit, now=now)
    potential = [] if prefilter_failed else [n for n in nodes.values() if statuses[n.name].code == UNSCHEDULABLE]
    outcomes: dict[str, _Status] = {}
    candidates: list[tuple[tuple, str, list[dict]]] = []
    for node in potential:
        victims, status = _victims_on(pod, node)
        if status is not None:
            outcomes[node.name] = status
        else:
            priorities = [_priority(victim) for victim in victims]
            rank = (max(priorities), len(victims), sum(priorities), node.name)
            candidates.append((rank, node.name, victims))
    if not candidates:
        absent = _Status(UNRESOLVABLE, (PREEMPTION_NOT_HELPFUL,))
        statuses_after = {name: outcomes.get(name, absent) for name in nodes}
        preemption = _fit_error(len(nodes), statuses=statuses_after)
        return _unschedulable(pod, f"{message} preemption: {preemption}", no_fit, now=now)
    _, node_name, victims = min(candidates)
    actions: list[Action] = []
    for victim in victims:
        actions.extend(_preempt(victim, pod, node_name, now=now))
    nominated = (
        f"pod {_name(pod)} fits no node, but {node_name} has room once "
        f"{counted(len(victims), 'lower-priority pod')} {'is' if len(victims) == 1 else 'are'} preempted: "
        f"nominating {node_name}"
    )
    return actions + _unschedulable(pod, message, nominated, now=now, nominated=node_name)


def _eligible_to_preempt(pod: dict, nodes: dict[str, _Node], statuses: dict[str, _Status]) -> tuple[bool, str]:
    if pod["spec"].get("preemptionPolicy") == "Never":
        return False, NOT_ELIGIBLE_POLICY
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    node = nodes.get(nominated or "")
    if node is None or (nominated in statuses and statuses[nominated].code == UNRESOLVABLE):
        return True, ""
    for other in node.pods:
        if _priority(other) < _priority(pod) and _terminating_by_preemption(other):
            return False, NOT_ELIGIBLE_TERMINATING
    return True, ""


def _victims_on(pod: dict, node: _Node) -> tuple[list[dict], _Status | None]:
    """SelectVictimsOnNode: remove every lower-priority pod; if the pod then fits, give back
    as many as still leave room, most important first."""
    potential = [other for other in node.pods if _priority(other) < _priority(pod)]
    if not potential:
        return [], _Status(UNRESOLVABLE, (NO_VICTIMS,))
    status = _filter(pod, node.without(potential))
    if status is not None:
        return [], status
    removed, victims = list(potential), []
    for candidate in sorted(potential, key=_importance):
        removed.remove(candidate)  # give it back: it is reprieved if the pod still fits
        if _filter(pod, node.without(removed)) is not None:
            removed.append(candidate)
            victims.append(candidate)
    return victims, None


def _importance(pod: dict) -> tuple:
    # MoreImportantPod: higher priority, then the pod that started earlier.
    status = pod.get("status") or {}
    return (-_priority(pod), status.get("startTime") or "9999", pod["metadata"]["name"])


def _preempt(victim: dict, preemptor: dict, node_name: str, *, now: datetime) -> list[Action]:
    metadata = victim["metadata"]
    condition: dict = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None}
    if metadata.get("generation") is not None:
        condition["observedGeneration"] = metadata["generation"]
    condition.update(
        lastTransitionTime=format_time(now),
        reason="PreemptionByScheduler",
        message=f"{SCHEDULER_NAME}: preempting to accommodate a higher priority pod",
    )
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    why = (
        f"pod {_name(preemptor)} (priority {_priority(preemptor)}) needs room on {node_name}: "
        f"preempting pod {name} (priority {_priority(victim)})"
    )
    conditions = _with_condition(victim, condition)
    return [
        Patch("v1", "Pod", namespace, name, {"status": {"conditions": conditions}}, "status", why=why),
        Delete("v1", "Pod", namespace, name, uid=metadata["uid"], why=why),
        Event(
            ref(victim),
            "Preempted",
            f"Preempted by pod {preemptor['metadata']['uid']} on node {node_name}",
            "Normal",
            SCHEDULER_NAME,
        ),
    ]


def _terminating_by_preemption(pod: dict) -> bool:
    if not is_being_deleted(pod):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "DisruptionTarget":
            return condition.get("status") == "True" and condition.get("reason") == "PreemptionByScheduler"
    return False


def _priority(pod: dict) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


# --- messages --------------------------------------------------------------------------------------


def _no_fit_why(pod: dict, fit_error: str) -> str:
    """`pod web-x2k fits no node: 0/2 nodes are available: 2 Insufficient cpu.`"""
    return shortened(f"pod {_name(pod)} fits no node: {fit_error}")


def _choice_why(pod: dict, best: _Node, runner_up: _Node | None) -> str:
    """Why the pod goes to `best`: the first score that sets it apart from the next best node,
    in words (`pod web-x2k has no node: node-1 fits (1 pod of its owner vs 2 on node-2)`)."""
    start = f"pod {_name(pod)} has no node: {best.name}"
    if runner_up is None:
        return f"{start} is the only node that fits"
    other = runner_up.name
    mine, theirs = _score(pod, best), _score(pod, runner_up)
    if mine[0] != theirs[0]:
        reason = f"{other} has a PreferNoSchedule taint the pod does not tolerate"
    elif mine[1] != theirs[1]:
        reason = f"it matches the pod's preferred node affinity better than {other}"
    elif mine[2] != theirs[2]:
        group = "of its owner" if _controller_uid(pod) is not None else "with its labels"
        reason = f"{counted(mine[2], 'pod')} {group} vs {theirs[2]} on {other}"
    elif mine[3] != theirs[3]:
        reason = f"less busy: {mine[3]:.0%} of its CPU and memory requested vs {theirs[3]:.0%} on {other}"
    else:
        reason = f"a tie with {other}, broken by name"
    return f"{start} fits ({reason})"


def _fit_error(node_count: int, *, statuses: dict[str, _Status], prefilter_message: str = "") -> str:
    """FitError.Error(): `0/N nodes are available: <count> <reason>, ….` with the counted
    reasons sorted as strings, exactly as upstream sorts them."""
    message = f"0/{node_count} nodes are available:"
    if prefilter_message:
        return f"{message} {prefilter_message}."
    histogram = Counter(reason for status in statuses.values() for reason in status.reasons)
    if histogram:
        message += " " + ", ".join(sorted(f"{count} {reason}" for reason, count in histogram.items())) + "."
    return message


# --- conditions --------------------------------------------------------------------------------------


def _condition(pod: dict, status: str, *, now: datetime, reason: str = "", message: str = "") -> dict:
    existing = next(
        (c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), None
    )
    transition = existing.get("lastTransitionTime") if existing and existing.get("status") == status else None
    condition: dict = {"type": "PodScheduled", "status": status, "lastProbeTime": None}
    generation = pod["metadata"].get("generation")
    if generation is not None:
        condition["observedGeneration"] = generation
    condition["lastTransitionTime"] = transition or format_time(now)
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _with_condition(pod: dict, condition: dict) -> list[dict]:
    """The whole conditions list with `condition` in place (a merge patch replaces lists)."""
    conditions = [dict(c) for c in (pod.get("status") or {}).get("conditions") or []]
    for index, existing in enumerate(conditions):
        if existing.get("type") == condition["type"]:
            conditions[index] = condition
            return conditions
    return [*conditions, condition]


# --- node affinity, taints and tolerations -------------------------------------------------------------


def _required_terms(spec: dict) -> list[dict]:
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return list(required.get("nodeSelectorTerms") or [])


def _term_matches(term: dict, node: dict) -> bool:
    """A NodeSelectorTerm: its expressions and fields are ANDed; an empty term matches nothing."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = node["metadata"].get("labels") or {}
    node_fields = {"metadata.name": node["metadata"]["name"]}
    return all(_requirement_matches(r, labels) for r in expressions) and all(
        _requirement_matches(r, node_fields) for r in fields
    )


def _requirement_matches(requirement: dict, values: dict) -> bool:
    key, operator = requirement.get("key", ""), requirement.get("operator", "")
    wanted = requirement.get("values") or []
    present, value = key in values, values.get(key)
    match operator:
        case "In":
            return present and value in wanted
        case "NotIn":
            return not present or value not in wanted
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
        case "Gt" | "Lt":
            try:
                have, limit = int(value), int(wanted[0])
            except (TypeError, ValueError, IndexError):
                return False
            return have > limit if operator == "Gt" else have < limit
    return False


def _taints(node: dict) -> list[dict]:
    """The node's taints, plus the one the node lifecycle controller adds to a node that is not Ready."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    ready = next(
        (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"),
        None,
    )
    status = ready.get("status") if ready else "False"
    implied = None if status == "True" else UNREACHABLE_TAINT if status == "Unknown" else NOT_READY_TAINT
    if implied and not any((t.get("key"), t.get("effect")) == (implied["key"], implied["effect"]) for t in taints):
        taints.append(dict(implied))
    return taints


def _tolerated(pod: dict, taint: dict) -> bool:
    return any(_tolerates(toleration, taint) for toleration in pod["spec"].get("tolerations") or [])


def _tolerates(toleration: dict, taint: dict) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


# --- requests and ports -----------------------------------------------------------------------------


def _amount(resource: str, raw: object) -> int:
    """A quantity as the scheduler compares it: milli-units for cpu, whole units otherwise (rounded up)."""
    try:
        quantity = quantity_from_json(raw)
    except QuantityError:
        return 0
    return quantity.milli_value() if resource == "cpu" else quantity.int_value()


def _container_requests(container: dict, *, non_zero: bool) -> Counter:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    amounts = Counter()
    # The API server defaults a request to its limit when only the limit is given.
    for resource in {*requests, *limits}:
        raw = requests.get(resource, limits.get(resource))
        amounts[resource] = _amount(resource, raw)
    if non_zero:
        if "cpu" not in requests and "cpu" not in limits:
            amounts["cpu"] = DEFAULT_MILLI_CPU
        if "memory" not in requests and "memory" not in limits:
            amounts["memory"] = DEFAULT_MEMORY
    return amounts


def _pod_requests(spec: dict, *, non_zero: bool = False) -> Counter:
    """resourcehelper.PodRequests: containers add up; an init container counts alone (plus the
    sidecars started before it); the pod asks for the larger of the two, plus its overhead."""
    total = Counter()
    for container in spec.get("containers") or []:
        total.update(_container_requests(container, non_zero=non_zero))
    sidecars, init_peak = Counter(), Counter()
    for container in spec.get("initContainers") or []:
        requests = _container_requests(container, non_zero=non_zero)
        if container.get("restartPolicy") == "Always":
            sidecars.update(requests)
            running = Counter(sidecars)
        else:
            running = requests + sidecars
        init_peak = init_peak | running
    total.update(sidecars)
    total = total | init_peak
    for resource, raw in (spec.get("overhead") or {}).items():
        total[resource] += _amount(resource, raw)
    return total


def _host_ports(spec: dict) -> set[tuple[str, str, int]]:
    ports = set()
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            host_port = int(port.get("hostPort") or 0)
            if host_port > 0:
                ports.add((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))  # noqa: S104
    return ports


# --- small helpers -----------------------------------------------------------------------------------------


def _name(obj: dict) -> str:
    return obj["metadata"]["name"]
