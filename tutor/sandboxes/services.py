"""What the sandbox pages do to a learner's sandbox, each write attributed to the page."""

from __future__ import annotations

import copy

import yaml
from django.db import IntegrityError, transaction

from clusters import errors, idle, store
from clusters.kube.bodies import BodyError, load_yaml_documents
from clusters.manifests import ApplyReport, manifest_apply
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create, sandbox_reset
from clusters.snapshot import sandbox_of
from tutor.classrooms.services import current_enrollment
from tutor.sandboxes.diagnostics import Diagnostic, apply_diagnostics

DEFAULT_SANDBOX = "default"


def learner_sandbox(*, user, name: str | None = None) -> Sandbox:
    """The learner's sandbox of that name, made on first need (a fresh cluster of their own);
    without a name, the sandbox of the class they joined last, or else their own. Asking for it is
    using it: a paused sandbox starts again (clusters.idle)."""
    if name is None:
        enrollment = current_enrollment(user)
        if enrollment is not None:
            if enrollment.sandbox is not None:
                idle.sandbox_seen(sandbox=enrollment.sandbox)
            return enrollment.sandbox
        name = DEFAULT_SANDBOX
    sandbox = sandbox_of(owner=user, name=name)
    if sandbox is not None:
        idle.sandbox_seen(sandbox=sandbox)
        return sandbox
    try:
        return sandbox_create(owner=user, name=name)
    except IntegrityError:  # two tabs asked at once: the other one made it
        return sandbox_of(owner=user, name=name)


def manifest_apply_from_page(*, sandbox: Sandbox, text: str, origin: str = "") -> tuple[ApplyReport, list[Diagnostic]]:
    """Apply as the page's Apply button does, and where it failed, say at which lines."""
    with store.writing_as("page: apply", origin):
        report = manifest_apply(sandbox=sandbox, text=text)
    failures = [(r.index, r.error) for r in report.results if r.error]
    return report, apply_diagnostics(text, error=report.error, failures=failures)


class ManifestDeleteError(ValueError):
    """A manifest whose objects cannot be named (unreadable YAML, an unknown kind)."""


def manifest_delete(*, sandbox: Sandbox, text: str) -> list[tuple[str, str]]:
    """Delete the objects a manifest names, as `kubectl delete -f` does: (object, "deleted" or
    the reason it was not), in the manifest's order."""
    try:
        documents = load_yaml_documents(text)
    except BodyError as error:
        raise ManifestDeleteError(str(error)) from None
    results = []
    with store.writing_as("page: delete"):
        for document in documents:
            if not isinstance(document, dict):
                raise ManifestDeleteError("each document must be a Kubernetes object")
            resource = resource_for_kind(document.get("apiVersion", ""), document.get("kind", ""))
            metadata = document.get("metadata") or {}
            if resource is None:
                raise ManifestDeleteError(f'no kind "{document.get("kind")}" in "{document.get("apiVersion")}"')
            name = f"{resource.kind.lower()}/{metadata.get('name', '')}"
            namespace = (metadata.get("namespace") or "default") if resource.namespaced else ""
            try:
                with transaction.atomic():
                    store.object_delete(
                        sandbox=sandbox, resource=resource, namespace=namespace, name=metadata.get("name", "")
                    )
                results.append((name, "deleted"))
            except errors.ApiError as error:
                results.append((name, error.message))
    return results


def sandbox_reset_from_page(*, sandbox: Sandbox) -> Sandbox:
    with store.writing_as("page: reset"):
        return sandbox_reset(sandbox=sandbox)


def object_yaml(body: dict) -> str:
    """An object as `kubectl get -o yaml` prints it (managedFields aside), for the detail view."""
    shown = copy.deepcopy(body)
    shown.get("metadata", {}).pop("managedFields", None)
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True)
