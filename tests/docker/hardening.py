"""The container hardening audit: every container the Docker runtime made for a sandbox, found by
its labels and inspected in the engine, is held to the rules the runtime documents
(clusters/runtime/docker.py) — independently of the code that set them up.

- never privileged; every capability dropped but the named exceptions; `no-new-privileges`;
  no devices, masked /proc paths kept (privileged mode clears them);
- pids, memory and CPU limits set; memory and CPU within the node's allocatable, equal to the
  pod's own limits when it sets them, and no swap beyond memory; the containers of a namespace
  with a ResourceQuota within its `limits.memory` and `limits.cpu`;
- no host bind mount: only Docker volumes of the sandbox itself (and the proxy's tmpfs);
- only the sandbox's own networks (a pod's containers join its pause container's), no host
  network, PID, IPC, UTS or user namespace;
- ports published on 127.0.0.1 only;
- owner labels present.

`sandbox_audit` returns the findings as sentences (none: hardened); `assert_hardened` fails with
them. Both run after every Docker end-to-end test, before its sandbox is cleaned away.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from clusters.objects.quantity import quantity_from_json
from clusters.runtime import docker as runtime
from tests.kubectl.conftest import KUBECTL

# What clusters/runtime/docker.py documents, written out again here on purpose.
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
MAX_PIDS = 256
DEFAULT_MEMORY = 256 * 2**20
DEFAULT_NANO_CPUS = 10**9
NODE_ALLOCATABLE = {"cpu": "2", "memory": "4Gi"}
ROLES = {"pod-sandbox", "container", "service-proxy"}
POD_LABELS = (runtime.POD_UID, runtime.POD_NAME, runtime.POD_NAMESPACE, runtime.CONTAINER_NAME, runtime.NODE)


def _bytes(quantity) -> int:
    return quantity_from_json(quantity).int_value()


def _nano(quantity) -> int:
    return quantity_from_json(quantity).scaled_value(-9)


def _spec_container(pod: dict | None, name: str) -> dict | None:
    if pod is None:
        return None
    spec = pod.get("spec", {})
    every = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return next((container for container in every if container.get("name") == name), None)


def container_findings(
    info: dict, *, sandbox: str, pod: dict | None, allocatable: dict, volumes: dict[str, dict], pauses: dict[str, str]
) -> list[str]:
    """What is wrong with one inspected container (pure). `volumes` are the engine's volumes by
    name, `pauses` the pause containers' ids by pod uid, `pod` the container's pod if known."""
    name = info["Name"].lstrip("/")
    host = info["HostConfig"]
    labels = info["Config"].get("Labels") or {}
    role = labels.get(runtime.ROLE, "")
    found = []

    def finding(text: str) -> None:
        found.append(f"{name}: {text}")

    # Owner labels.
    if labels.get(runtime.SANDBOX) != sandbox:
        finding(f"label {runtime.SANDBOX} is {labels.get(runtime.SANDBOX)!r}, not {sandbox!r}")
    if role not in ROLES:
        finding(f"label {runtime.ROLE} is {role!r}, not one of {sorted(ROLES)}")
    if role in ("pod-sandbox", "container"):
        for label in POD_LABELS:
            if not labels.get(label):
                finding(f"label {label} is missing")
    # Privileges.
    if host.get("Privileged"):
        finding("runs privileged")
    if "ALL" not in (host.get("CapDrop") or []):
        finding(f"does not drop every capability (CapDrop {host.get('CapDrop')})")
    added = {cap.removeprefix("CAP_") for cap in host.get("CapAdd") or []}
    if added - ALLOWED_CAPABILITIES:
        finding(f"adds capabilities {sorted(added - ALLOWED_CAPABILITIES)}")
    if not any(opt.split(":")[0].split("=")[0] == "no-new-privileges" for opt in host.get("SecurityOpt") or []):
        finding(f"lacks no-new-privileges (SecurityOpt {host.get('SecurityOpt')})")
    if host.get("Devices"):
        finding(f"has host devices {host['Devices']}")
    if not host.get("MaskedPaths"):
        finding("has no masked /proc paths")
    # Limits.
    pids, memory, cpus = host.get("PidsLimit") or 0, host.get("Memory") or 0, host.get("NanoCpus") or 0
    if not 0 < pids <= MAX_PIDS:
        finding(f"pids limit {pids} is not within 1..{MAX_PIDS}")
    if not 0 < memory <= _bytes(allocatable["memory"]):
        finding(f"memory limit {memory} is not within the node's allocatable {allocatable['memory']}")
    if host.get("MemorySwap") != memory:
        finding(f"may swap beyond its memory limit (MemorySwap {host.get('MemorySwap')}, Memory {memory})")
    if not 0 < cpus <= _nano(allocatable["cpu"]):
        finding(f"CPU limit {cpus / 1e9:g} is not within the node's allocatable {allocatable['cpu']}")
    spec = _spec_container(pod, labels.get(runtime.CONTAINER_NAME, "")) if role == "container" else None
    if spec is not None:
        limits = (spec.get("resources") or {}).get("limits") or {}
        want_memory = min(_bytes(limits["memory"]), _bytes(allocatable["memory"])) if "memory" in limits else None
        want_cpus = min(_nano(limits["cpu"]), _nano(allocatable["cpu"])) if "cpu" in limits else None
        if want_memory is not None and memory != max(want_memory, 6 * 2**20):
            finding(f"memory limit {memory} is not the pod's {limits['memory']}")
        if want_memory is None and memory != min(DEFAULT_MEMORY, _bytes(allocatable["memory"])):
            finding(f"memory limit {memory} is not the documented default {DEFAULT_MEMORY}")
        if want_cpus is not None and cpus != max(want_cpus, 10_000_000):
            finding(f"CPU limit {cpus / 1e9:g} is not the pod's {limits['cpu']}")
        if want_cpus is None and cpus != min(DEFAULT_NANO_CPUS, _nano(allocatable["cpu"])):
            finding(f"CPU limit {cpus / 1e9:g} is not the documented default 1")
    # Mounts: the sandbox's own volumes only.
    if host.get("Binds"):
        finding(f"bind-mounts host paths {host['Binds']}")
    for mount in info.get("Mounts") or []:
        if mount.get("Type") == "tmpfs" and role == "service-proxy":
            continue
        if mount.get("Type") != "volume":
            finding(f"mounts {mount.get('Type')} {mount.get('Source')} at {mount.get('Destination')}")
            continue
        owner = (volumes.get(mount.get("Name", "")) or {}).get("Labels") or {}
        if owner.get(runtime.SANDBOX) != sandbox:
            finding(f"mounts volume {mount.get('Name')}, which is not the sandbox's")
    for mount in host.get("Mounts") or []:
        if mount.get("Type") == "bind":
            finding(f"bind-mounts {mount.get('Source')}")
    # Namespaces and networks.
    for mode in ("PidMode", "UTSMode", "UsernsMode", "CgroupnsMode"):
        if host.get(mode) == "host":
            finding(f"shares the host's namespace ({mode} host)")
    own_networks = {runtime.sandbox_network_name(sandbox), runtime.ports_network_name(sandbox)}
    network_mode = host.get("NetworkMode", "")
    if role == "container":
        pause = pauses.get(labels.get(runtime.POD_UID, ""))
        if network_mode != f"container:{pause}":
            finding(f"network mode {network_mode!r} is not its pod's pause container")
        if host.get("IpcMode") != f"container:{pause}":
            finding(f"IPC mode {host.get('IpcMode')!r} is not its pod's pause container")
    else:
        if network_mode not in own_networks:
            finding(f"network mode {network_mode!r} is not the sandbox's network")
        if host.get("IpcMode") not in ("", "private", "shareable", None):
            finding(f"IPC mode {host.get('IpcMode')!r}")
        joined = set((info.get("NetworkSettings") or {}).get("Networks") or {})
        if joined - own_networks:
            finding(f"is attached to other networks: {sorted(joined - own_networks)}")
    # Published ports.
    for port, bindings in (host.get("PortBindings") or {}).items():
        for binding in bindings or []:
            if binding.get("HostIp") != "127.0.0.1":
                finding(f"publishes {port} on {binding.get('HostIp') or 'every address'}")
    for port, bindings in ((info.get("NetworkSettings") or {}).get("Ports") or {}).items():
        for binding in bindings or []:
            if binding.get("HostIp") not in ("127.0.0.1",):
                finding(f"is published on {binding.get('HostIp')}:{binding.get('HostPort')} ({port})")
    return found


def quota_findings(infos: list[dict], quotas: list[dict], pods: dict[str, dict]) -> list[str]:
    """Running containers of a namespace whose ResourceQuota caps limits.memory or limits.cpu
    beyond the cap (pure). A container counts when its pod declares that limit, as the quota counts
    pods: one that predates its namespace's quota and declares none is no more bound than upstream's."""
    found = []
    for quota in quotas:
        namespace, hard = quota["metadata"]["namespace"], quota.get("spec", {}).get("hard", {})
        for resource, engine_field, parse in (("memory", "Memory", _bytes), ("cpu", "NanoCpus", _nano)):
            cap = hard.get(f"limits.{resource}")
            if cap is None:
                continue
            total = 0
            for info in infos:
                labels = info["Config"].get("Labels") or {}
                if labels.get(runtime.POD_NAMESPACE) != namespace or labels.get(runtime.ROLE) != "container":
                    continue
                spec = _spec_container(
                    pods.get(labels.get(runtime.POD_UID, "")), labels.get(runtime.CONTAINER_NAME, "")
                )
                declared = ((spec or {}).get("resources") or {}).get("limits") or {}
                if info["State"].get("Running") and resource in declared:
                    total += info["HostConfig"].get(engine_field) or 0
            if total > parse(cap):
                found.append(
                    f"namespace {namespace}: containers' {resource} limits add up to more than its quota {cap}"
                )
    return found


def sandbox_audit(
    sandbox: str, *, pods: list[dict] = (), quotas: list[dict] = (), allocatable: dict | None = None
) -> tuple[int, list[str]]:
    """(how many containers were inspected, the findings) for every container of `sandbox`."""
    client = runtime.engine_client()
    try:
        listed = client.api.containers(all=True, filters={"label": [f"{runtime.SANDBOX}={sandbox}"]})
        infos = [info for item in listed if (info := _inspect(client, item["Id"])) is not None]
        volumes = {
            volume["Name"]: volume
            for volume in client.api.volumes(filters={"label": [f"{runtime.SANDBOX}={sandbox}"]}).get("Volumes") or []
        }
    finally:
        client.close()
    by_uid = {pod["metadata"]["uid"]: pod for pod in pods}
    pauses = {
        (info["Config"].get("Labels") or {}).get(runtime.POD_UID, ""): info["Id"]
        for info in infos
        if (info["Config"].get("Labels") or {}).get(runtime.ROLE) == "pod-sandbox"
    }
    found = []
    for info in infos:
        uid = (info["Config"].get("Labels") or {}).get(runtime.POD_UID, "")
        found += container_findings(
            info,
            sandbox=sandbox,
            pod=by_uid.get(uid),
            allocatable=allocatable or NODE_ALLOCATABLE,
            volumes=volumes,
            pauses=pauses,
        )
    return len(infos), found + quota_findings(infos, list(quotas), by_uid)


def _inspect(client, container_id: str) -> dict | None:
    try:
        return client.api.inspect_container(container_id)
    except runtime.NotFound:
        return None


def assert_hardened(sandbox: str, **context) -> int:
    """Fail with every finding; return how many containers were audited."""
    audited, found = sandbox_audit(sandbox, **context)
    assert not found, f"{len(found)} hardening findings in {audited} containers:\n" + "\n".join(found)
    return audited


def kubeconfig_sandbox(kubeconfig) -> str:
    """The sandbox a kubeconfig of this site reaches: its server URL is <site>/k8s/<uid>[/t/<key>]."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    return config["clusters"][0]["cluster"]["server"].split("/k8s/", 1)[1].split("/", 1)[0]


def stack_audit(kubeconfig) -> int:
    """Audit the Docker sandbox a kubeconfig reaches (an end-to-end stack's, in
    tests/orchestrator/conftest.py), with its pods, quotas and nodes' allocatable as its API serves
    them; return how many containers were audited."""
    sandbox = kubeconfig_sandbox(kubeconfig)
    context: dict = {}
    for kind, key in (("pods", "pods"), ("resourcequotas", "quotas"), ("nodes", "nodes")):
        listed = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "get", kind, "--all-namespaces", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if listed.returncode == 0:  # a test may have left the API down: audit without what it would say
            context[key] = json.loads(listed.stdout)["items"]
    nodes = context.pop("nodes", [])
    if nodes and (allocatable := nodes[0].get("status", {}).get("allocatable")):
        context["allocatable"] = allocatable
    audited = assert_hardened(sandbox, **context)
    print(f"hardening audit: {audited} containers of sandbox {sandbox}, no findings")
    return audited
