"""The sandbox page and its parts: the live cluster view, object details, the editor's Apply and
Delete, fault buttons, reset, the kubeconfig guide, the timeline and the live stream.

Views are thin: they find the learner's sandbox (another learner's is a 404), make one call
into a service or the read side (`clusters.snapshot`), and render a template or one of its
partials (`template.html#part`) for htmx.
"""

from __future__ import annotations

import json
import re

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from clusters import errors, faults, idle
from clusters.snapshot import (
    Snapshot,
    SnapshotError,
    deployments_view,
    nodes_view,
    pending_pods,
    pod_log,
    pod_view,
    sandbox_of,
    sandbox_snapshot,
    sandbox_version,
    service_endpoints,
    timeline,
)
from tutor.classrooms.live import messages_context, messages_poll
from tutor.lessons.live import lesson_check_parts
from tutor.lessons.loader import catalog
from tutor.sandboxes import services
from tutor.sandboxes.live import sandbox_events

TIMELINE_SHOWN = 80
# A lesson whose checks read container output is judged again this often (output changes no object).
LOG_TICK = 2.0
WORKLOAD_KINDS = ("StatefulSet", "DaemonSet", "Job", "CronJob")
DETAIL_KINDS = (
    "Pod",
    "Node",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Endpoints",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "ConfigMap",
    "Secret",
    "Namespace",
)


def _own(request, name: str):
    """The learner's own sandbox of that name; asking for it is using it (clusters.idle)."""
    sandbox = sandbox_of(owner=request.user, name=name)
    if sandbox is None:
        raise Http404("no such sandbox")
    idle.sandbox_seen(sandbox=sandbox)
    return sandbox


# --- what the cluster view shows -----------------------------------------------------------------


def _namespaced_name(body: dict) -> tuple[str, str]:
    return body["metadata"].get("namespace", ""), body["metadata"]["name"]


def cluster_context(sandbox, snapshot: Snapshot | None = None) -> dict:
    """Everything the cluster view draws, read in one snapshot (this one, if given)."""
    snapshot = snapshot or sandbox_snapshot(sandbox)
    services_shown = [
        {"body": s, "endpoints": service_endpoints(snapshot, s)}
        for s in sorted(snapshot.objects("Service"), key=_namespaced_name)
        if _namespaced_name(s) != ("default", "kubernetes")  # the API's own Service
    ]
    workloads = [
        {"kind": kind, "body": body, "pods": [pod_view(p) for p in snapshot.owned_by("Pod", body)]}
        for kind in WORKLOAD_KINDS
        for body in sorted(snapshot.objects(kind), key=_namespaced_name)
    ]
    return {
        "sandbox": sandbox,
        "version": snapshot.version,
        "nodes": nodes_view(snapshot),
        "pending": pending_pods(snapshot),
        "deployments": deployments_view(snapshot),
        "workloads": workloads,
        "services": services_shown,
        "claims": sorted(snapshot.objects("PersistentVolumeClaim"), key=_namespaced_name),
        "events": snapshot.events[:15],
        "idle": idle.sandbox_idle_state(sandbox),
    }


def timeline_context(sandbox, *, after: int = 0) -> dict:
    entries = timeline(sandbox, after=after, limit=TIMELINE_SHOWN)
    return {"entries": entries, "last": entries[-1].resource_version if entries else after}


# --- pages -------------------------------------------------------------------------------------


@login_required
@require_GET
def my_sandbox(request):
    """The learner's own sandbox, made on first visit."""
    sandbox = services.learner_sandbox(user=request.user)
    return redirect("sandbox", name=sandbox.name)


@login_required
@require_GET
def sandbox_page(request, name: str):
    sandbox = _own(request, name)
    context = {
        **cluster_context(sandbox),
        "timeline": timeline_context(sandbox),
        "manifest": request.GET.get("manifest", ""),
        **messages_context(request.user),
    }
    return render(request, "sandboxes/sandbox.html", context)


@login_required
@require_GET
def cluster_part(request, name: str):
    """The cluster view alone: what the page polls when its live stream is down."""
    return render(request, "sandboxes/_cluster.html", cluster_context(_own(request, name)))


@login_required
@require_GET
def timeline_part(request, name: str):
    sandbox = _own(request, name)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    return render(
        request, "sandboxes/_timeline.html", {"timeline": timeline_context(sandbox, after=after), "sandbox": sandbox}
    )


@login_required
@require_GET
def object_part(request, name: str, kind: str, namespace: str, object_name: str):
    """One object: its status, conditions, the Events that explain it, its YAML (pods: logs too)."""
    sandbox = _own(request, name)
    if kind not in DETAIL_KINDS:
        raise Http404("no such kind")
    snapshot = sandbox_snapshot(sandbox)
    scope = "" if namespace == "_" else namespace
    body = snapshot.get(kind, scope, object_name)
    context = {"sandbox": sandbox, "kind": kind, "namespace": namespace, "name": object_name, "body": body}
    if body is not None:
        context.update(
            yaml=services.object_yaml(body),
            conditions=(body.get("status") or {}).get("conditions") or [],
            events=snapshot.events_about(body),
            pod=pod_view(body) if kind == "Pod" else None,
            endpoints=service_endpoints(snapshot, body) if kind == "Service" else None,
        )
    return render(request, "sandboxes/_object.html", context)


# --- actions -----------------------------------------------------------------------------------


def with_diagnostics(response: HttpResponse, diagnostics) -> HttpResponse:
    """The editor marks the lines (tutor.js listens for this event)."""
    items = [{"line": d.line, "column": d.column, "message": d.message} for d in diagnostics]
    response["HX-Trigger"] = json.dumps({"editor-diagnostics": {"items": items}})
    return response


@login_required
@require_POST
def apply(request, name: str):
    sandbox = _own(request, name)
    text = request.POST.get("manifest", "")
    report, diagnostics = services.manifest_apply_from_page(sandbox=sandbox, text=text)
    response = render(request, "sandboxes/_apply_result.html", {"report": report, "diagnostics": diagnostics})
    return with_diagnostics(response, diagnostics)


@login_required
@require_POST
def delete(request, name: str):
    sandbox = _own(request, name)
    try:
        results = services.manifest_delete(sandbox=sandbox, text=request.POST.get("manifest", ""))
        context = {"deleted": results}
    except services.ManifestDeleteError as error:
        context = {"delete_error": str(error)}
    return render(request, "sandboxes/_apply_result.html", context)


@login_required
@require_POST
def fault(request, name: str, kind: str):
    """A fault button: kill a container, stop or start a kubelet, break an image."""
    sandbox = _own(request, name)
    form = request.POST
    try:
        if kind == "kill-container":
            faults.container_kill(
                sandbox=sandbox, namespace=form["namespace"], pod=form["pod"], container=form["container"]
            )
            message = translation.gettext("Killed a container of pod %(pod)s: watch the kubelet restart it.") % {
                "pod": form["pod"]
            }
        elif kind in ("stop-kubelet", "start-kubelet"):
            (faults.kubelet_stop if kind == "stop-kubelet" else faults.kubelet_start)(
                sandbox=sandbox, node=form["node"]
            )
            message = (
                translation.gettext("Stopped the kubelet of %(node)s: the node turns NotReady once its lease expires.")
                if kind == "stop-kubelet"
                else translation.gettext("Started the kubelet of %(node)s again.")
            ) % {"node": form["node"]}
        elif kind == "break-image":
            changed = faults.image_break(
                sandbox=sandbox, namespace=form["namespace"], kind=form["kind"], name=form["name"]
            )
            message = translation.gettext("Changed the image to %(image)s, which cannot be pulled.") % {
                "image": changed.new_image
            }
        else:
            raise Http404("no such fault")
    except (faults.FaultError, errors.ApiError, KeyError) as error:
        return render(request, "sandboxes/_flash.html", {"message": str(error), "error": True}, status=422)
    return render(request, "sandboxes/_flash.html", {"message": message})


@login_required
@require_POST
def reset(request, name: str):
    sandbox = _own(request, name)
    services.sandbox_reset_from_page(sandbox=sandbox)
    return render(request, "sandboxes/_flash.html", {"message": translation.gettext("The sandbox is fresh again.")})


@login_required
@require_GET
def connect(request, name: str):
    """How to use the real kubectl on your own machine against this sandbox."""
    sandbox = _own(request, name)
    download = reverse("api-sandbox-kubeconfig", kwargs={"name": sandbox.name})
    return render(request, "sandboxes/_connect.html", {"sandbox": sandbox, "download": download})


# --- live --------------------------------------------------------------------------------------


VERSION_ATTRIBUTE = re.compile(r' data-version="\d+"')


def _unversioned(html: str) -> str:
    return VERSION_ATTRIBUTE.sub("", html)


def _live_parts(sandbox, *, language: str, state: dict) -> list[tuple[str, str]]:
    """The parts of the page to send now: the cluster view, new timeline entries, and the checks
    of the lesson on the page — each only when it differs from what the page shows."""
    with translation.override(language):
        drawn = [("cluster", render_to_string("sandboxes/_cluster.html", cluster_context(sandbox)))]
        lesson = state.get("lesson")
        if lesson is not None:
            drawn += lesson_check_parts(user=state["user"], sandbox=sandbox, lesson=lesson)
        sent = state.setdefault("sent", {})
        # A check judged again on a newer version says the same when only its data-version moved.
        parts = [(event, html) for event, html in drawn if sent.get(event) != _unversioned(html)]
        sent.update((event, _unversioned(html)) for event, html in parts)
        recent = timeline_context(sandbox, after=state.get("timeline", 0))
        if recent["entries"]:
            state["timeline"] = recent["last"]
            parts.append(("timeline", render_to_string("sandboxes/_timeline.html#entries", {"timeline": recent})))
        return parts


async def stream(request, name: str):
    """The page's live stream (server-sent events): the parts that changed, as they change."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    sandbox = await sync_to_async(sandbox_of)(owner=user, name=name)
    if sandbox is None:
        raise Http404("no such sandbox")
    await sync_to_async(idle.sandbox_seen)(sandbox=sandbox)  # opening the page's stream is use
    try:
        since = int(request.GET.get("since", "0"))
        timeline_since = int(request.GET.get("timeline", str(since)))
        message_after = int(request.GET.get("message", "0"))
    except ValueError:
        since = timeline_since = message_after = 0
    state = {
        "timeline": timeline_since,
        "lesson": catalog().get(request.GET.get("lesson", "")),
        "user": user,
    }
    language = translation.get_language()

    def render_parts():
        return _live_parts(sandbox, language=language, state=state)

    current = await sync_to_async(sandbox_version)(sandbox)
    lesson = state["lesson"]
    reads_logs = lesson is not None and any(step.check.reads_logs for step in lesson.checked_steps)
    events = sandbox_events(
        {sandbox.pk},
        render_parts,
        catch_up=current > since,
        tick=LOG_TICK if reads_logs else None,
        poll=messages_poll(user, after=message_after),
    )
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_GET
def logs_part(request, name: str, namespace: str, pod: str):
    """A container's newest output; with `after`, only the lines since, as plain text (the page
    polls this to follow), and the id to ask after next in `X-Log-After`."""
    sandbox = _own(request, name)
    container = request.GET.get("container") or None
    following = "after" in request.GET
    try:
        after = int(request.GET.get("after", "0"))
        tail = pod_log(sandbox, namespace=namespace, pod=pod, container=container, after_id=after)
    except (ValueError, SnapshotError) as error:
        return render(request, "sandboxes/_logs.html", {"error": str(error)})
    if following:
        response = HttpResponse("".join(f"{line}\n" for line in tail.lines), content_type="text/plain; charset=utf-8")
        response["X-Log-After"] = str(tail.last_id)
        return response
    return render(
        request, "sandboxes/_logs.html", {"sandbox": sandbox, "namespace": namespace, "pod": pod, "tail": tail}
    )
