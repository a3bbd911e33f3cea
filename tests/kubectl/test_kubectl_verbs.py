"""The real kubectl (1.37.1) against a live sandbox API: the verbs learners type."""

import json
import re
import subprocess
import textwrap
import time

import pytest

DEPLOYMENT = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx:1.27
            ports:
            - containerPort: 80
    """
)

POD = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata:
      name: hello
      labels: {app: hello, tier: demo}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "echo hello && sleep 3600"]
    """
)


def test_version_reports_the_same_minor_version_without_a_skew_warning(kubectl):
    result = kubectl("version")
    assert "Server Version: v1.37.0" in result.stdout
    assert "Warning" not in result.stderr


def test_api_resources_lists_every_kind_with_short_names(kubectl):
    output = kubectl("api-resources").stdout
    for line in (
        r"pods\s+po\s+v1\s+true\s+Pod",
        r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment",
        r"namespaces\s+ns\s+v1\s+false\s+Namespace",
        r"cronjobs\s+cj\s+batch/v1\s+true\s+CronJob",
        r"storageclasses\s+sc\s+storage.k8s.io/v1\s+false\s+StorageClass",
    ):
        assert re.search(line, output), f"{line!r} not in:\n{output}"


def test_apply_creates_then_configures_then_leaves_unchanged(kubectl):
    assert kubectl("apply", "-f", "-", input=DEPLOYMENT).stdout.strip() == "deployment.apps/web created"
    assert kubectl("apply", "-f", "-", input=DEPLOYMENT).stdout.strip() == "deployment.apps/web unchanged"
    changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28")
    assert kubectl("apply", "-f", "-", input=changed).stdout.strip() == "deployment.apps/web configured"
    deployment = kubectl.json("get", "deployment", "web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert deployment["metadata"]["generation"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}


def test_get_prints_the_upstream_columns_wide_yaml_and_jsonpath(kubectl):
    kubectl("apply", "-f", "-", input=POD)
    assert re.match(
        r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nhello\s+0/1\s+Pending\s+0\s+\d+s", kubectl("get", "pods").stdout
    )
    wide = kubectl("get", "pods", "-o", "wide").stdout
    assert re.match(r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES", wide)
    assert "name: hello" in kubectl("get", "pod", "hello", "-o", "yaml").stdout
    assert kubectl("get", "pod", "hello", "-o", "jsonpath={.spec.containers[0].image}").stdout == "busybox:1.36"
    assert kubectl("get", "pod", "hello", "-o", "jsonpath={.spec.restartPolicy}").stdout == "Always"


def test_get_filters_by_label_shows_labels_and_lists_all_namespaces(kubectl):
    kubectl("apply", "-f", "-", input=POD)
    kubectl("apply", "-f", "-", input=POD.replace("name: hello", "name: other").replace("app: hello", "app: other"))
    selected = kubectl("get", "pods", "-l", "app=hello", "--show-labels").stdout
    assert "hello" in selected
    assert "other" not in selected
    assert "app=hello,tier=demo" in selected
    everywhere = kubectl("get", "pods", "-A").stdout
    assert re.search(rf"{kubectl.namespace}\s+hello", everywhere)
    assert kubectl("get", "namespaces").stdout.count("kube-system") == 1


def test_get_of_a_missing_object_prints_the_api_servers_not_found(kubectl):
    result = kubectl("get", "pod", "nope", check=False)
    assert result.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in result.stderr


def test_create_from_a_file_and_a_bad_manifest_is_rejected_with_its_field(kubectl):
    assert kubectl("create", "-f", "-", input=POD).stdout.strip() == "pod/hello created"
    again = kubectl("create", "-f", "-", input=POD, check=False)
    assert 'pods "hello" already exists' in again.stderr
    bad = POD.replace("name: hello", "name: Bad_Name")
    result = kubectl("create", "-f", "-", input=bad, check=False)
    assert result.returncode == 1
    assert 'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in result.stderr
    typo = POD.replace("image: busybox", "imagee: busybox")
    result = kubectl("apply", "-f", "-", input=typo, check=False)
    assert 'unknown field "spec.containers[0].imagee"' in result.stderr


def test_validate_warn_and_false_store_a_typo_d_manifest_without_the_unknown_field(kubectl):
    typo = POD.replace("image: busybox", "imagee: busybox:1.37\n    image: busybox")
    warned = kubectl("apply", "--validate=warn", "-f", "-", input=typo)
    assert warned.stdout.strip() == "pod/hello created"
    assert warned.stderr.strip() == 'Warning: unknown field "spec.containers[0].imagee"'
    ignored = kubectl("apply", "--validate=false", "-f", "-", input=typo.replace("name: hello", "name: quiet"))
    assert ignored.stdout.strip() == "pod/quiet created"
    assert ignored.stderr == ""
    for name in ("hello", "quiet"):
        container = kubectl.json("get", "pod", name)["spec"]["containers"][0]
        assert "imagee" not in container
        assert container["image"] == "busybox:1.36"


def test_kubectl_create_generators_send_protobuf_and_work(kubectl):
    assert kubectl("create", "deployment", "d2", "--image=nginx:1.27", "--replicas=2").stdout.strip() == (
        "deployment.apps/d2 created"
    )
    assert kubectl.json("get", "deployment", "d2")["spec"]["replicas"] == 2
    kubectl("create", "configmap", "settings", "--from-literal=color=blue")
    assert kubectl.json("get", "configmap", "settings")["data"] == {"color": "blue"}
    kubectl("create", "secret", "generic", "pw", "--from-literal=password=hunter2")
    assert kubectl.json("get", "secret", "pw")["data"] == {"password": "aHVudGVyMg=="}
    kubectl("create", "job", "once", "--image=busybox:1.36", "--", "echo", "hi")
    job = kubectl.json("get", "job", "once")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    assert job["spec"]["backoffLimit"] == 6
    kubectl("create", "service", "clusterip", "web", "--tcp=80:8080")
    service = kubectl.json("get", "service", "web")
    assert service["spec"]["ports"][0]["targetPort"] == 8080
    assert service["spec"]["clusterIP"].startswith("10.")
    kubectl("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *", "--", "date")
    assert kubectl.json("get", "cronjob", "tick")["spec"]["concurrencyPolicy"] == "Allow"


def test_label_annotate_and_the_three_patch_types(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("label", "deployment", "web", "team=blue")
    kubectl("annotate", "deployment", "web", "note=first")
    kubectl(
        "patch",
        "deployment",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.29"}]}}}}',
    )
    kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"minReadySeconds":5}}')
    kubectl("patch", "deployment", "web", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":4}]')
    deployment = kubectl.json("get", "deployment", "web")
    assert deployment["metadata"]["labels"]["team"] == "blue"
    assert deployment["metadata"]["annotations"]["note"] == "first"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    assert (deployment["spec"]["minReadySeconds"], deployment["spec"]["replicas"]) == (5, 4)
    kubectl("label", "deployment", "web", "team-")
    assert "team" not in kubectl.json("get", "deployment", "web")["metadata"]["labels"]


def test_scale_goes_through_the_scale_subresource(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    assert kubectl("scale", "deployment", "web", "--replicas=5").stdout.strip() == "deployment.apps/web scaled"
    assert kubectl.json("get", "deployment", "web")["spec"]["replicas"] == 5


def test_describe_shows_the_object_and_its_events(kubectl):
    kubectl("apply", "-f", "-", input=POD)
    output = kubectl("describe", "pod", "hello").stdout
    assert re.search(r"Name:\s+hello", output)
    assert re.search(r"Image:\s+busybox:1.36", output)
    assert "Events:" in output


def test_edit_with_a_scripted_editor_changes_the_object(kubectl, tmp_path):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/replicas: 2/replicas: 3/' \"$1\"\n")
    editor.chmod(0o755)
    result = kubectl("edit", "deployment", "web", env={"KUBE_EDITOR": str(editor)})
    assert "deployment.apps/web edited" in result.stdout
    assert kubectl.json("get", "deployment", "web")["spec"]["replicas"] == 3


def test_delete_removes_the_object_and_waits(kubectl):
    kubectl("apply", "-f", "-", input=POD)
    result = kubectl("delete", "pod", "hello", "--wait=true", "--timeout=30s")
    assert 'pod "hello" deleted' in result.stdout
    assert kubectl("get", "pods", "-o", "name").stdout == ""


def test_explain_reads_the_real_schemas(kubectl):
    output = kubectl("explain", "pods.spec.restartPolicy").stdout
    assert "FIELD: restartPolicy <string>" in output
    assert "Always" in output
    assert "OnFailure" in output


def test_get_all_lists_the_workload_kinds(kubectl):
    kubectl("apply", "-f", "-", input=DEPLOYMENT)
    kubectl("apply", "-f", "-", input=POD)
    output = kubectl("get", "all").stdout
    assert "pod/hello" in output
    assert "deployment.apps/web" in output


def test_get_watch_streams_changes_as_they_happen(kubectl):
    kubectl("apply", "-f", "-", input=POD)
    watcher = subprocess.Popen(
        [*_kubectl_command(kubectl), "get", "pods", "-w", "--output-watch-events"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_kubectl_env(kubectl),
    )
    try:
        time.sleep(1.5)  # let the watch open; the events below must arrive through it
        kubectl("label", "pod", "hello", "seen=yes")
        kubectl("delete", "pod", "hello")
        deadline = time.monotonic() + 20
        lines = []
        while time.monotonic() < deadline and not any(line.startswith("DELETED") for line in lines):
            lines.append(watcher.stdout.readline())
    finally:
        watcher.kill()
    text = "".join(lines)
    assert re.search(r"ADDED\s+hello", text), text
    assert re.search(r"MODIFIED\s+hello", text), text
    assert re.search(r"DELETED\s+hello", text), text


def _kubectl_command(kubectl) -> list[str]:
    from tests.kubectl.conftest import KUBECTL

    return [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "--cache-dir", str(kubectl.home / "cache")]


def _kubectl_env(kubectl) -> dict:
    import os

    return {**os.environ, "HOME": str(kubectl.home)}


def test_another_learner_and_an_anonymous_caller_are_refused(api_server, tmp_path):
    import urllib.error
    import urllib.request

    alice = api_server.kubeconfig("alice")
    bob = api_server.kubeconfig("bob")
    alice_server = re.search(r"server: (\S+)", alice.read_text()).group(1)
    bob_token = re.search(r"/t/(\S+)", bob.read_text()).group(1)
    alice_base = alice_server.split("/t/")[0]

    with_bobs_token = f"{alice_base}/t/{bob_token}/api/v1/namespaces/default/pods"
    anonymous = f"{alice_base}/api/v1/namespaces/default/pods"
    for url, code, reason in ((with_bobs_token, 403, "Forbidden"), (anonymous, 401, "Unauthorized")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        status = json.loads(refused.value.read())
        assert (refused.value.code, status["kind"], status["reason"]) == (code, "Status", reason)
