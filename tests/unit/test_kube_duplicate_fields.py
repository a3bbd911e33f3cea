"""Keys a JSON body sets twice, judged by `fieldValidation` as upstream's strict decoder judges
them: Strict refuses them (with the unknown fields, in document order), Warn says so in a
Warning header and keeps what Go's decoder keeps, Ignore keeps it silently."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.kube.bodies import load_json
from clusters.kube.strictness import patch_strict_errors, strict_errors
from clusters.models import AccessToken, Change
from clusters.sandboxes import sandbox_create

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


# --- reading the body ---------------------------------------------------------------------------


def test_a_body_without_keys_set_twice_is_read_as_it_is():
    body = load_json(b'{"a": {"b": [1, {"c": 2}]}}')
    assert (body.value, body.duplicates) == ({"a": {"b": [1, {"c": 2}]}}, ())


def test_a_key_set_twice_is_found_with_its_path():
    body = load_json(b'{"spec": {"replicas": 1, "replicas": 2}, "list": [{"n": 1, "n": 2}]}')
    assert [path for _, path in body.duplicates] == [("spec", "replicas"), ("list", 0, "n")]
    assert body.value == {"spec": {"replicas": 2}, "list": [{"n": 2}]}


def test_the_second_value_decodes_into_what_the_first_left_as_in_go():
    body = load_json(
        b'{"metadata": {"name": "web", "labels": {"a": "1"}},'
        b' "metadata": {"labels": {"b": "2"}},'
        b' "containers": [{"name": "a", "image": "nginx"}, {"name": "b"}],'
        b' "containers": [{"image": "busybox"}]}'
    )
    assert body.value == {
        "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}},
        "containers": [{"name": "a", "image": "busybox"}],
    }


def test_strict_errors_come_in_document_order_with_the_unknown_fields():
    body = load_json(b'{"data": {"a": "1", "a": "2"}, "metadata": {"lables": {}}, "kind": "x", "kind": "y"}')
    assert strict_errors(body, [("metadata", "lables")]) == [
        'duplicate field "data.a"',
        'unknown field "metadata.lables"',
        'duplicate field "kind"',
    ]


def test_a_key_set_twice_in_an_unknown_field_is_only_the_unknown_field():
    body = load_json(b'{"spek": {"a": 1, "a": 2}, "spek": {}}')
    assert strict_errors(body, [("spek",)]) == ['unknown field "spek"']


def test_at_most_100_strict_errors_are_kept():
    members = ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(150))
    assert len(strict_errors(load_json(f"{{{members}}}".encode()))) == 100


def test_a_json_patch_operation_may_have_only_op_path_from_and_value():
    raw = b'[{"op": "add", "path": "/a", "value": {"x": 1, "x": 2}, "extra": true}, {"op": "remove", "op": "x"}]'
    assert patch_strict_errors(raw, "application/json-patch+json") == [
        'json patch duplicate field "[0].value.x"',
        'json patch unknown field "[0].extra"',
        'json patch duplicate field "[1].op"',
    ]


def test_a_merge_patch_has_no_unknown_fields_only_keys_set_twice():
    raw = b'{"data": {"a": "1", "a": "2"}, "whatever": 1}'
    assert patch_strict_errors(raw, "application/merge-patch+json") == ['duplicate field "data.a"']
    assert patch_strict_errors(b"not json", "application/merge-patch+json") == []


# --- through the API ----------------------------------------------------------------------------


@pytest.fixture
def base(db):
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)
    return f"/k8s/{sandbox.uid.hex}/t/{key}"


def send(base, method, path, raw: str, query="", content_type="application/json"):
    return getattr(Client(), method)(f"{base}{path}{query}", data=raw.encode(), content_type=content_type)


CONFIGMAP_WITH_A_KEY_TWICE = (
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "lables": {"x": "y"}},'
    ' "data": {"color": "blue", "color": "green"}}'
)


def test_strict_refuses_a_key_set_twice_listing_the_unknown_fields_too(base):
    before = Change.objects.count()
    response = send(base, "post", CONFIGMAPS, CONFIGMAP_WITH_A_KEY_TWICE, "?fieldValidation=Strict")
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"
    assert response.json()["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "metadata.lables", duplicate field "data.color"'
    )
    assert Change.objects.count() == before


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", ""], ids=["warn", "absent-means-warn"])
def test_warn_keeps_the_second_value_and_says_so(base, query):
    response = send(base, "post", CONFIGMAPS, CONFIGMAP_WITH_A_KEY_TWICE, query)
    assert response.status_code == 201
    assert response.headers["Warning"] == (
        '299 - "unknown field \\"metadata.lables\\"", 299 - "duplicate field \\"data.color\\""'
    )
    assert response.json()["data"] == {"color": "green"}


def test_ignore_keeps_the_second_value_silently(base):
    response = send(base, "post", CONFIGMAPS, CONFIGMAP_WITH_A_KEY_TWICE, "?fieldValidation=Ignore")
    assert response.status_code == 201
    assert "Warning" not in response.headers
    assert response.json()["data"] == {"color": "green"}


def test_an_object_set_twice_is_decoded_into_as_go_does(base):
    raw = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},'
        ' "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},'
        ' "spec": {"containers": [{"image": "nginx:1.28"}]}}'
    )
    response = send(base, "post", PODS, raw, "?fieldValidation=Warn")
    assert response.status_code == 201, response.json()
    assert response.headers["Warning"] == '299 - "duplicate field \\"spec\\""'
    container = response.json()["spec"]["containers"][0]
    assert (container["name"], container["image"]) == ("app", "nginx:1.28")


def test_a_replace_is_judged_as_a_create(base):
    created = send(base, "post", CONFIGMAPS, '{"metadata": {"name": "c"}, "data": {"a": "1"}}').json()
    version = created["metadata"]["resourceVersion"]
    raw = f'{{"metadata": {{"name": "c", "resourceVersion": "{version}"}}, "data": {{"a": "2", "a": "3"}}}}'
    response = send(base, "put", f"{CONFIGMAPS}/c", raw, "?fieldValidation=Strict")
    assert response.status_code == 400
    assert response.json()["message"].endswith('strict decoding error: duplicate field "data.a"')


def test_a_wrong_type_wins_over_a_key_set_twice(base):
    raw = '{"metadata": {"name": "c"}, "data": {"a": 1}, "data": {"a": 1}}'
    response = send(base, "post", CONFIGMAPS, raw, "?fieldValidation=Strict")
    assert response.status_code == 400
    assert "json: cannot unmarshal number into Go" in response.json()["message"]


def test_strict_refuses_a_merge_patch_setting_a_key_twice_as_invalid(base):
    send(base, "post", CONFIGMAPS, '{"metadata": {"name": "c"}, "data": {"a": "1"}}')
    response = send(
        base,
        "patch",
        f"{CONFIGMAPS}/c",
        '{"data": {"a": "2", "a": "3"}, "spec": {}}',
        "?fieldValidation=Strict",
        "application/merge-patch+json",
    )
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert status["message"].endswith(': strict decoding error: duplicate field "data.a", unknown field "spec"')
    assert status["details"]["causes"][0]["field"] == "patch"
    assert json.loads(send(base, "get", f"{CONFIGMAPS}/c", "").content)["data"] == {"a": "1"}


def test_strict_shows_a_strategic_merge_patch_as_go_prints_it(base):
    send(base, "post", CONFIGMAPS, '{"metadata": {"name": "c"}, "data": {"a": "1"}}')
    response = send(
        base,
        "patch",
        f"{CONFIGMAPS}/c",
        '{"data": {"b": "2", "b": "3"}}',
        "?fieldValidation=Strict",
        "application/strategic-merge-patch+json",
    )
    assert response.status_code == 422
    assert response.json()["message"] == (
        ' "" is invalid: patch: Invalid value: "map[data:map[b:3]]": strict decoding error: duplicate field "data.b"'
    )


def test_warn_applies_a_patch_setting_a_key_twice_with_the_last_value(base):
    send(base, "post", CONFIGMAPS, '{"metadata": {"name": "c"}, "data": {"a": "1"}}')
    response = send(
        base, "patch", f"{CONFIGMAPS}/c", '{"data": {"a": "2", "a": "3"}}', "", "application/merge-patch+json"
    )
    assert response.status_code == 200
    assert response.headers["Warning"] == '299 - "duplicate field \\"data.a\\""'
    assert response.json()["data"] == {"a": "3"}


def test_strict_refuses_an_unknown_field_in_a_json_patch_operation(base):
    send(base, "post", CONFIGMAPS, '{"metadata": {"name": "c"}, "data": {"a": "1"}}')
    response = send(
        base,
        "patch",
        f"{CONFIGMAPS}/c",
        '[{"op": "replace", "path": "/data/a", "value": "2", "valeu": "3"}]',
        "?fieldValidation=Strict",
        "application/json-patch+json",
    )
    assert response.status_code == 422
    assert response.json()["message"].endswith('strict decoding error: json patch unknown field "[0].valeu"')
