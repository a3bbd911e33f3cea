import asyncio
import dataclasses
import json
import os
import shlex
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from clusters.models import Sandbox
from clusters.sandboxes import console_kubeconfig
from tutor.lessons.loader import catalog
from tutor.lessons.services import fault_perform
from tutor.lessons.walk import WalkError, lesson_walk
from tutor.sandboxes.console import parse_command, run_kubectl


def never_ends(command: str) -> bool:
    """A command that follows until someone stops it: a watch, logs -f, rollout status."""
    words = shlex.split(command)
    return (
        any(w in ("-w", "--watch", "--watch-only", "-f", "--follow") for w in words[2:])
        and (words[1] in ("get", "logs", "events"))
    ) or words[1:3] == ["rollout", "status"]


def console_runner(kubeconfig: Path, home: Path):
    """Run a lesson's command as the page's console runs it: its policy, the real kubectl."""

    def run_command(line: str, stdin: str | None) -> tuple[int, str]:
        argv = parse_command(line, stdin_available=stdin is not None)

        async def chunks():
            return [chunk async for chunk in run_kubectl(argv, kubeconfig=kubeconfig, home=home, stdin=stdin)]

        *output, end = asyncio.run(chunks())
        return (1 if end.exit_code is None else end.exit_code), "".join(chunk.text for chunk in output)

    return run_command


class Command(BaseCommand):
    help = "Check every lesson file, or walk lessons step by step against a sandbox of a running app."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("check", help="load and check every lesson; print what there is")
        walk = commands.add_parser("walk", help="apply, run, break and check every step, as a learner would")
        walk.add_argument("slugs", nargs="*", help="lessons to walk (default: all, in order)")
        walk.add_argument("--owner", required=True)
        walk.add_argument("--sandbox", default="default")
        walk.add_argument("--server", default=None, help="the running app's address (default: make run's)")
        walk.add_argument("--timeout", type=float, default=120, help="seconds a check may take to pass")
        walk.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object per step")

    def handle(self, *args, command: str, **options):
        getattr(self, f"handle_{command}")(**options)

    def handle_check(self, **options):
        lessons = catalog().lessons
        for lesson in lessons:
            checked = len(lesson.checked_steps)
            predictions = sum(1 for s in lesson.steps if s.has_prediction)
            self.stdout.write(
                f"{lesson.order:>2} {lesson.slug:<16} {len(lesson.steps)} steps, {checked} checked, "
                f"{predictions} predictions — {lesson.text('en').title} / {lesson.text('ko').title}"
            )
        self.stdout.write(f"{len(lessons)} lessons, all valid")

    def handle_walk(self, *, slugs, owner, sandbox, server, timeout, as_json: bool, **options):
        user = get_user_model().objects.filter(username=owner).first()
        box = Sandbox.objects.filter(owner=user, name=sandbox).first()
        if box is None:
            raise CommandError(f'no sandbox "{sandbox}" owned by "{owner}"')
        lessons = [catalog().get(slug) for slug in slugs] if slugs else list(catalog().lessons)
        if None in lessons:
            raise CommandError(f"unknown lesson; known: {', '.join(lesson.slug for lesson in catalog().lessons)}")
        server = server or f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        with tempfile.TemporaryDirectory() as folder:
            kubeconfig = console_kubeconfig(sandbox=box, server=server, folder=Path(folder))
            run_command = console_runner(kubeconfig, Path(folder) / "home")

            def report(step):
                if as_json:
                    self.stdout.write(json.dumps(dataclasses.asdict(step)))
                else:
                    self.stdout.write(f"{step.lesson:<16} {step.step:<20} {step.seconds:6.1f} s  {step.message}")

            try:
                for lesson in lessons:
                    lesson_walk(
                        sandbox=box,
                        lesson=lesson,
                        run_command=run_command,
                        perform_fault=fault_perform,
                        is_following=never_ends,
                        timeout=timeout,
                        on_step=report,
                    )
            except WalkError as error:
                raise CommandError(str(error)) from None
