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
    _watch_engine()


def _watch_engine():
    """When a Docker engine answers, its events wake the kubelets (see clusters.engine_watch); any
    sandbox may ask for Docker, whatever the default runtime is."""
    from clusters.runtime.docker import engine_ping

    if engine_ping()[0]:
        from clusters.engine_watch import follow_in_background

        follow_in_background()
