"""The resource metrics API (metrics.k8s.io/v1beta1) as metrics-server serves it, for `kubectl top`.

NodeMetrics and PodMetrics are not stored objects: each request computes them from the usage the
node kubelets last sampled (clusters.usage_samples, kept in NodeRuntimeState.usage), for the nodes
and pods that exist now. A pod whose containers are not all measured yet is left out, as
metrics-server leaves it out (kubectl then says `metrics not available yet`); asking for one by
name answers NotFound, worded as metrics-server words it.

Kubelets sample when they run anyway; for them to sample at every resolution, someone must be
reading. Every read keeps the sandbox's kubelets sampling for WANTED_FOR, and wakes those whose
last sample is no longer fresh — so, as with logs, the cost falls on metrics someone reads, and
the first read after a quiet while finds no metrics until two samples are taken, like a
metrics-server that has just started.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from django.db.models import Q
from django.utils import timezone

from clusters import errors, store, workqueue
from clusters.models import NodeRuntimeState, Sandbox
from clusters.objects import selectors
from clusters.objects.durations import format_nanoseconds
from clusters.objects.quantity import Quantity
from clusters.objects.resources import METRICS_GROUP, METRICS_VERSION, resource_for_kind
from clusters.objects.times import format_time
from clusters.usage_samples import Measured, PodMeasured, Usage, node_usage, pod_usages, usage_fresh

NODES = resource_for_kind("v1", "Node")
PODS = resource_for_kind("v1", "Pod")
API_VERSION = f"{METRICS_GROUP}/{METRICS_VERSION}"
# metrics-server decodes field selectors with the default conversion: object metadata only.
FIELD_LABELS = ("metadata.name", "metadata.namespace")
WANTED_FOR = timedelta(minutes=10)
# A read extends the wish at most this often (one UPDATE a minute, not one per request) ...
WANTED_EXTEND_EVERY = timedelta(minutes=1)
# ... and wakes a kubelet with a stale sample at most this often, per process.
WAKE_EVERY = timedelta(seconds=1)
_woken: dict[tuple[int, str], datetime] = {}


# --- the bodies, as metrics-server writes them ---------------------------------------------------


def cpu_text(nanocores: int) -> str:
    """CPU as metrics-server writes it: nanocores in a quantity's canonical form (`1234567n`, `5m`)."""
    return str(Quantity(Fraction(nanocores, 10**9), "DecimalSI"))


def memory_text(memory_bytes: int) -> str:
    """Memory as metrics-server writes it: bytes in binary SI (`12345Ki`, `64Mi`; `1023`, `1k` below 1Ki)."""
    return str(Quantity(Fraction(memory_bytes), "BinarySI"))


def _usage(usage: Usage) -> dict:
    return {"cpu": cpu_text(usage.nanocores), "memory": memory_text(usage.memory_bytes)}


def _window(window: timedelta) -> str:
    return format_nanoseconds(window // timedelta(microseconds=1) * 1000)


def _metadata(obj: dict, now: datetime) -> dict:
    """Name, namespace and labels of the measured object; created now, as metrics-server has it."""
    source = obj["metadata"]
    metadata = {"name": source["name"]}
    if source.get("namespace"):
        metadata["namespace"] = source["namespace"]
    metadata["creationTimestamp"] = format_time(now)
    if source.get("labels"):
        metadata["labels"] = dict(source["labels"])
    return metadata


def node_metrics_body(node: dict, measured: Measured, *, now: datetime) -> dict:
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": _metadata(node, now),
        "timestamp": format_time(measured.at),
        "window": _window(measured.window),
        "usage": _usage(measured.usage),
    }


def pod_metrics_body(pod: dict, measured: PodMeasured, *, now: datetime) -> dict:
    """A PodMetrics, its containers in the order of the pod's spec."""
    spec = pod.get("spec", {})
    order = [c["name"] for c in [*spec.get("initContainers", []), *spec.get("containers", [])]]
    names = sorted(measured.containers, key=lambda name: (order.index(name) if name in order else len(order), name))
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": _metadata(pod, now),
        "timestamp": format_time(measured.at),
        "window": _window(measured.window),
        "containers": [{"name": name, "usage": _usage(measured.containers[name])} for name in names],
    }


def metrics_list(kind: str, items: list[dict]) -> dict:
    return {"kind": f"{kind}List", "apiVersion": API_VERSION, "metadata": {}, "items": items}


def check_field_selector(field_selector: str | None) -> None:
    """metrics-server's answer to a field selector on anything but the object's name and namespace."""
    try:
        requirements = selectors.parse_field_selector(field_selector)
    except selectors.SelectorError as error:
        raise errors.BadRequest(str(error)) from None
    for requirement in requirements:
        if requirement.path not in FIELD_LABELS:
            raise errors.BadRequest(
                f'"{requirement.path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )


# --- reading what the kubelets sampled -------------------------------------------------------------


def usage_wanted(*, sandbox: Sandbox, nodes: list[str], stale: set[str], now: datetime) -> None:
    """Someone reads metrics: keep the nodes' kubelets sampling for WANTED_FOR, and wake those of
    the `stale` nodes, whose last sample is too old to serve (each at most every WAKE_EVERY per
    process)."""
    until = now + WANTED_FOR
    NodeRuntimeState.objects.filter(sandbox=sandbox, node__in=nodes).filter(
        Q(usage_wanted_until__isnull=True) | Q(usage_wanted_until__lt=until - WANTED_EXTEND_EVERY)
    ).update(usage_wanted_until=until)
    woken = []
    for node in sorted(stale):
        last = _woken.get((sandbox.pk, node))
        if last is None or now - last >= WAKE_EVERY:
            _woken[(sandbox.pk, node)] = now
            woken.append(workqueue.kubelet_key(node))
    if woken:
        workqueue.work_request(sandbox.pk, woken)


def _records(sandbox: Sandbox, nodes: list[str], now: datetime) -> dict[str, dict]:
    """The usage records of `nodes` fresh enough to serve, by node; the kubelets are asked to go
    on sampling, and those with no fresh record to sample now."""
    rows = NodeRuntimeState.objects.filter(sandbox=sandbox, node__in=nodes).values_list("node", "usage")
    fresh = {node: usage for node, usage in rows if usage_fresh(usage, now=now)}
    usage_wanted(sandbox=sandbox, nodes=nodes, stale=set(nodes) - set(fresh), now=now)
    return fresh


def _all_nodes(sandbox: Sandbox) -> list[dict]:
    return store.objects_read(sandbox=sandbox, resource=NODES)


def _node_metrics(sandbox: Sandbox, nodes: list[dict]) -> list[dict]:
    now = timezone.now()
    records = _records(sandbox, [node["metadata"]["name"] for node in nodes], now)
    found = []
    for node in nodes:
        measured = node_usage(records.get(node["metadata"]["name"]))
        if measured is not None:
            found.append(node_metrics_body(node, measured, now=now))
    return found


def node_metrics_list(*, sandbox: Sandbox, label_selector: str | None = None, field_selector: str | None = None):
    """NodeMetrics of the nodes that match and are measured, by name."""
    check_field_selector(field_selector)
    nodes = store.objects_read(
        sandbox=sandbox, resource=NODES, label_selector=label_selector, field_selector=field_selector
    )
    return _node_metrics(sandbox, nodes)


def node_metrics_get(*, sandbox: Sandbox, name: str) -> dict:
    node = store.object_get(sandbox=sandbox, resource=NODES, namespace="", name=name)
    found = _node_metrics(sandbox, [node])
    if not found:
        raise errors.NotFound(
            f'nodemetrics.{METRICS_GROUP} "{name}" not found',
            details={"name": name, "group": METRICS_GROUP, "kind": "nodemetrics"},
        )
    return found[0]


def _pod_metrics(sandbox: Sandbox, pods: list[dict]) -> list[dict]:
    now = timezone.now()
    bound = [pod for pod in pods if pod.get("spec", {}).get("nodeName")]
    if not bound:
        return []
    # Every node's record is read: a pod's containers are measured where the pod runs.
    records = _records(sandbox, [node["metadata"]["name"] for node in _all_nodes(sandbox)], now)
    measured: dict[str, PodMeasured] = {}
    for record in records.values():
        measured |= pod_usages(record)
    return [
        pod_metrics_body(pod, measured[pod["metadata"]["uid"]], now=now)
        for pod in bound
        if pod["metadata"]["uid"] in measured
    ]


def pod_usages_read(*, sandbox: Sandbox) -> dict[str, PodMeasured]:
    """By pod uid, what metrics-server would serve of every measured pod of the sandbox: the
    HorizontalPodAutoscaler controller's read, which, like any reader's, keeps the kubelets
    sampling."""
    now = timezone.now()
    records = _records(sandbox, [node["metadata"]["name"] for node in _all_nodes(sandbox)], now)
    measured: dict[str, PodMeasured] = {}
    for record in records.values():
        measured |= pod_usages(record)
    return measured


def pod_metrics_list(
    *,
    sandbox: Sandbox,
    namespace: str | None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> list[dict]:
    """PodMetrics of the pods that match and are measured, by namespace and name."""
    check_field_selector(field_selector)
    pods = store.objects_read(
        sandbox=sandbox,
        resource=PODS,
        namespace=namespace,
        label_selector=label_selector,
        field_selector=field_selector,
    )
    return _pod_metrics(sandbox, pods)


def pod_metrics_get(*, sandbox: Sandbox, namespace: str, name: str) -> dict:
    pod = store.object_get(sandbox=sandbox, resource=PODS, namespace=namespace, name=name)
    found = _pod_metrics(sandbox, [pod])
    if not found:
        raise errors.NotFound(
            f'podmetrics.{METRICS_GROUP} "{namespace}/{name}" not found',
            details={"name": f"{namespace}/{name}", "group": METRICS_GROUP, "kind": "podmetrics"},
        )
    return found[0]
