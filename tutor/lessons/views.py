"""Lesson pages: the list with the learner's progress, and a lesson beside the learner's sandbox.

A lesson page puts the steps on one side and the learner's own sandbox (cluster view, editor,
console, timeline) on the other, live over one event stream. A step's buttons apply its manifest,
run its commands, press its fault; its check re-judges the sandbox whenever it changes.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from clusters import errors, faults
from clusters.snapshot import sandbox_snapshot
from tutor.classrooms.live import messages_context
from tutor.classrooms.services import current_enrollment, lesson_locked_for
from tutor.lessons.live import lesson_check_parts
from tutor.lessons.loader import Lesson, catalog
from tutor.lessons.models import StepProgress
from tutor.lessons.services import (
    LessonActionError,
    fault_perform,
    hint_reveal,
    lesson_evaluate,
    prediction_commit,
    progress_of,
)
from tutor.sandboxes.services import learner_sandbox, manifest_apply_from_page
from tutor.sandboxes.views import cluster_context, timeline_context, with_diagnostics


def _lesson(slug: str, user=None) -> Lesson:
    """The lesson of that slug; a 403 saying why when the learner's instructor has locked it."""
    lesson = catalog().get(slug)
    if lesson is None:
        raise Http404("no such lesson")
    if user is not None and lesson_locked_for(user, slug):
        raise PermissionDenied(translation.gettext("Your instructor has locked this lesson for now."))
    return lesson


def _step(lesson: Lesson, step_id: str):
    step = lesson.step(step_id)
    if step is None:
        raise Http404("no such step")
    return step


@require_GET
def index(request):
    """Every lesson, in order, with how far the learner got in each."""
    passed: dict[str, int] = {}
    if request.user.is_authenticated:
        for lesson_slug in StepProgress.objects.filter(user=request.user, passed_at__isnull=False).values_list(
            "lesson", flat=True
        ):
            passed[lesson_slug] = passed.get(lesson_slug, 0) + 1
    language = translation.get_language()
    enrollment = current_enrollment(request.user)
    locked = set(enrollment.classroom.locked_lessons) if enrollment else set()
    lessons = [
        {
            "lesson": lesson,
            "text": lesson.text(language),
            "passed": passed.get(lesson.slug, 0),
            "checked": len(lesson.checked_steps),
            "locked": lesson.slug in locked,
        }
        for lesson in catalog().lessons
    ]
    upcoming = next((item for item in lessons if item["passed"] < item["checked"]), None)
    return render(request, "lessons/index.html", {"lessons": lessons, "upcoming": upcoming})


@login_required
@require_GET
def lesson_page(request, slug: str):
    lesson = _lesson(slug, request.user)
    sandbox = learner_sandbox(user=request.user)
    snapshot = sandbox_snapshot(sandbox)
    states = lesson_evaluate(user=request.user, sandbox=sandbox, lesson=lesson, snapshot=snapshot)
    context = {
        **cluster_context(sandbox, snapshot),
        "lesson": lesson,
        "text": lesson.text(translation.get_language()),
        "states": states,
        "current": _current(states),
        "passed": sum(1 for s in states if s.passed),
        "checked": len(lesson.checked_steps),
        "next_lesson": catalog().next_after(lesson),
        "timeline": timeline_context(sandbox),
        **messages_context(request.user),
    }
    return render(request, "lessons/lesson.html", context)


def _current(states) -> str:
    """The step to do next: the first checked step not passed yet."""
    return next((s.step.id for s in states if s.step.check is not None and not s.passed), "")


def _step_part(request, lesson: Lesson, step_id: str, **extra):
    """One step's block, freshly judged, after an action on it."""
    sandbox = learner_sandbox(user=request.user)
    states = lesson_evaluate(user=request.user, sandbox=sandbox, lesson=lesson)
    number, state = next((n, s) for n, s in enumerate(states, start=1) if s.step.id == step_id)
    context = {
        "lesson": lesson,
        "text": lesson.text(translation.get_language()),
        "state": state,
        "number": number,
        "current": _current(states),
        **extra,
    }
    return render(request, "lessons/_step.html", context)


@login_required
@require_POST
def step_predict(request, slug: str, step_id: str):
    lesson = _lesson(slug, request.user)
    _step(lesson, step_id)
    try:
        prediction_commit(user=request.user, lesson=lesson, step_id=step_id, choice=request.POST.get("choice", ""))
    except LessonActionError:
        return _step_part(request, lesson, step_id, error=translation.gettext("Pick one of the answers first."))
    return _step_part(request, lesson, step_id)


@login_required
@require_POST
def step_hint(request, slug: str, step_id: str):
    lesson = _lesson(slug, request.user)
    _step(lesson, step_id)
    available = len(lesson.text(translation.get_language()).steps[step_id].hints)
    hint_reveal(user=request.user, lesson=lesson, step_id=step_id, available=available)
    return _step_part(request, lesson, step_id)


def _prediction_pending(request, lesson: Lesson, step_id: str) -> bool:
    step = lesson.step(step_id)
    progress = progress_of(user=request.user, lesson=lesson).get(step_id)
    return step.has_prediction and not (progress and progress.prediction)


@login_required
@require_POST
def step_apply(request, slug: str, step_id: str):
    """The step's "Apply to my sandbox" button (after its prediction, if it has one)."""
    lesson = _lesson(slug, request.user)
    step = _step(lesson, step_id)
    if not step.manifest:
        raise Http404("this step has no manifest")
    if _prediction_pending(request, lesson, step_id):
        return _step_part(request, lesson, step_id, error=translation.gettext("Commit to a prediction first."))
    sandbox = learner_sandbox(user=request.user)
    report, diagnostics = manifest_apply_from_page(
        sandbox=sandbox, text=step.manifest, origin=f"lesson {lesson.slug}, step {step_id}"
    )
    return with_diagnostics(_step_part(request, lesson, step_id, report=report), diagnostics)


@login_required
@require_POST
def step_fault(request, slug: str, step_id: str):
    lesson = _lesson(slug, request.user)
    step = _step(lesson, step_id)
    if step.fault is None:
        raise Http404("this step has no fault")
    if _prediction_pending(request, lesson, step_id):
        return _step_part(request, lesson, step_id, error=translation.gettext("Commit to a prediction first."))
    try:
        fault_perform(learner_sandbox(user=request.user), step)
    except (faults.FaultError, errors.ApiError, LessonActionError) as error:
        return _step_part(request, lesson, step_id, error=str(error))
    return _step_part(request, lesson, step_id, fault_done=True)


@login_required
@require_GET
def checks_part(request, slug: str):
    """Every check of the lesson, judged now, as out-of-band swaps: what the page polls when its
    live stream is down."""
    lesson = _lesson(slug, request.user)
    # Each part's event name is the id of the element it fills.
    parts = lesson_check_parts(user=request.user, sandbox=learner_sandbox(user=request.user), lesson=lesson)
    return render(request, "lessons/_checks_oob.html", {"parts": parts})


@login_required
@require_GET
def step_part(request, slug: str, step_id: str):
    lesson = _lesson(slug, request.user)
    _step(lesson, step_id)
    return _step_part(request, lesson, step_id)
