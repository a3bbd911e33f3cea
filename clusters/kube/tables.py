"""Server-side Tables for `kubectl get`: the columns and cells a real API server sends for each kind.

kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever
columns come back, so the column sets, priorities and cell strings here follow upstream
`pkg/printers/internalversion/printers.go` and the ages follow
`k8s.io/apimachinery/pkg/util/duration`. The API server always generates the wide cells
(`GenerateOptions{Wide: true}`); kubectl hides the priority-1 columns unless asked for `-o wide`.

Everything here is a pure function of the objects (JSON dicts as the API serves them) and `now`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from clusters.objects.conversion import to_storage
from clusters.objects.times import format_time, parse_time

Cell = str | int | bool
RowCells = Callable[[dict, datetime], list[Cell]]

INCLUDE_OBJECT_MODES = ("None", "Metadata", "Object")


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    type: str = "string"
    priority: int = 0
    format: str = ""

    def definition(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


# --- durations and ages -------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """`duration.HumanDuration`: about two or three significant figures (`3m20s`, `5h30m`, `3d4h`)."""
    whole = int(seconds)  # Go's int() truncates toward zero, as does Python's
    # Up to a second in the future is clock skew between machines and reads as "now".
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def short_human_duration(seconds: float) -> str:
    """`duration.ShortHumanDuration`: one unit only (`45s`, `3m`, `5h`, `12d`, `2y`)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60:
        return f"{whole}s"
    if whole // 60 < 60:
        return f"{whole // 60}m"
    hours = whole // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def translate_timestamp_since(timestamp: str | None, now: datetime) -> str:
    """The AGE cell: how long before `now` the timestamp was, or `<unknown>` without one."""
    return _since(parse_time(timestamp), now)


def _since(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "<unknown>"
    return human_duration((_aware(now) - moment).total_seconds())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- shared cell helpers ------------------------------------------------------------------------


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _status(obj: dict) -> dict:
    return obj.get("status") or {}


def _name(obj: dict) -> str:
    return _meta(obj).get("name", "")


def _age(obj: dict, now: datetime) -> str:
    return translate_timestamp_since(_meta(obj).get("creationTimestamp"), now)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """`labels.FormatLabels`: `k=v` pairs sorted by key and joined with commas, or `<none>`."""
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items())) or "<none>"


def selector_string(selector: dict | None) -> str:
    """`metav1.LabelSelectorAsSelector(s).String()`: requirements sorted by key.

    A missing or empty selector prints as "". Raises ValueError for a selector the API could not
    turn into requirements (an unknown operator, In without values, Exists with values).
    """
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key") or ""
        operator = expression.get("operator")
        values = list(expression.get("values") or [])
        if not key:
            raise ValueError("a label selector requirement needs a key")
        if operator in ("In", "NotIn"):
            if not values:
                raise ValueError(f"operator {operator} needs at least one value")
            word = "in" if operator == "In" else "notin"
            # Upstream sorts the values only on output, and only when there are several.
            shown = values[0] if len(values) == 1 else ",".join(sorted(values))
            requirements.append((key, f"{key} {word} ({shown})"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                raise ValueError(f"operator {operator} takes no values")
            requirements.append((key, key if operator == "Exists" else f"!{key}"))
        else:
            raise ValueError(f"{operator!r} is not a valid label selector operator")
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(text for _, text in requirements)


def format_label_selector(selector: dict | None) -> str:
    """`metav1.FormatLabelSelector`: the selector, `<none>` when it selects by nothing, `<error>`."""
    try:
        return selector_string(selector) or "<none>"
    except ValueError:
        return "<error>"


def _container_cells(pod_spec: dict) -> list[Cell]:
    """CONTAINERS and IMAGES: every container of the template on one line."""
    containers = pod_spec.get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _template_spec(obj: dict) -> dict:
    return (_spec(obj).get("template") or {}).get("spec") or {}


def _replicas(obj: dict) -> int:
    # The API server defaults spec.replicas to 1, so a stored workload always has it.
    replicas = _spec(obj).get("replicas")
    return 1 if replicas is None else replicas


def _first_condition(conditions: list[dict], condition_type: str) -> dict | None:
    return next((c for c in conditions if c.get("type") == condition_type), None)


def _condition_true(conditions: list[dict], condition_type: str) -> bool:
    """True when the first condition of that type is True (upstream reads only the first one)."""
    condition = _first_condition(conditions, condition_type)
    return condition is not None and condition.get("status") == "True"


def _list_with_more(items: list[str], limit: int = 3) -> str:
    """`a,b,c + 2 more...` after three items; `<unset>` when empty (EndpointSlice columns)."""
    shown = ",".join(items[:limit])
    if len(items) > limit:
        return f"{shown} + {len(items) - limit} more..."
    return shown or "<unset>"


# --- column definitions -------------------------------------------------------------------------

NAME = Column(
    "Name",
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    format="name",
)
AGE = Column(
    "Age",
    "CreationTimestamp is a timestamp representing the server time when this object was created. It "
    "is not guaranteed to be set in happens-before order across separate operations. Clients may not "
    "set this value. It is represented in RFC3339 form and is in UTC.",
)
CONTAINERS = Column("Containers", "Names of each container in the template.", priority=1)
IMAGES = Column("Images", "Images referenced by each container in the template.", priority=1)


def _selector_column(description: str) -> Column:
    return Column("Selector", description, priority=1)


POD_COLUMNS = (
    NAME,
    Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container "
        "in this pod has restarted.",
    ),
    AGE,
    Column("IP", "podIP address allocated to the pod. Routable at least within the cluster.", priority=1),
    Column("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
    Column(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be "
        "scheduled right away as preemption victims receive their graceful termination periods.",
        priority=1,
    ),
    Column(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness.",
        priority=1,
    ),
)
NODE_COLUMNS = (
    NAME,
    Column("Status", "The status of the node"),
    Column("Roles", "The roles of the node"),
    AGE,
    Column("Version", "Kubelet Version reported by the node."),
    Column("Internal-IP", "List of addresses reachable to the node.", priority=1),
    Column("External-IP", "List of addresses reachable to the node.", priority=1),
    Column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    Column("Kernel-Version", "Kernel Version reported by the node from 'uname -r'.", priority=1),
    Column(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API.",
        priority=1,
    ),
)
NAMESPACE_COLUMNS = (NAME, Column("Status", "The status of the namespace"), AGE)
SERVICE_COLUMNS = (
    NAME,
    Column("Type", "type determines how the Service is exposed. Defaults to ClusterIP."),
    Column("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
    Column(
        "External-IP",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic "
        "for this service.",
    ),
    Column("Port(s)", "The list of ports that are exposed by this service."),
    AGE,
    _selector_column(
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
)
ENDPOINTS_COLUMNS = (
    NAME,
    Column("Endpoints", "The set of all endpoints is the union of all subsets."),
    AGE,
)
CONFIG_MAP_COLUMNS = (NAME, Column("Data", "Data contains the configuration data."), AGE)
SECRET_COLUMNS = (
    NAME,
    Column("Type", "Used to facilitate programmatic handling of secret data."),
    Column("Data", "Data contains the secret data."),
    AGE,
)
PERSISTENT_VOLUME_COLUMNS = (
    NAME,
    Column("Capacity", "capacity is the description of the persistent volume's resources and capacity."),
    Column("Access Modes", "accessModes contains all ways the volume can be mounted."),
    Column(
        "Reclaim Policy",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    Column("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    Column("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    Column("StorageClass", "StorageClass of the pv"),
    Column("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    Column("Reason", "reason is a brief CamelCase string that describes any failure."),
    AGE,
    Column(
        "VolumeMode",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain "
        "in raw block state.",
        priority=1,
    ),
)
PERSISTENT_VOLUME_CLAIM_COLUMNS = (
    NAME,
    Column("Status", "phase represents the current phase of PersistentVolumeClaim."),
    Column("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    Column("Capacity", "capacity represents the actual resources of the underlying volume."),
    Column("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has."),
    Column("StorageClass", "StorageClass of the pvc"),
    Column("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    AGE,
    Column("VolumeMode", "volumeMode defines what type of volume is required by the claim.", priority=1),
)
EVENT_COLUMNS = (
    Column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    Column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    Column(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition "
        "into the object's current status.",
    ),
    Column("Object", "The object that this event is about."),
    Column(
        "Subobject",
        "If referring to a piece of an object instead of an entire object, this string should contain a "
        "valid JSON/Go field access statement.",
        priority=1,
    ),
    Column("Source", "The component reporting this event.", priority=1),
    Column("Message", "A human-readable description of the status of this operation."),
    Column("First Seen", "The time at which the event was first recorded.", priority=1),
    Column("Count", "The number of times this event has occurred.", priority=1),
    Column(NAME.name, NAME.description, priority=1, format="name"),
)
SERVICE_ACCOUNT_COLUMNS = (NAME, AGE)
RESOURCE_QUOTA_COLUMNS = (
    NAME,
    Column("Request", "Request represents a minimum amount of cpu/memory that a container may consume."),
    Column(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent of "
        "contention on the node.",
    ),
    AGE,
)
# Upstream has no printer for LimitRange: its storage uses the API server's default convertor.
LIMIT_RANGE_COLUMNS = (NAME, Column("Created At", AGE.description, type="date"))
ENDPOINT_SLICE_COLUMNS = (
    NAME,
    Column("AddressType", "addressType specifies the type of address carried by this EndpointSlice."),
    Column("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice."),
    Column("Endpoints", "endpoints is a list of unique endpoints in this slice."),
    AGE,
)
DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", "Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    Column(
        "Available",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by "
        "this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column("Label selector for pods."),
)
REPLICA_SET_COLUMNS = (
    NAME,
    Column("Desired", "Replicas is the number of desired pods.", type="integer"),
    Column("Current", "Replicas is the most recently observed number of non-terminating pods.", type="integer"),
    Column(
        "Ready",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
        type="integer",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column("Selector is a label query over pods that should match the replica count."),
)
_RC_DOCS = "More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
REPLICATION_CONTROLLER_COLUMNS = (
    NAME,
    Column(
        "Desired",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and "
        f"unspecified. Defaults to 1. {_RC_DOCS}#what-is-a-replicationcontroller",
        type="integer",
    ),
    Column(
        "Current",
        f"Replicas is the most recently observed number of replicas. {_RC_DOCS}#what-is-a-replicationcontroller",
        type="integer",
    ),
    Column("Ready", "The number of ready replicas for this replication controller.", type="integer"),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column(
        "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is "
        "defaulted to the labels present on the Pod template. Label keys and values that must match in order to be "
        "controlled by this replication controller, if empty defaulted to labels on Pod template. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
    ),
)
STATEFUL_SET_COLUMNS = (NAME, Column("Ready", "Number of the pod with ready state"), AGE, CONTAINERS, IMAGES)
DAEMON_SET_COLUMNS = (
    NAME,
    Column(
        "Desired",
        "The total number of nodes that should be running the daemon pod (including nodes correctly "
        "running the daemon pod).",
        type="integer",
    ),
    Column(
        "Current",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        type="integer",
    ),
    Column(
        "Ready",
        "numberReady is the number of nodes that should be running the daemon pod and have one or more of "
        "the daemon pod running with a Ready Condition.",
        type="integer",
    ),
    Column("Up-to-date", "The total number of nodes that are running updated daemon pod", type="integer"),
    Column(
        "Available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod "
        "running and available (ready for at least spec.minReadySeconds)",
        type="integer",
    ),
    Column("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column("A label query over pods that are managed by the daemon set."),
)
JOB_COLUMNS = (
    NAME,
    Column("Status", "Status of the job."),
    Column("Completions", "The number of pods which reached phase Succeeded."),
    Column("Duration", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column("A label query over pods that should match the pod count."),
)
CRON_JOB_COLUMNS = (
    NAME,
    Column("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    Column("Timezone", "The time zone name for the given schedule."),
    Column(
        "Suspend",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already "
        "started executions.",
        type="boolean",
    ),
    Column("Active", "A list of pointers to currently running jobs.", type="integer"),
    Column("Last Schedule", "Information when was the last time the job was successfully scheduled."),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column("A label query over pods that should match the pod count."),
)
HORIZONTAL_POD_AUTOSCALER_COLUMNS = (
    NAME,
    Column(
        "Reference",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should "
        "be collected, as well as to actually change the replica count.",
    ),
    Column(
        "Targets",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum "
        "replica count across all metrics will be used).  The desired replica count is calculated multiplying the "
        "ratio between the target value and the current value by the current number of pods.  Ergo, metrics used "
        "must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for "
        "more information about how each type of metric must respond. If not set, the default metric will be set "
        "to 80% average CPU utilization.",
    ),
    Column(
        "MinPods",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It "
        "defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled "
        "and at least one Object or External metric is configured.  Scaling is active as long as at least one "
        "metric value is available.",
    ),
    Column(
        "MaxPods",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It "
        "cannot be less that minReplicas.",
    ),
    Column(
        "Replicas",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the "
        "autoscaler.",
    ),
    AGE,
)
NETWORK_POLICY_COLUMNS = (
    NAME,
    Column(
        "Pod-Selector",
        "podSelector selects the pods to which this NetworkPolicy object applies. The array of rules is applied "
        "to any pods selected by this field. An empty selector matches all pods in the policy's namespace. "
        "Multiple network policies can select the same set of pods. In this case, the ingress rules for each are "
        "combined additively. This field is optional. If it is not specified, it defaults to an empty selector.",
    ),
    AGE,
)
STORAGE_CLASS_COLUMNS = (
    NAME,
    Column("Provisioner", "provisioner indicates the type of the provisioner."),
    Column("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes."),
    Column(
        "VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound."
    ),
    Column("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand."),
    AGE,
)
DEFAULT_COLUMNS = (NAME, AGE)


# --- Pod ----------------------------------------------------------------------------------------


def _last_finished_at(container_status: dict) -> datetime | None:
    terminated = (container_status.get("lastState") or {}).get("terminated") or {}
    return parse_time(terminated.get("finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _terminated_reason(terminated: dict, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


@dataclass
class PodSummary:
    reason: str
    total: int
    ready: int = 0
    restarts: int = 0
    last_restart: datetime | None = None


def pod_summary(pod: dict) -> PodSummary:
    """The READY count, STATUS reason and RESTARTS of `printPod`, in its order of precedence."""
    spec, status = _spec(pod), _status(pod)
    phase = status.get("phase") or ""
    conditions = status.get("conditions") or []
    summary = PodSummary(reason=status.get("reason") or phase, total=0)
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        summary.reason = "SchedulingGated"

    init_specs = spec.get("initContainers") or []
    # Sidecars are init containers that keep running; they count as containers of the pod.
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    summary.total = len(spec.get("containers") or []) + sum(1 for c in init_specs if c.get("restartPolicy") == "Always")

    # Init containers run in order; the first that has not finished decides the status.
    sidecar_restarts = 0
    last_sidecar_restart: datetime | None = None
    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        finished = _last_finished_at(container)
        summary.restarts += container.get("restartCount") or 0
        summary.last_restart = _later(summary.last_restart, finished)
        is_sidecar = container.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += container.get("restartCount") or 0
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if is_sidecar and container.get("started"):
            summary.ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            summary.reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            summary.reason = "Init:" + waiting["reason"]
        else:
            summary.reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        # Once initialised, only sidecars' restarts still count besides the app containers'.
        summary.restarts, summary.last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        error_reason = ""
        # Walked backwards so that the first container with a problem has the last word.
        for container in reversed(status.get("containerStatuses") or []):
            summary.restarts += container.get("restartCount") or 0
            summary.last_restart = _later(summary.last_restart, _last_finished_at(container))
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                summary.reason = waiting["reason"]
            elif terminated is not None:
                summary.reason = _terminated_reason(terminated)
                if terminated.get("exitCode"):
                    error_reason = summary.reason
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                summary.ready += 1
        # A pod whose containers did not all complete is not "Completed".
        if summary.reason == "Completed":
            if has_running and any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                summary.reason = "Running"
            elif error_reason:
                summary.reason = error_reason
            elif has_running:
                summary.reason = "NotReady"

    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            summary.reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            summary.reason = "Terminating"
    return summary


def _pod_cells(pod: dict, now: datetime) -> list[Cell]:
    spec, status = _spec(pod), _status(pod)
    summary = pod_summary(pod)
    restarts = str(summary.restarts)
    if summary.restarts and summary.last_restart is not None:
        restarts = f"{summary.restarts} ({_since(summary.last_restart, now)} ago)"

    pod_ip = status.get("podIP") or next((ip.get("ip") for ip in status.get("podIPs") or [] if ip.get("ip")), "")
    gates = spec.get("readinessGates") or []
    readiness_gates = "<none>"
    if gates:
        conditions = status.get("conditions") or []
        passed = sum(1 for gate in gates if _condition_true(conditions, gate.get("conditionType", "")))
        readiness_gates = f"{passed}/{len(gates)}"
    return [
        _name(pod),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        restarts,
        _age(pod, now),
        pod_ip or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness_gates,
    ]


def _pod_row_conditions(pod: dict) -> list[dict]:
    """Upstream marks finished pods' rows `Completed`, so clients can tell them apart."""
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


# --- Node ---------------------------------------------------------------------------------------


def _node_roles(labels: Mapping[str, str]) -> str:
    """Roles come from `node-role.kubernetes.io/<role>` keys and the older `kubernetes.io/role` value."""
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role":
            roles.add(value)
    return ",".join(sorted(roles - {""})) or "<none>"


def _node_address(status: dict, address_type: str) -> str:
    return next((a["address"] for a in status.get("addresses") or [] if a.get("type") == address_type), "<none>")


def _node_cells(node: dict, now: datetime) -> list[Cell]:
    status = _status(node)
    # Only the Ready condition counts; the last one wins, as in upstream's condition map.
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    states = ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    if _spec(node).get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        _name(node),
        ",".join(states),
        _node_roles(_meta(node).get("labels") or {}),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# --- Service, Endpoints, EndpointSlice ----------------------------------------------------------


def _service_external_ip(service: dict) -> str:
    spec = _spec(service)
    external_ips = spec.get("externalIPs") or []
    service_type = spec.get("type") or "ClusterIP"
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) or "<none>"
    if service_type == "LoadBalancer":
        ingress = (_status(service).get("loadBalancer") or {}).get("ingress") or []
        balancers = sorted({i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")})
        if external_ips:
            return ",".join([*balancers, *external_ips])
        # The server generates wide cells, so the address list is never clipped here.
        return ",".join(balancers) or "<pending>"
    if service_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_ports(ports: list[dict]) -> str:
    pieces = []
    for port in ports:
        protocol = port.get("protocol") or "TCP"  # defaulted by the API server
        node_port = port.get("nodePort") or 0
        pieces.append(
            f"{port.get('port')}:{node_port}/{protocol}" if node_port > 0 else f"{port.get('port')}/{protocol}"
        )
    return ",".join(pieces) or "<none>"


def _service_cells(service: dict, now: datetime) -> list[Cell]:
    spec = _spec(service)
    cluster_ip = spec.get("clusterIP") or next(iter(spec.get("clusterIPs") or []), "") or "<none>"
    return [
        _name(service),
        spec.get("type") or "ClusterIP",
        cluster_ip,
        _service_external_ip(service),
        _service_ports(spec.get("ports") or []),
        _age(service, now),
        format_labels(spec.get("selector")),
    ]


def _host_port(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _format_endpoints(endpoints: dict, limit: int = 3) -> str:
    """Ready addresses with each port (`ip:port`), at most three, then `+ N more...`."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        # A headless service may have no ports: then the bare addresses are listed.
        for port in ports or [None]:
            count += len(addresses)
            for ip in addresses:
                if len(shown) < limit:
                    shown.append(ip if port is None else _host_port(ip, port.get("port", 0)))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if count > limit else text


def _endpoints_cells(endpoints: dict, now: datetime) -> list[Cell]:
    return [_name(endpoints), _format_endpoints(endpoints), _age(endpoints, now)]


def _endpoint_slice_cells(endpoint_slice: dict, now: datetime) -> list[Cell]:
    ports = []
    for port in endpoint_slice.get("ports") or []:
        if port.get("port") is not None:
            ports.append(str(port["port"]))
        elif port.get("name") is not None:
            ports.append(port["name"])
        else:
            ports.append("*")
    addresses = [address for e in endpoint_slice.get("endpoints") or [] for address in e.get("addresses") or []]
    return [
        _name(endpoint_slice),
        endpoint_slice.get("addressType", ""),
        _list_with_more(ports),
        _list_with_more(addresses),
        _age(endpoint_slice, now),
    ]


# --- config and identity ------------------------------------------------------------------------


def _namespace_cells(namespace: dict, now: datetime) -> list[Cell]:
    return [_name(namespace), _status(namespace).get("phase", ""), _age(namespace, now)]


def _config_map_cells(config_map: dict, now: datetime) -> list[Cell]:
    keys = len(config_map.get("data") or {}) + len(config_map.get("binaryData") or {})
    return [_name(config_map), keys, _age(config_map, now)]


def _secret_cells(secret: dict, now: datetime) -> list[Cell]:
    return [_name(secret), secret.get("type", ""), len(secret.get("data") or {}), _age(secret, now)]


def _name_age_cells(obj: dict, now: datetime) -> list[Cell]:
    return [_name(obj), _age(obj, now)]


def _created_at_cells(obj: dict, now: datetime) -> list[Cell]:
    """The API server's default Table: the creation time itself, in UTC, not an age."""
    created = parse_time(_meta(obj).get("creationTimestamp")) or datetime(1, 1, 1, tzinfo=UTC)
    return [_name(obj), format_time(created)]


def _resource_quota_cells(quota: dict, now: datetime) -> list[Cell]:
    status = _status(quota)
    hard, used = status.get("hard") or {}, status.get("used") or {}
    requests, limits = [], []
    for resource in sorted(hard):
        column = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        column.append(f"{resource}: {used.get(resource, '0')}/{hard[resource]}")
    return [_name(quota), ", ".join(requests), ", ".join(limits), _age(quota, now)]


# --- storage ------------------------------------------------------------------------------------

_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def _access_modes(modes: list[str]) -> str:
    """Always in the order RWO, ROX, RWX, RWOP, without duplicates."""
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(abbreviation for mode, abbreviation in short.items() if mode in modes)


def _volume_phase(obj: dict) -> str:
    return "Terminating" if _meta(obj).get("deletionTimestamp") else _status(obj).get("phase", "")


def _persistent_volume_cells(volume: dict, now: datetime) -> list[Cell]:
    spec = _spec(volume)
    claim = spec.get("claimRef")
    annotations = _meta(volume).get("annotations") or {}
    storage_class = annotations.get(_BETA_STORAGE_CLASS, spec.get("storageClassName", ""))
    return [
        _name(volume),
        (spec.get("capacity") or {}).get("storage", "0"),
        _access_modes(spec.get("accessModes") or []),
        spec.get("persistentVolumeReclaimPolicy", ""),
        _volume_phase(volume),
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        _status(volume).get("reason", ""),
        _age(volume, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _persistent_volume_claim_cells(claim: dict, now: datetime) -> list[Cell]:
    spec, status = _spec(claim), _status(claim)
    annotations = _meta(claim).get("annotations") or {}
    storage_class = annotations.get(_BETA_STORAGE_CLASS, spec.get("storageClassName") or "")
    # Capacity and access modes are the bound volume's, so they stay blank until it is bound.
    bound = bool(spec.get("volumeName"))
    return [
        _name(claim),
        _volume_phase(claim),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "0") if bound else "",
        _access_modes(status.get("accessModes") or []) if bound else "",
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(claim, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _storage_class_cells(storage_class: dict, now: datetime) -> list[Cell]:
    annotations = _meta(storage_class).get("annotations") or {}
    name = _name(storage_class)
    if "true" in (
        annotations.get("storageclass.kubernetes.io/is-default-class"),
        annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
    ):
        name += " (default)"
    return [
        name,
        storage_class.get("provisioner", ""),
        storage_class.get("reclaimPolicy") or "Delete",
        storage_class.get("volumeBindingMode") or "Immediate",
        bool(storage_class.get("allowVolumeExpansion")),
        _age(storage_class, now),
    ]


def _network_policy_cells(policy: dict, now: datetime) -> list[Cell]:
    # An empty podSelector (every pod of the namespace) prints as <none>, as FormatLabelSelector does.
    return [_name(policy), format_label_selector(_spec(policy).get("podSelector")), _age(policy, now)]


# --- Event --------------------------------------------------------------------------------------


def _event_cells(event: dict, now: datetime) -> list[Cell]:
    # Events written through events.k8s.io carry eventTime instead of firstTimestamp.
    first = parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime"))
    first_seen = _since(first, now)
    last = parse_time(event.get("lastTimestamp"))
    last_seen = _since(last, now) if last else first_seen
    count = event.get("count") or 0
    if series := event.get("series"):
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = series.get("count") or 0
    elif count == 0:
        count = 1  # a singleton event of the new API has no count

    involved = event.get("involvedObject") or {}
    target = (involved.get("kind") or "").lower()
    if involved.get("name"):
        target = f"{target}/{involved['name']}"
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        last_seen,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {instance}" if instance else component,
        (event.get("message") or "").strip(),
        first_seen,
        count,
        _name(event),
    ]


# --- workloads ----------------------------------------------------------------------------------


def _deployment_cells(deployment: dict, now: datetime) -> list[Cell]:
    status = _status(deployment)
    try:
        selector = selector_string(_spec(deployment).get("selector"))
    except ValueError:
        selector = "<invalid>"
    return [
        _name(deployment),
        f"{status.get('readyReplicas', 0)}/{_replicas(deployment)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(deployment, now),
        *_container_cells(_template_spec(deployment)),
        selector,
    ]


def _replica_set_cells(replica_set: dict, now: datetime) -> list[Cell]:
    status = _status(replica_set)
    return [
        _name(replica_set),
        _replicas(replica_set),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(replica_set, now),
        *_container_cells(_template_spec(replica_set)),
        format_label_selector(_spec(replica_set).get("selector")),
    ]


def _replication_controller_cells(controller: dict, now: datetime) -> list[Cell]:
    """As a ReplicaSet's, but the selector is a plain map of labels (and the template optional)."""
    status = _status(controller)
    return [
        _name(controller),
        _replicas(controller),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(controller, now),
        *_container_cells(_template_spec(controller)),
        format_labels(_spec(controller).get("selector")),
    ]


def _stateful_set_cells(stateful_set: dict, now: datetime) -> list[Cell]:
    return [
        _name(stateful_set),
        f"{_status(stateful_set).get('readyReplicas', 0)}/{_replicas(stateful_set)}",
        _age(stateful_set, now),
        *_container_cells(_template_spec(stateful_set)),
    ]


def _daemon_set_cells(daemon_set: dict, now: datetime) -> list[Cell]:
    status = _status(daemon_set)
    return [
        _name(daemon_set),
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        format_labels(_template_spec(daemon_set).get("nodeSelector")),
        _age(daemon_set, now),
        *_container_cells(_template_spec(daemon_set)),
        format_label_selector(_spec(daemon_set).get("selector")),
    ]


def _job_status(job: dict) -> str:
    conditions = _status(job).get("conditions") or []
    if _condition_true(conditions, "Complete"):
        return "Complete"
    if _condition_true(conditions, "Failed"):
        return "Failed"
    if _meta(job).get("deletionTimestamp"):
        return "Terminating"
    for condition_type in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _condition_true(conditions, condition_type):
            return condition_type
    return "Running"


def _job_completions(job: dict) -> str:
    spec, succeeded = _spec(job), _status(job).get("succeeded", 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    # No completions: a work queue, done after one success however many run at once.
    parallelism = spec.get("parallelism") or 0
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: dict, now: datetime) -> str:
    status = _status(job)
    started = parse_time(status.get("startTime"))
    if started is None:
        return ""
    finished = parse_time(status.get("completionTime")) or _aware(now)
    return human_duration((finished - started).total_seconds())


def _job_cells(job: dict, now: datetime) -> list[Cell]:
    return [
        _name(job),
        _job_status(job),
        _job_completions(job),
        _job_duration(job, now),
        _age(job, now),
        *_container_cells(_template_spec(job)),
        format_label_selector(_spec(job).get("selector")),
    ]


def _cron_job_cells(cron_job: dict, now: datetime) -> list[Cell]:
    spec, status = _spec(cron_job), _status(cron_job)
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    suspend = spec.get("suspend")
    last_schedule = status.get("lastScheduleTime")
    return [
        _name(cron_job),
        spec.get("schedule", ""),
        spec.get("timeZone") if spec.get("timeZone") is not None else "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(status.get("active") or []),
        translate_timestamp_since(last_schedule, now) if last_schedule else "<none>",
        _age(cron_job, now),
        *_container_cells((job_spec.get("template") or {}).get("spec") or {}),
        format_label_selector(job_spec.get("selector")),
    ]


# --- HorizontalPodAutoscaler ------------------------------------------------------------------------

# The MetricSpec member each metric type fills, and the MetricStatus member its current value is in.
_METRIC_MEMBERS = {
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}
_MOST_METRICS_SHOWN = 2


def _current(statuses: list, index: int, member: str) -> dict | None:
    """The `current` of the status at `index` when it is of the spec's member, as upstream pairs them."""
    status = statuses[index] if index < len(statuses) and isinstance(statuses[index], dict) else {}
    source = status.get(member)
    return (source.get("current") or {}) if isinstance(source, dict) else None


def _hpa_metric(spec: dict, statuses: list, index: int) -> str:
    """One metric as `kubectl get hpa` shows it: `cpu: 12%/50%`, `memory: 30Mi/100Mi`, `1k/2k (avg)`."""
    member = _METRIC_MEMBERS.get(spec.get("type", ""))
    if member is None:
        return "<unknown type>"
    source = spec.get(member) or {}
    target = source.get("target") or {}
    current = _current(statuses, index, member)
    if member in ("resource", "containerResource"):
        name = source.get("name", "")
        if target.get("averageValue") is not None:
            now = str((current or {}).get("averageValue", "<unknown>")) if current is not None else "<unknown>"
            return f"{name}: {now}/{target['averageValue']}"
        utilization = (current or {}).get("averageUtilization")
        now = f"{utilization}%" if utilization is not None else "<unknown>"
        wanted = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{name}: {now}/{wanted}"
    if member == "pods":
        now = str(current.get("averageValue", "0")) if current is not None else "<unknown>"
        return f"{now}/{target.get('averageValue', '0')}"
    if target.get("averageValue") is not None:  # Object and External per pod
        now = str(current["averageValue"]) if current and current.get("averageValue") is not None else "<unknown>"
        return f"{now}/{target['averageValue']} (avg)"
    now = str(current.get("value", "0")) if current is not None else "<unknown>"
    return f"{now}/{target.get('value', '0')}"


def format_hpa_metrics(specs: list, statuses: list) -> str:
    """The TARGETS cell: the first two metrics, and how many more there are."""
    if not specs:
        return "<none>"
    shown = [_hpa_metric(spec if isinstance(spec, dict) else {}, statuses, index) for index, spec in enumerate(specs)]
    if len(shown) > _MOST_METRICS_SHOWN:
        return f"{', '.join(shown[:_MOST_METRICS_SHOWN])} + {len(shown) - _MOST_METRICS_SHOWN} more..."
    return ", ".join(shown)


def _horizontal_pod_autoscaler_cells(hpa: dict, now: datetime) -> list[Cell]:
    hpa = to_storage(hpa)  # printed from the v2 form, whichever version was asked for
    spec, status = _spec(hpa), _status(hpa)
    reference = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [
        _name(hpa),
        f"{reference.get('kind', '')}/{reference.get('name', '')}",
        format_hpa_metrics(spec.get("metrics") or [], status.get("currentMetrics") or []),
        "<unset>" if minimum is None else str(minimum),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        _age(hpa, now),
    ]


# --- the registry -------------------------------------------------------------------------------

PRINTERS: dict[str, tuple[tuple[Column, ...], RowCells]] = {
    "Namespace": (NAMESPACE_COLUMNS, _namespace_cells),
    "Node": (NODE_COLUMNS, _node_cells),
    "Pod": (POD_COLUMNS, _pod_cells),
    "Service": (SERVICE_COLUMNS, _service_cells),
    "Endpoints": (ENDPOINTS_COLUMNS, _endpoints_cells),
    "ConfigMap": (CONFIG_MAP_COLUMNS, _config_map_cells),
    "Secret": (SECRET_COLUMNS, _secret_cells),
    "PersistentVolume": (PERSISTENT_VOLUME_COLUMNS, _persistent_volume_cells),
    "PersistentVolumeClaim": (PERSISTENT_VOLUME_CLAIM_COLUMNS, _persistent_volume_claim_cells),
    "Event": (EVENT_COLUMNS, _event_cells),
    "ServiceAccount": (SERVICE_ACCOUNT_COLUMNS, _name_age_cells),
    "ResourceQuota": (RESOURCE_QUOTA_COLUMNS, _resource_quota_cells),
    "LimitRange": (LIMIT_RANGE_COLUMNS, _created_at_cells),
    "EndpointSlice": (ENDPOINT_SLICE_COLUMNS, _endpoint_slice_cells),
    "Deployment": (DEPLOYMENT_COLUMNS, _deployment_cells),
    "ReplicaSet": (REPLICA_SET_COLUMNS, _replica_set_cells),
    "ReplicationController": (REPLICATION_CONTROLLER_COLUMNS, _replication_controller_cells),
    "StatefulSet": (STATEFUL_SET_COLUMNS, _stateful_set_cells),
    "DaemonSet": (DAEMON_SET_COLUMNS, _daemon_set_cells),
    "Job": (JOB_COLUMNS, _job_cells),
    "CronJob": (CRON_JOB_COLUMNS, _cron_job_cells),
    "StorageClass": (STORAGE_CLASS_COLUMNS, _storage_class_cells),
    "NetworkPolicy": (NETWORK_POLICY_COLUMNS, _network_policy_cells),
    "HorizontalPodAutoscaler": (HORIZONTAL_POD_AUTOSCALER_COLUMNS, _horizontal_pod_autoscaler_cells),
}
ROW_CONDITIONS: dict[str, Callable[[dict], list[dict]]] = {"Pod": _pod_row_conditions}


def _row_object(obj: dict, include_object: str) -> dict:
    if include_object == "Object":
        return obj
    # kubectl reads namespace (for -A) and labels (--show-labels, -L) from this metadata.
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}


def build_table(kind: str, objects: list[dict], *, now: datetime, include_object: str = "Metadata") -> dict:
    """A `meta.k8s.io/v1` Table of `objects` (all of one kind); the caller sets metadata.resourceVersion.

    `include_object` is the `includeObject` query parameter: `Metadata` (the default) puts each
    object's metadata in its row, `Object` the whole object, `None` nothing. An unknown kind
    gets NAME and AGE. Raises ValueError for any other `include_object`.
    """
    if include_object not in INCLUDE_OBJECT_MODES:
        raise ValueError(f"includeObject must be one of {', '.join(INCLUDE_OBJECT_MODES)}, not {include_object!r}")
    columns, cells = PRINTERS.get(kind, (DEFAULT_COLUMNS, _name_age_cells))
    conditions = ROW_CONDITIONS.get(kind)
    rows = []
    for obj in objects:
        row: dict = {"cells": cells(obj, now)}
        if conditions and (row_conditions := conditions(obj)):
            row["conditions"] = row_conditions
        if include_object != "None":
            row["object"] = _row_object(obj, include_object)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [column.definition() for column in columns],
        "rows": rows,
    }
