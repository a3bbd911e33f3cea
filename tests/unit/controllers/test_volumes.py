"""The volumes planner: claims are provisioned or matched, bound, released and reclaimed."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from clusters.controllers import volumes
from clusters.controllers.actions import Create, Delete, Event, Patch
from clusters.controllers.state import ClusterState
from tests.unit.controllers.world import applied, stored

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STAMP = "2025-03-01T12:00:00Z"
WAITING = (
    "Waiting for a volume to be created either by the external provisioner 'kube-tutor.io/local' or manually by the "
    "system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly "
    "registered."
)


def storage_class(name="standard", *, provisioner="kube-tutor.io/local", reclaim="Delete", mode="Immediate"):
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "provisioner": provisioner,
        "reclaimPolicy": reclaim,
        "volumeBindingMode": mode,
    }


def claim(name="data-web-0", *, size="1Gi", storage_class_name="standard", modes=("ReadWriteOnce",), **spec):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "12",
            "labels": {"app": "web"},
        },
        "spec": {
            "accessModes": list(modes),
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class_name,
            "volumeMode": "Filesystem",
            **spec,
        },
        "status": {"phase": "Pending"},
    }


def volume(name, *, size="1Gi", storage_class_name="manual", modes=("ReadWriteOnce",), phase="Available", **spec):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": "3"},
        "spec": {
            "accessModes": list(modes),
            "capacity": {"storage": size},
            "nfs": {"server": "192.0.2.5", "path": f"/exports/{name}"},
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class_name,
            "volumeMode": "Filesystem",
            **spec,
        },
        "status": {"phase": phase},
    }


def involved(body):
    metadata = body["metadata"]
    return {
        "apiVersion": "v1",
        "kind": body["kind"],
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
        "uid": metadata["uid"],
    }


def claim_ref(name="data-web-0", rv="12"):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": "default",
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": rv,
    }


# --- plans applied as the store would (the shared world) ----------------------------------------


apply = functools.partial(applied, now=NOW)


def without(state: ClusterState, kind: str, name: str) -> ClusterState:
    return ClusterState.of(
        o for items in state.by_kind.values() for o in items if (o["kind"], o["metadata"]["name"]) != (kind, name)
    )


# --- provisioning --------------------------------------------------------------------------------------


def test_it_provisions_and_binds_a_statefulset_claim_in_three_steps():
    state = ClusterState.of([storage_class(), claim()])
    pvc = claim()

    first = volumes.plan(state, now=NOW)
    assert first == [
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data-web-0",
            {
                "metadata": {
                    "annotations": {
                        "volume.kubernetes.io/storage-provisioner": "kube-tutor.io/local",
                        "volume.beta.kubernetes.io/storage-provisioner": "kube-tutor.io/local",
                    }
                }
            },
        ),
        Event(involved(pvc), "ExternalProvisioning", WAITING, "Normal", "persistentvolume-controller"),
    ]
    state = apply(state, first)

    second = volumes.plan(state, now=NOW)
    assert second == [
        Event(
            involved(pvc),
            "Provisioning",
            'External provisioner is provisioning volume for claim "default/data-web-0"',
            "Normal",
            "kube-tutor.io/local",
        ),
        Create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": "pvc-uid-data-web-0",
                    "annotations": {"pv.kubernetes.io/provisioned-by": "kube-tutor.io/local"},
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "1Gi"},
                    # the claim as it is now, annotated by the first step
                    "claimRef": claim_ref(
                        rv=stored(state, "PersistentVolumeClaim", "data-web-0")["metadata"]["resourceVersion"]
                    ),
                    "csi": {"driver": "local.kube-tutor.io", "volumeHandle": "uid-data-web-0"},
                    "persistentVolumeReclaimPolicy": "Delete",
                    "storageClassName": "standard",
                    "volumeMode": "Filesystem",
                },
            }
        ),
        Event(
            involved(pvc),
            "ProvisioningSucceeded",
            "Successfully provisioned volume pvc-uid-data-web-0",
            "Normal",
            "kube-tutor.io/local",
        ),
    ]
    state = apply(state, second)

    third = volumes.plan(state, now=NOW)
    assert third == [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pvc-uid-data-web-0",
            {"status": {"phase": "Bound", "lastPhaseTransitionTime": STAMP}},
            "status",
        ),
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data-web-0",
            {
                "metadata": {
                    "annotations": {
                        "pv.kubernetes.io/bind-completed": "yes",
                        "pv.kubernetes.io/bound-by-controller": "yes",
                    }
                },
                "spec": {"volumeName": "pvc-uid-data-web-0"},
            },
        ),
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data-web-0",
            {"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}},
            "status",
        ),
    ]
    state = apply(state, third)

    assert volumes.plan(state, now=NOW) == []
    assert state.get("PersistentVolumeClaim", "default", "data-web-0")["status"]["phase"] == "Bound"
    assert state.get("PersistentVolume", "", "pvc-uid-data-web-0")["status"]["phase"] == "Bound"


def test_it_takes_the_class_reclaim_policy_and_mount_options():
    retained = storage_class("keep", reclaim="Retain")
    retained["mountOptions"] = ["noatime"]
    pvc = claim(storage_class_name="keep")
    pvc["metadata"]["annotations"] = {"volume.kubernetes.io/storage-provisioner": "kube-tutor.io/local"}

    created = next(a for a in volumes.plan(ClusterState.of([retained, pvc]), now=NOW) if isinstance(a, Create))

    assert created.body["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert created.body["spec"]["mountOptions"] == ["noatime"]


def test_it_waits_for_the_scheduler_to_pick_a_node_for_a_wait_for_first_consumer_claim():
    late = storage_class("late", mode="WaitForFirstConsumer")
    pvc = claim(storage_class_name="late")
    assert volumes.plan(ClusterState.of([late, pvc]), now=NOW) == []

    pvc["metadata"]["annotations"] = {"volume.kubernetes.io/selected-node": "node-2"}
    actions = volumes.plan(ClusterState.of([late, pvc]), now=NOW)
    assert [type(a).__name__ for a in actions] == ["Patch", "Event"]


def test_it_only_announces_a_claim_for_another_provisioner():
    other = storage_class("ebs", provisioner="ebs.csi.aws.com")
    state = ClusterState.of([other, claim(storage_class_name="ebs")])

    state = apply(state, volumes.plan(state, now=NOW))

    assert state.get("PersistentVolumeClaim", "default", "data-web-0")["metadata"]["annotations"] == {
        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
        "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
    }
    assert volumes.plan(state, now=NOW) == []


def test_it_leaves_a_claim_without_a_class_or_a_volume_pending():
    assert volumes.plan(ClusterState.of([claim(storage_class_name="")]), now=NOW) == []


# --- binding to volumes made by hand ------------------------------------------------------------------------


def test_it_makes_a_new_volume_available():
    assert volumes.plan(ClusterState.of([volume("pv-a", phase="Pending")]), now=NOW) == [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pv-a",
            {"status": {"phase": "Available", "lastPhaseTransitionTime": STAMP}},
            "status",
        )
    ]


def test_it_binds_a_claim_to_the_smallest_available_volume_that_fits():
    state = ClusterState.of(
        [
            volume("pv-big", size="5Gi"),
            volume("pv-fits", size="2Gi"),
            volume("pv-small", size="500Mi"),
            volume("pv-rox", size="1Gi", modes=("ReadOnlyMany",)),
            volume("pv-other-class", size="1Gi", storage_class_name="fast"),
            claim("data", storage_class_name="manual"),
        ]
    )

    actions = volumes.plan(state, now=NOW)

    assert actions == [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pv-fits",
            {
                "spec": {"claimRef": claim_ref("data")},
                "metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
            },
        ),
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pv-fits",
            {"status": {"phase": "Bound", "lastPhaseTransitionTime": STAMP}},
            "status",
        ),
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data",
            {
                "metadata": {
                    "annotations": {
                        "pv.kubernetes.io/bind-completed": "yes",
                        "pv.kubernetes.io/bound-by-controller": "yes",
                    }
                },
                "spec": {"volumeName": "pv-fits"},
            },
        ),
        Patch(
            "v1",
            "PersistentVolumeClaim",
            "default",
            "data",
            {"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}}},
            "status",
        ),
    ]
    assert volumes.plan(apply(state, actions), now=NOW) == []


def test_it_gives_one_volume_to_one_claim_only():
    state = ClusterState.of(
        [volume("pv-a"), claim("first", storage_class_name="manual"), claim("second", storage_class_name="manual")]
    )

    actions = volumes.plan(state, now=NOW)

    assert {a.name for a in actions if a.kind == "PersistentVolumeClaim"} == {"first"}


def test_it_binds_a_claim_to_the_volume_it_names():
    state = ClusterState.of(
        [
            volume("pv-a", size="5Gi"),
            volume("pv-b", size="1Gi"),
            claim("data", storage_class_name="manual", volumeName="pv-a"),
        ]
    )

    actions = volumes.plan(state, now=NOW)

    assert actions[2] == Patch(
        "v1",
        "PersistentVolumeClaim",
        "default",
        "data",
        {"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}}, "spec": {"volumeName": "pv-a"}},
    )
    assert volumes.plan(apply(state, actions), now=NOW) == []


def test_it_honours_a_volume_pre_bound_to_a_claim_by_name():
    reserved = volume("pv-a", claimRef={"namespace": "default", "name": "data"})
    state = ClusterState.of([reserved, volume("pv-b"), claim("data", storage_class_name="manual")])

    actions = volumes.plan(state, now=NOW)

    assert actions[0] == Patch("v1", "PersistentVolume", "", "pv-a", {"spec": {"claimRef": claim_ref("data")}})
    assert volumes.plan(apply(state, actions), now=NOW) == []


# --- releasing ---------------------------------------------------------------------------------------------


def bound_pair(policy="Delete"):
    """A claim provisioned and bound through the three passes."""
    state = ClusterState.of([storage_class(reclaim=policy), claim()])
    for _ in range(3):
        state = apply(state, volumes.plan(state, now=NOW))
    return state


def test_it_releases_then_deletes_a_provisioned_volume_when_its_claim_goes():
    state = without(bound_pair(), "PersistentVolumeClaim", "data-web-0")

    first = volumes.plan(state, now=NOW)
    assert first == [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pvc-uid-data-web-0",
            {"status": {"phase": "Released", "lastPhaseTransitionTime": STAMP}},
            "status",
        )
    ]
    state = apply(state, first)

    assert volumes.plan(state, now=NOW) == [
        Delete("v1", "PersistentVolume", "", "pvc-uid-data-web-0", uid="uid-pvc-uid-data-web-0")
    ]
    assert volumes.plan(apply(state, volumes.plan(state, now=NOW)), now=NOW) == []


def test_it_keeps_a_retained_volume_released():
    state = without(bound_pair("Retain"), "PersistentVolumeClaim", "data-web-0")

    state = apply(state, volumes.plan(state, now=NOW))

    assert state.get("PersistentVolume", "", "pvc-uid-data-web-0")["status"]["phase"] == "Released"
    assert volumes.plan(state, now=NOW) == []


def test_it_does_not_mistake_a_new_claim_of_the_same_name_for_the_old_one():
    state = bound_pair("Retain")
    recreated = claim()
    recreated["metadata"]["uid"] = "uid-data-web-0-again"
    state = ClusterState.of(
        [*without(state, "PersistentVolumeClaim", "data-web-0").by_kind["PersistentVolume"], recreated]
    )

    actions = volumes.plan(state, now=NOW)

    assert (
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pvc-uid-data-web-0",
            {"status": {"phase": "Released", "lastPhaseTransitionTime": STAMP}},
            "status",
        )
        in actions
    )


def test_it_fails_to_delete_a_volume_nobody_provisioned():
    pv = volume("pv-a", phase="Released", persistentVolumeReclaimPolicy="Delete", claimRef=claim_ref("gone"))
    message = 'error getting deleter volume plugin for volume "pv-a": no deletable volume plugin matched'

    actions = volumes.plan(ClusterState.of([pv]), now=NOW)

    assert actions == [
        Patch(
            "v1",
            "PersistentVolume",
            "",
            "pv-a",
            {"status": {"phase": "Failed", "message": message, "lastPhaseTransitionTime": STAMP}},
            "status",
        ),
        Event(involved(pv), "VolumeFailedDelete", message, "Warning", "persistentvolume-controller"),
    ]
    assert volumes.plan(apply(ClusterState.of([pv]), actions), now=NOW) == []


def test_it_marks_a_bound_claim_lost_when_its_volume_vanishes():
    state = without(bound_pair(), "PersistentVolume", "pvc-uid-data-web-0")
    pvc = state.get("PersistentVolumeClaim", "default", "data-web-0")

    actions = volumes.plan(state, now=NOW)

    assert actions == [
        Patch("v1", "PersistentVolumeClaim", "default", "data-web-0", {"status": {"phase": "Lost"}}, "status"),
        Event(
            involved(pvc),
            "ClaimLost",
            "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
            "Warning",
            "persistentvolume-controller",
        ),
    ]
    assert volumes.plan(apply(state, actions), now=NOW) == []


# --- why, in words ------------------------------------------------------------------------------------------


def writes(actions: list) -> list:
    return [a for a in actions if not isinstance(a, Event)]


def test_provisioning_and_binding_say_what_the_claim_asks_for():
    state = ClusterState.of([storage_class(), claim()])
    [announce] = writes(volumes.plan(state, now=NOW))
    asks = "claim data-web-0 asks for 1Gi of class standard"
    assert announce.why == f"{asks} and no volume fits: asking provisioner kube-tutor.io/local for one"
    state = apply(state, volumes.plan(state, now=NOW))
    [create] = writes(volumes.plan(state, now=NOW))
    assert create.why == f"{asks}: provisioning volume pvc-uid-data-web-0"
    state = apply(state, volumes.plan(state, now=NOW))
    binding = writes(volumes.plan(state, now=NOW))
    assert {a.why for a in binding} == {"volume pvc-uid-data-web-0 is reserved for claim data-web-0: binding them"}


def test_binding_to_the_smallest_volume_and_releasing_say_why():
    state = ClusterState.of(
        [volume("pv-big", size="5Gi"), volume("pv-fits", size="2Gi"), claim("data", storage_class_name="manual")]
    )
    assert {a.why for a in writes(volumes.plan(state, now=NOW))} == {
        "claim data asks for 1Gi of class manual: binding it to volume pv-fits, the smallest Available one that fits"
    }
    state = without(bound_pair(), "PersistentVolumeClaim", "data-web-0")
    [released] = volumes.plan(state, now=NOW)
    assert released.why == "volume pvc-uid-data-web-0's claim data-web-0 is gone: marking it Released"
    [deleted] = volumes.plan(apply(state, [released]), now=NOW)
    assert deleted.why == "volume pvc-uid-data-web-0 is released and its reclaim policy is Delete: deleting it"
