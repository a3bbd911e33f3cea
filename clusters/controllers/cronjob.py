"""The CronJob controller's planner (upstream `pkg/controller/cronjob`, the v2 controller).

For every CronJob of a sandbox, one pass:

1. trims history: beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`, the finished Jobs
   that started first are deleted (background propagation, `SuccessfulDelete`);
2. reconciles `status.active`: a finished Job leaves it (`SawCompletedJob`), a vanished one too
   (`MissingJob`), and `lastSuccessfulTime` follows the latest completion. Upstream puts a Job into
   `active` from the API server's answer to its create; a planner learns the new Job's uid only on
   the next pass, so a Job this controller created (named `<cronjob>-<minutes>`, carrying the
   `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation) joins `active` then;
3. unless the CronJob is suspended or being deleted: takes the most recent schedule time since
   `lastScheduleTime` (or creation) that is not older than `startingDeadlineSeconds` — upstream
   starts only that one, however many were missed — and, unless it was handled already, honours
   `concurrencyPolicy` (Forbid: skip while a Job is active; Replace: delete the active Jobs first)
   and creates the Job `<cronjob>-<scheduled time in minutes since the epoch>` with a controller
   reference (`SuccessfulCreate`), recording `lastScheduleTime`.

Schedules are robfig/cron's standard ones, parsed and stepped by `clusters.objects.cron` (the parser
validation uses too), evaluated in `spec.timeZone` (or a `TZ=` prefix), UTC otherwise.

`next_wakeup` gives the next schedule time of every CronJob. Events upstream records on a sync that
changes nothing (`JobAlreadyActive` while Forbid holds a due run back, `MissSchedule`, `UnexpectedJob`,
`UnparseableSchedule`, `UnknownTimeZone`, `InvalidSchedule`, `TooManyMissedTimes`) cannot come from
`plan`: nothing in the state would record that they were said, so every pass would say them again.
`notices` returns them, to be recorded once per wake-up. Upstream's own `MissSchedule` check can never
fire (its deadline already excludes late times, kubernetes/kubernetes#101148); `notices` reports a
miss the way it was meant: the latest schedule time since the last run, past its starting deadline.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clusters.controllers.actions import Action, Create, Delete, Event, Patch, owner_reference, ref
from clusters.controllers.pods import counted, format_time, is_controlled_by, merge_patch, parse_time
from clusters.controllers.state import ClusterState
from clusters.objects.cron import Schedule, ScheduleError, parse_schedule, time_zone
from clusters.objects.times import format_time_in

SOURCE = "cronjob-controller"
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MANY_MISSED = 100

# --- schedule times, as upstream computes them ----------------------------------------------


@dataclass
class _Recent:
    earliest: datetime
    most_recent: datetime | None = None
    missed: str = "none"  # "none", "few", "many"
    invalid: bool = False


def _most_recent_schedule_time(cron_job: dict, schedule: Schedule, now: datetime, *, with_deadline: bool) -> _Recent:
    """Upstream mostRecentScheduleTime: the latest schedule time in (earliest, now], where earliest is
    the last schedule time (or creation), moved up to `now - startingDeadlineSeconds` if asked."""
    status = cron_job.get("status") or {}
    earliest = parse_time(status.get("lastScheduleTime")) or parse_time(cron_job["metadata"]["creationTimestamp"])
    deadline = cron_job["spec"].get("startingDeadlineSeconds")
    if with_deadline and deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    recent = _Recent(earliest)
    first = schedule.next(earliest)
    if first is None or now < first:
        recent.invalid = first is None
        return recent
    second = schedule.next(first)
    if second is None or now < second:
        recent.most_recent = first
        return recent
    between = round((second - first).total_seconds())
    if between < 1:
        recent.invalid = True
        return recent
    # A rough count of the missed times, then a walk from just before the last ones (upstream's way).
    missed = int((now - first).total_seconds()) // between + 1
    moment = schedule.next(first + timedelta(seconds=(missed - 2) * between))
    while moment is not None and moment <= now:
        recent.most_recent = moment
        moment = schedule.next(moment)
    recent.missed = "many" if missed > MANY_MISSED else "few"
    return recent


def _next_schedule_time(cron_job: dict, schedule: Schedule, now: datetime) -> datetime | None:
    """Upstream nextScheduleTimeDuration, as a moment: when a sync should next look at the CronJob."""
    recent = _most_recent_schedule_time(cron_job, schedule, now, with_deadline=False)
    if recent.invalid:
        base = now
    elif recent.most_recent is None:
        base = recent.earliest if recent.missed == "none" else now
    else:
        base = recent.most_recent
    return schedule.next(base)


# --- the planner ----------------------------------------------------------------------------


@dataclass
class _Sync:
    actions: list[Action] = field(default_factory=list)
    notices: list[Event] = field(default_factory=list)


def plan(state: ClusterState, *, now: datetime) -> list[Action]:
    """Everything the CronJob controller would do in this sandbox right now."""
    return [action for cron_job in _sorted(state.objects("CronJob")) for action in _sync(state, cron_job, now).actions]


def next_wakeup(state: ClusterState, *, now: datetime) -> datetime | None:
    """The earliest schedule time after `now` of a CronJob that is not suspended or being deleted."""
    moments = []
    for cron_job in state.objects("CronJob"):
        if cron_job["spec"].get("suspend") or cron_job["metadata"].get("deletionTimestamp"):
            continue
        schedule = _schedule(cron_job)
        if schedule is not None and (moment := _next_schedule_time(cron_job, schedule, now)) is not None:
            moments.append(moment)
    return min((m for m in moments if m > now), default=None)


def notices(state: ClusterState, *, now: datetime) -> list[Event]:
    """The Events upstream records on syncs that change nothing (see the module docstring): record
    them once per wake-up, not once per pass."""
    return [event for cron_job in _sorted(state.objects("CronJob")) for event in _sync(state, cron_job, now).notices]


def _sync(state: ClusterState, cron_job: dict, now: datetime) -> _Sync:
    sync = _Sync()
    namespace = cron_job["metadata"].get("namespace", "")
    spec = cron_job["spec"]
    status = copy.deepcopy(cron_job.get("status") or {})
    jobs = sorted(
        (j for j in state.objects("Job", namespace) if is_controlled_by(j, cron_job)),
        key=lambda j: j["metadata"]["name"],
    )
    active: list[dict] = list(status.get("active") or [])

    for job, why in _jobs_beyond_history_limits(cron_job, jobs):
        _delete_job(cron_job, job, active, sync, why)

    for job in jobs:
        uid = job["metadata"]["uid"]
        found = any(r.get("uid") == uid for r in active)
        if not found and not _finished_as(job):
            if _scheduled_here(cron_job, job):
                active.append(_object_reference(job))  # created by an earlier pass of this controller
            else:
                message = f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}"
                sync.notices.append(Event(ref(cron_job), "UnexpectedJob", message, "Warning", SOURCE))
        elif found and _finished_as(job):
            active = [r for r in active if r.get("uid") != uid]
            message = f"Saw completed job: {job['metadata']['name']}, status: {_finished_as(job)}"
            sync.actions.append(Event(ref(cron_job), "SawCompletedJob", message, source=SOURCE))
        elif _finished_as(job) == "Complete" and (completed := job.get("status", {}).get("completionTime")):
            last = status.get("lastSuccessfulTime")
            if last is None or parse_time(completed) > parse_time(last):
                status["lastSuccessfulTime"] = completed

    uids = {j["metadata"]["uid"] for j in jobs}
    for reference in [r for r in active if r.get("uid") not in uids]:
        active.remove(reference)
        message = f"Active job went missing: {reference.get('name')}"
        sync.actions.append(Event(ref(cron_job), "MissingJob", message, source=SOURCE))

    if not cron_job["metadata"].get("deletionTimestamp") and not spec.get("suspend"):
        _schedule_job(state, cron_job, jobs, active, status, now, sync)

    if active:
        status["active"] = active
    else:
        status.pop("active", None)
    _write_status(cron_job, status, sync)
    return sync


def _schedule_job(
    state: ClusterState, cron_job: dict, jobs: list[dict], active: list[dict], status: dict, now: datetime, sync: _Sync
) -> None:
    """Upstream syncCronJob from the time zone check on: start the most recent unmet schedule time."""
    spec = cron_job["spec"]
    involved = ref(cron_job)
    zone_name = spec.get("timeZone")
    if zone_name is not None and time_zone(zone_name) is None:
        message = f'invalid timeZone: "{zone_name}": unknown time zone {zone_name}'
        sync.notices.append(Event(involved, "UnknownTimeZone", message, "Warning", SOURCE))
        return
    try:
        schedule = parse_schedule(spec.get("schedule", ""), zone_name)
    except ScheduleError as error:
        message = f'unparseable schedule: "{spec.get("schedule", "")}" : {error}'
        sync.notices.append(Event(involved, "UnparseableSchedule", message, "Warning", SOURCE))
        return
    recent = _most_recent_schedule_time(cron_job, schedule, now, with_deadline=True)
    if recent.invalid:
        # robfig parses schedules that never come ("0 0 31 2 *"); upstream calls them invalid.
        message = f"invalid schedule: {spec['schedule']} : time difference between two schedules is less than 1 second"
        sync.notices.append(Event(involved, "InvalidSchedule", message, "Warning", SOURCE))
        return
    if recent.missed == "many":
        message = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
        sync.notices.append(Event(involved, "TooManyMissedTimes", message, "Warning", SOURCE))
    sync.notices += _missed_schedule(cron_job, schedule, now)
    scheduled = recent.most_recent
    if scheduled is None:
        return
    name = _job_name(cron_job, scheduled)
    if any(r.get("name") == name for r in active) or status.get("lastScheduleTime") == format_time(scheduled):
        return  # this schedule time was handled already
    if spec.get("concurrencyPolicy") == "Forbid" and active:
        message = "Not starting job because prior execution is running and concurrency policy is Forbid"
        sync.notices.append(Event(involved, "JobAlreadyActive", message, source=SOURCE))
        return
    due = f"CronJob {cron_job['metadata']['name']} is due at {_clock(cron_job, scheduled)}"
    if spec.get("concurrencyPolicy") == "Replace":
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        for reference in list(active):
            if reference.get("uid") in by_uid:
                why = f"{due} and its concurrencyPolicy is Replace: deleting its running Job {reference['name']}"
                _delete_job(cron_job, by_uid[reference["uid"]], active, sync, why)
    existing = state.get("Job", cron_job["metadata"].get("namespace", ""), name)
    if existing is not None:
        # Upstream's AlreadyExists answer: adopt our own Job into `active`, leave anyone else's alone.
        listed = any(r.get("uid") == existing["metadata"]["uid"] for r in active)
        if is_controlled_by(existing, cron_job) and not listed:
            active.append(_object_reference(existing))
            status["lastScheduleTime"] = format_time(scheduled)
        return
    sync.actions.append(Create(_job_from_template(cron_job, scheduled), why=f"{due}: creating Job {name}"))
    sync.actions.append(Event(involved, "SuccessfulCreate", f"Created job {name}", source=SOURCE))
    status["lastScheduleTime"] = format_time(scheduled)


def _missed_schedule(cron_job: dict, schedule: Schedule, now: datetime) -> list[Event]:
    """MissSchedule as upstream meant it: the latest time since the last run is past its deadline."""
    deadline = cron_job["spec"].get("startingDeadlineSeconds")
    if deadline is None:
        return []
    latest = _most_recent_schedule_time(cron_job, schedule, now, with_deadline=False).most_recent
    if latest is None or latest + timedelta(seconds=deadline) >= now:
        return []
    message = f"Missed scheduled time to start a job: {latest.astimezone(UTC).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
    return [Event(ref(cron_job), "MissSchedule", message, "Warning", SOURCE)]


def _jobs_beyond_history_limits(cron_job: dict, jobs: list[dict]) -> list[tuple[dict, str]]:
    """Upstream cleanupFinishedJobs: the oldest finished Jobs beyond each history limit (Jobs already
    being deleted are on their way out and not counted), each with why it goes."""
    spec = cron_job["spec"]
    doomed: list[tuple[dict, str]] = []
    for outcome, key, kind in (
        ("Complete", "successfulJobsHistoryLimit", "successful Job"),
        ("Failed", "failedJobsHistoryLimit", "failed Job"),
    ):
        limit = spec.get(key)
        if limit is None:
            continue
        finished = [j for j in jobs if _finished_as(j) == outcome and not j["metadata"].get("deletionTimestamp")]
        finished.sort(key=_start_order)
        keeps = f"CronJob {cron_job['metadata']['name']} keeps {counted(limit, kind)} ({key}), has {len(finished)}"
        doomed += [
            (job, f"{keeps}: deleting the oldest, {job['metadata']['name']}")
            for job in finished[: max(0, len(finished) - limit)]
        ]
    return doomed


def _start_order(job: dict) -> tuple:
    """Upstream byJobStartTime: by start time, Jobs that never started last, names breaking ties."""
    start = (job.get("status") or {}).get("startTime")
    return (start is None, parse_time(start) or datetime.max.replace(tzinfo=UTC), job["metadata"]["name"])


def _delete_job(cron_job: dict, job: dict, active: list[dict], sync: _Sync, why: str) -> None:
    metadata = job["metadata"]
    sync.actions.append(
        Delete("batch/v1", "Job", metadata.get("namespace", ""), metadata["name"], propagation="Background", why=why)
    )
    active[:] = [r for r in active if r.get("uid") != metadata["uid"]]
    sync.actions.append(Event(ref(cron_job), "SuccessfulDelete", f"Deleted job {metadata['name']}", source=SOURCE))


def _job_from_template(cron_job: dict, scheduled: datetime) -> dict:
    """Upstream getJobFromTemplate2: the template's labels and annotations, the scheduled time in the
    CronJob's time zone, a controller reference, and the template's spec."""
    template = copy.deepcopy(cron_job["spec"].get("jobTemplate") or {})
    template_metadata = template.get("metadata") or {}
    zone = time_zone(cron_job["spec"].get("timeZone") or "UTC") or UTC
    annotations = {**(template_metadata.get("annotations") or {}), SCHEDULED_TIMESTAMP: format_time_in(scheduled, zone)}
    metadata: dict = {"name": _job_name(cron_job, scheduled), "namespace": cron_job["metadata"].get("namespace", "")}
    if template_metadata.get("labels"):
        metadata["labels"] = dict(template_metadata["labels"])
    metadata["annotations"] = annotations
    metadata["ownerReferences"] = [owner_reference(cron_job)]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": template.get("spec") or {}}


def _job_name(cron_job: dict, scheduled: datetime) -> str:
    return f"{cron_job['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def _scheduled_here(cron_job: dict, job: dict) -> bool:
    """Whether this controller created the Job: named for the scheduled time it carries."""
    scheduled = parse_time((job["metadata"].get("annotations") or {}).get(SCHEDULED_TIMESTAMP))
    return scheduled is not None and job["metadata"]["name"] == _job_name(cron_job, scheduled)


def _object_reference(job: dict) -> dict:
    metadata = job["metadata"]
    return {
        "kind": "Job",
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
        "uid": metadata["uid"],
        "apiVersion": "batch/v1",
        "resourceVersion": metadata.get("resourceVersion", ""),
    }


def _write_status(cron_job: dict, status: dict, sync: _Sync) -> None:
    old = cron_job.get("status") or {}
    if status == old:
        return
    metadata = cron_job["metadata"]
    sync.actions.append(
        Patch(
            "batch/v1",
            "CronJob",
            metadata.get("namespace", ""),
            metadata["name"],
            {"status": merge_patch(old, status)},
            subresource="status",
            resource_version=metadata.get("resourceVersion"),
            why=_status_why(cron_job, status),
        )
    )


def _status_why(cron_job: dict, status: dict) -> str:
    """`CronJob hello has 1 active Job, last scheduled at 12:05: status updated`."""
    words = f"CronJob {cron_job['metadata']['name']} has {counted(len(status.get('active') or []), 'active Job')}"
    if last := parse_time(status.get("lastScheduleTime")):
        words += f", last scheduled at {_clock(cron_job, last)}"
    return f"{words}: status updated"


def _clock(cron_job: dict, moment: datetime) -> str:
    """A schedule time as the learner wrote the schedule: `12:05`, in the CronJob's time zone if it has one."""
    zone_name = cron_job["spec"].get("timeZone")
    zone = (time_zone(zone_name) if zone_name else None) or UTC
    clock = moment.astimezone(zone).strftime("%H:%M")
    return f"{clock} ({zone_name})" if zone_name and zone is not UTC else clock


# --- helpers --------------------------------------------------------------------------------


def _schedule(cron_job: dict) -> Schedule | None:
    zone_name = cron_job["spec"].get("timeZone")
    if zone_name is not None and time_zone(zone_name) is None:
        return None
    try:
        return parse_schedule(cron_job["spec"].get("schedule", ""), zone_name)
    except ScheduleError:
        return None


def _finished_as(job: dict) -> str | None:
    """ "Complete" or "Failed" once the Job has that condition, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"]
    return None


def _sorted(objects: tuple[dict, ...]) -> list[dict]:
    return sorted(objects, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
