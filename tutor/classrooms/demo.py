"""The demo class: one instructor, three learners in a classroom, each with the class's sandbox
and some work done — so that an instructor trying Kube Tutor sees a live dashboard at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from clusters import store
from clusters.manifests import manifest_apply
from tutor.classrooms import services
from tutor.classrooms.models import Classroom, Enrollment
from tutor.lessons.loader import catalog
from tutor.lessons.services import lesson_evaluate

DEMO_CLASSROOM = "Demo class"
DEMO_JOIN_CODE = "KUBETUTR"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    steps_applied: int = 0  # how many steps of the first lesson with a manifest the demo applies for them


DEMO_ACCOUNTS = (
    DemoAccount("instructor", "instructor-demo", "instructor"),
    DemoAccount("learner1", "learner-demo", "learner", steps_applied=2),
    DemoAccount("learner2", "learner-demo", "learner", steps_applied=1),
    DemoAccount("learner3", "learner-demo", "learner"),
)


def demo_accounts_ensure() -> list[tuple[DemoAccount, bool]]:
    """Create the demo accounts that are missing; leave existing ones (and their passwords) alone."""
    results = []
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        if created:
            user.set_password(account.password)
            user.save(update_fields=["password"])
        if account.role == "instructor":
            services.make_instructor(user)
        results.append((account, created))
    return results


def demo_classroom_ensure() -> tuple[Classroom, list[Enrollment]]:
    """The demo classroom with the three learners in it, each with work in their sandbox: the
    first lesson's first manifests applied, and the lesson judged once, as their page would. Run
    again, it changes nothing that exists."""
    instructor = User.objects.get(username=DEMO_ACCOUNTS[0].username)
    classroom = Classroom.objects.filter(join_code=DEMO_JOIN_CODE).first()
    if classroom is None:
        classroom = services.classroom_create(instructor=instructor, name=DEMO_CLASSROOM)
        classroom.join_code = DEMO_JOIN_CODE  # a fixed code, so the README can name it
        classroom.save(update_fields=["join_code"])
    lesson = catalog().lessons[0]
    enrollments = []
    for account in DEMO_ACCOUNTS[1:]:
        learner = User.objects.get(username=account.username)
        existing = Enrollment.objects.filter(classroom=classroom, learner=learner).exists()
        enrollment = services.classroom_join(learner=learner, code=DEMO_JOIN_CODE)
        if not existing:
            manifests = [step.manifest for step in lesson.steps if step.manifest][: account.steps_applied]
            with store.writing_as("page: apply", "demo"):
                for manifest in manifests:
                    manifest_apply(sandbox=enrollment.sandbox, text=manifest)
            lesson_evaluate(user=learner, sandbox=enrollment.sandbox, lesson=lesson)
        enrollments.append(enrollment)
    return classroom, enrollments
