"""Reading and writing the health of the running system: database, broker, worker, runtime."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from clusters.runtime.selection import runtime_status
from tutor.celery import app as celery_app
from tutor.health.checks import overall_status, worker_state
from tutor.health.models import WorkerHeartbeat


def heartbeat_record(*, worker: str, now: datetime, sent_at: datetime | None = None) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"seen_at": now, "sent_at": sent_at})
    return beat


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # healthz reports any failure rather than raising it
        return f"error: {error}".strip()


def broker_state() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:
        return f"error: {error}".strip()


def health_report(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    database = database_state()
    last_seen = None
    if database == "ok":
        last_seen = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    worker = worker_state(last_seen, now=now, stale_after=settings.HEARTBEAT_STALE_AFTER)
    runtime = runtime_status()
    parts = {
        "database": database,
        "broker": broker_state(),
        "worker": worker.state,
        "runtime": runtime.state,
    }
    return {
        "status": overall_status(parts),
        **parts,
        "database_vendor": connection.vendor,
        "broker_transport": settings.CELERY_BROKER_URL.split(":", 1)[0],
        "worker_heartbeat_age_seconds": worker.age_seconds,
        "worker_stale_after_seconds": settings.HEARTBEAT_STALE_AFTER,
        "runtime_kind": runtime.kind,
        "runtime_detail": runtime.detail,
    }
