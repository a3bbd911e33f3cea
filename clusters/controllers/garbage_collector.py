"""The garbage collector (pkg/controller/garbagecollector), over every kind the sandbox holds.

Ownership is read from `metadata.ownerReferences`, matched by uid (the owner must also have the
kind and name the reference gives, and live in the dependent's namespace unless it is
cluster-scoped — otherwise the reference is dangling, as upstream finds it when it looks the
owner up). Each pass:

- **Orphaning** — an owner being deleted with the `orphan` finalizer first has its reference
  removed from each dependent; once none refers to it, the finalizer is removed.
- **Foreground deletion** — an owner being deleted with the `foregroundDeletion` finalizer keeps it
  while any dependent whose reference has `blockOwnerDeletion` still exists; then it is removed.
- **Collection** — each object not being deleted is classified by its references: *solid*
  (owner exists), *dangling* (owner gone) or *waiting* (owner being deleted in the foreground).
  With a solid owner left, the dangling and waiting references are removed from it; otherwise the
  object is deleted — Foreground if an owner waits for it and it has dependents of its own (so the
  wait reaches down the whole tree), else Background.

A reference to a kind the sandbox does not serve cannot be checked, so it counts as solid, as
upstream leaves such an object alone when it cannot resolve the owner's kind. Finalizer and
reference removals are merge patches of the whole list, guarded by the resourceVersion read, and
the store finishes a deletion once no finalizer remains. Each object gets at most one action per
pass.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from clusters.controllers.actions import Action, Delete, Patch
from clusters.controllers.pods import listed, noun
from clusters.controllers.state import ClusterState
from clusters.objects.resources import resource_for_kind

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    objects = sorted((obj for items in state.by_kind.values() for obj in items), key=_sort_key)
    by_uid = {obj["metadata"]["uid"]: obj for obj in objects if obj["metadata"].get("uid")}
    dependents: dict[str, list[dict]] = defaultdict(list)
    for obj in objects:
        for reference in obj["metadata"].get("ownerReferences") or []:
            if _owner(obj, reference, by_uid) is not None:
                dependents[reference["uid"]].append(obj)

    actions: list[Action] = []
    touched: set[str] = set()
    # Owners on their way out first: what they decide about their dependents takes precedence.
    for obj in objects:
        if obj["metadata"].get("deletionTimestamp"):
            actions.extend(_finish_owner(obj, dependents, touched))
    for obj in objects:
        uid = obj["metadata"].get("uid")
        if uid in touched or obj["metadata"].get("deletionTimestamp"):
            continue
        action = _collect(obj, by_uid, dependents)
        if action is not None:
            touched.add(uid)
            actions.append(action)
    return actions


# --- owners being deleted -------------------------------------------------------------------------


def _finish_owner(owner: dict, dependents: dict[str, list[dict]], touched: set[str]) -> list[Action]:
    metadata = owner["metadata"]
    finalizers = metadata.get("finalizers") or []
    uid = metadata["uid"]
    subject = f"{noun(owner['kind'])} {metadata['name']}"
    if ORPHAN in finalizers:
        referring = [d for d in dependents.get(uid, []) if d["metadata"]["uid"] not in touched]
        if referring:
            touched.update(d["metadata"]["uid"] for d in referring)
            why = f"owner {subject} is deleted and orphans its dependents: removing the reference to it, so the"
            return [
                _set_references(d, [r for r in _references(d) if r.get("uid") != uid], f"{why} {noun(d['kind'])} stays")
                for d in referring
            ]
        if dependents.get(uid):
            return []  # another owner is rewriting them this pass
        touched.add(uid)
        why = f"no object refers to {subject} any more: removing its {ORPHAN} finalizer"
        return [_remove_finalizer(owner, ORPHAN, why)]
    if FOREGROUND in finalizers:
        blocking = [
            d
            for d in dependents.get(uid, [])
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in _references(d))
        ]
        if not blocking:
            touched.add(uid)
            why = f"{subject} waited for its blocking dependents, which are gone: removing its {FOREGROUND} finalizer"
            return [_remove_finalizer(owner, FOREGROUND, why)]
    return []


# --- everything else --------------------------------------------------------------------------------


def _collect(obj: dict, by_uid: dict[str, dict], dependents: dict[str, list[dict]]) -> Action | None:
    references = _references(obj)
    if not references:
        return None
    solid, dangling, waiting = [], [], []
    for reference in references:
        if resource_for_kind(reference.get("apiVersion", ""), reference.get("kind", "")) is None:
            solid.append(reference)  # an owner kind we cannot look up is not ours to judge
            continue
        owner = _owner(obj, reference, by_uid)
        if owner is None:
            dangling.append(reference)
        elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (owner["metadata"].get("finalizers") or []):
            waiting.append(reference)
        else:
            solid.append(reference)
    if solid:
        if dangling or waiting:
            why = f"{_owners_going(dangling, waiting)}, another owner stays: removing the reference to it"
            return _set_references(obj, solid, why)
        return None
    metadata, kind = obj["metadata"], noun(obj["kind"])
    if waiting and dependents.get(metadata["uid"]):
        propagation = "Foreground"  # the waiting owner waits for this object's own dependents too
    elif ORPHAN in (metadata.get("finalizers") or []):
        propagation = "Orphan"
    elif FOREGROUND in (metadata.get("finalizers") or []):
        propagation = "Foreground"
    else:
        propagation = "Background"
    return Delete(
        obj["apiVersion"],
        obj["kind"],
        metadata.get("namespace", ""),
        metadata["name"],
        uid=metadata["uid"],
        propagation=propagation,
        why=f"{_owners_going(dangling, waiting)}: deleting {'its dependent' if waiting else 'the orphan'} {kind}",
    )


def _owners_going(dangling: list[dict], waiting: list[dict]) -> str:
    """`owner ReplicaSet web-7d9f is gone`, `owner Deployment web is being deleted (foreground)`."""
    words = []
    for references, state in ((dangling, "gone"), (waiting, "being deleted (foreground)")):
        if references:
            one = len(references) == 1
            names = listed(f"{noun(r.get('kind', ''))} {r.get('name', '')}" for r in references)
            words.append(f"owner{'' if one else 's'} {names} {'is' if one else 'are'} {state}")
    return " and ".join(words)


def _owner(obj: dict, reference: dict, by_uid: dict[str, dict]) -> dict | None:
    """The owner a reference points at, if it exists where upstream would look for it."""
    owner = by_uid.get(reference.get("uid", ""))
    if owner is None:
        return None
    if owner["kind"] != reference.get("kind") or owner["metadata"]["name"] != reference.get("name"):
        return None
    owner_namespace = owner["metadata"].get("namespace", "")
    if owner_namespace and owner_namespace != obj["metadata"].get("namespace", ""):
        return None
    return owner


# --- patches ---------------------------------------------------------------------------------------------


def _references(obj: dict) -> list[dict]:
    return list(obj["metadata"].get("ownerReferences") or [])


def _set_references(obj: dict, references: list[dict], why: str) -> Patch:
    return _metadata_patch(obj, {"ownerReferences": references or None}, why)


def _remove_finalizer(obj: dict, finalizer: str, why: str) -> Patch:
    left = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
    return _metadata_patch(obj, {"finalizers": left or None}, why)


def _metadata_patch(obj: dict, metadata_patch: dict, why: str) -> Patch:
    metadata = obj["metadata"]
    return Patch(
        obj["apiVersion"],
        obj["kind"],
        metadata.get("namespace", ""),
        metadata["name"],
        {"metadata": metadata_patch},
        resource_version=metadata.get("resourceVersion"),
        why=why,
    )


def _sort_key(obj: dict) -> tuple[str, str, str]:
    metadata = obj["metadata"]
    return obj["kind"], metadata.get("namespace", ""), metadata["name"]
