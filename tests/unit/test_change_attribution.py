"""Every change names who wrote it and why, so the sandbox timeline can tell the story of an apply."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from clusters import store
from clusters.controllers.manager import controllers_reconcile
from clusters.kube.views import client_actor
from clusters.models import Change
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
REPLICASETS = resource_for_kind("apps/v1", "ReplicaSet")
DEPLOYMENTS = resource_for_kind("apps/v1", "Deployment")


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"))


def replica_set(replicas=2):
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }


def test_a_write_inside_writing_as_records_its_actor_and_reason(sandbox):
    with store.writing_as("kubectl apply", "the learner's manifest"):
        store.object_create(sandbox=sandbox, resource=REPLICASETS, body=replica_set(), namespace="default")
    change = Change.objects.get(sandbox=sandbox, kind="ReplicaSet")
    assert (change.actor, change.reason) == ("kubectl apply", "the learner's manifest")


def test_writes_outside_any_writer_are_unattributed_and_writers_nest(sandbox):
    store.object_create(sandbox=sandbox, resource=REPLICASETS, body=replica_set(), namespace="default")
    with store.writing_as("outer"):
        with store.writing_as("inner"):
            assert store.current_writer().actor == "inner"
        assert store.current_writer().actor == "outer"
    assert Change.objects.get(sandbox=sandbox, kind="ReplicaSet").actor == ""


def test_the_controller_manager_signs_each_write_with_the_planning_component(sandbox):
    with store.writing_as("kubectl apply"):
        store.object_create(sandbox=sandbox, resource=REPLICASETS, body=replica_set(), namespace="default")
    controllers_reconcile(sandbox, now=NOW)
    pods = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.ADDED)
    assert pods.count() == 2
    assert set(pods.values_list("actor", flat=True)) == {"replicaset-controller"}
    bound = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.MODIFIED, actor="default-scheduler")
    assert bound.count() == 2
    events = Change.objects.filter(sandbox=sandbox, kind="Event")
    assert {"replicaset-controller", "default-scheduler"} <= set(events.values_list("actor", flat=True))


def test_each_controllers_write_says_why_in_the_change_log(sandbox):
    deployment = {**replica_set(), "kind": "Deployment"}
    with store.writing_as("kubectl apply"):
        store.object_create(sandbox=sandbox, resource=DEPLOYMENTS, body=deployment, namespace="default")
    controllers_reconcile(sandbox, now=NOW)
    created = Change.objects.get(sandbox=sandbox, kind="ReplicaSet", type=Change.ADDED)
    assert (created.actor, created.reason) == (
        "deployment-controller",
        f"Deployment web has no ReplicaSet for its pod template: creating {created.name} with 2 pods",
    )
    pods = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.ADDED)
    assert pods.count() == 2
    assert set(pods.values_list("reason", flat=True)) == {f"ReplicaSet {created.name} wants 2 pods, has 0: creating 2"}
    bound = Change.objects.filter(sandbox=sandbox, kind="Pod", type=Change.MODIFIED, actor="default-scheduler")
    reasons = list(bound.values_list("name", "reason"))
    assert len(reasons) == 2
    assert all(reason.startswith(f"pod {name} has no node: node-") for name, reason in reasons), reasons


@pytest.mark.parametrize(
    ("headers", "actor"),
    [
        ({"Kubectl-Command": "kubectl apply", "User-Agent": "kubectl/v1.37.1 (linux/amd64)"}, "kubectl apply"),
        ({"User-Agent": "kubectl/v1.37.1 (linux/amd64) kubernetes/abc"}, "kubectl"),
        ({"User-Agent": "OpenAPI-Generator/36.0.3/python"}, "OpenAPI-Generator"),
        ({}, "API client"),
    ],
)
def test_an_api_request_is_attributed_to_the_kubectl_command_or_the_client_program(headers, actor):
    assert client_actor(headers) == actor
