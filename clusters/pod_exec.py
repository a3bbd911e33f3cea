"""Open a process inside a pod's container, for `kubectl exec` (and the API's stream handler).

The checks and their messages are the API server's and the kubelet's: the pod must exist, name a
container it has (or have only one), be bound to a node and not have finished, and the
container must be running. The process itself comes from the sandbox's runtime: the engine's
exec API on Docker, the simulated runtime's shell otherwise (clusters.simulated_exec). Blocking:
call from a worker thread, never from the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusters import errors, store
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind
from clusters.runtime.base import ContainerNotRunning, ExecProcess, PodRef, RuntimeError_

PODS = resource_for_kind("v1", "Pod")


@dataclass(frozen=True)
class ExecRequest:
    """What `…/pods/<name>/exec?command=…&container=…&stdin=…&tty=…` asks for."""

    namespace: str
    pod: str
    command: tuple[str, ...]
    container: str = ""
    stdin: bool = False
    tty: bool = False


def exec_target(*, pod: dict, container: str) -> str:
    """The container an exec runs in, or the BadRequest the API server answers (pure)."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec", {})
    names = [c["name"] for c in spec.get("containers", [])]
    others = [c["name"] for key in ("initContainers", "ephemeralContainers") for c in spec.get(key, [])]
    if not container:
        if len(names) != 1:
            raise errors.BadRequest(
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            )
        container = names[0]
    if container not in names and container not in others:
        raise errors.BadRequest(f"container {container} is not valid for pod {name}")
    phase = pod.get("status", {}).get("phase", "")
    if phase in ("Succeeded", "Failed"):
        raise errors.BadRequest(f"cannot exec into a container in a completed pod; current phase is {phase}")
    if not spec.get("nodeName"):
        raise errors.BadRequest(f"pod {name} does not have a host assigned")
    return container


def exec_open(*, sandbox: Sandbox, request: ExecRequest) -> ExecProcess:
    """Start the requested command in the pod's container; ApiError when it cannot be."""
    if not request.command:
        raise errors.BadRequest("you must specify at least 1 command")
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace=request.namespace, name=request.pod)
    container = exec_target(pod=pod, container=request.container)
    ref = PodRef(
        sandbox=sandbox.uid.hex,
        namespace=request.namespace,
        name=request.pod,
        uid=pod["metadata"]["uid"],
        node=pod["spec"]["nodeName"],
    )
    try:
        if sandbox.engine == "docker":
            from clusters.runtime.docker import DockerRuntime

            runtime = DockerRuntime(sandbox=ref.sandbox, node=ref.node)
            return runtime.container_exec(ref, container, list(request.command), tty=request.tty, stdin=request.stdin)
        from clusters import simulated_exec

        return simulated_exec.exec_open(
            sandbox=sandbox,
            pod=ref,
            container=container,
            command=list(request.command),
            tty=request.tty,
            stdin=request.stdin,
        )
    except ContainerNotRunning as error:
        raise errors.BadRequest(str(error)) from error
    except RuntimeError_ as error:
        raise errors.ApiError(str(error)) from error
