"""LimitRange and ResourceQuota admission as the real kubectl shows it: defaults written into a
pod, the API server's 403 refusals word for word, and `get quota` / `describe quota` with their
usage (against the API alone: admission charges a quota as it admits, no controller runs here)."""

from __future__ import annotations

import json


def pod(name: str, requests: dict | None = None, limits: dict | None = None) -> str:
    resources = {key: value for key, value in (("requests", requests), ("limits", limits)) if value}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": [{"name": f"{name}-ctr", "image": "nginx", "resources": resources}]},
        }
    )


def limit_range(**item) -> str:
    return json.dumps(
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"}, "spec": {"limits": [item]}}
    )


def refusal(result) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr.strip()


def test_a_pod_over_a_limit_ranges_maximum_is_forbidden(kubectl):
    kubectl("apply", "-f", "-", input=limit_range(type="Container", max={"cpu": "800m"}, min={"cpu": "200m"}))
    result = kubectl(
        "apply", "-f", "-", input=pod("constraints-cpu-demo-2", {"cpu": "500m"}, {"cpu": "1.5"}), check=False
    )
    assert refusal(result) == (
        'Error from server (Forbidden): error when creating "STDIN": pods "constraints-cpu-demo-2" is forbidden: '
        "maximum cpu usage per Container is 800m, but limit is 1500m"
    )
    assert "NotFound" in kubectl("get", "pod", "constraints-cpu-demo-2", check=False).stderr


def test_several_violations_are_listed_together(kubectl):
    kubectl("apply", "-f", "-", input=limit_range(type="Container", max={"cpu": "800m"}, min={"memory": "1Gi"}))
    result = kubectl(
        "run", "greedy", "--image=nginx", "--overrides", _resources({"cpu": "1500m", "memory": "500Mi"}), check=False
    )
    # Within a container upstream checks every min before any max.
    assert refusal(result) == (
        'Error from server (Forbidden): pods "greedy" is forbidden: [minimum memory usage per Container is 1Gi, '
        "but request is 500Mi, maximum cpu usage per Container is 800m, but limit is 1500m]"
    )


def _resources(amounts: dict) -> str:
    container = {"name": "greedy", "image": "nginx", "resources": {"requests": amounts, "limits": amounts}}
    return json.dumps({"apiVersion": "v1", "spec": {"containers": [container]}})


def test_a_pod_without_resources_gets_the_limit_ranges_defaults(kubectl):
    kubectl(
        "apply",
        "-f",
        "-",
        input=limit_range(type="Container", default={"memory": "512Mi"}, defaultRequest={"memory": "256Mi"}),
    )
    kubectl("apply", "-f", "-", input=pod("default-mem-demo"))
    created = kubectl.json("get", "pod", "default-mem-demo")
    assert created["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "512Mi"},
        "requests": {"memory": "256Mi"},
    }
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for container default-mem-demo-ctr; "
        "memory limit for container default-mem-demo-ctr"
    )
    assert created["status"]["qosClass"] == "Burstable"


def test_a_quota_shows_its_usage_and_refuses_what_would_exceed_it(kubectl):
    created = kubectl(
        "create", "quota", "mem-cpu-demo", "--hard=requests.cpu=1,requests.memory=1Gi,limits.cpu=2,limits.memory=2Gi"
    )
    assert created.stdout.strip() == "resourcequota/mem-cpu-demo created"
    header, row = kubectl("get", "quota").stdout.splitlines()
    assert header.split() == ["NAME", "REQUEST", "LIMIT", "AGE"]
    assert row.split("   ")[:1] == ["mem-cpu-demo"]
    assert "requests.cpu: 0/1, requests.memory: 0/1Gi" in row
    assert "limits.cpu: 0/2, limits.memory: 0/2Gi" in row

    first = pod("quota-mem-cpu-demo", {"memory": "600Mi", "cpu": "400m"}, {"memory": "800Mi", "cpu": "800m"})
    kubectl("apply", "-f", "-", input=first)
    row = kubectl("get", "quota", "mem-cpu-demo", "--no-headers").stdout
    assert "requests.cpu: 400m/1, requests.memory: 600Mi/1Gi" in row
    assert "limits.cpu: 800m/2, limits.memory: 800Mi/2Gi" in row

    second = pod("quota-mem-cpu-demo-2", {"memory": "700Mi", "cpu": "400m"}, {"memory": "1Gi", "cpu": "800m"})
    assert refusal(kubectl("apply", "-f", "-", input=second, check=False)) == (
        'Error from server (Forbidden): error when creating "STDIN": pods "quota-mem-cpu-demo-2" is forbidden: '
        "exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, used: requests.memory=600Mi, "
        "limited: requests.memory=1Gi"
    )

    described = kubectl("describe", "quota", "mem-cpu-demo").stdout
    lines = [line.split() for line in described.splitlines()]
    assert ["Resource", "Used", "Hard"] in lines
    assert ["requests.memory", "600Mi", "1Gi"] in lines
    assert ["limits.cpu", "800m", "2"] in lines


def test_a_quota_of_limits_names_the_containers_that_set_none(kubectl):
    kubectl("create", "quota", "limits", "--hard=limits.cpu=2,limits.memory=2Gi")
    assert refusal(kubectl("run", "bare", "--image=nginx", check=False)) == (
        'Error from server (Forbidden): pods "bare" is forbidden: failed quota: limits: '
        "must specify limits.cpu for: bare; limits.memory for: bare"
    )


def test_an_object_count_quota_refuses_the_one_too_many(kubectl):
    kubectl("create", "quota", "objects", "--hard=count/configmaps=1,services.nodeports=0")
    kubectl("create", "configmap", "one")
    assert refusal(kubectl("create", "configmap", "two", check=False)) == (
        'error: failed to create configmap: configmaps "two" is forbidden: exceeded quota: objects, '
        "requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
    )
    assert "exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=0" in refusal(
        kubectl("create", "service", "nodeport", "web", "--tcp=80:80", check=False)
    )
    row = kubectl("get", "quota", "objects", "--no-headers").stdout
    assert "count/configmaps: 1/1, services.nodeports: 0/0" in row
