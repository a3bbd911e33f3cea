"""Pod Security admission as the real kubectl shows it: the 403 word for word, the Warning on a
Deployment whose template violates the level and its ReplicaSet's FailedCreate, the warnings of a
namespace relabelled stricter, a learner's relabelling to a looser level refused, and the instructor's
privileged level admitting what baseline refuses."""

from __future__ import annotations

import json

ENFORCE = "pod-security.kubernetes.io/enforce"

PRIVILEGED_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "x"},
    "spec": {
        "containers": [{"name": "web", "image": "nginx", "securityContext": {"privileged": True}}],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
    },
}
BASELINE_DETAIL = (
    'hostPath volumes (volume "host"), privileged (container "web" must not set securityContext.privileged=true)'
)


def deployment(name: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": PRIVILEGED_POD["spec"]},
        },
    }


def test_a_new_namespace_enforces_baseline_and_a_privileged_pod_is_refused(kubectl):
    assert kubectl.json("get", "namespace", kubectl.namespace)["metadata"]["labels"][ENFORCE] == "baseline"
    result = kubectl("apply", "-f", "-", input=json.dumps(PRIVILEGED_POD), check=False)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        'Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: '
        f'violates PodSecurity "baseline:latest": {BASELINE_DETAIL}'
    )
    assert "NotFound" in kubectl("get", "pod", "x", check=False).stderr


def test_a_deployment_is_accepted_with_a_warning_and_its_pods_are_refused(kubectl, api_server):
    result = kubectl("apply", "-f", "-", input=json.dumps(deployment("host-admin")))
    assert f'Warning: would violate PodSecurity "baseline:latest": {BASELINE_DETAIL}' in result.stderr
    assert "deployment.apps/host-admin created" in result.stdout
    # The controllers run once (no worker serves this API): the Deployment makes its ReplicaSet,
    # whose pod the API server refuses; the ReplicaSet controller records why.
    code = (
        "from django.utils import timezone; from clusters.models import Sandbox; "
        "from clusters.controllers.manager import controllers_reconcile; "
        "controllers_reconcile(Sandbox.objects.get(owner__username='alice', name='default'), now=timezone.now())"
    )
    ran = api_server.stack.manage("shell", "-c", code)
    assert ran.returncode == 0, ran.stderr
    events = kubectl.json("get", "events", "--field-selector", "reason=FailedCreate")["items"]
    assert events, kubectl("get", "events").stdout
    event = events[0]
    assert event["involvedObject"]["kind"] == "ReplicaSet"
    assert event["type"] == "Warning"
    assert event["message"].startswith('Error creating: pods "host-admin-')
    assert event["message"].endswith(f'is forbidden: violates PodSecurity "baseline:latest": {BASELINE_DETAIL}')
    assert kubectl.json("get", "pods")["items"] == []


def test_relabelling_a_namespace_stricter_warns_about_its_pods(kubectl):
    kubectl("run", "plain", "--image=nginx")
    result = kubectl("label", "ns", kubectl.namespace, f"{ENFORCE}=restricted", "--overwrite")
    assert result.stderr.splitlines() == [
        f'Warning: existing pods in namespace "{kubectl.namespace}" violate the new PodSecurity enforce level '
        '"restricted:latest"',
        "Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, "
        "seccompProfile",
    ]
    assert f"namespace/{kubectl.namespace} labeled" in result.stdout
    refused = kubectl("run", "plain-2", "--image=nginx", check=False)
    assert 'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false' in refused.stderr
    # A bad level is refused as upstream validates the labels.
    bad = kubectl("label", "ns", kubectl.namespace, f"{ENFORCE}=strict", "--overwrite", check=False)
    assert bad.stderr.strip() == (
        f'The Namespace "{kubectl.namespace}" is invalid: metadata.labels[{ENFORCE}]: Invalid value: "strict": '
        "must be one of privileged, baseline, restricted"
    )


def test_the_learner_may_not_relax_the_level_and_the_instructor_may(kubectl, api_server):
    refused = kubectl("label", "ns", kubectl.namespace, f"{ENFORCE}=privileged", "--overwrite", check=False)
    assert refused.stderr.strip() == (
        f'Error from server (Forbidden): namespaces "{kubectl.namespace}" is forbidden: ValidatingAdmissionPolicy '
        "'kube-tutor-pod-security-level' with binding 'kube-tutor-pod-security-level' denied request: "
        f'{ENFORCE} must be "baseline" or "restricted": the class\'s instructor set this sandbox\'s Pod Security '
        'level to "baseline", and a namespace may only be stricter, not "privileged"'
    )
    assert kubectl.json("get", "namespace", kubectl.namespace)["metadata"]["labels"][ENFORCE] == "baseline"

    def level(name: str):
        ran = api_server.stack.manage("sandbox", "pod-security", "--owner", "alice", "--level", name)
        assert ran.returncode == 0, ran.stderr
        return ran

    level("privileged")
    try:
        assert kubectl.json("get", "namespace", kubectl.namespace)["metadata"]["labels"][ENFORCE] == "privileged"
        result = kubectl("apply", "-f", "-", input=json.dumps(PRIVILEGED_POD))
        assert "pod/x created" in result.stdout
        assert "Warning" not in result.stderr
    finally:
        tightened = level("baseline")
    assert f'existing pods in namespace "{kubectl.namespace}" violate the new PodSecurity enforce level' in (
        tightened.stderr
    )
