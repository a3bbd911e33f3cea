"""Prometheus metrics: who may read /metrics, the database's gauges (work queue, pods, sandboxes)
and the instruments of the API, the reconciles and the controllers, read back through the text
format a Prometheus server parses."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from clusters import monitoring
from clusters.manifests import manifest_apply
from clusters.models import WorkItem
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: nginx}]\n"


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, ((label, value), …)): value} of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("ops", is_staff=True))
    return client


def test_metrics_are_refused_to_learners_and_strangers(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    client.force_login(User.objects.create_user("learner"))
    refused = client.get("/metrics")
    assert refused.status_code == 403
    assert b"TUTOR_METRICS_TOKEN" in refused.content


def test_prometheus_reads_them_with_its_token(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert ("kube_tutor_pods", (("phase", "Running"),)) in samples(answer.content.decode())


def test_the_database_gauges_count_due_work_its_age_pods_by_phase_and_sandboxes(staff_client):
    owner = User.objects.create_user("learner")
    sandbox = sandbox_create(owner=owner, runtime="simulated")
    assert manifest_apply(sandbox=sandbox, text=POD).stored
    now = timezone.now()
    WorkItem.objects.filter(sandbox=sandbox).delete()
    WorkItem.objects.create(sandbox=sandbox, key="controllers", dirty=True, dirty_since=now - timedelta(seconds=30))
    WorkItem.objects.create(sandbox=sandbox, key="kubelet/node-1", dirty=False, wake_at=now - timedelta(seconds=5))
    WorkItem.objects.create(sandbox=sandbox, key="kubelet/node-2", dirty=False, wake_at=now + timedelta(hours=1))
    leased = now + timedelta(seconds=15)
    WorkItem.objects.create(sandbox=sandbox, key="kube-proxy", dirty=True, dirty_since=now, leased_until=leased)

    found = samples(staff_client.get("/metrics").content.decode())

    assert found["kube_tutor_workqueue_depth", (("key", "controllers"),)] == 1
    assert found["kube_tutor_workqueue_depth", (("key", "kubelet"),)] == 1  # node-2 is not due yet
    assert found["kube_tutor_workqueue_depth", (("key", "kube-proxy"),)] == 0  # being run
    assert 30 <= found["kube_tutor_workqueue_oldest_due_seconds", (("key", "controllers"),)] < 40
    assert 5 <= found["kube_tutor_workqueue_oldest_due_seconds", (("key", "kubelet"),)] < 15
    assert found["kube_tutor_pods", (("phase", "Pending"),)] == 1  # stored, not yet run
    assert found["kube_tutor_sandboxes", (("engine", "simulated"), ("paused", "false"))] == 1


def test_a_write_is_timed_by_verb_resource_and_code(staff_client):
    owner = User.objects.create_user("learner")
    sandbox = sandbox_create(owner=owner, runtime="simulated")
    staff_client.force_login(owner)
    path = f"/k8s/{sandbox.uid.hex}/api/v1/namespaces/default/configmaps"
    before = monitoring.API_SECONDS.labels("POST", "configmaps", "201")._sum.get()
    created = staff_client.post(
        path, data={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    listed = staff_client.get(path)
    assert listed.status_code == 200
    assert monitoring.API_SECONDS.labels("POST", "configmaps", "201")._sum.get() > before
    listed_count = ("code", "200"), ("resource", "configmaps"), ("verb", "LIST")
    staff_client.force_login(User.objects.get(username="ops"))
    found = samples(staff_client.get("/metrics").content.decode())
    assert found["kube_tutor_apiserver_request_duration_seconds_count", listed_count] >= 1


def test_a_failed_reconcile_and_a_failed_plan_are_counted_and_timed():
    errors = monitoring.RECONCILE_ERRORS.labels("kubelet")
    before, timed = errors._value.get(), monitoring.RECONCILE_SECONDS.labels("kubelet")._sum.get()
    with pytest.raises(RuntimeError), monitoring.reconcile_timed("kubelet/node-7"):
        raise RuntimeError("the engine went away")
    assert errors._value.get() == before + 1
    assert monitoring.RECONCILE_SECONDS.labels("kubelet")._sum.get() >= timed

    plan_errors = monitoring.PLAN_ERRORS.labels("deployment")
    before = plan_errors._value.get()
    with pytest.raises(KeyError), monitoring.plan_timed("deployment"):
        raise KeyError("spec")
    assert plan_errors._value.get() == before + 1


def test_labels_name_kinds_of_keys_and_upstream_verbs():
    assert monitoring.key_kind("kubelet/node-1") == "kubelet"
    assert monitoring.key_kind("controllers") == "controllers"
    assert monitoring.api_verb("GET", named=False) == "LIST"
    assert monitoring.api_verb("GET", named=True) == "GET"
    assert monitoring.api_verb("PATCH", named=True) == "PATCH"
    assert monitoring.api_resource("pods", "log") == "pods/log"
