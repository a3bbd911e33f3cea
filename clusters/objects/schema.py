"""The real Kubernetes schemas for the served minor version, from the kubernetes-validate package.

One JSON document of definitions (`$defs`, keyed like `io.k8s.api.core.v1.Pod`) with the upstream
descriptions, `x-kubernetes-group-version-kind`, list-map keys and strategic-merge metadata
(`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`). Validation, defaulting,
strategic merge patch and the OpenAPI documents all read it through this module.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import kubernetes_validate

from clusters.objects.resources import KUBE_VERSION

# The strict variant: unknown fields are errors (`additionalProperties: false`), as with
# `fieldValidation=Strict` on a real API server.
SCHEMA_DIR = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBE_VERSION}-local-strict"
REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


@cache
def definitions() -> dict[str, dict]:
    with (SCHEMA_DIR / "_definitions.json").open() as handle:
        return json.load(handle)["$defs"]


@cache
def _names_by_kind() -> dict[tuple[str, str], str]:
    index = {}
    for name, definition in definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            index.setdefault((group_version, gvk["kind"]), name)
    return index


def definition_name(api_version: str, kind: str) -> str | None:
    """`io.k8s.api.apps.v1.Deployment` for ("apps/v1", "Deployment")."""
    return _names_by_kind().get((api_version, kind))


def definition_for(api_version: str, kind: str) -> dict | None:
    name = definition_name(api_version, kind)
    return definitions()[name] if name else None


def ref_name(node: dict) -> str | None:
    ref = node.get("$ref")
    if not ref:
        return None
    for prefix in REF_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    raise ValueError(f"unexpected schema reference {ref!r}")


def resolve(node: dict | None) -> dict | None:
    """Follow `$ref`s until a schema with content; None stays None."""
    while node is not None and "$ref" in node:
        merged = {k: v for k, v in node.items() if k != "$ref"}
        target = definitions()[ref_name(node)]
        node = {**target, **merged}
    return node


def property_schema(node: dict | None, key: str) -> dict | None:
    """The schema of `node[key]` for an object schema (a property or additionalProperties)."""
    node = resolve(node)
    if node is None:
        return None
    properties = node.get("properties", {})
    if key in properties:
        return resolve(properties[key])
    extra = node.get("additionalProperties")
    return resolve(extra) if isinstance(extra, dict) else None


def items_schema(node: dict | None) -> dict | None:
    """The schema of each element for an array schema."""
    node = resolve(node)
    if node is None or not isinstance(node.get("items"), dict):
        return None
    return resolve(node["items"])
