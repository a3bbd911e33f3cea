from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tutor.health.services import heartbeat_record


@shared_task(name="tutor.health.tasks.heartbeat", bind=True)
def heartbeat(self, sent_at: str | None = None) -> None:
    heartbeat_record(
        worker=self.request.hostname or "unknown",
        now=timezone.now(),
        sent_at=parse_datetime(sent_at) if sent_at else None,
    )
