"""The persistent volumes of a simulated sandbox, shared by all its nodes.

A provisioned volume can be mounted on any node of the sandbox: the default StorageClass binds at
once and pins no node, as network storage does, and a Docker volume is there for every node the
engine runs. So what a pod on node-1 writes to a claim, the claim's next pod reads on node-2 too.
The simulated runtime keeps each node's state in a row of its own; this store keeps each claim's
files in one more row, named `volume:<claim uid>`, and changes it under a row lock, file by file,
so the kubelets of two nodes never lose each other's writes.

It also hands a node's runtime the writes of execs made outside the node's kubelet run (from the
API, clusters.simulated_exec), kept in a row named `exec:<node>` until the node's state surely
holds them: a kubelet run that loaded its state before such a write applies it again.
"""

from __future__ import annotations

from django.db import transaction

from clusters.models import NodeRuntimeState, Sandbox

PREFIX = "volume:"
EXEC_WRITES = "exec:"


class SandboxVolumes:
    """A `clusters.runtime.simulated.VolumeStore` in the database, for one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def files(self, key: str) -> dict[str, str]:
        rows = NodeRuntimeState.objects.filter(sandbox=self.sandbox, node=PREFIX + key)
        state = rows.values_list("state", flat=True).first() or {}
        return dict(state.get("files", {}))

    def exec_writes(self, node: str) -> list[dict]:
        rows = NodeRuntimeState.objects.filter(sandbox=self.sandbox, node=EXEC_WRITES + node)
        state = rows.values_list("state", flat=True).first() or {}
        return list(state.get("writes", []))

    def write(self, key: str, path: str, text: str | None) -> None:
        with transaction.atomic():
            row, _ = NodeRuntimeState.objects.select_for_update().get_or_create(sandbox=self.sandbox, node=PREFIX + key)
            files = row.state.setdefault("files", {})
            if text is None:
                files.pop(path, None)
            else:
                files[path] = text
            row.save(update_fields=["state"])
