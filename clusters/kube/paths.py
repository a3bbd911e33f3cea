"""What an API path asks for, decided from the path alone (like the API server's RequestInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from clusters.objects.resources import Resource, resource_for_path

NAMESPACE_SUBRESOURCES = ("status", "finalize")
HEALTH_ENDPOINTS = ("healthz", "livez", "readyz")


@dataclass(frozen=True)
class RequestInfo:
    """`target` is one of: version, health (then `document` is the endpoint and `name` the check,
    if one is asked: `livez`, `ping`), api, apis, group, resource_list, openapi_index,
    openapi_document, openapi_v2, resource (then resource/namespace/name/subresource say which),
    or unknown."""

    target: str
    group: str = ""
    version: str = ""
    plural: str = ""
    resource: Resource | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    document: str = ""

    @property
    def public(self) -> bool:
        """What the default RBAC role `system:public-info-viewer` lets anyone read, signed in or
        not: `/version`, `/healthz`, `/livez` and `/readyz` (with `?verbose`), not the single
        checks under them."""
        return self.target == "version" or (self.target == "health" and self.name is None)


def parse_path(path: str) -> RequestInfo:
    parts = [part for part in path.strip("/").split("/") if part]
    if parts in (["version"],):
        return RequestInfo("version")
    if parts[:1] and parts[0] in HEALTH_ENDPOINTS and len(parts) <= 2:
        return RequestInfo("health", document=parts[0], name=parts[1] if len(parts) == 2 else None)
    if parts[:2] == ["openapi", "v3"]:
        if len(parts) == 2:
            return RequestInfo("openapi_index")
        return RequestInfo("openapi_document", document="/".join(parts[2:]))
    if parts[:2] == ["openapi", "v2"]:
        return RequestInfo("openapi_v2")
    if parts == ["api"]:
        return RequestInfo("api")
    if parts == ["apis"]:
        return RequestInfo("apis")
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 2:
        if len(parts) == 2:
            return RequestInfo("group", group=parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return RequestInfo("unknown")
    if not rest:
        return RequestInfo("resource_list", group=group, version=version)

    namespace = None
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
        else:
            # /api/v1/namespaces/NAME[/status]: the namespace object itself.
            namespace = None
            rest = ["namespaces", *rest[1:]]
    if len(rest) > 3:
        return RequestInfo("unknown")
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    return RequestInfo(
        "resource",
        group=group,
        version=version,
        plural=plural,
        resource=resource_for_path(group, version, plural),
        namespace=namespace,
        name=name,
        subresource=subresource,
    )
