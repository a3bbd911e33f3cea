from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life from one Celery worker, written by the heartbeat task it ran."""

    worker = models.CharField(max_length=255, unique=True, help_text="Celery node name, e.g. celery@host")
    seen_at = models.DateTimeField(help_text="When the worker ran the heartbeat task")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the task was sent, if the sender said")

    def __str__(self) -> str:
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
