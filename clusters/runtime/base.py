"""The contract between a kubelet and a container runtime (the CRI of this project, much smaller).

A runtime runs pods for one sandbox's node. It is told what to do — ensure a pod's sandbox (the
network namespace every container of the pod shares), pull an image, start or stop a container,
kill one as a crash would (a fault the learner asks for) — and it reports what is: the observed
state of every container it runs. It never decides anything; the kubelet's planner does, from
the pod specs and these observations.

Two implementations pass the same contract suite: DockerRuntime (real containers) and
SimulatedRuntime (the lifecycle as data, driven by a clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class RuntimeError_(Exception):
    """A runtime operation failed in a way the kubelet should report and retry."""


class ContainerNotRunning(RuntimeError_):
    """exec or attach asked for a container that has no running run: upstream's
    `container not found ("web")` / `cannot exec into a container in a completed pod`."""


class ContainerConfigError(RuntimeError_):
    """A container cannot be made as its spec says, e.g. its env names a ConfigMap that does not
    exist: upstream's CreateContainerConfigError, retried until the reference resolves."""


@dataclass(frozen=True)
class PodRef:
    sandbox: str  # the sandbox uid (hex)
    namespace: str
    name: str
    uid: str
    node: str = ""  # the node the pod is bound to: one Docker engine runs the containers of many nodes


@dataclass(frozen=True)
class PullResult:
    ok: bool
    # "" when ok; "ErrImagePull" when the image is neither local nor pullable; "ErrImageNeverPull"
    # when the policy is Never and the image is not present.
    reason: str = ""
    message: str = ""  # as the kubelet would print it, e.g. 'pull access denied for nginxx, repository does not exist'
    pulled: bool = False  # True when the image was fetched now; False when it was already present
    size: int = 0  # bytes, for the kubelet's "Successfully pulled image … Image size: N bytes." Event
    seconds: float = 0.0  # how long the pull took


@dataclass(frozen=True)
class ContainerObservation:
    """What the runtime sees of one run of one container."""

    pod_uid: str
    name: str
    restart: int  # which run of this container (0 for the first, then its restartCount)
    state: str  # "running" or "exited" ("created" only briefly, between create and start)
    image: str
    image_id: str = ""
    container_id: str = ""  # "docker://<id>" or "simulated://<id>"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    reason: str = ""  # for exited: "Completed" (exit 0), "Error", "OOMKilled", "StartError"
    message: str = ""  # for exited: the termination message, if any
    # When the runtime knows this run's state will next change (the simulated runtime does; Docker
    # leaves it None and the kubelet polls). The planner wakes up then instead of guessing.
    changes_at: datetime | None = None


@dataclass(frozen=True)
class ContainerUsage:
    """What one running container has used, measured at `at`, as the kubelet's resource metrics
    report it (cAdvisor's numbers): the CPU time used since the run started, which a reader turns
    into a rate between two samples, and the memory working set (what the kernel could not
    reclaim at once: usage less inactive file pages), which is what limits and `kubectl top` mean."""

    pod_uid: str
    name: str
    restart: int
    at: datetime
    cpu_nanoseconds: int  # cumulative since the run started: nanocore-seconds
    memory_bytes: int  # the working set now
    started_at: datetime | None = None


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    message: str = ""


@dataclass(frozen=True)
class VolumeSpec:
    """A pod volume as the runtime mounts it: emptyDir (per pod), persistent (survives the pod,
    keyed by the claim's uid), or files (ConfigMap/Secret contents, path → text)."""

    name: str
    kind: str  # "emptyDir", "persistent", "files"
    key: str = ""  # for persistent: a stable id (the PVC uid)
    files: dict[str, str] = field(default_factory=dict)
    read_only: bool = False


STDOUT = 1  # the stream numbers of the channel protocol (0 is stdin, 3 the error/status channel)
STDERR = 2


class ExecProcess(Protocol):
    """A process started by exec (or the main process joined by attach) inside a running container.

    Blocking calls: the API's stream handler drives it from worker threads, never from the event
    loop. With a TTY, stdout and stderr are one stream (STDOUT) as on a terminal."""

    def write_stdin(self, data: bytes) -> None:
        """Feed bytes to the process's standard input (ignored once stdin is closed)."""

    def close_stdin(self) -> None:
        """End of input: the process reads EOF, as `kubectl exec -i … < file` does at its end."""

    def read_output(self, timeout: float) -> tuple[int, bytes] | None:
        """The next chunk of output as (STDOUT or STDERR, bytes); None when nothing came within
        `timeout` seconds; (STDOUT, b"") once all output has been read and the process ended."""

    def resize(self, width: int, height: int) -> None:
        """The terminal's new size in columns and rows (TTY only; ignored otherwise)."""

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code once the process has ended; None if it is still running after `timeout`."""

    def terminate(self) -> None:
        """The client went away: end the process (SIGKILL on Docker). Idempotent."""


class PortConnection(Protocol):
    """A TCP connection to a port of a pod, for `kubectl port-forward` (blocking calls)."""

    def sendall(self, data: bytes) -> None: ...

    def recv(self, size: int) -> bytes:
        """Up to `size` bytes; b"" once the pod's side has closed."""

    def shutdown_write(self) -> None:
        """The client has nothing more to send (its half-close)."""

    def close(self) -> None: ...


class Runtime(Protocol):
    kind: str  # "docker" or "simulated"

    def pod_sandbox_ensure(
        self, pod: PodRef, *, hostname: str, volumes: list[VolumeSpec], subdomain: str = "", ports: tuple = ()
    ) -> str:
        """Make the pod's network namespace (and volumes) exist; return the pod IP. Idempotent.
        `subdomain` (spec.subdomain) gives the pod its stable DNS name under a headless Service;
        `ports` (the containers' port dicts) are published where they name a hostPort."""

    def image_pull(self, image: str, *, policy: str) -> PullResult:
        """Make `image` available under `policy` (Always, IfNotPresent, Never)."""

    def container_start(
        self, pod: PodRef, container: dict, *, restart: int, env: dict[str, str], volumes: list[VolumeSpec]
    ) -> ContainerObservation:
        """Create and start run number `restart` of a container spec (a pod spec's container dict)."""

    def container_stop(self, pod: PodRef, name: str, *, grace_seconds: int) -> None:
        """SIGTERM, then SIGKILL after the grace period. Idempotent."""

    def container_kill(self, pod: PodRef, name: str) -> None:
        """SIGKILL the running run of a container at once, from outside, as a crash would: it exits
        with code 137 (reason "Error"), no stop was asked for, and it is the kubelet's to notice
        and restart. Returns once the run has exited. Idempotent: a
        container with no running run is left as it is."""

    def pod_remove(self, pod: PodRef) -> None:
        """Remove every container of the pod and its sandbox; keep persistent volumes."""

    def pod_containers_remove(self, pod: PodRef) -> None:
        """Remove every container of the pod and its sandbox, and keep all of its volumes, emptyDirs
        too: what a node's reboot leaves (an idle sandbox is paused this way). The next
        pod_sandbox_ensure finds the volumes again."""

    def pod_sandboxes(self, *, node: str) -> set[str]:
        """The uids of the node's pods whose sandbox is up (upstream's SANDBOX_READY). A pod the
        kubelet gave a sandbox that is not among them has lost it (removed, or its engine
        restarted): its containers are cut off, and the kubelet restarts them in a new one."""

    def observe(self, *, node: str) -> list[ContainerObservation]:
        """Every container this runtime runs for the node: the newest run of each container and, while
        the runtime keeps it, the run before (the kubelet's garbage collection keeps one dead
        instance per container; it is what `lastState` shows)."""

    def node_look(self, *, node: str) -> tuple[list[ContainerObservation], set[str]]:
        """`observe` and `pod_sandboxes` at one look, as the kubelet's passes ask for both."""

    def logs(self, pod: PodRef, name: str, *, restart: int, since: datetime | None) -> list[tuple[datetime, str]]:
        """Output lines of a container run, at or after `since`."""

    def probe(self, pod: PodRef, name: str, probe: dict) -> ProbeResult:
        """Run an exec / httpGet / tcpSocket probe (a pod spec probe dict) once."""

    def orphans_remove(self, *, node: str, known_pod_uids: set[str]) -> list[str]:
        """Remove what this runtime made for pods that no longer exist; return their uids."""

    def container_exec(self, pod: PodRef, name: str, command: list[str], *, tty: bool, stdin: bool) -> ExecProcess:
        """Start `command` (an argv, never given to a host shell) inside the running run of a
        container, with the environment and files that run has. Raises ContainerNotRunning when
        the container has no running run."""

    def port_connect(self, pod: PodRef, port: int) -> PortConnection:
        """Connect to `port` inside the pod's network namespace, as the kubelet's port-forward
        does; RuntimeError_ saying why when nothing listens there."""

    def usage(self, *, node: str, pods: list[dict]) -> list[ContainerUsage]:
        """What each running container of the node uses now (exited runs report nothing).
        `pods` are the pod objects bound to the node: Docker measures and needs none of them;
        the simulated runtime models a container's use from its spec (command, limits)."""
