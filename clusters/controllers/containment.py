"""What a sandbox does not give a pod of what its spec asks of the node, in words (pure).

A namespace whose Pod Security level is `privileged` admits pods that ask for the host: its
filesystem (hostPath), its network, PID or IPC namespace, privileged mode, more capabilities, a
host port. Upstream's kubelet would grant them; a learner's sandbox shares one machine with every
other learner, so the runtimes never do. The kubelet says so in a Warning Event when it makes the
pod's sandbox, instead of leaving the learner to find out: a hostPath volume is an empty volume
of the pod's own (no real host path is ever mounted), the pod keeps its own namespaces, and only
the capabilities below are kept.
"""

from __future__ import annotations

REASON = "HostAccessNotGranted"
# What every container keeps (clusters.runtime.docker drops all others): binding ports below 1024.
KEPT_CAPABILITIES = ("NET_BIND_SERVICE",)


def _containers(spec: dict) -> list[dict]:
    every = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [container for container in every if isinstance(container, dict)]


def host_access_notes(spec: dict) -> list[str]:
    """One sentence for each thing the pod asks of the node that it will not get, in spec order."""
    notes = []
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict) and isinstance(volume.get("hostPath"), dict):
            path = volume["hostPath"].get("path", "")
            notes.append(
                f'hostPath volume "{volume.get("name", "")}" is an empty volume of the pod\'s own: '
                f"the node's {path} is never mounted"
            )
    for field, what in (("hostNetwork", "a network"), ("hostPID", "a process (PID)"), ("hostIPC", "an IPC")):
        if spec.get(field) is True:
            notes.append(f"{field}: the pod keeps {what} namespace of its own, not the node's")
    for container in _containers(spec):
        name = container.get("name", "")
        security = container.get("securityContext") or {}
        if security.get("privileged") is True:
            notes.append(f'container "{name}": privileged is not granted')
        added = (security.get("capabilities") or {}).get("add") or []
        refused = sorted({str(cap).upper().removeprefix("CAP_") for cap in added} - set(KEPT_CAPABILITIES))
        if refused:
            notes.append(
                f'container "{name}": capabilities {", ".join(refused)} are not added '
                f"(only {', '.join(KEPT_CAPABILITIES)} is kept)"
            )
        for port in container.get("ports") or []:
            if isinstance(port, dict) and port.get("hostPort"):
                notes.append(f'container "{name}": hostPort {port["hostPort"]} is never published beyond 127.0.0.1')
    return notes


def host_access_message(notes: list[str]) -> str:
    return "This sandbox does not give pods the node: " + "; ".join(notes)
