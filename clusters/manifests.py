"""Applying a multi-document manifest from the browser: all documents or none.

Each document is applied the way `kubectl apply` applies it — created when missing, otherwise
strategically merged onto what is stored — and reported as created, configured, unchanged or
with its error. Every document is tried inside one transaction; if any fails, the transaction
is rolled back, so a manifest with one bad document stores nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction

from clusters import errors, store
from clusters.kube.bodies import BodyError, load_yaml_documents
from clusters.kube.resources import resource_for_kind
from clusters.models import Sandbox

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass
class DocumentResult:
    index: int
    kind: str
    name: str
    namespace: str
    result: str  # "created", "configured", "unchanged", "error", or "not applied"
    error: dict | None = None

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


def _apply_one(sandbox: Sandbox, index: int, document: object) -> DocumentResult:
    if not isinstance(document, dict):
        raise errors.BadRequest("each document must be a Kubernetes object (a mapping with apiVersion and kind)")
    kind, api_version = document.get("kind", ""), document.get("apiVersion", "")
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    resource = resource_for_kind(api_version, kind)
    if resource is None:
        raise errors.NotFound(f'no matches for kind "{kind}" in version "{api_version}"')
    namespace = metadata.get("namespace") or ("default" if resource.namespaced else "")
    name = metadata.get("name", "")
    applied = json.loads(json.dumps(document))
    applied.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = (
        json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"
    )
    result = DocumentResult(index, kind, name, namespace if resource.namespaced else "", "created")
    try:
        current = store.object_get(sandbox=sandbox, resource=resource, namespace=namespace, name=name)
    except errors.NotFound:
        store.object_create(sandbox=sandbox, resource=resource, body=applied, namespace=namespace or None)
        return result
    updated = store.object_patch(
        sandbox=sandbox,
        resource=resource,
        namespace=namespace,
        name=name,
        patch=json.dumps(applied).encode(),
        content_type="application/strategic-merge-patch+json",
    )
    changed = updated["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]
    result.result = "configured" if changed else "unchanged"
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
