"""The kubelet's planner: what one node's kubelet does next for the pods bound to it.

`plan_node` is pure. From the node, its pods (with the status last written), what the runtime
observes, the kubelet's memory and `now`, it returns runtime operations (as data), store actions
(status patches, Events, the final Delete of a pod whose containers have all stopped) and the next
moment a decision is due. The thin kubelet runs one loop:

    while True:
        plan = plan_node(node=…, pods=…, observed=runtime.observe(node=…), now=now, backoff=…, memory=memory)
        events = []
        for operation in plan.operations:
            outcome = operation_perform(runtime, operation, node=…)
            memory, more = outcome_record(memory, operation, outcome, now=now)
            events += more
        apply plan.actions, then events
        if plan.empty: break        # come back at plan.next_wakeup

The kubelet's memory is a plain JSON dict the orchestrator keeps with the node's runtime state. It
holds what upstream's kubelet keeps in memory: the pod sandboxes' IPs, image pulls and their
back-off, the crash-loop back-off of each container, probe results, and the stops it has asked
for. Only `outcome_record` writes it, from what an operation yielded; the planner only reads it.

Upstream behaviour followed (pkg/kubelet: kuberuntime_manager.go computePodActions and doBackOff,
kuberuntime_container.go computeInitContainerActions, kuberuntime_termination_order.go,
kubelet_pods.go generateAPIPodStatus and getPhase, status/generate.go, prober/, images/):
init containers in order, each to completion; native sidecars (init containers with restartPolicy
Always, KEP-753): the next init container starts once a sidecar has started (its startup probe
passed, or it runs without one), sidecars are restarted whenever they exit, their probes run and
their readiness counts for the pod, and they stop last, in reverse order, once the main containers
have exited (on deletion, or when the main containers of a Job's pod are done);
restartPolicy Always/OnFailure/Never; the crash-loop
back-off (the first restart at once, then 10 s doubling to 5 min, forgotten when two exits are more
than 10 min apart);
pulls by imagePullPolicy with ErrImagePull then ImagePullBackOff; startup, liveness and readiness
probes with their thresholds; graceful termination; the pod status exactly as upstream shapes it.

Deviations, for a tutor's sandbox: a failed pull is reported as ErrImagePull for the first half of
its back-off and as ImagePullBackOff for the second (upstream switches at its next sync); the
sandbox is torn down when the pod is deleted, not when it completes, so logs of completed pods stay
readable; a sidecar's `Killing` event is recorded when its turn to stop comes, not with the main
containers'; ephemeral containers, lifecycle hooks, and pod-level resize are not modelled.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clusters.controllers import containment
from clusters.controllers.actions import Action, Delete, Event, Patch
from clusters.controllers.pods import listed, shortened
from clusters.objects.durations import format_duration
from clusters.objects.times import format_time, parse_time
from clusters.runtime.base import (
    ContainerConfigError,
    ContainerObservation,
    PodRef,
    ProbeResult,
    PullResult,
    Runtime,
    RuntimeError_,
    VolumeSpec,
)

SOURCE = "kubelet"
SANDBOX_CHANGED = "Pod sandbox changed, it will be killed and re-created."  # upstream's words
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
PROBE_KINDS = ("startup", "liveness", "readiness")
PROBE_FIELDS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}
# A probe's result before it first runs, as upstream's prober: not ready, alive, not yet started.
PROBE_INITIAL = {"readiness": "failure", "liveness": "success", "startup": None}
STOP_SLACK = timedelta(seconds=2)  # past a grace period's end, ask again with grace 0
MINIMUM_GRACE = 2  # a sidecar whose turn comes late still gets this long (upstream's minimumGracePeriodInSeconds)


@dataclass(frozen=True)
class BackoffPolicy:
    """The crash-loop and image-pull back-off: `initial` seconds, doubling to `cap`; forgotten when
    the container ran (or the image was last tried) longer ago than twice the cap."""

    initial: float = 10.0
    cap: float = 300.0

    @property
    def reset_after(self) -> float:
        return 2 * self.cap

    def following(self, previous: float | None) -> float:
        return self.initial if previous is None else min(previous * 2, self.cap)


UPSTREAM_BACKOFF = BackoffPolicy(10.0, 300.0)
FAST_BACKOFF = BackoffPolicy(1.0, 60.0)


# ---------------------------------------------------------------------------------------------
# Operations: what the runtime is asked to do, as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnsureSandbox:
    pod: PodRef
    hostname: str
    volumes: tuple[dict, ...] = field(default=(), hash=False)  # the pod spec's volumes, for the thin layer to mount
    subdomain: str = ""
    ports: tuple[dict, ...] = field(default=(), hash=False)  # every container's ports, for hostPorts
    backoff: float = 0.0  # the back-off to wait if making the sandbox fails
    notes: tuple[str, ...] = field(default=(), hash=False)  # what the pod asks of the node and will not get


@dataclass(frozen=True)
class PullImage:
    pod: PodRef
    container: str
    image: str
    policy: str
    backoff: float  # the back-off to wait if this pull fails
    init: bool = False


@dataclass(frozen=True)
class StartContainer:
    pod: PodRef
    container: dict = field(hash=False)
    restart: int = 0
    env: dict[str, str] = field(default_factory=dict, hash=False)  # values and downward-API fields
    init: bool = False
    backoff: float | None = None  # the crash-loop back-off from this start on (None for a first start)
    backoff_since: datetime | None = None  # when the run this one replaces finished


@dataclass(frozen=True)
class StopContainer:
    pod: PodRef
    name: str
    restart: int
    grace: int


@dataclass(frozen=True)
class RunProbe:
    pod: PodRef
    container: str
    restart: int
    kind: str  # "startup", "liveness", "readiness"
    probe: dict = field(hash=False)
    init: bool = False  # a sidecar's probe: its events name spec.initContainers


@dataclass(frozen=True)
class RemovePod:
    pod: PodRef


@dataclass(frozen=True)
class RemoveOrphans:
    known: frozenset[str]  # uids of the pods bound to the node; the runtime removes everything else


Operation = EnsureSandbox | PullImage | StartContainer | StopContainer | RunProbe | RemovePod | RemoveOrphans


@dataclass(frozen=True)
class NodePlan:
    operations: tuple[Operation, ...] = ()
    actions: tuple[Action, ...] = ()
    next_wakeup: datetime | None = None
    busy: frozenset[str] = frozenset()  # uids of the pods that have operations or actions
    quiet_wakeup: datetime | None = None  # the next wake-up of the pods that are not busy

    @property
    def empty(self) -> bool:
        return not self.operations and not self.actions


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


# The last state upstream's kubelet gives a container that was running and that the runtime no
# longer has (convertToAPIContainerStatuses).
LOST_RUNNING = {
    "exitCode": 137,
    "reason": "ContainerStatusUnknown",
    "message": "The container could not be located when the pod was deleted.  The container used to be Running",
}


def _go_list(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def is_sidecar(container: dict) -> bool:
    """A native sidecar: an init container with `restartPolicy: Always` (upstream's
    `IsRestartableInitContainer`); it keeps running beside the main containers."""
    return container.get("restartPolicy") == "Always"


def _pod_format(pod: PodRef) -> str:
    """`format.Pod`: name_namespace(uid)."""
    return f"{pod.name}_{pod.namespace}({pod.uid})"


def _involved(pod: PodRef, container: str | None = None, *, init: bool = False) -> dict:
    involved = {"apiVersion": "v1", "kind": "Pod", "namespace": pod.namespace, "name": pod.name, "uid": pod.uid}
    if container:
        involved["fieldPath"] = f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
    return involved


def _event(pod: PodRef, container: str | None, reason: str, message: str, kind="Normal", *, init=False) -> Event:
    return Event(_involved(pod, container, init=init), reason, message, kind, SOURCE)


def _key(uid: str, container: str) -> str:
    return f"{uid}/{container}"


def _section(memory: dict, name: str) -> dict:
    return memory.get(name, {})


def _probe_record(memory: dict, uid: str, container: str, kind: str, restart: int) -> dict | None:
    record = _section(memory, "probes").get(f"{uid}/{container}/{kind}")
    return record if record and record.get("restart") == restart else None


# ---------------------------------------------------------------------------------------------
# Recording what an operation yielded
# ---------------------------------------------------------------------------------------------


def operation_perform(runtime: Runtime, operation: Operation, *, node: str, volumes: list[VolumeSpec] = ()):
    """The thin half: one runtime call per operation. Returns what the runtime answered, or the
    RuntimeError_ it raised (so that `outcome_record` can report it)."""
    try:
        match operation:
            case EnsureSandbox():
                return runtime.pod_sandbox_ensure(
                    operation.pod,
                    hostname=operation.hostname,
                    volumes=list(volumes),
                    subdomain=operation.subdomain,
                    ports=operation.ports,
                )
            case PullImage():
                return runtime.image_pull(operation.image, policy=operation.policy)
            case StartContainer():
                return runtime.container_start(
                    operation.pod,
                    operation.container,
                    restart=operation.restart,
                    env=operation.env,
                    volumes=list(volumes),
                )
            case StopContainer():
                return runtime.container_stop(operation.pod, operation.name, grace_seconds=operation.grace)
            case RunProbe():
                return runtime.probe(operation.pod, operation.container, operation.probe)
            case RemovePod():
                return runtime.pod_remove(operation.pod)
            case RemoveOrphans():
                return runtime.orphans_remove(node=node, known_pod_uids=set(operation.known))
    except RuntimeError_ as error:
        return error
    raise TypeError(f"not an operation: {operation!r}")


def operations_perform(operations, perform) -> Iterator[tuple[Operation, object]]:
    """Each operation with what `perform` answered, in order; a pod whose sandbox could not be
    made gets none of its other operations this pass (upstream's SyncPod stops there too), and a
    container whose image could not be pulled is not started."""
    no_sandbox: set[str] = set()
    not_pulled: set[tuple[str, str]] = set()  # (pod uid, container)
    for operation in operations:
        pod = getattr(operation, "pod", None)
        if pod is not None and pod.uid in no_sandbox:
            continue
        if isinstance(operation, StartContainer) and (operation.pod.uid, operation.container["name"]) in not_pulled:
            continue
        outcome = perform(operation)
        if isinstance(operation, EnsureSandbox) and isinstance(outcome, RuntimeError_):
            no_sandbox.add(operation.pod.uid)
        if isinstance(operation, PullImage) and not (isinstance(outcome, PullResult) and outcome.ok):
            not_pulled.add((operation.pod.uid, operation.container))
        yield operation, outcome


def outcome_record(memory: dict | None, operation: Operation, outcome: object, *, now: datetime):
    """Fold what an operation yielded into the kubelet's memory; return the new memory and the
    Events upstream's kubelet records at that moment."""
    memory = copy.deepcopy(memory or {})
    match operation:
        case EnsureSandbox(pod=pod):
            failures = memory.setdefault("sandbox_failures", {})
            if isinstance(outcome, RuntimeError_):
                failures[pod.uid] = {"at": now.isoformat(), "backoff": operation.backoff}
                return memory, [
                    _event(pod, None, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {outcome}", "Warning")
                ]
            failures.pop(pod.uid, None)
            memory.setdefault("sandboxes", {})[pod.uid] = outcome
            if operation.notes:
                message = containment.host_access_message(list(operation.notes))
                return memory, [_event(pod, None, containment.REASON, message, "Warning")]
            return memory, []
        case PullImage():
            return _pull_recorded(memory, operation, outcome, now)
        case StartContainer():
            return _start_recorded(memory, operation, outcome, now)
        case StopContainer(pod=pod, name=name):
            if not isinstance(outcome, RuntimeError_):
                stop = {"restart": operation.restart, "at": now.isoformat(), "grace": operation.grace}
                memory.setdefault("stops", {})[_key(pod.uid, name)] = stop
            return memory, []
        case RunProbe():
            return _probe_recorded(memory, operation, outcome, now)
        case RemovePod(pod=pod):
            return _forget(memory, lambda uid: uid == pod.uid), []
        case RemoveOrphans(known=known):
            return _forget(memory, lambda uid: uid not in known), []
    raise TypeError(f"not an operation: {operation!r}")


def _forget(memory: dict, doomed) -> dict:
    """Drop every entry of the pods `doomed` says are gone (entries are keyed "<pod uid>/…")."""
    for name, section in memory.items():
        if isinstance(section, dict):
            memory[name] = {key: value for key, value in section.items() if not doomed(key.split("/", 1)[0])}
    return memory


def _pull_recorded(memory: dict, op: PullImage, outcome: object, now: datetime):
    pulls = memory.setdefault("pulls", {})
    key, image = _key(op.pod.uid, op.container), op.image

    def event(reason, message, kind="Normal"):
        return _event(op.pod, op.container, reason, message, kind, init=op.init)

    if isinstance(outcome, RuntimeError_):
        outcome = PullResult(False, "ErrImagePull", str(outcome))
    assert isinstance(outcome, PullResult)
    if outcome.ok:
        pulls[key] = {"image": image, "ok": True, "at": now.isoformat()}
        if not outcome.pulled:
            present = f'Container image "{image}" already present on machine and can be accessed by the pod'
            return memory, [event("Pulled", present)]
        took = format_duration(round(outcome.seconds, 3))
        pulled = (
            f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
            f"Image size: {outcome.size} bytes."
        )
        return memory, [event("Pulling", f'Pulling image "{image}"'), event("Pulled", pulled)]
    pulls[key] = {
        "image": image,
        "ok": False,
        "at": now.isoformat(),
        "backoff": op.backoff,
        "reason": outcome.reason or "ErrImagePull",
        "message": outcome.message,
    }
    if outcome.reason == "ErrImageNeverPull":
        return memory, [
            event("ErrImageNeverPull", outcome.message, "Warning"),
            event("Failed", "Error: ErrImageNeverPull", "Warning"),
        ]
    return memory, [
        event("Pulling", f'Pulling image "{image}"'),
        event("Failed", f'Failed to pull image "{image}": {outcome.message}', "Warning"),
        event("Failed", "Error: ErrImagePull", "Warning"),
    ]


def _start_recorded(memory: dict, op: StartContainer, outcome: object, now: datetime):
    name = op.container["name"]
    key = _key(op.pod.uid, name)
    config_errors = memory.setdefault("config_errors", {})
    if isinstance(outcome, ContainerConfigError):
        config_errors[key] = {"at": now.isoformat(), "message": str(outcome)}
        return memory, [_event(op.pod, name, "Failed", f"Error: {outcome}", "Warning", init=op.init)]
    config_errors.pop(key, None)
    if isinstance(outcome, RuntimeError_):
        # Most likely the sandbox is gone (the runtime restarted): forget it so it is made again.
        memory.get("sandboxes", {}).pop(op.pod.uid, None)
        return memory, [_event(op.pod, name, "Failed", f"Error: {outcome}", "Warning", init=op.init)]
    memory.get("pulls", {}).pop(key, None)  # the next start of this container checks its image again
    if op.backoff is not None and op.backoff_since is not None:
        memory.setdefault("restarts", {})[key] = {"backoff": op.backoff, "since": op.backoff_since.isoformat()}
    events = [_event(op.pod, name, "Created", f"Created container: {name}", init=op.init)]
    if isinstance(outcome, ContainerObservation) and outcome.reason == "StartError":
        events.append(_event(op.pod, name, "Failed", f"Error: {outcome.message}", "Warning", init=op.init))
    else:
        events.append(_event(op.pod, name, "Started", f"Started container {name}", init=op.init))
    return memory, events


def _probe_recorded(memory: dict, op: RunProbe, outcome: object, now: datetime):
    if isinstance(outcome, RuntimeError_):
        outcome = ProbeResult(False, str(outcome))
    assert isinstance(outcome, ProbeResult)
    probes = memory.setdefault("probes", {})
    key = f"{op.pod.uid}/{op.container}/{op.kind}"
    record = _probe_record(memory, op.pod.uid, op.container, op.kind, op.restart)
    record = record or {"restart": op.restart, "result": PROBE_INITIAL[op.kind], "last": None, "streak": 0}
    raw = "success" if outcome.success else "failure"
    streak = record["streak"] + 1 if record["last"] == raw else 1
    threshold = op.probe.get("successThreshold" if outcome.success else "failureThreshold") or (
        1 if outcome.success else 3
    )
    # The result flips only after `threshold` results in a row, as the prober's worker does.
    result = raw if streak >= threshold else record["result"]
    probes[key] = {**record, "at": now.isoformat(), "last": raw, "streak": streak, "result": result}
    if outcome.success:
        return memory, []
    message = f"{op.kind.capitalize()} probe failed: {outcome.message}"
    return memory, [_event(op.pod, op.container, "Unhealthy", message, "Warning", init=op.init)]


# ---------------------------------------------------------------------------------------------
# The pod sync
# ---------------------------------------------------------------------------------------------


@dataclass
class _Context:
    now: datetime
    backoff: BackoffPolicy
    memory: dict
    runs: dict[tuple[str, str], list[ContainerObservation]]
    host_ip: str
    sandbox: str
    node: str
    sandboxes: frozenset[str] | None  # the pods whose sandbox the runtime has up; None: not asked


class _PodSync:
    """One pod's sync: the operations it needs, the status it has now, the events of the change."""

    def __init__(self, pod: dict, context: _Context) -> None:
        self.pod, self.ctx, self.now = pod, context, context.now
        metadata, self.spec = pod["metadata"], pod["spec"]
        self.uid = metadata["uid"]
        self.ref = PodRef(context.sandbox, metadata.get("namespace", ""), metadata["name"], self.uid, context.node)
        self.old = pod.get("status", {}) or {}
        self.ip = _section(context.memory, "sandboxes").get(self.uid)
        self.operations: list[Operation] = []
        self.actions: list[Action] = []
        self.wakeups: list[datetime] = []
        self.waiting: dict[str, dict] = {}  # container name → the waiting state to show instead
        self.ready: dict[str, bool] = {}
        self.started: dict[str, bool] = {}

    # -- the shape of the pod -----------------------------------------------------------------

    @property
    def init_containers(self) -> list[dict]:
        return self.spec.get("initContainers", [])

    @property
    def containers(self) -> list[dict]:
        return self.spec.get("containers", [])

    def runs(self, name: str) -> list[ContainerObservation]:
        return self.ctx.runs.get((self.uid, name), [])

    def newest(self, name: str) -> ContainerObservation | None:
        runs = self.runs(name)
        return runs[0] if runs else None

    def old_status(self, name: str, *, init: bool) -> dict | None:
        statuses = self.old.get("initContainerStatuses" if init else "containerStatuses", [])
        return next((s for s in statuses if s.get("name") == name), None)

    def event(self, container: str | None, reason: str, message: str, kind="Normal", *, init=False) -> None:
        self.actions.append(_event(self.ref, container, reason, message, kind, init=init))

    def wake(self, moment: datetime | None) -> None:
        if moment is not None and moment > self.now:
            self.wakeups.append(moment)

    # -- planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        for name in [c["name"] for c in self.init_containers + self.containers]:
            for run in self.runs(name)[:1]:
                self.wake(run.changes_at)
        if self.pod["metadata"].get("deletionTimestamp"):
            self.terminate()
            return
        terminal = self.old.get("phase") in ("Succeeded", "Failed")
        if terminal:
            self.stop_containers(self.pod_grace())  # sidecars left by an init container that failed for good
        else:
            self.sync()
        self.status_write(terminal=terminal)

    def sync(self) -> None:
        # Upstream's computePodActions: a sandbox that is gone or not ready is made again only for
        # containers that will start in it; those cut off in the old one are started again there.
        lost = self.sandbox_lost()
        if lost:
            self.ip = None
        if self.main_containers_done() or (lost and self.never_restarts_after_running()):
            # Upstream's KillPod: nothing will run again, so what still runs stops (a Job's pod completes).
            self.stop_containers(self.pod_grace())
            return
        if lost and self.uid not in _section(self.ctx.memory, "sandbox_failures"):
            self.event(None, "SandboxChanged", SANDBOX_CHANGED)
        if self.ip is None:
            self.sandbox_ensure()
        if self.sync_init_containers():
            for container in self.containers:
                self.sync_container(container)

    def sandbox_lost(self) -> bool:
        """The kubelet gave the pod a sandbox, and the runtime no longer has it up."""
        return self.ip is not None and self.ctx.sandboxes is not None and self.uid not in self.ctx.sandboxes

    def never_restarts_after_running(self) -> bool:
        """restartPolicy Never, and a container has run: no new sandbox would have work to do."""
        names = [c["name"] for c in self.init_containers + self.containers]
        return self.spec.get("restartPolicy", "Always") == "Never" and any(self.runs(name) for name in names)

    def main_containers_done(self) -> bool:
        """Every main container has exited and none will be restarted."""
        runs = [self.newest(c["name"]) for c in self.containers]
        return all(run is not None and run.state == "exited" and not self.restarts(run) for run in runs)

    def pod_grace(self) -> int:
        grace = self.pod["metadata"].get("deletionGracePeriodSeconds")
        return self.spec.get("terminationGracePeriodSeconds", 30) if grace is None else grace

    def sandbox_ensure(self) -> None:
        """Ask for the pod's sandbox; after a failure, again once its back-off is over (the pod
        stays ContainerCreating meanwhile, as upstream's does after FailedCreatePodSandBox)."""
        failure = _section(self.ctx.memory, "sandbox_failures").get(self.uid)
        if failure is not None:
            retry_at = parse_time(failure["at"]) + timedelta(seconds=failure["backoff"])
            if self.now < retry_at:
                self.wake(retry_at)
                return
        hostname = self.spec.get("hostname") or self.pod["metadata"]["name"][:63]
        ports = tuple(port for container in self.containers for port in container.get("ports", []))
        volumes = tuple(self.spec.get("volumes", []))
        backoff = self.ctx.backoff.following(failure["backoff"] if failure else None)
        self.operations.append(
            EnsureSandbox(
                self.ref,
                hostname,
                volumes,
                self.spec.get("subdomain", ""),
                ports,
                backoff,
                tuple(containment.host_access_notes(self.spec)),
            )
        )

    def sync_init_containers(self) -> bool:
        """Init containers in order (upstream's computeInitContainerActions): a regular one runs to
        completion, a sidecar only has to start before the next one starts, and sidecars are kept
        running from then on. True once the pod is initialized."""
        # Whether a later container has run: the ones before it were done with then (the runtime
        # may no longer have a completed init container's runs), and only sidecars need care.
        ran_later, later = [], any(self.runs(c["name"]) for c in self.containers)
        for container in reversed(self.init_containers):
            ran_later.insert(0, later)
            later = later or bool(self.runs(container["name"]))
        for container, initialized_before in zip(self.init_containers, ran_later, strict=True):
            if is_sidecar(container):
                if not self.sync_sidecar(container) and not initialized_before:
                    return False
                continue
            run = self.newest(container["name"])
            if initialized_before or (run and run.state == "exited" and run.exit_code == 0):
                continue
            if run is None:
                self.start(container, restart=self.next_restart(container, init=True), init=True)
            elif run.state == "exited" and self.spec.get("restartPolicy") != "Never":
                self.restart_after_exit(container, run, init=True)
            return False  # running, restarting, or failed for good (the phase says Failed)
        return True

    def sync_sidecar(self, container: dict) -> bool:
        """Keep a sidecar running, whatever the pod's restartPolicy (with the crash-loop back-off),
        and follow its probes; whether it has started."""
        run = self.newest(container["name"])
        if run is None:
            self.start(container, restart=self.next_restart(container, init=True), init=True)
            return False
        if run.state == "exited":
            self.restart_after_exit(container, run, init=True)
            return False
        self.follow_probes(container, run, init=True)
        return run.state == "running" and self.started[container["name"]]

    def sync_container(self, container: dict) -> None:
        run = self.newest(container["name"])
        if run is None:
            self.start(container, restart=self.next_restart(container, init=False), init=False)
        elif run.state != "exited":
            self.follow_probes(container, run)
        elif self.restarts(run):
            self.restart_after_exit(container, run, init=False)

    def restarts(self, run: ContainerObservation) -> bool:
        policy = self.spec.get("restartPolicy", "Always")
        return policy == "Always" or (policy == "OnFailure" and run.exit_code != 0)

    def next_restart(self, container: dict, *, init: bool) -> int:
        """The run number for a container the runtime has no run of: 0, or past what the status
        says ran before (the runtime lost it, as after a node restart). A running container
        found lost was counted as restarted already (unstarted_status)."""
        old = self.old_status(container["name"], init=init)
        if old and not old.get("containerID") and old.get("lastState", {}).get("terminated") == LOST_RUNNING:
            return old.get("restartCount", 0)
        if old and (old.get("containerID") or old.get("lastState", {}).get("terminated")):
            return old.get("restartCount", 0) + 1
        return 0

    # -- starting: pull, then create and start -------------------------------------------------

    def start(
        self,
        container: dict,
        *,
        restart: int,
        init: bool,
        backoff: float | None = None,
        since: datetime | None = None,
    ) -> None:
        name, image = container["name"], container.get("image", "")
        policy = self.ctx.backoff
        pull = _section(self.ctx.memory, "pulls").get(_key(self.uid, name))
        if pull and pull.get("image") != image:
            pull = None
        # The sandbox, the pull and the start come in one pass, as upstream's SyncPod does them in
        # one go: the start is skipped when the sandbox or the pull fails (operations_perform).
        # A container whose variables need the pod's IP waits for the sandbox's answer.
        sandbox_coming = any(isinstance(op, EnsureSandbox) for op in self.operations)
        if self.ip is None and not sandbox_coming:
            return
        if pull is None:
            op = PullImage(
                self.ref, name, image, container.get("imagePullPolicy", "IfNotPresent"), policy.initial, init
            )
            self.operations.append(op)
            if self.ip is None and self.env_needs_ip(container):
                return
            pull = {"image": image, "ok": True}  # the start goes ahead if the pull does
        if pull["ok"]:
            config_error = _section(self.ctx.memory, "config_errors").get(_key(self.uid, name))
            if config_error is not None:
                # Upstream's pod worker tries again at its next sync; here after the first back-off.
                retry_at = parse_time(config_error["at"]) + timedelta(seconds=policy.initial)
                self.waiting[name] = {"reason": "CreateContainerConfigError", "message": config_error["message"]}
                if self.now < retry_at:
                    self.wake(retry_at)
                    return
            env = self.container_env(container)
            self.operations.append(StartContainer(self.ref, container, restart, env, init, backoff, since))
            return
        failed_at, delay = parse_time(pull["at"]), pull["backoff"]
        if self.now >= failed_at + timedelta(seconds=delay):
            # Back-off over: try again; the status keeps saying ImagePullBackOff meanwhile.
            expired = (self.now - failed_at).total_seconds() > policy.reset_after
            retry = policy.following(None if expired else delay)
            pull_policy = container.get("imagePullPolicy", "IfNotPresent")
            self.operations.append(PullImage(self.ref, name, image, pull_policy, retry, init))
            self.waiting[name] = self.pull_waiting(image, pull, backing_off=True)
            return
        half = failed_at + timedelta(seconds=delay / 2)
        self.waiting[name] = self.pull_waiting(image, pull, backing_off=self.now >= half)
        self.wake(half)
        self.wake(failed_at + timedelta(seconds=delay))

    @staticmethod
    def pull_waiting(image: str, pull: dict, *, backing_off: bool) -> dict:
        """ErrImagePull (the attempt's own error) first, then ImagePullBackOff wrapping it."""
        if not backing_off or pull["reason"] == "ErrImageNeverPull":
            return {"reason": pull["reason"], "message": pull["message"]}
        message = f'Back-off pulling image "{image}": {pull["reason"]}: {pull["message"]}'
        return {"reason": "ImagePullBackOff", "message": message}

    def restart_after_exit(self, container: dict, run: ContainerObservation, *, init: bool) -> None:
        """Restart at once, or wait out the crash-loop back-off (upstream's doBackOff)."""
        policy = self.ctx.backoff
        name = container["name"]
        entry = _section(self.ctx.memory, "restarts").get(_key(self.uid, name))
        finished = run.finished_at or self.now
        expired = entry is not None and (finished - parse_time(entry["since"])).total_seconds() > policy.reset_after
        if entry is not None and not expired and self.now < finished + timedelta(seconds=entry["backoff"]):
            if self.exit_shown(name, run, init=init):
                message = (
                    f"back-off {format_duration(entry['backoff'])} restarting failed container={name} "
                    f"pod={_pod_format(self.ref)}"
                )
                self.waiting[name] = {"reason": "CrashLoopBackOff", "message": message}
            self.wake(finished + timedelta(seconds=entry["backoff"]))
            return
        backoff = policy.following(None if entry is None or expired else entry["backoff"])
        old = self.old_status(name, init=init) or {}
        old_waiting = old.get("state", {}).get("waiting", {})
        if old_waiting.get("reason") == "CrashLoopBackOff" and old.get("restartCount") == run.restart:
            self.waiting[name] = dict(old_waiting)  # still what it says until the new run is seen
        self.start(container, restart=run.restart + 1, init=init, backoff=backoff, since=finished)

    def exit_shown(self, name: str, run: ContainerObservation, *, init: bool) -> bool:
        """Whether the status already shows this run's exit: the kubelet reports an exit first and
        the back-off on its next sync (upstream's reason cache lags one sync behind)."""
        old = self.old_status(name, init=init)
        if not old or old.get("restartCount") != run.restart:
            return False
        state = old.get("state", {})
        terminated = state.get("terminated", {})
        crash_loop = state.get("waiting", {}).get("reason") == "CrashLoopBackOff"
        return crash_loop or terminated.get("containerID") == run.container_id

    def container_env(self, container: dict) -> dict[str, str]:
        """Literal values and downward-API fields; ConfigMap and Secret references are the thin layer's."""
        env: dict[str, str] = {}
        for var in container.get("env", []):
            if "value" in var:
                value = var["value"]
                for name, known in env.items():
                    value = value.replace(f"$({name})", known)
                env[var["name"]] = value
            elif field_ref := var.get("valueFrom", {}).get("fieldRef"):
                value = self.field_value(field_ref.get("fieldPath", ""))
                if value is not None:
                    env[var["name"]] = value
        return env

    @staticmethod
    def env_needs_ip(container: dict) -> bool:
        return any(
            var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") in ("status.podIP", "status.podIPs")
            for var in container.get("env", [])
        )

    def field_value(self, path: str) -> str | None:
        metadata = self.pod["metadata"]
        simple = {
            "metadata.name": metadata.get("name"),
            "metadata.namespace": metadata.get("namespace"),
            "metadata.uid": metadata.get("uid"),
            "spec.nodeName": self.spec.get("nodeName"),
            "spec.serviceAccountName": self.spec.get("serviceAccountName"),
            "status.podIP": self.ip,
            "status.podIPs": self.ip,
            "status.hostIP": self.ctx.host_ip,
            "status.hostIPs": self.ctx.host_ip,
        }
        if path in simple:
            return simple[path] or ""
        for prefix, source in (("metadata.labels", "labels"), ("metadata.annotations", "annotations")):
            if path.startswith(prefix + "['") and path.endswith("']"):
                return metadata.get(source, {}).get(path[len(prefix) + 2 : -2], "")
        return None

    # -- probes -------------------------------------------------------------------------------

    def follow_probes(
        self, container: dict, run: ContainerObservation, *, probing: bool = True, init: bool = False
    ) -> None:
        """Startup first; then liveness (a failure kills the container) and readiness. With
        `probing` off (a pod being deleted) the last results hold and nothing new is run. `init`
        for a sidecar, whose probes work as a main container's."""
        name = container["name"]
        stop = _section(self.ctx.memory, "stops").get(_key(self.uid, name))
        probing = probing and not (stop and stop["restart"] == run.restart)  # not while being killed
        started = True
        if container.get("startupProbe"):
            result = self.probe_result(container, run, "startup")
            started = result == "success"
            if result == "failure" and probing:
                self.kill(container, run, "startup", init=init)
                probing = False
            elif not started and probing:
                self.probe_when_due(container, run, "startup", init=init)
        ready = started
        if started and container.get("livenessProbe") and probing:
            if self.probe_result(container, run, "liveness") == "failure":
                self.kill(container, run, "liveness", init=init)
                probing = False
            else:
                self.probe_when_due(container, run, "liveness", init=init)
        if started and container.get("readinessProbe"):
            ready = self.probe_result(container, run, "readiness") == "success"
            if probing:
                self.probe_when_due(container, run, "readiness", init=init)
        self.started[name] = started
        self.ready[name] = ready and run.state == "running"

    def probe_result(self, container: dict, run: ContainerObservation, kind: str) -> str | None:
        record = _probe_record(self.ctx.memory, self.uid, container["name"], kind, run.restart)
        return record["result"] if record else PROBE_INITIAL[kind]

    def probe_when_due(self, container: dict, run: ContainerObservation, kind: str, *, init: bool = False) -> None:
        probe = container[PROBE_FIELDS[kind]]
        record = _probe_record(self.ctx.memory, self.uid, container["name"], kind, run.restart)
        if record:
            due = parse_time(record["at"]) + timedelta(seconds=probe.get("periodSeconds") or 10)
        else:
            due = (run.started_at or self.now) + timedelta(seconds=probe.get("initialDelaySeconds") or 0)
        if due <= self.now:
            self.operations.append(RunProbe(self.ref, container["name"], run.restart, kind, probe, init))
        else:
            self.wake(due)

    def kill(self, container: dict, run: ContainerObservation, kind: str, *, init: bool = False) -> None:
        """A failed liveness or startup probe: stop the container so that it is restarted."""
        probe = container[PROBE_FIELDS[kind]]
        grace = probe.get("terminationGracePeriodSeconds")
        grace = self.spec.get("terminationGracePeriodSeconds", 30) if grace is None else grace
        self.operations.append(StopContainer(self.ref, container["name"], run.restart, grace))
        if init:  # upstream words a sidecar's kill without the promise
            message = f"Init container {container['name']} failed {kind} probe"
        else:
            message = f"Container {container['name']} failed {kind} probe, will be restarted"
        self.event(container["name"], "Killing", message, init=init)

    # -- termination --------------------------------------------------------------------------

    def terminate(self) -> None:
        """Stop every container with the pod's grace period; once all have stopped, write the final
        status, remove the sandbox and delete the pod for good."""
        if self.stop_containers(self.pod_grace()):
            self.status_write(terminal=False)
            return
        self.status_write(terminal=True)
        self.operations.append(RemovePod(self.ref))
        why = f"pod {self.ref.name} is being deleted and its containers have stopped: removing it for good"
        self.actions.append(
            Delete("v1", "Pod", self.ref.namespace, self.ref.name, uid=self.uid, grace_period=0, why=why)
        )

    def stop_containers(self, grace: int) -> bool:
        """Stop what still runs, as upstream's killPodWithSyncResult and its terminationOrdering:
        main and regular init containers at once; each sidecar, last one first, once every main
        container and every later sidecar has exited or the grace period is over, with what is left
        of it (at least MINIMUM_GRACE). Whether anything still runs."""
        runs = {c["name"]: self.newest(c["name"]) for c in self.init_containers + self.containers}
        alive = {name for name, run in runs.items() if run is not None and run.state != "exited"}
        for container, init in [(c, True) for c in self.init_containers if not is_sidecar(c)] + [
            (c, False) for c in self.containers
        ]:
            if container["name"] in alive:
                run = runs[container["name"]]
                if not init:
                    self.follow_probes(container, run, probing=False)
                self.stop(run, grace, init=init)
        deadline = self.termination_start() + timedelta(seconds=grace)
        ahead = any(c["name"] in alive for c in self.containers)
        for container in reversed([c for c in self.init_containers if is_sidecar(c)]):
            if container["name"] not in alive:
                continue
            run = runs[container["name"]]
            self.follow_probes(container, run, probing=False, init=True)
            if ahead and self.now < deadline:
                self.wake(deadline)  # its turn comes when those ahead have exited, or then
            else:
                left = math.ceil((deadline - self.now).total_seconds())
                self.stop(run, max(left, MINIMUM_GRACE) if grace > 0 else 0, init=True)
            ahead = True
        return bool(alive)

    def termination_start(self) -> datetime:
        """When the pod's grace period began: its deletion, or else the first stop of a sidecar (the
        main containers of a Job's pod are done)."""
        metadata = self.pod["metadata"]
        if metadata.get("deletionTimestamp"):
            grace = timedelta(seconds=metadata.get("deletionGracePeriodSeconds") or 0)
            return parse_time(metadata["deletionTimestamp"]) - grace
        stops = _section(self.ctx.memory, "stops")
        begun = [
            parse_time(stop["at"])
            for container in self.init_containers
            if is_sidecar(container)
            and (run := self.newest(container["name"])) is not None
            and (stop := stops.get(_key(self.uid, container["name"]))) is not None
            and stop["restart"] == run.restart
        ]
        return min(begun, default=self.now)

    def stop(self, run: ContainerObservation, grace: int, *, init: bool) -> None:
        """Ask the runtime to stop a run, and again with grace 0 once its grace period is over."""
        stop = _section(self.ctx.memory, "stops").get(_key(self.uid, run.name))
        if stop is None or stop["restart"] != run.restart:
            self.operations.append(StopContainer(self.ref, run.name, run.restart, grace))
            self.event(run.name, "Killing", f"Stopping container {run.name}", init=init)
            return
        deadline = parse_time(stop["at"]) + timedelta(seconds=stop["grace"])
        if self.now >= deadline + STOP_SLACK and stop["grace"] > 0:
            self.operations.append(StopContainer(self.ref, run.name, run.restart, 0))
        self.wake(deadline)
        self.wake(deadline + STOP_SLACK)

    # -- status -------------------------------------------------------------------------------

    def status_write(self, *, terminal: bool) -> None:
        status = self.status(terminal=terminal)
        patch = {key: value for key, value in status.items() if self.old.get(key) != value}
        if not patch:
            return
        self.transition_events(status)
        self.actions.append(
            Patch(
                "v1",
                "Pod",
                self.ref.namespace,
                self.ref.name,
                {"status": patch},
                subresource="status",
                why=self.status_why(status),
            )
        )

    # -- why, in words ------------------------------------------------------------------------

    def status_why(self, status: dict) -> str:
        """What the new status says that the old one did not, as a beginner would put it:
        `container web started`, `container web exited with code 1: restarting in 10 s (back-off)`,
        `image nginxx cannot be pulled`; the pod's new phase after that."""
        name = self.ref.name
        if not self.old.get("containerStatuses") and all(
            "waiting" in s["state"] and not s.get("lastState") for s in status.get("containerStatuses", [])
        ):
            said = [f"pod {name} is on {self.ctx.node}: preparing its containers"]
        else:
            said = [
                phrase
                for key, init in (("initContainerStatuses", True), ("containerStatuses", False))
                for new in status.get(key, [])
                if (phrase := self.container_change(new, self.old_status(new["name"], init=init) or {}, init=init))
            ]
        if status.get("podIP") and status["podIP"] != self.old.get("podIP"):
            said.insert(0, f"pod {name}'s sandbox is up, with IP {status['podIP']}")
        if self.pod["metadata"].get("deletionTimestamp"):
            said.insert(0, f"pod {name} is being deleted")
        if status["phase"] != self.old.get("phase", "Pending"):
            said.append(f"pod {name} is {status['phase']}")
        if not said:
            old = {c.get("type"): c.get("status") for c in self.old.get("conditions", [])}
            changed = [c["type"] for c in status["conditions"] if old.get(c["type"]) != c["status"]]
            said.append(f"pod {name}'s {listed(changed)} changed" if changed else f"pod {name}'s status refreshed")
        if len(said) > 3:
            said = [*said[:3], f"{len(said) - 3} more"]
        return shortened("; ".join(said))

    def container_change(self, new: dict, old: dict, *, init: bool) -> str | None:
        """One container's change of state, in words; None when it says nothing new."""
        kind = ("sidecar" if new["name"] in self.sidecar_names() else "init container") if init else "container"
        subject = f"{kind} {new['name']}"
        state, old_state = new["state"], old.get("state", {})
        if "running" in state and ("running" not in old_state or old.get("containerID") != new.get("containerID")):
            restarts = new.get("restartCount", 0)
            return f"{subject} started" + (f" (restart {restarts})" if restarts else "")
        terminated = state.get("terminated")
        if terminated and old_state.get("terminated", {}).get("containerID") != terminated.get("containerID"):
            reason, restarts = terminated.get("reason"), new.get("restartCount", 0)
            extra = f" ({reason})" if reason not in (None, "Completed", "Error") else ""
            again = f" after restart {restarts}" if restarts else ""
            exited = f"{subject} exited with code {terminated.get('exitCode', 0)}{extra}{again}"
            deleting = self.pod["metadata"].get("deletionTimestamp")
            failed = None if deleting else self.failed_probe(new["name"], restarts, ("liveness", "startup"))
            return f"{exited}: its {failed} probe failed, so the kubelet stopped it" if failed else exited
        waiting = state.get("waiting")
        old_waiting = old_state.get("waiting", {})
        if waiting and (
            waiting.get("reason") != old_waiting.get("reason") or new.get("restartCount") != old.get("restartCount")
        ):
            return self.waiting_words(subject, new, waiting)
        if "running" in state and new.get("ready") != old.get("ready"):
            if new.get("ready"):
                return f"{subject} is ready"
            failed = self.failed_probe(new["name"], new.get("restartCount", 0), ("readiness",))
            return f"{subject} is not ready" + (": its readiness probe fails" if failed else "")
        return None

    def failed_probe(self, container: str, restart: int, kinds: tuple[str, ...]) -> str | None:
        """The first of `kinds` whose last result for this run of the container is a failure."""
        for kind in kinds:
            record = _probe_record(self.ctx.memory, self.uid, container, kind, restart)
            if record and record.get("result") == "failure":
                return kind
        return None

    def waiting_words(self, subject: str, new: dict, waiting: dict) -> str | None:
        reason, image = waiting.get("reason"), new.get("image", "")
        match reason:
            case "CrashLoopBackOff":
                code = new.get("lastState", {}).get("terminated", {}).get("exitCode")
                entry = _section(self.ctx.memory, "restarts").get(_key(self.uid, new["name"])) or {}
                wait = f" in {entry['backoff']:g} s" if "backoff" in entry else ""
                return f"{subject} exited with code {code}: restarting{wait} (back-off)"
            case "ErrImagePull":
                return f"image {image} cannot be pulled"
            case "ImagePullBackOff":
                entry = _section(self.ctx.memory, "pulls").get(_key(self.uid, new["name"])) or {}
                wait = f" in {entry['backoff']:g} s" if "backoff" in entry else ""
                return f"image {image} cannot be pulled: trying again{wait} (back-off)"
            case "ErrImageNeverPull":
                return f"image {image} is not on the node and imagePullPolicy is Never"
            case "CreateContainerConfigError":
                return f"{subject} cannot be created: {waiting.get('message', '')}"
            case "ContainerCreating" | "PodInitializing" | None:
                return None
        return f"{subject} is waiting: {reason}"

    def transition_events(self, status: dict) -> None:
        """The back-off Events, recorded as a container enters a back-off."""
        for key, init in (("initContainerStatuses", True), ("containerStatuses", False)):
            for new in status.get(key, []):
                waiting = new["state"].get("waiting", {})
                old = self.old_status(new["name"], init=init) or {}
                old_waiting = old.get("state", {}).get("waiting", {})
                same = old_waiting.get("reason") == waiting.get("reason") and old.get("restartCount") == new.get(
                    "restartCount"
                )
                if same or not waiting:
                    continue
                name = new["name"]
                if waiting.get("reason") == "CrashLoopBackOff":
                    message = f"Back-off restarting failed container {name} in pod {_pod_format(self.ref)}"
                    self.event(name, "BackOff", message, "Warning", init=init)
                elif waiting.get("reason") == "ImagePullBackOff":
                    self.event(name, "BackOff", f'Back-off pulling image "{new["image"]}"', init=init)
                    self.event(name, "Failed", "Error: ImagePullBackOff", "Warning", init=init)

    def status(self, *, terminal: bool) -> dict:
        init_statuses = [self.container_status(c, init=True, terminal=terminal) for c in self.init_containers]
        statuses = [self.container_status(c, init=False, terminal=terminal) for c in self.containers]
        if terminal:
            self.mark_unknown(init_statuses, statuses)
        phase = self.phase(init_statuses, statuses, terminal=terminal)
        if self.old.get("phase") in ("Succeeded", "Failed"):
            phase = self.old["phase"]  # pods never leave a terminal phase
        status: dict = {}
        generation = self.pod["metadata"].get("generation")
        if generation:
            status["observedGeneration"] = generation
        status["phase"] = phase
        status["conditions"] = self.conditions(init_statuses, statuses, phase)
        if self.ctx.host_ip:
            status["hostIP"] = self.ctx.host_ip
            status["hostIPs"] = [{"ip": self.ctx.host_ip}]
        ip = self.ip or self.old.get("podIP")
        if ip:
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        status["startTime"] = self.old.get("startTime") or format_time(self.now)
        if self.init_containers:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        return status

    def container_status(self, container: dict, *, init: bool, terminal: bool) -> dict:
        name = container["name"]
        runs = self.runs(name)
        old = self.old_status(name, init=init)
        if not runs:
            status = self.unstarted_status(container, old)
        else:
            newest = runs[0]
            status = {
                "containerID": newest.container_id,
                "image": newest.image,
                "imageID": newest.image_id,
                "lastState": self.last_state(newest, runs[1] if len(runs) > 1 else None, old),
                "name": name,
                "ready": self.is_ready(name, newest, init=init and not is_sidecar(container)),
                "restartCount": newest.restart,
                "started": self.is_started(name, newest, init=init and not is_sidecar(container)),
                "state": _state(newest),
            }
            resources = container.get("resources")
            if resources is not None:
                status["resources"] = copy.deepcopy(resources)
                if resources.get("requests"):
                    status["allocatedResources"] = copy.deepcopy(resources["requests"])
        waiting = self.waiting.get(name)
        if waiting and not terminal:
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            status["state"] = {"waiting": {k: v for k, v in waiting.items() if v}}
            status["ready"] = status["started"] = False
        mounts = [_mount_status(m) for m in container.get("volumeMounts", [])]
        if mounts:
            status["volumeMounts"] = mounts
        return status

    def unstarted_status(self, container: dict, old: dict | None) -> dict:
        if old and "terminated" in old.get("state", {}):
            return copy.deepcopy(old)  # the runtime no longer has it; what it last was still holds
        reason = "PodInitializing" if self.init_containers else "ContainerCreating"
        status = {
            "image": container.get("image", ""),
            "imageID": "",
            "lastState": copy.deepcopy(old.get("lastState", {})) if old else {},
            "name": container["name"],
            "ready": False,
            "restartCount": old.get("restartCount", 0) if old else 0,
            "started": False,
            "state": {"waiting": {"reason": reason}},
        }
        if old and "running" in old.get("state", {}):
            # The runtime lost a container that was running (its node rebooted, or its sandbox was
            # paused): upstream's kubelet says so and counts a restart, unless the pod is going.
            status["lastState"] = {"terminated": dict(LOST_RUNNING)}
            if not self.pod["metadata"].get("deletionTimestamp"):
                status["restartCount"] += 1
        return status

    def mark_unknown(self, init_statuses: list[dict], statuses: list[dict]) -> None:
        """As the pod ends, a container still waiting counts as failed (upstream's TerminatePod):
        app containers once the pod was initialized, init containers that tried to start."""
        lost = {
            "exitCode": 137,
            "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
        }
        sidecars = self.sidecar_names()
        # A regular init container is done once it succeeded, a sidecar once it ran at all.
        done = [
            ("waiting" not in s["state"] or bool(s.get("lastState"))) if s["name"] in sidecars else s["ready"]
            for s in init_statuses
        ]
        initialized = all(done) or any("waiting" not in s["state"] for s in statuses)
        attempted = len(init_statuses)
        while (
            attempted
            and "waiting" in init_statuses[attempted - 1]["state"]
            and not init_statuses[attempted - 1].get("lastState")
        ):
            attempted -= 1
        for status in (statuses if initialized else []) + init_statuses[:attempted]:
            if "waiting" in status["state"]:
                status["state"] = {"terminated": dict(lost)}

    @staticmethod
    def last_state(newest: ContainerObservation, previous: ContainerObservation | None, old: dict | None) -> dict:
        if previous is not None:
            return _state(previous)
        if old is None:
            return {}
        old_state = old.get("state", {})
        if old.get("containerID") != newest.container_id and "terminated" in old_state:
            return copy.deepcopy(old_state)
        return copy.deepcopy(old.get("lastState", {}))

    def is_started(self, name: str, run: ContainerObservation, *, init: bool) -> bool:
        """`init` for a regular init container; a sidecar's probes decide as a main container's."""
        if run.state != "running":
            return False
        return True if init else self.started.get(name, True)

    def is_ready(self, name: str, run: ContainerObservation, *, init: bool) -> bool:
        """`init` for a regular init container, ready once it has succeeded."""
        if init:
            return run.state == "exited" and run.exit_code == 0
        return run.state == "running" and self.ready.get(name, False)

    def sidecar_names(self) -> set[str]:
        return {c["name"] for c in self.init_containers if is_sidecar(c)}

    def phase(self, init_statuses: list[dict], statuses: list[dict], *, terminal: bool) -> str:
        """getPhase. A running sidecar counts as a running container, one not started yet holds the
        pod Pending until it was initialized; a sidecar's exits never decide the phase."""
        sidecars = self.sidecar_names()
        pending_init = failed_init = pending_sidecars = 0
        running = waiting = stopped = succeeded = 0
        for status in init_statuses:
            state = status["state"]
            if status["name"] in sidecars:
                if "running" in state:
                    running += 1
                    pending_sidecars += not status.get("started")
                elif "waiting" in state and not status.get("lastState"):
                    pending_sidecars += 1
                    waiting += 1
            elif "running" in state:
                pending_init += 1
            elif "terminated" in state:
                failed_init += state["terminated"].get("exitCode", 0) != 0
            elif status.get("lastState", {}).get("terminated", {}).get("exitCode", 0) != 0:
                failed_init += 1
            else:
                pending_init += 1
        for status in statuses:
            state = status["state"]
            if "running" in state:
                running += 1
            elif "terminated" in state:
                stopped += 1
                succeeded += state["terminated"].get("exitCode", 0) == 0
            elif "terminated" in status.get("lastState", {}):
                stopped += 1
            else:
                waiting += 1
        policy = self.spec.get("restartPolicy", "Always")
        if failed_init and policy == "Never":
            return "Failed"
        # As upstream, a restarting sidecar does not send an initialized pod back to Pending.
        initialized = any(self.runs(c["name"]) for c in self.containers)
        if pending_init or (pending_sidecars and not initialized) or waiting:
            return "Pending"
        if running:
            return "Running"
        if stopped:
            if terminal:
                return "Succeeded" if stopped == succeeded else "Failed"
            if policy == "Always":
                return "Running"
            if stopped == succeeded:
                return "Succeeded"
            return "Failed" if policy == "Never" else "Running"
        return "Pending"

    def conditions(self, init_statuses: list[dict], statuses: list[dict], phase: str) -> list[dict]:
        old = self.old.get("conditions", [])
        kept = [c for c in old if c.get("type") not in KUBELET_CONDITIONS]
        terminal = phase in ("Succeeded", "Failed")
        sandbox_ready = self.ip is not None and not terminal
        ours = [
            self.condition("PodReadyToStartContainers", sandbox_ready),
            self.condition(*self.initialized(init_statuses, statuses, phase)),
            self.condition(*self.ready_condition(init_statuses, statuses, phase)),
            self.condition(*self.containers_ready(init_statuses, statuses, phase)),
        ]
        scheduled = next((c for c in old if c.get("type") == "PodScheduled"), None)
        return [*kept, *ours, scheduled or self.condition("PodScheduled", True)]

    def condition(self, kind: str, ok: bool, reason: str = "", message: str = "") -> dict:
        status = "True" if ok else "False"
        previous = next((c for c in self.old.get("conditions", []) if c.get("type") == kind), None)
        changed = previous is None or previous.get("status") != status
        # No `lastProbeTime: null`: the store's merge patch drops nulls, and the next pass must see
        # exactly what it wrote.
        condition = {"type": kind, "status": status}
        generation = self.pod["metadata"].get("generation")
        if generation:
            condition["observedGeneration"] = generation
        condition["lastTransitionTime"] = format_time(self.now) if changed else previous.get("lastTransitionTime")
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        return condition

    def initialized(self, init_statuses: list[dict], statuses: list[dict], phase: str) -> tuple:
        if phase == "Succeeded":
            return "Initialized", True, "PodCompleted"
        if any("running" in s["state"] or "terminated" in s["state"] for s in statuses):
            return ("Initialized", True)
        # A regular init container is done once it succeeded (ready), a sidecar once it started.
        sidecars = self.sidecar_names()
        incomplete = [s["name"] for s in init_statuses if not s["started" if s["name"] in sidecars else "ready"]]
        if incomplete:
            return (
                "Initialized",
                False,
                "ContainersNotInitialized",
                f"containers with incomplete status: {_go_list(incomplete)}",
            )
        return ("Initialized", True)

    def containers_ready(self, init_statuses: list[dict], statuses: list[dict], phase: str) -> tuple:
        if phase == "Succeeded":
            return "ContainersReady", False, "PodCompleted"
        if phase == "Failed":
            return "ContainersReady", False, "PodFailed"
        sidecars = self.sidecar_names()  # sidecars count as containers of the pod, first
        unready = [s["name"] for s in init_statuses if s["name"] in sidecars and not s["ready"]]
        unready += [s["name"] for s in statuses if not s["ready"]]
        if unready:
            return (
                "ContainersReady",
                False,
                "ContainersNotReady",
                f"containers with unready status: {_go_list(unready)}",
            )
        return ("ContainersReady", True)

    def ready_condition(self, init_statuses: list[dict], statuses: list[dict], phase: str) -> tuple:
        _, ok, *why = self.containers_ready(init_statuses, statuses, phase)
        if not ok:
            return ("Ready", False, *why)
        conditions = {c.get("type"): c for c in self.old.get("conditions", [])}
        unready = []
        for gate in self.spec.get("readinessGates", []):
            kind = gate.get("conditionType")
            if kind not in conditions:
                unready.append(f'corresponding condition of pod readiness gate "{kind}" does not exist.')
            elif conditions[kind].get("status") != "True":
                unready.append(
                    f'the status of pod readiness gate "{kind}" is not "True", but {conditions[kind].get("status")}'
                )
        if unready:
            return "Ready", False, "ReadinessGatesNotReady", ", ".join(unready)
        return ("Ready", True)


def _state(run: ContainerObservation) -> dict:
    if run.state == "running":
        return {"running": {"startedAt": format_time(run.started_at)}}
    if run.state == "exited":
        terminated = {
            "containerID": run.container_id,
            "exitCode": run.exit_code if run.exit_code is not None else 0,
            "finishedAt": format_time(run.finished_at),
            "reason": run.reason or ("Completed" if run.exit_code == 0 else "Error"),
            "startedAt": format_time(run.started_at),
        }
        if run.message:
            terminated["message"] = run.message
        return {"terminated": terminated}
    return {"waiting": {}}


def _mount_status(mount: dict) -> dict:
    status = {"mountPath": mount["mountPath"], "name": mount["name"]}
    if mount.get("readOnly"):
        status["readOnly"] = True
        status["recursiveReadOnly"] = "Disabled"
    return status


# ---------------------------------------------------------------------------------------------
# The node
# ---------------------------------------------------------------------------------------------


def _host_ip(node: dict) -> str:
    addresses = node.get("status", {}).get("addresses", [])
    return next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")


def _runs_by_container(observed: list[ContainerObservation]) -> dict[tuple[str, str], list[ContainerObservation]]:
    runs: dict[tuple[str, str], list[ContainerObservation]] = {}
    for observation in observed:
        runs.setdefault((observation.pod_uid, observation.name), []).append(observation)
    return {key: sorted(items, key=lambda o: -o.restart)[:2] for key, items in runs.items()}


def plan_node(
    *,
    node: dict,
    pods: list[dict],
    observed: list[ContainerObservation],
    now: datetime,
    backoff: BackoffPolicy = UPSTREAM_BACKOFF,
    memory: dict | None = None,
    sandbox: str = "",
    only: frozenset[str] | None = None,
    sandboxes: frozenset[str] | None = None,
) -> NodePlan:
    """Plan one pass of the kubelet of `node` for the pods bound to it (`spec.nodeName`).

    `observed` is what the runtime reports, `sandboxes` the pods whose sandbox it has up (None
    when it was not asked), `memory` what earlier passes recorded with `outcome_record`, `sandbox`
    the sandbox uid that goes into every PodRef. `only` limits the pass to those pods (the others
    are still known, not orphans); the wake-up then covers only them."""
    memory = memory or {}
    name = node["metadata"]["name"]
    runs = _runs_by_container(observed)
    context = _Context(now, backoff, memory, runs, _host_ip(node), sandbox, name, sandboxes)
    mine = sorted(
        (p for p in pods if p.get("spec", {}).get("nodeName") == name),
        key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]),
    )
    operations: list[Operation] = []
    actions: list[Action] = []
    wakeups: list[datetime] = []
    quiet: list[datetime] = []
    busy: set[str] = set()
    for pod in mine:
        if only is not None and pod["metadata"]["uid"] not in only:
            continue
        sync = _PodSync(pod, context)
        sync.plan()
        operations += sync.operations
        actions += sync.actions
        wakeups += sync.wakeups
        if sync.operations or sync.actions:
            busy.add(sync.uid)
        else:
            quiet += sync.wakeups
    known = frozenset(p["metadata"]["uid"] for p in mine)
    remembered = {key.split("/", 1)[0] for section in memory.values() if isinstance(section, dict) for key in section}
    if ({o.pod_uid for o in observed} | remembered) - known:
        operations.append(RemoveOrphans(known))
    return NodePlan(
        tuple(operations),
        tuple(actions),
        min((w for w in wakeups if w > now), default=None),
        frozenset(busy),
        min((w for w in quiet if w > now), default=None),
    )


HEALTHY_NODE_CONDITIONS = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}


def node_status_patch(node: dict, *, now: datetime, ready: bool) -> Patch | None:
    """The kubelet's heartbeat: renew every condition's lastHeartbeatTime with the healthy values
    (ready), or mark them Unknown as the node lifecycle controller does for a silent kubelet
    (not ready). lastTransitionTime moves only when a status flips. None when nothing changes."""
    old = node.get("status", {}).get("conditions", [])
    by_type = {c["type"]: c for c in old}
    types = [c["type"] for c in old] + [t for t in HEALTHY_NODE_CONDITIONS if t not in by_type and ready]
    conditions = []
    stamp = format_time(now)
    for kind in types:
        previous = by_type.get(kind, {})
        if ready:
            status, reason, message = HEALTHY_NODE_CONDITIONS.get(
                kind, (previous.get("status"), previous.get("reason"), previous.get("message"))
            )
            heartbeat = stamp
        else:
            status, reason, message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
            heartbeat = previous.get("lastHeartbeatTime") or stamp
        flipped = previous.get("status") != status
        conditions.append(
            {
                **previous,
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": stamp if flipped else previous.get("lastTransitionTime", stamp),
            }
        )
    if conditions == old:
        return None
    name = node["metadata"]["name"]
    if ready:
        why = f"the kubelet of {name} is running: renewing the node's status"
    else:
        why = f"the kubelet of {name} has stopped: marking the node's conditions Unknown"
    return Patch("v1", "Node", "", name, {"status": {"conditions": conditions}}, subresource="status", why=why)
