"""A lesson's checks as page parts, re-judged whenever the learner's sandbox changes."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import get_language

from clusters.snapshot import Snapshot
from tutor.lessons.loader import Lesson
from tutor.lessons.services import lesson_evaluate


def lesson_check_parts(*, user, sandbox, lesson: Lesson, snapshot: Snapshot | None = None) -> list[tuple[str, str]]:
    """(event name, HTML) for every checked step's check block, judged now (on `snapshot`, if
    given; progress is kept), and for the lesson's progress line."""
    states = lesson_evaluate(user=user, sandbox=sandbox, lesson=lesson, snapshot=snapshot)
    text = lesson.text(get_language() or "en")
    parts = [
        (f"check-{state.step.id}", render_to_string("lessons/_check.html", {"state": state, "text": text}))
        for state in states
        if state.step.check is not None
    ]
    progress = {"passed": sum(1 for s in states if s.passed), "checked": len(lesson.checked_steps)}
    parts.append(("lesson-progress", render_to_string("lessons/lesson.html#progress", progress)))
    return parts
