"""kube-proxy for sandboxes on Docker: every Service of the sandbox reachable at its names and
ports, spread over its ready endpoints.

Like upstream's kube-proxy it reads Services and Endpoints (the endpoints controller has already
decided which pods are ready) and makes the data path match: here, one small proxy container per
Service on the sandbox's network (clusters.runtime.docker, service_sync). The decision is
`proxy_plan`, pure; `kube_proxy_reconcile` is the thin half. Sandboxes on the simulated runtime
have no network inside containers and so no kube-proxy.

NetworkPolicy: the sandbox's Docker network has no policy-capable plugin, and learner containers
get no NET_ADMIN, so traffic from pod to pod cannot be filtered. Traffic through a Service can:
it passes the Service's proxy, which sees the client's address. So the plan also lists, for each
endpoint, the addresses of the pods whose connection to it the policies deny (the source's egress
or the endpoint's ingress, clusters.objects.network_policy), and the proxy leaves their
connections unanswered. Each policy gets a Warning Event saying what is not enforced.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from clusters import host_links, node_hosts, store
from clusters.controllers.actions import Event, ref
from clusters.controllers.actor import events_record
from clusters.kubelet import host_network_link, host_pod_ip_range
from clusters.models import Sandbox
from clusters.objects.network_policy import connection_allowed, pod_endpoint
from clusters.objects.resources import resource_for_kind

SERVICES = resource_for_kind("v1", "Service")
ENDPOINTS = resource_for_kind("v1", "Endpoints")
PODS = resource_for_kind("v1", "Pod")
NAMESPACES = resource_for_kind("v1", "Namespace")
NETWORK_POLICIES = resource_for_kind("networking.k8s.io/v1", "NetworkPolicy")
EVENTS = resource_for_kind("v1", "Event")

Endpoint = tuple[str, int, str]  # (IP, port, port name)
# The API server's own Service: pods cannot reach the API server (their network has no way out),
# so it gets no proxy and its name does not resolve.
API_SERVICE = ("default", "kubernetes")


# What a plugin that cannot filter pod-to-pod traffic tells about each NetworkPolicy.
NOT_ENFORCED = "NotEnforced"
NOT_ENFORCED_MESSAGE = (
    "this sandbox's network plugin (Docker bridge) does not enforce NetworkPolicy for direct pod-to-pod "
    "traffic; connections through a Service are filtered by the Service's proxy (kube-proxy)"
)

Denied = dict[tuple[str, int], list[str]]  # (endpoint IP, port) → addresses of the pods it drops


@dataclass(frozen=True)
class ProxyPlan:
    syncs: list[tuple[dict, list[Endpoint]]] = field(default_factory=list)  # (Service, its ready endpoints)
    removals: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name) of proxies to remove
    # By Service (namespace, name): whom its endpoints drop; a Service not here drops nobody.
    denied: dict[tuple[str, str], Denied] = field(default_factory=dict)


def ready_endpoints(endpoints: dict | None, nodes: Collection[str] | None = None) -> list[Endpoint]:
    """Each ready address of an Endpoints object with each port of its subset; notReadyAddresses
    receive no traffic. Given `nodes`, only the addresses of pods on those nodes: those the proxy's
    engine can reach (pods on another host's engine are on another bridge, see docs/operations.md)."""
    found = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            if nodes is not None and address.get("nodeName") not in nodes:
                continue
            for port in subset.get("ports") or []:
                if port.get("protocol", "TCP") == "TCP":
                    found.append((address["ip"], int(port["port"]), port.get("name", "")))
    return sorted(found)


def denied_clients(
    backends: list[Endpoint],
    pods: list[dict],
    policies: list[dict],
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> Denied:
    """For each endpoint, the addresses of the sandbox's pods whose connection to it the policies
    deny (the port they judge is the endpoint's own, as after the Service's DNAT)."""
    if not policies:
        return {}
    by_address = {pod["status"]["podIP"]: pod for pod in pods if (pod.get("status") or {}).get("podIP")}
    clients = [pod_endpoint(pod) for pod in by_address.values()]
    denied: Denied = {}
    for address, port, _ in backends:
        target = by_address.get(address)
        if target is None:
            continue
        destination = pod_endpoint(target)
        refused = sorted(
            client.ip
            for client in clients
            if not client.host and not connection_allowed(policies, namespace_labels, client, destination, port)
        )
        if refused:
            denied[(address, port)] = refused
    return denied


def proxy_plan(
    services: list[dict],
    endpoints: list[dict],
    existing: list[tuple[str, str]],
    *,
    pods: Sequence[dict] = (),
    policies: Sequence[dict] = (),
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    nodes: Collection[str] | None = None,
) -> ProxyPlan:
    """Sync every Service with its ready endpoints (and whom the NetworkPolicies deny them);
    remove proxies whose Service is gone. `nodes`: the nodes whose pods the proxies can reach
    (None: every node's)."""
    by_key = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in endpoints}
    plan = ProxyPlan()
    wanted = set()
    for service in services:
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        if key == API_SERVICE:
            continue
        wanted.add(key)
        backends = ready_endpoints(by_key.get(key), nodes)
        plan.syncs.append((service, backends))
        denied = denied_clients(backends, list(pods), list(policies), namespace_labels or {})
        if denied:
            plan.denied[key] = denied
    plan.removals.extend(key for key in existing if key not in wanted)
    return plan


def warnings_plan(policies: list[dict], warned: set[str]) -> list[Event]:
    """A Warning Event for each policy not warned about yet (by uid)."""
    return [
        Event(ref(policy), NOT_ENFORCED, NOT_ENFORCED_MESSAGE, "Warning", "kube-proxy")
        for policy in policies
        if policy["metadata"]["uid"] not in warned
    ]


# One runtime per sandbox and process: it remembers which endpoints each proxy already has, so
# a resync with nothing changed costs no exec in the proxies. The most recently used are kept, so
# deleted sandboxes fall out; one that falls out only costs a full sync. The work queue never
# runs one sandbox's kube-proxy twice at once.
@functools.lru_cache(maxsize=256)
def _runtime(sandbox_uid: str, network: str | None, pod_ip_range: str | None, link: host_links.Link | None):
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime.docker import DockerRuntime

    return DockerRuntime(sandbox=sandbox_uid, network=network, pod_ip_range=pod_ip_range, link=link)


def _proxy_runtime(sandbox: Sandbox):
    """The runtime on the engine of the host that runs the sandbox's proxies (clusters.node_hosts)."""
    host = node_hosts.proxy_host(settings.NODE_HOSTS)
    return _runtime(
        sandbox.uid.hex, sandbox.network, host_pod_ip_range(sandbox, host), host_network_link(sandbox, host)
    )


def proxy_nodes() -> list[str] | None:
    """The nodes whose pods the proxies reach: those of the proxies' host when the hosts are not
    linked (clusters.host_links); None, every node, when they are, or when one host runs them all."""
    mapping = settings.NODE_HOSTS
    if len(node_hosts.hosts(mapping)) == 1 or settings.HOST_LINKS:
        return None
    return node_hosts.host_nodes(mapping, node_hosts.proxy_host(mapping))


@functools.lru_cache(maxsize=256)
def _warned(sandbox_uid: str) -> set[str]:
    """The policies (by uid) whose Warning Event this process has recorded or seen in a sandbox, so
    each policy's Events are read once, not on every run (bounded as `_runtime` is)."""
    return set()


def _policy_warnings(sandbox: Sandbox, policies: list[dict]) -> None:
    warned = _warned(sandbox.uid.hex)
    for policy in policies:
        uid = policy["metadata"]["uid"]
        if uid in warned:
            continue
        events = store.objects_read(
            sandbox=sandbox,
            resource=EVENTS,
            namespace=policy["metadata"]["namespace"],
            field_selector=f"involvedObject.uid={uid},reason={NOT_ENFORCED}",
        )
        if events:
            warned.add(uid)
    for event in warnings_plan(policies, warned):
        events_record(sandbox, [event])
        warned.add(event.involved["uid"])


def kube_proxy_reconcile(sandbox: Sandbox, *, now: datetime) -> None:
    if sandbox.engine != "docker":
        return None
    runtime = _proxy_runtime(sandbox)
    services = store.objects_read(sandbox=sandbox, resource=SERVICES)
    endpoints = store.objects_read(sandbox=sandbox, resource=ENDPOINTS)
    policies = store.objects_read(sandbox=sandbox, resource=NETWORK_POLICIES)
    pods, labels = [], {}
    if policies:
        pods = store.objects_read(sandbox=sandbox, resource=PODS)
        namespaces = store.objects_read(sandbox=sandbox, resource=NAMESPACES)
        labels = {namespace["metadata"]["name"]: namespace["metadata"].get("labels") or {} for namespace in namespaces}
    existing = runtime.service_list(sandbox.uid.hex)
    plan = proxy_plan(
        services, endpoints, existing, pods=pods, policies=policies, namespace_labels=labels, nodes=proxy_nodes()
    )
    for namespace, name in plan.removals:
        runtime.service_remove(sandbox.uid.hex, namespace, name)
    for service, backends in plan.syncs:
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        runtime.service_sync(sandbox.uid.hex, service, backends, denied=plan.denied.get(key, {}))
    _policy_warnings(sandbox, policies)
    return None


def kube_proxy_stop(sandbox: Sandbox) -> list[tuple[str, str]]:
    """A paused sandbox's kube-proxy (clusters.idle): remove every Service's proxy; the next
    reconcile after the return makes them again from the Services. The removed, by (namespace, name)."""
    if sandbox.engine != "docker":
        return []
    runtime = _proxy_runtime(sandbox)
    removed = runtime.service_list(sandbox.uid.hex)
    for namespace, name in removed:
        runtime.service_remove(sandbox.uid.hex, namespace, name)
    return removed
