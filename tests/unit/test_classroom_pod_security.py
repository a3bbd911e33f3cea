"""An instructor relaxes or tightens the Pod Security level of a class (Django's test client): the
learners' namespaces are relabelled, the API enforces the new level, sandboxes made later get it."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.manifests import manifest_apply
from clusters.objects.pod_security import ENFORCE_LABEL
from clusters.snapshot import sandbox_snapshot
from tutor.classrooms import services
from tutor.classrooms.models import Classroom

pytestmark = pytest.mark.django_db

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: root-shell}
spec:
  hostPID: true
  containers:
  - {name: shell, image: busybox, securityContext: {privileged: true}}
"""
PLAIN_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\nspec:\n  containers: [{name: web, image: nginx}]\n"


@pytest.fixture
def teacher():
    user = User.objects.create_user("teacher", password="teacher-pass-1")
    services.make_instructor(user)
    return user


@pytest.fixture
def classroom(teacher):
    return services.classroom_create(instructor=teacher, name="Security 101")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def labels(sandbox, namespace: str) -> dict:
    return sandbox_snapshot(sandbox).get("Namespace", "", namespace)["metadata"].get("labels", {})


def refusal(sandbox, manifest: str) -> str | None:
    report = manifest_apply(sandbox=sandbox, text=manifest)
    return None if report.stored else report.results[0].error["message"]


def test_a_class_sandbox_enforces_baseline_until_the_instructor_relaxes_it(classroom, teacher):
    ada = User.objects.create_user("ada")
    sandbox = services.classroom_join(learner=ada, code=classroom.join_code).sandbox
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "baseline"
    assert labels(sandbox, "kube-system")[ENFORCE_LABEL] == "privileged"
    assert refusal(sandbox, PRIVILEGED_POD) == (
        'pods "root-shell" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true), '
        'privileged (container "shell" must not set securityContext.privileged=true)'
    )

    response = logged_in(teacher).post(f"/classrooms/{classroom.pk}/pod-security", {"pod_security_level": "privileged"})
    assert response.status_code == 302
    sandbox.refresh_from_db()
    assert sandbox.pod_security_level == "privileged"
    assert Classroom.objects.get(pk=classroom.pk).pod_security_level == "privileged"
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "privileged"
    assert refusal(sandbox, PRIVILEGED_POD) is None
    # A namespace the learner makes now enforces the class's level too.
    assert refusal(sandbox, "apiVersion: v1\nkind: Namespace\nmetadata: {name: lab}\n") is None
    assert labels(sandbox, "lab")[ENFORCE_LABEL] == "privileged"
    # A learner who joins later gets the class's level.
    bob = User.objects.create_user("bob")
    later = services.classroom_join(learner=bob, code=classroom.join_code).sandbox
    assert later.pod_security_level == "privileged"
    assert labels(later, "default")[ENFORCE_LABEL] == "privileged"


def test_tightening_warns_about_running_pods_and_refuses_new_ones(classroom, teacher):
    ada = User.objects.create_user("ada")
    sandbox = services.classroom_join(learner=ada, code=classroom.join_code).sandbox
    assert refusal(sandbox, PLAIN_POD) is None

    response = logged_in(teacher).post(
        f"/classrooms/{classroom.pk}/pod-security", {"pod_security_level": "restricted"}, follow=True
    )
    shown = [message.message for message in response.context["messages"]]
    assert "The learners' namespaces now enforce Pod Security restricted." in shown
    assert (
        'ada: existing pods in namespace "default" violate the new PodSecurity enforce level "restricted:latest"'
        in (shown)
    )
    assert (
        "ada: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
        in shown
    )
    # The running pod stays; a new one like it is refused.
    assert sandbox_snapshot(sandbox).get("Pod", "default", "plain") is not None
    assert refusal(sandbox, PLAIN_POD.replace("plain", "plain-2")).startswith(
        'pods "plain-2" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false'
    )
    assert labels(sandbox, "kube-system")[ENFORCE_LABEL] == "privileged"


def test_only_the_classrooms_instructor_changes_its_level_and_only_to_a_level(classroom, teacher):
    ada = User.objects.create_user("ada")
    sandbox = services.classroom_join(learner=ada, code=classroom.join_code).sandbox
    assert logged_in(ada).post(
        f"/classrooms/{classroom.pk}/pod-security", {"pod_security_level": "privileged"}
    ).status_code in (403, 404)
    response = logged_in(teacher).post(f"/classrooms/{classroom.pk}/pod-security", {"pod_security_level": "root"})
    assert response.status_code == 302
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "baseline"
    assert Classroom.objects.get(pk=classroom.pk).pod_security_level == "baseline"
    page = logged_in(teacher).get(f"/classrooms/{classroom.pk}/")
    assert b"data-pod-security" in page.content


def relabel(sandbox, namespace: str, labels_: dict | None) -> str | None:
    """Apply the namespace with these labels (None: none at all) as a learner would."""
    metadata = {"name": namespace} | ({"labels": labels_} if labels_ is not None else {})
    return refusal(sandbox, json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}))


def test_a_learner_may_make_a_namespace_stricter_but_never_looser_than_the_class(classroom):
    ada = User.objects.create_user("ada")
    sandbox = services.classroom_join(learner=ada, code=classroom.join_code).sandbox

    assert relabel(sandbox, "default", {ENFORCE_LABEL: "privileged"}) == (
        "namespaces \"default\" is forbidden: ValidatingAdmissionPolicy 'kube-tutor-pod-security-level' with binding "
        "'kube-tutor-pod-security-level' denied request: pod-security.kubernetes.io/enforce must be \"baseline\" or "
        '"restricted": the class\'s instructor set this sandbox\'s Pod Security level to "baseline", and a namespace '
        'may only be stricter, not "privileged"'
    )
    assert relabel(sandbox, "lab", {ENFORCE_LABEL: "privileged"}).startswith('namespaces "lab" is forbidden')
    assert sandbox_snapshot(sandbox).get("Namespace", "", "lab") is None  # nothing half-written
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "baseline"

    assert relabel(sandbox, "default", {ENFORCE_LABEL: "restricted"}) is None
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "restricted"
    # An update that leaves the label out gets the class's level back, as a new namespace does.
    assert relabel(sandbox, "default", {}) is None
    assert labels(sandbox, "default")[ENFORCE_LABEL] == "baseline"
    # kube-system is the system's own and stays privileged.
    assert relabel(sandbox, "kube-system", {"team": "ops"}) is None
    assert labels(sandbox, "kube-system")[ENFORCE_LABEL] == "privileged"
