"""`kubectl autoscale`, `get hpa` and `describe hpa` with the real kubectl against the API alone
(no controllers run here: the autoscaler's own status is the orchestrator tests')."""

from __future__ import annotations

import json

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "php-apache"},
    "spec": {
        "selector": {"matchLabels": {"app": "php-apache"}},
        "template": {
            "metadata": {"labels": {"app": "php-apache"}},
            "spec": {"containers": [{"name": "php-apache", "image": "registry.k8s.io/hpa-example"}]},
        },
    },
}


def test_kubectl_autoscale_creates_an_autoscaling_v2_autoscaler(kubectl):
    kubectl("apply", "-f", "-", input=json.dumps(DEPLOYMENT))
    created = kubectl("autoscale", "deployment", "php-apache", "--cpu-percent=50", "--min=1", "--max=10")
    assert created.stdout.strip() == "horizontalpodautoscaler.autoscaling/php-apache autoscaled"
    hpa = kubectl.json("get", "hpa", "php-apache")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
        "minReplicas": 1,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
            }
        ],
    }
    header, row = kubectl("get", "hpa").stdout.splitlines()
    assert header.split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert row.split()[:7] == ["php-apache", "Deployment/php-apache", "cpu:", "<unknown>/50%", "1", "10", "0"]
    described = kubectl("describe", "hpa", "php-apache").stdout
    assert "Deployment/php-apache" in described
    assert "resource cpu on pods  (as a percentage of request):  <unknown> / 50%" in described
    assert "Deployment pods:" in described


def test_an_autoscaler_reads_at_autoscaling_v1_too(kubectl):
    kubectl("apply", "-f", "-", input=json.dumps(DEPLOYMENT))
    kubectl("autoscale", "deployment", "php-apache", "--cpu-percent=60", "--max=5")
    as_v1 = kubectl.json("get", "horizontalpodautoscalers.v1.autoscaling", "php-apache")
    assert as_v1["apiVersion"] == "autoscaling/v1"
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 60
