"""The patch `kubectl apply` computes (client-side apply), as pure functions.

kubectl keeps what it applied last in the `kubectl.kubernetes.io/last-applied-configuration`
annotation. On the next apply it compares three documents — that annotation (original), the new
manifest (modified) and the stored object (current) — and sends one strategic merge patch:

- the *changes*: what differs between current and modified, ignoring what only current has
  (status, defaults, labels and replicas others set), so others' writes survive;
- the *deletions*: what original had and modified no longer has, so a field, label, env var or
  port removed from the manifest is removed from the object (`null` for a field, a `$patch:
  delete` element for a list item with a merge key, `$deleteFromPrimitiveList` for a merging
  list of scalars).

Each side also carries the directives kubectl sends: `$setElementOrder/<list>` for merging lists
that changed, `$retainKeys` for fields whose schema says `retainKeys` (a Deployment's strategy, a
volume's source). The behaviour is that of k8s.io/apimachinery `util/strategicpatch`
(`CreateThreeWayMergePatch` with overwrite on, as `kubectl apply` calls it from
k8s.io/kubectl `cmd/apply/patcher.go`), and of `GetModifiedConfiguration` in k8s.io/kubectl
`pkg/util/apply.go` for the annotation itself. The patch strategies and merge keys come from the
real schemas (`clusters.objects.schema`), as `clusters.objects.patch` reads them to apply the patch.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from clusters.objects import schema as kube_schema

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList/"


class ThreeWayError(ValueError):
    """Documents no strategic merge patch can be computed from (upstream fails the apply too)."""


# --- the annotation -------------------------------------------------------------------------------


def go_json(value: Any) -> str:
    """`value` as Go's encoding/json writes it, which is how kubectl writes the annotation: keys
    sorted, no spaces, `<`, `>` and `&` escaped, numbers in Go's shortest form (`1`, not `1.0`)."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_go_string(key)}:{go_json(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, str):
        return _go_string(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    raise ThreeWayError(f"a value of type {type(value).__name__} cannot be written as JSON")


def _go_string(text: Any) -> str:
    if not isinstance(text, str):
        raise ThreeWayError(f"a key of type {type(text).__name__} cannot be written as JSON")
    encoded = json.dumps(text, ensure_ascii=False)
    # Go escapes these for HTML safety; Python's encoder does not.
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(character, escape)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _go_float(number: float) -> str:
    if not math.isfinite(number):
        raise ThreeWayError(f"json: unsupported value: {number}")
    shortest = Decimal(repr(number))
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        return format(shortest, "e")  # 1e-7, 1.5e+21: Go's exponent form, without padding
    text = format(shortest, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _annotations(document: dict) -> tuple[dict, dict]:
    """The document's metadata and annotations (an empty map for none or null, as kubectl reads them)."""
    metadata = document.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ThreeWayError(f"metadata must be a mapping, not {go_json(metadata)}")
    annotations = metadata.get("annotations")
    if annotations is None:
        return metadata, {}
    if not isinstance(annotations, dict):
        raise ThreeWayError(f"metadata.annotations must be a mapping of strings, not {go_json(annotations)}")
    return metadata, annotations


def last_applied(document: dict) -> str:
    """The annotation kubectl writes for a manifest: the document without the annotation (an
    empty `annotations` map when it had none, as kubectl leaves it), as Go's JSON, one line."""
    bare = copy.deepcopy(document)
    metadata, annotations = _annotations(bare)
    metadata["annotations"] = {key: value for key, value in annotations.items() if key != LAST_APPLIED}
    return go_json(bare) + "\n"


def with_last_applied(document: dict) -> dict:
    """The modified configuration kubectl sends: the manifest with its own new annotation."""
    annotated = copy.deepcopy(document)
    metadata, annotations = _annotations(annotated)
    metadata["annotations"] = {**annotations, LAST_APPLIED: last_applied(document)}
    return annotated


def original_configuration(current: dict) -> dict | None:
    """What the object was last applied as, or None when it has no annotation (made by `kubectl
    create`, a controller or a `kubectl apply --server-side`)."""
    annotations = (current.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if text is None:
        return None
    if not text:
        return {}  # upstream reads an empty annotation as an empty document
    try:
        original = json.loads(text)
    except ValueError:
        raise ThreeWayError(f"the {LAST_APPLIED} annotation is not valid JSON") from None
    if not isinstance(original, dict):
        raise ThreeWayError(f"the {LAST_APPLIED} annotation is not a JSON object")
    return original


# --- the three-way patch --------------------------------------------------------------------------


def three_way_patch(*, original: dict | None, modified: dict, current: dict, schema: dict | None) -> dict:
    """The strategic merge patch `kubectl apply` sends to turn `current` into `modified`, removing
    what `original` (the last-applied configuration; None when there is none) had and `modified`
    dropped. `schema` is the object's definition from `clusters.objects.schema`; an empty patch
    means "unchanged"."""
    root = kube_schema.resolve(schema)
    changes = _diff_maps(current, modified, root, _CHANGES)
    deletions = _diff_maps(original or {}, modified, root, _DELETIONS)
    return _merge_patches(deletions, changes, root)


@dataclass(frozen=True)
class _Diff:
    """Which half of the three-way patch a diff computes."""

    changes: bool  # additions and changed values (upstream: not IgnoreChangesAndAdditions)
    deletions: bool  # removed fields and list items (upstream: not IgnoreDeletions)
    retain_keys: bool = False  # the map being compared is a field with the retainKeys strategy


_CHANGES = _Diff(changes=True, deletions=False)
_DELETIONS = _Diff(changes=False, deletions=True)


@dataclass(frozen=True)
class _Field:
    schema: dict | None
    strategy: str  # "merge", "replace" or "" (maps merge, other lists are replaced)
    merge_key: str
    retain_keys: bool


def _field(parent: dict | None, key: str) -> _Field:
    field_schema = kube_schema.property_schema(parent, key) if parent else None
    if field_schema is None:
        return _Field(None, "", "", False)
    strategies = [s for s in field_schema.get("x-kubernetes-patch-strategy", "").split(",") if s]
    strategy = next((s for s in strategies if s != "retainKeys"), "")
    return _Field(
        field_schema, strategy, field_schema.get("x-kubernetes-patch-merge-key", ""), "retainKeys" in strategies
    )


def _diff_maps(old: dict, new: dict, schema: dict | None, how: _Diff) -> dict:
    patch: dict = {}
    retained = [key for key, value in new.items() if value is not None] if how.retain_keys else []
    for key, new_value in new.items():
        if key not in old:
            if how.changes:
                patch[key] = new_value
            continue
        old_value = old[key]
        if key == PATCH_DIRECTIVE:
            if how.changes and old_value != new_value:
                patch[key] = new_value
            continue
        if type(old_value) is not type(new_value):
            if how.changes:
                patch[key] = new_value
            continue
        if isinstance(new_value, dict):
            _diff_map_field(patch, key, old_value, new_value, _field(schema, key), how)
        elif isinstance(new_value, list):
            _diff_list_field(patch, key, old_value, new_value, _field(schema, key), how)
        elif how.changes and not same(old_value, new_value):
            patch[key] = new_value
    if how.deletions:
        for key in old:
            if key not in new:
                patch[key] = None
    # Sent when something changes, or when the old map has a field the new one lacks: clearing
    # that field (e.g. rollingUpdate when the strategy becomes Recreate) is the directive's job.
    if retained and (patch or any(value is not None and key not in new for key, value in old.items())):
        patch[RETAIN_KEYS_DIRECTIVE] = sorted(retained)
    return patch


def _diff_map_field(patch: dict, key: str, old: dict, new: dict, field: _Field, how: _Diff) -> None:
    if field.strategy == "replace":
        if how.changes:
            patch[key] = new  # upstream sends the whole map, equal or not
        return
    nested = _diff_maps(old, new, field.schema, replace(how, retain_keys=field.retain_keys))
    if nested:
        patch[key] = nested


def _diff_list_field(patch: dict, key: str, old: list, new: list, field: _Field, how: _Diff) -> None:
    if field.strategy != "merge":
        if how.changes and not same(old, new):
            patch[key] = new  # a list without a merge strategy is replaced whole
        return
    items, deleted_scalars, order = _diff_lists(old, new, field, replace(how, retain_keys=field.retain_keys))
    if items:
        patch[key] = items
    if deleted_scalars:
        patch[DELETE_FROM_PRIMITIVE_LIST_PREFIX + key] = deleted_scalars
    if order:
        patch[SET_ELEMENT_ORDER_PREFIX + key] = order


def _diff_lists(old: list, new: list, field: _Field, how: _Diff) -> tuple[list, list, list]:
    """A merging list's patch elements, the scalars to delete, and its `$setElementOrder`."""
    if not old:
        return (list(new), [], []) if new and how.changes else ([], [], [])
    kind = _element_kind(old, new)
    if kind == "map":
        items, deletes = _diff_lists_of_maps(old, new, field, how)
        items = _in_order_of(items, new, field.merge_key)
        order_same = len(old) == len(new) and all(
            same(_merge_key_value(a, field.merge_key), _merge_key_value(b, field.merge_key))
            for a, b in zip(old, new, strict=True)
        )
        items += deletes
        order: list = []
        if (how.changes and (items or not order_same)) or (how.deletions and items):
            order = [{field.merge_key: item[field.merge_key]} for item in new]
        return items, [], order
    added, removed = _diff_lists_of_scalars(old, new, how)
    changed = (how.deletions and removed) or (how.changes and not same(old, new))
    return _in_order_of(added, new, ""), removed, list(new) if changed else []


def _diff_lists_of_maps(old: list, new: list, field: _Field, how: _Diff) -> tuple[list, list]:
    """Walk both lists sorted by the text of their merge key, as upstream does: elements in both
    are diffed, new ones added whole, missing ones deleted with a `$patch: delete` element."""
    merge_key, item_schema = field.merge_key, kube_schema.items_schema(field.schema) if field.schema else None
    olds = sorted(old, key=lambda item: _go_text(_merge_key_value(item, merge_key)))
    news = sorted(new, key=lambda item: _go_text(_merge_key_value(item, merge_key)))
    items: list = []
    deletes: list = []
    i = j = 0
    while i < len(olds) or j < len(news):
        old_key = _go_text(olds[i][merge_key]) if i < len(olds) else None
        new_key = _go_text(news[j][merge_key]) if j < len(news) else None
        if old_key is not None and old_key == new_key:
            nested = _diff_maps(olds[i], news[j], item_schema, how)
            if nested:
                items.append({**nested, merge_key: news[j][merge_key]})
            i, j = i + 1, j + 1
        elif new_key is not None and (old_key is None or old_key > new_key):
            if how.changes:
                items.append(news[j])
            j += 1
        else:
            if how.deletions:
                deletes.append({merge_key: olds[i][merge_key], PATCH_DIRECTIVE: "delete"})
            i += 1
    return items, deletes


def _diff_lists_of_scalars(old: list, new: list, how: _Diff) -> tuple[list, list]:
    olds, news = sorted(old, key=_go_text), sorted(new, key=_go_text)
    added: list = []
    removed: list = []
    i = j = 0
    while i < len(olds) or j < len(news):
        old_text = _go_text(olds[i]) if i < len(olds) else None
        new_text = _go_text(news[j]) if j < len(news) else None
        if old_text is not None and old_text == new_text:
            i, j = i + 1, j + 1
        elif new_text is not None and (old_text is None or old_text > new_text):
            if how.changes:
                added.append(news[j])
            j += 1
        else:
            if how.deletions:
                removed.append(olds[i])
            i += 1
    return added, _unique(removed)


def _in_order_of(items: list, reference: list, merge_key: str) -> list:
    """`items` in the order their counterparts have in `reference` (the new manifest)."""

    def position(item: Any) -> tuple[int, int]:
        wanted = item.get(merge_key) if merge_key else item
        for index, other in enumerate(reference):
            if same(other.get(merge_key) if merge_key else other, wanted):
                return (0, index)
        return (1, 0)

    return sorted(items, key=position)


# Merging the two halves (upstream: mergeMap without merging parallel lists, keeping nulls)


def _merge_patches(deletions: dict, changes: dict, schema: dict | None) -> dict:
    if PATCH_DIRECTIVE in changes:
        directive = changes[PATCH_DIRECTIVE]
        if directive == "replace":
            return {key: value for key, value in changes.items() if key != PATCH_DIRECTIVE}
        if directive == "delete":
            return {}
        raise ThreeWayError(f"unknown patch type: {directive}")
    merged = dict(deletions)
    for key, value in changes.items():
        if key == RETAIN_KEYS_DIRECTIVE or key.startswith(SET_ELEMENT_ORDER_PREFIX):
            # Both halves compute these from the new manifest, so they agree when both have one.
            if key in merged and not same(merged[key], value):
                raise ThreeWayError(f"the two halves of the patch disagree on {key}")
            merged[key] = value
        elif value is None or key not in merged or type(merged[key]) is not type(value):
            merged[key] = value
        elif isinstance(value, dict):
            field = _field(schema, key)
            merged[key] = value if field.strategy == "replace" else _merge_patches(merged[key], value, field.schema)
        elif isinstance(value, list) and _field(schema, key).strategy == "merge":
            merged[key] = _merge_patch_lists(
                merged[key], value, _field(schema, key), merged.get(SET_ELEMENT_ORDER_PREFIX + key)
            )
        else:
            merged[key] = value
    return merged


def _merge_patch_lists(deletions: list, changes: list, field: _Field, order: list | None) -> list:
    """One merging list from both halves: elements with the same merge key merged into one, the
    other elements in the new manifest's order (as `$setElementOrder` requires), deletions last."""
    if not deletions or not changes:
        return deletions or changes
    if _element_kind(deletions, changes) != "map":
        return _unique([*deletions, *changes])
    merge_key, item_schema = field.merge_key, kube_schema.items_schema(field.schema) if field.schema else None
    merged = list(deletions)
    for element in changes:
        wanted = _merge_key_value(element, merge_key)
        found = next((i for i, item in enumerate(merged) if same(item.get(merge_key), wanted)), None)
        if found is None:
            merged.append(element)
        else:
            merged[found] = _merge_patches(merged[found], element, item_schema)
    kept = [item for item in merged if item.get(PATCH_DIRECTIVE) != "delete"]
    deleted = [item for item in merged if item.get(PATCH_DIRECTIVE) == "delete"]
    return [*_in_order_of(kept, order if order is not None else changes, merge_key), *deleted]


# --- JSON values as Go compares them ---------------------------------------------------------------


def same(left: Any, right: Any) -> bool:
    """Go's reflect.DeepEqual of decoded JSON: 1 is not 1.0 and true is not 1."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def _go_text(value: Any) -> str:
    """How Go's `%v` prints a scalar: upstream sorts and matches merging lists by this text."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _element_kind(*lists: list) -> str:
    """ "map", or the one scalar type of the lists' elements, as upstream requires them to share."""
    kinds = {"map" if isinstance(item, dict) else type(item).__name__ for items in lists for item in items}
    if "list" in kinds:
        raise ThreeWayError("lists of lists are not supported")
    if len(kinds) > 1:
        raise ThreeWayError(f"list element types are not identical: {go_json(list(lists))}")
    return kinds.pop() if kinds else "str"


def _merge_key_value(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise ThreeWayError(f"expected a map in a list merged by {merge_key!r}, found {go_json(item)}")
    if merge_key not in item:
        raise ThreeWayError(f"map: {go_json(item)} does not contain declared merge key: {merge_key}")
    return item[merge_key]


def _unique(items: list) -> list:
    result: list = []
    for item in items:
        if not any(same(item, seen) for seen in result):
            result.append(item)
    return result
