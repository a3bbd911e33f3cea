"""The Kubernetes wire protocol in front of the store: plain async Django views.

One entry point takes every path under a sandbox's API prefix, decides from the path what is
asked (clusters.kube.paths), authenticates, and answers in the protocol's own shapes: discovery
documents, objects, lists, Tables, watch streams, and `Status` objects for every error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clusters import errors, idle, logs, monitoring, store
from clusters.kube import discovery, health, metrics, openapi
from clusters.kube.access import sandbox_for_request
from clusters.kube.bodies import Body, BodyError, media_type, read_body, too_large_message
from clusters.kube.feed import FEED, changes_after, log_horizon, released
from clusters.kube.paths import RequestInfo, parse_path
from clusters.kube.strictness import (
    body_strict_errors,
    patch_invalid_value,
    patch_strict_errors,
    strict_patch_error,
)
from clusters.kube.tables import build_table
from clusters.models import Change, Sandbox
from clusters.objects import selectors
from clusters.objects.conversion import to_version
from clusters.objects.patch import PatchError, apply_patch
from clusters.objects.resources import Resource
from clusters.objects.validation import (
    FIELD_VALIDATIONS,
    IGNORE,
    STRICT,
    WARN,
    decode,
    decode_error_message,
    not_supported,
)
from clusters.pod_exec import exec_target

BOOKMARK_SECONDS = 15
DEFAULT_WATCH_SECONDS = 1800
NO_RESOURCE = "the server could not find the requested resource"
LOG_POLL_SECONDS = 0.1
LOG_RESTORE_WAIT_SECONDS = 60

log = logging.getLogger(__name__)


def _json(body: dict, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(json.dumps(body, separators=(",", ":")), status=status, content_type=content_type)


def _status_response(error: errors.ApiError) -> HttpResponse:
    return _json(error.status(), status=error.code)


def _quoted(text: str) -> str:
    """A Warning header's quoted text: only quotes and backslashes escaped, as upstream quotes it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def warning_header(warnings: list[str]) -> str:
    """The Warning header the API server sends, each text once as `299 - "<text>"`, which
    kubectl prints as `Warning: <text>`. Upstream sends one header per warning; Django keeps one
    value per header name, so they are joined into the equivalent comma-separated list, which
    clients read the same way."""
    return ", ".join(f"299 - {_quoted(text)}" for text in dict.fromkeys(warnings))


def _warned(response: HttpResponse, warnings: list[str]) -> HttpResponse:
    """The one door for warnings to reach a client."""
    if warnings:
        # As UTF-8 bytes, as Go writes them (Django would MIME-encode non-Latin-1 text).
        response["Warning"] = warning_header(warnings).encode().decode("latin-1")
    return response


def _wants_table(request: HttpRequest) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("1", "true")


def _close_connection() -> None:
    connection.close()  # looked up here, in the thread that owns it


def _authenticate(request: HttpRequest, sandbox_uid: str, token: str | None, user, *, public: bool = False) -> Sandbox:
    return sandbox_for_request(
        sandbox_uid=sandbox_uid,
        path_token=token,
        authorization=request.headers.get("Authorization", ""),
        user=user,
        public=public,
    )


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering the reason it refuses (or None) instead of a page."""

    def _reject(self, request, reason):
        return reason


def _csrf_refusal(request: HttpRequest) -> str | None:
    return _CsrfCheck(lambda request: None).process_view(request, None, (), {})


@csrf_exempt
async def kube_api(request: HttpRequest, sandbox_uid: str, path: str = "", token: str | None = None) -> HttpResponse:
    info = parse_path(path)
    # The session is read only for browser calls: kubectl and clients bring a token, and the
    # public paths need nobody.
    user = None if token or info.public or "Authorization" in request.headers else await request.auser()
    # A token is no CSRF risk (a browser never adds one to a forged request), so the view is
    # exempt; but a write on the strength of the browser's session needs the CSRF token, as the
    # pages' writes do.
    if user is not None and user.is_authenticated and request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        refusal = await sync_to_async(_csrf_refusal)(request)
        if refusal is not None:
            return _status_response(errors.Forbidden(f"CSRF verification failed: {refusal}"))
    streams = request.method == "GET" and info.target == "resource" and not metrics.serves(info)
    if streams and info.name is None and _flag(request, "watch"):
        follow = _watch
    elif streams and info.subresource == "log" and _flag(request, "follow"):
        follow = _follow_log
    else:
        follow = None
    if follow:
        try:
            sandbox = await released(_authenticate)(request, sandbox_uid, token, user)
            # A stream lives for minutes: give back the connection reading the session used.
            await sync_to_async(_close_connection)()
            _check_resource(info)
            response = await follow(request, sandbox, info)
        except errors.ApiError as error:
            return _status_response(error)
        if response.streaming and response.is_async:
            verb = "WATCH" if follow is _watch else "GET"
            response.streaming_content = monitoring.stream_counted(response.streaming_content, verb)
        return response
    # Everything else is answered in one trip to the synchronous world (one database thread hop).
    started = time.perf_counter()
    response = await sync_to_async(_serve)(request, sandbox_uid, token, user, info)
    if info.target == "resource":
        monitoring.API_SECONDS.labels(
            monitoring.api_verb(request.method, named=info.name is not None),
            # Only known resources: a made-up name per request would make a label value each.
            monitoring.api_resource(info.resource.plural, info.subresource) if info.resource else "unknown",
            str(response.status_code),
        ).observe(time.perf_counter() - started)
    return response


def client_actor(headers) -> str:
    """Who a request's writes are by, as the timeline names them: kubectl's own command (kubectl
    1.30+ sends it as `Kubectl-Command`), else the client's program name from its User-Agent."""
    command = headers.get("Kubectl-Command", "")
    if command:
        return command
    agent = headers.get("User-Agent", "").split("/", 1)[0].strip()
    return agent or "API client"


def _serve(request: HttpRequest, sandbox_uid: str, token: str | None, user, info: RequestInfo) -> HttpResponse:
    try:
        if info.target == "health":
            return _health(request, sandbox_uid, token, user, info)
        sandbox = _authenticate(request, sandbox_uid, token, user, public=info.public)
        if metrics.serves(info):  # metrics-server's API: computed, never stored
            return _json(metrics.metrics_answer(request, sandbox, info))
        if info.target == "resource":
            with store.writing_as(client_actor(request.headers)):
                return _resource(request, sandbox, info)
        return _document(request, info)
    except errors.ApiError as error:
        return _status_response(error)
    except DatabaseError:
        # The database is down or restarting: a clear 503 the client may retry, not a 500 page.
        log.warning("the database cannot be reached serving %s %s", request.method, request.path, exc_info=True)
        connection.close()  # a broken connection is not handed to the next request
        response = _status_response(errors.storage_unavailable(request.method, info.resource, info.name))
        response["Retry-After"] = str(errors.RETRY_AFTER_SECONDS)
        return response


# --- health -------------------------------------------------------------------------------------


def _health(request: HttpRequest, sandbox_uid: str, token: str | None, user, info: RequestInfo) -> HttpResponse:
    """`/healthz`, `/livez`, `/readyz` and their single checks. Reaching the database to find
    the sandbox is the `etcd` check; when it fails, the public endpoints still answer (500,
    reason withheld), as a real API server does when etcd is down."""
    failures: dict[str, str] = {}
    try:
        _authenticate(request, sandbox_uid, token, user, public=info.public)
    except DatabaseError as error:
        if not info.public:
            raise errors.ApiError("the database cannot be reached") from None
        failures["etcd"] = str(error)  # withheld from the answer, as upstream withholds it
    if request.method != "GET":
        raise errors.MethodNotAllowed(
            f"the server does not allow this method on the requested resource ({request.method})"
        )
    if info.name is None:
        answer = health.health_report(
            info.document, failures, verbose="verbose" in request.GET, excluded=request.GET.getlist("exclude")
        )
    elif info.name in health.CHECKS[info.document]:
        # Signed in, so the database (the `etcd` check) answered; `ping` always does.
        return HttpResponse("ok", content_type=health.CONTENT_TYPE)
    else:
        raise errors.NotFound(NO_RESOURCE)
    response = HttpResponse(answer.text, status=answer.status, content_type=health.CONTENT_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- discovery and OpenAPI ----------------------------------------------------------------------


def _document(request: HttpRequest, info: RequestInfo) -> HttpResponse:
    if request.method != "GET":
        raise errors.MethodNotAllowed(
            f"the server does not allow this method on the requested resource ({request.method})"
        )
    match info.target:
        case "version":
            return _json(discovery.version_info())
        case "api" | "apis":
            core = info.target == "api"
            if discovery.wants_aggregated(request.headers.get("Accept", "")):
                response = _json(discovery.aggregated_discovery(core), content_type=discovery.AGGREGATED_CONTENT_TYPE)
            elif core:
                response = _json(discovery.api_versions(request.get_host()))
            else:
                response = _json(discovery.api_group_list())
            response["Vary"] = "Accept"
            return response
        case "group":
            group = discovery.api_group(info.group)
            if group:
                return _json(group)
        case "resource_list":
            document = discovery.api_resource_list(info.group, info.version)
            if document:
                return _json(document)
        case "openapi_index":
            return _json(openapi.openapi_index())
        case "openapi_document":
            found = openapi.openapi_document_bytes(info.document)
            if found:
                # The bytes that were hashed, served as they are: no re-encoding of 650 KB per request.
                response = HttpResponse(found[0], content_type="application/json")
                response["ETag"] = f'"{found[1]}"'
                return response
    raise errors.NotFound(NO_RESOURCE)


# --- resources ----------------------------------------------------------------------------------


def _check_resource(info: RequestInfo) -> None:
    resource = info.resource
    if resource is None:
        raise errors.NotFound(NO_RESOURCE)
    if (resource.namespaced and info.name and info.namespace is None) or (
        not resource.namespaced and info.namespace is not None
    ):
        raise errors.NotFound(NO_RESOURCE)
    if info.subresource and info.subresource not in resource.subresources:
        raise errors.NotFound(NO_RESOURCE)


def _resource(request: HttpRequest, sandbox: Sandbox, info: RequestInfo) -> HttpResponse:
    _check_resource(info)
    resource, method = info.resource, request.method
    if info.subresource in ("exec", "attach", "portforward") and method in ("GET", "POST"):
        return _stream_without_upgrade(request, sandbox, info)
    if info.name is None:
        handler = {"GET": _list, "POST": _create, "DELETE": _delete_collection}.get(method)
        if handler:
            return handler(request, sandbox, resource, info.namespace)
    else:
        handler = {"GET": _get, "PUT": _update, "PATCH": _patch, "DELETE": _delete}.get(method)
        if handler:
            return handler(request, sandbox, resource, info)
    raise errors.MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")


def _raw_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise errors.RequestEntityTooLarge(too_large_message()) from None


def _read_body(request: HttpRequest) -> Body:
    try:
        return read_body(_raw_body(request), request.headers.get("Content-Type"))
    except BodyError as error:
        if error.too_large:
            raise errors.RequestEntityTooLarge(str(error)) from None
        raise errors.BadRequest(str(error)) from None


def _body(request: HttpRequest) -> dict:
    return _read_body(request).value


def _checked_body(request: HttpRequest, resource: Resource, field_validation: str, warnings: list[str]) -> dict:
    """A create's or update's body. Keys it sets twice are judged here, together with its unknown
    fields, as upstream's strict decoder lists them together; unknown fields alone are the store's."""
    body = _read_body(request)
    found = body_strict_errors(body, resource) if field_validation != IGNORE else []
    if found and field_validation == STRICT:
        raise errors.BadRequest(decode_error_message(found, resource))
    warnings.extend(found)
    return body.value


def _check_patch_body(
    request: HttpRequest, sandbox: Sandbox, resource: Resource, info: RequestInfo, warnings: list[str], directive: str
) -> None:
    """A patch body's own strict errors (keys set twice; a JSON patch's unknown operation fields):
    warnings under Warn; under Strict a 422 that lists the patched object's unknown fields after
    them, as upstream's patch handler does. A patch that does not apply, or a patched object of
    a wrong JSON type, is left to the store to refuse, as those errors win upstream too."""
    if directive == IGNORE:
        return
    raw, kind = _raw_body(request), media_type(request.headers.get("Content-Type"))
    found = patch_strict_errors(raw, kind)
    if not found or directive == WARN:
        warnings.extend(found)
        return
    current = store.object_get(sandbox=sandbox, resource=resource, namespace=info.namespace or "", name=info.name)
    try:
        patched = apply_patch(current, raw, kind)
    except PatchError:
        return
    decoded = decode(patched, resource)
    if decoded.type_error is None:
        invalid_value = patch_invalid_value(kind, json.loads(raw), patched)
        raise strict_patch_error(invalid_value, found + decoded.strict_errors)


def _dry_run(request: HttpRequest) -> bool:
    return request.GET.get("dryRun") == "All"


def _field_validation(request: HttpRequest, options_kind: str) -> str:
    """The write's fieldValidation directive, Warn when absent, as on a real API server. Another
    value fails validation of the options (`CreateOptions`, …) it is read into, as upstream."""
    directive = request.GET.get("fieldValidation", "")
    if directive and directive not in FIELD_VALIDATIONS:
        cause = not_supported("fieldValidation", directive, ("", *FIELD_VALIDATIONS))
        raise errors.invalid_options(options_kind, [cause])
    return directive or WARN


def _render(request: HttpRequest, resource: Resource, objects: list[dict], version: int, *, single: bool = False):
    if _wants_table(request):
        include = request.GET.get("includeObject", "Metadata")
        if include not in ("None", "Metadata", "Object"):
            raise errors.BadRequest(f'includeObject must be one of None, Metadata or Object, not "{include}"')
        table = build_table(resource.kind, objects, now=timezone.now(), include_object=include)
        table["metadata"] = {"resourceVersion": str(version)}
        return _json(table)
    if single:
        return _json(objects[0])
    return _json(
        {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(version)},
            "items": objects,
        }
    )


def _list(request: HttpRequest, sandbox: Sandbox, resource: Resource, namespace: str | None) -> HttpResponse:
    listing = store.object_list(
        sandbox=sandbox,
        resource=resource,
        namespace=namespace,
        label_selector=request.GET.get("labelSelector"),
        field_selector=request.GET.get("fieldSelector"),
    )
    return _render(request, resource, listing.items, listing.resource_version)


def _get(request: HttpRequest, sandbox: Sandbox, resource: Resource, info: RequestInfo) -> HttpResponse:
    if info.subresource == "log":
        _restored_wait(sandbox)
    body = store.object_get(sandbox=sandbox, resource=resource, namespace=info.namespace or "", name=info.name)
    if info.subresource == "scale":
        return _json(_scale_of(body))
    if info.subresource == "log":
        return _pod_log(request, sandbox, body)
    return _render(request, resource, [body], int(body["metadata"]["resourceVersion"]), single=True)


def _create(request: HttpRequest, sandbox: Sandbox, resource: Resource, namespace: str | None) -> HttpResponse:
    field_validation = _field_validation(request, "CreateOptions")
    warnings: list[str] = []
    body = store.object_create(
        sandbox=sandbox,
        resource=resource,
        body=_checked_body(request, resource, field_validation, warnings),
        namespace=namespace,
        dry_run=_dry_run(request),
        field_validation=field_validation,
        warnings=warnings,
    )
    return _warned(_json(body, status=201), warnings)


def _update(request: HttpRequest, sandbox: Sandbox, resource: Resource, info: RequestInfo) -> HttpResponse:
    field_validation = _field_validation(request, "UpdateOptions")
    warnings: list[str] = []
    if info.subresource == "scale":
        return _patch_scale(request, sandbox, resource, info, _body(request))
    body = store.object_update(
        sandbox=sandbox,
        resource=resource,
        namespace=info.namespace or "",
        name=info.name,
        body=_checked_body(request, resource, field_validation, warnings),
        subresource=info.subresource,
        dry_run=_dry_run(request),
        field_validation=field_validation,
        warnings=warnings,
    )
    return _warned(_json(body), warnings)


def _patch(request: HttpRequest, sandbox: Sandbox, resource: Resource, info: RequestInfo) -> HttpResponse:
    field_validation = _field_validation(request, "PatchOptions")
    warnings: list[str] = []
    raw = _raw_body(request)
    content_type = request.headers.get("Content-Type", "")
    if info.subresource == "scale":
        return _patch_scale(request, sandbox, resource, info, None)
    _check_patch_body(request, sandbox, resource, info, warnings, field_validation)
    body = store.object_patch(
        sandbox=sandbox,
        resource=resource,
        namespace=info.namespace or "",
        name=info.name,
        patch=raw,
        content_type=content_type,
        subresource=info.subresource,
        dry_run=_dry_run(request),
        field_validation=field_validation,
        warnings=warnings,
    )
    return _warned(_json(body), warnings)


def _delete_options(request: HttpRequest) -> dict:
    options = _body(request) if _raw_body(request).strip() else {}
    if "propagationPolicy" in request.GET:
        options["propagationPolicy"] = request.GET["propagationPolicy"]
    if "gracePeriodSeconds" in request.GET:
        options["gracePeriodSeconds"] = int(request.GET["gracePeriodSeconds"])
    return options


def _delete(request: HttpRequest, sandbox: Sandbox, resource: Resource, info: RequestInfo) -> HttpResponse:
    options = _delete_options(request)
    body = store.object_delete(
        sandbox=sandbox,
        resource=resource,
        namespace=info.namespace or "",
        name=info.name,
        propagation=options.get("propagationPolicy"),
        grace_period=options.get("gracePeriodSeconds"),
        preconditions=options.get("preconditions"),
        dry_run=_dry_run(request) or options.get("dryRun") == ["All"],
    )
    pending = bool(body["metadata"].get("deletionTimestamp")) and not _dry_run(request)
    return _json(body, status=202 if pending else 200)


def _delete_collection(request: HttpRequest, sandbox: Sandbox, resource: Resource, namespace: str | None):
    options = _delete_options(request)
    listing = store.object_list(
        sandbox=sandbox,
        resource=resource,
        namespace=namespace,
        label_selector=request.GET.get("labelSelector"),
        field_selector=request.GET.get("fieldSelector"),
    )
    deleted = []
    for item in listing.items:
        try:
            deleted.append(
                store.object_delete(
                    sandbox=sandbox,
                    resource=resource,
                    namespace=item["metadata"].get("namespace", ""),
                    name=item["metadata"]["name"],
                    propagation=options.get("propagationPolicy"),
                    grace_period=options.get("gracePeriodSeconds"),
                    dry_run=_dry_run(request),
                )
            )
        except errors.NotFound:
            continue  # deleted by someone else meanwhile
    return _render(request, resource, deleted, store.current_resource_version())


# --- subresources -------------------------------------------------------------------------------


def _stream_without_upgrade(request: HttpRequest, sandbox: Sandbox, info: RequestInfo) -> HttpResponse:
    """exec or port-forward as plain HTTP, or as the SPDY upgrade kubectl falls back to: the pod's
    own errors first (so kubectl prints why it cannot run), else the upgrade this server speaks."""
    pod = store.object_get(sandbox=sandbox, resource=info.resource, namespace=info.namespace, name=info.name)
    if info.subresource in ("exec", "attach"):
        exec_target(pod=pod, container=request.GET.get("container", ""))
    raise errors.BadRequest(f"Upgrade request required: {info.subresource} is served over WebSocket only")


def _scale_of(body: dict) -> dict:
    metadata = body["metadata"]
    selector = body.get("spec", {}).get("selector") or {}
    if body.get("kind") == "ReplicationController":  # its selector is a plain map of labels, sorted by key
        selector = {"matchLabels": dict(sorted(selector.items()))}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: metadata[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
        "spec": {"replicas": body.get("spec", {}).get("replicas", 0)},
        "status": {
            "replicas": body.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()),
        },
    }


def _patch_scale(request, sandbox, resource, info, new_scale: dict | None) -> HttpResponse:
    current = store.object_get(sandbox=sandbox, resource=resource, namespace=info.namespace or "", name=info.name)
    if new_scale is None:
        try:
            new_scale = apply_patch(_scale_of(current), _raw_body(request), request.headers.get("Content-Type", ""))
        except PatchError as error:
            raise errors.for_patch_error(error) from None
    replicas = new_scale.get("spec", {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid(
            resource,
            info.name,
            [errors.Cause("FieldValueInvalid", "must be greater than or equal to 0", "spec.replicas")],
        )
    patch = {"spec": {"replicas": replicas}}
    wanted_version = new_scale.get("metadata", {}).get("resourceVersion")
    if wanted_version:
        patch["metadata"] = {"resourceVersion": wanted_version}
    body = store.object_patch(
        sandbox=sandbox,
        resource=resource,
        namespace=info.namespace or "",
        name=info.name,
        patch=json.dumps(patch).encode(),
        content_type="application/merge-patch+json",
        dry_run=_dry_run(request),
    )
    return _json(_scale_of(body))


def _log_options(request: HttpRequest) -> dict:
    def number(name: str) -> int | None:
        value = request.GET.get(name)
        if value is None:
            return None
        if not value.lstrip("-").isdigit():
            raise errors.BadRequest(f"{name} must be a whole number, not {value!r}")
        return int(value)

    return {
        "tail": number("tailLines"),
        "since_seconds": number("sinceSeconds"),
        "timestamps": _flag(request, "timestamps"),
        "previous": _flag(request, "previous"),
    }


def _log_target(request: HttpRequest, pod: dict) -> tuple[str, int, dict]:
    options = _log_options(request)
    container = logs.choose_container(pod, request.GET.get("container"))
    return container, logs.log_run(pod, container, options["previous"]), options


def _pod_log(request: HttpRequest, sandbox: Sandbox, pod: dict) -> HttpResponse:
    container, run, options = _log_target(request, pod)
    logs.log_refresh(sandbox=sandbox, pod=pod)
    lines = logs.log_lines(
        pod=pod, container=container, restart=run, tail=options["tail"], since_seconds=options["since_seconds"]
    )
    text = "".join(logs.format_line(line, options["timestamps"]) for line in lines)
    return HttpResponse(text.encode(), content_type="text/plain")


def _restored_wait(sandbox: Sandbox) -> None:
    """A log read while a sandbox comes back from an idle pause (clusters.idle) waits for its
    containers to run again, rather than finding one "waiting to start"."""
    idle.restore_wait(sandbox=sandbox, timeout=LOG_RESTORE_WAIT_SECONDS)


def _follow_target(request: HttpRequest, sandbox: Sandbox, info: RequestInfo) -> tuple[dict, str, int, dict]:
    _restored_wait(sandbox)
    pod = store.object_get(sandbox=sandbox, resource=info.resource, namespace=info.namespace or "", name=info.name)
    container, run, options = _log_target(request, pod)
    return pod, container, run, options


async def _follow_log(request: HttpRequest, sandbox: Sandbox, info: RequestInfo) -> HttpResponse:
    """`kubectl logs -f`: what is there, then new lines as they come, until the container's run ends."""
    pod, container, run, options = await released(_follow_target)(request, sandbox, info)

    def still_running() -> bool:
        try:
            current = store.object_get(
                sandbox=sandbox, resource=info.resource, namespace=info.namespace, name=info.name
            )
        except errors.NotFound:
            return False
        if current["metadata"]["uid"] != pod["metadata"]["uid"]:
            return False
        status = logs.container_status(current, container)
        return status.get("restartCount", 0) == run and "terminated" not in status.get("state", {})

    async def stream():
        read = released(logs.log_lines)
        running = released(still_running)
        await released(logs.log_refresh)(sandbox=sandbox, pod=pod)
        lines = await read(
            pod=pod, container=container, restart=run, tail=options["tail"], since_seconds=options["since_seconds"]
        )
        last = 0
        while True:
            for line in lines:
                yield logs.format_line(line, options["timestamps"]).encode()
                last = line.id
            alive = await running()
            lines = await read(pod=pod, container=container, restart=run, after_id=last)
            if not alive and not lines:
                return
            if not lines:
                await asyncio.sleep(LOG_POLL_SECONDS)
                # Ask the kubelet for what was written since (at most once a second).
                await released(logs.log_sync_request)(sandbox=sandbox, pod=pod)

    response = StreamingHttpResponse(stream(), content_type="text/plain")
    response["X-Accel-Buffering"] = "no"
    return response


# --- watch --------------------------------------------------------------------------------------


class _WatchFilter:
    """Which change-log events belong to this watch, tracking objects entering and leaving a selector."""

    def __init__(self, sandbox: Sandbox, resource: Resource, namespace: str | None, request: HttpRequest):
        self.sandbox_id = sandbox.pk
        self.resource = resource
        self.namespace = namespace
        try:
            self.labels = selectors.parse_label_selector(request.GET.get("labelSelector"))
            self.fields = selectors.parse_field_selector(request.GET.get("fieldSelector"))
        except selectors.SelectorError as error:
            raise errors.BadRequest(str(error)) from None
        self.matching: set[tuple[str, str]] = set()

    def matches(self, body: dict) -> bool:
        return selectors.labels_match(self.labels, body["metadata"].get("labels")) and selectors.fields_match(
            self.fields, body
        )

    def event_type(self, event) -> str | None:
        """The type to send for a change, or None when it is not this watch's business."""
        if (event.sandbox_id, event.api_group, event.kind) != (
            self.sandbox_id,
            self.resource.group,
            self.resource.kind,
        ):
            return None
        if self.namespace and event.namespace != self.namespace:
            return None
        key = (event.namespace, event.name)
        was, now = key in self.matching, self.matches(event.body)
        if event.type == Change.DELETED:
            self.matching.discard(key)
            return Change.DELETED if was or now else None
        if now:
            self.matching.add(key)
            return event.type if was else Change.ADDED
        if was:
            self.matching.discard(key)
            return Change.DELETED
        return None


async def _watch(request: HttpRequest, sandbox: Sandbox, info: RequestInfo):
    resource, namespace = info.resource, info.namespace
    watch_filter = _WatchFilter(sandbox, resource, namespace, request)
    requested = request.GET.get("resourceVersion", "")
    send_initial = _flag(request, "sendInitialEvents")
    bookmarks = _flag(request, "allowWatchBookmarks")
    if send_initial and (request.GET.get("resourceVersionMatch") != "NotOlderThan" or not bookmarks):
        raise errors.invalid(
            resource,
            "",
            [
                errors.Cause(
                    "FieldValueForbidden",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks",
                    "sendInitialEvents",
                )
            ],
        )
    try:
        timeout = min(int(request.GET.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS), 3600)
    except ValueError:
        raise errors.BadRequest("timeoutSeconds must be a whole number of seconds") from None
    if requested not in ("", "0") and not requested.isdigit():
        raise errors.BadRequest(f'invalid resource version "{requested}"')
    as_table = _wants_table(request)
    queue = await FEED.subscribe()
    stream = _watch_events(
        request,
        queue,
        sandbox,
        resource,
        namespace,
        watch_filter,
        requested,
        send_initial,
        bookmarks,
        timeout,
        as_table,
    )
    response = StreamingHttpResponse(stream, content_type="application/json")
    response["Cache-Control"] = "no-cache, private"
    response["X-Accel-Buffering"] = "no"
    return response


def _line(event_type: str, obj: dict) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


async def _watch_events(
    request, queue, sandbox, resource, namespace, watch_filter, requested, send_initial, bookmarks, timeout, as_table
):
    columns_sent = False

    def wrap(body: dict) -> dict:
        nonlocal columns_sent
        body = to_version(body, resource)  # the change log holds the storage version
        if not as_table:
            return body
        table = build_table(resource.kind, [body], now=timezone.now())
        if columns_sent:
            table["columnDefinitions"] = []
        columns_sent = True
        table["metadata"] = {"resourceVersion": body["metadata"]["resourceVersion"]}
        return table

    def bookmark(version: int, initial_end: bool = False) -> bytes:
        metadata = {"resourceVersion": str(version)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        return _line("BOOKMARK", {"kind": resource.kind, "apiVersion": resource.api_version, "metadata": metadata})

    try:
        if requested in ("", "0") or send_initial:
            listing = await released(store.object_list)(
                sandbox=sandbox,
                resource=resource,
                namespace=namespace,
                label_selector=request.GET.get("labelSelector"),
                field_selector=request.GET.get("fieldSelector"),
            )
            for item in listing.items:
                watch_filter.matching.add((item["metadata"].get("namespace", ""), item["metadata"]["name"]))
                yield _line(Change.ADDED, wrap(item))
            last = listing.resource_version
            if send_initial:
                yield bookmark(last, initial_end=True)
        else:
            last = int(requested)
            _, compacted = await released(log_horizon)()
            if last < compacted:
                error = errors.Expired(f"too old resource version: {last} ({compacted + 1})")
                yield _line("ERROR", error.status())
                return
            # Objects that match now are the ones a client resuming from `last` already knows.
            current = await released(store.object_list)(sandbox=sandbox, resource=resource, namespace=namespace)
            for item in current.items:
                if int(item["metadata"]["resourceVersion"]) <= last and watch_filter.matches(item):
                    watch_filter.matching.add((item["metadata"].get("namespace", ""), item["metadata"]["name"]))

        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + BOOKMARK_SECONDS
        # Catch up from the log, then follow the feed; resourceVersions below `last` are already sent.
        fetch = released(changes_after)
        while True:
            events = await fetch(last, sandbox_id=sandbox.pk)
            for event in events:
                kind = watch_filter.event_type(event)
                if kind:
                    yield _line(kind, wrap(event.body))
                last = event.resource_version
            if len(events) < 500:
                break
        while time.monotonic() < deadline:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(1.0, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                event = None
            if event is not None and event.resource_version > last:
                last = event.resource_version
                kind = watch_filter.event_type(event)
                if kind:
                    yield _line(kind, wrap(event.body))
            if bookmarks and time.monotonic() >= next_bookmark:
                next_bookmark = time.monotonic() + BOOKMARK_SECONDS
                yield bookmark(last)
    finally:
        FEED.unsubscribe(queue)
