"""The controller manager: every controller of one sandbox, run as one level-triggered pass.

Each pass reads the sandbox's whole state once, asks every planner what to do, and performs the
actions; passes repeat until no planner has anything to do (a fresh pass sees the previous
one's writes, so a ReplicaSet's new pods are scheduled in the next pass of the same run). The
earliest wake-up any planner asks for is returned, so the work queue can come back exactly then.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from datetime import datetime, timedelta
from types import ModuleType

from django.conf import settings

from clusters.controllers import job
from clusters.controllers.actions import Event
from clusters.controllers.actor import actions_apply
from clusters.controllers.state import ClusterState
from clusters.models import NodeRuntimeState, Sandbox, StoredObject

log = logging.getLogger(__name__)

# In the order a cluster's control plane reacts: lifecycle and cleanup first, then the
# workload controllers that create pods, then the scheduler that places them, then the
# controllers that follow pods (endpoints) and claims (volumes).
PLANNERS = (
    "node_lifecycle",
    "namespace",
    "garbage_collector",
    "deployment",
    "replicaset",
    "replicationcontroller",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "volumes",
    "scheduler",
    "endpoints",
)
# The component each planner plays, as upstream names it in Events and the timeline shows it.
COMPONENTS = {
    "node_lifecycle": "node-controller",
    "namespace": "namespace-controller",
    "garbage_collector": "garbage-collector",
    "deployment": "deployment-controller",
    "replicaset": "replicaset-controller",
    "replicationcontroller": "replication-controller",
    "statefulset": "statefulset-controller",
    "daemonset": "daemonset-controller",
    "job": "job-controller",
    "cronjob": "cronjob-controller",
    "volumes": "persistentvolume-controller",
    "scheduler": "default-scheduler",
    "endpoints": "endpoint-controller",
}
MAX_PASSES = 10
# Kinds no controller plans from; leaving them out keeps each pass's read small.
UNWATCHED_KINDS = ("Event",)


def planner_modules(names: tuple[str, ...] = PLANNERS) -> list[ModuleType]:
    return [importlib.import_module(f"clusters.controllers.{name}") for name in names]


def sandbox_state(sandbox: Sandbox) -> ClusterState:
    bodies = (
        StoredObject.objects.filter(sandbox=sandbox).exclude(kind__in=UNWATCHED_KINDS).values_list("body", flat=True)
    )
    return ClusterState.of(bodies)


def planner_options(name: str, sandbox: Sandbox) -> dict:
    """Settings and facts outside the API some planners take as arguments (they stay pure: no
    settings or database inside): the node lifecycle's timings and the nodes' leases, the Job
    controller's pod-failure back-off (fast in class, as the kubelet's)."""
    if name == "node_lifecycle":
        leases = NodeRuntimeState.objects.filter(sandbox=sandbox, lease_renewed_at__isnull=False)
        return {
            "grace": timedelta(seconds=settings.NODE_GRACE_SECONDS),
            "eviction": timedelta(seconds=settings.POD_EVICTION_SECONDS),
            "leases": dict(leases.values_list("node", "lease_renewed_at")),
        }
    if name == "job":
        return {"backoff": job.FAST_POD_FAILURE_BACKOFF if sandbox.fast_backoff else job.UPSTREAM_POD_FAILURE_BACKOFF}
    return {}


def _name(planner: ModuleType) -> str:
    return getattr(planner, "__name__", "").rsplit(".", 1)[-1]


def _signed(action, planner: ModuleType):
    """The action with the planning component as its writer (Events name their own source)."""
    if isinstance(action, Event) or action.by:
        return action
    return dataclasses.replace(action, by=COMPONENTS.get(_name(planner), _name(planner)))


def controllers_reconcile(
    sandbox: Sandbox, *, now: datetime, planners: list[ModuleType] | None = None
) -> datetime | None:
    planners = planner_modules() if planners is None else planners
    arguments = [(planner, planner_options(_name(planner), sandbox)) for planner in planners]
    state = sandbox_state(sandbox)
    work_left = False
    for _ in range(MAX_PASSES):
        actions = [
            _signed(action, planner)
            for planner, options in arguments
            for action in planner.plan(state, now=now, **options)
        ]
        if not actions:
            break
        actions_apply(sandbox, actions)  # a lost race just means: plan again from fresh state
        state = sandbox_state(sandbox)
    else:
        log.warning("sandbox %s: controllers still had work after %d passes", sandbox.pk, MAX_PASSES)
        work_left = True
    # Notices are events said once per run, not per pass (a planner that repeated them would
    # never have nothing to do): e.g. a CronJob whose run is held back by an active Job.
    actions_apply(
        sandbox,
        [event for planner in planners if hasattr(planner, "notices") for event in planner.notices(state, now=now)],
    )
    wakeups = [
        moment
        for planner, options in arguments
        if hasattr(planner, "next_wakeup") and (moment := planner.next_wakeup(state, now=now, **options)) is not None
    ]
    if work_left:
        wakeups.append(now)  # come back at once: this run's own writes did not make its key due
    return min(wakeups, default=None)
