"""The controller manager: every controller of one sandbox, run as one level-triggered pass.

Each pass reads the sandbox's whole state once, asks every planner what to do, and performs the
actions; passes repeat until no planner has anything to do (a fresh pass sees the previous
one's writes, so a ReplicaSet's new pods are scheduled in the next pass of the same run). The
earliest wake-up any planner asks for is returned, so the work queue can come back exactly then.

A planner may keep a memory between runs, as some upstream controllers keep state in memory only
(the autoscaler's recommendations): it then has a pure `remember(state, now=…, memory=…, …)`
giving what it remembers after planning with the same arguments. The manager keeps that memory in
this process, per sandbox, and passes it back as `memory`; like upstream's, it is lost when the
process restarts, and the planner starts again from what the API holds.

Creates the API server refused (a quota used up) are remembered the same way, per owner
(clusters.controllers.refusals): while a refusal holds, the owner's creates wait — a planner whose
`plan` takes `held` is told the owners' uids, other plans lose those creates — and the run comes
back when the back-off ends.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import logging
from datetime import datetime, timedelta
from types import ModuleType

from django.conf import settings
from django.utils import timezone

from clusters import metrics, monitoring, state_cache
from clusters.controllers import horizontal_pod_autoscaler, job, refusals
from clusters.controllers.actions import Event
from clusters.controllers.actor import Outcome, actions_apply
from clusters.controllers.state import ClusterState
from clusters.models import NodeRuntimeState, Sandbox
from clusters.usage_samples import PodMeasured

log = logging.getLogger(__name__)

# In the order a cluster's control plane reacts: lifecycle and cleanup first, then the quotas'
# recount (so that what a pass frees is free for the creates of the same pass), then the
# workload controllers that create pods, then the scheduler that places them, then the
# controllers that follow pods (endpoints) and claims (volumes).
PLANNERS = (
    "node_lifecycle",
    "namespace",
    "garbage_collector",
    "resourcequota",
    "horizontal_pod_autoscaler",
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
    "resourcequota": "resourcequota-controller",
    "horizontal_pod_autoscaler": "horizontal-pod-autoscaler",
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
# Kinds no controller plans from: those the state cache leaves out.
UNWATCHED_KINDS = state_cache.LEFT_OUT
# What planners with a `remember` keep between runs, by (sandbox, planner): this process's memory.
_memories: dict[tuple[int, str], object] = {}
# Refused creates, by sandbox and owner uid: this process's memory too.
_refusals: dict[int, dict[str, refusals.Refusal]] = {}


def planner_modules(names: tuple[str, ...] = PLANNERS) -> list[ModuleType]:
    return [importlib.import_module(f"clusters.controllers.{name}") for name in names]


def sandbox_state(sandbox: Sandbox) -> ClusterState:
    """The sandbox's objects as a list would read them now, from this process's copy (clusters.state_cache)."""
    return ClusterState.of(state_cache.sandbox_objects(sandbox))


def planner_options(name: str, sandbox: Sandbox, state: ClusterState) -> dict:
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
    if name == "horizontal_pod_autoscaler":
        return _autoscaler_options(sandbox, state)
    return {}


def _autoscaler_options(sandbox: Sandbox, state: ClusterState) -> dict:
    """The resource metrics the autoscalers read (reading them keeps the kubelets sampling, as
    long as an autoscaler exists), the controller's memory and its sync period (a class may
    shorten it)."""
    options = {
        "sync_period": timedelta(seconds=settings.HPA_SYNC_SECONDS),
        "memory": _memories.get((sandbox.pk, "horizontal_pod_autoscaler"), {}),
        "metrics": {},
    }
    wakeup = horizontal_pod_autoscaler.next_wakeup(state, now=timezone.now(), **options)
    new = any(hpa["metadata"]["uid"] not in options["memory"] for hpa in state.objects(horizontal_pod_autoscaler.KIND))
    # Read when an autoscaler is due to sync, and while a new one waits for its first sync (the
    # read starts the kubelets sampling, so that it finds metrics then).
    if new or (wakeup is not None and wakeup <= timezone.now()):
        options["metrics"] = {
            uid: _pod_metric(measured) for uid, measured in metrics.pod_usages_read(sandbox=sandbox).items()
        }
    return options


def _pod_metric(measured: PodMeasured) -> horizontal_pod_autoscaler.PodMetric:
    """A pod's usage as the autoscaler reads metrics-server's answer: milli-units per container
    (CPU rounded up to a millicore, as a quantity's MilliValue is)."""
    return horizontal_pod_autoscaler.PodMetric(
        timestamp=measured.at,
        window=measured.window,
        containers={
            name: {"cpu": -(-usage.nanocores // 1_000_000), "memory": usage.memory_bytes * 1000}
            for name, usage in measured.containers.items()
        },
    )


def _options(planner: ModuleType, sandbox: Sandbox, state: ClusterState) -> dict:
    options = planner_options(_name(planner), sandbox, state)
    if hasattr(planner, "remember"):
        options.setdefault("memory", _memories.get((sandbox.pk, _name(planner)), {}))
    return options


def _remembered(sandbox: Sandbox, planner: ModuleType, options: dict, state: ClusterState, now: datetime) -> dict:
    """The options of the next pass: for a planner with a memory, what it remembers now."""
    if not hasattr(planner, "remember"):
        return options
    memory = planner.remember(state, now=now, **options)
    _memories[(sandbox.pk, _name(planner))] = memory
    return {**options, "memory": memory}


def _name(planner: ModuleType) -> str:
    return getattr(planner, "__name__", "").rsplit(".", 1)[-1]


def _signed(action, planner: ModuleType):
    """The action with the planning component as its writer (Events name their own source)."""
    if isinstance(action, Event) or action.by:
        return action
    return dataclasses.replace(action, by=COMPONENTS.get(_name(planner), _name(planner)))


@functools.cache
def _takes_held(plan) -> bool:
    try:
        return "held" in inspect.signature(plan).parameters
    except (TypeError, ValueError):
        return False


def _held_argument(planner: ModuleType, held: frozenset[str]) -> dict:
    return {"held": held} if _takes_held(planner.plan) else {}


def _note_refusals(remembered: dict[str, refusals.Refusal], outcome: Outcome, state, now: datetime) -> None:
    """Remember this pass's refusals (against the state they left), forget the owners whose
    creates landed and those that are gone."""
    refused = {owner["uid"]: owner for owner in outcome.refused}
    for uid in outcome.created_for - refused.keys():
        remembered.pop(uid, None)
    for uid, owner in refused.items():
        remembered[uid] = refusals.refused_again(remembered.get(uid), owner, state, now)
    for uid in [uid for uid, refusal in remembered.items() if not refusals.exists(state, refusal.owner)]:
        del remembered[uid]


def controllers_reconcile(
    sandbox: Sandbox, *, now: datetime, planners: list[ModuleType] | None = None
) -> datetime | None:
    planners = planner_modules() if planners is None else planners
    state = sandbox_state(sandbox)
    arguments = [(planner, _options(planner, sandbox, state)) for planner in planners]
    remembered = _refusals.setdefault(sandbox.pk, {})
    work_left = False
    for _ in range(MAX_PASSES):
        held = refusals.held(remembered.values(), state, now)
        actions = []
        for planner, options in arguments:
            with monitoring.plan_timed(_name(planner)):
                planned = list(planner.plan(state, now=now, **options, **_held_argument(planner, held)))
            actions += [_signed(action, planner) for action in planned]
        actions = refusals.without_held(actions, held)
        arguments = [(planner, _remembered(sandbox, planner, options, state, now)) for planner, options in arguments]
        if not actions:
            break
        outcome = actions_apply(sandbox, actions)  # a lost race just means: plan again from fresh state
        state = sandbox_state(sandbox)
        _note_refusals(remembered, outcome, state, now)
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
    wakeups += [refusal.retry_at for refusal in remembered.values() if refusal.retry_at > now]
    if work_left:
        wakeups.append(now)  # come back at once: this run's own writes did not make its key due
    return min(wakeups, default=None)
