"""The downward API's values as the kubelet writes them into a `downwardAPI` volume (and a
`projected` volume's downwardAPI source), or gives them as a `resourceFieldRef` env var.

- `fieldRef` (upstream's `pkg/api/v1/pod` via `fieldpath.ExtractFieldPathAsString`):
  `metadata.name`, `.namespace`, `.uid`, `metadata.labels` / `metadata.annotations` as
  `fieldpath.FormatMap` prints them (`key="value"` lines sorted by key, the value quoted as Go's
  `%q`, no newline at the end) and one of them with `metadata.labels['key']`.
- `resourceFieldRef` (`pkg/api/v1/resource` ExtractContainerResourceValue): `limits.cpu`,
  `requests.memory`, … of a container, divided by the `divisor` (1 when unset) and rounded up;
  a limit the container does not set is the node's allocatable (MergeContainerResourceLimits).

Pure: the pod, its node's allocatable and the volume's items in, file contents out.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping
from fractions import Fraction

from clusters.objects.go_strconv import go_quote
from clusters.objects.quantity import Quantity, QuantityError, quantity_from_json

_LIMIT_DEFAULTED = ("cpu", "memory", "ephemeral-storage")  # hugepages are never overcommitted


class DownwardAPIError(ValueError):
    """A field the downward API cannot give; str() is upstream's message."""


def format_map(values: Mapping[str, str] | None) -> str:
    """fieldpath.FormatMap: `key="value"` lines, sorted by key, values quoted as Go's %q."""
    return "\n".join(f"{key}={go_quote(str(values[key]))}" for key in sorted(values or {}))


def _split_subscript(path: str) -> tuple[str, str] | None:
    """fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']` → (`metadata.labels`, `app`)."""
    if not path.endswith("']"):
        return None
    head, separator, subscript = path[:-2].partition("['")
    return (head, subscript) if separator and head else None


def field_path_value(pod: dict, path: str) -> str:
    """fieldpath.ExtractFieldPathAsString on a pod: what a `fieldRef` of a volume item reads."""
    metadata = pod.get("metadata") or {}
    split = _split_subscript(path)
    if split is not None:
        head, key = split
        if head == "metadata.annotations":
            return (metadata.get("annotations") or {}).get(key, "")
        if head == "metadata.labels":
            return (metadata.get("labels") or {}).get(key, "")
        raise DownwardAPIError(f'fieldPath "{path}" does not support subscript')
    if path == "metadata.annotations":
        return format_map(metadata.get("annotations"))
    if path == "metadata.labels":
        return format_map(metadata.get("labels"))
    if path in ("metadata.name", "metadata.namespace", "metadata.uid"):
        return str(metadata.get(path.removeprefix("metadata."), ""))
    raise DownwardAPIError(f"unsupported fieldPath: {path}")


def _quantity(raw: object) -> Quantity:
    if raw in (None, ""):
        return Quantity(Fraction(0), "DecimalSI")
    try:
        return quantity_from_json(raw)
    except QuantityError as error:
        raise DownwardAPIError(str(error)) from None


def _with_node_limits(container: dict, allocatable: Mapping[str, object] | None) -> dict:
    """resource.MergeContainerResourceLimits: a CPU, memory or ephemeral-storage limit the
    container leaves unset (or zero) is the node's allocatable amount."""
    resources = container.get("resources") or {}
    limits = dict(resources.get("limits") or {})
    for name in _LIMIT_DEFAULTED:
        if _quantity(limits.get(name)).value == 0 and name in (allocatable or {}):
            limits[name] = (allocatable or {})[name]
    return {**container, "resources": {**resources, "limits": limits}}


def container_resource_value(selector: dict, container: dict, allocatable: Mapping[str, object] | None) -> str:
    """resource.ExtractContainerResourceValue on the container with its limits defaulted to the
    node's allocatable: the amount over the divisor, rounded up (CPU in milli-cores, the rest in
    whole units, as upstream divides them)."""
    resource = selector.get("resource", "")
    divisor = _quantity(selector.get("divisor"))
    if divisor.value == 0:
        divisor = _quantity("1")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not (
        name in ("cpu", "memory", "ephemeral-storage") or name.startswith("hugepages-")
    ):
        raise DownwardAPIError(f"unsupported container resource : {resource}")
    defaulted = _with_node_limits(container, allocatable)
    amount = _quantity(((defaulted.get("resources") or {}).get(kind) or {}).get(name))
    if name == "cpu":
        return str(math.ceil(Fraction(amount.milli_value(), divisor.milli_value() or 1)))
    return str(math.ceil(Fraction(amount.int_value(), divisor.int_value() or 1)))


def resource_field_value(
    selector: dict, pod: dict, allocatable: Mapping[str, object] | None, *, container: dict | None = None
) -> str:
    """A `resourceFieldRef`: of the container it names (a volume's item must name one), else of
    `container` (an env var's own container)."""
    name = selector.get("containerName") or ""
    if name:
        spec = pod.get("spec") or {}
        every = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
        container = next((c for c in every if c.get("name") == name), None)
        if container is None:
            raise DownwardAPIError(f"container {name} not found")
    if container is None:
        raise DownwardAPIError("resourceFieldRef has no container")
    return container_resource_value(selector, container, allocatable)


def item_path(path: str) -> str | None:
    """A volume item's path, cleaned as filepath.Clean does; None for one that leaves the volume."""
    cleaned = posixpath.normpath(path or "").lstrip("/")
    if not cleaned or cleaned == "." or cleaned == ".." or cleaned.startswith("../"):
        return None
    return cleaned


def volume_files(source: dict, pod: dict, allocatable: Mapping[str, object] | None) -> tuple[dict[str, str], list[str]]:
    """downwardapi.CollectData: a `downwardAPI` volume's (or projection's) files, path → text, and
    the errors of the items that could not be written (upstream then fails the mount; here the
    item is left out and the others are written)."""
    files: dict[str, str] = {}
    problems: list[str] = []
    for item in source.get("items") or []:
        if not isinstance(item, dict):
            continue
        path = item_path(item.get("path", ""))
        if path is None:
            problems.append(f"invalid path {item.get('path', '')!r}")
            continue
        try:
            if isinstance(item.get("fieldRef"), dict):
                files[path] = field_path_value(pod, item["fieldRef"].get("fieldPath", ""))
            elif isinstance(item.get("resourceFieldRef"), dict):
                files[path] = resource_field_value(item["resourceFieldRef"], pod, allocatable)
        except DownwardAPIError as error:
            problems.append(str(error))
    return files, problems
