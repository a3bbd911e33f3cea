"""`kubectl exec` into a container of the simulated runtime, from the web process.

The node's runtime state is a row the node's kubelet run loads and saves whole, under its work
lease (clusters.kubelet). An exec runs beside it: it starts from the row as it is, runs the shell
in a thread of its own (clusters.runtime.shell.ShellProcess), and saves what the process writes
as it writes it (after each command of an interactive session, before a sleep, at the end):

1. in one short transaction, with the node's row locked, the write is applied to the row as it is
   then (SimulatedRuntime.exec_writes_apply: the container's files and volumes, and the running
   containers that see the changed files played again from now), and
2. the write is kept in a row of its own, `exec:<node>` (clusters.simulated_volumes), like the
   kills clusters.faults leaves for the kubelet. A kubelet run that loaded the node's state before
   the write, and saves its own copy after, would lose it; the next load of the state (by any
   kubelet run, or exec) applies every kept write the state does not hold yet — each once, by id.
   A kept write is forgotten once the node's state holds it while no kubelet run is under way,
   so no older copy can be saved over it any more.

Writes to persistent volumes go to their own rows (clusters.simulated_volumes) once the node's row
is released: a kubelet locks a claim's row before the node's, never after.

The network an exec sees is the sandbox's: names resolve as the cluster's DNS would (Services,
headless Services' pods, `kubernetes.default`), and HTTP reaches the pods behind a Service's ready
endpoints, or a pod by its address, on whichever node it runs — unless the sandbox's
NetworkPolicies deny the connection (clusters.objects.network_policy), which then goes unanswered
(shell.DROPPED) as behind an enforcing network plugin. DNS is always answered: the documentation's
egress policies allow it explicitly, and kube-dns is not modelled as a pod that policies could
select.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from clusters import errors, store
from clusters.models import NodeRuntimeState, Sandbox, WorkItem
from clusters.objects.network_policy import connection_allowed, pod_endpoint
from clusters.objects.resources import resource_for_kind
from clusters.runtime import shell
from clusters.runtime.base import ContainerNotRunning, ExecProcess, PodRef
from clusters.runtime.simulated import CLUSTER_DNS, SimulatedRuntime, exec_write
from clusters.simulated_volumes import EXEC_WRITES, SandboxVolumes
from clusters.workqueue import kubelet_key

PODS = resource_for_kind("v1", "Pod")
SERVICES = resource_for_kind("v1", "Service")
ENDPOINTS = resource_for_kind("v1", "Endpoints")
NAMESPACES = resource_for_kind("v1", "Namespace")
NETWORK_POLICIES = resource_for_kind("networking.k8s.io/v1", "NetworkPolicy")
CLUSTER_DOMAIN = "cluster.local"
_spread = itertools.count()  # which ready endpoint a Service's next request goes to


def _in_exec_thread(function: Callable) -> Callable:
    """For what the process's own thread calls (its writes, its network): the database connection
    Django opened for that thread is closed again, as no request's end will close it."""

    @functools.wraps(function)
    def run(*args: object, **kwargs: object) -> object:
        try:
            return function(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close()

    return run


def exec_open(
    *, sandbox: Sandbox, pod: PodRef, container: str, command: list[str], tty: bool, stdin: bool
) -> ExecProcess:
    """Start `command` in the running run of the pod's container. Raises ContainerNotRunning
    (upstream's words) when it has none."""
    runtime = node_runtime(sandbox, pod.node)
    if runtime is None:
        raise ContainerNotRunning(f'container not found ("{container}")')

    @_in_exec_thread
    def commit(changes: dict[str, str | None]) -> None:
        exec_writes_save(sandbox=sandbox, pod=pod, container=container, changes=changes)

    @_in_exec_thread
    def refresh() -> dict[str, str] | None:
        now = node_runtime(sandbox, pod.node)
        return now.container_files(pod.uid, container) if now is not None else None

    network = ClusterNetwork(sandbox, pod)
    return runtime.exec_start(
        pod, container, command, tty=tty, stdin=stdin, network=network, commit=commit, refresh=refresh
    )


def node_runtime(sandbox: Sandbox, node: str, *, volumes: SandboxVolumes | None = None) -> SimulatedRuntime | None:
    """The node's simulated runtime as its row holds it now (with the writes it does not hold yet)."""
    state = NodeRuntimeState.objects.filter(sandbox=sandbox, node=node).values_list("runtime", flat=True).first()
    if not state:
        return None
    volumes = volumes or SandboxVolumes(sandbox)
    return SimulatedRuntime.from_json(state, clock=timezone.now, node=node, volumes=volumes)


class _DeferredVolumes(SandboxVolumes):
    """Persistent volume writes held until the node's row is released (see the module's docstring)."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.pending: list[tuple[str, str, str | None]] = []

    def files(self, key: str) -> dict[str, str]:
        files = super().files(key)
        for pending_key, path, text in self.pending:
            if pending_key == key:
                if text is None:
                    files.pop(path, None)
                else:
                    files[path] = text
        return files

    def write(self, key: str, path: str, text: str | None) -> None:
        self.pending.append((key, path, text))

    def flush(self) -> None:
        for key, path, text in self.pending:
            SandboxVolumes.write(self, key, path, text)
        self.pending = []


def exec_writes_save(*, sandbox: Sandbox, pod: PodRef, container: str, changes: dict[str, str | None]) -> None:
    """Save an exec's file writes into the node's state, and keep them until it surely holds them."""
    if not changes:
        return
    write = exec_write(pod.uid, container, changes, at=timezone.now())
    volumes = _DeferredVolumes(sandbox)
    with transaction.atomic():
        kept, _ = NodeRuntimeState.objects.select_for_update().get_or_create(
            sandbox=sandbox, node=EXEC_WRITES + pod.node
        )
        row = NodeRuntimeState.objects.select_for_update().filter(sandbox=sandbox, node=pod.node).first()
        if row is None or not row.runtime:
            return
        # What the row holds now, a kubelet run that loads it from here on holds too; a run under
        # way may have loaded an older copy, so while one is, every kept write stays kept.
        busy = kubelet_running(sandbox, pod.node)
        writes = [w for w in kept.state.get("writes", []) if busy or not _held(row.runtime, w)]
        runtime = SimulatedRuntime.from_json(row.runtime, clock=timezone.now, node=pod.node, volumes=volumes)
        runtime.exec_writes_apply(write)
        row.runtime = runtime.to_json()
        row.save(update_fields=["runtime"])
        kept.state = {"writes": [*writes, write]}
        kept.save(update_fields=["state"])
    volumes.flush()


def _held(state: dict, write: dict) -> bool:
    """Whether a node's state holds an exec's write (or the write's pod is gone from it)."""
    pod = state.get("pods", {}).get(write["pod"])
    return pod is None or write["id"] in pod.get("exec_writes", [])


def kubelet_running(sandbox: Sandbox, node: str) -> bool:
    """Whether a kubelet run of the node holds its work lease now (it may save an older state)."""
    item = WorkItem.objects.filter(sandbox=sandbox, key=kubelet_key(node)).values_list("leased_until", flat=True)
    leased_until = item.first()
    return leased_until is not None and leased_until > timezone.now()


class ClusterNetwork:
    """The sandbox's network as a pod sees it: the cluster's DNS names, Services and pods."""

    nameserver = CLUSTER_DNS

    def __init__(self, sandbox: Sandbox, pod: PodRef) -> None:
        self.sandbox, self.pod = sandbox, pod

    # -- names ---------------------------------------------------------------------------------

    @_in_exec_thread
    def lookup(self, name: str) -> list[tuple[str, str]]:
        name = name.rstrip(".")
        if name == "localhost":
            return [("localhost", "127.0.0.1")]
        own = self._pod_by_uid(self.pod.uid)
        if own is not None and name == (own["spec"].get("hostname") or own["metadata"]["name"]):
            return [(name, own.get("status", {}).get("podIP", ""))]
        search = [f"{self.pod.namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
        candidates = [name] if name.count(".") >= 5 else [f"{name}.{domain}" for domain in search] + [name]
        for candidate in candidates:
            found = self._resolve(candidate)
            if found:
                return [(candidate, address) for address in found]
        return []

    def _resolve(self, fqdn: str) -> list[str]:
        suffix = f".svc.{CLUSTER_DOMAIN}"
        if not fqdn.endswith(suffix):
            return []
        parts = fqdn[: -len(suffix)].split(".")
        if len(parts) == 2:
            service = self._get(SERVICES, parts[1], parts[0])
            if service is None:
                return []
            address = service["spec"].get("clusterIP")
            if address and address != "None":
                return [address]
            return [ip for ip, _ in self._endpoints(service, None)]
        if len(parts) == 3:  # <hostname>.<subdomain>.<namespace>: a pod of a headless Service
            hostname, subdomain, namespace = parts
            pods = store.objects_read(sandbox=self.sandbox, resource=PODS, namespace=namespace)
            return [
                pod["status"]["podIP"]
                for pod in pods
                if pod["spec"].get("hostname") == hostname
                and pod["spec"].get("subdomain") == subdomain
                and pod.get("status", {}).get("podIP")
            ]
        return []

    # -- HTTP ----------------------------------------------------------------------------------

    @_in_exec_thread
    def http_get(self, address: str, port: int, path: str, *, at: float | None = None) -> shell.Answer | None:
        if address in ("127.0.0.1", "localhost"):
            return self._pod_answer(self.pod.uid, self.pod.node, port, path)
        service = next(
            (s for s in store.objects_read(sandbox=self.sandbox, resource=SERVICES)
             if s["spec"].get("clusterIP") == address),
            None,
        )  # fmt: skip
        if service is not None:
            backends = self._endpoints(service, port)
            if not backends:
                return None
            ip, target = backends[next(_spread) % len(backends)]
            return self._address_answer(ip, target, path)
        return self._address_answer(address, port, path)

    def _address_answer(self, address: str, port: int, path: str) -> shell.Answer | None:
        for pod in store.objects_read(sandbox=self.sandbox, resource=PODS):
            if pod.get("status", {}).get("podIP") == address and pod["spec"].get("nodeName"):
                if not self._policies_allow(pod, port):
                    return shell.DROPPED
                return self._pod_answer(pod["metadata"]["uid"], pod["spec"]["nodeName"], port, path)
        return None

    def _policies_allow(self, destination: dict, port: int) -> bool:
        """Whether the sandbox's NetworkPolicies let this pod connect to `destination`'s `port`."""
        policies = store.objects_read(sandbox=self.sandbox, resource=NETWORK_POLICIES)
        source = self._pod_by_uid(self.pod.uid) if policies else None
        if source is None:
            return True
        namespaces = store.objects_read(sandbox=self.sandbox, resource=NAMESPACES)
        labels = {namespace["metadata"]["name"]: namespace["metadata"].get("labels") or {} for namespace in namespaces}
        return connection_allowed(policies, labels, pod_endpoint(source), pod_endpoint(destination), port)

    def _pod_answer(self, uid: str, node: str, port: int, path: str) -> shell.Answer | None:
        runtime = node_runtime(self.sandbox, node)
        return runtime.http_answer(uid, port, path) if runtime is not None else None

    def _endpoints(self, service: dict, port: int | None) -> list[tuple[str, int]]:
        """The ready (address, target port) pairs behind a Service's port (or its first one)."""
        metadata = service["metadata"]
        endpoints = self._get(ENDPOINTS, metadata["namespace"], metadata["name"]) or {}
        ports = service["spec"].get("ports", [])
        chosen = next((p for p in ports if port is None or p.get("port") == port), None)
        if chosen is None:
            return []
        found = []
        for subset in endpoints.get("subsets", []) or []:
            numbers = {p.get("name", ""): p.get("port") for p in subset.get("ports", [])}
            target = numbers.get(chosen.get("name", ""), next(iter(numbers.values()), None))
            if target is None:
                continue
            found += [(address["ip"], target) for address in subset.get("addresses", []) or []]
        return found

    # -- the store -------------------------------------------------------------------------------

    def _get(self, resource, namespace: str, name: str) -> dict | None:
        try:
            return store.object_get(sandbox=self.sandbox, resource=resource, namespace=namespace, name=name)
        except errors.NotFound:
            return None

    def _pod_by_uid(self, uid: str) -> dict | None:
        pod = self._get(PODS, self.pod.namespace, self.pod.name)
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None
