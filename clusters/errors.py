"""Errors of the Kubernetes API, each able to render itself as the `Status` object clients expect.

The messages follow the API server's wording, because kubectl prints them as they are:
`pods "web" not found`, `Pod "bad" is invalid: spec.containers: Required value`, …
"""

from __future__ import annotations

from dataclasses import dataclass

from clusters.objects.resources import Resource


@dataclass(frozen=True)
class Cause:
    reason: str
    message: str
    field: str


class ApiError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(ApiError):
    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    code, reason = 401, "Unauthorized"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"


class NotFound(ApiError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(ApiError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    code, reason = 409, "Conflict"


class Expired(ApiError):
    code, reason = 410, "Expired"


class RequestEntityTooLarge(ApiError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(ApiError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):
    code, reason = 422, "Invalid"


class ServiceUnavailable(ApiError):
    code, reason = 503, "ServiceUnavailable"


# The verbs upstream's storage errors name, by HTTP method (a GET without a name is a list).
OPERATIONS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
RETRY_AFTER_SECONDS = 2


def storage_unavailable(method: str, resource: Resource | None, name: str | None) -> ServiceUnavailable:
    """The database (this API server's etcd) cannot be reached. Upstream answers an unreachable
    etcd with NewServerTimeout's words, and its 503s (ServiceUnavailable) with a Retry-After; here
    the words are upstream's and the code a 503, since the request can be tried again as it is."""
    operation = "list" if method == "GET" and not name else OPERATIONS.get(method, method.lower())
    target = (f"{resource.plural}.{resource.group}" if resource.group else resource.plural) if resource else "the API"
    details = {"retryAfterSeconds": RETRY_AFTER_SECONDS}
    if resource:
        details |= {"name": operation, "kind": resource.plural, **({"group": resource.group} if resource.group else {})}
    return ServiceUnavailable(
        f"The {operation} operation against {target} could not be completed at this time, please try again.",
        details=details,
    )


def _resource_details(resource: Resource, name: str) -> dict:
    details = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource: Resource, name: str) -> NotFound:
    return NotFound(f'{resource.key} "{name}" not found', details=_resource_details(resource, name))


def already_exists(resource: Resource, name: str) -> AlreadyExists:
    return AlreadyExists(f'{resource.key} "{name}" already exists', details=_resource_details(resource, name))


def forbidden(resource: Resource, name: str, reason: str, causes: list[Cause] | None = None) -> Forbidden:
    """What an admission plugin's refusal reads (admission.NewForbidden): `pods "web" is
    forbidden: <reason>`, with the causes a client may look for (NamespaceTerminating)."""
    details = _resource_details(resource, name)
    if causes:
        details["causes"] = [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes]
    return Forbidden(f'{resource.key} "{name}" is forbidden: {reason}', details=details)


def conflict(resource: Resource, name: str) -> Conflict:
    return Conflict(
        f'Operation cannot be fulfilled on {resource.key} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        details=_resource_details(resource, name),
    )


def _invalid(kind: str, group: str, name: str, causes: list[Cause]) -> Invalid:
    texts = [f"{cause.field}: {cause.message}" if cause.field else cause.message for cause in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    # An empty name or group is left out, as upstream's StatusDetails (`omitempty`) leaves it out.
    details: dict = {key: value for key, value in (("name", name), ("group", group), ("kind", kind)) if value}
    details["causes"] = [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes]
    qualified = f"{kind}.{group}" if group else kind
    return Invalid(f'{qualified} "{name}" is invalid: {summary}', details=details)


def invalid(resource: Resource, name: str, causes: list[Cause]) -> Invalid:
    """`Pod "bad" is invalid: <cause>` or, with several causes, `… is invalid: [<cause>, <cause>]`."""
    return _invalid(resource.kind, resource.group, name, causes)


def invalid_options(kind: str, causes: list[Cause]) -> Invalid:
    """Query parameters a write does not accept, judged as the options object they decode to:
    `CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: …`."""
    return _invalid(kind, "meta.k8s.io", "", causes)


def for_patch_error(error: Exception) -> ApiError:
    """A patch that cannot be applied, with the status code the patch module judged (400, 415, 422)."""
    kinds = {415: UnsupportedMediaType, 422: Invalid}
    return kinds.get(getattr(error, "code", 400), BadRequest)(str(error))
