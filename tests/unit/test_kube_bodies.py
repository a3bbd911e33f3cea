import json
import re
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.kube.bodies import MAX_BODY_BYTES, BodyError, load_yaml_documents, parse_body
from clusters.models import AccessToken
from clusters.sandboxes import sandbox_create


def test_a_body_without_content_type_is_read_as_json():
    assert parse_body(b'{"kind": "Pod"}', None) == {"kind": "Pod"}


def test_yaml_bodies_are_read_too():
    assert parse_body(b"kind: Pod\nmetadata: {name: a}\n", "application/yaml") == {
        "kind": "Pod",
        "metadata": {"name": "a"},
    }


def test_malformed_json_names_the_line_and_column():
    with pytest.raises(BodyError, match="line 2, column 7"):
        parse_body(b'{"kind": "Pod",\n "x": }', "application/json")


def test_malformed_yaml_names_the_line():
    with pytest.raises(BodyError, match="at line 4, column 1: expected ',' or ']'"):
        load_yaml_documents("a: 1\nb: [1,\nc: 2\n")


def test_an_oversized_body_is_too_large_not_bad():
    with pytest.raises(BodyError) as caught:
        parse_body(b" " * (MAX_BODY_BYTES + 1), "application/json")
    assert caught.value.too_large


def test_a_yaml_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    started = time.monotonic()
    with pytest.raises(BodyError, match="too many nodes"):
        load_yaml_documents("\n".join(lines))
    assert time.monotonic() - started < 1


def test_deeply_nested_json_is_refused():
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(BodyError, match="nested more than"):
        parse_body(json.dumps({"a": json.loads(deep)}).encode(), "application/json")


def test_a_list_is_not_an_object():
    with pytest.raises(BodyError, match="must be a JSON or YAML object"):
        parse_body(b"[1, 2]", "application/json")


def test_empty_documents_in_a_stream_are_skipped():
    assert load_yaml_documents("---\na: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_a_key_set_twice_in_one_mapping_names_both_lines():
    text = "kind: Pod\nspec:\n  containers:\n  - name: c\n    image: nginx\n    image: httpd\n"
    with pytest.raises(BodyError, match='at line 6, column 5: mapping key "image" already defined at line 5'):
        load_yaml_documents(text)


def test_merged_keys_may_be_overridden_and_documents_may_repeat_keys():
    text = "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  a: 3\n---\nbase: 4\n"
    assert load_yaml_documents(text) == [{"base": {"a": 1, "b": 2}, "x": {"a": 3, "b": 2}}, {"base": 4}]


# Scalars as kubectl 1.37 reads them (sigs.k8s.io/yaml over go-yaml v2), each checked against
# `kubectl label --local -f … -o json`, which prints what kubectl's reader made of a manifest.
KUBECTL_SCALARS = [
    # No timestamps and no base 60: they stay the text they are.
    ("2024-01-01", "2024-01-01"),
    ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
    ("1:20", "1:20"),
    ("190:20:30", "190:20:30"),
    ("!!timestamp 2024-01-01", "2024-01-01"),
    # YAML 1.1 booleans, in these spellings only.
    ("yes", True),
    ("Yes", True),
    ("YES", True),
    ("y", True),
    ("Y", True),
    ("on", True),
    ("On", True),
    ("True", True),
    ("no", False),
    ("n", False),
    ("NO", False),
    ("Off", False),
    ("FALSE", False),
    ("tRue", "tRue"),
    ("yEs", "yEs"),
    # Nulls.
    ("~", None),
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("", None),
    ("nULL", "nULL"),
    # Integers: Go's base prefixes, a leading 0 for octal, underscores dropped anywhere.
    ("0x1F", 31),
    ("0X1F", 31),
    ("-0x1F", -31),
    ("0x_1F", 31),
    ("0o17", 15),
    ("0O17", 15),
    ("017", 15),
    ("0777", 511),
    ("0b101", 5),
    ("+0b11", 3),
    ("1_000", 1000),
    ("1__2", 12),
    ("12_", 12),
    ("+12", 12),
    ("-0", 0),
    ("9223372036854775807", 9223372036854775807),
    ("-9223372036854775808", -9223372036854775808),
    # Floats; a whole one is the integer JSON writes for it.
    ("1.5", 1.5),
    (".5", 0.5),
    ("+.5", 0.5),
    ("1.0", 1),
    ("1.", 1),
    ("0.", 0),
    ("08", 8),
    ("-08", -8),
    ("1e3", 1000),
    ("1e+06", 1000000),
    ("-.5e3", -500),
    ("1_000.5", 1000.5),
    ("5e-1_0", 5e-10),
    ("1e-7", 1e-7),
    ("12345678.9e10", 123456789000000000),
    ("1e21", 1e21),
    ("9223372036854775808", 9.223372036854775808e18),  # past int64: the float a JSON decoder reads
    # Text that only looks like a number.
    ("0x1p3", "0x1p3"),
    ("0b102", "0b102"),
    ("0o8", "0o8"),
    ("0x", "0x"),
    ("_12", "_12"),
    ("._5", "._5"),
    ("1e", "1e"),
    ("1e400", "1e400"),
    ("0x10000000000000000", "0x10000000000000000"),
    ("1,000", "1,000"),
    ("0.1.2", "0.1.2"),
    (".Nan", ".Nan"),
    ("Infinity", "Infinity"),
    ("=", "="),
    ("<<", "<<"),
    # Quoted or tagged as text stays text; other tags are what go-yaml makes of them.
    ('"yes"', "yes"),
    ("'on'", "on"),
    ("!!str 12", "12"),
    ("! 12", "12"),
    ("!!str ~", "~"),
    ('!!int "12"', 12),
    ("!!int 0x1F", 31),
    ("!!float 1", 1),
    ('!!float "1.5"', 1.5),
    ("!!bool yes", True),
    ('!!null ""', None),
    ("!!binary aGVsbG8=", "hello"),
    ("!!binary /w==", "\ufffd"),
    ("!foo bar", "bar"),
    ("!foo {x: 1}", {"x": 1}),
    ("!!set {x, y}", {"x": None, "true": None}),
    ("!!omap [{x: 1}]", [{"x": 1}]),
    ("[yes, 1:20, 2024-01-01]", [True, "1:20", "2024-01-01"]),
]


@pytest.mark.parametrize(("scalar", "expected"), KUBECTL_SCALARS, ids=[s for s, _ in KUBECTL_SCALARS])
def test_a_value_is_read_as_kubectl_reads_it(scalar, expected):
    value = load_yaml_documents(f"a: {scalar}\n")[0]["a"]
    assert value == expected
    assert type(value) is type(expected)


KUBECTL_KEYS = [
    ("1", "1"),
    ("1.5", "1.5"),
    ("2.50", "2.5"),
    ("1.0", "1"),
    ("1e3", "1000"),
    ("1e6", "1e+06"),
    ("0x1F", "31"),
    ("true", "true"),
    ("y", "true"),
    ("on", "true"),
    ("n", "false"),
    (".inf", ".inf"),
    ("2024-01-01", "2024-01-01"),
]


@pytest.mark.parametrize(("key", "expected"), KUBECTL_KEYS, ids=[k for k, _ in KUBECTL_KEYS])
def test_a_key_becomes_the_json_key_kubectl_makes_of_it(key, expected):
    assert load_yaml_documents(f"{key}: x\n") == [{expected: "x"}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: .inf", "error converting YAML to JSON at a: json: unsupported value: +Inf"),
        ("a: -.Inf", "error converting YAML to JSON at a: json: unsupported value: -Inf"),
        ("a: [1, .nan]", "error converting YAML to JSON at a[1]: json: unsupported value: NaN"),
        ("a: !!float .inf", "error converting YAML to JSON at a: json: unsupported value: +Inf"),
        ("a: !!int abc", "line 1, column 4: cannot decode !!str `abc` as a !!int"),
        ("a: !!float abc", "line 1, column 4: cannot decode !!str `abc` as a !!float"),
        ("a: !!int 1.5", "line 1, column 4: cannot decode !!float `1.5` as a !!int"),
        ("a: !!bool 1", "line 1, column 4: cannot decode !!int `1` as a !!bool"),
        ("a: !!null x", "line 1, column 4: cannot decode !!str `x` as a !!null"),
        ("a: !!int", "line 1, column 4: cannot decode !!null `` as a !!int"),
        ("a: !!timestamp 1:20", "line 1, column 4: cannot decode !!str `1:20` as a !!timestamp"),
        ("b: 1\n~: x", "line 2, column 1: a mapping key cannot be null in JSON"),
    ],
)
def test_what_kubectl_cannot_turn_into_json_is_refused_naming_where(text, message):
    with pytest.raises(BodyError, match=re.escape(message)):
        load_yaml_documents(text)


def test_a_configmap_of_dates_and_colon_numbers_is_a_configmap_of_strings():
    body = parse_body(b"kind: ConfigMap\ndata: {d: 2024-01-01, t: 1:20}\n", "application/yaml")
    assert body["data"] == {"d": "2024-01-01", "t": "1:20"}


@pytest.mark.django_db
def test_the_api_accepts_a_yaml_configmap_of_dates_and_colon_numbers():
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)
    configmaps = f"/k8s/{sandbox.uid.hex}/t/{key}/api/v1/namespaces/default/configmaps"
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dates}\ndata: {d: 2024-01-01, t: 1:20}\n"
    response = Client().post(configmaps, data=manifest, content_type="application/yaml")
    assert response.status_code == 201, response.content
    assert Client().get(f"{configmaps}/dates").json()["data"] == {"d": "2024-01-01", "t": "1:20"}
