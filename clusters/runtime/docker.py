"""The one door to the Docker engine: no other module imports the `docker` package.

DockerRuntime runs pods the way the kubelet's dockershim did. A pod is a pause container that owns
the network (and IPC) namespace, on the sandbox's own Docker network, plus one container per run
of each spec container joined to it (`network_mode=container:<pause>`). Everything it makes carries
deterministic names and labels, so that a new DockerRuntime finds and adopts what an earlier one
made, and every list call is filtered by the sandbox's label: nothing else on the engine is ever
touched.

    k8s_POD_<pod>_<namespace>_<pod uid>_0                pause (the pod sandbox)
    k8s_<container>_<pod>_<namespace>_<pod uid>_<run>     one run of a container
    kube-tutor-<sandbox>                                 the sandbox's network (internal: no way out)
    kube-tutor-proxy_<service>_<namespace>_<sandbox>     a Service's proxy (kube-proxy, userspace mode)
    kube-tutor_<pod uid>_<volume>                        emptyDir and ConfigMap/Secret files of a pod
    kube-tutor-pv_<claim uid>                            a persistent volume (outlives its pods)

Containers run hardened: never privileged, every capability dropped but NET_BIND_SERVICE,
no-new-privileges, a cgroup namespace of their own, pids/memory/CPU limits (a container's own, or
256Mi and one core when it sets none, never more than its node's allocatable), no host path ever
mounted (hostPath is an empty volume of the pod's), ports published only on 127.0.0.1, bounded
json-file logs; tests/docker/hardening.py audits every container of the Docker tests for this.

A pod's containers run their command as PID 1, as on a real node (no init): a shell or `sleep` that
installs no SIGTERM handler ignores the kubelet's SIGTERM and is killed when the grace period ends,
which is why `kubectl delete` of such a pod takes 30 s on a real cluster too. The teaching web
server handles SIGTERM and stops at once, like nginx.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import http.client
import io
import ipaddress
import json
import logging
import os
import shlex
import socket
import ssl
import tarfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Mount

from clusters import sandbox_network
from clusters.host_links import Link
from clusters.objects.quantity import quantity_from_json
from clusters.objects.times import parse_time, rfc3339_error
from clusters.runtime import images, links
from clusters.runtime.base import (
    STDERR,
    STDOUT,
    ContainerNotRunning,
    ContainerObservation,
    ContainerUsage,
    ExecProcess,
    PodRef,
    PortConnection,
    ProbeResult,
    PullResult,
    RuntimeError_,
    VolumeSpec,
)
from clusters.runtime.kernel_log import kernel_oom_log

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 2
API_TIMEOUT_SECONDS = 60
STATS_AT_ONCE = 8  # within the Docker SDK's pool of ten connections

# Labels: the kubelet's (dockershim's) own, and ours.
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"
DOCKER_TYPE = "io.kubernetes.docker.type"  # "podsandbox" or "container", as dockershim labelled them
SANDBOX = "kube-tutor.sandbox"
NODE = "kube-tutor.node"
RUN = "kube-tutor.run"
SPEC_HASH = "kube-tutor.spec-hash"
IMAGE = "kube-tutor.image"  # the image as the pod spec names it (a stand-in may run instead)
PORT_NAMES = "kube-tutor.port-names"  # "http=80,metrics=9090": probes name ports
ROLE = "kube-tutor.role"  # pod-sandbox, container, service-proxy, pod-volume, persistent-volume
VOLUME = "kube-tutor.volume"
CLAIM = "kube-tutor.claim"
SERVICE = "kube-tutor.service"  # "<namespace>/<name>"
PORTS_HASH = "kube-tutor.ports-hash"
MESSAGE_POLICY = "kube-tutor.termination-message-policy"
SANDBOX_CONTAINER = "POD"

# Limits for containers whose spec sets none.
DEFAULT_MEMORY_BYTES = 256 * 2**20
DEFAULT_NANO_CPUS = 1_000_000_000
MIN_MEMORY_BYTES = 6 * 2**20  # the engine refuses less
PIDS_LIMIT = 256
# Half a core for the pause (and what probes run in it): runc sets up a container inside its CPU
# quota, and at 0.1 of a core the throttling alone added 50 ms or more to every pause's start.
PAUSE_NANO_CPUS = 500_000_000
# Everything but binding ports below 1024 is dropped. Root in these containers owns every file of
# the teaching images and volumes, so busybox httpd, sh, wget and nc need nothing else (httpd is
# never started with -u, so SETUID/SETGID and CHOWN are not needed). Engines from 20.10 on also set
# net.ipv4.ip_unprivileged_port_start=0 in the pod's namespace; NET_BIND_SERVICE covers older ones.
CAPABILITIES = ["NET_BIND_SERVICE"]
LOGS = LogConfig(type="json-file", config={"max-size": "5m", "max-file": "2"})
VOLUMES_IN_PAUSE = "/.kube-tutor/volumes"  # the pause mounts every pod volume here, to fill them
# Pods resolve `web`, `web.other`, `web.other.svc` and the full name of a Service. ndots:1 makes
# every such name resolve on its first query: the engine's DNS does not answer names it does not
# know with more than one label (it times out), so each miss costs `timeout` seconds.
DNS_OPTIONS = ["ndots:1", "timeout:1", "attempts:1"]
# The engine's DNS forwards names it does not know to these from the host: nothing answers on the
# host's loopback, so a miss fails at once instead of leaving queries to the outside pending (those
# held up removing the pod's sandbox for seconds).
DNS_SERVERS = ["127.0.0.1"]
CLUSTER_DOMAIN = "cluster.local"
START_ERROR_EXIT_CODE = 128
# How long after a SIGKILL the engine may still learn that it was the OOM killer's: on a loaded
# machine its oom event has come after the exit (then only its events say so, not its inspect),
# and an observation kept before it said "Error" for good. Until then, such a container is
# inspected again at each observe, and the kernel's log and the engine's events looked at.
OOM_SETTLE_SECONDS = 10.0
SIGKILL_EXIT_CODE = 137
KILL_WAIT_SECONDS = 10  # a SIGKILLed process is gone in milliseconds; the engine reports it soon after
TERMINATION_MESSAGE_LINES = 80
TERMINATION_MESSAGE_BYTES = 2048

# Where sandbox networks get a /24 of their own once the engine's default address pools run out.
SUBNET_POOL = "10.213.0.0/16"
MTU_OPTION = "com.docker.network.driver.mtu"

REGISTRY_ADDRESS = ("registry-1.docker.io", 443)
REGISTRY_PROBE_SECONDS = 1.5
REGISTRY_PROBE_TTL_SECONDS = 60.0


def engine_client(timeout: int | None = API_TIMEOUT_SECONDS, base_url: str = "") -> docker.DockerClient:
    """A client for the engine at `base_url`, or else DOCKER_HOST (or the default socket); timeout
    None waits forever."""
    if base_url:
        return docker.DockerClient(base_url=base_url, timeout=timeout)
    return docker.from_env(timeout=timeout)


_shared_clients: dict[tuple[int, str], docker.DockerClient] = {}
_SHARED_CLIENT_LOCK = threading.Lock()


def shared_engine_client(base_url: str = "") -> docker.DockerClient:
    """One client per engine for every DockerRuntime of this process: a new client asks the engine
    for its API version first, and a kubelet makes a runtime on every run. Keyed by the process id,
    so a forked worker never shares the parent's connections. `base_url`: another host's engine
    (clusters.node_hosts.host_engines_parse); empty: DOCKER_HOST's."""
    key = (os.getpid(), base_url)
    with _SHARED_CLIENT_LOCK:
        if key not in _shared_clients:
            _shared_clients[key] = engine_client(base_url=base_url)
        return _shared_clients[key]


def engine_ping() -> tuple[bool, str]:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket), and what it said."""
    try:
        client = docker.from_env(timeout=PING_TIMEOUT_SECONDS)
    except DockerException as error:
        return False, f"no Docker engine: {error}"
    try:
        client.ping()
        version = client.version().get("Version", "unknown")
        return True, f"Docker engine {version}"
    except DockerException as error:
        return False, f"Docker engine did not answer: {error}"
    except OSError as error:
        return False, f"Docker engine did not answer: {error}"
    finally:
        client.close()


# ---- images (images/build.py builds through these) ----


def image_labels(client: docker.DockerClient, name: str) -> dict[str, str] | None:
    """The labels of local image `name`, or None when there is no such image."""
    try:
        return client.api.inspect_image(name)["Config"].get("Labels") or {}
    except ImageNotFound:
        return None


def image_id(client: docker.DockerClient, name: str) -> str:
    return client.api.inspect_image(name)["Id"]


def _image_id_or_none(client: docker.DockerClient, name: str) -> str | None:
    try:
        return image_id(client, name)
    except ImageNotFound:
        return None


def _image_forget(client: docker.DockerClient, old: str | None, new: str) -> None:
    """Remove the image a rebuild replaced, unless something still uses it."""
    if old and old != new:
        with contextlib.suppress(APIError):
            client.api.remove_image(old)


def image_import(client: docker.DockerClient, rootfs: bytes, name: str, *, changes: list[str]) -> str:
    """Import a root filesystem tar as image `name` (repository:tag); return its id."""
    repository, _, tag = name.rpartition(":")
    old = _image_id_or_none(client, name)
    client.api.import_image_from_data(rootfs, repository=repository, tag=tag, changes=changes)
    new = image_id(client, name)
    _image_forget(client, old, new)
    return new


def image_build(
    client: docker.DockerClient, context: bytes, name: str, *, labels: dict[str, str], build_args: dict[str, str]
) -> str:
    """Build image `name` from a tar build context holding a Dockerfile; never pull; return its id."""
    old = _image_id_or_none(client, name)
    try:
        image, _ = client.images.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=name,
            labels=labels,
            buildargs=build_args,
            pull=False,
            rm=True,
            forcerm=True,
        )
    except DockerException as error:
        from clusters.runtime.images.build import ImageBuildError

        raise ImageBuildError(f"building {name} failed: {error}") from error
    _image_forget(client, old, image.id)
    return image.id


# ---- names, labels and quantities (pure) ----


def sandbox_network_name(sandbox: str) -> str:
    return f"kube-tutor-{sandbox}"


def ports_network_name(sandbox: str) -> str:
    """A second network, not internal, that only pods with a hostPort join: the engine publishes
    ports only from such networks."""
    return f"kube-tutor-{sandbox}-ports"


def pause_container_name(pod: PodRef) -> str:
    return f"k8s_{SANDBOX_CONTAINER}_{pod.name}_{pod.namespace}_{pod.uid}_0"


def container_name(pod: PodRef, name: str, restart: int) -> str:
    return f"k8s_{name}_{pod.name}_{pod.namespace}_{pod.uid}_{restart}"


def pod_volume_name(pod: PodRef, volume: str) -> str:
    return f"kube-tutor_{pod.uid}_{volume}"


def persistent_volume_name(key: str) -> str:
    return f"kube-tutor-pv_{key}"


def proxy_container_name(sandbox: str, namespace: str, service: str) -> str:
    return f"kube-tutor-proxy_{service}_{namespace}_{sandbox}"


def service_aliases(namespace: str, service: str) -> list[str]:
    """The names a Service's proxy answers to; pods reach the bare name through their DNS search."""
    return [f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.{CLUSTER_DOMAIN}"]


def pod_aliases(namespace: str, hostname: str, subdomain: str) -> list[str]:
    """The pod's hostname, and with a subdomain (StatefulSets) its stable DNS names."""
    aliases = [hostname]
    if subdomain:
        base = f"{hostname}.{subdomain}"
        aliases += [base, f"{base}.{namespace}", f"{base}.{namespace}.svc", f"{base}.{namespace}.svc.{CLUSTER_DOMAIN}"]
    return aliases


def dns_search(namespace: str) -> list[str]:
    return [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]


def spec_hash(container: dict) -> str:
    """Changes whenever the container spec does: the kubelet restarts a container whose hash changed."""
    return hashlib.sha256(json.dumps(container, sort_keys=True, default=str).encode()).hexdigest()[:16]


def listed_name(container: dict) -> str:
    """A listed container's name (`k8s_…`), which the web process uses instead of its id: the web
    process's Docker API proxy lets exec and attach name pod containers only, so that a compromised
    web process cannot run commands in any other container of the engine (deploy/docker-proxy)."""
    return container["Names"][0].lstrip("/")


def label_filters(**labels: str) -> list[str]:
    return [f"{key}={value}" if value is not None else key for key, value in labels.items()]


def memory_limit_bytes(limits: dict, allocatable: dict | None = None) -> int:
    """The container's memory limit: its spec's (DEFAULT_MEMORY_BYTES when it sets none), never
    more than its node's allocatable memory, as the kubelet's pod cgroups bound it."""
    wanted = quantity_from_json(limits["memory"]).int_value() if "memory" in limits else DEFAULT_MEMORY_BYTES
    if allocatable and "memory" in allocatable:
        wanted = min(wanted, quantity_from_json(allocatable["memory"]).int_value())
    return max(MIN_MEMORY_BYTES, wanted)


def nano_cpus(limits: dict, allocatable: dict | None = None) -> int:
    """The container's CPU limit in billionths of a core: its spec's (DEFAULT_NANO_CPUS when it
    sets none), never more than its node's allocatable CPU."""
    wanted = quantity_from_json(limits["cpu"]).scaled_value(-9) if "cpu" in limits else DEFAULT_NANO_CPUS
    if allocatable and "cpu" in allocatable:
        wanted = min(wanted, quantity_from_json(allocatable["cpu"]).scaled_value(-9))
    return max(10_000_000, wanted)


def docker_time(value: str) -> datetime | None:
    """The engine's RFC 3339 times (nanoseconds, Z); its zero time means never, and anything else
    (the start of a log line without one) is no time."""
    if not value or value.startswith("0001-01-01") or rfc3339_error(value):
        return None
    return parse_time(value)


def log_lines(raw: bytes) -> list[tuple[datetime, str]]:
    """`docker logs --timestamps` output as (time, line) pairs."""
    lines = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        stamp, _, text = line.partition(" ")
        when = docker_time(stamp)
        if when is not None:
            lines.append((when, text))
    return lines


def container_observation(info: dict) -> ContainerObservation:
    """What one `docker inspect` of a pod container says, as the kubelet sees it."""
    labels = info["Config"].get("Labels") or {}
    state = info["State"]
    status = state.get("Status", "")
    start_failed = status == "created" and bool(state.get("Error"))
    if status in ("running", "paused", "restarting"):
        phase = "running"
    elif status == "created" and not start_failed:
        phase = "created"
    else:
        phase = "exited"
    exit_code = state.get("ExitCode") if phase == "exited" else None
    reason, message = "", ""
    if start_failed:
        # The kubelet (with containerd) reports a container that could not start as StartError, 128.
        reason, message, exit_code = "StartError", state["Error"], START_ERROR_EXIT_CODE
    elif phase == "exited":
        if state.get("OOMKilled"):
            reason = "OOMKilled"
        elif exit_code == 0:
            reason = "Completed"
        else:
            reason = "Error"
    started_at = docker_time(state.get("StartedAt", "")) if phase != "created" else None
    finished_at = docker_time(state.get("FinishedAt", "")) if phase == "exited" else None
    if started_at and finished_at and finished_at < started_at:
        finished_at = started_at  # the engine stamps a process that died at once a little out of order
    return ContainerObservation(
        pod_uid=labels.get(POD_UID, ""),
        name=labels.get(CONTAINER_NAME, ""),
        restart=int(labels.get(RUN, "0")),
        state=phase,
        image=labels.get(IMAGE, info["Config"].get("Image", "")),
        image_id=f"docker://{info.get('Image', '')}",
        container_id=f"docker://{info['Id']}",
        started_at=started_at,
        finished_at=finished_at,
        exit_code=exit_code,
        reason=reason,
        message=message,
    )


def termination_message(lines: list[tuple[datetime, str]]) -> str:
    """FallbackToLogsOnError: the last 80 lines of output, at most 2048 bytes, as the kubelet takes them."""
    text = "\n".join(line for _, line in lines[-TERMINATION_MESSAGE_LINES:])
    return text.encode()[-TERMINATION_MESSAGE_BYTES:].decode("utf-8", errors="ignore")


def directories_tar(names: list[str], *, mode: int) -> bytes:
    """A tar of empty directories: unpacked over existing ones, it sets their mode."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            archive.addfile(info)
    return buffer.getvalue()


def files_tar(files: dict[str, str]) -> bytes:
    """ConfigMap/Secret contents (path → text, mode 0644 as the kubelet's default) as a tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        made: set[str] = set()
        for path in sorted(files):
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent not in made:
                    made.add(parent)
                    info = tarfile.TarInfo(parent)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                    archive.addfile(info)
            data = files[path].encode()
            info = tarfile.TarInfo("/".join(parts))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def node_port_bindings(spec: dict, listening: list[int]) -> dict[str, tuple[str, int]]:
    """`<port>/tcp` → ("127.0.0.1", nodePort) for each TCP port of a NodePort or LoadBalancer
    Service that its proxy listens on: reachable from this host only, never from outside."""
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return {}
    return {
        f"{port['port']}/tcp": ("127.0.0.1", int(port["nodePort"]))
        for port in spec.get("ports", [])
        if port.get("nodePort") and port.get("protocol", "TCP") == "TCP" and port["port"] in listening
    }


def service_port_backends(service: dict, endpoints: list[tuple]) -> dict[int, list[tuple[str, int]]]:
    """Which endpoints serve which Service port.

    An endpoint is (IP, port) or (IP, port, port name). A named one serves the Service port of that
    name; an unnamed one serves the only port of a single-port Service, or the port whose numeric
    targetPort it is."""
    ports = [port for port in service.get("spec", {}).get("ports", []) if port.get("protocol", "TCP") == "TCP"]
    backends: dict[int, list[tuple[str, int]]] = {}
    for port in ports:
        target = port.get("targetPort", port["port"])
        chosen = []
        for endpoint in endpoints:
            address, number = str(ipaddress.ip_address(endpoint[0])), int(endpoint[1])
            serves = endpoint[2] == port.get("name", "") if len(endpoint) > 2 else len(ports) == 1 or target == number
            if serves:
                chosen.append((address, number))
        backends[int(port["port"])] = chosen
    return backends


def proxy_endpoints_file(endpoints: list[tuple[str, int]], denied: dict[tuple[str, int], list[str]]) -> str:
    """What a Service's proxy reads for one port (runtime/proxy/kube-tutor-proxy-connect): a line
    per endpoint, `IP:PORT`, or `IP:PORT@CLIENT,CLIENT` when the NetworkPolicies deny those client
    addresses the connection to it."""
    lines = []
    for address, number in endpoints:
        clients = denied.get((address, number))
        lines.append(f"{address}:{number}@{','.join(clients)}\n" if clients else f"{address}:{number}\n")
    return "".join(lines)


def _routes(path: str = "/proc/net/route") -> list[tuple[str, ipaddress.IPv4Network]]:
    """This host's IPv4 routes as (interface, network), default routes left out, from the kernel's table."""
    routes = []
    try:
        with open(path) as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) < 8:
                    continue
                destination = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
                mask = ipaddress.IPv4Address(int(fields[7], 16).to_bytes(4, "little"))
                if int(mask):
                    routes.append((fields[0], ipaddress.ip_network(f"{destination}/{mask}", strict=False)))
    except OSError:
        pass
    return routes


def subnet_interfaces(subnet: str, path: str = "/proc/net/route") -> list[str]:
    """The interfaces this host routes exactly `subnet` through: more than one when two engines on
    one machine each made a bridge for the same sandbox subnet."""
    wanted = ipaddress.ip_network(subnet, strict=False)
    return [interface for interface, network in _routes(path) if network == wanted]


def host_routes(path: str = "/proc/net/route") -> list[str]:
    """This host's IPv4 routes as CIDRs (default routes left out)."""
    return [str(network) for _, network in _routes(path)]


# ---- events ----


@dataclass(frozen=True)
class RuntimeEvent:
    """A container of a sandbox started, died or ran out of memory (the pause is container "POD")."""

    action: str  # "start", "die", "oom"
    pod_uid: str
    pod_namespace: str
    pod_name: str
    container: str
    restart: int
    exit_code: int | None
    time: datetime
    sandbox: str = ""  # the sandbox uid (hex)
    node: str = ""


class EventStream:
    """Docker's event stream for one sandbox's containers; iterate it, close it from any thread."""

    ACTIONS = ("start", "die", "oom")

    def __init__(self, stream: Any):
        self._stream = stream

    def __iter__(self) -> Iterator[RuntimeEvent]:
        try:
            for event in self._stream:
                if event.get("Type") != "container" or event.get("Action") not in self.ACTIONS:
                    continue
                actor = event.get("Actor", {})
                attributes = actor.get("Attributes", {})
                code = attributes.get("exitCode")
                if event["Action"] != "start":
                    # The engine's list says "running" for up to ~120 ms after a container's die
                    # event (measured: every list right after it did), its inspect says "exited" at
                    # once. The kept observation goes before the kubelet is woken, so that its look
                    # inspects the container instead of taking the list's word for it.
                    _observations.forget(actor.get("ID", ""))
                yield RuntimeEvent(
                    action=event["Action"],
                    pod_uid=attributes.get(POD_UID, ""),
                    pod_namespace=attributes.get(POD_NAMESPACE, ""),
                    pod_name=attributes.get(POD_NAME, ""),
                    container=attributes.get(CONTAINER_NAME, ""),
                    restart=int(attributes.get(RUN, "0")),
                    exit_code=int(code) if code is not None else None,
                    time=datetime.fromtimestamp(event.get("timeNano", 0) / 1e9, UTC),
                    sandbox=attributes.get(SANDBOX, ""),
                    node=attributes.get(NODE, ""),
                )
        except (OSError, ValueError, AttributeError):
            return  # closed under us

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def engine_events(*, since: datetime | None = None, client: docker.DockerClient | None = None) -> EventStream:
    """Container events (start, die, oom) of every sandbox's containers, as they happen, from
    `since`. The stream holds its own connection: it waits without a read timeout."""
    client = client or engine_client(timeout=None)
    filters = {"type": "container", "event": list(EventStream.ACTIONS), "label": [SANDBOX]}
    return EventStream(client.api.events(since=since, filters=filters, decode=True))


# ---- registry ----

_registry_checked: tuple[float, bool] = (0.0, False)


def registry_reachable() -> bool:
    """Whether Docker Hub's registry accepts a connection, cached for a minute; never waits long
    (name resolution runs in a thread, the answer is taken within REGISTRY_PROBE_SECONDS)."""
    global _registry_checked
    checked_at, answer = _registry_checked
    if time.monotonic() - checked_at < REGISTRY_PROBE_TTL_SECONDS:
        return answer
    result: list[bool] = []

    def attempt() -> None:
        try:
            socket.create_connection(REGISTRY_ADDRESS, timeout=REGISTRY_PROBE_SECONDS).close()
            result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(REGISTRY_PROBE_SECONDS)
    answer = bool(result and result[0])
    _registry_checked = (time.monotonic(), answer)
    return answer


# ---- the runtime ----


class _Memo:
    """A bounded dict shared by every DockerRuntime of the process (a kubelet makes a runtime on
    every run, so what one learnt must outlive it); the oldest entries go first. Container ids and
    names hold a pod uid, so entries of different sandboxes never collide."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        return self._entries.get(key)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = value
            while len(self._entries) > self._limit:
                del self._entries[next(iter(self._entries))]

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


# Observations by container id, with the engine's status they were made in. A container in that
# status again is the same: an exited one never changes, and a running one is never restarted in
# place (restart policy "no"), so only new containers and changed statuses need an inspect.
_observations = _Memo(4096)


@dataclass(frozen=True)
class _LogCopy:
    """Every line of a container run, read when its json-file log was `file` (inode, size)."""

    path: str
    file: tuple[int, int]
    lines: list[tuple[datetime, str]]
    since: datetime | None = None  # the lines from this moment on (None: every line)


# Log lines by container name: the kubelet reads the new lines of every running container after
# each pass, and most have written nothing new since. Only small reads are kept, to bound memory.
_log_copies = _Memo(512)
LOG_COPY_MAX_BYTES = 64 * 2**10
LOG_COPY_MAX_LINES = 200
LOG_READ_MAX_LINES = 10_000  # per read of a run's log


def log_file_state(path: str) -> tuple[int, int] | None:
    """(inode, size) of an engine's json-file log, or None when this process cannot see it (a
    remote engine, no permission, a removed container): then logs are read through the API."""
    try:
        status = os.stat(path) if path else None
    except OSError:
        return None
    return (status.st_ino, status.st_size) if status else None


_images_ready = threading.Event()


_NETWORK_LOCK = threading.Lock()
# The networks each engine client has made or checked, by name: the pod range and MTU they were
# made for (a runtime wanting others checks again, see _network_misranged), and their ids.
_networks_known: weakref.WeakKeyDictionary[docker.APIClient, dict[str, tuple[tuple[str, int], str]]] = (
    weakref.WeakKeyDictionary()
)


class DockerRuntime:
    """Runs one sandbox's pods for one node in the Docker engine (see the module docstring)."""

    kind = "docker"

    def __init__(
        self,
        *,
        sandbox: str,
        node: str = "",
        network: str | None = None,
        client: docker.DockerClient | None = None,
        allocatable: dict | None = None,
        pull_registries: tuple[str, ...] = (),
        pod_ip_range: str | None = None,
        link: Link | None = None,
    ):
        """`node` labels what is made for pods whose PodRef names no node; `network` is the
        sandbox's subnet (clusters.sandbox_network), None for one made before sandboxes had one;
        `allocatable` is the node's (its status), which bounds every container's limits;
        `pull_registries` are the registries images may be pulled from (none: only local images
        and the teaching images' stand-ins run); `pod_ip_range` is the part of the subnet where this
        engine gives pods their addresses (clusters.node_hosts.pod_ip_range; None: the whole pod
        range, as when one engine runs every node); `link`, this host's link of the sandbox's
        network to the other hosts' (clusters.host_links; None: the network stays on this host)."""
        self.sandbox = sandbox
        self.pod_ip_range = pod_ip_range
        self.link = link
        self.allocatable = allocatable or {}
        self.pull_registries = pull_registries
        self.node = node
        self.network = network
        self.client = client or shared_engine_client()
        self.api = self.client.api
        self._files_written: dict[str, str] = {}
        self._proxy_endpoints: dict[str, str] = {}
        # Whether probes connect to pod IPs from here (None: find out once), or run in the pod.
        self.probe_from_host: bool | None = None
        # What this kubelet pass's node_look listed: every container's name, and the pods with a
        # running one. Until the pass makes more, only this kubelet makes containers for the node
        # (its work key is claimed), so a name not listed needs no look-up of its own before it is
        # made (a concurrent maker's would still be adopted, on the engine's conflict).
        self._listed: set[str] | None = None
        self._pods_running: set[str] = set()
        self._pauses_up: dict[str, str] = {}  # pod uid → its pause container's id, started or seen up in this run
        self._images_present: dict[str, str | None] = {}  # image name → local id (None: absent), this pass

    # -- small helpers --

    def _labels(self, **extra: str) -> dict[str, str]:
        return {SANDBOX: self.sandbox, **extra}

    def _own(self, pod: PodRef) -> None:
        if pod.sandbox != self.sandbox:
            raise RuntimeError_(f"pod {pod.namespace}/{pod.name} belongs to sandbox {pod.sandbox}, not {self.sandbox}")

    def _containers(self, *, all: bool = True, **labels: str) -> list[dict]:
        filters = {"label": label_filters(**{SANDBOX: self.sandbox}, **labels)}
        return self.api.containers(all=all, filters=filters)

    def _inspect(self, name_or_id: str) -> dict | None:
        try:
            return self.api.inspect_container(name_or_id)
        except NotFound:
            return None

    def _inspect_own(self, name: str) -> dict | None:
        """Inspect a container by name only when it carries this sandbox's label."""
        info = self._inspect(name)
        if info and (info["Config"].get("Labels") or {}).get(SANDBOX) == self.sandbox:
            return info
        return None

    def _remove_container(self, container_id: str) -> None:
        _observations.forget(container_id)
        try:
            self.api.remove_container(container_id, force=True, v=False)
        except NotFound:
            pass
        except APIError as error:
            if error.status_code != 409:  # removal already in progress
                raise

    def _teaching_images(self) -> None:
        if _images_ready.is_set():
            return
        from clusters.runtime.images.build import images_build

        images_build(self.client)
        _images_ready.set()

    # -- the network --

    def _network_ensure(self, name: str, *, internal: bool) -> None:
        # Docker allows two networks of one name and its duplicate check is best effort: two
        # kubelets of one sandbox starting pods at once would each create one, and every later
        # reference by name is then "ambiguous". Serialise creation in this process, and keep
        # only the oldest should another process have raced us. A network this process has made
        # or checked is not looked up again (two engine calls a pod): a container that cannot be
        # made for want of it forgets it (_network_forget).
        known = _networks_known.setdefault(self.api, {})
        made_as = (self._ip_range() if self.network else "", self.link.mtu if self.link else 0)
        kept = known[name][1] if known.get(name, ((), ""))[0] == made_as else ""
        if not kept:
            with _NETWORK_LOCK:
                self._network_create(name, internal=internal)
            kept = self._network_dedupe(name)
            if kept:
                known[name] = (made_as, kept)
        if self.link and kept and name == sandbox_network_name(self.sandbox):
            bridge = links.bridge_name(kept)
            with _NETWORK_LOCK:
                if links.link_ensure(self.link, bridge):
                    log.info("network %s linked to the other hosts through %s", name, self.link.device)

    def _network_forget(self, name: str) -> None:
        _networks_known.get(self.api, {}).pop(name, None)

    def _container_run_on(
        self, image: str, network: str, first_network: str, endpoint: dict, joined: dict, **create
    ) -> str:
        """Create a container of `image` on `first_network` (with `endpoint` when that is `network`),
        join it to `network` (`joined`: its endpoint there) when that is another one, and start it;
        its id. The engine publishes ports only through a network that is not internal, hence two.

        A network the engine no longer has (removed by another process, a reset engine) is
        forgotten, so the next attempt makes it again; a container left unable to join it is
        removed, so that attempt makes it anew instead of starting it again."""
        try:
            created = self.api.create_container(
                image,
                networking_config=self.api.create_networking_config(
                    {first_network: endpoint if first_network == network else self.api.create_endpoint_config()}
                ),
                use_config_proxy=False,
                **create,
            )
            try:
                if first_network != network:
                    self.api.connect_container_to_network(created["Id"], network, **joined)
                self.api.start(created["Id"])
            except NotFound:
                self._remove_container(created["Id"])
                raise
        except NotFound:
            self._network_forget(network)
            self._network_forget(first_network)
            raise
        return created["Id"]

    def _network_dedupe(self, name: str) -> str:
        """Remove all but the oldest network of this name; the id of the one kept ("" if none)."""
        named = [n for n in self.api.networks(names=[name]) if n["Name"] == name]
        same = sorted(named, key=lambda n: n.get("Created", ""))
        for extra in same[1:]:
            with contextlib.suppress(APIError):
                self.api.remove_network(extra["Id"])
        return same[0]["Id"] if same else ""

    def _ip_range(self) -> str:
        return self.pod_ip_range or str(sandbox_network.pod_range(self.network))

    def _network_create(self, name: str, *, internal: bool) -> None:
        found = self.api.networks(names=[name], filters={"label": label_filters(**{SANDBOX: self.sandbox})})
        found = [network for network in found if network["Name"] == name]
        if found and not self._network_misranged(found[0]):
            return
        options = {
            "driver": "bridge",
            "internal": internal,
            "check_duplicate": True,
            "labels": self._labels(),
            # No masquerading: even on an engine that masquerades by default, nothing leaves.
            "options": {"com.docker.network.bridge.enable_ip_masquerade": "false"},
        }
        if self.link and name == sandbox_network_name(self.sandbox):
            options["options"][MTU_OPTION] = str(self.link.mtu)  # room for the link's wrapping
        if self.network and name == sandbox_network_name(self.sandbox):
            # The sandbox's own subnet: the engine gives pods its lower half; ClusterIPs are the upper.
            pool = docker.types.IPAMPool(
                subnet=self.network,
                iprange=self._ip_range(),
                gateway=sandbox_network.gateway(self.network),
            )
            try:
                self.api.create_network(name, ipam=docker.types.IPAMConfig(pool_configs=[pool]), **options)
            except APIError as error:
                if error.status_code != 409:
                    raise RuntimeError_(f"creating network {name}: {error.explanation or error}") from error
            return
        try:
            self.api.create_network(name, **options)
            return
        except APIError as error:
            if error.status_code == 409:
                return
            if "non-overlapping" not in str(error.explanation or error):
                raise RuntimeError_(f"creating network {name}: {error.explanation or error}") from error
        # The engine's default pools hold about 30 networks; a class needs more, /24s are plenty.
        for subnet in free_subnets(self.client):
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
            try:
                self.api.create_network(name, ipam=ipam, **options)
                return
            except APIError as error:
                if error.status_code == 409:
                    return
                if "overlap" not in str(error.explanation or error):
                    raise RuntimeError_(f"creating network {name}: {error.explanation or error}") from error
        raise RuntimeError_(f"creating network {name}: no free subnet left in {SUBNET_POOL}")

    def _network_misranged(self, listed: dict) -> bool:
        """Whether the sandbox's network on this engine is not as this host makes it — it hands pods
        addresses from another range than this host's (it was made where the sandbox was created,
        or before the nodes moved between hosts), or its MTU leaves no room for the link to the
        other hosts, or leaves room for one no longer there — and holds no container yet: then it
        is removed, to be made again. One in use is kept as it is; its pods keep their addresses."""
        if not self.network or listed["Name"] != sandbox_network_name(self.sandbox):
            return False
        config = ((listed.get("IPAM") or {}).get("Config") or [{}])[0]
        wanted = (self._ip_range(), str(self.link.mtu) if self.link else "")
        found = (config.get("IPRange") or self._ip_range(), (listed.get("Options") or {}).get(MTU_OPTION, ""))
        if found == wanted:
            return False
        try:
            if self.api.inspect_network(listed["Id"]).get("Containers"):
                log.warning("network %s is %s, not %s (range, MTU): kept, it is in use", listed["Name"], found, wanted)
                return False
            self.api.remove_network(listed["Id"])
        except NotFound:
            pass
        except APIError as error:
            raise RuntimeError_(f"replacing network {listed['Name']}: {error.explanation or error}") from error
        return True

    # -- volumes --

    def _volume_ensure(self, name: str, labels: dict[str, str]) -> None:
        try:
            self.api.inspect_volume(name)
        except NotFound:
            self.api.create_volume(name=name, driver="local", labels=labels)

    def _docker_volume(self, pod: PodRef, volume: VolumeSpec) -> str:
        if volume.kind == "persistent":
            if not volume.key:
                raise RuntimeError_(f"persistent volume {volume.name} has no claim key")
            return persistent_volume_name(volume.key)
        return pod_volume_name(pod, volume.name)

    def _volumes_ensure(self, pod: PodRef, volumes: list[VolumeSpec]) -> None:
        for volume in volumes:
            name = self._docker_volume(pod, volume)
            if volume.kind == "persistent":
                labels = self._labels(**{ROLE: "persistent-volume", CLAIM: volume.key})
            else:
                labels = self._labels(
                    **{ROLE: "pod-volume", NODE: pod.node or self.node, POD_UID: pod.uid, POD_NAME: pod.name},
                    **{POD_NAMESPACE: pod.namespace, VOLUME: volume.name},
                )
            self._volume_ensure(name, labels)

    def _volumes_fill(self, pause_id: str, pod: PodRef, volumes: list[VolumeSpec], *, fresh: bool) -> None:
        """Write ConfigMap/Secret files (again when they changed) and, for a new pod, open its
        emptyDirs to every user (mode 0777, as the kubelet makes them), through the pause container,
        which mounts every volume of the pod under VOLUMES_IN_PAUSE."""
        empty = [volume.name for volume in volumes if volume.kind not in ("files", "persistent")]
        if fresh and empty:
            self.api.put_archive(pause_id, VOLUMES_IN_PAUSE, directories_tar(empty, mode=0o777))
        for volume in volumes:
            if volume.kind != "files":
                continue
            digest = hashlib.sha256(json.dumps(volume.files, sort_keys=True).encode()).hexdigest()
            key = self._docker_volume(pod, volume)
            if self._files_written.get(key) == digest:
                continue
            self.api.put_archive(pause_id, f"{VOLUMES_IN_PAUSE}/{volume.name}", files_tar(volume.files))
            self._files_written[key] = digest

    # -- pods --

    def pod_sandbox_ensure(
        self,
        pod: PodRef,
        *,
        hostname: str,
        volumes: list[VolumeSpec],
        subdomain: str = "",
        ports: list[dict] | tuple = (),
    ) -> str:
        """Make the pod's network namespace (and volumes) exist; return the pod IP. Idempotent.

        `subdomain` (spec.subdomain) adds the pod's stable DNS names; `ports` (container ports
        dicts) publishes those with a hostPort, on 127.0.0.1 only."""
        self._own(pod)
        try:
            return self._pod_sandbox_ensure(pod, hostname, volumes, subdomain, list(ports))
        except APIError as error:
            raise RuntimeError_(f"pod sandbox {pod.namespace}/{pod.name}: {error.explanation or error}") from error

    def _pod_sandbox_ensure(
        self, pod: PodRef, hostname: str, volumes: list[VolumeSpec], subdomain: str, ports: list[dict]
    ) -> str:
        network = sandbox_network_name(self.sandbox)
        name = pause_container_name(pod)
        info = None if self._unlisted(name) else self._inspect_own(name)
        fresh = False
        if info is None:
            self._cut_off_stop(pod)  # containers left by a sandbox that was removed
            self._teaching_images()
            self._network_ensure(network, internal=True)
            self._volumes_ensure(pod, volumes)
            published = {
                f"{port['containerPort']}/{port.get('protocol', 'TCP').lower()}": ("127.0.0.1", int(port["hostPort"]))
                for port in ports
                if port.get("hostPort")
            }
            # The engine publishes ports only through a network that is not internal: a pod with a
            # hostPort starts on the ports network and joins the sandbox network before it starts.
            first_network = ports_network_name(self.sandbox) if published else network
            if published:
                self._network_ensure(first_network, internal=False)
            host_config = self.api.create_host_config(
                network_mode=first_network,
                ipc_mode="shareable",
                init=True,
                cap_drop=["ALL"],
                cgroupns="private",  # an engine on cgroup v1 shares the host's by default
                security_opt=["no-new-privileges"],
                pids_limit=16,
                mem_limit=16 * 2**20,
                memswap_limit=16 * 2**20,
                nano_cpus=PAUSE_NANO_CPUS,
                dns_search=dns_search(pod.namespace),
                dns=DNS_SERVERS,
                dns_opt=DNS_OPTIONS,
                mounts=[
                    Mount(f"{VOLUMES_IN_PAUSE}/{volume.name}", self._docker_volume(pod, volume), no_copy=True)
                    for volume in volumes
                ],
                port_bindings=published or None,
                log_config=LOGS,
                restart_policy={"Name": "no"},
            )
            endpoint = self.api.create_endpoint_config(aliases=pod_aliases(pod.namespace, hostname, subdomain))
            labels = self._labels(
                **{NODE: pod.node or self.node, ROLE: "pod-sandbox", DOCKER_TYPE: "podsandbox", RUN: "0"},
                **{
                    POD_NAME: pod.name,
                    POD_NAMESPACE: pod.namespace,
                    POD_UID: pod.uid,
                    CONTAINER_NAME: SANDBOX_CONTAINER,
                },
            )
            try:
                self._container_run_on(
                    images.PAUSE,
                    network,
                    first_network,
                    endpoint,
                    {"aliases": endpoint.get("Aliases")},
                    name=name,
                    hostname=hostname[:63],
                    labels=labels,
                    ports=[tuple(key.split("/")) for key in published] or None,
                    host_config=host_config,
                )
                fresh = True
            except APIError as error:
                if error.status_code != 409:  # another worker made it first: adopt theirs
                    raise
            info = self._inspect_own(name)
            if info is None:
                raise RuntimeError_(f"pod sandbox {name} vanished while it was being made")
        if not info["State"].get("Running"):
            self._cut_off_stop(pod)
            self.api.start(info["Id"])
            info = self._inspect_own(name)
            fresh = True
        self._volumes_fill(info["Id"], pod, volumes, fresh=fresh)
        address = info["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress", "")
        if not address:
            raise RuntimeError_(f"pod sandbox {name} has no address on network {network}")
        self._pauses_up[pod.uid] = info["Id"]
        return address

    def _cut_off_stop(self, pod: PodRef) -> None:
        """A new sandbox means a new network namespace: containers still running in the old one are
        cut off from the pod's address, so they are stopped and the kubelet starts them again in
        the new one (SandboxChanged). None ran at this pass's look: no list call."""
        if self._listed is not None and pod.uid not in self._pods_running:
            return
        for container in self._containers(**{POD_UID: pod.uid, DOCKER_TYPE: "container"}, all=False):
            self.api.stop(container["Id"], timeout=0)

    def pod_sandboxes(self, *, node: str) -> set[str]:
        """The uids of the node's pods whose pause container runs."""
        running = self._containers(**{NODE: node, DOCKER_TYPE: "podsandbox"}, all=False)
        return {(container.get("Labels") or {}).get(POD_UID, "") for container in running} - {""}

    def pod_ip(self, pod: PodRef) -> str:
        """The pod's address on the sandbox network, or "" when it has no running sandbox."""
        info = self._inspect_own(pause_container_name(pod))
        if not info or not info["State"].get("Running"):
            return ""
        return info["NetworkSettings"]["Networks"].get(sandbox_network_name(self.sandbox), {}).get("IPAddress", "")

    def pod_remove(self, pod: PodRef) -> None:
        """Remove every container of the pod and its sandbox; keep persistent volumes."""
        self._own(pod)
        self._pod_remove(pod.uid)

    def pod_containers_remove(self, pod: PodRef) -> None:
        """Remove every container of the pod and its pause container; its volumes stay, emptyDirs
        too, labelled with the pod's uid, for the next pod_sandbox_ensure to mount again."""
        self._own(pod)
        self._pod_containers_remove(pod.uid)

    def _pod_containers_remove(self, pod_uid: str) -> None:
        containers = self._containers(**{POD_UID: pod_uid})
        # The pod's containers first: the pause owns the namespace they run in.
        containers.sort(key=lambda container: (container.get("Labels") or {}).get(DOCKER_TYPE) == "podsandbox")
        for container in containers:
            self._remove_container(container["Id"])

    def _pod_remove(self, pod_uid: str) -> None:
        self._pod_containers_remove(pod_uid)
        volumes = self.api.volumes(filters={"label": label_filters(**{SANDBOX: self.sandbox, POD_UID: pod_uid})})
        for volume in volumes.get("Volumes") or []:
            self._files_written.pop(volume["Name"], None)
            with contextlib.suppress(NotFound):
                self.api.remove_volume(volume["Name"], force=True)

    # -- images --

    def _image_present(self, image: str) -> str | None:
        """The id of local image `image` (exactly as named), or None; asked once a kubelet pass (a
        pull, then a start, would ask twice), and told again by a pull."""
        if self._listed is None:
            return _image_id_or_none(self.client, image)
        if image not in self._images_present:
            self._images_present[image] = _image_id_or_none(self.client, image)
        return self._images_present[image]

    def image_pull(self, image: str, *, policy: str) -> PullResult:
        """Make `image` available under `policy` (Always, IfNotPresent, Never).

        A local image, or a teaching image standing in for a well-known name, is enough whatever
        the policy: with no registry, `Always` could never succeed, and `nginx` defaults to it."""
        stand_in = images.stand_in_for(image)
        present = self._image_present(image)
        if policy == "Never" and present is None and stand_in is None:
            return PullResult(
                False, "ErrImageNeverPull", f'Container image "{image}" is not present with pull policy of Never'
            )
        if present and policy != "Always":
            return PullResult(True)
        allowed = images.pull_allowed(image, self.pull_registries)
        if policy != "Never" and allowed and registry_reachable():
            started = time.monotonic()
            try:
                repository, tag = _split_for_pull(image)
                self.api.pull(repository, tag=tag)
                pulled = self.api.inspect_image(image)
                self._images_present[image] = pulled["Id"]
                size = int(pulled.get("Size", 0))
                return PullResult(True, pulled=True, size=size, seconds=time.monotonic() - started)
            except DockerException as error:
                if stand_in is None and present is None:
                    message = getattr(error, "explanation", None) or str(error)
                    return PullResult(False, "ErrImagePull", f'failed to pull image "{image}": {message}')
        if present:
            return PullResult(True)
        if stand_in is not None:
            self._teaching_images()
            return PullResult(True)
        return PullResult(False, "ErrImagePull", offline_pull_message(image, allowed=allowed))

    def _image_to_run(self, image: str) -> str:
        if self._image_present(image):
            return image
        stand_in = images.stand_in_for(image)
        if stand_in is None:
            raise RuntimeError_(f'image "{image}" is not present: pull it first (ErrImagePull)')
        self._teaching_images()
        return stand_in

    # -- containers --

    def _mounts(self, pod: PodRef, container: dict, volumes: list[VolumeSpec]) -> tuple[list[Mount], dict]:
        """Docker mounts for the container's volumeMounts, and single files (subPath into a
        ConfigMap/Secret volume) to copy in before it starts: {directory: {file name: text}}."""
        by_name = {volume.name: volume for volume in volumes}
        mounts, copies = [], {}
        for mount in container.get("volumeMounts", []):
            volume = by_name.get(mount["name"])
            if volume is None:
                raise RuntimeError_(f'volumeMounts: volume "{mount["name"]}" is not a volume of the pod')
            path = mount["mountPath"]
            if mount.get("subPath"):
                if volume.kind != "files" or mount["subPath"] not in volume.files:
                    raise RuntimeError_(
                        f'volumeMounts "{mount["name"]}": subPath is supported for ConfigMap and Secret keys only'
                    )
                directory, _, file_name = path.rstrip("/").rpartition("/")
                copies.setdefault(directory or "/", {})[file_name] = volume.files[mount["subPath"]]
                continue
            read_only = bool(mount.get("readOnly")) or volume.read_only or volume.kind == "files"
            mounts.append(Mount(path, self._docker_volume(pod, volume), read_only=read_only, no_copy=True))
        return mounts, copies

    def container_start(
        self, pod: PodRef, container: dict, *, restart: int, env: dict[str, str], volumes: list[VolumeSpec]
    ) -> ContainerObservation:
        """Create and start run number `restart` of a container spec. A run that already exists is
        not run again: its observation is returned (the call is safe to repeat)."""
        self._own(pod)
        name = container_name(pod, container["name"], restart)
        info = None if self._unlisted(name) else self._inspect_own(name)
        try:
            if info is None:
                info = self._container_create(pod, container, restart, env, volumes, name)
            if info["State"].get("Status") == "created" and not info["State"].get("Error"):
                self._start(info["Id"])
                info = self._inspect_own(name)
        except APIError as error:
            raise RuntimeError_(f"container {container['name']}: {error.explanation or error}") from error
        if info is None:
            raise RuntimeError_(f"container {name} vanished while it was being made")
        if restart >= 2:  # runs 0 and 1 have no run older than the previous one
            self._runs_collect(pod, container["name"], keep_from=restart - 1)
        return self._observation_remembered(info)

    def _start(self, container_id: str) -> None:
        """Start a container; one that cannot start (no such command, …) stays "created" with the
        engine's error in its state, which observations report as StartError."""
        try:
            self.api.start(container_id)
        except APIError as error:
            info = self._inspect(container_id)
            if not (info and info["State"].get("Error")):
                raise error

    def _observation(self, info: dict) -> ContainerObservation:
        """An observation, completed from the run's output: a failed run whose
        terminationMessagePolicy is FallbackToLogsOnError gets its last lines as the message."""
        observation = container_observation(info)
        if (
            observation.exit_code == SIGKILL_EXIT_CODE
            and observation.reason != "OOMKilled"
            and self._oom_recorded(info)
        ):
            observation = dataclasses.replace(observation, reason="OOMKilled")
        if observation.state != "exited" or not observation.exit_code or observation.message:
            return observation
        if (info["Config"].get("Labels") or {}).get(MESSAGE_POLICY) == "FallbackToLogsOnError":
            raw = self.api.logs(info["Id"], stdout=True, stderr=True, timestamps=True, tail=TERMINATION_MESSAGE_LINES)
            observation = dataclasses.replace(observation, message=termination_message(log_lines(raw)))
        return observation

    def _oom_recorded(self, info: dict) -> bool:
        """Whether the kernel's log, or the engine's events, say the OOM killer killed a process of
        this SIGKILLed container the engine reports as a plain exit (kernel_log says why it can)."""
        if kernel_oom_log.killed(info["Id"]):
            return True
        since = docker_time(info["State"].get("StartedAt", ""))
        filters = {"container": [info["Id"]], "event": ["oom"]}
        # `until` to the nanosecond: docker-py would cut a datetime to whole seconds, missing the last.
        seen = self.api.events(since=since, until=f"{time.time():.9f}", filters=filters, decode=True)
        try:
            return any(True for _ in seen)
        finally:
            seen.close()

    def _container_create(
        self, pod: PodRef, container: dict, restart: int, env: dict[str, str], volumes: list[VolumeSpec], name: str
    ) -> dict:
        """Create the run (or adopt one a concurrent call made): its inspect, or for a new one only
        its Id and State, which is all container_start reads before it starts it."""
        pause_id = self._pauses_up.get(pod.uid) if self._listed is not None else None
        if pause_id is None:
            pause = self._inspect_own(pause_container_name(pod))
            if pause is None or not pause["State"].get("Running"):
                raise RuntimeError_(f"pod {pod.namespace}/{pod.name} has no running sandbox: ensure it first")
            pause_id = pause["Id"]
        image = self._image_to_run(container["image"])
        mounts, copies = self._mounts(pod, container, volumes)
        limits = (container.get("resources") or {}).get("limits") or {}
        memory = memory_limit_bytes(limits, self.allocatable)
        security = container.get("securityContext") or {}
        user = None
        if security.get("runAsUser") is not None:
            user = str(security["runAsUser"])
            if security.get("runAsGroup") is not None:
                user += f":{security['runAsGroup']}"
        host_config = self.api.create_host_config(
            network_mode=f"container:{pause_id}",
            ipc_mode=f"container:{pause_id}",
            init=False,  # the command is PID 1, as on a real node (see the module docstring)
            privileged=False,
            cap_drop=["ALL"],
            cgroupns="private",  # an engine on cgroup v1 shares the host's by default
            cap_add=CAPABILITIES,
            security_opt=["no-new-privileges"],
            pids_limit=PIDS_LIMIT,
            mem_limit=memory,
            memswap_limit=memory,
            nano_cpus=nano_cpus(limits, self.allocatable),
            read_only=bool(security.get("readOnlyRootFilesystem")),
            mounts=mounts,
            log_config=LOGS,
            restart_policy={"Name": "no"},
        )
        port_names = ",".join(
            f"{port['name']}={port['containerPort']}" for port in container.get("ports", []) if port.get("name")
        )
        labels = self._labels(
            **{NODE: pod.node or self.node, ROLE: "container", DOCKER_TYPE: "container", RUN: str(restart)},
            **{POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_UID: pod.uid, CONTAINER_NAME: container["name"]},
            **{SPEC_HASH: spec_hash(container), IMAGE: container["image"], PORT_NAMES: port_names},
            **{MESSAGE_POLICY: container.get("terminationMessagePolicy", "File")},
        )
        try:
            created = self.api.create_container(
                image,
                name=name,
                entrypoint=container.get("command") or None,
                command=container.get("args") or ([] if container.get("command") else None),
                environment=[f"{key}={value}" for key, value in env.items()],
                working_dir=container.get("workingDir") or None,
                user=user,
                tty=bool(container.get("tty")),
                stdin_open=bool(container.get("stdin")),
                labels=labels,
                host_config=host_config,
                use_config_proxy=False,
            )
        except APIError as error:
            if error.status_code == 409:  # made by a concurrent call: adopt it
                info = self._inspect_own(name)
                if info is not None:
                    return info
            raise
        for directory, files in copies.items():
            self._files_put(created["Id"], directory, files)
        return {"Id": created["Id"], "State": {"Status": "created"}}

    def _files_put(self, container_id: str, directory: str, files: dict[str, str]) -> None:
        """Copy `files` into `directory` of a created container, making the directories the image
        lacks (the kubelet makes a subPath's mountPath, e.g. /etc/app/app.conf in busybox): the
        archive goes to the nearest existing ancestor, so no existing directory's mode is touched.
        The engine resolves the path inside the container's root, symbolic links included."""
        base, below = directory.rstrip("/"), ""
        while True:
            try:
                tree = {f"{below}/{name}".lstrip("/"): text for name, text in files.items()}
                self.api.put_archive(container_id, base or "/", files_tar(tree))
                return
            except NotFound:
                if not base:
                    raise
                base, _, leaf = base.rpartition("/")
                below = f"{leaf}/{below}".rstrip("/")

    def _runs_collect(self, pod: PodRef, name: str, *, keep_from: int) -> None:
        """Remove runs older than the previous one (`kubectl logs --previous` reads that one)."""
        for container in self._containers(**{POD_UID: pod.uid, CONTAINER_NAME: name, DOCKER_TYPE: "container"}):
            if int((container.get("Labels") or {}).get(RUN, "0")) < keep_from:
                self._remove_container(container["Id"])

    def container_stop(self, pod: PodRef, name: str, *, grace_seconds: int) -> None:
        """SIGTERM (or the image's stop signal), then SIGKILL after the grace period. Idempotent.

        Returns at once, as the kubelet's pod workers do not wait either: `docker stop` would hold
        the kubelet's whole run for the grace period, and every other pod of the node with it (a
        deletion of three pods that ignore SIGTERM kept a new pod from starting for 90 s). The
        SIGKILL comes from a timer of this process; should the process die first, the kubelet's
        planner asks for it again once the grace period is over."""
        self._own(pod)
        running = self._containers(**{POD_UID: pod.uid, CONTAINER_NAME: name, DOCKER_TYPE: "container"}, all=False)
        for container in running:
            if grace_seconds <= 0:
                self._signal(container["Id"], "SIGKILL", name)
                continue
            info = self._inspect(container["Id"]) or {}
            self._signal(container["Id"], (info.get("Config") or {}).get("StopSignal") or "SIGTERM", name)
            timer = threading.Timer(grace_seconds, self._signal, (container["Id"], "SIGKILL", name))
            timer.daemon = True
            timer.start()

    def _signal(self, container_id: str, signal: str, name: str) -> None:
        """Send a signal to a container's process; one that has already stopped is left alone."""
        try:
            self.api.kill(container_id, signal=signal)
        except NotFound:
            pass
        except APIError as error:
            if error.status_code != 409:  # 409: it is not running (any more)
                raise RuntimeError_(f"stopping {name}: {error.explanation or error}") from error

    def container_kill(self, pod: PodRef, name: str) -> None:
        """SIGKILL from outside, as a crash would (`docker kill`): the engine reports exit code 137.
        Returns once the engine says the run has exited (within KILL_WAIT_SECONDS)."""
        self._own(pod)
        running = self._containers(**{POD_UID: pod.uid, CONTAINER_NAME: name, DOCKER_TYPE: "container"}, all=False)
        for container in running:
            try:
                self.api.kill(container["Id"], signal="SIGKILL")
            except NotFound:
                continue
            except APIError as error:
                if error.status_code != 409:  # 409: it is not running (any more)
                    raise RuntimeError_(f"killing {name}: {error.explanation or error}") from error
            deadline = time.monotonic() + KILL_WAIT_SECONDS
            while (info := self._inspect(container["Id"])) and info["State"].get("Running"):
                if time.monotonic() > deadline:
                    raise RuntimeError_(f"killing {name}: still running {KILL_WAIT_SECONDS} s after SIGKILL")
                time.sleep(0.02)

    def observe(self, *, node: str) -> list[ContainerObservation]:
        """Every container this runtime runs for the node (the current and the previous run of
        each), ordered by pod uid, container name and run."""
        return self._observed(self._containers(**{NODE: node, DOCKER_TYPE: "container"}))

    def node_look(self, *, node: str) -> tuple[list[ContainerObservation], set[str]]:
        """One list call for both: each is a round trip to the engine, and a pass makes both."""
        containers, sandboxes = [], set()
        listed = self._containers(**{NODE: node})
        for container in listed:
            labels = container.get("Labels") or {}
            kind = labels.get(DOCKER_TYPE)
            if kind == "container":
                containers.append(container)
            elif kind == "podsandbox" and container.get("State") in ("running", "paused", "restarting"):  # as all=False
                sandboxes.add(labels.get(POD_UID, ""))
        self._listed = {listed_name(container) for container in listed}
        self._pauses_up = {uid: pause for uid, pause in self._pauses_up.items() if uid in sandboxes}
        self._images_present = {}
        running = [container for container in containers if container.get("State") == "running"]
        self._pods_running = {(container.get("Labels") or {}).get(POD_UID, "") for container in running}
        return self._observed(containers), sandboxes - {""}

    def _unlisted(self, name: str) -> bool:
        """Whether this pass's look listed no container of this name (False: not looked)."""
        return self._listed is not None and name not in self._listed

    def _observed(self, listed: list[dict]) -> list[ContainerObservation]:
        observations = []
        for container in listed:
            observation = self._observation_of_listed(container)
            if observation is not None:
                observations.append(observation)
        return sorted(observations, key=lambda seen: (seen.pod_uid, seen.name, seen.restart))

    def _observation_of_listed(self, container: dict) -> ContainerObservation | None:
        """The observation of a container as the list call shows it: the one made before when its
        status is the same, else a new one from an inspect (None when it is gone by then)."""
        known = _observations.get(container["Id"])
        if known is not None and known[0] == container.get("State"):
            return known[1]
        info = self._inspect(container["Id"])
        return self._observation_remembered(info) if info is not None else None

    def _observation_remembered(self, info: dict) -> ContainerObservation:
        """The observation of an inspect, kept for the next observe unless the container is only
        created (it is about to start, or to fail to), or was killed a moment ago without the
        engine saying OOMKilled yet: the engine can record the exit before the OOM event."""
        observation = self._observation(info)
        unsettled = (
            observation.exit_code == SIGKILL_EXIT_CODE
            and observation.reason != "OOMKilled"
            and observation.finished_at is not None
            and (datetime.now(UTC) - observation.finished_at).total_seconds() < OOM_SETTLE_SECONDS
        )
        if observation.state != "created" and not unsettled:
            _observations.put(info["Id"], (info["State"].get("Status"), observation))
        return observation

    def logs(self, pod: PodRef, name: str, *, restart: int, since: datetime | None) -> list[tuple[datetime, str]]:
        """Output lines (stdout and stderr) of a container run, at or after `since`."""
        self._own(pod)
        name = container_name(pod, name, restart)
        lines = self._logs_unchanged(name, since)
        if lines is None:
            info = self._inspect_own(name)
            if info is None:
                return []
            lines = self._logs_read(info, since)
        return [line for line in lines if since is None or line[0] >= since]

    @staticmethod
    def _logs_unchanged(name: str, since: datetime | None) -> list[tuple[datetime, str]] | None:
        """The lines of the run as read before (from `since` on, or earlier), when its log file
        has not changed since: the kubelet reads every running container's new lines after each
        pass, and most have written nothing new."""
        copy = _log_copies.get(name)
        if copy is None or log_file_state(copy.path) != copy.file:
            return None
        if copy.since is not None and (since is None or since < copy.since):
            return None
        return copy.lines

    def _logs_read(self, info: dict, since: datetime | None) -> list[tuple[datetime, str]]:
        # The file's state is taken first: output written while reading only makes the next call read again.
        file = log_file_state(info.get("LogPath", ""))
        # The newest lines only: a flood (`yes` writes ~70,000 lines a second at 5 % of a core) would
        # otherwise hold the kubelet reading and copying for seconds; the older ones go, as rotation
        # would drop them (clusters.logs keeps the newest within the cap either way).
        options: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True, "tail": LOG_READ_MAX_LINES}
        if since is not None:
            options["since"] = max(1, int(since.timestamp()))  # whole seconds: the rest is filtered here
        # Sorted by time: the engine reads stdout and stderr apart, and may write them out of order.
        lines = sorted(log_lines(self.api.logs(info["Id"], **options)), key=lambda line: line[0])
        if file is not None and (file[1] <= LOG_COPY_MAX_BYTES or len(lines) <= LOG_COPY_MAX_LINES):
            _log_copies.put(info["Name"].lstrip("/"), _LogCopy(info["LogPath"], file, lines, since))
        return lines

    def orphans_remove(self, *, node: str, known_pod_uids: set[str]) -> list[str]:
        """Remove what this runtime made on the node for pods that no longer exist; return their uids."""
        seen: set[str] = set()
        for container in self._containers(**{NODE: node}):
            seen.add((container.get("Labels") or {}).get(POD_UID, ""))
        volumes = self.api.volumes(filters={"label": label_filters(**{SANDBOX: self.sandbox, NODE: node})})
        for volume in volumes.get("Volumes") or []:
            seen.add((volume.get("Labels") or {}).get(POD_UID, ""))
        orphans = sorted(uid for uid in seen - set(known_pod_uids) if uid)
        for uid in orphans:
            self._pod_remove(uid)
        return orphans

    # -- probes --

    def probe(self, pod: PodRef, name: str, probe: dict) -> ProbeResult:
        """Run an exec / httpGet / tcpSocket probe (a pod spec probe dict) once."""
        self._own(pod)
        timeout = float(probe.get("timeoutSeconds", 1))
        running = self._containers(**{POD_UID: pod.uid, CONTAINER_NAME: name, DOCKER_TYPE: "container"}, all=False)
        if not running:
            return ProbeResult(False, f"container {name} is not running")
        container = max(running, key=lambda found: int((found.get("Labels") or {}).get(RUN, "0")))
        if "exec" in probe:
            return self._probe_exec(container["Id"], probe["exec"].get("command", []), timeout)
        action = probe.get("httpGet") or probe.get("tcpSocket")
        if action is None:
            return ProbeResult(False, "probe has no exec, httpGet or tcpSocket action")
        port = self._port_number(container, action.get("port"))
        if port is None:
            return ProbeResult(False, f"port {action.get('port')!r} is not a port of container {name}")
        address = self.pod_ip(pod)
        if not address:
            return ProbeResult(False, f"pod {pod.namespace}/{pod.name} has no IP")
        if "httpGet" in probe:
            if not self._reaches_pods():
                return self._probe_http_in_pod(pod, address, port, action, timeout)
            return probe_http(address, port, action, timeout)
        if not self._reaches_pods():
            return self._probe_tcp_in_pod(pod, port, timeout)
        return probe_tcp(address, port, timeout)

    def _reaches_pods(self) -> bool:
        """Whether this process shares the network namespace holding the sandbox network's bridge
        (its gateway address is one of ours): then pod IPs answer from here. Otherwise (a remote
        engine, a worker in a container of its own) probes run inside the pod instead."""
        if self.probe_from_host is not None:
            return self.probe_from_host
        try:
            network = self.api.inspect_network(sandbox_network_name(self.sandbox))
        except NotFound:
            return False
        config = ((network.get("IPAM") or {}).get("Config") or [{}])[0]
        gateway = config.get("Gateway", "").split("/")[0]
        if not gateway and config.get("Subnet"):  # made before the gateway was named
            gateway = sandbox_network.gateway(config["Subnet"])
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as bound:
                bound.bind((gateway, 0))
            self.probe_from_host = bool(gateway)
        except OSError:
            self.probe_from_host = False
        if self.probe_from_host and config.get("Subnet"):
            # Only when the kernel routes the subnet through this network's bridge and no other:
            # a second engine on this machine may have a bridge of the same subnet (clusters.node_hosts).
            bridge = (network.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{network['Id'][:12]}"
            self.probe_from_host = subnet_interfaces(config["Subnet"]) == [bridge]
        return self.probe_from_host

    @staticmethod
    def _port_number(container: dict, port: Any) -> int | None:
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            return int(port)
        names = (container.get("Labels") or {}).get(PORT_NAMES, "")
        for pair in filter(None, names.split(",")):
            key, _, value = pair.partition("=")
            if key == port:
                return int(value)
        return None

    def _running_container(self, pod: PodRef, name: str) -> dict:
        """The newest running run of a container, or ContainerNotRunning."""
        self._own(pod)
        running = self._containers(**{POD_UID: pod.uid, CONTAINER_NAME: name, DOCKER_TYPE: "container"}, all=False)
        if not running:
            raise ContainerNotRunning(f'container not found ("{name}")')
        return max(running, key=lambda found: int((found.get("Labels") or {}).get(RUN, "0")))

    def command_run(self, pod: PodRef, name: str, command: list[str], *, timeout: float = 30) -> tuple[int | None, str]:
        """Run `command` to its end in the newest running run of a container: (exit code, stdout
        and stderr), or (None, "") when it did not end within `timeout`."""
        container = self._running_container(pod, name)
        try:
            return self._exec(container["Id"], command, timeout)
        except APIError as error:
            raise RuntimeError_(f"exec in {name}: {error.explanation or error}") from error

    def container_exec(self, pod: PodRef, name: str, command: list[str], *, tty: bool, stdin: bool) -> ExecProcess:
        """`kubectl exec`: the engine's exec API inside the container, its streams attached. The
        container is named by its name, not its id (see listed_name)."""
        target = listed_name(self._running_container(pod, name))
        try:
            execution = self.api.exec_create(target, command, stdin=stdin, tty=tty, stdout=True, stderr=True)
            sock = self.api.exec_start(execution["Id"], tty=tty, socket=True)
        except APIError as error:
            raise RuntimeError_(f"exec in {name}: {error.explanation or error}") from error
        return DockerExecProcess(self.api, target, execution["Id"], sock, tty=tty)

    def container_attach(self, pod: PodRef, name: str, *, stdin: bool) -> ExecProcess:
        """`kubectl attach`: the engine's attach to the container's own process; its stdin only
        when the spec opened it (`stdin: true`), a terminal when the spec asked for one. The
        container is named by its name, not its id (see listed_name)."""
        target = listed_name(self._running_container(pod, name))
        config = (self._inspect(target) or {}).get("Config") or {}
        stdin = stdin and bool(config.get("OpenStdin"))
        try:
            sock = self.api.attach_socket(target, params={"stdin": int(stdin), "stdout": 1, "stderr": 1, "stream": 1})
        except APIError as error:
            raise RuntimeError_(f"attach to {name}: {error.explanation or error}") from error
        return DockerAttachProcess(self.api, target, "", sock, tty=bool(config.get("Tty")))

    def port_connect(self, pod: PodRef, port: int) -> PortConnection:
        """A TCP connection to the pod's IP and port, from this host (which holds the sandbox
        network's bridge); the pod answers as it would anyone in the cluster."""
        self._own(pod)
        if not self._reaches_pods():
            raise RuntimeError_("port-forward needs the pod network, which this host does not reach")
        address = self.pod_ip(pod)
        try:
            return SocketConnection(socket.create_connection((address, port), timeout=5))
        except OSError as error:
            raise RuntimeError_(
                f"failed to connect to {address}:{port} inside namespace of pod {pod.name}: {error.strerror or error}"
            ) from error

    def _exec(self, container_id: str, command: list[str], timeout: float) -> tuple[int | None, str]:
        """Run a command in a container; (exit code, output), or (None, "") when it outlived `timeout`."""
        execution = self.api.exec_create(container_id, command, stdout=True, stderr=True)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            future = pool.submit(self.api.exec_start, execution["Id"])
            output = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            return None, ""
        finally:
            pool.shutdown(wait=False)
        code = self.api.exec_inspect(execution["Id"]).get("ExitCode")
        return code, output.decode("utf-8", errors="replace")

    def _probe_exec(self, container_id: str, command: list[str], timeout: float) -> ProbeResult:
        try:
            code, output = self._exec(container_id, command, timeout)
        except APIError as error:
            return ProbeResult(False, str(error.explanation or error))
        if code is None:
            return ProbeResult(False, f"command {shlex.join(command)!r} timed out")
        if code == 0:
            return ProbeResult(True, output)
        return ProbeResult(False, output or f"command {shlex.join(command)!r} exited with {code}")

    def _probe_http_in_pod(self, pod: PodRef, address: str, port: int, action: dict, timeout: float) -> ProbeResult:
        url = f"http://127.0.0.1:{port}{action.get('path', '/')}"
        pause = pause_container_name(pod)
        command = ["timeout", str(max(1, int(timeout))), "wget", "-q", "-O", "/dev/null", url]
        code, output = self._exec(pause, command, timeout + 1)
        if code == 0:
            return ProbeResult(True)
        return ProbeResult(False, output.strip() or f'Get "http://{address}:{port}{action.get("path", "/")}": failed')

    def _probe_tcp_in_pod(self, pod: PodRef, port: int, timeout: float) -> ProbeResult:
        command = ["timeout", str(max(1, int(timeout))), "nc", "127.0.0.1", str(port)]
        code, output = self._exec(
            pause_container_name(pod), ["sh", "-c", shlex.join(command) + " </dev/null"], timeout + 1
        )
        if code == 0:
            return ProbeResult(True)
        return ProbeResult(False, output.strip() or f"dial tcp 127.0.0.1:{port}: connect: connection refused")

    # -- events --

    def events(
        self, *, since: datetime | None = None, until: datetime | None = None, node: str | None = None
    ) -> EventStream:
        """The sandbox's container events (start, die, oom; of one node's pods when `node` is given)
        as they happen, from `since`; iterate the stream in a thread, close it to stop."""
        labels = {SANDBOX: self.sandbox} if node is None else {SANDBOX: self.sandbox, NODE: node}
        filters = {"type": "container", "event": list(EventStream.ACTIONS), "label": label_filters(**labels)}
        return EventStream(self.api.events(since=since, until=until, filters=filters, decode=True))

    def close(self) -> None:
        """Nothing to release: the client is the process's shared one, or its caller's."""

    # -- Services (kube-proxy) --

    def service_sync(
        self,
        sandbox: str,
        service: dict,
        endpoints: list[tuple],
        *,
        denied: dict[tuple[str, int], list[str]] | None = None,
    ) -> str:
        """Make Service `service` reachable from the sandbox's pods at its names and ports, spread
        round-robin over `endpoints` ((IP, port) or (IP, port, port name), see
        service_port_backends); return the proxy's address ("" for a Service that gets no proxy:
        headless, ExternalName, or without TCP ports). `denied`: by endpoint (IP, port), the
        client addresses whose connections to it go unanswered (NetworkPolicy, clusters.kube_proxy)."""
        self._own_sandbox(sandbox)
        metadata, spec = service["metadata"], service.get("spec", {})
        namespace, name = metadata.get("namespace", "default"), metadata["name"]
        backends = service_port_backends(service, endpoints)
        if spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName" or not backends:
            self.service_remove(sandbox, namespace, name)
            return ""
        try:
            info = self._proxy_ensure(namespace, name, sorted(backends), spec)
            self._proxy_endpoints_write(info["Id"], backends, denied or {})
        except APIError as error:
            raise RuntimeError_(f"service {namespace}/{name}: {error.explanation or error}") from error
        return info["NetworkSettings"]["Networks"][sandbox_network_name(self.sandbox)]["IPAddress"]

    def _owns_cluster_ip(self, address: str) -> bool:
        """Whether a ClusterIP lies in this sandbox's service range, so its proxy can take it."""
        if not self.network or not address:
            return False
        try:
            return ipaddress.ip_address(address) in sandbox_network.service_range(self.network)
        except ValueError:
            return False

    def _own_sandbox(self, sandbox: str) -> None:
        if sandbox != self.sandbox:
            raise RuntimeError_(f"this runtime serves sandbox {self.sandbox}, not {sandbox}")

    def _proxy_ensure(self, namespace: str, name: str, ports: list[int], spec: dict) -> dict:
        """The Service's proxy, listening on its ports: on the sandbox network at the ClusterIP when
        that lies in the sandbox's service range, and published on 127.0.0.1:<nodePort> for a
        NodePort Service (through the ports network: the engine publishes only from a network
        that is not internal)."""
        container = proxy_container_name(self.sandbox, namespace, name)
        cluster_ip = spec.get("clusterIP", "")
        address = cluster_ip if self._owns_cluster_ip(cluster_ip) else ""
        published = node_port_bindings(spec, ports)
        ports_hash = ",".join(map(str, ports)) + (f"@{address}" if address else "")
        ports_hash += "".join(f";{key}>{host[1]}" for key, host in sorted(published.items()))
        info = self._inspect_own(container)
        if info is not None:
            labels = info["Config"].get("Labels") or {}
            if labels.get(PORTS_HASH) == ports_hash and info["State"].get("Running"):
                return info
            self._remove_container(info["Id"])
            self._proxy_endpoints.pop(info["Id"], None)
        self._teaching_images()
        network = sandbox_network_name(self.sandbox)
        self._network_ensure(network, internal=True)
        first_network = ports_network_name(self.sandbox) if published else network
        if published:
            self._network_ensure(first_network, internal=False)
        host_config = self.api.create_host_config(
            network_mode=first_network,
            init=True,
            cap_drop=["ALL"],
            cgroupns="private",  # an engine on cgroup v1 shares the host's by default
            cap_add=CAPABILITIES,
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/run": "size=1m"},
            pids_limit=PIDS_LIMIT,
            mem_limit=32 * 2**20,
            memswap_limit=32 * 2**20,
            nano_cpus=500_000_000,
            port_bindings=published or None,
            log_config=LOGS,
            restart_policy={"Name": "no"},
        )
        aliases = service_aliases(namespace, name)
        endpoint = self.api.create_endpoint_config(aliases=aliases, ipv4_address=address or None)
        self._container_run_on(
            images.PROXY,
            network,
            first_network,
            endpoint,
            {"aliases": aliases, "ipv4_address": address or None},
            name=container,
            command=[str(port) for port in ports],
            labels=self._labels(**{ROLE: "service-proxy", SERVICE: f"{namespace}/{name}", PORTS_HASH: ports_hash}),
            ports=[tuple(key.split("/")) for key in published] or None,
            host_config=host_config,
        )
        info = self._inspect_own(container)
        if info is None:
            raise RuntimeError_(f"service proxy {container} vanished while it was being made")
        return info

    def _proxy_endpoints_write(
        self, proxy_id: str, backends: dict[int, list[tuple[str, int]]], denied: dict[tuple[str, int], list[str]]
    ) -> None:
        content = json.dumps([sorted(backends.items()), sorted(denied.items())])
        if self._proxy_endpoints.get(proxy_id) == content:
            return
        script = "set -e; cd /run/kube-tutor-proxy\n"
        for port, endpoints in sorted(backends.items()):
            lines = proxy_endpoints_file(endpoints, denied)
            script += f"printf %s {shlex.quote(lines)} > {port}.new && mv {port}.new {port}\n"
        code, output = self._exec(proxy_id, ["sh", "-c", script], 10)
        if code != 0:
            raise RuntimeError_(f"writing the endpoints of a service proxy failed: {output.strip() or code}")
        self._proxy_endpoints[proxy_id] = content

    def service_remove(self, sandbox: str, namespace: str, name: str) -> bool:
        """Remove a Service's proxy; whether there was one."""
        self._own_sandbox(sandbox)
        info = self._inspect_own(proxy_container_name(self.sandbox, namespace, name))
        if info is None:
            return False
        self._remove_container(info["Id"])
        self._proxy_endpoints.pop(info["Id"], None)
        return True

    def service_list(self, sandbox: str) -> list[tuple[str, str]]:
        """(namespace, name) of every Service that has a proxy in the sandbox."""
        self._own_sandbox(sandbox)
        found = []
        for container in self._containers(**{ROLE: "service-proxy"}):
            namespace, _, name = (container.get("Labels") or {}).get(SERVICE, "/").partition("/")
            found.append((namespace, name))
        return sorted(found)

    # -- whole sandboxes and persistent volumes --

    def persistent_volume_remove(self, key: str) -> bool:
        """Remove the persistent volume of claim `key` (when the claim is gone); whether it existed."""
        name = persistent_volume_name(key)
        try:
            volume = self.api.inspect_volume(name)
        except NotFound:
            return False
        if (volume.get("Labels") or {}).get(SANDBOX) != self.sandbox:
            return False
        try:
            self.api.remove_volume(name, force=True)
        except APIError as error:
            raise RuntimeError_(f"removing volume {name}: {error.explanation or error}") from error
        return True

    def sandbox_remove(self) -> None:
        """Remove everything made for this sandbox, on every node: containers, proxies, volumes
        (persistent ones too) and networks."""
        for container in self._containers():
            self._remove_container(container["Id"])
        volumes = self.api.volumes(filters={"label": label_filters(**{SANDBOX: self.sandbox})})
        for volume in volumes.get("Volumes") or []:
            with contextlib.suppress(NotFound):
                self.api.remove_volume(volume["Name"], force=True)
        for network in self.api.networks(filters={"label": label_filters(**{SANDBOX: self.sandbox})}):
            linked = links.bridge_links(links.bridge_name(network["Id"]))  # the bridge goes, its links stay
            self._network_forget(network["Name"])
            with contextlib.suppress(NotFound):
                self.api.remove_network(network["Id"])
            for device in linked:
                links.link_remove(device)
        self._files_written.clear()
        self._proxy_endpoints.clear()

    # -- resource usage (what the kubelet's resource metrics report) --

    def usage(self, *, node: str, pods: list[dict]) -> list[ContainerUsage]:
        """What each running container of the node uses now, from the engine's one-shot stats
        (one sample, no second one to wait for): the cgroup's cumulative CPU time and memory
        working set. The engine measures, so `pods` is not needed.

        The calls go together: Docker 20.10 answers the first at once and each later one at its
        stats collector's next one-second tick, so one after the other a node of ten containers
        took ten seconds."""
        running = self._containers(all=False, **{NODE: node, DOCKER_TYPE: "container"})
        if not running:
            return []
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(running), STATS_AT_ONCE)) as pool:
            all_stats = list(pool.map(self._one_shot_stats, [container["Id"] for container in running]))
        found = []
        for container, stats in zip(running, all_stats, strict=True):
            if stats is None:  # it stopped meanwhile, and has nothing more to report
                continue
            measured = self._usage_of_stats(stats)
            observation = self._observation_of_listed(container)
            if measured is None or observation is None:
                continue
            cpu, memory, at = measured
            found.append(
                ContainerUsage(
                    pod_uid=observation.pod_uid,
                    name=observation.name,
                    restart=observation.restart,
                    at=at,
                    cpu_nanoseconds=cpu,
                    memory_bytes=memory,
                    started_at=observation.started_at,
                )
            )
        return found

    def _one_shot_stats(self, container_id: str) -> dict | None:
        try:
            return self.api.stats(container_id, stream=False, one_shot=True)
        except APIError:  # NotFound too
            return None

    @staticmethod
    def _usage_of_stats(stats: dict) -> tuple[int, int, datetime] | None:
        """(cumulative CPU ns, working set bytes, when read) from one stats answer, the working set
        as cAdvisor computes it: usage less inactive file pages (cgroup v1 reports the hierarchy's
        as `total_inactive_file`, v2 only `inactive_file`), never below zero. None for a container
        that no longer runs: the engine answers it without memory figures."""
        memory = stats.get("memory_stats") or {}
        at = docker_time(stats.get("read", ""))
        if "usage" not in memory or at is None:
            return None
        details = memory.get("stats") or {}
        inactive = details.get("total_inactive_file", details.get("inactive_file", 0))
        cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage", 0)
        return cpu, max(memory["usage"] - inactive, 0), at


def offline_pull_message(image: str, *, allowed: bool = True) -> str:
    """What a failed pull says here: the engine's words for an unknown repository (the kubelet
    prints them), and why no registry could have had it: none is reachable, or the site does not
    let images be pulled from this one (TUTOR_IMAGE_PULL_REGISTRIES)."""
    registry, repository, _ = images.image_reference_split(image)
    name = f"{registry}/{repository}" if registry else repository
    why = (
        "no registry is reachable from this machine"
        if allowed
        else f"this site pulls no images from {registry or 'docker.io'} (TUTOR_IMAGE_PULL_REGISTRIES)"
    )
    return (
        f"pull access denied for {name}, repository does not exist or may require 'docker login' "
        f"({why}, and {image!r} is neither a local image nor one that "
        f"kube-tutor stands in for: {', '.join(images.STAND_INS)})"
    )


def _split_for_pull(image: str) -> tuple[str, str]:
    """`repo:tag` / `repo@digest` → (repository, tag or digest), as the engine's pull takes them."""
    name, at, digest = image.partition("@")
    if at:
        return name, digest
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :]
    return name, "latest"


# ---- sandbox networks ----


def free_subnets(client: docker.DockerClient | None = None) -> Iterator[str]:
    """/24 subnets of SUBNET_POOL that no engine network and no route of this host uses."""
    api = (client or shared_engine_client()).api
    pool = ipaddress.ip_network(SUBNET_POOL)
    taken = [ipaddress.ip_network(route, strict=False) for route in host_routes()]
    for network in api.networks():
        for config in (network.get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(ValueError):
                taken.append(ipaddress.ip_network(config.get("Subnet", ""), strict=False))
    for subnet in pool.subnets(new_prefix=24):
        if not any(subnet.overlaps(used) for used in taken):
            yield str(subnet)


def sandbox_network_claim(sandbox: str, taken: set[str], client: docker.DockerClient | None = None) -> str | None:
    """Make a new sandbox's own network on the first free subnet that no other sandbox was given,
    and return that subnet (None: none is left). Made at once rather than at the first pod: the
    engine refuses a pool that overlaps another, so it settles a race between two creations, even
    of two installations (or two test runs) sharing one engine, which no database can."""
    for subnet in free_subnets(client):
        if subnet in taken:
            continue
        try:
            DockerRuntime(sandbox=sandbox, network=subnet, client=client)._network_ensure(
                sandbox_network_name(sandbox), internal=True
            )
        except RuntimeError_ as error:
            if subnet_taken(str(error)):
                continue
            raise
        return subnet
    return None


def subnet_taken(engine_error: str) -> bool:
    """Whether the engine refused a network's pool because another network has that subnet. It
    says so two ways: an overlapping pool, or (when it took the pool for the very one another
    network holds) a gateway address already in use."""
    return "overlap" in engine_error or (
        "failed to allocate gateway" in engine_error and "already in use" in engine_error
    )


# ---- exec streams ----


def frames_split(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The engine's multiplexed stream (no TTY): 8-byte headers [stream, 0, 0, 0, size (big-endian
    uint32)] each followed by `size` bytes. Returns the whole frames in `buffer` and what is left."""
    frames = []
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[4:8], "big")
        if len(buffer) < 8 + size:
            break
        frames.append((STDERR if buffer[0] == 2 else STDOUT, buffer[8 : 8 + size]))
        buffer = buffer[8 + size :]
    return frames, buffer


class DockerExecProcess:
    """One exec in the engine, as the ExecProcess of the runtime contract. The engine gives one
    socket: stdin is written to it, output read from it (raw with a TTY, multiplexed without)."""

    def __init__(self, api, container_id: str, exec_id: str, sock, *, tty: bool) -> None:
        self.api = api
        self.container_id = container_id
        self.exec_id = exec_id
        self.sock = getattr(sock, "_sock", sock)  # docker-py hands a SocketIO around the socket
        self.tty = tty
        self.pending: list[tuple[int, bytes]] = []
        self.buffer = b""
        self.ended = False
        self.stdin_closed = False
        self.lock = threading.Lock()

    def write_stdin(self, data: bytes) -> None:
        with self.lock:
            if self.stdin_closed:
                return
            with contextlib.suppress(OSError):
                self.sock.sendall(data)

    def close_stdin(self) -> None:
        with self.lock:
            if not self.stdin_closed:
                self.stdin_closed = True
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_WR)

    def read_output(self, timeout: float) -> tuple[int, bytes] | None:
        if self.pending:
            return self.pending.pop(0)
        if self.ended:
            return STDOUT, b""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return None
        except OSError:
            chunk = b""
        if not chunk:
            self.ended = True
            return STDOUT, b""
        if self.tty:
            return STDOUT, chunk
        frames, self.buffer = frames_split(self.buffer + chunk)
        self.pending.extend(frames)
        return self.pending.pop(0) if self.pending else None

    def resize(self, width: int, height: int) -> None:
        if self.tty and width > 0 and height > 0:
            with contextlib.suppress(APIError):
                self.api.exec_resize(self.exec_id, height=height, width=width)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.api.exec_inspect(self.exec_id)
            if not info.get("Running"):
                return info.get("ExitCode")
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def terminate(self) -> None:
        """The engine has no API to kill an exec: find the process's PID inside the container
        (from the engine's host PID, through /proc) and kill it with a second exec."""
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(APIError, NotFound):
            info = self.api.exec_inspect(self.exec_id)
            if info.get("Running") and (pid := namespace_pid(info.get("Pid") or 0)):
                kill = self.api.exec_create(self.container_id, ["kill", "-9", str(pid)])
                self.api.exec_start(kill["Id"])


class SocketConnection:
    """A socket as the PortConnection of the runtime contract."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        self.sock = sock

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        try:
            return self.sock.recv(size)
        except OSError:
            return b""

    def shutdown_write(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class DockerAttachProcess(DockerExecProcess):
    """An attach to a container's own process: leaving it leaves the container running."""

    def resize(self, width: int, height: int) -> None:
        if self.tty and width > 0 and height > 0:
            with contextlib.suppress(APIError):
                self.api.resize(self.container_id, height=height, width=width)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.api.inspect_container(self.container_id).get("State", {})
            if not state.get("Running"):
                return state.get("ExitCode")
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def terminate(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def namespace_pid(host_pid: int, proc: str = "/proc") -> int | None:
    """A host PID's number inside its own PID namespace (the last NSpid field), when this host's
    /proc shows it (the engine runs on this machine); None otherwise."""
    try:
        with open(f"{proc}/{host_pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


# ---- probes from this host (pure enough: sockets only) ----


def probe_http(address: str, port: int, action: dict, timeout: float) -> ProbeResult:
    """An httpGet probe as the kubelet makes it: success is a status from 200 to 399."""
    scheme = action.get("scheme", "HTTP").upper()
    path = action.get("path", "/") or "/"
    url = f"{scheme.lower()}://{address}:{port}{path}"
    headers = {header["name"]: header["value"] for header in action.get("httpHeaders", [])}
    headers.setdefault("User-Agent", "kube-probe/1.30")
    if scheme == "HTTPS":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            address,
            port,
            timeout=timeout,
            context=ssl._create_unverified_context(),  # noqa: S323 - kubelet skips verification too
        )
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read(1024).decode("utf-8", errors="replace")
    except TimeoutError:
        return ProbeResult(
            False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        )
    except ConnectionRefusedError:
        return ProbeResult(False, f'Get "{url}": dial tcp {address}:{port}: connect: connection refused')
    except (OSError, http.client.HTTPException) as error:
        return ProbeResult(False, f'Get "{url}": {error}')
    finally:
        connection.close()
    if 200 <= response.status < 400:
        return ProbeResult(True, body)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {response.status}")


def probe_tcp(address: str, port: int, timeout: float) -> ProbeResult:
    try:
        socket.create_connection((address, port), timeout=timeout).close()
    except TimeoutError:
        return ProbeResult(False, f"dial tcp {address}:{port}: i/o timeout")
    except ConnectionRefusedError:
        return ProbeResult(False, f"dial tcp {address}:{port}: connect: connection refused")
    except OSError as error:
        return ProbeResult(False, f"dial tcp {address}:{port}: {error}")
    return ProbeResult(True)
