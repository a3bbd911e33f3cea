"""What classrooms do: who may teach, creating a class, joining it, the class's limits on each
learner's sandbox, an instructor stepping in (reset, messages, locked lessons)."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from clusters import store
from clusters.manifests import manifest_apply
from clusters.sandboxes import sandbox_create, sandbox_pod_security_set, sandbox_reset
from clusters.snapshot import sandbox_of
from tutor.classrooms.models import Classroom, Enrollment, Message

INSTRUCTORS_GROUP = "instructors"
# Join codes avoid letters and digits that read alike (0/O, 1/I/L) when written on a board.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
QUOTA_NAME = "classroom-quota"
LIMITS_NAME = "classroom-limits"
LIMITS_NAMESPACE = "default"


class ClassroomError(ValueError):
    """A request about a classroom that cannot be done, in words for the page."""


# --- roles -------------------------------------------------------------------------------------


def instructors_group() -> Group:
    """The instructors' group, holding the permissions to run classrooms."""
    group = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0]
    wanted = Permission.objects.filter(
        content_type__app_label="classrooms", codename__in=["add_classroom", "change_classroom", "view_classroom"]
    )
    group.permissions.add(*wanted)
    return group


def is_instructor(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm("classrooms.add_classroom")))


def make_instructor(user) -> None:
    user.groups.add(instructors_group())


def classrooms_taught(user):
    """The classrooms an instructor sees: their own (an admin sees every one)."""
    if not is_instructor(user):
        return Classroom.objects.none()
    rows = Classroom.objects.all() if user.is_superuser else Classroom.objects.filter(instructor=user)
    return rows.select_related("instructor")


def classroom_taught(user, classroom_id: int) -> Classroom:
    """One classroom the user teaches; any other is a 404, as if it did not exist."""
    classroom = classrooms_taught(user).filter(pk=classroom_id).first()
    if classroom is None:
        raise Http404("no such classroom")
    return classroom


def enrollment_in(classroom: Classroom, learner_id: int) -> Enrollment:
    enrollment = classroom.enrollments.select_related("learner", "sandbox").filter(learner_id=learner_id).first()
    if enrollment is None:
        raise Http404("no such learner")
    return enrollment


# --- creating and joining ----------------------------------------------------------------------


def join_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def classroom_create(*, instructor, name: str, **limits) -> Classroom:
    if not is_instructor(instructor):
        raise ClassroomError(_("Only instructors can create classrooms."))
    name = name.strip()
    if not name:
        raise ClassroomError(_("A classroom needs a name."))
    for _attempt in range(5):  # a clash of random codes is rare; try again rather than fail
        try:
            with transaction.atomic():
                return Classroom.objects.create(instructor=instructor, name=name, join_code=join_code_new(), **limits)
        except IntegrityError:
            continue
    raise ClassroomError(_("Could not find a free join code; try again."))


def code_normalise(code: str) -> str:
    """What the learner typed, as stored: upper case, no spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def classroom_join(*, learner, code: str) -> Enrollment:
    """Enrol the learner in the class with this code (again: nothing changes) and give them the
    class's sandbox, with the class's limits on it."""
    classroom = Classroom.objects.filter(join_code=code_normalise(code)).first()
    if classroom is None:
        raise ClassroomError(_("No classroom has this code: check it with your instructor."))
    if classroom.instructor_id == learner.pk:
        raise ClassroomError(_("You teach this classroom; open it from your classrooms."))
    enrollment = Enrollment.objects.get_or_create(classroom=classroom, learner=learner)[0]
    if enrollment.sandbox is None:
        enrollment.sandbox = _class_sandbox(classroom, learner)
        enrollment.save(update_fields=["sandbox"])
        limits_apply(enrollment)
    return enrollment


def class_sandbox_name(classroom: Classroom) -> str:
    return f"class-{classroom.pk}"


def _class_sandbox(classroom: Classroom, learner):
    name = class_sandbox_name(classroom)
    try:
        return sandbox_create(owner=learner, name=name, pod_security_level=classroom.pod_security_level)
    except IntegrityError:  # a second tab joined at the same moment
        return sandbox_of(owner=learner, name=name)


def limits_manifest(classroom: Classroom) -> str:
    """The class's limits as Kubernetes objects: a ResourceQuota (what the sandbox may hold) and
    a LimitRange (what a container gets when it asks for nothing), both in `default`."""
    return f"""\
apiVersion: v1
kind: ResourceQuota
metadata:
  name: {QUOTA_NAME}
  namespace: {LIMITS_NAMESPACE}
  labels: {{kube-tutor.dev/classroom: "{classroom.pk}"}}
spec:
  hard:
    pods: "{classroom.max_pods}"
    services: "{classroom.max_services}"
    persistentvolumeclaims: "{classroom.max_claims}"
    limits.cpu: "{classroom.cpu}"
    limits.memory: "{classroom.memory}"
---
apiVersion: v1
kind: LimitRange
metadata:
  name: {LIMITS_NAME}
  namespace: {LIMITS_NAMESPACE}
  labels: {{kube-tutor.dev/classroom: "{classroom.pk}"}}
spec:
  limits:
  - type: Container
    default: {{cpu: 500m, memory: 256Mi}}
    defaultRequest: {{cpu: 100m, memory: 64Mi}}
"""


def limits_apply(enrollment: Enrollment) -> None:
    with store.writing_as("classroom: limits"):
        report = manifest_apply(sandbox=enrollment.sandbox, text=limits_manifest(enrollment.classroom))
    if not report.stored:
        problems = report.error or "; ".join(str((r.error or {}).get("message", "")) for r in report.results)
        raise ClassroomError(f"the class's limits could not be applied: {problems}")


# --- the instructor steps in -------------------------------------------------------------------


def learner_sandbox_reset(*, enrollment: Enrollment) -> None:
    """Reset the learner's class sandbox to a fresh cluster, the class's limits on it again."""
    if enrollment.sandbox is None:
        raise ClassroomError(_("This learner has no sandbox yet."))
    with store.writing_as("instructor: reset"):
        sandbox_reset(sandbox=enrollment.sandbox)
    limits_apply(enrollment)


def classroom_pod_security_set(*, classroom: Classroom, level: str) -> list[str]:
    """Relax or tighten the Pod Security level of the class: every learner's class sandbox
    enforces it in each of its namespaces (kube-system aside), and sandboxes made later too. Pods
    already running stay, as on a cluster; returned are the API's warnings about those the new
    level would refuse, each prefixed with its learner."""
    valid = [value for value, _label in Classroom._meta.get_field("pod_security_level").choices]
    if level not in valid:
        raise ClassroomError(f"a Pod Security level is one of {', '.join(valid)}, not {level!r}")
    classroom.pod_security_level = level
    classroom.save(update_fields=["pod_security_level"])
    warnings = []
    for enrollment in classroom.enrollments.select_related("learner", "sandbox").exclude(sandbox=None):
        with store.writing_as("instructor: pod security"):
            said = sandbox_pod_security_set(sandbox=enrollment.sandbox, level=level)
        warnings += [f"{enrollment.learner.get_username()}: {text}" for text in said]
    return warnings


def message_send(*, enrollment: Enrollment, sender, text: str, kind: str = Message.NOTE) -> Message:
    text = text.strip()
    if not text:
        raise ClassroomError(_("Write a message first."))
    if kind not in (Message.HINT, Message.NOTE):
        raise ClassroomError(f"a message is a {Message.HINT} or a {Message.NOTE}, not {kind!r}")
    return Message.objects.create(
        classroom=enrollment.classroom, learner=enrollment.learner, sender=sender, kind=kind, text=text[:1000]
    )


def lesson_lock(*, classroom: Classroom, slug: str, locked: bool) -> None:
    slugs = [s for s in classroom.locked_lessons if s != slug] + ([slug] if locked else [])
    classroom.locked_lessons = sorted(slugs)
    classroom.save(update_fields=["locked_lessons"])


# --- what a learner's pages ask ----------------------------------------------------------------


def current_enrollment(learner) -> Enrollment | None:
    """The class the learner joined last: its sandbox is the one their lessons use."""
    if not learner.is_authenticated:
        return None
    return (
        Enrollment.objects.filter(learner=learner, sandbox__isnull=False)
        .select_related("classroom", "sandbox")
        .order_by("-joined_at")
        .first()
    )


def lesson_locked_for(learner, slug: str) -> bool:
    enrollment = current_enrollment(learner)
    return bool(enrollment and slug in enrollment.classroom.locked_lessons)


def messages_for(learner, *, limit: int = 5) -> list[Message]:
    if not learner.is_authenticated:
        return []
    return list(Message.objects.filter(learner=learner).select_related("sender")[:limit])


def newest_message_id(learner) -> int:
    if not learner.is_authenticated:
        return 0
    return Message.objects.filter(learner=learner).values_list("id", flat=True).first() or 0
