"""The Job controller's planner (upstream `pkg/controller/job`, as 1.31+ behaves).

For every Job of a sandbox that has not finished, one pass:

1. counts its pods the way upstream does since pod-tracking finalizers: each pod is created with the
   `batch.kubernetes.io/job-tracking` finalizer; a finished pod (Succeeded, Failed, or deleted before
   it succeeded) is first written into `status.uncountedTerminatedPods`, then loses its finalizer,
   then moves into `succeeded`/`failed`. Upstream does the three steps within one sync; a planner only
   sees one snapshot, so they take three passes here, each safe on its own (a pod's finalizer goes
   only once its uid is stored, a counter moves only once the finalizer is gone), and a pod is
   never counted twice nor lost when it is deleted;
2. decides whether the Job is done: a failed pod (phase Failed: with a podFailurePolicy only failed
   pods are replaced) matching a `FailJob` rule of `podFailurePolicy` (rules in order, on exit
   codes or pod conditions; upstream's pod_failure_policy.go) gives `FailureTarget` with reason
   `PodFailurePolicy` and upstream's message; failures matching an `Ignore` rule are not counted
   in `failed` at all. Then `failed > backoffLimit` (or, with restartPolicy OnFailure, the
   container restarts reaching it) or `activeDeadlineSeconds` passed gives the interim
   `FailureTarget` condition, and its active pods are deleted; enough successes give
   `SuccessCriteriaMet` (reason `CompletionsReached`). The terminal `Failed`/`Complete` condition
   follows once no pod is uncounted or still terminating, with the `Completed` or Warning event;
3. otherwise keeps `parallelism` pods running (never more than the completions still needed),
   deleting extras, or all of them while `suspend` is true (`Suspended`/`Resumed` conditions and
   events); after failures, new pods wait a back-off that doubles per consecutive failure, and
   `next_wakeup` says when. A pod the API server refuses (a quota used up) gets upstream's
   Warning `FailedCreate` "Error creating: …", and the Job creates no more while it is `held`
   (clusters.controllers.refusals). The back-off is an argument: by default upstream's 10 s doubling to
   10 min (the cap in upstream's code since 1.28; the docs still say six); the manager passes
   `FAST_POD_FAILURE_BACKOFF` (1 s doubling to 60 s, as the kubelet's crash loops) for sandboxes
   with `fast_backoff`;
4. Indexed Jobs: one pod per pending index with the `batch.kubernetes.io/job-completion-index`
   annotation and label, hostname `<job>-<index>`, `JOB_COMPLETION_INDEX` in every container, and
   `status.completedIndexes`. With `backoffLimitPerIndex` (upstream's indexed_job_utils.go) every
   pod carries its index's failures so far in `batch.kubernetes.io/job-index-failure-count` (and
   `…-ignored-failure-count`); a failed pod keeps its finalizer until its replacement is created
   with the count plus one, after that index's own back-off (the global one is not used). A
   counted failure of a pod whose count had reached the limit (or a `FailIndex` rule) fails the
   index: it goes into `status.failedIndexes` ("1,3-5") and is not retried. More failed indexes
   than `maxFailedIndexes` fail the Job (`MaxFailedIndexesExceeded`); so does every index being
   done with some failed (`FailedIndexes`, "Job has failed indexes");
5. writes the status (`startTime`, `active`, `ready`, `terminating`, `succeeded`, `failed`,
   `uncountedTerminatedPods`, conditions, `completedIndexes`, `failedIndexes`, `completionTime`)
   when it differs, guarded by the Job's
   resourceVersion because its counters are increments.

Pods whose Job is gone or finished lose the tracking finalizer (upstream's orphan-pod worker).

Pods get `generateName: <job>-` and also a name chosen here as the API server would (five
characters of its alphabet, derived from the Job's uid and `now`), so that `SuccessfulCreate` can
name the pod.

Left out: successPolicy, adopting orphan pods, `managedBy` other than the built-in controller
(such Jobs are skipped, as upstream does). One deliberate difference: while pod creation waits out
the failure backoff, upstream writes `status.active: 0` even when pods are running; here `active`
stays the number of active pods. The backoff only knows the failed pods that still exist, where
upstream keeps a record in memory. With backoffLimitPerIndex, indexes still backing off while
others are created make a wakeup here; upstream waits for its next sync of the Job.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, owner_reference, ref
from clusters.controllers.pods import (
    controller_ref,
    counted,
    format_time,
    is_active,
    is_being_deleted,
    is_controlled_by,
    is_failed,
    is_ready,
    is_succeeded,
    is_terminating,
    listed,
    merge_patch,
    parse_time,
    pod_phase,
    ready_condition,
)
from clusters.controllers.state import ClusterState

SOURCE = "job-controller"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
BUILT_IN_CONTROLLER = "kubernetes.io/job-controller"
DEFAULT_POD_FAILURE_BACKOFF = timedelta(seconds=10)
MAX_POD_FAILURE_BACKOFF = timedelta(minutes=10)
MAX_POD_CREATE_DELETE_PER_SYNC = 500
BACKOFF_LIMIT_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
COMPLETIONS_MESSAGE = "Reached expected number of succeeded pods"
FAILED_INDEXES_MESSAGE = "Job has failed indexes"
MAX_FAILED_INDEXES_MESSAGE = "Job has exceeded the specified maximal number of failed indexes"
INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_INT32 = 2**31 - 1
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
RELEASING = "removing its Job tracking finalizer"  # how a `why` ends when a pod's finalizer goes
MAX_GENERATED_NAME_BASE = 58
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


@dataclass(frozen=True)
class PodFailureBackoff:
    """How long new pods wait after consecutive failures: `initial`, doubling per failure up to `cap`."""

    initial: timedelta
    cap: timedelta

    def delay(self, failures: int) -> timedelta:
        """The wait after `failures` (at least one) consecutive failures."""
        delay = self.initial
        for _ in range(1, failures):
            if delay >= self.cap:
                break  # capped: doubling on would overflow a timedelta after many failures
            delay *= 2
        return min(delay, self.cap)


UPSTREAM_POD_FAILURE_BACKOFF = PodFailureBackoff(DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF)
# Class time (Sandbox.fast_backoff): the kubelet's fast crash-loop back-off, so a failing Job's
# retries show within a minute.
FAST_POD_FAILURE_BACKOFF = PodFailureBackoff(timedelta(seconds=1), timedelta(seconds=60))


def plan(
    state: ClusterState,
    *,
    now: datetime,
    backoff: PodFailureBackoff = UPSTREAM_POD_FAILURE_BACKOFF,
    held: frozenset[str] = frozenset(),
) -> list[Action]:
    """Everything the Job controller would do in this sandbox right now; the Jobs whose uids are
    `held` create no pods (their last create was refused: clusters.controllers.refusals)."""
    actions: list[Action] = []
    for job in _sorted(state.objects("Job")):
        actions += _sync(state, job, now, backoff, held).actions
    actions += _release_orphan_pods(state)
    return actions


def next_wakeup(
    state: ClusterState, *, now: datetime, backoff: PodFailureBackoff = UPSTREAM_POD_FAILURE_BACKOFF
) -> datetime | None:
    """The earliest moment after `now` when a pod-failure backoff ends or an active deadline passes."""
    moments = [sync.wakeup for job in state.objects("Job") if (sync := _sync(state, job, now, backoff)).wakeup]
    return min((m for m in moments if m > now), default=None)


# --- one Job --------------------------------------------------------------------------------


@dataclass
class _Sync:
    """What one sync of one Job decided: the actions, and when it wants to look again."""

    actions: list[Action] = field(default_factory=list)
    wakeup: datetime | None = None


@dataclass
class _Pods:
    """The Job's pods, as upstream's syncJobCtx sees them."""

    all: list[dict]
    active: list[dict]
    uncounted_succeeded: list[str]
    uncounted_failed: list[str]
    succeeded_indexes: set[int]
    stored_indexes: set[int]
    succeeded: int = 0
    failed: int = 0
    ready: int = 0
    terminating: int = 0
    # With backoffLimitPerIndex: the failed indexes (stored and new), and per index the failed pod
    # whose finalizer stays until its replacement carries the index's failure count on.
    failed_indexes: set[int] | None = None
    delayed: dict[int, dict] = field(default_factory=dict)


def _sync(
    state: ClusterState, job: dict, now: datetime, backoff: PodFailureBackoff, held: frozenset[str] = frozenset()
) -> _Sync:
    sync = _Sync()
    spec, status = job["spec"], job.get("status") or {}
    if _finished(job) or _managed_elsewhere(job):
        return sync
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        return sync
    pods = _observe(state, job)
    suspended = bool(spec.get("suspend"))
    start_time = status.get("startTime") or (None if suspended else format_time(now))
    conditions = copy.deepcopy(status.get("conditions") or [])

    finished = _stored_finish(conditions)
    if finished is None and (message := _fail_job_message(job, pods.all)) is not None:
        finished = ("FailureTarget", "PodFailurePolicy", message)
    if finished is None:
        deadline = _deadline(job, start_time)
        if pods.failed > spec.get("backoffLimit", 6) or _past_backoff_limit_on_failure(job, pods.all):
            finished = ("FailureTarget", "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE)
        elif deadline is not None and not suspended and now >= deadline:
            finished = ("FailureTarget", "DeadlineExceeded", DEADLINE_MESSAGE)
        elif deadline is not None and not suspended:
            sync.wakeup = deadline
    if finished is None and pods.failed_indexes is not None:
        finished = _failed_indexes_finish(job, pods)

    active, ready, terminating = len(pods.active), pods.ready, pods.terminating
    if finished is not None:
        # Upstream's deleteActivePods keeps the tracking finalizers: these pods count as failed.
        deleted = pods.active[:MAX_POD_CREATE_DELETE_PER_SYNC]
        why = f"{_failure_words(job, finished[1])}: deleting its {counted(len(deleted), 'running pod')}"
        sync.actions += [action for pod in deleted for action in _delete_pod(job, pod, why, release=False)]
        active, terminating = active - len(deleted), terminating + len(deleted)
        ready -= sum(1 for pod in deleted if is_ready(pod))
    else:
        managed = None
        if not job["metadata"].get("deletionTimestamp"):
            managed = _manage(job, pods, now, backoff, sync, held)
            active, ready, terminating = managed.active, managed.ready, managed.terminating
        completions = spec.get("completions")
        if completions is None:
            complete = pods.succeeded > 0 and active == 0
        else:
            complete = pods.succeeded >= completions and active == 0
        if complete:
            finished = ("SuccessCriteriaMet", "CompletionsReached", COMPLETIONS_MESSAGE)
        elif managed is not None:
            start_time = _suspension(job, conditions, start_time, now, sync)

    new_status = _track(job, pods, conditions, finished, terminating, now, sync)
    new_status.update({"active": active, "ready": ready, "terminating": terminating, "startTime": start_time})
    _write_status(job, new_status, sync)
    return sync


def _observe(state: ClusterState, job: dict) -> _Pods:
    namespace = job["metadata"].get("namespace", "")
    status = job.get("status") or {}
    uncounted = status.get("uncountedTerminatedPods") or {}
    pods = sorted(
        (p for p in state.objects("Pod", namespace) if is_controlled_by(p, job)), key=lambda p: p["metadata"]["name"]
    )
    active = [p for p in pods if is_active(p)]
    observed = _Pods(
        all=pods,
        active=active,
        uncounted_succeeded=list(uncounted.get("succeeded") or []),
        uncounted_failed=list(uncounted.get("failed") or []),
        succeeded_indexes=set(),
        stored_indexes=set(),
        ready=sum(1 for p in active if is_ready(p)),
        terminating=sum(1 for p in pods if is_terminating(p)),
    )
    known = set(observed.uncounted_succeeded) | set(observed.uncounted_failed)
    fresh = [p for p in pods if _is_tracked(p) and p["metadata"]["uid"] not in known and _has_valid_index(job, p)]
    new_succeeded = [p for p in fresh if is_succeeded(p)]
    new_failed = [p for p in fresh if _is_pod_failed(p, job) and _match_policy(job, p).counts]
    observed.succeeded = status.get("succeeded", 0) + len(new_succeeded) + len(observed.uncounted_succeeded)
    observed.failed = status.get("failed", 0) + len(new_failed) + len(observed.uncounted_failed)
    if _is_indexed(job):
        completions = job["spec"]["completions"]
        observed.stored_indexes = _parse_indexes(status.get("completedIndexes", ""), completions)
        observed.succeeded_indexes = observed.stored_indexes | {_index(p) for p in new_succeeded}
        observed.succeeded = len(observed.succeeded_indexes)
        if _has_backoff_limit_per_index(job):
            # Upstream looks at every pod still holding its finalizer; a pod whose uid is stored
            # here would have lost it within that sync, its index stored along with the uid.
            stored_failed = _parse_indexes(status.get("failedIndexes") or "", completions)
            observed.failed_indexes = stored_failed | {_index(p) for p in fresh if _is_index_failed(job, p)}
            observed.delayed = _delayed_failed_pods(job, observed, known)
    return observed


def _stored_finish(conditions: list[dict]) -> tuple[str, str, str] | None:
    """A finish already decided in an earlier pass: SuccessCriteriaMet, or FailureTarget turned Failed."""
    for kind, final in (("SuccessCriteriaMet", "SuccessCriteriaMet"), ("FailureTarget", "Failed")):
        condition = _condition(conditions, kind)
        if condition and condition.get("status") == "True":
            return final, condition.get("reason", ""), condition.get("message", "")
    return None


def _deadline(job: dict, start_time: str | None) -> datetime | None:
    seconds = job["spec"].get("activeDeadlineSeconds")
    if seconds is None or start_time is None:
        return None
    return parse_time(start_time) + timedelta(seconds=seconds)


def _past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
    """With restartPolicy OnFailure the kubelet restarts containers in place: restarts count as failures."""
    if job["spec"]["template"].get("spec", {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if pod_phase(pod) in ("Running", "Pending"):
            status = pod.get("status") or {}
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(s.get("restartCount", 0) for s in status.get(key) or [])
    limit = job["spec"].get("backoffLimit", 6)
    return restarts > 0 if limit == 0 else restarts >= limit


# --- creating and deleting pods -------------------------------------------------------------


@dataclass
class _Managed:
    active: int
    ready: int
    terminating: int


def _manage(
    job: dict, pods: _Pods, now: datetime, backoff: PodFailureBackoff, sync: _Sync, held: frozenset[str]
) -> _Managed:
    """Upstream manageJob: delete extras (or everything while suspended), or create what is missing
    (unless the Job is `held`: its last create was refused)."""
    spec = job["spec"]
    result = _Managed(len(pods.active), pods.ready, pods.terminating)
    name = job["metadata"]["name"]
    if spec.get("suspend"):
        doomed = _active_pods_for_removal(job, pods.active, len(pods.active))
        why = f"Job {name} is suspended: deleting its {counted(len(doomed), 'running pod')}"
    else:
        want = _wanted_active(job, pods)
        extra = max(0, len(pods.active) - want)
        doomed = _active_pods_for_removal(job, pods.active, extra)
        why = f"Job {name} wants {want} running, has {len(pods.active)}: deleting {len(doomed)}"
        if len(doomed) > extra:
            why += " (pods with a repeated or out-of-range index)"
    if doomed:
        doomed = doomed[:MAX_POD_CREATE_DELETE_PER_SYNC]
        # Upstream removes the tracking finalizer first: a pod the controller removes is no failure.
        sync.actions += [action for pod in doomed for action in _delete_pod(job, pod, why, release=True)]
        result.active -= len(doomed)
        result.terminating += len(doomed)
        result.ready -= sum(1 for pod in doomed if is_ready(pod))
        return result
    if spec.get("suspend"):
        return result
    waiting = pods.terminating if _only_replaces_failed_pods(job) else 0
    diff = _wanted_active(job, pods) - waiting - len(pods.active)
    if diff <= 0 or job["metadata"]["uid"] in held:
        return result
    per_index = pods.failed_indexes is not None
    if not per_index:  # with backoffLimitPerIndex each index backs off on its own, below
        remaining = _backoff_remaining(job, pods, now, backoff)
        if remaining > timedelta(0):
            sync.wakeup = _earliest(sync.wakeup, now + remaining)
            return result
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    indexes: list[int | None] = [None] * diff
    if _is_indexed(job):
        pending = _first_pending_indexes(job, pods, diff)
        if per_index:
            pending = _indexes_past_backoff(pending, pods, now, backoff, sync)
        indexes = list(pending)
    if not indexes:
        return result
    taken = {p["metadata"]["name"] for p in pods.all}
    why = _creating_why(job, pods, indexes)
    for index in indexes:
        pod = _new_pod(job, index, pods.delayed.get(index) if per_index and index is not None else None)
        pod["metadata"]["name"] = _generated_name(pod["metadata"]["generateName"], job, taken, now)
        taken.add(pod["metadata"]["name"])
        sync.actions.append(Create(pod, why=why, refused=functools.partial(_creation_refused, job)))
        message = f"Created pod: {pod['metadata']['name']}"
        sync.actions.append(Event(ref(job), "SuccessfulCreate", message, source=SOURCE))
    result.active += len(indexes)
    return result


def _creation_refused(job: dict, message: str) -> list[Action]:
    """A pod the API server refused: upstream's Warning FailedCreate Event (no Job condition says it)."""
    return [Event(ref(job), "FailedCreate", f"Error creating: {message}", "Warning", SOURCE)]


def _wanted_active(job: dict, pods: _Pods) -> int:
    parallelism = job["spec"].get("parallelism", 1)
    completions = job["spec"].get("completions")
    if completions is None:
        # Without completions, once one pod succeeded the others are left to finish on their own.
        return len(pods.active) if pods.succeeded > 0 else parallelism
    return max(0, min(completions - pods.succeeded, parallelism))


def _creating_why(job: dict, pods: _Pods, indexes: list[int | None]) -> str:
    """`Job pi needs 1 completion, 0 running: creating a pod`; `Job pi runs until a pod succeeds,
    …`; an Indexed Job names the indexes."""
    spec, name = job["spec"], job["metadata"]["name"]
    completions, parallelism = spec.get("completions"), spec.get("parallelism", 1)
    if completions is None:
        needs = f"Job {name} runs until a pod succeeds"
    else:
        remaining = completions - pods.succeeded
        needs = f"Job {name} needs {counted(remaining, 'more completion' if pods.succeeded else 'completion')}"
        if parallelism < remaining:
            needs += f" ({parallelism} at a time)"
    creating = "a pod" if len(indexes) == 1 else f"{len(indexes)} pods"
    if indexes and indexes[0] is not None:
        creating += f" for {'index' if len(indexes) == 1 else 'indexes'} {listed(str(i) for i in indexes)}"
    return f"{needs}, {len(pods.active)} running: creating {creating}"


def _failure_words(job: dict, reason: str) -> str:
    """Why a Job failed, in words: `Job pi reached its backoffLimit of 6`."""
    name, spec = job["metadata"]["name"], job["spec"]
    match reason:
        case "BackoffLimitExceeded":
            return f"Job {name} failed more often than its backoffLimit ({spec.get('backoffLimit', 6)}) allows"
        case "DeadlineExceeded":
            return f"Job {name} ran past its activeDeadlineSeconds ({spec.get('activeDeadlineSeconds')} s)"
        case "PodFailurePolicy":
            return f"a failed pod of Job {name} matched a FailJob rule of its podFailurePolicy"
        case "FailedIndexes":
            return f"Job {name} has tried every index, and some failed more often than backoffLimitPerIndex allows"
        case "MaxFailedIndexesExceeded":
            limit = spec.get("maxFailedIndexes")
            return f"Job {name} has more failed indexes than its maxFailedIndexes ({limit}) allows"
    return f"Job {name} failed ({reason})"


def _delete_pod(job: dict, pod: dict, why: str, *, release: bool) -> list[Action]:
    metadata = pod["metadata"]
    actions: list[Action] = []
    if release and _is_tracked(pod):
        actions.append(_release(pod, f"{why}; first its tracking finalizer goes, so it does not count as failed"))
    actions.append(Delete("v1", "Pod", metadata.get("namespace", ""), metadata["name"], uid=metadata["uid"], why=why))
    actions.append(Event(ref(job), "SuccessfulDelete", f"Deleted pod: {metadata['name']}", source=SOURCE))
    return actions


def _new_pod(job: dict, index: int | None, replaced: dict | None = None) -> dict:
    """Upstream GetPodFromTemplate plus the tracking finalizer, and an Indexed Job's identity; with
    backoffLimitPerIndex also the index's failure counts, carried on from the failed pod it `replaced`."""
    template = copy.deepcopy(job["spec"]["template"])
    template_metadata = template.get("metadata") or {}
    name = job["metadata"]["name"]
    metadata: dict = {"generateName": f"{name}-", "namespace": job["metadata"].get("namespace", "default")}
    for key in ("labels", "annotations"):
        if template_metadata.get(key):
            metadata[key] = dict(template_metadata[key])
    finalizers = list(template_metadata.get("finalizers") or [])
    metadata["finalizers"] = [*finalizers, TRACKING_FINALIZER] if TRACKING_FINALIZER not in finalizers else finalizers
    metadata["ownerReferences"] = [owner_reference(job)]
    spec = template.get("spec") or {}
    if index is not None:
        metadata["generateName"] = _indexed_generate_name(name, index)
        metadata["annotations"] = {**metadata.get("annotations", {}), COMPLETION_INDEX: str(index)}
        if _has_backoff_limit_per_index(job):
            failures, ignored = _replacement_failure_counts(job, replaced)
            metadata["annotations"][INDEX_FAILURE_COUNT] = str(failures)
            if ignored > 0:
                metadata["annotations"][INDEX_IGNORED_FAILURE_COUNT] = str(ignored)
        metadata["labels"] = {**metadata.get("labels", {}), COMPLETION_INDEX: str(index)}
        spec["hostname"] = f"{name}-{index}"
        for key in ("initContainers", "containers"):
            for container in spec.get(key) or []:
                _add_completion_index_env(container)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _indexed_generate_name(job_name: str, index: int) -> str:
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_BASE:
        prefix = prefix[: MAX_GENERATED_NAME_BASE - len(suffix)] + suffix
    return prefix


def _add_completion_index_env(container: dict) -> None:
    env = container.setdefault("env", [])
    if any(variable.get("name") == COMPLETION_INDEX_ENV for variable in env):
        return
    path = f"metadata.labels['{COMPLETION_INDEX}']"
    env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})


def _generated_name(base: str, job: dict, taken: set[str], now: datetime) -> str:
    """A name as the API server would generate it from `base`, free among `taken`, derived from the
    Job (uid and resourceVersion) and `now` so that the plan stays a pure function of its inputs."""
    seed = f"{job['metadata'].get('uid', '')}/{job['metadata'].get('resourceVersion')}/{base}/{now.isoformat()}"
    attempt = 0
    while True:
        digest = hashlib.sha256(f"{seed}/{attempt}".encode()).digest()
        name = base[:MAX_GENERATED_NAME_BASE] + "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:5])
        if name not in taken:
            return name
        attempt += 1


def _active_pods_for_removal(job: dict, active: list[dict], at_least: int) -> list[dict]:
    """Upstream activePodsForRemoval: for Indexed Jobs, pods with a repeated, missing or out-of-range
    index first; then the least advanced pods (upstream's ActivePods order)."""
    doomed: list[dict] = []
    left = list(active)
    if _is_indexed(job):
        completions = job["spec"]["completions"]
        by_index: dict[int, list[dict]] = {}
        left = []
        for pod in active:
            index = _index(pod)
            if index is None or index >= completions:
                doomed.append(pod)
            else:
                by_index.setdefault(index, []).append(pod)
        for index in sorted(by_index):
            same = sorted(by_index[index], key=functools.cmp_to_key(_compare_active))
            doomed += same[:-1]
            left.append(same[-1])
    if len(doomed) < at_least:
        doomed += sorted(left, key=functools.cmp_to_key(_compare_active))[: at_least - len(doomed)]
    return doomed


def _compare_active(a: dict, b: dict) -> int:
    """Upstream controller.ActivePods: unscheduled < scheduled, Pending < Unknown < Running, not ready
    < ready, ready more recently first, more restarts first, newer first."""
    keys_a, keys_b = _activity_key(a), _activity_key(b)
    return (keys_a > keys_b) - (keys_a < keys_b)


def _activity_key(pod: dict) -> tuple:
    ready = is_ready(pod)
    ready_since = ready_condition(pod).get("lastTransitionTime", "") if ready else ""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    restarts = max((s.get("restartCount", 0) for s in statuses), default=0)
    created = pod["metadata"].get("creationTimestamp", "")
    return (
        bool(pod["spec"].get("nodeName")),
        _PHASE_ORDINAL.get(pod_phase(pod), 0),
        ready,
        _descending(ready_since),
        -restarts,
        _descending(created),
        pod["metadata"]["name"],
    )


def _descending(timestamp: str) -> tuple:
    """Sorts RFC 3339 timestamps newest first (same-format strings compare like the times)."""
    return tuple(-ord(char) for char in timestamp)


def _first_pending_indexes(job: dict, pods: _Pods, count: int) -> list[int]:
    taken = set(pods.succeeded_indexes) | {i for p in pods.active if (i := _index(p)) is not None}
    taken |= pods.failed_indexes or set()
    if _only_replaces_failed_pods(job):
        taken |= {i for p in pods.all if is_terminating(p) and (i := _index(p)) is not None}
    pending = (i for i in range(job["spec"]["completions"]) if i not in taken)
    return [i for _, i in zip(range(count), pending, strict=False)]


# --- podFailurePolicy -----------------------------------------------------------------------


@dataclass(frozen=True)
class _PolicyMatch:
    """Upstream matchPodFailurePolicy's answer: the FailJob message, whether the failure counts
    (towards backoffLimit and backoffLimitPerIndex; not for Ignore) and the matched rule's action."""

    message: str | None = None
    counts: bool = True
    action: str | None = None


_NO_MATCH = _PolicyMatch()


def _match_policy(job: dict, pod: dict) -> _PolicyMatch:
    """The first rule of the Job's podFailurePolicy that the failed `pod` matches (rules with an
    action this controller does not know are skipped, as upstream's switch does)."""
    policy = job["spec"].get("podFailurePolicy")
    if not policy:
        return _NO_MATCH
    metadata, status = pod["metadata"], pod.get("status") or {}
    subject = f"{metadata.get('namespace', '')}/{metadata['name']}"
    for number, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container = _matching_exit_code(status, rule["onExitCodes"])
            if container is None:
                continue
            code = container["state"]["terminated"]["exitCode"]
            message = (
                f"Container {container.get('name')} for pod {subject} failed with exit code {code} "
                f"matching {action} rule at index {number}"
            )
        elif rule.get("onPodConditions") is not None:
            condition = _matching_condition(status, rule["onPodConditions"])
            if condition is None:
                continue
            message = f"Pod {subject} has condition {condition.get('type')} matching {action} rule at index {number}"
        else:
            continue
        match action:
            case "Ignore":
                return _PolicyMatch(counts=False, action=action)
            case "Count" | "FailIndex":
                return _PolicyMatch(action=action)
            case "FailJob":
                return _PolicyMatch(message=message, action=action)
    return _NO_MATCH


def _matching_exit_code(status: dict, requirement: dict) -> dict | None:
    """The first terminated container (then init container) whose non-zero exit code meets `requirement`."""
    name, operator = requirement.get("containerName"), requirement.get("operator")
    values = requirement.get("values") or []
    for key in ("containerStatuses", "initContainerStatuses"):
        for container in status.get(key) or []:
            terminated = (container.get("state") or {}).get("terminated")
            if terminated is None or (name is not None and container.get("name") != name):
                continue
            code = terminated.get("exitCode", 0)
            if code != 0 and ((operator == "In" and code in values) or (operator == "NotIn" and code not in values)):
                return container
    return None


def _matching_condition(status: dict, patterns: list[dict]) -> dict | None:
    """The first pod condition that one of `patterns` (type and status, True by default) matches."""
    for condition in status.get("conditions") or []:
        for pattern in patterns:
            wanted = (pattern.get("type"), pattern.get("status") or "True")
            if (condition.get("type"), condition.get("status")) == wanted:
                return condition
    return None


def _fail_job_message(job: dict, pods: list[dict]) -> str | None:
    """Upstream getFailJobMessage: the message of the first failed pod that matches a FailJob rule."""
    if not job["spec"].get("podFailurePolicy"):
        return None
    for pod in pods:
        if _is_pod_failed(pod, job) and (message := _match_policy(job, pod).message) is not None:
            return message
    return None


# --- backoffLimitPerIndex -------------------------------------------------------------------


def _has_backoff_limit_per_index(job: dict) -> bool:
    return _is_indexed(job) and job["spec"].get("backoffLimitPerIndex") is not None


def _failed_indexes_finish(job: dict, pods: _Pods) -> tuple[str, str, str] | None:
    """Too many failed indexes, or every index tried with some failed: the Job fails."""
    failed = len(pods.failed_indexes or ())
    limit = job["spec"].get("maxFailedIndexes")
    if limit is not None and failed > limit:
        return "FailureTarget", "MaxFailedIndexesExceeded", MAX_FAILED_INDEXES_MESSAGE
    if failed > 0 and failed + len(pods.succeeded_indexes) >= job["spec"]["completions"]:
        return "FailureTarget", "FailedIndexes", FAILED_INDEXES_MESSAGE
    return None


def _annotation_count(pod: dict, key: str) -> int:
    """A failure-count annotation; 0 when missing or not a number in int32 range (upstream parseInt32)."""
    value = (pod["metadata"].get("annotations") or {}).get(key, "")
    try:
        number = int(value)
    except ValueError:
        return 0
    return number if 0 <= number <= MAX_INT32 else 0


def _failure_count(pod: dict) -> int:
    return _annotation_count(pod, INDEX_FAILURE_COUNT)


def _absolute_failure_count(pod: dict) -> int:
    return _failure_count(pod) + _annotation_count(pod, INDEX_IGNORED_FAILURE_COUNT)


def _is_index_failed(job: dict, pod: dict) -> bool:
    """Upstream isIndexFailed: the pod failed by a FailIndex rule, or its failure counts and the
    index had failed backoffLimitPerIndex times before it."""
    if not _is_pod_failed(pod, job):
        return False
    matched = _match_policy(job, pod)
    if matched.action == "FailIndex":
        return True
    return matched.counts and _failure_count(pod) >= job["spec"]["backoffLimitPerIndex"]


def _delayed_failed_pods(job: dict, pods: _Pods, known: set[str]) -> dict[int, dict]:
    """Upstream getPodsWithDelayedDeletionPerIndex: per index still to be retried (neither
    succeeded, failed nor running), its latest failed pod, which keeps its finalizer (and so stays)
    until the replacement is created with the index's failure counts."""
    active = {i for p in pods.active if (i := _index(p)) is not None}
    done = pods.succeeded_indexes | (pods.failed_indexes or set()) | active
    delayed: dict[int, dict] = {}
    for pod in pods.all:
        if not (_is_tracked(pod) and _is_pod_failed(pod, job) and _has_valid_index(job, pod)):
            continue
        if pod["metadata"]["uid"] in known:
            continue  # counted already: its finalizer goes next
        index = _index(pod)
        if index is None or index in done:
            continue
        last = delayed.get(index)
        if last is None or (
            _absolute_failure_count(last) <= _absolute_failure_count(pod)
            and _finished_time(pod) >= _finished_time(last)
        ):
            delayed[index] = pod
    return delayed


def _is_delayed(pods: _Pods, pod: dict) -> bool:
    index = _index(pod)
    delayed = pods.delayed.get(index) if index is not None else None
    return delayed is not None and delayed["metadata"]["uid"] == pod["metadata"]["uid"]


def _replacement_failure_counts(job: dict, replaced: dict | None) -> tuple[int, int]:
    """Upstream getNewIndexFailureCounts: the replaced pod's counts, one more failure (or, for an
    ignored failure, one more ignored failure)."""
    if replaced is None:
        return 0, 0
    failures, ignored = _failure_count(replaced), _annotation_count(replaced, INDEX_IGNORED_FAILURE_COUNT)
    if _match_policy(job, replaced).counts:
        return failures + 1, ignored
    return failures, ignored + 1


def _indexes_past_backoff(
    indexes: list[int], pods: _Pods, now: datetime, backoff: PodFailureBackoff, sync: _Sync
) -> list[int]:
    """Upstream getPodCreationInfoForIndependentIndexes: each index backs off from its own last
    failure, by the failures its last failed pod records (plus that one). The indexes still backing
    off make a wakeup (upstream waits for the next sync only when no index is ready)."""
    ready: list[int] = []
    for index in indexes:
        last = pods.delayed.get(index)
        remaining = timedelta(0)
        if last is not None:
            delay = backoff.delay(_absolute_failure_count(last) + 1)
            remaining = max(timedelta(0), delay - (now - _finished_time(last)))
        if remaining > timedelta(0):
            sync.wakeup = _earliest(sync.wakeup, now + remaining)
        else:
            ready.append(index)
    return ready


# --- backoff --------------------------------------------------------------------------------


def _backoff_remaining(job: dict, pods: _Pods, now: datetime, backoff: PodFailureBackoff) -> timedelta:
    """Upstream's pod-failure backoff: `backoff`'s delay for the failures since the last success,
    counted from the last failure; computed from the pods that still exist."""
    uncounted_failed = set(pods.uncounted_failed)
    successes = [_finished_time(p) for p in pods.all if is_succeeded(p)]
    last_success = max(successes, default=None)
    failed = (_finished_time(p) for p in pods.all if _counts_for_backoff(p, job, uncounted_failed))
    failures = [moment for moment in failed if last_success is None or moment > last_success]
    if not failures:
        return timedelta(0)
    elapsed = now - max(failures)
    return max(timedelta(0), backoff.delay(len(failures)) - elapsed)


def _counts_for_backoff(pod: dict, job: dict, uncounted_failed: set[str]) -> bool:
    """A failure of the Job's own: pods the controller deleted itself (finalizer removed first) are not."""
    if not _is_pod_failed(pod, job):
        return False
    metadata = pod["metadata"]
    return _is_tracked(pod) or metadata["uid"] in uncounted_failed or not metadata.get("deletionTimestamp")


def _finished_time(pod: dict) -> datetime:
    """Upstream getFinishedTime: the last container's finish, else Ready=False's transition, else the
    deletion moment, else creation."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    finishes = [((s.get("state") or {}).get("terminated") or {}).get("finishedAt") for s in statuses]
    if statuses and all(finishes):
        return max(parse_time(f) for f in finishes)
    ready = ready_condition(pod) or {}
    if ready.get("status") == "False" and ready.get("lastTransitionTime"):
        return parse_time(ready["lastTransitionTime"])
    metadata = pod["metadata"]
    if metadata.get("deletionTimestamp"):
        grace = timedelta(seconds=metadata.get("deletionGracePeriodSeconds") or 0)
        return parse_time(metadata["deletionTimestamp"]) - grace
    return parse_time(metadata.get("creationTimestamp")) or datetime.fromtimestamp(0, UTC)


# --- tracking and status --------------------------------------------------------------------


def _track(
    job: dict,
    pods: _Pods,
    conditions: list[dict],
    finished: tuple[str, str, str] | None,
    terminating: int,
    now: datetime,
    sync: _Sync,
) -> dict:
    """Upstream trackJobStatusAndRemoveFinalizers, one safe step per pass (see the module docstring).
    Returns the new status, conditions included."""
    status = job.get("status") or {}
    tracked = {p["metadata"]["uid"] for p in pods.all if _is_tracked(p)}
    stored = set(pods.uncounted_succeeded) | set(pods.uncounted_failed)
    uncounted_succeeded = [u for u in pods.uncounted_succeeded if u in tracked]
    uncounted_failed = [u for u in pods.uncounted_failed if u in tracked]
    succeeded = status.get("succeeded", 0) + len(pods.uncounted_succeeded) - len(uncounted_succeeded)
    failed = status.get("failed", 0) + len(pods.uncounted_failed) - len(uncounted_failed)
    failing = finished is not None and finished[0] in ("FailureTarget", "Failed")
    deleting = bool(job["metadata"].get("deletionTimestamp"))
    name = job["metadata"]["name"]
    for pod in pods.all:
        uid = pod["metadata"]["uid"]
        if not _is_tracked(pod):
            continue
        pod_name = pod["metadata"]["name"]
        if uid in stored:
            # its count is stored: the finalizer may go
            sync.actions.append(_release(pod, f"Job {name} has counted pod {pod_name} in its status: {RELEASING}"))
            continue
        considered_failed = _is_pod_failed(pod, job)
        if not (deleting or finished is not None or is_succeeded(pod) or considered_failed):
            continue
        if not (deleting or finished is not None or is_succeeded(pod)) and _is_delayed(pods, pod):
            continue  # upstream canRemoveFinalizer: kept until its replacement carries the failure count
        index = _index(pod)
        if is_succeeded(pod):
            if not _is_indexed(job):
                uncounted_succeeded.append(uid)
            elif not _has_valid_index(job, pod) or index in pods.stored_indexes:
                sync.actions.append(_release(pod, f"{_no_index(name, pod_name)}: {RELEASING}"))
            # else: a new completed index, written below; the finalizer goes next pass.
        elif considered_failed or failing:
            if not _has_valid_index(job, pod):
                sync.actions.append(_release(pod, f"{_no_index(name, pod_name)}: {RELEASING}"))
            elif _match_policy(job, pod).counts:
                uncounted_failed.append(uid)
            else:
                # an Ignore rule: the failure counts nowhere, so the finalizer may go at once
                why = f"Job {name}'s podFailurePolicy ignores the failure of pod {pod_name}: {RELEASING}"
                sync.actions.append(_release(pod, why))
        else:
            # the Job is done with it and there is nothing to count
            why = f"Job {name} is done with pod {pod_name}, which has nothing to count: {RELEASING}"
            sync.actions.append(_release(pod, why))

    new_status = {key: value for key, value in status.items() if key not in ("active", "ready", "terminating")}
    if _is_indexed(job):
        new_status["completedIndexes"] = _format_indexes(pods.succeeded_indexes)
        succeeded = len(pods.succeeded_indexes)
    if pods.failed_indexes is not None:
        new_status["failedIndexes"] = _format_indexes(pods.failed_indexes)  # "" too, as upstream writes it
    else:
        new_status.pop("failedIndexes", None)
    new_status["succeeded"], new_status["failed"] = succeeded, failed
    uncounted = {}
    if uncounted_succeeded:
        uncounted["succeeded"] = uncounted_succeeded
    if uncounted_failed:
        uncounted["failed"] = uncounted_failed
    new_status["uncountedTerminatedPods"] = uncounted
    if finished is not None:
        _finish(job, conditions, finished, not uncounted and terminating == 0, new_status, now, sync)
    new_status["conditions"] = conditions
    return new_status


def _finish(
    job: dict,
    conditions: list[dict],
    finished: tuple[str, str, str],
    settled: bool,
    new_status: dict,
    now: datetime,
    sync: _Sync,
) -> None:
    """Record the interim condition, and the terminal one once every pod is counted and none is
    still terminating (`settled`)."""
    kind, reason, message = finished
    final = {"FailureTarget": "Failed", "SuccessCriteriaMet": "Complete"}.get(kind, kind)
    if kind in ("FailureTarget", "SuccessCriteriaMet") and _condition(conditions, kind) is None:
        conditions.append(_new_condition(kind, "True", reason, message, now))
    if not settled:
        return
    _ensure_condition(conditions, final, "True", reason, message, now)
    if final == "Complete":
        new_status["completionTime"] = format_time(now)
        completions = job["spec"].get("completions")
        if completions is not None and new_status.get("succeeded", 0) > completions:
            sync.actions.append(
                Event(
                    ref(job),
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                    "Warning",
                    SOURCE,
                )
            )
        sync.actions.append(Event(ref(job), "Completed", "Job completed", source=SOURCE))
    else:
        sync.actions.append(Event(ref(job), reason, message, "Warning", SOURCE))


def _suspension(job: dict, conditions: list[dict], start_time: str | None, now: datetime, sync: _Sync) -> str | None:
    """The Suspended condition and its events; a resumed Job starts its deadline clock again."""
    if job["spec"].get("suspend"):
        if _ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now):
            sync.actions.append(Event(ref(job), "Suspended", "Job suspended", source=SOURCE))
        return start_time
    if _ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now):
        sync.actions.append(Event(ref(job), "Resumed", "Job resumed", source=SOURCE))
        return format_time(now)
    return start_time


def _write_status(job: dict, new_status: dict, sync: _Sync) -> None:
    """The status as the API serialises it (zero counters and empty lists omitted, `ready`,
    `terminating` and `uncountedTerminatedPods` always present), written only when it differs."""
    for key in ("active", "succeeded", "failed"):
        if not new_status.get(key):
            new_status.pop(key, None)
    for key in ("conditions", "completedIndexes", "startTime"):
        if not new_status.get(key):
            new_status.pop(key, None)
    old = job.get("status") or {}
    if new_status == old:
        return
    metadata = job["metadata"]
    sync.actions.append(
        Patch(
            "batch/v1",
            "Job",
            metadata.get("namespace", ""),
            metadata["name"],
            {"status": merge_patch(old, new_status)},
            subresource="status",
            resource_version=metadata.get("resourceVersion"),
            why=_status_why(job, old, new_status),
        )
    )


def _status_why(job: dict, old: dict, new: dict) -> str:
    """What the status now says that it did not: finished, suspended or resumed, else the counts."""
    name = job["metadata"]["name"]
    before = {(c.get("type"), c.get("status")) for c in old.get("conditions") or []}
    for condition in new.get("conditions") or []:
        if (condition.get("type"), condition.get("status")) in before or condition.get("status") != "True":
            continue
        match condition.get("type"):
            case "Complete":
                return f"Job {name} has {counted(new.get('succeeded', 0), 'succeeded pod')}: marking it Complete"
            case "Failed":
                return f"{_failure_words(job, condition.get('reason', ''))}: marking it Failed"
            case "Suspended":
                return f"Job {name} is suspended: status updated"
    counts = f"{new.get('active', 0)} running, {new.get('succeeded', 0)} succeeded, {new.get('failed', 0)} failed"
    uncounted = sum(len(uids) for uids in (new.get("uncountedTerminatedPods") or {}).values())
    if uncounted:
        counts += f", {uncounted} just finished"
    if new.get("failedIndexes"):
        counts += f", failed indexes {new['failedIndexes']}"
    return f"Job {name} has {counts}: status updated"


def _release_orphan_pods(state: ClusterState) -> list[Action]:
    """Upstream's orphan-pod worker: the tracking finalizer goes from pods whose Job is gone or finished."""
    actions: list[Action] = []
    for pod in sorted(state.objects("Pod"), key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"])):
        if not _is_tracked(pod):
            continue
        owner = controller_ref(pod)
        if owner is not None and (owner.get("kind") != "Job" or owner.get("apiVersion") != "batch/v1"):
            continue  # controlled by something else: not ours to release
        job = state.get("Job", pod["metadata"].get("namespace", ""), owner["name"]) if owner else None
        if job is not None and job["metadata"].get("uid") != owner.get("uid"):
            job = None
        if job is not None and _managed_elsewhere(job):
            continue
        if job is None or _finished(job):
            subject = f"pod {pod['metadata']['name']}"
            if owner is None:
                why = f"{subject} has no Job"
            else:
                why = f"{subject}'s Job {owner['name']} {'is gone' if job is None else 'has finished'}"
            actions.append(_release(pod, f"{why}: {RELEASING}"))
    return actions


def _no_index(job_name: str, pod_name: str) -> str:
    return f"pod {pod_name}'s completion index is counted already or not one of Job {job_name}'s"


def _release(pod: dict, why: str) -> Patch:
    """Remove the tracking finalizer (a merge patch replaces the whole list)."""
    metadata = pod["metadata"]
    remaining = [f for f in metadata.get("finalizers") or [] if f != TRACKING_FINALIZER]
    patch = {"metadata": {"finalizers": remaining or None}}
    return Patch("v1", "Pod", metadata.get("namespace", ""), metadata["name"], patch, why=why)


# --- conditions -----------------------------------------------------------------------------


def _finished(job: dict) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def _managed_elsewhere(job: dict) -> bool:
    """`spec.managedBy` names another controller: upstream's job controller leaves the Job alone."""
    return (job["spec"].get("managedBy") or BUILT_IN_CONTROLLER) != BUILT_IN_CONTROLLER


def _condition(conditions: list[dict], kind: str) -> dict | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def _new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> dict:
    stamp = format_time(now)
    condition = {"type": kind, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _ensure_condition(conditions: list[dict], kind: str, status: str, reason: str, message: str, now: datetime) -> bool:
    """Upstream ensureJobConditionStatus: replace a differing condition, append a new one unless it
    would say False. Returns whether anything changed."""
    existing = _condition(conditions, kind)
    if existing is not None:
        said = (existing.get("status"), existing.get("reason", ""), existing.get("message", ""))
        if said == (status, reason, message):
            return False
        conditions[conditions.index(existing)] = _new_condition(kind, status, reason, message, now)
        return True
    if status == "False":
        return False
    conditions.append(_new_condition(kind, status, reason, message, now))
    return True


# --- indexes --------------------------------------------------------------------------------


def _is_indexed(job: dict) -> bool:
    return job["spec"].get("completionMode") == "Indexed"


def _index(pod: dict) -> int | None:
    value = (pod["metadata"].get("annotations") or {}).get(COMPLETION_INDEX)
    if value is None or not value.isdigit():
        return None
    return int(value)


def _has_valid_index(job: dict, pod: dict) -> bool:
    if not _is_indexed(job):
        return True
    index = _index(pod)
    return index is not None and index < job["spec"]["completions"]


def _parse_indexes(text: str, completions: int) -> set[int]:
    """`status.completedIndexes` ("1,3-5,7") as a set, ignoring what lies beyond `completions`."""
    indexes: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            continue
        indexes.update(i for i in range(int(first), int(last or first) + 1) if i < completions)
    return indexes


def _format_indexes(indexes: set[int]) -> str:
    """Upstream orderedIntervals.String: "0-2,4,6,7" (two neighbours are listed, not ranged)."""
    parts, ordered = [], sorted(indexes)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
        start = end + 1
    return ",".join(parts)


# --- pods -----------------------------------------------------------------------------------


def _is_tracked(pod: dict) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


def _only_replaces_failed_pods(job: dict) -> bool:
    return job["spec"].get("podReplacementPolicy") == "Failed" or job["spec"].get("podFailurePolicy") is not None


def _is_pod_failed(pod: dict, job: dict) -> bool:
    """Upstream isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded."""
    if is_failed(pod):
        return True
    if _only_replaces_failed_pods(job):
        return False
    return is_being_deleted(pod) and not is_succeeded(pod)


# --- small helpers --------------------------------------------------------------------------


def _sorted(objects: tuple[dict, ...]) -> list[dict]:
    return sorted(objects, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a
