"""The Celery app: settings under the CELERY_ namespace, tasks found in every installed app.

The floor under every task module: it imports none of them. What a worker does once it is ready
lives beside the tasks it concerns (tutor.health.tasks, clusters.tasks).
"""

import os

from celery import Celery
from celery.signals import celeryd_after_setup

from tutor.broker import use_fixed_transports

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
use_fixed_transports()

app = Celery("tutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_after_setup.connect
def consume_host_queues(sender=None, instance=None, **kwargs) -> None:
    """A worker consumes the queues of its host (TUTOR_WORKER_HOST): the host's own and the kubelet
    queues of the nodes TUTOR_NODE_HOSTS puts there, besides those its command line names."""
    from django.conf import settings

    from clusters.node_hosts import worker_queues

    queues = instance.app.amqp.queues
    given = list(queues.consume_from or {})
    for queue in worker_queues(settings.NODE_HOSTS, settings.WORKER_HOST, given):
        queues.select_add(queue)
