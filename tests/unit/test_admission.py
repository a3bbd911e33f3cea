"""LimitRanger and ResourceQuota admission in the store, and the controllers that meet them."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from clusters import errors, store
from clusters.controllers import manager
from clusters.controllers.manager import controllers_reconcile
from clusters.models import Change
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
QUOTAS = resource_for_kind("v1", "ResourceQuota")
LIMIT_RANGES = resource_for_kind("v1", "LimitRange")
DEPLOYMENTS = resource_for_kind("apps/v1", "Deployment")
REPLICA_SETS = resource_for_kind("apps/v1", "ReplicaSet")
EVENTS = resource_for_kind("v1", "Event")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(db):
    return sandbox_create(owner=User.objects.create(username="alice"))


def create(sandbox, resource, body, **options):
    return store.object_create(sandbox=sandbox, resource=resource, body=body, namespace="default", **options)


def get(sandbox, resource, name):
    return store.object_get(sandbox=sandbox, resource=resource, namespace="default", name=name)


def pod(name, requests=None, limits=None):
    resources = {key: value for key, value in (("requests", requests), ("limits", limits)) if value}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": f"{name}-ctr", "image": "nginx", "resources": resources}]},
    }


def limit_range(name, **item):
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": name}, "spec": {"limits": [item]}}


def quota(name, **hard):
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": {"hard": hard}}


MEM_CPU = {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi"}


def mem_cpu_quota():
    return quota("mem-cpu-demo", **MEM_CPU)


# --- LimitRanger --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pod_gets_its_namespaces_defaults_and_the_qos_class_they_make(sandbox):
    create(sandbox, LIMIT_RANGES, limit_range("mem", type="Container", default={"memory": "512Mi"}))
    created = create(sandbox, PODS, pod("default-mem-demo"))
    assert created["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "512Mi"},
        "requests": {"memory": "512Mi"},  # defaultRequest defaults to default
    }
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for container default-mem-demo-ctr; "
        "memory limit for container default-mem-demo-ctr"
    )
    assert created["status"]["qosClass"] == "Burstable"


@pytest.mark.django_db
def test_a_pod_over_a_maximum_is_forbidden_in_upstreams_words_and_not_stored(sandbox):
    create(sandbox, LIMIT_RANGES, limit_range("cpu", type="Container", max={"cpu": "800m"}, min={"cpu": "200m"}))
    with pytest.raises(errors.Forbidden) as refused:
        create(sandbox, PODS, pod("constraints-cpu-demo-2", requests={"cpu": "500m"}, limits={"cpu": "1.5"}))
    assert refused.value.message == (
        'pods "constraints-cpu-demo-2" is forbidden: maximum cpu usage per Container is 800m, but limit is 1500m'
    )
    assert refused.value.status()["details"] == {"name": "constraints-cpu-demo-2", "kind": "pods"}
    with pytest.raises(errors.NotFound):
        get(sandbox, PODS, "constraints-cpu-demo-2")


@pytest.mark.django_db
def test_an_invalid_pod_is_invalid_before_it_is_forbidden(sandbox):
    create(sandbox, LIMIT_RANGES, limit_range("cpu", type="Container", max={"cpu": "800m"}))
    with pytest.raises(errors.Invalid):
        create(sandbox, PODS, pod("bad", requests={"cpu": "2"}, limits={"cpu": "1"}))


# --- ResourceQuota ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_quota_knows_its_usage_at_once(sandbox):
    create(sandbox, PODS, pod("early", requests={"memory": "100Mi"}))
    created = create(sandbox, QUOTAS, quota("counted", pods="5", **{"requests.memory": "1Gi", "resourcequotas": "1"}))
    assert created["status"] == {
        "hard": {"pods": "5", "requests.memory": "1Gi", "resourcequotas": "1"},
        "used": {"pods": "1", "requests.memory": "100Mi", "resourcequotas": "1"},
    }


@pytest.mark.django_db
def test_creates_are_charged_and_the_one_too_many_refused_in_upstreams_words(sandbox):
    create(sandbox, QUOTAS, mem_cpu_quota())
    create(
        sandbox, PODS, pod("quota-mem-cpu-demo", {"memory": "600Mi", "cpu": "400m"}, {"memory": "800Mi", "cpu": "800m"})
    )
    assert get(sandbox, QUOTAS, "mem-cpu-demo")["status"]["used"] == {
        "requests.cpu": "400m",
        "requests.memory": "600Mi",
        "limits.cpu": "800m",
        "limits.memory": "800Mi",
    }
    with pytest.raises(errors.Forbidden) as refused:
        create(
            sandbox,
            PODS,
            pod("quota-mem-cpu-demo-2", {"memory": "700Mi", "cpu": "400m"}, {"memory": "1Gi", "cpu": "800m"}),
        )
    assert refused.value.message == (
        'pods "quota-mem-cpu-demo-2" is forbidden: exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, '
        "used: requests.memory=600Mi, limited: requests.memory=1Gi"
    )


@pytest.mark.django_db
def test_a_container_without_the_quotas_resources_is_named(sandbox):
    create(sandbox, QUOTAS, quota("limits", **{"limits.cpu": "2", "limits.memory": "2Gi"}))
    with pytest.raises(errors.Forbidden) as refused:
        create(sandbox, PODS, pod("x"))
    assert refused.value.message == (
        'pods "x" is forbidden: failed quota: limits: must specify limits.cpu for: x-ctr; limits.memory for: x-ctr'
    )


@pytest.mark.django_db
def test_a_limit_range_default_satisfies_a_quota_as_a_class_sets_them_up(sandbox):
    create(sandbox, QUOTAS, quota("class", pods="3", **{"limits.cpu": "1", "limits.memory": "1Gi"}))
    create(
        sandbox,
        LIMIT_RANGES,
        limit_range(
            "class",
            type="Container",
            default={"cpu": "500m", "memory": "256Mi"},
            defaultRequest={"cpu": "100m", "memory": "64Mi"},
        ),
    )
    create(sandbox, PODS, pod("a"))
    create(sandbox, PODS, pod("b"))
    with pytest.raises(
        errors.Forbidden, match=r"exceeded quota: class, requested: limits\.cpu=500m, used: limits\.cpu=1,"
    ):
        create(sandbox, PODS, pod("c"))


@pytest.mark.django_db
def test_a_dry_run_or_a_failed_create_charges_nothing(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="5"))
    create(sandbox, PODS, pod("a"), dry_run=True)
    create(sandbox, PODS, pod("b"))
    with pytest.raises(errors.AlreadyExists):
        create(sandbox, PODS, pod("b"))
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "1"}


@pytest.mark.django_db
def test_the_quota_change_is_logged_with_the_write_that_caused_it(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="5"))
    with store.writing_as("kubectl create"):
        created = create(sandbox, PODS, pod("a"))
    change = Change.objects.filter(kind="ResourceQuota", name="pods").latest("resource_version")
    assert change.resource_version == int(created["metadata"]["resourceVersion"]) - 1
    assert (change.actor, change.reason) == ("kubectl create", "ResourceQuota admission: charging pods a")


@pytest.mark.django_db
def test_a_batch_of_pods_is_charged_as_a_whole_all_or_none(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="2"))
    with pytest.raises(
        errors.Forbidden, match="exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2"
    ):
        store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a"), pod("b"), pod("c")], namespace="default")
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "0"}
    store.objects_create(sandbox=sandbox, resource=PODS, bodies=[pod("a"), pod("b")], namespace="default")
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "2"}


@pytest.mark.django_db
def test_changing_a_quotas_limits_recounts_its_status(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="1"))
    create(sandbox, PODS, pod("a"))
    raised = {**get(sandbox, QUOTAS, "pods"), "spec": {"hard": {"pods": "3", "count/pods": "3"}}}
    updated = store.object_update(sandbox=sandbox, resource=QUOTAS, namespace="default", name="pods", body=raised)
    assert updated["status"] == {"hard": {"pods": "3", "count/pods": "3"}, "used": {"pods": "1", "count/pods": "1"}}


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_never_overrun_a_quota(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="3"))
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def attempt(number: int) -> None:
        try:
            start.wait()
            create(sandbox, PODS, pod(f"p{number}"))
            outcomes.append("created")
        except errors.Forbidden:
            outcomes.append("forbidden")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 3 + ["forbidden"] * 3
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "3"}


# --- controllers meet a quota ---------------------------------------------------------------------


def deployment(replicas=3):
    labels = {"purpose": "quota-demo"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "pod-quota-demo"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        },
    }


def failures(sandbox) -> list[dict]:
    return [
        e
        for e in store.object_list(sandbox=sandbox, resource=EVENTS, namespace="default").items
        if e["reason"] == "FailedCreate"
    ]


@pytest.mark.django_db
def test_a_deployment_under_a_pod_quota_stops_at_it_and_says_why(sandbox):
    manager._refusals.pop(sandbox.pk, None)
    create(sandbox, QUOTAS, quota("pod-demo", pods="2"))
    create(sandbox, DEPLOYMENTS, deployment())
    controllers_reconcile(sandbox, now=NOW)
    pods = store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items
    assert len(pods) == 2
    [rs] = store.object_list(sandbox=sandbox, resource=REPLICA_SETS, namespace="default").items
    [failure] = [c for c in rs["status"]["conditions"] if c["type"] == "ReplicaFailure"]
    assert failure["reason"] == "FailedCreate"
    assert failure["message"].endswith(
        "is forbidden: exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2"
    )
    [event] = failures(sandbox)
    assert (event["type"], event["involvedObject"]["name"]) == ("Warning", rs["metadata"]["name"])
    assert event["message"] == f"Error creating: {failure['message']}"
    copied = get(sandbox, DEPLOYMENTS, "pod-quota-demo")["status"]["conditions"]
    assert any(c["type"] == "ReplicaFailure" and "exceeded quota: pod-demo" in c["message"] for c in copied)

    # Held: the next run asks nothing of the API (the quota has not changed) ...
    controllers_reconcile(sandbox, now=NOW + timedelta(milliseconds=500))
    assert [e.get("count", 1) for e in failures(sandbox)] == [1]
    # ... until a pod goes: the quota's recount frees a place, and the ReplicaSet takes it.
    store.object_delete(
        sandbox=sandbox, resource=PODS, namespace="default", name=pods[0]["metadata"]["name"], grace_period=0
    )
    controllers_reconcile(sandbox, now=NOW + timedelta(seconds=1))
    names = {
        p["metadata"]["name"] for p in store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items
    }
    assert len(names) == 2
    assert pods[0]["metadata"]["name"] not in names
    assert get(sandbox, QUOTAS, "pod-demo")["status"]["used"] == {"pods": "2"}


@pytest.mark.django_db
def test_deleting_pods_frees_the_quota_through_the_controller(sandbox):
    create(sandbox, QUOTAS, quota("pods", pods="2"))
    create(sandbox, PODS, pod("a"))
    create(sandbox, PODS, pod("b"))
    store.object_delete(sandbox=sandbox, resource=PODS, namespace="default", name="a", grace_period=0)
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "2"}  # admission never subtracts
    controllers_reconcile(sandbox, now=NOW)
    assert get(sandbox, QUOTAS, "pods")["status"]["used"] == {"pods": "1"}
    create(sandbox, PODS, pod("c"))


SERVICES = resource_for_kind("v1", "Service")
CLAIMS = resource_for_kind("v1", "PersistentVolumeClaim")


@pytest.mark.django_db
def test_an_update_is_charged_by_what_it_adds(sandbox):
    create(sandbox, QUOTAS, quota("ports", **{"services.nodeports": "1"}))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"name": "a", "port": 80}]},
    }
    create(sandbox, SERVICES, service)
    two_ports = get(sandbox, SERVICES, "web")
    two_ports["spec"] = {
        **two_ports["spec"],
        "type": "NodePort",
        "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}],
    }
    with pytest.raises(errors.Forbidden) as refused:
        store.object_update(sandbox=sandbox, resource=SERVICES, namespace="default", name="web", body=two_ports)
    assert refused.value.message == (
        'services "web" is forbidden: exceeded quota: ports, requested: services.nodeports=2, '
        "used: services.nodeports=0, limited: services.nodeports=1"
    )


@pytest.mark.django_db
def test_a_claim_that_grows_is_bounded_and_charged_but_its_binding_never_refused(sandbox):
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    create(sandbox, CLAIMS, claim)
    create(sandbox, LIMIT_RANGES, limit_range("claims", type="PersistentVolumeClaim", min={"storage": "2Gi"}))
    create(sandbox, QUOTAS, quota("storage", **{"requests.storage": "3Gi"}))
    bound = get(sandbox, CLAIMS, "data")
    bound["spec"] = {**bound["spec"], "volumeName": "pv-data"}
    bound = store.object_update(sandbox=sandbox, resource=CLAIMS, namespace="default", name="data", body=bound)
    bound["status"] = {"phase": "Bound"}
    bound = store.object_update(
        sandbox=sandbox, resource=CLAIMS, namespace="default", name="data", body=bound, subresource="status"
    )
    grown = {**bound, "spec": {**bound["spec"], "resources": {"requests": {"storage": "4Gi"}}}}
    with pytest.raises(errors.Forbidden, match=r"exceeded quota: storage, requested: requests\.storage=3Gi"):
        store.object_update(sandbox=sandbox, resource=CLAIMS, namespace="default", name="data", body=grown)
    still_small = {**bound, "spec": {**bound["spec"], "resources": {"requests": {"storage": "1536Mi"}}}}
    with pytest.raises(errors.Forbidden, match="minimum storage usage per PersistentVolumeClaim is 2Gi"):
        store.object_update(sandbox=sandbox, resource=CLAIMS, namespace="default", name="data", body=still_small)


# --- the sandbox's pod ceiling --------------------------------------------------------------------


@pytest.mark.django_db
def test_ten_thousand_replicas_stop_at_the_sandbox_pod_limit_and_say_why(sandbox, settings):
    settings.SANDBOX_MAX_PODS = 5
    manager._refusals.pop(sandbox.pk, None)
    create(sandbox, DEPLOYMENTS, deployment(replicas=10_000))
    controllers_reconcile(sandbox, now=NOW)
    assert len(store.object_list(sandbox=sandbox, resource=PODS, namespace="default").items) == 5
    [rs] = store.object_list(sandbox=sandbox, resource=REPLICA_SETS, namespace="default").items
    [failure] = [c for c in rs["status"]["conditions"] if c["type"] == "ReplicaFailure"]
    assert failure["message"].endswith(
        "is forbidden: exceeded the sandbox's pod limit: requested: pods=1, used: pods=5, limited: pods=5"
    )
    with pytest.raises(errors.Forbidden) as refused:
        create(sandbox, PODS, pod("one-more"), dry_run=True)
    assert refused.value.message == (
        'pods "one-more" is forbidden: exceeded the sandbox\'s pod limit: '
        "requested: pods=1, used: pods=5, limited: pods=5"
    )


@pytest.mark.django_db
def test_the_pod_limit_counts_every_namespace_of_the_sandbox_and_no_other_sandbox(sandbox, settings):
    settings.SANDBOX_MAX_PODS = 2
    other = sandbox_create(owner=User.objects.create(username="bob"))
    store.object_create(sandbox=other, resource=PODS, body=pod("theirs"), namespace="default")
    create(sandbox, PODS, pod("a"))
    store.object_create(sandbox=sandbox, resource=PODS, body=pod("b"), namespace="kube-system")
    with pytest.raises(errors.Forbidden):
        create(sandbox, PODS, pod("c"))
    store.object_create(sandbox=other, resource=PODS, body=pod("also-theirs"), namespace="default")
