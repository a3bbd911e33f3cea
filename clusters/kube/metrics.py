"""metrics.k8s.io on the wire, answered as metrics-server answers (its pkg/api): `get` and `list`
of `nodes` and `pods` (namespaced or across namespaces, with label selectors), as JSON or as a
Table; watching is refused, and every other verb, as on a server with no route for it.

The bodies come from clusters.metrics; this module only reads the request and shapes the answer.
"""

from __future__ import annotations

from django.http import HttpRequest

from clusters import errors, metrics
from clusters.kube.paths import RequestInfo
from clusters.models import Sandbox
from clusters.objects.quantity import quantity_from_json
from clusters.objects.resources import METRICS_GROUP, Resource, metrics_resource_for_path

NO_RESOURCE = "the server could not find the requested resource"
NOT_ALLOWED = "the server does not allow this method on the requested resource"


def serves(info: RequestInfo) -> bool:
    """Whether a request is for the metrics API (which no stored resource answers)."""
    return info.target == "resource" and info.group == METRICS_GROUP


def _resource(info: RequestInfo) -> Resource:
    resource = metrics_resource_for_path(info.version, info.plural)
    if (
        resource is None
        or info.subresource is not None
        or (resource.namespaced and info.name is not None and info.namespace is None)
        or (not resource.namespaced and info.namespace is not None)
    ):
        raise errors.NotFound(NO_RESOURCE)
    return resource


def _summed(usages: list[dict]) -> dict[str, str]:
    nanocores = sum(quantity_from_json(usage["cpu"]).scaled_value(-9) for usage in usages)
    memory = sum(quantity_from_json(usage["memory"]).int_value() for usage in usages)
    return {"cpu": metrics.cpu_text(nanocores), "memory": metrics.memory_text(memory)}


def metrics_table(kind: str, items: list[dict]) -> dict:
    """metrics-server's Table: Name, one column per resource measured (`cpu`, `memory`), Window;
    a pod's row sums its containers. Without items, it has no columns either."""
    columns = []
    if items:
        columns = [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the resource", "priority": 0},
            *(
                {"name": name, "type": "string", "format": "quantity", "description": "", "priority": 0}
                for name in ("cpu", "memory")
            ),
            {"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0},
        ]
    rows = []
    for item in items:
        usage = item["usage"] if kind == "NodeMetrics" else _summed([c["usage"] for c in item["containers"]])
        rows.append(
            {
                "cells": [item["metadata"]["name"], usage["cpu"], usage["memory"], item["window"]],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": item["metadata"],
                },
            }
        )
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns, "rows": rows}


def metrics_answer(request: HttpRequest, sandbox: Sandbox, info: RequestInfo) -> dict:
    """The body answering a metrics.k8s.io request; an ApiError for anything metrics-server refuses."""
    resource = _resource(info)
    if request.method != "GET":
        raise errors.MethodNotAllowed(NOT_ALLOWED)
    if info.name is not None:
        if resource.namespaced:
            item = metrics.pod_metrics_get(sandbox=sandbox, namespace=info.namespace, name=info.name)
        else:
            item = metrics.node_metrics_get(sandbox=sandbox, name=info.name)
        items = [item]
    else:
        if request.GET.get("watch", "").lower() in ("1", "true"):
            raise errors.MethodNotAllowed(f'watch is not supported on resources of kind "{resource.key}"')
        selection = {
            "label_selector": request.GET.get("labelSelector"),
            "field_selector": request.GET.get("fieldSelector"),
        }
        if resource.namespaced:
            items = metrics.pod_metrics_list(sandbox=sandbox, namespace=info.namespace, **selection)
        else:
            items = metrics.node_metrics_list(sandbox=sandbox, **selection)
    if "as=Table" in request.headers.get("Accept", ""):
        return metrics_table(resource.kind, items)
    return items[0] if info.name is not None else metrics.metrics_list(resource.kind, items)
