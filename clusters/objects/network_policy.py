"""Whether a sandbox's NetworkPolicies allow a connection, decided as an enforcing network plugin
decides it (the concept page "Network Policies"):

- A pod is isolated for ingress (egress) when some policy of its namespace selects it and has
  Ingress (Egress) in its policyTypes; a pod no such policy selects accepts (sends) anything.
- An isolated pod accepts (sends) only what some rule of some policy isolating it allows; rules
  and policies add up, and nothing denies. A rule allows a peer its `from` (`to`) names — or
  every peer when it names none — on a port its `ports` names — or on every port.
- A peer entry's podSelector selects pods of the policy's namespace; its namespaceSelector
  selects every pod of the namespaces it matches; both in one entry, pods matching both; ipBlock
  an address range less its exceptions. Named ports are the destination pod's container ports.
- A connection needs both: the source's egress and the destination's ingress allow it.
- What plugins leave alone: a pod's connections to itself, and traffic between a pod and its own
  node — hostNetwork pods included, which send and receive as their node (the most common
  implementation: selectors never match them, ipBlock does by the node's address).

Everything here is pure: the policies, the namespaces' labels and both ends are given.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from clusters.objects.selectors import labels_match, selector_from_match_labels

INGRESS, EGRESS = "Ingress", "Egress"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class ContainerPort:
    name: str
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection. A pod has a namespace; anything else (an address outside the
    sandbox, or a node) has none. `host`: the traffic is the node's own — the node itself, or a
    pod with hostNetwork — and `node` names that node (for a pod, the node it runs on)."""

    ip: str
    namespace: str = ""
    name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ContainerPort, ...] = ()
    node: str = ""
    host: bool = False

    @property
    def is_pod(self) -> bool:
        """A pod on the pod network: the only kind of end policies select."""
        return bool(self.namespace) and not self.host

    def same_pod(self, other: Endpoint) -> bool:
        return self.is_pod and (self.namespace, self.name) == (other.namespace, other.name)


def pod_endpoint(pod: dict) -> Endpoint:
    """A stored Pod as an end of a connection."""
    metadata, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    ports = tuple(
        ContainerPort(port["name"], int(port.get("containerPort", 0)), port.get("protocol") or "TCP")
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        for port in container.get("ports") or []
        if port.get("name")
    )
    return Endpoint(
        ip=(pod.get("status") or {}).get("podIP", ""),
        namespace=metadata.get("namespace", ""),
        name=metadata.get("name", ""),
        labels=dict(metadata.get("labels") or {}),
        ports=ports,
        node=spec.get("nodeName", ""),
        host=bool(spec.get("hostNetwork")),
    )


def policy_types(spec: Mapping) -> list[str]:
    """spec.policyTypes, or what the API server defaults it to: Ingress, and Egress when the
    policy has egress rules."""
    given = spec.get("policyTypes")
    if given:
        return list(given)
    return [INGRESS, EGRESS] if spec.get("egress") else [INGRESS]


def _selects(selector: Mapping | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector object; an empty one selects everything."""
    return labels_match(selector_from_match_labels(dict(selector or {})), dict(labels))


def isolating_policies(policies: Iterable[dict], pod: Endpoint, direction: str) -> list[dict]:
    """The policies that select `pod` for `direction` (Ingress or Egress): it is isolated that way
    when there is any."""
    if not pod.is_pod:
        return []
    found = []
    for policy in policies:
        spec = policy.get("spec") or {}
        if (policy.get("metadata") or {}).get("namespace") != pod.namespace:
            continue
        if direction in policy_types(spec) and _selects(spec.get("podSelector"), pod.labels):
            found.append(policy)
    return found


def _in_block(block: Mapping, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
        if ip not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
            return False
        return not any(ip in ipaddress.ip_network(excepted, strict=False) for excepted in block.get("except") or [])
    except ValueError:  # no address, or a family the network does not have
        return False


def _peer_matches(
    peer: Mapping, policy_namespace: str, other: Endpoint, namespace_labels: Mapping[str, Mapping[str, str]]
) -> bool:
    """Whether one `from`/`to` entry of a policy in `policy_namespace` names `other`."""
    if peer.get("ipBlock") is not None:
        return _in_block(peer["ipBlock"], other.ip)
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if (pods is None and namespaces is None) or not other.is_pod:
        return False
    if namespaces is None:
        in_namespace = other.namespace == policy_namespace
    else:
        labels = namespace_labels.get(other.namespace, {NAMESPACE_NAME_LABEL: other.namespace})
        in_namespace = _selects(namespaces, labels)
    return in_namespace and (pods is None or _selects(pods, other.labels))


def _port_matches(entry: Mapping, port: int, protocol: str, destination: Endpoint) -> bool:
    if (entry.get("protocol") or "TCP") != protocol:
        return False
    wanted = entry.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):  # a named port: the destination pod's container port of that name
        return any(p.name == wanted and p.protocol == protocol and p.number == port for p in destination.ports)
    end = entry.get("endPort")
    return wanted == port if end is None else wanted <= port <= end


def _allowed_by(
    policies: list[dict],
    direction: str,
    peer: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str,
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> bool:
    """Whether some rule of `policies` (all isolating one pod for `direction`) allows `peer`."""
    rules_key, peers_key = ("ingress", "from") if direction == INGRESS else ("egress", "to")
    for policy in policies:
        namespace = policy["metadata"]["namespace"]
        for rule in (policy.get("spec") or {}).get(rules_key) or []:
            ports = rule.get("ports") or []
            if ports and not any(_port_matches(entry, port, protocol, destination) for entry in ports):
                continue
            peers = rule.get(peers_key) or []
            if not peers or any(_peer_matches(entry, namespace, peer, namespace_labels) for entry in peers):
                return True
    return False


def ingress_allowed(
    policies: Iterable[dict],
    namespace_labels: Mapping[str, Mapping[str, str]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether the destination accepts the connection: it is not isolated for ingress, the
    connection comes from its own node, or a rule of a policy isolating it allows it."""
    if source.host and source.node and source.node == destination.node:
        return True
    isolating = isolating_policies(policies, destination, INGRESS)
    if not isolating:
        return True
    return _allowed_by(isolating, INGRESS, source, destination, port, protocol, namespace_labels)


def egress_allowed(
    policies: Iterable[dict],
    namespace_labels: Mapping[str, Mapping[str, str]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether the source may send it: it is not isolated for egress, the connection goes to its
    own node, or a rule of a policy isolating it allows it."""
    if destination.host and destination.node and destination.node == source.node:
        return True
    isolating = isolating_policies(policies, source, EGRESS)
    if not isolating:
        return True
    return _allowed_by(isolating, EGRESS, destination, destination, port, protocol, namespace_labels)


def connection_allowed(
    policies: Iterable[dict],
    namespace_labels: Mapping[str, Mapping[str, str]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether a connection from `source` to `destination`'s `port` gets through: a pod may always
    reach itself; otherwise the source's egress and the destination's ingress must both allow it.
    `port` is the destination pod's own port (a Service's targetPort, not the Service's port)."""
    if source.same_pod(destination):
        return True
    policies = list(policies)
    return egress_allowed(policies, namespace_labels, source, destination, port, protocol) and ingress_allowed(
        policies, namespace_labels, source, destination, port, protocol
    )
