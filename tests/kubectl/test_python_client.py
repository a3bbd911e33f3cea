"""The official `kubernetes` Python client against a live sandbox API: typed, watch and dynamic."""

import re
import threading
import uuid

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException


@pytest.fixture
def api_client(api_server):
    """A client with the token as a bearer header (the Python client sends it even over http)."""
    text = api_server.kubeconfig("alice").read_text()
    server = re.search(r"server: (\S+)", text).group(1)
    base, token = server.split("/t/")
    configuration = client.Configuration(host=base)
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def namespace(api_client):
    name = f"py-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def test_version_endpoint_answers_the_client(api_client):
    assert client.VersionApi(api_client).get_code().git_version == "v1.37.0"


def test_typed_core_crud(api_client, namespace):
    core = client.CoreV1Api(api_client)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"color": "blue"})
    created = core.create_namespaced_config_map(namespace, body)
    assert created.metadata.uid
    assert core.read_namespaced_config_map("settings", namespace).data == {"color": "blue"}
    core.patch_namespaced_config_map("settings", namespace, {"data": {"color": "green"}})
    current = core.read_namespaced_config_map("settings", namespace)
    assert current.data == {"color": "green"}
    current.data["size"] = "large"
    replaced = core.replace_namespaced_config_map("settings", namespace, current)
    assert replaced.data == {"color": "green", "size": "large"}
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["settings"]
    core.delete_namespaced_config_map("settings", namespace)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("settings", namespace)
    assert missing.value.status == 404


def test_a_stale_replace_is_a_conflict(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
    first = core.read_namespaced_config_map("c", namespace)
    core.patch_namespaced_config_map("c", namespace, {"data": {"a": "1"}})
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("c", namespace, first)
    assert conflict.value.status == 409


def test_typed_apps_and_batch_crud_with_the_scale_subresource(api_client, namespace):
    apps, batch = client.AppsV1Api(api_client), client.BatchV1Api(api_client)
    labels = {"app": "web"}
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="nginx", image="nginx:1.27")]),
    )
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels=labels), template=template
        ),
    )
    created = apps.create_namespaced_deployment(namespace, deployment)
    assert created.spec.strategy.type == "RollingUpdate"
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment_scale("web", namespace).spec.replicas == 4
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="once"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="main", image="busybox", command=["echo", "hi"])],
                )
            )
        ),
    )
    created_job = batch.create_namespaced_job(namespace, job)
    assert created_job.spec.backoff_limit == 6
    assert created_job.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": created_job.metadata.uid}
    batch.delete_namespaced_job("once", namespace, propagation_policy="Background")


def test_watch_streams_added_modified_and_deleted(api_client, namespace):
    core = client.CoreV1Api(api_client)
    listing = core.list_namespaced_config_map(namespace)
    seen = []
    ready = threading.Event()

    def follow():
        stream = watch.Watch()
        ready.set()
        for event in stream.stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=listing.metadata.resource_version,
            timeout_seconds=20,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()

    thread = threading.Thread(target=follow)
    thread.start()
    ready.wait()
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w")))
    core.patch_namespaced_config_map("w", namespace, {"data": {"a": "1"}})
    core.delete_namespaced_config_map("w", namespace)
    thread.join(timeout=30)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_the_dynamic_client_discovers_and_manages_objects(api_client, namespace):
    dyn = dynamic.DynamicClient(api_client)
    services = dyn.resources.get(api_version="v1", kind="Service")
    created = services.create(
        namespace=namespace,
        body={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    assert created.spec.clusterIP.startswith("10.")
    patched = services.patch(
        namespace=namespace,
        name="web",
        body={"metadata": {"labels": {"tier": "front"}}},
        content_type="application/merge-patch+json",
    )
    assert patched.metadata.labels.tier == "front"
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced
    assert [s.metadata.name for s in services.get(namespace=namespace).items] == ["web"]
    services.delete(namespace=namespace, name="web")
    assert services.get(namespace=namespace).items == []
