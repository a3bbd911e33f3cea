"""The learner's pages with Django's test client: who sees what, and what the buttons do."""

import html

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clusters.snapshot import sandbox_of
from tutor.lessons.models import StepProgress
from tutor.sandboxes.services import learner_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return User.objects.create_user("ada", password="ada-pass-1")


@pytest.fixture
def client_of():
    def log_in(user, **options):
        client = Client(**options)
        client.force_login(user)
        return client

    return log_in


def test_pages_ask_a_visitor_to_log_in(client):
    assert client.get("/lessons/").status_code == 200  # the list is public
    for path in ("/lessons/pods/", "/sandbox/", "/sandboxes/default/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_learner_gets_a_sandbox_of_their_own_on_first_visit(ada, client_of):
    response = client_of(ada).get("/sandbox/")
    assert response.status_code == 302
    assert response["Location"] == "/sandboxes/default/"
    assert sandbox_of(owner=ada, name="default") is not None


def test_another_learners_sandbox_is_not_found(ada, client_of):
    learner_sandbox(user=ada)
    bob = User.objects.create_user("bob", password="bob-pass-1")
    as_bob = client_of(bob)
    for path in ("/sandboxes/default/", "/sandboxes/default/cluster", "/sandboxes/default/timeline"):
        assert as_bob.get(path).status_code == 404  # bob has no sandbox named default yet
    learner_sandbox(user=bob)
    page = as_bob.get("/sandboxes/default/")
    assert page.status_code == 200
    assert page.context["sandbox"].owner == bob


def test_writes_need_the_csrf_token(ada, client_of):
    learner_sandbox(user=ada)
    strict = client_of(ada, enforce_csrf_checks=True)
    assert strict.post("/sandboxes/default/apply", {"manifest": "kind: x"}).status_code == 403
    assert strict.post("/lessons/pods/steps/first-pod/predict", {"choice": "running"}).status_code == 403


def test_a_prediction_comes_before_the_apply_and_the_first_one_counts(ada, client_of):
    client = client_of(ada)
    refused = client.post("/lessons/pods/steps/first-pod/apply")
    assert "Commit to a prediction first." in refused.text
    assert sandbox_of(owner=ada, name="default") is not None
    client.post("/lessons/pods/steps/first-pod/predict", {"choice": "pending-forever"})
    client.post("/lessons/pods/steps/first-pod/predict", {"choice": "running"})
    progress = StepProgress.objects.get(user=ada, lesson="pods", step="first-pod")
    assert progress.prediction == "pending-forever"
    applied = client.post("/lessons/pods/steps/first-pod/apply")
    assert "pod/hello" in applied.text
    assert "created" in applied.text


def test_hints_come_one_at_a_time_up_to_the_last(ada, client_of):
    client = client_of(ada)
    for _ in range(5):
        client.post("/lessons/pods/steps/first-pod/hint")
    assert StepProgress.objects.get(user=ada, lesson="pods", step="first-pod").hints_shown == 2


def test_the_lesson_page_reads_in_korean(ada, client_of):
    client = client_of(ada, HTTP_ACCEPT_LANGUAGE="ko")
    page = client.get("/lessons/pods/")
    assert page.status_code == 200
    assert "첫 번째 파드 실행하기" in page.text
    assert "내 샌드박스에 적용" in page.text
    assert "파드 hello" in page.text  # the check's words


def test_an_invalid_manifest_is_refused_with_its_line_for_the_editor(ada, client_of):
    learner_sandbox(user=ada)
    manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: x\n      imagee: y\n"
    response = client_of(ada).post("/sandboxes/default/apply", {"manifest": manifest})
    assert 'unknown field "spec.containers[0].imagee"' in html.unescape(response.text)
    assert '"line": 8' in response["HX-Trigger"]


def test_the_apply_shows_the_api_servers_warnings_as_kubectl_prints_them(ada, client_of):
    learner_sandbox(user=ada)
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: host-admin}
spec:
  selector: {matchLabels: {app: host-admin}}
  template:
    metadata: {labels: {app: host-admin}}
    spec:
      hostNetwork: true
      containers: [{name: admin, image: busybox}]
"""
    response = client_of(ada).post("/sandboxes/default/apply", {"manifest": manifest})
    page = html.unescape(response.text)
    assert "deployment/host-admin</code> created" in " ".join(page.split())
    assert 'Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' in page
