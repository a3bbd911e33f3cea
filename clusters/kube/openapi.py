"""The OpenAPI v3 documents kubectl reads for `explain`, `apply` and `create -f`, as pure functions.

`GET /openapi/v3` answers `openapi_index()`; each group-version's document
(`GET /openapi/v3/api/v1?hash=…`, `…/apis/apps/v1?hash=…`) answers `openapi_document()` or, byte
for byte as hashed, `openapi_document_bytes()`.

The documents are generated from the 1.37 JSON schemas in `schema.py` and shaped like the ones a
real apiserver publishes (kubernetes `api/openapi-spec/v3/`):

- `components.schemas` holds the definitions reachable from the group-version's kinds, converted
  from JSON Schema 2020-12 to OpenAPI 3.0: refs point to `#/components/schemas/NAME` (wrapped in a
  one-element `allOf` when the field adds a description, as upstream does, because OpenAPI 3.0
  ignores a `$ref`'s siblings), `["string", "null"]` becomes `"string"`, the strictness that
  kubernetes-validate adds (`additionalProperties: false`, one-value enums on apiVersion/kind) is
  dropped, and IntOrString and Quantity take their upstream shapes;
- `paths` has the collection, item and subresource paths of every resource with operations that
  carry `x-kubernetes-group-version-kind` and `x-kubernetes-action`. kubectl's explain finds a
  resource's kind through those operations, and cli-runtime's query-param verifier
  (`query_param_verifier_v3.go`) only lets `apply`/`create` send `fieldValidation=Strict`, and so
  skip client-side validation, when the kind's PATCH operation lists a `fieldValidation` query
  parameter. Every PATCH operation of a kind must list it: the verifier stops at the first one
  it finds, in map order.

The `?hash=` in the index is a cache key for kubectl's HTTP cache (`~/.kube/cache/http`): the
uppercase hex SHA-512 of the document's bytes, as kube-openapi's handler3 computes it, so it
changes exactly when the document does.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from clusters.kube.discovery import SUBRESOURCES, subresource_gvk
from clusters.objects import schema
from clusters.objects.resources import KUBE_VERSION, RESOURCES, Resource, group_versions

REF_PREFIX = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."

# Operation bodies and answers refer to these in every document, whatever its kinds.
BASE_DEFINITIONS = (
    f"{META}APIResourceList",
    f"{META}DeleteOptions",
    f"{META}Patch",
    f"{META}Status",
    f"{META}WatchEvent",
)

# kubernetes-validate writes these as JSON Schema `oneOf`s without descriptions; upstream
# publishes them like this (a format kube-openapi and kubectl recognise, and no `type`, so
# `kubectl explain` shows the type's name: `<IntOrString>`, `<map[string]Quantity>`).
SPECIAL_DEFINITIONS: dict[str, dict] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
        "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for "
        "example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "Quantity is a fixed-point representation of a number, written as a string with an "
        "optional suffix: binary SI (Ki, Mi, Gi, Ti, Pi, Ei), decimal SI (m, k, M, G, T, P, E) or a decimal "
        'exponent (e.g. "1e3"). Examples: "100m" (0.1 CPU), "128Mi", "1.5" (serialized as "1500m").',
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
}

JSON = "application/json"
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


# --- schemas -----------------------------------------------------------------------------------


def _type(value: str | list[str]) -> str | None:
    """OpenAPI 3.0 has one type per schema: `["string", "null"]` → `"string"`."""
    if isinstance(value, str):
        return value
    types = [t for t in value if t != "null"]
    return types[0] if len(types) == 1 else None


def _ref(name: str) -> dict:
    return {"$ref": REF_PREFIX + name}


def convert(node: Any) -> Any:
    """One JSON Schema 2020-12 node (and everything below it) as OpenAPI 3.0."""
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            continue
        if key == "type":
            value = _type(value)
            if value is None:
                continue
        elif key == "additionalProperties":
            if not isinstance(value, dict):
                # `false` is kubernetes-validate's strictness; fieldValidation is the server's job.
                continue
            value = convert(value)
        elif key in ("properties", "patternProperties"):
            value = {name: convert(prop) for name, prop in value.items()}
        elif key in ("items", "oneOf", "anyOf", "allOf", "not"):
            value = convert(value)
        converted[key] = value
    name = schema.ref_name(node)
    if name is None:
        return converted
    if not converted:
        return _ref(name)
    return {"allOf": [_ref(name)], **converted}


@cache
def component(name: str) -> dict:
    """The converted definition `name` (shared between documents: treat it as read-only)."""
    if name in SPECIAL_DEFINITIONS:
        return SPECIAL_DEFINITIONS[name]
    definition = convert(schema.definitions()[name])
    if "x-kubernetes-group-version-kind" in definition:
        for field in ("apiVersion", "kind"):
            definition.get("properties", {}).get(field, {}).pop("enum", None)
    return definition


def refs_in(node: Any) -> set[str]:
    """The definition names a converted node refers to."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX):
                found.add(ref.removeprefix(REF_PREFIX))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def reachable(roots: set[str]) -> dict[str, dict]:
    """The definitions `roots` need, by name and sorted, so every ref in them resolves."""
    seen: set[str] = set()
    pending = set(roots)
    while pending:
        name = pending.pop()
        seen.add(name)
        pending |= refs_in(component(name)) - seen
    return {name: component(name) for name in sorted(seen)}


# --- paths -------------------------------------------------------------------------------------


def _delete_option(field: str) -> str:
    return schema.definitions()[f"{META}DeleteOptions"]["properties"][field]["description"]


@cache
def _query_parameters() -> dict[str, tuple[str, str]]:
    """name → (type, description) of the query parameters the operations list."""
    return {
        "allowWatchBookmarks": ("boolean", "Asks a watch for BOOKMARK events; the server may send them or not."),
        "container": ("string", "The container whose log to return; defaults to the only container of the pod."),
        "continue": ("string", "The continue token of a previous list call, to fetch the next page."),
        "dryRun": ("string", _delete_option("dryRun")),
        "fieldManager": ("string", "A name for the actor making these changes, recorded in managedFields."),
        "fieldSelector": ("string", "Restricts the list of returned objects by their fields."),
        "fieldValidation": (
            "string",
            "How the server treats unknown or duplicate fields in the request body: Ignore (drop them), "
            "Warn (drop them and answer with a Warning header) or Strict (reject the request with "
            "BadRequest).",
        ),
        "follow": ("boolean", "Follow the log stream of the container. Defaults to false."),
        "force": ("boolean", "Take over fields owned by other managers; only for apply patches."),
        "gracePeriodSeconds": ("integer", _delete_option("gracePeriodSeconds")),
        "ignoreStoreReadErrorWithClusterBreakingPotential": (
            "boolean",
            _delete_option("ignoreStoreReadErrorWithClusterBreakingPotential"),
        ),
        "labelSelector": ("string", "Restricts the list of returned objects by their labels."),
        "limit": ("integer", "The maximum number of objects to return; the server may return all of them."),
        "limitBytes": ("integer", "The number of bytes of log to read before stopping."),
        "orphanDependents": ("boolean", _delete_option("orphanDependents")),
        "pretty": ("string", "If 'true', then the output is pretty printed."),
        "previous": ("boolean", "Return the logs of the previous, terminated container. Defaults to false."),
        "propagationPolicy": ("string", _delete_option("propagationPolicy")),
        "resourceVersion": ("string", "Which resource versions the request may be served from."),
        "resourceVersionMatch": ("string", "How resourceVersion applies to list calls."),
        "sendInitialEvents": ("boolean", "Starts a watch with synthetic ADDED events for the current objects."),
        "sinceSeconds": ("integer", "Only return log lines newer than this many seconds."),
        "tailLines": ("integer", "The number of lines from the end of the log to return."),
        "command": ("string", "The command to execute, one argument per parameter; not run by a shell."),
        "stdin": ("boolean", "Redirect the standard input stream of the pod for this call."),
        "stdout": ("boolean", "Redirect the standard output stream of the pod for this call."),
        "stderr": ("boolean", "Redirect the standard error stream of the pod for this call."),
        "tty": ("boolean", "Allocate a terminal for this exec call."),
        "ports": ("integer", "List of ports to forward."),
        "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
        "timestamps": ("boolean", "Prefix every log line with its RFC 3339 timestamp. Defaults to false."),
        "watch": ("boolean", "Watch for changes to the described resources instead of listing them."),
    }


LIST_PARAMETERS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")
PATCH_PARAMETERS = (*WRITE_PARAMETERS, "force")
DELETE_PARAMETERS = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
DELETE_COLLECTION_PARAMETERS = tuple(
    sorted({*DELETE_PARAMETERS, *LIST_PARAMETERS} - {"allowWatchBookmarks", "watch"}, key=str.lower)
)
LOG_PARAMETERS = ("container", "follow", "limitBytes", "previous", "sinceSeconds", "tailLines", "timestamps")
EXEC_PARAMETERS = ("command", "container", "stderr", "stdin", "stdout", "tty")
CONNECT_PARAMETERS = {
    "exec": EXEC_PARAMETERS,
    "attach": ("container", "stderr", "stdin", "stdout", "tty"),
    "portforward": ("ports",),
}


def _parameters(names: tuple[str, ...]) -> list[dict]:
    table = _query_parameters()
    return [
        {
            "description": table[name][1],
            "in": "query",
            "name": name,
            "schema": {"type": table[name][0], "uniqueItems": True},
        }
        for name in names
    ]


def _path_parameter(name: str, description: str) -> dict:
    return {
        "description": description,
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _path_parameters(namespaced: bool, named: str | None) -> list[dict]:
    parameters = []
    if named:
        parameters.append(_path_parameter("name", f"name of the {named}"))
    if namespaced:
        parameters.append(_path_parameter("namespace", "object name and auth scope, such as for teams and projects"))
    return [*parameters, *_parameters(("pretty",))]


def _content(schema_node: dict, *media_types: str) -> dict:
    return {media_type: {"schema": schema_node} for media_type in media_types}


def _responses(schema_node: dict, codes: tuple[str, ...], *media_types: str) -> dict:
    reasons = {"200": "OK", "201": "Created", "202": "Accepted"}
    content = _content(schema_node, *(media_types or (JSON,)))
    responses = {code: {"content": content, "description": reasons[code]} for code in codes}
    return responses | {"401": {"description": "Unauthorized"}}


def _group_word(group: str) -> str:
    """The group as upstream spells it in operation ids: "" → Core, rbac.authorization.k8s.io → RbacAuthorization."""
    if not group:
        return "Core"
    return "".join(part[:1].upper() + part[1:] for part in group.removesuffix(".k8s.io").split("."))


def _tag(group: str, version: str) -> str:
    word = _group_word(group)
    return f"{word[:1].lower()}{word[1:]}_{version}"


def _operation(
    resource: Resource,
    action: str,
    operation_id: str,
    description: str,
    gvk: tuple[str, str, str],
    parameters: tuple[str, ...] = (),
    request: dict | None = None,
    responses: dict | None = None,
) -> dict:
    operation: dict[str, Any] = {"description": description, "operationId": operation_id}
    if parameters:
        operation["parameters"] = _parameters(parameters)
    if request is not None:
        operation["requestBody"] = {"content": request}
    operation["responses"] = responses
    operation["tags"] = [_tag(resource.group, resource.version)]
    operation["x-kubernetes-action"] = action
    group, version, kind = gvk
    operation["x-kubernetes-group-version-kind"] = {"group": group, "kind": kind, "version": version}
    return operation


def _names(resource: Resource) -> tuple[str, str]:
    """The operation-id stem (`AppsV1Namespaced`) and the definition name of the resource's kind."""
    scope = "Namespaced" if resource.namespaced else ""
    stem = f"{_group_word(resource.group)}{resource.version[:1].upper()}{resource.version[1:]}{scope}"
    name = schema.definition_name(resource.api_version, resource.kind)
    if name is None:
        raise LookupError(f"no schema for {resource.api_version} {resource.kind}")
    return stem, name


def _collection_path(resource: Resource) -> dict:
    stem, name = _names(resource)
    gvk = (resource.group, resource.version, resource.kind)
    kind = resource.kind
    verbs = set(resource.verbs)
    list_name = schema.definition_name(resource.api_version, resource.list_kind)
    item: dict[str, Any] = {}
    if verbs & {"list", "watch"} and list_name:
        item["get"] = _operation(
            resource,
            "list",
            f"list{stem}{kind}",
            f"list or watch objects of kind {kind}",
            gvk,
            LIST_PARAMETERS,
            responses=_responses(_ref(list_name), ("200",), JSON, f"{JSON};stream=watch"),
        )
    if "create" in verbs:
        item["post"] = _operation(
            resource,
            "post",
            f"create{stem}{kind}",
            f"create a {kind}",
            gvk,
            WRITE_PARAMETERS,
            _content(_ref(name), "*/*"),
            _responses(_ref(name), ("200", "201", "202")),
        )
    if "deletecollection" in verbs:
        item["delete"] = _operation(
            resource,
            "deletecollection",
            f"delete{stem.replace('Namespaced', '')}Collection{'Namespaced' if resource.namespaced else ''}{kind}",
            f"delete collection of {kind}",
            gvk,
            DELETE_COLLECTION_PARAMETERS,
            _content(_ref(f"{META}DeleteOptions"), "*/*"),
            _responses(_ref(f"{META}Status"), ("200",)),
        )
    if item:
        item["parameters"] = _path_parameters(resource.namespaced, None)
    return item


def _all_namespaces_path(resource: Resource) -> dict:
    """`/api/v1/pods`: the cluster-wide list of a namespaced resource (no create or delete here)."""
    stem, _name = _names(resource)
    list_name = schema.definition_name(resource.api_version, resource.list_kind)
    if not (set(resource.verbs) & {"list", "watch"}) or not list_name:
        return {}
    operation = _operation(
        resource,
        "list",
        f"list{stem.removesuffix('Namespaced')}{resource.kind}ForAllNamespaces",
        f"list or watch objects of kind {resource.kind}",
        (resource.group, resource.version, resource.kind),
        responses=_responses(_ref(list_name), ("200",), JSON, f"{JSON};stream=watch"),
    )
    return {"get": operation, "parameters": _parameters(tuple(sorted((*LIST_PARAMETERS, "pretty"), key=str.lower)))}


def _item_path(resource: Resource, verbs: set[str], gvk: tuple[str, str, str], suffix: str, what: str) -> dict:
    """The operations on one object (`suffix` "") or one of its subresources ("Status", "Scale")."""
    stem, _name = _names(resource)
    group, version, kind = gvk
    body_name = schema.definition_name(f"{group}/{version}" if group else version, kind)
    if body_name is None:
        raise LookupError(f"no schema for {group}/{version} {kind}")
    body = _ref(body_name)
    of = f"{what} of " if what else ""
    item: dict[str, Any] = {}
    if "get" in verbs:
        item["get"] = _operation(
            resource,
            "get",
            f"read{stem}{resource.kind}{suffix}",
            f"read {of}the specified {resource.kind}",
            gvk,
            responses=_responses(body, ("200",)),
        )
    if "update" in verbs:
        item["put"] = _operation(
            resource,
            "put",
            f"replace{stem}{resource.kind}{suffix}",
            f"replace {of}the specified {resource.kind}",
            gvk,
            WRITE_PARAMETERS,
            _content(body, "*/*"),
            _responses(body, ("200", "201")),
        )
    if "patch" in verbs:
        # The strategic-merge-patch body type tells kubectl apply to build its patch from this
        # document's merge keys [kubectl pkg/cmd/apply/patcher.go gvkSupportsPatchOpenAPIV3].
        item["patch"] = _operation(
            resource,
            "patch",
            f"patch{stem}{resource.kind}{suffix}",
            f"partially update {of}the specified {resource.kind}",
            gvk,
            PATCH_PARAMETERS,
            _content(_ref(f"{META}Patch"), *PATCH_TYPES),
            _responses(body, ("200", "201")),
        )
    if "delete" in verbs:
        item["delete"] = _operation(
            resource,
            "delete",
            f"delete{stem}{resource.kind}{suffix}",
            f"delete a {resource.kind}",
            gvk,
            DELETE_PARAMETERS,
            _content(_ref(f"{META}DeleteOptions"), "*/*"),
            _responses(_ref(f"{META}Status"), ("200", "202")),
        )
    if item:
        item["parameters"] = _path_parameters(resource.namespaced, kind)
    return item


def _log_path(resource: Resource) -> dict:
    stem, _name = _names(resource)
    text = {"type": "string"}
    operation = _operation(
        resource,
        "get",
        f"read{stem}{resource.kind}Log",
        f"read log of the specified {resource.kind}",
        (resource.group, resource.version, resource.kind),
        LOG_PARAMETERS,
        responses=_responses(text, ("200",), "text/plain", JSON),
    )
    return {"get": operation, "parameters": _path_parameters(resource.namespaced, resource.kind)}


def _connect_path(resource: Resource, name: str) -> dict:
    """pods/exec and pods/portforward, connect operations: GET and POST upgrade to a stream
    (clusters.kube.streams)."""
    stem, _name = _names(resource)
    gvk = subresource_gvk(resource, name)
    word = name.capitalize()

    def connect(method: str) -> dict:
        return _operation(
            resource,
            "connect",
            f"connect{method.capitalize()}{stem}{resource.kind}{word}",
            f"connect {method.upper()} requests to {name} of {resource.kind}",
            gvk,
            responses=_responses({"type": "string"}, ("200",), "*/*"),
        )

    parameters = [*_path_parameters(resource.namespaced, gvk[2]), *_parameters(CONNECT_PARAMETERS[name])]
    return {"get": connect("get"), "post": connect("post"), "parameters": parameters}


def _resource_paths(resource: Resource, prefix: str) -> dict[str, dict]:
    base = (
        f"{prefix}/namespaces/{{namespace}}/{resource.plural}" if resource.namespaced else f"{prefix}/{resource.plural}"
    )
    paths = {base: _collection_path(resource)}
    if resource.namespaced:
        paths[f"{prefix}/{resource.plural}"] = _all_namespaces_path(resource)
    own = (resource.group, resource.version, resource.kind)
    paths[f"{base}/{{name}}"] = _item_path(resource, set(resource.verbs), own, "", "")
    for name in resource.subresources:
        if name == "log":
            paths[f"{base}/{{name}}/log"] = _log_path(resource)
            continue
        if name in CONNECT_PARAMETERS:
            paths[f"{base}/{{name}}/{name}"] = _connect_path(resource, name)
            continue
        verbs = set(SUBRESOURCES[name].verbs)
        paths[f"{base}/{{name}}/{name}"] = _item_path(
            resource, verbs, subresource_gvk(resource, name), name.capitalize(), name
        )
    return {path: item for path, item in paths.items() if item}


# --- documents ---------------------------------------------------------------------------------


def document_path(group: str, version: str) -> str:
    """The index key and URL tail of a group-version's document: `api/v1`, `apis/apps/v1`."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def build_document(group: str, version: str) -> dict:
    """The OpenAPI v3 document of one served group-version (uncached; see `openapi_document`)."""
    prefix = "/" + document_path(group, version)
    resources = sorted((r for r in RESOURCES if (r.group, r.version) == (group, version)), key=lambda r: r.plural)
    paths: dict[str, dict] = {
        f"{prefix}/": {
            "get": {
                "description": "get available resources",
                "operationId": f"get{_group_word(group)}{version.capitalize()}APIResources",
                "responses": _responses(_ref(f"{META}APIResourceList"), ("200",)),
                "tags": [_tag(group, version)],
            }
        }
    }
    for resource in resources:
        paths |= _resource_paths(resource, prefix)
    paths = dict(sorted(paths.items()))
    roots = set(BASE_DEFINITIONS) | {
        name
        for item in paths.values()
        for operation in item.values()
        if isinstance(operation, dict)
        for name in refs_in(operation)
    }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v{KUBE_VERSION}"},
        "paths": paths,
        "components": {
            "schemas": reachable(roots),
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                }
            },
        },
    }


def serialize(document: dict) -> bytes:
    """Compact JSON with sorted keys: the same document always gives the same bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: bytes) -> str:
    """kube-openapi's ETag for a document: the uppercase hex SHA-512 of its bytes."""
    return hashlib.sha512(data).hexdigest().upper()


@cache
def _served_paths() -> dict[str, tuple[str, str]]:
    return {document_path(group, version): (group, version) for group, version in group_versions()}


@cache
def _built(path: str) -> tuple[dict, bytes, str] | None:
    group_version = _served_paths().get(path)
    if group_version is None:
        return None
    document = build_document(*group_version)
    data = serialize(document)
    return document, data, content_hash(data)


def openapi_document(group_version_path: str) -> tuple[dict, str] | None:
    """(document, hash) for `api/v1`, `apis/apps/v1`, …; None for a path that is not served.

    Built once and cached: the dict is shared, so treat it as read-only.
    """
    built = _built(group_version_path.strip("/"))
    return None if built is None else (built[0], built[2])


def openapi_document_bytes(group_version_path: str) -> tuple[bytes, str] | None:
    """(JSON bytes, hash) of a document: serve these bytes so the hash is theirs (and skip re-encoding)."""
    built = _built(group_version_path.strip("/"))
    return None if built is None else (built[1], built[2])


def openapi_index() -> dict:
    """`GET /openapi/v3`: every served group-version's document URL, with its content hash."""
    paths = {}
    for path in _served_paths():
        _data, digest = openapi_document_bytes(path)
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
