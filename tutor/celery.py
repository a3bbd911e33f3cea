"""The Celery app: settings under the CELERY_ namespace, tasks found in every installed app.

The floor under every task module: it imports none of them. What a worker does once it is ready
lives beside the tasks it concerns (tutor.health.tasks, clusters.tasks).
"""

import os

from celery import Celery

from tutor.broker import use_fixed_transports

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
use_fixed_transports()

app = Celery("tutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
