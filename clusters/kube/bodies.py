"""Request bodies: JSON, YAML or Kubernetes protobuf in, a plain dict out — or a clear error.

Hostile input is refused before it costs much: a size limit (3 MiB, the API server's), a nesting
limit, and YAML aliases counted as they would expand, so a "billion laughs" document fails in
milliseconds instead of filling memory when the object is serialized.
"""

from __future__ import annotations

import json

import yaml

MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 200_000

PROTOBUF = "application/vnd.kubernetes.protobuf"


class BodyError(ValueError):
    """A body that cannot be read; `too_large` tells a 413 from a 400."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def media_type(content_type: str | None) -> str:
    return (content_type or "application/json").split(";")[0].strip().lower()


def _check_depth(value: object, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise BodyError(f"the object is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _expanded_size(node: yaml.Node, seen: dict[int, int], depth: int = 0) -> int:
    """How many nodes the document has once every alias is expanded (memoised per node)."""
    if depth > MAX_DEPTH:
        raise BodyError(f"the YAML document is nested more than {MAX_DEPTH} levels deep")
    key = id(node)
    if key in seen:
        return seen[key]
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, seen, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, seen, depth + 1) + _expanded_size(v, seen, depth + 1) for k, v in node.value)
    else:
        size = 1
    if size > MAX_EXPANDED_NODES:
        raise BodyError("the YAML document expands to too many nodes (aliases?)")
    seen[key] = size
    return size


class _UniqueKeysLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping setting one key twice, as kubectl's YAML reader does
    (`mapping key "image" already defined at line 7`) where PyYAML would keep the last value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` merges keys that explicit ones may override
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue  # a complex key: no Kubernetes object has one, decoding refuses it later
            if key in seen:
                problem = f"mapping key {json.dumps(key)} already defined at line {seen[key]}"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml_documents(text: str) -> list[object]:
    """Every document of a YAML stream, refusing alias bombs and keys set twice; errors name the line."""
    documents = []
    loader = _UniqueKeysLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            _expanded_size(node, {})
            documents.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise BodyError(f"error parsing YAML at {where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise BodyError(f"error parsing YAML: {error}") from None
    finally:
        loader.dispose()
    return [document for document in documents if document is not None]


def parse_body(raw: bytes, content_type: str | None) -> dict:
    """The request body as a dict, from JSON (also when no Content-Type is sent), YAML or protobuf."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyError(f"the request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}", too_large=True)
    kind = media_type(content_type)
    if kind == PROTOBUF:
        from clusters.kube.protobuf import ProtobufError, decode_object

        try:
            return decode_object(raw)
        except ProtobufError as error:
            raise BodyError(f"the protobuf body could not be decoded: {error}") from None
    if kind in ("application/yaml", "application/x-yaml", "text/yaml"):
        documents = load_yaml_documents(raw.decode("utf-8", errors="replace"))
        if len(documents) != 1:
            raise BodyError(f"expected one YAML document, found {len(documents)}")
        value = documents[0]
    else:
        try:
            value = json.loads(raw or b"null")
        except json.JSONDecodeError as error:
            raise BodyError(f"error decoding JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
        except RecursionError:
            raise BodyError(f"the object is nested more than {MAX_DEPTH} levels deep") from None
    _check_depth(value)
    if not isinstance(value, dict):
        raise BodyError("the body of the request must be a JSON or YAML object")
    return value
