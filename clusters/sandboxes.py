"""Sandbox services: create one with what a fresh cluster has, reset, delete, and hand out kubeconfigs."""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import os
import tempfile
from pathlib import Path

import yaml
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from clusters import faults, node_hosts, sandbox_network, store
from clusters.models import AccessToken, Change, Sandbox, StoredObject
from clusters.objects import pod_security
from clusters.objects.resources import resource_for_kind
from clusters.objects.times import format_time
from clusters.runtime.selection import runtime_status

NODE_NAMES = node_hosts.NODE_NAMES
log = logging.getLogger(__name__)

NODE_CAPACITY = {"cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi"}
DEFAULT_STORAGE_CLASS = "standard"


RUNTIME_VERSIONS = {"docker": "docker://20.10", "simulated": "kube-tutor-simulated://1"}


class SandboxError(Exception):
    """A sandbox cannot be made; the message says why."""


def _node(name: str, index: int, engine: str) -> dict:
    now = format_time(timezone.now())
    condition = {"lastHeartbeatTime": now, "lastTransitionTime": now}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
            },
        },
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "capacity": dict(NODE_CAPACITY),
            "allocatable": dict(NODE_CAPACITY),
            "conditions": [
                {
                    **condition,
                    "type": "MemoryPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientMemory",
                    "message": "kubelet has sufficient memory available",
                },
                {
                    **condition,
                    "type": "DiskPressure",
                    "status": "False",
                    "reason": "KubeletHasNoDiskPressure",
                    "message": "kubelet has no disk pressure",
                },
                {
                    **condition,
                    "type": "PIDPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientPID",
                    "message": "kubelet has sufficient PID available",
                },
                {
                    **condition,
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                },
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"172.18.0.{index + 2}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "osImage": "Kube Tutor sandbox node",
                "kernelVersion": "",
                "containerRuntimeVersion": RUNTIME_VERSIONS[engine],
                "kubeletVersion": "v1.37.0",
                "kubeProxyVersion": "v1.37.0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


def _seed_objects(engine: str, network: str | None = None) -> list[dict]:
    # The store labels each with the Pod Security level it enforces: the sandbox's, but privileged
    # for kube-system, a cluster's own.
    namespaces = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name},
        }
        for name in store.SYSTEM_NAMESPACES
    ]
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DEFAULT_STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kube-tutor.io/local",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    api_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "clusterIP": sandbox_network.api_service_ip(network),
            "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
        },
    }
    nodes = [_node(name, index, engine) for index, name in enumerate(NODE_NAMES)]
    return [*namespaces, *nodes, storage_class, api_service]


def _seed(sandbox: Sandbox) -> None:
    for body in _seed_objects(sandbox.engine, sandbox.network):
        resource = resource_for_kind(body["apiVersion"], body["kind"])
        store.object_create(sandbox=sandbox, resource=resource, body=copy.deepcopy(body))


def engine_for(runtime: str) -> str:
    """The runtime a new sandbox will use: Docker when asked, or on `auto` when an engine answers."""
    if runtime == "simulated":
        return "simulated"
    if runtime == "docker":
        return "docker"
    return runtime_status().kind


def sandbox_create(
    *,
    owner,
    name: str = "default",
    runtime: str = "auto",
    fast_backoff: bool | None = None,
    pod_security_level: str = pod_security.BASELINE,
) -> Sandbox:
    """A new sandbox with a fresh cluster's objects; its namespaces enforce `pod_security_level`."""
    if pod_security_level not in pod_security.LEVELS:
        raise SandboxError(
            f"a Pod Security level is one of {', '.join(pod_security.LEVELS)}, not {pod_security_level!r}"
        )
    engine = engine_for(runtime)
    fast = settings.FAST_BACKOFF if fast_backoff is None else fast_backoff
    with transaction.atomic(), store.writing_as("kube-tutor: new sandbox"):
        sandbox = Sandbox.objects.create(
            owner=owner,
            name=name,
            runtime=runtime,
            engine=engine,
            fast_backoff=fast,
            pod_security_level=pod_security_level,
        )
        if engine == "docker":
            sandbox.network = _network_claim(sandbox)
            sandbox.save(update_fields=["network"])
        _seed(sandbox)
    return sandbox


def _network_claim(sandbox: Sandbox) -> str:
    """A Docker sandbox's subnet, its network made in the engine at once (which settles races)."""
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime.docker import sandbox_network_claim

    taken = set(Sandbox.objects.exclude(network=None).values_list("network", flat=True))
    network = sandbox_network_claim(sandbox.uid.hex, taken)
    if network is None:
        raise SandboxError("no free subnet is left for a new sandbox network on this Docker engine")
    return network


def sandbox_reset(*, sandbox: Sandbox) -> Sandbox:
    """Remove everything the learner made and start again from a fresh cluster's objects, with
    every kubelet running. Watchers see every object deleted, then the fresh ones added."""
    for node in faults.kubelets_stopped(sandbox=sandbox):
        faults.kubelet_start(sandbox=sandbox, node=node)
    with transaction.atomic():
        for row in StoredObject.objects.filter(sandbox=sandbox).order_by("pk"):
            resource = resource_for_kind(row.body["apiVersion"], row.body["kind"])
            store._record(sandbox, resource, copy.deepcopy(row.body), Change.DELETED, row)
        _seed(sandbox)
    return sandbox


NAMESPACES = resource_for_kind("v1", "Namespace")


def sandbox_pod_security_set(*, sandbox: Sandbox, level: str) -> list[str]:
    """Make `level` the sandbox's Pod Security level: the enforce label of each of its namespaces
    (but kube-system, the system's own) and of those made from now on. Pods already running stay,
    as on a cluster; the API's warnings about those the new level would refuse are returned."""
    if level not in pod_security.LEVELS:
        raise SandboxError(f"a Pod Security level is one of {', '.join(pod_security.LEVELS)}, not {level!r}")
    warnings: list[str] = []
    with transaction.atomic(), store.writing_as("kube-tutor: pod security", f"the sandbox's level is now {level}"):
        Sandbox.objects.filter(pk=sandbox.pk).update(pod_security_level=level)
        sandbox.pod_security_level = level
        rows = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Namespace").exclude(name="kube-system")
        for name, body in rows.order_by("name").values_list("name", "body"):
            if (body["metadata"].get("labels") or {}).get(pod_security.ENFORCE_LABEL) == level:
                continue
            patch = {"metadata": {"labels": {pod_security.ENFORCE_LABEL: level}}}
            store.object_patch(
                sandbox=sandbox,
                resource=NAMESPACES,
                namespace="",
                name=name,
                patch=json.dumps(patch).encode(),
                content_type="application/merge-patch+json",
                warnings=warnings,
            )
    return warnings


ENGINE_FORGET = "clusters.tasks.sandbox_engine_remove"


def sandbox_delete(*, sandbox: Sandbox) -> None:
    """Delete the sandbox and everything stored of it; once that commits, a worker removes what
    the Docker engine ran for it (its kubelets, which would have, are gone with it)."""
    uid, engine = sandbox.uid.hex, sandbox.engine
    sandbox.delete()
    if engine == "docker":
        transaction.on_commit(lambda: _engine_forget(uid))


def _engine_forget(uid: str) -> None:
    """Ask the worker of every host to remove what its engine ran for the sandbox."""
    for host in node_hosts.hosts(settings.NODE_HOSTS):
        try:
            current_app.send_task(ENGINE_FORGET, (uid,), queue=node_hosts.host_queue(host))
        except BrokerUnreachable as error:
            log.warning("broker unreachable: host %s keeps deleted sandbox %s's containers (%s)", host, uid, error)


def kubeconfig_render(*, sandbox: Sandbox, server: str) -> str:
    """A kubeconfig for the sandbox with a new token of its owner.

    Over https the token goes in the user entry (sent as a bearer token); over plain http kubectl
    would not send it, so it becomes part of the server URL instead."""
    _, key = AccessToken.issue(user=sandbox.owner, description=f"kubeconfig for sandbox {sandbox.name}")
    base = f"{server.rstrip('/')}/k8s/{sandbox.uid.hex}"
    user: dict = {}
    if server.startswith("https://"):
        cluster_server = base
        user["token"] = key
    else:
        cluster_server = f"{base}/t/{key}"
    context = f"{sandbox.owner.get_username()}-{sandbox.name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": cluster_server}}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def console_kubeconfig(*, sandbox: Sandbox, server: str, folder: Path) -> Path:
    """The kubeconfig the sandbox page's console runs kubectl with: `folder`/kubeconfig (0600).

    The first call issues a token of the owner for it (only its hash is stored; the key lives only in
    that file); later calls reuse the file, so kubectl's HOME beside it keeps its discovery cache. A
    new token is issued when the file is missing or unreadable, its token is gone, or the server (or
    the context's names) changed; the token it replaces is deleted. `server` is the app's address as
    the web process reaches it; over plain http the token goes in the URL path, as in
    kubeconfig_render. A lock file makes two commands at once issue one token, not two."""
    base = f"{server.rstrip('/')}/k8s/{sandbox.uid.hex}"

    def config_for(key: str) -> dict:
        https = server.startswith("https://")
        context = f"{sandbox.owner.get_username()}-{sandbox.name}"
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": base if https else f"{base}/t/{key}"}}],
            "users": [{"name": context, "user": {"token": key} if https else {}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
            "current-context": context,
            "preferences": {},
        }

    path = folder / "kubeconfig"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / ".kubeconfig.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old_key = None
        try:
            old = yaml.safe_load(path.read_text())
            old_server = old["clusters"][0]["cluster"]["server"]
            in_path = old_server.rpartition("/t/")[2] if "/t/" in old_server else None
            old_key = old["users"][0]["user"].get("token") or in_path
        except (OSError, yaml.YAMLError, LookupError, TypeError, AttributeError):
            old = None
        if old_key:
            token = AccessToken.objects.filter(user_id=sandbox.owner_id, key_hash=AccessToken.hash_key(old_key))
            if old == config_for(old_key) and token.exists():
                return path
        with transaction.atomic():
            _, key = AccessToken.issue(user=sandbox.owner, description=f"kubectl console of sandbox {sandbox.name}")
            handle, written = tempfile.mkstemp(dir=folder, prefix=".kubeconfig-")  # 0600
            with os.fdopen(handle, "w") as file:
                file.write(yaml.safe_dump(config_for(key), sort_keys=False))
            os.replace(written, path)
            if old_key:
                AccessToken.objects.filter(key_hash=AccessToken.hash_key(old_key)).delete()
    return path
