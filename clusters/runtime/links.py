"""The one door to the kernel's network links: the VXLAN device that joins this host's bridge of a
sandbox's network to the same sandbox's bridges on the other hosts (clusters.host_links).

It runs iproute2's `ip` and `bridge` where the engine's bridges are: the worker of each host, in
the host's network namespace, with CAP_NET_ADMIN (root on the host, or a container started with
`network_mode: host` and `cap_add: [NET_ADMIN]`; docs/operations.md). Whether a device is in place
is read from /sys, so a pod start on a linked network costs no command once the link is made.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from clusters.host_links import DEVICE_PREFIX, Link
from clusters.runtime.base import RuntimeError_

SYS_NET = Path("/sys/class/net")
COMMAND_TIMEOUT_SECONDS = 10
FLOOD = "00:00:00:00:00:00"  # the forwarding entry for broadcasts and unknown addresses (ARP)


def bridge_name(network_id: str) -> str:
    """The bridge Docker makes for a user-defined bridge network without a name of its own."""
    return f"br-{network_id[:12]}"


def master_of(device: str) -> str | None:
    """The bridge the device is a port of; "" when it is on none; None when there is no such device."""
    path = SYS_NET / device
    if not path.exists():
        return None
    master = path / "master"
    return os.path.basename(os.readlink(master)) if master.exists() else ""


def link_ensure(link: Link, bridge: str) -> bool:
    """Put the link's device on `bridge`, made afresh unless it is there already (a device left on
    no bridge, or on an older bridge of the same subnet, is made again: its peers may have
    changed). Returns whether anything was done."""
    if master_of(link.device) == bridge:
        return False
    if not (SYS_NET / bridge).exists():
        raise RuntimeError_(f"linking bridge {bridge}: no such bridge here (is DOCKER_HOST this host's own engine?)")
    try:
        _link_make(link, bridge)
    except RuntimeError_:
        if master_of(link.device) != bridge:  # not another worker process of this host linking it at once
            raise
    return True


def _link_make(link: Link, bridge: str) -> None:
    link_remove(link.device)
    _run("ip", "link", "add", link.device, "mtu", str(link.mtu), "type", "vxlan", "id", str(link.vni),
         "local", link.local.address, "dstport", str(link.local.port),
         *(() if link.learning else ("nolearning",)))  # fmt: skip
    for peer in link.peers:
        _run("bridge", "fdb", "append", FLOOD, "dev", link.device, "dst", peer.address, "port", str(peer.port))
    _run("ip", "link", "set", link.device, "master", bridge, "up")


def bridge_links(bridge: str) -> list[str]:
    """The link devices on `bridge` (none when there is no such bridge here)."""
    ports = SYS_NET / bridge / "brif"
    return sorted(p.name for p in ports.iterdir() if p.name.startswith(DEVICE_PREFIX)) if ports.exists() else []


def link_remove(device: str) -> bool:
    """Remove the device if there is one; returns whether there was."""
    if master_of(device) is None:
        return False
    _run("ip", "link", "del", device)
    return True


def _run(*command: str) -> None:
    """Run one iproute2 command (a fixed program; its arguments are names and numbers made here)."""
    doing = f"linking the sandbox's network to the other hosts: {' '.join(command)}"
    try:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError_(f"{doing}: {error}") from error
    if done.returncode != 0:
        hint = " (it needs CAP_NET_ADMIN in the host's network namespace)" if "ermission" in done.stderr else ""
        raise RuntimeError_(f"{doing}: {done.stderr.strip()}{hint}")
