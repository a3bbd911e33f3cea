"""The Celery app: settings under the CELERY_ namespace, tasks found in every installed app."""

import os

from celery import Celery
from celery.signals import worker_ready

from tutor.broker import use_atomic_filesystem_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
use_atomic_filesystem_transport()

app = Celery("tutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def announce_ready(sender, **kwargs):
    # A first heartbeat through the broker, so /healthz need not wait for beat's first tick.
    from tutor.health.tasks import heartbeat

    heartbeat.delay()
