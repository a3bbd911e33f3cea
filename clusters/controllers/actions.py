"""What a controller decides to do, as data. Planners return lists of these; one actor performs them.

Every action names its object by apiVersion, kind, namespace ("" for cluster-scoped) and name.
Planners never touch the database, Docker or the clock: they get a ClusterState and `now`.

Writes may say `why` (the decision in words: "ReplicaSet web-7d9f wants 3 pods, has 2"); the
manager fills in `by`, the component that planned them. Neither takes part in comparisons, so
tests compare what is done, not how it is explained. Both reach the change log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Create:
    """Create an object (the body includes apiVersion, kind and metadata; `generateName` is fine).

    The API server may refuse it (an admission plugin: a ResourceQuota, a LimitRange). Then
    `refused`, given the refusal's message, says what the controller records, as data: the
    FailedCreate Event, a status condition. Without it the actor records upstream's usual
    `FailedCreate` "Error creating: …" Event about `owner`. `owner` is the object the create is
    for (default: the body's controller reference): after a refusal its further creates wait."""

    body: dict
    why: str = field(default="", compare=False)
    by: str = field(default="", compare=False)
    refused: Callable[[str], list[Action]] | None = field(default=None, compare=False, repr=False)
    owner: dict | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Patch:
    """A JSON merge patch on an object, or on its `status` / `scale` subresource.

    `resource_version`, when given, is a precondition: the write fails (and the controller's
    next pass re-plans) if the object changed since the planner read it."""

    api_version: str
    kind: str
    namespace: str
    name: str
    patch: dict
    subresource: str | None = None
    resource_version: str | None = None
    why: str = field(default="", compare=False)
    by: str = field(default="", compare=False)


@dataclass(frozen=True)
class Bind:
    """Bind a pending pod to a node, as the pods/binding subresource does: `spec.nodeName` and the
    pod's conditions (with PodScheduled=True) in one write, refused if the pod changed since the
    planner read it at `resource_version`."""

    namespace: str
    name: str
    node: str
    conditions: tuple = field(hash=False)
    resource_version: str | None = None
    why: str = field(default="", compare=False)
    by: str = field(default="", compare=False)


@dataclass(frozen=True)
class Delete:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str | None = None  # precondition: only delete this incarnation of the name
    propagation: str | None = None  # "Background", "Foreground", "Orphan"
    grace_period: int | None = None
    why: str = field(default="", compare=False)
    by: str = field(default="", compare=False)


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event about an object (`kubectl describe` shows them), with upstream reasons:
    Scheduled, FailedScheduling, Pulling, Pulled, Failed, Created, Started, Killing, BackOff,
    Unhealthy, SuccessfulCreate, SuccessfulDelete, ScalingReplicaSet, Completed, …"""

    involved: dict = field(hash=False)  # {apiVersion, kind, namespace, name, uid} of the object
    reason: str = ""
    message: str = ""
    type: str = "Normal"  # or "Warning"
    source: str = ""  # the component: "default-scheduler", "kubelet", "replicaset-controller", …


Action = Create | Patch | Bind | Delete | Event


def ref(obj: dict) -> dict:
    """The involvedObject reference of an object, for Events and ownerReferences."""
    metadata = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
        "uid": metadata["uid"],
    }


def owner_reference(owner: dict, *, controller: bool = True) -> dict:
    """The ownerReference a controller puts on what it creates (`blockOwnerDeletion` as upstream)."""
    metadata = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
