"""The bodies of `/version` and of API discovery (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`), as pure functions.

Discovery comes in two formats and kubectl understands both:

- legacy: `/api` (APIVersions) and `/apis` (APIGroupList) name the group-versions, and each
  group-version's APIResourceList is fetched separately;
- aggregated (`apidiscovery.k8s.io/v2`): `/api` and `/apis` answer everything in one
  APIGroupDiscoveryList each. client-go picks the format from the response *Content-Type*, not the
  body [client-go discovery/discovery_client.go `ContentTypeIsGVK`], so an aggregated answer must be
  sent with `AGGREGATED_CONTENT_TYPE` and only when `wants_aggregated(accept)` says so. The Python
  dynamic client only reads the legacy format, so both are always available.

Everything is derived from the table in `resources.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clusters.objects.resources import KUBE_VERSION, Resource, served_group_versions, served_resources

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_VERSION = "v2"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_CONTENT_TYPE = f"application/json;g={AGGREGATED_GROUP};v={AGGREGATED_VERSION};as={AGGREGATED_KIND}"
LEGACY_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Subresource:
    verbs: tuple[str, ...]
    # (group, version, kind) of what the subresource answers; None means the parent's kind.
    response: tuple[str, str, str] | None = None


# The upstream verbs and response kinds of the subresources resources.py may name.
SUBRESOURCES: dict[str, Subresource] = {
    "status": Subresource(("get", "patch", "update")),
    "scale": Subresource(("get", "patch", "update"), ("autoscaling", "v1", "Scale")),
    # Upstream reports the parent kind for pods/log although the body is plain text.
    "log": Subresource(("get",)),
    # A WebSocket upgrade (clusters.kube.streams); the verbs are those of the upgrade's GET/POST.
    "exec": Subresource(("create", "get"), ("", "v1", "PodExecOptions")),
    "attach": Subresource(("create", "get"), ("", "v1", "PodAttachOptions")),
    "portforward": Subresource(("create", "get"), ("", "v1", "PodPortForwardOptions")),
}

# kube-aggregator's priority order for the built-in groups (`/apis` lists groups by priority);
# groups not named here follow in the order of the resources table.
GROUP_PRIORITY = (
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    # metrics-server's APIService asks for priority 100, below every built-in group.
    "metrics.k8s.io",
)


def subresource(name: str) -> Subresource:
    try:
        return SUBRESOURCES[name]
    except KeyError:
        raise ValueError(f"subresource {name!r} has no discovery entry; add it to SUBRESOURCES") from None


def subresource_gvk(resource: Resource, name: str) -> tuple[str, str, str]:
    """(group, version, kind) answered by `<resource>/<name>`, e.g. autoscaling/v1 Scale for scale."""
    return subresource(name).response or (resource.group, resource.version, resource.kind)


# --- /version ----------------------------------------------------------------------------------


def version_info() -> dict:
    """`GET /version`: the same minor version as the kubectl the project ships, so no skew warning."""
    major, minor, _patch = KUBE_VERSION.split(".")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        # A real apiserver stays compatible with the previous minor release.
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": f"v{KUBE_VERSION}",
        # Not a Kubernetes build: an all-zero commit says so to anyone who looks.
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "go1.26.8",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


# --- legacy discovery --------------------------------------------------------------------------


def _groups() -> list[tuple[str, list[str]]]:
    """Non-core groups with their versions (preferred first), in `/apis` order."""
    versions: dict[str, list[str]] = {}
    for group, version in served_group_versions():
        if group:
            versions.setdefault(group, []).append(version)
    rank = {name: index for index, name in enumerate(GROUP_PRIORITY)}
    table_order = list(versions)
    ordered = sorted(versions, key=lambda g: (rank.get(g, len(rank)), table_order.index(g)))
    return [(group, versions[group]) for group in ordered]


def _group_version_for_discovery(group: str, version: str) -> dict:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _api_group(group: str, versions: list[str]) -> dict:
    return {
        "name": group,
        "versions": [_group_version_for_discovery(group, v) for v in versions],
        "preferredVersion": _group_version_for_discovery(group, versions[0]),
    }


def api_group(name: str) -> dict | None:
    """`GET /apis/<group>`: one APIGroup, or None for a group that is not served."""
    for group, versions in _groups():
        if group == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(group, versions)}
    return None


def api_versions(server_address: str) -> dict:
    """`GET /api`: the core group's versions. `server_address` is `host:port` as the client used it."""
    return {
        "kind": "APIVersions",
        "versions": [version for group, version in served_group_versions() if not group],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group_list() -> dict:
    """`GET /apis`: every non-core group. Never answer 404 here: client-go treats it as fatal."""
    groups = [_api_group(group, versions) for group, versions in _groups()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _served(group: str, version: str) -> list[Resource]:
    return sorted((r for r in served_resources() if (r.group, r.version) == (group, version)), key=lambda r: r.plural)


def _legacy_entries(resource: Resource) -> Iterator[dict]:
    entry = {
        "name": resource.plural,
        "singularName": resource.singular_name,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": sorted(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    yield entry
    for name in sorted(resource.subresources):
        group, version, kind = subresource_gvk(resource, name)
        sub = {"name": f"{resource.plural}/{name}", "singularName": "", "namespaced": resource.namespaced}
        # Legacy entries name a group and version only when they differ from the list's own.
        if (group, version) != (resource.group, resource.version):
            sub |= {"group": group, "version": version}
        yield sub | {"kind": kind, "verbs": sorted(subresource(name).verbs)}


def api_resource_list(group: str, version: str) -> dict | None:
    """`GET /api/v1` or `GET /apis/<group>/<version>`; None for a group-version that is not served."""
    resources = _served(group, version)
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for resource in resources for entry in _legacy_entries(resource)],
    }


# --- aggregated discovery ----------------------------------------------------------------------


def _gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_resource(resource: Resource) -> dict:
    entry = {
        "resource": resource.plural,
        "responseKind": _gvk(resource.group, resource.version, resource.kind),
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "singularResource": resource.singular_name,
        "verbs": sorted(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    if resource.subresources:
        # client-go drops a subresource without a responseKind, so every one carries a full GVK.
        entry["subresources"] = [
            {
                "subresource": name,
                "responseKind": _gvk(*subresource_gvk(resource, name)),
                "verbs": sorted(subresource(name).verbs),
            }
            for name in sorted(resource.subresources)
        ]
    return entry


def _aggregated_group(group: str, versions: list[str]) -> dict:
    # The core group's item has no name; its metadata stays empty.
    return {
        "metadata": {"name": group} if group else {},
        "versions": [
            {
                "version": version,
                "resources": [_aggregated_resource(r) for r in _served(group, version)],
                "freshness": "Current",
            }
            for version in versions
        ],
    }


def aggregated_discovery(core: bool) -> dict:
    """The APIGroupDiscoveryList for `GET /api` (core=True) or `GET /apis` (core=False).

    Send it with `Content-Type: AGGREGATED_CONTENT_TYPE`, and only when `wants_aggregated` agrees.
    """
    if core:
        items = [_aggregated_group("", [version for group, version in served_group_versions() if not group])]
    else:
        items = [_aggregated_group(group, versions) for group, versions in _groups()]
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{AGGREGATED_VERSION}",
        "metadata": {},
        "items": items,
    }


def _media_ranges(accept: str) -> Iterator[tuple[str, dict[str, str]]]:
    for part in accept.split(","):
        media_type, *raw_params = (piece.strip() for piece in part.split(";"))
        if not media_type:
            continue
        params = {}
        for raw in raw_params:
            key, _, value = raw.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        yield media_type.lower(), params


def _quality(params: dict[str, str]) -> float:
    try:
        return float(params.get("q", "1"))
    except ValueError:
        return 0.0


def wants_aggregated(accept: str | None) -> bool:
    """True when the Accept header prefers the aggregated v2 format over plain JSON.

    kubectl sends `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json`;
    the Python clients send `application/json`. The most preferred range this server can produce
    decides (q-values first, then the client's order); v2beta1 and protobuf are not produced.
    """
    ranges = sorted(_media_ranges(accept or ""), key=lambda item: -_quality(item[1]))
    for media_type, params in ranges:
        if _quality(params) <= 0:
            continue
        if (media_type, params.get("g"), params.get("v"), params.get("as")) == (
            "application/json",
            AGGREGATED_GROUP,
            AGGREGATED_VERSION,
            AGGREGATED_KIND,
        ):
            # `profile=nopeer` asks to leave out peer servers' resources; there are none here.
            if params.get("profile", "nopeer") == "nopeer":
                return True
            continue
        if media_type in ("application/json", "application/*", "*/*") and not params.keys() - {"q", "charset"}:
            return False
    return False
