"""When a service the app stands on is down: a write whose wake-up cannot reach the broker still
succeeds (the resync sends the key), and the Kubernetes API answers a database outage with a 503
Status in upstream's words. (tests/chaos restarts the real servers.)"""

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.test import Client
from kombu.exceptions import OperationalError as BrokerUnreachable

from clusters import workqueue
from clusters.kube import views
from clusters.models import AccessToken, WorkItem
from clusters.sandboxes import sandbox_create
from tutor.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_a_wake_up_the_broker_refuses_leaves_the_key_due_for_the_resync(
    monkeypatch, django_capture_on_commit_callbacks
):
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))

    def refuse(*args, **kwargs):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        workqueue.work_request(sandbox.pk, ["controllers"], send_always=True)
    assert WorkItem.objects.get(sandbox=sandbox, key="controllers").dirty


def test_the_api_answers_a_database_outage_with_a_503_status(monkeypatch):
    sandbox = sandbox_create(owner=User.objects.create(username="alice"))
    _, key = AccessToken.issue(user=sandbox.owner)

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(views, "_resource", down)
    response = Client().get(f"/k8s/{sandbox.uid.hex}/t/{key}/api/v1/namespaces/default/pods")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    status = response.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "ServiceUnavailable", 503)
    assert status["message"] == "The list operation against pods could not be completed at this time, please try again."
    assert status["details"] == {"name": "list", "kind": "pods", "retryAfterSeconds": 2}
    created = Client().post(
        f"/k8s/{sandbox.uid.hex}/t/{key}/apis/apps/v1/namespaces/default/deployments",
        data=b"{}",
        content_type="application/json",
    )
    assert created.json()["message"].startswith("The create operation against deployments.apps could not")
