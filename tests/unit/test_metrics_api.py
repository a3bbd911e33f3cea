"""metrics.k8s.io as metrics-server serves it: discovery, and NodeMetrics / PodMetrics computed from
what the kubelets (here on the simulated runtime, on a test clock) sampled."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from clusters import kubelet, metrics, store
from clusters.kube import discovery
from clusters.models import AccessToken, NodeRuntimeState
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create
from clusters.usage_samples import SAMPLE_INTERVAL

PODS = resource_for_kind("v1", "Pod")
METRICS = "/apis/metrics.k8s.io/v1beta1"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


# --- the bodies and discovery (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("nanocores", "text"), [(0, "0"), (1_234_567, "1234567n"), (5_000_000, "5m"), (12_000, "12u"), (10**9, "1")]
)
def test_cpu_is_written_in_nanocores_canonically(nanocores, text):
    assert metrics.cpu_text(nanocores) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(12_644_352, "12348Ki"), (4 * 2**20, "4Mi"), (1000, "1k"), (1023, "1023"), (12_644_353, "12644353")],
)
def test_memory_is_written_in_binary_si(size, text):
    assert metrics.memory_text(size) == text


def test_the_group_is_discovered_last_with_get_and_list_of_nodes_and_pods():
    groups = discovery.api_group_list()["groups"]
    assert groups[-1] == {
        "name": "metrics.k8s.io",
        "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}],
        "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"},
    }
    assert discovery.api_resource_list("metrics.k8s.io", "v1beta1") == {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "metrics.k8s.io/v1beta1",
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    }
    aggregated = discovery.aggregated_discovery(False)["items"][-1]
    assert aggregated["metadata"] == {"name": "metrics.k8s.io"}
    [version] = aggregated["versions"]
    assert [(r["resource"], r["scope"], r["responseKind"]["kind"]) for r in version["resources"]] == [
        ("nodes", "Cluster", "NodeMetrics"),
        ("pods", "Namespaced", "PodMetrics"),
    ]


# --- served from what the kubelets sampled --------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The kubelet's and the metrics API's time, moved by the test."""
    moment = SimpleNamespace(now=timezone.now().replace(microsecond=0))
    fake = SimpleNamespace(now=lambda: moment.now)
    monkeypatch.setattr(kubelet, "timezone", fake)
    monkeypatch.setattr(metrics, "timezone", fake)
    return moment


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")


@pytest.fixture
def get(sandbox):
    _, key = AccessToken.issue(user=sandbox.owner)

    def answer(path: str, **headers):
        return Client().get(f"/k8s/{sandbox.uid.hex}/t/{key}{path}", headers=headers)

    return answer


def shell_pod(name: str, script: str, *, node: str = "node-1", **limits) -> dict:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    if limits:
        container["resources"] = {"limits": limits}
    return {"metadata": {"name": name, "labels": {"app": name}}, "spec": {"nodeName": node, "containers": [container]}}


def create(sandbox, body: dict, namespace: str = "default") -> dict:
    return store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace=namespace)


def kubelets_run(sandbox, clock, *, nodes=("node-1",)) -> list:
    return [kubelet.kubelet_reconcile(sandbox, node=node, now=clock.now) for node in nodes]


@pytest.fixture
def measured(sandbox, clock):
    """A busy loop held at 500m and a sleeper on node-1, sampled twice a resolution apart."""
    create(sandbox, shell_pod("burner", "while true; do :; done", cpu="500m"))
    create(sandbox, shell_pod("sleeper", "sleep 3600"))
    kubelets_run(sandbox, clock, nodes=("node-1", "node-2"))
    clock.now += SAMPLE_INTERVAL
    kubelets_run(sandbox, clock, nodes=("node-1", "node-2"))
    return clock.now


def test_pod_metrics_are_the_usage_between_the_last_two_samples(get, measured):
    body = get(f"{METRICS}/namespaces/default/pods").json()
    assert (body["kind"], body["apiVersion"], body["metadata"]) == ("PodMetricsList", "metrics.k8s.io/v1beta1", {})
    stamp = measured.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["items"] == [
        {
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": "burner",
                "namespace": "default",
                "creationTimestamp": stamp,
                "labels": {"app": "burner"},
            },
            "timestamp": stamp,
            "window": "15s",
            "containers": [{"name": "main", "usage": {"cpu": "500m", "memory": "1Mi"}}],
        },
        {
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": "sleeper",
                "namespace": "default",
                "creationTimestamp": stamp,
                "labels": {"app": "sleeper"},
            },
            "timestamp": stamp,
            "window": "15s",
            "containers": [{"name": "main", "usage": {"cpu": "0", "memory": "1Mi"}}],
        },
    ]


def test_pod_metrics_follow_namespace_and_label_selector(sandbox, get, clock, measured):
    selected = get(f"{METRICS}/namespaces/default/pods?labelSelector=app%3Dburner").json()["items"]
    assert [item["metadata"]["name"] for item in selected] == ["burner"]
    assert get(f"{METRICS}/namespaces/kube-system/pods").json()["items"] == []
    everywhere = get(f"{METRICS}/pods").json()["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everywhere] == [
        ("default", "burner"),
        ("default", "sleeper"),
    ]


def test_one_pods_metrics_by_name_and_not_found_until_measured(sandbox, get, clock, measured):
    assert get(f"{METRICS}/namespaces/default/pods/burner").json()["containers"][0]["usage"]["cpu"] == "500m"
    create(sandbox, shell_pod("late", "sleep 3600"))
    kubelets_run(sandbox, clock)
    response = get(f"{METRICS}/namespaces/default/pods/late")
    assert response.status_code == 404
    assert response.json()["message"] == 'podmetrics.metrics.k8s.io "default/late" not found'
    assert get(f"{METRICS}/namespaces/default/pods/nope").json()["message"] == 'pods "nope" not found'


def test_node_metrics_sum_the_pods_and_the_system_of_measured_nodes(get, measured):
    body = get(f"{METRICS}/nodes").json()
    assert body["kind"] == "NodeMetricsList"
    node_1, node_2 = body["items"]
    assert node_1["metadata"]["name"] == "node-1"
    assert node_1["metadata"]["labels"]["kubernetes.io/hostname"] == "node-1"
    assert (node_1["window"], node_1["usage"]) == ("15s", {"cpu": "530m", "memory": "258Mi"})
    assert node_2["usage"] == {"cpu": "30m", "memory": "256Mi"}
    assert get(f"{METRICS}/nodes/node-2").json()["usage"] == node_2["usage"]
    assert get(f"{METRICS}/nodes/node-9").json()["message"] == 'nodes "node-9" not found'


def test_metrics_stop_being_served_when_the_kubelet_stops_sampling(get, clock, measured):
    clock.now += timedelta(minutes=2)
    assert get(f"{METRICS}/nodes").json()["items"] == []
    assert get(f"{METRICS}/namespaces/default/pods").json()["items"] == []


def test_a_read_keeps_the_kubelets_sampling_every_resolution(sandbox, get, clock, measured):
    [unwanted] = kubelets_run(sandbox, clock)
    assert unwanted > clock.now + SAMPLE_INTERVAL  # nothing brings it back for a sample
    get(f"{METRICS}/nodes")
    wanted = NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").usage_wanted_until
    assert wanted == clock.now + metrics.WANTED_FOR
    assert kubelets_run(sandbox, clock) == [clock.now + SAMPLE_INTERVAL]


def test_a_table_has_metrics_servers_columns_and_sums_a_pods_containers(get, measured):
    table = get(f"{METRICS}/namespaces/default/pods", Accept=TABLE).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "cpu", "memory", "Window"]
    assert [row["cells"] for row in table["rows"]] == [["burner", "500m", "1Mi", "15s"], ["sleeper", "0", "1Mi", "15s"]]
    assert table["rows"][0]["object"]["metadata"]["namespace"] == "default"


def test_what_metrics_server_refuses(sandbox, get, measured):
    base = f"/k8s/{sandbox.uid.hex}/t/{AccessToken.issue(user=sandbox.owner)[1]}{METRICS}"
    selector = get(f"{METRICS}/pods?fieldSelector=spec.nodeName%3Dnode-1")
    assert selector.status_code == 400
    assert (
        selector.json()["message"]
        == '"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    watch = get(f"{METRICS}/namespaces/default/pods?watch=true")
    assert (watch.status_code, watch.json()["message"]) == (
        405,
        'watch is not supported on resources of kind "pods.metrics.k8s.io"',
    )
    assert Client().delete(f"{base}/namespaces/default/pods/burner").status_code == 405
    assert get(f"{METRICS}/namespaces/default/widgets").status_code == 404
    assert get(f"{METRICS}/nodes/node-1/status").status_code == 404
