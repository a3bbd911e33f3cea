from datetime import UTC, datetime, timedelta

import pytest

from clusters.objects.pod_resources import format_list, pod_limits, pod_requests
from clusters.objects.resource_quota import (
    QuotaRefusal,
    applies,
    pod_usage,
    quota_charge,
    quota_status,
    usage,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def quota(name="mem-cpu-demo", *, hard, used=None, scopes=None, namespace="ns"):
    body = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hard": hard},
    }
    if scopes:
        body["spec"]["scopes"] = scopes
    if used is not None:
        body["status"] = {"hard": dict(hard), "used": used}
    return body


def pod(name="web", *containers, namespace="ns", phase=None, **spec):
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": list(containers) or [container()], **spec},
    }
    if phase:
        body["status"] = {"phase": phase}
    return body


def container(name="main", requests=None, limits=None, **fields):
    resources = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "image": "nginx", "resources": resources, **fields}


def charge(quotas, obj, group="", plural="pods", old=None):
    return quota_charge(quotas, group=group, plural=plural, obj=obj, now=NOW, old=old)


MEM_CPU_HARD = {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi"}
DEMO = container(requests={"memory": "600Mi", "cpu": "400m"}, limits={"memory": "800Mi", "cpu": "800m"})


# --- what a pod asks for --------------------------------------------------------------------------


def test_a_pod_asks_for_its_containers_sum_or_its_largest_init_container_with_the_sidecars_before_it():
    sidecar = container("log", requests={"cpu": "100m"}, restartPolicy="Always")
    setup = container("setup", requests={"cpu": "2", "memory": "64Mi"})
    body = pod(
        "p",
        container("a", requests={"cpu": "250m", "memory": "100Mi"}),
        container("b", requests={"cpu": "250m"}),
        initContainers=[sidecar, setup],
    )
    # Containers and the sidecar: 600m; the setup container runs beside the sidecar: 2100m.
    assert format_list(pod_requests(body)) == {"cpu": "2100m", "memory": "100Mi"}


def test_pod_level_resources_replace_the_containers_sum_and_overhead_adds_to_set_limits_only():
    body = pod(
        "p",
        container(requests={"cpu": "250m"}, limits={"cpu": "500m"}),
        resources={"requests": {"cpu": "1"}},
        overhead={"cpu": "100m", "memory": "10Mi"},
    )
    assert format_list(pod_requests(body)) == {"cpu": "1100m", "memory": "10Mi"}
    assert format_list(pod_limits(body)) == {"cpu": "600m"}


# --- what a pod costs -----------------------------------------------------------------------------


def test_a_running_pod_costs_its_count_its_compute_and_its_requests_and_limits():
    assert format_list(pod_usage(pod("p", DEMO), NOW)) == {
        "count/pods": "1",
        "pods": "1",
        "cpu": "400m",
        "requests.cpu": "400m",
        "limits.cpu": "800m",
        "memory": "600Mi",
        "requests.memory": "600Mi",
        "limits.memory": "800Mi",
    }


def test_a_finished_pod_costs_only_its_count():
    for phase in ("Succeeded", "Failed"):
        assert format_list(pod_usage(pod("p", DEMO, phase=phase), NOW)) == {"count/pods": "1"}


def test_a_pod_being_deleted_counts_until_its_deletion_time_and_grace_period_pass():
    deleting = pod("p", DEMO)
    deleting["metadata"].update(deletionTimestamp=stamp(NOW + timedelta(seconds=30)), deletionGracePeriodSeconds=30)
    assert "pods" in pod_usage(deleting, NOW)
    assert "pods" in pod_usage(deleting, NOW + timedelta(seconds=60))
    assert format_list(pod_usage(deleting, NOW + timedelta(seconds=61))) == {"count/pods": "1"}


def test_services_cost_node_ports_and_load_balancers_by_their_type():
    ports = [{"port": 80}, {"port": 443}]
    assert format_list(usage("", "services", {"spec": {"type": "ClusterIP", "ports": ports}}, NOW)) == {
        "count/services": "1",
        "services": "1",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }
    assert usage("", "services", {"spec": {"type": "NodePort", "ports": ports}}, NOW)["services.nodeports"].value == 2
    balanced = usage("", "services", {"spec": {"type": "LoadBalancer", "ports": ports}}, NOW)
    assert (balanced["services.nodeports"].value, balanced["services.loadbalancers"].value) == (2, 1)


def test_a_claim_costs_its_storage_also_per_storage_class():
    claim = {"spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}}}
    assert format_list(usage("", "persistentvolumeclaims", claim, NOW)) == {
        "persistentvolumeclaims": "1",
        "count/persistentvolumeclaims": "1",
        "standard.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "requests.storage": "1Gi",
        "standard.storageclass.storage.k8s.io/requests.storage": "1Gi",
    }


def test_other_kinds_cost_their_object_count_and_some_their_old_name_too():
    assert format_list(usage("apps", "deployments", {}, NOW)) == {"count/deployments.apps": "1"}
    assert format_list(usage("", "configmaps", {}, NOW)) == {"count/configmaps": "1", "configmaps": "1"}


# --- admission ------------------------------------------------------------------------------------


def test_admission_grows_the_used_of_every_quota_that_applies():
    demo = quota(hard=MEM_CPU_HARD, used=dict.fromkeys(MEM_CPU_HARD, "0"))
    other = quota("pods-only", hard={"count/configmaps": "5"}, used={"count/configmaps": "0"})
    charged = charge([demo, other], pod("quota-mem-cpu-demo", DEMO))
    assert charged[0]["status"]["used"] == {
        "requests.cpu": "400m",
        "requests.memory": "600Mi",
        "limits.cpu": "800m",
        "limits.memory": "800Mi",
    }
    assert charged[1] is other
    assert demo["status"]["used"]["requests.cpu"] == "0"  # the arguments are left as they were


def test_admission_refuses_what_would_exceed_a_quota_in_upstreams_words():
    demo = quota(
        hard=MEM_CPU_HARD,
        used={"requests.cpu": "400m", "requests.memory": "600Mi", "limits.cpu": "800m", "limits.memory": "800Mi"},
    )
    second = container(requests={"memory": "700Mi", "cpu": "400m"}, limits={"memory": "1Gi", "cpu": "800m"})
    with pytest.raises(QuotaRefusal) as refused:
        charge([demo], pod("quota-mem-cpu-demo-2", second))
    assert str(refused.value) == (
        "exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, used: requests.memory=600Mi, "
        "limited: requests.memory=1Gi"
    )


def test_a_quota_of_cpu_or_memory_needs_every_container_to_set_them():
    limits = quota(hard={"limits.cpu": "2", "limits.memory": "2Gi"}, used={"limits.cpu": "0", "limits.memory": "0"})
    bare = pod("x", container("x"), container("y", limits={"cpu": "1"}))
    with pytest.raises(QuotaRefusal) as refused:
        charge([limits], bare)
    assert str(refused.value) == "failed quota: mem-cpu-demo: must specify limits.cpu for: x; limits.memory for: x,y"


def test_a_count_quota_counts_one_more_and_refuses_the_one_too_many():
    pods = quota("pod-demo", hard={"pods": "2"}, used={"pods": "1"})
    [charged] = charge([pods], pod("a"))
    assert charged["status"]["used"] == {"pods": "2"}
    with pytest.raises(
        QuotaRefusal, match=r"^exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2$"
    ):
        charge([charged], pod("b"))


def test_a_quota_without_usage_yet_refuses_and_one_without_hard_limits_yet_is_ignored():
    unknown = quota("fresh", hard={"pods": "2", "requests.cpu": "1"}, used={"pods": "0"})
    with pytest.raises(QuotaRefusal, match=r"^status unknown for quota: fresh, resources: pods,requests.cpu$"):
        charge([unknown], pod("a", container(requests={"cpu": "1"})))
    no_status = quota("new", hard={"pods": "0"})
    assert charge([no_status], pod("a")) == [no_status]


def test_scopes_select_the_pods_a_quota_counts_and_never_other_kinds():
    best_effort = quota("be", hard={"pods": "1"}, used={"pods": "1"}, scopes=["BestEffort"])
    assert charge([best_effort], pod("guaranteed", DEMO)) == [best_effort]
    with pytest.raises(QuotaRefusal):
        charge([best_effort], pod("bare"))
    terminating = quota("t", hard={"pods": "5"}, used={"pods": "0"}, scopes=["Terminating"])
    assert not applies(terminating, "", "pods", pod("p"))
    assert applies(terminating, "", "pods", pod("p", activeDeadlineSeconds=30))
    counted = quota("c", hard={"count/configmaps": "1"}, used={"count/configmaps": "0"}, scopes=["NotBestEffort"])
    assert not applies(counted, "", "configmaps", {"kind": "ConfigMap"})


def test_an_update_is_charged_by_what_it_adds():
    ports = quota("ports", hard={"services.nodeports": "2"}, used={"services.nodeports": "1"})
    old = {"spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    new = {"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}}
    [charged] = charge([ports], new, plural="services", old=old)
    assert charged["status"]["used"] == {"services.nodeports": "2"}


# --- the controller's recount ---------------------------------------------------------------------


def test_the_recount_covers_every_limited_resource_with_zero_for_the_unused():
    demo = quota(hard=MEM_CPU_HARD)
    assert quota_status(demo, [], now=NOW) == {
        "hard": MEM_CPU_HARD,
        "used": {"requests.cpu": "0", "requests.memory": "0", "limits.cpu": "0", "limits.memory": "0"},
    }


def test_the_recount_sums_what_counts_in_the_quotas_namespace_only():
    demo = quota(hard={**MEM_CPU_HARD, "pods": "10", "count/pods": "10", "configmaps": "5", "unknown": "1"})
    objects = [
        pod("a", DEMO),
        pod("b", DEMO),
        pod("done", DEMO, phase="Succeeded"),
        pod("elsewhere", DEMO, namespace="other"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}},
    ]
    assert quota_status(demo, objects, now=NOW)["used"] == {
        "requests.cpu": "800m",
        "requests.memory": "1200Mi",
        "limits.cpu": "1600m",
        "limits.memory": "1600Mi",
        "pods": "2",
        "count/pods": "3",
        "configmaps": "1",
    }
