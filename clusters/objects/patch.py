"""The three PATCH flavours of the Kubernetes API, as pure functions.

- `application/merge-patch+json`: RFC 7386 JSON merge patch (`kubectl label`, `annotate`, `scale`,
  `patch --type=merge`).
- `application/json-patch+json`: RFC 6902 JSON patch (`kubectl patch --type=json`), applied with
  the `jsonpatch` library.
- `application/strategic-merge-patch+json`: the Kubernetes strategic merge patch (`kubectl apply`,
  `edit`, `set`, `patch`), driven by the `x-kubernetes-patch-*` metadata of the real schemas.

The semantics and error wording follow the upstream API server (k8s.io/apiserver
`endpoints/handlers/patch.go`, k8s.io/apimachinery `util/strategicpatch` and `util/mergepatch`,
and gopkg.in/evanphx/json-patch.v4, which the API server uses for the two JSON flavours).
Nothing here validates the result: that happens where the patched object is stored.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import jsonpatch

from clusters.objects import schema as kube_schema

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
# The order upstream lists them in its 415 message (server-side apply left out: not supported here).
SUPPORTED_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# What a real API server puts in the Status of a JSON patch that does not apply (a failing `test`,
# a missing path): it drops the library's explanation (apiserver patch.go, NewGenericServerResponse).
GENERIC_INVALID_MESSAGE = "the server rejected our request due to an error in our request"

PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"


class PatchError(ValueError):
    """A patch that cannot be applied.

    `str(error)` is the upstream wording of what went wrong. `code` is the HTTP status a real API
    server answers with (400 malformed, 415 unsupported media type, 422 does not apply), and
    `status_message` the message its Status carries, which for a JSON patch that does not apply is
    a generic sentence instead of the explanation.
    """

    def __init__(self, message: str, *, code: int = 400, status_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_message = status_message if status_message is not None else message


class UnsupportedPatchType(PatchError):
    """A PATCH whose Content-Type is none of the three flavours (server-side apply included)."""

    def __init__(self, content_type: str) -> None:
        accepted = ", ".join(SUPPORTED_PATCH_TYPES)
        super().__init__(
            f"the body of the request was in an unknown format - accepted media types include: {accepted}", code=415
        )
        self.content_type = content_type


def apply_patch(original: dict, patch: bytes | str, content_type: str) -> dict:
    """Apply a PATCH request body of the given Content-Type to a stored object; a new dict."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in SUPPORTED_PATCH_TYPES:
        raise UnsupportedPatchType(media_type)
    document = _decode(patch)
    if media_type == JSON_PATCH:
        return json_patch(original, document)
    if media_type == MERGE_PATCH:
        return merge_patch(original, document)
    if document is None:  # upstream decodes `null` into an empty patch
        return copy.deepcopy(original)
    schema = kube_schema.definition_for(str(original.get("apiVersion", "")), str(original.get("kind", "")))
    return strategic_merge(original, document, schema)


def _decode(body: bytes | str) -> Any:
    def reject_constant(name: str) -> float:
        raise ValueError(name)  # NaN and Infinity are not JSON

    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")  # as Go reads JSON: a bad byte is U+FFFD
    try:
        return json.loads(body, parse_constant=reject_constant)
    except ValueError as error:  # JSONDecodeError
        raise PatchError("invalid JSON patch") from error


# --- JSON merge patch (RFC 7386) ----------------------------------------------------------------


def merge_patch(original: dict, patch: Any) -> dict:
    """RFC 7386: objects merge, anything else replaces, `null` deletes."""
    if not isinstance(patch, dict):
        raise PatchError("Invalid JSON Patch")
    result = copy.deepcopy(original)
    _merge_objects(result, patch)
    return result


def _merge_objects(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_objects(target[key], value)
        else:
            target[key] = _without_nulls(value)


def _without_nulls(value: Any) -> Any:
    """A copy of a value that has nothing to merge into, without its null members.

    Like the API server's merge patch, nulls go from objects at any depth, arrays included; null
    array elements stay.
    """
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


# --- JSON patch (RFC 6902) ----------------------------------------------------------------------

_OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")


def json_patch(original: dict, patch: Any) -> dict:
    """RFC 6902, one operation after the other, with the API server's error wording."""
    if patch is None:  # decodes to an empty list upstream
        return copy.deepcopy(original)
    if not isinstance(patch, list):
        raise PatchError(f"json: cannot unmarshal {_json_kind(patch)} into Go value of type jsonpatch.Patch")
    for operation in patch:
        if not isinstance(operation, dict):
            raise PatchError(
                f"json: cannot unmarshal {_json_kind(operation)} into Go value of type jsonpatch.Operation"
            )
    document: Any = copy.deepcopy(original)
    for operation in patch:
        document = _apply_operation(document, operation)
    if not isinstance(document, dict):
        raise _does_not_apply(
            f"json: cannot unmarshal {_json_kind(document)} into Go value of type map[string]interface {{}}"
        )
    return document


def _does_not_apply(message: str) -> PatchError:
    return PatchError(message, code=422, status_message=GENERIC_INVALID_MESSAGE)


def _apply_operation(document: Any, operation: dict) -> Any:
    kind = operation.get("op")
    if kind not in _OPERATIONS:
        raise _does_not_apply(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
    path = operation.get("path")
    if not isinstance(path, str):
        raise _does_not_apply(f"{kind} operation failed to decode path: missing value")
    value = operation.get("value")  # upstream reads a missing value as null
    if kind == "test":
        _check_test(document, path, value)
        return document
    if kind == "replace" and path == "":
        if not isinstance(value, dict | list):
            raise _does_not_apply("replace operation value must be object or array: missing value")
        return copy.deepcopy(value)
    if kind in ("move", "copy"):
        source = operation.get("from")
        if not isinstance(source, str):
            raise _does_not_apply(
                f"{kind} operation failed to decode from: operation, missing from field: missing value"
            )
        value = _source_value(document, kind, source)
        if kind == "move":
            document = _patched(document, *_target(document, "remove", source, "move"), None)
        else:
            value = copy.deepcopy(value)
        return _patched(document, *_target(document, "add", path, kind), value)
    return _patched(document, *_target(document, kind, path), value)


def _patched(document: Any, kind: str, pointer: str, value: Any) -> Any:
    """The library applies an operation whose path `_target` has made canonical."""
    operation = {"op": kind, "path": pointer, **({"value": value} if kind != "remove" else {})}
    return jsonpatch.JsonPatch([operation]).apply(document, in_place=True)


def _target(document: Any, kind: str, path: str, actual_kind: str | None = None) -> tuple[str, str]:
    """The operation to give the library and its canonical pointer, or upstream's error why the
    place cannot be changed.

    `kind` is what is done there (a move removes, then adds; a copy adds); `actual_kind` names the
    operation in the messages."""
    named = actual_kind or kind
    parent, key, where = _parent_of(document, path)
    if parent is None:
        if kind == "remove" and actual_kind is None:
            raise _does_not_apply(f'remove operation does not apply: doc is missing path: "{path}": missing value')
        if kind == "add" and actual_kind is None:
            raise _does_not_apply(f'add operation does not apply: doc is missing path: "{path}": missing value')
        what = "destination path" if named in ("move", "copy") and kind == "add" else "path"
        raise _does_not_apply(f"{named} operation does not apply: doc is missing {what}: {path}: missing value")
    if isinstance(parent, dict):
        if kind == "remove" and key not in parent:
            raise _does_not_apply(
                f"error in {named} for path: '{path}': Unable to remove nonexistent key: {key}: missing value"
            )
        # A replace of a missing member adds it: the API server's json-patch (v4) does not check.
        return ("add" if kind == "replace" else kind), _pointer([*where, key])
    if kind == "add" and key == "-":
        return kind, _pointer([*where, "-"])
    index = _array_position(key, len(parent), adding=kind == "add")
    if index is None:
        if kind == "replace":
            raise _does_not_apply(f"replace operation does not apply: doc is missing key: {path}: missing value")
        raise _does_not_apply(f"error in {named} for path: '{path}': {_bad_index(key, kind)}")
    return kind, _pointer([*where, str(index)])


def _bad_index(key: str, kind: str) -> str:
    """How json-patch v4 words an array index that is not one (Go's strconv.Atoi) or out of range."""
    index = _go_atoi(key)
    if index is not None:
        return f"Unable to access invalid index: {index}: invalid index referenced"
    reason = f'strconv.Atoi: parsing "{key}": invalid syntax'
    return f"value was not a proper array index: '{key}': {reason}" if kind == "add" else reason


def _source_value(document: Any, kind: str, source: str) -> Any:
    """The value a move or copy takes, or upstream's error why there is none. A copy of a
    missing member copies a null, as json-patch v4 does; a move of one fails to remove it."""
    parent, key, _ = _parent_of(document, source)
    if parent is None:
        raise _does_not_apply(f"{kind} operation does not apply: doc is missing from path: {source}: missing value")
    if isinstance(parent, dict):
        if kind == "move" and key not in parent:
            raise _does_not_apply(
                f"error in move for path: '{key}': Unable to remove nonexistent key: {key}: missing value"
            )
        return parent.get(key)
    index = _array_position(key, len(parent))
    if index is None:
        where = f"for path: '{key}'" if kind == "move" else f"for from: '{source}'"
        raise _does_not_apply(f"error in {kind} {where}: {_bad_index(key, 'get')}")
    return parent[index]


def _check_test(document: Any, path: str, expected: Any) -> None:
    if path == "":
        actual = document
    else:
        parent, key, _ = _parent_of(document, path)
        if parent is None:
            raise _does_not_apply(f"test operation does not apply: is missing path: {path}: missing value")
        if isinstance(parent, dict):
            # A missing member tests equal to null upstream.
            actual = parent.get(key)
        else:
            index = _array_position(key, len(parent))
            if index is None:
                raise _does_not_apply(f"error in test for path: '{path}': {_bad_index(key, 'test')}")
            actual = parent[index]
    if not _json_equal(actual, expected):
        raise _does_not_apply(f"testing value {path} failed: test failed")


def _parent_of(document: Any, path: str) -> tuple[Any, str, list[str]]:
    """The container holding the target of a JSON pointer, the target's key, and the container's
    canonical path; or (None, key, []) when there is no such container.

    As json-patch v4's findObject reads a pointer: split at every `/`, the first part ignored
    (so `a/b` names `b` at the top, and `""` or `a` names nothing), array indices read as Go's
    strconv.Atoi reads them (`01` is 1) and counted from the end when negative."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")]
    if len(parts) < 2:
        return None, "", []
    node, where = document, []
    for part in parts[1:-1]:
        if isinstance(node, dict):
            node = node.get(part)
            where.append(part)
        elif isinstance(node, list):
            index = _array_position(part, len(node))
            node = node[index] if index is not None else None
            where.append(str(index))
        else:
            node = None
        if not isinstance(node, dict | list):
            return None, parts[-1], []
    return node, parts[-1], where


def _pointer(parts: list[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _go_atoi(text: str) -> int | None:
    """Go's strconv.Atoi: an optional sign and decimal digits, in int64's range."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def _array_position(key: str, length: int, *, adding: bool = False) -> int | None:
    """The index json-patch v4 makes of `key` in an array of `length` (one more when adding):
    negative counts from the end; None when it is no index or out of range."""
    index = _go_atoi(key)
    if index is None:
        return None
    size = length + 1 if adding else length
    if index < 0:
        index += size
    return index if 0 <= index < size else None


# --- Strategic merge patch ------------------------------------------------------------------------

_ABSENT = object()  # no such field (None is a JSON null)


def strategic_merge(original: dict, patch: dict, schema: dict | None) -> dict:
    """Apply a strategic merge patch to `original`, whose schema gives the patch strategies.

    Lists whose schema says `x-kubernetes-patch-strategy: merge` are merged (maps by their
    `x-kubernetes-patch-merge-key`, primitives as a set); other lists are replaced; maps are merged
    and `null` deletes. With `schema=None` every list is replaced, as in a JSON merge patch.

    What the patch brings where there is nothing to merge into is taken as upstream's mergeMap
    takes it: a field the original lacks (or holds another type of value in) gets the patch
    value without its nulls and without any map carrying `$patch`; a replaced list, a new
    element of a merged list and a `$patch: replace` map are taken exactly as written.
    """
    if not isinstance(patch, dict):
        raise PatchError(f"json: cannot unmarshal {_json_kind(patch)} into Go value of type map[string]interface {{}}")
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), kube_schema.resolve(schema))


def _patch_meta(parent_schema: dict | None, key: str) -> tuple[dict | None, str, str]:
    """The schema of a field, its patch strategy (without retainKeys) and its merge key."""
    field_schema = kube_schema.property_schema(parent_schema, key) if parent_schema else None
    if field_schema is None:
        return None, "", ""
    strategies = [s for s in field_schema.get("x-kubernetes-patch-strategy", "").split(",") if s]
    strategy = next((s for s in strategies if s != "retainKeys"), "")
    return field_schema, strategy, field_schema.get("x-kubernetes-patch-merge-key", "")


def _items(list_schema: dict | None) -> dict | None:
    return kube_schema.items_schema(list_schema) if list_schema else None


def _merge_map(original: dict, patch: dict, schema: dict | None) -> Any:
    """Merge `patch` into `original` (both owned by the caller and changed in place)."""
    if PATCH_DIRECTIVE in patch:
        directive = patch.pop(PATCH_DIRECTIVE)
        if directive == "replace":
            return patch  # as written, nulls and directives included
        if directive == "delete":
            return {}  # an empty map, not no map
        raise _cannot_merge(
            f"unknown patch type: {go_format(directive)} in map: {go_format({PATCH_DIRECTIVE: directive, **patch})}"
        )

    _retain_keys(original, patch)
    for key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER_PREFIX)]:
        _set_element_order(original, patch, key, schema)
    deletions = [key for key in patch if key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)]
    for key, value in patch.items():
        if key not in deletions:
            _merge_field(original, key, value, schema)
    # After the additions, so that a value both added and deleted ends up deleted.
    for key in deletions:
        _delete_from_primitive_list(original, _directive_field(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX), patch[key])
    return original


def _merge_field(original: dict, key: str, value: Any, schema: dict | None) -> None:
    if value is None:
        original.pop(key, None)
        return
    current = original.get(key, _ABSENT)
    if current is _ABSENT or _go_type(current) != _go_type(value):
        # Nothing to merge into: the value without its nulls, and without what carries `$patch`.
        fresh = _without_directives(_without_nulls_in_maps(value))
        if fresh is _ABSENT:
            original.pop(key, None)
        else:
            original[key] = fresh
        return
    field_schema, strategy, merge_key = _patch_meta(schema, key)
    if isinstance(value, dict):
        original[key] = value if strategy == "replace" else _merge_map(current, value, field_schema)
    elif isinstance(value, list):
        original[key] = _merge_list(current, value, field_schema, strategy, merge_key)
    else:
        original[key] = value


def _without_nulls_in_maps(value: Any) -> Any:
    """Upstream's discardNullValuesFromPatch: null members go from maps at any depth (maps in
    lists included); null list elements stay."""
    if isinstance(value, dict):
        return {key: _without_nulls_in_maps(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls_in_maps(item) for item in value]
    return value


def _without_directives(value: Any) -> Any:
    """Upstream's removeDirectives: a map carrying `$patch` goes (from its map or list, or
    `_ABSENT` when it is the value itself); other directives stay as they are."""
    if isinstance(value, dict):
        if PATCH_DIRECTIVE in value:
            return _ABSENT
        kept = {key: _without_directives(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item is not _ABSENT}
    if isinstance(value, list):
        return [item for item in map(_without_directives, value) if item is not _ABSENT]
    return value


def _has_directive(item: Any) -> bool:
    return isinstance(item, dict) and PATCH_DIRECTIVE in item


def _retain_keys(original: dict, patch: dict) -> None:
    """`$retainKeys`: drop every field of the original not listed (union types, e.g. a strategy)."""
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retained = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retained, list):
        raise PatchError("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST_PREFIX, SET_ELEMENT_ORDER_PREFIX)):
            continue
        if key not in retained:
            raise PatchError("invalid patch format of retainKeys")
    for key in [key for key in original if key not in retained]:
        del original[key]


def _directive_field(key: str, prefix: str) -> str:
    """`containers` for `$setElementOrder/containers`."""
    head, slash, field = key.partition("/")
    if head != prefix or not slash:
        raise PatchError(
            "invalid patch format of setElementOrder list"
            if prefix == SET_ELEMENT_ORDER_PREFIX
            else "invalid patch format of primitive list"
        )
    return field


def _delete_from_primitive_list(original: dict, field: str, values: Any) -> None:
    if values is None:  # upstream reads the directive's null as the field's: it deletes the list
        original.pop(field, None)
        return
    current = original.get(field)
    if isinstance(current, list) and isinstance(values, list):
        original[field] = [item for item in current if not any(_json_equal(item, value) for value in values)]


# Lists


def _merge_list(current: list, patch: list, list_schema: dict | None, strategy: str, merge_key: str) -> list:
    if strategy != "merge":
        return patch  # as written
    if not current and not patch:
        return current
    if _element_kind(current, patch) != "map":  # a set of primitives, e.g. finalizers
        return _order(_unique([*current, *patch]), patch, current, "")
    if not merge_key:
        raise _cannot_merge("cannot merge lists without merge key")
    item_schema = _items(list_schema)
    current, plain = _list_directives(current, patch, merge_key)
    server = list(current)
    for element in plain:
        found = _find(current, merge_key, _merge_key_value(element, merge_key))
        if found is None:
            current.append(element)  # as written
        else:
            current[found] = _merge_map(current[found], element, item_schema)
    return _order(current, plain, server, merge_key)


def _list_directives(current: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Carry out the `$patch` elements of a merging list of maps: the list, and the other elements."""
    plain: list = []
    replace = False
    for element in patch:
        if PATCH_DIRECTIVE not in element:
            plain.append(element)
            continue
        directive = element[PATCH_DIRECTIVE]
        if directive == "delete":  # every element with that merge key value
            key_value = _merge_key_value(element, merge_key)
            current = [item for item in current if not (merge_key in item and _json_equal(item[merge_key], key_value))]
        elif directive == "replace":  # the list becomes the other elements of the patch
            replace = True
        elif directive == "merge":
            raise _cannot_merge("merging lists cannot yet be specified in the patch")
        else:
            raise _cannot_merge(f"unknown patch type: {go_format(directive)} in map: {go_format(element)}")
    if replace:
        return plain, []  # the other elements, as written
    return current, plain


def _set_element_order(original: dict, patch: dict, key: str, schema: dict | None) -> None:
    """`$setElementOrder/<field>`: merge the field's list, then order it as the directive lists it.

    kubectl sends it with every change to a merging list, naming all the elements it knows of;
    elements only the server has keep their place relative to those.
    """
    field = _directive_field(key, SET_ELEMENT_ORDER_PREFIX)
    order = patch.pop(key)
    if not isinstance(order, list):
        raise _cannot_merge(f"expected a []interface {{}}, but received a {_go_type(order)}")
    current = original.get(field, _ABSENT)
    patched = patch.pop(field, _ABSENT)
    for value in (current, patched):
        if value is not _ABSENT and not isinstance(value, list):  # a null included
            raise _cannot_merge(f"expected a []interface {{}}, but received a {_go_type(value)}")
    field_schema, strategy, merge_key = _patch_meta(schema, field)
    if patched is not _ABSENT:
        _check_order(patched, order, merge_key)
    if current is _ABSENT and patched is _ABSENT:
        return
    if not current and not patched:
        raise _cannot_merge("no elements in any of the given slices")
    server = list(current or [])  # merging appends to `current`
    if patched is _ABSENT:
        merged = current
    elif current is _ABSENT:
        merged = _without_directives(patched)  # an added list keeps its nulls upstream
    else:
        merged = _merge_list(current, patched, field_schema, strategy, merge_key)
    original[field] = _order(merged, order, server, merge_key)


def _check_order(patched: list, order: list, merge_key: str) -> None:
    """The patch's elements must appear in `$setElementOrder`, in the same relative order."""
    if not patched or not order:
        return
    elements = [item for item in patched if not (merge_key and _is_delete(item))]
    i = j = 0
    while i < len(elements) and j < len(order):
        if _has_directive(elements[i]):
            i += 1
            continue
        if _same_key(elements[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(elements):
        raise _cannot_merge(
            f"The order in patch list:\n{go_format(patched)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{go_format(order)}\n"
        )


def _is_delete(item: Any) -> bool:
    if not isinstance(item, dict):
        raise _cannot_merge(f"expected a map[string]interface {{}}, but received a {_go_type(item)}")
    return item.get(PATCH_DIRECTIVE) == "delete"


def _same_key(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _json_equal(left, right)
    return _json_equal(_merge_key_value(left, merge_key), _merge_key_value(right, merge_key))


def _order(items: list, wanted: list, server: list, merge_key: str) -> list:
    """Upstream's order of a merged list.

    The items that `wanted` names come in its order; the others keep the order of the `server`
    list, and go in front of a wanted item only where the server list has them in front of it too.
    So a new container goes first, an updated one stays where it was, and `$setElementOrder` wins.
    """

    def identity(item: Any) -> Any:
        if not merge_key:
            return item
        return item.get(merge_key, _ABSENT) if isinstance(item, dict) else _ABSENT

    def position(sequence: list, item: Any) -> int | None:
        wanted_identity = identity(item)
        if wanted_identity is _ABSENT:
            return None
        return next((i for i, other in enumerate(sequence) if _json_equal(identity(other), wanted_identity)), None)

    named = sorted((item for item in items if position(wanted, item) is not None), key=lambda i: position(wanted, i))
    others = [item for item in items if position(wanted, item) is None]
    others.sort(key=lambda item: _or_last(position(server, item), len(server)))
    result: list = []
    i = j = 0
    while i < len(others) and j < len(named):
        before, candidate = position(server, others[i]), position(server, named[j])
        if before is not None and candidate is not None and before < candidate:
            result.append(others[i])
            i += 1
        else:
            result.append(named[j])
            j += 1
    return [*result, *others[i:], *named[j:]]


def _or_last(index: int | None, last: int) -> int:
    return last if index is None else index


def _element_kind(*lists: list) -> str:
    kinds = {_go_kind(item) for items in lists for item in items}
    if "slice" in kinds:
        raise PatchError("lists of lists are not supported", code=422)
    if len(kinds) > 1:
        raise _cannot_merge(f"list element types are not identical: {go_format(list(lists))}")
    return kinds.pop()


def _unique(items: list) -> list:
    result: list = []
    for item in items:
        if not any(_json_equal(item, seen) for seen in result):
            result.append(item)
    return result


def _find(items: list, merge_key: str, value: Any) -> int | None:
    return next(
        (i for i, item in enumerate(items) if merge_key in item and _json_equal(item[merge_key], value)),
        None,
    )


def _merge_key_value(element: Any, merge_key: str) -> Any:
    if not isinstance(element, dict):
        raise _cannot_merge(f"expected a map[string]interface {{}}, but received a {_go_type(element)}")
    if merge_key not in element:
        raise _cannot_merge(f"map: {go_format(element)} does not contain declared merge key: {merge_key}")
    return element[merge_key]


def _cannot_merge(message: str) -> PatchError:
    # Upstream answers these with a 500; the fault is the patch's, so 422 here.
    return PatchError(message, code=422)


# --- JSON values, and how Go prints them in upstream's messages -----------------------------------


def _json_equal(left: Any, right: Any) -> bool:
    """Equality of decoded JSON, where true is not 1 and 1 is not 1.0."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    # Upstream compares int64 with float64 (and 2 with 2.0 in a JSON patch test) as different.
    return type(left) is type(right) and left == right


def _go_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "nil"


def _go_type(value: Any) -> str:
    """What Go's reflect.TypeOf says of a decoded JSON value."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    return {
        "map": "map[string]interface {}",
        "slice": "[]interface {}",
        "number": "float64",
        "string": "string",
    }[_go_kind(value)]


def _json_kind(value: Any) -> str:
    """How Go's encoding/json names a JSON value in its unmarshal errors."""
    if value is None:
        return "null"
    return {"map": "object", "slice": "array", "bool": "bool", "number": "number", "string": "string"}[_go_kind(value)]


def go_format(value: Any) -> str:
    """A decoded JSON value as Go's `%v` prints it (maps with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_format(item)}" for key, item in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(item) for item in value) + "]"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
