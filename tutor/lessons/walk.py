"""Walking a lesson as a learner would: every step applied, run, broken and checked, for real.

The walk applies each step's manifest the way the page's Apply does, runs its commands with the
real kubectl the console uses, presses its fault button, and waits — while the orchestrator's
workers do their work — until the step's check passes, rendering the step and the check's
words in every language on the way. `python manage.py lessons walk` runs it against a running
app; the test suite walks every lesson on both runtimes, so a lesson cannot rot unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation

from clusters import store
from clusters.manifests import manifest_apply
from clusters.models import Sandbox
from tutor.lessons.checks import Result
from tutor.lessons.loader import LANGUAGES, Lesson, Step
from tutor.lessons.services import observation_for

# (command line, stdin or None) -> (exit code, output)
CommandRunner = Callable[[str, str | None], tuple[int, str]]
FaultRunner = Callable[[Sandbox, Step], str]


class WalkError(AssertionError):
    """A step that could not be done, or whose check did not pass in time."""


@dataclass(frozen=True)
class StepWalked:
    lesson: str
    step: str
    seconds: float  # from the step's first action to its check passing
    message: str  # the check's description once passed


def _words_render(lesson: Lesson, step: Step) -> None:
    """Every language has the step's words, and the check explains itself in each."""
    for language in LANGUAGES:
        words = lesson.text(language).steps[step.id]
        if not words.title:
            raise WalkError(f"{lesson.slug}/{step.id}: no title in {language}")
        if step.check is not None:
            with translation.override(language):
                if not step.check.describe():
                    raise WalkError(f"{lesson.slug}/{step.id}: the check has no description in {language}")


def _wait_for_check(sandbox: Sandbox, lesson: Lesson, step: Step, *, timeout: float, poll: float) -> Result:
    deadline = time.monotonic() + timeout
    while True:
        result = step.check.evaluate(observation_for(sandbox))
        if result.passed:
            return result
        if time.monotonic() > deadline:
            raise WalkError(f"{lesson.slug}/{step.id}: the check did not pass within {timeout:g} s: {result.message}")
        time.sleep(poll)


def _run_until_it_works(
    lesson: Lesson, step: Step, command: str, run_command: CommandRunner, *, deadline: float, poll: float
) -> None:
    """Run a step's command; while it fails (the logs of a container still being created), run it
    again, as a learner presses Run again, until the step's time is up."""
    while True:
        code, output = run_command(command, None)
        if code == 0:
            return
        if time.monotonic() > deadline:
            raise WalkError(f"{lesson.slug}/{step.id}: `{command}` exited {code}: {output.strip()}")
        time.sleep(max(poll, 0.5))


def step_walk(
    *,
    sandbox: Sandbox,
    lesson: Lesson,
    step: Step,
    run_command: CommandRunner,
    perform_fault: FaultRunner,
    is_following: Callable[[str], bool],
    timeout: float,
    poll: float = 0.2,
) -> StepWalked:
    started = time.monotonic()
    if step.manifest:
        with store.writing_as("page: apply"):
            report = manifest_apply(sandbox=sandbox, text=step.manifest)
        if not report.stored:
            failed = report.error or "; ".join(r.error["message"] for r in report.results if r.error)
            raise WalkError(f"{lesson.slug}/{step.id}: applying {step.manifest_file} failed: {failed}")
    for command in step.commands:
        if is_following(command):
            continue  # a watch or a follow never ends by itself; the page shows it live
        _run_until_it_works(lesson, step, command, run_command, deadline=time.monotonic() + timeout, poll=poll)
    if step.fault is not None:
        perform_fault(sandbox, step)
    result = None
    if step.check is not None:
        result = _wait_for_check(sandbox, lesson, step, timeout=timeout, poll=poll)
    _words_render(lesson, step)
    return StepWalked(lesson.slug, step.id, time.monotonic() - started, result.message if result else "")


def lesson_walk(
    *,
    sandbox: Sandbox,
    lesson: Lesson,
    run_command: CommandRunner,
    perform_fault: FaultRunner,
    is_following: Callable[[str], bool],
    timeout: float = 120,
    on_step: Callable[[StepWalked], None] | None = None,
) -> list[StepWalked]:
    walked = []
    for step in lesson.steps:
        done = step_walk(
            sandbox=sandbox,
            lesson=lesson,
            step=step,
            run_command=run_command,
            perform_fault=perform_fault,
            is_following=is_following,
            timeout=timeout,
        )
        walked.append(done)
        if on_step:
            on_step(done)
    return walked
