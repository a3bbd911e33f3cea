"""The class's progress grid: every learner by every checked step, with a state for each cell.

The states (`cell_state`, pure):
- passed: the step's check has passed once (progress is never lost);
- stuck: the learner's current step (the first not passed, in a lesson they started) whose check
  has been failing longer than the class's `stuck_minutes`, with the check's explanation;
- in progress: the learner has reached the step (the check was judged) but it has not passed;
- not started.

The grid reads every learner's progress rows in one query; no sandbox is read to draw it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from tutor.classrooms.models import Classroom
from tutor.lessons.loader import Lesson, catalog
from tutor.lessons.models import StepProgress

NOT_STARTED, IN_PROGRESS, PASSED, STUCK = "not-started", "in-progress", "passed", "stuck"
STATES = (NOT_STARTED, IN_PROGRESS, PASSED, STUCK)
COMMON_REASONS_SHOWN = 5


@dataclass(frozen=True)
class Cell:
    lesson: str
    step: str
    state: str
    message: str = ""  # why the check fails (in progress, stuck)
    since: datetime | None = None  # failing since (stuck)
    current: bool = False  # the step the learner works on in this lesson

    @property
    def key(self) -> str:
        return f"{self.lesson}/{self.step}"


@dataclass(frozen=True)
class LearnerRow:
    learner_id: int
    username: str
    sandbox_name: str
    cells: tuple[Cell, ...]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cells if c.state == PASSED)

    @property
    def stuck(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.state == STUCK)

    @property
    def last_lesson(self) -> str:
        reached = [c.lesson for c in self.cells if c.state != NOT_STARTED]
        return reached[-1] if reached else ""

    def cells_of(self, lesson: str) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.lesson == lesson)


@dataclass(frozen=True)
class StepSummary:
    lesson: str
    step: str
    passed: int


@dataclass(frozen=True)
class Grid:
    lessons: tuple[Lesson, ...]
    rows: tuple[LearnerRow, ...]
    steps: tuple[StepSummary, ...]  # how many learners passed each step
    reasons: tuple[tuple[str, int], ...]  # the most common failure explanations, with how many learners

    @property
    def learners(self) -> int:
        return len(self.rows)

    @property
    def stuck_learners(self) -> int:
        return sum(1 for row in self.rows if row.stuck)


def cell_state(row: StepProgress | None, *, current: bool, now: datetime, stuck_after: timedelta) -> str:
    """The state of one step for one learner (see the module's docstring)."""
    if row is None:
        return NOT_STARTED
    if row.passed_at is not None:
        return PASSED
    if current and row.failing_since is not None and now - row.failing_since >= stuck_after:
        return STUCK
    return IN_PROGRESS


def learner_cells(
    lessons: tuple[Lesson, ...], rows: dict[tuple[str, str], StepProgress], *, now: datetime, stuck_after: timedelta
) -> tuple[Cell, ...]:
    """Every checked step of every lesson for one learner, given their progress rows by (lesson, step)."""
    cells = []
    for lesson in lessons:
        steps = lesson.checked_steps  # a property that filters the steps: once per lesson, not per use
        started = any((lesson.slug, step.id) in rows for step in steps)
        current = next((s.id for s in steps if not getattr(rows.get((lesson.slug, s.id)), "passed_at", None)), None)
        for step in steps:
            row = rows.get((lesson.slug, step.id))
            state = cell_state(row, current=started and step.id == current, now=now, stuck_after=stuck_after)
            message = row.last_message if row is not None and state in (IN_PROGRESS, STUCK) else ""
            since = row.failing_since if state == STUCK else None
            cells.append(Cell(lesson.slug, step.id, state, message, since, started and step.id == current))
    return tuple(cells)


def grid_build(classroom: Classroom, *, now: datetime, lesson: str = "", state: str = "", sort: str = "name") -> Grid:
    """The classroom's grid, optionally only one lesson's steps, only learners with a cell in
    `state`, sorted by name, by progress (most passed first) or by stuck (most stuck first)."""
    lessons = tuple(item for item in catalog().lessons if not lesson or item.slug == lesson)
    enrollments = list(classroom.enrollments.select_related("learner", "sandbox").order_by("learner__username"))
    by_learner: dict[int, dict[tuple[str, str], StepProgress]] = {e.learner_id: {} for e in enrollments}
    progress = StepProgress.objects.filter(user_id__in=list(by_learner), lesson__in=[item.slug for item in lessons])
    for row in progress:
        by_learner[row.user_id][(row.lesson, row.step)] = row
    stuck_after = timedelta(minutes=classroom.stuck_minutes)
    all_rows = tuple(
        LearnerRow(
            learner_id=e.learner_id,
            username=e.learner.get_username(),
            sandbox_name=e.sandbox.name if e.sandbox else "",
            cells=learner_cells(lessons, by_learner[e.learner_id], now=now, stuck_after=stuck_after),
        )
        for e in enrollments
    )
    passes = Counter((c.lesson, c.step) for r in all_rows for c in r.cells if c.state == PASSED)
    steps = tuple(
        StepSummary(item.slug, step.id, passes[(item.slug, step.id)]) for item in lessons for step in item.checked_steps
    )
    # Only the steps learners work on now: a step not reached yet fails for want of trying.
    reasons = Counter(c.message for r in all_rows for c in r.cells if c.current and c.state != PASSED and c.message)
    shown = [r for r in all_rows if not state or any(c.state == state for c in r.cells)]
    return Grid(lessons, tuple(sort_rows(shown, sort)), steps, tuple(reasons.most_common(COMMON_REASONS_SHOWN)))


SORTS = ("name", "progress", "stuck")


def sort_rows(rows: list[LearnerRow], sort: str) -> list[LearnerRow]:
    if sort == "progress":
        return sorted(rows, key=lambda r: (-r.passed, r.username))
    if sort == "stuck":
        return sorted(rows, key=lambda r: (-len(r.stuck), r.username))
    return sorted(rows, key=lambda r: r.username)
