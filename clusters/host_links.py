"""How the worker hosts join a sandbox's network into one (pure: no Django, no Docker, no kernel).

Each host's engine makes the sandbox's network as a bridge of its own, on the sandbox's subnet,
handing out only its host's share of the pod addresses (clusters.node_hosts). Alone, those bridges
are islands: a pod on one host cannot reach a pod, or a Service's proxy, on another. With
TUTOR_HOST_LINKS (`host-a=10.0.0.1,host-b=10.0.0.2:4790`: each host's address on the network
between the hosts, and the UDP port its links listen on, 4789 unless given) every host puts a
VXLAN device on its bridge, one per sandbox, which carries the bridge's Ethernet frames to the same
sandbox's bridge on every other host, as Docker's overlay driver and flannel do. Every bridge of
the sandbox is then one segment: addresses are unique across it, ARP finds a pod wherever it runs,
and the bridge's own rules (an `internal` network: nothing in or out of the subnet) still hold.

The VXLAN network identifier is the subnet's: a /24 of the pool has one of its own, the same on
every host, and a sandbox's frames never reach another sandbox's bridge.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clusters.node_hosts import NodeHostsError, host_pairs

VXLAN_PORT = 4789  # IANA's, as the kernel, Docker's overlay driver and flannel use
# VXLAN wraps each frame in 50 bytes (outer Ethernet, IP, UDP, VXLAN): on a 1500-byte network
# between hosts, pods see 1450, as Docker's overlay networks give them.
LINKED_MTU = 1450
DEVICE_PREFIX = "ktvx"


@dataclass(frozen=True)
class Endpoint:
    """Where a host's links are reached: its address between the hosts and its UDP port."""

    address: str
    port: int = VXLAN_PORT


@dataclass(frozen=True)
class Link:
    """One host's link of one sandbox's network: the device to put on the bridge, and the hosts
    to send its frames to."""

    vni: int
    device: str
    local: Endpoint
    peers: tuple[Endpoint, ...]
    mtu: int = LINKED_MTU

    @property
    def learning(self) -> bool:
        """Whether the device may learn where each pod's address lives from the frames it gets.
        What it learns is the sender's address, not its port: frames sent back there go to this
        device's own port, so with hosts on ports of their own (two on one machine) it must not
        learn, and floods every frame to each host instead."""
        return all(peer.port == self.local.port for peer in self.peers)


def host_links_parse(text: str, hosts: Iterable[str]) -> dict[str, Endpoint]:
    """Each host's endpoint: `host=address[:port]` pairs, comma-separated. Empty: no links. When
    given, every host that runs a node needs one; two hosts on one address need ports of their own."""
    hosts = list(hosts)
    given = host_pairs(text, hosts, setting="TUTOR_HOST_LINKS", form="host=address[:port]", example="host-a=10.0.0.1")
    links = {host: _endpoint(where, f"{host}={where}") for host, where in given.items()}
    if not links:
        return {}
    missing = [host for host in hosts if host not in links]
    if missing:
        raise NodeHostsError(f"TUTOR_HOST_LINKS: no address for {', '.join(missing)}; every host needs one")
    endpoints = list(links.values())
    if len(set(endpoints)) != len(endpoints):
        raise NodeHostsError("TUTOR_HOST_LINKS: two hosts on one address need different ports (address:port)")
    return links


def _endpoint(where: str, item: str) -> Endpoint:
    address, _, port = where.partition(":")
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise NodeHostsError(f"TUTOR_HOST_LINKS: {item!r}: {address!r} is not an IPv4 address") from None
    if not port:
        return Endpoint(address)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise NodeHostsError(f"TUTOR_HOST_LINKS: {item!r}: the port must be a number from 1 to 65535")
    return Endpoint(address, int(port))


def vxlan_id(network: str) -> int:
    """The subnet's VXLAN network identifier (24 bits): its first three octets, so each /24 of the
    pool has its own and every host works out the same one."""
    return int(ipaddress.ip_network(network).network_address) >> 8


def device_name(vni: int, port: int) -> str:
    """The link's device, named by its VXLAN id and port in hex (14 characters; the kernel allows
    15): two hosts on one machine, as in the tests, each have their own."""
    return f"{DEVICE_PREFIX}{vni:06x}{port:04x}"


def host_link(network: str | None, links: Mapping[str, Endpoint], host: str) -> Link | None:
    """`host`'s link of the sandbox on subnet `network`, or None when nothing is to be linked:
    no links configured, a sandbox without a subnet, or a host alone."""
    if not network or host not in links or len(links) < 2:
        return None
    vni = vxlan_id(network)
    peers = tuple(endpoint for name, endpoint in links.items() if name != host)
    return Link(vni=vni, device=device_name(vni, links[host].port), local=links[host], peers=peers)
