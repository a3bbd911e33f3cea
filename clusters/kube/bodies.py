"""Request bodies: JSON, YAML or Kubernetes protobuf in, a plain dict out — or a clear error.

YAML is read as kubectl and the API server read it: sigs.k8s.io/yaml decodes it with go-yaml v2
into Go values and turns those into JSON. So plain scalars resolve as go-yaml v2 resolves them,
not as PyYAML's YAML 1.1 does: `2024-01-01` and `1:20` stay strings (no timestamps, no base 60),
`yes`/`on`/`y` are true, `0x1F`, `0o17`, `017` and `1_000` are integers, `.inf` and `.nan` fail as
JSON cannot carry them, keys become strings, and a whole float such as `1.0` or `1e3` is the
integer JSON writes for it.

JSON is read as the API server's decoder reads it into a typed object, keys set twice included:
the second value decodes into what the first left (see `Body`), and the keys are kept so that
`fieldValidation` can judge them (clusters.kube.strictness).

Hostile input is refused before it costs much: a size limit (3 MiB, the API server's), a nesting
limit, and YAML aliases counted as they would expand, so a "billion laughs" document fails in
milliseconds instead of filling memory when the object is serialized.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from clusters.objects.validation import KeyPath

MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 200_000
# The most documents one manifest may hold. The page's Apply stores every document in one
# transaction of the web process (all or none), so a 1,000-document paste would hold a database
# transaction and a web worker for many seconds; a class's quota allows 20 pods, and the longest
# lesson manifest has a handful. kubectl apply -f sends one request per object and has no limit.
MAX_DOCUMENTS = 100

PROTOBUF = "application/vnd.kubernetes.protobuf"


class BodyError(ValueError):
    """A body that cannot be read; `too_large` tells a 413 from a 400."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def too_large_message(size: int | None = None) -> str:
    """The API server's words for a body over the limit (apiserver's limitedReadBody), and the size
    when it is known."""
    sent = f" (the request body is {size:,} bytes)" if size is not None else ""
    return f"Request entity too large: limit is {MAX_BODY_BYTES}{sent}"


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
        # go-yaml's own words (decode.go), with the limit that was passed.
        raise BodyError(
            "yaml: document contains excessive aliasing: "
            f"it expands to too many nodes (more than {MAX_EXPANDED_NODES:,})"
        )
    seen[key] = size
    return size


# --- go-yaml v2's scalars (go.yaml.in/yaml/v2 resolve.go and decode.go, as sigs.k8s.io/yaml uses it)

TAG_PREFIX = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG_PREFIX + name for name in ("str", "int", "float", "bool", "null"))
TIMESTAMP, BINARY, MERGE = (TAG_PREFIX + name for name in ("timestamp", "binary", "merge"))

# The scalars go-yaml looks up by their whole text.
_WORDS: dict[str, tuple[str, object]] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), (BOOL, True)),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), (BOOL, False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (NULL, None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (FLOAT, -math.inf)),
}
# A scalar is looked at only when its first character hints it may be more than a string.
_HINTS = frozenset("yYnNtTfFoO~.+-0123456789")
# Go's strconv.ParseInt with base 0 (after go-yaml drops every "_"): a sign, then 0x, 0o, 0b or a
# leading 0 (octal) or decimal digits.
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]+)|([1-9][0-9]*|0))")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")  # what Go's ParseFloat takes after a leading dot
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})"
    r"| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?)?"
)
INT64 = range(-(2**63), 2**63)
UINT64 = range(2**64)


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), or ParseUint for what is too large for it, as go-yaml tries them."""
    match = _GO_INT.fullmatch(text)
    if match is None:
        return None
    sign, hexadecimal, octal, binary, legacy_octal, decimal = match.groups()
    if hexadecimal is not None:
        number = int(hexadecimal, 16)
    elif binary is not None:
        number = int(binary, 2)
    elif decimal is not None:
        number = int(decimal)
    else:
        number = int(octal if octal is not None else legacy_octal, 8)
    number = -number if sign == "-" else number
    if number in INT64 or (number in UINT64 and not sign):  # ParseUint takes no sign
        return number
    return None


def resolve_plain_scalar(text: str) -> tuple[str, object]:
    """The tag and value go-yaml v2 gives an unquoted, untagged scalar.

    Timestamps (`2024-01-01`) and base-60 numbers (`1:20`) are strings there: go-yaml hands a
    timestamp to an interface{} as its text, and never reads base 60. Floats stay floats here
    (`1e3` is 1000.0), as a key needs them; `as_json` makes the document's values JSON's.
    """
    if text in _WORDS:
        return _WORDS[text]
    if not text or text[0] not in _HINTS:
        return STR, text
    if text[0] == ".":
        return (FLOAT, float(text)) if _DOT_FLOAT.fullmatch(text) and math.isfinite(float(text)) else (STR, text)
    if text[0] in "yYnNtTfFoO~":
        return STR, text  # only the exact words above are anything else
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return INT, number
    if _YAML_STYLE_FLOAT.fullmatch(plain) and math.isfinite(float(plain)):  # Go's ParseFloat fails past ±Inf
        return FLOAT, float(plain)
    return STR, text


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(TAG_PREFIX) if tag.startswith(TAG_PREFIX) else tag


def _go_key_float(number: float) -> str:
    """A float key as sigs.k8s.io/yaml names it: strconv.FormatFloat(key, 'g', -1, 32)."""
    if math.isnan(number):
        return ".nan"
    if math.isinf(number) or abs(number) > 3.4028234663852886e38:
        return ".inf" if number > 0 else "-.inf"
    single = struct.unpack("f", struct.pack("f", number))[0]
    shortest = next(
        text
        for digits in range(1, 10)
        if struct.unpack("f", struct.pack("f", float(text := f"{single:.{digits}g}")))[0] == single
    )
    sign, digits, exponent = Decimal(shortest).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    power = len(mantissa) + exponent - 1
    if power < -4 or power >= 6:  # Go's %e form, exponent of at least two digits
        body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{'-' if sign else ''}{body}e{'-' if power < 0 else '+'}{abs(power):02d}"
    return format(Decimal(shortest), "f")


def _json_key(key: str | int | float | bool) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON key."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return _go_key_float(key)
    return str(key)


class _UniqueKeysLoader(yaml.SafeLoader):
    """A safe loader that reads scalars as go-yaml v2 does (see `resolve_plain_scalar`) and refuses
    a mapping setting one key twice, as kubectl's YAML reader does (`mapping key "image" already
    defined at line 7`) where PyYAML would keep the last value."""

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:  # plain: neither quoted nor tagged
            return MERGE if value == "<<" else resolve_plain_scalar(value)[0]
        return super().resolve(kind, value, implicit)

    def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
        event = self.peek_event()
        if event.tag == "!":  # the non-specific tag: text for go-yaml (and YAML), resolved by PyYAML
            event.implicit = (False, False)
        return super().compose_scalar_node(anchor)

    def construct_go_scalar(self, node: yaml.Node) -> object:
        """A scalar tagged (or resolved) as a bool, int, float, null or timestamp: what go-yaml
        makes of its text, which must be of that type (an int also makes a float)."""
        if not isinstance(node, yaml.ScalarNode):
            return self.construct_untagged(node)
        text = self.construct_scalar(node)
        if node.tag == TIMESTAMP:
            if _TIMESTAMP.fullmatch(text):
                return text  # go-yaml hands a timestamp to an interface{} as its text
            tag, value = STR, text
        else:
            tag, value = resolve_plain_scalar(text)
        if tag == node.tag:
            return value
        if node.tag == FLOAT and tag == INT:
            return float(value)
        problem = f"cannot decode {_short_tag(tag)} `{text}` as a {_short_tag(node.tag)}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)

    def construct_binary_text(self, node: yaml.Node) -> str:
        try:
            data = base64.b64decode(self.construct_scalar(node).encode("ascii"), validate=False)
        except (UnicodeEncodeError, binascii.Error):
            problem = "!!binary value contains invalid base64 data"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None
        return data.decode("utf-8", errors="replace")  # Go's JSON writes invalid UTF-8 as U+FFFD

    def construct_untagged(self, node: yaml.Node) -> object:
        """Any other tag (`!foo`, `!!set`, `!!omap`, `!!str` on a list): go-yaml ignores it."""
        if isinstance(node, yaml.MappingNode):
            return self.construct_yaml_map(node)
        if isinstance(node, yaml.SequenceNode):
            return self.construct_yaml_seq(node)
        return self.construct_scalar(node)

    def construct_text(self, node: yaml.Node) -> object:
        return self.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else self.construct_untagged(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE:
                continue  # `<<: *base` merges keys that explicit ones may override
            key = self.construct_object(key_node, deep=True)
            if key is None:  # sigs.k8s.io/yaml: "unsupported map key of type: %!s(<nil>)"
                problem = "a mapping key cannot be null in JSON; quote it to make it a string"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            if not isinstance(key, str | int | float | bool):
                continue  # a complex key: no Kubernetes object has one, decoding refuses it later
            if key in seen:
                problem = f"mapping key {json.dumps(key)} already defined at line {seen[key]}"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        if all(isinstance(key, str) for key in mapping):
            return mapping
        return {_json_key(key) if isinstance(key, int | float) else key: value for key, value in mapping.items()}


for _tag in (BOOL, INT, FLOAT, NULL, TIMESTAMP):
    _UniqueKeysLoader.add_constructor(_tag, _UniqueKeysLoader.construct_go_scalar)
_UniqueKeysLoader.add_constructor(BINARY, _UniqueKeysLoader.construct_binary_text)
_UniqueKeysLoader.add_constructor(STR, _UniqueKeysLoader.construct_text)
_UniqueKeysLoader.add_constructor(MERGE, _UniqueKeysLoader.construct_text)  # `<<` as a value is text
for _tag in (TAG_PREFIX + "set", TAG_PREFIX + "omap", TAG_PREFIX + "pairs", None):
    _UniqueKeysLoader.add_constructor(_tag, _UniqueKeysLoader.construct_untagged)


def as_json(value: object, path: str = "") -> object:
    """A decoded YAML value as it comes out of sigs.k8s.io/yaml's JSON: a whole float is the
    integer JSON writes for it (`1.0` → 1), an integer past int64 the float a JSON decoder reads,
    and infinities and NaN are refused, as Go's JSON encoder refuses them."""
    if isinstance(value, dict):
        return {key: as_json(item, f"{path}.{key}" if path else key) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, float):
        if not math.isfinite(value):
            written = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
            where = f" at {path}" if path else ""
            raise BodyError(
                f"error converting YAML to JSON{where}: json: unsupported value: {written} "
                "(JSON has no infinity or NaN; quote the value to keep it as text)"
            )
        return int(value) if value.is_integer() and int(value) in INT64 else value
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        return float(value)
    return value


def load_yaml_documents(text: str) -> list[object]:
    """Every document of a YAML stream, read as kubectl reads it, refusing alias bombs and keys
    set twice; errors name the line."""
    documents = []
    try:
        loader = _UniqueKeysLoader(text)  # its reader refuses a NUL or other control character here
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        problem = f"unacceptable character #x{error.character:04x}: special characters are not allowed"
        raise BodyError(f"error parsing YAML at line {line}, column {column}: {problem}") from None
    try:
        while loader.check_node():
            node = loader.get_node()
            if len(documents) == MAX_DOCUMENTS:
                raise BodyError(
                    f"the manifest has more than {MAX_DOCUMENTS} documents: apply at most {MAX_DOCUMENTS} at once "
                    "(split it, or use kubectl apply -f, which sends one request per object)"
                )
            _expanded_size(node, {})
            documents.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise BodyError(f"error parsing YAML at {where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise BodyError(f"error parsing YAML: {error}") from None
    except RecursionError:  # PyYAML composes nested nodes recursively: far past MAX_DEPTH
        raise BodyError(f"the YAML document is nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    return [as_json(document) for document in documents if document is not None]


# --- JSON, keys set twice included ---------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A request body as the API server's decoder reads it.

    `value` is the decoded document. Where a JSON object sets a key twice, the second value is
    decoded into what the first left, as Go's decoder does in a typed object: objects merge key
    by key, a list's items merge by index and the list takes the second's length, anything else
    is replaced. `duplicates` lists those keys (position in the document, path) in document order,
    and `positions` says where each path is first set, so that strict decoding errors can be
    listed in document order, as upstream lists them. Both are empty for a body without such keys.
    """

    value: Any
    duplicates: tuple[tuple[int, KeyPath], ...] = ()
    positions: Mapping[KeyPath, int] = field(default_factory=dict)


class _KeySetTwice(Exception):
    """The quick read found an object setting a key twice: read again, keeping every key."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _KeySetTwice
    return value


class _Members(list):
    """An object's members as written: (key, value) pairs, a key set twice appearing twice."""


def _decoded_into(first: Any, second: Any) -> Any:
    """What Go's decoder leaves when it decodes `second` into the field `first` filled."""
    if isinstance(first, dict) and isinstance(second, dict):
        merged = dict(first)
        for key, item in second.items():
            merged[key] = _decoded_into(merged[key], item) if key in merged else item
        return merged
    if isinstance(first, list) and isinstance(second, list):
        return [_decoded_into(first[i], item) if i < len(first) else item for i, item in enumerate(second)]
    return second


class _MemberReader:
    """Turns `_Members` into dicts, walking the document in order and noting keys set twice."""

    def __init__(self) -> None:
        self.positions: dict[KeyPath, int] = {}
        self.duplicates: list[tuple[int, KeyPath]] = []
        self._next = itertools.count()

    def read(self, value: Any, path: KeyPath = ()) -> Any:
        if isinstance(value, _Members):
            result: dict = {}
            for key, item in value:
                where = (*path, key)
                position = next(self._next)
                if key in result:
                    self.duplicates.append((position, where))
                    result[key] = _decoded_into(result[key], self.read(item, where))
                else:
                    self.positions.setdefault(where, position)
                    result[key] = self.read(item, where)
            return result
        if isinstance(value, list):
            return [self.read(item, (*path, index)) for index, item in enumerate(value)]
        return value


def load_json(raw: bytes | str, *, positions: bool = False) -> Body:
    """A JSON document, read once quickly and, only when an object sets a key twice (or when
    `positions` are asked for), once more member by member. Raises what `json.loads` raises."""
    if isinstance(raw, bytes):
        # As Go's decoder reads JSON: UTF-8 only (no UTF-16/32 detection), an invalid byte read
        # as U+FFFD, which validation then names in its field.
        raw = raw.decode("utf-8", errors="replace")
    if not positions:
        try:
            return Body(json.loads(raw or "null", object_pairs_hook=_unique_object))
        except _KeySetTwice:
            pass
    reader = _MemberReader()
    value = reader.read(json.loads(raw or "null", object_pairs_hook=_Members))
    return Body(value, tuple(reader.duplicates), reader.positions)


def read_body(raw: bytes, content_type: str | None) -> Body:
    """The request body, from JSON (also when no Content-Type is sent), YAML or protobuf; its
    value is a dict. Only JSON can carry a key twice: YAML refuses it (as kubectl's reader does)
    and protobuf has no keys."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyError(too_large_message(len(raw)), too_large=True)
    kind = media_type(content_type)
    if kind == PROTOBUF:
        # Imported here: a large decoder that only the few protobuf bodies (kubectl create
        # <generator>) need.
        from clusters.kube.protobuf import ProtobufError, decode_object

        try:
            return Body(decode_object(raw))
        except ProtobufError as error:
            raise BodyError(f"the protobuf body could not be decoded: {error}") from None
    if kind in ("application/yaml", "application/x-yaml", "text/yaml"):
        documents = load_yaml_documents(raw.decode("utf-8", errors="replace"))
        if len(documents) != 1:
            raise BodyError(f"expected one YAML document, found {len(documents)}")
        body = Body(documents[0])
    else:
        try:
            body = load_json(raw)
        except json.JSONDecodeError as error:
            raise BodyError(f"error decoding JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
        except RecursionError:
            raise BodyError(f"the object is nested more than {MAX_DEPTH} levels deep") from None
    _check_depth(body.value)
    if not isinstance(body.value, dict):
        raise BodyError("the body of the request must be a JSON or YAML object")
    return body


def parse_body(raw: bytes, content_type: str | None) -> dict:
    """The request body as a dict (see `read_body`)."""
    return read_body(raw, content_type).value
