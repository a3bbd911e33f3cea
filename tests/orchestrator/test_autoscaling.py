"""The HorizontalPodAutoscaler Walkthrough with the real kubectl, on both runtimes: the php-apache
Deployment, `kubectl autoscale`, the busybox load generator, and the autoscaler scaling the
Deployment up under load and back down once the load is gone, as `kubectl get hpa` and
`kubectl describe hpa` show it.

The autoscaler keeps upstream's algorithm and its 300 s downscale stabilization by default; to
finish in reasonable time the test gives it a 15 s scale-down window of its own in its behavior,
as a lesson may, and syncs every 5 s (TUTOR_HPA_SYNC_SECONDS; metrics are still sampled every 15 s).
"""

from __future__ import annotations

import contextlib
import json
import subprocess

import pytest

from tests.kubectl.conftest import KUBECTL
from tests.orchestrator.conftest import running_cluster
from tests.orchestrator.helpers import eventually

# kubernetes/website content/en/examples/application/php-apache.yaml (CC BY 4.0, The Kubernetes Authors)
PHP_APACHE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: php-apache
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: php-apache
  template:
    metadata:
      labels:
        app.kubernetes.io/name: php-apache
    spec:
      containers:
      - name: php-apache
        image: registry.k8s.io/hpa-example
        ports:
        - containerPort: 80
        resources:
          limits:
            cpu: 500m
          requests:
            cpu: 200m
---
apiVersion: v1
kind: Service
metadata:
  name: php-apache
  labels:
    app.kubernetes.io/name: php-apache
spec:
  ports:
  - port: 80
  selector:
    app.kubernetes.io/name: php-apache
"""
LOAD = "while sleep 0.01; do wget -q -O- http://php-apache; done"
SHORT_SCALE_DOWN = {"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 15}}}}


@pytest.fixture(scope="module", params=["simulated", "docker"])
def cluster(request, tmp_path_factory):
    runtime = request.param
    root = tmp_path_factory.mktemp(f"autoscaling-{runtime}")
    with running_cluster(root, runtime, env={"TUTOR_HPA_SYNC_SECONDS": "5"}) as running:
        yield running


def hpa(kubectl) -> dict:
    return kubectl.json("get", "hpa", "php-apache")


def get_hpa_row(kubectl) -> dict[str, str]:
    """`kubectl get hpa php-apache` as {column: cell}."""
    header, row = kubectl("get", "hpa", "php-apache").stdout.splitlines()
    return dict(zip(header.split(), row.split(None, 2)[:2] + row.split(None, 2)[2].rsplit(None, 4), strict=True))


def replicas(kubectl) -> int:
    return kubectl.json("get", "deployment", "php-apache")["spec"]["replicas"]


@contextlib.contextmanager
def watching_table(kubectl, *args: str):
    """`kubectl get <args> --watch` (its table) in the background: yields a function that returns
    the lines printed so far."""
    path = kubectl.home / "watch.txt"
    command = [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "--cache-dir", str(kubectl.home / "cache")]
    with path.open("w") as sink:
        process = subprocess.Popen(
            [*command, "get", *args, "--watch"], stdout=sink, stderr=subprocess.DEVNULL, env={"HOME": str(kubectl.home)}
        )
    try:
        yield lambda: path.read_text().splitlines()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_walkthrough_scales_php_apache_up_under_load_and_back_down(kubectl):
    kubectl("apply", "-f", "-", input=PHP_APACHE)
    eventually(lambda: kubectl.json("get", "deployment", "php-apache").get("status", {}).get("readyReplicas") == 1, 120)

    created = kubectl("autoscale", "deployment", "php-apache", "--cpu-percent=50", "--min=1", "--max=10")
    assert created.stdout.strip() == "horizontalpodautoscaler.autoscaling/php-apache autoscaled"
    kubectl("patch", "hpa", "php-apache", "--type=merge", "-p", json.dumps(SHORT_SCALE_DOWN))
    spec = hpa(kubectl)["spec"]
    assert spec["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
    ]
    # The rest of the behavior is upstream's defaults; scale-down keeps the window it was given.
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert spec["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 15,
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    }

    with watching_table(kubectl, "hpa", "php-apache") as printed:

        def measured():
            """the autoscaler reads the pods' CPU"""
            row = get_hpa_row(kubectl)
            return row if row["TARGETS"] not in ("cpu: <unknown>/50%",) else None

        row = eventually(measured, timeout=120, interval=2)
        assert row["REFERENCE"] == "Deployment/php-apache"
        assert (row["MINPODS"], row["MAXPODS"], row["REPLICAS"]) == ("1", "10", "1")
        idle = int(row["TARGETS"].removeprefix("cpu: ").split("%")[0])
        assert idle < 50

        kubectl("run", "load-generator", "--image=busybox:1.28", "--restart=Never", "--", "/bin/sh", "-c", LOAD)
        eventually(lambda: replicas(kubectl) > 1, timeout=150, interval=2)
        described = kubectl("describe", "hpa", "php-apache").stdout
        assert "Deployment/php-apache" in described
        assert "SuccessfulRescale" in described
        assert "reason: cpu resource utilization (percentage of request) above target" in described
        assert eventually(lambda: len(printed()) > 2, timeout=30)
        assert printed()[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]

    kubectl("delete", "pod", "load-generator", "--now")
    eventually(lambda: replicas(kubectl) == 1, timeout=150, interval=2)
    described = kubectl("describe", "hpa", "php-apache").stdout
    assert "reason: All metrics below target" in described
    conditions = {c["type"]: (c["status"], c["reason"]) for c in hpa(kubectl)["status"]["conditions"]}
    assert conditions["AbleToScale"][0] == conditions["ScalingActive"][0] == "True"
    # Idle pods propose 0 (limited to minReplicas) or 1, as their CPU rounds.
    assert conditions["ScalingLimited"] in {("True", "TooFewReplicas"), ("False", "DesiredWithinRange")}


def test_the_docs_autoscaler_manifest_applies_and_reads_back_at_both_versions(kubectl):
    # kubernetes/website content/en/examples/application/hpa/php-apache.yaml, and the ReplicaSet
    # page's autoscaling/v1 one (controllers/hpa-rs.yaml): one object, seen at either version.
    manifest = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "php-apache"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
    }
    assert kubectl("apply", "-f", "-", input=json.dumps(manifest)).stdout.strip() == (
        "horizontalpodautoscaler.autoscaling/php-apache created"
    )
    as_v1 = kubectl.json("get", "horizontalpodautoscalers.v1.autoscaling", "php-apache")
    assert as_v1["apiVersion"] == "autoscaling/v1"
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 50
    v1 = {
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
    kubectl("apply", "-f", "-", input=json.dumps(v1))
    stored = kubectl.json("get", "hpa", "frontend-scaler")
    assert stored["apiVersion"] == "autoscaling/v2"
    assert stored["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 50}
    # No such ReplicaSet: the autoscaler says so, as upstream's does.
    described = eventually(
        lambda: (text := kubectl("describe", "hpa", "frontend-scaler").stdout) and "FailedGetScale" in text and text,
        timeout=60,
    )
    assert 'replicasets.apps "frontend" not found' in described
