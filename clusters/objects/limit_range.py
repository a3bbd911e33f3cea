"""LimitRange: the defaults and bounds a namespace's LimitRanges put on new pods and claims
(upstream's LimitRanger admission plugin, `plugin/pkg/admission/limitranger`).

Two halves, as the plugin has:

- mutating, pods only: `pod_with_defaults` gives every container and init container the
  `Container` items' `default` limits and `defaultRequest` requests it does not set, and notes
  what it set in the `kubernetes.io/limit-ranger` annotation ("LimitRanger plugin set: cpu,
  memory request for container web; memory limit for container web"), LimitRange by LimitRange;
- validating, pods and PersistentVolumeClaims: `refusal` checks `min`, `max` and
  `maxLimitRequestRatio` of the `Container`, `Pod` and `PersistentVolumeClaim` items and says,
  in upstream's words, what the first LimitRange that refuses the object finds wrong:
  `maximum cpu usage per Container is 800m, but limit is 1500m`, or several in brackets.

The store asks both on create (upstream skips pod updates: their containers cannot change), in
name order of the LimitRanges; the caller turns a refusal into `<kind> "<name>" is forbidden: …`.
Amounts compare as upstream's do: in thousandths when every value fits, else in whole units,
each rounded up. Within an item the resources go in the order the LimitRange lists them (Go's
map order, which upstream has, is random).
"""

from __future__ import annotations

import copy

from clusters.objects.pod_resources import ResourceList, parse_list, pod_limits, pod_requests
from clusters.objects.quantity import Quantity

ANNOTATION = "kubernetes.io/limit-ranger"
CONTAINER, POD, CLAIM = "Container", "Pod", "PersistentVolumeClaim"
# resource.MaxMilliValue: the largest value whose thousandths still fit an int64.
_MAX_MILLI_VALUE = (2**63 - 1) // 1000


def _items(limit_range: dict, kind: str) -> list[dict]:
    limits = (limit_range.get("spec") or {}).get("limits") or []
    return [item for item in limits if isinstance(item, dict) and item.get("type") == kind]


# --- the mutating half -------------------------------------------------------------------------


def _container_defaults(limit_range: dict) -> tuple[dict, dict]:
    """(requests, limits) a container gets when it sets none: the Container items' defaultRequest
    and default, a later item's over an earlier one's."""
    requests: dict = {}
    limits: dict = {}
    for item in _items(limit_range, CONTAINER):
        requests.update(item.get("defaultRequest") or {})
        limits.update(item.get("default") or {})
    return requests, limits


def _default_container(container: dict, requests: dict, limits: dict, prefix: str) -> list[str]:
    """Fill in what the container lacks; the annotation's parts saying what was set."""
    resources = container.setdefault("resources", {})  # Go serialises it always, `{}` at least
    if not isinstance(resources, dict) or not all(
        isinstance(resources.get(key) or {}, dict) for key in ("limits", "requests")
    ):
        return []  # not a resource list: left for validation to report
    set_limits = [name for name in limits if name not in (resources.get("limits") or {})]
    set_requests = [name for name in requests if name not in (resources.get("requests") or {})]
    notes = []
    if set_limits:
        resources["limits"] = {**(resources.get("limits") or {}), **{n: limits[n] for n in set_limits}}
    if set_requests:
        resources["requests"] = {**(resources.get("requests") or {}), **{n: requests[n] for n in set_requests}}
        notes.append(f"{', '.join(sorted(set_requests))} request for {prefix} {container.get('name', '')}")
    if set_limits:
        notes.append(f"{', '.join(sorted(set_limits))} limit for {prefix} {container.get('name', '')}")
    return notes


def pod_with_defaults(pod: dict, limit_ranges: list[dict]) -> dict:
    """The pod as LimitRanger's mutating half leaves it (a copy; the argument is not changed)."""
    pod = copy.deepcopy(pod)
    spec = pod.get("spec") or {}
    for limit_range in limit_ranges:
        requests, limits = _container_defaults(limit_range)
        if not requests and not limits:
            continue
        notes: list[str] = []
        for key, prefix in (("containers", "container"), ("initContainers", "init container")):
            for container in spec.get(key) or []:
                if isinstance(container, dict):
                    notes += _default_container(container, requests, limits, prefix)
        if notes:
            annotations = pod.setdefault("metadata", {}).setdefault("annotations", {})
            annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
    return pod


# --- the validating half -----------------------------------------------------------------------


def _compared(*quantities: Quantity | None) -> list[int]:
    """requestLimitEnforcedValues: the amounts in thousandths when all fit, else in whole units."""
    whole = [q.int_value() if q is not None else 0 for q in quantities]
    if all(value <= _MAX_MILLI_VALUE for value in whole):
        return [q.milli_value() if q is not None else 0 for q in quantities]
    return whole


def _minimum(kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    observed_request, observed_limit, bound = _compared(request, limit, enforced)
    if request is None:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if observed_request < bound:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {request}"
    if limit is not None and observed_limit < bound:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {limit}"
    return None


def _maximum(kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    observed_request, observed_limit, bound = _compared(request, limit, enforced)
    if limit is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if observed_limit > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {limit}"
    if request is not None and observed_request > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return None


def _maximum_request(kind: str, name: str, enforced: Quantity, requests: ResourceList) -> str | None:
    """maxRequestConstraint: a claim's max bounds what it requests (a claim has no limits)."""
    request = requests.get(name)
    observed_request, _, bound = _compared(request, None, enforced)
    if request is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No request is specified"
    if observed_request > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return None


def _ratio(kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    observed_request, observed_limit, _ = _compared(request, limit, enforced)
    if request is None or observed_request == 0:
        return (
            f"{name} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
        )
    if limit is None or observed_limit == 0:
        return f"{name} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
    ratio = observed_limit / observed_request
    shown, bound = ratio, float(enforced.int_value())
    if enforced.int_value() <= _MAX_MILLI_VALUE:
        ratio, bound = ratio * 1000, float(enforced.milli_value())
    if ratio > bound:
        return f"{name} max limit to request ratio per {kind} is {enforced}, but provided ratio is {shown:f}"
    return None


def _bounded(item: dict, kind: str, requests: ResourceList, limits: ResourceList) -> list[str]:
    """What one item's min, max and maxLimitRequestRatio find wrong with one set of requests and limits."""
    problems = [_minimum(kind, name, bound, requests, limits) for name, bound in parse_list(item.get("min")).items()]
    problems += [_maximum(kind, name, bound, requests, limits) for name, bound in parse_list(item.get("max")).items()]
    problems += [
        _ratio(kind, name, bound, requests, limits)
        for name, bound in parse_list(item.get("maxLimitRequestRatio")).items()
    ]
    return [problem for problem in problems if problem]


def _pod_problems(limit_range: dict, pod: dict) -> list[str]:
    """PodValidateLimitFunc."""
    spec = pod.get("spec") or {}
    problems: list[str] = []
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == CONTAINER:
            for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
                resources = (container.get("resources") if isinstance(container, dict) else None) or {}
                problems += _bounded(
                    item, CONTAINER, parse_list(resources.get("requests")), parse_list(resources.get("limits"))
                )
        elif item.get("type") == POD:
            # The pod as a whole, without its overhead (upstream's local podRequests/podLimits).
            problems += _bounded(item, POD, pod_requests(pod, overhead=False), pod_limits(pod, overhead=False))
    return problems


def _claim_problems(limit_range: dict, claim: dict) -> list[str]:
    """PersistentVolumeClaimValidateLimitFunc: min and max of what the claim requests."""
    requests = parse_list(((claim.get("spec") or {}).get("resources") or {}).get("requests"))
    problems: list[str | None] = []
    for item in _items(limit_range, CLAIM):
        problems += [_minimum(CLAIM, name, bound, requests, {}) for name, bound in parse_list(item.get("min")).items()]
        problems += [
            _maximum_request(CLAIM, name, bound, requests) for name, bound in parse_list(item.get("max")).items()
        ]
    return [problem for problem in problems if problem]


def aggregate_message(problems: list[str]) -> str:
    """What upstream's error aggregate prints: one message as it is, several (repeats once) in brackets."""
    unique = list(dict.fromkeys(problems))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def refusal(kind: str, obj: dict, limit_ranges: list[dict]) -> str | None:
    """Why the first of `limit_ranges` that refuses a new Pod or PersistentVolumeClaim refuses it; None if none does."""
    check = {"Pod": _pod_problems, "PersistentVolumeClaim": _claim_problems}.get(kind)
    if check is None:
        return None
    for limit_range in limit_ranges:
        problems = check(limit_range, obj)
        if problems:
            return aggregate_message(problems)
    return None
