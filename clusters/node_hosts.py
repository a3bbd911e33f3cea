"""Which worker host runs each node's kubelet (pure: no Django, no Docker).

Every sandbox has the same node names. TUTOR_NODE_HOSTS (`node-1=host-a,node-2=host-b`) maps
each to a host: a machine with a Docker engine and a Celery worker started with
TUTOR_WORKER_HOST naming it. That worker consumes the kubelet queues of its host's nodes, and
its host's own queue (`host.<name>`), where the work that must run on that engine goes: the
sandbox's kube-proxy (on the host of the first node) and the removal of a deleted sandbox (on
every host). Unmapped nodes live on DEFAULT_HOST, so with nothing set every node is on one
host and one worker serves them all, as `make run` does.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping

NODE_NAMES = ("node-1", "node-2")
DEFAULT_HOST = "local"
KUBELET_QUEUE_PREFIX = "kubelet."
HOST_QUEUE_PREFIX = "host."
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")


class NodeHostsError(ValueError):
    """TUTOR_NODE_HOSTS or TUTOR_WORKER_HOST says something that cannot be right; the message says what."""


def host_name_check(host: str, *, setting: str) -> str:
    if not _HOST_NAME.match(host):
        raise NodeHostsError(
            f"{setting}: {host!r} is not a host name (lower-case letters, digits, '.' and '-', at most 63)"
        )
    return host


def pairs_parse(
    text: str,
    *,
    setting: str,
    form: str,
    example: str,
    what: str,
    known: Iterable[str],
    unknown: Callable[[str], str],
    value_check: Callable[[str], str] = str,
) -> dict[str, str]:
    """`key=value` pairs, comma-separated, of a setting that says something per node or per host
    (`form`, what a pair looks like, and `example`, one): each key one of `known` (else the error
    `unknown(key)` says), and given once; each value as `value_check` returns it (or refuses it)."""
    known = list(known)
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = (side.strip() for side in item.partition("="))
        if not sep or not key or not value:
            raise NodeHostsError(f"{setting}: {item!r} is not {form} (e.g. {example})")
        if key not in known:
            raise NodeHostsError(f"{setting}: {unknown(key)}")
        if key in pairs:
            raise NodeHostsError(f"{setting}: {what} {key!r} is given twice")
        pairs[key] = value_check(value)
    return pairs


def node_hosts_parse(text: str, nodes: Iterable[str] = NODE_NAMES) -> dict[str, str]:
    """The host of every node: `node=host` pairs, comma-separated; a node left out is on
    DEFAULT_HOST. Unknown nodes, repeated nodes and malformed pairs are refused."""
    nodes = tuple(nodes)
    given = pairs_parse(
        text,
        setting="TUTOR_NODE_HOSTS",
        form="node=host",
        example="node-1=host-a",
        what="node",
        known=nodes,
        unknown=lambda node: f"there is no node {node!r}; the nodes are {', '.join(nodes)}",
        value_check=lambda host: host_name_check(host, setting="TUTOR_NODE_HOSTS"),
    )
    return {**dict.fromkeys(nodes, DEFAULT_HOST), **given}


def host_pairs(text: str, known: Iterable[str], *, setting: str, form: str, example: str) -> dict[str, str]:
    """`host=value` pairs, as the settings that say something per host give them: each host must
    run a node (one of `known`), and appear once. The values are the caller's to check."""
    known = list(known)
    return pairs_parse(
        text,
        setting=setting,
        form=form,
        example=example,
        what="host",
        known=known,
        unknown=lambda host: f"{host!r} runs no node; the hosts in TUTOR_NODE_HOSTS are {', '.join(known)}",
    )


ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://")


def host_engines_parse(text: str, known: Iterable[str]) -> dict[str, str]:
    """The Docker engine the web process reaches for pods on each host (`kubectl exec`, `attach`,
    `port-forward`): `host=url` pairs; a host left out is served by the web's own DOCKER_HOST."""
    engines = host_pairs(
        text, known, setting="TUTOR_HOST_ENGINES", form="host=url", example="host-b=tcp://10.0.0.2:2375"
    )
    for host, url in engines.items():
        if not url.startswith(ENGINE_SCHEMES) or url in ENGINE_SCHEMES:
            raise NodeHostsError(
                f"TUTOR_HOST_ENGINES: {host}={url}: the engine's address must start with {', '.join(ENGINE_SCHEMES)}"
            )
    return engines


def hosts(mapping: Mapping[str, str]) -> list[str]:
    """Every host that runs a node, in the order of the nodes."""
    return list(dict.fromkeys(mapping.values()))


def host_nodes(mapping: Mapping[str, str], host: str) -> list[str]:
    """The nodes `host` runs, in the order of the nodes."""
    return [node for node, where in mapping.items() if where == host]


def host_queue(host: str) -> str:
    return f"{HOST_QUEUE_PREFIX}{host}"


def kubelet_queue(node: str) -> str:
    return f"{KUBELET_QUEUE_PREFIX}{node}"


def proxy_host(mapping: Mapping[str, str]) -> str:
    """Where a sandbox's kube-proxy runs its Services' proxy containers: on the host of the first
    node, always the same one, so a Service never has proxies on two engines at once."""
    return next(iter(mapping.values()), DEFAULT_HOST)


def worker_queues(mapping: Mapping[str, str], host: str, given: Iterable[str]) -> list[str]:
    """The queues a worker of `host` adds to those it was started with (`given`): its host's
    queue, and the kubelet queues of its host's nodes — unless the command line names kubelet
    queues itself, which then says exactly which nodes this worker serves."""
    given = list(given)
    wanted = [host_queue(host)]
    if not any(queue.startswith(KUBELET_QUEUE_PREFIX) for queue in given):
        wanted += [kubelet_queue(node) for node in host_nodes(mapping, host)]
    return [queue for queue in wanted if queue not in given]


def pod_ip_range(network: str, mapping: Mapping[str, str], host: str) -> str:
    """Where a host's engine hands out the pod addresses of a sandbox on subnet `network`: the
    whole pod range (the subnet's lower half) when the host runs every node; otherwise the share
    of the host's first node, as Kubernetes gives every node a podCIDR of its own. The pod range
    is split into as many equal parts as a power of two holds nodes, one per node in order, so
    two hosts never hand out one address, whichever nodes each runs."""
    subnet = ipaddress.ip_network(network)
    pods = next(subnet.subnets(prefixlen_diff=1))
    nodes = list(mapping)
    mine = host_nodes(mapping, host)
    if not mine:
        raise NodeHostsError(f"host {host!r} runs none of the nodes {', '.join(nodes)}")
    if len(mine) == len(nodes):
        return str(pods)
    bits = math.ceil(math.log2(len(nodes)))
    if pods.prefixlen + bits > subnet.max_prefixlen - 2:
        raise NodeHostsError(f"subnet {network} is too small to give {len(nodes)} nodes a pod range each")
    shares = list(pods.subnets(prefixlen_diff=bits))
    return str(shares[nodes.index(mine[0])])
