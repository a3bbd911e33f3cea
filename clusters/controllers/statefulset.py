"""The StatefulSet controller's planner (upstream `pkg/controller/statefulset`).

For every StatefulSet of a sandbox, one pass (upstream updateStatefulSet):

1. sorts its pods by ordinal into replicas (`<sts>-<start>` … `<sts>-<start+replicas-1>`) and
   condemned ones (beyond the range);
2. walks the replicas in ordinal order. A missing one is created — its claims first, one per
   `volumeClaimTemplates` entry, named `<template>-<sts>-<ordinal>` (`SuccessfulCreate` "create
   Claim www-web-0 Pod web-0 in StatefulSet web success"), then the pod (`SuccessfulCreate` "create
   Pod web-0 in StatefulSet web successful") with labels `statefulset.kubernetes.io/pod-name`,
   `apps.kubernetes.io/pod-index` and `controller-revision-hash`, `hostname` = its name, `subdomain` =
   `serviceName`, and volumes pointing at its claims. A Failed or Succeeded pod is deleted and made
   again under the same name. With `podManagementPolicy: OrderedReady` the walk stops at the first
   pod it creates, or that is terminating, or not yet Running and Ready (and available for
   `minReadySeconds`): web-1 is made only once web-0 is Ready. `Parallel` walks on. A pod or claim
   the API server refuses (a quota) gets upstream's Warning `FailedCreate` "create Pod web-2 in
   StatefulSet web failed error: …" (or "create Claim … for Pod …"), and the StatefulSet creates
   nothing more while held (clusters.controllers.refusals);
3. only when every replica is in place and, OrderedReady, healthy: deletes the condemned pods from
   the highest ordinal down — OrderedReady one at a time, each once the one above is gone and the
   rest are healthy; Parallel all at once (`SuccessfulDelete`). Claims are never deleted here:
   `persistentVolumeClaimRetentionPolicy` Delete is carried out, as upstream, by giving the claims an
   owner reference — to the StatefulSet for `whenDeleted`, to the condemned pod for `whenScaled` — so
   the garbage collector removes them with their owner; a claim still owned by an earlier pod of the
   same name holds the new pod back until it is gone;
4. RollingUpdate: once the replicas are settled, deletes the pods from the highest ordinal down to
   `partition` whose revision is not the update revision, while fewer than `maxUnavailable` (default
   1) replicas are unavailable; step 2 recreates them from the new template. OnDelete waits for
   someone to delete them;
5. writes the status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
   currentRevision, updateRevision, observedGeneration, collisionCount — once every replica runs the
   update revision and is ready, currentRevision becomes the update revision.

ControllerRevision objects are not served here: a revision is `<sts>-<hash of the pod template>`
(fnv-32a over its canonical JSON in the API server's safe alphabet), carried by the pods in the
`controller-revision-hash` label as upstream does. Without the revision history, a pod below the
partition that must be made again gets the current template (upstream restores the older revision's).

Left out: adopting orphan pods, status conditions, and recreating a pod whose volumes no longer
match its claim templates (volumes cannot change on a live pod anyway).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, owner_reference, ref
from clusters.controllers.pods import (
    counted,
    is_available,
    is_being_deleted,
    is_controlled_by,
    is_failed,
    is_running_and_ready,
    is_terminal,
    listed,
    pod_phase,
)
from clusters.controllers.state import ClusterState

SOURCE = "statefulset-controller"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    """Everything the StatefulSet controller would do in this sandbox right now."""
    actions: list[Action] = []
    for sts in sorted(
        state.objects("StatefulSet"), key=lambda s: (s["metadata"].get("namespace", ""), s["metadata"]["name"])
    ):
        actions += _sync(state, sts, now)
    return actions


def update_revision(sts: dict) -> str:
    """The revision name of the StatefulSet's current template: `<sts>-<hash>`."""
    value = 0x811C9DC5
    for byte in json.dumps(sts["spec"]["template"], sort_keys=True, separators=(",", ":")).encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    encoded = "".join(NAME_ALPHABET[ord(char) % len(NAME_ALPHABET)] for char in str(value))
    return f"{sts['metadata']['name']}-{encoded}"


@dataclass
class _Set:
    """One sync's view of a StatefulSet: its pods by place, and what it has planned so far."""

    sts: dict
    claims: dict[str, dict]  # existing claims of the namespace, by name
    replicas: dict[int, dict | None]  # ordinal -> pod (None: missing)
    condemned: list[dict]  # beyond the range, highest ordinal first
    current_revision: str
    update_revision: str
    now: datetime
    actions: list[Action] = field(default_factory=list)
    deleted_for_update: int = 0

    @property
    def monotonic(self) -> bool:
        return self.sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"

    @property
    def min_ready(self) -> int:
        return self.sts["spec"].get("minReadySeconds", 0)

    @property
    def wants(self) -> str:
        """`StatefulSet web wants 3 replicas`."""
        return f"StatefulSet {self.sts['metadata']['name']} wants {counted(len(self.replicas), 'replica')}"

    def missing(self) -> list[str]:
        name = self.sts["metadata"]["name"]
        return [f"{name}-{ordinal}" for ordinal, pod in sorted(self.replicas.items()) if pod is None]


def _sync(state: ClusterState, sts: dict, now: datetime) -> list[Action]:
    namespace = sts["metadata"].get("namespace", "")
    name = sts["metadata"]["name"]
    start = (sts["spec"].get("ordinals") or {}).get("start", 0)
    count = sts["spec"].get("replicas", 1)
    pods = [p for p in state.objects("Pod", namespace) if is_controlled_by(p, sts) and _ordinal(p, name) >= 0]
    replicas: dict[int, dict | None] = dict.fromkeys(range(start, start + count))
    condemned = []
    for pod in pods:
        ordinal = _ordinal(pod, name)
        if ordinal in replicas:
            replicas[ordinal] = pod
        else:
            condemned.append(pod)
    condemned.sort(key=lambda p: -_ordinal(p, name))
    revision = update_revision(sts)
    sync = _Set(
        sts=sts,
        claims={c["metadata"]["name"]: c for c in state.objects("PersistentVolumeClaim", namespace)},
        replicas=replicas,
        condemned=condemned,
        current_revision=(sts.get("status") or {}).get("currentRevision") or revision,
        update_revision=revision,
        now=now,
    )
    if not sts["metadata"].get("deletionTimestamp"):
        _update(sync)
    return sync.actions + _status(sync, pods)


def _update(sync: _Set) -> None:
    """Upstream updateStatefulSet after the revisions are known: replicas, condemned, rolling update."""
    for ordinal in sorted(sync.replicas):
        if _process_replica(sync, ordinal) and sync.monotonic:
            return
    for pod in sync.condemned:
        _fix_claims(sync, pod, scaled_down=True)
    first_unhealthy = _first_unhealthy(sync)
    for pod in sync.condemned:
        if _process_condemned(sync, pod, first_unhealthy) and sync.monotonic:
            return
    strategy = sync.sts["spec"].get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        _rolling_update(sync, strategy.get("rollingUpdate") or {})


def _process_replica(sync: _Set, ordinal: int) -> bool:
    """Upstream processReplica; True when the walk must stop here (in OrderedReady mode)."""
    sts, pod = sync.sts, sync.replicas[ordinal]
    why = None
    if pod is not None and is_terminal(pod):
        name = pod["metadata"]["name"]
        namespace = sts["metadata"].get("namespace", "")
        finished = "failed" if is_failed(pod) else "exited"
        why = f"StatefulSet {sts['metadata']['name']}'s pod {name} {finished}: making it again under the same name"
        if is_failed(pod):
            message = f"StatefulSet {namespace}/{sts['metadata']['name']} is recreating failed Pod {name}"
            sync.actions.append(Event(ref(sts), "RecreatingFailedPod", message, "Warning", SOURCE))
        else:
            message = f"StatefulSet {namespace}/{sts['metadata']['name']} is recreating terminated Pod {name}"
            sync.actions.append(Event(ref(sts), "RecreatingTerminatedPod", message, source=SOURCE))
        # A finished pod needs no grace period (the API server deletes it at once), so the new one
        # can take its name in the same pass.
        if not is_being_deleted(pod):
            sync.actions += _delete(sts, pod, why, grace_period=0)
        pod = None
    if pod is None:
        _create(sync, ordinal, why or _creating_why(sync, ordinal))
        return True
    if pod_phase(pod) == "Pending":
        _create_missing_claims(sync, ordinal)
    if is_being_deleted(pod) and sync.monotonic:
        return True
    if not _is_running_and_available(pod, sync) and sync.monotonic:
        return True
    if (pod["metadata"].get("labels") or {}).get(POD_NAME_LABEL) != pod["metadata"]["name"]:
        labels = {POD_NAME_LABEL: pod["metadata"]["name"], POD_INDEX_LABEL: str(ordinal)}
        metadata = pod["metadata"]
        why = f"pod {metadata['name']} lacks the labels naming its place in StatefulSet {sts['metadata']['name']}"
        sync.actions.append(
            Patch(
                "v1",
                "Pod",
                metadata.get("namespace", ""),
                metadata["name"],
                {"metadata": {"labels": labels}},
                why=f"{why}: adding them",
            )
        )
        sync.actions.append(_pod_event(sts, "update", metadata["name"], "SuccessfulUpdate"))
    _fix_claims(sync, pod, scaled_down=False)
    return False


def _creating_why(sync: _Set, ordinal: int) -> str:
    """`StatefulSet web wants 3 replicas, web-1 is Ready: creating web-2 (pods start in order)`;
    in Parallel one sentence names every missing pod, so the pass's creates go to the store together."""
    name = f"{sync.sts['metadata']['name']}-{ordinal}"
    if not sync.monotonic:
        missing = sync.missing()
        return f"{sync.wants}, {listed(missing)} missing: creating {'it' if len(missing) == 1 else 'them'} (Parallel)"
    before = [o for o in sorted(sync.replicas) if o < ordinal]
    if not before:
        return f"{sync.wants}: creating {name} (pods start in order)"
    return f"{sync.wants}, {sync.sts['metadata']['name']}-{before[-1]} is Ready: creating {name} (pods start in order)"


def _create(sync: _Set, ordinal: int, why: str) -> None:
    """Upstream CreateStatefulPod: the claims, then the pod — unless an old claim holds it back."""
    sts = sync.sts
    pod_name = f"{sts['metadata']['name']}-{ordinal}"
    for claim in _claims_for(sts, ordinal).values():
        existing = sync.claims.get(claim["metadata"]["name"])
        if existing is not None and (
            existing["metadata"].get("deletionTimestamp") or _is_stale(sts, existing, pod_name)
        ):
            return  # the old claim is on its way out: wait for it
    _create_missing_claims(sync, ordinal)
    pod = _new_pod(sync, ordinal)
    refused = functools.partial(_refused, sts, f"create Pod {pod_name} in StatefulSet {sts['metadata']['name']}")
    sync.actions.append(Create(pod, why=why, refused=refused, owner=ref(sts)))
    sync.actions.append(_pod_event(sts, "create", pod_name, "SuccessfulCreate"))


def _create_missing_claims(sync: _Set, ordinal: int) -> None:
    sts = sync.sts
    for claim in _claims_for(sts, ordinal).values():
        name = claim["metadata"]["name"]
        if name in sync.claims:
            continue
        owners = _claim_owners(sts, claim, None, scaled_down=False)
        if owners:
            claim["metadata"]["ownerReferences"] = owners
        sync.claims[name] = claim
        set_name = sts["metadata"]["name"]
        why = f"StatefulSet {set_name} gives each pod claims of its own: creating {name} for {set_name}-{ordinal}"
        doing = f"create Claim {name} for Pod {set_name}-{ordinal} in StatefulSet {set_name}"
        sync.actions.append(Create(claim, why=why, refused=functools.partial(_refused, sts, doing), owner=ref(sts)))
        message = f"create Claim {name} Pod {set_name}-{ordinal} in StatefulSet {set_name} success"
        sync.actions.append(Event(ref(sts), "SuccessfulCreate", message, source=SOURCE))


def _process_condemned(sync: _Set, pod: dict, first_unhealthy: dict | None) -> bool:
    """Upstream processCondemned; True when the walk must stop here (in OrderedReady mode)."""
    if is_being_deleted(pod):
        return True
    healthy = _is_running_and_available(pod, sync)
    if not healthy and sync.monotonic and pod is not first_unhealthy:
        return True
    order = "one at a time, highest ordinal first" if sync.monotonic else "Parallel"
    sync.actions += _delete(sync.sts, pod, f"{sync.wants}: deleting {pod['metadata']['name']} ({order})")
    return True


def _first_unhealthy(sync: _Set) -> dict | None:
    """The first replica (missing counts) or, failing that, the lowest condemned pod that is not healthy."""
    for ordinal in sorted(sync.replicas):
        pod = sync.replicas[ordinal]
        if pod is None or not _is_healthy(pod, sync):
            return pod
    for pod in reversed(sync.condemned):
        if not _is_healthy(pod, sync):
            return pod
    return None


def _rolling_update(sync: _Set, rolling: dict) -> None:
    """Upstream updateStatefulSetAfterInvariantEstablished (MaxUnavailableStatefulSet, on by default)."""
    count = len(sync.replicas)
    partition = rolling.get("partition", 0)
    max_unavailable = rolling.get("maxUnavailable", 1)
    if isinstance(max_unavailable, str) and max_unavailable.endswith("%"):
        max_unavailable = math.ceil(int(max_unavailable[:-1]) * count / 100)
    max_unavailable = max(1, int(max_unavailable))
    unavailable = sum(1 for pod in sync.replicas.values() if pod is None or not _is_healthy(pod, sync))
    budget = max_unavailable - unavailable
    start = min(sync.replicas, default=0)
    for ordinal in sorted(sync.replicas, reverse=True):
        if budget <= 0 or ordinal - start < partition:
            break
        pod = sync.replicas[ordinal]
        if pod is not None and _revision(pod) != sync.update_revision and not is_being_deleted(pod):
            why = (
                f"StatefulSet {sync.sts['metadata']['name']} rolls out a new pod template: replacing "
                f"{pod['metadata']['name']} (highest ordinal first, {max_unavailable} at a time"
                f"{f', down to partition {partition}' if partition else ''})"
            )
            sync.actions += _delete(sync.sts, pod, why)
            sync.deleted_for_update += 1
            budget -= 1


# --- claims -----------------------------------------------------------------------------------


def _claims_for(sts: dict, ordinal: int) -> dict[str, dict]:
    """Upstream getPersistentVolumeClaims: one claim per template, `<template>-<sts>-<ordinal>`,
    labelled with the template's labels and the StatefulSet's selector."""
    claims = {}
    selector_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    for template in sts["spec"].get("volumeClaimTemplates") or []:
        template_metadata = template.get("metadata") or {}
        metadata = {
            "name": f"{template_metadata['name']}-{sts['metadata']['name']}-{ordinal}",
            "namespace": sts["metadata"].get("namespace", "default"),
            "labels": {**(template_metadata.get("labels") or {}), **selector_labels},
        }
        if template_metadata.get("annotations"):
            metadata["annotations"] = dict(template_metadata["annotations"])
        claims[template_metadata["name"]] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata,
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
    return claims


def _claim_owners(sts: dict, claim: dict, pod: dict | None, *, scaled_down: bool) -> list[dict]:
    """Upstream updateClaimOwnerRefForSetAndPod: the claim's owner references under the retention
    policy — the StatefulSet's for `whenDeleted: Delete` (unless the pod was scaled away and
    `whenScaled: Delete` hands the claim to it), the pod's for `whenScaled: Delete` after a scale-down."""
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    when_deleted, when_scaled = policy.get("whenDeleted", "Retain"), policy.get("whenScaled", "Retain")
    ours = {sts["metadata"]["uid"], pod["metadata"]["uid"] if pod else None}
    owners = [copy.deepcopy(r) for r in claim["metadata"].get("ownerReferences") or [] if r.get("uid") not in ours]
    to_pod = when_scaled == "Delete" and scaled_down and pod is not None
    if when_deleted == "Delete" and not (when_scaled == "Delete" and scaled_down):
        owners.append(_plain_reference(sts))
    if to_pod:
        owners.append(_plain_reference(pod))
    return owners


def _fix_claims(sync: _Set, pod: dict, *, scaled_down: bool) -> None:
    """Upstream UpdatePodClaimForRetentionPolicy: bring existing claims' owners in line with the policy."""
    ordinal = _ordinal(pod, sync.sts["metadata"]["name"])
    for claim in _claims_for(sync.sts, ordinal).values():
        existing = sync.claims.get(claim["metadata"]["name"])
        if existing is None or existing["metadata"].get("deletionTimestamp"):
            continue
        wanted = _claim_owners(sync.sts, existing, pod, scaled_down=scaled_down)
        have = existing["metadata"].get("ownerReferences") or []
        if _owner_uids(wanted) != _owner_uids(have):
            metadata = existing["metadata"]
            sync.actions.append(
                Patch(
                    "v1",
                    "PersistentVolumeClaim",
                    metadata.get("namespace", ""),
                    metadata["name"],
                    {"metadata": {"ownerReferences": wanted or None}},
                    resource_version=metadata.get("resourceVersion"),
                    why=_retention_why(sync.sts, pod, metadata["name"], scaled_down=scaled_down),
                )
            )


def _retention_why(sts: dict, pod: dict, claim_name: str, *, scaled_down: bool) -> str:
    """Why a claim's owners change: whom it will be deleted with, under the retention policy."""
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    when_deleted, when_scaled = policy.get("whenDeleted", "Retain"), policy.get("whenScaled", "Retain")
    if scaled_down and when_scaled == "Delete":
        fate = f"pod {pod['metadata']['name']} is scaled away and whenScaled is Delete: claim {claim_name} goes with it"
    elif when_deleted == "Delete":
        fate = f"whenDeleted is Delete: claim {claim_name} goes with StatefulSet {sts['metadata']['name']}"
    else:
        fate = f"the retention policy is Retain: claim {claim_name} stays when its pod or StatefulSet goes"
    return f"{fate} (its owners updated)"


def _is_stale(sts: dict, claim: dict, pod_name: str) -> bool:
    """Upstream PodClaimIsStale: with `whenScaled: Delete`, a claim still owned by an earlier pod of
    this name is about to be garbage-collected."""
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    if policy.get("whenScaled", "Retain") != "Delete":
        return False
    return any(
        r.get("kind") == "Pod" and r.get("name") == pod_name for r in claim["metadata"].get("ownerReferences") or []
    )


def _plain_reference(owner: dict) -> dict:
    metadata = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": metadata["name"], "uid": metadata["uid"]}


def _owner_uids(references: list[dict]) -> set[str]:
    return {r.get("uid") for r in references}


# --- pods -------------------------------------------------------------------------------------


def _new_pod(sync: _Set, ordinal: int) -> dict:
    """Upstream newVersionedStatefulSetPod: the template, the pod's identity, and its claims' volumes."""
    sts = sync.sts
    name = f"{sts['metadata']['name']}-{ordinal}"
    template = copy.deepcopy(sts["spec"]["template"])
    template_metadata = template.get("metadata") or {}
    labels = {
        **(template_metadata.get("labels") or {}),
        POD_NAME_LABEL: name,
        POD_INDEX_LABEL: str(ordinal),
        REVISION_LABEL: sync.update_revision,
    }
    metadata: dict = {
        "generateName": f"{sts['metadata']['name']}-",
        "name": name,
        "namespace": sts["metadata"].get("namespace", "default"),
        "labels": labels,
    }
    for key in ("annotations", "finalizers"):
        if template_metadata.get(key):
            metadata[key] = copy.deepcopy(template_metadata[key])
    metadata["ownerReferences"] = [owner_reference(sts)]
    spec = template.get("spec") or {}
    claims = _claims_for(sts, ordinal)
    volumes = [
        {"name": volume, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        for volume, claim in claims.items()
    ]
    spec["volumes"] = volumes + [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
    if not spec["volumes"]:
        del spec["volumes"]
    spec["hostname"] = name
    if sts["spec"].get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _delete(sts: dict, pod: dict, why: str, *, grace_period: int | None = None) -> list[Action]:
    metadata = pod["metadata"]
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    return [
        Delete("v1", "Pod", namespace, name, uid=metadata["uid"], grace_period=grace_period, why=why),
        _pod_event(sts, "delete", name, "SuccessfulDelete"),
    ]


def _refused(sts: dict, doing: str, message: str) -> list[Action]:
    """A pod or claim the API server refused, as upstream's recordPodEvent / recordClaimEvent say it:
    `create Pod web-2 in StatefulSet web failed error: pods "web-2" is forbidden: …`."""
    return [Event(ref(sts), "FailedCreate", f"{doing} failed error: {message}", "Warning", SOURCE)]


def _pod_event(sts: dict, verb: str, pod_name: str, reason: str) -> Event:
    message = f"{verb} Pod {pod_name} in StatefulSet {sts['metadata']['name']} successful"
    return Event(ref(sts), reason, message, source=SOURCE)


# --- status -----------------------------------------------------------------------------------


def _status(sync: _Set, pods: list[dict]) -> list[Action]:
    """Upstream computeReplicaStatus over the pods this pass observed, then completeRollingUpdate."""
    sts = sync.sts
    status: dict = {"observedGeneration": sts["metadata"].get("generation", 0), "replicas": len(pods)}
    ready = sum(1 for p in pods if is_running_and_ready(p))
    available = sum(1 for p in pods if _is_running_and_available(p, sync))
    live = [p for p in pods if not is_being_deleted(p)]
    current = sum(1 for p in live if _revision(p) == sync.current_revision) - sync.deleted_for_update
    updated = sum(1 for p in live if _revision(p) == sync.update_revision)
    current_revision = sync.current_revision
    strategy = (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
    if strategy == "RollingUpdate" and updated == len(pods) and ready == len(pods):
        current, current_revision = updated, sync.update_revision
    for key, value in (("readyReplicas", ready), ("currentReplicas", current), ("updatedReplicas", updated)):
        if value:
            status[key] = value
    status.update(
        currentRevision=current_revision,
        updateRevision=sync.update_revision,
        collisionCount=(sts.get("status") or {}).get("collisionCount", 0),
        availableReplicas=available,
    )
    old = sts.get("status") or {}
    if old.get("conditions"):
        status["conditions"] = old["conditions"]
    if status == old:
        return []
    patch = {key: None for key in old if key not in status} | {k: v for k, v in status.items() if old.get(k) != v}
    metadata = sts["metadata"]
    counts = f"{counted(len(pods), 'pod')}, {ready} ready, {updated} on the latest pod template"
    return [
        Patch(
            "apps/v1",
            "StatefulSet",
            metadata.get("namespace", ""),
            metadata["name"],
            {"status": patch},
            subresource="status",
            resource_version=metadata.get("resourceVersion"),
            why=f"StatefulSet {metadata['name']} has {counts}: status updated",
        )
    ]


# --- small helpers ----------------------------------------------------------------------------


def _ordinal(pod: dict, parent: str) -> int:
    """The pod's ordinal when its name is `<parent>-<n>`, else -1."""
    match = _ORDINAL.match(pod["metadata"]["name"])
    if match is None or match.group(1) != parent:
        return -1
    return int(match.group(2))


def _revision(pod: dict) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)


def _is_running_and_available(pod: dict, sync: _Set) -> bool:
    """Upstream isRunningAndReady, then isRunningAndAvailable (Ready for `minReadySeconds`)."""
    return is_running_and_ready(pod) and is_available(pod, sync.min_ready, sync.now)


def _is_healthy(pod: dict, sync: _Set) -> bool:
    """Upstream isHealthy, with availability: running, available and not being deleted."""
    return _is_running_and_available(pod, sync) and not is_being_deleted(pod)
