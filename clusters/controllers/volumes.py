"""Persistent volumes: the PV controller (pkg/controller/volume/persistentvolume) and the
sandbox's own provisioner, `kube-tutor.io/local`, working as an external CSI provisioner would.

The PV controller's part, claim by claim and volume by volume:

- A pending claim binds to the smallest Available volume that fits it — same class, the access
  modes it asks for, at least the storage it requests, a matching selector and volume mode — or to
  a volume pre-bound to it (by `claimRef`, or that it names in `spec.volumeName`). Binding sets the
  volume's `claimRef` (annotated `pv.kubernetes.io/bound-by-controller` when the controller chose
  it) and phase Bound, and the claim's `spec.volumeName`, annotations
  `pv.kubernetes.io/bind-completed` and `pv.kubernetes.io/bound-by-controller`, and status Bound
  with the volume's capacity and access modes.
- A pending claim with nothing to bind to, whose class has a provisioner, is annotated
  `volume.kubernetes.io/storage-provisioner` (and the beta key) with an `ExternalProvisioning`
  Event; a WaitForFirstConsumer class waits for the scheduler's `volume.kubernetes.io/selected-node`.
- A new volume with no claim becomes Available; a volume whose claim is gone becomes Released,
  then is reclaimed: Retain keeps it Released, Delete leaves it to its provisioner (or fails with
  upstream's `VolumeFailedDelete` when nobody provisioned it). A bound claim whose volume vanished
  is Lost.

The provisioner's part: for a claim annotated with its name it creates `pvc-<claim uid>` — the
claim's requested capacity and access modes, the class's reclaim policy and mount options, a
`claimRef` to the claim, annotation `pv.kubernetes.io/provisioned-by` and, as the volume source,
`spec.csi` with driver `local.kube-tutor.io` and the claim's uid as `volumeHandle` (the runtime
keys the backing Docker volume on it; no host path is ever involved). A CSI driver name must be a
DNS subdomain, so it cannot be the provisioner name itself. A Released volume it provisioned with
reclaim policy Delete is deleted.

Events are planned only alongside a change, so a converged sandbox plans nothing.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, ref
from clusters.controllers.state import ClusterState
from clusters.objects.quantity import QuantityError, quantity_from_json
from clusters.objects.selectors import labels_match, selector_from_match_labels
from clusters.objects.times import format_time

PROVISIONER = "kube-tutor.io/local"
CSI_DRIVER = "local.kube-tutor.io"
CONTROLLER = "persistentvolume-controller"

STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    actions: list[Action] = []
    taken: set[str] = set()  # volumes promised to a claim earlier in this pass
    for claim in sorted(state.objects("PersistentVolumeClaim"), key=_key):
        actions.extend(_sync_claim(state, claim, taken, now=now))
    for volume in sorted(state.objects("PersistentVolume"), key=_key):
        if volume["metadata"]["name"] not in taken:
            actions.extend(_sync_volume(state, volume, now=now))
    return actions


# --- claims -----------------------------------------------------------------------------------------


def _sync_claim(state: ClusterState, claim: dict, taken: set[str], *, now: datetime) -> list[Action]:
    if claim["metadata"].get("deletionTimestamp"):
        return []
    if _annotations(claim).get(BIND_COMPLETED):
        return _sync_bound_claim(state, claim, now=now)
    wanted = (claim.get("spec") or {}).get("volumeName")
    if wanted:
        volume = state.get("PersistentVolume", "", wanted)
        if volume is None or wanted in taken:
            return []  # it asked for a volume that does not exist (yet): stay Pending
        claim_ref = (volume.get("spec") or {}).get("claimRef")
        if claim_ref is None and not _satisfies(volume, claim):
            return []
        if claim_ref is not None and not _bound_to(volume, claim):
            return []  # claimed by someone else: wait
        taken.add(wanted)
        return _bind(volume, claim, f"claim {claim['metadata']['name']} names volume {wanted}: binding them", now=now)
    volume = _best_match(state, claim, taken)
    if volume is not None:
        name = volume["metadata"]["name"]
        taken.add(name)
        if (volume.get("spec") or {}).get("claimRef") is not None:
            why = f"volume {name} is reserved for claim {claim['metadata']['name']}: binding them"
        else:
            why = f"{_asks(claim)}: binding it to volume {name}, the smallest Available one that fits"
        return _bind(volume, claim, why, now=now)
    return _provision(state, claim)


def _asks(claim: dict) -> str:
    """`claim data asks for 1Gi of class standard`."""
    spec = claim.get("spec") or {}
    request = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    words = f"claim {claim['metadata']['name']} asks for {request if request is not None else 'storage'}"
    return f"{words} of class {spec['storageClassName']}" if spec.get("storageClassName") else words


def _sync_bound_claim(state: ClusterState, claim: dict, *, now: datetime) -> list[Action]:
    name = (claim.get("spec") or {}).get("volumeName", "")
    volume = state.get("PersistentVolume", "", name) if name else None
    if volume is None:
        if (claim.get("status") or {}).get("phase") == "Lost":
            return []
        metadata = claim["metadata"]
        return [
            Patch(
                "v1",
                "PersistentVolumeClaim",
                metadata["namespace"],
                metadata["name"],
                {"status": {"phase": "Lost"}},
                "status",
                why=f"claim {metadata['name']}'s volume {name or '(none)'} is gone: marking it Lost",
            ),
            Event(
                ref(claim),
                "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
                "Warning",
                CONTROLLER,
            ),
        ]
    if _bound_to(volume, claim) and (claim.get("status") or {}).get("phase") != "Bound":
        why = f"claim {claim['metadata']['name']} and volume {name} are bound to each other: marking the claim Bound"
        return [_claim_status_bound(claim, volume, why)]
    return []


def _best_match(state: ClusterState, claim: dict, taken: set[str]) -> dict | None:
    """FindMatchingVolume: a volume pre-bound to the claim wins; otherwise the smallest
    Available volume that satisfies it."""
    best, best_size = None, None
    for volume in sorted(state.objects("PersistentVolume"), key=_key):
        metadata, spec = volume["metadata"], volume.get("spec") or {}
        if metadata["name"] in taken or metadata.get("deletionTimestamp"):
            continue
        if (spec.get("volumeMode") or "Filesystem") != ((claim.get("spec") or {}).get("volumeMode") or "Filesystem"):
            continue
        if spec.get("claimRef") is not None:
            if _bound_to(volume, claim):
                return volume
            continue
        if _waits_for_first_consumer(state, claim):
            continue  # the scheduler picks such volumes, with the node in mind
        if (volume.get("status") or {}).get("phase") != "Available" or not _satisfies(volume, claim):
            continue
        size = _storage(spec.get("capacity"))
        if best is None or size < best_size:
            best, best_size = volume, size
    return best


def _satisfies(volume: dict, claim: dict) -> bool:
    spec, claim_spec = volume.get("spec") or {}, claim.get("spec") or {}
    if (spec.get("storageClassName") or "") != (claim_spec.get("storageClassName") or ""):
        return False
    if not set(claim_spec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    if _storage(spec.get("capacity")) < _storage((claim_spec.get("resources") or {}).get("requests")):
        return False
    selector = claim_spec.get("selector")
    return selector is None or labels_match(selector_from_match_labels(selector), volume["metadata"].get("labels"))


def _bind(volume: dict, claim: dict, why: str, *, now: datetime) -> list[Action]:
    """bind(): the volume first (claimRef, then phase Bound), then the claim (volumeName and
    annotations, then status Bound); every write says `why` the two belong together."""
    actions: list[Action] = []
    volume_name = volume["metadata"]["name"]
    claim_ref = (volume.get("spec") or {}).get("claimRef") or {}
    if claim_ref.get("uid") != claim["metadata"]["uid"] or claim_ref.get("name") != claim["metadata"]["name"]:
        patch: dict = {"spec": {"claimRef": _claim_ref(claim)}}
        if not _bound_to(volume, claim):
            patch["metadata"] = {"annotations": {BOUND_BY_CONTROLLER: "yes"}}
        actions.append(Patch("v1", "PersistentVolume", "", volume_name, patch, why=why))
    if (volume.get("status") or {}).get("phase") != "Bound":
        actions.append(_volume_phase(volume_name, "Bound", why, now=now))
    metadata = claim["metadata"]
    annotations = {BIND_COMPLETED: "yes"}
    if not (claim.get("spec") or {}).get("volumeName"):
        annotations[BOUND_BY_CONTROLLER] = "yes"
    actions.append(
        Patch(
            "v1",
            "PersistentVolumeClaim",
            metadata["namespace"],
            metadata["name"],
            {"metadata": {"annotations": annotations}, "spec": {"volumeName": volume_name}},
            why=why,
        )
    )
    actions.append(_claim_status_bound(claim, volume, why))
    return actions


def _claim_status_bound(claim: dict, volume: dict, why: str) -> Patch:
    spec = volume.get("spec") or {}
    status = {
        "phase": "Bound",
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": dict(spec.get("capacity") or {}),
    }
    metadata = claim["metadata"]
    return Patch(
        "v1", "PersistentVolumeClaim", metadata["namespace"], metadata["name"], {"status": status}, "status", why=why
    )


def _provision(state: ClusterState, claim: dict) -> list[Action]:
    class_name = (claim.get("spec") or {}).get("storageClassName")
    storage_class = state.get("StorageClass", "", class_name) if class_name else None
    if storage_class is None or not storage_class.get("provisioner"):
        return []  # nothing will make a volume for it: it waits for one to be created by hand
    annotations = _annotations(claim)
    if _waits_for_first_consumer(state, claim) and not annotations.get(SELECTED_NODE):
        return []
    provisioner = storage_class["provisioner"]
    if provisioner.startswith("kubernetes.io/"):
        return []  # in-tree names (e.g. no-provisioner): no external provisioner will answer
    if annotations.get(STORAGE_PROVISIONER) != provisioner:
        metadata = claim["metadata"]
        message = (
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by "
            "the system administrator. If volume creation is delayed, please verify that the provisioner is running "
            "and correctly registered."
        )
        return [
            Patch(
                "v1",
                "PersistentVolumeClaim",
                metadata["namespace"],
                metadata["name"],
                {
                    "metadata": {
                        "annotations": {STORAGE_PROVISIONER: provisioner, BETA_STORAGE_PROVISIONER: provisioner}
                    }
                },
                why=f"{_asks(claim)} and no volume fits: asking provisioner {provisioner} for one",
            ),
            Event(ref(claim), "ExternalProvisioning", message, "Normal", CONTROLLER),
        ]
    if provisioner != PROVISIONER:
        return []  # another provisioner's claim
    return _create_volume(state, claim, storage_class)


def _create_volume(state: ClusterState, claim: dict, storage_class: dict) -> list[Action]:
    """The local provisioner: a volume made for exactly this claim, already pointing at it."""
    metadata, spec = claim["metadata"], claim.get("spec") or {}
    name = f"pvc-{metadata['uid']}"
    if state.get("PersistentVolume", "", name) is not None:
        return []  # made already; the PV controller binds it
    request = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if request is None:
        return []
    volume_spec: dict = {
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": {"storage": request},
        "claimRef": _claim_ref(claim),
        "csi": {"driver": CSI_DRIVER, "volumeHandle": metadata["uid"]},
        "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
        "storageClassName": storage_class["metadata"]["name"],
        "volumeMode": spec.get("volumeMode") or "Filesystem",
    }
    if storage_class.get("mountOptions"):
        volume_spec["mountOptions"] = list(storage_class["mountOptions"])
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": volume_spec,
    }
    claim_key = f"{metadata['namespace']}/{metadata['name']}"
    return [
        Event(
            ref(claim),
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{claim_key}"',
            "Normal",
            PROVISIONER,
        ),
        Create(body, why=f"{_asks(claim)}: provisioning volume {name}"),
        Event(ref(claim), "ProvisioningSucceeded", f"Successfully provisioned volume {name}", "Normal", PROVISIONER),
    ]


# --- volumes --------------------------------------------------------------------------------------------


def _sync_volume(state: ClusterState, volume: dict, *, now: datetime) -> list[Action]:
    metadata, spec = volume["metadata"], volume.get("spec") or {}
    if metadata.get("deletionTimestamp"):
        return []
    name, phase = metadata["name"], (volume.get("status") or {}).get("phase")
    claim_ref = spec.get("claimRef")
    if claim_ref is None or not claim_ref.get("uid"):
        # Unused, or reserved for a claim that has not bound yet.
        why = f"volume {name} is bound to no claim yet: marking it Available"
        return [] if phase == "Available" else [_volume_phase(name, "Available", why, now=now)]
    claim = state.get("PersistentVolumeClaim", claim_ref.get("namespace", ""), claim_ref.get("name", ""))
    if claim is not None and claim["metadata"]["uid"] != claim_ref["uid"]:
        claim = None  # a new claim of the same name is not the one this volume was bound to
    if claim is None:
        return _reclaim(volume, now=now)
    if (claim.get("spec") or {}).get("volumeName") == name and phase != "Bound":
        why = f"volume {name} and claim {claim['metadata']['name']} are bound to each other: marking the volume Bound"
        return [_volume_phase(name, "Bound", why, now=now)]
    return []  # bound properly, or waiting for the claim's side of the binding


def _reclaim(volume: dict, *, now: datetime) -> list[Action]:
    metadata, spec = volume["metadata"], volume.get("spec") or {}
    name, phase = metadata["name"], (volume.get("status") or {}).get("phase")
    claim = (spec.get("claimRef") or {}).get("name", "")
    if phase not in ("Released", "Failed"):
        return [_volume_phase(name, "Released", f"volume {name}'s claim {claim} is gone: marking it Released", now=now)]
    if phase == "Failed" or spec.get("persistentVolumeReclaimPolicy") != "Delete":
        return []  # Retain (and the retired Recycle) keep the volume and its data
    released = f"volume {name} is released and its reclaim policy is Delete"
    provisioned_by = _annotations(volume).get(PROVISIONED_BY)
    if provisioned_by == PROVISIONER:
        return [Delete("v1", "PersistentVolume", "", name, uid=metadata["uid"], why=f"{released}: deleting it")]
    if provisioned_by:
        return []  # another external provisioner's volume
    message = f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'
    return [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            name,
            {"status": {"phase": "Failed", "message": message, "lastPhaseTransitionTime": format_time(now)}},
            "status",
            why=f"{released}, but no provisioner made it to delete it: marking it Failed",
        ),
        Event(ref(volume), "VolumeFailedDelete", message, "Warning", CONTROLLER),
    ]


def _volume_phase(name: str, phase: str, why: str, *, now: datetime) -> Patch:
    status = {"phase": phase, "lastPhaseTransitionTime": format_time(now)}
    return Patch("v1", "PersistentVolume", "", name, {"status": status}, "status", why=why)


# --- helpers ------------------------------------------------------------------------------------------------


def _claim_ref(claim: dict) -> dict:
    metadata = claim["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": metadata["namespace"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "resourceVersion": metadata.get("resourceVersion", ""),
    }


def _bound_to(volume: dict, claim: dict) -> bool:
    """IsVolumeBoundToClaim: the claimRef names this claim, and its uid (if set) is this claim's."""
    claim_ref = (volume.get("spec") or {}).get("claimRef") or {}
    metadata = claim["metadata"]
    if claim_ref.get("name") != metadata["name"] or claim_ref.get("namespace") != metadata.get("namespace"):
        return False
    return not claim_ref.get("uid") or claim_ref["uid"] == metadata["uid"]


def _waits_for_first_consumer(state: ClusterState, claim: dict) -> bool:
    class_name = (claim.get("spec") or {}).get("storageClassName")
    storage_class = state.get("StorageClass", "", class_name) if class_name else None
    return storage_class is not None and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"


def _storage(resources: dict | None) -> Fraction:
    raw = (resources or {}).get("storage")
    if raw is None:
        return Fraction(0)
    try:
        return quantity_from_json(raw).value
    except QuantityError:
        return Fraction(0)


def _annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def _key(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
