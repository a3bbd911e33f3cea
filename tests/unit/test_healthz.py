from datetime import timedelta

import pytest
from django.utils import timezone

from tutor.celery import app as celery_app
from tutor.health.models import WorkerHeartbeat


@pytest.fixture(autouse=True)
def _simulated_runtime(settings):
    # The runtime part is covered with a real engine in tests/docker; here it stays out of the way.
    settings.TUTOR_RUNTIME = "simulated"


def beat(seconds_ago: float, worker: str = "celery@node-a") -> None:
    WorkerHeartbeat.objects.create(worker=worker, seen_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.mark.django_db
def test_healthz_reports_every_part_ok_with_a_fresh_heartbeat(client):
    beat(2)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert (body["database"], body["broker"], body["worker"], body["runtime"]) == ("ok", "ok", "ok", "ok")
    assert 2 <= body["worker_heartbeat_age_seconds"] < 10
    assert body["runtime_kind"] == "simulated"


@pytest.mark.django_db
def test_healthz_reports_a_stale_worker_and_its_age(client, settings):
    settings.HEARTBEAT_STALE_AFTER = 30
    beat(95)
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["worker"] == "stale"
    assert 95 <= body["worker_heartbeat_age_seconds"] < 105


@pytest.mark.django_db
def test_healthz_judges_by_the_freshest_of_several_workers(client):
    beat(500, worker="celery@old-host")
    beat(1, worker="celery@new-host")
    assert client.get("/healthz").json()["worker"] == "ok"


@pytest.mark.django_db
def test_healthz_says_missing_before_any_worker_has_run(client):
    body = client.get("/healthz").json()
    assert body["worker"] == "missing"
    assert body["worker_heartbeat_age_seconds"] is None


@pytest.mark.django_db
def test_healthz_reports_a_broker_that_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    body = client.get("/healthz").json()
    assert body["broker"].startswith("error:")
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_the_heartbeat_task_records_when_it_was_sent_and_when_it_ran():
    from tutor.health.tasks import heartbeat

    sent = timezone.now() - timedelta(seconds=1)
    heartbeat.apply(kwargs={"sent_at": sent.isoformat()}, throw=True)
    row = WorkerHeartbeat.objects.get(sent_at=sent)
    assert row.worker
    assert sent < row.seen_at <= timezone.now()


@pytest.mark.django_db
def test_a_worker_keeps_one_heartbeat_row_that_moves_forward():
    from tutor.health.services import heartbeat_record

    earlier = timezone.now() - timedelta(seconds=30)
    heartbeat_record(worker="celery@node-a", now=earlier)
    heartbeat_record(worker="celery@node-a", now=earlier + timedelta(seconds=10))
    assert list(WorkerHeartbeat.objects.values_list("worker", "seen_at")) == [
        ("celery@node-a", earlier + timedelta(seconds=10))
    ]
