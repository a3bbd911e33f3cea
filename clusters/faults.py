"""Faults a learner causes on purpose, to watch the cluster react as a real one would.

- `container_kill`: a container's process dies from outside (SIGKILL, exit code 137), as in a
  crash. The kubelet was not asked to stop it: it notices the exit and restarts the container by
  the pod's restartPolicy, restartCount rises and `lastState.terminated` shows the 137.
- `kubelet_stop` / `kubelet_start`: a node's kubelet dies and comes back. Its containers run on,
  but its node lease is no longer renewed, so the node lifecycle controller marks the node
  NotReady after TUTOR_NODE_GRACE_SECONDS and evicts its pods after TUTOR_POD_EVICTION_SECONDS;
  their controllers replace them elsewhere. Started again, it renews the lease, turns the node
  Ready and cleans up what it still ran.
- `image_break`: a workload's container image gets a typo (`nginx:1.27` → `nginx-typo:1.27`),
  so new pods go ErrImagePull → ImagePullBackOff and a Deployment's rollout stalls with its old
  pods still serving.

Only a node's kubelet touches its runtime (the simulated runtime's state belongs to the kubelet
run that holds the node's work lease; on Docker, to the worker serving the node's queue), so these
services, called from a web request, only write what is asked in the database and make the
node's kubelet due; the kubelet carries it out (clusters.kubelet). Each call is refused with a
FaultError whose message says what is wrong, when there is nothing to do it to.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clusters import errors, store, workqueue
from clusters.models import NodeRuntimeState, Sandbox
from clusters.objects.labels import (
    JOB_CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from clusters.objects.patch import JSON_PATCH
from clusters.objects.resources import resource_for_kind

PODS = resource_for_kind("v1", "Pod")
NODES = resource_for_kind("v1", "Node")
TYPO = "-typo"
# The kinds whose image can be broken, with where their pod spec is.
POD_SPEC_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Pod": ("v1", ("spec",)),
    "Deployment": ("apps/v1", ("spec", "template", "spec")),
    "StatefulSet": ("apps/v1", ("spec", "template", "spec")),
    "DaemonSet": ("apps/v1", ("spec", "template", "spec")),
    "ReplicaSet": ("apps/v1", ("spec", "template", "spec")),
    "Job": ("batch/v1", ("spec", "template", "spec")),
}
JOB_GENERATED_LABELS = (JOB_CONTROLLER_UID_LABEL, LEGACY_CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL)


class FaultError(Exception):
    """A fault that cannot be caused: the message says on what, and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectNotFound(FaultError):
    """The pod, node or workload named does not exist."""


class PodNotScheduled(FaultError):
    """The pod is not bound to a node yet: none of its containers runs anywhere."""


class ContainerNotFound(FaultError):
    """The pod (or workload) has no container of that name."""


class ContainerNotRunning(FaultError):
    """The container exists but has no running process to kill."""


class KindNotSupported(FaultError):
    """The kind has no pod template whose image could be broken."""


class ImageAlreadyBroken(FaultError):
    """The image was broken before; breaking it again would only make the typo longer."""


@dataclass(frozen=True)
class KillRequest:
    """A kill asked for, which the node's kubelet performs at the start of its next run."""

    id: str
    namespace: str
    pod: str
    container: str
    node: str
    container_id: str  # the run to kill; one that has ended or been replaced by then is left alone
    requested_at: datetime


@dataclass(frozen=True)
class ImageChange:
    """What `image_break` changed, for the page to say."""

    kind: str
    namespace: str
    name: str
    container: str
    old_image: str
    new_image: str
    # A Job's pod template cannot change (upstream refuses it as well): the Job was deleted and
    # created again with the broken image, as `kubectl replace --force` does.
    recreated: bool = False

    def __str__(self) -> str:
        how = ", deleted and created again (a Job's template cannot change)" if self.recreated else ""
        return (
            f'container "{self.container}" of {self.kind} "{self.namespace}/{self.name}": '
            f'image "{self.old_image}" → "{self.new_image}"{how}'
        )


# ---------------------------------------------------------------------------------------------
# Kill a container
# ---------------------------------------------------------------------------------------------


def container_kill(*, sandbox: Sandbox, namespace: str, pod: str, container: str | None) -> KillRequest:
    """Ask the pod's node to SIGKILL the container's running process, as a crash would; `None`
    names the pod's first container.

    Raises ObjectNotFound (no such pod), PodNotScheduled (not bound to a node yet),
    ContainerNotFound (no such container in the pod) or ContainerNotRunning (its status shows no
    running process). Asking again before the kubelet got to it returns the same request."""
    with store.writing_as("page: kill container"):
        body = _get(sandbox, PODS, namespace, pod, what=f'pod "{pod}" in namespace "{namespace}"')
        node = body["spec"].get("nodeName")
        if container is None:
            container = body["spec"]["containers"][0]["name"]
        if not node:
            raise PodNotScheduled(
                f'pod "{namespace}/{pod}" is not bound to a node yet: the scheduler has not placed it, '
                f"so no container of it runs anywhere to be killed"
            )
        status = _container_status(body, container)
        running = (status or {}).get("state", {}).get("running")
        if running is None:
            raise ContainerNotRunning(
                f'container "{container}" of pod "{namespace}/{pod}" is not running ({_state_words(status)}): '
                f"there is no process to kill"
            )
        request = {
            "id": uuid.uuid4().hex,
            "namespace": namespace,
            "pod": pod,
            "uid": body["metadata"]["uid"],
            "container": container,
            "container_id": status.get("containerID", ""),
            "requested_at": timezone.now().isoformat(),
        }
        with transaction.atomic():
            row, _ = NodeRuntimeState.objects.select_for_update().get_or_create(sandbox=sandbox, node=node)
            pending = next((r for r in row.container_kills if _same_run(r, request)), None)
            if pending is None:
                row.container_kills = [*row.container_kills, request]
                row.save(update_fields=["container_kills"])
                pending = request
            workqueue.work_request(sandbox.pk, [workqueue.kubelet_key(node)])
        return KillRequest(
            id=pending["id"],
            namespace=namespace,
            pod=pod,
            container=container,
            node=node,
            container_id=pending["container_id"],
            requested_at=datetime.fromisoformat(pending["requested_at"]),
        )


def _same_run(one: dict, other: dict) -> bool:
    keys = ("uid", "container", "container_id")
    return all(one.get(key) == other.get(key) for key in keys)


def _container_status(pod: dict, container: str) -> dict | None:
    spec, status = pod["spec"], pod.get("status", {})
    for containers_key, statuses_key in (
        ("containers", "containerStatuses"),
        ("initContainers", "initContainerStatuses"),
    ):
        if any(c["name"] == container for c in spec.get(containers_key, [])):
            return next((s for s in status.get(statuses_key, []) if s.get("name") == container), None)
    names = [c["name"] for c in spec.get("initContainers", []) + spec.get("containers", [])]
    metadata = pod["metadata"]
    raise ContainerNotFound(
        f'pod "{metadata["namespace"]}/{metadata["name"]}" has no container "{container}"; '
        f"its containers are: {', '.join(names)}"
    )


def _state_words(status: dict | None) -> str:
    if not status:
        return "it has not been created yet"
    state = status.get("state", {})
    if "waiting" in state:
        reason = state["waiting"].get("reason")
        return f"it is waiting: {reason}" if reason else "it is waiting"
    if "terminated" in state:
        terminated = state["terminated"]
        return f"it has terminated: {terminated.get('reason', '')}, exit code {terminated.get('exitCode')}"
    return "its state is not known yet"


# ---------------------------------------------------------------------------------------------
# Stop and start a node's kubelet
# ---------------------------------------------------------------------------------------------


def kubelet_stop(*, sandbox: Sandbox, node: str) -> None:
    """Stop the node's kubelet: its containers run on, but it renews no lease, writes no status
    and syncs no pod until `kubelet_start`. Stopping a stopped kubelet changes nothing.
    Raises ObjectNotFound when the sandbox has no such node."""
    with store.writing_as("page: stop kubelet"):
        _node_check(sandbox, node)
        with transaction.atomic():
            row, _ = NodeRuntimeState.objects.select_for_update().get_or_create(sandbox=sandbox, node=node)
            if not row.kubelet_stopped:
                row.kubelet_stopped = True
                row.save(update_fields=["kubelet_stopped"])


def kubelet_start(*, sandbox: Sandbox, node: str) -> None:
    """Start the node's kubelet again: its next run (due at once) reports the node Ready, renews
    the lease and syncs its pods. Starting a running kubelet changes nothing.
    Raises ObjectNotFound when the sandbox has no such node."""
    with store.writing_as("page: start kubelet"):
        _node_check(sandbox, node)
        with transaction.atomic():
            row, _ = NodeRuntimeState.objects.select_for_update().get_or_create(sandbox=sandbox, node=node)
            if row.kubelet_stopped:
                row.kubelet_stopped = False
                row.save(update_fields=["kubelet_stopped"])
                workqueue.work_request(sandbox.pk, [workqueue.kubelet_key(node)])


def kubelets_stopped(*, sandbox: Sandbox) -> set[str]:
    """The names of the sandbox's nodes whose kubelet is stopped."""
    rows = NodeRuntimeState.objects.filter(sandbox=sandbox, kubelet_stopped=True)
    return set(rows.values_list("node", flat=True))


def _node_check(sandbox: Sandbox, node: str) -> None:
    try:
        store.object_get(sandbox=sandbox, resource=NODES, namespace="", name=node)
    except errors.NotFound:
        names = sorted(item["metadata"]["name"] for item in store.objects_read(sandbox=sandbox, resource=NODES))
        raise ObjectNotFound(f'node "{node}" not found; the sandbox\'s nodes are: {", ".join(names)}') from None


# ---------------------------------------------------------------------------------------------
# Break an image
# ---------------------------------------------------------------------------------------------


def _repository_and_rest(image: str) -> tuple[str, str]:
    """`ghcr.io/org/app:1.0@sha256:…` → (`ghcr.io/org/app`, `:1.0@sha256:…`); a registry's port is
    part of the repository."""
    name, at, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    repository, tag = (name[:colon], name[colon:]) if colon > slash else (name, "")
    return repository, f"{tag}{at}{digest}"


def image_broken(image: str) -> str:
    """`image` with a typo in its repository name, tag or digest kept: `nginx:1.27` →
    `nginx-typo:1.27`, `ghcr.io/org/app@sha256:…` → `ghcr.io/org/app-typo@sha256:…`. Neither
    the simulated catalog nor a teaching image stands in for it, nor does a registry have it."""
    repository, rest = _repository_and_rest(image)
    return f"{repository}{TYPO}{rest}"


def image_break(*, sandbox: Sandbox, namespace: str, kind: str, name: str, container: str | None = None) -> ImageChange:
    """Give a container of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet or Job (the
    first one, or the one named) an image that cannot be pulled, through the store.

    Raises KindNotSupported, ObjectNotFound, ContainerNotFound, or ImageAlreadyBroken; the store's
    own errors (a conflicting write, say) pass through."""
    if kind not in POD_SPEC_PATHS:
        raise KindNotSupported(
            f"a {kind} has no pod template whose image could be broken; these have: {', '.join(POD_SPEC_PATHS)}"
        )
    api_version, path = POD_SPEC_PATHS[kind]
    resource = resource_for_kind(api_version, kind)
    with store.writing_as("page: break image"), transaction.atomic():
        body = _get(sandbox, resource, namespace, name, what=f'{kind} "{name}" in namespace "{namespace}"')
        pod_spec = body
        for key in path:
            pod_spec = pod_spec.get(key, {})
        containers = pod_spec.get("containers", [])
        index = next((i for i, c in enumerate(containers) if container in (None, c["name"])), None)
        if index is None:
            names = ", ".join(c["name"] for c in containers)
            raise ContainerNotFound(
                f'{kind} "{namespace}/{name}" has no container "{container}"; its containers are: {names}'
            )
        chosen = containers[index]
        old = chosen.get("image", "")
        if _repository_and_rest(old)[0].endswith(TYPO):
            raise ImageAlreadyBroken(
                f'the image of container "{chosen["name"]}" of {kind} "{namespace}/{name}" is broken already: "{old}"'
            )
        new = image_broken(old)
        change = ImageChange(kind, namespace, name, chosen["name"], old, new)
        if kind == "Job":
            _job_recreate(sandbox, resource, body, path, index, new)
            return dataclasses.replace(change, recreated=True)
        pointer = "/" + "/".join((*path, "containers", str(index), "image"))
        operations = [{"op": "test", "path": pointer, "value": old}, {"op": "replace", "path": pointer, "value": new}]
        store.object_patch(
            sandbox=sandbox,
            resource=resource,
            namespace=namespace,
            name=name,
            patch=json.dumps(operations).encode(),
            content_type=JSON_PATCH,
        )
        return change


def _job_recreate(sandbox: Sandbox, resource, job: dict, path: tuple[str, ...], index: int, image: str) -> None:
    """Delete the Job (its pods go with it) and create it again from its spec, with `image`: what
    `kubectl replace --force` does, as a Job's pod template cannot be changed. What the API server
    generated for the old Job (its uid's selector and labels) is left for the new one to get."""
    metadata = job["metadata"]
    kept = ("name", "namespace", "labels", "annotations", "ownerReferences")
    fresh = {key: copy.deepcopy(value) for key, value in metadata.items() if key in kept}
    spec = copy.deepcopy(job["spec"])
    if spec.get("manualSelector") is not True:
        spec.pop("selector", None)
        for labels in (spec["template"].get("metadata", {}).get("labels"), fresh.get("labels")):
            for key in JOB_GENERATED_LABELS:
                (labels or {}).pop(key, None)
        if not fresh.get("labels"):
            fresh.pop("labels", None)
    pod_spec = spec
    for key in path[1:]:
        pod_spec = pod_spec[key]
    pod_spec["containers"][index]["image"] = image
    namespace, name = metadata["namespace"], metadata["name"]
    store.object_delete(
        sandbox=sandbox,
        resource=resource,
        namespace=namespace,
        name=name,
        propagation="Background",
        preconditions={"uid": metadata["uid"]},
    )
    body = {"apiVersion": job["apiVersion"], "kind": "Job", "metadata": fresh, "spec": spec}
    store.object_create(sandbox=sandbox, resource=resource, body=body, namespace=namespace)


def _get(sandbox: Sandbox, resource, namespace: str, name: str, *, what: str) -> dict:
    try:
        return store.object_get(sandbox=sandbox, resource=resource, namespace=namespace, name=name)
    except errors.NotFound:
        raise ObjectNotFound(f"{what} not found") from None
