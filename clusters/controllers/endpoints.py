"""Endpoints and EndpointSlices for Services with a selector, as the endpoint and endpointslice
controllers keep them (pkg/controller/endpoint, pkg/controller/endpointslice).

For each Service with a selector (ExternalName Services and Services without one are left alone:
their endpoints are written by hand), the pods it selects in its namespace that have an IP and
have not finished become:

- an `Endpoints` object of the Service's name: ready pods under `addresses`, the others under
  `notReadyAddresses` (pods being deleted are left out unless `publishNotReadyAddresses`), each
  with ip, nodeName and a targetRef; ports resolved from each service port's `targetPort` (a
  number, or a container port name looked up in the pod); subsets grouped as `RepackSubsets`
  groups them, addresses sorted by IP. Labels are the Service's, plus `service.kubernetes.io/
  headless` for a headless Service. It is deleted when its Service is gone, as upstream does.
- `EndpointSlice`s labelled `kubernetes.io/service-name` and `endpointslice.kubernetes.io/
  managed-by: endpointslice-controller.k8s.io`, owned by the Service (so the garbage collector
  removes them with it), addressType IPv4, one slice per distinct set of resolved ports, each
  endpoint with conditions ready/serving/terminating (terminating pods stay in slices), nodeName,
  zone and targetRef. A Service without endpoints keeps one empty placeholder slice.

Objects are written only when their content differs, so a converged cluster plans nothing.
Slice names are `<service>-<5 characters>` derived from the Service's uid, not random as
`generateName` would make them, so that two passes can never create two slices for one set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from clusters.controllers.actions import Action, Create, Delete, Patch, owner_reference
from clusters.controllers.pods import counted, is_active, is_being_deleted, is_ready, is_terminal, is_terminating
from clusters.controllers.state import ClusterState
from clusters.objects.selectors import Requirement, labels_match

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
ZONE_LABEL = "topology.kubernetes.io/zone"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
# Labels the endpointslice controller owns; a Service's own copies of them are not carried over.
RESERVED_SLICE_LABELS = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's generateName alphabet


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    actions: list[Action] = []
    for service in sorted(state.objects("Service"), key=_key):
        if not _has_selector(service) or (service.get("spec") or {}).get("type") == "ExternalName":
            continue
        pods = _selected_pods(state, service)
        why = _selection(service, pods)
        actions.extend(_sync_endpoints(state, service, pods, why))
        actions.extend(_sync_slices(state, service, pods, why))
    actions.extend(_orphaned_endpoints(state))
    return actions


# --- which pods ---------------------------------------------------------------------------------


def _has_selector(service: dict) -> bool:
    # An absent selector means "endpoints are managed by hand"; an empty one selects every pod.
    return (service.get("spec") or {}).get("selector") is not None


def _selected_pods(state: ClusterState, service: dict) -> list[dict]:
    selector = service["spec"]["selector"] or {}
    requirements = tuple(Requirement(key, "=", (value,)) for key, value in selector.items())
    namespace = service["metadata"].get("namespace", "")
    return sorted(
        (pod for pod in state.objects("Pod", namespace) if labels_match(requirements, pod["metadata"].get("labels"))),
        key=_key,
    )


def _selection(service: dict, pods: list[dict]) -> str:
    """What a write of the Service's endpoints starts its `why` with: `Service web selects 3 pods,
    2 ready` (pods that finished left out, those being deleted counted apart)."""
    active = [p for p in pods if is_active(p)]
    ready = sum(1 for p in active if is_ready(p) and _ipv4(p))
    words = f"Service {service['metadata']['name']} selects {counted(len(active), 'pod')}, {ready} ready"
    terminating = sum(1 for p in pods if is_terminating(p))
    return f"{words}, {terminating} terminating" if terminating else words


def _should_be_in_endpoints(pod: dict, *, include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: not finished, has an IP, and (unless asked) not being deleted."""
    if is_terminal(pod):
        return False
    if not _ipv4(pod):
        return False
    return include_terminating or not is_being_deleted(pod)


def _ipv4(pod: dict) -> str:
    status = pod.get("status") or {}
    addresses = [entry.get("ip", "") for entry in status.get("podIPs") or []] or [status.get("podIP") or ""]
    return next((ip for ip in addresses if ip and ":" not in ip), "")


def _find_port(pod: dict, service_port: dict) -> int | None:
    """podutil.FindPort: a number is used as is; a name is looked up among the pod's container
    ports (and its sidecars') with the same protocol."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in [*(spec.get("containers") or []), *sidecars]:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return port.get("containerPort")
    return None


def _hostname(pod: dict, service: dict) -> str:
    """ShouldSetHostname: a pod whose subdomain is this Service gets its hostname published."""
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        return spec["hostname"]
    return ""


def _target_ref(pod: dict) -> dict:
    metadata = pod["metadata"]
    return {"kind": "Pod", "namespace": metadata.get("namespace", ""), "name": metadata["name"], "uid": metadata["uid"]}


# --- Endpoints ----------------------------------------------------------------------------------


def _sync_endpoints(state: ClusterState, service: dict, pods: list[dict], why: str) -> list[Action]:
    metadata = service["metadata"]
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    subsets = _subsets(service, pods)
    labels = _endpoints_labels(service)
    current = state.get("Endpoints", namespace, name)
    if current is None:
        if _namespace_terminating(state, namespace):
            return []  # the API server refuses new content in a terminating namespace
        body: dict = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace}}
        if labels:
            body["metadata"]["labels"] = labels
        if subsets:
            body["subsets"] = subsets
        return [Create(body, why=f"{why}: creating its Endpoints")]
    current_labels = current["metadata"].get("labels") or {}
    if _normalized_subsets(current.get("subsets")) == subsets and current_labels == labels:
        return []
    patch: dict = {"subsets": subsets or None}
    if current_labels != labels:
        patch["metadata"] = {"labels": _label_patch(current_labels, labels)}
    return [Patch("v1", "Endpoints", namespace, name, patch, why=f"{why}: endpoints updated")]


def _endpoints_labels(service: dict) -> dict:
    labels = dict(service["metadata"].get("labels") or {})
    labels.pop(HEADLESS_LABEL, None)
    if _headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels


def _subsets(service: dict, pods: list[dict]) -> list[dict]:
    """The endpoints controller's subsets: each address under every port it resolves, then
    repacked so that addresses offering the same ports share one subset."""
    include_unready = bool(service["spec"].get("publishNotReadyAddresses"))
    service_ports = service["spec"].get("ports") or []
    offers: list[tuple[dict, bool, list[dict]]] = []  # (address, ready, ports)
    for pod in pods:
        if not _should_be_in_endpoints(pod, include_terminating=include_unready):
            continue
        address: dict = {"ip": _ipv4(pod)}
        if node_name := (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = node_name
        address["targetRef"] = _target_ref(pod)
        if hostname := _hostname(pod, service):
            address["hostname"] = hostname
        ready = include_unready or is_ready(pod)
        if not service_ports:
            if service["spec"].get("clusterIP") == "None":
                offers.append((address, ready, []))  # a headless Service may have no ports
            continue
        ports = [port for sp in service_ports if (port := _endpoint_port(pod, sp)) is not None]
        if ports:
            offers.append((address, ready, ports))
    return _repack(offers)


def _endpoint_port(pod: dict, service_port: dict) -> dict | None:
    number = _find_port(pod, service_port)
    if number is None:
        return None
    port: dict = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port["port"] = number
    port["protocol"] = service_port.get("protocol") or "TCP"
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _repack(offers: list[tuple[dict, bool, list[dict]]]) -> list[dict]:
    """RepackSubsets: group the ports by the exact set of addresses offering them."""
    by_port: dict[str, tuple[dict | None, dict[str, tuple[dict, bool]]]] = {}
    for address, ready, ports in offers:
        for port in ports or [None]:
            key = repr(sorted(port.items())) if port else "-"
            entry = by_port.setdefault(key, (port, {}))
            entry[1][_address_key(address)] = (address, ready)
    by_addresses: dict[str, tuple[dict[str, tuple[dict, bool]], list[dict]]] = {}
    for port, addresses in by_port.values():
        key = repr(sorted((address_key, ready) for address_key, (_, ready) in addresses.items()))
        group = by_addresses.setdefault(key, (addresses, []))
        if port is not None:
            group[1].append(port)
    subsets = []
    for addresses, ports in by_addresses.values():
        ordered = sorted(addresses.values(), key=lambda item: _address_key(item[0]))
        subset: dict = {}
        if ready := [address for address, serving in ordered if serving]:
            subset["addresses"] = ready
        if not_ready := [address for address, serving in ordered if not serving]:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = ports
        subsets.append(subset)
    return sorted(subsets, key=_subset_key)


def _address_key(address: dict) -> str:
    return f"{address['ip']}/{(address.get('targetRef') or {}).get('uid', '')}"


def _subset_key(subset: dict) -> str:
    first = (subset.get("addresses") or subset.get("notReadyAddresses") or [{"ip": ""}])[0]
    return f"{_address_key(first)}/{subset.get('ports')!r}"


def _normalized_subsets(subsets: list | None) -> list[dict]:
    """Stored subsets as this controller would write them (targetRef resourceVersions ignored)."""
    result = []
    for subset in subsets or []:
        clean: dict = {}
        for field in ("addresses", "notReadyAddresses"):
            if subset.get(field):
                clean[field] = [_clean_address(address) for address in subset[field]]
        if subset.get("ports"):
            clean["ports"] = [{**port, "protocol": port.get("protocol") or "TCP"} for port in subset["ports"]]
        result.append(clean)
    return result


def _clean_address(address: dict) -> dict:
    clean = dict(address)
    if isinstance(clean.get("targetRef"), dict):
        clean["targetRef"] = {k: v for k, v in clean["targetRef"].items() if k != "resourceVersion"}
    return clean


def _orphaned_endpoints(state: ClusterState) -> Iterable[Action]:
    """An Endpoints object whose Service is gone is deleted, as the controller deletes it when
    the Service is (leader-election records, which never had a Service, are spared)."""
    for endpoints in sorted(state.objects("Endpoints"), key=_key):
        metadata = endpoints["metadata"]
        namespace, name = metadata.get("namespace", ""), metadata["name"]
        if LEADER_ANNOTATION in (metadata.get("annotations") or {}) or metadata.get("deletionTimestamp"):
            continue
        if state.get("Service", namespace, name) is None:
            why = f"Service {name} is gone: deleting its Endpoints"
            yield Delete("v1", "Endpoints", namespace, name, uid=metadata.get("uid"), why=why)


# --- EndpointSlices -----------------------------------------------------------------------------


def _sync_slices(state: ClusterState, service: dict, pods: list[dict], why: str) -> list[Action]:
    desired = _desired_slices(state, service, pods)
    existing = _managed_slices(state, service)
    uid = service["metadata"]["uid"]
    owned = [s for s in existing if any(r.get("uid") == uid for r in s["metadata"].get("ownerReferences") or [])]
    stale = [s for s in existing if s not in owned or s.get("addressType") != "IPv4"]
    reusable = [s for s in owned if s not in stale]
    actions: list[Action] = []
    unmatched = []
    # Keep each slice whose ports still match a wanted set; reuse the rest before creating new ones.
    for wanted in desired:
        match = next((s for s in reusable if _ports(s) == wanted["ports"]), None)
        if match is None:
            unmatched.append(wanted)
            continue
        reusable.remove(match)
        actions.extend(_update_slice(match, wanted, why))
    taken = {s["metadata"]["name"] for s in existing}
    for wanted in unmatched:
        if reusable:
            actions.extend(_update_slice(reusable.pop(0), wanted, why))
        elif not _namespace_terminating(state, service["metadata"].get("namespace", "")):
            name = _slice_name(service, taken)
            taken.add(name)
            body = {**wanted, "metadata": {**wanted["metadata"], "name": name}}
            actions.append(Create(body, why=f"{why}: creating EndpointSlice {name}"))
    for leftover in [*reusable, *stale]:
        metadata = leftover["metadata"]
        if not metadata.get("deletionTimestamp"):
            gone = (
                f"Service {service['metadata']['name']} no longer needs EndpointSlice {metadata['name']}: deleting it"
            )
            actions.append(
                Delete(
                    "discovery.k8s.io/v1",
                    "EndpointSlice",
                    metadata["namespace"],
                    metadata["name"],
                    uid=metadata["uid"],
                    why=gone,
                )
            )
    return actions


def _managed_slices(state: ClusterState, service: dict) -> list[dict]:
    metadata = service["metadata"]
    return sorted(
        (
            s
            for s in state.objects("EndpointSlice", metadata.get("namespace", ""))
            if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == metadata["name"]
            and (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY
        ),
        key=_key,
    )


def _desired_slices(state: ClusterState, service: dict, pods: list[dict]) -> list[dict]:
    groups: dict[str, tuple[list[dict], list[dict]]] = {}
    for pod in pods:
        if not _should_be_in_endpoints(pod, include_terminating=True):
            continue
        ports = [port for sp in service["spec"].get("ports") or [] if (port := _slice_port(pod, sp)) is not None]
        key = repr(ports)
        groups.setdefault(key, (ports, []))[1].append(_slice_endpoint(state, service, pod))
    if not groups:
        groups[""] = ([], [])  # the placeholder slice a Service without endpoints keeps
    slices = []
    for ports, endpoints in groups.values():
        slices.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "namespace": service["metadata"].get("namespace", ""),
                    "labels": _slice_labels(service),
                    "ownerReferences": [owner_reference(service)],
                },
                "addressType": "IPv4",
                "endpoints": sorted(endpoints, key=lambda e: (e["addresses"][0], e["targetRef"]["uid"])),
                "ports": ports,
            }
        )
    return slices


def _slice_port(pod: dict, service_port: dict) -> dict | None:
    number = _find_port(pod, service_port)
    if number is None:
        return None
    port = {"name": service_port.get("name") or "", "port": number, "protocol": service_port.get("protocol") or "TCP"}
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _slice_endpoint(state: ClusterState, service: dict, pod: dict) -> dict:
    publish = bool(service["spec"].get("publishNotReadyAddresses"))
    serving = publish or is_ready(pod)
    terminating = is_being_deleted(pod)
    endpoint: dict = {
        "addresses": [_ipv4(pod)],
        # A terminating pod is never "ready", unless the Service publishes not-ready addresses.
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    if hostname := _hostname(pod, service):
        endpoint["hostname"] = hostname
    endpoint["targetRef"] = _target_ref(pod)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        endpoint["nodeName"] = node_name
        node = state.get("Node", "", node_name)
        zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
        if zone:
            endpoint["zone"] = zone
    return endpoint


def _slice_labels(service: dict) -> dict:
    labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items() if k not in RESERVED_SLICE_LABELS}
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    if _headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels


def _update_slice(current: dict, wanted: dict, why: str) -> list[Action]:
    patch: dict = {}
    labels = current["metadata"].get("labels") or {}
    if labels != wanted["metadata"]["labels"]:
        patch["metadata"] = {"labels": _label_patch(labels, wanted["metadata"]["labels"])}
    if _strip_versions(current.get("endpoints") or []) != wanted["endpoints"]:
        patch["endpoints"] = wanted["endpoints"]
    if _ports(current) != wanted["ports"]:
        patch["ports"] = wanted["ports"]
    if not patch:
        return []
    metadata = current["metadata"]
    why = f"{why}: EndpointSlice updated"
    return [Patch("discovery.k8s.io/v1", "EndpointSlice", metadata["namespace"], metadata["name"], patch, why=why)]


def _ports(slice_: dict) -> list[dict]:
    return [{**port, "name": port.get("name") or ""} for port in slice_.get("ports") or []]


def _strip_versions(endpoints: list[dict]) -> list[dict]:
    return [_clean_address(endpoint) for endpoint in endpoints]


def _slice_name(service: dict, taken: set[str]) -> str:
    """`<service>-<5 characters>`, derived from the Service's uid so every pass picks the same."""
    metadata = service["metadata"]
    for attempt in range(1000):
        digest = hashlib.sha256(f"{metadata['uid']}/{attempt}".encode()).digest()
        suffix = "".join(NAME_ALPHABET[byte % len(NAME_ALPHABET)] for byte in digest[:5])
        name = f"{metadata['name']}-{suffix}"
        if name not in taken:
            return name
    raise RuntimeError("no free EndpointSlice name")  # unreachable with a handful of slices


# --- helpers --------------------------------------------------------------------------------------


def _headless(service: dict) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def _label_patch(current: dict, wanted: dict) -> dict:
    """A merge patch turning `current` labels into `wanted` (null removes a label)."""
    patch: dict = {key: None for key in current if key not in wanted}
    patch.update({key: value for key, value in wanted.items() if current.get(key) != value})
    return patch


def _namespace_terminating(state: ClusterState, namespace: str) -> bool:
    ns = state.get("Namespace", "", namespace)
    return ns is not None and bool(ns["metadata"].get("deletionTimestamp"))


def _key(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
