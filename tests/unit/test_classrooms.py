"""Classrooms with Django's test client: creating a class, joining it, the class's limits on the
learner's sandbox, the dashboard and an instructor stepping in."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from clusters.snapshot import sandbox_snapshot
from tutor.classrooms import services
from tutor.classrooms.models import Classroom, Enrollment, Message
from tutor.classrooms.progress import IN_PROGRESS, NOT_STARTED, PASSED, STUCK, grid_build
from tutor.lessons.loader import catalog
from tutor.lessons.models import StepProgress
from tutor.sandboxes.services import learner_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher():
    user = User.objects.create_user("teacher", password="teacher-pass-1")
    services.make_instructor(user)
    return user


@pytest.fixture
def ada():
    return User.objects.create_user("ada", password="ada-pass-1")


def logged_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


@pytest.fixture
def classroom(teacher):
    return services.classroom_create(instructor=teacher, name="Kubernetes 101", max_pods=3)


def test_only_instructors_create_classrooms(teacher, ada):
    assert services.is_instructor(teacher)
    assert not services.is_instructor(ada)
    assert logged_in(ada).get("/classrooms/").status_code == 403
    response = logged_in(teacher).post(
        "/classrooms/",
        {
            "name": "K8s",
            "max_pods": 5,
            "max_services": 2,
            "max_claims": 1,
            "cpu": "2",
            "memory": "2Gi",
            "stuck_minutes": 5,
        },
    )
    created = Classroom.objects.get(name="K8s")
    assert response.status_code == 302
    assert response["Location"] == f"/classrooms/{created.pk}/"
    assert created.instructor == teacher
    assert len(created.join_code) == services.CODE_LENGTH


def test_a_bad_quantity_is_refused_with_the_field_named(teacher):
    response = logged_in(teacher).post(
        "/classrooms/",
        {
            "name": "K8s",
            "max_pods": 5,
            "max_services": 2,
            "max_claims": 1,
            "cpu": "two",
            "memory": "2Gi",
            "stuck_minutes": 5,
        },
    )
    assert response.status_code == 422
    assert "two is not a Kubernetes quantity" in response.content.decode()
    assert not Classroom.objects.exists()


def test_joining_gives_the_class_sandbox_with_its_limits(classroom, ada):
    response = logged_in(ada).post("/classrooms/join/", {"code": classroom.join_code.lower()})
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(classroom=classroom, learner=ada)
    assert enrollment.sandbox.owner == ada
    snapshot = sandbox_snapshot(enrollment.sandbox)
    quota = snapshot.get("ResourceQuota", "default", services.QUOTA_NAME)
    assert quota["spec"]["hard"]["pods"] == "3"
    assert snapshot.get("LimitRange", "default", services.LIMITS_NAME) is not None
    # The learner's lessons and "My sandbox" now use the class's sandbox.
    assert learner_sandbox(user=ada) == enrollment.sandbox
    # Joining again changes nothing.
    assert services.classroom_join(learner=ada, code=classroom.join_code).pk == enrollment.pk


def test_a_wrong_code_says_so(ada):
    response = logged_in(ada).post("/classrooms/join/", {"code": "NOPE"})
    assert response.status_code == 422
    assert "No classroom has this code" in response.content.decode()


def _rows(classroom, learner, lesson, passed: int, failing_for: timedelta | None):
    now = timezone.now()
    for index, step in enumerate(lesson.checked_steps):
        if index < passed:
            StepProgress.objects.create(user=learner, lesson=lesson.slug, step=step.id, passed_at=now)
        elif failing_for is not None:
            StepProgress.objects.create(
                user=learner,
                lesson=lesson.slug,
                step=step.id,
                failing_since=now - failing_for,
                last_message="expected 3 pods, found 2",
            )


def test_the_grid_tells_passed_in_progress_stuck_and_not_started(classroom, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    lesson = catalog().lessons[0]
    _rows(classroom, ada, lesson, passed=1, failing_for=timedelta(minutes=10))
    grid = grid_build(classroom, now=timezone.now())
    (row,) = grid.rows
    states = [c.state for c in row.cells_of(lesson.slug)]
    assert states[0] == PASSED
    assert states[1] == STUCK  # the current step, failing for longer than 5 minutes
    assert set(states[2:]) == {IN_PROGRESS}  # reached, but not the one being worked on
    assert {c.state for c in row.cells_of(catalog().lessons[1].slug)} == {NOT_STARTED}
    assert grid.reasons == (("expected 3 pods, found 2", 1),)
    assert grid.steps[0].passed == 1
    assert grid.steps[1].passed == 0


def test_a_fresh_failure_is_not_stuck_yet(classroom, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    lesson = catalog().lessons[0]
    _rows(classroom, ada, lesson, passed=0, failing_for=timedelta(minutes=1))
    (row,) = grid_build(classroom, now=timezone.now()).rows
    assert row.cells_of(lesson.slug)[0].state == IN_PROGRESS


def test_the_dashboard_shows_every_learner_and_filters(classroom, teacher, ada):
    bob = User.objects.create_user("bob")
    for learner in (ada, bob):
        services.classroom_join(learner=learner, code=classroom.join_code)
    lesson = catalog().lessons[0]
    _rows(classroom, ada, lesson, passed=1, failing_for=timedelta(minutes=10))
    as_teacher = logged_in(teacher)
    page = as_teacher.get(f"/classrooms/{classroom.pk}/").content.decode()
    assert "ada" in page
    assert "bob" in page
    assert classroom.join_code in page
    stuck_only = as_teacher.get(f"/classrooms/{classroom.pk}/?state=stuck").content.decode()
    assert ">ada</a>" in stuck_only
    assert ">bob</a>" not in stuck_only


def test_the_csv_has_a_row_per_learner_and_step(classroom, teacher, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    response = logged_in(teacher).get(f"/classrooms/{classroom.pk}/progress.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["learner", "lesson", "step", "state", "failing since", "explanation"]
    assert len(rows) - 1 == sum(len(lesson.checked_steps) for lesson in catalog().lessons)


def test_an_instructor_locks_a_lesson_and_the_learner_cannot_open_it(classroom, teacher, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    slug = catalog().lessons[1].slug
    logged_in(teacher).post(f"/classrooms/{classroom.pk}/lessons/{slug}/lock", {"locked": "1"})
    response = logged_in(ada).get(f"/lessons/{slug}/")
    assert response.status_code == 403
    assert "locked this lesson" in response.content.decode()
    logged_in(teacher).post(f"/classrooms/{classroom.pk}/lessons/{slug}/lock", {"locked": "0"})
    assert logged_in(ada).get(f"/lessons/{slug}/").status_code == 200


def test_a_message_reaches_the_learners_page(classroom, teacher, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    response = logged_in(teacher).post(
        f"/classrooms/{classroom.pk}/learners/{ada.pk}/message", {"kind": "hint", "text": "Look at the selector"}
    )
    assert response.status_code == 200
    assert Message.objects.get().text == "Look at the selector"
    page = logged_in(ada).get("/sandbox/", follow=True).content.decode()
    assert "Look at the selector" in page


def test_an_instructor_resets_a_learners_sandbox_and_the_limits_come_back(classroom, teacher, ada):
    enrollment = services.classroom_join(learner=ada, code=classroom.join_code)
    logged_in(ada).post(
        f"/sandboxes/{enrollment.sandbox.name}/apply",
        {"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\ndata: {a: b}\n"},
    )
    assert sandbox_snapshot(enrollment.sandbox).get("ConfigMap", "default", "mine") is not None
    response = logged_in(teacher).post(f"/classrooms/{classroom.pk}/learners/{ada.pk}/reset")
    assert response.status_code == 200
    snapshot = sandbox_snapshot(enrollment.sandbox)
    assert snapshot.get("ConfigMap", "default", "mine") is None
    assert snapshot.get("ResourceQuota", "default", services.QUOTA_NAME) is not None


def test_the_learner_view_is_read_only(classroom, teacher, ada):
    services.classroom_join(learner=ada, code=classroom.join_code)
    page = logged_in(teacher).get(f"/classrooms/{classroom.pk}/learners/{ada.pk}/").content.decode()
    assert "Stop kubelet" not in page  # the learner's fault buttons are theirs
    assert "Reset the learner" in page
