"""Lesson services: judge a learner's sandbox against a lesson's checks and keep their progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clusters import faults
from clusters.models import Sandbox
from clusters.snapshot import PodView, Snapshot, SnapshotError, changes_count, pod_log, sandbox_snapshot
from tutor.lessons.checks import Observation, Result
from tutor.lessons.loader import Lesson, Step
from tutor.lessons.models import StepProgress


class LessonActionError(ValueError):
    """A learner's request about a step that cannot be done (an unknown choice, say)."""


def observation_for(sandbox: Sandbox, snapshot: Snapshot | None = None) -> Observation:
    """What checks look at: the sandbox's snapshot (this one, if given), and its change log and
    logs on demand."""

    def history(actor: str, kind: str, change_type: str, name: str) -> int:
        return changes_count(sandbox, actor=actor, kind=kind, change_type=change_type, name_prefix=name)

    def logs(namespace: str, pod: str, container: str | None) -> tuple[str, ...]:
        try:
            return pod_log(sandbox, namespace=namespace, pod=pod, container=container, tail=500).lines
        except SnapshotError:
            return ()

    return Observation(snapshot=snapshot or sandbox_snapshot(sandbox), history=history, logs=logs)


def progress_of(*, user, lesson: Lesson) -> dict[str, StepProgress]:
    rows = StepProgress.objects.filter(user=user, lesson=lesson.slug) if user.is_authenticated else []
    return {row.step: row for row in rows}


@dataclass(frozen=True)
class StepState:
    """A step as the page shows it: its check's verdict and the learner's progress on it."""

    step: Step
    result: Result | None
    progress: StepProgress | None
    # The sandbox's version the verdict was judged on: the page keeps the newest of the verdicts
    # that reach it (the live stream's, an action's answer), whatever order they arrive in.
    version: int = 0

    @property
    def passed(self) -> bool:
        return bool(self.progress and self.progress.passed_at)

    @property
    def predicted(self) -> str:
        return self.progress.prediction if self.progress else ""

    @property
    def hints_shown(self) -> int:
        return self.progress.hints_shown if self.progress else 0


def lesson_evaluate(
    *, user, sandbox: Sandbox, lesson: Lesson, now: datetime | None = None, snapshot: Snapshot | None = None
) -> list[StepState]:
    """Judge every checked step of the lesson against the sandbox now (or `snapshot`), and record
    what changed: a first pass (kept for good), a check starting or stopping to fail, a new
    failure message."""
    now = now or timezone.now()
    observed = observation_for(sandbox, snapshot)
    results = {step.id: step.check.evaluate(observed) for step in lesson.checked_steps}
    progress = progress_of(user=user, lesson=lesson)
    with transaction.atomic():
        for step_id, result in results.items():
            progress[step_id] = _record(user, lesson, step_id, result, progress.get(step_id), now)
    version = observed.snapshot.version
    return [StepState(step, results.get(step.id), progress.get(step.id), version) for step in lesson.steps]


def _record(user, lesson: Lesson, step_id: str, result: Result, row: StepProgress | None, now: datetime):
    if row is None:
        row = StepProgress(user=user, lesson=lesson.slug, step=step_id)
    changed = []
    if result.passed:
        if row.passed_at is None:
            row.passed_at = now
            changed.append("passed_at")
        if row.failing_since is not None:
            row.failing_since, row.last_message = None, ""
            changed += ["failing_since", "last_message"]
    else:
        if row.failing_since is None:
            row.failing_since = now
            changed.append("failing_since")
        message = result.message[:500]
        if row.last_message != message:
            row.last_message = message
            changed.append("last_message")
    if row.pk is None:
        row.save()
    elif changed:
        row.save(update_fields=[*changed, "updated_at"])
    return row


def _progress_row(user, lesson: Lesson, step_id: str) -> StepProgress:
    if lesson.step(step_id) is None:
        raise LessonActionError(f"lesson {lesson.slug} has no step {step_id}")
    row, _ = StepProgress.objects.get_or_create(user=user, lesson=lesson.slug, step=step_id)
    return row


def prediction_commit(*, user, lesson: Lesson, step_id: str, choice: str) -> StepProgress:
    """Record the learner's prediction; the first one counts (a prediction is a commitment)."""
    step = lesson.step(step_id)
    if step is None or choice not in step.choices:
        raise LessonActionError(f"step {step_id} of lesson {lesson.slug} has no choice {choice!r}")
    row = _progress_row(user, lesson, step_id)
    if not row.prediction:
        row.prediction, row.predicted_at = choice, timezone.now()
        row.save(update_fields=["prediction", "predicted_at", "updated_at"])
    return row


def hint_reveal(*, user, lesson: Lesson, step_id: str, available: int) -> StepProgress:
    """Show one more hint of the step (up to the `available` ones)."""
    row = _progress_row(user, lesson, step_id)
    if row.hints_shown < available:
        row.hints_shown += 1
        row.save(update_fields=["hints_shown", "updated_at"])
    return row


def fault_perform(sandbox: Sandbox, step: Step) -> str:
    """Press a step's fault button: break the sandbox as the lesson says; returns what was done."""
    fault = step.fault
    options = dict(fault.options)
    namespace = options.pop("namespace", "default")
    if fault.kind == "kill-container":
        pod = _running_pod(sandbox, namespace, name=options.get("pod", ""), selector=options.get("selector", ""))
        container = options.get("container") or pod.containers[0].name
        faults.container_kill(sandbox=sandbox, namespace=namespace, pod=pod.name, container=container)
        return f"killed container {container} of pod {pod.name}"
    if fault.kind == "stop-kubelet":
        faults.kubelet_stop(sandbox=sandbox, node=options["node"])
        return f"stopped the kubelet of {options['node']}"
    if fault.kind == "start-kubelet":
        faults.kubelet_start(sandbox=sandbox, node=options["node"])
        return f"started the kubelet of {options['node']}"
    changed = faults.image_break(
        sandbox=sandbox,
        namespace=namespace,
        kind=options["kind"],
        name=options["name"],
        container=options.get("container"),
    )
    return f"changed the image of {changed.kind} {changed.name} to {changed.new_image}"


def _running_pod(sandbox: Sandbox, namespace: str, *, name: str, selector: str) -> PodView:
    """The pod a fault names, or the first running one its selector matches."""
    pods = [p for p in sandbox_snapshot(sandbox).pods(namespace, selector or None) if not name or p.name == name]
    running = [p for p in pods if p.status == "Running"]
    if not running:
        raise LessonActionError(f"no running pod {name or selector} in namespace {namespace} to break")
    return running[0]
