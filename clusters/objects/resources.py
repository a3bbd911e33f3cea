"""The kinds the sandbox API serves: one table, read by discovery, routing, storage and printing.

The names, short names, categories and verbs are the upstream ones (what `kubectl api-resources`
shows against a real 1.37 cluster), so learners see the same vocabulary here as on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The Kubernetes minor version the API reports and whose schemas it validates against; the
# kubectl the tests use has the same minor version, so no skew warning is printed.
KUBE_VERSION = "1.37.0"

READ_WRITE = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_ONLY = ("get", "list", "watch")


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = READ_WRITE
    subresources: tuple[str, ...] = ()  # e.g. ("status", "scale")
    singular: str = field(default="")
    # False for kinds computed when asked, never stored (metrics.k8s.io): see METRICS_RESOURCES.
    stored: bool = True

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def singular_name(self) -> str:
        # metrics-server declares no singular name for its kinds.
        return self.singular or (self.kind.lower() if self.stored else "")

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def key(self) -> str:
        """`plural.group` as kubectl writes it (`deployments.apps`), or the plural for core."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: tuple[Resource, ...] = (
    # core/v1
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",), subresources=("status",)),
    Resource("", "v1", "Node", "nodes", False, ("no",), subresources=("status",)),
    Resource(
        "",
        "v1",
        "Pod",
        "pods",
        True,
        ("po",),
        ("all",),
        subresources=("status", "log", "exec", "attach", "portforward"),
    ),
    Resource("", "v1", "Service", "services", True, ("svc",), ("all",), subresources=("status",)),
    Resource("", "v1", "Endpoints", "endpoints", True, ("ep",), singular="endpoints"),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), subresources=("status",)),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), subresources=("status",)),
    Resource("", "v1", "Event", "events", True, ("ev",)),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    Resource("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), subresources=("status",)),
    Resource("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    Resource(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        True,
        ("rc",),
        ("all",),
        subresources=("status", "scale"),
    ),
    # discovery.k8s.io/v1
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    # apps/v1
    Resource("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",), subresources=("status", "scale")),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",), subresources=("status", "scale")),
    Resource("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",), subresources=("status", "scale")),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), subresources=("status",)),
    # autoscaling/v2 (the preferred version, listed first: discovery prefers the first of a group)
    Resource(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("all",),
        subresources=("status",),
    ),
    # autoscaling/v1: the same objects, stored as v2 (clusters.objects.conversion)
    Resource(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("all",),
        subresources=("status",),
    ),
    # batch/v1
    Resource("batch", "v1", "Job", "jobs", True, (), ("all",), subresources=("status",)),
    Resource("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), subresources=("status",)),
    # networking.k8s.io/v1 (no status subresource: NetworkPolicyStatus was removed in 1.28)
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    # storage.k8s.io/v1
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
)

# metrics.k8s.io/v1beta1, the resource metrics API, served as metrics-server serves it (read-only,
# no watch; clusters.metrics computes each answer from what the kubelets sampled). Kept out of
# RESOURCES: nothing stores, validates, prints or documents (OpenAPI) these kinds; discovery and
# the protocol's metrics routes (clusters.kube.metrics) are all that know them.
METRICS_GROUP = "metrics.k8s.io"
METRICS_VERSION = "v1beta1"
METRICS_RESOURCES: tuple[Resource, ...] = (
    Resource(METRICS_GROUP, METRICS_VERSION, "NodeMetrics", "nodes", False, verbs=("get", "list"), stored=False),
    Resource(METRICS_GROUP, METRICS_VERSION, "PodMetrics", "pods", True, verbs=("get", "list"), stored=False),
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.group_version, r.kind): r for r in RESOURCES}


def resource_for_path(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def resource_for_kind(api_version: str, kind: str) -> Resource | None:
    return _BY_KIND.get((api_version, kind))


def metrics_resource_for_path(version: str, plural: str) -> Resource | None:
    """The metrics.k8s.io resource at `/apis/metrics.k8s.io/<version>/<plural>`, if served."""
    return next((r for r in METRICS_RESOURCES if (r.version, r.plural) == (version, plural)), None)


def group_versions(resources: tuple[Resource, ...] = RESOURCES) -> list[tuple[str, str]]:
    """(group, version) pairs in a stable order, core first."""
    seen: list[tuple[str, str]] = []
    for resource in resources:
        pair = (resource.group, resource.version)
        if pair not in seen:
            seen.append(pair)
    return seen


def served_resources() -> tuple[Resource, ...]:
    """Every resource discovery announces: the stored kinds, then metrics.k8s.io's."""
    return RESOURCES + METRICS_RESOURCES


def served_group_versions() -> list[tuple[str, str]]:
    """The group-versions discovery announces (group_versions() names the stored kinds' only)."""
    return group_versions(served_resources())
