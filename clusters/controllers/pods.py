"""Small pure helpers the planners share: the one home of the pod predicates.

Pods: phase, readiness, availability (`minReadySeconds`), activity, deletion, and the pod a
controller creates from its template (upstream `pkg/api/v1/pod`, `pkg/controller/controller_utils.go`).
Ownership: the controller reference and claiming (adopt orphans that match, release what no longer
matches), as upstream's `ControllerRefManager` does for pods and ReplicaSets alike. The JSON merge patch
that turns one body into another, for writing only what changed. And the few words every planner's
`why` uses to say a count or a list ("3 pods", "node-1 and node-2") and to stay short.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta

from clusters.controllers.actions import owner_reference
from clusters.objects.selectors import Requirement, labels_match

# RFC 3339 times are the object library's; the planners that share these helpers take them here too.
from clusters.objects.times import format_time as format_time
from clusters.objects.times import parse_time as parse_time

TERMINAL_PHASES = ("Succeeded", "Failed")


# --- pods -------------------------------------------------------------------------------------
# Upstream has two meanings of "terminating", and each controller keeps its own: `is_terminating`
# (being deleted and not yet finished: `IsPodTerminating`, which the Job and ReplicaSet
# controllers count) and `is_being_deleted` (a deletion timestamp, whatever the phase: the
# StatefulSet controller's `isTerminating`, and what the DaemonSet controller skips).


def pod_phase(pod: dict) -> str:
    """`status.phase`, or "" while no kubelet has set one."""
    return (pod.get("status") or {}).get("phase", "")


def is_succeeded(pod: dict) -> bool:
    return pod_phase(pod) == "Succeeded"


def is_failed(pod: dict) -> bool:
    return pod_phase(pod) == "Failed"


def is_terminal(pod: dict) -> bool:
    """Finished: Succeeded or Failed (upstream `IsPodTerminal`); its containers will not run again."""
    return pod_phase(pod) in TERMINAL_PHASES


def is_being_deleted(obj: dict) -> bool:
    """A deletion timestamp is set, whatever the phase (the StatefulSet controller's `isTerminating`)."""
    return bool(obj["metadata"].get("deletionTimestamp"))


def is_active(pod: dict) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted (upstream `IsPodActive`)."""
    return not is_terminal(pod) and not is_being_deleted(pod)


def is_terminating(pod: dict) -> bool:
    """Being deleted but not finished (upstream `IsPodTerminating`)."""
    return not is_terminal(pod) and is_being_deleted(pod)


def ready_condition(pod: dict) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: dict) -> bool:
    """The Ready condition is True (upstream `IsPodReady`), whatever the phase."""
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_running_and_ready(pod: dict) -> bool:
    """Running and Ready (the StatefulSet controller's `isRunningAndReady`)."""
    return pod_phase(pod) == "Running" and is_ready(pod)


def is_available(pod: dict, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for longer than `minReadySeconds` (upstream `IsPodAvailable`: strictly longer, and
    never when the Ready condition has no transition time)."""
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = parse_time(ready_condition(pod).get("lastTransitionTime"))
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


def pod_from_template(template: dict, owner: dict, *, name: str | None = None) -> dict:
    """The pod a controller creates (upstream `GetPodFromTemplate`): the template's labels,
    annotations, finalizers and spec, `generateName: <owner>-`, and a controller reference."""
    template_metadata = template.get("metadata") or {}
    metadata: dict = {"generateName": f"{owner['metadata']['name']}-"}
    if name:
        metadata["name"] = name
    metadata["namespace"] = owner["metadata"].get("namespace", "default")
    for key in ("labels", "annotations", "finalizers"):
        if template_metadata.get(key):
            metadata[key] = copy.deepcopy(template_metadata[key])
    metadata["ownerReferences"] = [owner_reference(owner)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.deepcopy(template.get("spec") or {})}


# --- ownership --------------------------------------------------------------------------------


def controller_ref(obj: dict) -> dict | None:
    """The ownerReference with `controller: true`, if any."""
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


def is_controlled_by(obj: dict, owner: dict) -> bool:
    """The owner is the object's controller (upstream `metav1.IsControlledBy`: the controller
    reference's uid; validation allows one controller reference at most)."""
    reference = controller_ref(obj)
    return reference is not None and reference.get("uid") == owner["metadata"]["uid"]


def claim(
    owner: dict, selector: tuple[Requirement, ...], candidates: Iterable[dict]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Upstream `ClaimObject` over candidates in the owner's namespace: (claimed, to_adopt, to_release).

    Claimed are the objects we control that match, plus matching orphans we adopt. We release what
    we control but no longer matches. Nothing is adopted or released while the owner is being
    deleted, and objects being deleted are never adopted; what another controller owns is left alone."""
    owner_uid = owner["metadata"]["uid"]
    owner_deleting = bool(owner["metadata"].get("deletionTimestamp"))
    claimed, to_adopt, to_release = [], [], []
    for obj in candidates:
        reference = controller_ref(obj)
        matches = labels_match(selector, obj["metadata"].get("labels"))
        if reference is not None:
            if reference.get("uid") != owner_uid:
                continue
            if matches:
                claimed.append(obj)
            elif not owner_deleting:
                to_release.append(obj)
        elif matches and not owner_deleting and not obj["metadata"].get("deletionTimestamp"):
            claimed.append(obj)
            to_adopt.append(obj)
    return claimed, to_adopt, to_release


def claim_why(obj: dict, owner: dict, *, adopting: bool) -> str:
    """Why an owner adopts or releases an object: `pod web-x2k matches ReplicaSet web's selector
    and has no owner: adopting it`, `… no longer matches …: releasing it`."""
    subject = f"{noun(obj['kind'])} {obj['metadata']['name']}"
    selector = f"{owner['kind']} {owner['metadata']['name']}'s selector"
    if adopting:
        return f"{subject} matches {selector} and has no owner: adopting it"
    return f"{subject} no longer matches {selector}: releasing it"


def adopted_owner_references(obj: dict, owner: dict) -> list[dict]:
    """The object's ownerReferences with the owner added as controller (a merge patch replaces lists)."""
    return [*copy.deepcopy(obj["metadata"].get("ownerReferences") or []), owner_reference(owner)]


def released_owner_references(obj: dict, owner: dict) -> list[dict] | None:
    """The object's ownerReferences without the owner; None (remove the field) when none remain."""
    uid = owner["metadata"]["uid"]
    kept = [copy.deepcopy(r) for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
    return kept or None


# --- patches ----------------------------------------------------------------------------------


def merge_patch(old: dict, new: dict) -> dict:
    """The RFC 7386 merge patch that turns `old` into `new` (lists replace, None removes)."""
    patch: dict = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = copy.deepcopy(value)
    return patch


# --- words ------------------------------------------------------------------------------------


def noun(kind: str) -> str:
    """How a sentence names a kind: `pod`, as people say it, but `ReplicaSet`, `Service`, …"""
    return "pod" if kind == "Pod" else kind


def counted(number: int, word: str) -> str:
    """`1 pod`, `3 pods`: a count with its noun, for the `why` of a write."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def shortened(text: str, limit: int = 200) -> str:
    """A `why` that quotes something unbounded (a scheduler's fit error, an image name) kept to
    `limit` characters, its end cut and marked."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def listed(names: Iterable[str], *, most: int = 3) -> str:
    """`a`, `a and b`, `a, b and c`, `a, b, c and 2 more`: names in a sentence."""
    names = list(names)
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
