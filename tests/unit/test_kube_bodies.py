import json
import time

import pytest

from clusters.kube.bodies import MAX_BODY_BYTES, BodyError, load_yaml_documents, parse_body


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
