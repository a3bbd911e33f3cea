"""Applying a multi-document manifest from the browser: all documents or none.

Each document is applied the way `kubectl apply` (client-side) applies it: created with the
last-applied-configuration annotation when missing, otherwise patched with the three-way strategic
merge patch kubectl computes from that annotation, the new manifest and the stored object
(`clusters.objects.threeway`), so what the learner removed from the manifest goes and what others set
stays. Each is reported as created, configured, unchanged or with its error. Every document is
tried inside one transaction; if any fails, the transaction is rolled back, so a manifest with one
bad document stores nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction

from clusters import errors, store
from clusters.kube.bodies import BodyError, load_yaml_documents
from clusters.models import Sandbox
from clusters.objects import schema as kube_schema
from clusters.objects.defaults import apply_create_defaults
from clusters.objects.patch import STRATEGIC_MERGE_PATCH
from clusters.objects.resources import Resource, resource_for_kind
from clusters.objects.threeway import (
    LAST_APPLIED,
    ThreeWayError,
    original_configuration,
    three_way_patch,
    with_last_applied,
)
from clusters.objects.validation import decode_errors, validate


@dataclass
class DocumentResult:
    index: int
    kind: str
    name: str
    namespace: str
    result: str  # "created", "configured", "unchanged", "error", or "not applied"
    error: dict | None = None
    warnings: list[str] = field(default_factory=list)  # what kubectl would print as "Warning: …"

    @property
    def reference(self) -> str:
        return f"{self.kind.lower()}/{self.name}" if self.kind else f"document {self.index + 1}"


@dataclass
class ApplyReport:
    results: list[DocumentResult] = field(default_factory=list)
    error: str = ""  # a problem with the manifest as a whole (unreadable YAML)

    @property
    def stored(self) -> bool:
        return not self.error and all(r.result != "error" for r in self.results)


class _RollBack(Exception):
    """Raised inside the transaction to undo every document when one failed."""


def _missing_annotation_warning(resource: Resource, name: str) -> str:
    # kubectl's own words (cmd/apply/apply.go, warningNoLastAppliedConfigAnnotation).
    return (
        f"resource {resource.key}/{name} is missing the {LAST_APPLIED} annotation which is required by kubectl "
        "apply. kubectl apply should only be used on resources created declaratively by either kubectl create "
        "--save-config or kubectl apply. The missing annotation will be patched automatically."
    )


def _apply_one(sandbox: Sandbox, index: int, document: object) -> DocumentResult:
    if not isinstance(document, dict):
        raise errors.BadRequest("each document must be a Kubernetes object (a mapping with apiVersion and kind)")
    kind, api_version = document.get("kind", ""), document.get("apiVersion", "")
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    resource = resource_for_kind(api_version, kind)
    if resource is None:
        raise errors.NotFound(f'no matches for kind "{kind}" in version "{api_version}"')
    namespace = (metadata.get("namespace") or "default") if resource.namespaced else ""
    name = metadata.get("name", "")
    document = json.loads(json.dumps(document))
    if isinstance(document.get("metadata"), dict):
        # As kubectl's resource builder: a namespaced object names its namespace (so the
        # annotation does too), a cluster-scoped one names none.
        if resource.namespaced:
            document["metadata"]["namespace"] = namespace
        else:
            document["metadata"].pop("namespace", None)
    try:
        modified = with_last_applied(document)
    except ThreeWayError as error:
        raise errors.BadRequest(str(error)) from None
    result = DocumentResult(index, kind, name, namespace, "created")
    try:
        current = store.object_get(sandbox=sandbox, resource=resource, namespace=namespace, name=name)
    except errors.NotFound:
        store.object_create(
            sandbox=sandbox, resource=resource, body=modified, namespace=namespace or None, warnings=result.warnings
        )
        return result
    try:
        original = original_configuration(current)
        if original is None:
            result.warnings.append(_missing_annotation_warning(resource, name))
        definition = kube_schema.definition_for(api_version, kind)
        patch = three_way_patch(original=original, modified=modified, current=current, schema=definition)
    except ThreeWayError as error:
        raise errors.BadRequest(f"cannot compute the patch for {resource.key}/{name}: {error}") from None
    if not patch:  # kubectl sends nothing for an empty patch and says "unchanged"
        result.result = "unchanged"
        return result
    store.object_patch(
        sandbox=sandbox,
        resource=resource,
        namespace=namespace,
        name=name,
        patch=json.dumps(patch).encode(),
        content_type=STRATEGIC_MERGE_PATCH,
        warnings=result.warnings,
    )
    result.result = "configured"
    return result


def manifest_apply(*, sandbox: Sandbox, text: str) -> ApplyReport:
    try:
        documents = load_yaml_documents(text)
    except BodyError as error:
        return ApplyReport(error=str(error))
    if not documents:
        return ApplyReport(error="the manifest has no documents")
    report = ApplyReport()
    try:
        with transaction.atomic():
            for index, document in enumerate(documents):
                try:
                    with transaction.atomic():
                        report.results.append(_apply_one(sandbox, index, document))
                except errors.ApiError as error:
                    described = document if isinstance(document, dict) else {}
                    report.results.append(
                        DocumentResult(
                            index,
                            str(described.get("kind", "")),
                            str((described.get("metadata") or {}).get("name", "")),
                            str((described.get("metadata") or {}).get("namespace", "")),
                            "error",
                            error.status(),
                        )
                    )
            if not report.stored:
                raise _RollBack
    except _RollBack:
        for result in report.results:
            if result.result != "error":
                result.result = "not applied"
    return report


def manifest_problems(text: str) -> list[str]:
    """What the API server would refuse in a manifest before looking at any sandbox: the lessons'
    manifests are checked with it when the site starts."""
    try:
        documents = load_yaml_documents(text)
    except BodyError as error:
        return [str(error)]
    problems = []
    for index, document in enumerate(documents, start=1):
        if not isinstance(document, dict):
            problems.append(f"document {index} is not a Kubernetes object")
            continue
        resource = resource_for_kind(document.get("apiVersion", ""), document.get("kind", ""))
        if resource is None:
            problems.append(f"document {index}: no kind {document.get('kind')!r} in {document.get('apiVersion')!r}")
            continue
        problems += [f"document {index}: {error}" for error in decode_errors(document, resource)]
        if resource.namespaced:  # the server puts it where the request says: `default` here
            document.setdefault("metadata", {}).setdefault("namespace", "default")
        # Defaulted as the store defaults a create; with no uid yet, a Job's generated labels are
        # left empty and validation checks only that they agree.
        causes = validate(apply_create_defaults(document, resource, uid=""), resource)
        problems += [f"document {index}: {cause.field}: {cause.message}" for cause in causes]
    if not documents:
        problems.append("the manifest has no documents")
    return problems
