"""Classroom pages: joining a class (learners), and for instructors their classrooms, the live
dashboard, one learner's view, and stepping in (reset, message, lock, export).

Views are thin: they find the classroom the user teaches (any other is a 404, as if it did not
exist) or the learner's own enrollment, make one call into a service or the read side, and render.
"""

from __future__ import annotations

import csv

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tutor.classrooms import services
from tutor.classrooms.dashboard import dashboard_events, grid_context, learner_context, learner_events
from tutor.classrooms.forms import ClassroomForm, JoinForm, MessageForm, PodSecurityForm
from tutor.classrooms.progress import SORTS, STATES, grid_build
from tutor.lessons.loader import catalog


def _instructor(request) -> None:
    if not services.is_instructor(request.user):
        raise PermissionDenied(translation.gettext("Only instructors can open classrooms."))


# --- learners ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def join(request, code: str = ""):
    """Join a class with its code (typed, or from the link the instructor shared)."""
    form = JoinForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = services.classroom_join(learner=request.user, code=form.cleaned_data["code"])
        except services.ClassroomError as error:
            form.add_error("code", str(error))
        else:
            messages.success(
                request,
                translation.gettext("You joined %(name)s. Your lessons now run in the class's sandbox.")
                % {"name": enrollment.classroom.name},
            )
            return redirect("lessons")
    return render(request, "classrooms/join.html", {"form": form}, status=422 if form.errors else 200)


# --- instructors: classrooms -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def classroom_list(request):
    _instructor(request)
    form = ClassroomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        classroom = services.classroom_create(instructor=request.user, **form.cleaned_data)
        return redirect("classroom", classroom_id=classroom.pk)
    classrooms = services.classrooms_taught(request.user)
    return render(
        request, "classrooms/list.html", {"classrooms": classrooms, "form": form}, status=422 if form.errors else 200
    )


def lock_rows(classroom, language: str) -> list[dict]:
    return [
        {"lesson": lesson, "title": lesson.text(language).title, "locked": lesson.slug in classroom.locked_lessons}
        for lesson in catalog().lessons
    ]


def _filters(request) -> dict:
    """The grid's filter and sort, from the query string; unknown values are ignored."""
    lesson = request.GET.get("lesson", "")
    state = request.GET.get("state", "")
    sort = request.GET.get("sort", "name")
    return {
        "lesson": lesson if catalog().get(lesson) else "",
        "state": state if state in STATES else "",
        "sort": sort if sort in SORTS else "name",
    }


@login_required
@require_GET
def dashboard(request, classroom_id: int):
    classroom = services.classroom_taught(request.user, classroom_id)
    filters = _filters(request)
    context = grid_context(classroom, filters=filters, language=translation.get_language())
    context["join_url"] = request.build_absolute_uri(reverse("classroom-join-code", args=[classroom.join_code]))
    context["lessons_all"] = catalog().lessons
    context["locks"] = lock_rows(classroom, translation.get_language())
    context["pod_security_form"] = PodSecurityForm(instance=classroom)
    if request.htmx and request.GET.get("part") == "grid":
        return render(request, "classrooms/dashboard.html#live", context)
    return render(request, "classrooms/dashboard.html", context)


async def dashboard_stream(request, classroom_id: int):
    """The dashboard's one event stream per tab: the grid and summary as they change."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    classroom = await sync_to_async(services.classroom_taught)(user, classroom_id)
    filters = _filters(request)
    events = dashboard_events(classroom, filters=filters, language=translation.get_language())
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_GET
def export_csv(request, classroom_id: int):
    """Progress as a spreadsheet: one row per learner and checked step."""
    classroom = services.classroom_taught(request.user, classroom_id)
    grid = grid_build(classroom, now=timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="classroom-{classroom.pk}-progress.csv"'
    writer = csv.writer(response)
    writer.writerow(["learner", "lesson", "step", "state", "failing since", "explanation"])
    for row in grid.rows:
        for cell in row.cells:
            since = cell.since.isoformat() if cell.since else ""
            writer.writerow([row.username, cell.lesson, cell.step, cell.state, since, cell.message])
    return response


@login_required
@require_POST
def lesson_lock(request, classroom_id: int, slug: str):
    classroom = services.classroom_taught(request.user, classroom_id)
    if catalog().get(slug) is None:
        raise Http404("no such lesson")
    services.lesson_lock(classroom=classroom, slug=slug, locked=request.POST.get("locked") == "1")
    locks = lock_rows(classroom, translation.get_language())
    return render(request, "classrooms/_locks.html", {"classroom": classroom, "locks": locks})


@login_required
@require_POST
def pod_security(request, classroom_id: int):
    """Relax or tighten the class's Pod Security level; the API's warnings about running pods
    the new level would refuse are shown (they keep running, as on a cluster)."""
    classroom = services.classroom_taught(request.user, classroom_id)
    form = PodSecurityForm(request.POST, instance=classroom)
    if not form.is_valid():
        messages.error(request, "; ".join(error for errors in form.errors.values() for error in errors))
        return redirect("classroom", classroom_id=classroom.pk)
    level = form.cleaned_data["pod_security_level"]
    warnings = services.classroom_pod_security_set(classroom=classroom, level=level)
    messages.success(
        request, translation.gettext("The learners' namespaces now enforce Pod Security %(level)s.") % {"level": level}
    )
    for warning in warnings[:20]:
        messages.warning(request, warning)
    return redirect("classroom", classroom_id=classroom.pk)


# --- instructors: one learner ------------------------------------------------------------------


@login_required
@require_GET
def learner(request, classroom_id: int, learner_id: int):
    """One learner, read-only: their progress, sandbox, timeline, Events, manifests and commands."""
    classroom = services.classroom_taught(request.user, classroom_id)
    enrollment = services.enrollment_in(classroom, learner_id)
    context = {"classroom": classroom, "enrollment": enrollment, "form": MessageForm()}
    context.update(learner_context(enrollment, language=translation.get_language()))
    return render(request, "classrooms/learner.html", context)


async def learner_stream(request, classroom_id: int, learner_id: int):
    """The learner view's live stream: the view again whenever their sandbox or progress changes."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    classroom = await sync_to_async(services.classroom_taught)(user, classroom_id)
    enrollment = await sync_to_async(services.enrollment_in)(classroom, learner_id)
    if enrollment.sandbox_id is None:
        raise Http404("this learner has no sandbox yet")
    events = learner_events(enrollment, language=translation.get_language())
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_POST
def learner_reset(request, classroom_id: int, learner_id: int):
    classroom = services.classroom_taught(request.user, classroom_id)
    enrollment = services.enrollment_in(classroom, learner_id)
    try:
        services.learner_sandbox_reset(enrollment=enrollment)
        text, error = translation.gettext("The learner's sandbox is fresh again."), False
    except services.ClassroomError as problem:
        text, error = str(problem), True
    return render(request, "sandboxes/_flash.html", {"message": text, "error": error}, status=422 if error else 200)


@login_required
@require_POST
def learner_message(request, classroom_id: int, learner_id: int):
    classroom = services.classroom_taught(request.user, classroom_id)
    enrollment = services.enrollment_in(classroom, learner_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return render(request, "classrooms/_message_form.html", {"form": form, "enrollment": enrollment}, status=422)
    services.message_send(
        enrollment=enrollment, sender=request.user, text=form.cleaned_data["text"], kind=form.cleaned_data["kind"]
    )
    sent = translation.gettext("Sent: it shows on the learner's page now.")
    return render(
        request, "classrooms/_message_form.html", {"form": MessageForm(), "enrollment": enrollment, "sent": sent}
    )
