"""The one world the planner tests share: a clock, and a small in-memory API server that applies
planned actions the way the store does.

Planners are pure: they take a `ClusterState` and `now` and return actions. A test that follows
more than one pass needs something to apply those actions; this is it. It does what the store
(clusters/store.py) and upstream's API server do to a write:

- Create: `generateName` gets a suffix; a name already taken is refused (AlreadyExists); the
  server sets uid (`uid-<name>`, another for a later object of the same name), resourceVersion,
  creationTimestamp and generation 1. A new pod starts `Pending`, a new claim or volume too unless
  it says otherwise; any other status sent along is dropped (it is the controllers' to write).
- Patch: a JSON merge patch with `resourceVersion` as its precondition. The status subresource
  changes the status only, the main resource everything else (for kinds that have a status
  subresource); a changed spec bumps `generation`; an object marked for deletion goes once its
  last finalizer does, unless it is a pod still in its grace period (its kubelet finishes it).
- Delete: `uid` is a precondition; Foreground and Orphan add their finalizer; a pod bound to a
  node is deleted gracefully (marked until its kubelet is done, see `kubelet_done`); finalizers,
  and a Namespace's own, hold an object marked; anything else goes at once.
- Bind: the node and the pod's conditions, refused for a pod already bound or being deleted.
- Event: kept in `events`, in order.

Every write takes the next resourceVersion from one counter. A write whose precondition fails
raises `Race`: nothing else writes in a test world, so a lost race is a planner's mistake (two
writes to one object in one plan, or a write from stale data). Where a race is expected, a world
made with `races="drop"` does what the actor does: the rest of that plan is dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta

from clusters.controllers.actions import Action, Bind, Create, Delete, Event, Patch
from clusters.controllers.state import ClusterState
from clusters.objects.patch import merge_patch
from clusters.objects.resources import resource_for_kind

# Kinds whose new objects start with a phase of their own (the store keeps what they are sent with).
INITIAL_PHASE = {"PersistentVolume": "Pending", "PersistentVolumeClaim": "Pending"}
KEEPS_STATUS_ON_CREATE = ("Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim")


def stamp(moment: datetime) -> str:
    """`metav1.Time` as the API writes it: UTC, whole seconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def controller_of(owner: dict, *, controller: bool = True, block: bool = True) -> dict:
    """The ownerReference pointing at `owner` (its controller's, unless `controller=False`)."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block,
    }


CLUSTER_SCOPED = ("Namespace", "Node", "PersistentVolume", "StorageClass")


def key(obj: dict) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _namespace(kind: str, namespace: str | None) -> str:
    """The namespace a test means: as given, else "default" ("" for a cluster-scoped kind)."""
    if namespace is not None:
        return namespace
    return "" if kind in CLUSTER_SCOPED else "default"


class Race(Exception):
    """A write whose precondition failed, as the store would refuse it."""


class World:
    """Objects as the store keeps them, changed only by applying planned actions (`apply`) and by
    what a test does itself in the role of a kubelet or a user; `now` is the clock."""

    def __init__(self, *objects: dict, now: datetime, races: str = "raise") -> None:
        assert races in ("raise", "drop")
        self.now = now
        self.races = races
        self.objects: dict[tuple[str, str, str], dict] = {key(o): copy.deepcopy(o) for o in objects}
        self.events: list[Event] = []
        versions = [int(v) for o in objects if str(v := o["metadata"].get("resourceVersion", "")).isdigit()]
        self.version = max([99, *versions])
        self.serial = 0
        self.uids = {o["metadata"]["uid"] for o in objects if "uid" in o["metadata"]}

    @classmethod
    def of(cls, state: ClusterState, *, now: datetime, races: str = "raise") -> World:
        return cls(*(obj for items in state.by_kind.values() for obj in items), now=now, races=races)

    # --- reading ------------------------------------------------------------------------------

    def state(self) -> ClusterState:
        """What a planner sees: a copy, so that planning cannot change the world."""
        return ClusterState.of(copy.deepcopy(list(self.objects.values())))

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        return self.objects.get((kind, _namespace(kind, namespace), name))

    def all(self, kind: str) -> list[dict]:
        """The objects of one kind, by namespace and name."""
        return sorted((o for o in self.objects.values() if o["kind"] == kind), key=lambda o: key(o)[1:])

    def pods(self) -> list[dict]:
        return self.all("Pod")

    def names(self, kind: str) -> list[str]:
        return [o["metadata"]["name"] for o in self.all(kind)]

    # --- writing ------------------------------------------------------------------------------

    def next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def put(self, obj: dict) -> dict:
        """Store an object exactly as given (a user's write the test spells out in full)."""
        body = self.objects[key(obj)] = copy.deepcopy(obj)
        return body

    def remove(self, kind: str, name: str, namespace: str | None = None) -> None:
        del self.objects[(kind, _namespace(kind, namespace), name)]

    def apply(self, actions: Iterable[Action]) -> None:
        try:
            for action in actions:
                self.perform(action)
        except Race:
            if self.races == "raise":
                raise

    def perform(self, action: Action) -> None:
        match action:
            case Create(body=body):
                self.create(body)
            case Patch():
                self.patch(action)
            case Delete():
                self.delete(action)
            case Bind():
                self.bind(action)
            case Event():
                self.events.append(action)

    def create(self, body: dict) -> dict:
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name"):
            self.serial += 1
            metadata["name"] = f"{metadata['generateName']}{self.serial:05d}"
        if key(body) in self.objects:
            raise Race(f"{key(body)} already exists")
        version = self.next_version()
        metadata.update(uid=self._new_uid(metadata["name"]), resourceVersion=version, generation=1)
        metadata["creationTimestamp"] = stamp(self.now)
        if body["kind"] == "Pod":
            body["status"] = {"phase": "Pending"}  # the store adds qosClass too, which no planner reads
        elif body["kind"] in KEEPS_STATUS_ON_CREATE:
            if body["kind"] in INITIAL_PHASE:
                body.setdefault("status", {}).setdefault("phase", INITIAL_PHASE[body["kind"]])
        else:
            body.pop("status", None)
        self.objects[key(body)] = body
        return body

    def patch(self, action: Patch) -> None:
        old = self._current(action.kind, action.namespace, action.name, resource_version=action.resource_version)
        patched = merge_patch(old, action.patch)
        if action.subresource == "status":
            new = {**copy.deepcopy(old), "status": patched.get("status", {})}
        elif _has_status_subresource(old):
            new = {k: v for k, v in patched.items() if k != "status"}
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        else:
            new = patched
        if "generation" in old["metadata"] and _spec_of(new) != _spec_of(old):
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        new["metadata"]["resourceVersion"] = self.next_version()
        self._replace(old, new)
        if new["metadata"].get("deletionTimestamp") and not _held(new) and not _in_grace_period(new):
            del self.objects[key(new)]

    def delete(self, action: Delete) -> None:
        obj = self._current(action.kind, action.namespace, action.name, uid=action.uid)
        metadata = obj["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        for propagation, finalizer in (("Foreground", "foregroundDeletion"), ("Orphan", "orphan")):
            if action.propagation == propagation and finalizer not in finalizers:
                finalizers.append(finalizer)
        graceful = obj["kind"] == "Pod" and bool(obj.get("spec", {}).get("nodeName")) and action.grace_period != 0
        if not (finalizers or graceful or obj["kind"] == "Namespace"):
            del self.objects[key(obj)]
            return
        if metadata.get("deletionTimestamp"):
            if not (_held(obj) or graceful):
                del self.objects[key(obj)]
            return
        grace = obj.get("spec", {}).get("terminationGracePeriodSeconds", 30) if graceful else 0
        if graceful and action.grace_period is not None:
            grace = action.grace_period
        metadata["deletionTimestamp"] = stamp(self.now + timedelta(seconds=grace))
        metadata["deletionGracePeriodSeconds"] = grace
        if finalizers:
            metadata["finalizers"] = finalizers
        if obj["kind"] == "Namespace":
            obj.setdefault("status", {})["phase"] = "Terminating"
        metadata["resourceVersion"] = self.next_version()

    def bind(self, action: Bind) -> None:
        pod = self._current("Pod", action.namespace, action.name, resource_version=action.resource_version)
        if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            raise Race(f"pod {action.name} is bound or being deleted already")
        pod["spec"]["nodeName"] = action.node
        pod.setdefault("status", {})["conditions"] = copy.deepcopy(list(action.conditions))
        pod["metadata"]["resourceVersion"] = self.next_version()

    def kubelet_done(self, pod: dict) -> None:
        """The kubelet has stopped a deleted pod's containers: it goes, unless finalizers hold it."""
        if _held(pod):
            pod["metadata"]["deletionGracePeriodSeconds"] = 0
            pod["metadata"]["resourceVersion"] = self.next_version()
        else:
            del self.objects[key(pod)]

    # --- helpers ------------------------------------------------------------------------------

    def _current(
        self, kind: str, namespace: str, name: str, *, resource_version: str | None = None, uid: str | None = None
    ) -> dict:
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            raise Race(f"{kind} {namespace}/{name} not found")
        if resource_version and resource_version != obj["metadata"].get("resourceVersion"):
            raise Race(f"{kind} {namespace}/{name} changed since it was read")
        if uid and uid != obj["metadata"].get("uid"):
            raise Race(f"{kind} {namespace}/{name} is another incarnation")
        return obj

    def _new_uid(self, name: str) -> str:
        """`uid-<name>`, readable in a test; a later object of the same name gets another one."""
        uid, again = f"uid-{name}", 1
        while uid in self.uids:
            again += 1
            uid = f"uid-{name}-{again}"
        self.uids.add(uid)
        return uid

    def _replace(self, old: dict, new: dict) -> None:
        """Change the stored body in place, so that what a test holds of it stays current."""
        old.clear()
        old.update(new)


def applied(state: ClusterState, actions: Iterable[Action], *, now: datetime, races: str = "raise") -> ClusterState:
    """The state after the actions, applied as the store would."""
    world = World.of(state, now=now, races=races)
    world.apply(actions)
    return world.state()


def stored(state: ClusterState, kind: str, name: str, namespace: str | None = None) -> dict:
    """One object of a state, which must be there (namespace: "default", or "" if cluster-scoped)."""
    obj = state.get(kind, _namespace(kind, namespace), name)
    assert obj is not None, f"no {kind} {name}"
    return obj


def _has_status_subresource(obj: dict) -> bool:
    resource = resource_for_kind(obj.get("apiVersion", ""), obj["kind"])
    return resource is not None and "status" in resource.subresources


def _spec_of(body: dict) -> dict:
    """Everything generation follows: the object without metadata and status."""
    return {k: v for k, v in body.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _held(obj: dict) -> bool:
    """Finalizers still to run: metadata.finalizers, and a Namespace's own spec.finalizers."""
    return bool(obj["metadata"].get("finalizers")) or (
        obj["kind"] == "Namespace" and bool(obj.get("spec", {}).get("finalizers"))
    )


def _in_grace_period(obj: dict) -> bool:
    """A pod deleted gracefully stays until its kubelet is done (upstream's registry keeps an
    object whose deletion grace period is not zero)."""
    return bool(obj["metadata"].get("deletionGracePeriodSeconds"))
