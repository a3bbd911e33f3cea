"""Strict decoding and validation of API objects, worded as the real 1.37 API server words them.

Two stages, as upstream runs them on create and update:

1. `decode(obj, resource)`: what the JSON decoder finds before anything else: wrong JSON types
   and unparseable quantities (always HTTP 400 BadRequest), and unknown fields, which
   `fieldValidation` rejects (Strict), or drops with a warning (Warn, the default) or silently
   (Ignore): `without_fields` drops them. `decode_errors` lists what Strict rejects and
   `decode_error_message` builds the Status message the apiserver sends for it.
2. `validate(obj, resource, old=None)`: the field rules of `pkg/apis/*/validation` (HTTP 422
   Invalid), as a list of `Cause`s in upstream order. Validation runs on the defaulted object, as
   upstream validates after defaulting: the store defaults once per write and hands `validate`
   the result (and the stored object as `old`); `validate` fills nothing in itself.

Messages follow apimachinery's `field.Error`: `Required value`, `Invalid value: <value>: <detail>`
(values rendered as upstream renders them since 1.34: numbers plain, strings Go-quoted, anything
else as JSON), `Unsupported value: "x": supported values: "a", "b"`, `Duplicate value: "x"`,
`Forbidden: <detail>`, `Too long: may not be more than N bytes`, `Not found: "x"`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from clusters.objects import schema
from clusters.objects.cron import schedule_error
from clusters.objects.go_strconv import go_quote
from clusters.objects.labels import (
    JOB_CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from clusters.objects.quantity import Quantity, QuantityError, quantity_from_json
from clusters.objects.resources import Resource
from clusters.objects.times import rfc3339_error

# ---------------------------------------------------------------------------------------------
# Causes, worded as apimachinery's field.Error renders them
# ---------------------------------------------------------------------------------------------

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
NOT_FOUND = "FieldValueNotFound"

# The API server's --service-node-port-range (its default).
NODE_PORT_RANGE = range(30000, 32768)


@dataclass(frozen=True)
class Cause:
    """One entry of a 422 Status's `details.causes`: `{"reason", "message", "field"}`."""

    reason: str
    message: str
    field: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def go_json(value: Any) -> str:
    """encoding/json's compact output: dicts in the order given (sort maps before), HTML-safe."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _go_float(number: float) -> str:
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    return repr(number)


def render_value(value: Any) -> str:
    """How field.Error shows a bad value: %v for numbers and bools, %q for strings, else JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    try:
        return go_json(value)
    except (TypeError, ValueError):
        return str(value)


def _with_detail(body: str, detail: str) -> str:
    return f"{body}: {detail}" if detail else body


def required(path: str, detail: str = "") -> Cause:
    return Cause(REQUIRED, _with_detail("Required value", detail), path)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(INVALID, _with_detail(f"Invalid value: {render_value(value)}", detail), path)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    choices = ", ".join(go_quote(str(choice)) for choice in supported)
    detail = f"supported values: {choices}" if choices else ""
    return Cause(NOT_SUPPORTED, _with_detail(f"Unsupported value: {render_value(value)}", detail), path)


def duplicate(path: str, value: Any) -> Cause:
    return Cause(DUPLICATE, f"Duplicate value: {render_value(value)}", path)


def forbidden(path: str, detail: str) -> Cause:
    return Cause(FORBIDDEN, _with_detail("Forbidden", detail), path)


def too_long(path: str, max_bytes: int) -> Cause:
    unit = "byte" if max_bytes == 1 else "bytes"
    return Cause(TOO_LONG, f"Too long: may not be more than {max_bytes} {unit}", path)


def too_many(path: str, actual: int, maximum: int) -> Cause:
    items = "item" if maximum == 1 else "items"
    return Cause(TOO_MANY, f"Too many: {actual}: must have at most {maximum} {items}", path)


def invalid_omitting_value(path: str, detail: str) -> Cause:
    """field.Invalid with field.OmitValueType: the message names no value."""
    return Cause(INVALID, _with_detail("Invalid value", detail), path)


def not_found(path: str, value: Any) -> Cause:
    return Cause(NOT_FOUND, f"Not found: {render_value(value)}", path)


def _each_invalid(path: str, value: Any, details: Iterable[str]) -> list[Cause]:
    """One Invalid value cause for each message a format check returned (none when it passed)."""
    return [invalid(path, value, detail) for detail in details]


def _required_valid(path: str, value: Any, check: Callable[[Any], list[str]]) -> list[Cause]:
    """Required value when `value` is empty, else an Invalid value for each message of `check`."""
    return _each_invalid(path, value, check(value)) if value else [required(path)]


def _unsupported(path: str, value: Any, choices: tuple[str, ...]) -> list[Cause]:
    """Unsupported value unless `value` is one of `choices`."""
    return [] if value in choices else [not_supported(path, value, choices)]


def _required_choice(holder: dict, key: str, path: str, choices: tuple[str, ...]) -> list[Cause]:
    """`holder[key]` (reported at `path.key`) must be set, to one of `choices`."""
    value = _str(holder.get(key))
    return _unsupported(f"{path}.{key}", value, choices) if value else [required(f"{path}.{key}")]


def _optional_choice(holder: dict, key: str, path: str, choices: tuple[str, ...]) -> list[Cause]:
    """`holder[key]` (reported at `path.key`), when set, must be one of `choices`."""
    value = holder.get(key)
    return [] if value is None else _unsupported(f"{path}.{key}", value, choices)


def invalid_status_message(resource: Resource, name: str, causes: list[Cause]) -> str:
    """The 422 Status message: `Deployment.apps "web" is invalid: [a: ..., b: ...]`."""
    kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    seen: list[str] = []
    for cause in causes:
        text = str(cause)
        if text not in seen:
            seen.append(text)
    if not seen:
        return f"{kind} {go_quote(name)} is invalid"
    joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
    return f"{kind} {go_quote(name)} is invalid: {joined}"


# ---------------------------------------------------------------------------------------------
# Name and value formats (apimachinery pkg/util/validation and pkg/api/validate/content)
# ---------------------------------------------------------------------------------------------


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError, double space after each example included."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


class _Format:
    """A format a value must match whole, and the RegexError upstream reports when it does not."""

    __slots__ = ("error", "regex")

    def __init__(self, fmt: str, message: str, *examples: str) -> None:
        self.regex = re.compile(fmt)
        self.error = regex_error(message, fmt, *examples)

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None

    def errors(self, value: str) -> list[str]:
        return [] if self.matches(value) else [self.error]


DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL = _Format(
    DNS1123_LABEL_FMT,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character",
    "my-name",
    "123-abc",
)
_DNS1123_SUBDOMAIN = _Format(
    DNS1123_SUBDOMAIN_FMT,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character",
    "example.com",
)
_LABEL_KEY_NAME = _Format(_LABEL_KEY_FMT, _LABEL_NAME_RULE, "MyName", "my.name", "123-abc")
_LABEL_VALUE = _Format(
    "(" + _LABEL_KEY_FMT + ")?",
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character",
    "MyValue",
    "my_value",
    "12345",
)
_CONFIG_KEY = _Format(
    "[-._a-zA-Z0-9]+",
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
    "key.name",
    "KEY_NAME",
    "key-name",
)
_PERCENT = _Format("[0-9]+%", "a valid percent string must be a numeric string followed by an ending '%'", "1%", "93%")
_HTTP_HEADER = _Format(
    "[-A-Za-z0-9]+", "a valid HTTP header must consist of alphanumeric characters or '-'", "X-Header-Name"
)
_PORT_NAME_CHARS = re.compile("[-a-z0-9]+")


def _max_len_chars(length: int) -> str:
    return f"must be no more than {length} characters"


def _max_len_bytes(length: int) -> str:
    return f"must be no more than {length} bytes"


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def _length_and_format_errors(value: str, limit: int, too_long: Callable[[int], str], fmt: _Format) -> list[str]:
    """The two checks most of apimachinery's IsXxx functions make, in their order: length, then format."""
    return ([too_long(limit)] if len(value) > limit else []) + fmt.errors(value)


def dns1123_label_errors(value: str) -> list[str]:
    errors = [_max_len_chars(63)] if len(value) > 63 else []
    if not _DNS1123_LABEL.matches(value):
        errors.append("must not contain dots" if _DNS1123_SUBDOMAIN.matches(value) else _DNS1123_LABEL.error)
    return errors


def dns1123_subdomain_errors(value: str, *, max_len_error: Callable[[int], str] = _max_len_chars) -> list[str]:
    return _length_and_format_errors(value, 253, max_len_error, _DNS1123_SUBDOMAIN)


def _mask_trailing_dash(name: str) -> str:
    # generateName gets a random suffix, so a trailing dash is fine there.
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def _subdomain_prefix_errors(name: str) -> list[str]:
    """A subdomain name that is only a prefix (upstream's ValidateXxxName(name, prefix=true))."""
    return dns1123_subdomain_errors(_mask_trailing_dash(name))


def label_key_errors(value: str) -> list[str]:
    """content.IsLabelKey (also what upstream calls a qualified name)."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a valid label key "
            + regex_error(_LABEL_NAME_RULE, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(
                "prefix part " + msg for msg in dns1123_subdomain_errors(prefix, max_len_error=_max_len_bytes)
            )
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + _max_len_bytes(63))
    errors.extend("name part " + msg for msg in _LABEL_KEY_NAME.errors(name))
    return errors


def label_value_errors(value: str) -> list[str]:
    return _length_and_format_errors(value, 63, _max_len_bytes, _LABEL_VALUE)


def port_name_errors(port: str) -> list[str]:
    errors = []
    if len(port) > 15:
        errors.append(_max_len_chars(15))
    if not _PORT_NAME_CHARS.fullmatch(port):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errors.append("must contain at least one letter (a-z)")
    if "--" in port:
        errors.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number_errors(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def _chdir_prefix_errors(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def config_map_key_errors(value: str) -> list[str]:
    return _length_and_format_errors(value, 253, _max_len_chars, _CONFIG_KEY) + _chdir_prefix_errors(value)


def env_var_name_errors(value: str) -> list[str]:
    # RelaxedEnvironmentVariableValidation is GA (locked on) since 1.34.
    if any(ord(char) > 127 or not char.isprintable() or char == "=" for char in value):
        return ["a valid environment variable name must consist only of printable ASCII characters other than '='"]
    return []


def percent_errors(value: str) -> list[str]:
    return _PERCENT.errors(value)


def ip_errors(path: str, value: str) -> list[Cause]:
    """IsValidIP (strict): a valid IP in canonical form, no leading zeros, not IPv4-mapped."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value) and all(int(part) < 256 for part in value.split(".")):
            return [invalid(path, value, "must not have leading 0s")]
        return [invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return [invalid(path, value, "must not be an IPv4-mapped IPv6 address")]
    if str(address) != value:
        return [invalid(path, value, f"must be in canonical form ({go_quote(str(address))})")]
    return []


def cidr_sloppy(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """netutils.ParseCIDRSloppy's network: leading zeros allowed (IPv4 octets are decimal, not
    octal), host bits dropped; None when it cannot be parsed."""
    address, slash, bits = value.partition("/")
    if not slash or not re.fullmatch("[0-9]+", bits):
        return None
    octets = re.fullmatch(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)", address)
    try:
        if octets:
            if any(int(octet) > 255 for octet in octets.groups()):
                return None
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
                ".".join(str(int(octet)) for octet in octets.groups())
            )
        elif ":" in address and "%" not in address:
            ip = ipaddress.IPv6Address(address)
        else:
            return None
        if int(bits) > ip.max_prefixlen:
            return None
        return ipaddress.ip_network(f"{ip}/{int(bits)}", strict=False)
    except ValueError:
        return None


def cidr_errors(path: str, value: str) -> list[Cause]:
    """IsValidCIDRForLegacyField with strict validation (StrictIPCIDRValidation is on in 1.37):
    parsable, no leading zeros, not IPv4-mapped, no bits set beyond the prefix length."""
    network = cidr_sloppy(value)
    if network is None:
        return [invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    address, _, bits = value.partition("/")
    octets = address.split(".") if network.version == 4 else []
    if any(len(part) > 1 and part.startswith("0") for part in [*octets, bits]):
        return [invalid(path, value, "must not have leading 0s in IP or prefix length")]
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return [invalid(path, value, "must not have an IPv4-mapped IPv6 address")]
    if ip != network.network_address:
        return [invalid(path, value, "must not have bits set beyond the prefix length")]
    return []


# ---------------------------------------------------------------------------------------------
# Strict decoding: the JSON decoder's view of the body (sigs.k8s.io/json, UnmarshalStrict)
# ---------------------------------------------------------------------------------------------

# Go named string types the decoder would print in a type error, for the common enum fields;
# other strings print as `string`.
_GO_STRING_TYPES = {
    ("PodSpec", "restartPolicy"): "v1.RestartPolicy",
    ("PodSpec", "dnsPolicy"): "v1.DNSPolicy",
    ("Container", "imagePullPolicy"): "v1.PullPolicy",
    ("Container", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("ContainerPort", "protocol"): "v1.Protocol",
    ("ServicePort", "protocol"): "v1.Protocol",
    ("ServiceSpec", "type"): "v1.ServiceType",
    ("ServiceSpec", "sessionAffinity"): "v1.ServiceAffinity",
    ("ServiceSpec", "externalTrafficPolicy"): "v1.ServiceExternalTrafficPolicy",
    ("ServiceSpec", "internalTrafficPolicy"): "v1.ServiceInternalTrafficPolicy",
    ("ServiceSpec", "ipFamilyPolicy"): "v1.IPFamilyPolicy",
    ("ServiceSpec", "ipFamilies"): "v1.IPFamily",
    ("DeploymentStrategy", "type"): "v1.DeploymentStrategyType",
    ("StatefulSetSpec", "podManagementPolicy"): "v1.PodManagementPolicyType",
    ("StatefulSetUpdateStrategy", "type"): "v1.StatefulSetUpdateStrategyType",
    ("DaemonSetUpdateStrategy", "type"): "v1.DaemonSetUpdateStrategyType",
    ("CronJobSpec", "concurrencyPolicy"): "v1.ConcurrencyPolicy",
    ("JobSpec", "completionMode"): "v1.CompletionMode",
    ("JobSpec", "podReplacementPolicy"): "v1.PodReplacementPolicy",
    ("Secret", "type"): "v1.SecretType",
    ("PersistentVolumeClaimSpec", "accessModes"): "v1.PersistentVolumeAccessMode",
    ("PersistentVolumeClaimSpec", "volumeMode"): "v1.PersistentVolumeMode",
    ("PersistentVolumeSpec", "accessModes"): "v1.PersistentVolumeAccessMode",
    ("PersistentVolumeSpec", "persistentVolumeReclaimPolicy"): "v1.PersistentVolumeReclaimPolicy",
    ("NamespaceSpec", "finalizers"): "v1.FinalizerName",
    ("Toleration", "operator"): "v1.TolerationOperator",
    ("Toleration", "effect"): "v1.TaintEffect",
    ("HTTPGetAction", "scheme"): "v1.URIScheme",
}
_RESOURCE_LIST_FIELDS = frozenset({"limits", "requests", "capacity", "allocatable", "hard", "used", "overhead"})
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_MAX_STRICT_ERRORS = 100


class _Node:
    """A schema compiled for decoding: what JSON a Go field accepts and what Go type it prints as."""

    __slots__ = ("free", "go_type", "item", "kind", "props", "struct")

    def __init__(self, kind: str, go_type: str) -> None:
        self.kind = kind
        self.go_type = go_type
        self.props: dict[str, _Node] = {}
        self.item: _Node | None = None
        self.struct = ""
        self.free = False


_ANY = _Node("any", "interface {}")


def _short_type(definition: str) -> tuple[str, str]:
    """(package alias, type name) for `io.k8s.api.core.v1.PodSpec` → ("v1", "PodSpec")."""
    package, _, name = definition.rpartition(".")
    return package.rpartition(".")[2], name


@cache
def _compiled_definition(name: str) -> _Node:
    definition = schema.definitions()[name]
    package, short = _short_type(name)
    if name.endswith("util.intstr.IntOrString"):
        return _Node("intorstring", "intstr.IntOrString")
    if name.endswith("api.resource.Quantity"):
        return _Node("quantity", "resource.Quantity")
    if name.endswith("apis.meta.v1.Time") or name.endswith("apis.meta.v1.MicroTime"):
        return _Node("time", f"{package}.{short}")
    node = _Node("object", f"{package}.{short}")
    node.struct = short
    properties = definition.get("properties")
    if not isinstance(properties, dict):
        node.free = True
        return node
    # Filled after creation so that recursive definitions terminate.
    for key, prop in properties.items():
        node.props[key] = _compile(prop, short, key)
    return node


def _first_type(node: dict) -> str | None:
    kinds = node.get("type")
    if isinstance(kinds, list):
        kinds = next((kind for kind in kinds if kind != "null"), None)
    return kinds


def _compile(node: dict, owner: str, key: str) -> _Node:
    ref = schema.ref_name(node)
    if ref:
        return _compiled_definition(ref)
    kind = _first_type(node)
    if kind == "array":
        item = _compile(node.get("items") or {}, owner, key)
        compiled = _Node("array", "[]" + item.go_type)
        compiled.item = item
        return compiled
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            value = _compile(extra, owner, key)
            go_type = "v1.ResourceList" if key in _RESOURCE_LIST_FIELDS and value.kind == "quantity" else None
            compiled = _Node("map", go_type or f"map[string]{value.go_type}")
            compiled.item = value
            return compiled
        compiled = _Node("object", "map[string]interface {}")
        compiled.free = True
        return compiled
    if kind == "string":
        if node.get("format") == "byte":
            return _Node("bytes", "[]uint8")
        return _Node("string", _GO_STRING_TYPES.get((owner, key), "string"))
    if kind == "integer":
        return _Node("integer", node.get("format") or "int64")
    if kind == "number":
        return _Node("number", "float64")
    if kind == "boolean":
        return _Node("boolean", "bool")
    return _ANY


def _json_kind(value: Any, *, with_number: bool = False) -> str:
    """How the decoder names a JSON value in `cannot unmarshal <value> into …`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        if with_number:
            text = str(value) if isinstance(value, int) else repr(value)
            return f"number {text}"
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Fatal(Exception):
    """A decoding error that stops the decoder at once (custom unmarshalers), as in Go."""


# Where a field is in a body: its keys and list indices, e.g. ("spec", "containers", 0, "imagee").
KeyPath = tuple[str | int, ...]


def field_path(keys: KeyPath) -> str:
    """How the decoder names a field: `spec.containers[0].imagee`."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys).removeprefix(".")


class _Decoder:
    __slots__ = ("type_error", "unknown")

    def __init__(self) -> None:
        self.unknown: list[KeyPath] = []
        self.type_error: str | None = None

    def mismatch(self, value_desc: str, go_type: str, struct: str, fields: tuple[str, ...]) -> None:
        if self.type_error is None:
            self.type_error = _type_error(value_desc, go_type, struct, fields)

    def walk(self, value: Any, node: _Node, keys: KeyPath, fields: tuple[str, ...], struct: str) -> None:
        if value is None:
            return  # null decodes to the zero value everywhere
        kind = node.kind
        if kind == "object":
            if not isinstance(value, dict):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
                return
            if node.free:
                return
            props = node.props
            for key, child in value.items():
                sub = props.get(key)
                if sub is None:
                    self.unknown.append((*keys, key))
                    continue
                self.walk(child, sub, (*keys, key), (*fields, key), node.struct)
        elif kind == "array":
            if not isinstance(value, list):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
                return
            item = node.item
            for index, child in enumerate(value):
                self.walk(child, item, (*keys, index), fields, struct)
        elif kind == "map":
            if not isinstance(value, dict):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
                return
            item = node.item
            for key, child in value.items():
                self.walk(child, item, (*keys, key), fields, struct)
        elif kind == "string":
            if not isinstance(value, str):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
            elif isinstance(value, float) or not _in_range(value, node.go_type):
                self.mismatch(_json_kind(value, with_number=True), node.go_type, struct, fields)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
        elif kind == "bytes":
            if not isinstance(value, str):
                self.mismatch(_json_kind(value), node.go_type, struct, fields)
            else:
                error = _base64_error(value)
                if error and self.type_error is None:
                    self.type_error = error
        elif kind == "intorstring":
            if isinstance(value, str):
                return
            if isinstance(value, int) and not isinstance(value, bool) and _in_range(value, "int32"):
                return
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            raise _Fatal(_type_error(_json_kind(value, with_number=numeric), "int32", struct, fields))
        elif kind == "quantity":
            try:
                quantity_from_json(value)
            except QuantityError as error:
                raise _Fatal(str(error)) from None
        elif kind == "time":
            if not isinstance(value, str):
                raise _Fatal(_type_error(_json_kind(value), "string", struct, fields))
            error = rfc3339_error(value)
            if error:
                raise _Fatal(error)


def _in_range(number: int, go_type: str) -> bool:
    low, high = _INT_RANGES.get(go_type, _INT_RANGES["int64"])
    return low <= number <= high


def _type_error(value_desc: str, go_type: str, struct: str, fields: tuple[str, ...]) -> str:
    if fields:
        return f"json: cannot unmarshal {value_desc} into Go struct field {struct}.{'.'.join(fields)} of type {go_type}"
    return f"json: cannot unmarshal {value_desc} into Go value of type {go_type}"


_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _base64_error(text: str) -> str | None:
    """Go's base64.StdEncoding (padding required, newlines ignored) as far as its error offset goes."""
    stripped = text.replace("\r", "").replace("\n", "")
    try:
        base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        for index, char in enumerate(stripped):
            if char not in _BASE64_CHARS and char != "=":
                return f"illegal base64 data at input byte {index}"
        return f"illegal base64 data at input byte {len(stripped) - len(stripped) % 4}"
    return None


@cache
def _root(api_version: str, kind: str) -> _Node | None:
    name = schema.definition_name(api_version, kind)
    return _compiled_definition(name) if name else None


# The fieldValidation directives: what a write does with unknown fields.
STRICT, WARN, IGNORE = "Strict", "Warn", "Ignore"
FIELD_VALIDATIONS = (IGNORE, STRICT, WARN)


@dataclass(frozen=True)
class Decoded:
    """What decoding a body as its kind found, as Go's strict decoder finds it."""

    # A wrong JSON type or an unparseable quantity/time/int-or-string: an error whatever
    # fieldValidation says. Like Go's decoder, it wins over unknown fields.
    type_error: str | None
    # Every field the kind does not have, in document order.
    unknown_fields: tuple[KeyPath, ...]

    @property
    def strict_errors(self) -> list[str]:
        """The unknown fields as upstream words them, once each and at most 100, e.g.
        `unknown field "spec.containers[0].imagee"`."""
        messages = dict.fromkeys(f"unknown field {go_quote(field_path(keys))}" for keys in self.unknown_fields)
        return list(messages)[:_MAX_STRICT_ERRORS]


def decode(obj: dict, resource: Resource) -> Decoded:
    """Decode the body as `resource`, finding its type error or unknown fields."""
    root = _root(resource.api_version, resource.kind)
    if root is None or not isinstance(obj, dict):
        return Decoded(None, ())
    decoder = _Decoder()
    try:
        decoder.walk(obj, root, (), (), root.struct)
    except _Fatal as fatal:
        return Decoded(str(fatal), ())
    return Decoded(decoder.type_error, () if decoder.type_error else tuple(decoder.unknown))


def decode_errors(obj: dict, resource: Resource) -> list[str]:
    """What decoding the body as `resource` with `fieldValidation=Strict` rejects, worded as upstream:
    the type error if there is one, else every unknown field (see `Decoded`)."""
    decoded = decode(obj, resource)
    return [decoded.type_error] if decoded.type_error else decoded.strict_errors


def without_fields(obj: dict, fields: Iterable[KeyPath]) -> dict:
    """A copy of `obj` without the given fields: what the decoder keeps of a body whose unknown
    fields it drops (fieldValidation Warn or Ignore)."""
    kept = copy.deepcopy(obj)
    for *parents, last in fields:
        holder = kept
        for key in parents:
            holder = holder[key]
        del holder[last]
    return kept


def is_strict_error(message: str) -> bool:
    return message.startswith(("unknown field ", "duplicate field "))


def decode_error_message(errors: list[str], resource: Resource) -> str:
    """The 400 BadRequest message for create/update, as transformDecodeError words it."""
    detail = errors[0] if errors else ""
    if errors and is_strict_error(errors[0]):
        detail = "strict decoding error: " + ", ".join(errors)
    return f"{resource.kind} in version {go_quote(resource.version)} cannot be handled as a {resource.kind}: {detail}"


# ---------------------------------------------------------------------------------------------
# Small readers that never raise on malformed input (validate may see undecoded objects)
# ---------------------------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    return default


def _items(value: Any, path: str) -> Iterator[tuple[str, dict]]:
    """The entries of a list field, each read as a dict, with its path `path[i]`."""
    for index, item in enumerate(_list(value)):
        yield f"{path}[{index}]", _dict(item)


def _str_map(value: Any) -> dict[str, str]:
    return {key: item for key, item in _dict(value).items() if isinstance(item, str)}


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
MAX_SECRET_SIZE = 1024 * 1024
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

NameCheck = Callable[[str], list[str]]


def _labels_causes(labels: Any, path: str) -> list[Cause]:
    causes = []
    for key, value in _dict(labels).items():
        causes.extend(_each_invalid(path, key, label_key_errors(key)))
        if isinstance(value, str):
            causes.extend(_each_invalid(path, value, label_value_errors(value)))
    return causes


def _annotations_causes(annotations: Any, path: str) -> list[Cause]:
    causes = []
    size = 0
    for key, value in _dict(annotations).items():
        causes.extend(_each_invalid(path, key, label_key_errors(key.lower())))
        size += len(key.encode()) + len(_str(value).encode())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _finalizer_causes(finalizers: Any, path: str, *, indexed: bool) -> list[Cause]:
    """Qualified-name errors for every finalizer first (apimachinery), then the standard-name check (core)."""
    names = [_str(finalizer) for finalizer in _list(finalizers)]
    causes = [invalid(path, name, msg) for name in names for msg in label_key_errors(name)]
    for index, name in enumerate(names):
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            item_path = f"{path}[{index}]" if indexed else path
            causes.append(
                invalid(item_path, name, "name is neither a standard finalizer name nor is it fully qualified")
            )
    return causes


def _object_meta_causes(meta: Any, namespaced: bool, name_check: NameCheck) -> list[Cause]:
    meta = _dict(meta)
    causes: list[Cause] = []
    name, generate_name = _str(meta.get("name")), _str(meta.get("generateName"))
    if generate_name:
        causes.extend(
            _each_invalid("metadata.generateName", generate_name, name_check(_mask_trailing_dash(generate_name)))
        )
    if name:
        causes.extend(_each_invalid("metadata.name", name, name_check(name)))
    elif not generate_name:
        # The server generates the name from generateName before validating; until then, no error.
        causes.append(required("metadata.name", "name or generateName is required"))
    if namespaced:
        causes.extend(_required_valid("metadata.namespace", _str(meta.get("namespace")), dns1123_label_errors))
    # A namespace on a cluster-scoped object is cleared by the server before validation (BeforeCreate).
    causes.extend(_nonnegative(meta.get("generation"), "metadata.generation"))
    return causes + _meta_common_causes(meta)


def _meta_common_causes(meta: dict) -> list[Cause]:
    """What create and update both check: labels, annotations, owner references, finalizers."""
    causes = _labels_and_annotations_causes(meta, "metadata")
    causes.extend(_owner_reference_causes(meta.get("ownerReferences")))
    causes.extend(_finalizer_causes(meta.get("finalizers"), "metadata.finalizers", indexed=True))
    return causes


def _labels_and_annotations_causes(meta: dict, path: str) -> list[Cause]:
    """Labels and annotations of an object's or a template's metadata, reported at `path`.labels/.annotations."""
    return _labels_causes(meta.get("labels"), f"{path}.labels") + _annotations_causes(
        meta.get("annotations"), f"{path}.annotations"
    )


def _owner_reference_causes(references: Any) -> list[Cause]:
    causes = []
    controllers = []
    for index, reference in enumerate(_list(references)):
        reference = _dict(reference)
        path = f"metadata.ownerReferences[{index}]"
        for key in ("apiVersion", "kind", "name", "uid"):
            if not _str(reference.get(key)):
                causes.append(required(f"{path}.{key}", "must not be empty"))
        if reference.get("controller") is True:
            controllers.append(f"{_str(reference.get('kind'))}/{_str(reference.get('name'))}")
    if len(controllers) > 1:
        causes.append(
            invalid(
                "metadata.ownerReferences",
                references,
                'Only one reference can have Controller set to true. Found "true" in references for '
                f"{controllers[0]} and {controllers[1]}",
            )
        )
    return causes


def _object_meta_update_causes(new_meta: Any, old_meta: Any) -> list[Cause]:
    new_meta, old_meta = _dict(new_meta), _dict(old_meta)
    causes: list[Cause] = []
    new_generation, old_generation = _int(new_meta.get("generation"), 0), _int(old_meta.get("generation"), 0)
    if new_generation is not None and old_generation is not None and new_generation < old_generation:
        causes.append(invalid("metadata.generation", new_generation, "must not be decremented"))
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        new_value, old_value = new_meta.get(key), old_meta.get(key)
        # System fields the client left out are copied from the stored object by the server.
        if key in ("uid", "creationTimestamp") and new_value in (None, ""):
            continue
        if (new_value or "") != (old_value or ""):
            causes.append(invalid(f"metadata.{key}", new_value or "", "field is immutable"))
    return causes + _meta_common_causes(new_meta)


def _meta_causes(
    obj: dict, old: dict | None, name_check: NameCheck = dns1123_subdomain_errors, *, namespaced: bool = True
) -> list[Cause]:
    """ObjectMeta checks: the create rules (`name_check` for the name), or on update the immutable fields."""
    if old is None:
        return _object_meta_causes(obj.get("metadata"), namespaced, name_check)
    return _object_meta_update_causes(obj.get("metadata"), old.get("metadata"))


# ---------------------------------------------------------------------------------------------
# Label selectors
# ---------------------------------------------------------------------------------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _label_selector_causes(selector: Any, path: str) -> list[Cause]:
    selector = _dict(selector)
    causes = _labels_causes(selector.get("matchLabels"), f"{path}.matchLabels")
    for index, expression in enumerate(_list(selector.get("matchExpressions"))):
        expression = _dict(expression)
        item_path = f"{path}.matchExpressions[{index}]"
        operator = _str(expression.get("operator"))
        values = _list(expression.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                causes.append(required(f"{item_path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                causes.append(
                    forbidden(
                        f"{item_path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
        else:
            causes.append(invalid(f"{item_path}.operator", operator, "not a valid selector operator"))
        key = _str(expression.get("key"))
        causes.extend(_each_invalid(f"{item_path}.key", key, label_key_errors(key)))
        for value_index, value in enumerate(values):
            causes.extend(_each_invalid(f"{item_path}.values[{value_index}]", value, label_value_errors(_str(value))))
    return causes


def _selector_parse_fails(selector: dict) -> bool:
    """Whether metav1.LabelSelectorAsSelector returns an error for the selector."""
    for key, value in _dict(selector.get("matchLabels")).items():
        if label_key_errors(key) or not isinstance(value, str) or label_value_errors(value):
            return True
    for expression in _list(selector.get("matchExpressions")):
        expression = _dict(expression)
        operator, values = _str(expression.get("operator")), _list(expression.get("values"))
        if operator not in _SELECTOR_OPERATORS or label_key_errors(_str(expression.get("key"))):
            return True
        if (operator in ("In", "NotIn")) != bool(values):
            return True
        if any(not isinstance(value, str) or label_value_errors(value) for value in values):
            return True
    return False


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelectorAsSelector(selector).Matches(labels); a missing selector matches nothing."""
    if selector is None:
        return False
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in _list(selector.get("matchExpressions")):
        expression = _dict(expression)
        key, operator, values = _str(expression.get("key")), expression.get("operator"), _list(expression.get("values"))
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _selector_json(selector: dict) -> dict:
    """A LabelSelector as encoding/json writes it: struct order, map keys sorted, empty fields omitted."""
    out: dict[str, Any] = {}
    labels = _dict(selector.get("matchLabels"))
    if labels:
        out["matchLabels"] = dict(sorted(labels.items()))
    expressions = []
    for expression in _list(selector.get("matchExpressions")):
        expression = _dict(expression)
        item: dict[str, Any] = {"key": expression.get("key", ""), "operator": expression.get("operator", "")}
        if expression.get("values"):
            item["values"] = expression["values"]
        expressions.append(item)
    if expressions:
        out["matchExpressions"] = expressions
    return out


def _sorted_map(value: Any) -> dict:
    return dict(sorted(_dict(value).items()))


# ---------------------------------------------------------------------------------------------
# Resource requirements
# ---------------------------------------------------------------------------------------------

_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | frozenset(
    {
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "quota-pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "configmaps",
        "services.nodeports",
        "services.loadbalancers",
        "storage",
        "requests.storage",
    }
)


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not _is_hugepages(name)


def _container_resource_name_causes(name: str, path: str) -> list[Cause]:
    causes = _each_invalid(path, name, label_key_errors(name))
    if causes:
        return causes
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not _is_hugepages(name):
            causes.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
            causes.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native_resource(name) and name.startswith("requests."):
        causes.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return causes


def _quantity_value_causes(name: str, raw: Any, path: str) -> tuple[Quantity | None, list[Cause]]:
    try:
        quantity = quantity_from_json(raw)
    except QuantityError as error:
        # Normally rejected while decoding (400); kept here so nothing unparseable is stored.
        return None, [invalid(path, raw if isinstance(raw, (str, int, float)) else str(raw), str(error))]
    causes = []
    if quantity.value < 0:
        causes.append(invalid(path, str(quantity), "must be greater than or equal to 0"))
    if not _is_native_resource(name) and (quantity.value * 1000) % 1000 != 0:
        causes.append(invalid(path, str(quantity), "must be an integer"))
    return quantity, causes


def _resource_requirements_causes(resources: Any, path: str) -> list[Cause]:
    resources = _dict(resources)
    limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
    causes: list[Cause] = []
    parsed_limits: dict[str, Quantity] = {}
    for name, raw in limits.items():
        item_path = f"{path}.limits[{name}]"
        causes.extend(_container_resource_name_causes(name, item_path))
        quantity, quantity_causes = _quantity_value_causes(name, raw, item_path)
        causes.extend(quantity_causes)
        if quantity is not None:
            parsed_limits[name] = quantity
    for name, raw in requests.items():
        item_path = f"{path}.requests[{name}]"
        causes.extend(_container_resource_name_causes(name, item_path))
        quantity, quantity_causes = _quantity_value_causes(name, raw, item_path)
        causes.extend(quantity_causes)
        if quantity is None:
            continue
        limit = parsed_limits.get(name)
        if limit is not None:
            if quantity.value != limit.value and not _overcommit_allowed(name):
                causes.append(invalid(f"{path}.requests", str(quantity), f"must be equal to {name} limit of {limit}"))
            elif quantity.value > limit.value:
                causes.append(
                    invalid(f"{path}.requests", str(quantity), f"must be less than or equal to {name} limit of {limit}")
                )
        elif name not in limits and not _overcommit_allowed(name):
            causes.append(required(f"{path}.limits", "Limit must be set for non overcommitable resources"))
    return causes


# ---------------------------------------------------------------------------------------------
# Pod spec
# ---------------------------------------------------------------------------------------------

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_MAX_INT32 = 2**31 - 1
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
# Volume sources in the order validateVolumeSource checks them, with the path it reports for a
# second source (upstream's spelling, typos included).
_VOLUME_SOURCES = (
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
)


def _int_range(value: Any, path: str, low: int, high: int | None = None, detail: str = "") -> list[Cause]:
    """Invalid value when `value` is an integer outside low..high (inclusive; no upper bound if None)."""
    number = _int(value)
    if number is None or (low <= number and (high is None or number <= high)):
        return []
    return [invalid(path, number, detail or inclusive_range_error(low, high or 0))]


# The field naming what a secret, configMap or persistentVolumeClaim volume mounts.
_VOLUME_NAME_FIELDS = {"secret": "secretName", "configMap": "name", "persistentVolumeClaim": "claimName"}


def _nonnegative(value: Any, path: str) -> list[Cause]:
    return _int_range(value, path, 0, detail="must be greater than or equal to 0")


def _mode_causes(value: Any, path: str) -> list[Cause]:
    return _int_range(value, path, 0, 0o777, _FILE_MODE_ERROR)


def _path_causes(target: str, path: str, *, relative: bool) -> list[Cause]:
    causes = []
    if relative and target.startswith("/"):
        causes.append(invalid(path, target, "must be a relative path"))
    if ".." in target.replace("\\", "/").split("/"):
        causes.append(invalid(path, target, "must not contain '..'"))
    return causes


def _key_to_path_causes(items: Any, path: str) -> list[Cause]:
    causes = []
    for index, item in enumerate(_list(items)):
        item = _dict(item)
        item_path = f"{path}.items[{index}]"
        if not _str(item.get("key")):
            causes.append(required(f"{item_path}.key"))
        target = _str(item.get("path"))
        if not target:
            causes.append(required(f"{item_path}.path"))
        causes.extend(_path_causes(target, f"{item_path}.path", relative=True))
        causes.extend(_mode_causes(item.get("mode"), f"{item_path}.mode"))
    return causes


def _only_one_of(
    holder: dict, sources: Iterable[tuple[str, str]], path: str, what: str
) -> tuple[str | None, list[Cause]]:
    """The first (key, reported name) of `sources` set in `holder`, and the causes for the rest: a
    Forbidden for each further one, or Required value when none is set."""
    present = [(key, name) for key, name in sources if holder.get(key) is not None]
    if not present:
        return None, [required(path, f"must specify a {what} type")]
    others = [forbidden(f"{path}.{name}", f"may not specify more than 1 {what} type") for _, name in present[1:]]
    return present[0][0], others


def _volume_source_causes(volume: dict, path: str) -> list[Cause]:
    key, others = _only_one_of(volume, _VOLUME_SOURCES, path, "volume")
    if key is None:
        return others
    causes: list[Cause] = []
    source, source_path = _dict(volume[key]), f"{path}.{key}"
    if key == "emptyDir" and source.get("sizeLimit") is not None:
        try:
            if quantity_from_json(source["sizeLimit"]).value < 0:
                causes.append(
                    forbidden(f"{source_path}.sizeLimit", "SizeLimit field must be a valid resource quantity")
                )
        except QuantityError:
            pass
    elif key == "hostPath":
        host_path = _str(source.get("path"))
        if not host_path:
            causes.append(required(f"{source_path}.path"))
        else:
            causes.extend(_path_causes(host_path, f"{source_path}.path", relative=False))
    elif key in _VOLUME_NAME_FIELDS:
        if not _str(source.get(_VOLUME_NAME_FIELDS[key])):
            causes.append(required(f"{source_path}.{_VOLUME_NAME_FIELDS[key]}"))
        if key in ("secret", "configMap"):
            causes.extend(_mode_causes(source.get("defaultMode"), f"{source_path}.defaultMode"))
            causes.extend(_key_to_path_causes(source.get("items"), source_path))
    elif key == "nfs":
        if not _str(source.get("server")):
            causes.append(required(f"{source_path}.server"))
        nfs_path = _str(source.get("path"))
        if not nfs_path:
            causes.append(required(f"{source_path}.path"))
        if not nfs_path.startswith("/"):
            causes.append(invalid(f"{source_path}.path", nfs_path, "must be an absolute path"))
    elif key in ("downwardAPI", "projected"):
        causes.extend(_mode_causes(source.get("defaultMode"), f"{source_path}.defaultMode"))
    return causes + others


def _volumes_causes(volumes: Any, path: str) -> tuple[dict[str, dict], list[Cause]]:
    known: dict[str, dict] = {}
    causes: list[Cause] = []
    for item_path, volume in _items(volumes, path):
        name = _str(volume.get("name"))
        errors = _volume_source_causes(volume, item_path)
        errors.extend(_required_valid(f"{item_path}.name", name, dns1123_label_errors))
        if name in known:
            errors.append(duplicate(f"{item_path}.name", name))
        if errors:
            causes.extend(errors)
        else:
            known[name] = volume
    return known, causes


def _container_ports_causes(ports: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for item_path, port in _items(ports, path):
        name = _str(port.get("name"))
        if name:
            errors = port_name_errors(name)
            if errors:
                causes.extend(_each_invalid(f"{item_path}.name", name, errors))
            elif name in names:
                causes.append(duplicate(f"{item_path}.name", name))
            else:
                names.add(name)
        container_port = _int(port.get("containerPort"), 0)
        causes.extend(_required_valid(f"{item_path}.containerPort", container_port, port_number_errors))
        host_port = _int(port.get("hostPort"), 0)
        if host_port:
            causes.extend(_each_invalid(f"{item_path}.hostPort", host_port, port_number_errors(host_port)))
        causes.extend(_required_choice(port, "protocol", item_path, _PROTOCOLS))
    return causes


_ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)


def _field_ref_causes(selector: dict, path: str) -> list[Cause]:
    """validateObjectFieldSelector for environment variables (downward API)."""
    if not _str(selector.get("apiVersion")):
        return [required(f"{path}.apiVersion")]
    field_path = _str(selector.get("fieldPath"))
    if not field_path:
        return [required(f"{path}.fieldPath")]
    subscripted = re.fullmatch(r"(metadata\.(?:labels|annotations))\['(.+)'\]", field_path)
    if subscripted:
        key = subscripted.group(2)
        key = key.lower() if subscripted.group(1).endswith("annotations") else key
        return _each_invalid(path, key, label_key_errors(key))
    if field_path not in _ENV_FIELD_PATHS:
        return [not_supported(f"{path}.fieldPath", field_path, sorted(_ENV_FIELD_PATHS))]
    return []


def _env_causes(env: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for item_path, var in _items(env, path):
        causes.extend(_required_valid(f"{item_path}.name", _str(var.get("name")), env_var_name_errors))
        value_from = var.get("valueFrom")
        if value_from is None:
            continue
        value_from = _dict(value_from)
        sources = [
            key
            for key in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
            if value_from.get(key) is not None
        ]
        from_path = f"{item_path}.valueFrom"
        if value_from.get("fieldRef") is not None:
            causes.extend(_field_ref_causes(_dict(value_from["fieldRef"]), f"{from_path}.fieldRef"))
        for key in ("configMapKeyRef", "secretKeyRef"):
            selector = value_from.get(key)
            if selector is None:
                continue
            selector = _dict(selector)
            selector_name = _str(selector.get("name"))
            causes.extend(
                _each_invalid(f"{from_path}.{key}.name", selector_name, dns1123_subdomain_errors(selector_name))
            )
            causes.extend(_required_valid(f"{from_path}.{key}.key", _str(selector.get("key")), config_map_key_errors))
        if not sources:
            causes.append(
                invalid(
                    from_path,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                )
            )
        elif _str(var.get("value")):
            causes.append(invalid(from_path, "", "may not be specified when `value` is not empty"))
        elif len(sources) > 1:
            causes.append(invalid(from_path, "", "may not have more than one field specified at a time"))
    return causes


def _env_from_causes(env_from: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for item_path, source in _items(env_from, path):
        prefix = _str(source.get("prefix"))
        if prefix:
            causes.extend(_each_invalid(f"{item_path}.prefix", prefix, env_var_name_errors(prefix)))
        count = 0
        for key in ("configMapRef", "secretRef"):
            reference = source.get(key)
            if reference is None:
                continue
            count += 1
            name = _str(_dict(reference).get("name"))
            causes.extend(_required_valid(f"{item_path}.{key}.name", name, _subdomain_prefix_errors))
        if count == 0:
            causes.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            causes.append(invalid(path, "", "may not have more than one field specified at a time"))
    return causes


def _volume_mounts_causes(mounts: Any, volumes: dict[str, dict], path: str) -> list[Cause]:
    causes: list[Cause] = []
    mount_points: set[str] = set()
    for index, mount in enumerate(_list(mounts)):
        mount = _dict(mount)
        item_path = f"{path}[{index}]"
        name = _str(mount.get("name"))
        if not name:
            causes.append(required(f"{item_path}.name"))
        if name not in volumes:
            causes.append(not_found(f"{item_path}.name", name))
        mount_path = _str(mount.get("mountPath"))
        if not mount_path:
            causes.append(required(f"{item_path}.mountPath"))
        if mount_path in mount_points:
            causes.append(invalid(f"{item_path}.mountPath", mount_path, "must be unique"))
        mount_points.add(mount_path)
        sub_path, sub_path_expr = _str(mount.get("subPath")), _str(mount.get("subPathExpr"))
        # Upstream reports these two without the mount's index.
        if sub_path:
            causes.extend(_path_causes(sub_path, f"{path}.subPath", relative=True))
        if sub_path_expr:
            if sub_path:
                causes.append(
                    invalid(f"{item_path}.subPathExpr", sub_path_expr, "subPathExpr and subPath are mutually exclusive")
                )
            causes.extend(_path_causes(sub_path_expr, f"{path}.subPathExpr", relative=True))
    return causes


def _port_num_or_name_causes(port: Any, path: str) -> list[Cause]:
    if isinstance(port, str):
        return _each_invalid(path, port, port_name_errors(port))
    number = _int(port, 0) or 0
    return _each_invalid(path, number, port_number_errors(number))


def _handler_causes(handler: dict, path: str, grace_period: int | None, *, lifecycle: bool) -> list[Cause]:
    causes: list[Cause] = []
    kinds = ("exec", "httpGet", "tcpSocket", "sleep") if lifecycle else ("exec", "httpGet", "tcpSocket", "grpc")
    kind, others = _only_one_of(handler, [(kind, kind) for kind in kinds], path, "handler")
    if kind is None:
        return others
    action, action_path = _dict(handler[kind]), f"{path}.{kind}"
    if kind == "exec" and not _list(action.get("command")):
        causes.append(required(f"{action_path}.command"))
    elif kind == "httpGet":
        if not _str(action.get("path")):
            causes.append(required(f"{action_path}.path"))
        causes.extend(_port_num_or_name_causes(action.get("port"), f"{action_path}.port"))
        causes.extend(_unsupported(f"{action_path}.scheme", _str(action.get("scheme")), ("HTTP", "HTTPS")))
        for header in _list(action.get("httpHeaders")):
            header_name = _str(_dict(header).get("name"))
            causes.extend(_each_invalid(f"{action_path}.httpHeaders", header_name, _HTTP_HEADER.errors(header_name)))
    elif kind == "tcpSocket":
        causes.extend(_port_num_or_name_causes(action.get("port"), f"{action_path}.port"))
    elif kind == "grpc":
        causes.extend(_port_num_or_name_causes(_int(action.get("port"), 0), f"{action_path}.port"))
    elif kind == "sleep":
        seconds = _int(action.get("seconds"), 0) or 0
        if grace_period is not None and (seconds < 0 or seconds > grace_period):
            causes.append(
                invalid(
                    action_path,
                    seconds,
                    f"must be non-negative and less than terminationGracePeriodSeconds ({grace_period})",
                )
            )
    return causes + others


def _probe_causes(probe: Any, path: str, grace_period: int | None, kind: str) -> list[Cause]:
    if probe is None:
        return []
    probe = _dict(probe)
    causes = _handler_causes(probe, path, grace_period, lifecycle=False)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        causes.extend(_nonnegative(probe.get(key), f"{path}.{key}"))
    grace_path = f"{path}.terminationGracePeriodSeconds"
    causes.extend(
        _int_range(probe.get("terminationGracePeriodSeconds"), grace_path, 1, detail="must be greater than 0")
    )
    if kind in ("liveness", "startup"):
        threshold = _int(probe.get("successThreshold"), 0)
        if threshold != 1:
            causes.append(invalid(f"{path}.successThreshold", threshold, "must be 1"))
    elif probe.get("terminationGracePeriodSeconds") is not None:
        causes.append(
            invalid(grace_path, probe["terminationGracePeriodSeconds"], "must not be set for readinessProbes")
        )
    return causes


def _lifecycle_and_probes_causes(container: dict, path: str, grace_period: int | None) -> list[Cause]:
    """The postStart/preStop hooks, then the liveness, readiness and startup probes."""
    causes: list[Cause] = []
    for hook in ("postStart", "preStop"):
        handler = _dict(container.get("lifecycle")).get(hook)
        if handler is not None:
            causes.extend(_handler_causes(_dict(handler), f"{path}.lifecycle.{hook}", grace_period, lifecycle=True))
    for key in _PROBES:
        causes.extend(_probe_causes(container.get(key), f"{path}.{key}", grace_period, key.removesuffix("Probe")))
    return causes


def _security_context_ids(context: Any, path: str) -> list[Cause]:
    context = _dict(context)
    causes: list[Cause] = []
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        causes.extend(_int_range(context.get(key), f"{path}.{key}", 0, _MAX_INT32))
    for index, gid in enumerate(_list(context.get("supplementalGroups"))):
        causes.extend(_int_range(gid, f"{path}.supplementalGroups[{index}]", 0, _MAX_INT32))
    return causes


def _container_common_causes(container: dict, volumes: dict[str, dict], path: str) -> list[Cause]:
    causes: list[Cause] = []
    causes.extend(_required_valid(f"{path}.name", _str(container.get("name")), dns1123_label_errors))
    if not _str(container.get("image")):
        causes.append(required(f"{path}.image"))
    causes.extend(_required_choice(container, "terminationMessagePolicy", path, _TERMINATION_MESSAGE_POLICIES))
    causes.extend(_container_ports_causes(container.get("ports"), f"{path}.ports"))
    causes.extend(_env_causes(container.get("env"), f"{path}.env"))
    causes.extend(_env_from_causes(container.get("envFrom"), f"{path}.envFrom"))
    causes.extend(_volume_mounts_causes(container.get("volumeMounts"), volumes, f"{path}.volumeMounts"))
    causes.extend(_required_choice(container, "imagePullPolicy", path, _PULL_POLICIES))
    causes.extend(_resource_requirements_causes(container.get("resources"), f"{path}.resources"))
    causes.extend(_security_context_ids(container.get("securityContext"), f"{path}.securityContext"))
    return causes


def _containers_causes(containers: Any, volumes: dict[str, dict], path: str, grace: int | None) -> list[Cause]:
    containers = _list(containers)
    if not containers:
        return [required(path)]
    causes: list[Cause] = []
    names: set[str] = set()
    for index, container in enumerate(containers):
        container = _dict(container)
        item_path = f"{path}[{index}]"
        causes.extend(_container_common_causes(container, volumes, item_path))
        name = _str(container.get("name"))
        if name in names:
            causes.append(duplicate(f"{item_path}.name", name))
        else:
            names.add(name)
        causes.extend(_lifecycle_and_probes_causes(container, item_path, grace))
        if container.get("restartPolicy") is not None:
            causes.append(forbidden(f"{item_path}.restartPolicy", "may not be set for non-init containers"))
    causes.extend(_host_port_conflicts(containers, path))
    return causes


def _host_port_conflicts(containers: list, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        for port_index, port in enumerate(_list(_dict(container).get("ports"))):
            port = _dict(port)
            host_port = _int(port.get("hostPort"), 0)
            if not host_port:
                continue
            key = f"{_str(port.get('protocol'))}/{_str(port.get('hostIP'))}/{host_port}"
            if key in seen:
                causes.append(duplicate(f"{path}[{index}].ports[{port_index}].hostPort", key))
            seen.add(key)
    return causes


def _init_containers_causes(
    init_containers: Any, containers: Any, volumes: dict[str, dict], path: str, grace: int | None
) -> list[Cause]:
    causes: list[Cause] = []
    names = {_str(_dict(container).get("name")) for container in _list(containers)}
    for item_path, container in _items(init_containers, path):
        causes.extend(_container_common_causes(container, volumes, item_path))
        restart = container.get("restartPolicy")
        if restart is not None and restart != "Always":
            causes.append(not_supported(f"{item_path}.restartPolicy", restart, ("Always",)))
        name = _str(container.get("name"))
        if name in names:
            causes.append(duplicate(f"{item_path}.name", name))
        elif name:
            names.add(name)
        causes.extend(_host_port_conflicts([container], path))
        if restart == "Always":
            causes.extend(_lifecycle_and_probes_causes(container, item_path, grace))
        else:
            for key in ("lifecycle", *_PROBES):
                if container.get(key) is not None:
                    causes.append(
                        forbidden(
                            f"{item_path}.{key}", "may not be set for init containers without restartPolicy=Always"
                        )
                    )
    return causes


def _tolerations_causes(tolerations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for item_path, toleration in _items(tolerations, path):
        key, operator = _str(toleration.get("key")), _str(toleration.get("operator"))
        value, effect = _str(toleration.get("value")), _str(toleration.get("effect"))
        if key:
            causes.extend(_each_invalid(f"{item_path}.key", key, label_key_errors(key)))
        if not key and operator != "Exists":
            causes.append(
                invalid(
                    f"{item_path}.operator",
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(
                invalid(f"{item_path}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
            )
        if operator in ("Equal", ""):
            errors = label_value_errors(value)
            if errors:
                causes.append(invalid(f"{item_path}.operator", value, ";".join(errors)))
        elif operator == "Exists":
            if value:
                causes.append(
                    invalid(f"{item_path}.operator", value, "value must be empty when `operator` is 'Exists'")
                )
        else:
            causes.append(not_supported(f"{item_path}.operator", operator, ("Equal", "Exists")))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            causes.append(not_supported(f"{item_path}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute")))
    return causes


def _optional_names(spec: dict, keys: tuple[str, ...], path: str, check: NameCheck) -> list[Cause]:
    """`check` on each of `keys` that is set (names of other objects, host names)."""
    causes: list[Cause] = []
    for key in keys:
        value = _str(spec.get(key))
        if value:
            causes.extend(_each_invalid(f"{path}.{key}", value, check(value)))
    return causes


def _pod_spec_causes(spec: Any, path: str) -> list[Cause]:
    """ValidatePodSpec, in upstream order, for the checks this sandbox covers."""
    spec = _dict(spec)
    causes: list[Cause] = []
    grace = _int(spec.get("terminationGracePeriodSeconds"))
    if spec.get("terminationGracePeriodSeconds") is None:
        causes.append(required(f"{path}.terminationGracePeriodSeconds"))
    volumes, volume_causes = _volumes_causes(spec.get("volumes"), f"{path}.volumes")
    causes.extend(volume_causes)
    causes.extend(_containers_causes(spec.get("containers"), volumes, f"{path}.containers", grace))
    causes.extend(
        _init_containers_causes(
            spec.get("initContainers"), spec.get("containers"), volumes, f"{path}.initContainers", grace
        )
    )
    causes.extend(_required_choice(spec, "restartPolicy", path, _RESTART_POLICIES))
    causes.extend(_required_choice(spec, "dnsPolicy", path, _DNS_POLICIES))
    causes.extend(_labels_causes(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    causes.extend(_security_context_ids(spec.get("securityContext"), f"{path}.securityContext"))
    for index, secret in enumerate(_list(spec.get("imagePullSecrets"))):
        if set(_dict(secret)) - {"name"}:
            causes.append(invalid(f"{path}.imagePullSecrets[{index}]", secret, "only name may be set"))
    causes.extend(
        _optional_names(spec, ("serviceAccountName", "nodeName", "priorityClassName"), path, dns1123_subdomain_errors)
    )
    causes.extend(_int_range(spec.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds", 1, _MAX_INT32))
    causes.extend(_optional_names(spec, ("hostname", "subdomain"), path, dns1123_label_errors))
    causes.extend(_tolerations_causes(spec.get("tolerations"), f"{path}.tolerations"))
    return causes


def _pod_template_causes(template: Any, path: str) -> list[Cause]:
    """ValidatePodTemplateSpec: labels and annotations (reported at template.labels) and the pod spec."""
    template = _dict(template)
    causes = _labels_and_annotations_causes(_dict(template.get("metadata")), path)
    causes.extend(_pod_spec_causes(template.get("spec"), f"{path}.spec"))
    if _list(_dict(template.get("spec")).get("ephemeralContainers")):
        causes.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return causes


def _template_labels(template: Any) -> dict:
    return _dict(_dict(_dict(template).get("metadata")).get("labels"))


# ---------------------------------------------------------------------------------------------
# Pods
# ---------------------------------------------------------------------------------------------

_UPDATABLE_POD_FIELDS = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _pod_only_causes(spec: dict) -> list[Cause]:
    causes = []
    for key in ("containers", "initContainers"):
        for index, container in enumerate(_list(spec.get(key))):
            image = _str(_dict(container).get("image"))
            if image != image.strip():
                causes.append(
                    invalid(f"spec.{key}[{index}].image", image, "must not have leading or trailing whitespace")
                )
    return causes


def _validate_pod(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    causes.extend(_pod_spec_causes(spec, "spec"))
    causes.extend(_pod_only_causes(spec))
    if old is None:
        if _list(spec.get("ephemeralContainers")):
            causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if _str(spec.get("nodeName")) and _list(spec.get("schedulingGates")):
            causes.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
        return causes
    return causes + _pod_update_causes(spec, _dict(old.get("spec")))


def _pod_update_causes(spec: dict, old_spec: dict) -> list[Cause]:
    """ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed gates may change."""
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        new_list, old_list = _list(spec.get(key)), _list(old_spec.get(key))
        if len(new_list) != len(old_list):
            causes.append(forbidden(f"spec.{key}", "pod updates may not add or remove containers"))
            return causes
        for index, container in enumerate(new_list):
            if not _str(_dict(container).get("image")):
                causes.append(required(f"spec.{key}[{index}].image"))
    deadline, old_deadline = _int(spec.get("activeDeadlineSeconds")), _int(old_spec.get("activeDeadlineSeconds"))
    if deadline is not None:
        if not 0 <= deadline <= _MAX_INT32:
            causes.append(invalid("spec.activeDeadlineSeconds", deadline, inclusive_range_error(0, _MAX_INT32)))
            return causes
        if old_deadline is not None and old_deadline < deadline:
            causes.append(
                invalid("spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value")
            )
            return causes
    elif old_deadline is not None:
        causes.append(
            invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
        )
    old_tolerations, new_tolerations = _list(old_spec.get("tolerations")), _list(spec.get("tolerations"))
    for toleration in old_tolerations:
        base = {k: v for k, v in _dict(toleration).items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in _dict(t).items() if k != "tolerationSeconds"} == base for t in new_tolerations):
            causes.append(
                forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            )
            break
    old_gates = {_str(_dict(gate).get("name")) for gate in _list(old_spec.get("schedulingGates"))}
    for index, gate in enumerate(_list(spec.get("schedulingGates"))):
        name = _str(_dict(gate).get("name"))
        if name not in old_gates:
            causes.append(
                forbidden(
                    f"spec.schedulingGates[{index}].name",
                    f"only deletion is allowed, but found new scheduling gate '{name}'",
                )
            )
    if spec == old_spec:
        return causes
    munged = dict(spec)
    for key in ("containers", "initContainers"):
        munged[key] = [
            {**_dict(container), "image": _dict(old_container).get("image")}
            if "image" in _dict(old_container) or "image" in _dict(container)
            else container
            for container, old_container in zip(_list(spec.get(key)), _list(old_spec.get(key)), strict=False)
        ]
        if key not in spec:
            munged.pop(key)
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged.pop(key, None)
        if key in old_spec:
            munged[key] = old_spec[key]
    old_grace = _int(old_spec.get("terminationGracePeriodSeconds"))
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if _normalized(munged) != _normalized(old_spec):
        detail = f"pod updates may not change fields other than {_UPDATABLE_POD_FIELDS}"
        causes.append(forbidden("spec", f"{detail}\n{_diff(old_spec, munged, 'spec')}"))
    return causes


def _normalized(value: Any) -> Any:
    """Compare as Go's semantic DeepEqual would after decoding: empty and missing are the same."""
    if isinstance(value, dict):
        return {key: _normalized(item) for key, item in value.items() if item not in (None, [], {}, "", False, 0)}
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def _diff(old: Any, new: Any, path: str) -> str:
    """A short readable diff (upstream prints cmp.Diff of the Go structs; this lists the changed paths)."""
    lines: list[str] = []

    def walk(before: Any, after: Any, where: str) -> None:
        if isinstance(before, dict) and isinstance(after, dict):
            for key in dict.fromkeys([*before, *after]):
                walk(before.get(key), after.get(key), f"{where}.{key}")
        elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            for index, (item_before, item_after) in enumerate(zip(before, after, strict=True)):
                walk(item_before, item_after, f"{where}[{index}]")
        elif _normalized(before) != _normalized(after):
            lines.append(f"- {where}: {render_value(before)}")
            lines.append(f"+ {where}: {render_value(after)}")

    walk(old, new, path)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Workloads (apps/v1, batch/v1)
# ---------------------------------------------------------------------------------------------


def _internal(**fields: Any) -> dict:
    """An internal (untagged) Go struct as encoding/json writes it: Go field names, nulls kept."""
    return dict(fields)


def _int_or_percent_causes(value: Any, path: str) -> list[Cause]:
    if isinstance(value, str):
        return _each_invalid(path, value, percent_errors(value))
    return _nonnegative(value, path)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if _PERCENT.matches(value) else 0
    return _int(value, 0) or 0


def _not_more_than_100_percent(value: Any, path: str) -> list[Cause]:
    if isinstance(value, str) and _PERCENT.matches(value) and int(value[:-1]) > 100:
        return [invalid(path, value, "must not be greater than 100%")]
    return []


def _selector_causes(spec: dict, kind_word: str, *, required_selector: bool = True) -> tuple[list[Cause], bool]:
    """Selector presence and format; returns the causes and whether LabelSelectorAsSelector fails."""
    causes: list[Cause] = []
    selector = spec.get("selector")
    if selector is None:
        if required_selector:
            causes.append(required("spec.selector"))
        return causes, False
    selector = _dict(selector)
    causes.extend(_label_selector_causes(selector, "spec.selector"))
    if not _dict(selector.get("matchLabels")) and not _list(selector.get("matchExpressions")):
        causes.append(invalid("spec.selector", _selector_json(selector), f"empty selector is invalid for {kind_word}"))
    return causes, _selector_parse_fails(selector)


def _template_matches_causes(spec: dict, path: str = "spec.template.metadata.labels") -> list[Cause]:
    selector = spec.get("selector")
    labels = _template_labels(spec.get("template"))
    if selector is not None and not _dict(selector).get("matchLabels") and not _dict(selector).get("matchExpressions"):
        return []  # an empty selector selects everything
    if selector_matches(_dict(selector) if selector is not None else None, labels):
        return []
    # A template without labels has a nil map, which encoding/json writes as null.
    raw = _dict(_dict(spec.get("template")).get("metadata")).get("labels")
    shown = _sorted_map(raw) if isinstance(raw, dict) else None
    return [invalid(path, shown, "`selector` does not match template `labels`")]


def _restart_always_causes(template: Any, owner: str) -> list[Cause]:
    """Pods of a ReplicaSet, StatefulSet or DaemonSet run until replaced: restartPolicy Always, no deadline."""
    template_spec = _dict(_dict(template).get("spec"))
    restart = _str(template_spec.get("restartPolicy"))
    causes = _unsupported("spec.template.spec.restartPolicy", restart, ("Always",))
    if template_spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            forbidden("spec.template.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {owner} is not Supported")
        )
    return causes


def _replica_set_selector_and_template_causes(spec: dict) -> list[Cause]:
    """The selector, then ValidatePodTemplateSpecForReplicaSet (Deployments and ReplicaSets alike)."""
    # "deployment" is upstream's wording for ReplicaSets too.
    causes, selector_broken = _selector_causes(spec, "deployment")
    if selector_broken:
        causes.append(invalid("spec.selector", _selector_json(_dict(spec.get("selector"))), "invalid label selector"))
        return causes
    causes.extend(_template_matches_causes(spec))
    causes.extend(_pod_template_causes(spec.get("template"), "spec.template"))
    return causes + _restart_always_causes(spec.get("template"), "ReplicaSet")


def _deployment_strategy_causes(strategy: Any) -> list[Cause]:
    strategy = _dict(strategy)
    kind, rolling = _str(strategy.get("type")), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if kind == "RollingUpdate":
        if rolling is None:
            return [required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")]
        rolling = _dict(rolling)
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        path = "spec.strategy.rollingUpdate"
        causes = _int_or_percent_causes(unavailable, f"{path}.maxUnavailable")
        causes.extend(_int_or_percent_causes(surge, f"{path}.maxSurge"))
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            causes.append(invalid(f"{path}.maxUnavailable", unavailable or 0, "may not be 0 when `maxSurge` is 0"))
        causes.extend(_not_more_than_100_percent(unavailable, f"{path}.maxUnavailable"))
        return causes
    internal_rolling = None
    if rolling is not None:
        rolling = _dict(rolling)
        internal_rolling = _internal(
            MaxUnavailable=rolling.get("maxUnavailable", 0), MaxSurge=rolling.get("maxSurge", 0)
        )
    return [
        not_supported(
            "spec.strategy", _internal(Type=kind, RollingUpdate=internal_rolling), ("Recreate", "RollingUpdate")
        )
    ]


def _validate_deployment(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    causes.extend(_nonnegative(spec.get("replicas"), "spec.replicas"))
    causes.extend(_replica_set_selector_and_template_causes(spec))
    causes.extend(_deployment_strategy_causes(spec.get("strategy")))
    causes.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    causes.extend(_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    progress = _int(spec.get("progressDeadlineSeconds"))
    if progress is not None:
        causes.extend(_nonnegative(progress, "spec.progressDeadlineSeconds"))
        if progress <= (_int(spec.get("minReadySeconds"), 0) or 0):
            causes.append(invalid("spec.progressDeadlineSeconds", progress, "must be greater than minReadySeconds"))
    if old is not None:
        causes.extend(_immutable_selector(spec, _dict(old.get("spec"))))
    return causes


def _validate_replica_set(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    causes.extend(_nonnegative(spec.get("replicas"), "spec.replicas"))
    causes.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    causes.extend(_replica_set_selector_and_template_causes(spec))
    if old is not None:
        causes.extend(_immutable_selector(spec, _dict(old.get("spec"))))
    return causes


def _validate_replication_controller(obj: dict, old: dict | None) -> list[Cause]:
    """ValidateReplicationController: a selector (a plain map of labels, which may change) and a
    template are required, the template's labels must match, its pods restart Always."""
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    causes.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    selector = _str_map(spec.get("selector"))
    if not selector:
        causes.append(required("spec.selector"))
    causes.extend(_nonnegative(spec.get("replicas"), "spec.replicas"))
    template = spec.get("template")
    if template is None:
        return [*causes, required("spec.template")]
    labels = _template_labels(template)
    if any(labels.get(key) != value for key, value in selector.items()):
        raw = _dict(_dict(template).get("metadata")).get("labels")
        shown = _sorted_map(raw) if isinstance(raw, dict) else None
        causes.append(invalid("spec.template.metadata.labels", shown, "`selector` does not match template `labels`"))
    causes.extend(_pod_template_causes(template, "spec.template"))
    return causes + _restart_always_causes(template, "ReplicationController")


def _validate_stateful_set(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old, dns1123_label_errors)
    policy = _str(spec.get("podManagementPolicy"))
    if not policy:
        causes.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        causes.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = _dict(spec.get("updateStrategy"))
    kind, rolling = _str(strategy.get("type")), strategy.get("rollingUpdate")
    if not kind:
        causes.append(required("spec.updateStrategy"))
    elif kind == "OnDelete":
        if rolling is not None:
            causes.append(
                invalid("spec.updateStrategy.rollingUpdate", rolling, "only allowed for updateStrategy 'RollingUpdate'")
            )
    elif kind == "RollingUpdate":
        if rolling is not None:
            rolling = _dict(rolling)
            path = "spec.updateStrategy.rollingUpdate"
            causes.extend(_nonnegative(rolling.get("partition"), f"{path}.partition"))
            unavailable = rolling.get("maxUnavailable")
            if unavailable is not None:
                causes.extend(_int_or_percent_causes(unavailable, f"{path}.maxUnavailable"))
                if _int_or_percent_value(unavailable) == 0:
                    causes.append(invalid(f"{path}.maxUnavailable", unavailable, "cannot be 0"))
                causes.extend(_not_more_than_100_percent(unavailable, f"{path}.maxUnavailable"))
    else:
        internal = _internal(Type=kind, RollingUpdate=rolling)
        causes.append(invalid("spec.updateStrategy", internal, "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for key in ("whenDeleted", "whenScaled"):
            value = _str(_dict(retention).get(key))
            causes.extend(_unsupported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", value, ("Retain", "Delete")))
    causes.extend(_nonnegative(spec.get("replicas"), "spec.replicas"))
    causes.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    ordinals = spec.get("ordinals")
    if ordinals is not None:
        causes.extend(_nonnegative(_dict(ordinals).get("start"), "spec.ordinals.start"))
    selector_causes, selector_broken = _selector_causes(spec, "statefulset")
    causes.extend(selector_causes)
    template = _dict(spec.get("template"))
    if selector_broken:
        causes.append(invalid("spec.selector", _selector_json(_dict(spec.get("selector"))), ""))
    else:
        # Upstream validates only the template's labels and annotations for StatefulSets (a known
        # TODO in apps validation): the pod spec itself is checked when the pods are created.
        causes.extend(_template_matches_causes(spec))
        causes.extend(_labels_and_annotations_causes(_dict(template.get("metadata")), "spec.template"))
    causes.extend(_restart_always_causes(template, "StatefulSet"))
    for index, claim in enumerate(_list(spec.get("volumeClaimTemplates"))):
        claim = _dict(claim)
        claim_name = _str(_dict(claim.get("metadata")).get("name"))
        path = f"spec.volumeClaimTemplates[{index}]"
        if claim_name:
            causes.extend(_each_invalid(f"{path}.metadata.name", claim_name, dns1123_subdomain_errors(claim_name)))
        causes.extend(_pvc_spec_causes(claim.get("spec"), f"{path}.spec"))
    if old is not None:
        old_spec = _dict(old.get("spec"))
        mutable = (
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        )
        if _normalized({k: v for k, v in spec.items() if k not in mutable}) != _normalized(
            {k: v for k, v in old_spec.items() if k not in mutable}
        ):
            causes.append(
                forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                )
            )
    return causes


def _validate_daemon_set(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    selector = spec.get("selector")
    if selector is not None:
        causes.extend(_label_selector_causes(selector, "spec.selector"))
    broken = selector is not None and _selector_parse_fails(_dict(selector))
    if not broken:
        causes.extend(_template_matches_causes(spec))
    if selector is not None and not _dict(selector).get("matchLabels") and not _dict(selector).get("matchExpressions"):
        causes.append(
            invalid("spec.selector", _selector_json(_dict(selector)), "empty selector is invalid for daemonset")
        )
    causes.extend(_pod_template_causes(spec.get("template"), "spec.template"))
    causes.extend(_restart_always_causes(spec.get("template"), "DaemonSet"))
    causes.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    causes.extend(_nonnegative(spec.get("templateGeneration"), "spec.templateGeneration"))
    strategy = _dict(spec.get("updateStrategy"))
    kind = _str(strategy.get("type"))
    if kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        path = "spec.updateStrategy.rollingUpdate"
        if rolling is None:
            causes.append(required(path))
        else:
            rolling = _dict(rolling)
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            causes.extend(_int_or_percent_causes(unavailable, f"{path}.maxUnavailable"))
            causes.extend(_int_or_percent_causes(surge, f"{path}.maxSurge"))
            causes.extend(_not_more_than_100_percent(unavailable, f"{path}.maxUnavailable"))
            causes.extend(_not_more_than_100_percent(surge, f"{path}.maxSurge"))
            has_unavailable, has_surge = _int_or_percent_value(unavailable) != 0, _int_or_percent_value(surge) != 0
            if has_unavailable and has_surge:
                causes.append(invalid(f"{path}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"))
            elif not has_unavailable and not has_surge:
                causes.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    elif kind != "OnDelete":
        internal = _internal(Type=kind, RollingUpdate=strategy.get("rollingUpdate"))
        causes.append(not_supported("spec.updateStrategy", internal, ("RollingUpdate", "OnDelete")))
    causes.extend(_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    if old is not None:
        causes.extend(_immutable_selector(spec, _dict(old.get("spec"))))
    return causes


def _immutable_selector(spec: dict, old_spec: dict) -> list[Cause]:
    if _normalized(spec.get("selector")) == _normalized(old_spec.get("selector")):
        return []
    selector = spec.get("selector")
    return [
        invalid(
            "spec.selector", _selector_json(_dict(selector)) if selector is not None else None, "field is immutable"
        )
    ]


def _job_spec_causes(spec: dict, path: str) -> list[Cause]:
    """validateJobSpec: counts, completion mode, the pod template and its restartPolicy."""
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        causes.extend(_nonnegative(spec.get(key), f"{path}.{key}"))
    for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
        causes.extend(_nonnegative(spec.get(key), f"{path}.{key}"))
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        causes.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    mode = spec.get("completionMode")
    if mode is not None:
        causes.extend(_unsupported(f"{path}.completionMode", mode, ("NonIndexed", "Indexed")))
        if mode == "Indexed":
            if spec.get("completions") is None:
                causes.append(required(f"{path}.completions", "when completion mode is Indexed"))
            parallelism = _int(spec.get("parallelism"))
            if parallelism is not None and parallelism > 100000:
                causes.append(
                    invalid(
                        f"{path}.parallelism",
                        parallelism,
                        "must be less than or equal to 100000 when completion mode is Indexed",
                    )
                )
            causes.extend(_max_failed_indexes_causes(spec, path))
    if mode in (None, "NonIndexed"):
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                causes.append(invalid(f"{path}.{key}", spec[key], "requires indexed completion mode"))
    if spec.get("podFailurePolicy") is not None:
        causes.extend(_pod_failure_policy_causes(spec, f"{path}.podFailurePolicy"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None and replacement != "Failed":
            causes.append(not_supported(f"{path}.podReplacementPolicy", replacement, ("Failed",)))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            causes.append(not_supported(f"{path}.podReplacementPolicy", replacement, ("Failed", "TerminatingOrFailed")))
    causes.extend(_pod_template_causes(spec.get("template"), f"{path}.template"))
    restart = _str(_dict(_dict(spec.get("template")).get("spec")).get("restartPolicy"))
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart in ("Always", ""):
        causes.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        causes.append(not_supported(restart_path, restart, ("OnFailure", "Never")))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        causes.append(invalid(restart_path, restart, 'only "Never" is supported when podFailurePolicy is specified'))
    return causes


# Upstream's limits for an Indexed Job's failed indexes (pkg/apis/batch/validation).
MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS = 10_000
MAX_POD_FAILURE_POLICY_RULES = 20
MAX_POD_FAILURE_POLICY_EXIT_CODES = 255
MAX_POD_FAILURE_POLICY_CONDITIONS = 20
POD_FAILURE_POLICY_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
POD_FAILURE_POLICY_OPERATORS = ("In", "NotIn")
POD_CONDITION_STATUSES = ("False", "True", "Unknown")


def _go_quoted_list(values: tuple[str, ...]) -> str:
    """Go's %q of a []string: `["a" "b"]`."""
    return "[" + " ".join(go_quote(value) for value in values) + "]"


def _max_failed_indexes_causes(spec: dict, path: str) -> list[Cause]:
    """validateJobSpec's checks of maxFailedIndexes (and of a very large Job using backoffLimitPerIndex)."""
    causes: list[Cause] = []
    completions, max_failed = _int(spec.get("completions")), _int(spec.get("maxFailedIndexes"))
    parallelism = _int(spec.get("parallelism"))
    if completions is not None and max_failed is not None and max_failed > completions:
        causes.append(invalid(f"{path}.maxFailedIndexes", max_failed, "must be less than or equal to completions"))
    if max_failed is not None and max_failed > MAX_FAILED_INDEXES:
        causes.append(
            invalid(f"{path}.maxFailedIndexes", max_failed, f"must be less than or equal to {MAX_FAILED_INDEXES}")
        )
    if (
        completions is not None
        and completions > COMPLETIONS_SOFT_LIMIT
        and spec.get("backoffLimitPerIndex") is not None
    ):
        high = f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
        if spec.get("maxFailedIndexes") is None:
            causes.append(
                required(
                    f"{path}.maxFailedIndexes", f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"
                )
            )
        if parallelism is not None and parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS:
            detail = f"must be less than or equal to {PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} {high}"
            causes.append(invalid(f"{path}.parallelism", parallelism, detail))
        if max_failed is not None and max_failed > MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS:
            detail = f"must be less than or equal to {MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS} {high}"
            causes.append(invalid(f"{path}.maxFailedIndexes", max_failed, detail))
    return causes


def _pod_failure_policy_causes(spec: dict, path: str) -> list[Cause]:
    """validatePodFailurePolicy: at most 20 rules, each with a known action and exactly one of
    onExitCodes (an operator, a container of the template, 1 to 255 ordered distinct values, no 0
    for In) and onPodConditions (at most 20 patterns of a qualified type and a condition status)."""
    rules = _list(_dict(spec.get("podFailurePolicy")).get("rules"))
    causes: list[Cause] = []
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        causes.append(too_many(f"{path}.rules", len(rules), MAX_POD_FAILURE_POLICY_RULES))
    pod_spec = _dict(_dict(spec.get("template")).get("spec"))
    names = {
        _str(container.get("name"))
        for key in ("containers", "initContainers")
        for container in map(_dict, _list(pod_spec.get(key)))
    }
    for number, rule in enumerate(map(_dict, rules)):
        rule_path = f"{path}.rules[{number}]"
        action = _str(rule.get("action"))
        if not action:
            causes.append(
                required(f"{rule_path}.action", f"valid values: {_go_quoted_list(POD_FAILURE_POLICY_ACTIONS)}")
            )
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                causes.append(invalid(f"{rule_path}.action", action, "requires the backoffLimitPerIndex to be set"))
        elif action not in POD_FAILURE_POLICY_ACTIONS:
            causes.append(not_supported(f"{rule_path}.action", action, POD_FAILURE_POLICY_ACTIONS))
        on_exit_codes = rule.get("onExitCodes")
        on_conditions = _list(rule.get("onPodConditions"))
        if on_exit_codes is not None:
            causes.extend(_on_exit_codes_causes(_dict(on_exit_codes), f"{rule_path}.onExitCodes", names))
        if on_conditions:
            causes.extend(_on_pod_conditions_causes(on_conditions, f"{rule_path}.onPodConditions"))
        if on_exit_codes is not None and on_conditions:
            detail = "specifying both OnExitCodes and OnPodConditions is not supported"
            causes.append(invalid_omitting_value(rule_path, detail))
        if on_exit_codes is None and not on_conditions:
            causes.append(
                invalid_omitting_value(rule_path, "specifying one of OnExitCodes and OnPodConditions is required")
            )
    return causes


def _on_exit_codes_causes(requirement: dict, path: str, container_names: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    operator = _str(requirement.get("operator"))
    if not operator:
        valid = _go_quoted_list(POD_FAILURE_POLICY_OPERATORS)
        causes.append(required(f"{path}.operator", f"valid values: {valid}"))
    elif operator not in POD_FAILURE_POLICY_OPERATORS:
        causes.append(not_supported(f"{path}.operator", operator, POD_FAILURE_POLICY_OPERATORS))
    name = requirement.get("containerName")
    if name is not None and (not isinstance(name, str) or name not in container_names):
        detail = "must be one of the container or initContainer names in the pod template"
        causes.append(invalid(f"{path}.containerName", name, detail))
    values = requirement.get("values")
    listed_values = _list(values)
    if not listed_values:
        causes.append(invalid(f"{path}.values", values, "at least one value is required"))
    elif len(listed_values) > MAX_POD_FAILURE_POLICY_EXIT_CODES:
        causes.append(too_many(f"{path}.values", len(listed_values), MAX_POD_FAILURE_POLICY_EXIT_CODES))
    seen: set[Any] = set()
    ordered = True
    for number, value in enumerate(listed_values):
        value_path = f"{path}.values[{number}]"
        if _int(value) is None:
            continue  # not a number: decoding has reported it
        if operator == "In" and value == 0:
            causes.append(invalid(value_path, value, "must not be 0 for the In operator"))
        if value in seen:
            causes.append(duplicate(value_path, value))
        else:
            seen.add(value)
        if number > 0 and (_int(listed_values[number - 1]) or 0) > value:
            ordered = False
    if not ordered:
        causes.append(invalid(f"{path}.values", values, "must be ordered"))
    return causes


def _on_pod_conditions_causes(patterns: list, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(patterns) > MAX_POD_FAILURE_POLICY_CONDITIONS:
        causes.append(too_many(path, len(patterns), MAX_POD_FAILURE_POLICY_CONDITIONS))
    for number, pattern in enumerate(map(_dict, patterns)):
        pattern_path = f"{path}[{number}]"
        kind = _str(pattern.get("type"))
        causes.extend(_each_invalid(f"{pattern_path}.type", kind, label_key_errors(kind)))
        status = _str(pattern.get("status"))
        if not status:
            valid = _go_quoted_list(POD_CONDITION_STATUSES)
            causes.append(required(f"{pattern_path}.status", f"valid values: {valid}"))
        elif status not in POD_CONDITION_STATUSES:
            causes.append(not_supported(f"{pattern_path}.status", status, POD_CONDITION_STATUSES))
    return causes


def _has_label_causes(labels: dict, key: str, expected: str) -> list[Cause]:
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(path, _sorted_map(labels), f"must be '{expected}'")]
    return []


def _validate_job(obj: dict, old: dict | None) -> list[Cause]:
    meta = _dict(obj.get("metadata"))
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    name, uid = _str(meta.get("name")), _str(meta.get("uid"))
    if spec.get("manualSelector") is not True and spec.get("selector") is not None:
        labels = _template_labels(spec.get("template"))
        # metadata.uid is the store's to assign; validation before that only checks the labels agree.
        if uid:
            for key, expected in (
                (LEGACY_CONTROLLER_UID_LABEL, uid),
                (LEGACY_JOB_NAME_LABEL, name),
                (JOB_CONTROLLER_UID_LABEL, uid),
                (JOB_NAME_LABEL, name),
            ):
                causes.extend(_has_label_causes(labels, key, expected))
            expected_labels = {
                JOB_CONTROLLER_UID_LABEL: uid,
                JOB_NAME_LABEL: name,
                LEGACY_CONTROLLER_UID_LABEL: uid,
                LEGACY_JOB_NAME_LABEL: name,
            }
            if not selector_matches(_dict(spec.get("selector")), expected_labels):
                causes.append(
                    invalid("spec.selector", _selector_json(_dict(spec["selector"])), "`selector` not auto-generated")
                )
    causes.extend(_job_spec_causes(spec, "spec"))
    selector = spec.get("selector")
    if selector is None:
        causes.append(required("spec.selector"))
    else:
        causes.extend(_label_selector_causes(selector, "spec.selector"))
    if selector is None or not _selector_parse_fails(_dict(selector)):
        causes.extend(_template_matches_causes(spec))
    completions = _int(spec.get("completions"))
    if spec.get("completionMode") == "Indexed" and completions and completions > 0:
        hostname = f"{name}-{completions - 1}"
        if dns1123_label_errors(hostname):
            causes.append(
                invalid("metadata.name", name, f"will not able to create pod with invalid DNS label: {hostname}")
            )
    if old is not None:
        old_spec = _dict(old.get("spec"))
        for key in (
            "completions",
            "selector",
            "template",
            "completionMode",
            "podFailurePolicy",
            "backoffLimitPerIndex",
            "managedBy",
            "successPolicy",
        ):
            if _normalized(spec.get(key)) != _normalized(old_spec.get(key)):
                value = spec.get(key)
                if key == "selector" and value is not None:
                    value = _selector_json(_dict(value))
                causes.append(invalid(f"spec.{key}", value, "field is immutable"))
    return causes


def _validate_cron_job(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    name = _str(_dict(obj.get("metadata")).get("name"))
    causes = _meta_causes(obj, old)
    schedule = _str(spec.get("schedule"))
    if not schedule:
        causes.append(required("spec.schedule"))
    else:
        error = schedule_error(schedule)
        if error:
            causes.append(invalid("spec.schedule", schedule, error))
        allow_tz = old is not None and "TZ" in _str(_dict(old.get("spec")).get("schedule"))
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            causes.append(
                invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule")
            )
        elif not allow_tz and "TZ" in schedule:
            causes.append(
                invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
            )
    causes.extend(_nonnegative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds"))
    old_zone = _dict(old.get("spec")).get("timeZone") if old is not None else object()
    if spec.get("timeZone") != old_zone:
        causes.extend(_time_zone_causes(spec.get("timeZone")))
    causes.extend(_required_choice(spec, "concurrencyPolicy", "spec", ("Allow", "Forbid", "Replace")))
    job_template = _dict(spec.get("jobTemplate"))
    job_spec = _dict(job_template.get("spec"))
    causes.extend(_job_spec_causes(job_spec, "spec.jobTemplate.spec"))
    if job_spec.get("selector") is not None:
        causes.append(
            invalid(
                "spec.jobTemplate.spec.selector",
                _selector_json(_dict(job_spec["selector"])),
                "`selector` will be auto-generated",
            )
        )
    if job_spec.get("manualSelector") is True:
        causes.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false")))
    causes.extend(_nonnegative(spec.get("successfulJobsHistoryLimit"), "spec.successfulJobsHistoryLimit"))
    causes.extend(_nonnegative(spec.get("failedJobsHistoryLimit"), "spec.failedJobsHistoryLimit"))
    if old is None and len(name) > 52:
        # The controller appends an 11-character suffix to name the Jobs it creates.
        causes.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return causes


def _time_zone_causes(zone: Any) -> list[Cause]:
    if zone is None:
        return []
    zone = _str(zone)
    path = "spec.timeZone"
    if not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not re.fullmatch(r"[A-Za-z.\-_0-9+]{1,14}", part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    if zone.lower() == "local":
        return [
            invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
        ]
    try:
        ZoneInfo(zone)
    except (ValueError, OSError, KeyError):
        return [invalid(path, zone, f"unknown time zone {zone}")]
    return []


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")


def _cluster_ips(spec: dict) -> list[str]:
    """spec.clusterIPs, with the strategy's normalisation from spec.clusterIP applied."""
    ips = [_str(ip) for ip in _list(spec.get("clusterIPs"))]
    cluster_ip = _str(spec.get("clusterIP"))
    if not ips and cluster_ip:
        return [cluster_ip]
    return ips


def _service_port_causes(port: dict, require_name: bool, names: set[str], path: str) -> list[Cause]:
    causes: list[Cause] = []
    name = _str(port.get("name"))
    if require_name and not name:
        causes.append(required(f"{path}.name"))
    elif name:
        causes.extend(_each_invalid(f"{path}.name", name, dns1123_label_errors(name)))
        if name in names:
            causes.append(duplicate(f"{path}.name", name))
        else:
            names.add(name)
    number = _int(port.get("port"), 0) or 0
    causes.extend(_each_invalid(f"{path}.port", number, port_number_errors(number)))
    node_port = _int(port.get("nodePort"), 0)
    if node_port and node_port not in NODE_PORT_RANGE:
        # The node port allocator's words. Checked on every write, not only when a port is
        # allocated: on Docker a node port is published on the host (127.0.0.1), so 22 or 5432
        # must never be asked for by a create, a replace or a patch.
        causes.append(
            invalid(
                f"{path}.nodePort",
                node_port,
                f"provided port is not in the valid range. The range of valid ports is "
                f"{NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}",
            )
        )
    causes.extend(_required_choice(port, "protocol", path, _PROTOCOLS))
    causes.extend(_port_num_or_name_causes(port.get("targetPort"), f"{path}.targetPort"))
    app_protocol = port.get("appProtocol")
    if app_protocol is not None:
        causes.extend(_each_invalid(f"{path}.appProtocol", app_protocol, label_key_errors(_str(app_protocol))))
    return causes


def _cluster_ip_causes(spec: dict, kind: str) -> list[Cause]:
    """ValidateServiceClusterIPsRelatedFields."""
    if kind == "ExternalName":
        return []
    causes: list[Cause] = []
    ips = _cluster_ips(spec)
    cluster_ip = _str(spec.get("clusterIP"))
    if cluster_ip and ips and ips[0] != cluster_ip:
        causes.append(invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    if not cluster_ip and ips:
        causes.append(invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for index, family in enumerate(_list(spec.get("ipFamilies"))):
        causes.extend(_unsupported(f"spec.ipFamilies[{index}]", family, ("IPv4", "IPv6")))
        if family in seen:
            causes.append(duplicate(f"spec.ipFamilies[{index}]", family))
        seen.add(family)
    causes.extend(
        _optional_choice(spec, "ipFamilyPolicy", "spec", ("PreferDualStack", "RequireDualStack", "SingleStack"))
    )
    bad_ips = False
    for index, ip in enumerate(ips):
        if index == 0 and ip == "None":
            if len(ips) > 1:
                bad_ips = True
                causes.append(invalid("spec.clusterIPs", ips, "'None' must be the first and only value"))
            continue
        ip_causes = ip_errors(f"spec.clusterIPs[{index}]", ip)
        bad_ips = bad_ips or bool(ip_causes)
        causes.extend(ip_causes)
    if len(ips) > 2:
        causes.append(invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad_ips:
        return causes
    if len(ips) > 1 and len({":" in ip for ip in ips}) != 2:
        causes.append(invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"))
    families = _list(spec.get("ipFamilies"))
    if ips and ips != ["None"]:
        for index, ip in enumerate(ips[: len(families)]):
            family = families[index]
            if family in ("IPv4", "IPv6") and (":" in ip) != (family == "IPv6"):
                detail = f"expected an {family} value as indicated by `ipFamilies[{index}]`"
                causes.append(invalid(f"spec.clusterIPs[{index}]", ip, detail))
    return causes


def _validate_service(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    # RelaxedServiceNameValidation is on in 1.37: Service names are RFC 1123 labels.
    causes = _meta_causes(obj, old, dns1123_label_errors)
    if old is not None:
        causes.extend(_service_update_causes(spec, _dict(old.get("spec"))))
    kind = _str(spec.get("type"))
    ports = _list(spec.get("ports"))
    ips = _cluster_ips(spec)
    headless = ips == ["None"]
    if not ports and not headless and kind != "ExternalName":
        causes.append(required("spec.ports"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        causes.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    elif kind == "ExternalName":
        if ips:
            causes.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if _list(spec.get("ipFamilies")):
            causes.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            causes.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = _str(spec.get("externalName")).removesuffix(".")
        causes.extend(_required_valid("spec.externalName", cname, dns1123_subdomain_errors))
    names: set[str] = set()
    for index, port in enumerate(ports):
        causes.extend(_service_port_causes(_dict(port), len(ports) > 1, names, f"spec.ports[{index}]"))
    if spec.get("selector") is not None:
        causes.extend(_labels_causes(spec.get("selector"), "spec.selector"))
    affinity = _str(spec.get("sessionAffinity"))
    causes.extend(_required_choice(spec, "sessionAffinity", "spec", ("ClientIP", "None")))
    config = spec.get("sessionAffinityConfig")
    if affinity == "ClientIP":
        timeout = _dict(_dict(config).get("clientIP")).get("timeoutSeconds")
        if config is None:
            causes.append(required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"))
        elif _dict(config).get("clientIP") is None:
            causes.append(required("spec.sessionAffinityConfig.clientIP", "when session affinity type is ClientIP"))
        elif timeout is None:
            causes.append(
                required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "when session affinity type is ClientIP")
            )
        elif not 0 < (_int(timeout, 0) or 0) <= 86400:
            causes.append(
                invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    timeout,
                    "must be greater than 0 and less than 86400",
                )
            )
    elif affinity == "None" and config is not None:
        causes.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    causes.extend(_cluster_ip_causes(spec, kind))
    for index, ip in enumerate(_list(spec.get("externalIPs"))):
        causes.extend(ip_errors(f"spec.externalIPs[{index}]", _str(ip)))
    causes.extend(_required_choice(spec, "type", "spec", _SERVICE_TYPES))
    if kind == "ClusterIP":
        for index, port in enumerate(ports):
            if _int(_dict(port).get("nodePort"), 0):
                causes.append(forbidden(f"spec.ports[{index}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    seen_node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    for index, port in enumerate(ports):
        port = _dict(port)
        node_port = _int(port.get("nodePort"), 0) or 0
        protocol = _str(port.get("protocol"))
        if node_port:
            if (protocol, node_port) in seen_node_ports:
                causes.append(duplicate(f"spec.ports[{index}].nodePort", node_port))
            seen_node_ports.add((protocol, node_port))
    for index, port in enumerate(ports):
        port = _dict(port)
        key = (_str(port.get("protocol")), _int(port.get("port"), 0) or 0)
        if key in seen_ports:
            internal = _internal(Name="", Protocol=key[0], AppProtocol=None, Port=key[1], TargetPort=0, NodePort=0)
            causes.append(duplicate(f"spec.ports[{index}]", internal))
        seen_ports.add(key)
    if _list(spec.get("loadBalancerSourceRanges")) and kind != "LoadBalancer":
        causes.append(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"))
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        causes.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        causes.append(required("allocateLoadBalancerNodePorts"))
    external = kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and bool(_list(spec.get("externalIPs"))))
    external_policy = _str(spec.get("externalTrafficPolicy"))
    if not external:
        if external_policy:
            causes.append(
                invalid(
                    "spec.externalTrafficPolicy", external_policy, "may only be set for externally-accessible services"
                )
            )
    else:
        causes.extend(_required_choice(spec, "externalTrafficPolicy", "spec", ("Cluster", "Local")))
    internal_policy = spec.get("internalTrafficPolicy")
    if internal_policy is None:
        if kind in ("NodePort", "LoadBalancer", "ClusterIP"):
            causes.append(required("spec.internalTrafficPolicy"))
    elif internal_policy not in ("Cluster", "Local"):
        causes.append(not_supported("spec.internalTrafficPolicy", internal_policy, ("Cluster", "Local")))
    causes.extend(_optional_choice(spec, "trafficDistribution", "spec", _TRAFFIC_DISTRIBUTIONS))
    return causes


def _service_update_causes(spec: dict, old_spec: dict) -> list[Cause]:
    """clusterIPs and ipFamilies may not change once set (ExternalName and headless excepted)."""
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return []
    new_ips, old_ips = _cluster_ips(spec), _cluster_ips(old_spec)
    if not new_ips and old_ips:
        new_ips = old_ips  # the strategy copies allocated IPs the client left out
    if old_ips == ["None"] and new_ips == ["None"]:
        return []
    causes: list[Cause] = []
    if old_ips and new_ips and new_ips[0] != old_ips[0]:
        causes.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
    new_families, old_families = _list(spec.get("ipFamilies")), _list(old_spec.get("ipFamilies"))
    if new_families and old_families and new_families[0] != old_families[0] and new_ips != ["None"]:
        causes.append(invalid("spec.ipFamilies[0]", new_families, "may not change once set"))
    return causes


# ---------------------------------------------------------------------------------------------
# Configuration and storage
# ---------------------------------------------------------------------------------------------

_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")


def _decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(_str(value).replace("\n", "").replace("\r", ""), validate=True))
    except (binascii.Error, ValueError):
        return len(_str(value))


def _validate_config_map(obj: dict, old: dict | None) -> list[Cause]:
    causes = _meta_causes(obj, old)
    if old is not None:
        causes.extend(_immutable_data_causes(obj, old, ("data", "binaryData")))
    data, binary = _dict(obj.get("data")), _dict(obj.get("binaryData"))
    size = 0
    for key, value in data.items():
        causes.extend(_each_invalid(f"data[{key}]", key, config_map_key_errors(key)))
        if key in binary:
            causes.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        size += len(_str(value).encode())
    for key, value in binary.items():
        causes.extend(_each_invalid(f"binaryData[{key}]", key, config_map_key_errors(key)))
        size += _decoded_size(value)
    if size > MAX_SECRET_SIZE:
        # Upstream reports the whole object with an empty path, which prints as "[]".
        causes.append(too_long("[]", MAX_SECRET_SIZE))
    return causes


def _immutable_data_causes(obj: dict, old: dict, keys: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes = []
    if obj.get("immutable") is not True:
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if _dict(obj.get(key)) != _dict(old.get(key)):
            causes.append(forbidden(key, "field is immutable when `immutable` is set"))
    return causes


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def _validate_secret(obj: dict, old: dict | None) -> list[Cause]:
    causes = _meta_causes(obj, old)
    if old is not None:
        if _str(obj.get("type")) != _str(old.get("type")):
            causes.append(invalid("type", _str(obj.get("type")), "field is immutable"))
        causes.extend(_immutable_data_causes(obj, old, ("data",)))
    data = _dict(obj.get("data"))
    size = 0
    for key, value in data.items():
        causes.extend(_each_invalid(f"data[{key}]", key, config_map_key_errors(key)))
        size += _decoded_size(value)
    if size > MAX_SECRET_SIZE:
        causes.append(too_long("data", MAX_SECRET_SIZE))
    flavour = _str(obj.get("type"))
    if flavour == "kubernetes.io/service-account-token":
        annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
        if not _str(annotations.get("kubernetes.io/service-account.name")):
            causes.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif flavour == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            causes.append(required("data[username]"))
            causes.append(required("data[password]"))
    elif flavour in _SECRET_REQUIRED_KEYS:
        for key in _SECRET_REQUIRED_KEYS[flavour]:
            if key not in data or (flavour == "kubernetes.io/ssh-auth" and not _decoded_size(data[key])):
                causes.append(required(f"data[{key}]"))
                if flavour != "kubernetes.io/tls":
                    break
    return causes


def _pvc_spec_causes(spec: Any, path: str) -> list[Cause]:
    spec = _dict(spec)
    causes: list[Cause] = []
    modes = _list(spec.get("accessModes"))
    if not modes:
        causes.append(required(f"{path}.accessModes", "at least 1 access mode is required"))
    if spec.get("selector") is not None:
        causes.extend(_label_selector_causes(spec["selector"], f"{path}.selector"))
    for mode in modes:
        if mode not in _ACCESS_MODES:
            causes.append(not_supported(f"{path}.accessModes", mode, _ACCESS_MODES))
    if "ReadWriteOncePod" in modes and any(mode in _ACCESS_MODES and mode != "ReadWriteOncePod" for mode in modes):
        causes.append(forbidden(f"{path}.accessModes", "may not use ReadWriteOncePod with other access modes"))
    storage_path = f"{path}.resources[storage]"
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        causes.append(required(storage_path))
    else:
        try:
            storage = quantity_from_json(requests["storage"])
        except QuantityError as error:
            causes.append(invalid(storage_path, _str(requests["storage"]), str(error)))
        else:
            if storage.value <= 0:
                causes.append(invalid(storage_path, str(storage), "must be greater than zero"))
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        causes.extend(_each_invalid(f"{path}.storageClassName", class_name, dns1123_subdomain_errors(class_name)))
    causes.extend(_optional_choice(spec, "volumeMode", path, ("Block", "Filesystem")))
    return causes


def _validate_pvc(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    causes.extend(_pvc_spec_causes(spec, "spec"))
    if old is not None:
        old_spec = dict(_dict(old.get("spec")))
        new_spec = dict(spec)
        if not _str(old_spec.get("volumeName")):
            old_spec["volumeName"] = new_spec.get("volumeName")
        if _str(_dict(obj.get("status")).get("phase")) == "Bound":
            # Bound claims may grow: compare everything but the storage request.
            for spec_dict in (new_spec, old_spec):
                resources = dict(_dict(spec_dict.get("resources")))
                resources["requests"] = {k: v for k, v in _dict(resources.get("requests")).items() if k != "storage"}
                spec_dict["resources"] = resources
        if _normalized(new_spec) != _normalized(old_spec):
            causes.append(
                forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for "
                    f"bound claims\n{_diff(old_spec, new_spec, 'spec')}",
                )
            )
    return causes


_PV_SOURCES = (
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)


def _validate_pv(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old, namespaced=False)
    modes = _list(spec.get("accessModes"))
    if not modes:
        causes.append(required("spec.accessModes"))
    for mode in modes:
        if mode not in _ACCESS_MODES:
            causes.append(not_supported("spec.accessModes", mode, _ACCESS_MODES))
    capacity = _dict(spec.get("capacity"))
    if not capacity:
        causes.append(required("spec.capacity"))
    elif "storage" not in capacity or len(capacity) > 1:
        causes.append(not_supported("spec.capacity", sorted(capacity), ("storage",)))
    causes.extend(_only_one_of(spec, [(key, key) for key in _PV_SOURCES], "spec", "volume")[1])
    policy = _str(spec.get("persistentVolumeReclaimPolicy"))
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        causes.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, ("Delete", "Recycle", "Retain")))
    return causes


def _validate_namespace(obj: dict, old: dict | None) -> list[Cause]:
    causes = _meta_causes(obj, old, dns1123_label_errors, namespaced=False)
    if old is None:
        causes.extend(_finalizer_causes(_dict(obj.get("spec")).get("finalizers"), "spec.finalizers", indexed=False))
    return causes


# ---------------------------------------------------------------------------------------------
# NetworkPolicy (pkg/apis/networking/validation)
# ---------------------------------------------------------------------------------------------

_POLICY_PROTOCOLS = ("TCP", "UDP", "SCTP")  # upstream lists them in this order
_POLICY_TYPES = ("Ingress", "Egress")


def _network_policy_port_causes(port: dict, path: str) -> list[Cause]:
    causes = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _POLICY_PROTOCOLS:
        causes.append(not_supported(f"{path}.protocol", protocol, _POLICY_PROTOCOLS))
    number, end = port.get("port"), _int(port.get("endPort"))
    if isinstance(number, int) and not isinstance(number, bool):
        causes.extend(_each_invalid(f"{path}.port", number, port_number_errors(number)))
        if end is not None:
            if end < number:
                causes.append(invalid(f"{path}.endPort", end, "must be greater than or equal to `port`"))
            causes.extend(_each_invalid(f"{path}.endPort", end, port_number_errors(end)))
    elif isinstance(number, str):
        if end is not None:
            causes.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric"))
        causes.extend(_each_invalid(f"{path}.port", number, port_name_errors(number)))
    elif end is not None:
        causes.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified"))
    return causes


def _ip_block_causes(block: dict, path: str, allowed: frozenset[str]) -> list[Cause]:
    """ValidateIPBlock; `allowed`: CIDRs the stored policy already has, accepted unchecked."""
    cidr = _str(block.get("cidr"))
    if not cidr:
        return [required(f"{path}.cidr")]
    causes = [] if cidr in allowed else cidr_errors(f"{path}.cidr", cidr)
    network = cidr_sloppy(cidr)
    if network is None:
        return causes
    for index, value in enumerate(_list(block.get("except"))):
        except_path, value = f"{path}.except[{index}]", _str(value)
        causes.extend([] if value in allowed else cidr_errors(except_path, value))
        excepted = cidr_sloppy(value)
        if excepted is None:
            continue
        inside = excepted.version == network.version and excepted.network_address in network
        if not inside or network.prefixlen >= excepted.prefixlen:
            causes.append(invalid(except_path, value, "must be a strict subset of `cidr`"))
    return causes


def _network_policy_peer_causes(peer: dict, path: str, allowed: frozenset[str]) -> list[Cause]:
    causes = []
    present = [key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None]
    for key in present:
        if key == "ipBlock":
            causes.extend(_ip_block_causes(_dict(peer[key]), f"{path}.ipBlock", allowed))
        else:
            causes.extend(_label_selector_causes(peer[key], f"{path}.{key}"))
    if not present:
        causes.append(required(path, "must specify a peer"))
    elif len(present) > 1 and "ipBlock" in present:
        causes.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def _network_policy_spec_causes(spec: dict, allowed: frozenset[str] = frozenset()) -> list[Cause]:
    causes = _label_selector_causes(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for rule_path, rule in _items(spec.get(direction), f"spec.{direction}"):
            for port_path, port in _items(rule.get("ports"), f"{rule_path}.ports"):
                causes.extend(_network_policy_port_causes(port, port_path))
            for peer_path, peer in _items(rule.get(peers), f"{rule_path}.{peers}"):
                causes.extend(_network_policy_peer_causes(peer, peer_path, allowed))
    types = _list(spec.get("policyTypes"))
    if len(types) > len(_POLICY_TYPES):
        return [*causes, invalid("spec.policyTypes", types, "may not specify more than two policyTypes")]
    for index, policy_type in enumerate(types):
        causes.extend(_unsupported(f"spec.policyTypes[{index}]", policy_type, _POLICY_TYPES))
    return causes


def _policy_cidrs(spec: dict) -> frozenset[str]:
    """Every ipBlock CIDR (and except) of a policy: an update may keep them even if now invalid."""
    found = set()
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for rule in _list(spec.get(direction)):
            for peer in _list(_dict(rule).get(peers)):
                block = _dict(_dict(peer).get("ipBlock"))
                if block:
                    found.add(_str(block.get("cidr")))
                    found.update(_str(value) for value in _list(block.get("except")))
    return frozenset(found)


def _validate_network_policy(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    # An update runs the create checks, then the update checks (the spec again, old CIDRs allowed).
    causes = _object_meta_causes(obj.get("metadata"), True, dns1123_subdomain_errors)
    causes.extend(_network_policy_spec_causes(spec))
    if old is not None:
        causes.extend(_object_meta_update_causes(obj.get("metadata"), old.get("metadata")))
        causes.extend(_network_policy_spec_causes(spec, _policy_cidrs(_dict(old.get("spec")))))
    return causes


def _validate_node(obj: dict, old: dict | None) -> list[Cause]:
    causes = _meta_causes(obj, old, namespaced=False)
    seen: set[tuple[str, str]] = set()
    for index, taint in enumerate(_list(_dict(obj.get("spec")).get("taints"))):
        taint = _dict(taint)
        # Upstream reports node taints under metadata.taints.
        path = f"metadata.taints[{index}]"
        key, effect = _str(taint.get("key")), _str(taint.get("effect"))
        causes.extend(_each_invalid(f"{path}.key", key, label_key_errors(key)))
        value_errors = label_value_errors(_str(taint.get("value")))
        if value_errors:
            causes.append(invalid(f"{path}.value", _str(taint.get("value")), ";".join(value_errors)))
        if not effect:
            causes.append(required(f"{path}.effect"))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            causes.append(not_supported(f"{path}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute")))
        if (key, effect) in seen:
            internal = _internal(
                Key=key, Value=_str(taint.get("value")), Effect=effect, TimeAdded=taint.get("timeAdded")
            )
            cause = duplicate(path, internal)
            causes.append(Cause(cause.reason, cause.message + ": taints must be unique by key and effect pair", path))
        seen.add((key, effect))
    return causes


# ---------------------------------------------------------------------------------------------
# HorizontalPodAutoscaler (pkg/apis/autoscaling/validation), taken as autoscaling/v2 stores it
# ---------------------------------------------------------------------------------------------

_MAX_HPA_PERIOD_SECONDS = 1800
_MAX_HPA_STABILIZATION_SECONDS = 3600
_METRIC_SOURCE_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
# The member of a MetricSpec each type names.
_METRIC_SOURCE_FIELDS = {
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "External": "external",
    "ContainerResource": "containerResource",
}


def _path_segment_errors(name: str) -> list[str]:
    """apimachinery's IsValidPathSegmentName: a name must be usable as one segment of a URL path."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{part}'" for part in ("/", "%") if part in name]


def _cross_version_reference_causes(ref: Any, path: str) -> list[Cause]:
    ref = _dict(ref)
    causes = []
    for key in ("kind", "name"):
        value = _str(ref.get(key))
        causes.extend(_required_valid(f"{path}.{key}", value, _path_segment_errors))
    return causes


def _positive_quantity_causes(raw: Any, path: str) -> list[Cause]:
    if raw is None:
        return []
    try:
        positive = quantity_from_json(raw).value > 0
    except QuantityError:
        return []  # refused while decoding
    return [] if positive else [invalid(path, str(raw), "must be positive")]


def _metric_target_causes(target: Any, path: str) -> list[Cause]:
    target = _dict(target)
    kind = _str(target.get("type"))
    causes = [] if kind else [required(f"{path}.type", "must specify a metric target type")]
    if kind not in ("Utilization", "Value", "AverageValue"):
        causes.append(invalid(f"{path}.type", kind, "must be either Utilization, Value, or AverageValue"))
    causes.extend(_positive_quantity_causes(target.get("value"), f"{path}.value"))
    causes.extend(_positive_quantity_causes(target.get("averageValue"), f"{path}.averageValue"))
    utilization = _int(target.get("averageUtilization"))
    if utilization is not None and utilization < 1:
        causes.append(invalid(f"{path}.averageUtilization", utilization, "must be greater than 0"))
    return causes


def _metric_identifier_causes(metric: Any, path: str) -> list[Cause]:
    name = _str(_dict(metric).get("name"))
    if not name:
        return [required(f"{path}.name", "must specify a metric name")]
    return _each_invalid(f"{path}.name", name, _path_segment_errors(name))


def _resource_source_causes(source: dict, path: str, *, container: bool) -> list[Cause]:
    target = _dict(source.get("target"))
    name = _str(source.get("name"))
    causes = []
    if not name:
        causes.append(required(f"{path}.name", "must specify a resource name"))
    elif container:
        causes.extend(_container_resource_name_causes(name, f"{path}.name"))
    if container:
        causes.extend(
            _required_valid(f"{path}.container", _str(source.get("container")), dns1123_label_errors)
            if source.get("container")
            else [required(f"{path}.container", "must specify a container")]
        )
    causes.extend(_metric_target_causes(target, f"{path}.target"))
    if target.get("averageUtilization") is None and target.get("averageValue") is None:
        causes.append(
            required(f"{path}.target.averageUtilization", "must set either a target raw value or a target utilization")
        )
    if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
        causes.append(
            forbidden(f"{path}.target.averageValue", "may not set both a target raw value and a target utilization")
        )
    return causes


def _custom_source_causes(member: str, source: dict, path: str) -> list[Cause]:
    """Pods, Object and External metrics: a metric name and a target of the kind each allows."""
    target = _dict(source.get("target"))
    causes = []
    if member == "object":
        causes.extend(_cross_version_reference_causes(source.get("describedObject"), f"{path}.describedObject"))
    causes.extend(_metric_identifier_causes(source.get("metric"), f"{path}.metric"))
    causes.extend(_metric_target_causes(target, f"{path}.target"))
    value, average = target.get("value"), target.get("averageValue")
    if member == "pods" and average is None:
        causes.append(required(f"{path}.target.averageValue", "must specify a positive target averageValue"))
    elif member == "object" and value is None and average is None:
        causes.append(required(f"{path}.target.averageValue", "must set either a target value or averageValue"))
    elif member == "external":
        if value is None and average is None:
            causes.append(
                required(f"{path}.target.averageValue", "must set either a target value for metric or a per-pod target")
            )
        if value is not None and average is not None:
            causes.append(
                forbidden(f"{path}.target.value", "may not set both a target value for metric and a per-pod target")
            )
    return causes


def _metric_spec_causes(spec: Any, path: str) -> list[Cause]:
    spec = _dict(spec)
    kind = _str(spec.get("type"))
    causes = [] if kind else [required(f"{path}.type", "must specify a metric source type")]
    if kind not in _METRIC_SOURCE_TYPES:
        causes.append(not_supported(f"{path}.type", kind, _METRIC_SOURCE_TYPES))
    present = [member for member in ("object", "external", "pods", "resource", "containerResource") if member in spec]
    if present:  # only the first member present is looked into, as upstream
        first = present[0]
        source = _dict(spec.get(first))
        if first in ("resource", "containerResource"):
            causes.extend(_resource_source_causes(source, f"{path}.{first}", container=first == "containerResource"))
        else:
            causes.extend(_custom_source_causes(first, source, f"{path}.{first}"))
    expected = _METRIC_SOURCE_FIELDS.get(kind)
    if expected is None:
        causes.append(not_supported(f"{path}.type", kind, _METRIC_SOURCE_TYPES))
    elif expected not in spec:
        causes.append(required(f"{path}.{expected}", "must populate information for the given metric source"))
    if len(present) != 1:
        causes.extend(
            forbidden(f"{path}.{member}", "must populate the given metric source only")
            for member in sorted(present)
            if member != expected
        )
    return causes


def _scaling_rules_causes(rules: Any, path: str) -> list[Cause]:
    if rules is None:
        return []
    rules = _dict(rules)
    causes = []
    window = _int(rules.get("stabilizationWindowSeconds"))
    if window is not None and window < 0:
        causes.append(invalid(f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero"))
    if window is not None and window > _MAX_HPA_STABILIZATION_SECONDS:
        causes.append(
            invalid(
                f"{path}.stabilizationWindowSeconds",
                window,
                f"must be less than or equal to {_MAX_HPA_STABILIZATION_SECONDS}",
            )
        )
    causes.extend(_optional_choice(rules, "selectPolicy", path, ("Disabled", "Max", "Min")))
    policies = _list(rules.get("policies"))
    if not policies:
        causes.append(required(f"{path}.policies", "must specify at least one Policy"))
    for index, policy in enumerate(policies):
        policy, at = _dict(policy), f"{path}.policies[{index}]"
        if policy.get("type") not in ("Pods", "Percent"):
            causes.append(not_supported(f"{at}.type", _str(policy.get("type")), ("Percent", "Pods")))
        value, period = _int(policy.get("value"), 0), _int(policy.get("periodSeconds"), 0)
        if value <= 0:
            causes.append(invalid(f"{at}.value", value, "must be greater than zero"))
        if period <= 0:
            causes.append(invalid(f"{at}.periodSeconds", period, "must be greater than zero"))
        if period > _MAX_HPA_PERIOD_SECONDS:
            causes.append(
                invalid(f"{at}.periodSeconds", period, f"must be less than or equal to {_MAX_HPA_PERIOD_SECONDS}")
            )
    tolerance = rules.get("tolerance")
    if tolerance is not None:
        with contextlib.suppress(QuantityError):
            if quantity_from_json(tolerance).value < 0:
                causes.append(invalid(f"{path}.tolerance", str(tolerance), "must be greater than or equal to zero"))
    return causes


def _validate_horizontal_pod_autoscaler(obj: dict, old: dict | None) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _meta_causes(obj, old)
    # minReplicas 0 needs the alpha HPAScaleToZero gate (off), unless the stored object has it already.
    old_min = _int(_dict(_dict(old).get("spec")).get("minReplicas")) if old else None
    lower = 0 if old_min == 0 else 1
    minimum, maximum = _int(spec.get("minReplicas")), _int(spec.get("maxReplicas"), 0)
    if minimum is not None and minimum < lower:
        causes.append(invalid("spec.minReplicas", minimum, f"must be greater than or equal to {lower}"))
    if maximum < 1:
        causes.append(invalid("spec.maxReplicas", maximum, "must be greater than 0"))
    if minimum is not None and maximum < minimum:
        causes.append(invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`"))
    causes.extend(_cross_version_reference_causes(spec.get("scaleTargetRef"), "spec.scaleTargetRef"))
    metrics = _list(spec.get("metrics"))
    for index, metric in enumerate(metrics):
        causes.extend(_metric_spec_causes(metric, f"spec.metrics[{index}]"))
    if minimum == 0 and not any(_dict(metric).get("type") in ("Object", "External") for metric in metrics):
        detail = "must specify at least one Object or External metric to support scaling to zero replicas"
        causes.append(forbidden("spec.metrics", detail))
    behavior = spec.get("behavior")
    if behavior is not None:
        behavior = _dict(behavior)
        causes.extend(_scaling_rules_causes(behavior.get("scaleUp"), "spec.behavior.scaleUp"))
        causes.extend(_scaling_rules_causes(behavior.get("scaleDown"), "spec.behavior.scaleDown"))
    status = _dict(obj.get("status"))
    causes.extend(_nonnegative(status.get("currentReplicas"), "status.currentReplicas"))
    causes.extend(_nonnegative(status.get("desiredReplicas"), "status.desiredReplicas"))
    return causes


def _validate_generic(namespaced: bool) -> Callable[[dict, dict | None], list[Cause]]:
    def check(obj: dict, old: dict | None) -> list[Cause]:
        return _meta_causes(obj, old, namespaced=namespaced)

    return check


_VALIDATORS: dict[str, Callable[[dict, dict | None], list[Cause]]] = {
    "Pod": _validate_pod,
    "Deployment": _validate_deployment,
    "ReplicaSet": _validate_replica_set,
    "ReplicationController": _validate_replication_controller,
    "StatefulSet": _validate_stateful_set,
    "DaemonSet": _validate_daemon_set,
    "Job": _validate_job,
    "CronJob": _validate_cron_job,
    "Service": _validate_service,
    "NetworkPolicy": _validate_network_policy,
    "ConfigMap": _validate_config_map,
    "Secret": _validate_secret,
    "PersistentVolumeClaim": _validate_pvc,
    "PersistentVolume": _validate_pv,
    "Namespace": _validate_namespace,
    "Node": _validate_node,
    "HorizontalPodAutoscaler": _validate_horizontal_pod_autoscaler,
}


def validate(obj: dict, resource: Resource, *, old: dict | None = None) -> list[Cause]:
    """The 422 causes upstream would report for creating `obj` (or updating `old` to `obj`).

    Both are taken as the store holds them: defaulted already (`defaults.apply_defaults`, and a
    new Job's generated selector), as the apiserver validates after defaulting. Nothing here
    fills anything in.
    """
    validator = _VALIDATORS.get(resource.kind) or _validate_generic(resource.namespaced)
    causes = validator(obj if isinstance(obj, dict) else {}, old if isinstance(old, dict) else None)
    named = {cause.field for cause in causes}
    return causes + [cause for cause in _nul_characters(obj) if cause.field not in named]


NUL_DETAIL = "must not contain the NUL character (\\u0000): the store cannot keep it"


def _nul_characters(value: Any, path: str = "") -> list[Cause]:
    """Text holding U+0000, wherever it is. etcd would keep it, PostgreSQL's jsonb cannot, so it is
    refused here with the field it is in, instead of failing at the write."""
    found: list[Cause] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(invalid(path, value, NUL_DETAIL))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                found.append(invalid(path or "<root>", key, NUL_DETAIL))
            found += _nul_characters(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nul_characters(item, f"{path}[{index}]")
    return found
