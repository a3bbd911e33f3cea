"""Prometheus metrics (prometheus-client): what an operator of a class watches.

Each process keeps its own instruments. Web measures the Kubernetes API's latency and counts its
open watches; a worker times every reconcile, and each controller's plan, and counts their
errors. What is shared state (the work queue's depth and age, pods by phase, sandboxes) is read
from the database at scrape time, in web only: any web process gives the same figures.

Web serves its metrics at /metrics (tutor.health); a worker serves its own on
TUTOR_WORKER_METRICS_PORT when that is set. Names follow upstream's where there is one
(apiserver_request_duration_seconds, apiserver_longrunning_requests, workqueue_depth,
workqueue_queue_duration_seconds), with a kube_tutor_ prefix.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator

from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from clusters.models import Sandbox, StoredObject, WorkItem

# Upstream's apiserver buckets, trimmed to what a sandbox's API answers in.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 5.0, 10.0)

API_SECONDS = Histogram(
    "kube_tutor_apiserver_request_duration_seconds",
    "Kubernetes API requests by verb, resource and code (watches and log follows not included)",
    ["verb", "resource", "code"],
    buckets=LATENCY_BUCKETS,
)
WATCHES_OPEN = Gauge(
    "kube_tutor_apiserver_longrunning_requests",
    "Open watch and log-follow streams of the Kubernetes API in this process",
    ["verb"],
)
RECONCILE_SECONDS = Histogram(
    "kube_tutor_reconcile_duration_seconds",
    "One run of a work queue key: a sandbox's controllers, one node's kubelet, or its kube-proxy",
    ["key"],
    buckets=LATENCY_BUCKETS,
)
RECONCILE_ERRORS = Counter("kube_tutor_reconcile_errors_total", "Runs of a work queue key that failed", ["key"])
PLAN_SECONDS = Histogram(
    "kube_tutor_controller_plan_duration_seconds",
    "One controller's plan over a sandbox's state",
    ["controller"],
    buckets=LATENCY_BUCKETS,
)
PLAN_ERRORS = Counter("kube_tutor_controller_errors_total", "Plans of a controller that raised", ["controller"])


def api_verb(method: str, *, named: bool, watch: bool = False) -> str:
    """The verb as the apiserver's metrics name it (pure)."""
    if watch:
        return "WATCH"
    if method == "GET":
        return "GET" if named else "LIST"
    return method


def key_kind(key: str) -> str:
    """`kubelet/node-1` → `kubelet`: one label value per kind of key, not per node (pure)."""
    return key.split("/", 1)[0]


def api_resource(plural: str, subresource: str | None) -> str:
    """`pods` or `pods/log`: the resource label, as upstream's resource and subresource (pure)."""
    return f"{plural}/{subresource}" if subresource else plural


async def stream_counted(chunks: AsyncIterator[bytes], verb: str) -> AsyncIterator[bytes]:
    """A watch's or a log follow's body, counted among the open streams while it is sent."""
    WATCHES_OPEN.labels(verb).inc()
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        WATCHES_OPEN.labels(verb).dec()


@contextlib.contextmanager
def reconcile_timed(key: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception:
        RECONCILE_ERRORS.labels(key_kind(key)).inc()
        raise
    finally:
        RECONCILE_SECONDS.labels(key_kind(key)).observe(time.perf_counter() - started)


@contextlib.contextmanager
def plan_timed(controller: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception:
        PLAN_ERRORS.labels(controller).inc()
        raise
    finally:
        PLAN_SECONDS.labels(controller).observe(time.perf_counter() - started)


class StoredStateCollector(Collector):
    """The work queue, pods and sandboxes as the database holds them now: three small queries."""

    def collect(self):
        now = timezone.now()
        free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        due = WorkItem.objects.filter(free & (Q(dirty=True) | Q(wake_at__lte=now)))
        depth = GaugeMetricFamily(
            "kube_tutor_workqueue_depth", "Work queue keys due now and not being run", labels=["key"]
        )
        oldest = GaugeMetricFamily(
            "kube_tutor_workqueue_oldest_due_seconds",
            "How long the longest-waiting due key has waited (0 when none is due)",
            labels=["key"],
        )
        waits: dict[str, list[float]] = {"controllers": [], "kubelet": [], "kube-proxy": []}
        for key, dirty, dirty_since, wake_at in due.values_list("key", "dirty", "dirty_since", "wake_at"):
            since = (dirty_since if dirty else wake_at) or now  # rows older than dirty_since count as new
            waits.setdefault(key_kind(key), []).append(max(0.0, (now - since).total_seconds()))
        for kind, seconds in sorted(waits.items()):
            depth.add_metric([kind], len(seconds))
            oldest.add_metric([kind], max(seconds, default=0.0))
        yield depth
        yield oldest

        phases = GaugeMetricFamily("kube_tutor_pods", "Pods of every sandbox by phase", labels=["phase"])
        counted = (
            StoredObject.objects.filter(api_group="", kind="Pod")
            .annotate(phase=KT("body__status__phase"))
            .values("phase")
            .annotate(n=Count("id"))
        )
        found = {row["phase"] or "Pending": row["n"] for row in counted}
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            phases.add_metric([phase], found.get(phase, 0))
        yield phases

        sandboxes = GaugeMetricFamily(
            "kube_tutor_sandboxes", "Sandboxes by runtime, and whether paused for idleness", labels=["engine", "paused"]
        )
        rows = Sandbox.objects.values("engine").annotate(
            total=Count("id"), paused=Count("id", filter=Q(activity__paused_at__isnull=False))
        )
        for row in rows:
            sandboxes.add_metric([row["engine"], "false"], row["total"] - row["paused"])
            sandboxes.add_metric([row["engine"], "true"], row["paused"])
        yield sandboxes


_stored_state = StoredStateCollector()


def web_registered() -> None:
    """Add the database's gauges to this (web) process's registry, once."""
    with contextlib.suppress(ValueError):  # already registered
        REGISTRY.register(_stored_state)


def worker_exporter_start(port: int, address: str = "0.0.0.0") -> None:  # noqa: S104 - Prometheus scrapes from elsewhere
    """Serve this worker's own instruments (reconciles, plans) for Prometheus to scrape."""
    start_http_server(port, addr=address)
