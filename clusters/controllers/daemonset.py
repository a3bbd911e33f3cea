"""The DaemonSet controller's planner (upstream `pkg/controller/daemon`).

For every DaemonSet of a sandbox (not being deleted), one pass:

1. decides, node by node, whether a daemon pod should run there (upstream NodeShouldRunDaemonPod):
   the template's `nodeName`, `nodeSelector` and required node affinity must match, and the node's
   NoSchedule/NoExecute taints must be tolerated — by the template's tolerations plus those every
   daemon pod gets (`node.kubernetes.io/not-ready` and `unreachable` NoExecute; `disk-pressure`,
   `memory-pressure`, `pid-pressure`, `unschedulable`, and with hostNetwork `network-unavailable`,
   NoSchedule). A node's readiness does not matter, nor `spec.unschedulable` beyond its taint. An
   untolerated NoSchedule taint stops new pods but lets a running one stay; NoExecute does not;
2. creates the missing pods (`SuccessfulCreate`) — bound to their node the way upstream does it, by a
   required node affinity `matchFields: metadata.name In [<node>]` that replaces the template's
   terms, so the scheduler binds them — and deletes the extras (`SuccessfulDelete`): all but the
   oldest pod on a node, pods on nodes that should not run one, Failed pods (with the Warning
   `FailedDaemonPod`) and Succeeded ones. Pods aimed at nodes that no longer exist are deleted too,
   with no grace period as their kubelet is gone (upstream leaves bound ones to the pod GC);
3. when nothing was created or deleted, rolls a changed template out with the RollingUpdate
   strategy (upstream's rollingUpdate): without surge, old pods are deleted, highest priority to
   unavailable ones, while at most `maxUnavailable` (default 1) nodes lack an available pod, and
   step 2 creates their replacements; with `maxSurge`, a new pod starts beside the old one, which
   goes once the new one is available. OnDelete replaces pods only when someone deletes them;
4. writes the status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
   numberReady, numberAvailable, numberUnavailable, updatedNumberScheduled, observedGeneration.

ControllerRevision objects are not served here: the revision is a hash of the pod template
(fnv-32a over its canonical JSON, encoded with the API server's safe alphabet), carried by the pods
in the `controller-revision-hash` label as upstream's revision hash is; `pod-template-generation`
is added when the DaemonSet has the `deprecated.daemonset.template.generation` annotation. Pods get
`generateName: <ds>-` and a name chosen here as the API server would, so that events can name them.

Left out: adopting orphan pods that match the selector, the failed-pod backoff (a Failed pod is
deleted at once), `collisionCount`, and conditions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from datetime import datetime

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, owner_reference, ref
from clusters.controllers.pods import (
    counted,
    is_available,
    is_being_deleted,
    is_controlled_by,
    is_failed,
    is_ready,
    is_succeeded,
    is_terminal,
    listed,
)
from clusters.controllers.state import ClusterState

SOURCE = "daemonset-controller"
REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
BURST_REPLICAS = 250
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATED_NAME_BASE = 58
NODE_NAME_FIELD = "metadata.name"
_NO_SCHEDULE_TAINTS = (
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
)


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    """Everything the DaemonSet controller would do in this sandbox right now."""
    nodes = sorted(state.objects("Node"), key=lambda n: n["metadata"]["name"])
    actions: list[Action] = []
    for daemon_set in sorted(state.objects("DaemonSet"), key=_key):
        actions += _sync(state, daemon_set, nodes, now)
    return actions


def template_hash(template: dict) -> str:
    """The revision hash of a pod template (stands in for upstream's ControllerRevision hash)."""
    value = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True, separators=(",", ":")).encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(NAME_ALPHABET[ord(char) % len(NAME_ALPHABET)] for char in str(value))


def _sync(state: ClusterState, ds: dict, nodes: list[dict], now: datetime) -> list[Action]:
    if ds["metadata"].get("deletionTimestamp"):
        return []  # upstream cannot trust its history then, and writes nothing
    selector = ds["spec"].get("selector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return []  # selects every pod: upstream refuses (a Warning it repeats on every sync)
    revision = template_hash(ds["spec"]["template"])
    namespace = ds["metadata"].get("namespace", "")
    pods = [p for p in state.objects("Pod", namespace) if is_controlled_by(p, ds)]
    by_node = _nodes_to_daemon_pods(pods)
    taken = {p["metadata"]["name"] for p in state.objects("Pod", namespace)}

    create_on, doomed, events = _manage(ds, nodes, by_node, revision, now)
    existing = {n["metadata"]["name"] for n in nodes}
    for node_name in sorted(set(by_node) - existing):
        why = f"{node_name} is gone: deleting DaemonSet {ds['metadata']['name']}'s pod there at once"
        doomed += [(p, why) for p in by_node[node_name] if not is_being_deleted(p)]
    why = _missing_why(ds, nodes, create_on) if create_on else ""
    if not create_on and not doomed and ds["spec"].get("updateStrategy", {}).get("type") == "RollingUpdate":
        create_on, doomed = _rolling_update(ds, nodes, by_node, revision, now)
        why = f"{_rolling(ds)}: starting a new pod beside the old one on {listed(create_on)} (maxSurge)"

    actions: list[Action] = list(events)
    for node_name in create_on[:BURST_REPLICAS]:
        pod = _new_pod(ds, node_name, revision)
        pod["metadata"]["name"] = _generated_name(ds, node_name, taken, now)
        taken.add(pod["metadata"]["name"])
        actions.append(Create(pod, why=why))
        actions.append(Event(ref(ds), "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", source=SOURCE))
    for pod, why in doomed[:BURST_REPLICAS]:
        metadata = pod["metadata"]
        gone = pod["spec"].get("nodeName") and pod["spec"]["nodeName"] not in existing
        actions.append(
            Delete(
                "v1",
                "Pod",
                namespace,
                metadata["name"],
                uid=metadata["uid"],
                grace_period=0 if gone else None,
                why=why,
            )
        )
        actions.append(Event(ref(ds), "SuccessfulDelete", f"Deleted pod: {metadata['name']}", source=SOURCE))
    actions += _status(ds, nodes, by_node, revision, now)
    return actions


def _missing_why(ds: dict, nodes: list[dict], create_on: list[str]) -> str:
    """`DaemonSet fluentd wants a pod on every node: node-2 has none` (one sentence for all the
    pass's creates, which the store then makes together)."""
    wanted = sum(1 for node in nodes if node_should_run_daemon_pod(node, ds)[0])
    where = "every node" if wanted == len(nodes) else f"{wanted} of {counted(len(nodes), 'node')}"
    lacking = "has none" if len(create_on) == 1 else "have none"
    return f"DaemonSet {ds['metadata']['name']} wants a pod on {where}: {listed(create_on)} {lacking}"


def _rolling(ds: dict) -> str:
    return f"DaemonSet {ds['metadata']['name']} rolls out a new pod template"


def _replaced(ds: dict, node_name: str) -> str:
    """Why a surging rollout deletes a node's old pod."""
    return f"{_rolling(ds)}: the new pod on {node_name} is available: deleting the old one"


def _nodes_to_daemon_pods(pods: list[dict]) -> dict[str, list[dict]]:
    """Upstream getNodesToDaemonPods: pods by the node they are bound or aimed at, leaving out those
    already finished and being deleted."""
    by_node: dict[str, list[dict]] = {}
    for pod in pods:
        if is_being_deleted(pod) and is_terminal(pod):
            continue
        node_name = _target_node(pod)
        if node_name:
            by_node.setdefault(node_name, []).append(pod)
    for node_pods in by_node.values():
        node_pods.sort(key=_creation_order)
    return by_node


def _target_node(pod: dict) -> str | None:
    """Upstream GetTargetNodeName: `spec.nodeName`, else the node named by the affinity we set."""
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    required = _required_affinity(pod["spec"])
    for term in (required or {}).get("nodeSelectorTerms") or []:
        for requirement in term.get("matchFields") or []:
            values = requirement.get("values") or []
            if requirement.get("key") == NODE_NAME_FIELD and requirement.get("operator") == "In" and len(values) == 1:
                return values[0]
    return None


def _creation_order(pod: dict) -> tuple:
    """Upstream podByCreationTimestampAndPhase: scheduled pods first, then oldest, then by name."""
    return (not pod["spec"].get("nodeName"), pod["metadata"].get("creationTimestamp", ""), pod["metadata"]["name"])


# --- which nodes, which pods -----------------------------------------------------------------


def _manage(
    ds: dict, nodes: list[dict], by_node: dict[str, list[dict]], revision: str, now: datetime
) -> tuple[list[str], list[tuple[dict, str]], list[Action]]:
    """Upstream manage/podsShouldBeOnNode: the nodes that need a pod, the pods to delete (each with
    why), and events."""
    create_on: list[str] = []
    doomed: list[tuple[dict, str]] = []
    events: list[Action] = []
    surge = _allows_surge(ds)
    owner = f"DaemonSet {ds['metadata']['name']}"
    for node in nodes:
        name = node["metadata"]["name"]
        should_run, should_continue = node_should_run_daemon_pod(node, ds)
        daemon_pods = by_node.get(name, [])
        if should_run and not daemon_pods:
            create_on.append(name)
        elif should_continue:
            running = []
            for pod in daemon_pods:
                if is_being_deleted(pod):
                    continue
                if is_failed(pod):
                    message = (
                        f"Found failed daemon pod {pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"
                        f" on node {name}, will try to kill it"
                    )
                    events.append(Event(ref(ds), "FailedDaemonPod", message, "Warning", SOURCE))
                    doomed.append((pod, f"{owner}'s pod {pod['metadata']['name']} on {name} failed: deleting it"))
                elif is_succeeded(pod):
                    doomed.append((pod, f"{owner}'s pod {pod['metadata']['name']} on {name} exited: deleting it"))
                else:
                    running.append(pod)
            if not surge:
                # all but the oldest
                why = f"{name} has {len(running)} pods of {owner}: deleting all but the oldest"
                doomed += [(pod, why) for pod in running[1:]]
            elif not running:
                if should_run:
                    create_on.append(name)
            else:
                doomed += _surplus_while_surging(ds, name, running, revision, now)
        elif daemon_pods:
            why = f"{name} no longer fits {owner} (its node selector, affinity or tolerations): deleting its pod"
            doomed += [(p, why) for p in daemon_pods if not is_being_deleted(p)]
    return create_on, doomed, events


def _surplus_while_surging(
    ds: dict, node_name: str, running: list[dict], revision: str, now: datetime
) -> list[tuple[dict, str]]:
    """With surge, a node keeps its oldest new pod, and its oldest old pod only while the old one is
    ready and the new one not yet available."""
    newest: dict | None = None
    oldest_old: dict | None = None
    surplus = []
    extra = f"{node_name} has more pods of DaemonSet {ds['metadata']['name']} than a rollout needs: deleting one"
    for pod in running:
        if _revision(pod) == revision and newest is None:
            newest = pod
        elif _revision(pod) != revision and oldest_old is None:
            oldest_old = pod
        else:
            surplus.append((pod, extra))
    if newest is not None and oldest_old is not None:
        min_ready = ds["spec"].get("minReadySeconds", 0)
        if is_available(newest, min_ready, now):
            surplus.append((oldest_old, _replaced(ds, node_name)))
        elif not is_ready(oldest_old):
            surplus.append((oldest_old, f"{_rolling(ds)}: the old pod on {node_name} is not ready: deleting it"))
    return surplus


def node_should_run_daemon_pod(node: dict, ds: dict) -> tuple[bool, bool]:
    """Upstream NodeShouldRunDaemonPod: (should run a new daemon pod, may keep a running one)."""
    spec = ds["spec"]["template"].get("spec") or {}
    if spec.get("nodeName") and spec["nodeName"] != node["metadata"]["name"]:
        return False, False
    if not _fits_node_affinity(spec, node):
        return False, False
    tolerations = _daemon_tolerations(spec)
    taints = (node.get("spec") or {}).get("taints") or []
    untolerated = [t for t in taints if not any(_tolerates(toleration, t) for toleration in tolerations)]
    if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in untolerated):
        return False, not any(t.get("effect") == "NoExecute" for t in untolerated)
    return True, True


def _daemon_tolerations(spec: dict) -> list[dict]:
    """Upstream AddOrUpdateDaemonPodTolerations: the template's tolerations plus the daemon ones."""
    tolerations = copy.deepcopy(spec.get("tolerations") or [])
    wanted = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        *({"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in _NO_SCHEDULE_TAINTS),
    ]
    if spec.get("hostNetwork"):
        wanted.append({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"})
    for toleration in wanted:
        # Upstream replaces a toleration for the same key, operator, value and effect, else appends.
        same = [
            i
            for i, t in enumerate(tolerations)
            if (t.get("key"), t.get("operator", "Equal"), t.get("value", ""), t.get("effect", ""))
            == (toleration["key"], "Exists", "", toleration["effect"])
        ]
        if same:
            tolerations[same[0]] = toleration
        else:
            tolerations.append(toleration)
    return tolerations


def _tolerates(toleration: dict, taint: dict) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return toleration.get("operator", "Equal") == "Equal" and toleration.get("value", "") == taint.get("value", "")


def _fits_node_affinity(spec: dict, node: dict) -> bool:
    """The template's nodeSelector and required node affinity (ORed terms, each ANDing its parts)."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(key) != value for key, value in (spec.get("nodeSelector") or {}).items()):
        return False
    required = _required_affinity(spec)
    if required is None:
        return True
    fields = {NODE_NAME_FIELD: node["metadata"]["name"]}
    for term in required.get("nodeSelectorTerms") or []:
        expressions, field_requirements = term.get("matchExpressions") or [], term.get("matchFields") or []
        if not expressions and not field_requirements:
            continue  # an empty term matches nothing
        if all(_requirement_matches(r, labels) for r in expressions) and all(
            _requirement_matches(r, fields) for r in field_requirements
        ):
            return True
    return False


def _requirement_matches(requirement: dict, values: dict[str, str]) -> bool:
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
        case "Gt" | "Lt" if present and len(wanted) == 1:
            try:
                actual, bound = int(value), int(wanted[0])
            except ValueError:
                return False
            return actual > bound if operator == "Gt" else actual < bound
    return False


def _required_affinity(spec: dict) -> dict | None:
    return ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )


# --- rolling update ---------------------------------------------------------------------------


def _rolling_update(
    ds: dict, nodes: list[dict], by_node: dict[str, list[dict]], revision: str, now: datetime
) -> tuple[list[str], list[tuple[dict, str]]]:
    """Upstream rollingUpdate: which old pods to delete, each with why (and, surging, where to
    start new ones)."""
    min_ready = ds["spec"].get("minReadySeconds", 0)
    should_run = {n["metadata"]["name"]: node_should_run_daemon_pod(n, ds)[0] for n in nodes}
    desired = sum(should_run.values())
    candidates = dict(by_node)
    for name, wanted in should_run.items():
        if wanted:
            candidates.setdefault(name, [])
    max_surge, max_unavailable = _update_budget(ds, desired)
    if max_surge == 0:
        unavailable, replace_now, optional = 0, [], []
        for name in sorted(candidates):
            new, old, consistent = _updated_pods_on_node(candidates[name], revision)
            if not consistent or (old is None) == (new is None):
                unavailable += 1  # nothing there, or both: the manage step sorts it out
            elif new is not None:
                unavailable += 0 if is_available(new, min_ready, now) else 1
            elif not is_available(old, min_ready, now):
                replace_now.append(old)
            elif unavailable < max_unavailable:
                optional.append(old)
        budget = min(max(0, max_unavailable - unavailable), len(optional))
        rolling = _rolling(ds)
        return [], [
            *(
                (pod, f"{rolling}: the old pod on {_target_node(pod)} is not available anyway: replacing it")
                for pod in replace_now
            ),
            *(
                (pod, f"{rolling}: replacing the old pod on {_target_node(pod)} (maxUnavailable {max_unavailable})")
                for pod in optional[:budget]
            ),
        ]

    surged, available = 0, 0
    rolling = _rolling(ds)
    doomed: list[tuple[dict, str]] = []
    leaving: list[dict] = []  # old pods on nodes that should no longer run one
    allowed: list[str] = []
    optional_nodes: list[str] = []
    for name in sorted(candidates):
        new, old, consistent = _updated_pods_on_node(candidates[name], revision)
        if not consistent:
            surged += 1
            continue
        current = old if old is not None else new
        if current is not None and is_available(current, min_ready, now):
            available += 1
        if old is None:
            continue
        if new is None:
            if not is_available(old, min_ready, now):
                if should_run.get(name):
                    allowed.append(name)
                else:
                    doomed.append(
                        (old, f"{rolling}: {name} no longer fits it and its old pod is not available: deleting it")
                    )
            elif not should_run.get(name):
                leaving.append(old)
            elif surged < max_surge:
                optional_nodes.append(name)
        elif not is_available(new, min_ready, now):
            surged += 1
        else:
            doomed.append((old, _replaced(ds, name)))
    # Only give up a pod on a node that no longer qualifies once enough others are available.
    doomed += [
        (
            pod,
            f"{rolling}: {_target_node(pod)} no longer fits it and enough pods are available: deleting its old pod",
        )
        for pod in leaving[: max(0, min(available - desired, len(leaving)))]
    ]
    budget = min(max(0, max_surge - surged), len(optional_nodes))
    return allowed + optional_nodes[:budget], doomed


def _updated_pods_on_node(pods: list[dict], revision: str) -> tuple[dict | None, dict | None, bool]:
    """Upstream findUpdatedPodsOnNode: (new pod, old pod, whether there is at most one of each)."""
    new = old = None
    for pod in pods:
        if is_being_deleted(pod):
            continue
        if _revision(pod) == revision:
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def _update_budget(ds: dict, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for this many desired nodes, percentages rounded up; with neither
    allowed, one node may be unavailable."""
    strategy = ds["spec"].get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge", 0), desired)
    unavailable = _scaled(rolling.get("maxUnavailable", 1), desired)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _allows_surge(ds: dict) -> bool:
    strategy = ds["spec"].get("updateStrategy") or {}
    return strategy.get("type") == "RollingUpdate" and _update_budget(ds, 1)[0] > 0


def _scaled(value: int | str, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


# --- pods -------------------------------------------------------------------------------------


def _new_pod(ds: dict, node_name: str, revision: str) -> dict:
    """Upstream CreatePodTemplate plus the node affinity that ties the pod to its node."""
    template = copy.deepcopy(ds["spec"]["template"])
    template_metadata = template.get("metadata") or {}
    labels = dict(template_metadata.get("labels") or {})
    generation = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    labels[REVISION_HASH] = revision
    metadata: dict = {
        "generateName": f"{ds['metadata']['name']}-",
        "namespace": ds["metadata"].get("namespace", "default"),
        "labels": labels,
    }
    for key in ("annotations", "finalizers"):
        if template_metadata.get(key):
            metadata[key] = copy.deepcopy(template_metadata[key])
    metadata["ownerReferences"] = [owner_reference(ds)]
    spec = template.get("spec") or {}
    spec["tolerations"] = _daemon_tolerations(spec)
    term = {"matchFields": [{"key": NODE_NAME_FIELD, "operator": "In", "values": [node_name]}]}
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    required["nodeSelectorTerms"] = [term]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _generated_name(ds: dict, node_name: str, taken: set[str], now: datetime) -> str:
    """A name as the API server would generate it, derived from the DaemonSet (its resourceVersion
    moves with every status write, so a replacement gets a new name), the node and `now`."""
    base = f"{ds['metadata']['name']}-"[:MAX_GENERATED_NAME_BASE]
    seed = f"{ds['metadata'].get('uid', '')}/{ds['metadata'].get('resourceVersion')}/{node_name}/{now.isoformat()}"
    attempt = 0
    while True:
        digest = hashlib.sha256(f"{seed}/{attempt}".encode()).digest()
        name = base + "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:5])
        if name not in taken:
            return name
        attempt += 1


# --- status -----------------------------------------------------------------------------------


def _status(ds: dict, nodes: list[dict], by_node: dict[str, list[dict]], revision: str, now: datetime) -> list[Action]:
    """Upstream updateDaemonSetStatus, from what this pass observed (before its own actions)."""
    min_ready = ds["spec"].get("minReadySeconds", 0)
    desired = current = misscheduled = ready = available = updated = 0
    for node in nodes:
        should_run, _ = node_should_run_daemon_pod(node, ds)
        pods = by_node.get(node["metadata"]["name"], [])
        if should_run:
            desired += 1
            if pods:
                current += 1
                oldest = pods[0]
                if is_ready(oldest):
                    ready += 1
                    available += 1 if is_available(oldest, min_ready, now) else 0
                updated += 1 if _revision(oldest) == revision else 0
        elif pods:
            misscheduled += 1
    old = ds.get("status") or {}
    status = {key: value for key, value in old.items() if key in ("collisionCount", "conditions")}
    status.update(
        currentNumberScheduled=current,
        numberMisscheduled=misscheduled,
        desiredNumberScheduled=desired,
        numberReady=ready,
    )
    optional = {
        "observedGeneration": ds["metadata"].get("generation", 0),
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
        "numberUnavailable": desired - available,
    }
    status.update({key: value for key, value in optional.items() if value})
    if status == old:
        return []
    metadata = ds["metadata"]
    patch = {key: None for key in old if key not in status} | {k: v for k, v in status.items() if old.get(k) != v}
    why = f"DaemonSet {metadata['name']} has a pod on {current} of {counted(desired, 'node')}, {ready} ready"
    if misscheduled:
        why += f", {misscheduled} where it should not run"
    return [
        Patch(
            "apps/v1",
            "DaemonSet",
            metadata.get("namespace", ""),
            metadata["name"],
            {"status": patch},
            subresource="status",
            resource_version=metadata.get("resourceVersion"),
            why=f"{why}: status updated",
        )
    ]


# --- small helpers ----------------------------------------------------------------------------


def _key(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _revision(pod: dict) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_HASH)
