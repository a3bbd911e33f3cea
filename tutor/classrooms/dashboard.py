"""The instructor's dashboard: what it draws, and its one live stream per tab.

The grid reads progress rows and one count of pods per sandbox (clusters.snapshot.pod_phases);
it reads no sandbox's objects, so fifty learners cost a few queries. The stream follows the
change log of the class's sandboxes: when a learner's sandbox changes, the learner's current
lesson is judged again (as their own page would), so the grid is right even when the learner
works from kubectl with no page open; then only the rows whose drawing changed are sent, each to
its own row of the grid. Every second it looks at what changes outside the sandboxes (progress
written by the learners' pages, learners joining, lessons locked) with one cheap query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.db import IntegrityError
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import timezone, translation

from clusters.idle import sandboxes_paused
from clusters.snapshot import learner_writes, pod_phases, sandbox_snapshot, timeline
from tutor.classrooms.models import Classroom, Enrollment
from tutor.classrooms.progress import Grid, LearnerRow, grid_build
from tutor.lessons.loader import catalog
from tutor.lessons.models import StepProgress
from tutor.lessons.services import lesson_evaluate
from tutor.sandboxes.live import sandbox_events
from tutor.sandboxes.models import ConsoleCommand
from tutor.sandboxes.views import cluster_context

# Stuck is a matter of time: the grid is drawn again this often even when nothing changed.
REDRAW_SECONDS = 15.0
TIMELINE_SHOWN = 40
WRITES_SHOWN = 8
COMMANDS_SHOWN = 10


def grid_context(classroom: Classroom, *, filters: dict, language: str) -> dict:
    grid = grid_build(classroom, now=timezone.now(), **filters)
    sandboxes = {row.learner_id: row for row in grid.rows}
    enrollments = classroom.enrollments.filter(learner_id__in=list(sandboxes)).values_list("learner_id", "sandbox_id")
    phases = pod_phases(sandbox_id for _, sandbox_id in enrollments if sandbox_id)
    pods = {learner: _pods_text(phases.get(sandbox_id, {})) for learner, sandbox_id in enrollments}
    # Paused for being idle (clusters.idle): the learner's pods stand still until they come back.
    stopped = sandboxes_paused(sandbox_id for _, sandbox_id in enrollments if sandbox_id)
    paused = {learner for learner, sandbox_id in enrollments if sandbox_id in stopped}
    return {
        "classroom": classroom,
        "grid": grid,
        "filters": filters,
        "lesson_titles": {lesson.slug: lesson.text(language).title for lesson in grid.lessons},
        "step_titles": {
            f"{lesson.slug}/{step_id}": text.title
            for lesson in grid.lessons
            for step_id, text in lesson.text(language).steps.items()
        },
        "pods": pods,
        "paused": paused,
    }


def _pods_text(phases: dict[str, int]) -> str:
    """Running pods out of all: `3/5`."""
    return f"{phases.get('Running', 0)}/{sum(phases.values())}"


def row_html(row: LearnerRow, context: dict) -> str:
    return render_to_string("classrooms/_row.html", {**context, "row": row})


def learner_context(enrollment: Enrollment, *, language: str) -> dict:
    """One learner, read-only: their sandbox as their page draws it, its timeline and Events,
    what they applied, what they typed in the console, and their progress."""
    grid = grid_build(enrollment.classroom, now=timezone.now())
    row = next((r for r in grid.rows if r.learner_id == enrollment.learner_id), None)
    context = {
        "row": row,
        "grid": grid,
        "lesson_titles": {lesson.slug: lesson.text(language).title for lesson in grid.lessons},
    }
    sandbox = enrollment.sandbox
    if sandbox is None:
        return context
    snapshot = sandbox_snapshot(sandbox)
    context.update(cluster_context(sandbox, snapshot))
    context.update(
        read_only=True,
        entries=list(reversed(timeline(sandbox, limit=TIMELINE_SHOWN))),
        writes=learner_writes(sandbox, limit=WRITES_SHOWN),
        commands=list(ConsoleCommand.objects.filter(sandbox=sandbox).order_by("-created_at")[:COMMANDS_SHOWN]),
    )
    return context


def learner_judge(learner_id: int, sandbox_id: int) -> None:
    """Judge again the lesson the learner works on (the one whose progress moved last), as their
    page would: a step passed from kubectl counts even with no page open."""
    latest = StepProgress.objects.filter(user_id=learner_id).order_by("-updated_at").first()
    lesson = catalog().get(latest.lesson) if latest else None
    enrollment = (
        Enrollment.objects.filter(learner_id=learner_id, sandbox_id=sandbox_id)
        .select_related("learner", "sandbox")
        .first()
    )
    if lesson is None or enrollment is None:
        return
    try:
        lesson_evaluate(user=enrollment.learner, sandbox=enrollment.sandbox, lesson=lesson)
    except IntegrityError:  # the learner's own page recorded the same step at the same moment
        return


def progress_mark(classroom: Classroom) -> tuple:
    """What changes outside the sandboxes, in one cheap query each: progress, learners, locks."""
    learners = classroom.enrollments.aggregate(count=Count("pk"), newest=Max("joined_at"))
    moved = StepProgress.objects.filter(user__enrollments__classroom=classroom).aggregate(at=Max("updated_at"))["at"]
    locks = Classroom.objects.filter(pk=classroom.pk).values_list("locked_lessons", flat=True).first()
    return learners["count"], learners["newest"], moved, tuple(locks or ())


async def dashboard_events(classroom: Classroom, *, filters: dict, language: str) -> AsyncIterator[str]:
    """The dashboard's stream: `grid` (the whole grid, when its learners or their order change),
    `row-<learner id>` (one learner's row), `summary`, as they change."""
    state: dict = {"rows": {}, "order": None, "summary": None, "mark": None}
    sandboxes: set[int] = set()
    changed: set[int] = set()

    def owners() -> dict[int, int]:
        return dict(classroom.enrollments.exclude(sandbox=None).values_list("sandbox_id", "learner_id"))

    def draw() -> list[tuple[str, str]]:
        owner_of = owners()
        sandboxes.clear()
        sandboxes.update(owner_of)
        for sandbox_id in list(changed):
            changed.discard(sandbox_id)
            if sandbox_id in owner_of:
                learner_judge(owner_of[sandbox_id], sandbox_id)
        with translation.override(language):
            context = grid_context(classroom, filters=filters, language=language)
            return _parts(context, state)

    def poll() -> list[tuple[str, str]]:
        mark = progress_mark(classroom)
        if mark == state["mark"]:
            return []
        state["mark"] = mark
        return draw()

    sandboxes.update(await sync_to_async(owners)())
    async for event in sandbox_events(sandboxes, draw, catch_up=False, tick=REDRAW_SECONDS, poll=poll, changed=changed):
        yield event


def _parts(context: dict, state: dict) -> list[tuple[str, str]]:
    """The events to send: the whole grid when the rows shown changed, else each changed row;
    and the summary when it changed. A row is compared by what it draws (its cells and names,
    its pods), and only a changed one is rendered: rendering all fifty cost more than the rest
    of a draw."""
    grid: Grid = context["grid"]
    parts = []
    order = tuple(row.learner_id for row in grid.rows)
    rows = {
        row.learner_id: (row, context["pods"].get(row.learner_id), row.learner_id in context["paused"])
        for row in grid.rows
    }
    if order != state["order"]:
        state["order"] = order
        parts.append(("grid", render_to_string("classrooms/dashboard.html#grid", context)))
    else:
        parts += [
            (f"row-{row.learner_id}", row_html(row, context))
            for row in grid.rows
            if state["rows"].get(row.learner_id) != rows[row.learner_id]
        ]
    state["rows"] = rows
    if grid.steps != state.get("steps"):  # who passed each step, in the grid's header
        if state.get("steps") is not None and all(event != "grid" for event, _ in parts):
            parts.append(("passes", render_to_string("classrooms/dashboard.html#passes", context)))
        state["steps"] = grid.steps
    summary = render_to_string("classrooms/dashboard.html#summary", context)
    if summary != state["summary"]:
        state["summary"] = summary
        parts.append(("summary", summary))
    return parts


def learner_events(enrollment: Enrollment, *, language: str) -> AsyncIterator[str]:
    """One learner's view, live: drawn again when their sandbox changes, or their progress moves."""
    sent: dict = {}

    def draw() -> list[tuple[str, str]]:
        with translation.override(language):
            context = {"classroom": enrollment.classroom, "enrollment": enrollment}
            context.update(learner_context(enrollment, language=language))
            html = render_to_string("classrooms/learner.html#live", context)
        if html == sent.get("learner"):
            return []
        sent["learner"] = html
        return [("learner", html)]

    def poll() -> list[tuple[str, str]]:
        moved = StepProgress.objects.filter(user_id=enrollment.learner_id).aggregate(at=Max("updated_at"))["at"]
        if moved == sent.get("moved"):
            return []
        first = "moved" not in sent
        sent["moved"] = moved
        return [] if first else draw()

    return sandbox_events({enrollment.sandbox_id}, draw, catch_up=False, poll=poll)
