"""The HorizontalPodAutoscaler controller's planner (upstream `pkg/controller/podautoscaler`).

Every sync period (15 s upstream; a new autoscaler waits one period for its first sync, as
upstream's rate-limited queue has it) each autoscaler reads its target's scale and the resource
metrics of the target's pods, and proposes a replica count per metric:

    desired = ceil(current * currentMetricValue / desiredMetricValue)

left alone while the ratio is within the tolerance (0.1). Pods are grouped as upstream groups
them: deleted and failed pods are ignored, pending ones and (for CPU) pods still starting up are
left out, and pods without metrics are counted conservatively — at 0 % on a scale-up, at the
target (or their whole request, whichever is more) on a scale-down — and a rebalance that would
turn the direction around does nothing. The highest proposal wins; it is then stabilized against
the recommendations of the window (the highest of the last 300 s for a scale-down) and limited by
the scaling policies of `behavior` (or, without one, by min/max and "double or 4 pods"), and the
target is scaled through its scale subresource. Conditions (AbleToScale, ScalingActive,
ScalingLimited) and Events say why, in upstream's words.

Upstream keeps the recommendations and the scale events in the controller's memory, not in the
API; so does this controller (the manager keeps a planner's memory between runs, see `remember`),
and, as upstream's after a restart, it starts again from the target's current size.

All pure: the metrics (what metrics-server would serve, per pod uid) and the memory come in as
arguments, `now` is given.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from clusters.controllers.actions import Action, Event, Patch, ref
from clusters.controllers.pods import format_time, merge_patch, parse_time, pod_phase, ready_condition
from clusters.controllers.state import ClusterState
from clusters.objects.quantity import Quantity, QuantityError, quantity_from_json
from clusters.objects.resources import RESOURCES, Resource
from clusters.objects.selectors import Requirement, labels_match, selector_from_match_labels

SOURCE = "horizontal-pod-autoscaler"
API_VERSION = "autoscaling/v2"
KIND = "HorizontalPodAutoscaler"
# kube-controller-manager's defaults: --horizontal-pod-autoscaler-sync-period, -tolerance,
# -downscale-stabilization, -cpu-initialization-period and -initial-readiness-delay.
SYNC_PERIOD = timedelta(seconds=15)
TOLERANCE = 0.1
DOWNSCALE_STABILIZATION = timedelta(minutes=5)
CPU_INITIALIZATION_PERIOD = timedelta(minutes=5)
INITIAL_READINESS_DELAY = timedelta(seconds=30)
# Without a behavior, one step grows a target at most to twice its size, or to 4 pods.
SCALE_UP_LIMIT_FACTOR = 2
SCALE_UP_LIMIT_MINIMUM = 4


# --- what the controller is given and remembers ----------------------------------------------


@dataclass(frozen=True)
class PodMetric:
    """One pod's usage as metrics-server serves it: per container, per resource, in milli-units
    (millicores; thousandths of a byte), over `window` ending at `timestamp`."""

    timestamp: datetime
    window: timedelta
    containers: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    at: datetime


@dataclass(frozen=True)
class ScaleEvent:
    change: int
    at: datetime
    outdated: bool = False


@dataclass(frozen=True)
class Memory:
    """What the controller remembers of one autoscaler between syncs (upstream: in memory)."""

    synced_at: datetime | None = None
    recommendations: tuple[Recommendation, ...] = ()
    scale_ups: tuple[ScaleEvent, ...] = ()
    scale_downs: tuple[ScaleEvent, ...] = ()


class MetricError(Exception):
    """A metric that could not be computed; str() is upstream's message."""


# --- the replica calculator (replica_calculator.go) ---------------------------------------------


@dataclass(frozen=True)
class Tolerances:
    down: float = TOLERANCE
    up: float = TOLERANCE

    def within(self, ratio: float) -> bool:
        return 1.0 - self.down <= ratio <= 1.0 + self.up


@dataclass(frozen=True)
class Sample:
    """A pod's value of one metric (milli-units), with when and over what window it was measured."""

    value: int
    timestamp: datetime | None = None
    window: timedelta = timedelta(0)


def _name(obj: dict) -> str:
    return obj["metadata"]["name"]


def _group_pods(
    pods: list[dict], samples: dict[str, Sample], resource: str, now: datetime
) -> tuple[int, set[str], set[str], set[str]]:
    """(ready count, unready, missing, ignored) as upstream's groupPods sorts the pods."""
    ready, unready, missing, ignored = 0, set(), set(), set()
    for pod in pods:
        name = _name(pod)
        if pod["metadata"].get("deletionTimestamp") or pod_phase(pod) == "Failed":
            ignored.add(name)
            continue
        if pod_phase(pod) == "Pending":
            unready.add(name)
            continue
        sample = samples.get(name)
        if sample is None:
            missing.add(name)
            continue
        if resource == "cpu" and _cpu_unready(pod, sample, now):
            unready.add(name)
            continue
        ready += 1
    return ready, unready, missing, ignored


def _cpu_unready(pod: dict, sample: Sample, now: datetime) -> bool:
    """A pod whose CPU sample may still show its start-up: not ready, or within the CPU
    initialization period and measured partly before it became ready."""
    condition = ready_condition(pod)
    started = parse_time((pod.get("status") or {}).get("startTime"))
    if condition is None or started is None:
        return True
    transition = parse_time(condition.get("lastTransitionTime"))  # None: Go's zero time, before anything
    if started + CPU_INITIALIZATION_PERIOD > now:
        measured_before_ready = (
            transition is not None and sample.timestamp is not None and sample.timestamp < transition + sample.window
        )
        return condition.get("status") == "False" or measured_before_ready
    return condition.get("status") == "False" and (transition is None or started + INITIAL_READINESS_DELAY > transition)


def _quantity_milli(raw: object) -> int | None:
    try:
        return quantity_from_json(raw).milli_value()
    except QuantityError:
        return None


def _counted_containers(pod: dict) -> list[dict]:
    """The containers whose requests count: the app containers and the sidecars (restartable
    init containers), which metrics-server measures too."""
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    return [*(spec.get("containers") or []), *sidecars]


def _requests(pods: list[dict], resource: str, container: str) -> dict[str, int]:
    requests = {}
    for pod in pods:
        total = 0
        for spec in _counted_containers(pod):
            if container and spec.get("name") != container:
                continue
            raw = ((spec.get("resources") or {}).get("requests") or {}).get(resource)
            value = _quantity_milli(raw) if raw is not None else None
            if value is None:
                raise MetricError(f"missing request for {resource} in container {spec.get('name')} of Pod {_name(pod)}")
            total += value
        requests[_name(pod)] = total
    return requests


def _utilization_ratio(samples: dict[str, Sample], requests: dict[str, int], target: int) -> tuple[float, int, int]:
    """(usage ratio, utilization %, average raw value) of the pods that have a request."""
    used = total_requests = counted = 0
    for name, sample in samples.items():
        if name in requests:
            used += sample.value
            total_requests += requests[name]
            counted += 1
    if total_requests == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = used * 100 // total_requests
    return utilization / target, utilization, used // counted


def _usage_ratio(samples: dict[str, Sample], target: int) -> tuple[float, int]:
    average = sum(sample.value for sample in samples.values()) // len(samples)
    return average / target, average


def _rebalanced(
    current: int,
    ratio: float,
    samples: dict[str, Sample],
    tolerances: Tolerances,
    recount,
) -> int:
    """The replica count after counting missing and unready pods conservatively (`recount`
    gives the new ratio); the current count when that would be too small a change or turn the
    direction around."""
    new_ratio = recount()
    if tolerances.within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    proposal = math.ceil(new_ratio * len(samples))
    if (new_ratio < 1.0 and proposal > current) or (new_ratio > 1.0 and proposal < current):
        return current
    return proposal


def resource_replicas(
    current: int,
    target_utilization: int,
    resource: str,
    tolerances: Tolerances,
    pods: list[dict],
    samples: dict[str, Sample],
    container: str,
    now: datetime,
) -> tuple[int, int, int]:
    """(replicas, utilization %, average milli-value) for a Utilization target (GetResourceReplicas)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    samples = dict(samples)
    ready, unready, missing, ignored = _group_pods(pods, samples, resource, now)
    for name in ignored | unready:
        samples.pop(name, None)
    if not samples:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    requests = _requests(pods, resource, container)
    ratio, utilization, raw = _utilization_ratio(samples, requests, target_utilization)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        return (current if tolerances.within(ratio) else math.ceil(ratio * ready)), utilization, raw
    if missing and ratio < 1.0:  # a scale-down: a missing pod counts as at the target, or at its request
        fallback = max(100, target_utilization)
        samples |= {name: Sample(requests[name] * fallback // 100) for name in missing}
    elif missing and ratio > 1.0:  # a scale-up: as idle
        samples |= {name: Sample(0) for name in missing}
    if scale_up_with_unready:
        samples |= {name: Sample(0) for name in unready}

    def recount() -> float:
        return _utilization_ratio(samples, requests, target_utilization)[0]

    return _rebalanced(current, ratio, samples, tolerances, recount), utilization, raw


def raw_resource_replicas(
    current: int,
    target: int,
    resource: str,
    tolerances: Tolerances,
    pods: list[dict],
    samples: dict[str, Sample],
    now: datetime,
) -> tuple[int, int]:
    """(replicas, average milli-value) for an AverageValue target (calcPlainMetricReplicas)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    samples = dict(samples)
    ready, unready, missing, ignored = _group_pods(pods, samples, resource, now)
    for name in ignored | unready:
        samples.pop(name, None)
    if not samples:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, usage = _usage_ratio(samples, target)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        return (current if tolerances.within(ratio) else math.ceil(ratio * ready)), usage
    if missing:
        samples |= {name: Sample(target if ratio < 1.0 else 0) for name in missing}
    if scale_up_with_unready:
        samples |= {name: Sample(0) for name in unready}
    return _rebalanced(current, ratio, samples, tolerances, lambda: _usage_ratio(samples, target)[0]), usage


# --- the metrics client ---------------------------------------------------------------------------


def _resource_samples(
    pods: list[dict], metrics: Mapping[str, PodMetric], resource: str, container: str, namespace: str
) -> dict[str, Sample]:
    """By pod name, the resource's usage of the pods metrics-server measured (GetResourceMetric):
    summed over the pod's containers, or of one container."""
    measured = [(pod, metrics[pod["metadata"]["uid"]]) for pod in pods if pod["metadata"]["uid"] in metrics]
    if not measured:
        raise MetricError("no metrics returned from resource metrics API")
    samples = {}
    for pod, metric in measured:
        if container:
            if container not in metric.containers:
                raise MetricError(
                    f"failed to get container metrics: container {container} not present in metrics for pod "
                    f"{namespace}/{_name(pod)}"
                )
            usage = metric.containers[container].get(resource)
            if usage is not None:
                samples[_name(pod)] = Sample(usage, metric.timestamp, metric.window)
            continue
        values = [usages.get(resource) for usages in metric.containers.values()]
        if values and all(value is not None for value in values):
            samples[_name(pod)] = Sample(sum(values), metric.timestamp, metric.window)
    return samples


# --- one autoscaler's sync (horizontal.go) --------------------------------------------------------


@dataclass
class _Sync:
    """What one sync decides, built up as upstream's reconcileAutoscaler goes."""

    hpa: dict
    now: datetime
    conditions: list[dict]
    actions: list[Action] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def condition(self, kind: str, status: str, reason: str, message: str) -> None:
        """setCondition: a new transition time only when the status changes."""
        found = next((c for c in self.conditions if c.get("type") == kind), None)
        if found is None:
            found = {"type": kind}
            self.conditions.append(found)
        if found.get("status") != status:
            found["lastTransitionTime"] = format_time(self.now)
        found.update(status=status, reason=reason, message=message)
        # The JSON order of the Go struct.
        ordered = {
            key: found[key] for key in ("type", "status", "lastTransitionTime", "reason", "message") if key in found
        }
        found.clear()
        found.update(ordered)

    def event(self, reason: str, message: str, kind: str = "Normal") -> None:
        self.events.append(Event(ref(self.hpa), reason, message, kind, SOURCE))

    def status_write(self, status: dict) -> None:
        """updateStatusIfNeeded: the status, with the conditions, when it changed."""
        status = {key: value for key, value in status.items() if value is not None}
        if self.conditions:
            status["conditions"] = self.conditions
        old = self.hpa.get("status") or {}
        if status == old:
            return
        metadata = self.hpa["metadata"]
        self.actions.append(
            Patch(
                API_VERSION,
                KIND,
                metadata["namespace"],
                metadata["name"],
                {"status": merge_patch(old, status)},
                subresource="status",
                resource_version=metadata.get("resourceVersion"),
                why=f"HorizontalPodAutoscaler {metadata['name']} wants {status.get('desiredReplicas', 0)} replicas",
            )
        )


def _status(hpa: dict, current: int, desired: int, metrics: list | None, *, scaled_at: datetime | None) -> dict:
    """setStatus: the fields upstream writes, in its JSON order (currentReplicas omitted when 0)."""
    old = hpa.get("status") or {}
    last_scale = format_time(scaled_at) if scaled_at else old.get("lastScaleTime")
    return {
        "lastScaleTime": last_scale,
        "currentReplicas": current or None,
        "desiredReplicas": desired,
        "currentMetrics": metrics,
    }


def _scalable(reference: dict) -> tuple[Resource | None, str]:
    """The resource a scaleTargetRef names (by group and kind, as upstream's REST mapper finds
    it), and the error upstream reports when there is none with a scale subresource."""
    api_version = reference.get("apiVersion") or ""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    kind = reference.get("kind", "")
    found = [r for r in RESOURCES if (r.group, r.kind) == (group, kind)]
    if not found:
        return None, f'no matches for kind "{kind}" in group "{group}"'
    if "scale" not in found[0].subresources:
        plural = f"{found[0].plural}.{group}" if group else found[0].plural
        return None, f"could not find scale subresource for {plural} in discovery information"
    return found[0], ""


def _target_selector(target: dict) -> tuple[Requirement, ...] | None:
    """The scale's selector: a LabelSelector, or a ReplicationController's map of labels; None when empty."""
    selector = (target.get("spec") or {}).get("selector") or {}
    if target["kind"] == "ReplicationController":
        selector = {"matchLabels": selector}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return None
    return selector_from_match_labels(selector)


def _tolerances(hpa: dict) -> Tolerances:
    behavior = (hpa.get("spec") or {}).get("behavior") or {}

    def tolerance(direction: str) -> float:
        raw = (behavior.get(direction) or {}).get("tolerance")
        try:
            return float(quantity_from_json(raw).value) if raw is not None else TOLERANCE
        except QuantityError:
            return TOLERANCE

    return Tolerances(down=tolerance("scaleDown"), up=tolerance("scaleUp"))


def _milli_quantity(milli: int) -> str:
    return str(Quantity(Fraction(milli, 1000), "DecimalSI"))


@dataclass(frozen=True)
class _Proposal:
    replicas: int
    metric: str
    status: dict


_FAILURE_REASONS = {
    "Resource": "FailedGetResourceMetric",
    "ContainerResource": "FailedGetContainerResourceMetric",
    "Pods": "FailedGetPodsMetric",
    "Object": "FailedGetObjectMetric",
    "External": "FailedGetExternalMetric",
}


def _resource_proposal(
    spec: dict, kind: str, current: int, pods: list[dict], metrics: Mapping[str, PodMetric], hpa: dict, now: datetime
) -> _Proposal:
    """computeStatusForResourceMetricGeneric, for Resource and ContainerResource metrics."""
    member = "resource" if kind == "Resource" else "containerResource"
    source = spec.get(member) or {}
    name, target = source.get("name", ""), source.get("target") or {}
    container = source.get("container", "") if kind == "ContainerResource" else ""
    namespace = hpa["metadata"]["namespace"]
    tolerances = _tolerances(hpa)
    identity = {"name": name, **({"container": container} if container else {})}
    if target.get("averageValue") is not None:
        try:
            samples = _resource_samples(pods, metrics, name, container, namespace)
            wanted = quantity_from_json(target["averageValue"]).milli_value()
            replicas, usage = raw_resource_replicas(current, wanted, name, tolerances, pods, samples, now)
        except MetricError as error:
            raise MetricError(f"failed to get {name} usage: {_unable(name, error)}") from None
        current_value = {"averageValue": _milli_quantity(usage)}
        return _Proposal(replicas, f"{name} resource", {"type": kind, member: {**identity, "current": current_value}})
    if target.get("averageUtilization") is None:
        raise MetricError(
            "invalid resource metric source: neither an average utilization target nor an average value (usage) "
            "target was set"
        )
    try:
        samples = _resource_samples(pods, metrics, name, container, namespace)
        replicas, utilization, raw = resource_replicas(
            current, target["averageUtilization"], name, tolerances, pods, samples, container, now
        )
    except MetricError as error:
        raise MetricError(f"failed to get {name} utilization: {_unable(name, error)}") from None
    what = "container resource" if kind == "ContainerResource" else "resource"
    current_value = {"averageValue": _milli_quantity(raw), "averageUtilization": utilization}
    return _Proposal(
        replicas,
        f"{name} {what} utilization (percentage of request)",
        {"type": kind, member: {**identity, "current": current_value}},
    )


def _unable(resource: str, error: MetricError) -> str:
    """The metrics client's failures are reported as GetResourceReplicas wraps them."""
    text = str(error)
    if text.startswith(("no metrics returned from resource metrics API", "failed to get container metrics")):
        return f"unable to get metrics for resource {resource}: {text}"
    return text


def _custom_metric_error(spec: dict, kind: str, namespace: str) -> str:
    """Pods, Object and External metrics come from APIs this cluster does not serve (no adapter
    is installed), worded as the HPA reports a missing custom or external metrics API."""
    source = spec.get({"Pods": "pods", "Object": "object", "External": "external"}[kind]) or {}
    metric = (source.get("metric") or {}).get("name", "")
    if kind == "Pods":
        reason = (
            "unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered"
        )
        return f"failed to get pods metric value: unable to get metric {metric}: {reason}"
    if kind == "Object":
        described = source.get("describedObject") or {}
        reason = (
            "unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered"
        )
        return (
            f"failed to get object metric value: unable to get metric {metric}: {described.get('kind', '')} on "
            f"{namespace} {described.get('name', '')}/{reason}"
        )
    reason = (
        "unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) "
        "registered"
    )
    return (
        f"failed to get {metric} external metric value: unable to get external metric {namespace}/{metric}/nil: "
        f"{reason}"
    )


def _proposals(
    sync: _Sync, hpa: dict, current: int, pods: list[dict], metrics: Mapping[str, PodMetric]
) -> tuple[int, str, list[dict], str]:
    """computeReplicasForMetrics: (replicas or -1, the winning metric, statuses, error or "")."""
    specs = (hpa.get("spec") or {}).get("metrics") or []
    statuses: list[dict] = [{"type": ""} for _ in specs]
    replicas, metric, invalid, first_error, first_condition = 0, "", 0, "", None
    for index, spec in enumerate(specs):
        kind = spec.get("type", "")
        try:
            if kind in ("Resource", "ContainerResource"):
                try:
                    proposal = _resource_proposal(spec, kind, current, pods, metrics, hpa, sync.now)
                except MetricError as error:
                    sync.event(_FAILURE_REASONS[kind], str(error), "Warning")
                    source = spec.get("resource" if kind == "Resource" else "containerResource") or {}
                    which = source.get("name", "") if kind == "Resource" else source.get("container", "")
                    noun = "resource" if kind == "Resource" else "container"
                    condition = (_FAILURE_REASONS[kind], f"the HPA was unable to compute the replica count: {error}")
                    raise _Invalid(f"failed to get {which} {noun} metric value: {error}", condition) from None
            elif kind in ("Pods", "Object", "External"):
                message = _custom_metric_error(spec, kind, hpa["metadata"]["namespace"])
                inner = message.split(": ", 1)[1]
                sync.event(_FAILURE_REASONS[kind], inner, "Warning")
                raise _Invalid(
                    message, (_FAILURE_REASONS[kind], f"the HPA was unable to compute the replica count: {inner}")
                )
            else:
                message = f'unknown metric source type "{kind}"'
                sync.event("InvalidMetricSourceType", message, "Warning")
                raise _Invalid(
                    message, ("InvalidMetricSourceType", f"the HPA was unable to compute the replica count: {message}")
                )
        except _Invalid as failure:
            if not invalid:
                first_error, first_condition = str(failure), failure.condition
            invalid += 1
            continue
        statuses[index] = proposal.status
        if replicas == 0 or proposal.replicas > replicas:
            replicas, metric = proposal.replicas, proposal.metric
    error = f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: {first_error}" if invalid else ""
    if invalid and (invalid >= len(specs) or replicas < current):
        sync.condition("ScalingActive", "False", *first_condition)
        return -1, "", statuses, error
    sync.condition(
        "ScalingActive",
        "True",
        "ValidMetricFound",
        f"the HPA was able to successfully calculate a replica count from {metric}",
    )
    return replicas, metric, statuses, error


class _Invalid(Exception):
    def __init__(self, message: str, condition: tuple[str, str]) -> None:
        super().__init__(message)
        self.condition = condition


# --- stabilization and scaling policies -----------------------------------------------------------


def _stabilized_legacy(
    memory: Memory, desired: int, now: datetime, window: timedelta
) -> tuple[int, tuple[Recommendation, ...]]:
    """stabilizeRecommendation: the highest recommendation of the window; this one recorded in
    place of one that fell out of it."""
    cutoff = now - window
    highest, old = desired, None
    for index, recommendation in enumerate(memory.recommendations):
        if recommendation.at < cutoff:
            old = index
        elif recommendation.replicas > highest:
            highest = recommendation.replicas
    return highest, _recorded(memory.recommendations, old, Recommendation(desired, now))


def _recorded(items: tuple, old: int | None, new) -> tuple:
    if old is None:
        return (*items, new)
    return (*items[:old], new, *items[old + 1 :])


def _limited_legacy(current: int, desired: int, minimum: int, maximum: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: min, max and the "double or 4 pods" step."""
    scale_up_limit = max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM)
    if maximum > scale_up_limit:
        top, reason, message = (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    else:
        top, reason, message = (
            maximum,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    if desired < minimum:
        return minimum, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > top:
        return top, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def _stabilized(
    memory: Memory, current: int, desired: int, up: dict, down: dict, now: datetime
) -> tuple[int, tuple[Recommendation, ...], str, str]:
    """stabilizeRecommendationWithBehaviors: the lowest of the scale-up window and the highest
    of the scale-down window bound the recommendation."""
    up_cutoff = now - timedelta(seconds=up.get("stabilizationWindowSeconds") or 0)
    down_cutoff = now - timedelta(seconds=down.get("stabilizationWindowSeconds") or 0)
    up_recommendation = down_recommendation = desired
    old = None
    for index, recommendation in enumerate(memory.recommendations):
        if recommendation.at > up_cutoff:
            up_recommendation = min(recommendation.replicas, up_recommendation)
        if recommendation.at > down_cutoff:
            down_recommendation = max(recommendation.replicas, down_recommendation)
        if recommendation.at < up_cutoff and recommendation.at < down_cutoff:
            old = index
    recommendation = min(max(current, up_recommendation), down_recommendation)
    recorded = _recorded(memory.recommendations, old, Recommendation(desired, now))
    if desired >= current:
        return (
            recommendation,
            recorded,
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    return (
        recommendation,
        recorded,
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent recommendation",
    )


def _changed_within(period_seconds: int, events: Iterable[ScaleEvent], now: datetime) -> int:
    cutoff = now - timedelta(seconds=period_seconds)
    return sum(event.change for event in events if event.at > cutoff)


def _policy_limit(current: int, memory: Memory, rules: dict, now: datetime, *, up: bool) -> int:
    """calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    # Max picks the policy allowing the biggest change: the highest limit up, the lowest down.
    pick = max if (select == "Max") == up else min
    proposals = []
    for policy in rules.get("policies") or []:
        period = policy.get("periodSeconds", 0)
        start = (
            current - _changed_within(period, memory.scale_ups, now) + _changed_within(period, memory.scale_downs, now)
        )
        value = policy.get("value", 0)
        if policy.get("type") == "Pods":
            proposals.append(start + value if up else start - value)
        elif up:
            proposals.append(math.ceil(start * (1 + value / 100)))
        else:
            proposals.append(int(start * (1 - value / 100)))
    return pick(proposals) if proposals else current


def _limited(current: int, desired: int, minimum: int, maximum: int, memory: Memory, behavior: dict, now: datetime):
    """convertDesiredReplicasWithBehaviorRate: the scaling policies of the direction, and min/max."""
    if desired > current:
        limit = max(_policy_limit(current, memory, behavior.get("scaleUp") or {}, now, up=True), current)
        if maximum > limit:
            top, reason, message = (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            top, reason, message = (
                maximum,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        if desired > top:
            return top, reason, message
    elif desired < current:
        limit = min(_policy_limit(current, memory, behavior.get("scaleDown") or {}, now, up=False), current)
        if minimum < limit:
            bottom, reason, message = (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        else:
            bottom, reason, message = (
                minimum,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if desired < bottom:
            return bottom, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def _longest_period(rules: dict) -> int:
    return max((policy.get("periodSeconds", 0) for policy in rules.get("policies") or []), default=0)


def _scale_event_stored(memory: Memory, behavior: dict | None, before: int, after: int, now: datetime) -> Memory:
    """storeScaleEvent: a change is kept (for the policies' periods) only with a behavior; one
    older than the direction's longest period makes room for it."""
    if behavior is None:
        return memory
    up = after > before
    rules = behavior.get("scaleUp" if up else "scaleDown") or {}
    cutoff = now - timedelta(seconds=_longest_period(rules))
    events = tuple(
        dataclasses.replace(event, outdated=event.outdated or event.at < cutoff)
        for event in (memory.scale_ups if up else memory.scale_downs)
    )
    old = next((index for index in range(len(events) - 1, -1, -1) if events[index].outdated), None)
    kept = _recorded(events, old, ScaleEvent(abs(after - before), now))
    return dataclasses.replace(memory, **{"scale_ups" if up else "scale_downs": kept})


def _with_scale_down_window(behavior: dict, downscale_stabilization: timedelta) -> dict:
    """maybeInitScaleDownStabilizationWindow: a scale-down without a window of its own takes the flag's."""
    down = behavior.get("scaleDown") or {}
    if down.get("stabilizationWindowSeconds") is None:
        down = {**down, "stabilizationWindowSeconds": int(downscale_stabilization.total_seconds())}
    return {**behavior, "scaleDown": down}


# --- the sync --------------------------------------------------------------------------------------


def _selected_pods(state: ClusterState, namespace: str, selector: tuple[Requirement, ...]) -> list[dict]:
    return [pod for pod in state.objects("Pod", namespace) if labels_match(selector, pod["metadata"].get("labels"))]


def autoscaler_sync(
    hpa: dict,
    state: ClusterState,
    *,
    now: datetime,
    metrics: Mapping[str, PodMetric],
    memory: Memory,
    downscale_stabilization: timedelta = DOWNSCALE_STABILIZATION,
) -> tuple[list[Action], Memory]:
    """One reconcile of one autoscaler: the actions, and what the controller remembers after it."""
    spec, metadata = hpa.get("spec") or {}, hpa["metadata"]
    namespace = metadata["namespace"]
    sync = _Sync(hpa, now, [dict(c) for c in (hpa.get("status") or {}).get("conditions") or []])
    memory = dataclasses.replace(memory, synced_at=now)
    reference = spec.get("scaleTargetRef") or {}
    resource, mapping_error = _scalable(reference)
    target = state.get(resource.kind, namespace, reference.get("name", "")) if resource else None
    if target is None:
        error = mapping_error or f'{resource.key} "{reference.get("name", "")}" not found'
        sync.event("FailedGetScale", error, "Warning")
        sync.condition(
            "AbleToScale",
            "False",
            "FailedGetScale",
            f"the HPA controller was unable to get the target's current scale: {error}",
        )
        sync.status_write({**(hpa.get("status") or {}), "conditions": None})
        return sync.events + sync.actions, memory
    sync.condition(
        "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale"
    )
    current = (target.get("spec") or {}).get("replicas", 1)
    if not memory.recommendations:
        memory = dataclasses.replace(memory, recommendations=(Recommendation(current, now),))
    minimum, maximum = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    behavior = spec.get("behavior")
    statuses: list[dict] | None = None
    reason, rescale = "", True
    if current == 0 and minimum != 0:
        desired, rescale = 0, False
        sync.condition(
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        )
    elif current > maximum:
        reason, desired = "Current number of replicas above Spec.MaxReplicas", maximum
    elif current < minimum:
        reason, desired = "Current number of replicas below Spec.MinReplicas", minimum
    else:
        selector = _target_selector(target)
        if selector is None:
            sync.event("SelectorRequired", "selector is required", "Warning")
            sync.condition("ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector")
            proposed, metric, statuses, error = (
                -1,
                "",
                [{"type": ""} for _ in spec.get("metrics") or []],
                "selector is required",
            )
        else:
            pods = _selected_pods(state, namespace, selector)
            proposed, metric, statuses, error = _proposals(sync, hpa, current, pods, metrics)
        if proposed == -1:
            old = hpa.get("status") or {}
            sync.status_write({**_status(hpa, current, old.get("desiredReplicas", 0), statuses, scaled_at=None)})
            sync.event("FailedComputeMetricsReplicas", error, "Warning")
            return sync.events + sync.actions, memory
        desired = proposed
        if desired > current:
            reason = f"{metric} above target"
        elif desired < current:
            reason = "All metrics below target"
        if behavior is None:
            stabilized, recorded = _stabilized_legacy(memory, desired, now, downscale_stabilization)
            if stabilized != desired:
                sync.condition(
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    "recent recommendations were higher than current one, applying the highest recent recommendation",
                )
            else:
                sync.condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
            limited, limit_reason, limit_message = _limited_legacy(current, stabilized, minimum, maximum)
        else:
            behavior = _with_scale_down_window(behavior, downscale_stabilization)
            stabilized, recorded, why, message = _stabilized(
                memory, current, desired, behavior.get("scaleUp") or {}, behavior["scaleDown"], now
            )
            if stabilized != desired:
                sync.condition("AbleToScale", "True", why, message)
            else:
                sync.condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
            limited, limit_reason, limit_message = _limited(
                current, stabilized, minimum, maximum, memory, behavior, now
            )
        memory = dataclasses.replace(memory, recommendations=recorded)
        sync.condition("ScalingLimited", "False" if limited == stabilized else "True", limit_reason, limit_message)
        desired = limited
        rescale = desired != current
    if rescale:
        sync.actions.append(
            Patch(
                target["apiVersion"],
                target["kind"],
                namespace,
                target["metadata"]["name"],
                {"spec": {"replicas": desired}},
                subresource="scale",
                resource_version=target["metadata"].get("resourceVersion"),
                why=f"HorizontalPodAutoscaler {metadata['name']}: New size: {desired}; reason: {reason}",
            )
        )
        sync.condition(
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        )
        sync.event("SuccessfulRescale", f"New size: {desired}; reason: {reason}")
        memory = _scale_event_stored(memory, behavior, current, desired, now)
    sync.status_write(_status(hpa, current, desired, statuses, scaled_at=now if rescale else None))
    # The scale first, its Event, then the status: a status write that loses a race keeps both.
    scale = [a for a in sync.actions if isinstance(a, Patch) and a.subresource == "scale"]
    rest = [a for a in sync.actions if a not in scale]
    return scale + sync.events + rest, memory


# --- the planner's entry points ----------------------------------------------------------------------


def _autoscalers(state: ClusterState) -> list[dict]:
    return [hpa for hpa in state.objects(KIND) if not hpa["metadata"].get("deletionTimestamp")]


def _due_at(hpa: dict, memory: Memory | None, sync_period: timedelta) -> datetime | None:
    """Every sync period; the first one period after the autoscaler was made (upstream's queue
    adds every autoscaler with its resync delay). None: at once."""
    if memory is not None and memory.synced_at is not None:
        return memory.synced_at + sync_period
    created = parse_time(hpa["metadata"].get("creationTimestamp"))
    return created + sync_period if created else None


def _is_due(hpa: dict, memory: Memory | None, sync_period: timedelta, now: datetime) -> bool:
    due = _due_at(hpa, memory, sync_period)
    return due is None or due <= now


def _synced(
    state: ClusterState,
    *,
    now: datetime,
    metrics: Mapping[str, PodMetric],
    memory: Mapping[str, Memory],
    sync_period: timedelta,
    downscale_stabilization: timedelta,
) -> tuple[list[Action], dict[str, Memory]]:
    actions: list[Action] = []
    remembered: dict[str, Memory] = {}
    for hpa in _autoscalers(state):
        uid = hpa["metadata"]["uid"]
        known = memory.get(uid)
        if not _is_due(hpa, known, sync_period, now):
            remembered[uid] = known
            continue
        planned, remembered[uid] = autoscaler_sync(
            hpa,
            state,
            now=now,
            metrics=metrics,
            memory=known or Memory(),
            downscale_stabilization=downscale_stabilization,
        )
        actions += planned
    return actions, remembered


def plan(
    state: ClusterState,
    *,
    now: datetime,
    metrics: Mapping[str, PodMetric] | None = None,
    memory: Mapping[str, Memory] | None = None,
    sync_period: timedelta = SYNC_PERIOD,
    downscale_stabilization: timedelta = DOWNSCALE_STABILIZATION,
) -> list[Action]:
    """What the autoscalers that are due for a sync do now."""
    return _synced(
        state,
        now=now,
        metrics=metrics or {},
        memory=memory or {},
        sync_period=sync_period,
        downscale_stabilization=downscale_stabilization,
    )[0]


def remember(
    state: ClusterState,
    *,
    now: datetime,
    metrics: Mapping[str, PodMetric] | None = None,
    memory: Mapping[str, Memory] | None = None,
    sync_period: timedelta = SYNC_PERIOD,
    downscale_stabilization: timedelta = DOWNSCALE_STABILIZATION,
) -> dict[str, Memory]:
    """What the controller remembers after `plan` (the same arguments): by autoscaler uid, only
    of the autoscalers that exist."""
    return _synced(
        state,
        now=now,
        metrics=metrics or {},
        memory=memory or {},
        sync_period=sync_period,
        downscale_stabilization=downscale_stabilization,
    )[1]


def next_wakeup(
    state: ClusterState,
    *,
    now: datetime,
    memory: Mapping[str, Memory] | None = None,
    sync_period: timedelta = SYNC_PERIOD,
    **_: object,
) -> datetime | None:
    """The next autoscaler's sync."""
    moments = [_due_at(hpa, (memory or {}).get(hpa["metadata"]["uid"]), sync_period) for hpa in _autoscalers(state)]
    return min((now if moment is None else max(moment, now) for moment in moments), default=None)
