"""Resource lists and what a pod asks for in total (upstream `k8s.io/component-helpers/resource`
and the list arithmetic of `k8s.io/apiserver/pkg/quota/v1`).

A resource list here maps a resource name to a `Quantity`; bodies keep canonical strings, read by
`parse_list` and written back by `format_list`. Sums keep the format upstream's `Quantity.Add`
keeps (a zero takes the other side's), so `600Mi + 200Mi` prints `800Mi` and `400m + 400m`
`800m`.

`pod_requests` and `pod_limits` are upstream's `PodRequests` and `PodLimits`: the containers'
sum, at least what any init container needs while it runs (itself plus the sidecars started
before it, which also run beside the containers), pod-level `spec.resources` for cpu and memory
in place of the containers' total, and the pod's overhead (to limits only where a limit is set).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from clusters.objects.quantity import Quantity, QuantityError, quantity_from_json

ResourceList = dict[str, Quantity]
ZERO = Quantity(Fraction(0), "DecimalSI")
# The resources pod-level `spec.resources` may set (upstream `IsSupportedPodLevelResource`).
POD_LEVEL_RESOURCES = ("cpu", "memory")


def parse_list(raw: Any) -> ResourceList:
    """A stored resource list as quantities; values that do not parse (validation reports them) are left out."""
    if not isinstance(raw, dict):
        return {}
    parsed: ResourceList = {}
    for name, value in raw.items():
        try:
            parsed[name] = quantity_from_json(value)
        except QuantityError:
            continue
    return parsed


def format_list(resources: ResourceList) -> dict[str, str]:
    """The list as the API writes it: each quantity in its canonical form."""
    return {name: str(quantity) for name, quantity in resources.items()}


def plus(left: Quantity, right: Quantity) -> Quantity:
    """`left.Add(right)`: the sum, in left's format unless left is zero."""
    return Quantity(left.value + right.value, right.format if left.value == 0 else left.format)


def minus(left: Quantity, right: Quantity) -> Quantity:
    """`left.Sub(right)`: the difference, in left's format unless left is zero."""
    return Quantity(left.value - right.value, right.format if left.value == 0 else left.format)


def add(left: ResourceList, right: ResourceList) -> ResourceList:
    """`quota.Add`: every name of either list, summed where both have it."""
    total = dict(left)
    for name, quantity in right.items():
        total[name] = plus(total[name], quantity) if name in total else quantity
    return total


def subtract_non_negative(left: ResourceList, right: ResourceList) -> ResourceList:
    """`quota.SubtractWithNonNegativeResult`: left minus right, never below zero."""
    result: ResourceList = {}
    for name, quantity in left.items():
        difference = minus(quantity, right[name]) if name in right else quantity
        result[name] = difference if difference.value > 0 else ZERO
    for name in right:
        result.setdefault(name, ZERO)
    return result


def mask(resources: ResourceList, names: Iterable[str]) -> ResourceList:
    """`quota.Mask`: only the named resources."""
    wanted = set(names)
    return {name: quantity for name, quantity in resources.items() if name in wanted}


def without_zeros(resources: ResourceList) -> ResourceList:
    """`quota.RemoveZeros`."""
    return {name: quantity for name, quantity in resources.items() if quantity.value != 0}


def equal(left: ResourceList, right: ResourceList) -> bool:
    """`quota.Equals`: the same names with the same amounts, whatever their formats."""
    return left.keys() == right.keys() and all(left[name].value == right[name].value for name in left)


def _add_into(total: ResourceList, resources: ResourceList) -> None:
    for name, quantity in resources.items():
        total[name] = plus(total[name], quantity) if name in total else quantity


def _max_into(total: ResourceList, resources: ResourceList) -> None:
    for name, quantity in resources.items():
        if name not in total or quantity.value > total[name].value:
            total[name] = quantity


def _container_lists(pod: dict, key: str) -> tuple[list[ResourceList], list[tuple[ResourceList, bool]]]:
    spec = pod.get("spec") or {}

    def of(container: Any) -> ResourceList:
        resources = container.get("resources") if isinstance(container, dict) else None
        return parse_list((resources or {}).get(key) if isinstance(resources, dict) else None)

    containers = [of(c) for c in spec.get("containers") or []]
    init = [
        (of(c), isinstance(c, dict) and c.get("restartPolicy") == "Always") for c in spec.get("initContainers") or []
    ]
    return containers, init


def _aggregate(pod: dict, key: str) -> ResourceList:
    """AggregateContainerRequests / AggregateContainerLimits."""
    containers, init = _container_lists(pod, key)
    total: ResourceList = {}
    for resources in containers:
        _add_into(total, resources)
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for resources, is_sidecar in init:
        if is_sidecar:
            _add_into(total, resources)
            _add_into(sidecars, resources)
            running = dict(sidecars)
        else:
            running = dict(resources)
            _add_into(running, sidecars)
        _max_into(init_peak, running)
    _max_into(total, init_peak)
    return total


def _pod_level(pod: dict, key: str) -> ResourceList:
    resources = (pod.get("spec") or {}).get("resources")
    if not isinstance(resources, dict):
        return {}
    return mask(parse_list(resources.get(key)), POD_LEVEL_RESOURCES)


def pod_requests(pod: dict, *, overhead: bool = True) -> ResourceList:
    """Upstream `PodRequests`: what the scheduler and quotas count a pod as asking for."""
    requests = _aggregate(pod, "requests")
    requests.update(_pod_level(pod, "requests"))
    if overhead:
        _add_into(requests, parse_list((pod.get("spec") or {}).get("overhead")))
    return requests


def pod_limits(pod: dict, *, overhead: bool = True) -> ResourceList:
    """Upstream `PodLimits`: the pod's limits, overhead added only to the limits that are set."""
    limits = _aggregate(pod, "limits")
    limits.update(_pod_level(pod, "limits"))
    if overhead:
        for name, quantity in parse_list((pod.get("spec") or {}).get("overhead")).items():
            if name in limits:
                limits[name] = plus(limits[name], quantity)
    return limits
