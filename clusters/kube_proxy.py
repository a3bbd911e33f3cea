"""kube-proxy for sandboxes on Docker: every Service of the sandbox reachable at its names and
ports, spread over its ready endpoints.

Like upstream's kube-proxy it reads Services and Endpoints only (the endpoints controller has
already decided which pods are ready) and makes the data path match: here, one small proxy
container per Service on the sandbox's network (clusters.runtime.docker, service_sync). The
decision is `proxy_plan`, pure; `kube_proxy_reconcile` is the thin half. Sandboxes on the
simulated runtime have no network inside containers and so no kube-proxy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from clusters import store
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind

SERVICES = resource_for_kind("v1", "Service")
ENDPOINTS = resource_for_kind("v1", "Endpoints")

Endpoint = tuple[str, int, str]  # (IP, port, port name)
# The API server's own Service: pods cannot reach the API server (their network has no way out),
# so it gets no proxy and its name does not resolve.
API_SERVICE = ("default", "kubernetes")


@dataclass(frozen=True)
class ProxyPlan:
    syncs: list[tuple[dict, list[Endpoint]]] = field(default_factory=list)  # (Service, its ready endpoints)
    removals: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name) of proxies to remove


def ready_endpoints(endpoints: dict | None) -> list[Endpoint]:
    """Each ready address of an Endpoints object with each port of its subset; notReadyAddresses
    receive no traffic."""
    found = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or []:
                if port.get("protocol", "TCP") == "TCP":
                    found.append((address["ip"], int(port["port"]), port.get("name", "")))
    return sorted(found)


def proxy_plan(services: list[dict], endpoints: list[dict], existing: list[tuple[str, str]]) -> ProxyPlan:
    """Sync every Service with its ready endpoints; remove proxies whose Service is gone."""
    by_key = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in endpoints}
    plan = ProxyPlan()
    wanted = set()
    for service in services:
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        if key == API_SERVICE:
            continue
        wanted.add(key)
        plan.syncs.append((service, ready_endpoints(by_key.get(key))))
    plan.removals.extend(key for key in existing if key not in wanted)
    return plan


# One runtime per sandbox and process: it remembers which endpoints each proxy already has, so
# a resync with nothing changed costs no exec in the proxies. The most recently used are kept, so
# deleted sandboxes fall out; one that falls out only costs a full sync. The work queue never
# runs one sandbox's kube-proxy twice at once.
@functools.lru_cache(maxsize=256)
def _runtime(sandbox_uid: str, network: str | None):
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime.docker import DockerRuntime

    return DockerRuntime(sandbox=sandbox_uid, network=network)


def kube_proxy_reconcile(sandbox: Sandbox, *, now: datetime) -> None:
    if sandbox.engine != "docker":
        return None
    runtime = _runtime(sandbox.uid.hex, sandbox.network)
    services = store.object_list(sandbox=sandbox, resource=SERVICES).items
    endpoints = store.object_list(sandbox=sandbox, resource=ENDPOINTS).items
    plan = proxy_plan(services, endpoints, runtime.service_list(sandbox.uid.hex))
    for namespace, name in plan.removals:
        runtime.service_remove(sandbox.uid.hex, namespace, name)
    for service, backends in plan.syncs:
        runtime.service_sync(sandbox.uid.hex, service, backends)
    return None
