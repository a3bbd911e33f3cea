"""Celery tasks of the orchestrator: thin, keyed by (sandbox, key), safe to run twice."""

import logging
import traceback
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clusters import engine_watch, idle, monitoring, workqueue
from clusters.controllers.manager import controllers_reconcile
from clusters.kube_proxy import kube_proxy_reconcile, kube_proxy_stop
from clusters.kubelet import kubelet_pause, kubelet_reconcile, node_leases_renew, sandboxes_with_leases_just_expired
from clusters.models import NodeRuntimeState, Sandbox
from clusters.simulated_volumes import PREFIX as VOLUME_PREFIX
from clusters.store import change_log_compact

log = logging.getLogger(__name__)


@shared_task(name=workqueue.RUN_WORK, ignore_result=True)
def run_work(sandbox_id: int, key: str) -> None:
    now = timezone.now()
    if not workqueue.work_claim(sandbox_id, key, now=now):
        return  # nothing due, or another worker holds the key
    found = idle.sandbox_for_work(sandbox_id)
    if found is None:
        return
    sandbox, paused = found
    try:
        with workqueue.running(sandbox_id, key), monitoring.reconcile_timed(key):
            wake_at = reconcile(sandbox, key, now=now, paused=paused)
    except Exception as error:
        delay = workqueue.work_failed(sandbox_id, key, error=traceback.format_exc(), now=timezone.now())
        log.warning("sandbox %s %s failed (%s); retrying in %.1f s", sandbox_id, key, error, delay)
        return
    workqueue.work_done(sandbox_id, key, wake_at=wake_at)


def reconcile(sandbox: Sandbox, key: str, *, now, paused: bool):
    if paused:
        return paused_reconcile(sandbox, key, now=now)
    if key == workqueue.CONTROLLERS:
        return controllers_reconcile(sandbox, now=now)
    if key.startswith("kubelet/"):
        return kubelet_reconcile(sandbox, node=key.split("/", 1)[1], now=now)
    if key == workqueue.KUBE_PROXY:
        return kube_proxy_reconcile(sandbox, now=now)
    raise ValueError(f"unknown work key {key!r}")


def paused_reconcile(sandbox: Sandbox, key: str, *, now) -> None:
    """A paused sandbox (clusters.idle): its kubelets and kube-proxy stop what they run, its
    controllers stand still; nothing asks to be woken, so its queue goes quiet."""
    if key.startswith("kubelet/"):
        kubelet_pause(sandbox, node=key.split("/", 1)[1], now=now, mark=idle.PAUSED_MARK)
    elif key == workqueue.KUBE_PROXY:
        kube_proxy_stop(sandbox)
    return None


@shared_task(name="clusters.tasks.resync", ignore_result=True)
def resync() -> int:
    return workqueue.resync_all()


@shared_task(name="clusters.tasks.resync_due", ignore_result=True)
def resync_due() -> int:
    return workqueue.resync_due(now=timezone.now())


@shared_task(name="clusters.tasks.renew_node_leases", ignore_result=True)
def renew_node_leases() -> None:
    """Send each node's lease renewal to the node's own queue: only a worker that serves the
    node's kubelet renews it, so a node whose kubelet stopped goes silent. (A kubelet stopped as a
    learner's fault is skipped by the renewal itself: other sandboxes share the node's name.) The
    rows of simulated volumes are no nodes: no worker consumes a queue of theirs, where messages
    would only pile up."""
    expires = settings.NODE_HEARTBEAT_SECONDS
    nodes = NodeRuntimeState.objects.exclude(node__startswith=VOLUME_PREFIX).values_list("node", flat=True)
    for node in nodes.distinct().order_by("node"):
        renew_node_lease.apply_async((node,), queue=workqueue.queue_for(workqueue.kubelet_key(node)), expires=expires)


@shared_task(name="clusters.tasks.renew_node_lease", ignore_result=True)
def renew_node_lease(node: str) -> int:
    return node_leases_renew(node, now=timezone.now())


@shared_task(name="clusters.tasks.monitor_nodes", ignore_result=True)
def monitor_nodes() -> int:
    """Upstream's node monitor: every few seconds, wake the controllers of the sandboxes whose
    node lease has just expired, so the node turns NotReady once its grace period is over."""
    sandboxes = sandboxes_with_leases_just_expired(
        now=timezone.now(),
        grace=timedelta(seconds=settings.NODE_GRACE_SECONDS),
        period=timedelta(seconds=settings.NODE_MONITOR_SECONDS),
    )
    for sandbox_id in sandboxes:
        with transaction.atomic():
            workqueue.work_request(sandbox_id, [workqueue.CONTROLLERS])
    return len(sandboxes)


@shared_task(name="clusters.tasks.pause_idle_sandboxes", ignore_result=True)
def pause_idle_sandboxes() -> int:
    """Pause the sandboxes unused for TUTOR_IDLE_STOP_MINUTES (clusters.idle)."""
    return len(idle.sandboxes_idle_pause(now=timezone.now()))


@shared_task(name="clusters.tasks.sandbox_engine_remove", ignore_result=True)
def sandbox_engine_remove(uid: str) -> None:
    """A deleted Docker sandbox's containers, volumes and networks removed from the engine."""
    # Imported here: the Docker SDK loads only in processes that use a Docker engine.
    from clusters.runtime.docker import DockerRuntime

    DockerRuntime(sandbox=uid).sandbox_remove()


@shared_task(name="clusters.tasks.compact_change_log")
def compact_change_log() -> int:
    return change_log_compact(keep=settings.CHANGE_LOG_KEEP)


# Connected when the worker imports its task modules, which it does before it is ready.
@worker_ready.connect
def follow_engine_events(sender=None, **kwargs) -> None:
    """When a Docker engine answers, its events wake the kubelets (see clusters.engine_watch); any
    sandbox may ask for Docker, whatever the default runtime is."""
    # Imported here on purpose: the Docker SDK loads once a worker is ready, not in every process
    # that imports the tasks (beat, the web process, management commands).
    from clusters.runtime.docker import engine_ping

    if engine_ping()[0]:
        engine_watch.follow_in_background()


@worker_ready.connect
def resync_at_start(sender=None, **kwargs) -> None:
    """A controller that starts lists everything and reconciles it, as upstream's informers do: a
    worker started after an outage, an upgrade or a restored backup converges every sandbox now,
    not at the next full resync."""
    resync.delay()


@worker_ready.connect
def serve_metrics(sender=None, **kwargs) -> None:
    """This worker's reconcile and plan metrics for Prometheus, when TUTOR_WORKER_METRICS_PORT says where."""
    if settings.WORKER_METRICS_PORT:
        monitoring.worker_exporter_start(settings.WORKER_METRICS_PORT)
