"""ResourceQuota: what an object costs a quota, whether the quotas of its namespace admit it, and
the status the quota controller keeps (upstream `pkg/quota/v1/evaluator/core`, the ResourceQuota
admission plugin of `k8s.io/apiserver/pkg/admission/plugin/resourcequota`, and the full
recalculation of `pkg/controller/resourcequota`).

What objects cost, by kind (the evaluators):

- a Pod: `count/pods` always; while it counts (not Succeeded or Failed, and not past its deletion
  time plus its grace period, as upstream's `QuotaV1Pod`), also `pods`, `cpu`/`requests.cpu`,
  `memory`/`requests.memory`, `limits.cpu`, `limits.memory`, the ephemeral-storage ones,
  hugepages and extended resources (`requests.<name>`), from what the pod asks for in total;
- a Service: `services` and `count/services`; `services.nodeports` (its ports, if NodePort or
  LoadBalancer) and `services.loadbalancers`;
- a PersistentVolumeClaim: `persistentvolumeclaims`, `count/persistentvolumeclaims`,
  `requests.storage`, and both per storage class (`<class>.storageclass.storage.k8s.io/…`);
- anything else: `count/<resource>[.<group>]`, and for ConfigMaps, Secrets,
  ReplicationControllers and ResourceQuotas also their old names (`configmaps`, …).

A quota applies to an object when its `status.hard` names a resource the object's kind costs and
its scopes (`spec.scopes`, `spec.scopeSelector`; they select pods only) match. Admission
(`quota_charge`) takes the namespace's quotas in order: a quota of cpu or memory refuses a pod
whose containers do not all set them (`failed quota: <q>: must specify limits.cpu for: web`); a
quota whose usage is not known yet refuses (`status unknown for quota: …`); then, if what the
object adds would take any quota past its hard limit, `exceeded quota: <q>, requested: …, used:
…, limited: …`; otherwise every applying quota's `status.used` grows by it. The controller's
`quota_status` recounts everything the namespace holds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta
from fractions import Fraction

from clusters.objects.pod_resources import (
    ZERO,
    ResourceList,
    add,
    equal,
    format_list,
    mask,
    parse_list,
    plus,
    pod_limits,
    pod_requests,
    subtract_non_negative,
    without_zeros,
)
from clusters.objects.quantity import Quantity
from clusters.objects.resources import RESOURCES, resource_for_kind
from clusters.objects.times import parse_time

ONE = Quantity(Fraction(1), "DecimalSI")
POD_RESOURCES = (
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
)
POD_RESOURCE_PREFIXES = ("hugepages-", "requests.hugepages-")
# "It was a mistake, but": a quota of these makes every container set them.
MUST_BE_SET = frozenset(("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"))
SERVICE_RESOURCES = ("count/services", "services", "services.nodeports", "services.loadbalancers")
CLAIM_RESOURCES = ("persistentvolumeclaims", "requests.storage")
STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
# Kinds whose object count has an older name of its own.
LEGACY_COUNT_NAMES = {
    ("", "configmaps"): "configmaps",
    ("", "resourcequotas"): "resourcequotas",
    ("", "replicationcontrollers"): "replicationcontrollers",
    ("", "secrets"): "secrets",
}
TERMINATING, NOT_TERMINATING = "Terminating", "NotTerminating"
BEST_EFFORT, NOT_BEST_EFFORT = "BestEffort", "NotBestEffort"
PRIORITY_CLASS, CROSS_NAMESPACE_AFFINITY = "PriorityClass", "CrossNamespacePodAffinity"
_NATIVE_DOMAIN = "kubernetes.io/"
BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
# The kinds an object count can name: every namespaced kind served (the controller's discovery).
_COUNTABLE = {(r.group, r.plural) for r in RESOURCES if r.namespaced}


class QuotaRefusal(Exception):
    """A quota refuses the object; str() is what follows `<kind> "<name>" is forbidden: `."""


def count_name(group: str, plural: str) -> str:
    """The object count resource of a kind: `count/pods`, `count/deployments.apps`."""
    return f"count/{plural}.{group}" if group else f"count/{plural}"


def _kind_of(obj: dict) -> tuple[str, str] | None:
    """(group, plural) of a stored object, or None for a kind not served."""
    resource = resource_for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
    return (resource.group, resource.plural) if resource is not None and resource.namespaced else None


# --- which resources a kind costs ---------------------------------------------------------------


def _is_native(name: str) -> bool:
    """IsNativeResource: unqualified, or in the kubernetes.io domain."""
    return "/" not in name or _NATIVE_DOMAIN in name


def _is_extended(name: str) -> bool:
    """An extended resource a container may ask for (`example.com/gpu`): qualified, not native, not `requests.`."""
    return not _is_native(name) and not name.startswith("requests.")


def _is_extended_for_quota(name: str) -> bool:
    return not _is_native(name) and name.startswith("requests.")


def matching_resources(group: str, plural: str, names: Iterable[str]) -> list[str]:
    """The resources among `names` that objects of this kind cost (an evaluator's MatchingResources)."""
    names = list(names)
    if (group, plural) == ("", "pods"):
        return [
            n for n in names if n in POD_RESOURCES or n.startswith(POD_RESOURCE_PREFIXES) or _is_extended_for_quota(n)
        ]
    if (group, plural) == ("", "services"):
        return [n for n in names if n in SERVICE_RESOURCES]
    if (group, plural) == ("", "persistentvolumeclaims"):
        by_class = tuple(STORAGE_CLASS_SUFFIX + r for r in CLAIM_RESOURCES)
        return [n for n in names if n == count_name(group, plural) or n in CLAIM_RESOURCES or n.endswith(by_class)]
    counted = {count_name(group, plural), LEGACY_COUNT_NAMES.get((group, plural))}
    return [n for n in names if n in counted]


def covers(quota: dict, group: str, plural: str) -> bool:
    """Whether the quota's `status.hard` limits anything objects of this kind cost."""
    return bool(matching_resources(group, plural, ((quota.get("status") or {}).get("hard") or {}).keys()))


# --- what an object costs -----------------------------------------------------------------------


def pod_counts(pod: dict, now: datetime) -> bool:
    """Upstream `QuotaV1Pod`: a pod is charged unless it finished (Succeeded or Failed) or its
    deletion is overdue (past its deletion time plus its grace period: a pod stuck terminating,
    say on a lost node, is not held against its namespace)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    stops = pod_stops_counting_at(pod)
    return stops is None or now <= stops


def pod_stops_counting_at(pod: dict) -> datetime | None:
    """When a pod being deleted stops counting: its deletion time plus its grace period."""
    metadata = pod.get("metadata") or {}
    deletion = parse_time(metadata.get("deletionTimestamp"))
    grace = metadata.get("deletionGracePeriodSeconds")
    if deletion is None or not isinstance(grace, int):
        return None
    return deletion + timedelta(seconds=grace)


def _compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """podComputeUsageHelper: `pods` and what requests and limits make of cpu, memory and the rest."""
    usage: ResourceList = {"pods": ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            usage[name] = requests[name]
            usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    for name, quantity in requests.items():
        if name.startswith("hugepages-"):
            usage[name] = quantity
            usage[f"requests.{name}"] = quantity
        if _is_extended(name):
            usage[f"requests.{name}"] = quantity
    return usage


def pod_usage(pod: dict, now: datetime) -> ResourceList:
    """PodUsageFunc."""
    usage: ResourceList = {"count/pods": ONE}
    if not pod_counts(pod, now):
        return usage
    return add(usage, _compute_usage(pod_requests(pod), pod_limits(pod)))


def service_usage(service: dict) -> ResourceList:
    spec = service.get("spec") or {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    usage: ResourceList = {
        "count/services": ONE,
        "services": ONE,
        "services.loadbalancers": ZERO,
        "services.nodeports": ZERO,
    }
    if spec.get("type") == "NodePort":
        usage["services.nodeports"] = Quantity(Fraction(len(ports)), "DecimalSI")
    elif spec.get("type") == "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is False:
            usage["services.nodeports"] = Quantity(Fraction(sum(1 for p in ports if p.get("nodePort"))), "DecimalSI")
        else:
            usage["services.nodeports"] = Quantity(Fraction(len(ports)), "DecimalSI")
        usage["services.loadbalancers"] = ONE
    return usage


def _whole_bytes(quantity: Quantity) -> Quantity:
    """Storage counts in whole bytes, rounded up (upstream issue 94313)."""
    return quantity if quantity.value.denominator == 1 else Quantity(Fraction(quantity.int_value()), quantity.format)


def claim_storage_class(claim: dict) -> str:
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    if BETA_STORAGE_CLASS in annotations:
        return annotations[BETA_STORAGE_CLASS]
    return (claim.get("spec") or {}).get("storageClassName") or ""


def claim_usage(claim: dict) -> ResourceList:
    usage: ResourceList = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE}
    storage_class = claim_storage_class(claim)
    if storage_class:
        usage[f"{storage_class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = ONE
    requested = parse_list(((claim.get("spec") or {}).get("resources") or {}).get("requests")).get("storage")
    allocated = parse_list((claim.get("status") or {}).get("allocatedResources")).get("storage")
    storage = _whole_bytes(requested) if requested is not None else None
    if allocated is not None and (storage is None or allocated.value > storage.value):
        storage = _whole_bytes(allocated)
    if storage is not None:
        usage["requests.storage"] = storage
        if storage_class:
            usage[f"{storage_class}{STORAGE_CLASS_SUFFIX}requests.storage"] = storage
    return usage


def usage(group: str, plural: str, obj: dict, now: datetime) -> ResourceList:
    """What one object of this kind costs."""
    if (group, plural) == ("", "pods"):
        return pod_usage(obj, now)
    if (group, plural) == ("", "services"):
        return service_usage(obj)
    if (group, plural) == ("", "persistentvolumeclaims"):
        return claim_usage(obj)
    counted: ResourceList = {count_name(group, plural): ONE}
    if (group, plural) in LEGACY_COUNT_NAMES:
        counted[LEGACY_COUNT_NAMES[(group, plural)]] = ONE
    return counted


# --- scopes -------------------------------------------------------------------------------------


def scope_selectors(quota: dict) -> list[dict]:
    """The quota's scopes and scope selector as one list of requirements."""
    spec = quota.get("spec") or {}
    selectors = [{"scopeName": scope, "operator": "Exists"} for scope in spec.get("scopes") or []]
    return selectors + list(((spec.get("scopeSelector") or {}).get("matchExpressions")) or [])


def _qos_best_effort(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = (container.get("resources") if isinstance(container, dict) else None) or {}
        for key in ("requests", "limits"):
            if any(name in ("cpu", "memory") for name in (resources.get(key) or {})):
                return False
    pod_level = spec.get("resources") or {}
    return not any(name in ("cpu", "memory") for key in ("requests", "limits") for name in pod_level.get(key) or {})


def _cross_namespace_affinity(pod: dict) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind) or {}
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        preferred = [
            w.get("podAffinityTerm") or {} for w in terms.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        ]
        if any(term.get("namespaces") or term.get("namespaceSelector") is not None for term in required + preferred):
            return True
    return False


def _pod_matches_scope(selector: dict, pod: dict) -> bool:
    """podMatchesScopeFunc."""
    spec = pod.get("spec") or {}
    scope = selector.get("scopeName")
    terminating = isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] >= 0
    if scope == TERMINATING:
        return terminating
    if scope == NOT_TERMINATING:
        return not terminating
    if scope == BEST_EFFORT:
        return _qos_best_effort(pod)
    if scope == NOT_BEST_EFFORT:
        return not _qos_best_effort(pod)
    if scope == PRIORITY_CLASS:
        priority_class = spec.get("priorityClassName") or ""
        operator, values = selector.get("operator"), selector.get("values") or []
        if operator == "Exists":
            return bool(priority_class)
        if operator == "DoesNotExist":
            return not priority_class
        if operator == "In":
            return bool(priority_class) and priority_class in values
        if operator == "NotIn":
            return not priority_class or priority_class not in values
        return False
    if scope == CROSS_NAMESPACE_AFFINITY:
        return _cross_namespace_affinity(pod)
    return False


def scopes_match(quota: dict, group: str, plural: str, obj: dict) -> bool:
    """Every scope of the quota matches the object (no scopes: everything); scopes select pods only."""
    selectors = scope_selectors(quota)
    if not selectors:
        return True
    if (group, plural) != ("", "pods"):
        return False
    return all(_pod_matches_scope(selector, obj) for selector in selectors)


def applies(quota: dict, group: str, plural: str, obj: dict) -> bool:
    """generic.Matches: the quota limits something this kind costs, and its scopes match the object."""
    return covers(quota, group, plural) and scopes_match(quota, group, plural, obj)


# --- admission -----------------------------------------------------------------------------------


def pod_constraints(required: Iterable[str], pod: dict) -> str | None:
    """A pod under a quota of cpu or memory must set them in every container: `must specify
    limits.cpu for: a,b; limits.memory for: a`, or None when it does."""
    required_set = set(required) & MUST_BE_SET
    if not required_set:
        return None
    spec = pod.get("spec") or {}
    missing: dict[str, set[str]] = {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = (container.get("resources") if isinstance(container, dict) else None) or {}
        usage_names = set(_compute_usage(parse_list(resources.get("requests")), parse_list(resources.get("limits"))))
        for name in required_set - usage_names:
            missing.setdefault(name, set()).add(container.get("name", ""))
    if not missing:
        return None
    return "must specify " + "; ".join(f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))


def pretty(resources: ResourceList) -> str:
    """prettyPrint: `name=value` pairs by name, comma-separated."""
    return ",".join(f"{name}={resources[name]}" for name in sorted(resources))


def _hard(quota: dict) -> ResourceList:
    return parse_list((quota.get("status") or {}).get("hard"))


def _used(quota: dict) -> ResourceList:
    return parse_list((quota.get("status") or {}).get("used"))


def quota_charge(
    quotas: list[dict], *, group: str, plural: str, obj: dict, now: datetime, old: dict | None = None
) -> list[dict]:
    """Upstream CheckRequest for a new object (or, with `old`, an update, charged by the
    difference): the quotas as they are once the object is admitted — a quota it changes is a new
    dict with its `status.used` grown, the others are returned as they came. Raises QuotaRefusal."""
    name_of = [(q.get("metadata") or {}).get("name", "") for q in quotas]
    interesting: list[int] = []
    for index, quota in enumerate(quotas):
        if not applies(quota, group, plural, obj):
            continue
        restricted = matching_resources(group, plural, _hard(quota).keys())
        if (group, plural) == ("", "pods"):
            problem = pod_constraints(restricted, obj)
            if problem:
                raise QuotaRefusal(f"failed quota: {name_of[index]}: {problem}")
        used = _used(quota)
        unknown = [name for name in restricted if name not in used]
        if unknown:
            raise QuotaRefusal(f"status unknown for quota: {name_of[index]}, resources: {','.join(sorted(restricted))}")
        interesting.append(index)
    if not interesting:
        return quotas
    cost = usage(group, plural, obj, now)
    negative = sorted(name for name, quantity in cost.items() if quantity.value < 0)
    if negative:
        raise QuotaRefusal(f"quota usage is negative for resource(s): {','.join(negative)}")
    deltas: dict[int, ResourceList] = {}
    for index in interesting:
        delta = cost
        if old is not None and applies(quotas[index], group, plural, old):
            delta = subtract_non_negative(cost, usage(group, plural, old, now))
        delta = without_zeros(delta)
        if delta:
            deltas[index] = delta
    charged = list(quotas)
    for index, delta in deltas.items():
        quota, hard, used = quotas[index], _hard(quotas[index]), _used(quotas[index])
        requested = mask(delta, hard.keys())
        grown = add(used, requested)
        exceeded = [
            name for name, quantity in mask(grown, requested.keys()).items() if quantity.value > hard[name].value
        ]
        if exceeded:
            raise QuotaRefusal(
                f"exceeded quota: {name_of[index]}, requested: {pretty(mask(requested, exceeded))}, "
                f"used: {pretty(mask(used, exceeded))}, limited: {pretty(mask(hard, exceeded))}"
            )
        quota = copy.deepcopy(quota)
        quota["status"]["used"] = format_list(grown)
        charged[index] = quota
    return charged


# --- the controller's recount ---------------------------------------------------------------------


def _counted_kind(name: str) -> tuple[str, str] | None:
    """(group, plural) an object count resource names: `count/deployments.apps` → ("apps", "deployments")."""
    if not name.startswith("count/"):
        return None
    plural, _, group = name.removeprefix("count/").partition(".")
    return (group, plural) if (group, plural) in _COUNTABLE else None


def _tracked(names: Iterable[str]) -> list[str]:
    """The resources among `names` some evaluator counts; the others stay out of `status.used`."""
    names = list(names)
    tracked = set(matching_resources("", "pods", names))
    tracked |= set(matching_resources("", "services", names))
    tracked |= set(matching_resources("", "persistentvolumeclaims", names))
    tracked |= {name for name in names if name in LEGACY_COUNT_NAMES.values() or _counted_kind(name)}
    return [name for name in names if name in tracked]


def quota_status(quota: dict, objects: Iterable[dict], *, now: datetime) -> dict:
    """The status the quota controller writes: `hard` as the spec says, `used` recounted over
    `objects` (everything stored in the quota's namespace; others are skipped), zero for every
    limited resource that nothing uses."""
    namespace = (quota.get("metadata") or {}).get("namespace", "")
    hard = parse_list((quota.get("spec") or {}).get("hard"))
    tracked = _tracked(hard)
    used: ResourceList = dict.fromkeys(tracked, ZERO)
    for obj in objects:
        kind = _kind_of(obj)
        if kind is None or (obj.get("metadata") or {}).get("namespace", "") != namespace:
            continue
        names = matching_resources(*kind, tracked)
        if not names or not scopes_match(quota, *kind, obj):
            continue
        cost = usage(*kind, obj, now)
        for name in names:
            if name in cost:
                used[name] = plus(used[name], cost[name])
    return {"hard": format_list(hard), "used": format_list(used)}


def status_equal(left: dict, right: dict) -> bool:
    """The same hard limits and the same usage, amounts compared (`1Gi` equals `1024Mi`)."""
    return all(equal(parse_list((left or {}).get(key)), parse_list((right or {}).get(key))) for key in ("hard", "used"))


def counts_kind(quota: dict, group: str, plural: str) -> bool:
    """Whether the quota's spec limits anything objects of this kind cost (say `count/events`)."""
    return bool(matching_resources(group, plural, ((quota.get("spec") or {}).get("hard") or {}).keys()))
