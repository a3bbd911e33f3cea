"""The OpenAPI v3 documents: shapes, every resource, the fieldValidation contract, refs, hashes.

The last section starts a throwaway HTTP server (discovery + OpenAPI only; GET of an object → 404,
POST → 201 echo) and points the real kubectl at it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from clusters.kube import discovery, openapi
from clusters.objects.resources import KUBE_VERSION, RESOURCES, Resource, group_versions, served_resources

METHODS = ("get", "put", "post", "delete", "patch")
SMP = "application/strategic-merge-patch+json"


def document_for(resource: Resource) -> dict:
    return openapi.openapi_document(openapi.document_path(resource.group, resource.version))[0]


def gvk_of(resource: Resource) -> dict:
    return {"group": resource.group, "kind": resource.kind, "version": resource.version}


def operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def query_parameters(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def walk(node, trail: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        yield trail, node
        for key, value in node.items():
            yield from walk(value, f"{trail}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{trail}/{index}")


def base_path(resource: Resource) -> str:
    prefix = "/" + openapi.document_path(resource.group, resource.version)
    return (
        f"{prefix}/namespaces/{{namespace}}/{resource.plural}" if resource.namespaced else f"{prefix}/{resource.plural}"
    )


ALL_DOCUMENTS = [openapi.document_path(g, v) for g, v in group_versions()]


# --- index and hashes ------------------------------------------------------------------------------


def test_index_lists_every_served_group_version_with_its_hash():
    index = openapi.openapi_index()
    assert set(index) == {"paths"}
    assert set(index["paths"]) == set(ALL_DOCUMENTS)
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1"} <= set(index["paths"])
    for path, entry in index["paths"].items():
        match = re.fullmatch(r"/openapi/v3/(.+)\?hash=([0-9A-F]{128})", entry["serverRelativeURL"])
        assert match, entry
        assert match[1] == path
        assert match[2] == openapi.openapi_document(path)[1]


def test_hash_is_the_uppercase_sha512_of_the_served_bytes():
    for path in ALL_DOCUMENTS:
        data, digest = openapi.openapi_document_bytes(path)
        assert digest == hashlib.sha512(data).hexdigest().upper()
        assert json.loads(data) == openapi.openapi_document(path)[0]


def test_hash_is_stable_across_calls_and_fresh_builds():
    first = openapi.openapi_index()
    assert openapi.openapi_index() == first
    for group, version in group_versions():
        rebuilt = openapi.serialize(openapi.build_document(group, version))
        assert openapi.content_hash(rebuilt) == openapi.openapi_document(openapi.document_path(group, version))[1]


def test_hash_changes_when_the_content_changes():
    document, digest = openapi.openapi_document("apis/apps/v1")
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["description"] += " (edited)"
    assert openapi.content_hash(openapi.serialize(changed)) != digest
    assert openapi.content_hash(openapi.serialize(document)) == digest
    hashes = {openapi.openapi_document(path)[1] for path in ALL_DOCUMENTS}
    assert len(hashes) == len(ALL_DOCUMENTS)


def test_documents_are_cached_and_unknown_paths_are_none():
    assert openapi.openapi_document("api/v1")[0] is openapi.openapi_document("api/v1")[0]
    assert openapi.openapi_document("/api/v1/")[1] == openapi.openapi_document("api/v1")[1]
    assert openapi.openapi_document("apis/apps/v1beta1") is None
    assert openapi.openapi_document("apis/nope/v1") is None
    assert openapi.openapi_document_bytes("version") is None


# --- document shape --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_DOCUMENTS)
def test_document_is_openapi_3_0(path):
    document = openapi.openapi_document(path)[0]
    assert document["openapi"] == "3.0.0"
    assert document["info"] == {"title": "Kubernetes", "version": f"v{KUBE_VERSION}"}
    assert document["components"]["schemas"]
    assert set(openapi.BASE_DEFINITIONS) <= set(document["components"]["schemas"])
    assert f"/{path}/" in document["paths"]


@pytest.mark.parametrize("path", ALL_DOCUMENTS)
def test_every_ref_resolves_inside_the_document(path):
    document = openapi.openapi_document(path)[0]
    schemas = document["components"]["schemas"]
    refs = [(trail, node["$ref"]) for trail, node in walk(document) if "$ref" in node]
    assert refs
    for trail, ref in refs:
        assert ref.startswith("#/components/schemas/"), (trail, ref)
        assert ref.removeprefix("#/components/schemas/") in schemas, (trail, ref)


@pytest.mark.parametrize("path", ALL_DOCUMENTS)
def test_schemas_are_openapi_3_0_not_json_schema_2020_12(path):
    schemas = openapi.openapi_document(path)[0]["components"]["schemas"]
    for trail, node in walk(schemas):
        assert not isinstance(node.get("type"), list), trail  # ["string", "null"] is not 3.0
        assert node.get("additionalProperties", {}) is not False, trail
        if "$ref" in node:
            # 3.0 ignores a $ref's siblings: a described ref must be wrapped in allOf.
            assert set(node) == {"$ref"}, trail
    assert "$defs" not in json.dumps(schemas)


@pytest.mark.parametrize("path", ALL_DOCUMENTS)
def test_only_reachable_definitions_are_included(path):
    schemas = openapi.openapi_document(path)[0]["components"]["schemas"]
    referenced = set(openapi.BASE_DEFINITIONS)
    for item in openapi.openapi_document(path)[0]["paths"].values():
        referenced |= openapi.refs_in(item)
    for schema_node in schemas.values():
        referenced |= openapi.refs_in(schema_node)
    assert set(schemas) == referenced


def test_documents_hold_their_own_kinds_and_not_the_others():
    apps = openapi.openapi_document("apis/apps/v1")[0]["components"]["schemas"]
    storage = openapi.openapi_document("apis/storage.k8s.io/v1")[0]["components"]["schemas"]
    assert "io.k8s.api.apps.v1.Deployment" in apps
    assert "io.k8s.api.autoscaling.v1.Scale" in apps
    assert "io.k8s.api.core.v1.PodSpec" in apps  # reached through the pod template
    assert "io.k8s.api.apps.v1.ControllerRevision" not in apps  # not served
    assert "io.k8s.api.core.v1.Pod" not in storage
    assert "io.k8s.api.apps.v1.Deployment" not in storage


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.key)
def test_every_kind_and_its_list_kind_have_a_schema_with_their_gvk(resource: Resource):
    schemas = document_for(resource)["components"]["schemas"]
    for kind in (resource.kind, resource.list_kind):
        gvk = {"group": resource.group, "kind": kind, "version": resource.version}
        holders = [name for name, node in schemas.items() if gvk in node.get("x-kubernetes-group-version-kind", [])]
        assert holders, kind


def test_conversion_keeps_upstream_details():
    schemas = openapi.openapi_document("api/v1")[0]["components"]["schemas"]
    pod_spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert pod_spec["restartPolicy"]["type"] == "string"
    assert "Restart policy" in pod_spec["restartPolicy"]["description"]
    containers = pod_spec["containers"]
    assert containers["type"] == "array"
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    assert pod_spec["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    assert pod_spec["terminationGracePeriodSeconds"]["format"] == "int64"
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["type"] == "object"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert pod["properties"]["metadata"]["description"].startswith("Standard object's metadata")
    # kubernetes-validate's one-value enums are not part of the published schema.
    assert pod["properties"]["apiVersion"] == {
        "description": pod["properties"]["apiVersion"]["description"],
        "type": "string",
    }
    assert "enum" not in pod["properties"]["kind"]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"
    assert schemas["io.k8s.api.core.v1.ConfigMap"]["properties"]["data"]["additionalProperties"] == {"type": "string"}


def test_int_or_string_and_quantity_have_the_upstream_shapes():
    schemas = openapi.openapi_document("api/v1")[0]["components"]["schemas"]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert int_or_string["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert "type" not in int_or_string
    quantity = schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["oneOf"] == [{"type": "string"}, {"type": "number"}]
    assert quantity["description"]
    target_port = schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["targetPort"]
    assert target_port["allOf"] == [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]


# --- paths -----------------------------------------------------------------------------------------


# (path suffix, method, x-kubernetes-action, the discovery verb that needs it)
OPERATIONS = (
    ("", "get", "list", "list"),
    ("", "post", "post", "create"),
    ("", "delete", "deletecollection", "deletecollection"),
    ("/{name}", "get", "get", "get"),
    ("/{name}", "put", "put", "update"),
    ("/{name}", "patch", "patch", "patch"),
    ("/{name}", "delete", "delete", "delete"),
)


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.key)
def test_every_resource_has_collection_and_item_paths(resource: Resource):
    paths = document_for(resource)["paths"]
    base = base_path(resource)
    for suffix, method, action, verb in OPERATIONS:
        path_item = paths[base + suffix]
        if verb not in resource.verbs:
            assert method not in path_item
            continue
        operation = path_item[method]
        assert operation["x-kubernetes-action"] == action
        assert operation["x-kubernetes-group-version-kind"] == gvk_of(resource)
        assert operation["operationId"]
    path_parameters = {p["name"] for p in paths[base]["parameters"] if p["in"] == "path"}
    assert path_parameters == ({"namespace"} if resource.namespaced else set())
    assert {p["name"] for p in paths[f"{base}/{{name}}"]["parameters"] if p["in"] == "path"} >= {"name"}
    if resource.namespaced:
        prefix = "/" + openapi.document_path(resource.group, resource.version)
        cluster_wide = paths[f"{prefix}/{resource.plural}"]
        assert set(cluster_wide) == {"get", "parameters"}
        assert cluster_wide["get"]["x-kubernetes-action"] == "list"
        assert cluster_wide["get"]["x-kubernetes-group-version-kind"] == gvk_of(resource)


def test_operation_ids_are_unique_and_spelled_like_upstream():
    ids = [op["operationId"] for path in ALL_DOCUMENTS for _, _, op in operations(openapi.openapi_document(path)[0])]
    assert len(ids) == len(set(ids))
    assert {
        "listAppsV1NamespacedDeployment",
        "patchAppsV1NamespacedDeploymentScale",
        "listAppsV1DeploymentForAllNamespaces",
        "deleteAppsV1CollectionNamespacedDeployment",
        "readCoreV1NamespacedPodLog",
        "listCoreV1Node",
        "deleteCoreV1CollectionNode",
        "createStorageV1StorageClass",
    } <= set(ids)


@pytest.mark.parametrize("path", ALL_DOCUMENTS)
def test_every_write_lists_field_validation(path):
    document = openapi.openapi_document(path)[0]
    # Connect operations (pods/exec) upgrade to a stream: they take no body to validate.
    writes = [
        (p, m, op)
        for p, m, op in operations(document)
        if m in ("post", "put", "patch") and op["x-kubernetes-action"] != "connect"
    ]
    assert writes
    for operation_path, method, operation in writes:
        assert "fieldValidation" in query_parameters(operation), (operation_path, method)
        assert "dryRun" in query_parameters(operation), (operation_path, method)
        assert "fieldManager" in query_parameters(operation), (operation_path, method)


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.key)
def test_query_param_verifier_accepts_field_validation(resource: Resource):
    """cli-runtime query_param_verifier_v3.go: the first PATCH operation with the kind's GVK decides.

    Paths are a map there, so every matching PATCH operation must list the parameter.
    """
    patches = [
        op
        for _, method, op in operations(document_for(resource))
        if method == "patch" and op.get("x-kubernetes-group-version-kind") == gvk_of(resource)
    ]
    assert patches, "no PATCH operation: kubectl apply would fail with 'Path not found for GVK'"
    for operation in patches:
        assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in operation["parameters"])
        # kubectl's patcher only builds its patch from this document when SMP is a body type.
        assert SMP in operation["requestBody"]["content"]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.key)
def test_explain_template_finds_the_kind_through_the_paths(resource: Resource):
    """kubectl explain (plaintext.tmpl) looks for a GVK on these four paths, then a schema with it."""
    document = document_for(resource)
    prefix = "/" + openapi.document_path(resource.group, resource.version)
    candidates = [
        f"{prefix}/{resource.plural}",
        f"{prefix}/{resource.plural}/{{name}}",
        f"{prefix}/namespaces/{{namespace}}/{resource.plural}",
        f"{prefix}/namespaces/{{namespace}}/{resource.plural}/{{name}}",
    ]
    gvk = next(
        document["paths"][path][method]["x-kubernetes-group-version-kind"]
        for path in candidates
        if path in document["paths"]
        for method in METHODS
        if "x-kubernetes-group-version-kind" in document["paths"][path].get(method, {})
    )
    assert gvk == gvk_of(resource)
    assert any(
        gvk in node.get("x-kubernetes-group-version-kind", []) for node in document["components"]["schemas"].values()
    )


@pytest.mark.parametrize(
    ("resource", "sub"), [(r, s) for r in RESOURCES for s in r.subresources], ids=lambda v: getattr(v, "key", v)
)
def test_every_subresource_has_a_path(resource: Resource, sub: str):
    item = document_for(resource)["paths"][f"{base_path(resource)}/{{name}}/{sub}"]
    group, version, kind = discovery.subresource_gvk(resource, sub)
    expected_methods = {"get": "get", "update": "put", "patch": "patch", "create": "post"}
    methods = {expected_methods[verb] for verb in discovery.SUBRESOURCES[sub].verbs}
    assert set(item) - {"parameters"} == methods
    for method in methods:
        assert item[method]["x-kubernetes-group-version-kind"] == {"group": group, "kind": kind, "version": version}


def test_scale_paths_answer_scale():
    document = openapi.openapi_document("apis/apps/v1")[0]
    scale = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    ref = {"$ref": "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"}
    assert scale["get"]["responses"]["200"]["content"]["application/json"]["schema"] == ref
    assert scale["put"]["requestBody"]["content"]["*/*"]["schema"] == ref
    assert "fieldValidation" in query_parameters(scale["patch"])


def test_pod_log_path_returns_text():
    log = openapi.openapi_document("api/v1")[0]["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]
    assert set(log) == {"get", "parameters"}
    assert log["get"]["responses"]["200"]["content"]["text/plain"]["schema"] == {"type": "string"}
    assert {"container", "follow", "previous", "tailLines"} <= query_parameters(log["get"])


# --- the real kubectl against the documents --------------------------------------------------------

KUBECTL = Path(sys.executable).parent / "kubectl"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


class FakeApiServer(BaseHTTPRequestHandler):
    """Discovery and OpenAPI from the modules under test; objects do not exist, creates echo."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: dict | bytes, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> None:
        self.server.requests.append((self.command, self.path, self.headers.get("Accept", "")))

    def do_GET(self) -> None:
        self._record()
        path = urlsplit(self.path).path.rstrip("/")
        parts = path.strip("/").split("/")
        aggregated = self.server.aggregated and discovery.wants_aggregated(self.headers.get("Accept"))
        body, content_type = None, "application/json"
        if path == "/version":
            body = discovery.version_info()
        elif path in ("/api", "/apis") and aggregated:
            body, content_type = discovery.aggregated_discovery(path == "/api"), discovery.AGGREGATED_CONTENT_TYPE
        elif path == "/api":
            body = discovery.api_versions(self.headers["Host"])
        elif path == "/apis":
            body = discovery.api_group_list()
        elif parts[0] == "api" and len(parts) == 2:
            body = discovery.api_resource_list("", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            body = discovery.api_resource_list(parts[1], parts[2])
        elif path == "/openapi/v3":
            body = openapi.openapi_index()
        elif path.startswith("/openapi/v3/"):
            built = openapi.openapi_document_bytes(path.removeprefix("/openapi/v3/"))
            body = built and built[0]
        if body is None and self.server.existing and path == self.server.existing_path:
            body = self.server.existing
        if body is None:
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}
            return self._send(404, body)
        return self._send(200, body, content_type)

    def do_PATCH(self) -> None:
        self._record()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.patches.append((self.headers.get("Content-Type"), json.loads(body)))
        self._send(200, self.server.existing)

    def do_POST(self) -> None:
        self._record()
        created = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        created["metadata"] |= {"uid": "0b5e7c3a", "resourceVersion": "1"}
        self._send(201, created)


@pytest.fixture
def api_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    server.requests = []
    server.patches = []
    server.aggregated = True
    server.existing, server.existing_path = None, None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def kubectl(api_server, tmp_path):
    if not KUBECTL.exists():
        pytest.skip("kubectl is not installed next to the interpreter")
    kubeconfig = tmp_path / "kubeconfig"
    port = api_server.server_address[1]
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: t, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: t, user: {}}]\n"
        "contexts: [{name: t, context: {cluster: t, user: t, namespace: default}}]\n"
        "current-context: t\n"
    )
    # A fresh HOME and cache directory: discovery and OpenAPI always start cold.
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        command = [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=30)

    return run


def test_kubectl_version_prints_no_skew_warning(kubectl):
    result = kubectl("version")
    assert result.returncode == 0, result.stderr
    assert f"Server Version: v{KUBE_VERSION}" in result.stdout
    assert "Warning" not in result.stdout + result.stderr


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy"])
def test_kubectl_api_resources_lists_every_kind(kubectl, api_server, aggregated):
    api_server.aggregated = aggregated
    result = kubectl("api-resources", "--no-headers")
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        *name_and_short, api_version, namespaced, kind = line.split()
        rows[name_and_short[0], api_version] = (name_and_short[1:], namespaced, kind)
    # metrics.k8s.io names `nodes` and `pods` again, under its own group-version. A group served
    # at two versions (autoscaling) is listed at its preferred one, the first served.
    preferred: dict[str, str] = {}
    for resource in served_resources():
        preferred.setdefault(resource.group, resource.version)
    assert rows == {
        (r.plural, r.api_version): (list(r.short_names), str(r.namespaced).lower(), r.kind)
        for r in served_resources()
        if preferred[r.group] == r.version
    }
    discovery_requests = [path for method, path, _ in api_server.requests if not path.startswith("/openapi")]
    per_group_version = [path for path in discovery_requests if path.split("?")[0] not in ("/api", "/apis")]
    # Aggregated discovery answers everything in two requests; legacy needs one per group-version.
    assert bool(per_group_version) is not aggregated


def test_kubectl_explain_reads_the_documents(kubectl):
    result = kubectl("explain", "pods.spec.restartPolicy")
    assert result.returncode == 0, result.stderr
    assert "FIELD: restartPolicy <string>" in result.stdout
    assert "Restart policy for all containers" in result.stdout

    result = kubectl("explain", "deployment.spec.strategy", "--recursive")
    assert result.returncode == 0, result.stderr
    assert "GROUP:      apps" in result.stdout
    assert "maxSurge\t<IntOrString>" in result.stdout

    result = kubectl("explain", "svc")
    assert result.returncode == 0, result.stderr
    assert "spec\t<ServiceSpec>" in result.stdout

    result = kubectl("explain", "pods.spec.nope")
    assert result.returncode != 0
    assert 'field "nope" does not exist' in result.stderr


@pytest.mark.parametrize(
    ("args", "manager"),
    [(("apply", "--dry-run=server"), "kubectl-client-side-apply"), (("create",), "kubectl-create")],
    ids=["apply", "create"],
)
def test_kubectl_sends_strict_field_validation(kubectl, api_server, args, manager):
    """The verifier accepted the documents: kubectl leaves validation to the server, no /openapi/v2."""
    result = kubectl(*args, "-f", "-", stdin=DEPLOYMENT)
    assert result.returncode == 0, result.stderr
    assert "deployment.apps/hello created" in result.stdout
    posts = [urlsplit(path) for method, path, _ in api_server.requests if method == "POST"]
    assert [post.path for post in posts] == ["/apis/apps/v1/namespaces/default/deployments"]
    query = parse_qs(posts[0].query)
    assert query["fieldValidation"] == ["Strict"]
    assert query["fieldManager"] == [manager]
    assert not [path for _, path, _ in api_server.requests if path.startswith("/openapi/v2")]


def test_kubectl_apply_builds_its_strategic_merge_patch_from_the_documents(kubectl, api_server):
    """An existing object: the patch uses the containers' merge key from the v3 document.

    Had kubectl not found a usable PATCH operation and schema for the kind in the v3 document, it
    would have asked for /openapi/v2 or warned "error calculating patch from openapi v3 spec".
    """
    applied = yaml_free_deployment(containers=[("web", "nginx:1.26"), ("side", "busybox")])
    api_server.existing = applied | {
        "metadata": applied["metadata"]
        | {
            "namespace": "default",
            "uid": "0b5e7c3a",
            "resourceVersion": "7",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)},
        }
    }
    api_server.existing_path = "/apis/apps/v1/namespaces/default/deployments/hello"
    result = kubectl("apply", "-f", "-", stdin=json.dumps(yaml_free_deployment(containers=[("web", "nginx:1.27")])))
    assert result.returncode == 0, result.stderr
    assert "deployment.apps/hello configured" in result.stdout
    assert "warning" not in result.stderr.lower()
    assert not [path for _, path, _ in api_server.requests if path.startswith("/openapi/v2")]
    patch_requests = [urlsplit(path) for method, path, _ in api_server.requests if method == "PATCH"]
    assert parse_qs(patch_requests[0].query)["fieldValidation"] == ["Strict"]
    [(content_type, patch)] = api_server.patches
    assert content_type == SMP
    pod_spec = patch["spec"]["template"]["spec"]
    assert pod_spec["$setElementOrder/containers"] == [{"name": "web"}]
    assert {"$patch": "delete", "name": "side"} in pod_spec["containers"]
    assert {"image": "nginx:1.27", "name": "web"} in pod_spec["containers"]


def yaml_free_deployment(containers: list[tuple[str, str]]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {"containers": [{"name": name, "image": image} for name, image in containers]},
            },
        },
    }
