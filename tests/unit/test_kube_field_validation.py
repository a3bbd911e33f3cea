"""The `fieldValidation` query parameter: what a write does with unknown fields, as upstream.

Strict rejects them (400), Warn — also when the parameter is absent — drops them and says so in
a Warning header, Ignore drops them silently; wrong JSON types fail whatever it says.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.kube.views import warning_header
from clusters.models import AccessToken, Change
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db

PODS = "/api/v1/namespaces/default/pods"
TYPO_WARNING = '299 - "unknown field \\"spec.containers[0].imagee\\""'


def pod_with_typo(name="web"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "imagee": "nginx:1.28"}]},
    }


@pytest.fixture
def base():
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)
    return f"/k8s/{sandbox.uid.hex}/t/{key}"


def create(base, body: dict, query=""):
    return Client().post(f"{base}{PODS}{query}", data=json.dumps(body).encode(), content_type="application/json")


def stored_container(base, name="web"):
    return Client().get(f"{base}{PODS}/{name}").json()["spec"]["containers"][0]


def test_strict_rejects_an_unknown_field_and_stores_nothing(base):
    before = Change.objects.count()
    response = create(base, pod_with_typo(), "?fieldValidation=Strict")
    assert response.status_code == 400
    assert response.json()["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.containers[0].imagee"'
    )
    assert "Warning" not in response.headers
    assert Change.objects.count() == before


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", ""], ids=["warn", "absent-means-warn"])
def test_warn_drops_the_unknown_field_and_says_so_in_a_warning_header(base, query):
    response = create(base, pod_with_typo(), query)
    assert response.status_code == 201
    assert response.headers["Warning"] == TYPO_WARNING
    assert "imagee" not in response.json()["spec"]["containers"][0]
    container = stored_container(base)
    assert "imagee" not in container
    assert (container["name"], container["image"]) == ("nginx", "nginx:1.27")


def test_ignore_drops_the_unknown_field_silently(base):
    response = create(base, pod_with_typo(), "?fieldValidation=Ignore")
    assert response.status_code == 201
    assert "Warning" not in response.headers
    assert "imagee" not in stored_container(base)


def test_every_unknown_field_gets_its_own_warning(base):
    pod = pod_with_typo()
    pod["metadata"]["lables"] = {"app": "web"}
    response = create(base, pod, "?fieldValidation=Warn")
    assert response.status_code == 201
    assert response.headers["Warning"] == '299 - "unknown field \\"metadata.lables\\"", ' + TYPO_WARNING


@pytest.mark.parametrize(
    ("method", "options"), [("post", "CreateOptions"), ("put", "UpdateOptions"), ("patch", "PatchOptions")]
)
def test_another_value_fails_validation_of_the_options_as_upstream(base, method, options):
    path = PODS if method == "post" else f"{PODS}/web"
    response = getattr(Client(), method)(
        f"{base}{path}?fieldValidation=strict", data=b"{}", content_type="application/merge-patch+json"
    )
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        f'{options}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": '
        'supported values: "", "Ignore", "Strict", "Warn"'
    )
    assert status["details"] == {
        "group": "meta.k8s.io",
        "kind": options,
        "causes": [
            {
                "reason": "FieldValueNotSupported",
                "message": 'Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
                "field": "fieldValidation",
            }
        ],
    }


@pytest.mark.parametrize("directive", ["Ignore", "Warn", "Strict"])
def test_a_wrong_json_type_is_an_error_whatever_the_directive(base, directive):
    pod = pod_with_typo()
    pod["spec"]["containers"][0]["stdin"] = "yes"
    response = create(base, pod, f"?fieldValidation={directive}")
    assert response.status_code == 400
    assert response.json()["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
        "Container.spec.containers.stdin of type bool"
    )


def test_a_patch_under_warn_drops_what_it_adds_and_warns(base):
    pod = pod_with_typo()
    del pod["spec"]["containers"][0]["imagee"]
    assert create(base, pod, "?fieldValidation=Strict").status_code == 201
    patch = {"metadata": {"labels": {"tier": "front"}}, "spec": {"containerz": []}}
    response = Client().patch(
        f"{base}{PODS}/web?fieldValidation=Warn",
        data=json.dumps(patch).encode(),
        content_type="application/merge-patch+json",
    )
    assert response.status_code == 200
    assert response.headers["Warning"] == '299 - "unknown field \\"spec.containerz\\""'
    stored = Client().get(f"{base}{PODS}/web").json()
    assert "containerz" not in stored["spec"]
    assert stored["metadata"]["labels"] == {"app": "web", "tier": "front"}


def test_a_put_under_strict_is_rejected_and_under_ignore_dropped(base):
    pod = pod_with_typo()
    del pod["spec"]["containers"][0]["imagee"]
    stored = create(base, pod).json()
    stored["spec"]["activeDeadlineSecond"] = 30
    url = f"{base}{PODS}/web"
    strict = Client().put(url + "?fieldValidation=Strict", data=json.dumps(stored), content_type="application/json")
    assert strict.status_code == 400
    assert 'unknown field "spec.activeDeadlineSecond"' in strict.json()["message"]
    ignored = Client().put(url + "?fieldValidation=Ignore", data=json.dumps(stored), content_type="application/json")
    assert ignored.status_code == 200
    assert "Warning" not in ignored.headers
    assert "activeDeadlineSecond" not in Client().get(url).json()["spec"]


def test_the_warning_header_quotes_as_upstream_and_names_each_text_once():
    assert warning_header(['a "b" \\c', "d", "d"]) == '299 - "a \\"b\\" \\\\c", 299 - "d"'
