"""Bad input at the HTTP level gets a Status that says what is wrong, and stores nothing."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.models import AccessToken, Change
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def base():
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)
    return f"/k8s/{sandbox.uid.hex}/t/{key}"


def post(base, path, body: bytes, content_type="application/json"):
    return Client().post(base + path, data=body, content_type=content_type)


def test_malformed_yaml_is_a_bad_request_naming_the_line(base):
    before = Change.objects.count()
    response = post(base, "/api/v1/namespaces/default/pods", b"kind: Pod\nmetadata:\n  name: [\n", "application/yaml")
    assert response.status_code == 400
    status = response.json()
    assert (status["kind"], status["reason"]) == ("Status", "BadRequest")
    assert "line 4" in status["message"]
    assert Change.objects.count() == before


def test_a_body_over_3_mib_is_too_large(base):
    response = post(base, "/api/v1/namespaces/default/configmaps", b"{" + b" " * (3 * 1024 * 1024) + b"}")
    assert response.status_code == 413
    assert response.json()["reason"] == "RequestEntityTooLarge"


def test_a_yaml_alias_bomb_is_refused(base):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    response = post(base, "/api/v1/namespaces/default/configmaps", "\n".join(lines).encode(), "application/yaml")
    assert response.status_code == 400
    assert "too many nodes" in response.json()["message"]


def test_an_unknown_resource_type_is_not_found(base):
    response = Client().get(base + "/api/v1/namespaces/default/widgets")
    assert response.status_code == 404
    assert response.json()["message"] == "the server could not find the requested resource"


def test_an_invalid_object_gets_422_with_causes_naming_each_field(base):
    body = b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"a"}]}}'
    response = post(base, "/api/v1/namespaces/default/pods", body)
    assert response.status_code == 422
    fields = [cause["field"] for cause in response.json()["details"]["causes"]]
    assert fields == ["metadata.name", "spec.containers[0].image"]


def test_server_side_apply_is_refused_as_an_unsupported_media_type(base):
    post(
        base, "/api/v1/namespaces/default/configmaps", b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}'
    )
    response = Client().patch(
        base + "/api/v1/namespaces/default/configmaps/c", data=b"{}", content_type="application/apply-patch+yaml"
    )
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"


def test_a_wrong_kind_for_the_endpoint_is_a_bad_request(base):
    response = post(
        base, "/api/v1/namespaces/default/configmaps", b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}'
    )
    assert response.status_code == 400
    assert "does not match the expected kind (ConfigMap)" in response.json()["message"]


def test_a_missing_token_is_unauthorized_and_a_wrong_sandbox_not_found(base):
    anonymous = base.split("/t/")[0]
    assert Client().get(anonymous + "/api/v1/pods").status_code == 401
    token = base.split("/t/")[1]
    response = Client().get(f"/k8s/{'0' * 32}/t/{token}/api/v1/pods")
    assert response.status_code == 404
