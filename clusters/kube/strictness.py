"""What the API server's strict decoder finds in a body besides unknown fields: keys a JSON body
sets twice (`duplicate field "spec.replicas"`) and, in a JSON patch, operation fields other than
`op`, `path`, `from` and `value`. Worded and ordered as sigs.k8s.io/json finds them, and judged
by `fieldValidation` as k8s.io/apiserver's handlers judge them:

- create and update (`create.go`, `update.go`): under Strict a 400 listing every strict error,
  unknown fields included, in document order; under Warn one Warning each; under Ignore nothing.
- patch (`patch.go`): the patch body's own errors come first (`json patch ` before those of a
  JSON patch), then the patched object's unknown fields; under Strict a 422 whose invalid value
  is the patched object (a strategic merge patch: the patch, as Go prints a map).

Unknown fields on their own stay the store's to judge (clusters.store); this module speaks only
when the body's own keys give it something to say.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from clusters import errors
from clusters.kube.bodies import Body, load_json
from clusters.objects.go_strconv import go_quote
from clusters.objects.patch import JSON_PATCH, STRATEGIC_MERGE_PATCH, go_format
from clusters.objects.resources import Resource
from clusters.objects.validation import KeyPath, decode, field_path

# sigs.k8s.io/json keeps at most this many strict errors.
MAX_STRICT_ERRORS = 100
JSON_PATCH_FIELDS = frozenset({"op", "path", "from", "value"})


def strict_errors(body: Body, unknown_fields: Iterable[KeyPath] = ()) -> list[str]:
    """Keys set twice and unknown fields, in document order, each once, at most 100. A key set
    twice inside an unknown field, or an unknown field set twice, is only an unknown field: the
    decoder skips what it does not know."""
    unknown = [tuple(path) for path in unknown_fields]
    found = [(body.positions.get(path, math.inf), f"unknown field {go_quote(field_path(path))}") for path in unknown]
    for position, path in body.duplicates:
        if not any(path[: len(field)] == field for field in unknown):
            found.append((position, f"duplicate field {go_quote(field_path(path))}"))
    found.sort(key=lambda entry: entry[0])
    return list(dict.fromkeys(message for _, message in found))[:MAX_STRICT_ERRORS]


def _is_of(value: dict, resource: Resource) -> bool:
    return (value.get("apiVersion", resource.api_version), value.get("kind", resource.kind)) == (
        resource.api_version,
        resource.kind,
    )


def body_strict_errors(body: Body, resource: Resource) -> list[str]:
    """The strict errors of a create or update body that sets a key twice (unknown fields
    included), or none: for a body without such keys, of another kind, or with a wrong JSON type
    (that error wins, and the store reports it)."""
    if not body.duplicates or not isinstance(body.value, dict) or not _is_of(body.value, resource):
        return []
    decoded = decode(body.value, resource)
    if decoded.type_error:
        return []
    return strict_errors(body, decoded.unknown_fields)


def patch_strict_errors(raw: bytes, media_type: str) -> list[str]:
    """The strict errors of a patch body itself; none for one that is not JSON (the patch module
    refuses it). A merge or strategic merge patch decodes into a map, so only its keys set twice
    count; a JSON patch decodes into operations, whose unknown fields count too."""
    try:
        body = load_json(raw, positions=media_type == JSON_PATCH)
    except (ValueError, RecursionError):
        return []
    if media_type != JSON_PATCH:
        return strict_errors(body)
    operations = body.value
    if not isinstance(operations, list) or not all(isinstance(operation, dict) for operation in operations):
        return []
    unknown = [(i, key) for i, operation in enumerate(operations) for key in operation if key not in JSON_PATCH_FIELDS]
    return ["json patch " + message for message in strict_errors(body, unknown)]


def patch_invalid_value(media_type: str, patch: object, patched: dict) -> str:
    """What upstream shows as the invalid value of a strict patch error: the patched object's
    JSON, or for a strategic merge patch the patch as Go's `%+v` prints a map."""
    if media_type == STRATEGIC_MERGE_PATCH:
        return go_format(patch)
    return json.dumps(patched, separators=(",", ":"), ensure_ascii=False)


def strict_patch_error(invalid_value: str, messages: list[str]) -> errors.Invalid:
    """The 422 of a patch refused under Strict: `NewInvalid` of an empty kind and name, so the
    message starts with ` "" is invalid`, as upstream's does."""
    body = f"Invalid value: {go_quote(invalid_value)}: strict decoding error: {', '.join(messages)}"
    cause = {"reason": "FieldValueInvalid", "message": body, "field": "patch"}
    return errors.Invalid(f' "" is invalid: patch: {body}', details={"causes": [cause]})
