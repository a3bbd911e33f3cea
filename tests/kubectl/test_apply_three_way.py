"""The page's Apply does what `kubectl apply` does.

The same sequence of manifests goes once through the real kubectl (`kubectl apply -f`) into one
namespace and once through `manifest_apply` into another, with the same writes by others in
between (`kubectl scale`, `kubectl label`, `kubectl create`). After every step both say the same
thing of every object (created / configured / unchanged) and both objects are equal but for what
the server owns (uid, resourceVersion, timestamps, generation, managedFields) and for their names.
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from clusters.objects.threeway import LAST_APPLIED

# The manifest as a learner edits it, step by step: each step names what it changes.
V1 = {
    "labels": "{app: web, tier: frontend}",
    "strategy": "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
    "name": "app",
    "image": "nginx:1.27",
    "args": '["-a", "-b"]',
    "env": "[{name: A, value: '1'}, {name: B, value: '2'}]",
    "ports": "[{containerPort: 80, name: http}, {containerPort: 8080, name: admin}]",
    "volume": "configMap: {name: settings}",
    # An unquoted date and a base-60 lookalike: kubectl reads both as text, so must the page.
    "data": "{color: blue, size: L, released: 2024-01-01, window: 1:20}",
}

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {namespace}
  labels: {labels}
spec:
  selector:
    matchLabels: {{app: web}}
  strategy: {strategy}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: {name}
        image: {image}
        args: {args}
        env: {env}
        ports: {ports}
        volumeMounts: [{{name: data, mountPath: /etc/data}}]
      volumes:
      - name: data
        {volume}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {namespace}
data: {data}
"""

EXTRA = """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: {namespace}
data: {{a: "1"}}
"""


def steps() -> list[tuple[str, dict, list[list[str]]]]:
    """(what changes, the manifest's values, commands others run before the apply)."""
    sequence = []
    values = dict(V1, extra=False)

    def step(what: str, others: list[list[str]] | None = None, **changes) -> None:
        values.update(changes)
        sequence.append((what, dict(values), others or []))

    step("first apply creates")
    step("the same manifest again is unchanged")
    # rollingUpdate goes with $retainKeys, the server defaults it back, and (upstream's quirk) every
    # apply of a bare RollingUpdate strategy sends $retainKeys again: "configured" both times.
    step("a bare RollingUpdate strategy", strategy="{type: RollingUpdate}")
    step("the bare RollingUpdate strategy again", strategy="{type: RollingUpdate}")
    step("the rollingUpdate back", strategy=V1["strategy"])
    step("a label added", labels="{app: web, tier: frontend, stage: test}")
    step("the label removed", labels="{app: web, tier: frontend}")
    step("an env var removed", env="[{name: A, value: '1'}]")
    step("a container port removed", ports="[{containerPort: 80, name: http}]")
    step("the container renamed", name="web")
    step(
        "others scale and label; the manifest, without replicas, changes the image",
        others=[["scale", "deployment/web", "--replicas=3"], ["label", "configmap/settings", "team=blue"]],
        image="nginx:1.28",
    )
    step("rollingUpdate removed as the strategy becomes Recreate", strategy="{type: Recreate}")
    step("a ConfigMap key removed", data="{color: blue, released: 2024-01-01, window: 1:20}")
    step(
        "an object made by kubectl create, applied over",
        others=[["create", "configmap", "extra", "--from-literal=a=1", "--from-literal=b=2"]],
        extra=True,
    )
    step("a volume's source changed, an argument removed", volume="emptyDir: {}", args='["-a"]')
    step("all of it again is unchanged")
    return sequence


def render(values: dict, namespace: str) -> str:
    fields = {key: value for key, value in values.items() if key != "extra"}
    manifest = TEMPLATE.format(namespace=namespace, **fields)
    return manifest + (EXTRA.format(namespace=namespace) if values["extra"] else "")


PAGE_APPLY = """\
import json, pathlib
from clusters.manifests import manifest_apply
from clusters.models import Sandbox
sandbox = Sandbox.objects.get(owner__username="alice", name="default")
report = manifest_apply(sandbox=sandbox, text=pathlib.Path({path!r}).read_text())
print(json.dumps({{"error": report.error, "results": [
    {{"kind": r.kind, "name": r.name, "result": r.result, "error": r.error, "warnings": r.warnings}}
    for r in report.results]}}))
"""


def page_apply(api_server, path) -> dict:
    """`manifest_apply` in a process of the live server's own, on its database."""
    result = api_server.stack.manage("shell", "-c", PAGE_APPLY.format(path=str(path)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


OWNED_BY_THE_SERVER = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def comparable(body: dict, namespace: str) -> dict:
    """The object without what the server owns, its name, or its namespace in the annotation."""
    body = copy.deepcopy(body)
    metadata = body["metadata"]
    for key in (*OWNED_BY_THE_SERVER, "name", "namespace"):
        metadata.pop(key, None)
    annotations = metadata.get("annotations") or {}
    if LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = annotations[LAST_APPLIED].replace(f'"namespace":"{namespace}"', '"namespace":"-"')
    return body


def kubectl_results(stdout: str) -> dict[str, str]:
    """`deployment.apps/web configured` → {"Deployment/web": "configured"}."""
    results = {}
    for line in stdout.strip().splitlines():
        reference, word = line.rsplit(" ", 1)
        resource, name = reference.split("/", 1)
        kind = {"deployment.apps": "Deployment", "configmap": "ConfigMap"}[resource]
        results[f"{kind}/{name}"] = word
    return results


@pytest.fixture
def page_namespace(kubectl):
    namespace = f"p-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    return namespace


def test_the_page_and_kubectl_leave_the_same_objects_after_every_step(api_server, kubectl, page_namespace, tmp_path):
    namespaces = {"kubectl": kubectl.namespace, "page": page_namespace}
    for number, (what, values, others) in enumerate(steps(), start=1):
        step = f"step {number} ({what})"
        for command in others:
            for namespace in namespaces.values():
                kubectl(*command, "-n", namespace)
        manifests = {side: tmp_path / f"{side}-{number}.yaml" for side in namespaces}
        for side, namespace in namespaces.items():
            manifests[side].write_text(render(values, namespace))

        applied = kubectl("apply", "-f", str(manifests["kubectl"]))
        page = page_apply(api_server, manifests["page"])
        assert page["error"] == "", f"{step}: {page['error']}"
        assert all(r["error"] is None for r in page["results"]), f"{step}: {page['results']}"
        assert {f"{r['kind']}/{r['name']}": r["result"] for r in page["results"]} == kubectl_results(applied.stdout), (
            step
        )
        kubectl_warnings = [
            line.removeprefix("Warning: ") for line in applied.stderr.splitlines() if line.startswith("Warning: ")
        ]
        assert [w for r in page["results"] for w in r["warnings"]] == kubectl_warnings, step

        for reference in ("deployment/web", "configmap/settings", *(["configmap/extra"] if values["extra"] else [])):
            by_kubectl = kubectl.json("get", reference, "-n", namespaces["kubectl"])
            by_page = kubectl.json("get", reference, "-n", namespaces["page"])
            assert comparable(by_page, namespaces["page"]) == comparable(by_kubectl, namespaces["kubectl"]), (
                f"{step}: {reference} differs"
            )

    # What the sequence was for, on the objects both sides agree on.
    deployment = kubectl.json("get", "deployment/web", "-n", namespaces["page"])
    assert deployment["metadata"]["labels"] == {"app": "web", "tier": "frontend"}
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod_spec = deployment["spec"]["template"]["spec"]
    [container] = pod_spec["containers"]
    assert (container["name"], container["image"], container["args"]) == ("web", "nginx:1.28", ["-a"])
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert [port["containerPort"] for port in container["ports"]] == [80]
    assert pod_spec["volumes"] == [{"name": "data", "emptyDir": {}}]
    settings = kubectl.json("get", "configmap/settings", "-n", namespaces["page"])
    assert settings["data"] == {"color": "blue", "released": "2024-01-01", "window": "1:20"}
    assert settings["metadata"]["labels"] == {"team": "blue"}
    assert kubectl.json("get", "configmap/extra", "-n", namespaces["page"])["data"] == {"a": "1", "b": "2"}
