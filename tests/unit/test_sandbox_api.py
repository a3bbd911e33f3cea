import json

import pytest
import yaml
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from clusters import store
from clusters.manifests import manifest_apply
from clusters.models import Sandbox, StoredObject
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27"}]
"""


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="pw")


@pytest.fixture
def client(alice):
    api = APIClient()
    api.force_authenticate(alice)
    return api


def create(client, name="default"):
    response = client.post("/api/sandboxes/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_learner_creates_lists_and_deletes_a_sandbox(client):
    created = create(client)
    assert created["name"] == "default"
    assert created["api_prefix"] == f"/k8s/{created['uid'].replace('-', '')}/"
    assert [s["name"] for s in client.get("/api/sandboxes/").json()] == ["default"]
    assert client.delete("/api/sandboxes/default/").status_code == 204
    assert client.get("/api/sandboxes/").json() == []


def test_a_second_sandbox_of_the_same_name_is_refused_with_the_field(client):
    create(client)
    response = client.post("/api/sandboxes/", {"name": "default"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ['you already have a sandbox named "default"']}


def test_the_sandboxes_of_others_are_out_of_sight(client):
    bob = User.objects.create_user("bob")
    Sandbox.objects.create(owner=bob, name="default")
    assert client.get("/api/sandboxes/").json() == []
    assert client.get("/api/sandboxes/default/").status_code == 404


def test_anonymous_callers_are_refused():
    assert APIClient().get("/api/sandboxes/").status_code == 403


def test_the_kubeconfig_download_points_at_the_sandbox_api(client):
    created = create(client)
    response = client.get("/api/sandboxes/default/kubeconfig/")
    assert response["Content-Type"] == "application/yaml"
    config = yaml.safe_load(response.content)
    server = config["clusters"][0]["cluster"]["server"]
    assert server.startswith(f"http://testserver/k8s/{created['uid'].replace('-', '')}/t/kt_")


def test_apply_reports_each_object_and_then_unchanged_and_configured(client):
    create(client)
    first = client.post("/api/sandboxes/default/apply/", {"manifest": MANIFEST}, format="json")
    assert first.status_code == 200, first.content
    assert [(r["kind"], r["result"]) for r in first.json()["results"]] == [
        ("Namespace", "created"),
        ("ConfigMap", "created"),
        ("Deployment", "created"),
    ]
    again = client.post("/api/sandboxes/default/apply/", {"manifest": MANIFEST}, format="json").json()
    assert [r["result"] for r in again["results"]] == ["unchanged"] * 3
    changed = MANIFEST.replace("color: blue", "color: green")
    results = client.post("/api/sandboxes/default/apply/", {"manifest": changed}, format="json").json()["results"]
    assert [r["result"] for r in results] == ["unchanged", "configured", "unchanged"]


def stored_body(kind: str, name: str, namespace: str = "shop") -> dict:
    return StoredObject.objects.get(kind=kind, name=name, namespace=namespace).body


def merge_patch(api_version: str, kind: str, name: str, patch: dict) -> None:
    """A write by someone else, as `kubectl scale` or `kubectl label` sends it."""
    store.object_patch(
        sandbox=Sandbox.objects.get(name="default"),
        resource=resource_for_kind(api_version, kind),
        namespace="shop",
        name=name,
        patch=json.dumps(patch).encode(),
        content_type="application/merge-patch+json",
    )


def test_apply_removes_what_the_manifest_dropped_and_keeps_what_others_set(client):
    create(client)
    two_keys = MANIFEST.replace("data: {color: blue}", "data: {color: blue, size: L}")
    client.post("/api/sandboxes/default/apply/", {"manifest": two_keys}, format="json")
    merge_patch("v1", "ConfigMap", "settings", {"metadata": {"labels": {"team": "blue"}}})
    without_replicas = MANIFEST.replace("  replicas: 2\n", "")
    results = client.post("/api/sandboxes/default/apply/", {"manifest": without_replicas}, format="json").json()
    assert [r["result"] for r in results["results"]] == ["unchanged", "configured", "configured"]
    settings = stored_body("ConfigMap", "settings")
    assert settings["data"] == {"color": "blue"}  # the key the manifest dropped is gone
    assert settings["metadata"]["labels"] == {"team": "blue"}  # the label someone else set stays
    # The manifest set replicas: 2 and dropped it, so the field goes and its default (1) comes
    # back, as with kubectl apply.
    assert stored_body("Deployment", "web")["spec"]["replicas"] == 1


def test_apply_keeps_replicas_scaled_by_others_when_the_manifest_never_set_them(client):
    create(client)
    without_replicas = MANIFEST.replace("  replicas: 2\n", "")
    client.post("/api/sandboxes/default/apply/", {"manifest": without_replicas}, format="json")
    merge_patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 4}})
    changed = without_replicas.replace("nginx:1.27", "nginx:1.28")
    results = client.post("/api/sandboxes/default/apply/", {"manifest": changed}, format="json").json()["results"]
    assert [r["result"] for r in results] == ["unchanged", "unchanged", "configured"]
    web = stored_body("Deployment", "web")
    assert web["spec"]["replicas"] == 4
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_apply_over_an_object_created_without_the_annotation_warns_and_removes_nothing(alice):
    sandbox = sandbox_create(owner=alice)
    configmaps = resource_for_kind("v1", "ConfigMap")
    store.object_create(
        sandbox=sandbox,
        resource=configmaps,
        body={"metadata": {"name": "settings"}, "data": {"color": "red", "size": "L"}},
        namespace="default",
    )
    report = manifest_apply(sandbox=sandbox, text="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n")
    assert [r.result for r in report.results] == ["configured"]
    assert report.results[0].warnings == [
        "resource configmaps/settings is missing the kubectl.kubernetes.io/last-applied-configuration annotation "
        "which is required by kubectl apply. kubectl apply should only be used on resources created "
        "declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be "
        "patched automatically."
    ]
    body = store.object_get(sandbox=sandbox, resource=configmaps, namespace="default", name="settings")
    assert body["data"] == {"color": "red", "size": "L"}
    assert json.loads(body["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"annotations": {}, "name": "settings", "namespace": "default"},
    }


def test_apply_reads_dates_and_colon_numbers_as_strings_as_kubectl_does(client):
    create(client)
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dates}\ndata: {d: 2024-01-01, t: 1:20}\n"
    response = client.post("/api/sandboxes/default/apply/", {"manifest": manifest}, format="json")
    assert response.status_code == 200, response.content
    assert stored_body("ConfigMap", "dates", "default")["data"] == {"d": "2024-01-01", "t": "1:20"}


def test_a_manifest_with_one_bad_document_stores_nothing_and_says_which(client):
    create(client)
    broken = MANIFEST.replace('image: "nginx:1.27"', 'imagee: "nginx:1.27"')
    response = client.post("/api/sandboxes/default/apply/", {"manifest": broken}, format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["stored"] is False
    assert [r["result"] for r in body["results"]] == ["not applied", "not applied", "error"]
    assert 'unknown field "spec.template.spec.containers[0].imagee"' in body["results"][2]["error"]["message"]
    assert not StoredObject.objects.filter(kind="ConfigMap").exists()
    assert not StoredObject.objects.filter(kind="Namespace", name="shop").exists()


def test_unreadable_yaml_is_reported_with_its_line(client):
    create(client)
    response = client.post("/api/sandboxes/default/apply/", {"manifest": "kind: Pod\nmetadata: [\n"}, format="json")
    assert response.status_code == 422
    assert "line 3" in response.json()["error"]


def test_a_key_set_twice_is_refused_as_kubectl_refuses_it_and_nothing_is_stored(client):
    create(client)
    twice = "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: settings\ndata:\n  a: one\n  a: two\n"
    response = client.post("/api/sandboxes/default/apply/", {"manifest": twice}, format="json")
    assert response.status_code == 422
    assert 'line 7, column 3: mapping key "a" already defined at line 6' in response.json()["error"]
    assert not StoredObject.objects.filter(kind="ConfigMap", name="settings").exists()


def test_reset_brings_back_a_fresh_cluster(client):
    create(client)
    client.post("/api/sandboxes/default/apply/", {"manifest": MANIFEST}, format="json")
    assert client.post("/api/sandboxes/default/reset/").status_code == 200
    assert not StoredObject.objects.filter(kind="Deployment").exists()
    assert StoredObject.objects.filter(kind="Namespace", name="default").exists()


def test_the_api_publishes_an_openapi_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/sandboxes/{name}/apply/" in schema["paths"]
