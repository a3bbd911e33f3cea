"""Kinds served at more than one version: each is stored at one (its storage version) and
converted on the way in and out, as the API server converts through its internal version.

Only the HorizontalPodAutoscaler has two: autoscaling/v2 (stored, preferred) and autoscaling/v1,
whose one CPU target is the v2 object's CPU utilization metric. What v1 cannot say travels in
annotations, as upstream's conversion keeps it (pkg/apis/autoscaling/v1/conversion.go): the
other metrics (`autoscaling.alpha.kubernetes.io/metrics`, in v1's MetricSpec shape), the current
metrics and conditions of the status, and the behavior — written, as upstream writes it, as
the internal Go struct without JSON tags (`{"ScaleUp":{"StabilizationWindowSeconds":0,…}}`).
Converting back reads them and drops them again.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from clusters.objects.resources import Resource, resource_for_kind

HPA = "HorizontalPodAutoscaler"
STORAGE_VERSIONS = {("autoscaling", HPA): "autoscaling/v2"}
METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP_ANNOTATIONS = (METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION)
DEFAULT_CPU_UTILIZATION = 80


def storage_resource(resource: Resource) -> Resource:
    """The resource a kind is stored as (itself, for a kind served at one version)."""
    stored = STORAGE_VERSIONS.get((resource.group, resource.kind))
    return resource_for_kind(stored, resource.kind) if stored else resource


def to_storage(body: dict) -> dict:
    """A body of any served version as its kind is stored (the same object when it is already)."""
    if body.get("apiVersion") == "autoscaling/v1" and body.get("kind") == HPA:
        return _hpa_v1_to_v2(body)
    return body


def to_version(body: dict, resource: Resource) -> dict:
    """A stored body as `resource`'s version serves it."""
    if resource.api_version == "autoscaling/v1" and resource.kind == HPA and body.get("apiVersion") != "autoscaling/v1":
        return _hpa_v2_to_v1(body)
    return body


# --- the shapes of a metric in v1's annotations (v2beta1's MetricSpec) ---------------------------------


def _target_to_v1(target: dict, prefix: str = "target") -> dict:
    out = {}
    if target.get("averageUtilization") is not None:
        out[f"{prefix}AverageUtilization"] = target["averageUtilization"]
    if target.get("averageValue") is not None:
        out[f"{prefix}AverageValue"] = target["averageValue"]
    if target.get("value") is not None:
        out[f"{prefix}Value"] = target["value"]
    return out


def _target_from_v1(source: dict, prefix: str = "target") -> dict:
    target: dict = {}
    if source.get(f"{prefix}AverageUtilization") is not None:
        target = {"type": "Utilization", "averageUtilization": source[f"{prefix}AverageUtilization"]}
    elif source.get(f"{prefix}AverageValue") is not None:
        target = {"type": "AverageValue", "averageValue": source[f"{prefix}AverageValue"]}
    elif source.get(f"{prefix}Value") is not None:
        target = {"type": "Value", "value": source[f"{prefix}Value"]}
    return target


def _metric_to_v1(metric: dict, *, status: bool) -> dict:
    kind = metric.get("type", "")
    prefix = "current" if status else "target"
    field = "current" if status else "target"
    out: dict[str, Any] = {"type": kind}
    if kind in ("Resource", "ContainerResource"):
        member = "resource" if kind == "Resource" else "containerResource"
        source = metric.get(member) or {}
        converted = {"name": source.get("name", "")}
        if kind == "ContainerResource":
            converted["container"] = source.get("container", "")
        out[member] = converted | _target_to_v1(source.get(field) or {}, prefix)
    elif kind == "Pods":
        source = metric.get("pods") or {}
        identity = source.get("metric") or {}
        converted = {"metricName": identity.get("name", "")} | _target_to_v1(source.get(field) or {}, prefix)
        if identity.get("selector") is not None:
            converted["selector"] = identity["selector"]
        out["pods"] = converted
    elif kind == "Object":
        source = metric.get("object") or {}
        identity = source.get("metric") or {}
        values = source.get(field) or {}
        converted = {"target": source.get("describedObject") or {}, "metricName": identity.get("name", "")}
        converted[f"{prefix}Value"] = values.get("value", "0")
        if values.get("averageValue") is not None:
            converted["averageValue"] = values["averageValue"]
        if identity.get("selector") is not None:
            converted["selector"] = identity["selector"]
        out["object"] = converted
    elif kind == "External":
        source = metric.get("external") or {}
        identity = source.get("metric") or {}
        converted = {"metricName": identity.get("name", "")} | _target_to_v1(source.get(field) or {}, prefix)
        if identity.get("selector") is not None:
            converted["metricSelector"] = identity["selector"]
        out["external"] = converted
    return out


def _metric_from_v1(metric: dict, *, status: bool) -> dict:
    kind = metric.get("type", "")
    prefix = "current" if status else "target"
    field = "current" if status else "target"
    out: dict[str, Any] = {"type": kind}
    if kind in ("Resource", "ContainerResource"):
        member = "resource" if kind == "Resource" else "containerResource"
        source = metric.get(member) or {}
        converted = {"name": source.get("name", "")}
        if kind == "ContainerResource":
            converted["container"] = source.get("container", "")
        values = _target_from_v1(source, prefix)
        if status:
            values.pop("type", None)
        out[member] = converted | {field: values}
    elif kind in ("Pods", "External"):
        member = kind.lower()
        source = metric.get(member) or {}
        identity = {"name": source.get("metricName", "")}
        selector = source.get("selector" if kind == "Pods" else "metricSelector")
        if selector is not None:
            identity["selector"] = selector
        values = _target_from_v1(source, prefix)
        if status:
            values.pop("type", None)
        out[member] = {"metric": identity, field: values}
    elif kind == "Object":
        source = metric.get("object") or {}
        identity = {"name": source.get("metricName", "")}
        if source.get("selector") is not None:
            identity["selector"] = source["selector"]
        values = {"value": source.get(f"{prefix}Value", "0")}
        if source.get("averageValue") is not None:
            values["averageValue"] = source["averageValue"]
        if not status:
            values["type"] = "AverageValue" if "averageValue" in values else "Value"
        out["object"] = {"describedObject": source.get("target") or {}, "metric": identity, field: values}
    return out


# --- the behavior as the internal struct marshals it ---------------------------------------------------------

_BEHAVIOR_FIELDS = {
    "scaleUp": "ScaleUp",
    "scaleDown": "ScaleDown",
    "stabilizationWindowSeconds": "StabilizationWindowSeconds",
    "selectPolicy": "SelectPolicy",
    "policies": "Policies",
    "tolerance": "Tolerance",
    "type": "Type",
    "value": "Value",
    "periodSeconds": "PeriodSeconds",
}
_RULES_FIELDS = ("stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance")


def _behavior_to_internal(behavior: dict) -> dict:
    def rules(value: dict | None) -> dict | None:
        if value is None:
            return None
        out = {}
        for key in _RULES_FIELDS:
            item = value.get(key)
            if key == "policies":
                item = [
                    {_BEHAVIOR_FIELDS[k]: policy.get(k) for k in ("type", "value", "periodSeconds")}
                    for policy in item or []
                ]
            out[_BEHAVIOR_FIELDS[key]] = item
        return out

    return {"ScaleUp": rules(behavior.get("scaleUp")), "ScaleDown": rules(behavior.get("scaleDown"))}


def _behavior_from_internal(encoded: dict) -> dict | None:
    by_go_name = {go: json_name for json_name, go in _BEHAVIOR_FIELDS.items()}

    def rules(value: Any) -> dict | None:
        if not isinstance(value, dict):
            return None
        out = {}
        for go_name, item in value.items():
            name = by_go_name.get(go_name)
            if name is None or item is None:
                continue
            if name == "policies":
                item = [
                    {by_go_name.get(k, k): v for k, v in policy.items()}
                    for policy in item or []
                    if isinstance(policy, dict)
                ]
            out[name] = item
        return out

    behavior = {key: rules(encoded.get(go)) for key, go in (("scaleUp", "ScaleUp"), ("scaleDown", "ScaleDown"))}
    behavior = {key: value for key, value in behavior.items() if value is not None}
    return behavior or None


# --- the two directions -----------------------------------------------------------------------------


def _annotations_without_round_trips(metadata: dict) -> dict:
    return {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in ROUND_TRIP_ANNOTATIONS}


def _json_annotation(annotations: dict, key: str) -> Any:
    try:
        return json.loads(annotations[key]) if key in annotations else None
    except ValueError:
        return None  # upstream ignores an annotation it cannot read


def _hpa_v2_to_v1(body: dict) -> dict:
    spec, status = body.get("spec") or {}, body.get("status")
    metadata = copy.deepcopy(body.get("metadata") or {})
    annotations = _annotations_without_round_trips(metadata)
    metrics = spec.get("metrics") or []
    v1_spec: dict[str, Any] = {"scaleTargetRef": copy.deepcopy(spec.get("scaleTargetRef") or {})}
    if spec.get("minReplicas") is not None:
        v1_spec["minReplicas"] = spec["minReplicas"]
    v1_spec["maxReplicas"] = spec.get("maxReplicas", 0)
    others = []
    for metric in metrics:
        source = metric.get("resource") or {}
        is_cpu = metric.get("type") == "Resource" and source.get("name") == "cpu"
        utilization = (source.get("target") or {}).get("averageUtilization")
        if is_cpu and "targetCPUUtilizationPercentage" not in v1_spec and utilization is not None:
            v1_spec["targetCPUUtilizationPercentage"] = utilization
        if not (is_cpu and utilization is not None):
            others.append(_metric_to_v1(metric, status=False))
    if others:
        annotations[METRICS_ANNOTATION] = json.dumps(others, separators=(",", ":"))
    if spec.get("behavior") is not None:
        annotations[BEHAVIOR_ANNOTATION] = json.dumps(_behavior_to_internal(spec["behavior"]), separators=(",", ":"))
    out: dict[str, Any] = {"apiVersion": "autoscaling/v1", "kind": HPA, "metadata": metadata, "spec": v1_spec}
    if status is not None:
        current = status.get("currentMetrics") or []
        v1_status: dict[str, Any] = {}
        for key in ("observedGeneration", "lastScaleTime"):
            if status.get(key) is not None:
                v1_status[key] = status[key]
        v1_status["currentReplicas"] = status.get("currentReplicas", 0)
        v1_status["desiredReplicas"] = status.get("desiredReplicas", 0)
        for metric in current:
            source = metric.get("resource") or {}
            utilization = (source.get("current") or {}).get("averageUtilization")
            if metric.get("type") == "Resource" and source.get("name") == "cpu" and utilization is not None:
                v1_status["currentCPUUtilizationPercentage"] = utilization
        if current:
            encoded = [_metric_to_v1(metric, status=True) for metric in current]
            annotations[CURRENT_METRICS_ANNOTATION] = json.dumps(encoded, separators=(",", ":"))
        if status.get("conditions"):
            annotations[CONDITIONS_ANNOTATION] = json.dumps(status["conditions"], separators=(",", ":"))
        out["status"] = v1_status
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return out


def _hpa_v1_to_v2(body: dict) -> dict:
    spec, status = body.get("spec") or {}, body.get("status")
    metadata = copy.deepcopy(body.get("metadata") or {})
    annotations = metadata.get("annotations") or {}
    v2_spec: dict[str, Any] = {"scaleTargetRef": copy.deepcopy(spec.get("scaleTargetRef") or {})}
    if spec.get("minReplicas") is not None:
        v2_spec["minReplicas"] = spec["minReplicas"]
    v2_spec["maxReplicas"] = spec.get("maxReplicas", 0)
    metrics = [_metric_from_v1(m, status=False) for m in _json_annotation(annotations, METRICS_ANNOTATION) or []]
    cpu = spec.get("targetCPUUtilizationPercentage")
    if cpu is not None:
        metrics.append(_cpu_metric(cpu))
    # v1's implicit default, made explicit (v1 had it in the controller): 80 % of the CPU request.
    v2_spec["metrics"] = metrics or [_cpu_metric(DEFAULT_CPU_UTILIZATION)]
    behavior = _json_annotation(annotations, BEHAVIOR_ANNOTATION)
    if isinstance(behavior, dict) and (converted := _behavior_from_internal(behavior)):
        v2_spec["behavior"] = converted
    out: dict[str, Any] = {"apiVersion": "autoscaling/v2", "kind": HPA, "metadata": metadata, "spec": v2_spec}
    if status is not None:
        v2_status = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if status.get(k) is not None}
        if status.get("currentReplicas"):
            v2_status["currentReplicas"] = status["currentReplicas"]
        v2_status["desiredReplicas"] = status.get("desiredReplicas", 0)
        current = _json_annotation(annotations, CURRENT_METRICS_ANNOTATION)
        if current is not None:
            v2_status["currentMetrics"] = [_metric_from_v1(m, status=True) for m in current]
        elif status.get("currentCPUUtilizationPercentage") is not None:
            utilization = status["currentCPUUtilizationPercentage"]
            v2_status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilization}}}
            ]
        conditions = _json_annotation(annotations, CONDITIONS_ANNOTATION)
        if conditions:
            v2_status["conditions"] = conditions
        out["status"] = v2_status
    kept = _annotations_without_round_trips(metadata)
    if kept:
        metadata["annotations"] = kept
    else:
        metadata.pop("annotations", None)
    return out


def _cpu_metric(utilization: int) -> dict:
    target = {"type": "Utilization", "averageUtilization": utilization}
    return {"type": "Resource", "resource": {"name": "cpu", "target": target}}
