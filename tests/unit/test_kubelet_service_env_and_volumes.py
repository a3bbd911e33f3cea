"""The kubelet's thin half: the Service variables and `$(VAR)` expansion in a container's env, and
downwardAPI and projected volumes as read-only files, read from the sandbox's store."""

import base64
import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clusters import kubelet, store
from clusters.models import ContainerLog
from clusters.objects.resources import resource_for_kind
from clusters.runtime.base import VolumeSpec
from clusters.sandboxes import sandbox_create

PODS = resource_for_kind("v1", "Pod")
SERVICES = resource_for_kind("v1", "Service")
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
NAMESPACES = resource_for_kind("v1", "Namespace")

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    made = sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated", fast_backoff=True)
    store.object_create(sandbox=made, resource=NAMESPACES, body={"metadata": {"name": "shop"}})
    return made


@pytest.fixture
def clock(monkeypatch):
    moment = SimpleNamespace(now=timezone.now())
    monkeypatch.setattr(kubelet, "timezone", SimpleNamespace(now=lambda: moment.now))
    return moment


def create(sandbox, resource, body, namespace="shop"):
    return store.object_create(sandbox=sandbox, resource=resource, body=body, namespace=namespace)


def api_ip(sandbox) -> str:
    return store.object_get(sandbox=sandbox, resource=SERVICES, namespace="default", name="kubernetes")["spec"][
        "clusterIP"
    ]


def service(name: str, port: dict, cluster_ip: str | None = None) -> dict:
    spec = {"selector": {"app": name}, "ports": [port]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"metadata": {"name": name}, "spec": spec}


def pod(container: dict, **spec) -> dict:
    return {
        "metadata": {"name": "p", "namespace": "shop", "uid": "uid-1", "labels": {"app": "p"}},
        "spec": {"nodeName": "node-1", "containers": [container], **spec},
    }


def test_a_container_gets_its_namespaces_services_and_the_kubernetes_service(sandbox):
    db = create(sandbox, SERVICES, service("my-db", {"name": "sql", "port": 5432}))["spec"]["clusterIP"]
    create(sandbox, SERVICES, service("headless", {"port": 80}, cluster_ip="None"))
    create(sandbox, SERVICES, service("elsewhere", {"port": 80}), namespace="default")
    env = kubelet.container_env(sandbox, pod({"name": "c"}), {"name": "c"}, {})
    api = api_ip(sandbox)
    assert env["KUBERNETES_SERVICE_HOST"] == api
    assert env["KUBERNETES_PORT"] == f"tcp://{api}:443"
    assert env["MY_DB_SERVICE_HOST"] == db
    assert env["MY_DB_SERVICE_PORT_SQL"] == "5432"
    assert env["MY_DB_PORT_5432_TCP"] == f"tcp://{db}:5432"
    assert not [name for name in env if name.startswith(("HEADLESS_", "ELSEWHERE_"))]
    unlinked = kubelet.container_env(sandbox, pod({"name": "c"}, enableServiceLinks=False), {"name": "c"}, {})
    assert sorted(unlinked) == sorted(name for name in env if name.startswith("KUBERNETES_"))


def test_env_wins_over_service_variables_and_may_refer_to_them(sandbox):
    create(sandbox, SERVICES, service("my-db", {"port": 5432}))
    create(sandbox, CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"SCHEME": "postgres", "MY_DB_PORT": "x"}})
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "settings"}}],
        "env": [
            {"name": "URL", "value": "$(SCHEME)://$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)/$(LATER)"},
            {"name": "LATER", "value": "set after"},
            {"name": "KUBERNETES_SERVICE_PORT", "value": "overridden"},
            {"name": "PRICE", "value": "$$(HOME) $$5"},
            {"name": "EMPTY"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "ECHO", "value": "$(POD)"},
        ],
    }
    env = kubelet.container_env(sandbox, pod(container), container, {"POD": "p"})
    db = store.object_get(sandbox=sandbox, resource=SERVICES, namespace="shop", name="my-db")["spec"]["clusterIP"]
    assert env["URL"] == f"postgres://{db}:5432/$(LATER)"  # only what is defined before it
    assert env["KUBERNETES_SERVICE_PORT"] == "overridden"
    assert env["MY_DB_PORT"] == "x"  # envFrom wins too
    assert env["PRICE"] == "$(HOME) $5"
    assert env["EMPTY"] == ""
    assert env["ECHO"] == "p"


def test_a_resource_field_env_var_reads_its_container_and_the_nodes_allocatable(sandbox):
    container = {
        "name": "c",
        "resources": {"requests": {"memory": "32Mi"}},
        "env": [
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
        ],
    }
    env = kubelet.container_env(sandbox, pod(container), container, {})
    assert (env["MEM"], env["CPU"]) == ("32", "2000")  # a node of the sandbox has 2 CPUs


def test_downward_api_and_projected_volumes_are_read_only_files(sandbox):
    create(sandbox, CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"mode": "teaching", "other": "x"}})
    volumes = [
        {
            "name": "podinfo",
            "downwardAPI": {
                "items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "cpu", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu"}},
                ]
            },
        },
        {
            "name": "all",
            "projected": {
                "sources": [
                    {"configMap": {"name": "settings", "items": [{"key": "mode", "path": "conf/mode"}]}},
                    {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                    {"serviceAccountToken": {"path": "token", "audience": "vault", "expirationSeconds": 600}},
                ]
            },
        },
        {"name": "scratch", "emptyDir": {}},
    ]
    body = pod({"name": "c"}, volumes=volumes, serviceAccountName="builder")
    body["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z"
    specs = {spec.name: spec for spec in kubelet.volume_specs(sandbox, body)}
    assert specs["podinfo"] == VolumeSpec("podinfo", "files", files={"labels": 'app="p"', "cpu": "2"}, read_only=True)
    assert specs["scratch"] == VolumeSpec("scratch", "emptyDir")
    projected = specs["all"]
    assert projected.read_only
    assert projected.kind == "files"
    assert set(projected.files) == {"conf/mode", "name", "token"}
    assert (projected.files["conf/mode"], projected.files["name"]) == ("teaching", "p")
    header, claims, signature = projected.files["token"].split(".")
    padded = claims + "=" * (-len(claims) % 4)
    decoded = json.loads(base64.urlsafe_b64decode(padded))
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))) == {"alg": "none", "typ": "JWT"}
    assert signature == ""  # a placeholder: unsigned
    assert decoded["aud"] == ["vault"]
    assert decoded["sub"] == "system:serviceaccount:shop:builder"
    assert decoded["exp"] - decoded["iat"] == 600


def test_the_documentations_pods_run_on_the_simulated_runtime(sandbox, clock):
    commands = {
        "metadata": {"name": "command-demo"},
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "OnFailure",
            "containers": [{"name": "c", "image": "debian", "command": ["printenv"], "args": ["KUBERNETES_PORT"]}],
        },
    }
    dapi = {
        "metadata": {"name": "dapi", "labels": {"zone": "us-est-coast", "rack": "rack-22"}},
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "c",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c"],
                    "args": ["if [[ -e /etc/podinfo/labels ]]; then cat /etc/podinfo/labels; fi; sleep 3600"],
                    "volumeMounts": [{"name": "podinfo", "mountPath": "/etc/podinfo"}],
                }
            ],
            "volumes": [
                {
                    "name": "podinfo",
                    "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
                }
            ],
        },
    }
    made = [create(sandbox, PODS, body) for body in (commands, dapi)]
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    logs = {
        body["metadata"]["name"]: list(
            ContainerLog.objects.filter(pod_uid=body["metadata"]["uid"]).values_list("line", flat=True)
        )
        for body in made
    }
    api = api_ip(sandbox)
    assert logs == {"command-demo": [f"tcp://{api}:443"], "dapi": ['rack="rack-22"', 'zone="us-est-coast"']}
