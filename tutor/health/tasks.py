from celery import shared_task
from celery.signals import worker_ready
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


# Connected when the worker imports its task modules, which it does before it is ready.
@worker_ready.connect
def announce_ready(sender=None, **kwargs) -> None:
    """A first heartbeat through the broker, so /healthz need not wait for beat's first tick."""
    heartbeat.delay()
