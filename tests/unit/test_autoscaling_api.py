"""HorizontalPodAutoscalers through the API: served at autoscaling/v2 and v1 (stored once, as v2),
defaulted and validated as upstream, and printed by `kubectl get hpa` as upstream prints them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters import errors, store
from clusters.kube.tables import build_table
from clusters.models import AccessToken
from clusters.objects.conversion import to_storage, to_version
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db
V2 = resource_for_kind("autoscaling/v2", "HorizontalPodAutoscaler")
V1 = resource_for_kind("autoscaling/v1", "HorizontalPodAutoscaler")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def autoscaler(name: str = "php-apache", **spec) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
            "maxReplicas": 10,
            **spec,
        },
    }


V1_AUTOSCALER = {
    "apiVersion": "autoscaling/v1",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "frontend-scaler"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "frontend"},
        "minReplicas": 3,
        "maxReplicas": 10,
        "targetCPUUtilizationPercentage": 50,
    },
}


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")


@pytest.fixture
def api(sandbox):
    _, key = AccessToken.issue(user=sandbox.owner)
    return f"/k8s/{sandbox.uid.hex}/t/{key}"


def test_an_autoscaler_without_metrics_targets_80_percent_cpu_from_one_replica(sandbox):
    created = store.object_create(sandbox=sandbox, resource=V2, body=autoscaler(), namespace="default")
    assert created["spec"]["minReplicas"] == 1
    assert created["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}
    ]
    assert "behavior" not in created["spec"]


def test_a_behavior_is_completed_direction_by_direction_with_upstreams_defaults(sandbox):
    body = autoscaler(behavior={"scaleDown": {"stabilizationWindowSeconds": 60}})
    behavior = store.object_create(sandbox=sandbox, resource=V2, body=body, namespace="default")["spec"]["behavior"]
    assert behavior == {
        "scaleDown": {
            "stabilizationWindowSeconds": 60,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"minReplicas": 0}, "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"),
        (
            {"minReplicas": 5, "maxReplicas": 2},
            "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
        ),
        (
            {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 3601}}},
            "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 3601: "
            "must be less than or equal to 3600",
        ),
        (
            {"behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}}},
            "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
        ),
        (
            {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]},
            "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value "
            "or a target utilization",
        ),
    ],
)
def test_it_refuses_what_upstream_refuses_in_its_words(sandbox, spec, message):
    with pytest.raises(errors.Invalid) as refused:
        store.object_create(sandbox=sandbox, resource=V2, body=autoscaler(**spec), namespace="default")
    assert message in str(refused.value)


def test_a_v1_autoscaler_is_stored_as_v2_and_read_back_at_either_version(sandbox):
    created = store.object_create(sandbox=sandbox, resource=V1, body=V1_AUTOSCALER, namespace="default")
    assert created["apiVersion"] == "autoscaling/v1"
    assert created["spec"]["targetCPUUtilizationPercentage"] == 50
    as_v2 = store.object_get(sandbox=sandbox, resource=V2, namespace="default", name="frontend-scaler")
    assert as_v2["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
    ]
    patched = store.object_patch(
        sandbox=sandbox,
        resource=V1,
        namespace="default",
        name="frontend-scaler",
        patch=json.dumps({"spec": {"targetCPUUtilizationPercentage": 70}}).encode(),
        content_type="application/strategic-merge-patch+json",
    )
    assert patched["spec"]["targetCPUUtilizationPercentage"] == 70
    stored = store.object_get(sandbox=sandbox, resource=V2, namespace="default", name="frontend-scaler")
    assert stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_what_v1_cannot_say_round_trips_through_its_annotations():
    body = autoscaler(
        metrics=[
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
            },
            {
                "type": "Resource",
                "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
            },
        ],
        behavior={
            "scaleDown": {
                "stabilizationWindowSeconds": 30,
                "selectPolicy": "Max",
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
            }
        },
    )
    as_v1 = to_version(body, V1)
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert json.loads(as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}
    ]
    assert json.loads(as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/behavior"])["ScaleDown"] == {
        "StabilizationWindowSeconds": 30,
        "SelectPolicy": "Max",
        "Policies": [{"Type": "Pods", "Value": 1, "PeriodSeconds": 60}],
        "Tolerance": None,
    }
    back = to_storage(as_v1)
    assert back["spec"]["metrics"] == [body["spec"]["metrics"][1], body["spec"]["metrics"][0]]
    assert back["spec"]["behavior"] == body["spec"]["behavior"]
    assert "annotations" not in back["metadata"]


def test_the_wire_serves_both_versions_and_discovery_prefers_v2(sandbox, api):
    store.object_create(sandbox=sandbox, resource=V1, body=V1_AUTOSCALER, namespace="default")
    path = "namespaces/default/horizontalpodautoscalers/frontend-scaler"
    v1 = Client().get(f"{api}/apis/autoscaling/v1/{path}").json()
    v2 = Client().get(f"{api}/apis/autoscaling/v2/{path}").json()
    assert (v1["apiVersion"], v1["spec"]["targetCPUUtilizationPercentage"]) == ("autoscaling/v1", 50)
    assert v2["apiVersion"] == "autoscaling/v2"
    group = Client().get(f"{api}/apis/autoscaling").json()
    assert group["preferredVersion"]["version"] == "v2"
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    listed = Client().get(f"{api}/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers").json()
    assert [item["apiVersion"] for item in listed["items"]] == ["autoscaling/v1"]


def hpa_with_status(**status) -> dict:
    body = autoscaler(
        minReplicas=1,
        metrics=[
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
            }
        ],
    )
    body["metadata"] |= {
        "namespace": "default",
        "creationTimestamp": (NOW - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body["status"] = {"desiredReplicas": 1, **status}
    return body


def test_get_hpa_prints_the_targets_as_upstream():
    unknown = hpa_with_status(currentMetrics=[{"type": ""}])
    measured = hpa_with_status(
        currentReplicas=4,
        currentMetrics=[
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": 0, "averageValue": "1m"}},
            }
        ],
    )
    table = build_table("HorizontalPodAutoscaler", [unknown, measured], now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert [row["cells"] for row in table["rows"]] == [
        ["php-apache", "Deployment/php-apache", "cpu: <unknown>/50%", "1", 10, 0, "3m"],
        ["php-apache", "Deployment/php-apache", "cpu: 0%/50%", "1", 10, 4, "3m"],
    ]


def test_get_hpa_shows_at_most_two_metrics_and_how_many_more():
    body = hpa_with_status()
    body["spec"]["metrics"] += [
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
        },
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
    ]
    [row] = build_table("HorizontalPodAutoscaler", [body], now=NOW)["rows"]
    assert row["cells"][2] == "cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more..."
