"""Creates the API server refused, and when a controller asks again (pure: no Django, `now` given).

A controller's create can be refused for good reasons that last: the namespace's ResourceQuota
is used up, a LimitRange forbids what the template asks for. Upstream's controllers then record
`FailedCreate` and requeue the owner with an exponential back-off (their work queue's rate
limiter), and sync it again at once when something about it changes. Here the manager keeps a
`Refusal` per owner (in this process, as upstream keeps its queue in memory), and while one
holds, the owner's creates wait: planners that take `held` leave them out themselves (and count
them as not made), and `without_held` takes them out of any other plan, with the Events that
describe them. A refusal holds until its back-off (1 s doubling to 5 min) ends or what it
depended on changes: a ResourceQuota or LimitRange of the namespace (the quota controller's
recount after a pod goes changes its quota), the namespace's Pod Security labels, or the owner's
spec (its generation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from clusters.controllers.actions import Action, Create, Event
from clusters.controllers.pods import controller_ref
from clusters.controllers.state import ClusterState

FIRST_RETRY = timedelta(seconds=1)
LAST_RETRY = timedelta(minutes=5)
ADMISSION_KINDS = ("ResourceQuota", "LimitRange")
POD_SECURITY_LABELS = "pod-security.kubernetes.io/"


def owner_of(create: Create) -> dict | None:
    """The object a create is for, as an Event's involvedObject: the action's `owner`, else the
    body's controller reference; None for an object nobody controls."""
    if create.owner is not None:
        return create.owner
    reference = controller_ref(create.body)
    if reference is None:
        return None
    return {
        "apiVersion": reference.get("apiVersion", ""),
        "kind": reference.get("kind", ""),
        "namespace": create.body["metadata"].get("namespace", ""),
        "name": reference.get("name", ""),
        "uid": reference.get("uid", ""),
    }


@dataclass(frozen=True)
class Refusal:
    """The last refusal of an owner's create: how many in a row, when to ask again at the latest,
    and what the refusal depended on when it was made."""

    owner: dict
    failures: int
    retry_at: datetime
    fingerprint: tuple


def fingerprint(state: ClusterState, owner: dict) -> tuple:
    """What admission of the owner's objects depends on: its namespace's quotas and limit ranges,
    by version, its Pod Security labels, and the owner's generation."""
    namespace = owner.get("namespace", "")
    admission = sorted(
        (kind, obj["metadata"]["name"], obj["metadata"].get("resourceVersion", ""))
        for kind in ADMISSION_KINDS
        for obj in state.objects(kind, namespace)
    )
    labels = ((state.get("Namespace", "", namespace) or {}).get("metadata") or {}).get("labels") or {}
    pod_security = tuple(sorted((k, v) for k, v in labels.items() if k.startswith(POD_SECURITY_LABELS)))
    current = state.get(owner.get("kind", ""), namespace, owner.get("name", ""))
    generation = (current or {}).get("metadata", {}).get("generation")
    return tuple(admission), pod_security, generation


def exists(state: ClusterState, owner: dict) -> bool:
    current = state.get(owner.get("kind", ""), owner.get("namespace", ""), owner.get("name", ""))
    return current is not None and current["metadata"].get("uid") == owner.get("uid")


def retry_delay(failures: int) -> timedelta:
    """1 s after the first refusal, doubling with each one in a row, at most 5 minutes."""
    return min(FIRST_RETRY * 2 ** min(failures - 1, 16), LAST_RETRY)


def refused_again(previous: Refusal | None, owner: dict, state: ClusterState, now: datetime) -> Refusal:
    """The refusal after one more; `state` is what the refusal was made against."""
    failures = previous.failures + 1 if previous is not None else 1
    return Refusal(owner, failures, now + retry_delay(failures), fingerprint(state, owner))


def held(refusals: Iterable[Refusal], state: ClusterState, now: datetime) -> frozenset[str]:
    """The uids of the owners whose creates wait now."""
    return frozenset(
        refusal.owner["uid"]
        for refusal in refusals
        if now < refusal.retry_at and fingerprint(state, refusal.owner) == refusal.fingerprint
    )


def without_held(actions: list[Action], held_uids: frozenset[str]) -> list[Action]:
    """The plan without the creates for held owners, nor the Events about the owner that follow
    each (they describe the create: `SuccessfulCreate`)."""
    if not held_uids:
        return actions
    kept: list[Action] = []
    skipped: str | None = None
    for action in actions:
        if isinstance(action, Create):
            owner = owner_of(action)
            skipped = owner["uid"] if owner is not None and owner.get("uid") in held_uids else None
            if skipped is not None:
                continue
        elif isinstance(action, Event):
            if skipped is not None and action.involved.get("uid") == skipped:
                continue
        else:
            skipped = None
        kept.append(action)
    return kept
