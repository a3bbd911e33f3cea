"""Open a process inside a pod's container (`kubectl exec`), join a container's own process
(`kubectl attach`), or connect to one of the pod's ports (`kubectl port-forward`), for the API's
stream handler.

The checks and their messages are the API server's and the kubelet's: the pod must exist, name a
container it has (or have only one), be bound to a node and not have finished, and the
container must be running. The process itself comes from the sandbox's runtime: the engine's
exec API on Docker, the simulated runtime's shell otherwise (clusters.simulated_exec). Blocking:
call from a worker thread, never from the event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from clusters import errors, logs, node_hosts, store
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind
from clusters.runtime.base import STDOUT, ContainerNotRunning, ExecProcess, PodRef, PortConnection, RuntimeError_

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
            runtime = _docker_runtime(ref)
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


def _docker_runtime(ref: PodRef):
    """The Docker runtime on the engine of the host that runs the pod's node: the web's own
    DOCKER_HOST, or the one TUTOR_HOST_ENGINES names for that host."""
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime.docker import DockerRuntime, shared_engine_client

    engine = settings.HOST_ENGINES.get(settings.NODE_HOSTS.get(ref.node, node_hosts.DEFAULT_HOST), "")
    return DockerRuntime(sandbox=ref.sandbox, node=ref.node, client=shared_engine_client(engine))


def _pod_ref(sandbox: Sandbox, pod: dict) -> PodRef:
    metadata = pod["metadata"]
    return PodRef(
        sandbox=sandbox.uid.hex,
        namespace=metadata["namespace"],
        name=metadata["name"],
        uid=metadata["uid"],
        node=pod.get("spec", {}).get("nodeName", ""),
    )


def port_open(*, sandbox: Sandbox, namespace: str, pod_name: str, port: int) -> PortConnection:
    """A connection to a port inside a running pod; ApiError saying why when there is none."""
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace=namespace, name=pod_name)
    phase = pod.get("status", {}).get("phase", "")
    if phase != "Running":
        raise errors.BadRequest(f"unable to forward port because pod is not running. Current status={phase}")
    ref = _pod_ref(sandbox, pod)
    try:
        if sandbox.engine == "docker":
            return _docker_runtime(ref).port_connect(ref, port)
        from clusters import simulated_ports

        return simulated_ports.port_connect(sandbox=sandbox, pod=ref, port=port)
    except RuntimeError_ as error:
        raise errors.ApiError(str(error)) from error


def attach_open(*, sandbox: Sandbox, request: ExecRequest) -> ExecProcess:
    """Join the running process of a container: on Docker the engine's attach (its stdin when the
    spec asked for `stdin: true`); on the simulated runtime, whose processes read no input, the
    output the container writes from now on."""
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace=request.namespace, name=request.pod)
    container = exec_target(pod=pod, container=request.container)
    ref = _pod_ref(sandbox, pod)
    try:
        if sandbox.engine == "docker":
            return _docker_runtime(ref).container_attach(ref, container, stdin=request.stdin)
    except ContainerNotRunning as error:
        raise errors.BadRequest(str(error)) from error
    except RuntimeError_ as error:
        raise errors.ApiError(str(error)) from error
    status = logs.container_status(pod, container)
    if "running" not in status.get("state", {}):
        raise errors.BadRequest(f'container not found ("{container}")')
    return LogFollow(sandbox=sandbox, pod=pod, container=container, restart=status.get("restartCount", 0))


class LogFollow:
    """The output of a container's current run from now on, read from the log the kubelet copies,
    as an ExecProcess: it ends when the run ends; input is read by nobody."""

    POLL_SECONDS = 0.25

    def __init__(self, *, sandbox: Sandbox, pod: dict, container: str, restart: int) -> None:
        self.sandbox, self.pod, self.container, self.restart = sandbox, pod, container, restart
        existing = logs.log_lines(pod=pod, container=container, restart=restart, tail=1)
        self.after = existing[-1].id if existing else 0
        self.exit_code: int | None = None
        self.ended = False

    def write_stdin(self, data: bytes) -> None:
        return None

    def close_stdin(self) -> None:
        return None

    def resize(self, width: int, height: int) -> None:
        return None

    def terminate(self) -> None:
        self.ended = True

    def read_output(self, timeout: float) -> tuple[int, bytes] | None:
        if self.ended:
            return STDOUT, b""
        lines = logs.log_lines(pod=self.pod, container=self.container, restart=self.restart, after_id=self.after)
        if lines:
            self.after = lines[-1].id
            return STDOUT, "".join(logs.format_line(line, False) for line in lines).encode()
        if not self._running():
            self.ended = True
            return STDOUT, b""
        logs.log_sync_request(sandbox=self.sandbox, pod=self.pod)
        time.sleep(min(timeout, self.POLL_SECONDS))
        return None

    def _running(self) -> bool:
        meta = self.pod["metadata"]
        try:
            current = store.object_get(
                sandbox=self.sandbox, resource=PODS, namespace=meta["namespace"], name=meta["name"]
            )
        except errors.NotFound:
            return False
        status = logs.container_status(current, self.container)
        state = status.get("state", {})
        if current["metadata"]["uid"] != meta["uid"] or status.get("restartCount", 0) != self.restart:
            return False
        if "terminated" in state:
            self.exit_code = state["terminated"].get("exitCode")
            return False
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        return self.exit_code if self.ended else None
