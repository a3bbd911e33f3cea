"""A Docker sandbox's own subnet, split between pods and Services (pure).

On Docker every sandbox has a network of its own. When the sandbox is made it is given a /24 of
the runtime's pool, recorded on the Sandbox: the engine hands pods addresses from its lower half,
and the store gives Services their ClusterIPs from its upper half. Each Service's proxy container
then takes its ClusterIP as its address on the sandbox network, so `wget http://<ClusterIP>:<port>`
from a pod reaches the Service exactly as its name does. (A real cluster's kube-proxy rewrites
packets for a virtual IP instead; learner containers get no NET_ADMIN here, so the address is real.)
Sandboxes on the simulated runtime keep the usual service range, 10.96.0.0/12.
"""

from __future__ import annotations

import ipaddress

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
RESERVED_SERVICE_ADDRESSES = 10  # the first ones go to the API service and DNS, as on a real cluster


def pod_range(network: str) -> ipaddress.IPv4Network:
    """The lower half: where the engine's IPAM picks pod addresses (and the gateway)."""
    return next(ipaddress.ip_network(network).subnets(prefixlen_diff=1))


def gateway(network: str) -> str:
    """The bridge's own address, the subnet's first. Named when the network is made: an engine
    that picks it itself does not always report it back (Docker 20.10 leaves it out of inspect)."""
    return str(next(ipaddress.ip_network(network).hosts()))


def service_range(network: str | None) -> ipaddress.IPv4Network:
    """Where ClusterIPs come from: the upper half of the sandbox's subnet, or the cluster default."""
    if not network:
        return SERVICE_CIDR
    return list(ipaddress.ip_network(network).subnets(prefixlen_diff=1))[1]


def api_service_ip(network: str | None) -> str:
    """The `kubernetes` Service's address: the first of the service range."""
    return str(next(service_range(network).hosts()))


def cluster_ip_choose(network: str | None, used: set[str]) -> str | None:
    """The first free ClusterIP past the reserved ones, or None when the range is full."""
    service = service_range(network)
    for address in service.hosts():
        if int(address) - int(service.network_address) > RESERVED_SERVICE_ADDRESSES and str(address) not in used:
            return str(address)
    return None
