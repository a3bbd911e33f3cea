"""How many requests a simulated web server receives: a model of the sandbox's HTTP clients.

A client is a running container whose script loops over `wget` or `curl` of one URL, like the
HorizontalPodAutoscaler walkthrough's load generator (`while sleep 0.01; do wget -q -O-
http://php-apache; done`). Such a loop is closed: each round waits for its answer, so it sends

    1 / (pause + CLIENT_OVERHEAD_SECONDS + the server's time to answer)

requests a second, the pause being the script's `sleep`. The URL's host is resolved as the
cluster's DNS and kube-proxy would: a Service (by name in the client's namespace, `name.ns`,
`name.ns.svc`, `name.ns.svc.cluster.local`, or its ClusterIP) spreads the requests evenly over its
ready endpoints; a pod's address reaches that pod. A server answers a request in its cost of CPU
(clusters.runtime.modelled_usage.request_cost) at the speed of one core, or of its CPU limit
when that is less.

All pure and deterministic: the same pods, Services and Endpoints give the same rates.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from clusters.runtime import catalog, modelled_usage

CLIENT_OVERHEAD_SECONDS = 0.005  # starting wget, connecting, reading the answer
CLUSTER_DOMAIN = "cluster.local"
_CLIENTS = ("wget", "curl")
_LOOP = re.compile(r"\b(while|until)\b")
_SLEEP = re.compile(r"\bsleep\s+([0-9]*\.?[0-9]+)")


@dataclass(frozen=True)
class ClientLoop:
    host: str
    port: int
    pause: float  # seconds the script sleeps each round


@dataclass(frozen=True)
class Backend:
    pod_uid: str
    answer_seconds: float  # how long the server takes to answer one request


def client_loop(container: dict) -> ClientLoop | None:
    """The URL a container's script fetches over and over, or None when it is no such client."""
    entry = catalog.image_entry(container.get("image", "")) or catalog.IMAGES["busybox"]
    argv = catalog.argv_for(entry, container)
    if catalog.is_server(entry, argv):
        return None
    script = " ".join(argv)
    if not _LOOP.search(script):
        return None
    try:
        words = shlex.split(script.replace(";", " ; "))
    except ValueError:
        return None
    for index, word in enumerate(words):
        if word in _CLIENTS and (url := _url_argument(words[index + 1 :])):
            match = re.fullmatch(r"(?:https?://)?([^/:\s]+)(?::(\d+))?(?:/.*)?", url)
            if match:
                pause = sum(float(seconds) for seconds in _SLEEP.findall(script))
                return ClientLoop(match.group(1), int(match.group(2) or 80), pause)
    return None


def _url_argument(words: list[str]) -> str | None:
    """The first operand of a wget or curl command (the options' own values skipped)."""
    skip = False
    for word in words:
        if word in (";", "&&", "||", "|", "done"):
            return None
        if skip:
            skip = False
        elif word in ("-O", "-o", "-T", "-U", "-H", "--header", "--output-document"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def _service_by_host(host: str, namespace: str, services: list[dict]) -> dict | None:
    for service in services:
        name, service_namespace = service["metadata"]["name"], service["metadata"].get("namespace", "default")
        names = {
            f"{name}.{service_namespace}",
            f"{name}.{service_namespace}.svc",
            f"{name}.{service_namespace}.svc.{CLUSTER_DOMAIN}",
        }
        if service_namespace == namespace:
            names.add(name)
        if host in names or host == (service.get("spec") or {}).get("clusterIP"):
            return service
    return None


def _ready_pods(service: dict, endpoints: list[dict]) -> list[str]:
    """The uids of the pods behind a Service's ready addresses."""
    metadata = service["metadata"]
    for item in endpoints:
        if (item["metadata"]["name"], item["metadata"].get("namespace")) == (
            metadata["name"],
            metadata.get("namespace"),
        ):
            return [
                address["targetRef"]["uid"]
                for subset in item.get("subsets") or []
                for address in subset.get("addresses") or []
                if (address.get("targetRef") or {}).get("kind") == "Pod" and address["targetRef"].get("uid")
            ]
    return []


def _answer_seconds(pod: dict) -> float:
    """How long a pod's web server takes to answer one request."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        cost = modelled_usage.request_cost(container)
        if cost is not None:
            return cost / min(modelled_usage.CORE, modelled_usage.cpu_limit(container) or modelled_usage.CORE)
    return 0.0


def _is_running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")


def served_rates(pods: list[dict], services: list[dict], endpoints: list[dict]) -> dict[str, float]:
    """By pod uid, the requests a second the sandbox's looping clients send each server pod."""
    by_uid = {pod["metadata"]["uid"]: pod for pod in pods}
    by_address = {(pod.get("status") or {}).get("podIP"): pod["metadata"]["uid"] for pod in pods if _is_running(pod)}
    rates: dict[str, float] = {}
    for pod in pods:
        if not _is_running(pod):
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            loop = client_loop(container)
            if loop is None:
                continue
            service = _service_by_host(loop.host, pod["metadata"].get("namespace", "default"), services)
            if service is not None:
                targets = _ready_pods(service, endpoints)
            else:
                targets = [by_address[loop.host]] if loop.host in by_address else []
            backends = [Backend(uid, _answer_seconds(by_uid[uid])) for uid in targets if uid in by_uid]
            if not backends:
                continue
            answer = sum(backend.answer_seconds for backend in backends) / len(backends)
            rate = 1.0 / (loop.pause + CLIENT_OVERHEAD_SECONDS + answer)
            for backend in backends:
                rates[backend.pod_uid] = rates.get(backend.pod_uid, 0.0) + rate / len(backends)
    return rates
