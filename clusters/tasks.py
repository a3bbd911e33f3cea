"""Celery tasks of the orchestrator: thin, keyed, safe to run twice."""

from celery import shared_task
from django.conf import settings

from clusters.store import change_log_compact


@shared_task(name="clusters.tasks.compact_change_log")
def compact_change_log() -> int:
    return change_log_compact(keep=settings.CHANGE_LOG_KEEP)
